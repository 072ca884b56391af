"""Outlier-exposure (OE) images: where they come from, how many, how blurred.

Ruff et al. (2021, "Rethinking assumptions in deep anomaly detection") draw OE from 80 Million Tiny
Images (CIFAR-10), EMNIST letters (MNIST) and ImageNet-22K; none of these can be had offline. Sources here:

* `classes`: the training images of `oe.classes`, classes of the same data set that are kept out of
  the test set's anomalies: the paper's appendix B protocol (OE from k classes absent at test time,
  there CIFAR-100 classes for CIFAR-10). By default half of the non-normal classes, chosen by seed;
  the test anomalies are the remaining classes.
* `folder`: every image under `oe.path` (a few hundred photos that are not the normal class: the real
  use), or `npz`: an array of images in an .npz / .npy file.
* `none`: no OE. Deep SVDD needs none; the other objectives then take as OE the rows that STOC's
  refinement rejects (`refine.enabled=True`), OE drawn from the contaminated training set itself.

`oe.size` keeps that many OE images (chosen by seed; the learner samples them with replacement when
they are fewer than an OE batch, as the paper does), and `oe.blur_sigma` blurs them (the paper's
multiscale experiment).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from stoc_jax.data import images as image_data
from stoc_jax.data import DataError, read_numpy

SOURCES = ("classes", "folder", "npz", "none")


class OESplit(NamedTuple):
  x_train: np.ndarray
  y_train: np.ndarray  # 1 where a training image is a swapped-in anomaly (measures refinement only)
  x_test: np.ndarray
  y_test: np.ndarray  # 1 = anomaly
  x_oe: np.ndarray | None  # uint8 NHWC, or None
  oe_classes: tuple
  test_anomaly_classes: tuple
  train_classes: np.ndarray  # each training image's class in the data set


def resolve_classes(normal_classes, num_classes: int, oe_classes=(), test_anomaly_classes=(), seed=0):
  """(oe_classes, test_anomaly_classes): disjoint, neither holding a normal class (`normal_classes`: one
  class or a tuple).

  Empty `oe_classes`: half of the classes that are neither normal nor a listed test anomaly,
  rounded down, chosen by `seed`. Empty `test_anomaly_classes`: every class that is neither
  normal nor OE.
  """
  normal = {int(normal_classes)} if np.isscalar(normal_classes) else {int(c) for c in normal_classes}
  classes = set(range(num_classes))
  for name, given in (("oe.classes", oe_classes), ("test_anomaly_classes", test_anomaly_classes)):
    unknown = sorted(set(given) - classes)
    if unknown:
      raise ValueError(f"{name} {unknown} are not classes of this data set (0..{num_classes - 1}).")
    if normal & set(given):
      raise ValueError(f"{name} holds the normal class {sorted(normal & set(given))[0]}; OE and test anomalies "
                       "must be other classes.")
  overlap = sorted(set(oe_classes) & set(test_anomaly_classes))
  if overlap:
    raise ValueError(f"oe.classes and test_anomaly_classes share {overlap}: an OE class would be tested as "
                     "an anomaly. Keep the two sets disjoint (or leave test_anomaly_classes empty).")
  others = sorted(classes - normal - set(test_anomaly_classes))
  if not oe_classes:
    rng = np.random.default_rng([seed, *sorted(normal)])
    oe_classes = sorted(rng.choice(others, len(others) // 2, replace=False).tolist())
  tests = tuple(sorted(test_anomaly_classes)) or tuple(sorted(classes - normal - set(oe_classes)))
  if not tests:
    raise ValueError("no class is left for the test anomalies; drop some from oe.classes.")
  return tuple(int(c) for c in sorted(oe_classes)), tuple(int(c) for c in tests)


def read_oe_folder(path, image_size: int = 0) -> np.ndarray:
  """Every image (`images.IMAGE_SUFFIXES`) under `path` (any depth), as uint8 NHWC of one size (`image_size`
  > 0: each resized to image_size x image_size)."""
  if not str(path):
    raise DataError("oe.source='folder' needs oe.path: the folder of outlier-exposure images.")
  root = Path(os.path.expanduser(str(path)))
  if not root.is_dir():
    raise DataError(f"no such outlier-exposure folder: {root}. Set oe.path to a folder of images.")
  files = sorted(f for f in root.rglob("*") if f.is_file() and f.suffix.lower() in image_data.IMAGE_SUFFIXES)
  if not files:
    raise DataError(f"outlier-exposure folder {root} holds no images ({', '.join(image_data.IMAGE_SUFFIXES)}); "
                    "put a few hundred images that are not the normal class there.")
  arrays = [image_data._decode(f.read_bytes(), str(f)) for f in files]
  if image_size:
    arrays = [image_data._resized(a, image_size) for a in arrays]
  return image_data._stack(arrays, [str(f) for f in files], f"outlier-exposure folder {root}")


def read_oe_array(path) -> np.ndarray:
  """Images from an .npy file, or an .npz's `x` array (or its only array)."""
  p = Path(os.path.expanduser(str(path)))
  if not p.is_file():
    raise DataError(f"no such outlier-exposure file: {p}. Set oe.path to an .npz or .npy of images.")
  d = read_numpy(p)
  if isinstance(d, dict):
    if "x" not in d and len(d) != 1:
      raise DataError(f"{p}: name the OE images 'x' (found arrays {sorted(d)}).")
    x = d["x" if "x" in d else next(iter(d))]
  else:
    x = d
  return as_images(x, str(p))


def as_images(x, where: str = "the OE array") -> np.ndarray:
  """uint8 NHWC from NHW / NHWC arrays of uint8 or floats in [0, 1]."""
  x = np.asarray(x)
  if x.ndim == 3:
    x = x[..., None]
  if x.ndim != 4 or len(x) == 0:
    raise DataError(f"{where}: expected a non-empty stack of images (N, H, W[, C]); got shape {x.shape}.")
  if x.dtype != np.uint8:
    if x.max() <= 1.0 + 1e-6:
      x = x * 255.0
    x = np.clip(np.round(x), 0, 255).astype(np.uint8)
  return x


def fit_to(x_oe: np.ndarray, image_shape, where: str, image_size: int = 0) -> np.ndarray:
  """OE images of the normal data's (H, W, C): resized when the run resizes (`image_size` > 0), grey
  images repeated to 3 channels; any other mismatch is an error that names both shapes."""
  h, w, c = image_shape
  if image_size and x_oe.shape[1:3] != (h, w):
    x_oe = image_data.resize_images(x_oe, image_size)
  if x_oe.shape[-1] == 1 and c == 3:
    x_oe = np.repeat(x_oe, 3, axis=-1)
  if x_oe.shape[1:] != (h, w, c):
    # Resizing mends the height and width, not the channels: say what does.
    fix = (f"resize them, or set image_size={h} to resize both" if x_oe.shape[-1] == c else
           f"give them {c} channel(s) ({'grey' if c == 1 else 'colour'}) as the normal images have")
    raise DataError(f"{where}: outlier-exposure images are {x_oe.shape[1]}x{x_oe.shape[2]}x{x_oe.shape[3]} but "
                    f"the normal images are {h}x{w}x{c}; {fix}.")
  return x_oe


def subsample(x_oe: np.ndarray, size: int, seed: int) -> np.ndarray:
  """`size` OE images drawn without replacement by seed (0: all of them)."""
  if size < 0:
    raise ValueError(f"oe.size must be >= 0 (0 = the whole OE set); got {size}.")
  if size == 0:
    return x_oe
  if size > len(x_oe):
    raise ValueError(f"oe.size {size} exceeds the {len(x_oe)} OE images; use at most {len(x_oe)} (or 0 for all).")
  return x_oe[np.sort(np.random.default_rng([seed, 7]).choice(len(x_oe), size, replace=False))]


def blur(x: np.ndarray, sigma: float) -> np.ndarray:
  """A Gaussian blur of standard deviation `sigma` pixels over each image's two spatial axes."""
  if not sigma >= 0:
    raise ValueError(f"oe.blur_sigma must be >= 0 pixels; got {sigma}.")
  if sigma == 0:
    return x
  from scipy import ndimage
  out = ndimage.gaussian_filter(x.astype(np.float32), sigma=(0, sigma, sigma, 0), mode="reflect")
  return np.clip(np.round(out), 0, 255).astype(np.uint8)


def oe_indices(seed: int, step: int, pool_size: int, batch: int, round_index: int = 0) -> np.ndarray:
  """Positions in the OE pool of step `step`'s OE batch.

  A pool smaller than the batch is sampled with replacement (the paper's rule); a larger one is
  walked through epoch by epoch in a seeded permutation, so no image repeats within an epoch. The
  draw depends only on (seed, step, round), so a resumed run draws the same batches.
  """
  if pool_size < batch:
    return np.random.default_rng([seed, step, round_index, 1]).integers(0, pool_size, batch)
  per_epoch = pool_size // batch
  epoch, pos = divmod(step, per_epoch)
  perm = np.random.default_rng([seed, epoch, round_index, 2]).permutation(pool_size)
  return perm[pos * batch:(pos + 1) * batch]


def split_with_oe(data: image_data.ImageData, oe_cfg, *, normal_classes: tuple, anomaly_ratio: float, seed: int,
                  test_anomaly_classes=(), uses_oe: bool = True, image_size: int = 0) -> OESplit:
  """The one-vs-rest split and the OE images of `oe_cfg` (source, classes, path, size, blur_sigma).

  With OE classes, the training contamination (`anomaly_ratio`) and the test anomalies both come
  from the test anomaly classes only, so no OE class is ever seen as an anomaly.
  """
  if oe_cfg.source not in SOURCES:
    raise ValueError(f"oe.source must be one of {SOURCES}; got {oe_cfg.source!r}.")
  num_classes = int(max(data.y_train.max(), data.y_test.max())) + 1
  for c in normal_classes:
    if c not in range(num_classes):
      raise ValueError(f"normal class {c} is not a class of this data set (0..{num_classes - 1}).")
  oe_classes, x_oe = (), None
  if oe_cfg.source == "classes":
    oe_classes, tests = resolve_classes(normal_classes, num_classes, tuple(oe_cfg.classes),
                                        tuple(test_anomaly_classes), seed)
  else:
    if tuple(oe_cfg.classes):
      raise ValueError(f"oe.classes is set but oe.source is {oe_cfg.source!r}; set oe.source='classes'.")
    _, tests = resolve_classes(normal_classes, num_classes, (), tuple(test_anomaly_classes) or
                               tuple(c for c in range(num_classes) if c not in normal_classes), seed)
  keep_train = np.isin(data.y_train, tuple(normal_classes) + tests)
  keep_test = np.isin(data.y_test, tuple(normal_classes) + tests)
  kept = data._replace(x_train=data.x_train[keep_train], y_train=data.y_train[keep_train],
                       x_test=data.x_test[keep_test], y_test=data.y_test[keep_test])
  split = image_data.one_vs_rest_split(kept, tuple(normal_classes), anomaly_ratio, seed=seed)
  if uses_oe:
    if oe_cfg.source == "classes":
      x_oe = data.x_train[np.isin(data.y_train, oe_classes)]
    elif oe_cfg.source == "folder":
      x_oe = fit_to(read_oe_folder(oe_cfg.path, image_size), split.x_train.shape[1:], str(oe_cfg.path))
    elif oe_cfg.source == "npz":
      x_oe = fit_to(read_oe_array(oe_cfg.path), split.x_train.shape[1:], str(oe_cfg.path), image_size)
    if x_oe is not None:
      x_oe = blur(subsample(x_oe, int(oe_cfg.size), seed), float(oe_cfg.blur_sigma))
  return OESplit(split.x_train, split.y_train, split.x_test, split.y_test, x_oe, oe_classes, tests,
                 split.train_classes)
