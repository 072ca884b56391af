import contextlib
import os
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # experiments/ configs import each other as a package

# The shared data folder beside the checkout (../shared/data), or $STOC_SHARED_DATA.
SHARED_DATA = Path(os.environ.get("STOC_SHARED_DATA", ROOT.parent / "shared" / "data"))
TABULAR = SHARED_DATA / "tabular"
# The bucket of the `gcs` fixture's emulator (a valid GCS name: tensorstore checks).
BUCKET = "stoc-test"


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
  # Set before JAX starts its backend, and passed on to the processes tests start (`xla_flags`).
  os.environ["XLA_FLAGS"] = xla_flags()


# Tests compile far more than they run, and LLVM's level 1 compiles XLA's CPU programs faster than its
# default level 3: a ResNet-18's weights in 3.4 s instead of 8.0, its train step in 5.0 s instead of
# 6.3, with steps as fast (0.02 s). Floats may differ from level 3's in the last bits (by 2e-5 in that
# ResNet's weights after 5 contrastive steps), never the behaviour a test checks.
TEST_XLA_FLAGS = ("--xla_backend_optimization_level=1",)


def xla_flags(devices: int | None = None) -> str:
  """XLA_FLAGS for the tests and the processes they start: the caller's own flags and TEST_XLA_FLAGS,
  and `devices` simulated CPU devices when given."""
  device_flag = "--xla_force_host_platform_device_count="
  replaced = tuple(f.split("=")[0] + "=" for f in TEST_XLA_FLAGS) + ((device_flag,) if devices else ())
  flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if not f.startswith(replaced)]
  flags += TEST_XLA_FLAGS
  if devices:
    flags.append(f"{device_flag}{devices}")
  return " ".join(flags)


def pytest_collection_modifyitems(config, items):
  # The longest tests first (from a cold cache the multi-process one about 100 s, the GPU checks' tiny
  # runs 24-35 s; the rest under 35 s), so that under `pytest -n 2` the other worker takes the rest of
  # the suite meanwhile; the files of fast tests (none over 4 s, 23 s in all) last, so that the two
  # workers finish together. The sort is stable: the rest keep their order.
  first = ("test_multihost.py::", "::test_gpu_cifar_check_runs_at_a_tiny_size", "::test_gpu_check_runs_at_a_tiny_size")
  last = ("test_benchmark_rows.py", "test_benchmark_tables.py", "test_clad_parts.py", "test_data.py",
          "test_data_parallel_step.py", "test_metrics.py", "test_table_models.py")

  def place(item):
    if any(part in item.nodeid for part in first):
      return next(i for i, part in enumerate(first) if part in item.nodeid)
    return len(first) + (item.nodeid.split("::")[0].rsplit("/", 1)[-1] in last)
  items.sort(key=place)


def _send_generations(emulator):
  """GCS names an object's generation in the x-goog-generation header of every download; the
  emulator leaves it out, and tensorstore, which rewrites the OCDBT manifest of Orbax's checkpoints
  on condition of the generation it read, then fails ("Malformed StorageGeneration")."""
  from gcp_storage_emulator.exceptions import NotFound
  from gcp_storage_emulator.handlers import objects
  if getattr(objects.download, "sends_generation", False):
    return

  def download(request, response, storage, *args, **kwargs):
    objects_download(request, response, storage, *args, **kwargs)
    try:
      obj = storage.get_file_obj(request.params["bucket_name"], request.params["object_id"])
    except NotFound:
      return
    response["x-goog-generation"] = obj["generation"]

  objects_download, download.sends_generation = objects.download, True
  for _, handlers in emulator.HANDLERS:
    for method, handler in list(handlers.items()):
      if handler is objects_download:
        handlers[method] = download
  objects.download = download


@pytest.fixture(scope="session")
def gcs():
  """A Google Cloud Storage emulator on 127.0.0.1, one per test process, that gcsfs (a workdir's JSON
  files) and tensorstore (Orbax's arrays) write to, here and in the processes tests start; yields a
  gcsfs filesystem to read the bucket back. One per process: fsspec keeps the filesystem it made first,
  with the address it read then."""
  emulator = pytest.importorskip("gcp_storage_emulator.server", reason="pip install -e '.[test]' installs it")
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
  env = pytest.MonkeyPatch()
  url = f"http://127.0.0.1:{port}"
  env.setenv("STORAGE_EMULATOR_HOST", url)
  env.setenv("TENSORSTORE_GCS_HTTP_URL", url)
  # Read as gcsfs is imported: without it gcsfs asks the emulator, over gRPC, which kind of bucket
  # it is, and retries for minutes.
  env.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
  pytest.importorskip("gcsfs", reason="pip install -e '.[test]' installs it")
  _send_generations(emulator)
  server = emulator.create_server("127.0.0.1", port, in_memory=True, default_bucket=BUCKET)
  server.start()
  httpd = server._api._httpd
  report = httpd.handle_error

  def handle_error(request, client_address):
    # A client that hangs up before the answer is sent (tensorstore drops reads it no longer needs) is
    # not an error; printed, it would land in the stderr of the test that was running.
    if not issubclass(sys.exc_info()[0], ConnectionError):
      report(request, client_address)

  httpd.handle_error = handle_error
  import gcsfs
  try:
    yield gcsfs.GCSFileSystem(token="anon")
  finally:
    env.undo()
    server.stop()


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
  env = dict(os.environ, XLA_FLAGS=xla_flags(devices), JAX_PLATFORMS="cpu",
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
