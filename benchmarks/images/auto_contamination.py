"""What contamination="auto" says of image sets: STOCDetector(representation="contrastive") on
scikit-learn's bundled 8 x 8 digits, one digit normal, 0 %, 5 % and 10 % of the images other digits.

  python benchmarks/images/auto_contamination.py --out=benchmarks/images/auto_contamination.jsonl  # 3 min
  python benchmarks/images/auto_contamination.py --digits=3,4,5,6,7,8,9 \
      --out=benchmarks/images/auto_contamination_3to9.jsonl                                       # 5 min
  python benchmarks/images/auto_contamination.py --digits=0,1,2,3,4,5,6,7,8,9 --representation=rotation \
      --out=benchmarks/images/auto_contamination_rotation.jsonl                                   # 12 min
  python benchmarks/images/auto_contamination.py --digits=0,1,2,3,4,5,6,7,8,9 --representation=rotation \
      --train_steps=300 --out=benchmarks/images/auto_contamination_rotation_300.jsonl             # 7 min

The first three train for STOCDetector's default `train_steps` (512); the last for the command
line's (`stoc-jax detect --train-steps`, 300).

Refinement's gamma on images comes from Otsu's cut on its scores (twice the fraction above the
cut; there are no features before training starts). Each line: the true fraction; `otsu`, that
fraction (the detector's `gamma_` / 2); the detector's `contamination_`, the tables' estimate
(`stoc_jax.contamination`) on the first 8 whitened principal components of the trained
representation's features of the same images (`estimate_components.py` chose them);
`estimate_on_all_features`, the same estimate on every feature; the share of images the detector
flags; with other digits in the set, the AUC of the training images' scores (`decision_scores_`),
which compares the two representations.

Otsu's fraction is not the images' `contamination_` by a rule fixed after digits 0-2 ran and before
digits 3-9 did: the estimate on the features replaces it if, on digits 3-9, it is within 2x of the
truth on more of the 14 contaminated sets and its mean on the 7 clean sets is no higher. It was, on
the runs of 2026-12-05; the runs of 2026-12-07 trained other representations (RESULTS.md, section 4).

  python benchmarks/images/auto_contamination.py --report benchmarks/images/auto_contamination{,_3to9}.jsonl \
      benchmarks/images/auto_contamination_rotation{,_300}.jsonl   # section 4's readings of the rows
"""

import argparse
import json
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402


def images(digit, fraction, seed):
  """The bundled digits as uint8 (N, 8, 8, 1): every image of `digit`, and other digits making up
  `fraction` of the set; labels 1 for the others."""
  from sklearn.datasets import load_digits
  d = load_digits()
  x = np.round(d.images / 16.0 * 255).astype(np.uint8)[..., None]
  normal, others = x[d.target == digit], x[d.target != digit]
  n_anomalies = int(round(fraction * len(normal) / (1 - fraction)))
  picked = np.random.default_rng(seed).choice(len(others), n_anomalies, replace=False)
  return np.concatenate([normal, others[picked]]), np.r_[np.zeros(len(normal)), np.ones(n_anomalies)]


def within_2x(rows, key) -> int:
  """How many of the contaminated sets `key` reads within 2x of their true fraction."""
  return sum(0.5 <= r[key] / r["true"] <= 2 for r in rows if r["true"] > 0)


def report(contrastive_rows, rotation_rows, rotation_300_rows) -> str:
  """Markdown: section 4's readings of the row files (contrastive: digits 0-2 and 3-9 together;
  rotation at the default steps and at 300), by digits 0-2, 3-9 and all ten."""
  from scipy.stats import wilcoxon
  clean_mean = lambda rows, key: 100 * np.mean([r[key] for r in rows if r["true"] == 0])
  auc = lambda rows: [r["train_auc"] for r in rows if r["true"] > 0]  # the contaminated sets
  lines = ["| digits | within 2x, Otsu / every feature / contamination_ (contrastive) | mean on the clean sets, same |"
           " training AUC, rotation / contrastive (sets won by rotation; Wilcoxon p) | contamination_ within 2x, "
           "rotation / contrastive | mean contamination_ on the clean sets, rotation / contrastive |",
           "|---|---|---|---|---|---|"]
  keys = ("otsu", "estimate_on_all_features", "contamination_")
  for name, digits in (("0-2", range(3)), ("3-9", range(3, 10)), ("all 10", range(10))):
    con = [r for r in contrastive_rows if r["digit"] in digits]
    rot = [r for r in rotation_rows if r["digit"] in digits]
    rot_auc, con_auc = auc(rot), auc(con)  # the same sets in the same order: paired by position
    won = sum(a > b for a, b in zip(rot_auc, con_auc))
    p = f"; p = {wilcoxon(rot_auc, con_auc).pvalue:.2g}" if len(rot_auc) > 6 else ""
    lines.append(f"| {name} | {' / '.join(str(within_2x(con, k)) for k in keys)} of {len(con_auc)} | "
                 f"{' / '.join(f'{clean_mean(con, k):.1f}' for k in keys)} % | "
                 f"{np.mean(rot_auc):.1f} / {np.mean(con_auc):.1f} ({won} of {len(rot_auc)}{p}) | "
                 f"{within_2x(rot, 'contamination_')} / {within_2x(con, 'contamination_')} "
                 f"of {len(rot_auc)} | "
                 f"{clean_mean(rot, 'contamination_'):.1f} / {clean_mean(con, 'contamination_'):.1f} % |")
  short, full = auc(rotation_300_rows), auc(rotation_rows)
  lines += ["", f"Rotation at {rotation_300_rows[0].get('train_steps', 300)} steps: training AUC {np.mean(short):.1f} "
            f"against {np.mean(full):.1f} (higher on {sum(a > b for a, b in zip(short, full))} of {len(short)}; "
            f"Wilcoxon p = {wilcoxon(short, full).pvalue:.2g}), contamination_ within 2x on "
            f"{within_2x(rotation_300_rows, 'contamination_')} of {len(short)}, "
            f"{clean_mean(rotation_300_rows, 'contamination_'):.1f} % on the clean sets on average."]
  return "\n".join(lines)


def main():
  from stoc_jax import STOCDetector, metrics
  from stoc_jax import column_scaling, contamination
  ap = argparse.ArgumentParser()
  ap.add_argument("--out", default="benchmarks/images/auto_contamination.jsonl")
  ap.add_argument("--digits", default="0,1,2")
  ap.add_argument("--fractions", default="0,0.05,0.1")
  ap.add_argument("--representation", default="contrastive", choices=("contrastive", "rotation"))
  ap.add_argument("--train_steps", type=int, default=None, help="default: STOCDetector's")
  ap.add_argument("--report", nargs=4, metavar=("CONTRASTIVE_0TO2", "CONTRASTIVE_3TO9", "ROTATION", "ROTATION_300"),
                  help="print section 4's readings of these row files, and run nothing")
  args = ap.parse_args()
  if args.report:
    load = lambda path: [json.loads(line) for line in open(path)]
    c02, c39, rot, rot300 = map(load, args.report)
    print(report(c02 + c39, rot, rot300))
    return
  warnings.filterwarnings("ignore")
  rows = []
  with open(args.out, "w") as f:
    for digit in map(int, args.digits.split(",")):
      for fraction in map(float, args.fractions.split(",")):
        x, y = images(digit, fraction, seed=digit)
        steps = {} if args.train_steps is None else {"train_steps": args.train_steps}
        det = STOCDetector(representation=args.representation, random_state=0, **steps).fit(x)
        feats = det.features(x)
        row = {"digit": digit, "images": len(x), "true": float(y.mean()), "otsu": float(det.gamma_) / 2,
               "contamination_": det.contamination_,
               "estimate_on_all_features": contamination.estimate_contamination(column_scaling.standardize(feats)[0]),
               "flagged": float(det.labels_.mean()),
               "anomalies_flagged": float(det.labels_[y == 1].mean()) if y.any() else None,
               "representation": args.representation, "train_steps": det.train_steps,
               "train_auc": metrics.auc(y, det.decision_scores_) if y.any() else None}
        rows.append(row)
        f.write(json.dumps(row) + "\n")
        print(row, flush=True)
  print("\n| digit | images | true | Otsu's fraction | contamination_ | the estimate on all features | flagged |")
  print("|---|---|---|---|---|---|---|")
  for r in rows:
    print(f"| {r['digit']} | {r['images']} | {100 * r['true']:.1f} % | {100 * r['otsu']:.1f} % | "
          f"{100 * r['contamination_']:.1f} % | {100 * r['estimate_on_all_features']:.1f} % | "
          f"{100 * r['flagged']:.1f} % |")
  within = lambda key: within_2x(rows, key)
  clean = [r for r in rows if r["true"] == 0]
  keys = {"otsu": "Otsu", "contamination_": "contamination_", "estimate_on_all_features": "on all features"}
  print(f"\nwithin 2x on {sum(r['true'] > 0 for r in rows)} contaminated sets: "
        + ", ".join(f"{name} {within(key)}" for key, name in keys.items())
        + f"; mean on {len(clean)} clean sets: "
        + ", ".join(f"{name} {100 * np.mean([r[key] for r in clean]):.1f} %" for key, name in keys.items()))
  print(f"training AUC on the contaminated sets: {np.mean([r['train_auc'] for r in rows if r['true'] > 0]):.1f}")


if __name__ == "__main__":
  main()
