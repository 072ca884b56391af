"""CIFAR-10 at CPU scale: contrastive baseline vs. STOC at 0 % and 10 % contamination.

  python benchmarks/images/run_cifar.py --data_dir=../shared/data/images --classes=0,1,2 \
      --out=benchmarks/images/cifar10_cpu.jsonl
  python benchmarks/images/report_cifar.py benchmarks/images/cifar10_cpu.jsonl

Uses experiments/configs/cifar10_stoc.py:cpu (ResNet-18 width 0.25, 300 steps of 64,
1,000 training images of the normal class, 2,000 test images). One JSON line per
(class, ratio, method, seed); finished lines are skipped on rerun.
"""

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from experiments.configs import cifar10_stoc  # noqa: E402
from stoc_jax import image_stoc  # noqa: E402
from stoc_jax.configs import parse_overrides  # noqa: E402


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--data_dir", default="../shared/data/images")
  ap.add_argument("--classes", default="0,1,2")
  ap.add_argument("--ratios", default="0.0,0.1")
  ap.add_argument("--methods", default="baseline,stoc")
  ap.add_argument("--seeds", type=int, default=1)
  ap.add_argument("--set", action="append", default=[],
                  help="config override key=value (python literal), e.g. objective='rotation'")
  ap.add_argument("--tag", default="", help="names the setting in the output rows (default: the overrides)")
  ap.add_argument("--out", default="benchmarks/images/cifar10_cpu.jsonl")
  args = ap.parse_args()
  done = set()
  if os.path.exists(args.out):
    done = {(r["normal_class"], r["anomaly_ratio"], r["method"], r["seed"], r.get("tag", ""))
            for r in map(json.loads, open(args.out))}
  tag = args.tag or ",".join(args.set)
  overrides = parse_overrides(args.set)
  for seed in range(args.seeds):
    for cls in map(int, args.classes.split(",")):
      for ratio in map(float, args.ratios.split(",")):
        for method in args.methods.split(","):
          if (cls, ratio, method, seed, tag) in done:
            continue
          c = cifar10_stoc.get_config("cpu")
          c.data_dir, c.normal_class, c.anomaly_ratio, c.seed = args.data_dir, cls, ratio, seed
          c.update_from_flattened_dict(overrides)
          c.refine.enabled = method == "stoc"
          t = time.time()
          with tempfile.TemporaryDirectory() as wd:
            r = image_stoc.train_and_evaluate(c, wd)
          row = {"normal_class": cls, "anomaly_ratio": ratio, "method": method, "seed": seed, "tag": tag,
                 **{k: r[k] for k in ("auc", "ap", "recall_at_p70", "recall_at_p90", "refinement",
                                       "train_images_per_sec", "num_train", "num_test", "train_steps")},
                 "seconds": time.time() - t}
          with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
          print(f"class {cls} r={ratio} {method}: AUC {r['auc']:.1f} AP {r['ap']:.1f} "
                f"({time.time() - t:.0f}s)", flush=True)


if __name__ == "__main__":
  main()
