"""Image data for one-vs-rest anomaly detection: folders, tarballs, .npz, TFDS, and bundled digits.

Every loader returns an `ImageData` of uint8 NHWC arrays and integer class labels.
`one_vs_rest_split` applies the papers' swap contamination protocol.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from stoc_jax.contamination import check_anomaly_ratio
from stoc_jax.data import DataError, read_numpy

# JPEG also under the names Windows gives images saved from a browser (.jfif) and older tools (.jpe);
# PGM / PPM as face and vision data sets keep them.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".jfif", ".jpe", ".png", ".bmp", ".tif", ".tiff", ".webp", ".avif",
                  ".pgm", ".ppm")
# A phone's photos that Pillow does not read (HEIC, an iPhone's default), named with the way out.
UNREAD_PHOTO_SUFFIXES = (".heic", ".heif")
UNREAD_PHOTO_HINT = ("HEIC / HEIF photos (an iPhone's default) are not read: export them as JPEG (on the "
                     "iPhone, Settings > Camera > Formats > Most Compatible), or convert them, e.g. with "
                     "the pillow-heif package")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class ImageData(NamedTuple):
  x_train: np.ndarray  # (N, H, W, C) uint8
  y_train: np.ndarray  # (N,) class index
  x_test: np.ndarray
  y_test: np.ndarray
  class_names: tuple


def _decode(data: bytes, name: str, min_side: int = 0):
  """One image as uint8 HWC. With `min_side`, a JPEG may be decoded at a reduced scale (1/2 to 1/8,
  JPEG's own draft mode) whose sides stay at least `min_side`: a 4032 x 3024 photo to be resized to
  64 x 64 decodes 8x faster so."""
  from PIL import Image, ImageOps, UnidentifiedImageError
  try:
    img = Image.open(io.BytesIO(data))
    if min_side:
      img.draft(img.mode, (min_side, min_side))
    # Upright, as a viewer shows it: a camera stores a portrait photo's pixels on their side with an
    # EXIF orientation tag, and read as stored it looks rotated, which a rotation-predicting
    # representation takes for an anomaly.
    img = ImageOps.exif_transpose(img)
    if img.mode.startswith("I") or img.mode == "F":  # one channel of 16 or 32 bits, or floats
      arr = _grey_as_uint8(np.asarray(img), name)
    else:
      img = img.convert("RGB") if img.mode not in ("L", "RGB") else img
      arr = np.asarray(img, np.uint8)
  except UnidentifiedImageError:  # Pillow's own message names an in-memory buffer, not the file
    what = "empty (0 bytes)" if not data else "not an image: its bytes are in no format Pillow reads"
    raise DataError(f"{name}: {what}. Remove or replace the file.") from None
  except OSError as e:
    raise DataError(f"{name}: not a readable image ({e}). Remove or replace the file.") from None
  return arr[..., None] if arr.ndim == 2 else arr


def _grey_as_uint8(arr: np.ndarray, name: str) -> np.ndarray:
  """A grey image of more than 8 bits on the 0-255 scale of the others: 16-bit values divided by 257
  (65535 -> 255), floats in [0, 1] times 255; other ranges refused, since no scale is implied."""
  if np.issubdtype(arr.dtype, np.integer) and arr.min(initial=0) >= 0 and arr.max(initial=0) <= 65535:
    return np.round(arr / 257.0).astype(np.uint8)
  if np.issubdtype(arr.dtype, np.floating) and np.isfinite(arr).all() and arr.min() >= 0 and arr.max() <= 1:
    return np.round(arr * 255.0).astype(np.uint8)
  raise DataError(f"{name}: a {arr.dtype} grey image with values in [{arr.min():.6g}, {arr.max():.6g}], "
                  "which has no 0-255 scale; save it as an 8- or 16-bit image.")


def _stack(images, names, where, fix: str = "Resize them to one size first."):
  # Grayscale images beside colour ones of the same size: the grey channel repeated three times,
  # which loses nothing (_decode reads every other mode as RGB).
  if any(img.shape[-1] == 3 for img in images):
    images = [np.repeat(img, 3, axis=-1) if img.shape[-1] == 1 else img for img in images]
  shapes = {}
  for img, name in zip(images, names):
    shapes.setdefault(img.shape, name)
  if len(shapes) > 1:
    listed = "; ".join(f"{s} e.g. {n}" for s, n in list(shapes.items())[:4])
    raise DataError(f"{where}: images have different sizes ({listed}). {fix}")
  return np.stack(images)


def read_image_folder(root, split: str | None = None, class_names=None):
  """Reads `root/[split/]class/*` images (`IMAGE_SUFFIXES`; or the same layout inside a .tar / .tar.gz).

  Class index = position of the folder name in sorted order (CIFAR-10's order for
  its class folder names). Returns (images uint8 NHWC, labels, class names).
  """
  root = Path(os.path.expanduser(str(root)))
  if not root.exists():
    raise DataError(f"no such image folder or archive: {root}")
  entries = []  # (class name, file name, bytes)
  if root.is_file():
    try:
      with tarfile.open(root) as tar:
        for m in tar.getmembers():
          parts = Path(m.name).parts
          parts = parts[1:] if parts and parts[0] == "." else parts
          if not m.isfile() or Path(m.name).suffix.lower() not in IMAGE_SUFFIXES:
            continue
          if split is not None:
            if len(parts) < 3 or parts[-3] != split:
              continue
          entries.append((parts[-2], m.name, tar.extractfile(m).read()))
    except tarfile.TarError as e:
      raise DataError(f"{root}: not a readable tar archive ({e}).") from None
  else:
    base = root / split if split is not None else root
    if not base.is_dir():
      raise DataError(f"{root}: expected a folder {base} holding one sub-folder per class.")
    for cls_dir in sorted(p for p in base.iterdir() if p.is_dir()):
      for f in sorted(cls_dir.iterdir()):
        if f.suffix.lower() in IMAGE_SUFFIXES:
          entries.append((cls_dir.name, str(f), f.read_bytes()))
  if not entries:
    raise DataError(f"{root}: no images found under {split + '/' if split else ''}<class>/ "
                    f"({', '.join(IMAGE_SUFFIXES)}).")
  entries.sort(key=lambda e: (e[0], e[1]))
  names = tuple(class_names) if class_names else tuple(sorted({e[0] for e in entries}))
  index = {n: i for i, n in enumerate(names)}
  images = [_decode(data, name) for _, name, data in entries]
  x = _stack(images, [e[1] for e in entries], str(root))
  y = np.array([index[e[0]] for e in entries], np.int64)
  return x, y, names


# Raised whenever _decode returns other pixels for the same file (2: EXIF orientation applied), so
# that arrays decoded before are decoded again rather than served from the cache.
DECODING = 2


def _cache_path(source: Path, split: str) -> Path:
  if source.is_dir():  # every file below it: a folder's own time changes only with its direct entries
    stamp = sorted((str(f.relative_to(source)), st.st_size, st.st_mtime_ns)
                   for f in source.rglob("*") if f.is_file() for st in [f.stat()])
  else:
    st = source.stat()
    stamp = (st.st_size, st.st_mtime_ns)
  tag = hashlib.sha1(f"{source.resolve()}:{stamp}:{split}:{DECODING}".encode()).hexdigest()[:16]
  cache = Path(os.environ.get("STOC_CACHE", Path.home() / ".cache" / "stoc_jax"))
  return cache / f"{source.stem}-{split}-{tag}.npz"


def load_image_folder(root, cache: bool = True) -> ImageData:
  """train/ and test/ splits of a class-folder tree or archive; decoded arrays are cached as .npz."""
  root = Path(os.path.expanduser(str(root)))
  out = {}
  names = None
  for split in ("train", "test"):
    path = _cache_path(root, split) if (cache and root.exists()) else None
    if path is not None and path.exists():
      with np.load(path) as d:
        out[split] = (d["x"], d["y"])
        names = tuple(d["names"].tolist())
      continue
    x, y, names = read_image_folder(root, split, names)
    out[split] = (x, y)
    if path is not None:
      path.parent.mkdir(parents=True, exist_ok=True)
      tmp = path.with_name(path.name + ".tmp.npz")
      np.savez(tmp, x=x, y=y, names=np.array(names))
      os.replace(tmp, path)
  return ImageData(*out["train"], *out["test"], names)


def load_cifar10(data_dir) -> ImageData:
  """CIFAR-10 from `data_dir`: cifar10-jpeg.tar.gz, a cifar10/ folder tree, or cifar10.npz."""
  data_dir = Path(os.path.expanduser(str(data_dir)))
  for name in ("cifar10-jpeg.tar.gz", "cifar10", "cifar10.npz"):
    p = data_dir / name
    if p.exists():
      return load_npz(p) if p.suffix == ".npz" else load_image_folder(p)
  raise DataError(
      f"cifar10: tried {data_dir / 'cifar10-jpeg.tar.gz'}, {data_dir / 'cifar10'} and "
      f"{data_dir / 'cifar10.npz'}. Set --config.data_dir to the folder holding one, or use "
      "--config.dataset=tfds:cifar10 to read it through TensorFlow Datasets (pip install stoc-jax[images]).")


def load_npz(path) -> ImageData:
  """An .npz with x_train, y_train, x_test, y_test (uint8 NHWC or NHW images)."""
  path = Path(os.path.expanduser(str(path)))
  if not path.exists():
    raise DataError(f"no such file: {path}")
  d = read_numpy(path)
  if not isinstance(d, dict):
    raise DataError(f"{path} is one array (an .npy file); give an .npz of x_train, y_train, x_test and y_test.")
  missing = {"x_train", "y_train", "x_test", "y_test"} - set(d)
  if missing:
    raise DataError(f"{path}: missing arrays {sorted(missing)}; found {sorted(d)}.")
  arrays = [d[k] for k in ("x_train", "y_train", "x_test", "y_test")]
  x_tr, y_tr, x_te, y_te = arrays
  if x_tr.ndim == 3:
    x_tr, x_te = x_tr[..., None], x_te[..., None]
  names = tuple(str(i) for i in range(int(max(y_tr.max(), y_te.max())) + 1))
  return ImageData(x_tr.astype(np.uint8), y_tr.astype(np.int64).ravel(), x_te.astype(np.uint8),
                   y_te.astype(np.int64).ravel(), names)


def load_digits(seed: int = 0) -> ImageData:
  """scikit-learn's bundled 8x8 digits (1797 images), split in half (seeded): the embedded default."""
  from sklearn.datasets import load_digits as sk_digits
  d = sk_digits()
  x = np.round(d.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
  order = np.random.default_rng(seed).permutation(len(x))
  half = len(x) // 2
  tr, te = order[:half], order[half:]
  return ImageData(x[tr], d.target[tr], x[te], d.target[te], tuple(str(i) for i in range(10)))


def load_tfds(name: str, data_dir=None, image_size: int = 0, holdout_per_class: int = 0) -> ImageData:
  """A TFDS image data set through `tfds.data_source` (random access; needs stoc-jax[images]).

  On a machine with network access TFDS downloads and prepares it on first use.
  `image_size` > 0 resizes every image as it is read (data sets of mixed sizes, such
  as cats_vs_dogs, need it). A data set without a test split (cats_vs_dogs again) needs
  `holdout_per_class` > 0: the last that many training images of each class become the
  test set (Golan & El-Yaniv 2018 hold out 2,500 a class of Cats-vs-Dogs).
  """
  try:
    import tensorflow_datasets as tfds
  except ImportError:
    raise DataError(f"dataset tfds:{name} needs TensorFlow Datasets: pip install 'stoc-jax[images]'.") from None
  splits = {}
  for split in ("train", "test"):
    try:
      source = tfds.data_source(name, split=split, data_dir=data_dir or None)
    except ValueError:
      if split == "test" and holdout_per_class > 0:
        break
      raise DataError(f"tfds:{name} has no {split!r} split; set --config.holdout_per_class "
                      "(e.g. 2500) to hold out the last images of each class as the test set.") from None
    xs, ys = [], []
    for ex in source:
      image = np.asarray(ex["image"], np.uint8)
      xs.append(_resized(image, image_size) if image_size else image)
      ys.append(int(ex["label"]))
    splits[split] = (_stack(xs, [f"{name}[{i}]" for i in range(len(xs))], f"tfds:{name}"), np.array(ys))
  if "test" not in splits:
    x, y = splits["train"]
    test = np.zeros(len(y), bool)
    for label in np.unique(y):
      test[np.flatnonzero(y == label)[-holdout_per_class:]] = True
    splits = {"train": (x[~test], y[~test]), "test": (x[test], y[test])}
  return ImageData(*splits["train"], *splits["test"], tuple(str(i) for i in range(max(splits["train"][1]) + 1)))


def _resized(image, size: int) -> np.ndarray:
  """One uint8 HWC image, bilinear-resized to size x size on the host (PIL)."""
  from PIL import Image
  squeeze = image.ndim == 3 and image.shape[-1] == 1
  pil = Image.fromarray(image[..., 0] if squeeze else image)
  out = np.asarray(pil.resize((size, size), Image.BILINEAR), np.uint8)
  return out[..., None] if squeeze else out


def load_images(dataset: str, data_dir=None, seed: int = 0, image_size: int = 0,
                holdout_per_class: int = 0) -> ImageData:
  """By config name: 'digits', 'cifar10', 'folder' (data_dir is the tree), 'npz' (data_dir is the file), 'tfds:NAME'."""
  if dataset == "digits":
    return load_digits(seed)
  if dataset == "cifar10":
    return load_cifar10(data_dir)
  if dataset == "folder":
    return load_image_folder(data_dir)
  if dataset == "npz":
    return load_npz(data_dir)
  if dataset.startswith("tfds:"):
    return load_tfds(dataset[5:], data_dir, image_size, holdout_per_class)
  raise DataError(f"unknown image dataset {dataset!r}; choose digits, cifar10, folder, npz or tfds:NAME "
                  "(e.g. tfds:cifar10, tfds:fashion_mnist, tfds:cats_vs_dogs).")


def load_configured(config) -> ImageData:
  """The data set of an image config (dataset, data_dir, seed, image_size, holdout_per_class), resized
  to image_size when it is set."""
  data = load_images(config.dataset, config.data_dir, seed=config.seed, image_size=config.image_size,
                     holdout_per_class=config.holdout_per_class)
  if config.image_size:
    data = data._replace(x_train=resize_images(data.x_train, config.image_size),
                         x_test=resize_images(data.x_test, config.image_size))
  return data


def configured_split(config) -> OneVsRest:
  """An image config's split: its data set, normal classes, anomaly_ratio and image limits."""
  split = one_vs_rest_split(load_configured(config), normal_classes_of(config), config.anomaly_ratio,
                            seed=config.seed)
  return limit_split(split, config.max_train_images, config.max_test_images, config.seed)


def limit_split(split, max_train_images: int, max_test_images: int, seed: int):
  """The first max_train_images training images and max_test_images test images drawn by seed (0: all)."""
  for name, value in (("max_train_images", max_train_images), ("max_test_images", max_test_images)):
    if value < 0:  # a negative count would slice images off the end
      raise ValueError(f"{name} must be 0 (all) or a positive count; got {value}.")
  if max_train_images:
    split = split._replace(x_train=split.x_train[:max_train_images], y_train=split.y_train[:max_train_images],
                           train_classes=split.train_classes[:max_train_images])
  if max_test_images:
    keep = np.random.default_rng(seed).permutation(len(split.x_test))[:max_test_images]
    split = split._replace(x_test=split.x_test[keep], y_test=split.y_test[keep])
  return split


def resize_images(x, size: int) -> np.ndarray:
  """Bilinear resize of uint8 NHWC images to size x size (done once, on the host)."""
  if x.shape[1] == size and x.shape[2] == size:
    return x
  import jax
  import jax.numpy as jnp
  out = jax.image.resize(jnp.asarray(x, jnp.float32), (len(x), size, size, x.shape[-1]), "bilinear")
  return np.asarray(jnp.clip(jnp.round(out), 0, 255)).astype(np.uint8)


class OneVsRest(NamedTuple):
  x_train: np.ndarray
  y_train: np.ndarray  # 1 where a training image is a swapped-in anomaly (for measuring refinement)
  x_test: np.ndarray
  y_test: np.ndarray  # 1 = anomaly (not the normal class)
  train_classes: np.ndarray  # each training image's class in the data set (for checks such as cluster purity)


def normal_classes_of(config) -> tuple:
  """The normal classes of an image config: `normal_classes` when not empty, else (`normal_class`,)
  where the config has that shorthand (CLAD's configs do not: there an empty tuple is an error)."""
  given = tuple(config.get("normal_classes") or ())
  if given:
    classes = tuple(int(c) for c in given)
    twice = sorted({c for c in classes if classes.count(c) > 1})
    if twice:
      raise ValueError(f"normal_classes lists {twice} more than once ({classes}): give each class once.")
    return classes
  if "normal_class" not in config:
    raise ValueError("normal_classes is empty: give the classes of the normal data, e.g. (0, 3, 8).")
  return (int(config.normal_class),)


def one_vs_rest_split(data: ImageData, normal_classes, anomaly_ratio: float, seed: int = 0) -> OneVsRest:
  """Training = the normal classes' training images with a fraction `anomaly_ratio` swapped for
  images of the other classes (training size unchanged); test = the whole test split, every
  image of another class an anomaly. `normal_classes`: one class or a tuple of them."""
  normal_classes = (normal_classes,) if np.isscalar(normal_classes) else tuple(normal_classes)
  check_anomaly_ratio(anomaly_ratio)
  if not normal_classes:
    raise ValueError("normal_classes is empty: give at least one class.")
  classes = np.unique(data.y_train)
  unknown = [c for c in normal_classes if c not in classes]
  if unknown:
    raise ValueError(f"normal class {unknown[0]} not among the classes {classes.tolist()}.")
  if len(set(normal_classes)) == len(classes):
    raise ValueError(f"normal_classes {normal_classes} hold every class; leave at least one class as anomalies.")
  rng = np.random.default_rng(seed)
  is_normal = np.isin(data.y_train, normal_classes)
  normals = rng.permutation(np.flatnonzero(is_normal))
  others = np.flatnonzero(~is_normal)
  n_swap = int(round(anomaly_ratio * len(normals)))
  if n_swap > len(others):
    raise ValueError(f"anomaly_ratio {anomaly_ratio} needs {n_swap} other-class images; only {len(others)}.")
  idx = np.concatenate([normals[n_swap:], rng.choice(others, n_swap, replace=False)])
  labels = np.r_[np.zeros(len(normals) - n_swap, np.int64), np.ones(n_swap, np.int64)]
  order = rng.permutation(len(idx))
  return OneVsRest(data.x_train[idx[order]], labels[order], data.x_test,
                   (~np.isin(data.y_test, normal_classes)).astype(np.int64), data.y_train[idx[order]])
