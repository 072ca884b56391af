"""Anomaly scores read as probabilities and confidences, as PyOD's detectors give them.

A score says which rows are more anomalous, not how likely a row is to be an anomaly. Code written
against PyOD calls `predict_proba` and `predict(X, return_confidence=True)`; the detectors answer in
PyOD's terms, from the training rows' scores:

- `linear_probability`: the score min-max scaled over the training rows' scores, clipped to [0, 1]
  (PyOD's `method="linear"`, its default);
- `unified_probability`: Gaussian scaling, max(0, erf((s - mean) / (std * sqrt 2))) with the
  training scores' mean and std (Kriegel et al., "Interpreting and unifying outlier scores",
  SDM 2011; PyOD's `method="unify"`): 0 for a row scored at or below the mean;
- `prediction_confidence`: ExCeeD (Perini et al., "Quantifying the confidence of anomaly detectors
  in their example-wise predictions", ECML PKDD 2020): how surely a row would get the same label were
  the training rows drawn again. A row's rank among the n training scores gives it a Bayesian
  estimate p of its outlier probability, and the confidence that it lies among the n * contamination
  highest is 1 - Binomial(n, p).cdf(n - n * contamination); a row labelled normal gets 1 minus that.
  Lowest at the threshold (where a flagged row's can fall below 0.5: on the README's 316 patients,
  0.37 for the last row flagged and 0.72 for the first not), near 1 far from it.

None of these changes a ranking: a row's probability never falls as its score rises.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats
from sklearn.utils.validation import check_is_fitted

METHODS = ("linear", "unify")


def linear_probability(train_scores, scores) -> np.ndarray:
  """Each score min-max scaled over the training scores, clipped to [0, 1]."""
  train_scores, scores = np.asarray(train_scores, np.float64), np.asarray(scores, np.float64)
  low, high = train_scores.min(), train_scores.max()
  if high == low:  # every training row scored alike: a row is anomalous only beyond that score
    return (scores > high).astype(np.float64)
  return np.clip((scores - low) / (high - low), 0.0, 1.0)


def unified_probability(train_scores, scores) -> np.ndarray:
  """Kriegel et al.'s Gaussian scaling of each score by the training scores' mean and std."""
  train_scores, scores = np.asarray(train_scores, np.float64), np.asarray(scores, np.float64)
  mean, std = train_scores.mean(), train_scores.std()
  if std == 0:
    return (scores > mean).astype(np.float64)
  return np.clip(special.erf((scores - mean) / (std * np.sqrt(2.0))), 0.0, 1.0)


def prediction_confidence(train_scores, scores, contamination: float, threshold: float) -> np.ndarray:
  """ExCeeD's confidence in each row's label (anomaly where its score is above `threshold`)."""
  train_scores, scores = np.asarray(train_scores, np.float64), np.asarray(scores, np.float64)
  n = len(train_scores)
  at_or_below = np.searchsorted(np.sort(train_scores), scores, side="right")
  p = (1.0 + at_or_below) / (2.0 + n)
  # PyOD's int(n * contamination), the training rows the contamination flags, without the off-by-one
  # of float rounding (0.29 * 100 = 28.999999999999996).
  flagged_count = int(n * contamination + 1e-9)
  confident = 1.0 - stats.binom.cdf(n - flagged_count, n, p)
  return np.where(scores > threshold, confident, 1.0 - confident)


class OutlierProbabilityMixin:
  """`predict_proba` and `predict_confidence` for a fitted detector that has `anomaly_score(X)`
  (higher = more anomalous), `decision_scores_` (the training rows' anomaly scores), `threshold_`
  and `contamination_`."""

  def predict_proba(self, X, method: str = "linear", return_confidence: bool = False):
    """(n, 2): the probability of each label, columns in the order of predict's sorted labels:
    [normal, anomaly] under the PyOD convention (labels 0, 1), [anomaly, inlier] under
    scikit-learn's (-1, +1). method: "linear" (min-max over the training scores) or "unify"
    (Kriegel et al. 2011). return_confidence: also `predict_confidence(X)`."""
    if method not in METHODS:
      raise ValueError(f"method must be one of {METHODS}; got {method!r}.")
    check_is_fitted(self, "threshold_")
    scores = self.anomaly_score(X)
    probability = (linear_probability if method == "linear" else unified_probability)(self.decision_scores_, scores)
    columns = (probability, 1.0 - probability) if getattr(self, "convention", "pyod") == "sklearn" \
        else (1.0 - probability, probability)
    proba = np.stack(columns, axis=1)
    if return_confidence:
      return proba, self.score_confidence(scores)
    return proba

  def predict_confidence(self, X) -> np.ndarray:
    """(n,) in [0, 1]: ExCeeD's confidence in each row's label from `predict` (Perini et al. 2020)."""
    check_is_fitted(self, "threshold_")
    return self.score_confidence(self.anomaly_score(X))

  def score_confidence(self, scores) -> np.ndarray:
    """`predict_confidence` of anomaly scores already computed (such as `decision_scores_`), without
    scoring the rows again."""
    check_is_fitted(self, "threshold_")
    return prediction_confidence(self.decision_scores_, scores, self.contamination_, self.threshold_)
