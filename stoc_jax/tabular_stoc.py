"""STOC on tables: load, split, (learn GOAD,) refine on a schedule, fit the final OCC, evaluate.

`train_and_evaluate(config, workdir)` is the whole experiment; experiments/run.py
only parses flags and calls it. Two representations:

* "raw": refinement on fixed (standardised) raw features, then the final OCC.
* "goad": GOAD training interleaved with refinement (refine, retrain on the
  refined rows, repeat on the schedule), a last refinement, then per-projection
  GDEs fitted on the refined rows as the final OCC.

Both run through the one STOC loop (`stoc_jax.loop.run_stoc`); this module holds
what is the tables' own: loading and contamination (the column scaling: `column_scaling`).

With `refine.enabled=False` the same pipeline runs without refinement (the baseline).
"""

from __future__ import annotations

import logging
import time

import jax
import numpy as np

from stoc_jax import configs, goad, loop, occ, refine
from stoc_jax.column_scaling import standardize
from stoc_jax.data import split as split_lib
from stoc_jax.data import tabular
from stoc_jax.workdir import Workdir

# Model files pickled before FinalOCC moved to occ.py name it here.
FinalOCC = occ.FinalOCC


def load_split(config):
  """The data set, contaminated as configured and standardised: a Split."""
  x, y = tabular.load_tabular(config.dataset, config.data_dir, seed=config.split.seed,
                              path=config.data_path or None, label_column=config.label_column or None,
                              kddrev_attack_fraction=config.kddrev_attack_fraction)
  s = split_lib.contamination_split(
      x, y, config.anomaly_ratio, seed=config.split.seed,
      train_normal_fraction=config.split.train_normal_fraction,
      max_anomaly_ratio=config.split.max_anomaly_ratio)
  x_train, y_train, x_test = s.x_train, s.y_train, s.x_test
  if config.deduplicate_train:
    x_train, y_train = drop_duplicate_rows(x_train, y_train)
  if config.standardize:
    x_train, x_test = standardize(x_train, x_test, binary=config.standardize_binary,
                                  robust=config.standardize_robust)
  return split_lib.Split(x_train.astype(np.float32), y_train, x_test.astype(np.float32), s.y_test)


def rescale_on_refined_rows(config, data, key, gamma):
  """refine.scaling: the column scaling re-estimated on the rows that one refinement keeps.

  The scaling is the first layer of g, and Algorithm 1 fits g on refined data; estimated
  on all rows, the training anomalies drag it (on Thyroid they triple one column's std).
  The data are already scaled by all rows' statistics; the scaling rules are
  affine-equivariant, so scaling them again by the kept rows' statistics is scaling the
  raw data by those. Returns (rescaled Split, that refinement's record).
  """
  if not config.standardize:
    raise ValueError("refine.scaling=True re-estimates the column scaling, but standardize=False "
                     "turns it off; set --config.standardize=True or refine.scaling=False.")
  occ_fit, occ_score = loop.FixedFeatures(config.refine.occ).refinement_occ
  mask, record, _ = refine.configured_round(config.refine, key, data.x_train, gamma, y_train=data.y_train,
                                            occ_fit=occ_fit, occ_score=occ_score)
  _, x_train, x_test = standardize(data.x_train[mask], data.x_train, data.x_test,
                                   binary=config.standardize_binary,
                                   robust=config.standardize_robust)
  logging.info("refine.scaling: statistics from %d of %d training rows", int(mask.sum()), len(mask))
  return split_lib.Split(x_train, data.y_train, x_test, data.y_test), record


def drop_duplicate_rows(x, y=None):
  """Keeps the first copy of every row repeated exactly, in the original order: (x, y)."""
  _, first = np.unique(x, axis=0, return_index=True)
  keep = np.sort(first)
  logging.info("deduplicate_train: kept %d distinct of %d training rows", len(keep), len(x))
  return x[keep], (None if y is None else y[keep])


REFINE_OCCS = ("gde", "kde")


def _check_config(config):
  if jax.process_count() > 1:
    raise ValueError(f"the tabular pipeline runs in one process (tables fit one host); got "
                     f"{jax.process_count()} processes. Run it without --jax_distributed.")
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
  if config.representation == "goad":
    configs.check_positive(config, "goad.num_transforms", "goad.proj_dim", "goad.hidden", "goad.depth",
                           "goad.batch_size", integer=True)
    configs.check_positive(config, "goad.learning_rate")
  if config.refine.num_representations < 1 or (
      config.refine.num_representations > 1 and (config.representation != "goad" or config.final_occ != "gde")):
    raise ValueError("refine.num_representations must be >= 1, and above 1 it needs representation='goad' "
                     f"and final_occ='gde'; got {config.refine.num_representations}.")
  if config.refine.occ not in REFINE_OCCS:
    raise ValueError(f"refine.occ must be one of {REFINE_OCCS}, got {config.refine.occ!r}.")
  if config.train_steps < 1:
    raise ValueError(f"train_steps must be >= 1, got {config.train_steps}.")


def make_learner(config, num_features: int):
  """The configured representation as a learner of the STOC loop."""
  if config.representation == "raw":
    return loop.FixedFeatures(config.refine.occ)
  return goad.GOADLearner(
      config.goad, num_features, train_steps=config.train_steps, steps_per_jit=config.steps_per_jit,
      # Without refinement only GOAD 0 trains: the others would go unused.
      num_representations=config.refine.num_representations if config.refine.enabled else 1,
      refinement_occ=config.refine.occ)


def train_and_evaluate(config, workdir) -> dict:
  """Runs one tabular experiment; writes config.json, metrics.jsonl and results.json to workdir."""
  _check_config(config)
  start = time.time()
  wd = Workdir(workdir)
  data = load_split(config)
  wd.write_config(config, training_data={"x_train": data.x_train})
  gamma = refine.resolve_gamma(config.refine.gamma, config.anomaly_ratio)
  key = jax.random.key(config.seed)
  scaling_round = None
  if config.refine.enabled and config.refine.scaling:
    data, scaling_round = rescale_on_refined_rows(config, data, jax.random.fold_in(key, 3), gamma)
  logging.info("%s: %d training rows (%d anomalies), %d test rows, %d features; gamma=%s",
               config.dataset, len(data.x_train), int(data.y_train.sum()), len(data.x_test),
               data.x_train.shape[1], gamma)
  trained = loop.run_stoc(make_learner(config, data.x_train.shape[1]), data.x_train, config, key=key,
                          gamma=gamma, y_train=data.y_train, workdir=wd)
  results = trained.evaluate(data.x_test, data.y_test, minority_positive=config.minority_positive)
  results.update({"scaling_refinement": scaling_round, "dataset": config.dataset,
                  "anomaly_ratio": config.anomaly_ratio, "refine_enabled": bool(config.refine.enabled),
                  "representation": config.representation, "seed": config.seed,
                  "split_seed": config.split.seed, "num_train": len(data.x_train),
                  "num_test": len(data.x_test), "seconds": time.time() - start})
  wd.finish(results)
  return results
