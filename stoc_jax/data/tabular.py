"""The papers' tabular benchmark sets (Thyroid, Arrhythmia, KDD Cup 99 and KDD-Rev, breast cancer),
by the names the configs use. Every loader returns (X float32, y int 0/1).

They are read from a local folder (`data_dir`) in their original formats; when a file is missing the
error names the path tried and where to get it. A user's own table is `table_file.load_table`.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from stoc_jax.data import DataError, table_file

# Model files saved by `stoc-jax detect --save-model` before table_file.py existed name the schema here.
TableSchema = table_file.TableSchema

SOURCES = {
    "thyroid": ("thyroid.npz / thyroid.mat",
                "ODDS https://odds.cs.stonybrook.edu/thyroid-disease-dataset/ "
                "(or ADBench's 38_thyroid.npz renamed thyroid.npz)"),
    "arrhythmia": ("arrhythmia.mat", "ODDS https://odds.cs.stonybrook.edu/arrhythmia-dataset/"),
    "kdd": ("kddcup.data_10_percent.gz",
            "UCI https://kdd.ics.uci.edu/databases/kddcup99/kddcup.data_10_percent.gz"),
}
SOURCES["kddrev"] = SOURCES["kdd"]
DATASETS = ("breast_cancer", "thyroid", "arrhythmia", "kdd", "kddrev", "csv")

KDD_CATEGORICAL = (1, 2, 3)  # protocol_type, service, flag


def _find(data_dir, names, dataset):
  tried = []
  for name in names:
    path = Path(os.path.expanduser(str(data_dir or "."))) / name
    tried.append(str(path))
    if path.exists():
      return path
  files, source = SOURCES[dataset]
  raise DataError(
      f"{dataset}: no data file found; tried {', '.join(tried)}. Download {files} from {source} "
      f"and pass its folder as --config.data_dir=FOLDER.")


def _load_odds(path: Path):
  if path.suffix == ".npz":
    with np.load(path) as d:
      return d["X"].astype(np.float32), d["y"].astype(np.int64).ravel()
  import scipy.io
  d = scipy.io.loadmat(path)
  return np.asarray(d["X"], np.float32), np.asarray(d["y"], np.int64).ravel()


def load_thyroid(data_dir=None):
  """ODDS Thyroid: 3772 x 6, 93 anomalies. Accepts thyroid.npz (X, y) or ODDS thyroid.mat."""
  return _load_odds(_find(data_dir, ("thyroid.npz", "thyroid.mat", "38_thyroid.npz"), "thyroid"))


def load_arrhythmia(data_dir=None):
  """ODDS Arrhythmia: 452 x 274, 66 anomalies (ODDS arrhythmia.mat, or .npz with X, y)."""
  return _load_odds(_find(data_dir, ("arrhythmia.mat", "arrhythmia.npz"), "arrhythmia"))


@functools.lru_cache(maxsize=2)
def _encode_kdd(path: Path):
  """(features, is_normal) of the KDD file; cached, since KDD and KDD-Rev parse the same file."""
  import pandas as pd
  df = pd.read_csv(path, header=None)
  if df.shape[1] != 42:
    raise DataError(f"{path}: expected 42 comma-separated columns (41 features + label), got {df.shape[1]}.")
  is_normal = (df[41] == "normal.").to_numpy()
  blocks = []
  for col in range(41):
    if col in KDD_CATEGORICAL:
      blocks.append(pd.get_dummies(df[col]).to_numpy(np.float32))
    else:
      v = df[col].to_numpy(np.float32)
      span = v.max() - v.min()
      blocks.append(((v - v.min()) / (span if span > 0 else 1.0))[:, None])
  x = np.concatenate(blocks, axis=1)
  x.setflags(write=False)
  is_normal.setflags(write=False)
  return x, is_normal


def load_kdd(data_dir=None, reverse: bool = False, attack_fraction: float = 0.2, seed: int = 0):
  """KDD Cup 99 (10 %) as in DAGMM / GOAD / STOC.

  The 3 categorical columns are one-hot encoded and the rest min-max scaled, as
  DAGMM does. kdd_stoc.py then z-scores the continuous columns by the training
  set and leaves the one-hot ones at 0/1, as GOAD does (`standardize_binary`).
  KDD: `normal.` traffic (the minority) is the anomaly class. KDD-Rev (`reverse`):
  attacks are the anomalies, sub-sampled (seeded) to `attack_fraction` x the
  number of normal rows (our reading of DAGMM: 0.2;
  GOAD's code draws 24,319 attacks, normal : attack = 4 : 1 as DAGMM says, which is 0.25).
  """
  path = _find(data_dir, ("kddcup.data_10_percent.gz", "kddcup.data_10_percent",
                          "kddcup.data_10_percent_corrected"), "kdd")
  x, is_normal = _encode_kdd(path.resolve())
  if not reverse:
    return x.copy(), is_normal.astype(np.int64)
  rng = np.random.default_rng(seed)
  attacks = np.flatnonzero(~is_normal)
  size = int(attack_fraction * is_normal.sum())
  if not 0 < size <= attacks.size:
    raise DataError(
        f"KDD-Rev attack_fraction={attack_fraction} asks for {size} attacks; the file has "
        f"{attacks.size} attacks and {int(is_normal.sum())} normal rows, so it must lie in "
        f"(0, {attacks.size / is_normal.sum():.3g}]. We read DAGMM as 0.2; GOAD's code uses 0.25.")
  keep = rng.choice(attacks, size=size, replace=False)
  idx = np.sort(np.concatenate([np.flatnonzero(is_normal), keep]))
  return x[idx], (~is_normal[idx]).astype(np.int64)


def load_breast_cancer():
  """scikit-learn's bundled Wisconsin breast-cancer table; malignant cases are the anomalies.

  Needs no download, so it is the quickstart's default data set.
  """
  from sklearn.datasets import load_breast_cancer as sk_load
  d = sk_load()
  return d.data.astype(np.float32), (d.target == 0).astype(np.int64)


def load_tabular(name: str, data_dir=None, seed: int = 0, path=None, label_column=None,
                 kddrev_attack_fraction: float = 0.2):
  """Loads a data set by the name used in configs; returns (X, y)."""
  if name == "breast_cancer":
    return load_breast_cancer()
  if name == "thyroid":
    return load_thyroid(data_dir)
  if name == "arrhythmia":
    return load_arrhythmia(data_dir)
  if name in ("kdd", "kddrev"):
    return load_kdd(data_dir, reverse=name == "kddrev", seed=seed,
                    attack_fraction=kddrev_attack_fraction)
  if name == "csv":
    if not path:
      raise DataError("dataset 'csv' needs a file: --config.data_path=FILE (and --config.label_column=NAME).")
    x, y, _ = table_file.load_table(path, label_column or None, drop_constant=True)
    if y is None:
      raise DataError(f"{path}: the benchmark pipeline needs labels to evaluate; set "
                      "--config.label_column, or use the `stoc-jax detect` command for unlabeled data.")
    return x, y
  raise DataError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")
