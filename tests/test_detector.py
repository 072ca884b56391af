"""STOCDetector and refine_dataset: conventions, scikit-learn compatibility, robustness to contamination."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from conftest import compilations_per_fit

from stoc_jax import STOCDetector, detector, features_as_given, metrics, refine_dataset


def contaminated(n=600, ratio=0.1, dim=5, seed=0):
  rng = np.random.default_rng(seed)
  k = int(ratio * n)
  x = np.concatenate([rng.normal(size=(n - k, dim)), rng.normal(0, 1, size=(k, dim)) + 3.5])
  y = np.r_[np.zeros(n - k, int), np.ones(k, int)]
  perm = rng.permutation(n)
  return x[perm], y[perm]


@parametrize_with_checks([STOCDetector(convention="sklearn")])
def test_sklearn_estimator_checks(estimator, check):
  check(estimator)


def test_pyod_convention_differs_only_in_labels():
  """Under the PyOD convention only scikit-learn's -1/+1 label checks fail, nothing else."""
  from sklearn.utils.estimator_checks import check_estimator
  results = check_estimator(STOCDetector(), on_fail=None)
  failed = {r["check_name"] for r in results if r["status"] == "failed"}
  assert failed <= {"check_outliers_fit_predict", "check_outliers_train"}
  assert failed  # the conventions really differ


def test_sklearn_convention_scores_training_rows_as_predict_does():
  """scikit-learn's fit(X).predict(X) == fit_predict(X), with a final kNN in which a kept row is its
  own neighbour; PyOD's decision_scores_ leave it out, so they are higher on kept rows."""
  x, _ = contaminated()
  det = STOCDetector(convention="sklearn", contamination=0.1).fit(x)
  np.testing.assert_allclose(det.decision_scores_, det.anomaly_score(x), rtol=1e-6)
  np.testing.assert_array_equal(det.fit_predict(x), det.predict(x))
  assert (det.predict(x) == -1).sum() == 60
  pyod = STOCDetector(contamination=0.1).fit(x)
  kept = pyod.refined_mask_
  assert (pyod.decision_scores_[kept] > det.decision_scores_[kept]).mean() > 0.9


def test_pyod_attributes_and_scores():
  x, y = contaminated()
  det = STOCDetector(contamination=0.1).fit(x)
  assert det.decision_scores_.shape == (600,) and det.labels_.dtype.kind == "i"
  assert set(np.unique(det.labels_)) == {0, 1}
  assert det.labels_.sum() == pytest.approx(60, abs=2)
  # The training rows' scores leave each row out of the models it was fitted into (the kNN
  # distance of a kept row is to its 5th neighbour but itself, as PyOD's decision_scores_):
  # scored again as new rows, kept rows find themselves and score no higher.
  again, kept = det.decision_function(x), det.refined_mask_
  np.testing.assert_allclose(again[~kept], det.decision_scores_[~kept], rtol=1e-5)
  assert (again[kept] <= det.decision_scores_[kept] + 1e-12).all() and (again[kept] < det.decision_scores_[kept]).any()
  gde = STOCDetector(occ="gde", contamination=0.1).fit(x)  # a Gaussian: no row is its own neighbour
  np.testing.assert_allclose(gde.decision_function(x), gde.decision_scores_, rtol=1e-5)
  np.testing.assert_array_equal(gde.predict(x), gde.labels_)
  np.testing.assert_array_equal(det.fit_predict(x), det.labels_)
  assert metrics.auc(y, det.decision_function(x)) > 95
  assert det.refined_mask_.shape == (600,) and det.refined_mask_.sum() < 600


def test_probabilities_and_confidences_follow_the_scores():
  """predict_proba and predict(X, return_confidence=True) as PyOD's detectors give them: each row's
  probabilities sum to 1 and never fall as its score rises; a row far beyond every training row is an
  anomaly with confidence near 1, a typical row a normal one, and a row at the threshold is a toss-up."""
  from stoc_jax import outlier_probability as op
  x, _ = contaminated()
  rng = np.random.default_rng(3)
  new = np.concatenate([rng.normal(size=(40, 5)), rng.normal(size=(10, 5)) + 3.5, np.full((2, 5), 30.0)])
  det = STOCDetector(contamination=0.1).fit(x)
  scores = det.anomaly_score(new)
  for method in ("linear", "unify"):
    proba = det.predict_proba(new, method=method)
    assert proba.shape == (52, 2) and ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    by_score = proba[np.argsort(scores), 1]
    assert (np.diff(by_score) >= -1e-12).all()
    np.testing.assert_allclose(proba[-2:, 1], 1.0)
  labels, confidence = det.predict(new, return_confidence=True)
  np.testing.assert_array_equal(labels, det.predict(new))
  np.testing.assert_allclose(confidence, det.predict_confidence(new))
  assert (labels[-2:] == 1).all() and (confidence[-2:] > 0.99).all()
  typical = np.argmin(scores)
  assert labels[typical] == 0 and confidence[typical] > 0.99
  at_threshold = op.prediction_confidence(det.decision_scores_, [det.threshold_], det.contamination_, det.threshold_)
  assert 0.3 < at_threshold[0] < 0.7
  proba, again = det.predict_proba(new, return_confidence=True)
  np.testing.assert_allclose(again, confidence)
  # The formulas themselves: min-max over the training scores; Kriegel et al.'s erf scaling, 0 at the mean.
  np.testing.assert_allclose(op.linear_probability([1.0, 2.0, 3.0], [0.0, 2.0, 5.0]), [0.0, 0.5, 1.0])
  np.testing.assert_allclose(op.unified_probability([1.0, 3.0], [1.0, 2.0, 3.0]), [0.0, 0.0, 0.6826894921])
  # Under scikit-learn's convention the columns follow its labels, -1 (anomaly) first.
  sk = STOCDetector(contamination=0.1, convention="sklearn").fit(x)
  np.testing.assert_allclose(sk.predict_proba(new)[:, 0], op.linear_probability(sk.decision_scores_, scores))
  with pytest.raises(ValueError, match="method must be one of"):
    det.predict_proba(new, method="softmax")


def test_probabilities_and_confidences_equal_pyods_own():
  """The same numbers as PyOD's BaseDetector.predict_proba and predict_confidence, given its scores."""
  pyod_knn = pytest.importorskip("pyod.models.knn", reason="PyOD is a benchmark extra: pip install -e '.[bench]'")
  from stoc_jax import outlier_probability as op
  x, _ = contaminated()
  new, _ = contaminated(n=100, seed=5)
  knn = pyod_knn.KNN(contamination=0.1).fit(x)
  train, scores = knn.decision_scores_, knn.decision_function(new)
  np.testing.assert_allclose(op.linear_probability(train, scores), knn.predict_proba(new, method="linear")[:, 1])
  np.testing.assert_allclose(op.unified_probability(train, scores), knn.predict_proba(new, method="unify")[:, 1])
  np.testing.assert_allclose(op.prediction_confidence(train, scores, 0.1, knn.threshold_), knn.predict_confidence(new))


def test_refinement_makes_the_detector_robust_to_contamination():
  x, y = contaminated(ratio=0.15, seed=1)
  test_x, test_y = contaminated(ratio=0.5, seed=2)
  plain = STOCDetector(refine=False, contamination=0.15).fit(x)
  stoc = STOCDetector(contamination=0.15).fit(x)
  assert metrics.average_precision(test_y, stoc.decision_function(test_x)) > \
         metrics.average_precision(test_y, plain.decision_function(test_x))
  # most training anomalies were removed, few normals (gamma = 0.3: each model rejects 30 %)
  assert (~stoc.refined_mask_[y == 1]).mean() > 0.8 and (~stoc.refined_mask_[y == 0]).mean() < 0.35


def planted(n=1000, ratio=0.05, dim=6, seed=0):
  """Gaussian rows and a fraction of anomalies scattered over the corners of a cube around them."""
  rng = np.random.default_rng(seed)
  k = int(ratio * n)
  return np.r_[rng.normal(size=(n - k, dim)), 0.5 * rng.normal(size=(k, dim)) + 3.5 * rng.choice([-1, 1], (k, dim))]


def test_automatic_contamination_estimate():
  x = planted(ratio=0.05)
  det = STOCDetector(contamination="auto").fit(x)
  assert 0.04 < det.contamination_ < 0.06
  # On tables half an estimate, on a representation all of it, and 2 x a given ratio.
  assert det.gamma_ == pytest.approx(0.5 * det.contamination_)
  embedded = STOCDetector(representation=features_as_given).fit(x)
  assert embedded.gamma_ == pytest.approx(embedded.contamination_) and embedded.contamination_ > 0.02
  assert STOCDetector(contamination=0.05).fit(x).gamma_ == pytest.approx(0.1)
  assert det.labels_.sum() == pytest.approx(det.contamination_ * len(x), abs=1)


def test_one_tight_cluster_of_anomalies_masks_itself_from_the_estimate():
  """A known limit, documented in stoc_jax.contamination: 10 % of the rows in one cluster pull the
  Gaussians towards themselves and leave no tail to count; a given contamination still works."""
  x, y = contaminated(ratio=0.1)
  assert STOCDetector().fit(x).contamination_ < 0.05
  assert metrics.auc(y, STOCDetector(contamination=0.1).fit(x).decision_scores_) > 95


def test_gaussian_noise_is_estimated_clean_and_nothing_is_flagged():
  for seed, (n, dim) in enumerate(((300, 8), (1000, 3), (2000, 20))):
    x = np.random.default_rng(seed).normal(size=(n, dim))
    det = STOCDetector(random_state=seed).fit(x)
    assert det.contamination_ == 0.001 and det.labels_.sum() <= 0.001 * n + 1
    assert det.gamma_ == pytest.approx(0.005)  # the papers' gamma for clean data


def test_one_and_two_gaussian_columns_are_estimated_clean():
  """Wilson and Hilferty's cube root is poor at 1 and 2 degrees of freedom: on these tables the
  estimate was 3-7 % (to the estimate, one numeric column beside a one-hot category is such a table)."""
  from scipy import stats
  from stoc_jax import contamination as c
  for seed, (n, dim) in enumerate(((5000, 1), (5000, 2), (3000, 1))):
    x = np.random.default_rng(seed).normal(size=(n, dim))
    assert c.estimate_contamination(x, random_state=seed) == 0.0, (n, dim)
  m = np.array([0.01, 1.0, 9.0, 40.0])
  for dim in (1, 2):
    np.testing.assert_allclose(c.normal_scores(m, dim), stats.norm.isf(stats.chi2.sf(m, dim)), rtol=1e-9)
  assert np.isfinite(c.normal_scores(np.array([0.0, 1e6]), 1)).all()  # the tails' ends too
  np.testing.assert_array_equal(c.normal_scores(m, 5), c.wilson_hilferty(m, 5))


def test_where_the_upper_component_holds_most_rows_the_tail_count_alone_is_the_estimate():
  """On one Gaussian column of 300 rows, 5 seeds of 20 gave 3-11 %: the averaged z-score is skewed, and
  the two-component fit's upper component, its bulk, held 60-86 % of the rows. Only a minority is read
  as the anomalies' share; above half the tail count (about 1 % on clean rows) stands alone."""
  from stoc_jax import contamination as c
  estimates = [c.estimate_contamination(np.random.default_rng(seed).normal(size=(300, 1)), random_state=seed)
               for seed in range(20)]
  assert max(estimates) < 0.02, estimates
  rng = np.random.default_rng(0)
  bulk_above = np.r_[rng.normal(0, 1, 800), rng.normal(-4, 1, 200)]  # a bulk with a low group below it
  assert c.mixture_fraction(bulk_above) > 0.5
  assert c.fraction_of_scores(bulk_above) == c.tail_fraction(bulk_above)
  anomalies_above = np.r_[rng.normal(0, 1, 900), rng.normal(6, 1, 100)]
  assert c.mixture_fraction(anomalies_above) == pytest.approx(0.1, abs=0.01)
  assert c.fraction_of_scores(anomalies_above) == pytest.approx(
      np.sqrt(c.tail_fraction(anomalies_above) * c.mixture_fraction(anomalies_above)))


def test_clean_rows_with_flag_and_one_hot_columns_are_estimated_clean():
  """A balanced 0/1 column splits a Gaussian's distances in two groups; read as a mixture, they
  made the estimate 5-14 % on these clean tables before two-valued columns were left out of it."""
  for seed, n in ((0, 200), (1, 200), (0, 1000)):
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(n, 3))
    flag = rng.integers(0, 2, n)
    one_hot = np.eye(3)[rng.integers(0, 3, n)]  # a categorical column as the command line encodes it
    for x in (np.c_[g, flag], np.c_[g, one_hot]):
      det = STOCDetector(random_state=seed).fit(x)
      assert det.contamination_ == 0.001 and det.labels_.sum() <= 0.001 * n + 1, (seed, n, x.shape)
  # Planted anomalies are still counted beside a flag column, and a table of flags alone is read as it is.
  x = planted(ratio=0.05)
  flag = np.random.default_rng(0).integers(0, 2, (len(x), 1))
  assert 0.025 <= STOCDetector().fit(np.c_[x, flag]).contamination_ <= 0.1
  from stoc_jax import contamination as c
  np.testing.assert_array_equal(c.two_valued_columns(np.c_[x[:, :1], flag, np.ones_like(flag)]), [False, True, True])
  flags = np.random.default_rng(1).integers(0, 2, (300, 5)).astype(float)
  z = c.member_z(c.dequantize(flags)).mean(0)
  assert c.estimate_contamination(flags) == min(np.sqrt(c.tail_fraction(z) * c.mixture_fraction(z)), 0.5)


def test_clean_rows_with_a_rounded_column_are_estimated_clean():
  """A column rounded to whole numbers puts the Gaussians' distances in tight groups, which the
  two-component fit read as contamination: 5-16 % on these clean tables before its values were
  spread over their cells (`contamination.dequantize`)."""
  for seed in range(3):
    rng = np.random.default_rng(seed)
    x = np.c_[rng.normal(size=2000), np.round(rng.normal(size=2000))]
    assert STOCDetector(random_state=seed).fit(x).contamination_ == 0.001, seed


def test_dequantize_spreads_repeated_values_within_their_cells_only():
  from stoc_jax import contamination as c
  rng = np.random.default_rng(0)
  counts, halves, measured = rng.poisson(2.0, 500), rng.integers(0, 9, 500) / 2, rng.normal(size=500)
  out = c.dequantize(np.c_[counts, halves, measured], random_state=3)
  np.testing.assert_array_equal(np.round(out[:, 0]), counts)  # cells of 1 around whole numbers
  assert np.abs(out[:, 1] - halves).max() <= 0.25 and len(np.unique(out[:, 1])) == 500  # cells of 0.5
  np.testing.assert_array_equal(out[:, 2], measured)  # no value repeats: as given
  np.testing.assert_array_equal(out, c.dequantize(np.c_[counts, halves, measured], random_state=3))
  assert not np.array_equal(out, c.dequantize(np.c_[counts, halves, measured], random_state=4))
  np.testing.assert_array_equal(c.dequantize(np.ones((5, 1))), np.ones((5, 1)))  # one value: no cell


def test_log_symmetrized_columns_are_positive_right_skewed_ones():
  from stoc_jax import contamination as c
  rng = np.random.default_rng(0)
  amounts, measured = rng.lognormal(size=500), rng.normal(size=500)
  left_skewed = 20.0 - rng.lognormal(size=500).clip(max=19.0)  # positive, its long tail to the left
  with_zero = np.r_[0.0, amounts[1:]]
  mask = c.log_symmetrized_columns(np.c_[amounts, measured, left_skewed, with_zero, amounts * 1e6])
  np.testing.assert_array_equal(mask, [True, False, False, False, True])
  assert c.quartile_skewness(np.c_[amounts, np.ones(500)]).tolist()[1] == 0.0  # quartiles that coincide
  assert c.quartile_skewness(amounts[:, None])[0] > 0.2 > abs(c.quartile_skewness(np.log(amounts)[:, None])[0])


@pytest.mark.parametrize("ratio", [0.02, 0.05, 0.10])
def test_planted_anomalies_are_counted_within_a_factor_two(ratio):
  from stoc_jax.contamination import estimate_contamination
  for seed in range(2):
    x = planted(ratio=ratio, seed=seed)
    estimate = STOCDetector(random_state=seed).fit(x).contamination_
    assert ratio / 2 <= estimate <= 2 * ratio, (ratio, seed, estimate)
    assert estimate == pytest.approx(estimate_contamination((x - x.mean(0)) / x.std(0), 5, seed))


class PyODStyleKNN:
  """A detector as PyOD has them: fit and decision_function (higher = more anomalous), no sklearn base."""

  def fit(self, X):
    self.train_ = np.asarray(X)
    return self

  def decision_function(self, X):
    d = np.linalg.norm(np.asarray(X)[:, None] - self.train_[None], axis=-1)
    return np.sort(d, axis=1)[:, 4]


class BlasThreadsSeen(PyODStyleKNN):
  """Records how many threads each BLAS library had while the detector fitted and scored it."""
  seen = []

  def fit(self, X):
    import threadpoolctl
    self.seen.append({i["filepath"]: i["num_threads"] for i in threadpoolctl.threadpool_info()
                      if i["user_api"] == "blas"})
    return super().fit(X)


def test_blas_runs_on_one_thread_inside_a_fit_and_is_restored_after():
  import threadpoolctl
  before = {i["filepath"]: i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"}
  BlasThreadsSeen.seen.clear()
  STOCDetector(occ=BlasThreadsSeen(), contamination=0.1).fit(contaminated(n=200)[0])
  assert BlasThreadsSeen.seen and all(set(s.values()) == {1} for s in BlasThreadsSeen.seen)
  assert set(before) <= set(BlasThreadsSeen.seen[0])  # numpy's and scipy's libraries both limited
  after = {i["filepath"]: i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"}
  assert after == before


@pytest.mark.parametrize("occ", ["knn", "iforest", "ecod", ["gde", "knn"], "custom_sklearn", "custom_pyod"])
def test_any_one_class_model_in_refinement_and_as_the_final_model(occ):
  from sklearn.neighbors import LocalOutlierFactor
  occ = {"custom_sklearn": LocalOutlierFactor(novelty=True), "custom_pyod": PyODStyleKNN()}.get(
      occ, occ) if isinstance(occ, str) else occ
  x, y = contaminated(n=400)
  det = STOCDetector(occ=occ, contamination=0.1).fit(x)
  assert metrics.auc(y, det.decision_scores_) > 95
  assert (~det.refined_mask_[y == 1]).mean() > 0.8  # refinement with that model removes the anomalies
  restored = pickle.loads(pickle.dumps(det))
  np.testing.assert_allclose(restored.decision_function(x[:20]), det.decision_function(x[:20]))
  # Refinement and the final model can differ.
  mixed = STOCDetector(occ=occ, refine_occ="gde", contamination=0.1).fit(x)
  assert metrics.auc(y, mixed.decision_scores_) > 95


def test_same_seed_same_result_and_params():
  x, _ = contaminated()
  a = STOCDetector(random_state=3).fit(x).decision_scores_
  b = STOCDetector(random_state=3).fit(x).decision_scores_
  np.testing.assert_array_equal(a, b)
  det = STOCDetector(num_models=3)
  assert det.get_params()["num_models"] == 3
  assert det.set_params(num_models=4).num_models == 4


def test_in_a_pipeline_and_pickled():
  x, y = contaminated()
  pipe = make_pipeline(StandardScaler(), STOCDetector(contamination=0.1)).fit(x)
  assert metrics.auc(y, pipe.decision_function(x)) > 95
  restored = pickle.loads(pickle.dumps(pipe))
  np.testing.assert_allclose(restored.decision_function(x), pipe.decision_function(x))
  # Model files saved before the final OCC moved from tabular_stoc to occ still load.
  from stoc_jax import occ
  final = occ.FinalOCC("gde", x.astype(np.float32))
  old = pickle.dumps(final, protocol=2).replace(b"cstoc_jax.occ\nFinalOCC\n", b"cstoc_jax.tabular_stoc\nFinalOCC\n")
  assert b"tabular_stoc" in old
  np.testing.assert_allclose(pickle.loads(old)(x[:9]), final(x[:9]))


@pytest.mark.parametrize("occ", ["kde", "ocsvm"])
def test_other_final_occs(occ):
  x, y = contaminated(n=300)
  assert metrics.auc(y, STOCDetector(occ=occ, contamination=0.1).fit(x).decision_scores_) > 90


def test_goad_and_callable_representations():
  x, y = contaminated(n=400)
  goad = STOCDetector(representation="goad", train_steps=64, num_transforms=8, contamination=0.1).fit(x)
  assert metrics.auc(y, goad.decision_scores_) > 85
  assert goad.refinement_ and goad.decision_function(x[:7]).shape == (7,)
  # Pickled as plain weights and rebuilt: the same scores, the same labels.
  restored = pickle.loads(pickle.dumps(goad))
  np.testing.assert_array_equal(restored.decision_function(x), goad.decision_function(x))
  np.testing.assert_array_equal(restored.predict(x[:50]), goad.labels_[:50])
  embed = lambda a: np.asarray(a)[:, :3] * 2.0  # noqa: E731
  feats = STOCDetector(representation=embed, contamination=0.1).fit(x)
  assert metrics.auc(y, feats.decision_scores_) > 90
  # A given representation's final model is a Gaussian by default, as a learned one's.
  gaussian = STOCDetector(representation=embed, occ="gde", contamination=0.1).fit(x)
  np.testing.assert_allclose(feats.decision_function(x), gaussian.decision_function(x), rtol=1e-6)


def test_a_representation_callable_that_returns_other_rows_or_non_finite_features_is_named():
  x, _ = contaminated(n=100)
  embed = lambda a: np.asarray(a)[:, :3]  # noqa: E731
  # One row short (an embedding that drops a row it cannot read): the scores were of other rows than X's.
  with pytest.raises(ValueError, match=r"^the representation callable returned 99 rows of features for 100 inputs"):
    STOCDetector(representation=lambda a: embed(a)[1:]).fit(x)
  det = STOCDetector(representation=embed).fit(x)
  det.representation = lambda a: embed(a)[:-1]
  with pytest.raises(ValueError, match=r"returned 6 rows of features for 7 inputs"):
    det.decision_function(x[:7])
  with pytest.raises(ValueError, match=r"must return \(N, D\) features, a row per input; it returned shape \(100,\)"):
    STOCDetector(representation=lambda a: embed(a)[:, 0]).fit(x)
  # Overflow in float32 reads as infinite: said, with the rows.
  with pytest.raises(ValueError, match=r"NaN or infinite features in 100 rows \(first: \[0, 1, 2, 3, 4\]\).*3\.4e38"):
    STOCDetector(representation=lambda a: embed(a) * 1e300).fit(x)
  with pytest.raises(ValueError, match=r"NaN or infinite features in 1 rows \(first: \[3\]\)"):
    STOCDetector(representation=lambda a: np.where(np.arange(len(a))[:, None] == 3, np.nan, embed(a))).fit(x)


def test_robust_scaling_uses_median_and_iqr():
  rng = np.random.default_rng(0)
  normals = np.column_stack([rng.normal(size=500), rng.lognormal(size=500) * 0.01])
  x = np.concatenate([normals, np.column_stack([rng.normal(size=15), np.full(15, 5.0)])])
  robust = STOCDetector(scaling="robust", occ="kde", contamination=0.03).fit(x)
  q75, q25 = np.percentile(x, [75, 25], axis=0)
  np.testing.assert_allclose(robust.mean_, np.median(x, axis=0))
  np.testing.assert_allclose(robust.scale_, (q75 - q25) / 1.3489795)
  standard = STOCDetector(occ="kde", contamination=0.03).fit(x)
  np.testing.assert_allclose(standard.scale_, x.std(axis=0))
  # The 15 anomalies inflate the skewed column's std several times over, not its IQR.
  assert standard.scale_[1] > 5 * robust.scale_[1]
  assert robust.decision_function(x[:4]).shape == (4,)


def test_contrastive_representation_on_images():
  from stoc_jax.data.images import load_digits, one_vs_rest_split, resize_images
  s = one_vs_rest_split(load_digits(), 0, 0.1, seed=0)
  # 16x16 digits and 2 steps, as the other contrastive fits here: one compiled train step for them all.
  det = STOCDetector(representation="contrastive", train_steps=2, contamination=0.1)
  det.fit(resize_images(s.x_train, 16))
  assert det.decision_scores_.shape == (len(s.x_train),)
  test = resize_images(s.x_test[:5], 16)
  assert det.decision_function(test).shape == (5,)
  restored = pickle.loads(pickle.dumps(det))
  np.testing.assert_array_equal(restored.decision_function(test), det.decision_function(test))
  assert restored.refined_mask_.sum() == det.refined_mask_.sum()


def test_images_estimate_their_contamination_on_the_trained_features():
  """On the leading principal components of the trained features, not Otsu's fraction of
  refinement's scores (which flagged 14.7 % of clean digit sets on average)."""
  from stoc_jax.contamination import MIN_CONTAMINATION, estimate_contamination, leading_components
  from stoc_jax.data.images import load_digits, resize_images
  x = resize_images(load_digits().x_train[:60], 16)
  det = STOCDetector(representation="contrastive", train_steps=2).fit(x)
  features = det.features(x)  # the final Gaussian's input: one L2-normalised row per image
  assert features.shape[0] == 60 and features.dtype == np.float64
  np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, rtol=1e-5)
  components = leading_components(features, detector.IMAGE_ESTIMATE_COMPONENTS)
  assert components.shape == (60, detector.IMAGE_ESTIMATE_COMPONENTS)
  expected = estimate_contamination(components)
  assert det.contamination_ == max(expected, MIN_CONTAMINATION)
  assert det.contamination_ != det.gamma_ / 2  # Otsu's fraction, which set refinement's gamma
  assert det.labels_.sum() == np.sum(det.decision_scores_ > np.quantile(det.decision_scores_, 1 - det.contamination_))
  cleaned = refine_dataset(x, representation="contrastive", train_steps=2)  # the same refinement, the same estimate
  np.testing.assert_array_equal(cleaned["keep"], det.refined_mask_)
  assert max(cleaned["contamination"], MIN_CONTAMINATION) == det.contamination_


@pytest.mark.parametrize("refine_rounds", [1, 2])
def test_features_are_what_the_final_model_of_a_table_reads(refine_rounds):
  """A Gaussian fitted on the kept rows' features scores new rows as the detector does, in the
  column scaling of refinement's last round (refitted on the kept rows when there are two)."""
  from sklearn.exceptions import NotFittedError
  from stoc_jax.table_models import make_model
  x = planted(n=400, ratio=0.05)
  with pytest.raises(NotFittedError):
    STOCDetector().features(x)
  det = STOCDetector(occ="gde", refine_rounds=refine_rounds).fit(x)
  features = det.features(x)
  assert features.shape == x.shape and features.dtype == np.float64
  new = planted(n=50, ratio=0.1, seed=1)
  own = make_model("gde").fit(features[det.refined_mask_]).score(det.features(new))
  np.testing.assert_allclose(own, det.anomaly_score(new), rtol=1e-6)
  first_scaling = (x - det.mean_) / det.scale_
  assert np.allclose(features, first_scaling, atol=1e-6) == (refine_rounds == 1)


def test_leading_components_are_uncorrelated_unit_columns_and_drop_what_has_no_variance():
  from stoc_jax.contamination import leading_components
  rng = np.random.default_rng(0)
  wide = rng.normal(size=(50, 3)) @ rng.normal(size=(3, 40)) * 100 + rng.normal(size=(50, 40)) * 1e-3
  out = leading_components(wide, 8)
  assert out.shape == (50, 8)
  np.testing.assert_allclose(np.cov(out.T), np.eye(8), atol=1e-8)  # whitened, whatever the scale
  rank_two = rng.normal(size=(30, 2)) @ rng.normal(size=(2, 6))
  assert leading_components(rank_two, 8).shape == (30, 2)  # no component of noise made up
  assert leading_components(np.ones((20, 5)), 8).shape == (20, 1)  # nothing varies: one zero column
  assert not leading_components(np.ones((20, 5)), 8).any()


def test_float_images_in_unit_range_equal_their_uint8_pixels():
  from stoc_jax.data.images import load_digits, resize_images
  x = resize_images(load_digits().x_train[:48], 16)
  fit = lambda images: STOCDetector(representation="contrastive", train_steps=2, contamination=0.1).fit(images)
  as_uint8, as_float = fit(x), fit(x.astype(np.float32) / 255.0)
  np.testing.assert_array_equal(as_float.decision_scores_, as_uint8.decision_scores_)
  with pytest.raises(ValueError, match=r"float images must lie in \[0, 1\]"):
    fit(x.astype(np.float32))  # 0-255 as floats: refused, not cast
  with pytest.raises(ValueError, match="images hold NaN or infinite values"):
    STOCDetector(representation="rotation").fit(np.full((20, 8, 8, 3), np.nan, np.float32))
  # Images of another size than the fit's: the ResNet scored them regardless.
  det = fit(x)
  with pytest.raises(ValueError, match=r"images are \(12, 12, 1\); this detector was fitted on \(16, 16, 1\)"):
    det.decision_function(x[:, :12, :12])
  with pytest.raises(ValueError, match=r"fitted on \(16, 16, 1\)\. Give them 1 channel\(s\), as the fitted images have"):
    det.decision_function(np.repeat(x, 3, axis=-1))  # resizing would not mend the channels
  # A list of images of several sizes, as photos read one by one are: NumPy's error named no image.
  photos = list(x[:5]) + [x[5, :12, :12]] + list(x[6:10])
  with pytest.raises(ValueError, match=r"^X holds images of several shapes \(9 of \(16, 16, 1\), 1 of \(12, 12, 1\); "
                     r"image 5 is the first that differs from image 0\); resize them to one size first[^\n]*$"):
    STOCDetector(representation="rotation", train_steps=2).fit(photos)
  with pytest.raises(ValueError, match=r"^X holds images of several shapes"):
    det.decision_function(photos)
  # Photos are rarely square: rotating them by 90 degrees failed in jnp.concatenate's words.
  with pytest.raises(ValueError, match=r"objective 'rotation' rotates images by 90 degrees, which needs square "
                     r"images; these are 16 x 12 \(height x width\)\. Resize them to a square"):
    STOCDetector(representation="rotation", train_steps=2).fit(x[:, :, :12])
  assert fit(x[:, :, :12]).decision_scores_.shape == (48,)  # contrastive learning takes them as they are


def test_a_second_contrastive_fit_compiles_nothing():
  """The ResNet's train step is one jitted function, keyed on its static settings: a second fit of the same
  configuration and image shape, with another seed, compiles nothing."""
  images = np.random.default_rng(0).integers(0, 255, (40, 12, 12, 3), dtype=np.uint8)  # a shape no other test uses
  fit = lambda seed: STOCDetector(representation="contrastive", train_steps=2, contamination=0.1,
                                  random_state=seed).fit(images).decision_function(images[:3])
  from stoc_jax import image_learner
  before = image_learner.train_step._cache_size()
  counts = compilations_per_fit(fit)
  assert counts[0] > 0 and counts[1] == 0, counts
  # One compiled step for both fits: the state is placed before its first call, so the first
  # call does not compile for a state on one device and the next for a replicated one.
  assert image_learner.train_step._cache_size() == before + 1


@pytest.mark.parametrize("kwargs,match", [
    ({"representation": "goad", "occ": "kde"}, "does not apply with representation='goad'"),
    ({"gamma": 1.5}, "gamma must lie in"),
    ({"contamination": 0.9}, r"contamination must be 'auto' or a fraction in \(0, 0.5\]; got 0.9\.$"),
    ({"contamination": 5}, r"got 5 \(a percentage\? 5 % is 0.05\)"),
    ({"contamination": "5%"}, r"got '5%' \(a percentage\? 5 % is 0.05\)"),
    ({"contamination": "lots"}, "contamination"),
    ({"num_models": 200}, "at least 2 x num_models"),
    ({"occ": "lof"}, "unknown one-class model 'lof'"),
    ({"representation": "contrastive", "occ": "knn"}, "occ must be one of"),
    ({"representation": "rotation", "occ": "iforest"}, "occ must be one of .* with representation='rotation'"),
    ({"representation": "rotation", "refine_occ": "knn"}, "refine_occ='knn' needs representation=None"),
    ({"representation": "goad", "refine_occ": "knn"}, "refine_occ='knn' needs representation=None"),
    ({"gamma_factor": 0}, "gamma_factor must be a positive number or None"),
    ({"gamma_factor": float("inf")}, r"gamma_factor must be a positive number or None; got inf"),
    ({"refine": "no"}, r"refine must be True or False; got 'no'"),
    ({"refine": None}, r"refine must be True or False; got None"),
    ({"representation": "bert"}, "representation must be"),
    ({"scaling": "minmax"}, "scaling must be"),
    ({"n_neighbors": 0}, "n_neighbors must be a positive integer"),
    ({"refine_rounds": 0}, "refine_rounds must be a positive integer or None"),
    ({"representation": "goad", "refine_rounds": 2}, "refine_rounds applies to representation=None"),
    ({"random_state": -3}, r"random_state must be an integer from 0 to 2\*\*32 - 1 \(the seed\); got -3"),
    ({"random_state": "a"}, "random_state must be an integer from 0"),
    ({"random_state": 2**32}, r"random_state must be an integer from 0 to 2\*\*32 - 1 \(the seed\); got 4294967296"),
    ({"representation": "goad", "num_transforms": 0}, "num_transforms must be an integer >= 1; got 0"),
    ({"representation": "goad", "learning_rate": -1}, "learning_rate must be a positive number; got -1"),
    ({"representation": "goad", "train_steps": 2.5}, "train_steps must be an integer >= 0; got 2.5"),
    ({"representation": "contrastive", "image_width": 0}, "image_width must be a positive number; got 0"),
    ({"representation": "rotation", "train_steps": -1}, "train_steps must be an integer >= 0; got -1"),
    ({"representation": "rotation"}, r"representation='rotation' takes images \(N, H, W, C\); got shape \(100, "),
])
def test_bad_parameters(kwargs, match):
  x, _ = contaminated(n=100)
  with pytest.raises(ValueError, match=match):
    STOCDetector(**kwargs).fit(x)


def test_n_neighbors_reaches_refinement_and_the_final_model():
  from sklearn.neighbors import NearestNeighbors
  from stoc_jax import table_models
  x, _ = contaminated(n=300)
  det = STOCDetector(n_neighbors=7, contamination=0.1).fit(x[:200])
  assert det._model.learner.n_neighbors == 7
  fit, _ = det._model.learner.refinement_occ
  assert fit(x[:50]).k_ == 7
  # refine=False, occ="knn": the score of a new row is its 7th-nearest distance among the scaled rows.
  plain = STOCDetector(occ="knn", refine=False, n_neighbors=7, contamination=0.1).fit(x[:200])
  rows, new = plain._input_features(x[:200]), plain._input_features(x[200:])
  expected = NearestNeighbors(n_neighbors=7).fit(rows).kneighbors(new)[0][:, -1]
  np.testing.assert_allclose(plain.decision_function(x[200:]), expected, rtol=1e-6)
  assert table_models.make_model("knn").n_neighbors == 5  # the model's own default stays PyOD's


def test_on_a_large_table_the_knn_distances_measure_to_a_subset_of_the_rows(monkeypatch):
  """Past the caps (table_models.REFINEMENT_KNN_ROWS and FINAL_KNN_ROWS, here shrunk) each kNN
  distance is to a random subset of its rows, so a fit grows with N x cap, not N^2; the planted
  anomalies are still found."""
  from sklearn.metrics import roc_auc_score
  from stoc_jax import table_models
  monkeypatch.setattr(table_models, "REFINEMENT_KNN_ROWS", 60)
  monkeypatch.setattr(table_models, "FINAL_KNN_ROWS", 250)
  x, y = contaminated(n=1500, ratio=0.05)
  det = STOCDetector(contamination=0.05).fit(x[:1000])
  fit, _ = det._model.learner.refinement_occ
  assert fit(x[:200]).nn_.n_samples_fit_ == 60
  knn = [m for m in det._model.scorer.model.fitted_ if isinstance(m, table_models.KNNDistance)]
  assert [m.nn_.n_samples_fit_ for m in knn] == [250]
  assert len(det.decision_scores_) == 1000 and np.isfinite(det.decision_scores_).all()
  assert roc_auc_score(y[1000:], det.decision_function(x[1000:])) > 0.95


def stretched_column(n, extreme, subtle, seed):
  """Gaussian rows; in column 0, `extreme` anomalies 60 SDs out, which stretch its std tenfold, then
  `subtle` ones 6 SDs out."""
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(n, 6))
  x[:extreme, 0] = rng.normal(60, 5, extreme)
  x[extreme:extreme + subtle, 0] = rng.normal(6, 0.5, subtle)
  return x


def test_the_second_round_rescales_the_columns_on_the_kept_rows_and_finds_what_extreme_anomalies_hid():
  x = stretched_column(1000, 30, 30, seed=0)
  test, test_y = stretched_column(400, 0, 40, seed=1), np.r_[np.ones(40), np.zeros(360)]
  # gamma = the estimate (2x the default's half), so that the first round removes every extreme row.
  one, two = (STOCDetector(refine_rounds=r, gamma_factor=1).fit(x) for r in (1, 2))
  assert [len(d.refinement_) for d in (one, two)] == [1, 2]
  assert (~one.refined_mask_[:30]).all() and (~two.refined_mask_[:30]).all()  # the extreme rows, either way
  # Scaled by all rows, the subtle anomalies are half an SD out and most are kept; rescaled on the
  # rows the first round kept, they stand out, and the final model ranks them above the normal rows.
  assert (~one.refined_mask_[30:60]).mean() < 0.3 and (~two.refined_mask_[30:60]).mean() > 0.7
  auc = [metrics.auc(test_y, d.decision_function(test)) for d in (one, two)]
  assert auc[0] < 90 and auc[1] > 98, auc
  assert STOCDetector().fit(x)._model.learner.rounds == 1  # the default
  assert STOCDetector(refine=False).fit(x)._model.learner.rounds == 1  # nothing to rescale on


def test_a_refit_of_the_scaling_standardises_the_kept_rows():
  from stoc_jax import table_models
  x = stretched_column(300, 10, 0, seed=2).astype(np.float32)
  learner = table_models.HostModels("knn", "knn", rounds=2)
  assert learner.steps(len(x)) == (1, 1)
  state = learner.init(None, x)
  assert learner.features(state, x) is x
  kept = np.arange(len(x)) >= 10
  state, _ = learner.train(state, x, kept, key=None, num_steps=1, round_index=1)
  rescaled = learner.features(state, x)
  np.testing.assert_allclose(rescaled[kept].mean(axis=0), 0, atol=1e-5)
  np.testing.assert_allclose(rescaled[kept].std(axis=0), 1, rtol=1e-5)
  assert rescaled[:10, 0].min() > 40  # the removed rows, in the kept rows' SDs


def test_a_detector_pickled_before_the_scaling_was_refitted_still_scores():
  """Saved models (stoc-jax detect --save-model) hold a HostModels learner; those of earlier
  versions have no rounds and an empty state, and score as they were fitted."""
  x = stretched_column(300, 10, 10, seed=3)
  det = STOCDetector(refine_rounds=1).fit(x)
  expected = det.decision_function(x[:20])
  del det._model.learner.rounds, det._model.learner.robust  # as an earlier version pickled it
  restored = pickle.loads(pickle.dumps(det))
  np.testing.assert_array_equal(restored.decision_function(x[:20]), expected)
  assert restored._model.learner.steps(len(x)) == (0, 1)


def test_values_whose_squares_overflow_are_rejected_in_fit_and_score():
  x = np.random.default_rng(0).normal(size=(100, 3))
  with pytest.raises(ValueError, match=r"magnitude 3.*e\+200.*Divide those columns by a power of ten"):
    STOCDetector().fit(x * 1e200)  # the scaling's std overflowed to inf, and every row scored alike
  det = STOCDetector().fit(x * 1e90)
  assert np.isfinite(det.decision_scores_).all() and det.decision_scores_.std() > 0
  with pytest.raises(ValueError, match="power of ten"):
    det.decision_function(x[:2] * 1e120)


def test_nan_inf_and_text_columns_are_rejected_saying_where():
  import pandas as pd
  x, _ = contaminated(n=100)
  x[3, 1] = np.nan
  with pytest.raises(ValueError, match=r"NaN or inf in 1 rows \(first: \[3\]\) and columns \[1\]; impute"):
    STOCDetector().fit(x)
  frame = pd.DataFrame(x, columns=[f"c{i}" for i in range(x.shape[1])])
  with pytest.raises(ValueError, match=r"columns \['c1'\]"):
    STOCDetector().fit(frame)
  det = STOCDetector().fit(np.nan_to_num(x))
  x[5, 0] = np.inf
  with pytest.raises(ValueError, match=r"in 2 rows \(first: \[3, 5\]\) and columns \[0, 1\]"):
    det.predict(x)
  frame["plan"] = "basic"
  with pytest.raises(ValueError, match=r"text columns \['plan'\].*get_dummies"):
    STOCDetector().fit(frame)
  # The same columns as a NumPy array of objects, or as lists: named by position, with a value.
  with pytest.raises(ValueError, match=r"text in columns \[5\] \(e\.g\. 'basic'\).*get_dummies"):
    STOCDetector().fit(frame.to_numpy())
  with pytest.raises(ValueError, match=r"text in columns \[1\] \(e\.g\. 'b'\)"):
    STOCDetector().fit([[1.0, "2.5"]] * 20 + [[0.5, "b"]])
  numbers = np.nan_to_num(frame.drop(columns="plan").to_numpy()).astype(object)  # objects that are numbers pass
  assert STOCDetector().fit(numbers).decision_scores_.shape == (len(frame),)
  # So do a frame's numbers held as text (a CSV read with dtype=str): as the numbers themselves.
  finite = np.nan_to_num(x, posinf=0.0)
  np.testing.assert_array_equal(STOCDetector().fit(pd.DataFrame(finite).astype("string")).decision_scores_,
                                STOCDetector().fit(finite).decision_scores_)
  frame["when"] = pd.date_range("2026-01-01", periods=len(frame), freq="h")
  with pytest.raises(ValueError, match=r"date or time columns \['when'\].*dt\.hour"):
    STOCDetector().fit(frame)
  # Periods (a month, a day) too: scikit-learn failed on them with float()'s TypeError.
  with pytest.raises(ValueError, match=r"date or time columns \['when'\]"):
    STOCDetector().fit(frame.assign(when=frame["when"].dt.to_period("D")))
  frame["when"] = frame["when"] - frame["when"].iloc[0]
  with pytest.raises(ValueError, match=r"duration columns \['when'\].*dt\.total_seconds\(\)"):
    STOCDetector().fit(frame)


def test_one_dimensional_and_image_shaped_input_is_refused_in_one_line():
  with pytest.raises(ValueError, match=r"^X must be 2-D.*1-D array of 40 values\. Reshape your data: X\.reshape\(-1, 1\)[^\n]*$"):
    STOCDetector().fit(np.zeros(40))
  with pytest.raises(ValueError, match=r"got shape \(40, 3, 3\).*representation='rotation'"):
    STOCDetector().fit(np.zeros((40, 3, 3)))
  with pytest.raises(ValueError, match=r"rows differ in length \(\[1, 2\] values\)"):
    STOCDetector().fit([[0.0, 1.0]] * 20 + [[2.0]])
  with pytest.raises(ValueError, match=r"^Complex data not supported: .*np\.c_\[X\.real, X\.imag\][^\n]*$"):
    STOCDetector().fit(np.zeros((40, 3), complex))
  det = STOCDetector().fit(contaminated(n=100)[0])
  with pytest.raises(ValueError, match=r"X\.reshape\(1, -1\) for one sample"):
    det.decision_function(np.zeros(5))
  # A single value: scikit-learn's own error read None as "array=nan" and a file name as a failed float.
  for single in (None, "scores.csv", 3.0, np.array(3.0)):
    with pytest.raises(ValueError, match=r"^X must be 2-D.*got a single value, \w+ '[^']*': give rows of columns[^\n]*$"):
      STOCDetector().fit(single)
    with pytest.raises(ValueError, match=r"got a single value"):
      det.decision_function(single)


def test_refine_dataset_is_the_detectors_refinement_and_keeps_clean_rows():
  from stoc_jax.contamination import MIN_CONTAMINATION
  x, _ = contaminated()
  out = refine_dataset(x, random_state=3)
  det = STOCDetector(random_state=3).fit(x)
  np.testing.assert_array_equal(out["keep"], det.refined_mask_)
  assert out["gamma"] == det.gamma_
  assert max(out["contamination"], MIN_CONTAMINATION) == det.contamination_  # the detector flags one in 1,000 at least
  assert out["rounds"] == det.refinement_
  # On clean rows: at gamma 0.005 each of the 5 models rejects 5 of 1,000. Otsu's gamma, its
  # earlier default, rejected half of them.
  clean = refine_dataset(np.random.default_rng(0).normal(size=(1000, 8)))
  assert clean["contamination"] == 0.0 and clean["keep"].mean() > 0.98


def test_refine_dataset_says_why():
  x, y = contaminated()
  out = refine_dataset(x, num_models=5, gamma=0.2)
  assert out["keep"].shape == (600,) and out["scores"].shape == (5, 600)
  assert ((out["rejected_by"] > 0) == ~out["keep"]).all()
  assert (out["scores"] >= out["thresholds"][:, None]).any(axis=0).tolist() == (~out["keep"]).tolist()
  assert (~out["keep"][y == 1]).mean() > 0.9


def test_refinement_that_keeps_no_row_warns_and_fits_on_all_rows():
  # 36 rows of 300 features, each model rejecting 90 %: before, the final GDE was fitted on no row (NaN).
  x = np.random.default_rng(0).normal(size=(36, 300))
  with pytest.warns(UserWarning, match=r"refinement kept [01] of 36 rows.*Keeping all 36 rows instead"):
    det = STOCDetector(gamma=0.9, contamination=0.1).fit(x)
  assert det.refined_mask_.all() and np.isfinite(det.decision_scores_).all()
  assert det.labels_.sum() == 4  # the threshold still comes from the contamination given


def test_goad_refinement_that_keeps_no_row_warns_and_trains_on_all_rows():
  # Three groups of identical rows: identical rows share a score, so a model rejects a whole group
  # or none of it, and at gamma = 0.5 the K models together reject every group.
  x = np.repeat(np.random.default_rng(0).normal(size=(3, 4)), 14, axis=0)[:40]
  x[-1] += 5.0
  with pytest.warns(UserWarning, match=r"refinement kept [01] of 40 rows.*Keeping all 40 rows instead"):
    det = STOCDetector(representation="goad", gamma=0.5, train_steps=16).fit(x)
  assert det.refined_mask_.all() and np.isfinite(det.decision_function(x)).all()


def test_rows_mostly_identical_refine_away_the_few_others_not_every_row():
  # 190 copies of one row and 10 others, estimated at 5 %: each model was asked to reject 11 rows
  # and Eq. 2's threshold, the 11th largest score, was the copies' 0, so every row was rejected.
  x = np.r_[np.zeros((190, 3)), np.random.default_rng(0).normal(size=(10, 3))]
  with warnings.catch_warnings():
    warnings.simplefilter("error", UserWarning)  # no "refinement kept 0 of 200 rows"
    warnings.filterwarnings("ignore", message="190 rows are exact copies")
    det = STOCDetector(gamma_factor=1).fit(x)  # gamma = the estimate: 11 rows a model
    default = STOCDetector().fit(x)  # gamma half the estimate: fewer rows, the copies kept all the same
  assert det.refined_mask_[:190].all() and not det.refined_mask_[190:].any()
  assert det.labels_[190:].all() and not det.labels_[:190].any()
  assert default.refined_mask_[:190].all() and not default.labels_[:190].any()


def test_goad_trains_on_heavy_tailed_columns():
  # Cauchy columns under robust scaling: at lr 0.1 the first steps sent 3 of these 4 seeds to a NaN
  # loss before the detector clipped gradients (goad.clip_grad_norm = 1).
  for seed in (0, 1):
    x = np.random.default_rng(seed).standard_cauchy(size=(40, 20))
    det = STOCDetector(representation="goad", scaling="robust", train_steps=64).fit(x)
    assert np.isfinite(det.decision_scores_).all()


def test_a_large_group_of_copies_is_pointed_out_and_refinement_keeps_it():
  x, y = contaminated()
  anomaly = x[np.flatnonzero(y == 1)[0]]
  x = np.concatenate([x, np.repeat(anomaly[None], 40, axis=0)])  # 41 copies of one anomalous row
  with pytest.warns(UserWarning, match="41 rows are exact copies of one row"):
    det = STOCDetector(contamination=0.15, refine_occ="gde").fit(x)
  # Why it warns: the copies mask themselves, so every Gaussian of the ensemble keeps them,
  # while refinement removes most of the other anomalies. (A kNN model keeps them once its part
  # holds 5 copies: about 5 x K copies in all.)
  assert det.refined_mask_[-41:].all()
  assert (~det.refined_mask_[:600][y == 1]).mean() > 0.8
  with warnings.catch_warnings():
    warnings.simplefilter("error")  # without copies: no warning
    STOCDetector(contamination=0.1).fit(contaminated()[0])


def test_repeated_rows_counts_exact_copies_only():
  from stoc_jax.detector import repeated_rows
  x = np.random.default_rng(0).normal(size=(50, 300))
  x[[3, 9, 17]] = x[5]  # a group of four
  x[20] = x[21] + 1e-12  # near, not equal
  x[30], x[31] = 0.0, -0.0  # -0.0 == 0.0, as numpy compares
  assert repeated_rows(x) == {"rows repeating an earlier row": 4, "largest group of identical rows": 4}
  ints = np.array([[1, 2], [3, 4], [1, 2], [1, 2]])
  assert repeated_rows(ints) == {"rows repeating an earlier row": 2, "largest group of identical rows": 3}


@pytest.mark.parametrize("representation,rows", [(None, 203), ("goad", 204)])
def test_a_second_fit_of_the_same_shape_compiles_nothing(representation, rows):
  """GOAD: a second fit of a shape compiles nothing. Tables: no fit compiles per shape (host
  models), so after a first fit a table of another shape compiles nothing either."""
  def fit(seed):
    x, _ = contaminated(n=rows + (seed == 2), dim=7, seed=seed)  # shapes no other test uses
    STOCDetector(representation, contamination=0.05, train_steps=16, random_state=seed).fit(x).decision_function(x[:9])
  counts = compilations_per_fit(fit, seeds=range(2 if representation else 3))
  if representation:
    assert counts[0] > 0 and counts[1] == 0, counts
  else:
    assert counts[1:] == [0, 0], counts


def test_the_readme_python_example_runs_as_written():
  """README, "From Python": the block runs on a table of its shape, so the names it shows exist."""
  import pathlib
  import re
  readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
  block = re.search(r"### From Python.*?```python\n(.*?)```", readme, re.S).group(1)
  x, _ = contaminated(n=200)
  namespace = {"X": x, "X_new": x[:20], "column_names": [f"c{i}" for i in range(x.shape[1])]}
  exec(compile(block, "README.md", "exec"), namespace)
  assert namespace["det"].decision_function(x[:20]).shape == (20,)
  assert len(namespace["column_deviations"](x[:3], namespace["normal"], namespace["column_names"])) == 3



def test_a_workdir_holds_one_fit_and_a_table_fit_refuses_one(tmp_path):
  from stoc_jax.data.images import load_digits, resize_images
  x = resize_images(load_digits().x_train[:40], 8)
  STOCDetector(representation="rotation", train_steps=4, contamination=0.1, workdir=str(tmp_path / "w")).fit(x)
  assert (tmp_path / "w" / "config.json").exists() and (tmp_path / "w" / "checkpoints").is_dir()
  with pytest.raises(ValueError, match=r"holds a run of another config \(fit.data_sha256: '\w+' there, '\w+' now; "
                                       r"fit.data_shape: \[40, 8, 8, 1\] there, \[30, 8, 8, 1\] now\)"):
    STOCDetector(representation="rotation", train_steps=4, contamination=0.1, workdir=str(tmp_path / "w")).fit(x[:30])
  with pytest.raises(ValueError, match=r"fit.random_state: 0 there, 1 now"):
    STOCDetector(representation="rotation", train_steps=4, contamination=0.1, random_state=1,
                 workdir=str(tmp_path / "w")).fit(x)
  with pytest.raises(ValueError, match="workdir checkpoints a learned representation's training"):
    STOCDetector(workdir=str(tmp_path / "t")).fit(np.random.default_rng(0).normal(size=(50, 3)))
  # An empty path, made absolute, was the current folder: the fit wrote its checkpoints there.
  with pytest.raises(ValueError, match=r"workdir must be a folder or a bucket URL; got ''"):
    STOCDetector(representation="rotation", train_steps=4, contamination=0.1, workdir="").fit(x)
  # A number became a folder of that name in the current one; a file failed as "[Errno 17] File exists".
  with pytest.raises(ValueError, match=r"workdir must be a folder or a bucket URL; got int 5\."):
    STOCDetector(representation="rotation", train_steps=4, contamination=0.1, workdir=5).fit(x)
  (tmp_path / "notes.txt").write_text("a file")
  for inside in ("", "/run"):
    with pytest.raises(ValueError, match=rf"notes\.txt{inside}: \S*notes\.txt is a file; give a folder"):
      STOCDetector(representation="rotation", train_steps=4, contamination=0.1,
                   workdir=str(tmp_path / "notes.txt") + inside).fit(x)
  # A link to nothing: exists() reads it as absent, so the search for the file above found none.
  (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
  for inside in ("", "/run"):
    with pytest.raises(ValueError, match=rf"gone{inside}: \S*gone is a link to nothing; give a folder"):
      STOCDetector(representation="rotation", train_steps=4, contamination=0.1,
                   workdir=str(tmp_path / "gone") + inside).fit(x)
