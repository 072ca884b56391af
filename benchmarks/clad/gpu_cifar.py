"""CLAD and the contrastive ResNet-18 + GDE baseline on a CIFAR-10 scenario, on the full data, with as
many epochs as a wall-clock budget allows (at most the paper's 100 a stage): the GPU check of CLAD.

  python benchmarks/clad/gpu_cifar.py --data_dir=DATA --out=OUT [--budget=330] [--scenario=things]
      [--seed=0] [--clad KEY=VALUE ...] [--contrastive KEY=VALUE ...] [--common KEY=VALUE ...]

DATA holds cifar10-jpeg.tar.gz (or the python batches). Both methods train on all of the scenario's
normal training images (20,000 for things) and are scored on the whole test set, the split of
`cifar10_clad.py` at paper scale (Kim et al.: a ResNet-18 classifier, 100 epochs per stage).

The budget is shared as follows. Each method first trains a few steps per stage (`--probe_steps`),
pausing between them so that each stage's second stretch times it after compilation. The compiled
programs stay in a persistent cache under OUT: the main runs find their feature and scoring programs
there, but compile their train steps again, since a step holds its run's step count (the
learning-rate schedule's length). What is left of the budget, less each probe's own time as the
margin for loading, those compilations, feature passes and scoring, goes first to CLAD
(`--clad_share`, up to 100 epochs a stage), the rest to the baseline (DA-contrastive ResNet-18 at
width 1, batch 128, no refinement, a GDE on its features).

OUT receives a workdir per run (clad_probe, clad, contrastive_probe, contrastive) and summary.json.
The KEY=VALUE overrides apply to one method's config, or to both (--common); the tests use them for a
tiny CPU run.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from benchmarks.clad.run import SCENARIOS as ALL_SCENARIOS  # noqa: E402
from experiments.configs import cifar10_clad, cifar10_stoc  # noqa: E402
from stoc_jax import clad_stoc, image_stoc  # noqa: E402
from stoc_jax.compilation_cache import use_persistent_cache  # noqa: E402
from stoc_jax.configs import parse_overrides  # noqa: E402

SCENARIOS = ALL_SCENARIOS["cifar10"]


def clad_config(args):
  c = cifar10_clad.get_config()
  c.normal_classes, c.seed, c.data_dir = SCENARIOS[args.scenario], args.seed, args.data_dir
  c.checkpoint_every_steps = 0
  c.update_from_flattened_dict({**parse_overrides(args.common), **parse_overrides(args.clad)})
  return c


def contrastive_config(args):
  c = cifar10_stoc.get_config()
  c.normal_classes, c.seed, c.data_dir = SCENARIOS[args.scenario], args.seed, args.data_dir
  c.refine.enabled, c.batch_size, c.train_epochs, c.checkpoint_every_steps = False, 128, 0, 0
  c.update_from_flattened_dict({**parse_overrides(args.common), **parse_overrides(args.contrastive)})
  return c


def rows(workdir):
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    return [json.loads(line) for line in f]


def make_out_folder(parser, out: str, runs) -> None:
  """Creates OUT for a GPU check, or stops with a one-line error where it holds one of its `runs`
  already; compiled programs are kept in a persistent cache under it (unless one is set) for the
  main runs and a rerun."""
  if any(os.path.exists(os.path.join(out, name)) for name in runs):
    # Each rerun fits its step counts to the time left, so a half-done folder's configs would differ.
    parser.error(f"{out} already holds a run of this check; give an empty or new --out folder.")
  os.makedirs(out, exist_ok=True)
  use_persistent_cache(os.path.join(out, "jax_cache"))


def probe(pipeline, config, workdir, stages: int, steps: int):
  """Trains `stages` x 2 stretches of `steps`: images/s of each stage's second stretch, the seconds
  taken and the run's results."""
  config = config.copy_and_resolve_references()
  config.train_steps, config.train_epochs, config.checkpoint_every_steps = 2 * stages * steps, 0, steps
  config.max_test_images = config.max_test_images or 1000  # its scores are not the point
  if "stage_fractions" in config:
    config.stage_fractions = (1.0,) * stages
  t0 = time.time()
  results = pipeline.train_and_evaluate(config, workdir)
  timed = [r for r in rows(workdir) if "images_per_sec" in r]
  return [timed[2 * i + 1]["images_per_sec"] for i in range(stages)], time.time() - t0, results


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--data_dir", required=True)
  parser.add_argument("--out", required=True)
  parser.add_argument("--budget", type=float, default=330.0, help="seconds for everything")
  parser.add_argument("--scenario", default="things", choices=tuple(SCENARIOS))
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--probe_steps", type=int, default=20)
  parser.add_argument("--clad_share", type=float, default=0.6)
  parser.add_argument("--max_clad_epochs", type=int, default=100, help="per stage (the paper's 100)")
  for name in ("clad", "contrastive", "common"):
    parser.add_argument(f"--{name}", action="append", default=[], metavar="KEY=VALUE")
  args = parser.parse_args()
  start = time.time()
  make_out_folder(parser, args.out, ("clad_probe", "clad", "contrastive_probe", "contrastive"))

  clad, contrastive = clad_config(args), contrastive_config(args)
  clad_ips, clad_probe_s, clad_probe = probe(clad_stoc, clad, os.path.join(args.out, "clad_probe"), 3,
                                             args.probe_steps)
  con_ips, con_probe_s, _ = probe(image_stoc, contrastive, os.path.join(args.out, "contrastive_probe"), 1,
                                  args.probe_steps)
  n = clad_probe["num_train"]
  train_left = max(args.budget - (time.time() - start) - clad_probe_s - con_probe_s, 0.0)
  clad_epoch_s = sum(n / ips for ips in clad_ips)  # one epoch of each stage
  clad_epochs = max(1, min(args.max_clad_epochs, int(args.clad_share * train_left / clad_epoch_s)))
  con_left = max(train_left - clad_epochs * clad_epoch_s, 0.0)
  con_steps = max(10, int(con_left * con_ips[0] / contrastive.batch_size))
  print(f"CLAD: {clad_epochs} epochs a stage ({', '.join(f'{v:.0f}' for v in clad_ips)} images/s); "
        f"contrastive: {con_steps} steps ({con_ips[0]:.0f} images/s)", flush=True)

  clad.train_epochs, clad.train_steps = 3 * clad_epochs, 0
  contrastive.train_steps = con_steps
  summary = {"scenario": args.scenario, "normal_classes": list(clad.normal_classes), "seed": args.seed,
             "budget_seconds": args.budget}
  for name, pipeline, config, ips in (("clad", clad_stoc, clad, clad_ips),
                                      ("contrastive", image_stoc, contrastive, con_ips)):
    t0 = time.time()
    r = pipeline.train_and_evaluate(config, os.path.join(args.out, name))
    summary[name] = {k: r.get(k) for k in ("auc", "ap", "train_steps", "num_train", "num_test", "odin",
                                           "stage_steps", "train_images_per_sec")}
    summary[name].update({"seconds": time.time() - t0, "probe_images_per_sec": ips,
                          "batch_size": config.batch_size})
  with open(os.path.join(args.out, "clad", "results.json")) as f:  # results.json adds the versions and devices
    summary["environment"] = json.load(f)["environment"]
  summary["clad"]["epochs_per_stage"] = clad_epochs
  summary["contrastive"]["epochs"] = con_steps * contrastive.batch_size / n
  summary["seconds"] = time.time() - start
  with open(os.path.join(args.out, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
  print(json.dumps({k: summary[k] for k in ("scenario", "seconds")}))
  print(f"CLAD AUC {summary['clad']['auc']:.1f} ({clad_epochs} epochs a stage)   contrastive + GDE AUC "
        f"{summary['contrastive']['auc']:.1f} ({summary['contrastive']['epochs']:.1f} epochs)")


if __name__ == "__main__":
  main()
