"""Runs the outlier-exposure benchmark at CPU scale (`cifar10_oe.py:cpu`) and appends one JSON row per
run to rows.jsonl; rows already there are skipped, so an interrupted benchmark resumes.

  python benchmarks/outlier_exposure/run_oe.py --data_dir=../shared/data/images [--only=main,size,blur,contaminated]
  python benchmarks/outlier_exposure/report.py

Groups:
  main          classes 0, 1, 2 x seeds 0, 1, 2: HSC, BCE, Focal, Deep SAD with OE; Deep SVDD without;
  size          class 0, seed 0: HSC and BCE with oe.size 2^0, 2^2, 2^4, 2^7, 2^10 (the full set is main's run);
  blur          class 0, seed 0: HSC and BCE with oe.blur_sigma 0.5, 1, 2, 4 (0 is main's run); BCE on
                seeds 1 and 2 too;
  contaminated  classes 0, 1, 2, seed 0, 10 % of the training images swapped for other classes, no OE
                set: HSC and BCE with refinement (the rejected rows are their OE), Deep SVDD without; the
                split of benchmarks/images (1,000 training images, 2,000 test images of all ten classes).
"""

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from experiments.configs import cifar10_oe  # noqa: E402
from stoc_jax import oe_stoc  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OE_OBJECTIVES = ("hsc", "bce", "focal", "deep_sad")


def runs():
  for normal_class in (0, 1, 2):
    for seed in (0, 1, 2):
      for objective in OE_OBJECTIVES + ("deep_svdd",):
        yield "main", {"normal_class": normal_class, "seed": seed, "objective": objective}
  for size in (1, 4, 16, 128, 1024):
    for objective in ("hsc", "bce"):
      yield "size", {"normal_class": 0, "seed": 0, "objective": objective, "oe.size": size}
  for sigma in (0.5, 1.0, 2.0, 4.0):
    for objective in ("hsc", "bce"):
      yield "blur", {"normal_class": 0, "seed": 0, "objective": objective, "oe.blur_sigma": sigma}
  for seed in (1, 2):  # BCE's blur curve, whose seed-0 run rises once, on two more seeds
    for sigma in (0.5, 1.0, 2.0, 4.0):
      yield "blur", {"normal_class": 0, "seed": seed, "objective": "bce", "oe.blur_sigma": sigma}
  for normal_class in (0, 1, 2):
    for objective in ("hsc", "bce", "deep_svdd"):
      overrides = {"normal_class": normal_class, "seed": 0, "objective": objective, "anomaly_ratio": 0.1,
                   "oe.source": "none", "max_train_images": 1000}
      if objective != "deep_svdd":
        overrides.update({"refine.enabled": True, "refine.schedule_steps": (25, 50, 100, 200)})
      yield "contaminated", overrides


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--data_dir", default="../shared/data/images")
  parser.add_argument("--rows", default=os.path.join(HERE, "rows.jsonl"))
  parser.add_argument("--only", default="main,size,blur,contaminated")
  args = parser.parse_args()
  groups = args.only.split(",")
  done = set()
  if os.path.exists(args.rows):
    with open(args.rows) as f:
      done = {json.dumps([r["group"], r["overrides"]], sort_keys=True) for r in map(json.loads, f)}
  for group, overrides in runs():
    if group not in groups or json.dumps([group, overrides], sort_keys=True) in done:
      continue
    config = cifar10_oe.get_config("cpu")
    config.data_dir = args.data_dir
    config.update_from_flattened_dict(overrides)
    t0 = time.time()
    with tempfile.TemporaryDirectory() as workdir:
      r = oe_stoc.train_and_evaluate(config, workdir)
    row = {"group": group, "overrides": overrides, "auc": r["auc"], "ap": r["ap"], "f1_oracle": r["f1_oracle"],
           "recall_at_p90": r["recall_at_p90"], "oe": r["oe"], "test_anomaly_classes": r["test_anomaly_classes"],
           "num_train": r["num_train"], "num_test": r["num_test"], "train_steps": r["train_steps"],
           "refinement": [{k: rd.get(k) for k in ("step", "kept", "anomalies_removed", "normals_removed")}
                          for rd in r["refinement"]],
           "seconds": time.time() - t0, "date": time.strftime("%Y-%m-%d")}
    with open(args.rows, "a") as f:
      f.write(json.dumps(row, sort_keys=True) + "\n")
    print(group, overrides, f"AUC {r['auc']:.1f} AP {r['ap']:.1f} ({row['seconds']:.0f} s)", flush=True)


if __name__ == "__main__":
  main()
