"""Every image config end to end at tiny size, the resume guarantee, and the sharded step."""

import json
import sys
import textwrap

import numpy as np
import pytest

from conftest import killed_at_refinement, run_on_cpu_devices
from stoc_jax import image_stoc

CONFIGS = ("cifar10_stoc", "cifar10_contrastive", "cifar10_rotation_stoc", "cifar10_stoc:cpu", "fmnist_stoc",
           "catsdogs_stoc", "digits_stoc")
SHAPES = {"fmnist_stoc": (28, 28, 1), "catsdogs_stoc": (64, 64, 3), "digits_stoc": None}


@pytest.fixture(scope="module")
def tiny_npz(tmp_path_factory):
  """Small .npz data sets with the shapes the configs expect (CIFAR-like, F-MNIST-like, 64x64)."""
  rng = np.random.default_rng(0)
  out = {}
  for shape in ((32, 32, 3), (28, 28, 1), (64, 64, 3)):
    path = tmp_path_factory.mktemp("npz") / f"{shape[0]}x{shape[2]}.npz"
    y_tr, y_te = np.arange(60) % 3, np.arange(30) % 3
    x_tr = rng.integers(0, 255, (60,) + shape, dtype=np.uint8)
    x_tr[y_tr == 0] //= 4  # the normal class is darker: something to learn
    np.savez(path, x_train=x_tr, y_train=y_tr, x_test=rng.integers(0, 255, (30,) + shape, dtype=np.uint8),
             y_test=y_te)
    out[shape] = str(path)
  return out


def tiny(name, tiny_npz, **overrides):
  name, _, variant = name.partition(":")
  module = __import__(f"experiments.configs.{name}", fromlist=["get_config"])
  c = module.get_config(variant)
  shape = SHAPES.get(name, (32, 32, 3))
  if shape is not None:
    c.dataset, c.data_dir = "npz", tiny_npz[shape]
  c.model.width = 0.125
  c.model.head_hidden, c.model.head_depth, c.model.head_out = 16, 2, 8
  c.batch_size = 8
  c.eval_batch_size = 64
  c.train_epochs = 0
  c.train_steps = 2
  c.refine.schedule_steps = (1,)
  c.checkpoint_every_steps = 1
  c.anomaly_ratio = 0.1
  c.max_train_images = 0
  c.max_test_images = 0
  c.image_size = 0 if shape is not None else 16
  c.update_from_flattened_dict(overrides)
  return c


@pytest.mark.parametrize("name", CONFIGS)
def test_every_image_config_one_step(name, tiny_npz, tmp_path):
  c = tiny(name, tiny_npz)
  res = image_stoc.train_and_evaluate(c, tmp_path)
  saved = json.loads((tmp_path / "results.json").read_text())
  assert 0 <= saved["auc"] <= 100 and 0 <= saved["ap"] <= 100
  assert "recall_at_p70" in saved and "recall_at_p90" in saved
  if c.refine.enabled:
    assert [r["round"] for r in saved["refinement"]] == [0, 1]
    assert saved["refinement"][0]["step"] == 1
  else:
    assert saved["refinement"] == []
  assert res["objective"] == c.objective


@pytest.mark.parametrize("name", ["cifar10_stoc", "cifar10_contrastive", "cifar10_rotation_stoc", "fmnist_stoc",
                                  "catsdogs_stoc"])
def test_every_paper_scale_image_config_has_a_cpu_variant(name):
  module = __import__(f"experiments.configs.{name}", fromlist=["get_config"])
  paper, cpu = module.get_config(), module.get_config("cpu")
  assert (paper.model.width, paper.max_train_images) == (1.0, 0)  # the paper's defaults stay
  assert (cpu.model.width, cpu.max_train_images, cpu.train_steps, cpu.batch_size) == (0.25, 1000, 300, 64)
  # Only what costs a CPU too much changes: DA's 4 rotations per image; the rest is the paper config's.
  assert cpu.objective == ("contrastive" if paper.objective == "da_contrastive" else paper.objective)
  assert (cpu.dataset, cpu.refine.enabled, cpu.model.stem) == (paper.dataset, paper.refine.enabled, paper.model.stem)
  with pytest.raises(ValueError, match="variant"):
    module.get_config("gpu")


@pytest.mark.parametrize("objective,final_occ", [("rotnet", "rotnet"), ("dae", "gde"), ("contrastive", "kde"),
                                                ("contrastive", "ensemble")])
def test_other_objectives_and_occs(objective, final_occ, tiny_npz, tmp_path):
  c = tiny("cifar10_stoc", tiny_npz, objective=objective, final_occ=final_occ)
  res = image_stoc.train_and_evaluate(c, tmp_path)
  assert np.isfinite(res["auc"])


def test_ablation_refine_for_occ_only(tiny_npz, tmp_path):
  c = tiny("cifar10_stoc", tiny_npz, **{"refine.update_representation": False})
  res = image_stoc.train_and_evaluate(c, tmp_path)
  assert [r["step"] for r in res["refinement"]] == [2]  # only the final refinement


@pytest.mark.parametrize("before_training", [False, True])
def test_killed_run_resumes_to_the_same_result(tiny_npz, tmp_path, monkeypatch, before_training):
  make = lambda: tiny("cifar10_stoc", tiny_npz, train_steps=4, **{"refine.schedule_steps": (1, 3),
                                                                  "refine.before_training": before_training})
  full = image_stoc.train_and_evaluate(make(), tmp_path / "full")
  with killed_at_refinement(monkeypatch, 2), pytest.raises(KeyboardInterrupt):
    image_stoc.train_and_evaluate(make(), tmp_path / "resumed")
  assert (tmp_path / "resumed" / "checkpoints").exists()
  resumed = image_stoc.train_and_evaluate(make(), tmp_path / "resumed")
  for k in ("auc", "ap", "f1_oracle"):
    assert resumed[k] == pytest.approx(full[k], abs=1e-6)
  assert resumed["refinement"] == full["refinement"]
  assert [r["step"] for r in full["refinement"]] == [0] * before_training + [1, 3, 4]


def test_bad_image_config_errors(tiny_npz, tmp_path):
  with pytest.raises(ValueError, match="objective"):
    image_stoc.train_and_evaluate(tiny("cifar10_stoc", tiny_npz, objective="mae"), tmp_path / "a")
  with pytest.raises(ValueError, match="rotnet"):
    image_stoc.train_and_evaluate(tiny("cifar10_stoc", tiny_npz, final_occ="rotnet"), tmp_path / "b")
  with pytest.raises(ValueError, match="exceeds"):
    image_stoc.train_and_evaluate(tiny("cifar10_stoc", tiny_npz, batch_size=4096), tmp_path / "c")


@pytest.mark.timeout(400)
def test_sharded_train_step_matches_single_device():
  """On 8 fake CPU devices the data-parallel step gives the single-device step's result."""
  code = textwrap.dedent("""
      import functools, jax, numpy as np
      from experiments.configs import cifar10_stoc
      from stoc_jax import image_learner, image_stoc, sharding
      assert jax.device_count() == 8
      c = cifar10_stoc.get_config()
      c.objective = "contrastive"
      c.model.width, c.model.head_hidden, c.model.head_depth, c.model.head_out = 0.125, 16, 2, 8
      tx = image_learner.make_optimizer(c.optimizer, 10)
      batch = np.random.default_rng(0).integers(0, 255, (16, 16, 16, 3), dtype=np.uint8)
      outs = []
      for n in (1, 8):
        mesh = image_stoc.make_mesh(n)
        graphdef, state = image_learner.init_state(c, batch.shape[1:], tx, jax.random.key(0))
        step = functools.partial(image_learner.train_step, graphdef=graphdef, total_steps=10, mesh=mesh,
                                 cfg=sharding.frozen_fields(c, image_learner.STEP_FIELDS))
        b = jax.device_put(batch, jax.sharding.NamedSharding(mesh, jax.P("data")))
        state, m = step(state, b, jax.random.key(1))
        outs.append((jax.device_get(state.params), float(m["loss"])))
      (p1, l1), (p8, l8) = outs
      assert abs(l1 - l8) < 1e-4, (l1, l8)
      diffs = jax.tree.leaves(jax.tree.map(lambda a, b: float(np.abs(np.asarray(a) - np.asarray(b)).max()), p1, p8))
      assert max(diffs) < 1e-4, max(diffs)
      print("SHARDED_STEP_OK", l1, l8, max(diffs))
  """)
  run_on_cpu_devices(code, "SHARDED_STEP_OK", timeout=380)


def test_otsu_gamma_reaches_no_label_free_threshold_as_a_string(tiny_npz, tmp_path):
  c = tiny("cifar10_stoc", tiny_npz, **{"refine.enabled": False, "refine.gamma": "otsu"})
  res = image_stoc.train_and_evaluate(c, tmp_path)
  assert isinstance(res["gamma"], float) and 0.0 <= res["f1"] <= 100.0


def test_tfds_images_of_mixed_sizes_without_a_test_split(monkeypatch):
  """cats_vs_dogs' layout: one split, images of many sizes. They are resized as read, and the last
  images of each class become the test set."""
  import types
  from stoc_jax.data import images as image_data
  rng = np.random.default_rng(0)
  examples = [{"image": rng.integers(0, 255, (20 + i, 30 - i, 3), dtype=np.uint8), "label": i % 2}
              for i in range(10)]

  def data_source(name, split, data_dir=None):
    if split != "train":
      raise ValueError(f"Unknown split {split!r}")
    return examples

  monkeypatch.setitem(sys.modules, "tensorflow_datasets", types.SimpleNamespace(data_source=data_source))
  data = image_data.load_tfds("cats_vs_dogs", image_size=16, holdout_per_class=2)
  assert data.x_train.shape == (6, 16, 16, 3) and data.x_test.shape == (4, 16, 16, 3)
  assert sorted(data.y_test.tolist()) == [0, 0, 1, 1]
  with pytest.raises(image_data.DataError, match="holdout_per_class"):
    image_data.load_tfds("cats_vs_dogs", image_size=16)


@pytest.mark.timeout(300)
def test_gpu_cifar_check_runs_at_a_tiny_size(tiny_npz, tmp_path, monkeypatch, capsys):
  """benchmarks/images/gpu_cifar.py end to end on CPU: the probe, the step budget, both runs, summary.json."""
  from benchmarks.images import gpu_cifar
  tiny_args = ["dataset=npz", "model.width=0.125", "model.head_hidden=16", "model.head_depth=2", "model.head_out=8",
               "batch_size=8", "eval_batch_size=64", "objective=contrastive"]
  # In this process, as on a GPU. A probe as long as the main runs (2 x 5 steps, 10) compiles the train
  # step they then reuse.
  monkeypatch.setattr(sys, "argv", ["gpu_cifar.py", f"--data_dir={tiny_npz[(32, 32, 3)]}", f"--out={tmp_path}",
                                    "--budget=1", "--probe_steps=5", *(f"--override={kv}" for kv in tiny_args)])
  gpu_cifar.main()
  summary = json.loads((tmp_path / "summary.json").read_text())
  # No budget left after the probe: the smallest runs (10 steps, refinement after 1, 2 and 5).
  assert summary["train_steps"] == 10 and summary["images_per_sec"] > 0
  assert summary["baseline"]["refinement"] == [] and [r["step"] for r in summary["stoc"]["refinement"]] == [1, 2, 5, 10]
  assert 0 <= summary["baseline"]["auc"] <= 100 and 0 <= summary["stoc"]["auc"] <= 100
  assert summary["environment"]["devices"]
  capsys.readouterr()
  with pytest.raises(SystemExit) as exit_info:  # a second run into the same folder
    gpu_cifar.main()
  assert exit_info.value.code == 2 and "already holds a run" in capsys.readouterr().err
