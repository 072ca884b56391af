"""Outlier exposure: the objectives against NumPy, the OE data rules, every config end to end, resume."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import compilations_per_fit, killed_at_train_call
from stoc_jax import oe_learner, oe_objectives, oe_stoc, sharding
from stoc_jax.data import outlier_exposure
from stoc_jax.data import DataError


# -- the objectives

def _np_h(z):
  return np.sqrt((z ** 2).sum(-1) + 1) - 1


def _np_softplus(x):
  return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


@pytest.fixture
def rows():
  rng = np.random.default_rng(0)
  z = rng.normal(size=(12, 5)).astype(np.float32)
  logit = rng.normal(size=12).astype(np.float32) * 2
  normal = (np.arange(12) % 3 != 0).astype(np.float32)
  weight = rng.uniform(0.5, 1.5, 12).astype(np.float32)
  center = rng.normal(size=5).astype(np.float32)
  return z, logit, normal, weight, center


def _wmean(t, w):
  return (w * t).sum() / w.sum()


def test_losses_match_numpy(rows):
  z, logit, normal, weight, center = rows
  h = _np_h(z)
  hsc = np.where(normal > 0, h, -np.log(1 - np.exp(-h)))
  p = 1 / (1 + np.exp(-logit))
  bce = np.where(normal > 0, -np.log(p), -np.log(1 - p))
  pt = np.where(normal > 0, p, 1 - p)
  focal = -0.5 * (1 - pt) ** 2 * np.log(pt)
  d = ((z - center) ** 2).sum(-1)
  sad = np.where(normal > 0, d, 2.0 / (d + 1e-6))
  np.testing.assert_allclose(oe_objectives.hsc_loss(z, normal, weight), _wmean(hsc, weight), rtol=1e-5)
  np.testing.assert_allclose(oe_objectives.bce_loss(logit, normal, weight), _wmean(bce, weight), rtol=1e-5)
  np.testing.assert_allclose(oe_objectives.focal_loss(logit, normal, weight), _wmean(focal, weight), rtol=1e-5)
  np.testing.assert_allclose(oe_objectives.deep_sad_loss(z, normal, weight, center, eta=2.0),
                             _wmean(sad, weight), rtol=1e-5)
  np.testing.assert_allclose(oe_objectives.deep_svdd_loss(z, normal, weight, center),
                             _wmean(d, weight * normal), rtol=1e-5)
  # gamma = 0, alpha = 0.5: half the BCE
  np.testing.assert_allclose(oe_objectives.focal_loss(logit, normal, weight, gamma=0.0),
                             0.5 * _wmean(bce, weight), rtol=1e-5)
  np.testing.assert_allclose(oe_objectives.anomaly_score("hsc", z, logit, center), h, rtol=1e-5)
  np.testing.assert_allclose(oe_objectives.anomaly_score("bce", z, logit, center), -logit)
  np.testing.assert_allclose(oe_objectives.anomaly_score("deep_sad", z, logit, center), d, rtol=1e-5)


def test_hsc_oe_term_stays_finite_at_the_centre():
  z = jnp.zeros((2, 3))
  loss = oe_objectives.hsc_loss(z, jnp.array([0.0, 0.0]), jnp.ones(2))
  grad = jax.grad(lambda q: oe_objectives.hsc_loss(q, jnp.array([0.0, 0.0]), jnp.ones(2)))(z)
  assert np.isfinite(loss) and np.isfinite(grad).all()


@pytest.mark.parametrize("objective", oe_objectives.OBJECTIVES)
def test_a_gradient_step_moves_normals_in_and_oe_out(objective):
  """One descent step on a toy pair: the normal row's score falls; the OE row's rises (Deep SVDD
  ignores OE rows: their gradient is zero)."""
  z = jnp.array([[1.0, -0.5], [0.4, 0.3]])
  logit = jnp.array([0.2, -0.1])
  normal, weight, center = jnp.array([1.0, 0.0]), jnp.ones(2), jnp.array([0.1, 0.1])

  def f(z, logit):
    return oe_objectives.loss(objective, z, logit, normal, weight, center)

  gz, gl = jax.grad(f, argnums=(0, 1))(z, logit)
  before = oe_objectives.anomaly_score(objective, z, logit, center)
  after = oe_objectives.anomaly_score(objective, z - 0.01 * gz, logit - 0.01 * gl, center)
  assert after[0] < before[0]
  if objective == "deep_svdd":
    assert np.all(gz[1] == 0)
  else:
    assert after[1] > before[1]


def test_initial_center_keeps_coordinates_off_zero():
  c = oe_objectives.initial_center(jnp.array([[0.01, -0.02, 1.0], [0.0, -0.04, 3.0]]))
  np.testing.assert_allclose(c, [0.1, -0.1, 2.0])


# -- OE data

def test_oe_batches_sample_with_replacement_below_the_batch_size():
  small = outlier_exposure.oe_indices(0, 5, pool_size=3, batch=16)
  assert len(small) == 16 and set(small) <= {0, 1, 2} and len(set(small)) == 3
  one = outlier_exposure.oe_indices(0, 5, pool_size=1, batch=16)
  assert (one == 0).all()
  # A larger pool: no repeats within a batch, one epoch visits distinct images, and a step's
  # draw is a function of (seed, step) alone.
  epoch = np.concatenate([outlier_exposure.oe_indices(0, s, 100, 16) for s in range(6)])
  assert len(set(epoch)) == 96
  np.testing.assert_array_equal(outlier_exposure.oe_indices(0, 3, 100, 16), outlier_exposure.oe_indices(0, 3, 100, 16))
  assert not np.array_equal(outlier_exposure.oe_indices(0, 3, 100, 16), outlier_exposure.oe_indices(1, 3, 100, 16))


def test_oe_size_keeps_distinct_images_and_refuses_too_many():
  x = np.arange(50, dtype=np.uint8).reshape(50, 1, 1, 1)
  assert len(outlier_exposure.subsample(x, 0, 0)) == 50
  kept = outlier_exposure.subsample(x, 8, 0)
  assert len(np.unique(kept)) == 8
  assert not np.array_equal(kept, outlier_exposure.subsample(x, 8, 1))
  with pytest.raises(ValueError, match="exceeds the 50"):
    outlier_exposure.subsample(x, 64, 0)


def test_blur_removes_more_detail_as_sigma_grows():
  x = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3)).astype(np.uint8)
  np.testing.assert_array_equal(outlier_exposure.blur(x, 0.0), x)

  def detail(im):  # energy of the neighbour differences
    f = im.astype(float)
    return np.abs(np.diff(f, axis=1)).mean() + np.abs(np.diff(f, axis=2)).mean()

  energies = [detail(outlier_exposure.blur(x, s)) for s in (0.0, 0.5, 1.0, 2.0, 4.0)]
  assert all(a > b for a, b in zip(energies, energies[1:]))
  assert outlier_exposure.blur(x, 1.0).dtype == np.uint8
  assert abs(outlier_exposure.blur(x, 4.0).mean() - x.mean()) < 3  # a blur keeps the mean
  with pytest.raises(ValueError, match="blur_sigma"):
    outlier_exposure.blur(x, -1.0)


def test_oe_classes_stay_apart_from_the_test_anomalies():
  oe, tests = outlier_exposure.resolve_classes(0, 10, seed=3)
  assert len(oe) == 4 and len(tests) == 5 and not set(oe) & set(tests) and 0 not in oe + tests
  assert outlier_exposure.resolve_classes(0, 10, seed=3) == (oe, tests)
  assert outlier_exposure.resolve_classes(0, 10, seed=4) != (oe, tests)
  assert outlier_exposure.resolve_classes(2, 10, (1, 3)) == ((1, 3), (0, 4, 5, 6, 7, 8, 9))
  with pytest.raises(ValueError, match="share \\[3\\]"):
    outlier_exposure.resolve_classes(0, 10, (1, 3), (3, 4))
  with pytest.raises(ValueError, match="normal class"):
    outlier_exposure.resolve_classes(0, 10, (0, 3))
  with pytest.raises(ValueError, match="not classes"):
    outlier_exposure.resolve_classes(0, 10, (12,))


def test_oe_folder_errors(tmp_path):
  with pytest.raises(DataError, match="no such outlier-exposure folder"):
    outlier_exposure.read_oe_folder(tmp_path / "missing")
  (tmp_path / "empty").mkdir()
  with pytest.raises(DataError, match="holds no images"):
    outlier_exposure.read_oe_folder(tmp_path / "empty")
  with pytest.raises(DataError, match="needs oe.path"):
    outlier_exposure.read_oe_folder("")
  with pytest.raises(DataError, match="are 16x16x3 but the normal images are 32x32x3"):
    outlier_exposure.fit_to(np.zeros((2, 16, 16, 3), np.uint8), (32, 32, 3), "oe.npz")
  # grey OE for colour data is repeated to three channels; image_size resizes.
  assert outlier_exposure.fit_to(np.zeros((2, 32, 32, 1), np.uint8), (32, 32, 3), "x").shape == (2, 32, 32, 3)
  assert outlier_exposure.fit_to(np.zeros((2, 16, 16, 3), np.uint8), (32, 32, 3), "x", 32).shape == (2, 32, 32, 3)


# -- end to end on tiny data

def tiny(name, data, variant="", **overrides):
  module = __import__(f"experiments.configs.{name}", fromlist=["get_config"])
  c = module.get_config(variant) if variant else module.get_config()
  if name == "cifar10_oe":
    c.dataset, c.data_dir = "npz", data
    c.model.conv_channels, c.model.fc_units = (4, 4, 8), (16, 8)
  c.batch_size, c.oe.batch_size = 8, 8
  c.train_epochs, c.train_steps, c.checkpoint_every_steps = 0, 2, 1
  c.max_test_images = 0
  c.update_from_flattened_dict(overrides)
  return c


CASES = ([("cifar10_oe", "", o) for o in oe_objectives.OBJECTIVES] + [("cifar10_oe", "cpu", "hsc")]
         + [("digits_oe", "", o) for o in oe_objectives.OBJECTIVES])


@pytest.mark.parametrize("name,variant,objective", CASES)
def test_every_config_and_objective_one_step(name, variant, objective, tiny_cifar, tmp_path):
  c = tiny(name, tiny_cifar, variant, objective=objective)
  res = oe_stoc.train_and_evaluate(c, tmp_path)
  saved = json.loads((tmp_path / "results.json").read_text())
  assert 0 <= saved["auc"] <= 100 and "recall_at_p90" in saved and saved["train_steps"] == 2
  assert saved["oe"]["source"] == ("classes" if objective != "deep_svdd" else "none (one-class objective)")
  assert not set(saved["oe"]["classes"]) & set(saved["test_anomaly_classes"])
  assert res["objective"] == objective
  steps = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
  oe_rows = [s["oe_rows"] for s in steps if "oe_rows" in s]
  assert oe_rows and all(r == (0 if objective == "deep_svdd" else 8) for r in oe_rows)


def test_oe_folder_and_size_and_blur_end_to_end(tiny_cifar, tmp_path):
  from PIL import Image
  folder = tmp_path / "photos" / "any" / "depth"
  folder.mkdir(parents=True)
  rng = np.random.default_rng(1)
  for i in range(5):
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(folder / f"{i}.png")
  c = tiny("cifar10_oe", tiny_cifar, **{"oe.source": "folder", "oe.path": str(tmp_path / "photos"), "oe.size": 3,
                                        "oe.blur_sigma": 1.0})
  res = oe_stoc.train_and_evaluate(c, tmp_path / "run")
  assert res["oe"]["num_images"] == 3 and res["oe"]["source"] == "folder" and res["oe"]["blur_sigma"] == 1.0
  assert res["test_anomaly_classes"] == [1, 2, 3, 4]
  Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(folder / "small.png")
  with pytest.raises(DataError, match="different sizes"):
    oe_stoc.train_and_evaluate(tiny("cifar10_oe", tiny_cifar, **{"oe.source": "folder",
                                                                 "oe.path": str(tmp_path / "photos")}),
                               tmp_path / "run2")


def test_rejected_rows_become_the_oe_set(tiny_cifar, tmp_path):
  """No OE set, refinement on: after a round, each OE row is a rejected training row."""
  c = tiny("cifar10_oe", tiny_cifar, objective="hsc", anomaly_ratio=0.2, train_steps=3,
           **{"oe.source": "none", "refine.enabled": True, "refine.schedule_steps": (1,)})
  res = oe_stoc.train_and_evaluate(c, tmp_path)
  assert res["oe"]["source"] == "rejected by refinement"
  steps = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
  assert [s["oe_rows"] for s in steps if "oe_rows" in s] == [0, 8, 8]  # no OE before the first round

  split = oe_stoc.prepare(c)
  learner = oe_learner.OELearner(c, split.x_train.shape[1:], sharding.make_mesh(1))
  learner.init(jax.random.key(0), split.x_train)
  mask = np.ones(len(split.x_train), bool)
  mask[:5] = False
  batch = learner.batch(0, split.x_train, mask, 1)
  assert batch["images"].shape[0] == 16 and batch["normal"].sum() == 8 and batch["weight"].sum() == 16
  kept_rows = {r.tobytes() for r in split.x_train[mask]}
  assert all(r.tobytes() in kept_rows for r in batch["images"][:8])
  assert all(any(np.array_equal(r, q) for q in split.x_train[:5]) for r in batch["images"][8:])
  with pytest.raises(ValueError, match="needs outlier exposure"):
    oe_stoc.train_and_evaluate(tiny("cifar10_oe", tiny_cifar, **{"oe.source": "none"}), tmp_path / "b")


def test_killed_run_resumes_to_the_same_result(tiny_cifar, tmp_path, monkeypatch):
  make = lambda: tiny("cifar10_oe", tiny_cifar, objective="deep_sad", train_steps=4)
  full = oe_stoc.train_and_evaluate(make(), tmp_path / "full")
  with killed_at_train_call(monkeypatch, oe_learner.OELearner, 3), pytest.raises(KeyboardInterrupt):
    oe_stoc.train_and_evaluate(make(), tmp_path / "resumed")
  resumed = oe_stoc.train_and_evaluate(make(), tmp_path / "resumed")
  for k in ("auc", "ap", "f1_oracle"):
    assert resumed[k] == pytest.approx(full[k], abs=1e-6)
  logged = [json.loads(line) for line in (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()]
  assert [r["step"] for r in logged if "step" in r] == [1, 2, 3, 4]  # the two lost steps ran once, after the kill


def test_bad_configs(tiny_cifar, tmp_path):
  with pytest.raises(ValueError, match="unknown objective"):
    oe_stoc.train_and_evaluate(tiny("cifar10_oe", tiny_cifar, objective="svm"), tmp_path / "a")
  with pytest.raises(ValueError, match="without bias"):
    oe_stoc.train_and_evaluate(tiny("cifar10_oe", tiny_cifar, objective="deep_svdd", **{"model.bias": True}),
                               tmp_path / "b")
  with pytest.raises(ValueError, match="oe.source must be"):
    oe_stoc.train_and_evaluate(tiny("cifar10_oe", tiny_cifar, **{"oe.source": "web"}), tmp_path / "c")
  with pytest.raises(ValueError, match="share"):
    oe_stoc.train_and_evaluate(tiny("cifar10_oe", tiny_cifar, test_anomaly_classes=(1, 2),
                                    **{"oe.classes": (2, 3)}), tmp_path / "d")
  with pytest.raises(ValueError, match="model.width must be a positive number, got 0.0"):  # it trained, no channels
    oe_stoc.train_and_evaluate(tiny("cifar10_oe", tiny_cifar, **{"model.arch": "resnet18", "model.width": 0.0}),
                               tmp_path / "e")


def test_detector_fits_scores_and_pickles():
  import pickle

  from sklearn.datasets import load_digits

  from stoc_jax.oe_detector import OEDetector
  d = load_digits()
  x = np.round(d.images * 255 / 16).astype(np.uint8)
  normal, oe, test_anomaly = x[d.target == 0], x[np.isin(d.target, (3, 5))], x[d.target == 7][:40]
  det = OEDetector(train_steps=40, batch_size=32).fit(normal[:120], X_oe=oe)
  assert det.decision_scores_.shape == (120,) and det.labels_.sum() == 12
  assert det.refined_mask_.all()  # OE given: no refinement
  scores = det.decision_function(np.concatenate([normal[120:], test_anomaly]))
  labels = np.r_[np.zeros(len(normal) - 120), np.ones(40)]
  from sklearn.metrics import roc_auc_score
  assert roc_auc_score(labels, scores) > 0.9
  proba, confidence = det.predict_proba(test_anomaly, return_confidence=True)
  np.testing.assert_allclose(proba.sum(axis=1), 1.0)
  np.testing.assert_array_equal(proba[:, 1] > 0, scores[-40:] > det.decision_scores_.min())
  np.testing.assert_allclose(det.predict(test_anomaly, return_confidence=True)[1], confidence)
  again = pickle.loads(pickle.dumps(det))
  np.testing.assert_allclose(again.decision_function(test_anomaly), scores[-40:], rtol=1e-5)
  with pytest.raises(ValueError, match="needs outlier exposure"):
    OEDetector(refine=False).fit(normal)
  with pytest.raises(DataError, match="normal images are 8x8x1; resize them, or set image_size=8 to resize both"):
    OEDetector().fit(normal, X_oe=np.zeros((4, 16, 16), np.uint8))
  with pytest.raises(DataError, match=r"are 8x8x3 but the normal images are 8x8x1; give them 1 channel\(s\) \(grey\)"):
    OEDetector().fit(normal, X_oe=np.zeros((4, 8, 8, 3), np.uint8))  # resizing does not mend channels
  with pytest.raises(ValueError, match=r"^X_oe holds images of several shapes \(1 of \(8, 8\), 1 of \(16, 16\); image 1"):
    OEDetector().fit(normal, X_oe=[oe[0], np.zeros((16, 16), np.uint8)])  # NumPy's error named neither
  self_oe = OEDetector(train_steps=16, batch_size=32).fit(np.concatenate([normal[:100], test_anomaly[:10]]))
  assert not self_oe.refined_mask_.all()  # no OE: refinement ran and its rejects were the OE


def test_a_detector_fit_killed_resumes_from_its_workdir(tmp_path, monkeypatch):
  """workdir: the same fit again resumes an interrupted one from its last checkpoint and scores as an
  uninterrupted fit; a fit with another seed or other OE images is refused in the workdir's words."""
  from stoc_jax.oe_detector import OEDetector
  rng = np.random.default_rng(0)
  x = np.concatenate([rng.integers(0, 80, (54, 8, 8, 1)), rng.integers(120, 255, (6, 8, 8, 1))]).astype(np.uint8)
  fit = lambda name, **kw: OEDetector(train_steps=16, batch_size=16, workdir=str(tmp_path / name), **kw).fit(x)
  full = fit("full")
  # No OE given: refinement's rejects are the OE, with a checkpoint at each of its rounds (steps 1, 2, 4, 8).
  with killed_at_train_call(monkeypatch, oe_learner.OELearner, 3), pytest.raises(KeyboardInterrupt):
    fit("resumed")
  resumed = fit("resumed")
  np.testing.assert_allclose(resumed.decision_scores_, full.decision_scores_, rtol=1e-6)
  np.testing.assert_array_equal(resumed.refined_mask_, full.refined_mask_)
  logged = lambda name: [r["step"] for r in map(json.loads, (tmp_path / name / "metrics.jsonl").open())
                         if "event" not in r]
  assert logged("full") == [1, 2, 4, 8, 16]
  assert logged("resumed") == logged("full")  # trained on from step 2's checkpoint, not from the start
  with pytest.raises(ValueError, match=r"holds a run of another config \(fit.random_state: 0 there, 1 now"):
    fit("full", random_state=1)
  oe = rng.integers(0, 255, (8, 8, 8, 1), dtype=np.uint8)
  with pytest.raises(ValueError, match=r"fit.oe_sha256: '<absent>' there"):
    OEDetector(train_steps=16, batch_size=16, refine=True, workdir=str(tmp_path / "full")).fit(x, X_oe=oe)


def test_a_second_detector_fit_compiles_nothing():
  """The network's train step is one jitted function, keyed on its static settings: a second fit of the
  same configuration and image shape, with another seed, compiles nothing."""
  from stoc_jax.oe_detector import OEDetector
  rng = np.random.default_rng(0)
  normal, oe = (rng.integers(0, 255, (n, 12, 12, 1), dtype=np.uint8) for n in (40, 16))  # a shape no other test uses
  fit = lambda seed: OEDetector(train_steps=2, batch_size=16, random_state=seed).fit(normal, X_oe=oe).decision_function(normal[:3])
  from stoc_jax import oe_learner
  before = oe_learner.train_step._cache_size()
  counts = compilations_per_fit(fit)
  assert counts[0] > 0 and counts[1] == 0, counts
  # One compiled step for both fits: the state is placed before its first call, so the first
  # call does not compile for a state on one device and the next for a replicated one.
  assert oe_learner.train_step._cache_size() == before + 1


@pytest.mark.timeout(200)
def test_run_py_runs_the_outlier_exposure_pipeline(tmp_path):
  import subprocess
  import sys

  from conftest import ROOT
  out = subprocess.run([sys.executable, "experiments/run.py", "--config=experiments/configs/digits_oe.py",
                        "--config.train_steps=2", "--config.objective=bce", f"--workdir={tmp_path}"],
                       cwd=ROOT, capture_output=True, text=True, timeout=180)
  assert out.returncode == 0, out.stderr[-2000:]
  saved = json.loads((tmp_path / "results.json").read_text())
  assert saved["objective"] == "bce" and saved["oe"]["source"] == "classes" and saved["train_steps"] == 2


@pytest.mark.timeout(300)
def test_sharded_oe_steps_match_single_device():
  """On 8 fake CPU devices two HSC steps (balanced batches sharded over "data") give the
  single-device result, and the scores agree."""
  import textwrap

  from conftest import run_on_cpu_devices
  code = textwrap.dedent("""
      import jax, numpy as np
      from experiments.configs import cifar10_oe
      from stoc_jax import oe_learner, sharding
      assert jax.device_count() == 8
      c = cifar10_oe.get_config()
      c.model.conv_channels, c.model.fc_units = (4, 4, 8), (16, 8)
      c.batch_size, c.oe.batch_size, c.train_epochs, c.train_steps = 8, 8, 0, 2
      rng = np.random.default_rng(0)
      x = rng.integers(0, 255, (32, 32, 32, 3), dtype=np.uint8)
      x_oe = rng.integers(0, 255, (12, 32, 32, 3), dtype=np.uint8)
      outs = []
      for n in (1, 8):
        learner = oe_learner.OELearner(c, x.shape[1:], sharding.make_mesh(n), x_oe)
        state = learner.init(jax.random.key(0), x)
        state, m = learner.train(state, x, np.ones(len(x), bool), key=jax.random.key(1), num_steps=2, round_index=0)
        outs.append((jax.device_get(state.params), m["loss"], learner.own_scores(state, x)))
      (p1, l1, s1), (p8, l8, s8) = outs
      assert abs(l1 - l8) < 1e-4, (l1, l8)
      diffs = jax.tree.leaves(jax.tree.map(lambda a, b: float(np.abs(np.asarray(a) - np.asarray(b)).max()), p1, p8))
      assert max(diffs) < 1e-4, max(diffs)
      assert np.abs(s1 - s8).max() < 1e-3 * max(1.0, np.abs(s1).max())
      print("SHARDED_OE_OK", l1, l8, max(diffs))
  """)
  run_on_cpu_devices(code, "SHARDED_OE_OK", timeout=280)


def test_resnet18_is_the_larger_option(tiny_cifar, tmp_path):
  c = tiny("cifar10_oe", tiny_cifar, objective="bce", **{"model.arch": "resnet18", "model.width": 0.125,
                                                         "model.out_dim": 8})
  res = oe_stoc.train_and_evaluate(c, tmp_path)
  assert 0 <= res["auc"] <= 100
  with pytest.raises(ValueError, match="model.arch"):
    oe_stoc.train_and_evaluate(tiny("cifar10_oe", tiny_cifar, **{"model.arch": "vgg"}), tmp_path / "b")


@pytest.mark.parametrize("kwargs,match", [
    ({"train_steps": 0}, "train_steps must be a positive integer; got 0"),
    ({"batch_size": 0}, "batch_size must be a positive integer; got 0"),
    ({"learning_rate": -1}, "learning_rate must be a positive number; got -1"),
    ({"random_state": -1}, r"random_state must be an integer from 0 to 2\*\*32 - 1 \(the seed\); got -1"),
    ({"refine": "yes"}, r"refine must be None \(refine when there is no X_oe\), True or False; got 'yes'"),
])
def test_bad_detector_parameters_are_refused_before_training(kwargs, match):
  """Each trained silently before (no steps, a batch of one, gradient ascent, a truthy string) or
  stopped in NumPy's words (a negative seed)."""
  from stoc_jax.oe_detector import OEDetector
  rng = np.random.default_rng(0)
  normal, oe = (rng.integers(0, 255, (n, 8, 8, 1), dtype=np.uint8) for n in (40, 16))
  with pytest.raises(ValueError, match=match):
    OEDetector(**kwargs).fit(normal, X_oe=oe)
