"""Does a cleaner training set help a one-class model on a table? A model fitted on all training
rows, on the rows STOCDetector's refinement keeps, and on the normal rows alone (which needs the
labels: an oracle), each scoring the test split; with STOCDetector beside them (its defaults, or
the --stoc parameters, which its refinement then uses too).

  python benchmarks/tables/clean_fit_check.py --suite=unseen --tables=http --model=iforest
  python benchmarks/tables/clean_fit_check.py --suite=unseen --tables=http --model=knn \
      --stoc refine_rounds=2 --stoc gamma_factor=1

Splits and scaling as run_tables.py's. One line of AUC / AP per (table, seed, training rows).
"""

import argparse
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402

from benchmarks.tables.run_tables import add_suite_arguments, split, suite_tables  # noqa: E402
from stoc_jax import STOCDetector, table_models  # noqa: E402
from stoc_jax.configs import parse_overrides  # noqa: E402


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  add_suite_arguments(ap)
  ap.add_argument("--model", default="iforest", help=f"one of {', '.join(table_models.NAMES)}")
  ap.add_argument("--n_neighbors", type=int, default=STOCDetector().n_neighbors, help="k of --model=knn")
  ap.add_argument("--stoc", action="append", default=[], help="STOCDetector parameter key=value")
  args = ap.parse_args()
  params = parse_overrides(args.stoc)
  tables = suite_tables(args)
  for table, (x, y) in tables.items():
    for seed in range(args.seeds):
      x_train, x_test, y_train, y_test = split(x, y, seed)
      with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stoc = STOCDetector(random_state=seed, **params).fit(x_train)
        scores = {f"stoc ({', '.join(args.stoc) or 'defaults'})": stoc.decision_function(x_test)}
        for name, rows in (("all rows", np.ones(len(y_train), bool)), ("refined rows", stoc.refined_mask_),
                           ("normal rows (oracle)", y_train == 0)):
          model = table_models.make_model(args.model, seed, args.n_neighbors).fit(x_train[rows])
          scores[f"{args.model} on {name}"] = model.score(x_test)
      kept = int(stoc.refined_mask_[y_train == 1].sum())
      print(f"{table} seed {seed}: refinement kept {kept} of {int(y_train.sum())} training anomalies")
      for name, s in scores.items():
        print(f"  {name:32s} AUC {100 * roc_auc_score(y_test, s):5.1f}  AP {100 * average_precision_score(y_test, s):5.1f}")


if __name__ == "__main__":
  main()
