"""Tables of benchmarks/clad/rows.jsonl (run.py), in Markdown.

  python benchmarks/clad/report.py > benchmarks/clad/table.md
"""

import json
import os
import sys
from collections import defaultdict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
METHODS = {"clad": "CLAD", "deep_svdd": "Deep SVDD", "contrastive": "contrastive ResNet-18 + GDE",
           "ocsvm_raw": "OC-SVM, raw pixels", "gaussian_raw": "Gaussian, raw pixels",
           "gmm_raw": "Gaussian mixture (1 per normal class), raw pixels"}
CONTAMINATED = {"clad": "CLAD, r = 0 %", "clad_r10": "CLAD, r = 10 %",
                "clad_r10_refine": "CLAD, r = 10 %, refinement in front of the clustering"}
SCENARIOS = {"digits": ("curly", "straight", "mix"), "cifar10": ("things", "living")}
TITLES = {"digits": "the bundled digits", "cifar10": "CIFAR-10 at CPU scale (cifar10_clad.py:cpu's split)"}


def cell(values):
  if not values:
    return "—"
  n = f" (n={len(values)})" if len(values) != 3 else ""
  return f"{np.mean(values):.1f} ± {np.std(values):.1f}{n}"


def table(auc, dataset, methods):
  scenarios = SCENARIOS[dataset]
  lines = ["| method | " + " | ".join(scenarios) + " |", "|---" * (len(scenarios) + 1) + "|"]
  for m, name in methods.items():
    if any(auc.get((dataset, m, s)) for s in scenarios):
      lines.append(f"| {name} | " + " | ".join(cell(auc.get((dataset, m, s))) for s in scenarios) + " |")
  return "\n".join(lines)


def main():
  path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "rows.jsonl")
  with open(path) as f:
    rows = [json.loads(line) for line in f]
  auc, sweep = defaultdict(list), {}
  for r in rows:
    dataset = r.get("dataset", "digits")
    if not r["overrides"]:
      auc[dataset, r["method"], r["scenario"]].append(r["auc"])
    else:
      (key, value), = r["overrides"].items()
      sweep[key, value] = r["auc"]
  for dataset in SCENARIOS:
    print(f"## AUC on {TITLES[dataset]}, mean ± std over seeds 0-2\n")
    print(table(auc, dataset, METHODS) + "\n")
  for dataset in SCENARIOS:
    print(f"## Contaminated training data, {TITLES[dataset]}: AUC, mean ± std over seeds 0-2\n")
    print(table(auc, dataset, CONTAMINATED) + "\n")
  base = [r["auc"] for r in rows if r["method"] == "clad" and r["scenario"] == "curly" and r["seed"] == 0
          and not r["overrides"] and r.get("dataset", "digits") == "digits"]
  for key, label, default in (("num_clusters", "clusters", 10), ("hidden_dim", "hidden size", 100)):
    values = sorted({v for k, v in sweep if k == key} | {default})
    cells = [f"{sweep[key, v]:.1f}" if (key, v) in sweep else (f"{base[0]:.1f}" if base else "—") for v in values]
    print(f"## CLAD on curly, seed 0, by {label}\n")
    print(f"| {label} | " + " | ".join(str(v) for v in values) + " |")
    print("|---" * (len(values) + 1) + "|")
    print("| AUC | " + " | ".join(cells) + " |\n")


if __name__ == "__main__":
  main()
