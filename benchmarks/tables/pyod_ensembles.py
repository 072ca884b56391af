"""How far the targets are from what PyOD's own detectors reach together: every one of the 63
non-empty subsets of PyOD's six (IsolationForest, ECOD, COPOD, kNN, LOF, OC-SVM), fitted on all the
training rows and combined as the default's final model combines its two (the mean of each
member's rank among its fitted rows' scores), scored on the test rows. No refinement and no
estimate: the best subset in hindsight is a bound on what a fixed ensemble of these models gives on
a suite, refinement aside.

  python benchmarks/tables/pyod_ensembles.py --out=benchmarks/tables/pyod_ensembles.jsonl   # 2 min
  python benchmarks/tables/pyod_ensembles.py --summary benchmarks/tables/pyod_ensembles*.jsonl

Splits and scaling as run_tables.py's, PyOD at its defaults with the same seeds: a subset of one
detector scores by its own decision function, so its rows equal run_tables.py's to the four decimals kept. Rows are named by
their members joined with "+", e.g. "iforest+knn".
"""

import argparse
import itertools
import json
import os
import sys
import warnings
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402

from benchmarks.tables.run_tables import add_suite_arguments, pyod_detectors, split, suite_tables  # noqa: E402
from stoc_jax.table_models import RankEnsemble  # noqa: E402

DETECTORS = ("iforest", "ecod", "copod", "knn", "lof", "ocsvm")


def subsets(names=DETECTORS):
  return [s for k in range(1, len(names) + 1) for s in itertools.combinations(names, k)]


def subset_scores(fitted: dict) -> dict:
  """{subset name: test scores} from {detector: (fit scores, test scores)}."""
  ranks = {d: RankEnsemble.member_rank(np.sort(fit), test) for d, (fit, test) in fitted.items()}
  out = {}
  for s in subsets(tuple(fitted)):
    out["+".join(s)] = fitted[s[0]][1] if len(s) == 1 else np.mean([ranks[d] for d in s], axis=0)
  return out


def summary(paths):
  """Per row file: IsolationForest, the best subset by mean AUC and by mean AP, and how many
  subsets reach AUC at least 1 above IsolationForest's with AP at or above it."""
  for path in paths:
    by = defaultdict(lambda: defaultdict(list))
    for r in map(json.loads, open(path)):
      by[r["detector"]][r["table"]].append((r["auc"], r["ap"]))
    means = {d: np.mean([np.mean(v, axis=0) for v in t.values()], axis=0) for d, t in by.items()}
    tables = len(next(iter(by.values())))
    iforest = means["iforest"]
    best_auc = max(means, key=lambda d: means[d][0])
    best_ap = max(means, key=lambda d: means[d][1])
    meeting = [d for d, m in means.items() if m[0] >= iforest[0] + 1 and m[1] >= iforest[1]]
    print(f"{path} ({tables} tables): iforest {iforest[0]:.1f} / {iforest[1]:.1f}; "
          f"best AUC {best_auc} {means[best_auc][0]:.1f} / {means[best_auc][1]:.1f}; "
          f"best AP {best_ap} {means[best_ap][0]:.1f} / {means[best_ap][1]:.1f}; "
          f"{len(meeting)} of {len(means)} subsets meet both targets"
          + (f" ({', '.join(sorted(meeting, key=lambda d: -means[d][0])[:5])}...)" if meeting else ""))


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  add_suite_arguments(ap)
  ap.add_argument("--out", default="benchmarks/tables/pyod_ensembles.jsonl")
  ap.add_argument("--summary", nargs="+", help="row files to summarise; nothing is run")
  args = ap.parse_args()
  if args.summary:
    return summary(args.summary)
  make = pyod_detectors()
  with open(args.out, "w") as f:
    for table, (x, y) in suite_tables(args).items():
      for seed in range(args.seeds):
        x_train, x_test, y_train, y_test = split(x, y, seed)
        fitted = {}
        with warnings.catch_warnings():
          warnings.simplefilter("ignore")
          for name in DETECTORS:
            det = make[name](seed).fit(x_train)
            fitted[name] = (np.asarray(det.decision_scores_, np.float64),
                            np.asarray(det.decision_function(x_test), np.float64))
        for name, s in subset_scores(fitted).items():
          f.write(json.dumps({"table": table, "seed": seed, "detector": name,
                              "auc": round(100 * roc_auc_score(y_test, s), 4),
                              "ap": round(100 * average_precision_score(y_test, s), 4)}) + "\n")
        print(f"{table} seed={seed}", flush=True)


if __name__ == "__main__":
  main()
