import math
import textwrap

import jax
import numpy as np
import pytest

from conftest import run_on_cpu_devices
from stoc_jax import occ, refine



def planted(n_normal=950, n_anomaly=50, dim=4, seed=0):
  rng = np.random.default_rng(seed)
  x = np.concatenate([rng.normal(size=(n_normal, dim)), rng.normal(4.0, 1.0, size=(n_anomaly, dim))])
  y = np.r_[np.zeros(n_normal, int), np.ones(n_anomaly, int)]
  return x.astype(np.float32), y


def numpy_reference(x, assignment, num_models, gamma):
  """Eq. 1-2 written plainly: fit a Gaussian per subset, threshold each at its gamma-quantile."""
  n = len(x)
  keep = np.ones(n, bool)
  for k in range(num_models):
    sub = x[assignment == k].astype(np.float64)
    mean = sub.mean(0)
    cov = np.cov(sub, rowvar=False, bias=True) + 1e-6 * np.eye(x.shape[1])
    diff = x - mean
    nll = 0.5 * (np.einsum("nd,de,ne->n", diff, np.linalg.inv(cov), diff) + np.linalg.slogdet(cov)[1]
                 + x.shape[1] * np.log(2 * np.pi))
    # eta_k = max eta such that (1/N) #{nll >= eta} >= gamma
    eta = np.sort(nll)[::-1][math.ceil(gamma * n) - 1]
    assert np.mean(nll >= eta) >= gamma
    keep &= nll < eta
  return keep


def test_refine_data_matches_numpy_reference_and_removes_planted_anomalies():
  x, y = planted()
  mask, info = refine.refine_data(jax.random.key(0), x, num_models=5, gamma=0.1, shrinkage=0.0)
  assert mask.dtype == bool and mask.shape == (1000,)
  # Same subsets -> same decisions as the plain reference.
  ref = numpy_reference(x, info["assignment"], 5, 0.1)
  assert (mask != ref).sum() <= 2  # float32 vs float64 ties at the threshold
  assert (~mask[y == 1]).mean() > 0.95  # planted anomalies removed
  assert (~mask[y == 0]).mean() < 0.15
  # Each OCC rejects exactly ceil(gamma N) samples (no ties here).
  assert (info["scores"] >= info["thresholds"][:, None]).sum(1).tolist() == [100] * 5


def test_subsets_are_disjoint_random_and_balanced():
  x, _ = planted()
  _, a = refine.refine_data(jax.random.key(0), x, 5, 0.1)
  _, b = refine.refine_data(jax.random.key(1), x, 5, 0.1)
  counts = np.bincount(a["assignment"], minlength=5)
  assert counts.tolist() == [200] * 5  # every sample in exactly one subset
  assert (a["assignment"] != b["assignment"]).mean() > 0.5


def test_same_key_same_mask():
  x, _ = planted()
  m1, _ = refine.refine_data(jax.random.key(3), x, 5, 0.1)
  m2, _ = refine.refine_data(jax.random.key(3), x, 5, 0.1)
  np.testing.assert_array_equal(m1, m2)


def test_custom_occ_path_agrees_with_default_gde():
  from stoc_jax import occ
  x, _ = planted()
  m_default, _ = refine.refine_data(jax.random.key(0), x, 5, 0.1)
  m_custom, _ = refine.refine_data(jax.random.key(0), x, 5, 0.1, occ_fit=occ.gde_fit,  # Ledoit-Wolf too
                                   occ_score=occ.gde_score)
  assert (m_default != m_custom).sum() <= 2


def test_model_k_fits_and_scores_on_view_k_mod_r():
  from stoc_jax import occ
  x, y = planted()
  # Two views of the same rows; in the second the anomalies sit among the normals (shifted back).
  views = [x, np.where(y[:, None] == 1, x - 4.0, x).astype(np.float32)]
  mask, info = refine.refine_data(jax.random.key(0), views, 4, 0.1, occ_fit=occ.gde_fit, occ_score=occ.gde_score)
  a = info["assignment"]
  for k in range(4):
    view = views[k % 2]
    expected = np.asarray(occ.gde_score(occ.gde_fit(view[a == k]), view))
    np.testing.assert_allclose(info["scores"][k], expected, rtol=1e-5)
  # A row is kept only if every model keeps it: the first view's models still remove the anomalies.
  assert (~mask[y == 1]).mean() > 0.9
  with pytest.raises(ValueError, match="same samples"):
    refine.refine_data(jax.random.key(0), [x, x[:-1]], 4, 0.1, occ_fit=occ.gde_fit, occ_score=occ.gde_score)
  with pytest.raises(ValueError, match="custom OCC"):
    refine.refine_data(jax.random.key(0), views, 4, 0.1)


def test_ensemble_scores_decide_as_refinement_and_rank_new_anomalies_high():
  from sklearn.metrics import roc_auc_score
  from stoc_jax import occ
  x, _ = planted()
  x_new, y_new = planted(n_normal=200, n_anomaly=20, seed=1)
  key = jax.random.key(0)
  evals, train, info = refine.ensemble_scores(key, x, x_new, 5, 0.1)
  mask, _ = refine.refine_data(key, x, 5, 0.1)
  # Score 1 is Eq. 1's boundary: the training rows at or above it are exactly those refinement removes.
  np.testing.assert_array_equal(train < 1.0, mask)
  np.testing.assert_array_equal(info["rejected_by"] == 0, mask)
  assert evals.shape == (220,) and roc_auc_score(y_new, evals) > 0.99
  # A custom OCC (here the same GDE) goes through the occ_fit / occ_score path to the same scores.
  evals_custom, _, _ = refine.ensemble_scores(key, x, x_new, 5, 0.1, occ_fit=occ.gde_fit,
                                              occ_score=occ.gde_score)
  np.testing.assert_allclose(evals_custom, evals, rtol=1e-4, atol=1e-4)
  # gamma * N < 1 rejects nothing (eta_k infinite); the scores stay finite and ordered.
  tiny_gamma, _, _ = refine.ensemble_scores(key, x, x_new, 5, 1e-4)
  assert np.isfinite(tiny_gamma).all() and roc_auc_score(y_new, tiny_gamma) > 0.99


def test_otsu_estimates_gamma():
  x, y = planted()
  mask, info = refine.refine_data(jax.random.key(0), x, 5, "otsu")
  assert 0.03 < info["gamma"] < 0.3  # true ratio 0.05, used as 2 x estimate
  assert (~mask[y == 1]).mean() > 0.9


@pytest.mark.parametrize("gamma", [0.0, 1.0, -0.1, 1.5, "often"])
def test_gamma_outside_unit_interval_is_a_clear_error(gamma):
  x, _ = planted()
  with pytest.raises(ValueError, match="gamma"):
    refine.refine_data(jax.random.key(0), x, 5, gamma)


def test_resolve_gamma_auto():
  assert refine.resolve_gamma("auto", 0.05) == pytest.approx(0.1)
  assert refine.resolve_gamma("auto", 0.0) == pytest.approx(0.005)
  assert refine.resolve_gamma("0.2") == pytest.approx(0.2)
  assert refine.resolve_gamma("OTSU") == "otsu"


def test_k_larger_than_data_is_a_clear_error():
  x, _ = planted(n_normal=8, n_anomaly=0)
  with pytest.raises(ValueError, match="too large for 8 samples"):
    refine.refine_data(jax.random.key(0), x, 5, 0.1)
  with pytest.raises(ValueError, match="positive integer"):
    refine.refine_data(jax.random.key(0), x, 0, 0.1)


def test_nan_features_are_a_clear_error():
  x, _ = planted()
  x[7, 2] = np.nan
  with pytest.raises(ValueError, match=r"NaN.*first: \[7\]"):
    refine.refine_data(jax.random.key(0), x, 5, 0.1)


@pytest.mark.timeout(300)
def test_sharded_refinement_on_8_devices_matches_single_device():
  """Features sharded over 8 fake CPU devices give the same mask as on one device."""
  code = textwrap.dedent("""
      import numpy as np, jax
      from jax.sharding import NamedSharding, PartitionSpec as P
      from stoc_jax import refine
      assert len(jax.devices()) == 8, jax.devices()
      rng = np.random.default_rng(0)
      x = np.concatenate([rng.normal(size=(1900, 16)), rng.normal(3, 1, size=(100, 16))]).astype(np.float32)
      mesh = jax.make_mesh((8,), ("data",))
      xs = jax.device_put(x, NamedSharding(mesh, P("data")))
      m1, i1 = refine.refine_data(jax.random.key(0), x, 5, 0.1)
      m8, i8 = refine.refine_data(jax.random.key(0), xs, 5, 0.1, mesh=mesh)
      np.testing.assert_allclose(i1["scores"], i8["scores"], rtol=1e-4, atol=1e-3)
      assert (m1 != m8).sum() <= 1, (m1 != m8).sum()
      print("SHARDED_OK", int(m8.sum()))
  """)
  run_on_cpu_devices(code, "SHARDED_OK", timeout=240)


@pytest.mark.timeout(300)
def test_sharded_fit_on_as_many_devices_as_cores_finishes():
  """Each device factors the K covariances itself. jaxlib's batched Cholesky spreads a batch over
  the CPU thread pool and waits for it: with as many devices as pool threads (2 on 2 cores) every
  thread waited inside it and the fit never finished. It factors one covariance at a time now."""
  code = textwrap.dedent("""
      import numpy as np, jax
      from stoc_jax import refine
      mesh = jax.make_mesh((2,), ("data",))
      x = np.random.default_rng(0).normal(size=(400, 128)).astype(np.float32)
      xs = jax.device_put(x, jax.sharding.NamedSharding(mesh, jax.P("data")))
      for seed in range(5):
        refine.refine_data(jax.random.key(seed), xs, 5, 0.1, mesh=mesh)
      print("FIT_OK")
  """)
  run_on_cpu_devices(code, "FIT_OK", timeout=60, devices=2)


@pytest.mark.parametrize("on_device", [False, True])
def test_tied_rows_at_the_threshold_go_to_the_side_nearer_the_asked_count(on_device):
  decide = (lambda s, r: refine._decide(jax.numpy.asarray(s), r)) if on_device else refine._decide_host

  def rejected(scores, num_reject):
    thresholds, rejected_by, _ = decide(np.asarray(scores, np.float32)[None], num_reject)
    return np.asarray(rejected_by).astype(bool), float(np.asarray(thresholds)[0])

  # 190 identical rows scored 0 and 10 others: asked for 11, Eq. 2's eta is 0, which would reject
  # all 200 rows; the 10 above it are rejected instead.
  low_tie = np.r_[np.zeros(190), np.arange(1.0, 11.0)]
  out, threshold = rejected(low_tie, 11)
  assert out.sum() == 10 and not out[:190].any() and threshold == 1.0
  # A block of 60 identical rows on top, asked for 50: the block goes together (60 is nearer 50 than 0).
  high_tie = np.r_[np.arange(140.0), np.full(60, 999.0)]
  out, threshold = rejected(high_tie, 50)
  assert out.sum() == 60 and out[140:].all() and threshold == 999.0
  # All rows identical: none rejected (the threshold is infinite), not all.
  out, threshold = rejected(np.ones(50), 5)
  assert not out.any() and threshold == np.inf
  # Without ties Eq. 2 is unchanged: the num_reject largest.
  out, threshold = rejected(np.arange(100.0), 7)
  assert out.sum() == 7 and out[93:].all() and threshold == 93.0


def test_refinement_that_keeps_nothing_is_a_clear_error():
  # Every row rejected by some model: nothing left to fit the final OCC on (it would give NaN scores).
  x = np.random.default_rng(0).normal(size=(36, 300)).astype(np.float32)
  with pytest.raises(ValueError, match=r"refinement kept [01] of 36 rows.*7 rows per model and 300 features"):
    refine.refine_data(jax.random.key(0), x, 5, 0.9)
  with pytest.warns(UserWarning, match="Keeping all 36 rows instead"):
    mask, info = refine.refine_data(jax.random.key(0), x, 5, 0.9, if_nothing_kept="keep_all")
  assert mask.all() and info["rejected_by"].max() >= 1  # the ensemble's verdicts are still reported
  mask, _ = refine.refine_data(jax.random.key(0), x, 5, 0.05)  # a small gamma still works
  assert mask.sum() >= 2


def _count_compilations(fn):
  """How many programs JAX traces or compiles while fn runs (the persistent cache off, so a cached
  program cannot hide a retrace)."""
  import jax.monitoring
  events = []
  listener = lambda name, *_, **__: events.append(name) if name.startswith("/jax/core/compile") else None
  jax.monitoring.register_event_duration_secs_listener(listener)
  previous = jax.config.jax_enable_compilation_cache
  jax.config.update("jax_enable_compilation_cache", False)
  try:
    fn()
  finally:
    jax.config.update("jax_enable_compilation_cache", previous)
    jax.monitoring.unregister_event_duration_listener(listener)
  return len(events)


@pytest.mark.parametrize("gamma,rows", [(0.1, 301), ("otsu", 302)])
def test_a_second_refinement_of_the_same_shape_compiles_nothing(gamma, rows):
  rng = np.random.default_rng(0)
  x1, x2 = (rng.normal(size=(rows, 7)).astype(np.float32) for _ in range(2))  # a shape no other test uses
  first = _count_compilations(lambda: refine.refine_data(jax.random.key(0), x1, 5, gamma))
  again = _count_compilations(lambda: refine.refine_data(jax.random.key(1), x2, 5, 0.07 if gamma != "otsu" else gamma))
  assert first > 0  # the counter sees compilations
  assert again == 0


def test_refine_data_returns_the_ensemble_it_fitted():
  rng = np.random.default_rng(0)
  x = np.concatenate([rng.normal(size=(380, 4)), rng.normal(4, 1, size=(20, 4))]).astype(np.float32)
  mask, info = refine.refine_data(jax.random.key(0), x, 5, 0.1)
  ensemble = info["ensemble"]
  np.testing.assert_allclose(ensemble.member_scores(x), info["scores"], rtol=1e-5)
  normalised = ensemble(x)
  np.testing.assert_array_equal(normalised < 1.0, mask)  # Eq. 1's decision sits at exactly 1
  # A custom OCC's ensemble scores with that OCC.
  _, custom = refine.refine_data(jax.random.key(0), x, 5, 0.1, occ_fit=occ.kde_fit, occ_score=occ.kde_score)
  np.testing.assert_allclose(custom["ensemble"].member_scores(x), custom["scores"], rtol=1e-5)
