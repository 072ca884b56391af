"""Anomaly-detection metrics (scores: higher = more anomalous; labels: 1 = anomaly).

AUC and AP come from scikit-learn. Reported on the papers' 0-100 scale.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm


def _check(labels, scores):
  labels = np.asarray(labels).astype(int).ravel()
  scores = np.asarray(scores, np.float64).ravel()
  if labels.shape != scores.shape:
    raise ValueError(f"labels {labels.shape} and scores {scores.shape} differ in length.")
  if not np.isin(labels, (0, 1)).all():
    raise ValueError("labels must be 0 (normal) or 1 (anomaly).")
  if labels.min() == labels.max():
    raise ValueError("metrics need both normal and anomalous test samples.")
  if not np.isfinite(scores).all():
    raise ValueError("scores contain NaN or infinite values.")
  return labels, scores


def auc(labels, scores) -> float:
  labels, scores = _check(labels, scores)
  return 100.0 * skm.roc_auc_score(labels, scores)


def average_precision(labels, scores, minority_positive: bool = False) -> float:
  """AP with anomalies as positives, or with the test set's minority class as positive.

  The image papers report AP with the minority class as label 1 (on CIFAR-10
  one-vs-rest the normal class is the minority): then normality scores rank it.
  """
  labels, scores = _check(labels, scores)
  if minority_positive and labels.mean() > 0.5:
    labels, scores = 1 - labels, -scores
  return 100.0 * skm.average_precision_score(labels, scores)


def f1_at_threshold(labels, scores, threshold: float) -> float:
  """F1 (anomaly = positive) when flagging scores >= threshold."""
  labels, scores = _check(labels, scores)
  return 100.0 * skm.f1_score(labels, scores >= threshold, zero_division=0.0)


def f1_oracle(labels, scores) -> float:
  """F1 of GOAD / DAGMM: flag the top-k scores, k = number of test anomalies.

  Uses the test labels to pick k, so it measures ranking, not a deployable threshold.
  """
  labels, scores = _check(labels, scores)
  k = int(labels.sum())
  flagged = np.zeros_like(labels)
  flagged[np.argsort(-scores, kind="stable")[:k]] = 1
  return 100.0 * skm.f1_score(labels, flagged)


def recall_at_precision(labels, scores, precision: float, minority_positive: bool = False) -> float:
  """Largest recall reachable at precision >= `precision` (a fraction, e.g. 0.9)."""
  labels, scores = _check(labels, scores)
  if minority_positive and labels.mean() > 0.5:
    labels, scores = 1 - labels, -scores
  prec, rec, _ = skm.precision_recall_curve(labels, scores)
  ok = prec >= precision
  return 100.0 * float(rec[ok].max()) if ok.any() else 0.0


def threshold_from_training(train_scores, contamination: float) -> float:
  """The label-free threshold: the score above which a `contamination` fraction of training scores lie."""
  if not 0.0 < contamination < 1.0:
    raise ValueError(f"contamination must lie in (0, 1), got {contamination}.")
  return float(np.quantile(np.asarray(train_scores, np.float64), 1.0 - contamination))


def evaluate(labels, scores, train_scores=None, contamination: float | None = None,
             minority_positive: bool = False) -> dict:
  """All metrics in one dict (0-100). `f1` needs train_scores and contamination."""
  out = {
      "auc": auc(labels, scores),
      "ap": average_precision(labels, scores, minority_positive),
      "f1_oracle": f1_oracle(labels, scores),
      "recall_at_p70": recall_at_precision(labels, scores, 0.7, minority_positive),
      "recall_at_p90": recall_at_precision(labels, scores, 0.9, minority_positive),
  }
  if train_scores is not None and contamination is not None:
    threshold = threshold_from_training(train_scores, contamination)
    out["f1"] = f1_at_threshold(labels, scores, threshold)
    out["threshold"] = threshold
  return out
