"""STOC on frozen, pretrained image features: MVTec AD with ImageNet ResNet-18 embeddings.

  python benchmarks/images/mvtec_features.py --data_dir=../shared/data/features \
      --out=benchmarks/images/mvtec_features.jsonl

What a practitioner gets from `STOCDetector` on embeddings of an image folder, and the
papers' "refinement on a fixed representation" (SRR Fig. 10, lower), on real image data at a
size this CPU handles (40-240 training rows of 512 features a category; 1.5 min for all).
Data: ADBench's `mvtec-resnet18-<category>.npz` (every image of a category, y = 1 for a defect).
Split (our interpretation; the papers' MVTec protocol needs the image split, which these
files lack): the tabular protocol of `stoc_jax.data.split`, 50 % of the good images train, a
pool of defects for 10 % contamination held out of the test set, ratio = defects / training rows.
The pool is the same at every ratio, so one split has one test set and the methods pair by run.

Methods: `gde` (STOCDetector(occ="gde", refine=False), the one-class baseline), `stoc` (the
papers' refinement: K = 5 Gaussians, gamma = 2 x the true ratio, 0.5 % at 0 %, and a Gaussian as the
final model), `stoc_auto` (the default STOCDetector(): the estimated contamination, kNN refinement,
the mean rank of an IsolationForest and the kNN distance as the final model), `stoc_embedding`
(the same features given as a representation, STOCDetector(representation=features_as_given): its defaults,
the features as they are, not standardised, and a Gaussian as the final model), with
`gde_embedding` and `gde_embedding_oracle` the same without refinement, on all training rows and
on the good ones,
the peers IsolationForest, LOF and OC-SVM (RBF, the papers' width rule) from scikit-learn, and
`gde_oracle`, a diagnostic that fits the GDE on the training set's good images alone (it reads
the labels): the most any refinement could recover. One JSON line per (category, ratio,
method, seed); finished lines are skipped on rerun. The tables are printed at the end
(benchmarks/images/RESULTS.md, section 3, has them with what they say).
"""

import argparse
import functools
import glob
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

from stoc_jax import STOCDetector, features_as_given, metrics  # noqa: E402
from stoc_jax.data.split import contamination_split  # noqa: E402
from stoc_jax.data.table_file import load_table  # noqa: E402

METHODS = ("gde", "stoc", "stoc_auto", "gde_oracle", "gde_embedding", "stoc_embedding", "gde_embedding_oracle",
           "iforest", "lof", "ocsvm")
EMBEDDING = ("gde_embedding", "stoc_embedding", "gde_embedding_oracle")  # features given as a representation
REFINED = ("stoc", "stoc_auto", "stoc_embedding")  # the STOCDetector methods that refine
POOL_RATIO = 0.10  # defects held out for contamination: enough for the highest ratio


def categories(data_dir):
  paths = sorted(glob.glob(os.path.join(data_dir, "mvtec-resnet18-*.npz")))
  if not paths:
    raise SystemExit(f"no mvtec-resnet18-<category>.npz in {os.path.abspath(data_dir)}; these are "
                     "ADBench's CV_by_ResNet18 files (github.com/Minqi824/ADBench, datasets/CV_by_ResNet18).")
  return {os.path.basename(p)[len("mvtec-resnet18-"):-len(".npz")]: p for p in paths}


def anomaly_scores(method, ratio, seed, x_train, y_train, x_test):
  """Test-set anomaly scores (higher = more anomalous) of one method fitted on x_train."""
  from sklearn.ensemble import IsolationForest
  from sklearn.neighbors import LocalOutlierFactor
  from sklearn.preprocessing import StandardScaler
  from sklearn.svm import OneClassSVM
  from stoc_jax.occ import rbf_gamma
  if method in ("gde", "stoc", "stoc_auto", "gde_oracle") + EMBEDDING:
    if method.endswith("_oracle"):
      x_train = x_train[y_train == 0]
    kwargs = {"refine": method in REFINED, "random_state": seed}
    if method in EMBEDDING:  # a given representation's defaults: unscaled features, a Gaussian at the end
      kwargs["representation"] = features_as_given
    elif method != "stoc_auto":  # the papers' Gaussians, whatever the detector's defaults
      kwargs.update(occ="gde", refine_occ="gde")
    if method == "stoc":  # the papers' one refinement on a fixed representation
      kwargs.update(gamma=2.0 * ratio if ratio > 0 else 0.005, refine_rounds=1)
    det = STOCDetector(**kwargs).fit(x_train)
    return det.decision_function(x_test), det.refined_mask_
  scaler = StandardScaler().fit(x_train)
  xs, xt = scaler.transform(x_train), scaler.transform(x_test)
  if method == "iforest":
    model = IsolationForest(random_state=seed).fit(xs)
  elif method == "lof":
    model = LocalOutlierFactor(novelty=True).fit(xs)
  else:
    model = OneClassSVM(kernel="rbf", gamma=rbf_gamma(xs)).fit(xs)
  return -model.score_samples(xt), None


@functools.lru_cache(maxsize=1)  # runs go category by category: one read per file, not per run
def _features(path):
  x, y, _ = load_table(path, drop_constant=True)  # a few ReLU features are 0 on every image
  return x, y


def run(category, path, ratio, method, seed):
  x, y = _features(path)
  s = contamination_split(x, y, ratio, seed=seed, max_anomaly_ratio=POOL_RATIO)
  t = time.time()
  scores, kept = anomaly_scores(method, ratio, seed, s.x_train, s.y_train, s.x_test)
  row = {"category": category, "anomaly_ratio": ratio, "method": method, "seed": seed,
         "auc": metrics.auc(s.y_test, scores), "ap": metrics.average_precision(s.y_test, scores),
         "f1_oracle": metrics.f1_oracle(s.y_test, scores),
         "num_train": len(s.y_train), "train_anomalies": int(s.y_train.sum()),
         "num_test": len(s.y_test), "test_anomalies": int(s.y_test.sum()), "seconds": time.time() - t}
  if method in REFINED:
    removed = ~kept
    anomalies = s.y_train == 1
    row["anomalies_removed"] = float(removed[anomalies].mean()) if anomalies.any() else None
    row["normals_removed"] = float(removed[~anomalies].mean())
  return row


def report(rows):
  """Mean over categories of the per-category mean over seeds; STOC vs GDE paired by run."""
  def cell(cat, ratio, method, key):
    v = [r[key] for r in rows if (r["category"], r["anomaly_ratio"], r["method"]) == (cat, ratio, method)]
    return np.mean(v) if v else np.nan
  cats = sorted({r["category"] for r in rows})
  ratios = sorted({r["anomaly_ratio"] for r in rows})
  methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
  seeds = sorted({r["seed"] for r in rows})
  print(f"{len(cats)} categories x {len(seeds)} splits; mean over categories of the mean over splits\n")
  for key in ("auc", "ap"):
    print(f"| {key.upper()} | " + " | ".join(methods) + " |")
    print("|---" * (len(methods) + 1) + "|")
    for ratio in ratios:
      vals = [np.nanmean([cell(c, ratio, m, key) for c in cats]) for m in methods]
      print(f"| {100 * ratio:g} % | " + " | ".join(f"{v:.1f}" for v in vals) + " |")
    print()
  by_run = {(r["category"], r["anomaly_ratio"], r["method"], r["seed"]): r for r in rows}
  for ratio in ratios:
    for method in REFINED:
      pairs = [(by_run[(c, ratio, method, s)]["auc"], by_run[(c, ratio, "gde", s)]["auc"])
               for c in cats for s in seeds if (c, ratio, method, s) in by_run and (c, ratio, "gde", s) in by_run]
      if not pairs:
        continue
      d = np.array([a - b for a, b in pairs])
      removed = [(r["anomalies_removed"], r["normals_removed"]) for r in rows
                 if (r["anomaly_ratio"], r["method"]) == (ratio, method) and r.get("anomalies_removed") is not None]
      eff = (f"; removed {100 * np.mean([a for a, _ in removed]):.0f} % of the defects, "
             f"{100 * np.mean([n for _, n in removed]):.0f} % of the good images") if removed else ""
      print(f"{100 * ratio:g} %: {method} - gde AUC {d.mean():+.2f} over {len(d)} runs, "
            f"{(d > 0).sum()} wins / {(d < 0).sum()} losses / {(d == 0).sum()} ties{eff}")
  last = ratios[-1]
  print(f"\nPer category at {100 * last:g} %, AUC:\n")
  print("| category | " + " | ".join(methods) + " |")
  print("|---" * (len(methods) + 1) + "|")
  for c in cats:
    print(f"| {c} | " + " | ".join(f"{cell(c, last, m, 'auc'):.1f}" for m in methods) + " |")


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--data_dir", default="../shared/data/features")
  ap.add_argument("--categories", default="", help="comma-separated; default: every file found")
  ap.add_argument("--ratios", default="0.0,0.05,0.1")
  ap.add_argument("--methods", default=",".join(METHODS))
  ap.add_argument("--seeds", type=int, default=5)
  ap.add_argument("--out", default="benchmarks/images/mvtec_features.jsonl")
  args = ap.parse_args()
  paths = categories(args.data_dir)
  wanted = args.categories.split(",") if args.categories else sorted(paths)
  done = set()
  if os.path.exists(args.out):
    done = {(r["category"], r["anomaly_ratio"], r["method"], r["seed"]) for r in map(json.loads, open(args.out))}
  for category in wanted:
    for ratio in map(float, args.ratios.split(",")):
      for seed in range(args.seeds):
        for method in args.methods.split(","):
          if (category, ratio, method, seed) in done:
            continue
          row = run(category, paths[category], ratio, method, seed)
          with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
          print(f"{category} r={ratio} {method} seed={seed}: AUC {row['auc']:.1f} AP {row['ap']:.1f}", flush=True)
  with open(args.out) as f:
    report([json.loads(line) for line in f])


if __name__ == "__main__":
  main()
