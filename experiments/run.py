"""Runs one experiment from a config file.

  python experiments/run.py --config=experiments/configs/thyroid_stoc.py \
      [--config.anomaly_ratio=0.015 ...] --workdir=/tmp/run

The workdir receives config.json, metrics.jsonl, results.json and checkpoints;
rerunning with the same workdir resumes where the run stopped.
"""

import logging as logging_lib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import app, flags, logging  # noqa: E402
from ml_collections import config_flags  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Folder for outputs and checkpoints.")
_DISTRIBUTED = flags.DEFINE_bool("jax_distributed", False,
                                 "Call jax.distributed.initialize() (multi-host GPU/TPU).")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  import jax
  if _DISTRIBUTED.value:
    jax.distributed.initialize()
  logging.info("JAX devices: %s (process %d of %d)", jax.devices(), jax.process_index(), jax.process_count())
  config = _CONFIG.value
  if config.pipeline == "tabular":
    from stoc_jax.tabular_stoc import train_and_evaluate
  elif config.pipeline == "image":
    from stoc_jax.image_stoc import train_and_evaluate
  else:
    raise app.UsageError(f"config.pipeline must be 'tabular' or 'image', got {config.pipeline!r}.")
  baseline = None
  if config.get("compare_baseline") and config.refine.enabled:
    # The same run without refinement, in workdir/baseline, reported beside STOC.
    base_config = config.copy_and_resolve_references()
    base_config.refine.enabled = False
    baseline = train_and_evaluate(base_config, os.path.join(_WORKDIR.value, "baseline"))
  results = train_and_evaluate(config, _WORKDIR.value)
  if baseline is not None:
    from stoc_jax.workdir import write_results
    results["baseline"] = {k: baseline[k] for k in ("auc", "ap", "f1", "f1_oracle")}
    write_results(_WORKDIR.value, results)
  keys = [k for k in ("auc", "ap", "f1", "f1_oracle") if k in results]
  rows = [("baseline", results["baseline"])] if "baseline" in results else []
  rows.append(("STOC" if config.refine.enabled else "no refinement", results))
  print(f"{'':14s}" + "".join(f"{k:>10s}" for k in keys))
  for name, r in rows:
    print(f"{name:14s}" + "".join(f"{r[k]:10.1f}" for k in keys))
  print(f"results: {os.path.join(os.path.abspath(_WORKDIR.value), 'results.json')}")


class _DropLibraryInfo(logging_lib.Filter):
  """Keeps INFO lines from our code; the checkpoint library logs dozens per save."""

  def filter(self, record):
    return record.levelno >= logging_lib.WARNING or "orbax" not in record.pathname


if __name__ == "__main__":
  logging.set_verbosity(logging.INFO)
  logging.get_absl_handler().addFilter(_DropLibraryInfo())
  app.run(main)
