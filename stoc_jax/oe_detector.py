"""Outlier exposure as a scikit-learn-style image detector.

    from stoc_jax.oe_detector import OEDetector
    det = OEDetector(objective="hsc").fit(X, X_oe)   # X: (N, H, W, C) images of the normal class,
                                                     # X_oe: a few hundred images that are not
    det.decision_function(X_new)                     # higher = more anomalous
    det.predict(X_new)                               # 1 = anomaly, 0 = normal
    det.predict_proba(X_new)                         # [P(normal), P(anomaly)], as PyOD's

Without `X_oe`, HSC / BCE / Focal / Deep SAD take as OE the training images that STOC's refinement
rejects (X may then be contaminated: `contamination` is the fraction refinement removes, as gamma);
`objective="deep_svdd"` needs no OE. The network is the LeNet of Ruff et al. (2021), its MNIST size
for images smaller than 32 pixels and its CIFAR-10 size otherwise. A fitted detector pickles.
"""

from __future__ import annotations

import dataclasses
import numbers

import jax
import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils.validation import check_is_fitted

from stoc_jax import configs, lenet, loop, oe_learner, oe_objectives
from stoc_jax.data import outlier_exposure
from stoc_jax.contamination import percent_hint
from stoc_jax.detector import CHECKPOINT_STEPS, _as_uint8_images, check_image_shape, check_random_state, image_stack
from stoc_jax.outlier_probability import OutlierProbabilityMixin
from stoc_jax.sharding import make_mesh
from stoc_jax.workdir import open_for_fit


def _images(X, name="X"):
  X = image_stack(X, name)
  if X.ndim == 3:
    X = X[..., None]
  if X.ndim != 4 or len(X) < 2:
    raise ValueError(f"{name} must be a stack of at least 2 images, (N, H, W) or (N, H, W, C); got shape {X.shape}.")
  return _as_uint8_images(X)


class OEDetector(OutlierProbabilityMixin, OutlierMixin, BaseEstimator):
  """HSC, BCE, Focal, Deep SAD or Deep SVDD (Ruff et al. 2021) on the STOC loop.

  objective : "hsc" (default), "bce", "focal", "deep_sad" or "deep_svdd".
  contamination : the fraction of training images flagged by `labels_` / `predict`, and refinement's
    gamma when refinement runs.
  refine : None (refine when there is no X_oe and the objective uses OE), True or False.
  train_steps, batch_size, learning_rate : the training budget (batch_size normal + batch_size OE
    images a step), Adam with the paper's two milestones.
  random_state : the seed of the network, the batches and refinement.
  workdir : a folder (or gs:// URL) for checkpoints of the training, every 50 steps and at each
    refinement: the same fit again resumes an interrupted one there, and a fit on other images,
    settings or seed is refused.
  """

  def __init__(self, objective="hsc", contamination=0.1, refine=None, train_steps=400, batch_size=64,
               learning_rate=1e-3, random_state=0, workdir=None):
    self.objective = objective
    self.contamination = contamination
    self.refine = refine
    self.train_steps = train_steps
    self.batch_size = batch_size
    self.learning_rate = learning_rate
    self.random_state = random_state
    self.workdir = workdir

  def _config(self, X, has_oe):
    if self.objective not in oe_objectives.OBJECTIVES:
      raise ValueError(f"objective must be one of {oe_objectives.OBJECTIVES}; got {self.objective!r}.")
    for name in ("train_steps", "batch_size"):
      value = getattr(self, name)
      if not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    if not isinstance(self.learning_rate, numbers.Real) or not self.learning_rate > 0:
      raise ValueError(f"learning_rate must be a positive number; got {self.learning_rate!r}.")
    check_random_state(self.random_state)
    if self.refine not in (None, True, False):
      raise ValueError(f"refine must be None (refine when there is no X_oe), True or False; got {self.refine!r}.")
    if not isinstance(self.contamination, numbers.Real) or not 0.0 < self.contamination <= 0.5:
      raise ValueError(f"contamination must be a fraction in (0, 0.5]; got {self.contamination!r}"
                       f"{percent_hint(self.contamination)}.")
    c = configs.outlier_exposure_defaults()
    c.objective, c.seed, c.train_epochs, c.train_steps = self.objective, int(self.random_state), 0, int(self.train_steps)
    c.optimizer.learning_rate = float(self.learning_rate)
    h = X.shape[1]
    c.model.conv_channels, c.model.fc_units = lenet.MNIST if h < 32 else lenet.CIFAR10
    c.augment.crop_padding, c.augment.hflip = (1, False) if h < 32 else (4, True)
    devices = make_mesh().devices.size
    batch = max(devices, min(int(self.batch_size), len(X)) // devices * devices)
    c.batch_size = c.oe.batch_size = batch
    refine = self.refine if self.refine is not None else (not has_oe and self.objective in oe_objectives.USES_OE)
    if not has_oe and not refine and self.objective in oe_objectives.USES_OE:
      raise ValueError(f"objective {self.objective!r} needs outlier exposure: pass X_oe, or refine=True to "
                       "take the images refinement rejects as OE, or objective='deep_svdd'.")
    c.refine.enabled = bool(refine)
    c.refine.gamma = float(self.contamination)
    steps = int(self.train_steps)
    c.refine.schedule_steps = tuple(sorted({s for s in (steps // 16, steps // 8, steps // 4, steps // 2) if s > 0}))
    c.checkpoint_every_steps = CHECKPOINT_STEPS if self.workdir is not None else 0
    return c

  def fit(self, X, X_oe=None, y=None):
    X = _images(X)
    x_oe = None
    if X_oe is not None:
      x_oe = outlier_exposure.fit_to(_images(X_oe, "X_oe"), X.shape[1:], "X_oe")
    config = self._config(X, x_oe is not None)
    learner = oe_learner.OELearner(config, X.shape[1:], make_mesh(), x_oe)
    gamma = config.refine.gamma
    arrays = {"data": X, **({"oe": x_oe} if x_oe is not None else {})}
    with open_for_fit(self.workdir, config, arrays, self.random_state, gamma) as workdir:
      self._model = loop.run_stoc(learner, X, config, key=jax.random.key(config.seed), gamma=gamma,
                                  workdir=workdir)
    self.decision_scores_ = self._model.train_scores
    self.refined_mask_ = self._model.mask
    self.contamination_ = float(self.contamination)
    self.threshold_ = float(np.quantile(self.decision_scores_, 1.0 - self.contamination_))
    self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)
    self.n_features_in_ = int(np.prod(X.shape[1:]))
    self.image_shape_ = X.shape[1:]
    return self

  def anomaly_score(self, X):
    """The objective's anomaly score: higher = more anomalous."""
    check_is_fitted(self, "threshold_")
    X = _images(X)
    check_image_shape(X, self.image_shape_)
    return self._model.score(X)

  def decision_function(self, X):
    """The objective's anomaly score: higher = more anomalous (PyOD's convention)."""
    return self.anomaly_score(X)

  def predict(self, X, return_confidence=False):
    """1 = anomaly (score above threshold_), 0 = normal; return_confidence: also each label's
    confidence (`predict_confidence`)."""
    scores = self.anomaly_score(X)
    labels = (scores > self.threshold_).astype(int)
    return (labels, self.score_confidence(scores)) if return_confidence else labels

  def __getstate__(self):
    state = self.__dict__.copy()
    if "_model" in state:
      model = state["_model"]
      state["_model"] = dataclasses.replace(model, state=model.learner.export_state(model.state))
    return state

  def __setstate__(self, state):
    if state.get("_model") is not None:
      model = state["_model"]
      state["_model"] = dataclasses.replace(model, state=model.learner.import_state(model.state))
    self.__dict__.update(state)
