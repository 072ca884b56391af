"""How the default's final model combines its members (an IsolationForest and the 10-NN distance),
read four ways on the same fits: the mean of their ranks among the fitted rows' scores (the
library's `RankEnsemble`, Edgington's sum of p-values), Fisher's method (the mean of -log p, each
member's empirical p-value among the fitted rows' scores), the larger rank, and the mean of robust
z-scores (median and MAD of the fitted rows' scores: PyOD's standardised average, made robust).

  python benchmarks/tables/combination_rules.py --out=benchmarks/tables/combination_rules.jsonl   # 30 s
  python benchmarks/tables/combination_rules.py --suite=unseen --out=benchmarks/tables/combination_rules_unseen.jsonl
  grep -hv '"detector": "stoc"' benchmarks/tables/rows.jsonl > /tmp/pyod_rows.jsonl
  python benchmarks/tables/report.py /tmp/pyod_rows.jsonl benchmarks/tables/combination_rules.jsonl \
      --detectors=stoc_fisher,iforest,ecod,copod,knn,lof,ocsvm

Splits, scaling and fits as run_tables.py's: `STOCDetector()` is fitted once per split and its
`stoc` rows are `mean_rank`, checked against its own scores; the other rows rescore the same test
rows from the same fitted members. Every row carries the detector name `stoc` or `stoc_<rule>`, and
`seconds`, the one fit and the scoring by every rule (one run; run_tables.py times the detector).
"""

import argparse
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402

from benchmarks.tables.run_tables import add_suite_arguments, row_head, split, suite_tables  # noqa: E402
from stoc_jax import STOCDetector  # noqa: E402
from stoc_jax.table_models import RankEnsemble  # noqa: E402


def fisher(refs, member_scores):
  """The mean over members of -log p, p = (fitted scores at or above s + 1) / (fitted rows + 1), and
  RankEnsemble's growth past the largest fitted score, so rows beyond every fitted row stay apart."""
  out = []
  for ref, s in zip(refs, member_scores):
    at_or_above = len(ref) - np.searchsorted(ref, s, side="left")
    out.append(-np.log((at_or_above + 1) / (len(ref) + 1)) + RankEnsemble.past_largest(ref, s))
  return np.mean(out, axis=0)


def max_rank(refs, member_scores):
  return np.max([RankEnsemble.member_rank(ref, s) for ref, s in zip(refs, member_scores)], axis=0)


def robust_z(refs, member_scores):
  out = []
  for ref, s in zip(refs, member_scores):
    median = np.median(ref)
    mad = 1.4826 * np.median(np.abs(ref - median))
    out.append((s - median) / (mad if mad > 1e-12 else 1.0))
  return np.mean(out, axis=0)


RULES = {"fisher": fisher, "max_rank": max_rank, "robust_z": robust_z}


def scores_by_rule(det, x_test) -> dict:
  """{"stoc": the detector's scores, "stoc_<rule>": the same members combined by that rule}."""
  ensemble = det._model.scorer.model
  if not isinstance(ensemble, RankEnsemble):
    raise ValueError(f"the final model is {type(ensemble).__name__}, not an ensemble; fit the default.")
  features = det.features(x_test)
  members = [m.score(features) for m in ensemble.fitted_]
  scores = {"stoc": np.asarray(det.decision_function(x_test), np.float64)}
  if not np.allclose(scores["stoc"], ensemble.score(features)):
    raise AssertionError("the ensemble read here is not the one the detector scores with.")
  for name, rule in RULES.items():
    scores["stoc_" + name] = rule(ensemble.reference_, members)
  return scores


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  add_suite_arguments(ap)
  ap.add_argument("--out", default="benchmarks/tables/combination_rules.jsonl")
  args = ap.parse_args()
  tables = suite_tables(args)
  with open(args.out, "w") as f:
    for table, (x, y) in tables.items():
      for seed in range(args.seeds):
        x_train, x_test, y_train, y_test = split(x, y, seed)
        with warnings.catch_warnings():
          warnings.simplefilter("ignore")
          t0 = time.perf_counter()
          det = STOCDetector(random_state=seed).fit(x_train)
          by_rule = scores_by_rule(det, x_test)
          seconds = time.perf_counter() - t0
        for name, s in by_rule.items():
          f.write(json.dumps({**row_head(table, seed, name, len(x_train), x, y_train),
                              "auc": 100 * roc_auc_score(y_test, s),
                              "ap": 100 * average_precision_score(y_test, s), "seconds": seconds}) + "\n")
        print(f"{table} seed={seed}", flush=True)


if __name__ == "__main__":
  main()
