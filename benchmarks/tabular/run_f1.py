"""STOC's Fig. 4 / Table 6 protocol on tables: F1 of GOAD vs. STOC over contamination ratios.

  python benchmarks/tabular/run_f1.py --data_dir=../shared/data/tabular \
      --datasets=thyroid,arrhythmia,kdd,kddrev --seeds=5 --out=benchmarks/tabular/results.jsonl
  python benchmarks/tabular/report.py benchmarks/tabular/results.jsonl > benchmarks/tabular/RESULTS.md

Methods: GOAD (no refinement), STOC (GOAD + refinement on the schedule), STOC with
Otsu's gamma, and raw-feature baselines: GDE, GDE + refinement, OC-SVM, and
scikit-learn's IsolationForest and LOF (OC-SVM and LOF fitted on a seeded sample of
at most 2,000 training rows: they scale quadratically, and KDD has 198,000). Each (dataset, ratio, method, seed) is
one line of JSON; finished lines are skipped on rerun, so the sweep resumes.
A run with other `--variant` or `--set` values is another run.
Seed s uses split seed s and model seed s (one split per seed). `--model_seeds=5` runs the
papers' grid instead: each split s with model seeds 0, ..., 4 (5 splits x 5 seeds = 25 runs a cell);
its (s, s) runs are the one-split-per-seed runs.
"""

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

from stoc_jax import metrics  # noqa: E402
from stoc_jax.configs import parse_overrides  # noqa: E402
from stoc_jax.tabular_stoc import load_split, train_and_evaluate  # noqa: E402
from stoc_jax.workdir import software_environment  # noqa: E402

RATIOS = {
    "thyroid": (0.0, 0.005, 0.01, 0.015, 0.02, 0.025),
    "arrhythmia": (0.0, 0.02, 0.04, 0.06, 0.08, 0.10),
    "kdd": (0.0, 0.02, 0.04, 0.06, 0.08, 0.10),
    "kddrev": (0.0, 0.005, 0.01, 0.015, 0.02, 0.025),
}
DEEP = ("goad", "stoc", "stoc_otsu")
SHALLOW = ("raw_gde", "raw_gde_refine", "raw_ocsvm", "iforest", "lof")


def benchmark_config(dataset, data_dir, ratio, seed, variant="cpu", model_seed=None):
  """The experiment config of `dataset` (its `variant`) at one contamination ratio: split `seed`,
  model seed `model_seed` (default: the split's seed)."""
  module = __import__(f"experiments.configs.{dataset}_stoc", fromlist=["get_config"])
  config = module.get_config(variant)
  config.data_dir, config.anomaly_ratio, config.split.seed = data_dir, ratio, seed
  config.seed = seed if model_seed is None else model_seed
  return config


MAX_KERNEL_ROWS = 2000  # OC-SVM and LOF scale quadratically: fit them on at most this many rows


def run_shallow(config, method):
  from sklearn.ensemble import IsolationForest
  from sklearn.neighbors import LocalOutlierFactor
  from sklearn.svm import OneClassSVM
  data = load_split(config)
  if method in ("iforest", "lof", "raw_ocsvm"):
    x = data.x_train
    if method != "iforest" and len(x) > MAX_KERNEL_ROWS:
      x = x[np.random.default_rng(config.seed).choice(len(x), MAX_KERNEL_ROWS, replace=False)]
    if method == "iforest":
      model = IsolationForest(random_state=config.seed).fit(x)
    elif method == "lof":
      model = LocalOutlierFactor(novelty=True).fit(x)
    else:
      from stoc_jax.occ import rbf_gamma
      model = OneClassSVM(kernel="rbf", gamma=rbf_gamma(x)).fit(x)
    scores = -model.score_samples(data.x_test)
    return {"f1_oracle": metrics.f1_oracle(data.y_test, scores), "auc": metrics.auc(data.y_test, scores),
            "ap": metrics.average_precision(data.y_test, scores)}
  config.representation = "raw"
  config.final_occ = "gde"
  config.refine.enabled = method == "raw_gde_refine"
  with tempfile.TemporaryDirectory() as wd:
    return train_and_evaluate(config, wd)


def run_method(config, method):
  """One benchmark run of `method` (DEEP or SHALLOW) under `config`: the results dict."""
  if method not in DEEP:
    return run_shallow(config, method)
  config.refine.enabled = method != "goad"
  if method == "stoc_otsu":
    config.refine.gamma = "otsu"
  with tempfile.TemporaryDirectory() as wd:
    return train_and_evaluate(config, wd)


def run_key(run, variant, overrides):
  """What makes a row finished: the run and its settings, so one file can hold several settings."""
  return run + (variant, tuple(sorted(overrides)))


def finished_runs(out):
  """The run_keys of the rows already in `out` (none if it does not exist)."""
  if not os.path.exists(out):
    return set()
  with open(out) as f:
    rows = [json.loads(line) for line in f]
  return {run_key((r["dataset"], r["anomaly_ratio"], r["method"], r["seed"], r.get("model_seed", r["seed"])),
                  r.get("variant", "cpu"), r.get("overrides", [])) for r in rows}


def effective_overrides(config, pairs):
  """The `key=value` pairs that change `config`: one that sets a value the config already has is
  left out of the row and its key, so a row says what differed from the config file (Thyroid's
  z-score rows carry standardize_robust=False; KDD's, run by the same command, nothing)."""
  flat = config.to_dict()
  def current(key):
    value = flat
    for part in key.split("."):
      value = value.get(part, KeyError) if isinstance(value, dict) else KeyError
    return value
  as_tuple = lambda v: tuple(v) if isinstance(v, (list, tuple)) else v
  changed = []
  for kv in pairs:
    (key, value), = parse_overrides([kv]).items()
    if as_tuple(current(key)) != as_tuple(value):
      changed.append(kv)
  return changed


def apply_overrides(config, pairs):
  """Applies the `key=value` pairs to `config` and returns the effective ones (what a row records)."""
  overrides = effective_overrides(config, pairs)
  config.update_from_flattened_dict(parse_overrides(overrides))
  return overrides


def append_row(out, run, res, variant, overrides, seconds):
  """Appends one run's line of JSON to `out` (the format report.py reads and resumes from);
  `run` = (dataset, ratio, method, split seed, model seed); with the settings it is the run_key
  by which finished runs are skipped."""
  dataset, ratio, method, seed, model_seed = run
  row = {"dataset": dataset, "anomaly_ratio": ratio, "method": method,
         "seed": seed, "model_seed": model_seed,
         "f1_oracle": res["f1_oracle"], "auc": res["auc"], "ap": res["ap"],
         "f1": res.get("f1"), "refinement": res.get("refinement"),
         **({"scaling_refinement": res["scaling_refinement"]} if res.get("scaling_refinement") else {}),
         "variant": variant, "overrides": overrides, "seconds": seconds,
         "versions": software_environment()["packages"]}
  with open(out, "a") as f:
    f.write(json.dumps(row) + "\n")


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--data_dir", default="../shared/data/tabular")
  ap.add_argument("--datasets", default="thyroid,arrhythmia,kdd,kddrev")
  ap.add_argument("--methods", default=",".join(DEEP + SHALLOW))
  ap.add_argument("--ratios", default="", help="comma-separated; default: the paper's sweep")
  ap.add_argument("--seeds", type=int, default=5, help="run seeds first_seed, ..., seeds - 1")
  ap.add_argument("--first_seed", type=int, default=0, help="to run a range of seeds in parallel jobs")
  ap.add_argument("--model_seeds", type=int, default=0,
                  help="0: model seed = split seed; M: model seeds 0..M-1 on every split (papers: 5)")
  ap.add_argument("--variant", default="cpu", help="config variant: 'cpu' or '' (paper scale)")
  ap.add_argument("--set", action="append", default=[], help="config override key=value (python literal)")
  ap.add_argument("--out", default="benchmarks/tabular/results.jsonl")
  args = ap.parse_args()
  done = finished_runs(args.out)
  for dataset in args.datasets.split(","):
    ratios = [float(r) for r in args.ratios.split(",")] if args.ratios else RATIOS[dataset]
    for ratio in ratios:
      runs = [(seed, model_seed) for seed in range(args.first_seed, args.seeds)
              for model_seed in (range(args.model_seeds) if args.model_seeds else [seed])]
      for seed, model_seed in runs:
        for method in args.methods.split(","):
          run = (dataset, ratio, method, seed, model_seed)
          config = benchmark_config(dataset, args.data_dir, ratio, seed, args.variant, model_seed)
          overrides = apply_overrides(config, args.set)
          if run_key(run, args.variant, overrides) in done:
            continue
          t = time.time()
          res = run_method(config, method)
          append_row(args.out, run, res, args.variant, overrides, time.time() - t)
          print(f"{dataset} r={ratio} {method} split={seed} seed={model_seed}: F1 {res['f1_oracle']:.1f} "
                f"AUC {res['auc']:.1f} ({time.time() - t:.0f}s)", flush=True)


if __name__ == "__main__":
  main()
