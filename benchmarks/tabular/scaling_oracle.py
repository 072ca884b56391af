"""Scaling by the training normals' mean and std: what the contaminating anomalies do to the scaling.

  python benchmarks/tabular/scaling_oracle.py --datasets=thyroid --ratios=0.015 --seeds=5 \
      --methods=goad,stoc --out=benchmarks/tabular/scaling_oracle.jsonl

Takes run_f1.py's arguments and runs it with one change: `load_split` z-scores every
set by the mean and std of the training set's *normal* rows, as GOAD's data code
computes them (on `train_real`, the normals) before any contamination is added. It
uses the labels, so it is a diagnostic, not a method: compare it with the configs'
z-scores (mean and std of all training rows, anomalies included) and with
`standardize_robust=True` (median and IQR of all training rows, no labels).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import run_f1  # noqa: E402  (puts the repository on sys.path)
from stoc_jax import column_scaling, tabular_stoc  # noqa: E402

UNSCALED_SPLIT = tabular_stoc.load_split


def load_split_scaled_by_normals(config):
  unscaled = config.copy_and_resolve_references()
  unscaled.standardize = False
  s = UNSCALED_SPLIT(unscaled)
  if not config.get("standardize", True):
    return s
  _, x_train, x_test = column_scaling.standardize(s.x_train[s.y_train == 0], s.x_train, s.x_test,
                                                binary=config.get("standardize_binary", True))
  return s._replace(x_train=x_train, x_test=x_test)


if __name__ == "__main__":
  tabular_stoc.load_split = load_split_scaled_by_normals  # train_and_evaluate looks it up at call time
  run_f1.main()
