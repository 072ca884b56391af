"""STOC as a scikit-learn / PyOD-style outlier detector, and refinement as a data-cleaning tool.

    from stoc_jax import STOCDetector
    det = STOCDetector(contamination="auto").fit(X)      # X: unlabeled, possibly contaminated
    det.decision_scores_, det.labels_, det.refined_mask_  # on the training rows, each scored
                                                          # without itself (as PyOD's kNN)
    det.decision_function(X_new)                          # higher = more anomalous
    det.predict(X_new)                                    # 1 = anomaly, 0 = normal (PyOD convention)
    det.predict_proba(X_new)                              # [P(normal), P(anomaly)], as PyOD's

`representation`: None (standardised raw features), "goad" (a GOAD network trained
with refinement on tables), "contrastive" or "rotation" (a ResNet-18 trained with
refinement on images given as (N, H, W, C) arrays, by contrastive learning or by
predicting each image's rotation), or a callable mapping an array to features (e.g. a
pretrained embedding).

A fitted detector pickles, learned representations included (as their
architecture and weights), so it can be fitted once and score new data in
another process (`stoc-jax detect --save-model`, then `stoc-jax score`); a
callable representation must be picklable itself (a module-level function, not a lambda).
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
import warnings

import jax
import ml_collections
import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from stoc_jax import column_scaling, loop, occ, refine, table_models
from stoc_jax import contamination as contamination_lib
from stoc_jax.outlier_probability import OutlierProbabilityMixin
from stoc_jax.workdir import open_for_fit

# Learned on images by the ResNet-18 of stoc_jax.image_learner, with that objective.
IMAGE_REPRESENTATIONS = ("contrastive", "rotation")
REPRESENTATIONS = (None, "goad") + IMAGE_REPRESENTATIONS

# A row repeated this often (and at least 1 % of the rows) pulls a Gaussian's mean and covariance
# towards itself until it looks normal: refinement keeps it even when it is anomalous (KDD-Rev's
# copied attacks: benchmarks/tabular/RESULTS.md).
REPEAT_GROUP = 20
# Refinement's gamma when the estimate finds no contamination: the papers' gamma for clean data
# (0.5 %, refine.resolve_gamma).
CLEAN_GAMMA = 0.005
# With a workdir, a learned representation's training saves a checkpoint every this many steps: the
# most an interrupted fit loses (the CLI's 300 steps on 180 32 x 32 images took 144 s on 2 cores).
CHECKPOINT_STEPS = 50
# gamma = this x the estimated contamination on learned or given representations: 1 x was chosen over
# 2 x on every table held out in turn (benchmarks/tables/README.md); 2 x an estimate that is itself too
# high rejects most of the normals.
ESTIMATED_GAMMA_FACTOR = 1.0
# The table defaults below (gamma half the estimate, the kNN distance in refinement, the mean rank of an
# IsolationForest and the kNN distance as the final model, one round) are the candidate that 68 tables
# choose with each held out in turn (67 of the 68 choices), and that the first 37 choose; judged on the
# 31 made after them it ranked first of seven, on 27 made later third, behind ECOD and IsolationForest,
# on 25 from KEEL second, behind IsolationForest, on 9 from KEEL's standard collection first: over those
# 92 it ties IsolationForest (AUC +0.8, AP level; benchmarks/tables/README.md). Half the estimate because
# the estimate overshoots most where the normal rows are heavy-tailed, and a gamma that high rejects
# their rare normal rows.
ESTIMATED_GAMMA_FACTOR_TABLES = 0.5
# The final model on tables, fitted on the refined rows.
DEFAULT_OCC = ("iforest", "knn")
# Refinement's K models on tables: each part's kNN distance.
DEFAULT_REFINE_OCC = "knn"
# Rounds of refinement on tables (a second refits the column scaling on the rows the first kept:
# table_models.HostModels).
DEFAULT_REFINE_ROUNDS = 1
# On images the contamination is estimated on this many whitened principal components of the trained
# features: each of the estimate's K Gaussians sees a few dozen images, too few to fit the 512
# dimensions of the features themselves. Chosen on digits 0-2 among 4 to 32 components and checked
# on the held-out digit sets and the CIFAR-10 splits (benchmarks/images/RESULTS.md, section 4).
IMAGE_ESTIMATE_COMPONENTS = 8


def repeated_rows(X) -> dict:
  """How many rows of a table are exact copies of an earlier row, and the largest group of identical rows."""
  X = np.asarray(X)
  if X.dtype.kind == "f":
    X = X + 0.0  # -0.0 becomes 0.0, so the two compare equal as bytes
  # Each row as one opaque byte string: sorting those compares memory, where np.unique(axis=0)
  # compares column by column (10x slower on wide tables).
  X = np.ascontiguousarray(X)
  _, counts = np.unique(X.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel(), return_counts=True)
  return {"rows repeating an earlier row": int(len(X) - len(counts)),
          "largest group of identical rows": int(counts.max())}


@functools.cache
def _blas_controller():
  import scipy.linalg  # noqa: F401  (loads scipy's own OpenBLAS, so that the controller sees it)
  import threadpoolctl
  return threadpoolctl.ThreadpoolController()


def _one_blas_thread():
  """BLAS on one thread while the detector fits and scores. numpy and scipy each ship an OpenBLAS
  whose idle threads spin for a while after a call; alternating small calls between the two (a
  product, then a triangular solve) left each waiting on the other's threads: on 2 cores a Gaussian
  scored 10x slower, and a fit on 512 columns took 2.4x as long."""
  return _blas_controller().limit(limits=1, user_api="blas")


def _counted_repeats(X) -> dict:
  """repeated_rows(X), with a warning when the largest group is large."""
  counts = repeated_rows(X)
  largest = counts["largest group of identical rows"]
  if largest >= max(REPEAT_GROUP, 0.01 * len(X)):
    warnings.warn(f"{largest} rows are exact copies of one row. A one-class model fitted on them "
                  "counts every copy, so it takes such a row for normal and refinement keeps it; if such "
                  "repeats are suspicious, drop duplicate rows before fitting (pandas: "
                  "df.drop_duplicates()).", UserWarning, stacklevel=4)
  return counts


def check_image_shape(images, fitted_shape) -> None:
  """Images to score in the (H, W, C) a detector was fitted on: a ResNet would score another size
  regardless."""
  fitted_shape = tuple(fitted_shape)
  if images.shape[1:] != fitted_shape:
    fix = ("Resize them to the fitted size first" if images.shape[-1] == fitted_shape[-1] else
           f"Give them {fitted_shape[-1]} channel(s), as the fitted images have")  # resizing keeps the channels
    raise ValueError(f"images are {images.shape[1:]}; this detector was fitted on {fitted_shape}. {fix}.")


def image_stack(images, name="X") -> np.ndarray:
  """Images given as an array, or as a list of arrays, stacked; a list of images of several sizes
  refused with the sizes and the first image of another size (NumPy's own error names neither)."""
  if isinstance(images, (list, tuple)) and images:
    shapes = [np.shape(im) for im in images]
    if len(set(shapes)) > 1:
      first = next(i for i, s in enumerate(shapes) if s != shapes[0])
      sizes = ", ".join(f"{shapes.count(s)} of {s}" for s in sorted(set(shapes), key=shapes.index)[:4])
      raise ValueError(f"{name} holds images of several shapes ({sizes}; image {first} is the first that differs "
                       "from image 0); resize them to one size first, as `stoc-jax detect --images DIR --image-size "
                       "N` does.")
  return np.asarray(images)


def _as_uint8_images(X) -> np.ndarray:
  """Images as uint8: uint8 as they are, floats in [0, 1] scaled by 255; other ranges refused."""
  if X.dtype == np.uint8:
    return X
  if np.issubdtype(X.dtype, np.integer) and X.size and X.min() >= 0 and X.max() <= 255:
    return X.astype(np.uint8)
  if np.issubdtype(X.dtype, np.floating):
    if not np.isfinite(X).all():
      raise ValueError("images hold NaN or infinite values; an image representation takes finite pixels.")
    if X.size and (X.min() < 0.0 or X.max() > 1.0):
      raise ValueError(f"float images must lie in [0, 1] (got values in [{X.min():.3g}, {X.max():.3g}]); "
                       "pass uint8 pixels in 0-255, or divide by 255.")
    return np.round(X * 255.0).astype(np.uint8)
  raise ValueError(f"images must be uint8 (0-255) or floats in [0, 1]; got dtype {X.dtype}.")


def _check_frame(X):
  """A DataFrame's text columns, refused by name: scikit-learn's own error names only a value."""
  dtypes = getattr(X, "dtypes", None)
  if dtypes is None or not hasattr(dtypes, "items"):
    return
  import pandas as pd
  times = [str(c) for c, t in dtypes.items()
           if pd.api.types.is_datetime64_any_dtype(t) or isinstance(t, pd.PeriodDtype)]
  if times:  # as numbers they would make the earliest and latest rows look anomalous
    raise ValueError(f"X has date or time columns {times[:10]}; STOCDetector takes numbers. Drop them, or "
                     "derive what matters from them (X[c].dt.hour, X[c].dt.weekday).")
  durations = [str(c) for c, t in dtypes.items() if pd.api.types.is_timedelta64_dtype(t)]
  if durations:
    raise ValueError(f"X has duration columns {durations[:10]}; STOCDetector takes numbers. Give them as "
                     "numbers of one unit: X[c].dt.total_seconds().")

  def text_values(column):  # numbers held as text ("0.5") are read as numbers, as in an array
    return (pd.to_numeric(column, errors="coerce").isna() & column.notna()).any()
  # bool counts as numeric
  text = [str(c) for c, t in dtypes.items() if not pd.api.types.is_numeric_dtype(t) and text_values(X[c])]
  if text:
    raise ValueError(f"X has text columns {text[:10]}; STOCDetector takes numbers. One-hot encode them "
                     "(pandas.get_dummies(X)), or read the file with stoc_jax.data.table_file.load_table, which does.")


def _check_text_values(X):
  """An array or list holding text, refused with the columns that hold it (scikit-learn's own error
  names only a value, as with a DataFrame's text columns)."""
  if not isinstance(X, (np.ndarray, list, tuple)):
    return
  values = np.asarray(X, dtype=object) if isinstance(X, (list, tuple)) else X
  if values.ndim != 2 or values.dtype.kind not in "OUS":
    return

  def number(v):  # only strings count as text; other objects are left to scikit-learn's checks
    if not isinstance(v, (str, bytes)):
      return True
    try:
      float(v)
      return True
    except ValueError:
      return False

  text = [j for j in range(values.shape[1]) if not all(map(number, values[:, j]))]
  if text:
    example = next(v for v in values[:, text[0]] if not number(v))
    raise ValueError(f"X holds text in columns {text[:10]} (e.g. {example!r}); STOCDetector takes numbers. "
                     f"One-hot encode them (pandas.get_dummies(pandas.DataFrame(X), columns={text[:10]})), or read "
                     "the file with stoc_jax.data.table_file.load_table, which does.")


def _check_ndim(X):
  """A table must be 2-D: said in one line (scikit-learn's own error prints the whole array; its
  estimator checks look for "Reshape your data")."""
  if isinstance(X, (list, tuple)):
    rows = np.asarray(X, dtype=object)
    if rows.ndim == 1 and any(isinstance(r, (list, tuple, np.ndarray)) for r in rows):
      raise ValueError(f"X's rows differ in length ({sorted({len(r) for r in rows if hasattr(r, '__len__')})[:5]} "
                       "values); give every row the same columns.")
    ndim = rows.ndim
  elif X is None or isinstance(X, (str, bytes, numbers.Number)):
    ndim = 0
  else:
    ndim = getattr(X, "ndim", 2)  # anything else: scikit-learn's checks say what is wrong
  if ndim == 0:  # scikit-learn's own error reads None as "array=nan" and a string as a failed float
    raise ValueError(f"X must be 2-D, (n_samples, n_features); got a single value, {type(X).__name__} "
                     f"{str(X)[:40]!r}: give rows of columns (an array, a list of rows or a DataFrame).")
  if ndim == 1:
    raise ValueError(f"X must be 2-D, (n_samples, n_features); got a 1-D array of {len(X)} values. "
                     "Reshape your data: X.reshape(-1, 1) for one feature, X.reshape(1, -1) for one sample.")
  if ndim > 2:
    raise ValueError(f"X must be 2-D, (n_samples, n_features); got shape {np.shape(X)}: flatten each sample "
                     "(X.reshape(len(X), -1)), or for images pass representation='rotation' or 'contrastive'.")


def _check_finite(X, names=None):
  """NaN or infinite values, refused with where they are."""
  bad = ~np.isfinite(X)
  if bad.any():
    rows, cols = np.flatnonzero(bad.any(axis=1)), np.flatnonzero(bad.any(axis=0))
    where = [str(names[c]) for c in cols[:10]] if names is not None else cols[:10].tolist()
    raise ValueError(f"X holds NaN or inf in {len(rows)} rows (first: {rows[:5].tolist()}) and columns {where}; "
                     "impute or drop them first (sklearn.impute.SimpleImputer, or DataFrame.dropna()).")


def _resolve_contamination(contamination):
  if isinstance(contamination, str):
    if contamination != "auto":
      raise ValueError(f"contamination must be 'auto' or a fraction in (0, 0.5]; got {contamination!r}"
                       f"{contamination_lib.percent_hint(contamination)}.")
    return "auto"
  if not isinstance(contamination, numbers.Real) or not 0.0 < contamination <= 0.5:
    raise ValueError(f"contamination must be 'auto' or a fraction in (0, 0.5]; got {contamination!r}"
                     f"{contamination_lib.percent_hint(contamination)}.")
  return float(contamination)


def check_random_state(value) -> None:
  """The detectors' seed: an integer in [0, 2**32 - 1] (NumPy's own error for -1 says only "expected
  non-negative integer", and scikit-learn's IsolationForest refuses a larger seed in its own words)."""
  if not isinstance(value, numbers.Integral) or isinstance(value, bool) or not 0 <= value < 2**32:
    raise ValueError(f"random_state must be an integer from 0 to 2**32 - 1 (the seed); got {value!r}.")


def features_as_given(X):
  """The representation of a table whose columns are already features, such as a pretrained network's
  embeddings: `STOCDetector(representation=features_as_given)` uses them as they are, unscaled, with a
  Gaussian as the final model. Standardising hundreds of rarely active ReLU features costs a Gaussian
  about 4 AUC on MVTec AD's ResNet-18 features (benchmarks/images/RESULTS.md). A module-level
  function, unlike a lambda, pickles, so a detector fitted with it can be saved."""
  return np.asarray(X)


def refine_dataset(X, *, contamination="auto", num_models: int = 5, gamma=None, random_state: int = 0,
                   **params) -> dict:
  """Data cleaning: which rows of an unlabeled table look normal to every one of K one-class models.

  This is `STOCDetector`'s refinement alone, with its defaults and its parameters (`params`):
  the contamination estimated without labels unless given, gamma from it, each of the K models
  fitted on a disjoint 1/K of the rows (with refine_rounds=2, a second round with the columns
  rescaled on the rows the first kept). No final model is fitted. Returns a dict:

  * `keep`: bool per row, the rows every model of the last round calls normal;
  * `rejected_by`: per row, how many of the K models rejected it;
  * `scores` (K, N): each model's anomaly score of every row (its own part's rows scored
    without themselves where the model can), and `thresholds` (K,), each model's cut (STOC Eq. 2);
  * `assignment`: the part each row helped fit;
  * `gamma`: the fraction each model rejected (on images with contamination="auto", twice the
    fraction above Otsu's cut); `contamination`: the estimate (on images, read from the trained
    representation's features as the detector's is) or the value given;
  * `rounds`: each round's record (rows kept, gamma).
  """
  det = STOCDetector(contamination=contamination, num_models=num_models, gamma=gamma,
                     random_state=random_state, **params)
  if not det.refine:
    raise ValueError("refine_dataset refines: leave refine=True.")
  with _one_blas_thread():
    features, given, gamma, estimate = det._prepare(X)
    trained = det._run_stoc(features, gamma, final_occ=loop.ENSEMBLE)
    if estimate is None and given == "auto":
      estimate = det._estimate_on_trained_features(trained, features)
  last = trained.last_refinement
  return {"keep": trained.mask, "rejected_by": last["rejected_by"], "scores": last["scores"],
          "thresholds": last["thresholds"], "assignment": last["assignment"], "gamma": float(trained.gamma),
          "contamination": given if estimate is None else estimate, "rounds": trained.rounds}


def _trained_features(trained, x) -> np.ndarray:
  """The first view of a trained representation's features of x, one entry per row."""
  return np.asarray(loop.first_view(trained.features(x)), np.float64)[:len(x)]  # a sharded learner pads


class STOCDetector(OutlierProbabilityMixin, OutlierMixin, BaseEstimator):
  """Self-trained one-class classifier (STOC / SRR) with the PyOD / scikit-learn interface.

  Parameters
  ----------
  representation : None, "goad", "contrastive", "rotation" or callable. On images, "contrastive"
      trains a ResNet-18 by SimCLR's loss, "rotation" by predicting which of 4 rotations each image
      shows (twice the compute a step: 4 views of each image against 2)
  occ : the final one-class model, fitted on the refined rows: "gde", "knn" (distance to the
      n_neighbors-th nearest row), "iforest", "ecod" (empirical tail probabilities), "kde", "ocsvm",
      "ocsvm_linear"; any object with scikit-learn's fit / score_samples or PyOD's fit /
      decision_function (cloned for each fit); or a list or tuple of these, scored by the mean of
      their rank-normalised scores. None: ("iforest", "knn") on tables, "gde" on representations,
      learned or given (a callable). representation="goad" takes "gde" only, the image
      representations the names "gde", "kde", "ocsvm", "ocsvm_linear".
  refine_occ : the K one-class models of refinement, in the same forms. None: "knn" (each part's
      kNN distance) on tables and callable features; learned representations take "gde" only
  n_neighbors : the k of "knn", in refinement and the final model: 10, chosen on benchmarks/tables/
      with each table held out in turn (PyOD's KNN uses 5). A "knn" measures to at most 4,000 rows in
      refinement and 20,000 in the final model, a random subset beyond, so a fit grows linearly past
      20,000 rows (table_models.REFINEMENT_KNN_ROWS, FINAL_KNN_ROWS)
  num_models : K, the size of the refinement ensemble (each fitted on a disjoint 1/K of the rows)
  gamma : fraction each ensemble member rejects, "otsu" to estimate it, or None for
      gamma_factor x contamination (x the estimate when contamination="auto"; 0.005 when that is 0;
      on images with contamination="auto", "otsu")
  gamma_factor : see gamma. None: 2 for a given contamination (the papers' gamma = 2 x ratio);
      for an estimated one 0.5 on tables and 1 on a representation (chosen on benchmarks/tables/,
      tables held out)
  contamination : "auto" (estimated without labels: `stoc_jax.contamination`; on images from the
      leading principal components of the trained representation's features, refinement's gamma
      meanwhile from Otsu's cut on its scores) or the expected anomaly fraction; sets `threshold_`
      and `labels_`
  convention : "pyod" (default): `decision_function` is the anomaly score (higher = more
      anomalous) and `predict` returns 1 for anomalies, 0 for normal rows. "sklearn":
      scikit-learn's outlier-detector contract, `predict` returns -1 for anomalies and
      +1 for inliers and `decision_function` is positive for inliers; use it inside
      scikit-learn tooling. `labels_` (0/1) and `score_samples` (higher = more normal)
      mean the same under both. `decision_scores_`, the training rows' anomaly scores: under
      "pyod" each kept row is scored without itself (PyOD's kNN does the same), under
      "sklearn" as `predict` scores it, so `fit(X).predict(X)` equals `fit_predict(X)`; they
      differ only for final models in which a row can be its own neighbour (kNN, KDE).
  refine : False turns refinement off (the plain OCC baseline)
  refine_rounds : representation=None only: rounds of refinement, the column scaling (the
      representation STOC re-learns on tables) refitted on the rows kept between rounds, so the
      anomalies removed no longer stretch the columns they lie far out on; 1 scales by all rows.
      None: 1, chosen on benchmarks/tables/ with each table held out in turn (2 lifts some tables
      whose anomalies lie far out in a few columns, and costs others their rare normal rows)
  scaling : "standard" (each column's mean and std) or "robust" (median and IQR / 1.349), the
      scaling of table columns for representation="goad", occ="kde" / "ocsvm" and refinement.
      "robust" keeps a few extreme anomalies from inflating a skewed column's std (on
      Thyroid at 1.5 % it lifted the pipeline's STOC with GOAD from 46.8 to 66.8 F1). Avoid it for columns
      that are almost constant with rare large values, where the IQR is tiny (it broke GOAD
      on KDD Cup).
  train_steps, num_transforms, learning_rate : the learned representations' budget
      (`stoc-jax detect` trains for 300 steps unless given --train-steps, cli.TRAIN_STEPS)
  image_width : the image ResNet-18's channel multiplier: 0.25 (default) trains on a CPU in minutes;
      SRR's networks are 1.0: 4x the channels, 15x the FLOPs and time a step on a CPU
      (benchmarks/images/RESULTS.md, section 2)
  random_state : seed; the same seed gives the same result
  workdir : a folder (or gs:// URL) for checkpoints of a learned representation's training (goad,
      contrastive, rotation), every CHECKPOINT_STEPS steps: a fit interrupted there resumes where it
      stopped, to the result of an uninterrupted one. It holds one fit: another data set, seed or setting
      is refused. None (default): no checkpoints
  """

  def __init__(self, representation=None, occ=None, refine_occ=None, n_neighbors=10, num_models=5, gamma=None,
               gamma_factor=None, contamination="auto", refine=True, refine_rounds=None, convention="pyod",
               scaling="standard", train_steps=512, num_transforms=32, learning_rate=0.1, image_width=0.25,
               random_state=0, workdir=None):
    self.representation = representation
    self.occ = occ
    self.refine_occ = refine_occ
    self.n_neighbors = n_neighbors
    self.num_models = num_models
    self.gamma = gamma
    self.gamma_factor = gamma_factor
    self.contamination = contamination
    self.refine = refine
    self.refine_rounds = refine_rounds
    self.convention = convention
    self.scaling = scaling
    self.train_steps = train_steps
    self.num_transforms = num_transforms
    self.learning_rate = learning_rate
    self.image_width = image_width
    self.random_state = random_state
    self.workdir = workdir

  # ----------------------------------------------------------------- fitting

  def _validate(self):
    if not (self.representation in REPRESENTATIONS or callable(self.representation)):
      raise ValueError(f"representation must be None, 'goad', 'contrastive', 'rotation' or a callable; "
                       f"got {self.representation!r}.")
    if self._on_host():
      table_models.check_spec(self._occ())
      table_models.check_spec(self._refine_occ())
    elif self._on_images() and self._occ() not in occ.FINAL_OCCS:
      raise ValueError(f"occ must be one of {occ.FINAL_OCCS} with representation={self.representation!r}; "
                       f"got {self._occ()!r}.")
    if not self._on_host() and self._refine_occ() != "gde":
      raise ValueError(f"refine_occ={self.refine_occ!r} needs representation=None or a callable; "
                       "refinement of learned representations uses its GDEs.")
    if self.representation == "goad" and self._occ() != "gde":
      raise ValueError(f"occ={self._occ()!r} does not apply with representation='goad': its final model is one "
                       "GDE per GOAD projection. Use occ='gde', or representation=None for a "
                       f"{self._occ()} on the scaled columns.")
    if self.scaling not in ("standard", "robust"):
      raise ValueError(f"scaling must be 'standard' or 'robust'; got {self.scaling!r}.")
    if self.convention not in ("pyod", "sklearn"):
      raise ValueError(f"convention must be 'pyod' or 'sklearn'; got {self.convention!r}.")
    if not isinstance(self.n_neighbors, numbers.Integral) or self.n_neighbors < 1:
      raise ValueError(f"n_neighbors must be a positive integer; got {self.n_neighbors!r}.")
    if self.refine_rounds is not None:
      if not isinstance(self.refine_rounds, numbers.Integral) or self.refine_rounds < 1:
        raise ValueError(f"refine_rounds must be a positive integer or None; got {self.refine_rounds!r}.")
      if self.representation is not None:
        raise ValueError("refine_rounds applies to representation=None (the scaled columns); a learned "
                         "representation refines on its training schedule (train_steps). Leave it None.")
    if not isinstance(self.num_models, numbers.Integral) or self.num_models < 1:
      raise ValueError(f"num_models must be a positive integer; got {self.num_models!r}.")
    if self.workdir is not None and self._on_host():
      raise ValueError("workdir checkpoints a learned representation's training (representation='goad', "
                       "'contrastive' or 'rotation'); a fit on the columns or given features has none to "
                       "resume. Leave workdir None.")
    check_random_state(self.random_state)
    if self.representation == "goad" or self._on_images():  # the learned representations' budget
      for name, low in (("train_steps", 0), ("num_transforms", 1)):
        value = getattr(self, name)
        if not isinstance(value, numbers.Integral) or value < low:
          raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
      for name in ("learning_rate", "image_width"):
        value = getattr(self, name)
        if not isinstance(value, numbers.Real) or not value > 0:
          raise ValueError(f"{name} must be a positive number; got {value!r}.")
    if self.gamma_factor is not None and (not isinstance(self.gamma_factor, numbers.Real)
                                          or not 0 < self.gamma_factor < np.inf):
      raise ValueError(f"gamma_factor must be a positive number or None; got {self.gamma_factor!r}.")
    if not isinstance(self.refine, (bool, np.bool_)):  # "no" or None would read as True or False unsaid
      raise ValueError(f"refine must be True or False; got {self.refine!r}.")
    contamination = _resolve_contamination(self.contamination)
    gamma = self.gamma
    if gamma is None:
      gamma = "otsu" if contamination == "auto" else min(self._gamma_factor(False) * contamination, 0.99)
    return contamination, refine.resolve_gamma(gamma)

  def _check_X(self, X, fitting=False):
    if self._on_images():
      X = image_stack(X)
      if X.ndim == 3:
        X = X[..., None]
      if X.ndim != 4:
        raise ValueError(f"representation={self.representation!r} takes images (N, H, W, C); got shape {X.shape}.")
      X = _as_uint8_images(X)
      if fitting:
        self.image_shape_ = X.shape[1:]
      elif hasattr(self, "image_shape_"):  # not in a detector pickled before it was recorded
        check_image_shape(X, self.image_shape_)
      return X
    if callable(self.representation):
      return X
    _check_frame(X)
    _check_ndim(X)
    _check_text_values(X)
    try:
      X = validate_data(self, X, dtype=np.float64, reset=fitting, ensure_all_finite=False)
    except ValueError as e:  # scikit-learn's own error prints the whole array; its checks match the phrase
      if not str(e).startswith("Complex data not supported"):
        raise
      raise ValueError("Complex data not supported: X holds complex numbers; give their real and imaginary "
                       "parts as columns (np.c_[X.real, X.imag]) or their magnitudes (np.abs(X)).") from None
    _check_finite(X, getattr(self, "feature_names_in_", None))
    largest = float(np.abs(X).max(initial=0.0))
    if largest > column_scaling.MAX_ABS_VALUE:
      raise ValueError(f"X holds a value of magnitude {largest:.3g}: beyond {column_scaling.MAX_ABS_VALUE:g} the "
                       "squares that scaling and distances sum overflow float64. Divide those columns by a power "
                       "of ten.")
    return X

  def fit(self, X, y=None):
    """Fits on unlabeled X (y is ignored: STOC never sees labels)."""
    with _one_blas_thread():
      return self._fit(X)

  def _prepare(self, X):
    """What refinement starts from: (the learner's input features, the contamination asked for
    ("auto" or a fraction), refinement's gamma, the contamination estimate or None where none is made)."""
    contamination, gamma = self._validate()
    X = self._check_X(X, fitting=True)
    n = len(X)
    if n < 2 * self.num_models:
      raise ValueError(f"STOCDetector needs at least 2 x num_models = {2 * self.num_models} samples "
                       f"(got n_samples = {n}); lower num_models or pass more data.")
    # Tables only (images are rarely copied exactly); kept for reports such as stoc-jax detect's.
    self.repeated_rows_ = _counted_repeats(X) if np.ndim(X) == 2 else None
    features = self._input_features(X, fitting=True)
    estimate = None
    if contamination == "auto" and not self._on_images():
      estimate = self._estimate(features)
      if self.gamma is None:
        gamma = min(max(self._gamma_factor(True) * estimate, CLEAN_GAMMA), 0.5)
    return features, contamination, gamma, estimate

  def _fit(self, X):
    features, contamination, gamma, estimate = self._prepare(X)
    self._model = self._run_stoc(features, gamma)
    self.refined_mask_, self.refinement_ = self._model.mask, self._model.rounds
    self.gamma_ = self._model.gamma
    self.decision_scores_ = self._model.train_scores
    if self.convention == "sklearn":
      # scikit-learn's contract, fit(X).predict(X) == fit_predict(X): the training rows scored as new
      # rows, so a kept row may be its own nearest neighbour.
      self.decision_scores_ = np.asarray(self._model.score(features), np.float64)
    if estimate is None and contamination == "auto":
      estimate = self._estimate_on_trained_features(self._model, features)
    self.contamination_ = contamination if estimate is None else max(estimate, contamination_lib.MIN_CONTAMINATION)
    self.threshold_ = float(np.quantile(self.decision_scores_, 1.0 - self.contamination_))
    self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)
    self.offset_ = -self.threshold_  # sklearn: decision_function = score_samples - offset_
    return self

  def _estimate_on_trained_features(self, trained, features) -> float:
    """Images: the tables' estimate on the leading whitened principal components of the trained
    representation's features of the training images (`IMAGE_ESTIMATE_COMPONENTS`). Refinement's
    gamma came from Otsu's cut (there are no features before training)."""
    x = _trained_features(trained, features)
    return self._estimate(contamination_lib.leading_components(x.reshape(len(x), -1), IMAGE_ESTIMATE_COMPONENTS))

  def _estimate(self, x) -> float:
    """`contamination.estimate_contamination` of scaled rows, with this detector's K and seed."""
    return contamination_lib.estimate_contamination(x, min(self.num_models, len(x) // 2), self.random_state)

  def _run_stoc(self, features, gamma, final_occ=None):
    """The one STOC loop on this detector's learner, config and seed; `refine_dataset` runs it too,
    so that its rows kept are the detector's."""
    config = _learner_config(self)
    if self.workdir is not None:
      config.checkpoint_every_steps = CHECKPOINT_STEPS
    with open_for_fit(self.workdir, config, {"data": features}, self.random_state, gamma) as workdir:
      return loop.run_stoc(self._make_learner(features), features, config, key=jax.random.key(self.random_state),
                           gamma=gamma, final_occ=final_occ, workdir=workdir)

  def _on_images(self):
    return isinstance(self.representation, str) and self.representation in IMAGE_REPRESENTATIONS

  def _on_host(self):
    """Tables and callable features: every one-class model is fitted on the host."""
    return self.representation is None or callable(self.representation)

  def _occ(self):
    if self.occ is not None:
      return self.occ
    # A representation, learned or given, gets the papers' Gaussian: on MVTec AD's pretrained
    # features the table default scored 74.6 AUC, the representation path 80.7
    # (benchmarks/images/RESULTS.md).
    return DEFAULT_OCC if self.representation is None else "gde"

  def _refine_occ(self):
    if self.refine_occ is not None:
      return self.refine_occ
    return DEFAULT_REFINE_OCC if self._on_host() else "gde"

  def _refine_rounds(self) -> int:
    if self.representation is not None or not self.refine:  # no scaling of the detector's to refit
      return 1
    return DEFAULT_REFINE_ROUNDS if self.refine_rounds is None else int(self.refine_rounds)

  def _gamma_factor(self, estimated: bool) -> float:
    if self.gamma_factor is not None:
      return float(self.gamma_factor)
    if not estimated:
      return 2.0
    return ESTIMATED_GAMMA_FACTOR_TABLES if self.representation is None else ESTIMATED_GAMMA_FACTOR

  def _make_learner(self, features):
    # The learned representations' modules (Flax, optax, the networks) only where they are used: a
    # table's fit imports none of them, 0.8 s of every `stoc-jax detect` on a table.
    cfg = _learner_config(self)
    if self._on_host():
      return table_models.HostModels(self._refine_occ(), self._occ(), self.random_state, self.n_neighbors,
                                     rounds=self._refine_rounds(), robust=self.scaling == "robust")
    if self.representation == "goad":
      from stoc_jax import goad
      return goad.GOADLearner(cfg.goad, features.shape[1], train_steps=cfg.train_steps,
                              steps_per_jit=cfg.steps_per_jit)
    if self._on_images():
      from stoc_jax import image_learner, sharding
      mesh = sharding.make_mesh()
      cfg.batch_size = min(cfg.batch_size, len(features) // mesh.devices.size * mesh.devices.size)
      return image_learner.ImageLearner(cfg, features.shape[1:], mesh)
    raise AssertionError(self.representation)  # _validate admits nothing else

  def _input_features(self, X, fitting=False):
    """What the learner takes: scaled columns, the callable's features, or uint8 images."""
    if callable(self.representation):
      features = self.representation(X)
      with np.errstate(over="ignore"):  # values beyond float32 become inf, refused below with their rows
        feats = np.asarray(features, np.float32)
      if feats.ndim != 2:
        raise ValueError(f"the representation callable must return (N, D) features, a row per input; it returned "
                         f"shape {feats.shape}.")
      if hasattr(X, "__len__") and len(feats) != len(X):  # scores would be of other rows than X's
        raise ValueError(f"the representation callable returned {len(feats)} rows of features for {len(X)} inputs; "
                         "it must return a row per input, in their order.")
      bad = ~np.isfinite(feats).all(axis=1)
      if bad.any():
        raise ValueError(f"the representation callable returned NaN or infinite features in {int(bad.sum())} rows "
                         f"(first: {np.flatnonzero(bad)[:5].tolist()}); features are read as float32, so values "
                         "beyond 3.4e38 are infinite too.")
      if fitting:
        self.feature_dim_ = feats.shape[1]
      elif feats.shape[1] != getattr(self, "feature_dim_", feats.shape[1]):
        raise ValueError(f"the representation gave {feats.shape[1]} features per row; this detector was "
                         f"fitted on {self.feature_dim_}. Give rows of the shape it was fitted on.")
      return feats
    if self._on_images():
      return X
    if fitting:
      self.mean_, self.scale_ = column_scaling.scaling_statistics(X, robust=self.scaling == "robust")
    return ((X - self.mean_) / self.scale_).astype(np.float32)

  # ----------------------------------------------------------------- scoring

  def anomaly_score(self, X):
    """Anomaly scores of X: higher = more anomalous, under either convention."""
    check_is_fitted(self, "threshold_")
    with _one_blas_thread():
      return self._model.score(self._input_features(self._check_X(X)))

  def features(self, X) -> np.ndarray:
    """What the final one-class model reads of X, as a float64 array with one entry per row: a table's
    columns in the scaling of refinement's last round, the callable's features, GOAD's (N, M, hidden)
    features or an image representation's (N, D) L2-normalised features (for a learner of several
    views, the first). For embeddings of images to plot, cluster or hand to another detector."""
    check_is_fitted(self, "threshold_")
    with _one_blas_thread():
      return _trained_features(self._model, self._input_features(self._check_X(X)))

  def decision_function(self, X):
    """PyOD: the anomaly score (higher = more anomalous). sklearn: threshold - score (< 0 = outlier)."""
    scores = self.anomaly_score(X)
    return scores if self.convention == "pyod" else self.threshold_ - scores

  def score_samples(self, X):
    """Normality (higher = more normal), scikit-learn's convention."""
    return -self.anomaly_score(X)

  def predict(self, X, return_confidence=False):
    """PyOD: 1 anomaly / 0 normal. sklearn: -1 anomaly / +1 inlier. Anomaly = score above threshold_.
    return_confidence: also each label's confidence, as PyOD's (`predict_confidence`)."""
    scores = self.anomaly_score(X)
    if return_confidence:
      return self._labels(scores), self.score_confidence(scores)
    return self._labels(scores)

  def fit_predict(self, X, y=None):
    return self._labels(self.fit(X).decision_scores_)

  def _labels(self, scores):
    outlier = scores > self.threshold_
    if self.convention == "pyod":
      return outlier.astype(int)
    return np.where(outlier, -1, 1)

  def __sklearn_tags__(self):
    tags = super().__sklearn_tags__()
    tags.input_tags.allow_nan = False
    tags.non_deterministic = False
    return tags

  def __getstate__(self):
    # A learned representation is kept as its settings and plain NumPy weights, not as NNX graph
    # objects, so a pickled detector loads in another process (and survives Flax changes to graph
    # internals). The optimiser state is dropped.
    state = self.__dict__.copy()
    if "_model" in state:
      model = state["_model"]
      export = getattr(model.learner, "export_state", None)
      state["_model"] = dataclasses.replace(model, state=export(model.state) if export else model.state)
    return state

  def __setstate__(self, state):
    model = state.get("_model")
    if model is not None and hasattr(model.learner, "import_state"):
      state["_model"] = dataclasses.replace(model, state=model.learner.import_state(model.state))
    self.__dict__.update(state)


def _learner_config(det) -> ml_collections.ConfigDict:
  """The training settings of the learned representations, at the detector's budget."""
  from stoc_jax import configs
  if not det._on_images():
    c = configs.tabular_defaults()
    c.final_occ = "model" if det._on_host() else det._occ()
    c.goad.num_transforms = det.num_transforms
    c.goad.learning_rate = det.learning_rate
    c.goad.clip_grad_norm = 1.0  # lr 0.1's first steps can otherwise diverge (goad.make_optimizer)
  else:
    c = configs.image_defaults()
    c.objective = det.representation
    c.model.width = det.image_width
    c.model.head_hidden, c.model.head_depth, c.model.head_out = 128, 2, 64
    c.optimizer.learning_rate = det.learning_rate
    c.batch_size = 32
    c.train_epochs = 0
    c.final_occ = det._occ()
  c.train_steps = det.train_steps
  c.refine.enabled = bool(det.refine)
  c.refine.num_models = det.num_models
  c.refine.if_nothing_kept = "keep_all"
  if det._on_host():
    # One round on the scaling of all rows, then one after each refit of it (HostModels' steps).
    rounds = det._refine_rounds()
    c.refine.before_training = rounds > 1
    c.refine.schedule_steps = tuple(range(1, rounds - 1))
  else:
    c.refine.schedule_steps = tuple(s for s in (det.train_steps // 8, det.train_steps // 4, det.train_steps // 2)
                                    if s > 0)
  c.checkpoint_every_steps = 0
  return c
