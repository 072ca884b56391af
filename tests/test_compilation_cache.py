"""stoc-jax and experiments/run.py keep their compiled programs on disk (stoc_jax.compilation_cache),
so a second run loads them instead of compiling them again; JAX's own settings take precedence."""

import contextlib
import os
import subprocess
import sys

import jax
import pytest

from conftest import BUCKET, ROOT
from stoc_jax import cli, compilation_cache


@contextlib.contextmanager
def no_cache_configured():
  """As a user's shell: no cache folder set (the suite sets its own in conftest), restored after."""
  configured = jax.config.jax_compilation_cache_dir
  jax.config.update("jax_compilation_cache_dir", None)
  try:
    yield
  finally:
    jax.config.update("jax_compilation_cache_dir", configured)


def test_the_default_folder_is_made_under_the_cache_home(monkeypatch, tmp_path):
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
  with no_cache_configured():
    assert compilation_cache.use_persistent_cache() == str(tmp_path / "stoc_jax" / "jax")
    assert jax.config.jax_compilation_cache_dir == str(tmp_path / "stoc_jax" / "jax")
  assert (tmp_path / "stoc_jax" / "jax").is_dir()


def test_a_given_default_folder_stands_in_for_the_home_one(tmp_path):
  # The GPU checks keep their programs beside their output (benchmarks/clad/gpu_cifar.py).
  with no_cache_configured():
    assert compilation_cache.use_persistent_cache(str(tmp_path / "out" / "jax_cache")) == str(tmp_path / "out" / "jax_cache")
  assert (tmp_path / "out" / "jax_cache").is_dir()


def test_a_home_where_no_folder_can_be_made_leaves_the_cache_off(monkeypatch, tmp_path):
  (tmp_path / "file").write_text("")
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))  # a folder below a file cannot be made
  with no_cache_configured():
    assert compilation_cache.use_persistent_cache() is None
    assert jax.config.jax_compilation_cache_dir is None


def test_jax_own_settings_come_first():
  # The suite's cache (conftest), as a user's JAX_COMPILATION_CACHE_DIR would be.
  assert compilation_cache.use_persistent_cache() == jax.config.jax_compilation_cache_dir
  enabled = jax.config.jax_enable_compilation_cache
  jax.config.update("jax_enable_compilation_cache", False)  # as JAX_ENABLE_COMPILATION_CACHE=false
  try:
    assert compilation_cache.use_persistent_cache() is None
  finally:
    jax.config.update("jax_enable_compilation_cache", enabled)


@pytest.mark.timeout(120)
def test_a_second_run_loads_the_programs_the_first_put_in_a_bucket(gcs, tmp_path):
  """The hosts of a pod share a bucket, not a home: JAX_COMPILATION_CACHE_DIR=gs://... . Without
  run.py's setting JAX would keep none of these programs, each under its 1 s threshold."""
  env = {k: v for k, v in os.environ.items() if k != "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"}
  env.update(JAX_COMPILATION_CACHE_DIR=f"gs://{BUCKET}/{tmp_path.name}/jax_cache", JAX_PLATFORMS="cpu",
             PYTHONPATH=str(ROOT))
  seen = []
  for run in ("first", "second"):
    subprocess.run([sys.executable, "experiments/run.py", "--config=experiments/configs/breast_cancer_stoc.py",
                    "--config.compare_baseline=False", f"--workdir={tmp_path / run}"],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=100)
    folder = f"{BUCKET}/{tmp_path.name}/jax_cache"
    seen.append({(f, gcs.info(f)["generation"]) for f in gcs.ls(folder, refresh=True)} if gcs.exists(folder) else set())
  assert len(seen[0]) >= 5  # the refinement's and the final Gaussian's programs
  assert seen[1] == seen[0]  # nothing compiled again: no program written, none rewritten


def test_the_command_line_turns_the_cache_on(monkeypatch, tmp_path):
  called = []
  monkeypatch.setattr(compilation_cache, "use_persistent_cache", lambda: called.append(True))
  (tmp_path / "t.csv").write_text("a,b\n" + "".join(f"{i % 7},{i % 5}.5\n" for i in range(40)))
  assert cli.main(["detect", str(tmp_path / "t.csv"), "--out", str(tmp_path / "s.csv")]) == 0
  assert called == [True]
