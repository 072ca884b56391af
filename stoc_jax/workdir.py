"""What a run writes to its workdir: config.json, metrics.jsonl, results.json, checkpoints.

Files are written by process 0 only, whole, so a reader never sees half a file: a local one is
written to a temporary file, then renamed. A workdir may be a local folder or a bucket URL
(`gs://bucket/run`, as runs on Cloud TPU pods keep theirs, where no host's disk is shared), read and
written through `etils.epath`, as Orbax reads and writes its checkpoints; gs:// needs `gcsfs`
(`pip install -r requirements-tpu.txt`). An object store writes an object whole and cannot append,
so there metrics.jsonl is rewritten with each line added.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import math
import os
import platform

import jax
import ml_collections
import numpy as np
import orbax.checkpoint as ocp
from etils import epath


def is_main_process() -> bool:
  return jax.process_index() == 0


def _jsonable(value):
  if isinstance(value, dict):
    return {str(k): _jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_jsonable(v) for v in value]
  if isinstance(value, (np.generic, np.ndarray, jax.Array)):
    value = np.asarray(value).item() if np.ndim(value) == 0 else np.asarray(value).tolist()
  if isinstance(value, float) and not math.isfinite(value):
    return None
  return value


def _differences(old, new, prefix=""):
  """(key, old value, new value) for every flattened key whose value differs."""
  out = []
  for key in sorted(set(old) | set(new)):
    a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
    if isinstance(a, dict) and isinstance(b, dict):
      out += _differences(a, b, f"{prefix}{key}.")
    elif a != b:
      out.append((prefix + key, a, b))
  return out


PACKAGES = ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy", "scipy", "scikit-learn")


def software_environment() -> dict:
  """Versions and devices a run used. Same seed gives the same results on the same versions;
  across versions float rounding can move a refinement decision, and with it a small F1."""
  versions = {}
  for name in PACKAGES:
    try:
      versions[name] = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
      versions[name] = None
  return {"python": platform.python_version(), "packages": versions, "backend": jax.default_backend(),
          "device_kind": jax.devices()[0].device_kind, "devices": jax.device_count(),
          "processes": jax.process_count()}


def is_url(path) -> bool:
  """A bucket URL (gs://, s3://, ...), not a local path."""
  return "://" in str(path)


def workdir_path(path) -> epath.Path:
  """A workdir as given: a URL kept as it is, a local path made absolute (`~` expanded)."""
  if not isinstance(path, (str, os.PathLike)):  # str() of a number would name a folder in the current one
    raise ValueError(f"workdir must be a folder or a bucket URL; got {type(path).__name__} {path!r}.")
  if not str(path).strip():  # made absolute, it would be the current folder
    raise ValueError(f"workdir must be a folder or a bucket URL; got {str(path)!r}.")
  if is_url(path):
    _check_filesystem(str(path))
    return epath.Path(str(path))
  return epath.Path(os.path.abspath(os.path.expanduser(str(path))))


def _write_text_whole(path: epath.Path, text: str) -> None:
  """`text` to `path`, never seen half written: an object store's write is whole already; a local
  file is written beside the target, then renamed over it."""
  if is_url(path):
    path.write_text(text)
    return
  tmp = path.parent / f".{path.name}.tmp{os.getpid()}"
  tmp.write_text(text)
  os.replace(tmp, path)


def write_json_atomic(path, obj) -> None:
  path = workdir_path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  _write_text_whole(path, json.dumps(_jsonable(obj), indent=2, sort_keys=True) + "\n")


def write_results(folder, results: dict) -> None:
  """folder/results.json, from process 0: `results` plus the `environment` (versions, devices)."""
  if is_main_process():
    write_json_atomic(workdir_path(folder) / "results.json", {**results, "environment": software_environment()})


# The bucket URLs epath reads and writes, and the fsspec library each needs where TensorFlow (whose
# file API epath otherwise uses) is not installed. gs:// is tested (tests/test_workdir_url.py, against
# an emulator); s3:// and az:// take the same path untested.
URL_LIBRARIES = {"gs": "gcsfs", "s3": "s3fs", "az": "adlfs"}


def _check_filesystem(url: str) -> None:
  """A bucket URL that cannot be written: a one-line error that says what to install, before any
  training (epath would raise only at the first write)."""
  import importlib.util
  scheme = url.split("://", 1)[0]
  if scheme not in URL_LIBRARIES:
    raise ValueError(f"workdir {url}: {scheme}:// is not a storage this project writes to; give a local "
                     f"folder or a {', '.join(s + '://' for s in URL_LIBRARIES)} URL.")
  library = URL_LIBRARIES[scheme]
  if not any(importlib.util.find_spec(m) for m in (library, "tensorflow")):
    raise ValueError(f"workdir {url}: writing to {scheme}:// needs {library}; pip install {library}, "
                     "or give a local folder.")


# The key of config.json under which an experiment's run records the data it trains on.
TRAINING_DATA = "training_data"


class Workdir:
  """The run's folder: JSON outputs from process 0 and an Orbax CheckpointManager."""

  def __init__(self, path, max_to_keep: int = 2):
    self.path = workdir_path(path)
    try:
      self.path.mkdir(parents=True, exist_ok=True)
    # Said by the OS as "[Errno 17] File exists", or, below a link to nothing, "No such file or directory".
    except (FileExistsError, NotADirectoryError, FileNotFoundError):
      chain = (self.path, *self.path.parents)
      file = next((p for p in chain if p.exists() and not p.is_dir()), None)
      # A link to a path that does not exist: exists() reads it as absent, mkdir as taken.
      link = next((p for p in chain if os.path.islink(p) and not p.exists()), None)
      if file is None and link is None:  # another cause (a bucket that does not exist): its own words
        raise
      blocked = f"{file} is a file" if file is not None else f"{link} is a link to nothing"
      raise ValueError(f"workdir {self.path}: {blocked}; give a folder (a new one, or one of an earlier "
                       "run to resume).") from None
    self._checkpoints = ocp.CheckpointManager(
        self.path / "checkpoints",
        # Synchronous saves: every save is waited for anyway, and no background thread may run
        # collectives beside the training's on several processes.
        options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                             enable_async_checkpointing=False))

  def write_config(self, config, training_data: dict | None = None) -> None:
    """Writes config.json; a workdir that already holds another config's run is refused, so a
    rerun resumes only the run it started and never mixes two configs. `training_data` (name ->
    array, what the run trains on) adds their `fingerprints` under TRAINING_DATA: a rerun on other
    data (a CSV edited since, another download) is refused too, where it resumed the checkpoints of
    the first data and took its refinement's mask for rows of the second."""
    new = _jsonable(config.to_dict())
    if training_data is not None:
      new[TRAINING_DATA] = fingerprints(training_data)
    path = self.path / "config.json"
    holds_a_run = self._holds_a_run()  # asked by every process alike: the checkpoint library may sync them
    if path.exists() and holds_a_run:
      old = json.loads(path.read_text())
      if TRAINING_DATA in new:  # a run recorded before its data was is resumed as it was
        old.setdefault(TRAINING_DATA, new[TRAINING_DATA])
      differ = _differences(old, new)
      if differ:
        shown = "; ".join(f"{k}: {a!r} there, {b!r} now" for k, a, b in differ[:5])
        more = f" and {len(differ) - 5} more" if len(differ) > 5 else ""
        other = ("other training data (has the data file changed?)"
                 if all(k.startswith(TRAINING_DATA + ".") for k, _, _ in differ) else "another config")
        raise ValueError(f"{self.path} holds a run of {other} ({shown}{more}); pass a new --workdir, or "
                         "delete that folder to start over.")
    if is_main_process():
      write_json_atomic(path, new)

  def _holds_a_run(self) -> bool:
    # A config.json alone (a run that stopped at a config error) may be replaced.
    has_checkpoint = self.latest_step() is not None
    return has_checkpoint or any((self.path / name).exists() for name in ("metrics.jsonl", "results.json"))

  def log_metrics(self, record: dict) -> None:
    if not is_main_process():
      return
    line = json.dumps(_jsonable(record), sort_keys=True) + "\n"
    path = self.path / "metrics.jsonl"
    if is_url(path):  # no appending to an object: the lines so far and this one, written whole
      path.write_text((path.read_text() if path.exists() else "") + line)
    else:
      with open(path, "a") as f:
        f.write(line)

  def write_results(self, results: dict) -> None:
    write_results(self.path, results)

  def finish(self, results: dict) -> None:
    """The run's end: its headline metrics in metrics.jsonl, results.json, the checkpoints closed."""
    headline = {k: results[k] for k in ("auc", "ap", "f1", "f1_oracle") if k in results}
    self.log_metrics({"event": "final", **headline})
    self.write_results(results)
    self.close()
    logging.info("results: %s", "  ".join(f"{k.upper()} {v:.1f}" for k, v in headline.items()))

  # -- checkpoints: a pytree of arrays plus a JSON dict of progress

  def latest_step(self):
    return self._checkpoints.latest_step()

  def save(self, step: int, state, meta: dict) -> None:
    self._checkpoints.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(_jsonable(meta))))
    self._checkpoints.wait_until_finished()

  def restore(self, step: int, target_state):
    restored = self._checkpoints.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(target_state), meta=ocp.args.JsonRestore()))
    return restored["state"], restored["meta"]

  def restore_progress(self, state, num_samples: int, gamma):
    """(state, mask, rounds, gamma) from the latest checkpoint, or a fresh start's values."""
    mask = np.ones(num_samples, bool)
    latest = self.latest_step()
    if latest is None:
      return state, mask, [], gamma
    restored, meta = self.restore(latest, {"train": state, "mask": mask})
    logging.info("resumed from step %d of %s", latest, self.path)
    return restored["train"], np.asarray(restored["mask"], bool), meta["rounds"], meta["gamma"]

  def close(self) -> None:
    self._checkpoints.close()


def fingerprints(arrays: dict) -> dict:
  """Each array's shape and SHA-256 ("x_train_shape", "x_train_sha256"; `arrays`: name -> array)."""
  out = {}
  for name, array in arrays.items():
    array = np.ascontiguousarray(array)
    out[f"{name}_shape"] = list(array.shape)
    out[f"{name}_sha256"] = hashlib.sha256(array.tobytes()).hexdigest()
  return out


@contextlib.contextmanager
def open_for_fit(path, config, arrays: dict, random_state: int, gamma):
  """An estimator's workdir (`STOCDetector`, `OEDetector`) for the block, closed after it, or None
  where `path` is None. Its config.json holds the fit's training settings and, under `fit`, the seed,
  gamma and each array's shape and SHA-256 (`arrays`: name -> array), so that the same fit resumes
  there and a fit on other data or settings is refused."""
  if path is None:
    yield None
    return
  record = config.copy_and_resolve_references()
  record.fit = ml_collections.ConfigDict({"random_state": int(random_state), "gamma": gamma, **fingerprints(arrays)})
  workdir = Workdir(path)
  try:  # closed also when the config is refused
    workdir.write_config(record)
    yield workdir
  finally:
    workdir.close()
