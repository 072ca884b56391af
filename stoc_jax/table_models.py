"""One-class models of table rows, fitted and scored on the host (NumPy / scikit-learn).

A table's refinement fits K + 1 small models; compiling an XLA program for each new
table shape would cost more than fitting them (seconds against milliseconds), so the
detector's models on tables run here. Each model has

* `fit(X) -> self`;
* `score(X) -> (M,)` anomaly scores, higher = more anomalous;
* `fit_scores_`: the scores of the rows it was fitted on, out of sample where the model
  would otherwise see the row itself (a row is its own nearest neighbour).

`make_model(spec, random_state, n_neighbors)` builds one from a name ("gde", "knn", "iforest",
"ecod", "kde", "ocsvm", "ocsvm_linear"), from any object with scikit-learn's
`fit` / `score_samples` or PyOD's `fit` / `decision_function` (cloned for every fit,
no dependency on PyOD), or from a list of those: `RankEnsemble`, the mean of their
rank-normalised scores.
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np

from stoc_jax.column_scaling import scaling_statistics
from stoc_jax.loop import FixedFeatures

NAMES = ("gde", "knn", "iforest", "ecod", "kde", "ocsvm", "ocsvm_linear")


class GaussianModel:
  """One full-covariance Gaussian (the GDE of `occ`, in float64 on the host); the score is the
  negative log-likelihood. The covariance is shrunk towards a scaled identity by the Oracle
  Approximating Shrinkage (Chen et al. 2010), which keeps it invertible with fewer rows than
  columns and, unlike Ledoit-Wolf's estimate, needs no pass over fourth moments (5x faster)."""

  def fit(self, X):
    from sklearn.covariance import OAS
    X = np.asarray(X, np.float64)
    n, d = X.shape
    # No precision matrix: the Cholesky factor below replaces it, and its eigh cost 20x the fit.
    shrunk = OAS(store_precision=False).fit(X)
    self.mean_ = shrunk.location_
    if n < d:
      # Fewer rows than columns: the shrunk covariance is nu * I plus a rank-n term, so Woodbury's
      # identity scores with an n x n factor in place of a d x d one.
      centred, rho = X - self.mean_, shrunk.shrinkage_
      # Shrinkage keeps the trace: trace(covariance) / d is OAS's target scale, trace(S) / d.
      self.nu_ = rho * np.trace(shrunk.covariance_) / d + 1e-6
      self.basis_ = math.sqrt((1.0 - rho) / n) * centred  # the covariance is nu I + basis' basis
      self.chol_ = np.linalg.cholesky(self.nu_ * np.eye(n) + self.basis_ @ self.basis_.T)
      self.log_det_ = (d - n) * math.log(self.nu_) + 2.0 * np.log(np.diag(self.chol_)).sum()
    else:
      self.basis_ = None
      self.chol_ = np.linalg.cholesky(shrunk.covariance_ + 1e-6 * np.eye(d))
      self.log_det_ = 2.0 * np.log(np.diag(self.chol_)).sum()
    self.fit_scores_ = self.score(X)
    return self

  def mahalanobis2(self, X):
    """Each row's squared Mahalanobis distance from the mean."""
    from scipy.linalg import solve_triangular
    diff = np.asarray(X, np.float64) - self.mean_
    if self.basis_ is None:
      y = solve_triangular(self.chol_, diff.T, lower=True)
      return np.einsum("ij,ij->j", y, y)
    v = solve_triangular(self.chol_, self.basis_ @ diff.T, lower=True)
    return (np.einsum("ij,ij->i", diff, diff) - np.einsum("ij,ij->j", v, v)) / self.nu_

  def score(self, X):
    """The negative log-likelihood of each row."""
    return 0.5 * (self.mahalanobis2(X) + self.log_det_ + len(self.mean_) * math.log(2 * math.pi))


class KNNDistance:
  """Distance to the k-th nearest fitted row (PyOD's KNN, method "largest").

  With `max_rows`, the distance is to a random `max_rows` of the fitted rows when there are more
  (Zimek et al., "Subsampling for efficient and effective unsupervised outlier detection
  ensembles", KDD 2013), so scoring N rows costs N x max_rows distances instead of N x N."""

  def __init__(self, n_neighbors: int = 5, max_rows: int | None = None, random_state: int = 0):
    if max_rows is not None and max_rows < 2:
      raise ValueError(f"max_rows must be at least 2 (a row and a neighbour), or None; got {max_rows}.")
    self.n_neighbors, self.max_rows, self.random_state = n_neighbors, max_rows, random_state

  def fit(self, X):
    from sklearn.neighbors import NearestNeighbors
    X = np.asarray(X, np.float64)
    n = len(X)
    reference = np.arange(n)
    if self.max_rows is not None and n > self.max_rows:
      reference = np.sort(np.random.default_rng(self.random_state).choice(n, self.max_rows, replace=False))
    self.k_ = max(1, min(self.n_neighbors, len(reference) - 1))
    # Brute force (chunked by scikit-learn): as fast as a tree in many dimensions, up to 2.5x faster in few.
    self.nn_ = NearestNeighbors(n_neighbors=self.k_, algorithm="brute").fit(X[reference])
    self.fit_scores_ = np.empty(n, np.float64)
    self.fit_scores_[reference] = self.nn_.kneighbors(n_neighbors=self.k_)[0][:, -1]  # each without itself
    if len(reference) < n:
      others = np.ones(n, bool)
      others[reference] = False
      self.fit_scores_[others] = self.score(X[others])
    return self

  def score(self, X):
    return self.nn_.kneighbors(np.asarray(X, np.float64), n_neighbors=self.k_)[0][:, -1]


class IsolationForestModel:
  """scikit-learn's IsolationForest; the score is minus its score_samples."""

  def __init__(self, random_state: int = 0, n_estimators: int = 100):
    self.random_state, self.n_estimators = random_state, n_estimators

  def fit(self, X):
    from sklearn.ensemble import IsolationForest
    self.forest_ = IsolationForest(n_estimators=self.n_estimators, random_state=self.random_state).fit(X)
    self.fit_scores_ = self.score(X)
    return self

  def score(self, X):
    return -self.forest_.score_samples(np.asarray(X, np.float64))


class ECODModel:
  """Empirical-CDF tail probabilities (ECOD, Li et al., TKDE 2022): for each column the left and
  right tail probabilities of a value under the fitted rows' empirical distribution; the score
  is the largest of the summed -log left tails, right tails, and the tail each column's
  skewness points to. Tails are (count + 1) / (n + 1), so values beyond the fitted range stay finite."""

  def fit(self, X):
    from scipy.stats import skew
    X = np.asarray(X, np.float64)
    self.sorted_ = np.sort(X, axis=0)
    self.right_skewed_ = np.nan_to_num(skew(X, axis=0)) >= 0
    self.fit_scores_ = self.score(X)
    return self

  def score(self, X):
    X = np.asarray(X, np.float64)
    n = self.sorted_.shape[0]
    cols = range(X.shape[1])
    below = np.stack([np.searchsorted(self.sorted_[:, j], X[:, j], side="right") for j in cols], axis=1)
    above = n - np.stack([np.searchsorted(self.sorted_[:, j], X[:, j], side="left") for j in cols], axis=1)
    left, right = -np.log((below + 1) / (n + 1)), -np.log((above + 1) / (n + 1))
    auto = np.where(self.right_skewed_, right, left)
    return np.maximum(np.maximum(left.sum(1), right.sum(1)), auto.sum(1))


class KDEModel:
  """The papers' RBF KDE (`occ.kde_fit`, width 10 / (dim * Var))."""

  def fit(self, X):
    from stoc_jax import occ
    self.params_ = occ.kde_fit(np.asarray(X, np.float32))
    self.fit_scores_ = self.score(X)
    return self

  def score(self, X):
    from stoc_jax import occ
    return np.asarray(occ.kde_score(self.params_, np.asarray(X, np.float32)), np.float64)


class OCSVMModel:
  """scikit-learn's OneClassSVM (RBF at the papers' width, or linear)."""

  def __init__(self, kernel: str = "rbf"):
    self.kernel = kernel

  def fit(self, X):
    from stoc_jax import occ
    self.svm_ = occ.ocsvm_fit(X, kernel=self.kernel)
    self.fit_scores_ = self.score(X)
    return self

  def score(self, X):
    from stoc_jax import occ
    return occ.ocsvm_score(self.svm_, X)


class ExternalModel:
  """Any detector object: scikit-learn's (`score_samples`, higher = more normal: negated) or
  PyOD's (`decision_function`, higher = more anomalous). A fresh clone is fitted each time."""

  def __init__(self, estimator):
    if isinstance(estimator, type):  # fitting the class itself failed deep in scikit-learn
      raise TypeError(f"got the class {estimator.__name__}, not a model: give an instance, {estimator.__name__}().")
    if not hasattr(estimator, "fit") or not (hasattr(estimator, "score_samples")
                                             or hasattr(estimator, "decision_function")):
      name = type(estimator).__name__
      # scikit-learn's LocalOutlierFactor scores only the rows it was fitted on unless novelty=True
      novelty = (f" Give {name}(novelty=True), which scores new rows."
                 if getattr(estimator, "novelty", None) is False else "")
      raise TypeError(f"{name} is not a one-class model: it needs fit() and score_samples() (scikit-learn) or "
                      f"decision_function() (PyOD).{novelty}")
    self.estimator = estimator

  def fit(self, X):
    try:
      from sklearn.base import clone
      self.fitted_ = clone(self.estimator)
    except TypeError:  # not a scikit-learn estimator: a deep copy is a fresh one
      self.fitted_ = copy.deepcopy(self.estimator)
    self.fitted_.fit(np.asarray(X, np.float64))
    self.fit_scores_ = self.score(X)
    return self

  def score(self, X):
    X = np.asarray(X, np.float64)
    method = "score_samples" if hasattr(self.fitted_, "score_samples") else "decision_function"
    scores = getattr(self.fitted_, method)(X)
    where = f"{type(self.fitted_).__name__}.{method}"
    try:
      scores = np.asarray(scores, np.float64)
    except (TypeError, ValueError):
      # Not np.asarray(scores) again: a ragged list, which it cannot stack, would fail inside this handler.
      what = getattr(scores, "dtype", type(scores).__name__)
      raise ValueError(f"{where} returned scores that are not numbers ({what}).") from None
    if scores.shape not in ((len(X),), (len(X), 1)):  # numpy's broadcasting errors named no model
      raise ValueError(f"{where} returned scores of shape {scores.shape} for {len(X)} rows; a one-class model "
                       "gives one score per row.")
    scores = scores.reshape(len(X))
    bad = ~np.isfinite(scores)
    if bad.any():  # an infinite score has no quantile: the threshold would be NaN
      raise ValueError(f"{where} returned NaN or infinite scores for {int(bad.sum())} of the {len(X)} rows it "
                       "scored; a density of 0 (a kernel of bounded support, such as "
                       "KernelDensity's 'tophat') reads as infinite: use a model whose scores are finite.")
    return -scores if method == "score_samples" else scores


class RankEnsemble:
  """The mean of several models' rank-normalised scores: model m's score of a row becomes the
  fraction of its fitted rows' scores (`fit_scores_`) below it, so models on different scales
  weigh alike. Beyond the largest fitted score it grows on past 1, so the ranks of rows
  outside every fitted row stay apart."""

  def __init__(self, members):
    self.members = list(members)

  def fit(self, X):
    self.fitted_ = [m.fit(X) for m in self.members]
    self.reference_ = [np.sort(m.fit_scores_) for m in self.fitted_]
    self.fit_scores_ = self._combine([m.fit_scores_ for m in self.fitted_])
    return self

  def _combine(self, member_scores):
    return np.mean([self.member_rank(ref, s) for ref, s in zip(self.reference_, member_scores)], axis=0)

  @staticmethod
  def member_rank(ref, scores):
    """One member's rank of `scores` among its sorted fitted scores `ref`: the fraction at or below,
    growing on past 1 beyond the largest (`past_largest`)."""
    return np.searchsorted(ref, scores, side="right") / len(ref) + RankEnsemble.past_largest(ref, scores)

  @staticmethod
  def past_largest(ref, scores):
    """How far `scores` lie past the largest of the sorted `ref`, in units of `_spread(ref)`."""
    return np.maximum(scores - ref[-1], 0.0) / RankEnsemble._spread(ref)

  def score(self, X):
    return self._combine([m.score(X) for m in self.fitted_])

  @staticmethod
  def _spread(ref):
    """The scale of a member's scores past its largest fitted one: the upper half's range. Where
    the upper half ties (a table of categories, every row repeated k times: every kNN distance 0)
    the whole range, or 1 where every fitted score is the same; a scale near 0 would send a new
    row's rank to 1e12 and let that member alone order every row beyond the fitted ones."""
    for spread in (ref[-1] - ref[len(ref) // 2], ref[-1] - ref[0]):
      if spread > 1e-12:
        return spread
    return 1.0


def make_model(spec, random_state: int = 0, n_neighbors: int = 5, knn_max_rows: int | None = None):
  """A fresh, unfitted model from a name, a detector object or a list of those (a RankEnsemble);
  `n_neighbors` is the k of "knn", `knn_max_rows` its `max_rows` (None: every fitted row)."""
  if isinstance(spec, (list, tuple)):
    if not spec:
      raise ValueError("an ensemble of one-class models needs at least one model; got an empty list.")
    return RankEnsemble([make_model(s, random_state, n_neighbors, knn_max_rows) for s in spec])
  if isinstance(spec, str):
    builders = {"gde": GaussianModel, "knn": lambda: KNNDistance(n_neighbors, knn_max_rows, random_state),
                "ecod": ECODModel, "kde": KDEModel,
                "iforest": lambda: IsolationForestModel(random_state),
                "ocsvm": lambda: OCSVMModel("rbf"), "ocsvm_linear": lambda: OCSVMModel("linear")}
    if spec not in builders:
      near = spec.strip().lower()
      hint = f" (did you mean {near!r}?)" if near in builders else ""
      raise ValueError(f"unknown one-class model {spec!r}{hint}; choose one of {', '.join(NAMES)}, a list of "
                       "them, or an object with fit() and score_samples() / decision_function().")
    return builders[spec]()
  return ExternalModel(spec)


def check_spec(spec):
  """Raises the error make_model would raise, without fitting anything."""
  make_model(spec)


def refinement_models(spec, random_state: int = 0, n_neighbors: int = 5, knn_max_rows: int | None = None):
  """(occ_fit, occ_score) for `refine.refine_data`: each of the K subsets gets a fresh model."""
  def occ_fit(rows):
    return make_model(spec, random_state, n_neighbors, knn_max_rows).fit(rows)

  def occ_score(model, features):
    return model.score(features)
  return occ_fit, occ_score


class FinalModel:
  """The final one-class model of a table, fitted on the refined rows: a callable scoring new
  rows, and `in_sample(features)`, the training rows' scores with each kept row scored out of
  sample (the threshold is read off these)."""

  def __init__(self, spec, features, mask, random_state: int = 0, n_neighbors: int = 5,
               knn_max_rows: int | None = None):
    self.mask = np.asarray(mask, bool)
    self.model = make_model(spec, random_state, n_neighbors, knn_max_rows).fit(
        np.asarray(features)[:len(self.mask)][self.mask])

  def __call__(self, features) -> np.ndarray:
    return self.model.score(np.asarray(features))

  def in_sample(self, features) -> np.ndarray:
    features = np.asarray(features)
    scores = np.empty(len(features), np.float64)
    kept = np.zeros(len(features), bool)
    kept[:len(self.mask)] = self.mask
    scores[kept] = self.model.fit_scores_  # as fitted: each kept row scored once, without itself
    if not kept.all():  # scikit-learn's models refuse an empty array
      scores[~kept] = self(features[~kept])
    return scores


# The most rows a kNN distance of the detector's is measured to, a random subset of them beyond
# (KNNDistance.max_rows): refinement's K models each fit one 1/K part, and 4,000 keeps whole the
# five parts of a table up to 20,000 rows; the final model fits the kept rows, 20,000. Every table
# of benchmarks/tables/ is within both, so none is subsampled there; on larger tables a fit grows
# with N x 4,000 per refinement model instead of N^2 / K (benchmarks/detector_fit_time/).
REFINEMENT_KNN_ROWS = 4_000
FINAL_KNN_ROWS = 20_000


class HostModels(FixedFeatures):
  """The learner of tables with host models: refinement's K models and the final model are
  `make_model(spec)`s, so a new table shape compiles nothing.

  With `rounds` > 1 the column scaling is the representation that STOC re-learns on the refined
  rows (Algorithm 1): after each round but the last, each column's centre and scale are refitted
  on the rows refinement kept, so the anomalies it removed no longer stretch the columns they lie
  far out on, and the next round and the final model see the rows in that scaling. One "step" is
  one refit."""

  partition_on_host = True
  final_occs = ("model",)
  rounds, robust = 1, False  # what detectors pickled before `rounds` existed did

  def __init__(self, refinement_spec="gde", final_spec="gde", random_state: int = 0, n_neighbors: int = 5,
               rounds: int = 1, robust: bool = False):
    check_spec(refinement_spec)
    check_spec(final_spec)
    self.refinement_spec, self.final_spec, self.random_state = refinement_spec, final_spec, random_state
    self.n_neighbors, self.rounds, self.robust = n_neighbors, rounds, robust

  def steps(self, num_rows):
    return self.rounds - 1, 1

  def init(self, key, x_train):
    return ()  # the columns as given, until the first refit

  def train(self, state, x_train, mask, *, key, num_steps, round_index):
    with warnings.catch_warnings():  # robust scaling's warning on tiny IQRs came with the first scaling
      warnings.simplefilter("ignore")
      centre, scale = scaling_statistics(np.asarray(x_train)[mask], robust=self.robust)
    return {"centre": centre.astype(np.float32), "scale": scale.astype(np.float32)}, {}

  def features(self, state, x):
    if not state:
      return x
    return ((np.asarray(x) - state["centre"]) / state["scale"]).astype(np.float32)

  @property
  def refinement_occ(self):  # built on use, so a fitted detector pickles without closures
    return refinement_models(self.refinement_spec, self.random_state, self.n_neighbors, REFINEMENT_KNN_ROWS)

  def final_occ(self, kind, features, mask):
    return FinalModel(self.final_spec, features, mask, self.random_state, self.n_neighbors, FINAL_KNN_ROWS)
