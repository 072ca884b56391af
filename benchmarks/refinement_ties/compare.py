"""Paired runs of two rules (run_rule.py's rows): per cell, mean F1 and AUC under each, and the runs
whose refinement kept other rows."""

import json
import sys
from collections import defaultdict

import numpy as np


def load(path):
  with open(path) as f:
    return {(r["dataset"], r["anomaly_ratio"], r["seed"]): r for r in map(json.loads, f)}


def main(a_path, b_path):
  a, b = load(a_path), load(b_path)
  cells = defaultdict(list)
  for key in sorted(set(a) & set(b)):
    ra, rb = a[key], b[key]
    kept_a, kept_b = [x["kept"] for x in ra["refinement"]], [x["kept"] for x in rb["refinement"]]
    cells[key[:2]].append((ra["f1_oracle"], rb["f1_oracle"], ra["auc"], rb["auc"],
                           max((abs(x - y) for x, y in zip(kept_a, kept_b)), default=0)))
  print("| data set | ratio | runs | F1 (first / second) | AUC (first / second) | runs keeping other rows | most rows apart |")
  print("|---|---|---|---|---|---|---|")
  for (dataset, ratio), rows in cells.items():
    v = np.array(rows, float)
    print(f"| {dataset} | {ratio} | {len(v)} | {v[:, 0].mean():.2f} / {v[:, 1].mean():.2f} | "
          f"{v[:, 2].mean():.2f} / {v[:, 3].mean():.2f} | {int((v[:, 4] > 0).sum())} | {int(v[:, 4].max())} |")


if __name__ == "__main__":
  main(*sys.argv[1:3])
