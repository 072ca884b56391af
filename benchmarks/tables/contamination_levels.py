"""How each detector holds up as the training rows grow more contaminated: the protocol of
run_tables.py with 0, a quarter, half or all of a training split's anomalies left in it.

  python benchmarks/tables/contamination_levels.py --out=benchmarks/tables/contamination_levels.jsonl        # the 15
  python benchmarks/tables/contamination_levels.py --suite=unseen --out=benchmarks/tables/contamination_levels.jsonl
  python benchmarks/tables/contamination_levels.py --suite=mass --out=benchmarks/tables/contamination_levels.jsonl
  python benchmarks/tables/contamination_levels.py --summary benchmarks/tables/contamination_levels.jsonl

Each table is split as run_tables.py splits it (70 / 30, stratified, seed s). The training split
keeps all its normal rows and the first `level` of its anomalies in a random order drawn from s (so
the rows of a quarter are among those of a half); the columns are then min-max scaled by those
training rows, and the test split is the same at every level. At level 1 the rows are run_tables.py's.
Level 0 is the semi-supervised setting, normal rows only: how much a detector loses from it to the
natural contamination is what contamination costs it. The detectors: `STOCDetector()` (`stoc`), the
same without refinement (`stoc_no_refine`: its final model fitted on every training row), and PyOD's
IsolationForest, kNN and ECOD at their defaults; a row's detector is named with its level
(`stoc@0.25`), so report.py compares the detectors at one level. One fit each (run_tables.py times
the fastest of three); a rerun skips the rows already written.
"""

import argparse
import json
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

from benchmarks.tables import report  # noqa: E402
from benchmarks.tables.run_tables import (add_suite_arguments, finished_rows, minmax, pyod_detectors,  # noqa: E402
                                          row_head, run_one, suite_tables, unscaled_split)
from stoc_jax import STOCDetector  # noqa: E402

LEVELS = (0.0, 0.25, 0.5, 1.0)
DETECTORS = ("stoc", "stoc_no_refine", "iforest", "knn", "ecod")


def kept_rows(y_train, seed, level):
  """The training rows a level keeps: every normal row and the first `level` of the anomalies in an
  order drawn from `seed`, so that a lower level's rows are among a higher one's."""
  anomalies = np.random.default_rng(seed).permutation(np.flatnonzero(y_train == 1))
  return np.sort(np.r_[np.flatnonzero(y_train == 0), anomalies[:round(level * len(anomalies))]])


def leveled_split(unscaled, seed, level):
  """A split of run_tables.unscaled_split (drawn with `seed`) with `level` of its training anomalies
  kept, min-max scaled by the rows kept: x_train, x_test, y_train, y_test."""
  x_train, x_test, y_train, y_test = unscaled
  keep = kept_rows(y_train, seed, level)
  return (*minmax(x_train[keep], x_test), y_train[keep], y_test)


def detector_makers():
  pyod = pyod_detectors()
  return {"stoc": lambda seed: STOCDetector(random_state=seed),
          "stoc_no_refine": lambda seed: STOCDetector(refine=False, random_state=seed),
          **{name: pyod[name] for name in ("iforest", "knn", "ecod")}}


def summary(rows):
  """Markdown: each detector's mean AUC and AP at each level, over the tables with rows at every
  level, and what it loses from level 0 to level 1."""
  by = defaultdict(list)
  for r in rows:
    by[(r["detector"].split("@")[0], r["level"], r["table"])].append(r)
  detectors = [d for d in DETECTORS if any(k[0] == d for k in by)]
  tables = sorted({k[2] for k in by if all((d, lv, k[2]) in by for d in detectors for lv in LEVELS)})
  mean = lambda d, lv, key: np.mean([np.mean([r[key] for r in by[(d, lv, t)]]) for t in tables])
  lines = [f"{len(tables)} tables, mean AUC / AP over them (each the mean over its seeds), by the share of the "
           "training split's anomalies kept in it:", "",
           "| detector | " + " | ".join(f"{lv:g}" for lv in LEVELS) + " | lost from 0 to 1, AUC / AP |",
           "|---|" + "---|" * (len(LEVELS) + 1)]
  for d in detectors:
    cells = [f"{mean(d, lv, 'auc'):.1f} / {mean(d, lv, 'ap'):.1f}" for lv in LEVELS]
    lost = f"{mean(d, 0.0, 'auc') - mean(d, 1.0, 'auc'):.1f} / {mean(d, 0.0, 'ap') - mean(d, 1.0, 'ap'):.1f}"
    lines.append(f"| {d} | " + " | ".join(cells) + f" | {lost} |")
  return "\n".join(lines)


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  add_suite_arguments(ap)
  ap.add_argument("--out", default="benchmarks/tables/contamination_levels.jsonl")
  ap.add_argument("--summary", nargs="+", default=None, help="row files: print their summary and stop")
  args = ap.parse_args()
  if args.summary:
    print(summary(report.load(args.summary)))
    return
  makers = detector_makers()
  done = finished_rows(args.out)
  for table, (x, y) in suite_tables(args).items():
    for seed in range(args.seeds):
      unscaled = unscaled_split(x, y, seed)
      for level in LEVELS:
        x_train, x_test, y_train, y_test = leveled_split(unscaled, seed, level)
        for name in DETECTORS:
          detector = f"{name}@{level:g}"
          if (table, seed, detector) in done:
            continue
          # Refinement's precision and recall where there are anomalies to remove.
          row = {**row_head(table, seed, detector, len(x_train), x, y_train), "level": level,
                 **run_one(makers[name], x_train, x_test, y_test, seed, y_train=y_train if y_train.any() else None)}
          with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
      print(f"{table} seed={seed}", flush=True)


if __name__ == "__main__":
  main()
