"""CLAD end to end at tiny size, resume in every stage, and its configuration errors."""

import json
import sys

import pytest

from conftest import killed_at_train_call
from stoc_jax import clad_learner, clad_stoc


def tiny(name, data, variant="", **overrides):
  module = __import__(f"experiments.configs.{name}", fromlist=["get_config"])
  c = module.get_config(variant) if variant else module.get_config()
  if name == "cifar10_clad":
    c.dataset, c.data_dir, c.normal_classes = "npz", data, (0, 1)
    c.classifier.conv_channels, c.classifier.fc_units, c.classifier.width = (4, 4, 8), 16, 0.125
  c.autoencoder.channels, c.autoencoder.linear, c.hidden_dim, c.num_clusters = (4, 4, 4, 4, 4), 16, 8, 3
  c.batch_size, c.eval_batch_size = 8, 64
  c.train_epochs, c.train_steps, c.checkpoint_every_steps = 0, 3, 1
  c.max_train_images, c.max_test_images = 0, 0
  c.odin.epsilons, c.odin.calibration_rows = (0.0, 0.001), 16
  c.update_from_flattened_dict(overrides)
  return c


def test_stage_steps():
  assert clad_learner.stage_steps(900, (1, 1, 1)) == (300, 300, 300)
  assert clad_learner.stage_steps(12, (2, 1, 1)) == (6, 3, 3)
  assert sum(clad_learner.stage_steps(7, (1, 1, 1))) == 7
  with pytest.raises(ValueError, match="stage_fractions"):
    clad_learner.stage_steps(10, (1, 1))


@pytest.mark.parametrize("name,variant,arch", [("cifar10_clad", "", "resnet18"), ("cifar10_clad", "cpu", "lenet"),
                                               ("digits_clad", "", "lenet")])
def test_every_config_one_step_per_stage(name, variant, arch, tiny_cifar, tmp_path):
  c = tiny(name, tiny_cifar, variant)
  assert c.classifier.arch == arch
  res = clad_stoc.train_and_evaluate(c, tmp_path)
  saved = json.loads((tmp_path / "results.json").read_text())
  assert 0 <= saved["auc"] <= 100 and saved["stage_steps"] == [1, 1, 1]
  assert min(abs(saved["odin"]["epsilon"] - e) for e in (0.0, 0.001)) < 1e-7
  assert saved["normal_classes"] == list(c.normal_classes)
  steps = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
  assert [s["stage"] for s in steps if "stage" in s] == [0, 1, 2]
  assert res["refinement"] == []


def test_refinement_in_front_of_the_clustering(tiny_cifar, tmp_path):
  c = tiny("cifar10_clad", tiny_cifar, anomaly_ratio=0.2, **{"refine.enabled": True, "refine.gamma": 0.2})
  res = clad_stoc.train_and_evaluate(c, tmp_path)
  assert [r["step"] for r in res["refinement"]] == [1, 3]  # the end of the autoencoder stage, and the end
  assert res["refinement"][0]["kept"] < res["num_train"]


@pytest.mark.parametrize("kill_at", [1, 2, 3])  # during the autoencoder, DEC and classifier stages
def test_killed_run_resumes_to_the_same_result(kill_at, tiny_cifar, tmp_path, monkeypatch):
  make = lambda: tiny("digits_clad", tiny_cifar, train_steps=6)
  full = clad_stoc.train_and_evaluate(make(), tmp_path / "full")
  # train is called once a step here (a checkpoint every step): the kill lands on stage kill_at's second step
  with killed_at_train_call(monkeypatch, clad_learner.CLADLearner, 2 * kill_at), pytest.raises(KeyboardInterrupt):
    clad_stoc.train_and_evaluate(make(), tmp_path / "resumed")
  resumed = clad_stoc.train_and_evaluate(make(), tmp_path / "resumed")
  for k in ("auc", "ap", "f1_oracle"):
    assert resumed[k] == pytest.approx(full[k], abs=1e-6)
  assert resumed["odin"] == full["odin"]


def test_bad_normal_classes(tiny_cifar, tmp_path):
  with pytest.raises(ValueError, match="normal_classes is empty"):
    clad_stoc.train_and_evaluate(tiny("digits_clad", tiny_cifar, normal_classes=()), tmp_path / "a")
  with pytest.raises(ValueError, match="normal class 11 not among"):
    clad_stoc.train_and_evaluate(tiny("digits_clad", tiny_cifar, normal_classes=(1, 11)), tmp_path / "b")
  with pytest.raises(ValueError, match="num_clusters"):
    clad_stoc.train_and_evaluate(tiny("digits_clad", tiny_cifar, num_clusters=1), tmp_path / "c")


@pytest.mark.timeout(300)
def test_gpu_check_runs_at_a_tiny_size(tiny_cifar, tmp_path, monkeypatch, capsys):
  """benchmarks/clad/gpu_cifar.py end to end on CPU: both probes, the step budget, both runs, summary.json."""
  from benchmarks.clad import gpu_cifar
  clad = ["autoencoder.channels=(4,4,4,4,4)", "autoencoder.linear=16", "hidden_dim=4", "num_clusters=2",
          "classifier.arch=lenet", "classifier.conv_channels=(4,4,4)", "classifier.fc_units=8",
          "odin.calibration_rows=16", "odin.epsilons=(0.0,0.001)"]
  contrastive = ["model.width=0.125", "model.head_hidden=16", "model.head_depth=2", "model.head_out=8"]
  common = ["dataset=npz", "normal_classes=(0,1)", "batch_size=4", "eval_batch_size=64"]
  args = [f"--{group}={kv}" for group, kvs in (("clad", clad), ("contrastive", contrastive), ("common", common))
          for kv in kvs]
  # In this process, as on a GPU. Probes as long as the main runs (10 steps a stage: one epoch of the
  # 40 normal images in batches of 4) compile the same train steps, which the main runs then reuse.
  monkeypatch.setattr(sys, "argv", ["gpu_cifar.py", f"--data_dir={tiny_cifar}", f"--out={tmp_path}", "--budget=1",
                                    "--probe_steps=5", *args])
  gpu_cifar.main()
  summary = json.loads((tmp_path / "summary.json").read_text())
  # No budget left after the probes: the smallest run of each (one epoch a stage; 10 steps).
  assert summary["clad"]["epochs_per_stage"] == 1 and summary["clad"]["stage_steps"] == [10, 10, 10]
  assert summary["contrastive"]["train_steps"] == 10 and summary["normal_classes"] == [0, 1]
  assert len(summary["clad"]["probe_images_per_sec"]) == 3 and min(summary["clad"]["probe_images_per_sec"]) > 0
  assert 0 <= summary["clad"]["auc"] <= 100 and 0 <= summary["contrastive"]["auc"] <= 100
  assert summary["environment"]["devices"]
  capsys.readouterr()
  with pytest.raises(SystemExit) as exit_info:  # a second run into the same folder
    gpu_cifar.main()
  assert exit_info.value.code == 2 and "already holds a run" in capsys.readouterr().err


def test_paper_scale_benchmark_configs():
  """benchmarks/clad/run.py --scale=paper: every CIFAR-10 method at its config's defaults, on all images."""
  from benchmarks.clad import run as clad_run
  for group in ("clad", "deep_svdd", "contrastive"):
    cpu = clad_run.make_config("cifar10", group, "living", 1, "DATA")
    paper = clad_run.make_config("cifar10", group, "living", 1, "DATA", scale="paper")
    module = clad_run.CONFIGS["cifar10"][group][0]
    assert cpu.max_train_images == 4000 and paper.max_train_images == 0 and paper.max_test_images == 0
    assert paper.normal_classes == (2, 3, 4, 5, 6, 7) and paper.seed == 1 and paper.data_dir == "DATA"
    assert paper.batch_size == module.get_config().batch_size  # the defaults, not the :cpu variant's
  assert clad_run.make_config("cifar10", "clad", "things", 0, "DATA", "paper").classifier.arch == "resnet18"


@pytest.mark.timeout(300)
def test_sharded_stages_match_single_device():
  """On 8 fake CPU devices one step of each stage (autoencoder, DEC, classifier; batches sharded
  over "data") gives the single-device result: the same autoencoder and centres, clusters, loss
  and ODIN scores."""
  import textwrap

  from conftest import run_on_cpu_devices
  code = textwrap.dedent("""
      import jax, numpy as np
      from experiments.configs import digits_clad
      from stoc_jax import clad_learner, sharding
      assert jax.device_count() == 8
      c = digits_clad.get_config()
      c.classifier.conv_channels, c.classifier.fc_units = (4, 8), 16
      c.autoencoder.channels, c.autoencoder.linear, c.hidden_dim, c.num_clusters = (4, 4, 4, 4, 4), 16, 8, 3
      c.batch_size, c.eval_batch_size, c.train_epochs, c.train_steps = 8, 16, 0, 3
      c.odin.epsilons, c.odin.calibration_rows = (0.0, 0.001), 16
      x = np.random.default_rng(0).integers(0, 255, (32, 8, 8, 1), dtype=np.uint8)
      outs = []
      for n in (1, 8):
        learner = clad_learner.CLADLearner(c, x.shape[1:], sharding.make_mesh(n))
        state = learner.init(jax.random.key(0), x)
        assert learner.stages == (1, 1, 1)
        state, m = learner.train(state, x, np.ones(len(x), bool), key=jax.random.key(1), num_steps=3, round_index=0)
        params = {"ae": state.ae, "centers": state.centers, "cls": state.cls_params}
        outs.append((jax.device_get(params), m["loss"], np.asarray(jax.device_get(state.labels)),
                     learner.own_scores(state, x)))
      (p1, l1, y1, s1), (p8, l8, y8, s8) = outs
      assert (y1 == y8).all()  # the same clusters taught
      assert abs(l1 - l8) < 1e-4, (l1, l8)
      diff = {part: np.concatenate([np.abs(np.asarray(a) - np.asarray(b)).ravel()
                                    for a, b in zip(jax.tree.leaves(p1[part]), jax.tree.leaves(p8[part]))])
              for part in p1}
      assert max(diff["ae"].max(), diff["centers"].max()) < 1e-4, (diff["ae"].max(), diff["centers"].max())
      # The classifier is judged by its loss and its scores, not weight by weight: Adam's first update
      # is lr g / (|g| + eps), so a gradient within float noise of 0, summed in another order over 8
      # devices, moves its weight by anything up to 2 lr (a few percent of the weights here).
      assert np.abs(s1 - s8).max() < 1e-3 * max(1.0, np.abs(s1).max()), np.abs(s1 - s8).max()
      print("classifier weights beyond 1e-4:", np.mean(diff["cls"] > 1e-4))
      print("SHARDED_CLAD_OK", l1, l8)
  """)
  run_on_cpu_devices(code, "SHARDED_CLAD_OK", timeout=280)
