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
  cache = os.environ.get("STOC_TEST_JAX_CACHE", os.path.join(tempfile.gettempdir(), "stoc_jax_test_cache"))
  jax.config.update("jax_compilation_cache_dir", cache)
  # Every program, however quick: the many small ones (an eager init op per parameter) are what
  # each new process would otherwise compile again (cold suite 487 s with 0, 554 s with 0.5).
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
  # The runs that tests start in other processes (run.py, stoc-jax, the GPU script) share it.
  os.environ["JAX_COMPILATION_CACHE_DIR"] = cache
  os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"


def pytest_collection_modifyitems(config, items):
  # The longest tests first (from a cold cache the multi-process one about 110 s, the GPU checks' tiny
  # runs about 50 s; the rest under 45 s), so that under `pytest -n 2` the other worker takes the rest of the suite
  # meanwhile and the two finish together. The sort is stable: the rest keep their order.
  first = ("test_multihost.py::", "::test_gpu_cifar_check_runs_at_a_tiny_size", "::test_gpu_check_runs_at_a_tiny_size")
  items.sort(key=lambda item: next((i for i, part in enumerate(first) if part in item.nodeid), len(first)))


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


@contextlib.contextmanager
def killed_at_train_call(monkeypatch, learner_class, n: int):
  """Within the block, the n-th call of learner_class.train raises KeyboardInterrupt: a run killed
  between two checkpoints."""
  real, calls = learner_class.train, {"n": 0}

  def dying(self, *args, **kwargs):
    calls["n"] += 1
    if calls["n"] == n:
      raise KeyboardInterrupt("simulated kill")
    return real(self, *args, **kwargs)

  monkeypatch.setattr(learner_class, "train", dying)
  try:
    yield
  finally:
    monkeypatch.setattr(learner_class, "train", real)


@pytest.fixture(scope="session")
def tiny_cifar(tmp_path_factory):
  """A CIFAR-shaped .npz of five classes; class 0 is darker than the rest."""
  import numpy as np
  rng = np.random.default_rng(0)
  y_tr, y_te = np.arange(100) % 5, np.arange(50) % 5
  x_tr = rng.integers(0, 255, (100, 32, 32, 3), dtype=np.uint8)
  x_te = rng.integers(0, 255, (50, 32, 32, 3), dtype=np.uint8)
  x_tr[y_tr == 0] //= 4
  x_te[y_te == 0] //= 4
  path = tmp_path_factory.mktemp("npz") / "tiny.npz"
  np.savez(path, x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te)
  return str(path)


def run_on_cpu_devices(code: str, marker: str, timeout: int, devices: int = 8):
  """Runs `code` in a fresh Python on `devices` simulated CPU devices and checks that it exits
  cleanly and prints `marker` (its own asserts decide what passes)."""
  import subprocess
  env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu",
             PYTHONPATH=str(ROOT))
  out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout)
  assert out.returncode == 0, out.stderr[-3000:]
  assert marker in out.stdout
  return out.stdout


def compilations_per_fit(fit, seeds=(0, 1)):
  """XLA compilations during fit(seed) for each seed, the persistent cache off so that a cached
  program cannot hide one."""
  import jax
  import jax.monitoring
  events = []
  listener = lambda name, *_, **__: events.append(name) if name == "/jax/core/compile/backend_compile_duration" else None
  jax.monitoring.register_event_duration_secs_listener(listener)
  previous = jax.config.jax_enable_compilation_cache
  jax.config.update("jax_enable_compilation_cache", False)
  counts = []
  try:
    for seed in seeds:
      before = len(events)
      fit(seed)
      counts.append(len(events) - before)
  finally:
    jax.config.update("jax_enable_compilation_cache", previous)
    jax.monitoring.unregister_event_duration_listener(listener)
  return counts
