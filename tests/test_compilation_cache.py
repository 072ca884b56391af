"""stoc-jax and experiments/run.py keep their compiled programs on disk (stoc_jax.compilation_cache),
so a second run loads them instead of compiling them again; JAX's own settings take precedence."""

import os
import subprocess
import sys

import jax
import pytest

from conftest import ROOT
from stoc_jax import cli, compilation_cache


def _programs(folder):
  return {(p.name, p.stat().st_mtime_ns) for p in folder.iterdir()} if folder.is_dir() else set()


@pytest.mark.timeout(120)
def test_a_second_run_loads_the_programs_the_first_compiled(tmp_path):
  # Without the test suite's own cache settings, as a user's shell has none.
  env = {k: v for k, v in os.environ.items()
         if k not in ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS")}
  env.update(XDG_CACHE_HOME=str(tmp_path / "xdg"), JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT))
  folder = tmp_path / "xdg" / "stoc_jax" / "jax"
  seen = []
  for run in ("first", "second"):
    subprocess.run([sys.executable, "experiments/run.py", "--config=experiments/configs/breast_cancer_stoc.py",
                    "--config.compare_baseline=False", f"--workdir={tmp_path / run}"],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=100)
    seen.append(_programs(folder))
  assert len(seen[0]) >= 5  # the refinement's and the final Gaussian's programs, however quick
  assert seen[1] == seen[0]  # nothing compiled again: no program written, none rewritten


def test_jax_own_settings_come_first(monkeypatch):
  # The suite's cache (conftest), as a user's JAX_COMPILATION_CACHE_DIR would be.
  assert compilation_cache.use_persistent_cache() == jax.config.jax_compilation_cache_dir
  enabled = jax.config.jax_enable_compilation_cache
  jax.config.update("jax_enable_compilation_cache", False)  # as JAX_ENABLE_COMPILATION_CACHE=false
  try:
    assert compilation_cache.use_persistent_cache() is None
  finally:
    jax.config.update("jax_enable_compilation_cache", enabled)
  monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
  assert compilation_cache.default_dir() == os.path.join("/somewhere", "stoc_jax", "jax")


def test_a_home_where_no_folder_can_be_made_leaves_the_cache_off(monkeypatch, tmp_path):
  (tmp_path / "file").write_text("")
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))  # a folder below a file cannot be made
  configured = jax.config.jax_compilation_cache_dir
  jax.config.update("jax_compilation_cache_dir", None)  # as a user's shell, without the suite's cache
  try:
    assert compilation_cache.use_persistent_cache() is None
    assert jax.config.jax_compilation_cache_dir is None
  finally:
    jax.config.update("jax_compilation_cache_dir", configured)


def test_the_command_line_turns_the_cache_on(monkeypatch, tmp_path):
  called = []
  monkeypatch.setattr(compilation_cache, "use_persistent_cache", lambda: called.append(True))
  (tmp_path / "t.csv").write_text("a,b\n" + "".join(f"{i % 7},{i % 5}.5\n" for i in range(40)))
  assert cli.main(["detect", str(tmp_path / "t.csv"), "--out", str(tmp_path / "s.csv")]) == 0
  assert called == [True]
