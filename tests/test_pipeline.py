"""End-to-end runs of every tabular config at tiny size, determinism, resume, and the runner."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, TABULAR, killed_at_refinement, need_shared
from stoc_jax import column_scaling, configs, refine, tabular_stoc

CONFIGS = {
    "thyroid_stoc": "tabular/thyroid.npz",
    "arrhythmia_stoc": "tabular/arrhythmia.mat",
    "kdd_stoc": "tabular/kddcup.data_10_percent.gz",
    "kddrev_stoc": "tabular/kddcup.data_10_percent.gz",
    "breast_cancer_stoc": None,
}


def tiny(name, variant="", **overrides):
  module = __import__(f"experiments.configs.{name}", fromlist=["get_config"])
  c = module.get_config(variant)
  c.data_dir = str(TABULAR)
  c.goad.num_transforms = 4
  c.train_steps = 4
  c.steps_per_jit = 2
  c.refine.schedule_steps = (2,)
  c.compare_baseline = False
  c.update_from_flattened_dict(overrides)
  return c


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_config_runs_end_to_end(name, tmp_path):
  if CONFIGS[name]:
    need_shared(CONFIGS[name])
  ratio = 0.02 if name != "kddrev_stoc" else 0.01
  c = tiny(name, representation="goad", anomaly_ratio=ratio)
  if name.startswith("kdd"):
    c.split.train_normal_fraction = 0.02  # a tiny training set keeps this a smoke test
  res = tabular_stoc.train_and_evaluate(c, tmp_path)
  saved = json.loads((tmp_path / "results.json").read_text())
  for k in ("auc", "ap", "f1", "f1_oracle"):
    assert 0.0 <= saved[k] <= 100.0
  assert [r["round"] for r in saved["refinement"]] == [0, 1]  # at step 2, and the final one
  r = saved["refinement"][-1]
  assert r["kept"] < saved["num_train"]
  assert 0.0 <= r["anomalies_removed"] <= 1.0 and 0.0 <= r["normals_removed"] <= 1.0
  assert json.loads((tmp_path / "config.json").read_text())["dataset"] == c.dataset
  lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
  assert any(json.loads(l).get("event") == "refine" for l in lines)
  assert res["f1_oracle"] == saved["f1_oracle"]
  import jax
  assert saved["environment"]["packages"]["jax"] == jax.__version__
  assert saved["environment"]["devices"] == jax.device_count()


def test_baseline_switch_skips_refinement(tmp_path):
  res = tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", **{"refine.enabled": False}), tmp_path)
  assert res["refinement"] == [] and res["refine_enabled"] is False


@pytest.mark.parametrize("representation", ["raw", "goad"])
def test_scoring_with_the_ensemble_instead_of_a_final_occ(tmp_path, representation):
  run = lambda name, **o: tabular_stoc.train_and_evaluate(
      tiny("breast_cancer_stoc", representation=representation, **o), tmp_path / name)
  final = run("final")
  ensemble = run("ensemble", final_occ="ensemble")  # STOC Table 7: "SRR without final OCC"
  # Same key, so the same refinement rounds; only the scoring differs.
  assert ensemble["refinement"] == final["refinement"]
  assert ensemble["auc"] != final["auc"] and 50.0 < ensemble["auc"] <= 100.0
  only = run("only", final_occ="ensemble", **{"refine.enabled": False})  # "Ensemble only"
  assert only["refinement"] == [] and 50.0 < only["auc"] <= 100.0


@pytest.mark.parametrize("representation", ["raw", "goad"])
def test_same_seed_same_results(tmp_path, representation):
  a = tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", representation=representation), tmp_path / "a")
  b = tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", representation=representation), tmp_path / "b")
  c = tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", representation=representation, seed=1),
                                      tmp_path / "c")
  for k in ("auc", "ap", "f1", "f1_oracle"):
    assert a[k] == b[k]
  assert a["refinement"] == b["refinement"]
  assert (a["auc"], a["refinement"]) != (c["auc"], c["refinement"])


@pytest.mark.parametrize("before_training", [False, True])
def test_interrupted_run_resumes_and_matches(tmp_path, monkeypatch, before_training):
  cfg = lambda: tiny("breast_cancer_stoc", representation="goad", train_steps=8,
                     checkpoint_every_steps=2, **{"refine.schedule_steps": (3, 6),
                                                  "refine.before_training": before_training})
  full = tabular_stoc.train_and_evaluate(cfg(), tmp_path / "full")

  with killed_at_refinement(monkeypatch, 2), pytest.raises(KeyboardInterrupt):
    tabular_stoc.train_and_evaluate(cfg(), tmp_path / "resumed")
  assert (tmp_path / "resumed" / "checkpoints").exists()
  resumed = tabular_stoc.train_and_evaluate(cfg(), tmp_path / "resumed")
  for k in ("auc", "ap", "f1", "f1_oracle"):
    assert resumed[k] == full[k]
  assert resumed["refinement"] == full["refinement"]
  # Algorithm 1 refines with the initialised representation first: a round at step 0.
  assert [r["step"] for r in full["refinement"]] == [0] * before_training + [3, 6, 8]


def test_several_goads_for_refinement_train_resume_and_differ(tmp_path, monkeypatch):
  cfg = lambda: tiny("breast_cancer_stoc", representation="goad", train_steps=8, checkpoint_every_steps=2,
                     **{"refine.schedule_steps": (3, 6), "refine.num_representations": 3})
  full = tabular_stoc.train_and_evaluate(cfg(), tmp_path / "full")
  one = tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", representation="goad", train_steps=8,
                                             **{"refine.schedule_steps": (3, 6)}), tmp_path / "one")
  assert [r["step"] for r in full["refinement"]] == [3, 6, 8]
  assert full["refinement"] != one["refinement"]  # models 1 and 2 look through other GOADs
  with killed_at_refinement(monkeypatch, 2), pytest.raises(KeyboardInterrupt):
    tabular_stoc.train_and_evaluate(cfg(), tmp_path / "resumed")
  resumed = tabular_stoc.train_and_evaluate(cfg(), tmp_path / "resumed")  # all three GOADs restored
  assert resumed["refinement"] == full["refinement"] and resumed["f1_oracle"] == full["f1_oracle"]
  # The baseline (no refinement) is GOAD 0 alone, whose keys do not depend on R: the same run as R = 1.
  off = lambda r, name: tabular_stoc.train_and_evaluate(
      tiny("breast_cancer_stoc", representation="goad", train_steps=8,
           **{"refine.enabled": False, "refine.num_representations": r}), tmp_path / name)
  assert off(3, "off3")["auc"] == off(1, "off1")["auc"]
  with pytest.raises(ValueError, match="num_representations"):
    tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", **{"refine.num_representations": 2}),
                                    tmp_path / "raw")


def test_adam_trains_goad(tmp_path):
  c = tiny("breast_cancer_stoc", representation="goad", train_steps=64, steps_per_jit=32,
           **{"goad.optimizer": "adam", "goad.learning_rate": 0.01})
  first = tabular_stoc.train_and_evaluate(c, tmp_path / "a")
  lines = map(json.loads, (tmp_path / "a" / "metrics.jsonl").read_text().splitlines())
  losses = [m["loss"] for m in lines if "loss" in m]
  assert losses[-1] < losses[0]  # the optimizer is applied, not just accepted
  assert tabular_stoc.train_and_evaluate(c, tmp_path / "b")["auc"] == first["auc"]


def test_l2_normalized_goad_features_are_unit_vectors_and_change_the_run(tmp_path):
  import jax
  import numpy as np
  from stoc_jax import goad
  c = tiny("breast_cancer_stoc", representation="goad")
  tx = goad.make_optimizer()
  graphdef, projections, state = goad.init(jax.random.key(0), 5, c.goad, tx)
  x = np.random.default_rng(0).normal(size=(9, 5)) * 3.0
  plain = goad.features(graphdef, state.params, projections, x)
  unit = goad.features(graphdef, state.params, projections, x, l2_normalize=True)
  np.testing.assert_allclose(np.linalg.norm(unit, axis=-1), 1.0, rtol=1e-5)
  np.testing.assert_allclose(unit * np.linalg.norm(plain, axis=-1, keepdims=True), plain, rtol=1e-4, atol=1e-6)
  base = tabular_stoc.train_and_evaluate(c, tmp_path / "a")
  normed = tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", representation="goad",
                                                **{"goad.l2_normalize": True}), tmp_path / "b")
  assert 0.0 <= normed["auc"] <= 100.0 and normed["auc"] != base["auc"]


def test_refined_scaling_takes_the_statistics_of_the_kept_rows(tmp_path):
  import jax
  import numpy as np
  from stoc_jax.configs import tabular_defaults
  from stoc_jax.data.split import Split
  rng = np.random.default_rng(0)
  normals = np.column_stack([rng.normal(0.0, 1.0, 1000), rng.normal(0.0, 0.01, 1000)])
  anomalies = np.column_stack([rng.normal(0.0, 1.0, 20), np.full(20, 0.5)])  # 2 %, far out in column 1
  x_train = np.concatenate([normals, anomalies])
  y_train = np.r_[np.zeros(1000), np.ones(20)].astype(int)
  x_scaled, x_test = column_scaling.standardize(x_train, normals[:5])
  assert x_scaled[:1000, 1].std() < 0.2  # all rows' std: the 20 anomalies squeeze the normals
  data = Split(x_scaled, y_train, x_test, np.zeros(5, int))
  rescaled, record = tabular_stoc.rescale_on_refined_rows(tabular_defaults(), data, jax.random.key(0), 0.04)
  assert record["anomalies_removed"] == 1.0 and record["normals_removed"] < 0.05
  assert abs(rescaled.x_train[:1000, 1].std() - 1.0) < 0.1  # scaled as by the normals' own std
  assert abs(rescaled.x_train[:1000, 1].mean()) < 0.1
  # The test rows get the same map: the normals' scaling, up to the few normals refinement drops.
  np.testing.assert_allclose(rescaled.x_test, (normals[:5] - normals.mean(0)) / normals.std(0), atol=0.1)

  res = tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", **{"refine.scaling": True}), tmp_path / "a")
  assert 0 < res["scaling_refinement"]["kept"] < res["num_train"]
  off = tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", **{"refine.scaling": True,
                                                                        "refine.enabled": False}), tmp_path / "b")
  assert off["scaling_refinement"] is None  # the baseline keeps the all-row scaling
  with pytest.raises(ValueError, match="standardize=False"):
    tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", standardize=False, **{"refine.scaling": True}),
                                    tmp_path / "c")


def test_kde_as_the_refinement_occ(tmp_path):
  import jax
  from stoc_jax import occ
  c = tiny("breast_cancer_stoc", **{"refine.occ": "kde"})
  res = tabular_stoc.train_and_evaluate(c, tmp_path / "raw")
  # The round is refine_data's with the papers' KDE as each model, nothing else.
  data = tabular_stoc.load_split(c)
  mask, _ = refine.refine_data(refine.round_key(jax.random.key(c.seed), 0), data.x_train,
                               c.refine.num_models, res["gamma"], occ_fit=occ.kde_fit, occ_score=occ.kde_score)
  assert res["refinement"][0]["kept"] == int(mask.sum())
  gde = tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc"), tmp_path / "gde")
  assert gde["refinement"][0]["kept"] != res["refinement"][0]["kept"]
  # On GOAD's (N, M, H) features the KDE takes each row's M x H values as one vector.
  run = lambda name, kind: tabular_stoc.train_and_evaluate(
      tiny("breast_cancer_stoc", representation="goad", **{"refine.occ": kind}), tmp_path / name)
  assert run("goad_kde", "kde")["refinement"] != run("goad_gde", "gde")["refinement"]
  with pytest.raises(ValueError, match="refine.occ must be one of"):
    tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", **{"refine.occ": "svm"}), tmp_path / "bad")


def test_parse_overrides_reads_literals_and_bare_strings():
  from stoc_jax.configs import parse_overrides
  assert parse_overrides(["refine.gamma=otsu", "train_steps=8", "refine.schedule_steps=(1, 2)",
                          "goad.learning_rate=3e-3"]) == {
      "refine.gamma": "otsu", "train_steps": 8, "refine.schedule_steps": (1, 2), "goad.learning_rate": 3e-3}


def test_nan_loss_stops_with_clear_error(tmp_path):
  c = tiny("breast_cancer_stoc", representation="goad", **{"goad.learning_rate": 1e30})
  with pytest.raises(FloatingPointError, match="learning_rate"):
    tabular_stoc.train_and_evaluate(c, tmp_path)


def test_bad_config_values_are_clear_errors(tmp_path):
  with pytest.raises(ValueError, match="gamma must lie in"):
    tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", **{"refine.gamma": 1.5}), tmp_path)
  with pytest.raises(ValueError, match="too large"):
    tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", **{"refine.num_models": 500}), tmp_path)
  with pytest.raises(ValueError, match="representation"):
    tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", representation="pca"), tmp_path)
  with pytest.raises(ValueError, match="goad.optimizer must be"):
    tabular_stoc.train_and_evaluate(
        tiny("breast_cancer_stoc", representation="goad", **{"goad.optimizer": "rmsprop"}), tmp_path)
  with pytest.raises(ValueError, match="unknown dataset"):
    tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", dataset="nope"), tmp_path)
  with pytest.raises(ValueError, match="per-projection GDEs"):
    tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", representation="goad", final_occ="kde"),
                                    tmp_path)
  # Sizes of 0 failed deep in JAX (a traceback) or as a ZeroDivisionError; a negative rate trained to NaN.
  for field, value, match in (("goad.batch_size", 0, "goad.batch_size must be a positive integer, got 0"),
                              ("goad.num_transforms", 0, "goad.num_transforms must be a positive integer"),
                              ("goad.proj_dim", 0, "goad.proj_dim must be a positive integer"),
                              ("goad.depth", 0, "goad.depth must be a positive integer"),
                              ("goad.learning_rate", -1.0, "goad.learning_rate must be a positive number, got -1.0")):
    with pytest.raises(ValueError, match=match):
      tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", representation="goad", **{field: value}), tmp_path)
  # It was read as a ratio of anomalies ("anomaly_ratio 0.0000 needs 139 of the 93 anomalies").
  with pytest.raises(ValueError, match=r"train_normal_fraction must lie in \(0, 1\), the share of the normal rows "
                     r"that trains \(the rest test\); got 1.5"):
    tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", **{"split.train_normal_fraction": 1.5}), tmp_path)


def test_runner_command_line(tmp_path):
  out = subprocess.run(
      [sys.executable, os.path.join(ROOT, "experiments", "run.py"),
       "--config=" + os.path.join(ROOT, "experiments", "configs", "breast_cancer_stoc.py"),
       "--config.anomaly_ratio=0.03", f"--workdir={tmp_path}"],
      capture_output=True, text=True, timeout=300, cwd=tmp_path)
  assert out.returncode == 0, out.stderr[-2000:]
  assert "baseline" in out.stdout and "STOC" in out.stdout
  res = json.loads((tmp_path / "results.json").read_text())
  assert res["anomaly_ratio"] == 0.03 and "baseline" in res
  assert res["environment"]["packages"]["numpy"]  # kept when the runner adds the baseline
  assert json.loads((tmp_path / "config.json").read_text())["anomaly_ratio"] == 0.03


def test_refinement_that_keeps_nothing_follows_refine_if_nothing_kept(tmp_path):
  # Raw features (breast_cancer_stoc): each of the 5 models rejecting 99 % leaves no row.
  c = tiny("breast_cancer_stoc", **{"refine.gamma": 0.99})
  with pytest.raises(refine.NothingKeptError, match="refinement kept [01] of"):
    tabular_stoc.train_and_evaluate(c, tmp_path / "raise")
  c.refine.if_nothing_kept = "keep_all"
  with pytest.warns(UserWarning, match="Keeping all"):
    r = tabular_stoc.train_and_evaluate(c, tmp_path / "keep_all")
  assert r["refinement"][-1]["kept"] == r["num_train"]


def test_otsu_gamma_without_refinement_still_reports_a_label_free_f1(tmp_path):
  c = tiny("breast_cancer_stoc", **{"refine.enabled": False, "refine.gamma": "otsu"})
  res = tabular_stoc.train_and_evaluate(c, tmp_path)
  assert 0.0 < res["gamma"] <= 0.5 and 0.0 <= res["f1"] <= 100.0


def test_a_workdir_of_other_training_data_is_refused(tmp_path):
  """The same config on a data file edited since: it resumed the first data's checkpoints and took
  its refinement's mask for the new rows."""
  import numpy as np
  from sklearn.datasets import load_breast_cancer
  frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "benign"})
  frame["label"] = 1 - frame.pop("benign")
  table = tmp_path / "patients.csv"
  frame.to_csv(table, index=False)
  config = tiny("breast_cancer_stoc", dataset="csv", data_path=str(table), label_column="label",
                anomaly_ratio=0.05)
  first = tabular_stoc.train_and_evaluate(config, tmp_path / "run")
  recorded = json.loads((tmp_path / "run" / "config.json").read_text())["training_data"]
  assert recorded["x_train_shape"] == [first["num_train"], 30] and len(recorded["x_train_sha256"]) == 64
  assert tabular_stoc.train_and_evaluate(config, tmp_path / "run")["auc"] == first["auc"]  # resumed
  frame.iloc[::7, 0] *= np.float64(1.01)  # a few values edited
  frame.to_csv(table, index=False)
  with pytest.raises(ValueError, match=r"holds a run of other training data \(has the data file changed\?\) "
                     r"\(training_data.x_train_sha256: '[0-9a-f]{64}' there, '[0-9a-f]{64}' now\); pass a new "
                     r"--workdir"):
    tabular_stoc.train_and_evaluate(config, tmp_path / "run")
  # A run recorded before its data was is resumed as it was.
  legacy = tmp_path / "legacy"
  tabular_stoc.train_and_evaluate(config, legacy)
  record = json.loads((legacy / "config.json").read_text())
  del record["training_data"]
  (legacy / "config.json").write_text(json.dumps(record))
  tabular_stoc.train_and_evaluate(config, legacy)


def test_a_workdir_of_another_config_is_refused_naming_the_keys(tmp_path):
  tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc"), tmp_path)
  tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc"), tmp_path)  # the same config resumes
  with pytest.raises(ValueError, match=r"another config \(goad.learning_rate: 0.1 there, 0.5 now; seed: 0 there, 3 now\)"):
    tabular_stoc.train_and_evaluate(tiny("breast_cancer_stoc", seed=3, **{"goad.learning_rate": 0.5}), tmp_path)


CONFIG_FILES = sorted(p.stem for p in (ROOT / "experiments" / "configs").glob("*.py")
                      if p.stem not in ("__init__", "image_base", "tabular_base"))


@pytest.mark.parametrize("name", CONFIG_FILES)
def test_an_unknown_config_variant_is_refused_with_the_list(name):
  module = __import__(f"experiments.configs.{name}", fromlist=["get_config"])
  module.get_config()
  with pytest.raises(ValueError, match="unknown config variant 'cpus': this config's variants are"):
    module.get_config("cpus")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("args,expected", [
    (["--config=experiments/configs/thyroid_stoc.py", "--config.anomaly_rato=0.1"],
     "run.py: error: experiments/configs/thyroid_stoc.py has no key 'anomaly_rato'; nearest: anomaly_ratio"),
    (["--config=experiments/configs/thyroid_stoc.py", "--config.refine.gama=0.1"],
     "has no key 'refine.gama'; nearest: refine.gamma"),
    (["--config=experiments/configs/thyriod_stoc.py"],
     "run.py: error: no config file experiments/configs/thyriod_stoc.py; nearest: thyroid_stoc.py"),
    (["--config=experiments/configs/thyroid_stoc.py:cpus"], "unknown config variant 'cpus'"),
    # Off Cloud TPU and SLURM, jax.distributed has nothing to detect the cluster from.
    (["--config=experiments/configs/breast_cancer_stoc.py", "--jax_distributed"],
     "Outside Cloud TPU and SLURM pass --coordinator_address=HOST:PORT"),  # after JAX's own words
])
def test_command_line_mistakes_get_one_line(args, expected, tmp_path):
  out = subprocess.run([sys.executable, "experiments/run.py", *args, f"--workdir={tmp_path}"], cwd=ROOT,
                       capture_output=True, text=True, timeout=100)
  assert out.returncode != 0
  lines = [l for l in out.stderr.splitlines() if l.strip()]
  assert len(lines) == 1 and expected in lines[0], out.stderr


@pytest.mark.timeout(120)
@pytest.mark.parametrize("args,expected", [
    (["--config=CONFIG", "--workdir="], "--workdir is empty; give a folder"),
    (["--config=CONFIG", "--workdir", " "], "--workdir is empty"),
    (["--config=", "--workdir=out"], "--config is empty; give a config file, e.g. --config=experiments/configs/"),
])
def test_an_empty_flag_is_refused_in_one_line(args, expected, tmp_path):
  """An unset shell variable: an empty --workdir ran and wrote the run into the current folder, and an
  empty --config failed in ml_collections' words."""
  config = str(ROOT / "experiments" / "configs" / "breast_cancer_stoc.py")
  args = [a.replace("CONFIG", config) for a in args]
  out = subprocess.run([sys.executable, str(ROOT / "experiments" / "run.py"), *args], cwd=tmp_path,
                       capture_output=True, text=True, timeout=100)
  lines = [l for l in out.stderr.splitlines() if l.strip()]
  assert out.returncode != 0 and len(lines) == 1 and expected in lines[0], out.stderr
  assert not any(tmp_path.iterdir())  # nothing written where it ran


@pytest.mark.timeout(120)
def test_a_bad_config_value_stops_the_runner_with_one_line_not_a_traceback(tmp_path):
  out = subprocess.run([sys.executable, "experiments/run.py", "--config=experiments/configs/breast_cancer_stoc.py",
                        "--config.anomaly_ratio=5", f"--workdir={tmp_path}"], cwd=ROOT,
                       capture_output=True, text=True, timeout=100)
  assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr[-2000:]
  last = out.stderr.strip().splitlines()[-1]
  assert last == ("run.py: error: anomaly_ratio must be a fraction in [0, 1), the anomalies' share of the training "
                  "rows; got 5 (a percentage? 5 % is 0.05). (--verbosity=1 shows where it was raised)"), last


@pytest.mark.timeout(120)
def test_a_workdir_that_is_a_file_is_refused_in_one_line(tmp_path):
  (tmp_path / "results.txt").write_text("kept")
  out = subprocess.run([sys.executable, "experiments/run.py", "--config=experiments/configs/breast_cancer_stoc.py",
                        f"--workdir={tmp_path / 'results.txt'}"], cwd=ROOT, capture_output=True, text=True, timeout=100)
  assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr[-2000:]
  assert out.stderr.strip().splitlines()[-1] == f"run.py: error: --workdir {tmp_path / 'results.txt'} is a file; give a folder (a new one is made)."
  assert (tmp_path / "results.txt").read_text() == "kept"


def test_config_values_that_trained_silently_or_late_are_refused_up_front():
  """gamma 'auto' at a ratio of 0.5 or more (it trained, then failed in evaluation), a normal class named
  twice (CLAD trained one cluster), negative steps (nothing trained, results reported)."""
  from stoc_jax.data.images import normal_classes_of
  from stoc_jax.image_learner import epoch_steps
  with pytest.raises(ValueError, match="gamma='auto' is twice the anomaly ratio, and 0.6 x 2 is not a fraction below 1"):
    refine.resolve_gamma("auto", 0.6)
  clad = configs.clad_defaults()
  clad.normal_classes = (0, 3, 0)
  with pytest.raises(ValueError, match=r"normal_classes lists \[0\] more than once \(\(0, 3, 0\)\)"):
    normal_classes_of(clad)
  image = configs.image_defaults()
  image.train_steps = -5
  with pytest.raises(ValueError, match="train_steps and train_epochs must be >= 0 .*got train_steps=-5"):
    epoch_steps(image, 100)
  # A ResNet of width 0 (no channels) trained and reported an AUC; a temperature of 0 trained to NaN; a
  # negative image count sliced images off the end.
  from stoc_jax import image_stoc
  from stoc_jax.data.images import limit_split
  from stoc_jax.sharding import make_mesh
  for field, value, match in (("model.width", 0.0, "model.width must be a positive number, got 0.0"),
                              ("temperature", 0.0, "temperature must be a positive number, got 0.0")):
    bad = configs.image_defaults()
    bad.update_from_flattened_dict({field: value})
    with pytest.raises(ValueError, match=match):
      image_stoc._check_config(bad, 64, make_mesh(1))
  with pytest.raises(ValueError, match="max_train_images must be 0 \\(all\\) or a positive count; got -5"):
    limit_split(None, -5, 0, 0)
  import jax
  import numpy as np
  from stoc_jax.clad_learner import CLADLearner
  clad = configs.clad_defaults()
  clad.hidden_dim = 0
  with pytest.raises(ValueError, match="hidden_dim must be a positive integer, got 0"):
    CLADLearner(clad, (8, 8, 1), make_mesh(1)).init(jax.random.key(0), np.zeros((16, 8, 8, 1), np.uint8))


def test_a_missing_data_file_names_the_paths_tried_and_where_to_get_it(tmp_path):
  from stoc_jax.data.tabular import load_thyroid
  with pytest.raises(ValueError, match=r"thyroid: no data file found; tried .*thyroid.npz.*Download .* from ODDS "
                     r"https://odds.cs.stonybrook.edu/.* --config.data_dir=FOLDER"):
    load_thyroid(tmp_path)
