"""Where STOCDetector's gap on tables lies: its final model without refinement, with refinement at
the true anomaly fraction (γ = the truth, and the contamination given as the truth, γ = 2x it), and
fitted on the normal rows alone (the ceiling of a perfect refinement), beside the defaults. The last
three read the training labels: oracles, not detectors.

  python benchmarks/tables/ceilings.py --out=benchmarks/tables/ceilings.jsonl                  # 1 min
  python benchmarks/tables/ceilings.py --suite=unseen --out=benchmarks/tables/ceilings_unseen.jsonl
  python benchmarks/tables/report.py benchmarks/tables/ceilings.jsonl benchmarks/tables/rows.jsonl \
      --detectors=stoc_no_refine,stoc_default,stoc_true_gamma,stoc_given_contamination,stoc_normal_rows,iforest,knn

Splits, scaling and rows as run_tables.py's (`stoc_default` is its `stoc`, refitted: the same
seeds give the same scores). Rows that refine also carry refinement's precision (the fraction of
the rows it removes that are anomalies) and recall (the fraction of the training anomalies it
removes); the script ends with their means.
"""

import argparse
import json
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

from benchmarks.tables.run_tables import add_suite_arguments, row_head, run_one, split, suite_tables  # noqa: E402
from stoc_jax import STOCDetector  # noqa: E402


def variants(y_train):
  """{name: (make(seed), rows of the training split it is fitted on)}."""
  every, normal = np.ones(len(y_train), bool), y_train == 0
  truth = float(y_train.mean())
  return {"stoc_no_refine": (lambda seed: STOCDetector(refine=False, random_state=seed), every),
          "stoc_default": (lambda seed: STOCDetector(random_state=seed), every),
          "stoc_true_gamma": (lambda seed: STOCDetector(gamma=truth, random_state=seed), every),
          # What a user who knows the fraction gets: the threshold at it, and the papers' gamma = 2 x it.
          "stoc_given_contamination": (lambda seed: STOCDetector(contamination=truth, random_state=seed), every),
          "stoc_normal_rows": (lambda seed: STOCDetector(refine=False, random_state=seed), normal)}


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  add_suite_arguments(ap)
  ap.add_argument("--out", default="benchmarks/tables/ceilings.jsonl")
  args = ap.parse_args()
  tables = suite_tables(args)
  stats = defaultdict(list)
  with open(args.out, "w") as f:
    for table, (x, y) in tables.items():
      for seed in range(args.seeds):
        x_train, x_test, y_train, y_test = split(x, y, seed)
        for name, (make, rows) in variants(y_train).items():
          row = {**row_head(table, seed, name, int(rows.sum()), x, y_train),
                 **run_one(make, x_train[rows], x_test, y_test, seed, y_train=y_train[rows])}
          if "refinement_precision" in row:
            stats[name].append((row["refinement_precision"], row["refinement_recall"]))
          f.write(json.dumps(row) + "\n")
        print(f"{table} seed={seed}", flush=True)
  for name, values in stats.items():
    precision, recall = np.mean(values, axis=0)
    print(f"{name}: refinement precision {precision:.3f}, recall {recall:.3f} (mean over tables and seeds)")


if __name__ == "__main__":
  main()
