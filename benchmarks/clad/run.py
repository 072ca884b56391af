"""CLAD and one-class baselines on latent multi-class scenarios; one JSON row per run appended to
rows.jsonl (rows already there are skipped).

  python benchmarks/clad/run.py [--dataset=digits] [--only=clad,deep_svdd,contrastive,raw,sweep,contaminated]
  python benchmarks/clad/run.py --dataset=cifar10 --data_dir=../shared/data/images

Scenarios (Kim et al.): on scikit-learn's 8x8 digits (MNIST cannot be had offline) curly {0, 3, 8},
straight {1, 4, 7}, mix {2, 5, 6, 9}; on CIFAR-10 things {0, 1, 8, 9} and living {2, ..., 7}. Every
other class is an anomaly; seeds 0-2 (the seed sets the split and the models). Every method of a
scenario and seed sees the same split (each row records a digest of its test images and labels).
  clad         digits_clad.py / cifar10_clad.py:cpu as committed;
  deep_svdd    digits_oe.py / cifar10_oe.py:cpu with objective=deep_svdd and no OE;
  contrastive  digits_stoc.py / cifar10_stoc.py:cpu without refinement: the contrastive ResNet-18 + GDE;
  raw          on raw pixels: OC-SVM (RBF, gamma="scale", nu=0.1), one Gaussian (OAS shrinkage), and a
               Gaussian mixture with one component per normal class (on CIFAR-10 the Gaussians see the
               first 100 principal components of the training pixels);
  sweep        CLAD on curly, seed 0: num_clusters 2-20 and hidden_dim 10-100 (digits only);
  contaminated CLAD with anomaly_ratio 0.1, with and without STOC's refinement in front of the
               clustering (gamma "auto" = 0.2).
"""

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


import hashlib  # noqa: E402

import numpy as np  # noqa: E402

from experiments.configs import cifar10_clad, cifar10_oe, cifar10_stoc, digits_clad, digits_oe, digits_stoc  # noqa: E402
from stoc_jax import clad_stoc, image_stoc, metrics, oe_stoc  # noqa: E402
from stoc_jax.data import images  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = {
    "digits": {"curly": (0, 3, 8), "straight": (1, 4, 7), "mix": (2, 5, 6, 9)},
    "cifar10": {"things": (0, 1, 8, 9), "living": (2, 3, 4, 5, 6, 7)},
}
CONFIGS = {  # (module, variant) of each method's config
    "digits": {"clad": (digits_clad, ""), "deep_svdd": (digits_oe, ""), "contrastive": (digits_stoc, "")},
    "cifar10": {"clad": (cifar10_clad, "cpu"), "deep_svdd": (cifar10_oe, "cpu"), "contrastive": (cifar10_stoc, "cpu")},
}


def make_config(dataset, group, scenario, seed, data_dir, scale="cpu"):
  """`scale="paper"` (CIFAR-10): the configs at their defaults, on all of the scenario's images."""
  module, variant = CONFIGS[dataset]["clad" if group.startswith("clad") else group]
  paper = scale == "paper" and dataset == "cifar10"
  config = module.get_config(variant) if variant and not paper else module.get_config()
  config.normal_classes, config.seed = SCENARIOS[dataset][scenario], seed
  if dataset == "cifar10":
    config.data_dir = data_dir
    if not paper:  # every method on CLAD's :cpu split
      base = cifar10_clad.get_config("cpu")
      config.max_train_images, config.max_test_images = base.max_train_images, base.max_test_images
  if group == "contrastive":
    config.refine.enabled = False
  if group == "deep_svdd":
    config.objective, config.oe.source = "deep_svdd", "none"
  if group.startswith("clad_r10"):
    config.anomaly_ratio, config.refine.enabled = 0.1, group == "clad_r10_refine"
  return config


def split_digest(split) -> str:
  return hashlib.sha1(np.ascontiguousarray(split.x_test).tobytes() + split.y_test.tobytes()).hexdigest()[:12]


def raw_rows(split, n_components, seed, pca):
  from sklearn.covariance import OAS
  from sklearn.decomposition import PCA
  from sklearn.mixture import GaussianMixture
  from sklearn.svm import OneClassSVM
  x_tr = split.x_train.reshape(len(split.x_train), -1) / 255.0
  x_te = split.x_test.reshape(len(split.x_test), -1) / 255.0
  p_tr, p_te = x_tr, x_te
  if pca:
    project = PCA(pca, random_state=seed).fit(x_tr)
    p_tr, p_te = project.transform(x_tr), project.transform(x_te)
  models = {
      "ocsvm_raw": -OneClassSVM(gamma="scale", nu=0.1).fit(x_tr).score_samples(x_te),
      "gaussian_raw": OAS().fit(p_tr).mahalanobis(p_te),
      "gmm_raw": -GaussianMixture(n_components, covariance_type="full", reg_covar=1e-2, random_state=seed)
      .fit(p_tr).score_samples(p_te),
  }
  return [{"method": m, "auc": metrics.auc(split.y_test, s), "ap": metrics.average_precision(split.y_test, s)}
          for m, s in models.items()]


def runs(dataset, groups, scenarios, seeds):
  for scenario in scenarios or SCENARIOS[dataset]:
    for seed in seeds:
      if "clad" in groups:
        yield "clad", scenario, seed, {}
      if "deep_svdd" in groups:
        yield "deep_svdd", scenario, seed, {}
      if "contrastive" in groups:
        yield "contrastive", scenario, seed, {}
      if "raw" in groups:
        yield "raw", scenario, seed, {}
      if "contaminated" in groups:
        yield "clad_r10", scenario, seed, {}
        yield "clad_r10_refine", scenario, seed, {}
  if "sweep" in groups and dataset == "digits":
    for k in (2, 4, 6, 8, 10, 15, 20):
      yield "clad", "curly", 0, {"num_clusters": k}
    for h in (10, 25, 50):
      yield "clad", "curly", 0, {"hidden_dim": h}


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--rows", default=os.path.join(HERE, "rows.jsonl"))
  parser.add_argument("--dataset", default="digits", choices=tuple(SCENARIOS))
  parser.add_argument("--data_dir", default="../shared/data/images", help="CIFAR-10's folder")
  parser.add_argument("--only", default="clad,deep_svdd,contrastive,raw,sweep,contaminated")
  parser.add_argument("--scenarios", default="", help="comma-separated; empty: all of the data set's")
  parser.add_argument("--seeds", default="0,1,2")
  parser.add_argument("--scale", default="cpu", choices=("cpu", "paper"),
                      help="paper: CIFAR-10 configs at their defaults, all images (rows carry the scale)")
  args = parser.parse_args()
  if args.scale == "paper" and args.dataset != "cifar10":
    parser.error("--scale=paper is CIFAR-10's; the digits configs are their own scale.")
  scenarios = [v for v in args.scenarios.split(",") if v]
  unknown = set(scenarios) - set(SCENARIOS[args.dataset])
  if unknown:
    parser.error(f"unknown scenarios {sorted(unknown)} for {args.dataset}; choose from {sorted(SCENARIOS[args.dataset])}")
  done = set()
  if os.path.exists(args.rows):
    with open(args.rows) as f:
      done = {json.dumps([r.get("dataset", "digits"), r["group"], r["scenario"], r["seed"], r["overrides"],
                          r.get("scale", "cpu")]) for r in map(json.loads, f)}
  for group, scenario, seed, overrides in runs(args.dataset, args.only.split(","), scenarios,
                                               [int(v) for v in args.seeds.split(",")]):
    if json.dumps([args.dataset, group, scenario, seed, overrides, args.scale]) in done:
      continue
    t0 = time.time()
    config = make_config(args.dataset, "clad" if group == "raw" else group, scenario, seed, args.data_dir,
                         args.scale)
    config.update_from_flattened_dict(overrides)
    split = oe_stoc.prepare(config) if group == "deep_svdd" else images.configured_split(config)
    if group == "raw":
      results = raw_rows(split, len(SCENARIOS[args.dataset][scenario]), seed,
                         pca=100 if args.dataset == "cifar10" else 0)
    else:
      with tempfile.TemporaryDirectory() as workdir:
        pipeline = {"clad": clad_stoc, "deep_svdd": oe_stoc, "contrastive": image_stoc}[group.split("_r10")[0]]
        r = pipeline.train_and_evaluate(config, workdir)
      results = [{"method": group, "auc": r["auc"], "ap": r["ap"], "odin": r.get("odin"),
                  "refinement": r["refinement"]}]
    with open(args.rows, "a") as f:
      for res in results:
        row = {"dataset": args.dataset, "group": group, "scenario": scenario, "seed": seed,
               "overrides": overrides, **res, "split": split_digest(split),
               "seconds": time.time() - t0, "date": time.strftime("%Y-%m-%d")}
        if args.scale != "cpu":  # the committed CPU rows carry no scale
          row["scale"] = args.scale
        f.write(json.dumps(row, sort_keys=True) + "\n")
        print(group, scenario, seed, overrides, res["method"], f"AUC {res['auc']:.1f}", flush=True)


if __name__ == "__main__":
  main()
