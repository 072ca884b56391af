"""How much the column scaling moves tabular F1: a probe, not a method (its rows are not in the sweep).

  python benchmarks/tabular/preprocessing_probe.py --datasets=thyroid --ratios=0.015 \
      --methods=raw_gde,raw_gde_refine,goad,stoc --out=benchmarks/tabular/preprocessing_probe.jsonl
  python benchmarks/tabular/report.py --settings benchmarks/tabular/preprocessing_probe.jsonl

Each variant replaces the z-scoring of `load_split` (the rest of the pipeline is the CPU config's):
  config    the configs' z-scores (KDD-Rev: min-max), as in the sweep: the same F1, rerun
  yj_z      z-score, then a Yeo-Johnson power transform (scikit-learn, fitted on the unlabeled
            training set): each column as close to Gaussian as that family gets
  yj_raw    Yeo-Johnson on the columns as the loader gives them (ODDS Thyroid: [0, 1]); on such
            columns the fitted exponents run to -100
  yj_raw32  the same fitted on float32 rows, as scikit-learn does when handed the loader's float32
            array: the exponent search stops elsewhere (Thyroid's second column: -11.7, not -98.6)
  quantile  scikit-learn's QuantileTransformer to a normal distribution
0/1 and constant columns are left as they are. `--heldout_ll` prints, instead, a label-free criterion for
choosing among them: the log-likelihood of a Gaussian fitted on one half of the training rows, on the
other half, with the log-Jacobian of the transform (the density of the data, not of the transformed data).
"""

import argparse
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
from sklearn.covariance import LedoitWolf  # noqa: E402
from sklearn.preprocessing import PowerTransformer, QuantileTransformer  # noqa: E402

from run_f1 import append_row, apply_overrides, benchmark_config, run_method  # noqa: E402
from stoc_jax import column_scaling, tabular_stoc  # noqa: E402

VARIANTS = ("config", "yj_z", "yj_raw", "yj_raw32", "quantile")
CONFIG_SCALING = column_scaling.standardize
Z_SCORES = ["standardize_robust=False"]


def _columns(x):
  return ~np.all((x == 0) | (x == 1), axis=0) & (x.std(axis=0) > 0)


def _zscore(x_train):
  mean, std = x_train.mean(axis=0), x_train.std(axis=0)
  return lambda x: (x - mean) / std, -np.log(std).sum()


def make_scaler(variant):
  """A replacement for tabular_stoc.standardize with the same signature."""
  if variant == "config":
    return CONFIG_SCALING

  def scale(x_train, *others, binary=True, robust=False):
    del binary, robust  # 0/1 columns are left as they are; the transform sets the scale
    cols = _columns(x_train)
    pre = _zscore(x_train[:, cols])[0] if variant == "yj_z" else (lambda x: x)
    fit_on = pre(x_train[:, cols].astype(np.float32 if variant == "yj_raw32" else np.float64))
    if variant == "quantile":
      model = QuantileTransformer(output_distribution="normal", n_quantiles=min(1000, len(fit_on)),
                                  random_state=0).fit(fit_on)
    else:
      model = PowerTransformer(method="yeo-johnson", standardize=True).fit(fit_on)
    out = []
    for x in (x_train,) + others:
      x = x.astype(np.float64)
      with np.errstate(over="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = model.transform(pre(x[:, cols]))
      # Far outside the training range x ** lambda overflows (KDD-Rev's min-max columns).
      x[:, cols] = np.clip(np.nan_to_num(z, nan=0.0, posinf=1e4, neginf=-1e4), -1e4, 1e4)
      out.append(x.astype(np.float32))
    return out
  return scale


def _yj_log_derivative(x, lam):
  pos = x >= 0
  return np.where(pos, (lam - 1) * np.log1p(np.where(pos, x, 0)), (1 - lam) * np.log1p(np.where(pos, 0, -x)))


def heldout_log_likelihood(x, variant, seed=0):
  """Mean held-out log-density of the training rows under 'Gaussian after the variant's transform'."""
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r}; one of {VARIANTS}")
  if variant == "quantile":
    raise ValueError("quantile has no smooth Jacobian; --heldout_ll takes the other variants")
  cols = _columns(x)
  x = x[:, cols].astype(np.float64)
  perm = np.random.default_rng(seed).permutation(len(x))
  a, b = x[perm[: len(x) // 2]], x[perm[len(x) // 2:]]
  log_jac = np.zeros(len(b))
  if variant in ("config", "yj_z"):  # held out: z-scores for every data set
    pre, lj = _zscore(a)
    a, b, log_jac = pre(a), pre(b), log_jac + lj
  if variant in ("yj_z", "yj_raw", "yj_raw32"):
    pt = PowerTransformer(method="yeo-johnson", standardize=False).fit(
        a.astype(np.float32) if variant == "yj_raw32" else a)
    log_jac = log_jac + _yj_log_derivative(b, pt.lambdas_).sum(axis=1)
    a, b = pt.transform(a), pt.transform(b)
  lw = LedoitWolf().fit(a)
  d = b - lw.location_
  _, logdet = np.linalg.slogdet(lw.covariance_)
  q = np.einsum("ij,jk,ik->i", d, np.linalg.inv(lw.covariance_), d)
  return float(np.mean(-0.5 * (q + logdet + a.shape[1] * np.log(2 * np.pi)) + log_jac))


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--data_dir", default="../shared/data/tabular")
  ap.add_argument("--datasets", default="thyroid")
  ap.add_argument("--ratios", default="0.015")
  ap.add_argument("--variants", default=",".join(VARIANTS))
  ap.add_argument("--methods", default="raw_gde,raw_gde_refine")
  ap.add_argument("--seeds", type=int, default=5)
  ap.add_argument("--first_seed", type=int, default=0)
  ap.add_argument("--heldout_ll", action="store_true")
  ap.add_argument("--out", default="benchmarks/tabular/preprocessing_probe.jsonl")
  args = ap.parse_args()
  done = set()
  if os.path.exists(args.out):
    with open(args.out) as f:
      done = {(r["dataset"], r["anomaly_ratio"], r["method"], r["seed"], tuple(r["overrides"]))
              for r in map(json.loads, f)}
  for dataset in args.datasets.split(","):
    for ratio in map(float, args.ratios.split(",")):
      for seed in range(args.first_seed, args.seeds):
        if args.heldout_ll:
          config = benchmark_config(dataset, args.data_dir, ratio, seed)
          config.standardize = False
          x = tabular_stoc.load_split(config).x_train
          lls = {v: round(heldout_log_likelihood(x, v, seed), 2) for v in args.variants.split(",")}
          print(f"{dataset} r={ratio} split={seed} held-out log-likelihood: {lls}", flush=True)
          continue
        for variant in args.variants.split(","):
          for method in args.methods.split(","):
            config = benchmark_config(dataset, args.data_dir, ratio, seed)
            # "config" means z-scores, the configs' scaling when this probe ran (Thyroid's is now robust).
            overrides = [f"preprocessing={variant}"] + apply_overrides(config, Z_SCORES)
            if (dataset, ratio, method, seed, tuple(overrides)) in done:
              continue
            tabular_stoc.standardize = make_scaler(variant)
            if variant != "config":
              config.standardize = True  # load_split calls the replaced standardize
            t = time.time()
            res = run_method(config, method)
            append_row(args.out, (dataset, ratio, method, seed, seed), res, "cpu", overrides, time.time() - t)
            print(f"{dataset} r={ratio} {variant} {method} seed={seed}: F1 {res['f1_oracle']:.1f}", flush=True)


if __name__ == "__main__":
  main()
