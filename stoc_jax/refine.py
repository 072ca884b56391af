"""Data refinement by an ensemble of one-class classifiers (STOC Eq. 1-2).

`refine_data` splits the N training samples into K disjoint random subsets, fits
one OCC per subset, scores all N samples with every OCC, thresholds OCC k at
eta_k = the largest eta with (1/N) #{i : f_k(x_i) >= eta} >= gamma (Eq. 2; for tied scores see
`_decide_xp`), and keeps a sample only if every OCC scores it below its threshold (Eq. 1).
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from stoc_jax import occ, sharding


class NothingKeptError(ValueError):
  """Refinement rejected (nearly) every row: there is nothing left to fit a one-class model on."""


def resolve_gamma(gamma, anomaly_ratio: float | None = None):
  """Turns a config value for gamma into a float in (0, 1) or the string 'otsu'.

  'auto' means twice the anomaly ratio (the papers' choice); for a ratio of 0 it
  means 0.005 (we read the papers' "gamma = 0.5" for clean data as 0.5 %; docs/interpretations.md).
  """
  if isinstance(gamma, str):
    key = gamma.strip().lower()
    if key == "otsu":
      return "otsu"
    if key == "auto":
      if anomaly_ratio is None:
        raise ValueError("gamma='auto' needs the anomaly ratio; pass a number or 'otsu'.")
      if not 0.0 <= anomaly_ratio < 0.5:
        raise ValueError(f"gamma='auto' is twice the anomaly ratio, and {anomaly_ratio:g} x 2 is not a fraction "
                         "below 1: give refine.gamma as a fraction, or an anomaly_ratio below 0.5.")
      return 2.0 * anomaly_ratio if anomaly_ratio > 0 else 0.005
    try:
      gamma = float(key)
    except ValueError:
      raise ValueError(f"gamma must be a fraction in (0, 1), 'auto' or 'otsu'; got {gamma!r}.") from None
  gamma = float(gamma)
  if not 0.0 < gamma < 1.0:
    raise ValueError(
        f"gamma must lie in (0, 1): it is the fraction of samples each OCC rejects; got {gamma}. "
        "Use e.g. 0.1 for 10 %, twice the expected anomaly ratio, or 'otsu' to estimate it.")
  return gamma


def random_partition(key, num_samples: int, num_models: int) -> jax.Array:
  """Assignment of each sample to one of K disjoint subsets of (almost) equal size."""
  return _partition(jax.random.permutation(key, num_samples), num_models)


def host_partition(key, num_samples: int, num_models: int) -> np.ndarray:
  """`random_partition` drawn by NumPy from the key: nothing compiled per sample count (host models
  refine tables of any shape), but not the same draw as `random_partition`'s."""
  return disjoint_parts(num_samples, num_models, np.asarray(jax.random.key_data(key)).ravel())


def disjoint_parts(n: int, num_parts: int, seed) -> np.ndarray:
  """(n,) int32, each row's part: a NumPy permutation drawn from `seed`, dealt round-robin."""
  assignment = np.empty(n, np.int32)
  assignment[np.random.default_rng(seed).permutation(n)] = np.arange(n, dtype=np.int32) % num_parts
  return assignment


def _partition(perm, num_models):
  n = perm.shape[0]
  return jnp.zeros(n, jnp.int32).at[perm].set(jnp.arange(n, dtype=jnp.int32) % num_models)


def round_key(key, round_index: int) -> jax.Array:
  """The key of refinement round `round_index` in a run seeded by `key`: the loop's
  (stoc_jax.loop) round i draws its partition from it."""
  return jax.random.fold_in(jax.random.fold_in(key, 1), round_index)


def rows_to_reject(gamma: float, num_samples: int) -> int:
  """Eq. 2's count: the threshold is the ceil(gamma * N)-th largest score (computed on the host
  in float64, since gamma * N in float32 can round just above an integer)."""
  return int(math.ceil(gamma * num_samples - 1e-9))


def thresholds_at_gamma(scores, gamma: float) -> np.ndarray:
  """Eq. 2 for each row of `scores` (K, N): the ceil(gamma*N)-th largest score."""
  scores = jnp.asarray(scores)
  return np.asarray(_decide(scores, rows_to_reject(gamma, scores.shape[1]))[0])


def _decide_xp(scores, num_reject, xp):
  """Eq. 2 and Eq. 1 on (K, N) scores: thresholds (K,), rejecting counts (N,), all finite.

  Rows with equal scores (identical rows) are rejected together or kept together. Eq. 2's eta
  rejects every row tied with the num_reject-th largest score, which is right for a block of
  identical anomalies at the top, but where the tie is the lowest score (most rows identical, the
  anomalies few) it rejects every row. So the tied rows are rejected only when that brings the
  count nearer num_reject than keeping them does; otherwise the threshold moves up to the next
  larger score (infinity when there is none: nothing is rejected)."""
  n = scores.shape[1]
  ordered = xp.sort(scores, axis=1)
  eta = ordered[:, xp.clip(n - num_reject, 0, n - 1)]
  at_or_above = xp.sum(scores >= eta[:, None], axis=1)
  above = xp.sum(scores > eta[:, None], axis=1)
  next_up = xp.min(xp.where(scores > eta[:, None], scores, xp.inf), axis=1)
  with_ties = xp.abs(at_or_above - num_reject) <= xp.abs(above - num_reject)
  thresholds = xp.where(num_reject > 0, xp.where(with_ties, eta, next_up), xp.inf)
  rejected_by = xp.sum(scores >= thresholds[:, None], axis=0)
  return thresholds, rejected_by, xp.all(xp.isfinite(scores))


_decide = jax.jit(functools.partial(_decide_xp, xp=jnp))
# Host models' scores are decided on the host: no program compiled per table shape.
_decide_host = functools.partial(_decide_xp, xp=np)


def _grouped_rows(perm, num_models):
  """Row indices (K, ceil(N / K)) of each model's subset, in the order `_partition` assigns
  them, and which entries are real (the last column is padding for some models)."""
  n = perm.shape[0]
  per_model = -(-n // num_models)
  slots = jnp.arange(per_model * num_models)
  padded = jnp.where(slots < n, jnp.pad(perm, (0, per_model * num_models - n)), 0)
  return padded.reshape(per_model, num_models).T, (slots < n).reshape(per_model, num_models).T


def _fit_grouped(features, perm, num_models, shrinkage, reg_covar) -> occ.GDEParams:
  # Each model reads only its own N / K rows (a one-hot weighting would touch all N for each).
  rows, valid = _grouped_rows(perm, num_models)
  fit = lambda rv: jax.tree.map(lambda v: v[0], occ._fit_weighted(
      features[rv[0]], rv[1].astype(features.dtype)[:, None], shrinkage, reg_covar))
  return jax.lax.map(fit, (rows, valid))


def _member_scores(params, features):
  return jax.lax.map(lambda p: occ.gde_score_batched(p, features), params)


@functools.partial(jax.jit, static_argnames=("num_models", "shrinkage", "reg_covar"))
def _gde_fit_score(key, features, num_models, shrinkage, reg_covar):
  """Partition, K GDE fits and K x N scores, plus Otsu's count on the mean score: one program."""
  x = jnp.asarray(features, jnp.float32).reshape(features.shape[0], -1)
  perm = jax.random.permutation(key, x.shape[0])
  params = _fit_grouped(x, perm, num_models, shrinkage, reg_covar)
  scores = _member_scores(params, x)
  return params, scores, _partition(perm, num_models), _otsu_count(scores)


def _otsu_count(scores):
  mean = scores.mean(axis=0)
  return jnp.sum(mean >= occ.otsu_threshold_jnp(mean))


@functools.lru_cache(maxsize=None)
def _sharded_gde_fit_score(mesh, num_models, shrinkage, reg_covar):
  """_gde_fit_score for features sharded along the mesh's "data" axis, on one host or several
  (compiled once per mesh, settings and shape): the sums are psum-ed, each device scores its own
  rows, and the (K, N) scores come back replicated for Eq. 2's sort. Rows past num_rows (padding
  to the device count) are assigned to no model."""
  def fit_score(x, assignment):
    onehot = jax.nn.one_hot(assignment, num_models, dtype=x.dtype)  # model K (padding): a zero row
    params = occ._fit_weighted(x, onehot, shrinkage, reg_covar, "data")
    return params, _member_scores(params, x)

  sharded = jax.shard_map(fit_score, mesh=mesh, in_specs=(P("data"), P("data")),
                          out_specs=(P(), P(None, "data")), check_vma=False)
  run = jax.jit(lambda x, a: sharded(jnp.asarray(x, jnp.float32).reshape(x.shape[0], -1), a))

  def fit_score_sharded(key, features, num_rows):
    assignment = np.full(features.shape[0], num_models, np.int32)
    assignment[:num_rows] = np.asarray(random_partition(key, num_rows, num_models))
    params, scores = run(features, sharding.put_rows(assignment, mesh))
    # The K x N scores are small: every host takes them all for Eq. 2's sort (on its default device).
    scores = jnp.asarray(sharding.to_host(scores)[:, :num_rows])
    return params, scores, assignment[:num_rows], _otsu_count_jit(scores)
  return fit_score_sharded


_member_scores_jit = jax.jit(_member_scores)


class RefinementEnsemble:
  """The K one-class models a refinement fitted, with their thresholds: scores new rows.

  STOC Table 7's ablations score with the ensemble instead of a final OCC ("SRR
  without final OCC"; without refinement, "Ensemble only"). Eq. 1 calls a row normal
  when s_k < eta_k for every k; the score max_k (s_k - m_k) / (eta_k - m_k), with m_k
  the median of model k's scores on the refined set's N rows, makes the K scales
  comparable and puts that decision at exactly 1 (an interpretation: the papers do
  not say how the ensemble scores).
  """

  def __init__(self, models, occ_score, num_views: int, train_scores, thresholds):
    self.models, self.occ_score, self.num_views = models, occ_score, num_views
    train_scores = np.asarray(train_scores, np.float64)
    self.median = np.median(train_scores, axis=1)
    # eta_k is infinite when gamma * N < 1 (nothing rejected); the largest score then marks the edge.
    self.eta = np.where(np.isfinite(thresholds), thresholds, train_scores.max(axis=1))
    self.scale = np.maximum(self.eta - self.median, 1e-12 * np.maximum(np.abs(self.median), 1.0))

  def member_scores(self, features) -> np.ndarray:
    """(K, M) scores of each model; `features` a view or a list of refinement's views."""
    views = list(features) if isinstance(features, (list, tuple)) else [features]
    if len(views) != self.num_views:
      raise ValueError(f"this ensemble was fitted on {self.num_views} feature view(s); got {len(views)}.")
    if self.occ_score is None:
      x = jnp.asarray(views[0], jnp.float32).reshape(views[0].shape[0], -1)
      return sharding.to_host(_member_scores_jit(self.models, x)).astype(np.float64)
    return np.stack([np.asarray(self.occ_score(m, views[k % self.num_views]), np.float64)
                     for k, m in enumerate(self.models)])

  def normalise(self, member_scores) -> np.ndarray:
    return ((np.asarray(member_scores) - self.median[:, None]) / self.scale[:, None]).max(axis=0)

  def __call__(self, features) -> np.ndarray:
    return self.normalise(self.member_scores(features))


def _check_inputs(features, num_models: int, n: int):
  if int(num_models) != num_models or num_models < 1:
    raise ValueError(f"num_models (K) must be a positive integer, got {num_models!r}.")
  if n < 2 * num_models:
    raise ValueError(
        f"num_models (K={num_models}) is too large for {n} samples: each of the K disjoint subsets "
        f"needs at least 2 samples. Use K <= {max(n // 2, 1)}.")
  if isinstance(features, np.ndarray) and not np.isfinite(features).all():
    bad = np.argwhere(~np.isfinite(features.reshape(len(features), -1)).all(axis=1)).ravel()
    raise ValueError(
        f"features contain NaN or infinite values in {bad.size} rows (first: {bad[:5].tolist()}). "
        "Impute or drop them before refinement.")


def refine_data(key, features, num_models: int = 5, gamma=0.1, *,
                occ_fit: Callable[[Any], Any] | None = None,
                occ_score: Callable[[Any, Any], Any] | None = None,
                shrinkage: float | str = "ledoit_wolf", reg_covar: float = 1e-6,
                otsu_multiplier: float = 2.0, max_gamma: float = 0.5,
                mesh: jax.sharding.Mesh | None = None, if_nothing_kept: str = "raise",
                num_rows: int | None = None, partition_on_host: bool = False):
  """Refines an unlabeled training set: returns (mask, info).

  With the default GDEs the partition, the K fits, the K x N scores and Otsu's
  estimate are one jitted program and the thresholds (Eq. 2) and the vote (Eq. 1)
  another, each compiled once per input shape and reused across calls and rounds.

  Args:
    key: PRNG key for the random disjoint split.
    features: (N, ...) array of features, one row per training sample (numpy or
      a jax.Array, possibly sharded along N over `mesh`); or a list of R such
      arrays, views of the same N samples (e.g. R representations): OCC k fits
      and scores on view k mod R. Views need occ_fit / occ_score.
    num_models: K, the number of OCCs (and disjoint subsets).
    gamma: fraction in (0, 1) each OCC rejects, or "otsu" to estimate it as
      `otsu_multiplier` x the fraction above Otsu's threshold on the ensemble's
      mean score (SRR A.5), capped at `max_gamma`.
    occ_fit, occ_score: a custom OCC as fit(features_subset) -> model and
      score(model, features) -> (N,) anomaly scores. Default: GDE, fitted for all
      K models in one jitted pass.
    mesh: a mesh with a "data" axis when features are sharded over devices.
    if_nothing_kept: when fewer than 2 samples survive, "raise" NothingKeptError
      (the experiment pipelines) or "keep_all": warn and keep every sample
      (STOCDetector, which must fit on whatever data it is given).
    num_rows: the number of real rows when `features` is padded past them (sharded
      arrays are padded to the device count); default all.
    partition_on_host: with a custom OCC, draw the partition with `host_partition`, so
      that refinement compiles nothing (the detector's host models on tables).

  Returns:
    mask: (N,) bool numpy array, True for samples kept as normal.
    info: dict with `scores` (K, N), `thresholds` (K,), `assignment` (N,),
      `gamma` (the value used), `rejected_by` (N,) count of OCCs rejecting, and
      `ensemble`, the fitted `RefinementEnsemble` (it scores new rows).
  """
  views = list(features) if isinstance(features, (list, tuple)) else [features]
  n = views[0].shape[0] if num_rows is None else int(num_rows)
  if mesh is None and any(v.shape[0] != n for v in views):
    views = [v[:n] for v in views]  # padding on one device: drop it
  for view in views:
    _check_inputs(view, num_models, n)
  if len({view.shape[0] for view in views}) > 1:
    raise ValueError(f"feature views must hold the same samples; got {[v.shape[0] for v in views]} rows.")
  if len(views) > 1 and occ_fit is None:
    raise ValueError("several feature views need a custom OCC (occ_fit and occ_score).")
  if (occ_fit is None) != (occ_score is None):
    raise ValueError("Pass occ_fit together with occ_score.")
  if if_nothing_kept not in ("raise", "keep_all"):
    raise ValueError(f"if_nothing_kept must be 'raise' or 'keep_all'; got {if_nothing_kept!r}.")
  features = views[0]
  gamma = resolve_gamma(gamma)
  if occ_fit is None and mesh is None:
    models, scores, assignment, otsu_count = _gde_fit_score(key, features, num_models, shrinkage, reg_covar)
  elif occ_fit is None:
    models, scores, assignment, otsu_count = _sharded_gde_fit_score(mesh, num_models, shrinkage, reg_covar)(
        key, features, n)
  else:
    assignment = (host_partition if partition_on_host else random_partition)(key, n, num_models)
    assign_np = np.asarray(assignment)
    models = [occ_fit(views[k % len(views)][np.flatnonzero(assign_np == k)]) for k in range(num_models)]
    scores = np.empty((num_models, n), np.float32)
    for k, m in enumerate(models):
      view, own = views[k % len(views)], assign_np == k
      if hasattr(m, "fit_scores_"):  # its own rows as fitted, out of sample (a row is its own neighbour)
        scores[k, own] = m.fit_scores_
        if not own.all():  # scikit-learn's models refuse an empty array
          scores[k, ~own] = occ_score(m, view[~own])
      else:
        scores[k] = occ_score(m, view)
    mean = scores.mean(axis=0)
    otsu_count = np.sum(mean >= occ.otsu_threshold_np(mean))
  estimated = gamma == "otsu"
  if estimated:
    gamma = float(min(max(otsu_multiplier * int(otsu_count) / n, 1.0 / n), max_gamma))
  decide = _decide_host if isinstance(scores, np.ndarray) else _decide
  thresholds, rejected_by, finite = decide(scores, rows_to_reject(gamma, n))
  if not bool(finite):
    raise FloatingPointError(
        "Refinement produced non-finite OCC scores; the features may hold huge values "
        "(standardise them) or NaN.")
  rejected_by, thresholds = np.asarray(rejected_by), np.asarray(thresholds, np.float64)
  mask = rejected_by == 0
  if mask.sum() < 2:
    # Nothing left to fit a one-class model on; seen with a few rows of many features per model,
    # and with groups of identical rows, which share a score and so are rejected together.
    how = " (estimated by Otsu's method)" if estimated else ""
    message = (
        f"refinement kept {int(mask.sum())} of {n} rows: each of the K={num_models} one-class models "
        f"rejects gamma={gamma:.3g} of them{how} (identical rows together), "
        f"and a row is kept only if all K keep it. With {n // num_models} rows per model and "
        f"{int(np.prod(features.shape[1:]))} features the models agree on almost none. Lower gamma "
        "(or the contamination), use fewer models (num_models), or turn refinement off.")
    if if_nothing_kept == "raise":
      raise NothingKeptError(message)
    warnings.warn(f"{message} Keeping all {n} rows instead.", stacklevel=2)
    mask = np.ones(n, bool)
  scores = sharding.to_host(scores).astype(np.float64)
  ensemble = RefinementEnsemble(models, None if occ_fit is None else occ_score, len(views), scores, thresholds)
  info = {"scores": scores, "thresholds": thresholds, "assignment": np.asarray(assignment),
          "gamma": gamma, "rejected_by": rejected_by, "ensemble": ensemble}
  return mask, info


_otsu_count_jit = jax.jit(_otsu_count)


def refinement_record(round_index: int, step: int, mask, y_train, gamma) -> dict:
  """A round's entry in results.json: kept count and, with known labels, the fractions of true
  anomalies / normals removed (the papers' refinement efficacy)."""
  record = {"round": round_index, "step": int(step), "kept": int(mask.sum()),
            "gamma": float(gamma)}
  if y_train is not None:
    anomalies, normals = y_train == 1, y_train == 0
    record["anomalies_removed"] = float((~mask[anomalies]).mean()) if anomalies.any() else None
    record["normals_removed"] = float((~mask[normals]).mean()) if normals.any() else None
  return record


def configured_round(refine_cfg, key, features, gamma, *, y_train=None, round_index: int = 0,
                     step: int = 0, occ_fit=None, occ_score=None, mesh=None, num_rows=None,
                     partition_on_host: bool = False):
  """One refinement round with the settings of a config's `refine` block: (mask, record, info).

  Every round of both pipelines goes through here, so K, the Otsu multiplier and
  if_nothing_kept hold at each of them. `record` is `refinement_record`'s, with the
  gamma used (Otsu's estimate when gamma is "otsu").
  """
  mask, info = refine_data(key, features, refine_cfg.num_models, gamma, occ_fit=occ_fit,
                           occ_score=occ_score, otsu_multiplier=refine_cfg.otsu_multiplier,
                           if_nothing_kept=refine_cfg.if_nothing_kept, mesh=mesh, num_rows=num_rows,
                           partition_on_host=partition_on_host)
  return mask, refinement_record(round_index, step, mask, y_train, info["gamma"]), info


def ensemble_scores(key, features, eval_features, num_models: int = 5, gamma=0.1, **kwargs):
  """Scores rows with the ensemble `refine_data(key, features, ...)` fits (`RefinementEnsemble`).

  Returns (scores of `eval_features` (M,), scores of `features` (N,), refine_data's info).
  """
  with warnings.catch_warnings():  # the ensemble scores every row: how many Eq. 1 keeps does not matter
    warnings.simplefilter("ignore")
    _, info = refine_data(key, features, num_models, gamma, if_nothing_kept="keep_all", **kwargs)
  ensemble = info["ensemble"]
  return ensemble(eval_features), ensemble.normalise(info["scores"]), info
