"""Turns results.jsonl of run_f1.py into a markdown table of F1 (mean +- std over seeds)."""

import collections
import json
import sys

import numpy as np

ORDER = ("goad", "stoc", "stoc_otsu", "raw_gde", "raw_gde_refine", "raw_ocsvm", "iforest", "lof")


def main(path):
  rows = [json.loads(l) for l in open(path)]
  # One row per (dataset, ratio, method, seed): a repeated run counts once (the last one).
  latest = {(r["dataset"], r["anomaly_ratio"], r["method"], r["seed"]): r for r in rows}
  cells = collections.defaultdict(list)
  for (dataset, ratio, method, _), r in latest.items():
    cells[(dataset, ratio, method)].append(r["f1_oracle"])
  for dataset in dict.fromkeys(r["dataset"] for r in rows):
    methods = [m for m in ORDER if any(k[0] == dataset and k[2] == m for k in cells)]
    ratios = sorted({k[1] for k in cells if k[0] == dataset})
    print(f"\n### {dataset}: F1 (oracle top-k, 0-100), mean ± std over seeds\n")
    print("| ratio | " + " | ".join(methods) + " |")
    print("|---|" + "---|" * len(methods))
    for ratio in ratios:
      out = []
      for m in methods:
        v = cells.get((dataset, ratio, m))
        out.append(f"{np.mean(v):.1f} ± {np.std(v):.1f} (n={len(v)})" if v else "—")
      print(f"| {100 * ratio:.1f} % | " + " | ".join(out) + " |")


if __name__ == "__main__":
  main(sys.argv[1])
