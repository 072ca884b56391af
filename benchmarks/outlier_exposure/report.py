"""Tables of the outlier-exposure benchmark from rows.jsonl (see run_oe.py), in Markdown.

  python benchmarks/outlier_exposure/report.py [rows.jsonl]

The contaminated section sets beside them the contrastive STOC pipeline's rows of the same splits
(benchmarks/images/cifar10_cpu.jsonl: seed 0, 10 %, 1,000 training and 2,000 test images).
"""

import json
import os
import sys
from collections import defaultdict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES = {0: "airplane", 1: "automobile", 2: "bird"}
NAMES = {"hsc": "HSC", "bce": "BCE", "focal": "Focal", "deep_sad": "Deep SAD", "deep_svdd": "Deep SVDD"}
PAPER = {"deep_svdd": 64.8, "deep_sad": 94.5, "hsc": 95.9, "focal": 95.8, "bce": 96.1}


def load(path):
  with open(path) as f:
    return [json.loads(line) for line in f]


def fmt(values):
  if not values:
    return "—"
  return f"{np.mean(values):.1f} ± {np.std(values):.1f}" if len(values) > 1 else f"{values[0]:.1f}"


def main_table(rows):
  auc = defaultdict(list)
  for r in rows:
    if r["group"] == "main":
      o = r["overrides"]
      auc[o["objective"], o["normal_class"]].append(r["auc"])
  lines = ["| method | OE | " + " | ".join(f"{c} {n}" for c, n in CLASSES.items()) +
           " | mean of the 3 | paper (10 classes) |", "|---|---|---|---|---|---|---|"]
  means = {}
  for objective, name in NAMES.items():
    per_class = [auc[objective, c] for c in CLASSES]
    means[objective] = np.mean([np.mean(v) for v in per_class]) if all(per_class) else float("nan")
    lines.append(f"| {name} | {'no' if objective == 'deep_svdd' else 'yes'} | "
                 + " | ".join(fmt(v) for v in per_class) + f" | {means[objective]:.1f} | {PAPER[objective]} |")
  return "\n".join(lines), means


def sweep(rows, group, key, label):
  """AUC by sweep value; a cell over several seeds is their mean (± std, n)."""
  auc = defaultdict(list)
  for r in rows:
    o = r["overrides"]
    if r["group"] == group:
      auc[o["objective"], o[key]].append((o["seed"], r["auc"]))
  seeds = {o: {s for (obj, _), v in auc.items() if obj == o for s, _ in v} for o in ("hsc", "bce")}
  for r in rows:  # the sweep's origin is main's run of the same class and seed
    o = r["overrides"]
    if (r["group"] == "main" and o["normal_class"] == 0 and o["objective"] in ("hsc", "bce")
        and o["seed"] in seeds[o["objective"]]):
      auc[o["objective"], "full" if key == "oe.size" else 0.0].append((o["seed"], r["auc"]))
  values = sorted({k for _, k in auc if k != "full"}) + (["full"] if key == "oe.size" else [])
  lines = [f"| {label} | " + " | ".join(str(v) for v in values) + " |", "|---" * (len(values) + 1) + "|"]
  for objective in ("hsc", "bce"):
    cells = []
    for v in values:
      runs = [a for _, a in auc.get((objective, v), [])]
      cells.append("—" if not runs else f"{runs[0]:.1f}" if len(runs) == 1 else
                   f"{np.mean(runs):.1f} ± {np.std(runs):.1f} (n={len(runs)})")
    lines.append(f"| {NAMES[objective]} | " + " | ".join(cells) + " |")
  return "\n".join(lines), {k: np.mean([a for _, a in v]) for k, v in auc.items()}


def contaminated(rows):
  auc = defaultdict(dict)
  removed = {}
  for r in rows:
    if r["group"] == "contaminated":
      o = r["overrides"]
      auc[o["normal_class"]][o["objective"]] = (r["auc"], r["ap"])
      if r["refinement"]:
        last = r["refinement"][-1]
        removed[o["normal_class"], o["objective"]] = (last["anomalies_removed"], last["normals_removed"])
  images = os.path.join(HERE, "..", "images", "cifar10_cpu.jsonl")
  for r in load(images) if os.path.exists(images) else []:
    if r.get("tag", "") == "" and r["method"] == "stoc" and r["anomaly_ratio"] == 0.1 and r["seed"] == 0:
      auc[r["normal_class"]]["contrastive_stoc"] = (r["auc"], r["ap"])
  cols = [("hsc", "HSC, OE = rejected rows"), ("bce", "BCE, OE = rejected rows"), ("deep_svdd", "Deep SVDD"),
          ("contrastive_stoc", "contrastive STOC (benchmarks/images)")]
  lines = ["| normal class | " + " | ".join(n for _, n in cols) + " | HSC's last round: anomalies / normals removed |",
           "|---" * (len(cols) + 2) + "|"]
  for c, name in CLASSES.items():
    cells = [f"{auc[c][k][0]:.1f} / {auc[c][k][1]:.1f}" if k in auc[c] else "—" for k, _ in cols]
    rem = removed.get((c, "hsc"))
    rem_cell = f"{100 * rem[0]:.0f} % / {100 * rem[1]:.0f} %" if rem else "—"
    lines.append(f"| {c} {name} | " + " | ".join(cells) + f" | {rem_cell} |")
  return "\n".join(lines)


def main():
  path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "rows.jsonl")
  rows = load(path)
  table, means = main_table(rows)
  print("## Mean AUC over seeds (± std), OE from 4 other CIFAR-10 classes, tested on the other 5\n")
  print(table)
  print(f"\nHSC − Deep SVDD: {means['hsc'] - means['deep_svdd']:+.1f}; BCE − Deep SVDD: "
        f"{means['bce'] - means['deep_svdd']:+.1f} (mean AUC of the three classes)\n")
  size_table, size_auc = sweep(rows, "size", "oe.size", "OE images")
  print("## OE set size (class 0 airplane, seed 0): AUC\n")
  print(size_table)
  if ("hsc", 128) in size_auc and ("hsc", "full") in size_auc:
    print(f"\nHSC with 2^7 OE images − HSC with the full set: {size_auc['hsc', 128] - size_auc['hsc', 'full']:+.1f}")
  blur_table, _ = sweep(rows, "blur", "oe.blur_sigma", "blur σ (pixels)")
  print("\n## Blurred OE (class 0 airplane, the full OE set): AUC, seed 0 (BCE: seeds 0-2)\n")
  print(blur_table)
  print("\n## 10 % contamination, no OE set (seed 0): AUC / AP\n")
  print(contaminated(rows))


if __name__ == "__main__":
  main()
