import contextlib
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # experiments/ configs import each other as a package

# The shared data folder beside the checkout (../shared/data), or $STOC_SHARED_DATA.
SHARED_DATA = Path(os.environ.get("STOC_SHARED_DATA", ROOT.parent / "shared" / "data"))
TABULAR = SHARED_DATA / "tabular"


def need_shared(relpath: str) -> Path:
  """Path of a shared data file; skips the test, saying which file, when it is absent."""
  path = SHARED_DATA / relpath
  if not path.exists():
    pytest.skip(f"shared data file {path} is absent (see ../shared/data/README.md)")
  return path


def pytest_configure(config):
  # Many tests build the same jitted steps; a persistent compilation cache (per run) avoids
  # compiling identical programs again.
  import tempfile

  import jax
  jax.config.update("jax_compilation_cache_dir", os.environ.get(
      "STOC_TEST_JAX_CACHE", os.path.join(tempfile.gettempdir(), "stoc_jax_test_cache")))
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


@contextlib.contextmanager
def killed_at_refinement(monkeypatch, n: int):
  """Within the block, the n-th call of refine_data raises KeyboardInterrupt: a run killed mid-way."""
  from stoc_jax import refine
  real = refine.refine_data
  calls = {"n": 0}

  def dying(*args, **kwargs):
    calls["n"] += 1
    if calls["n"] == n:
      raise KeyboardInterrupt("simulated kill")
    return real(*args, **kwargs)

  monkeypatch.setattr(refine, "refine_data", dying)
  try:
    yield
  finally:
    monkeypatch.setattr(refine, "refine_data", real)
