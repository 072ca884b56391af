"""Tables of benchmarks/clad/rows.jsonl (run_digits.py), in Markdown.

  python benchmarks/clad/report.py > benchmarks/clad/table.md
"""

import json
import os
import sys
from collections import defaultdict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
METHODS = {"clad": "CLAD", "deep_svdd": "Deep SVDD", "contrastive": "contrastive ResNet-18 + GDE", "ocsvm_raw": "OC-SVM, raw pixels",
           "gaussian_raw": "Gaussian, raw pixels", "gmm_raw": "Gaussian mixture (1 per digit), raw pixels"}
SCENARIOS = ("curly", "straight", "mix")


def main():
  path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "rows.jsonl")
  with open(path) as f:
    rows = [json.loads(line) for line in f]
  auc = defaultdict(list)
  sweep = {}
  for r in rows:
    if not r["overrides"]:
      auc[r["method"], r["scenario"]].append(r["auc"])
    else:
      (key, value), = r["overrides"].items()
      sweep[key, value] = r["auc"]
  print("## AUC on the bundled digits, mean ± std over seeds 0-2\n")
  print("| method | " + " | ".join(SCENARIOS) + " |")
  print("|---" * (len(SCENARIOS) + 1) + "|")
  for m, name in METHODS.items():
    cells = [f"{np.mean(v):.1f} ± {np.std(v):.1f}" if (v := auc.get((m, s))) else "—" for s in SCENARIOS]
    print(f"| {name} | " + " | ".join(cells) + " |")
  for key, label in (("num_clusters", "clusters"), ("hidden_dim", "hidden size")):
    values = sorted(v for k, v in sweep if k == key)
    if key == "num_clusters":
      values = sorted(set(values) | {10})
    else:
      values = sorted(set(values) | {100})
    base = [r["auc"] for r in rows if r["method"] == "clad" and r["scenario"] == "curly" and r["seed"] == 0
            and not r["overrides"]]
    cells = [f"{sweep[key, v]:.1f}" if (key, v) in sweep else (f"{base[0]:.1f}" if base else "—") for v in values]
    print(f"\n## CLAD on curly, seed 0, by {label}\n")
    print(f"| {label} | " + " | ".join(str(v) for v in values) + " |")
    print("|---" * (len(values) + 1) + "|")
    print("| AUC | " + " | ".join(cells) + " |")


if __name__ == "__main__":
  main()
