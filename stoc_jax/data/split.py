"""The contamination split of STOC's tabular protocol (Yoon et al. 2022, STOC §4.1, after GOAD).

Half of the normal samples (seeded) are the training normals. A pool of
anomalies is held out for contaminating training; the rest of the data is the
test set. The contamination ratio is anomalies / all training samples.

Interpretation (configurable): the pool holds as many anomalies as the largest
ratio of the sweep needs, `max_anomaly_ratio` (default min(data set ratio,
10 %)), so the test set is the same at every ratio of a split seed. The
papers' "10 % of the training normals" is that number at a 10 % ratio.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from stoc_jax.contamination import check_anomaly_ratio


class Split(NamedTuple):
  x_train: np.ndarray
  y_train: np.ndarray  # 0/1, for measuring refinement only; never used to train
  x_test: np.ndarray
  y_test: np.ndarray


def anomalies_for_ratio(num_normals: int, ratio: float) -> int:
  """Anomalies to add to `num_normals` so that they make up `ratio` of the total."""
  return int(round(ratio * num_normals / (1.0 - ratio)))


def contamination_split(x, y, anomaly_ratio: float, seed: int = 0,
                        train_normal_fraction: float = 0.5,
                        max_anomaly_ratio: float | None = None) -> Split:
  x = np.asarray(x)
  y = np.asarray(y).astype(np.int64).ravel()
  if x.shape[0] != y.shape[0]:
    raise ValueError(f"X has {x.shape[0]} rows but y has {y.shape[0]}.")
  check_anomaly_ratio(anomaly_ratio)
  if not 0.0 < train_normal_fraction < 1.0:
    raise ValueError(f"train_normal_fraction must lie in (0, 1), the share of the normal rows that trains (the "
                     f"rest test); got {train_normal_fraction}.")
  normals, anomalies = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
  if max_anomaly_ratio is None:
    max_anomaly_ratio = min(len(anomalies) / len(y), 0.10)
  max_anomaly_ratio = max(max_anomaly_ratio, anomaly_ratio)
  rng = np.random.default_rng(seed)
  normals, anomalies = rng.permutation(normals), rng.permutation(anomalies)
  n_train = int(math.floor(train_normal_fraction * len(normals)))
  pool_size = anomalies_for_ratio(n_train, max_anomaly_ratio)
  n_contam = anomalies_for_ratio(n_train, anomaly_ratio)
  if pool_size >= len(anomalies):
    raise ValueError(
        f"anomaly_ratio {anomaly_ratio:.4f} needs {pool_size} of the {len(anomalies)} anomalies for "
        f"training, leaving none to test; use a ratio below "
        f"{len(anomalies) / 2 / (n_train + len(anomalies) / 2):.4f}.")
  train_idx = np.concatenate([normals[:n_train], anomalies[:n_contam]])
  test_idx = np.concatenate([normals[n_train:], anomalies[pool_size:]])
  train_idx, test_idx = rng.permutation(train_idx), rng.permutation(test_idx)
  return Split(x[train_idx], y[train_idx], x[test_idx], y[test_idx])
