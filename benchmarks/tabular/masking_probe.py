"""Why no density-based refinement removes KDD-Rev's copied attacks: masking, and robust covariance.

  python benchmarks/tabular/masking_probe.py --seeds=0,1,2

Trains the `:cpu` GOAD without refinement at KDD-Rev 2.5 %, then fits per-projection
Gaussians on one random fifth of the training rows (one ensemble member) and asks
which training rows land in the top gamma = 5 % of the scores:

* "gde": the Gaussians refinement uses;
* "gde, copies left out": the same, fitted without the grouped attacks (groups of
  at least --group identical rows). An oracle that reads the labels: if the copies
  rank high once they are out of the fit, it is their own weight in the fit that
  hides them (masking);
* "mcd": scikit-learn's MinCovDet, a robust covariance meant to resist masking;
* "kde", "ocsvm": the papers' other one-class models (RBF width rule; scikit-learn's
  OC-SVM), on the features of a row flattened.

A diagnostic that reads the labels; STOC never does.
"""

import argparse
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.covariance import MinCovDet  # noqa: E402

from run_f1 import benchmark_config  # noqa: E402  (this folder is on sys.path when run as a script)
from stoc_jax import goad, loop, occ, tabular_stoc  # noqa: E402


def mcd_scores(fit_feats, feats, support_fraction, seed):
  """Sum over projections of the Gaussian negative log-likelihood under the MCD estimate."""
  total = np.zeros(len(feats))
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # MinCovDet warns on near-singular fits; their scores show it
    for m in range(feats.shape[1]):
      mcd = MinCovDet(support_fraction=support_fraction, random_state=seed).fit(fit_feats[:, m])
      total += 0.5 * mcd.mahalanobis(feats[:, m]) + 0.5 * np.linalg.slogdet(mcd.covariance_)[1]
  return total


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--data_dir", default="../shared/data/tabular")
  ap.add_argument("--ratio", type=float, default=0.025)
  ap.add_argument("--seeds", default="0")
  ap.add_argument("--group", type=int, default=20, help="a 'group': at least this many identical rows")
  args = ap.parse_args()
  gamma = 2 * args.ratio
  for seed in map(int, args.seeds.split(",")):
    c = benchmark_config("kddrev", args.data_dir, args.ratio, seed)
    c.refine.enabled = False
    data = tabular_stoc.load_split(c)
    y = data.y_train
    detector = loop.run_stoc(tabular_stoc.make_learner(c, data.x_train.shape[1]), data.x_train, c,
                                 key=jax.random.key(seed), gamma=gamma, y_train=y)
    feats = np.asarray(detector.features(data.x_train))  # (N, M, H)
    flat = feats.reshape(len(feats), -1)
    anomalies = np.flatnonzero(y == 1)
    _, inverse, counts = np.unique(data.x_train[anomalies], axis=0, return_inverse=True,
                                   return_counts=True)
    grouped = np.zeros(len(y), bool)
    grouped[anomalies[counts[inverse.ravel()] >= args.group]] = True
    member = np.random.default_rng(seed).permutation(len(y))[: len(y) // 5]
    without_copies = member[~grouped[member]]
    scorers = {
        "gde": lambda: goad.gde_score_per_transform(goad.gde_fit_per_transform(feats[member]), feats),
        "gde, copies left out (oracle)": lambda: goad.gde_score_per_transform(
            goad.gde_fit_per_transform(feats[without_copies]), feats),
        "mcd, support 0.75": lambda: mcd_scores(feats[member], feats, 0.75, seed),
        # The papers' other OCCs, on the M x H features of a row flattened.
        "kde": lambda: occ.FinalOCC("kde", flat[member])(flat),
        "ocsvm": lambda: occ.FinalOCC("ocsvm", flat[member])(flat),
    }
    for name, score in scorers.items():
      s = score()
      top = s > np.quantile(s, 1 - gamma) if np.isfinite(s).all() else np.zeros(len(s), bool)
      rank = np.argsort(np.argsort(s)) / (len(s) - 1)  # 1 = most anomalous
      print(f"kddrev {100 * args.ratio:g} % seed {seed}, {name}: top {100 * gamma:g} % holds "
            f"{100 * top[grouped].mean():.0f} % of the grouped attacks (median rank percentile "
            f"{100 * np.median(rank[grouped]):.0f}), {100 * top[(y == 1) & ~grouped].mean():.0f} % of the "
            f"other attacks, {100 * top[y == 0].mean():.1f} % of the normals"
            + ("" if np.isfinite(s).all() else "; scores not finite (singular fit)"), flush=True)


if __name__ == "__main__":
  main()
