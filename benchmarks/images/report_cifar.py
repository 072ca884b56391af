"""Markdown tables of the CIFAR-10 CPU benchmark (run_cifar.py output), one per setting tag."""

import collections
import json
import sys

import numpy as np

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def main(path):
  rows = [json.loads(l) for l in open(path)]
  for tag in sorted({r.get("tag", "") for r in rows}):
    print(f"\n### {tag or 'contrastive (cifar10_stoc.py:cpu)'}\n")
    table([r for r in rows if r.get("tag", "") == tag])


def table(rows):
  by = collections.defaultdict(dict)
  for r in rows:  # a repeated (class, ratio, method, seed) counts once: the last run
    by[(r["normal_class"], r["anomaly_ratio"], r["method"])][r["seed"]] = r
  classes = sorted({r["normal_class"] for r in rows})
  print("| normal class | baseline 0 % AUC / AP | baseline 10 % AUC / AP | STOC 10 % AUC / AP "
        "| STOC − baseline at 10 %, AUC per seed | share of the 0→10 % AUC drop recovered "
        "| refinement at 10 %: anomalies / normals removed |")
  print("|---|---|---|---|---|---|---|")
  recovered = []
  for c in classes:
    def cell(ratio, method):
      v = list(by.get((c, ratio, method), {}).values())
      if not v:
        return None, "—"
      auc, ap = np.mean([x["auc"] for x in v]), np.mean([x["ap"] for x in v])
      return (auc, ap), f"{auc:.1f} / {ap:.1f} (n={len(v)})"
    b0, s_b0 = cell(0.0, "baseline")
    b10, s_b10 = cell(0.1, "baseline")
    s10, s_s10 = cell(0.1, "stoc")
    base, stoc = by.get((c, 0.1, "baseline"), {}), by.get((c, 0.1, "stoc"), {})
    paired = sorted(set(base) & set(stoc))
    diffs = " / ".join(f"{stoc[k]['auc'] - base[k]['auc']:+.1f}" for k in paired) or "—"
    share = "—"
    if b0 and b10 and s10 and b0[0] > b10[0]:
      frac = (s10[0] - b10[0]) / (b0[0] - b10[0])
      recovered.append(frac)
      share = f"{100 * frac:.0f} %"
    eff = "—"
    if stoc:
      last = [r["refinement"][-1] for r in stoc.values()]
      eff = (f"{100 * np.mean([x['anomalies_removed'] for x in last]):.0f} % / "
             f"{100 * np.mean([x['normals_removed'] for x in last]):.0f} %")
    print(f"| {c} ({CLASSES[c]}) | {s_b0} | {s_b10} | {s_s10} | {diffs} | {share} | {eff} |")
  if recovered:
    print(f"\nMean share of the AUC drop recovered: {100 * np.mean(recovered):.0f} % (paper: 74 %).")


if __name__ == "__main__":
  main(sys.argv[1])
