"""DA-contrastive ResNet-18 at width 1 on CIFAR-10 class 0 at 10 % contamination, without and with
STOC's refinement, in a wall-clock budget: the GPU check of the image pipeline.

  python benchmarks/images/gpu_cifar.py --data_dir=DATA --out=OUT [--budget=480] [--probe_steps=20]
      [--override KEY=VALUE ...]

DATA holds cifar10-jpeg.tar.gz (or the python batches). The budget (default 480 s: 8 minutes on
one GPU) is shared as follows. A probe trains 2 x `--probe_steps` steps, pausing between them, and
times the second stretch (after compilation). What is left of the budget, less a quarter for
compiling, feature passes of all images, refinement and scoring, goes in equal shares to the
baseline (no refinement) and STOC (refinement after 1/8, 1/4 and 1/2 of its steps), at least 10
steps each. All three run in this process, so the two main runs share one compiled train step; the
compiled programs also stay in a persistent cache under OUT (unless one is set already) for a rerun.

OUT receives a workdir per run (probe, baseline, stoc) and summary.json. --override KEY=VALUE applies
to all three runs' config (`experiments/configs/cifar10_stoc.py`); the tests use it for a tiny CPU run.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from benchmarks.clad.gpu_cifar import make_out_folder, probe  # noqa: E402
from experiments.configs import cifar10_stoc  # noqa: E402
from stoc_jax import image_stoc  # noqa: E402
from stoc_jax.configs import parse_overrides  # noqa: E402

RUNS = ("probe", "baseline", "stoc")


def make_config(args):
  c = cifar10_stoc.get_config()
  c.data_dir, c.normal_class, c.anomaly_ratio = args.data_dir, 0, 0.1
  c.model.width, c.objective, c.train_epochs = 1.0, "da_contrastive", 0
  c.compare_baseline, c.checkpoint_every_steps = False, 0
  c.update_from_flattened_dict(parse_overrides(args.override))
  return c


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--data_dir", required=True)
  parser.add_argument("--out", required=True)
  parser.add_argument("--budget", type=float, default=480.0, help="seconds for everything")
  parser.add_argument("--probe_steps", type=int, default=20)
  parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE")
  args = parser.parse_args()
  start = time.time()
  make_out_folder(parser, args.out, RUNS)

  config = make_config(args)
  probe_config = config.copy_and_resolve_references()
  probe_config.refine.enabled = False
  (ips,), _, _ = probe(image_stoc, probe_config, os.path.join(args.out, "probe"), 1, args.probe_steps)
  left = args.budget - (time.time() - start)
  steps = max(int(0.75 * left / 2 * ips / config.batch_size), 10)
  print(f"probe: {ips:.0f} images/s -> {steps} steps per run", flush=True)

  summary = {"train_steps": steps, "images_per_sec": ips, "budget_seconds": args.budget}
  for name in RUNS[1:]:
    c = config.copy_and_resolve_references()
    c.train_steps, c.refine.enabled = steps, name == "stoc"
    c.refine.schedule_steps = (steps // 8, steps // 4, steps // 2)
    t0 = time.time()
    r = image_stoc.train_and_evaluate(c, os.path.join(args.out, name))
    summary[name] = {k: r[k] for k in ("auc", "ap", "f1_oracle", "refinement", "train_images_per_sec")}
    summary[name]["seconds"] = time.time() - t0
  with open(os.path.join(args.out, "stoc", "results.json")) as f:  # results.json adds the versions and devices
    summary["environment"] = json.load(f)["environment"]
  summary["seconds"] = time.time() - start
  with open(os.path.join(args.out, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
  print(json.dumps({k: summary[k] for k in ("train_steps", "images_per_sec", "seconds")}))
  print(f"baseline AUC {summary['baseline']['auc']:.1f}  STOC AUC {summary['stoc']['auc']:.1f}")


if __name__ == "__main__":
  main()
