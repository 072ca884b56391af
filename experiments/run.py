"""Runs one experiment from a config file.

  python experiments/run.py --config=experiments/configs/thyroid_stoc.py \
      [--config.anomaly_ratio=0.015 ...] --workdir=/tmp/run

The workdir, a local folder or a bucket URL (gs://bucket/run, with gcsfs), receives
config.json, metrics.jsonl, results.json and checkpoints; rerunning with the same workdir
and config resumes where the run stopped (a workdir holding another config's run, or a run on other
training data, is refused).

Several hosts (or processes): add --jax_distributed on every process. The coordinator,
the number of processes and this process's index are detected on Cloud TPU and SLURM;
elsewhere pass --coordinator_address=HOST:PORT --num_processes=N --process_id=I.
"""

import difflib
import logging as logging_lib
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import app, flags, logging  # noqa: E402
from ml_collections import config_flags  # noqa: E402
import orbax.checkpoint  # noqa: E402,F401  (defines the flag set below)

# Checkpoint barriers through the jax.distributed service, not device collectives: a collective
# the checkpoint library issues can pair with the training's on another process and hang both.
flags.FLAGS.set_default("experimental_orbax_use_distributed_barrier", True)

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Folder or bucket URL (gs://...) for outputs and checkpoints.")
_DISTRIBUTED = flags.DEFINE_bool("jax_distributed", False,
                                 "Call jax.distributed.initialize() (multi-host GPU/TPU, or several processes).")
_COORDINATOR = flags.DEFINE_string("coordinator_address", None,
                                   "HOST:PORT of process 0 (with --jax_distributed; detected on TPU / SLURM).")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None, "Number of processes (with --jax_distributed).")
_PROCESS_ID = flags.DEFINE_integer("process_id", None, "This process's index (with --jax_distributed).")
flags.mark_flags_as_required(["config", "workdir"])


def _config_arg(argv):
  for arg in argv:
    if arg.startswith("--config="):
      return arg[len("--config="):]
  return None


def _nearest(word, names):
  close = difflib.get_close_matches(word, names, n=3, cutoff=0.5)
  return f"; nearest: {', '.join(close)}" if close else ""


def _flag_error(error, argv) -> str:
  """One line saying what is wrong with the command line: a missing config file, an unknown
  config key or variant, or absl's own message."""
  spec = _config_arg(argv)
  if spec:
    path, _, variant = spec.partition(":")
    if not os.path.isfile(path):
      folder = os.path.dirname(path) or "."
      names = sorted(f for f in os.listdir(folder) if f.endswith(".py")) if os.path.isdir(folder) else []
      return f"no config file {path}{_nearest(os.path.basename(path), names)}"
    try:
      import importlib.util
      module_spec = importlib.util.spec_from_file_location("_config", path)
      module = importlib.util.module_from_spec(module_spec)
      module_spec.loader.exec_module(module)
      config = module.get_config(variant) if variant else module.get_config()
    except Exception as e:  # noqa: BLE001 (the config's own error is the message)
      return f"{path}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    keys = _flat_keys(config)
    for arg in argv:
      if arg.startswith("--config."):
        key = arg[len("--config."):].split("=", 1)[0]
        if key not in keys and not any(k.startswith(key + ".") for k in keys):
          return f"{path} has no key {key!r}{_nearest(key, keys)}"
  message = str(error).strip().splitlines()
  return message[0] if message else type(error).__name__


def _flat_keys(config, prefix=""):
  keys = []
  for name, value in config.items():
    keys.append(prefix + name)
    if hasattr(value, "items"):
      keys += _flat_keys(value, prefix + name + ".")
  return keys


def parse_flags(argv):
  spec = _config_arg(argv[1:])
  if spec and not os.path.isfile(spec.partition(":")[0]):
    sys.exit(f"run.py: error: {_flag_error(None, argv[1:])}")
  try:
    parsed = flags.FLAGS(argv)
  except Exception as e:  # noqa: BLE001 (flag, config-file and override errors alike)
    sys.exit(f"run.py: error: {_flag_error(e, argv[1:])}")
  # An unset shell variable: an empty workdir wrote the run into the current folder, and an empty
  # config failed in ml_collections' words when first read.
  if not _WORKDIR.value.strip():
    sys.exit("run.py: error: --workdir is empty; give a folder for the run's outputs (a new one is made).")
  if not config_flags.get_config_filename(flags.FLAGS["config"]).strip():
    sys.exit("run.py: error: --config is empty; give a config file, e.g. "
             "--config=experiments/configs/thyroid_stoc.py.")
  return parsed


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  import jax
  from stoc_jax.compilation_cache import use_persistent_cache
  use_persistent_cache()  # a rerun or a resumed run loads its compiled programs
  if _DISTRIBUTED.value:
    try:
      jax.distributed.initialize(_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value)
    except ValueError as e:  # outside Cloud TPU and SLURM, nothing to detect the cluster from
      sys.exit(f"run.py: error: --jax_distributed: {e} Outside Cloud TPU and SLURM pass "
               "--coordinator_address=HOST:PORT --num_processes=N --process_id=I on every process.")
  logging.info("JAX devices: %s (process %d of %d)", jax.devices(), jax.process_index(), jax.process_count())
  config = _CONFIG.value
  from stoc_jax.workdir import is_url
  if not is_url(_WORKDIR.value) and os.path.exists(_WORKDIR.value) and not os.path.isdir(_WORKDIR.value):
    sys.exit(f"run.py: error: --workdir {_WORKDIR.value} is a file; give a folder (a new one is made).")
  if config.pipeline == "tabular":
    from stoc_jax.tabular_stoc import train_and_evaluate
  elif config.pipeline == "image":
    from stoc_jax.image_stoc import train_and_evaluate
  elif config.pipeline == "outlier_exposure":
    from stoc_jax.oe_stoc import train_and_evaluate
  elif config.pipeline == "clad":
    from stoc_jax.clad_stoc import train_and_evaluate
  else:
    raise app.UsageError("config.pipeline must be 'tabular', 'image', 'outlier_exposure' or 'clad', "
                         f"got {config.pipeline!r}.")
  try:
    _run(train_and_evaluate, config)
  except (ValueError, OSError, FloatingPointError) as e:
    # A wrong config value, a missing data file, a workdir that cannot be made or a diverged loss:
    # what is wrong and how to fix it, in one line (the library's messages say both); --verbosity=1
    # adds where it was raised.
    logging.debug("raised at:\n%s", traceback.format_exc())
    sys.exit(f"run.py: error: {e} (--verbosity=1 shows where it was raised)")


def _run(train_and_evaluate, config):
  import jax
  baseline = None
  if config.compare_baseline and config.refine.enabled:
    # The same run without refinement, in workdir/baseline, reported beside STOC.
    base_config = config.copy_and_resolve_references()
    base_config.refine.enabled = False
    baseline = train_and_evaluate(base_config, os.path.join(_WORKDIR.value, "baseline"))
  results = train_and_evaluate(config, _WORKDIR.value)
  if baseline is not None:
    from stoc_jax.workdir import write_results
    results["baseline"] = {k: baseline[k] for k in ("auc", "ap", "f1", "f1_oracle") if k in baseline}
    write_results(_WORKDIR.value, results)
  if jax.process_index() != 0:
    return
  keys = [k for k in ("auc", "ap", "f1", "f1_oracle") if k in results]
  rows = [("baseline", results["baseline"])] if "baseline" in results else []
  rows.append(("STOC" if config.refine.enabled else "no refinement", results))
  print(f"{'':14s}" + "".join(f"{k:>10s}" for k in keys))
  for name, r in rows:
    print(f"{name:14s}" + "".join(f"{r[k]:10.1f}" for k in keys))
  from stoc_jax.workdir import workdir_path
  print(f"results: {workdir_path(_WORKDIR.value) / 'results.json'}")


class _DropLibraryInfo(logging_lib.Filter):
  """Keeps INFO lines from our code; the checkpoint library logs dozens per save."""

  def filter(self, record):
    return record.levelno >= logging_lib.WARNING or "orbax" not in record.pathname


if __name__ == "__main__":
  logging.set_verbosity(logging.INFO)
  logging.get_absl_handler().addFilter(_DropLibraryInfo())
  app.run(main, flags_parser=parse_flags)
