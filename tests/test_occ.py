import jax
import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from stoc_jax import occ


def _correlated(n=800, d=6, seed=0):
  rng = np.random.default_rng(seed)
  a = rng.normal(size=(d, d))
  return rng.normal(size=(n, d)) @ a + rng.normal(size=d)


def test_gde_matches_sklearn_gaussian_mixture():
  x = _correlated()
  held_out = _correlated(seed=1)
  scores = np.asarray(occ.gde_score(occ.gde_fit(x, shrinkage=0.0), held_out))
  gm = GaussianMixture(1, covariance_type="full", reg_covar=1e-6).fit(x)
  np.testing.assert_allclose(scores, -gm.score_samples(held_out), rtol=2e-4, atol=2e-3)


def test_gde_weights_equal_subset_fit():
  x = _correlated()
  w = np.zeros(len(x))
  w[::3] = 1.0
  a = occ.gde_fit(x, weights=w)
  b = occ.gde_fit(x[::3])
  np.testing.assert_allclose(a.mean, b.mean, atol=1e-4)
  np.testing.assert_allclose(a.chol, b.chol, atol=1e-3)


def test_gde_fit_many_matches_separate_fits():
  x = _correlated(n=900)
  assignment = np.arange(len(x)) % 3
  many = occ.gde_fit_many(x, assignment, 3)
  for k in range(3):
    one = occ.gde_fit(x[assignment == k])  # both Ledoit-Wolf
    np.testing.assert_allclose(many.mean[k], one.mean, atol=1e-4)
    np.testing.assert_allclose(many.log_det[k], one.log_det, atol=1e-2)


def test_ledoit_wolf_shrinkage_matches_sklearn():
  from sklearn.covariance import ledoit_wolf
  rng = np.random.default_rng(0)
  for n, d in ((500, 5), (40, 60)):  # N >> D, and more features than rows
    x = rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
    p = occ.gde_fit(x, shrinkage="ledoit_wolf", reg_covar=0.0)
    cov_lw, _ = ledoit_wolf(x)
    np.testing.assert_allclose(np.asarray(p.chol @ p.chol.T), cov_lw, rtol=2e-3, atol=2e-3 * np.abs(cov_lw).max())


def test_more_features_than_rows_gives_finite_scores():
  x = np.random.default_rng(0).normal(size=(39, 274)).astype(np.float32)
  s = np.asarray(occ.gde_score(occ.gde_fit(x), x))
  assert np.isfinite(s).all()


def test_gde_handles_constant_and_duplicate_features():
  x = _correlated(d=4)
  x = np.concatenate([x, np.full((len(x), 1), 3.0), x[:, :1]], axis=1)  # constant + duplicate column
  for shrinkage in (0.0, 0.1, "ledoit_wolf"):
    scores = np.asarray(occ.gde_score(occ.gde_fit(x, shrinkage=shrinkage), x))
    assert np.isfinite(scores).all()


def test_gde_survives_float32_rounding_on_dependent_columns():
  # A one-hot group (its columns sum to 1), a scaled copy of other columns and a
  # constant column, at a scale where float32 rounding makes the covariance
  # slightly indefinite: a fixed 1e-6 jitter gave a NaN Cholesky factor (KDD at 5 %).
  rng = np.random.default_rng(0)
  onehot = np.eye(4)[rng.integers(0, 4, 2000)]
  cont = rng.normal(size=(2000, 6)) * 100.0
  x = np.column_stack([onehot, cont, 2.0 * cont[:, :2], np.full(2000, 3.0)]).astype(np.float32)
  params = occ.gde_fit(x, shrinkage=0.0)
  assert np.isfinite(np.asarray(params.chol)).all()
  scores = np.asarray(occ.gde_score(params, x))
  assert np.isfinite(scores).all()
  far = x.copy()
  far[:10, 4:10] *= 5.0  # ten rows pushed far out along the spread columns
  assert set(np.argsort(-np.asarray(occ.gde_score(params, far)))[:10]) == set(range(10))


def test_shrinkage_moves_covariance_towards_identity_scale():
  x = _correlated()
  plain, shrunk = occ.gde_fit(x, shrinkage=0.0), occ.gde_fit(x, shrinkage=1.0)
  cov = np.asarray(shrunk.chol @ shrunk.chol.T)
  assert np.allclose(cov - np.diag(np.diag(cov)), 0, atol=1e-4)
  assert not np.allclose(plain.chol, shrunk.chol)


@pytest.mark.parametrize("kind", ["gde", "kde", "ocsvm", "ocsvm_linear"])
def test_every_occ_ranks_planted_outliers_high(kind):
  rng = np.random.default_rng(0)
  x = rng.normal(size=(400, 3))
  outliers = rng.normal(size=(10, 3)) * 0.3 + 6.0
  if kind == "ocsvm_linear":  # a linear OC-SVM separates the data from the origin
    x, outliers = x * 0.5 + 8.0, outliers * 0.0
  test = np.concatenate([x[:100], outliers])
  if kind == "gde":
    s = np.asarray(occ.gde_score(occ.gde_fit(x), test))
  elif kind == "kde":
    s = occ.kde_score(occ.kde_fit(x), test)
  else:
    s = occ.ocsvm_score(occ.ocsvm_fit(x, kernel="rbf" if kind == "ocsvm" else "linear"), test)
  assert set(np.argsort(-s)[:10]) == set(range(100, 110))


def test_kde_width_rule_is_ten_times_sklearn_scale():
  x = np.random.default_rng(0).normal(size=(100, 5)) * 2.0
  assert occ.rbf_gamma(x) == pytest.approx(10.0 / (5 * x.var()))


def test_kde_on_identical_rows_scores_other_rows_finitely():
  # float32 copies of one row have a rounding-sized variance; the width rule must not blow up on it.
  support = np.repeat(np.array([[-0.19310474]], np.float32), 21, axis=0)
  support[0] = np.nextafter(support[0], np.float32(1))  # a variance of 1e-17
  assert occ.rbf_gamma(support) == pytest.approx(10.0)
  s = occ.kde_score(occ.kde_fit(support), np.array([[-0.19310474], [1.0], [2.57]], np.float32))
  assert np.isfinite(s).all() and s[0] < s[1] < s[2]


def test_ocsvm_rejects_unknown_kernel():
  with pytest.raises(ValueError, match="kernel"):
    occ.ocsvm_fit(np.zeros((5, 2)), kernel="poly")


def test_otsu_separates_two_modes():
  rng = np.random.default_rng(0)
  scores = np.concatenate([rng.normal(0, 1, 900), rng.normal(10, 1, 100)])
  t = occ.otsu_threshold(scores)
  assert 3.0 < t < 7.0
  assert occ.otsu_ratio(scores) == pytest.approx(0.1, abs=0.01)


def test_otsu_rejects_nan():
  with pytest.raises(ValueError, match="finite"):
    occ.otsu_threshold([0.0, np.nan, 1.0])


def test_gde_score_is_jittable_and_deterministic():
  x = _correlated()
  p = occ.gde_fit_jit(x)
  a = occ.gde_score_jit(p, x)
  b = jax.jit(occ.gde_score)(p, x)
  np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
