"""STOC on tables: load, split, (learn GOAD,) refine on a schedule, fit the final OCC, evaluate.

`train_and_evaluate(config, workdir)` is the whole experiment; experiments/run.py
only parses flags and calls it. Two representations:

* "raw": refinement on fixed (standardised) raw features, then the final OCC.
* "goad": GOAD training interleaved with refinement (refine, retrain on the
  refined rows, repeat on the schedule), a last refinement, then per-projection
  GDEs fitted on the refined rows as the final OCC.

With `refine.enabled=False` the same pipeline runs without refinement (the baseline).
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from stoc_jax import goad, metrics, occ, refine, schedule
from stoc_jax.data import split as split_lib
from stoc_jax.data import tabular
from stoc_jax.workdir import Workdir

IQR_OF_UNIT_NORMAL = 1.3489795  # so that IQR / this is the std of a Gaussian column


def scaling_statistics(x_train, binary: bool = True, robust: bool = False):
  """(centre, scale) of each column of the (unlabeled) training set: mean and std, constant columns
  keeping scale 1.

  With `robust=True` the centre is the median and the scale IQR / 1.349 (the std
  for a Gaussian column; the std where the IQR is 0, as in mostly-constant
  columns). The training set holds the anomalies, and a few extreme ones inflate
  a skewed column's std: on Thyroid at 1.5 %, 28 anomalies triple one column's
  std and leave its IQR as it was. A full-covariance GDE does not care (it is
  affine-invariant); GOAD's random projections do.
  With `binary=False`, columns holding only 0 and 1 in the training set (one-hot
  codes) get centre 0 and scale 1, as GOAD scales KDD.
  """
  std = x_train.std(axis=0)
  if robust:
    centre = np.median(x_train, axis=0)
    q75, q25 = np.percentile(x_train, [75, 25], axis=0)
    scale = np.where(q75 > q25, (q75 - q25) / IQR_OF_UNIT_NORMAL, std)
  else:
    centre, scale = x_train.mean(axis=0), std
  # Tested by equality: in float32 a constant column's std comes out 1e-8 to 1e-6, not 0, and
  # another value in the test set would then land a million stds out.
  lowest = x_train.min(axis=0)
  constant = lowest == x_train.max(axis=0)
  centre = np.where(constant, lowest, centre)
  scale = np.where((scale > 0) & ~constant, scale, 1.0)
  if not binary:
    keep = np.all((x_train == 0) | (x_train == 1), axis=0)
    centre, scale = np.where(keep, 0.0, centre), np.where(keep, 1.0, scale)
  if robust:
    _warn_extreme_robust_scores(x_train, centre, scale)
  return centre, scale


EXTREME_ROBUST_SCORE = 1e3


def _warn_extreme_robust_scores(x_train, centre, scale):
  # A column that is nearly constant but not quite (KDD has one: IQR / 1.349 = 1.1e-6, std
  # 2.1e-3) sends its rare other values ~1e6 robust SDs out, which broke GOAD's training on 3
  # KDD seeds in 5. The rule is left as it is (its measurements stand); the user is told.
  reach = np.abs(x_train - centre).max(axis=0) / scale
  extreme = np.flatnonzero(reach > EXTREME_ROBUST_SCORE)
  if extreme.size:
    worst = extreme[np.argsort(-reach[extreme])][:5]
    listed = ", ".join(f"column {j}: {reach[j]:.3g}" for j in worst)
    warnings.warn(
        f"robust scaling puts training values of {extreme.size} column(s) more than "
        f"{EXTREME_ROBUST_SCORE:g} robust SDs from the median ({listed}): their IQR is tiny next "
        "to their range. Such values can destabilise GOAD training; consider standard (z-score) "
        "scaling, or dropping or log-transforming those columns.", stacklevel=3)


def standardize(x_train, *others, binary: bool = True, robust: bool = False):
  """Every set scaled by the training set's `scaling_statistics`, as float32."""
  centre, scale = scaling_statistics(x_train, binary, robust)
  return [((x - centre) / scale).astype(np.float32) for x in (x_train,) + others]


# Model files pickled before FinalOCC moved to occ.py name it here.
FinalOCC = occ.FinalOCC


def load_split(config):
  """The data set, contaminated as configured and standardised: a Split."""
  x, y = tabular.load_tabular(config.dataset, config.data_dir, seed=config.split.seed,
                              path=config.get("data_path"), label_column=config.get("label_column"),
                              kddrev_attack_fraction=config.get("kddrev_attack_fraction", 0.2))
  s = split_lib.contamination_split(
      x, y, config.anomaly_ratio, seed=config.split.seed,
      train_normal_fraction=config.split.train_normal_fraction,
      max_anomaly_ratio=config.split.max_anomaly_ratio)
  x_train, y_train, x_test = s.x_train, s.y_train, s.x_test
  if config.get("deduplicate_train", False):
    x_train, y_train = drop_duplicate_rows(x_train, y_train)
  if config.get("standardize", True):
    x_train, x_test = standardize(x_train, x_test, binary=config.get("standardize_binary", True),
                                  robust=config.get("standardize_robust", False))
  return split_lib.Split(x_train.astype(np.float32), y_train, x_test.astype(np.float32), s.y_test)


def rescale_on_refined_rows(config, data, key, gamma):
  """refine.scaling: the column scaling re-estimated on the rows that one refinement keeps.

  The scaling is the first layer of g, and Algorithm 1 fits g on refined data; estimated
  on all rows, the training anomalies drag it (on Thyroid they triple one column's std).
  The data are already scaled by all rows' statistics; the scaling rules are
  affine-equivariant, so scaling them again by the kept rows' statistics is scaling the
  raw data by those. Returns (rescaled Split, that refinement's record).
  """
  if not config.get("standardize", True):
    raise ValueError("refine.scaling=True re-estimates the column scaling, but standardize=False "
                     "turns it off; set --config.standardize=True or refine.scaling=False.")
  occ_fit, occ_score = refinement_occ(config.refine.occ)
  mask, record = refine.configured_round(config.refine, key, data.x_train, gamma, y_train=data.y_train,
                                         occ_fit=occ_fit, occ_score=occ_score)
  _, x_train, x_test = standardize(data.x_train[mask], data.x_train, data.x_test,
                                   binary=config.get("standardize_binary", True),
                                   robust=config.get("standardize_robust", False))
  logging.info("refine.scaling: statistics from %d of %d training rows", int(mask.sum()), len(mask))
  return split_lib.Split(x_train, data.y_train, x_test, data.y_test), record


def drop_duplicate_rows(x, y=None):
  """Keeps the first copy of every row repeated exactly, in the original order: (x, y)."""
  _, first = np.unique(x, axis=0, return_index=True)
  keep = np.sort(first)
  logging.info("deduplicate_train: kept %d distinct of %d training rows", len(keep), len(x))
  return x[keep], (None if y is None else y[keep])


REFINE_OCCS = ("gde", "kde")


def refinement_occ(kind: str, goad_aggregate: str | None = None):
  """refine.occ as refine's (occ_fit, occ_score): raw (N, D) features, or GOAD's (N, M, H) when
  `goad_aggregate` is given.

  "gde": on GOAD features one GDE per projection, summed as goad.score_aggregate says; on raw
  features (None, None), refine_data's own GDEs fitted at once. "kde": the papers' RBF KDE on a
  row's features flattened. A KDE fits no covariance, which a group of identical rows would inflate
  until it looks normal; it removed KDD-Rev's copied attacks with 2 GOAD seeds of 5 (RESULTS.md, "Session 13").
  """
  if kind == "kde":
    flat = lambda f: np.asarray(f).reshape(len(f), -1)
    return (lambda f: occ.kde_fit(flat(f))), (lambda p, f: occ.kde_score(p, flat(f)))
  if goad_aggregate is None:
    return None, None
  return ((lambda f: goad.gde_fit_per_transform(jnp.asarray(f))),
          (lambda p, f: goad.gde_score_per_transform(p, f, goad_aggregate)))


def _check_config(config):
  if config.representation not in ("raw", "goad"):
    raise ValueError(f"representation must be 'raw' or 'goad', got {config.representation!r}.")
  if config.representation == "raw" and config.final_occ not in occ.FINAL_OCCS + ("ensemble",):
    raise ValueError(f"final_occ must be one of {occ.FINAL_OCCS + ('ensemble',)}, got {config.final_occ!r}.")
  if config.representation == "goad" and config.final_occ not in ("gde", "ensemble"):
    raise ValueError("With representation='goad' the final OCC is the per-projection GDEs: final_occ must "
                     f"be 'gde' or 'ensemble' (score with refinement's ensemble), got {config.final_occ!r}.")
  if config.representation == "goad" and config.goad.score_aggregate not in goad.AGGREGATES:
    raise ValueError(f"goad.score_aggregate must be one of {goad.AGGREGATES}.")
  if config.representation == "goad" and config.goad.optimizer not in goad.OPTIMIZERS:
    raise ValueError(f"goad.optimizer must be one of {goad.OPTIMIZERS}, got {config.goad.optimizer!r}.")
  if config.refine.num_representations < 1 or (
      config.refine.num_representations > 1 and (config.representation != "goad" or config.final_occ != "gde")):
    raise ValueError("refine.num_representations must be >= 1, and above 1 it needs representation='goad' "
                     f"and final_occ='gde'; got {config.refine.num_representations}.")
  if config.refine.occ not in REFINE_OCCS:
    raise ValueError(f"refine.occ must be one of {REFINE_OCCS}, got {config.refine.occ!r}.")
  if config.train_steps < 1:
    raise ValueError(f"train_steps must be >= 1, got {config.train_steps}.")


def train_and_evaluate(config, workdir) -> dict:
  """Runs one tabular experiment; writes config.json, metrics.jsonl and results.json to workdir."""
  _check_config(config)
  start = time.time()
  wd = Workdir(workdir)
  wd.write_config(config)
  data = load_split(config)
  gamma = refine.resolve_gamma(config.refine.gamma, config.anomaly_ratio)
  key = jax.random.key(config.seed)
  scaling_round = None
  if config.refine.enabled and config.refine.get("scaling", False):
    data, scaling_round = rescale_on_refined_rows(config, data, jax.random.fold_in(key, 3), gamma)
  logging.info("%s: %d training rows (%d anomalies), %d test rows, %d features; gamma=%s",
               config.dataset, len(data.x_train), int(data.y_train.sum()), len(data.x_test),
               data.x_train.shape[1], gamma)

  if config.representation == "raw":
    rounds = []
    mask = np.ones(len(data.x_train), bool)
    used_gamma = gamma
    occ_fit, occ_score = refinement_occ(config.refine.occ)
    if config.refine.enabled:
      mask, record = refine.configured_round(config.refine, jax.random.fold_in(key, 1), data.x_train,
                                             gamma, y_train=data.y_train, occ_fit=occ_fit,
                                             occ_score=occ_score)
      used_gamma = record["gamma"]
      rounds.append(record)
    if config.final_occ == "ensemble":  # the same key: the OCCs of the refinement above
      test_scores, train_scores, info = refine.ensemble_scores(
          jax.random.fold_in(key, 1), data.x_train, data.x_test, config.refine.num_models, used_gamma,
          occ_fit=occ_fit, occ_score=occ_score, otsu_multiplier=config.refine.otsu_multiplier)
      used_gamma = info["gamma"]
    else:
      score = occ.FinalOCC(config.final_occ, data.x_train[mask])
      test_scores, train_scores = score(data.x_test), score(data.x_train)
  else:
    detector, _, rounds, used_gamma = train_goad_stoc(config, data.x_train, data.y_train, key, gamma, wd)
    if config.final_occ == "ensemble":
      test_scores, train_scores, info = goad_ensemble_scores(config, detector, key, len(rounds), used_gamma,
                                                             data.x_train, data.x_test)
      used_gamma = info["gamma"]
    else:
      test_scores, train_scores = detector.score(data.x_test), detector.score(data.x_train)

  results = metrics.evaluate(data.y_test, test_scores, train_scores=train_scores,
                             contamination=used_gamma if used_gamma != "otsu" else None,
                             minority_positive=config.get("minority_positive", False))
  results.update({"refinement": rounds, "scaling_refinement": scaling_round, "dataset": config.dataset,
                  "anomaly_ratio": config.anomaly_ratio, "gamma": used_gamma,
                  "refine_enabled": bool(config.refine.enabled),
                  "representation": config.representation, "seed": config.seed,
                  "split_seed": config.split.seed, "num_train": len(data.x_train),
                  "num_test": len(data.x_test), "seconds": time.time() - start})
  wd.log_metrics({"event": "final", **{k: results[k] for k in ("auc", "ap", "f1", "f1_oracle")}})
  wd.write_results(results)
  wd.close()
  logging.info("results: AUC %.1f  AP %.1f  F1 %.1f  F1(oracle) %.1f", results["auc"], results["ap"],
               results["f1"], results["f1_oracle"])
  return results


class GOADDetector(NamedTuple):
  """A trained GOAD representation with per-projection GDEs fitted on the refined rows."""
  graphdef: Any
  params: Any
  projections: jax.Array
  gdes: Any
  aggregate: str
  l2_normalize: bool = False

  def features(self, x):
    return goad.features(self.graphdef, self.params, self.projections, x,
                         l2_normalize=self.l2_normalize)

  def score(self, x) -> np.ndarray:
    return goad.gde_score_per_transform(self.gdes, self.features(x), self.aggregate)


def goad_ensemble_scores(config, detector: GOADDetector, key, num_rounds: int, gamma, x_train, x_test):
  """final_occ="ensemble" on GOAD features: the K-model ensemble (refine.occ) of the last refinement
  round (same key, so the same OCCs; without refinement, a round-0 ensemble) scores the rows instead
  of the final GDEs. Returns refine.ensemble_scores' (test scores, train scores, info)."""
  occ_fit, occ_score = refinement_occ(config.refine.occ, config.goad.score_aggregate)
  return refine.ensemble_scores(
      refine.round_key(key, max(num_rounds - 1, 0)), detector.features(x_train),
      detector.features(x_test), config.refine.num_models, gamma, occ_fit=occ_fit, occ_score=occ_score,
      otsu_multiplier=config.refine.otsu_multiplier)


def train_goad_stoc(config, x_train, y_train, key, gamma, wd: Workdir | None = None):
  """GOAD training interleaved with refinement on the schedule, a last refinement, the final GDEs.

  `config` needs the `goad`, `refine`, `train_steps`, `steps_per_jit` and
  `checkpoint_every_steps` fields of tabular_base.py. With a Workdir it
  checkpoints and resumes from the latest checkpoint; `y_train` (or None) is only
  used to report refinement efficacy. Returns (GOADDetector, mask, rounds, gamma used).
  """
  g = config.goad
  tx = goad.make_optimizer(g.learning_rate, g.momentum, g.weight_decay, g.optimizer,
                           g.clip_grad_norm)
  # refine.num_representations = R > 1: R GOADs (R - 1 more seeds), each trained on the refined rows;
  # refinement's model k looks through GOAD k mod R, and GOAD 0 gives the final OCC. One GOAD's view
  # can hide a group of copied rows that another's shows (RESULTS.md, "Session 13").
  num_reps = int(config.refine.num_representations) if config.refine.enabled else 1  # the baseline uses one
  # GOAD 0 keeps the keys of a single GOAD, so R = 1 runs exactly as before.
  extra_key = lambda tag, r: jax.random.fold_in(jax.random.fold_in(key, tag), r)
  inits = [goad.init(jax.random.fold_in(key, 0) if r == 0 else extra_key(5, r), x_train.shape[1], g, tx)
           for r in range(num_reps)]
  graphdef = inits[0][0]
  projections = [init[1] for init in inits]
  states = [init[2] for init in inits]
  n = len(x_train)
  total = int(config.train_steps)
  steps_per_epoch = max(1, math.ceil(n / g.batch_size))
  refine_points, stops = schedule.training_stops(config.refine, total, steps_per_epoch,
                                                 config.checkpoint_every_steps)
  mask, rounds, used_gamma = np.ones(n, bool), [], gamma
  if wd is not None:  # one GOAD is saved as before, several as a list
    restored, mask, rounds, used_gamma = wd.restore_progress(states[0] if num_reps == 1 else states, n, gamma)
    states = [restored] if num_reps == 1 else list(restored)

  x_dev = jnp.asarray(x_train)
  batch_keys = [jax.random.fold_in(key, 2) if r == 0 else extra_key(6, r) for r in range(num_reps)]
  features_of = lambda r: goad.features(graphdef, states[r].params, projections[r], x_train,
                                        l2_normalize=g.l2_normalize)
  # What refinement sees: GOAD 0's features, or the list of every GOAD's (refine_data's views).
  views = lambda: features_of(0) if num_reps == 1 else [features_of(r) for r in range(num_reps)]
  occ_fit, occ_score = refinement_occ(config.refine.occ, g.score_aggregate)

  def refine_round(feats):
    nonlocal mask, used_gamma
    mask, record = refine.configured_round(config.refine, refine.round_key(key, len(rounds)), feats,
                                           gamma,  # "otsu" re-estimates each round
                                           y_train=y_train, round_index=len(rounds), step=step,
                                           occ_fit=occ_fit, occ_score=occ_score)
    used_gamma = record["gamma"]
    rounds.append(record)
    if wd is not None:
      wd.log_metrics({"event": "refine", **rounds[-1]})

  step = int(states[0].step)
  if step == 0 and 0 in refine_points:  # past step 0 a checkpoint holds this round
    refine_round(views())
  bar = tqdm(total=total, initial=step, desc="GOAD", unit="step", disable=None)
  while step < total:
    stop = next(s for s in stops if s > step)
    kept_idx = jnp.asarray(np.argsort(~mask, kind="stable"))
    while step < stop:
      chunk = min(config.steps_per_jit, stop - step)
      metrics_of = []
      for r in range(num_reps):
        states[r], m = goad.train_steps(graphdef, tx, projections[r], states[r], x_dev, kept_idx,
                                        int(mask.sum()), batch_keys[r], num_steps=chunk,
                                        batch_size=g.batch_size)
        metrics_of.append(jax.device_get(m))
      step += chunk
      m = metrics_of[0]
      for mr in metrics_of:
        if not np.isfinite(mr["loss"]):
          raise FloatingPointError(
              f"GOAD loss became {mr['loss']} at step {step}; lower the learning rate (now "
              f"{g.learning_rate}: --config.goad.learning_rate, or STOCDetector(learning_rate=...)) or "
              "check the features for huge values.")
      if wd is not None:
        wd.log_metrics({"step": step, "loss": m["loss"], "accuracy": m["accuracy"]})
      bar.update(chunk)
    if step in refine_points:
      refine_round(views())
    if wd is not None:
      wd.save(step, {"train": states[0] if num_reps == 1 else states, "mask": mask},
              {"rounds": rounds, "gamma": used_gamma})
  bar.close()

  final_views = views()
  if config.refine.enabled:
    refine_round(final_views)
  feats = final_views if num_reps == 1 else final_views[0]
  detector = GOADDetector(graphdef, states[0].params, projections[0],
                          goad.gde_fit_per_transform(jnp.asarray(feats[mask])), g.score_aggregate,
                          g.l2_normalize)
  return detector, mask, rounds, used_gamma
