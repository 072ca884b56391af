import numpy as np
import pytest

from stoc_jax import metrics


def test_f1_oracle_flags_top_k():
  labels = np.array([0, 0, 0, 1, 1, 0])
  scores = np.array([0.1, 0.9, 0.2, 0.8, 0.3, 0.0])  # top-2 = idx 1 (normal), 3 (anomaly)
  # TP=1, FP=1, FN=1 -> F1 = 0.5
  assert metrics.f1_oracle(labels, scores) == pytest.approx(50.0)


def test_perfect_ranking():
  labels = np.array([0, 0, 1, 1])
  scores = np.array([0.0, 0.1, 0.5, 0.9])
  m = metrics.evaluate(labels, scores, train_scores=np.array([0.0, 0.05, 0.1, 0.4]), contamination=0.3)
  assert m["auc"] == 100.0 and m["ap"] == 100.0 and m["f1_oracle"] == 100.0
  assert m["recall_at_p90"] == 100.0
  assert m["f1"] == 100.0  # threshold between 0.1 and 0.4 catches both anomalies only


def test_ap_minority_positive_uses_normality_for_majority_anomalies():
  rng = np.random.default_rng(0)
  labels = np.array([0] * 10 + [1] * 90)  # normals are the minority, as in CIFAR-10 one-vs-rest
  scores = rng.normal(size=100) + labels
  plain = metrics.average_precision(labels, scores)
  minority = metrics.average_precision(labels, scores, minority_positive=True)
  from sklearn.metrics import average_precision_score
  assert minority == pytest.approx(100 * average_precision_score(1 - labels, -scores))
  assert plain != pytest.approx(minority)


def test_recall_at_precision():
  labels = np.array([1, 1, 0, 1, 0, 0])
  scores = np.array([6, 5, 4, 3, 2, 1], float)
  assert metrics.recall_at_precision(labels, scores, 0.9) == pytest.approx(100 * 2 / 3)
  assert metrics.recall_at_precision(labels, scores, 0.7) == pytest.approx(100.0)


def test_metric_errors_are_clear():
  with pytest.raises(ValueError, match="both"):
    metrics.auc([0, 0], [0.1, 0.2])
  with pytest.raises(ValueError, match="NaN"):
    metrics.auc([0, 1], [np.nan, 0.2])
  with pytest.raises(ValueError, match="contamination"):
    metrics.threshold_from_training([1.0, 2.0], 1.5)
