"""CLAD and one-class baselines on the bundled digits' latent multi-class scenarios; one JSON row per
run appended to rows.jsonl (rows already there are skipped).

  python benchmarks/clad/run_digits.py [--only=clad,deep_svdd,contrastive,raw,sweep]

Scenarios (Kim et al.'s MNIST ones on scikit-learn's 8x8 digits): curly {0, 3, 8}, straight {1, 4, 7},
mix {2, 5, 6, 9}; every other digit is an anomaly; seeds 0-2 (the seed sets the split and the models).
  clad       digits_clad.py as committed;
  deep_svdd  digits_oe.py with objective=deep_svdd (no OE; all other digits tested);
  contrastive  digits_stoc.py without refinement: the contrastive ResNet-18 + GDE pipeline;
  raw        on raw pixels, the same splits: OC-SVM (RBF, gamma="scale", nu=0.1), one Gaussian (OAS
             shrinkage), and a Gaussian mixture with one component per normal digit;
  sweep      CLAD on curly, seed 0: num_clusters 2-20 and hidden_dim 10-100.
"""

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


from experiments.configs import digits_clad, digits_oe, digits_stoc  # noqa: E402
from stoc_jax import clad_stoc, image_stoc, metrics, oe_stoc  # noqa: E402
from stoc_jax.data import images  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = {"curly": (0, 3, 8), "straight": (1, 4, 7), "mix": (2, 5, 6, 9)}


def raw_rows(scenario, seed):
  from sklearn.covariance import OAS
  from sklearn.mixture import GaussianMixture
  from sklearn.svm import OneClassSVM
  normal = SCENARIOS[scenario]
  split = images.one_vs_rest_split(images.load_digits(seed), normal, 0.0, seed=seed)
  x_tr = split.x_train.reshape(len(split.x_train), -1) / 255.0
  x_te = split.x_test.reshape(len(split.x_test), -1) / 255.0
  gauss = OAS().fit(x_tr)
  models = {
      "ocsvm_raw": -OneClassSVM(gamma="scale", nu=0.1).fit(x_tr).score_samples(x_te),
      "gaussian_raw": gauss.mahalanobis(x_te),
      "gmm_raw": -GaussianMixture(len(normal), covariance_type="full", reg_covar=1e-2, random_state=seed)
      .fit(x_tr).score_samples(x_te),
  }
  return [{"method": m, "auc": metrics.auc(split.y_test, s), "ap": metrics.average_precision(split.y_test, s)}
          for m, s in models.items()]


def runs(groups):
  for scenario in SCENARIOS:
    for seed in (0, 1, 2):
      if "clad" in groups:
        yield "clad", scenario, seed, {}
      if "deep_svdd" in groups:
        yield "deep_svdd", scenario, seed, {}
      if "contrastive" in groups:
        yield "contrastive", scenario, seed, {}
      if "raw" in groups:
        yield "raw", scenario, seed, {}
  if "sweep" in groups:
    for k in (2, 4, 6, 8, 10, 15, 20):
      yield "clad", "curly", 0, {"num_clusters": k}
    for h in (10, 25, 50):
      yield "clad", "curly", 0, {"hidden_dim": h}


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--rows", default=os.path.join(HERE, "rows.jsonl"))
  parser.add_argument("--only", default="clad,deep_svdd,contrastive,raw,sweep")
  args = parser.parse_args()
  done = set()
  if os.path.exists(args.rows):
    with open(args.rows) as f:
      done = {json.dumps([r["group"], r["scenario"], r["seed"], r["overrides"]]) for r in map(json.loads, f)}
  for group, scenario, seed, overrides in runs(args.only.split(",")):
    if json.dumps([group, scenario, seed, overrides]) in done:
      continue
    t0 = time.time()
    if group == "raw":
      results = raw_rows(scenario, seed)
    else:
      module = {"clad": digits_clad, "deep_svdd": digits_oe, "contrastive": digits_stoc}[group]
      config = module.get_config()
      config.normal_classes, config.seed = SCENARIOS[scenario], seed
      if group == "contrastive":
        config.refine.enabled = False
      if group == "deep_svdd":
        config.objective, config.oe.source = "deep_svdd", "none"
      config.update_from_flattened_dict(overrides)
      with tempfile.TemporaryDirectory() as workdir:
        pipeline = {"clad": clad_stoc, "deep_svdd": oe_stoc, "contrastive": image_stoc}[group]
        r = pipeline.train_and_evaluate(config, workdir)
      results = [{"method": group, "auc": r["auc"], "ap": r["ap"], "odin": r.get("odin")}]
    with open(args.rows, "a") as f:
      for res in results:
        row = {"group": group, "scenario": scenario, "seed": seed, "overrides": overrides, **res,
               "seconds": time.time() - t0, "date": time.strftime("%Y-%m-%d")}
        f.write(json.dumps(row, sort_keys=True) + "\n")
        print(group, scenario, seed, overrides, res["method"], f"AUC {res['auc']:.1f}", flush=True)


if __name__ == "__main__":
  main()
