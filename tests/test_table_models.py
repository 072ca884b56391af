"""Host one-class models of table rows: each against its scikit-learn / NumPy counterpart, alone and
inside refinement; detector objects duck-typed; the rank ensemble."""

import numpy as np
import pytest
from sklearn.covariance import OAS
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from sklearn.svm import OneClassSVM

from stoc_jax import occ, refine, table_models


def table(n=300, dim=4, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(n, dim))
  x[:15] += 4.0  # a few anomalies
  return x


def gaussian_nll(fit_rows, rows):
  lw = OAS().fit(fit_rows)
  cov = lw.covariance_ + 1e-6 * np.eye(fit_rows.shape[1])
  diff = rows - lw.location_
  maha = np.einsum("ij,jk,ik->i", diff, np.linalg.inv(cov), diff)
  return 0.5 * (maha + np.linalg.slogdet(cov)[1] + fit_rows.shape[1] * np.log(2 * np.pi))


def knn_distance(fit_rows, rows, k=5):
  return NearestNeighbors(n_neighbors=k).fit(fit_rows).kneighbors(rows)[0][:, -1]


def ecod_reference(fit_rows, rows):
  """ECOD written out row by row: tail probabilities counted with the +1 smoothing."""
  n, d = fit_rows.shape
  from scipy.stats import skew
  right = skew(fit_rows, axis=0) >= 0
  out = []
  for r in rows:
    lt = -np.log(((fit_rows <= r).sum(0) + 1) / (n + 1))
    rt = -np.log(((fit_rows >= r).sum(0) + 1) / (n + 1))
    out.append(max(lt.sum(), rt.sum(), np.where(right, rt, lt).sum()))
  return np.array(out)


REFERENCES = {
    "gde": gaussian_nll,
    "knn": knn_distance,
    "iforest": lambda f, r: -IsolationForest(random_state=0).fit(f).score_samples(r),
    "ecod": ecod_reference,
    "kde": lambda f, r: np.asarray(occ.kde_score(occ.kde_fit(f), r), np.float64),
    "ocsvm": lambda f, r: -OneClassSVM(gamma=occ.rbf_gamma(f), nu=0.5).fit(f).decision_function(r),
    "ocsvm_linear": lambda f, r: -OneClassSVM(kernel="linear", nu=0.5).fit(f).decision_function(r),
}


@pytest.mark.parametrize("name", table_models.NAMES)
def test_each_model_scores_as_its_counterpart(name):
  x = table()
  model = table_models.make_model(name).fit(x[:200])
  np.testing.assert_allclose(model.score(x[200:]), REFERENCES[name](x[:200], x[200:]), rtol=2e-4, atol=1e-4)


def test_gaussian_with_fewer_rows_than_columns_scores_as_the_full_covariance():
  """Under Woodbury's identity (n < d) the scores equal the d x d covariance's."""
  rng = np.random.default_rng(1)
  x = rng.normal(size=(100, 64)) * rng.uniform(0.1, 3.0, 64)
  model = table_models.make_model("gde").fit(x[:30])
  assert model.basis_ is not None  # the low-rank path ran
  np.testing.assert_allclose(model.score(x[30:]), gaussian_nll(x[:30], x[30:]), rtol=1e-8)
  np.testing.assert_allclose(model.fit_scores_, gaussian_nll(x[:30], x[:30]), rtol=1e-8)


def test_knn_scores_its_own_rows_without_themselves():
  x = table()
  model = table_models.make_model("knn").fit(x)
  loo = NearestNeighbors(n_neighbors=6).fit(x).kneighbors(x)[0][:, -1]  # the row itself is the first
  np.testing.assert_allclose(model.fit_scores_, loo)
  assert (model.score(x) < model.fit_scores_).all()  # scored as new rows, each would find itself


def test_a_knn_distance_past_max_rows_measures_to_a_random_subset_of_that_many():
  x = table(n=500)
  model = table_models.KNNDistance(5, max_rows=120, random_state=3).fit(x)
  reference = model.nn_._fit_X
  assert len(reference) == 120 and len(np.unique(reference, axis=0)) == 120
  in_reference = (x[:, None, :] == reference[None]).all(-1).any(1)
  assert in_reference.sum() == 120  # the subset is of the fitted rows
  # Every fitted row's distance to the subset, a row of it without itself; new rows likewise.
  d = np.linalg.norm(x[:, None, :] - reference[None], axis=-1)
  d[d == 0.0] = np.inf
  np.testing.assert_allclose(model.fit_scores_, np.sort(d, axis=1)[:, 4], rtol=1e-10)
  np.testing.assert_allclose(model.score(x[:50] + 0.01), knn_distance(reference, x[:50] + 0.01), rtol=1e-10)
  other = table_models.KNNDistance(5, max_rows=120, random_state=4).fit(x)
  assert not np.array_equal(other.nn_._fit_X, reference)  # the subset follows the seed


def test_a_knn_distance_within_max_rows_is_the_exact_one():
  x = table()
  exact = table_models.KNNDistance(5).fit(x)
  capped = table_models.KNNDistance(5, max_rows=len(x)).fit(x)
  np.testing.assert_array_equal(capped.fit_scores_, exact.fit_scores_)
  np.testing.assert_array_equal(capped.score(x[:20] + 0.5), exact.score(x[:20] + 0.5))
  with pytest.raises(ValueError, match="max_rows must be at least 2"):
    table_models.KNNDistance(5, max_rows=1)


@pytest.mark.parametrize("name", table_models.NAMES)
def test_each_model_inside_refinement_matches_a_refinement_by_hand(name):
  """Eq. 1-2 with the counterpart: model k fitted on subset k scores every row (its own rows out
  of sample where it would see them), rejects its ceil(gamma N) highest, and a row is kept if no
  model rejects it."""
  x, gamma, k = table(), 0.1, 3
  key = refine.round_key(__import__("jax").random.key(0), 0)
  fit, score = table_models.refinement_models(name)
  mask, info = refine.refine_data(key, x, k, gamma, occ_fit=fit, occ_score=score, partition_on_host=True)
  assignment = refine.host_partition(key, len(x), k)
  np.testing.assert_array_equal(info["assignment"], assignment)
  keep = np.ones(len(x), bool)
  reject = refine.rows_to_reject(gamma, len(x))
  for m in range(k):
    own = assignment == m
    s = REFERENCES[name](x[own], x).astype(np.float32)
    if name == "knn":
      s[own] = NearestNeighbors(n_neighbors=6).fit(x[own]).kneighbors(x[own])[0][:, -1]
    keep &= s < np.sort(s)[len(x) - reject]
  # Scores within float32 rounding of the threshold may fall either way.
  assert (mask != keep).sum() <= 1
  assert mask[:15].sum() <= 3 and mask[15:].mean() > 0.7  # most planted anomalies go


class PyODStyle:
  """What a PyOD detector offers: fit and decision_function (higher = more anomalous)."""

  def __init__(self, k=3):
    self.k = k

  def fit(self, X):
    self.nn_ = NearestNeighbors(n_neighbors=self.k).fit(X)
    return self

  def decision_function(self, X):
    return self.nn_.kneighbors(X)[0].mean(1)


def test_detector_objects_are_duck_typed():
  x = table()
  sk = table_models.make_model(LocalOutlierFactor(novelty=True)).fit(x[:200])
  ref = LocalOutlierFactor(novelty=True).fit(x[:200])
  np.testing.assert_allclose(sk.score(x[200:]), -ref.score_samples(x[200:]))
  prototype = PyODStyle()
  py = table_models.make_model(prototype).fit(x[:200])
  np.testing.assert_allclose(py.score(x[200:]), NearestNeighbors(n_neighbors=3).fit(x[:200]).kneighbors(
      x[200:])[0].mean(1))
  assert not hasattr(prototype, "nn_")  # each fit works on a copy
  with pytest.raises(TypeError, match="not a one-class model"):
    table_models.make_model(object())
  with pytest.raises(ValueError, match="unknown one-class model 'knnn'; choose one of"):
    table_models.make_model("knnn")
  # Three slips a user makes, each of which failed in scikit-learn's words or without a way out:
  with pytest.raises(TypeError, match=r"^got the class LocalOutlierFactor, not a model: give an instance, "
                     r"LocalOutlierFactor\(\)\.$"):
    table_models.make_model(LocalOutlierFactor)  # failed as "'numpy.ndarray' object has no attribute ..."
  with pytest.raises(TypeError, match=r"Give LocalOutlierFactor\(novelty=True\), which scores new rows\.$"):
    table_models.make_model(LocalOutlierFactor())
  with pytest.raises(ValueError, match=r"unknown one-class model 'IForest' \(did you mean 'iforest'\?\)"):
    table_models.make_model("IForest")  # PyOD's name
  with pytest.raises(ValueError, match="at least one model"):
    table_models.make_model([])


class ScoresOf(PyODStyle):
  """A PyOD-style detector whose decision_function returns what `scores(distances)` makes of its distances."""

  def __init__(self, scores):
    super().__init__()
    self.scores = scores

  def decision_function(self, X):
    return self.scores(super().decision_function(X))


def test_an_object_whose_scores_are_not_one_finite_number_per_row_is_named():
  from sklearn.neighbors import KernelDensity

  from stoc_jax import STOCDetector
  x = table()
  fit = lambda scores: table_models.make_model(ScoresOf(scores)).fit(x[:200])  # noqa: E731
  # Each failed in NumPy's words, naming no model, or (NaN) fitted and left a NaN threshold.
  with pytest.raises(ValueError, match=r"^ScoresOf\.decision_function returned scores of shape \(199,\) for 200 rows"):
    fit(lambda d: d[1:])
  with pytest.raises(ValueError, match=r"shape \(200, 2\) for 200 rows; a one-class model gives one score per row"):
    fit(lambda d: np.c_[d, d])
  with pytest.raises(ValueError, match=r"returned scores that are not numbers \(<U1\)"):
    fit(lambda d: np.array(["a"] * len(d)))
  with pytest.raises(ValueError, match=r"returned scores that are not numbers \(list\)\.$"):
    fit(lambda d: [[1.0, 2.0]] + [[v] for v in d[1:]])  # ragged: NumPy cannot stack it
  with pytest.raises(ValueError, match=r"NaN or infinite scores for 3 of the 200 rows it scored"):
    fit(lambda d: np.where(np.arange(len(d)) < 3, np.nan, d))
  column = fit(lambda d: d[:, None])  # a column of scores (a Keras model's) is read as one per row
  np.testing.assert_allclose(column.score(x[200:]), fit(lambda d: d).score(x[200:]))
  # scikit-learn's own density of bounded support: 0 outside it, -inf as a log density.
  for where in ("occ", "refine_occ"):
    with pytest.raises(ValueError, match=r"^KernelDensity\.score_samples returned NaN or infinite scores.*'tophat'"):
      STOCDetector(**{where: KernelDensity(kernel="tophat", bandwidth=0.5)}).fit(x)


def test_rank_ensemble_is_the_mean_of_rank_normalised_scores():
  x = table()
  ens = table_models.make_model(["gde", "knn"]).fit(x[:200])
  new = x[200:]
  ranks = []
  for m in ens.fitted_:
    ref = np.sort(m.fit_scores_)
    s = m.score(new)
    ranks.append(np.searchsorted(ref, s, side="right") / len(ref) + np.maximum(s - ref[-1], 0)
                 / (ref[-1] - ref[len(ref) // 2]))
  np.testing.assert_allclose(ens.score(new), np.mean(ranks, axis=0))
  one = table_models.make_model(["knn"]).fit(x[:200])
  knn = table_models.make_model("knn").fit(x[:200])
  # One member: its order is kept (rows between two fitted scores tie).
  assert np.all(np.diff(one.score(new)[np.argsort(knn.score(new))]) >= 0)


def test_rank_ensemble_past_a_member_whose_fitted_scores_tie_stays_on_scale():
  """Rows of categories each repeated at least k times: every fitted kNN distance is 0. A new row
  past them is ranked on the range of the member's scores (or 1 where there is none), not divided
  by 0; before, such rows scored 1e12 and the kNN member alone ordered them."""
  base = np.repeat(np.eye(4), 30, axis=0)  # 4 one-hot rows, 30 copies each
  ens = table_models.make_model(["iforest", "knn"]).fit(base)
  knn = ens.fitted_[1]
  assert np.all(knn.fit_scores_ == 0)
  new = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0]])
  scores = ens.score(new)
  assert np.all(scores < 10) and scores[2] < scores[0] < scores[1]
  iforest_rank = np.searchsorted(np.sort(ens.fitted_[0].fit_scores_), ens.fitted_[0].score(new), side="right") / 120
  past = np.maximum(ens.fitted_[0].score(new) - ens.fitted_[0].fit_scores_.max(), 0) / ens._spread(
      np.sort(ens.fitted_[0].fit_scores_))
  # kNN: every fitted score is at or below each new one (rank 1), and the range is 0, so the scale is 1.
  np.testing.assert_allclose(scores, (iforest_rank + past + 1.0 + knn.score(new)) / 2)


def test_host_refinement_compiles_nothing_for_a_new_shape():
  import jax
  import jax.monitoring
  compiles = []
  jax.monitoring.register_event_duration_secs_listener(
      lambda name, *_, **__: compiles.append(name) if name.endswith("backend_compile_duration") else None)
  fit, score = table_models.refinement_models(["gde", "knn", "ecod"])
  key = jax.random.key(3)
  refine.refine_data(key, table(n=210), 5, "otsu", occ_fit=fit, occ_score=score, partition_on_host=True)
  before = len(compiles)
  for n in (233, 251):
    refine.refine_data(key, table(n=n), 5, "otsu", occ_fit=fit, occ_score=score, partition_on_host=True)
  assert len(compiles) == before
