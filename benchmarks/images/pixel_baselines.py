"""What a practitioner would otherwise run on an image set: PyOD's detectors, and STOCDetector's table
defaults, on the raw pixels of the CIFAR-10 splits of `cifar10_cpu.jsonl`; and what `stoc-jax detect
--images` runs, STOCDetector with a representation learned on the images (`--representation
rotation`, the default, or `contrastive`) at the command line's defaults, on the same splits.

  pip install -e ".[bench]"   # PyOD
  python benchmarks/images/pixel_baselines.py --data_dir=../shared/data/images \
      --out=benchmarks/images/pixel_baselines.jsonl          # 2 min on 2 cores
  python benchmarks/images/pixel_baselines.py --detectors=stoc_contrastive,stoc_rotation \
      --out=benchmarks/images/pixel_baselines.jsonl          # 32 to 77 min: 70-140 s and 135-370 s a fit
  python benchmarks/images/pixel_baselines.py --detectors=stoc_contrastive_given,stoc_rotation_given \
      --seeds=1 --out=benchmarks/images/pixel_baselines.jsonl          # 11 min
  python benchmarks/images/pixel_baselines.py --report benchmarks/images/pixel_baselines.jsonl \
      benchmarks/images/cifar10_cpu.jsonl

Each split is `cifar10_stoc.py:cpu`'s for that class, contamination and seed (1,000 training images
of which 10 % are other classes, 2,000 test images), built by the same code as the learned runs, so
the rows pair with `cifar10_cpu.jsonl`'s, and AP ranks the normal class, the test set's minority, as
there. Every image is its 3,072 pixel values in [0, 1]; PyOD's
detectors at their defaults, `STOCDetector()` at its table defaults (no learned representation). The
learned representations train for the command line's `--train-steps` (stoc_jax.cli.TRAIN_STEPS), with
the contamination estimated (its default) or given (`_given`: the true 10 %, as section 1's runs).
"""

import argparse
import collections
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

from experiments.configs import cifar10_stoc  # noqa: E402
from stoc_jax import STOCDetector, metrics  # noqa: E402
from stoc_jax.cli import TRAIN_STEPS  # noqa: E402
from stoc_jax.data import images as image_data  # noqa: E402

DETECTORS = ("stoc_table", "iforest", "ecod", "knn", "lof", "ocsvm")
LEARNED = ("stoc_contrastive", "stoc_contrastive_given", "stoc_rotation", "stoc_rotation_given")  # minutes a fit


def make_detector(name, seed, ratio):
  if name == "stoc_table":
    return STOCDetector(random_state=seed)
  if name in LEARNED:
    representation, _, given = name.removeprefix("stoc_").partition("_")
    return STOCDetector(representation=representation, contamination=ratio if given else "auto",
                        train_steps=TRAIN_STEPS, random_state=seed)
  from pyod.models.ecod import ECOD
  from pyod.models.iforest import IForest
  from pyod.models.knn import KNN
  from pyod.models.lof import LOF
  from pyod.models.ocsvm import OCSVM
  return {"iforest": lambda: IForest(random_state=seed), "ecod": ECOD, "knn": KNN, "lof": LOF,
          "ocsvm": OCSVM}[name]()


def cifar_split(data_dir, cls, ratio, seed, data=None):
  """(`cifar10_stoc.py:cpu`'s split for this class, contamination and seed; the decoded CIFAR-10,
  which later calls take as `data` so that the JPEGs are decoded once)."""
  c = cifar10_stoc.get_config("cpu")
  c.data_dir, c.normal_class, c.anomaly_ratio, c.seed = data_dir, cls, ratio, seed
  if data is None:
    data = image_data.load_configured(c)
  split = image_data.limit_split(
      image_data.one_vs_rest_split(data, image_data.normal_classes_of(c), c.anomaly_ratio, seed=seed),
      c.max_train_images, c.max_test_images, seed)
  return split, data


def run(args):
  done = set()
  if os.path.exists(args.out):
    done = {(r["normal_class"], r["seed"], r["method"]) for r in map(json.loads, open(args.out))}
  data = None
  for seed in range(args.seeds):
    for cls in map(int, args.classes.split(",")):
      split, data = cifar_split(args.data_dir, cls, args.ratio, seed, data)
      x_train = split.x_train.reshape(len(split.x_train), -1).astype(np.float32) / 255
      x_test = split.x_test.reshape(len(split.x_test), -1).astype(np.float32) / 255
      for name in args.detectors.split(","):
        if (cls, seed, name) in done:
          continue
        t = time.time()
        learned = name in LEARNED
        det = make_detector(name, seed, args.ratio).fit(split.x_train if learned else x_train)
        scores = det.decision_function(split.x_test if learned else x_test)
        row = {"normal_class": cls, "anomaly_ratio": args.ratio, "seed": seed, "method": name,
               "auc": metrics.auc(split.y_test, scores),
               "ap": metrics.average_precision(split.y_test, scores, minority_positive=True),  # as image_stoc
               "num_train": len(x_train), "train_anomalies": int(split.y_train.sum()), "num_test": len(x_test),
               "seconds": time.time() - t}
        if learned:
          row["train_steps"], row["contamination"] = TRAIN_STEPS, float(det.contamination_)
        print(json.dumps(row), flush=True)
        with open(args.out, "a") as f:
          f.write(json.dumps(row) + "\n")


def report(pixel_rows, learned_rows):
  """Mean AUC / AP per class over the seeds each file holds, pixels beside the learned runs at 10 %."""
  cells = collections.defaultdict(list)  # (method, class) -> [(auc, ap)], one per seed
  pixel = [json.loads(line) for line in open(pixel_rows)]
  for r in pixel:
    cells[(r["method"], r["normal_class"])].append((r["auc"], r["ap"]))
  for r in map(json.loads, open(learned_rows)):
    if r["anomaly_ratio"] == 0.1:
      cells[(f"{r['method']} ({r.get('tag') or 'contrastive'})", r["normal_class"])].append((r["auc"], r["ap"]))
  classes = sorted({r["normal_class"] for r in pixel})
  order = DETECTORS + LEARNED
  methods = sorted({m for m, _ in cells}, key=lambda m: (m not in order, order.index(m) if m in order else m))
  print("| method | " + " | ".join(f"class {c} AUC / AP" for c in classes) + " | mean AUC |")
  print("|---|" + "---|" * (len(classes) + 1))
  for m in methods:
    text, means = [], []
    for c in classes:
      runs = cells.get((m, c))
      if not runs:
        text.append("—")
        continue
      auc, ap = np.mean(runs, axis=0)
      text.append(f"{auc:.1f} / {ap:.1f} (n={len(runs)})")
      means.append(auc)
    print(f"| {m} | " + " | ".join(text) + f" | {np.mean(means):.1f} |")


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--data_dir", default="../shared/data/images")
  ap.add_argument("--classes", default="0,1,2")
  ap.add_argument("--ratio", type=float, default=0.1)
  ap.add_argument("--seeds", type=int, default=3)
  ap.add_argument("--detectors", default=",".join(DETECTORS), help=f"of {DETECTORS + LEARNED}")
  ap.add_argument("--out", default="benchmarks/images/pixel_baselines.jsonl")
  ap.add_argument("--report", nargs=2, metavar=("PIXEL_ROWS", "LEARNED_ROWS"))
  args = ap.parse_args()
  if args.report:
    report(*args.report)
  else:
    run(args)


if __name__ == "__main__":
  main()
