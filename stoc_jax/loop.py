"""The STOC loop (STOC Algorithm 1), one for every learner.

`run_stoc(learner, x_train, config, key=..., gamma=...)` trains the learner's
representation on the refined rows in chunks between schedule points, refines at
each point (`refine.configured_round`) and once more at the end, fits the final
OCC on the refined rows, and returns a `Trained` model that scores new rows. With a
`Workdir` it checkpoints at every pause and resumes from the latest checkpoint.
The tabular and image experiments and `STOCDetector` all go through it.

A learner is an object with:

* `init(key, x_train) -> state`: a pytree (the checkpointed training state); `key`
  is the run's key, from which the learner derives its own.
* `train(state, x_train, mask, *, key, num_steps, round_index) -> (state, metrics)`:
  `num_steps` steps on the rows where `mask` is True (the kept rows; an objective
  that needs the rejected rows takes them from ~mask). `metrics` holds floats, with
  "loss" among them where the learner descends one. Its steps are pure and jitted.
* `features(state, x)`: what refinement sees, an (N, ...) array or a list of views.
* `steps(num_rows) -> (total_steps, steps_per_epoch)`, `steps_per_call` (steps per
  `train` call between log lines; None: up to the next pause), `refinement_occ`
  ((occ_fit, occ_score) for `refine_data`, or (None, None) for its GDEs), and
  `final_occ(kind, features, mask) -> scorer` for the final one-class model, fitted
  on the rows of `features` where `mask` holds (a scorer may add `in_sample(features)`,
  the training rows' scores with the rows it was fitted on scored out of sample).
* optionally `mesh`: features come back as device arrays sharded over its "data"
  axis (padded past the N rows to a multiple of the devices), and refinement runs
  on them there.
* optionally `partition_on_host`: True when refinement's models are host models, so that the
  partition is drawn by NumPy and a new table shape compiles nothing.
* optionally `own_scores(state, x)` and `own_score_name`: a scorer of its own (RotNet's
  rotation classifier) that `final_occ=<own_score_name>` selects.

The first view of `features` is the final OCC's input. Adding a learner family is a
new module with such a class; the loop does not change.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import warnings
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from stoc_jax import metrics, occ, refine, schedule
from stoc_jax.workdir import Workdir

ENSEMBLE = "ensemble"


def first_view(features):
  return features[0] if isinstance(features, (list, tuple)) else features


@dataclasses.dataclass
class Trained:
  """A trained representation, the refined set and the final one-class model."""
  learner: Any
  state: Any
  mask: np.ndarray  # the final refined set (all True without refinement)
  rounds: list  # refinement_record of every round
  gamma: Any  # the gamma used last (Otsu's estimate when gamma is "otsu")
  final_occ: str
  scorer: Any  # callable on features (the final OCC or refinement's ensemble); None: the learner's own
  train_scores: np.ndarray
  total_steps: int
  train_seconds: float
  examples_seen: int
  # The last refinement round's `refine_data` info without its fitted ensemble: `scores` (K, N),
  # `thresholds` (K,), `assignment`, `rejected_by` (N,) and `gamma`; None without refinement.
  last_refinement: dict | None = None

  def features(self, x):
    return self.learner.features(self.state, x)

  def score(self, x) -> np.ndarray:
    """Anomaly scores of new rows: higher = more anomalous."""
    if self.scorer is None:
      return np.asarray(self.learner.own_scores(self.state, x), np.float64)
    features = self.features(x)
    scores = self.scorer(features if self.final_occ == ENSEMBLE else first_view(features))
    return np.asarray(scores, np.float64)[:len(x)]  # a sharded learner's features are padded

  @property
  def examples_per_sec(self):
    return self.examples_seen / self.train_seconds if self.train_seconds else None

  def evaluate(self, x_test, y_test, *, minority_positive: bool) -> dict:
    """The test metrics (`metrics.evaluate`; F1 at the threshold that flags `gamma` of the training
    rows) and what every experiment reports of its training: refinement rounds, gamma, steps, speed."""
    results = metrics.evaluate(y_test, self.score(x_test), train_scores=self.train_scores,
                               contamination=self.gamma, minority_positive=minority_positive)
    results.update({"refinement": self.rounds, "gamma": self.gamma, "train_steps": self.total_steps,
                    "train_images_per_sec": self.examples_per_sec})
    return results


class FixedFeatures:
  """The learner that learns nothing: refinement and the final OCC on the given features (a
  table's scaled columns, or any embedding computed beforehand)."""

  name = "fixed features"
  final_occs = occ.FINAL_OCCS
  steps_per_call = None
  batch_size = 0
  learning_rate_hint = ""

  def __init__(self, refinement_occ: str = "gde"):
    if refinement_occ not in ("gde", "kde"):
      raise ValueError(f"refine.occ must be 'gde' or 'kde', got {refinement_occ!r}.")
    self.refinement_occ = occ.kde_on_rows() if refinement_occ == "kde" else (None, None)

  def steps(self, num_rows):
    return 0, 1

  def init(self, key, x_train):
    return ()

  def features(self, state, x):
    return x

  def final_occ(self, kind, features, mask):
    return occ.FinalOCC(kind, features, mask)


def check_final_occ(learner, final_occ: str):
  names = tuple(learner.final_occs) + (ENSEMBLE,)
  if final_occ not in names:
    raise ValueError(f"final_occ must be one of {names} for this learner; got {final_occ!r}.")


def run_stoc(learner, x_train, config, *, key, gamma, y_train=None, workdir: Workdir | None = None,
             final_occ: str | None = None) -> Trained:
  """Trains `learner` with refinement on `x_train` (unlabeled): a `Trained` model.

  `config` supplies the `refine` block, `checkpoint_every_steps` and (unless given)
  `final_occ`. `gamma` is refinement's resolved gamma (a fraction or "otsu", which
  is re-estimated each round). `y_train` (or None) only measures refinement's
  efficacy in the round records. With `workdir`, each pause saves a checkpoint and a
  rerun resumes from the latest one to the same result.
  """
  final_occ = config.final_occ if final_occ is None else final_occ
  check_final_occ(learner, final_occ)
  refine_cfg = config.refine
  n = len(x_train)
  total, steps_per_epoch = learner.steps(n)
  refine_points, stops = schedule.training_stops(refine_cfg, total, steps_per_epoch,
                                                 config.checkpoint_every_steps)
  state = learner.init(key, x_train)
  mask, rounds, used_gamma = np.ones(n, bool), [], gamma
  if workdir is not None and total > 0:
    state, mask, rounds, used_gamma = workdir.restore_progress(state, n, gamma)
    state = getattr(learner, "place", lambda s: s)(state)  # e.g. replicated over the mesh again
  occ_fit, occ_score = learner.refinement_occ
  partition_on_host = getattr(learner, "partition_on_host", False)
  # Features sharded over several devices are refined where they are.
  mesh = getattr(learner, "mesh", None)
  mesh = mesh if mesh is not None and mesh.devices.size > 1 else None
  last_round = {}

  def refine_round(features, step):
    nonlocal mask, used_gamma
    mask, record, info = refine.configured_round(
        refine_cfg, refine.round_key(key, len(rounds)), features, gamma, y_train=y_train,
        round_index=len(rounds), step=step, occ_fit=occ_fit, occ_score=occ_score, mesh=mesh, num_rows=n,
        partition_on_host=partition_on_host)
    used_gamma = record["gamma"]
    rounds.append(record)
    last_round["info"] = info
    if workdir is not None:
      workdir.log_metrics({"event": "refine", **record})

  step = _restored_step(workdir, total)
  if step == 0 and 0 in refine_points:  # past step 0 a checkpoint holds this round
    refine_round(learner.features(state, x_train), 0)
  bar = tqdm(total=total, initial=step, desc=type(learner).__name__, unit="step", disable=None if total else True)
  seconds, seen = 0.0, 0
  while step < total:
    stop = next(s for s in stops if s > step)
    while step < stop:
      chunk = min(learner.steps_per_call or stop - step, stop - step)
      t0 = time.perf_counter()
      state, metrics = learner.train(state, x_train, mask, key=key, num_steps=chunk, round_index=len(rounds))
      seconds += time.perf_counter() - t0
      seen += chunk * learner.batch_size
      step += chunk
      if not np.isfinite(metrics.get("loss", 0.0)):
        raise FloatingPointError(
            f"the {learner.name} loss became {metrics['loss']} at step {step}; lower the learning rate "
            f"({learner.learning_rate_hint}) or check the inputs for huge values.")
      if workdir is not None:
        workdir.log_metrics({"step": step, **metrics})
      bar.update(chunk)
    if step in refine_points:
      refine_round(learner.features(state, x_train), step)
    if workdir is not None:
      workdir.save(step, {"train": state, "mask": mask}, {"rounds": rounds, "gamma": used_gamma})
  bar.close()

  train_features = learner.features(state, x_train)
  if refine_cfg.enabled:
    refine_round(train_features, total)
  if final_occ == ENSEMBLE:
    if "info" not in last_round:  # no refinement: "Ensemble only", a round-0 ensemble
      with warnings.catch_warnings():  # the ensemble scores every row, kept or not
        warnings.simplefilter("ignore")
        _, info = refine.refine_data(refine.round_key(key, 0), train_features, refine_cfg.num_models,
                                     used_gamma, occ_fit=occ_fit, occ_score=occ_score,
                                     otsu_multiplier=refine_cfg.otsu_multiplier, if_nothing_kept="keep_all",
                                     mesh=mesh, num_rows=n, partition_on_host=partition_on_host)
      used_gamma = info["gamma"]
      last_round["info"] = info
    ensemble = last_round["info"]["ensemble"]
    scorer, train_scores = ensemble, ensemble.normalise(last_round["info"]["scores"])
  elif final_occ == getattr(learner, "own_score_name", None):
    scorer, train_scores = None, np.asarray(learner.own_scores(state, x_train), np.float64)
  else:
    scorer = learner.final_occ(final_occ, first_view(train_features), mask)
    # A scorer that can tells the training rows' scores with its own rows out of sample.
    score_train = getattr(scorer, "in_sample", scorer)
    train_scores = np.asarray(score_train(first_view(train_features)), np.float64)[:n]
  if used_gamma == "otsu":  # no refinement ran: the label-free threshold still needs a fraction
    used_gamma = float(min(max(refine_cfg.otsu_multiplier * occ.otsu_ratio(train_scores), 1.0 / n), 0.5))
  logging.info("%s: %d steps, %d refinement round(s), %d of %d rows kept", learner.name, total,
               len(rounds), int(mask.sum()), n)
  refined = bool(rounds) and "info" in last_round  # not the ensemble that "ensemble only" fits without refining
  last = {k: v for k, v in last_round["info"].items() if k != "ensemble"} if refined else None
  return Trained(learner, state, mask, rounds, used_gamma, final_occ, scorer, train_scores, total,
                 seconds, seen, last)


def _restored_step(workdir, total):
  if workdir is None or total == 0:
    return 0
  return workdir.latest_step() or 0
