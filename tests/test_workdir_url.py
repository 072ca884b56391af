"""A workdir in a bucket (gs://), as runs on Cloud TPU pods keep theirs: written, checkpointed, refused
for another config and resumed there, against a local Google Cloud Storage emulator."""

import json

import pytest

from conftest import BUCKET, killed_at_refinement
from test_pipeline import tiny
from stoc_jax import tabular_stoc
from stoc_jax.workdir import Workdir


def _events(text):
  return [(r.get("event"), r.get("step")) for r in map(json.loads, text.splitlines())]


def test_a_run_in_a_bucket_checkpoints_refuses_another_config_and_resumes(gcs, tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  cfg = lambda: tiny("breast_cancer_stoc", representation="goad", train_steps=8, checkpoint_every_steps=2,
                     **{"refine.schedule_steps": (3, 6)})
  url = f"gs://{BUCKET}/{tmp_path.name}/run"
  for workdir in (tmp_path / "local", url):
    with killed_at_refinement(monkeypatch, 2), pytest.raises(KeyboardInterrupt):
      tabular_stoc.train_and_evaluate(cfg(), workdir)
  assert gcs.ls(f"{BUCKET}/{tmp_path.name}/run/checkpoints"), "no checkpoint in the bucket"
  other = cfg()
  other.seed = 1
  with pytest.raises(ValueError, match="holds a run of another config"):
    tabular_stoc.train_and_evaluate(other, url)

  local = tabular_stoc.train_and_evaluate(cfg(), tmp_path / "local")
  remote = tabular_stoc.train_and_evaluate(cfg(), url)
  for k in ("auc", "ap", "f1", "f1_oracle", "refinement"):
    assert remote[k] == local[k], k
  assert json.loads(gcs.cat(f"{BUCKET}/{tmp_path.name}/run/results.json"))["auc"] == local["auc"]
  assert json.loads(gcs.cat(f"{BUCKET}/{tmp_path.name}/run/config.json"))["seed"] == 0
  # An object cannot be appended to: the metrics are rewritten whole, the killed run's lines first.
  remote_events = _events(gcs.cat(f"{BUCKET}/{tmp_path.name}/run/metrics.jsonl").decode())
  assert remote_events == _events((tmp_path / "local" / "metrics.jsonl").read_text())
  assert remote_events.count(("refine", 3)) == 1 and remote_events[-1] == ("final", None)
  assert sorted(p.name for p in tmp_path.iterdir()) == ["local"]  # nothing local made of the URL


def test_a_url_that_cannot_be_written_is_a_one_line_error(monkeypatch):
  with pytest.raises(ValueError, match=r"ftp:// is not a storage this project writes to; give a local folder or a gs://"):
    Workdir("ftp://host/run")
  import importlib.util
  real = importlib.util.find_spec
  monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("gcsfs", "tensorflow")
                      else real(name, *a))
  with pytest.raises(ValueError, match=r"writing to gs:// needs gcsfs; pip install gcsfs"):
    Workdir("gs://bucket/run")


def test_the_command_line_keeps_its_workdir_in_a_bucket(gcs, tmp_path, monkeypatch, capsys):
  """`stoc-jax detect --workdir gs://...`: the image fit checkpoints there, the same command again
  restores its last checkpoint instead of training and writes the same scores, and another seed is
  refused in one line."""
  from stoc_jax import cli
  from test_cli import _write_images
  monkeypatch.chdir(tmp_path)
  _write_images(tmp_path / "imgs", [("normal", 8)] * 18 + [("anomaly", 8)] * 2)
  url = f"gs://{BUCKET}/{tmp_path.name}/cli"
  command = lambda out, *extra: ["detect", "--images", "imgs", "--out", out, "--train-steps", "4",
                                 "--contamination", "0.1", "--workdir", url, *extra]
  assert cli.main(command("first.csv")) == 0
  assert gcs.ls(f"{BUCKET}/{tmp_path.name}/cli/checkpoints"), "no checkpoint in the bucket"
  assert json.loads(gcs.cat(f"{BUCKET}/{tmp_path.name}/cli/config.json"))["fit"]["random_state"] == 0
  metrics = lambda: map(json.loads, gcs.cat(f"{BUCKET}/{tmp_path.name}/cli/metrics.jsonl").splitlines())
  trained = [r["step"] for r in metrics() if "event" not in r]
  assert cli.main(command("again.csv")) == 0
  assert (tmp_path / "again.csv").read_text() == (tmp_path / "first.csv").read_text()
  assert [r["step"] for r in metrics() if "event" not in r] == trained  # restored, not trained again
  capsys.readouterr()
  assert cli.main(command("other.csv", "--seed", "1")) == 2
  err = capsys.readouterr().err.strip()
  assert "holds a run of another config" in err and len(err.splitlines()) == 1, err
  assert sorted(p.name for p in tmp_path.iterdir()) == ["again.csv", "again_refined.csv", "again_report",
                                                        "first.csv", "first_refined.csv", "first_report", "imgs"]
