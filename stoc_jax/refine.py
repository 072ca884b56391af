"""Data refinement by an ensemble of one-class classifiers (STOC Eq. 1-2).

`refine_data` splits the N training samples into K disjoint random subsets, fits
one OCC per subset, scores all N samples with every OCC, thresholds OCC k at
eta_k = the largest eta with (1/N) #{i : f_k(x_i) >= eta} >= gamma (Eq. 2), and
keeps a sample only if every OCC scores it below its threshold (Eq. 1).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from stoc_jax import occ


class NothingKeptError(ValueError):
  """Refinement rejected (nearly) every row: there is nothing left to fit a one-class model on."""


def resolve_gamma(gamma, anomaly_ratio: float | None = None):
  """Turns a config value for gamma into a float in (0, 1) or the string 'otsu'.

  'auto' means twice the anomaly ratio (the papers' choice); for a ratio of 0 it
  means 0.005 (PROTOCOLS.md reads the papers' "gamma = 0.5" as 0.5 %).
  """
  if isinstance(gamma, str):
    key = gamma.strip().lower()
    if key == "otsu":
      return "otsu"
    if key == "auto":
      if anomaly_ratio is None:
        raise ValueError("gamma='auto' needs the anomaly ratio; pass a number or 'otsu'.")
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
  perm = jax.random.permutation(key, num_samples)
  return jnp.zeros(num_samples, jnp.int32).at[perm].set(jnp.arange(num_samples, dtype=jnp.int32) % num_models)


def round_key(key, round_index: int) -> jax.Array:
  """The key of refinement round `round_index` in a training run seeded by `key` (both pipelines), so
  that scripts and the ensemble scoring can rebuild a round's partition and OCCs."""
  return jax.random.fold_in(jax.random.fold_in(key, 1), round_index)


def thresholds_at_gamma(scores, gamma: float) -> np.ndarray:
  """Eq. 2 for each row of `scores` (K, N): the ceil(gamma*N)-th largest score."""
  scores = np.asarray(scores)
  n = scores.shape[1]
  num_reject = int(math.ceil(gamma * n - 1e-9))
  if num_reject <= 0:
    return np.full(scores.shape[0], np.inf)
  return -np.partition(-scores, num_reject - 1, axis=1)[:, num_reject - 1]


def _check_inputs(features, num_models: int):
  n = features.shape[0]
  if int(num_models) != num_models or num_models < 1:
    raise ValueError(f"num_models (K) must be a positive integer, got {num_models!r}.")
  if n < 2 * num_models:
    raise ValueError(
        f"num_models (K={num_models}) is too large for {n} samples: each of the K disjoint subsets "
        f"needs at least 2 samples. Use K <= {max(n // 2, 1)}.")
  if isinstance(features, np.ndarray) and not np.isfinite(features).all():
    bad = np.argwhere(~np.isfinite(features.reshape(n, -1)).all(axis=1)).ravel()
    raise ValueError(
        f"features contain NaN or infinite values in {bad.size} rows (first: {bad[:5].tolist()}). "
        "Impute or drop them before refinement.")


def _gde_ensemble_scores(features, assignment, num_models, shrinkage, reg_covar, axis_name=None):
  params = occ.gde_fit_many(features, assignment, num_models, shrinkage, reg_covar, axis_name)
  # Sequential over models: no vmapped triangular solve (it can hang when sharded).
  return jax.lax.map(lambda p: occ.gde_score(p, features), params)


def gde_ensemble_scores(features, assignment, num_models: int, shrinkage: float | str = "ledoit_wolf",
                        reg_covar: float = 1e-6, mesh: jax.sharding.Mesh | None = None):
  """Scores (K, N) of K GDEs, GDE k fitted on rows with assignment == k.

  With `mesh`, rows are sharded along its "data" axis and the whole fit-and-score
  runs under shard_map (sums are psum-ed; each device scores its own rows).
  """
  fn = lambda x, a: _gde_ensemble_scores(x, a, num_models, shrinkage, reg_covar,
                                         axis_name="data" if mesh is not None else None)
  if mesh is None:
    return jax.jit(fn)(features, assignment)
  sharded = jax.shard_map(fn, mesh=mesh, in_specs=(P("data"), P("data")),
                          out_specs=P(None, "data"), check_vma=False)
  return jax.jit(sharded)(features, assignment)


def refine_data(key, features, num_models: int = 5, gamma=0.1, *,
                occ_fit: Callable[[Any], Any] | None = None,
                occ_score: Callable[[Any, Any], Any] | None = None,
                shrinkage: float | str = "ledoit_wolf", reg_covar: float = 1e-6,
                otsu_multiplier: float = 2.0, max_gamma: float = 0.5,
                mesh: jax.sharding.Mesh | None = None, if_nothing_kept: str = "raise"):
  """Refines an unlabeled training set: returns (mask, info).

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

  Returns:
    mask: (N,) bool numpy array, True for samples kept as normal.
    info: dict with `scores` (K, N), `thresholds` (K,), `assignment` (N,),
      `gamma` (the value used) and `rejected_by` (N,) count of OCCs rejecting.
  """
  views = list(features) if isinstance(features, (list, tuple)) else [features]
  for view in views:
    _check_inputs(view, num_models)
  if len({view.shape[0] for view in views}) > 1:
    raise ValueError(f"feature views must hold the same samples; got {[v.shape[0] for v in views]} rows.")
  if len(views) > 1 and occ_fit is None:
    raise ValueError("several feature views need a custom OCC (occ_fit and occ_score).")
  features = views[0]
  if if_nothing_kept not in ("raise", "keep_all"):
    raise ValueError(f"if_nothing_kept must be 'raise' or 'keep_all'; got {if_nothing_kept!r}.")
  gamma = resolve_gamma(gamma)
  n = features.shape[0]
  assignment = random_partition(key, n, num_models)
  if occ_fit is None:
    if occ_score is not None:
      raise ValueError("Pass occ_fit together with occ_score.")
    flat = features.reshape(n, -1)
    if mesh is not None:
      assignment = jax.device_put(assignment, jax.sharding.NamedSharding(mesh, P("data")))
    scores = gde_ensemble_scores(flat, assignment, num_models, shrinkage, reg_covar, mesh)
  else:
    if occ_score is None:
      raise ValueError("Pass occ_score together with occ_fit.")
    assign_np = np.asarray(assignment)
    scores = []
    for k in range(num_models):
      view = views[k % len(views)]
      model = occ_fit(view[np.flatnonzero(assign_np == k)])
      scores.append(np.asarray(occ_score(model, view)))
    scores = np.stack(scores)
  scores = np.asarray(scores, np.float64)
  if not np.isfinite(scores).all():
    raise FloatingPointError(
        "Refinement produced non-finite OCC scores; the features may hold huge values "
        "(standardise them) or NaN.")
  estimated = gamma == "otsu"
  if estimated:
    estimate = occ.otsu_ratio(scores.mean(axis=0))
    gamma = float(min(max(otsu_multiplier * estimate, 1.0 / n), max_gamma))
  thresholds = thresholds_at_gamma(scores, gamma)
  rejected = scores >= thresholds[:, None]
  mask = ~rejected.any(axis=0)
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
  info = {"scores": scores, "thresholds": thresholds, "assignment": np.asarray(assignment),
          "gamma": gamma, "rejected_by": rejected.sum(axis=0)}
  return mask, info


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
                     step: int = 0, occ_fit=None, occ_score=None):
  """One refinement round with the settings of a config's `refine` block: (mask, record).

  Every round of both pipelines goes through here, so K, the Otsu multiplier and
  if_nothing_kept hold at each of them. `record` is `refinement_record`'s, with the
  gamma used (Otsu's estimate when gamma is "otsu").
  """
  mask, info = refine_data(key, features, refine_cfg.num_models, gamma, occ_fit=occ_fit,
                           occ_score=occ_score, otsu_multiplier=refine_cfg.otsu_multiplier,
                           if_nothing_kept=refine_cfg.if_nothing_kept)
  return mask, refinement_record(round_index, step, mask, y_train, info["gamma"])


def ensemble_scores(key, features, eval_features, num_models: int = 5, gamma=0.1, *,
                    occ_fit: Callable[[Any], Any] | None = None,
                    occ_score: Callable[[Any, Any], Any] | None = None,
                    shrinkage: float | str = "ledoit_wolf", reg_covar: float = 1e-6,
                    otsu_multiplier: float = 2.0, max_gamma: float = 0.5):
  """Scores rows with refinement's ensemble itself instead of a final OCC.

  STOC Table 7's ablations: with a representation learned with refinement this is
  "SRR without final OCC"; without refinement it is "Ensemble only". The K OCCs are
  those `refine_data` fits for the same key and arguments: one per disjoint random
  subset of all N rows of `features` (not only the refined ones), each thresholded
  at its eta_k (Eq. 2). Eq. 1 calls a row normal when s_k < eta_k for every k. The
  score max_k (s_k - m_k) / (eta_k - m_k), with m_k the median of OCC k's scores on
  the N rows, makes the K scales comparable and puts that decision at exactly 1
  (an interpretation: the papers do not say how the ensemble scores).

  Returns (scores of `eval_features` (M,), scores of `features` (N,), refine_data's info).
  """
  with warnings.catch_warnings():  # the ensemble scores every row: how many Eq. 1 keeps does not matter
    warnings.simplefilter("ignore")
    _, info = refine_data(key, features, num_models, gamma, occ_fit=occ_fit, occ_score=occ_score,
                          shrinkage=shrinkage, reg_covar=reg_covar, otsu_multiplier=otsu_multiplier,
                          max_gamma=max_gamma, if_nothing_kept="keep_all")
  assignment, train = info["assignment"], info["scores"]
  if occ_fit is None:
    n, m = features.shape[0], eval_features.shape[0]
    params = jax.jit(occ.gde_fit_many, static_argnums=(2, 3, 4))(
        jnp.asarray(features).reshape(n, -1), assignment, num_models, shrinkage, reg_covar)
    flat = jnp.asarray(eval_features).reshape(m, -1)
    evals = jax.jit(lambda p, x: jax.lax.map(lambda q: occ.gde_score(q, x), p))(params, flat)
  else:
    evals = [occ_score(occ_fit(features[np.flatnonzero(assignment == k)]), eval_features)
             for k in range(num_models)]
  evals = np.asarray(evals, np.float64)  # (K, M), from either branch
  median = np.median(train, axis=1)
  # eta_k is infinite when gamma * N < 1 (nothing rejected); the largest score then marks the edge.
  eta = np.where(np.isfinite(info["thresholds"]), info["thresholds"], train.max(axis=1))
  scale = np.maximum(eta - median, 1e-12 * np.maximum(np.abs(median), 1.0))
  normalise = lambda s: ((s - median[:, None]) / scale[:, None]).max(axis=0)
  return normalise(evals), normalise(train), info
