"""What filling missing values costs STOCDetector: values removed at random from the benchmark tables,
then filled with each column's median over the training rows, with and without a 0/1 column per
column saying which values were filled, beside the complete tables.

  python benchmarks/missing_values/missing_values.py --rate=0.05 --out=benchmarks/missing_values/missing_values.jsonl  # 1 min
  python benchmarks/missing_values/missing_values.py --rate=0.2 --out=benchmarks/missing_values/missing_values.jsonl
  python benchmarks/tables/report.py benchmarks/missing_values/missing_values.jsonl \
      --detectors=stoc_complete,stoc_median_5,stoc_median_indicator_5,iforest_median_5

Splits, scaling and seeds as benchmarks/tables/run_tables.py's. Each value of the training and test splits is removed
with probability --rate (missing completely at random, seeded by the split's seed), and scikit-learn's
`SimpleImputer` fitted on the training split fills both, as `load_table(fill_missing=True)` and
`stoc-jax detect --fill-missing` fill a table's numeric columns (`stoc_median_<percent>`); with
`add_indicator=True` (`stoc_median_indicator_<percent>`) a 0/1 column beside each column that missed
values says which. `stoc_complete` is the default detector on the tables as they are; PyOD's
IsolationForest behind the same median fill (`iforest_median_<percent>`) is the baseline's reading
(run_tables.py's `iforest` rows are its reading of the complete tables).
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from benchmarks.tables.run_tables import (add_suite_arguments, finished_rows, row_head, run_one, split,  # noqa: E402
                                          suite_tables)
from stoc_jax import STOCDetector  # noqa: E402


def remove_at_random(x, rate, rng):
  """`x` with each value replaced by NaN with probability `rate`."""
  return np.where(rng.random(x.shape) < rate, np.nan, x)


def variants(rate):
  """{name: make(seed)}: the default detector on the complete table, and behind each fill."""
  from pyod.models.iforest import IForest
  percent = f"{100 * rate:g}"
  filled = lambda indicator, detector: lambda seed: make_pipeline(
      SimpleImputer(strategy="median", add_indicator=indicator), detector(seed))
  stoc = lambda seed: STOCDetector(random_state=seed)
  return {"stoc_complete": stoc, f"stoc_median_{percent}": filled(False, stoc),
          f"stoc_median_indicator_{percent}": filled(True, stoc),
          f"iforest_median_{percent}": filled(False, lambda seed: IForest(random_state=seed))}


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  add_suite_arguments(ap)
  ap.add_argument("--rate", type=float, default=0.05, help="the probability each value is removed")
  ap.add_argument("--out", default="benchmarks/missing_values/missing_values.jsonl")
  args = ap.parse_args()
  done = finished_rows(args.out)
  for table, (x, y) in suite_tables(args).items():
    for seed in range(args.seeds):
      x_train, x_test, y_train, y_test = split(x, y, seed)
      rng = np.random.default_rng(seed)
      holed_train, holed_test = remove_at_random(x_train, args.rate, rng), remove_at_random(x_test, args.rate, rng)
      for name, make in variants(args.rate).items():
        if (table, seed, name) in done:
          continue
        complete = name == "stoc_complete"
        row = {**row_head(table, seed, name, len(x_train), x, y_train),
               **run_one(make, x_train if complete else holed_train, x_test if complete else holed_test, y_test, seed)}
        if not complete:
          row["missing_rate"] = args.rate
        with open(args.out, "a") as f:
          f.write(json.dumps(row) + "\n")
        done.add((table, seed, name))
        print(f"{table} seed={seed} {name}: AUC {row['auc']:.1f} AP {row['ap']:.1f}", flush=True)


if __name__ == "__main__":
  main()
