"""A run that spans processes: two processes with 2 CPU devices each, joined by jax.distributed on
127.0.0.1 with gloo collectives, give the result of one process with 4 devices. The two write to a
bucket of a Google Cloud Storage emulator (conftest's `gcs`), as a TPU pod's hosts share a gs://
workdir and no disk; where the emulator is not installed, to a local folder."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from etils import epath

from conftest import BUCKET, ROOT, xla_flags

# As small as the comparison allows (the narrowest ResNet-18, 12 steps, 100 test images): it needs
# three refinement rounds and two checkpoints, and a larger run costs the suite time, not coverage.
ARGS = ["experiments/run.py", "--config=experiments/configs/digits_stoc.py", "--config.train_steps=12",
        "--config.refine.schedule_steps=(4,8)", "--config.compare_baseline=False",
        "--config.checkpoint_every_steps=4", "--config.model.width=0.125", "--config.max_test_images=100"]


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _env(devices):
  return dict(os.environ, JAX_PLATFORMS="cpu", JAX_CPU_COLLECTIVES_IMPLEMENTATION="gloo",
              XLA_FLAGS=xla_flags(devices), PYTHONPATH=str(ROOT))


def _cpu_seconds(pid):
  """User + system CPU time a live process has used (Linux /proc), or None."""
  try:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
  except OSError:
    return None
  return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait(procs, timeout, idle=20.0, busy=0.1):
  """True when every process ended, False when they stalled: the time limit passed, or together
  they used under `busy` of a core over the last `idle` seconds. A deadlocked pair sleeps (one
  used 0.008 of a core); a working run is never that quiet, since while one process waits the
  other computes."""
  start = time.monotonic()
  cpu, history = {}, []  # each process's CPU seconds (the last reading kept once it ends); (time, sum)
  while time.monotonic() - start < timeout:
    if all(p.poll() is not None for p in procs):
      return True
    for p in procs:
      seconds = _cpu_seconds(p.pid) if p.poll() is None else None
      if seconds is not None:
        cpu[p.pid] = seconds
    now = time.monotonic()
    history.append((now, sum(cpu.values())))
    window = [total for t, total in history if t >= now - idle]
    if now - history[0][0] >= idle and window[-1] - window[0] < busy * idle:
      return False
    time.sleep(1.0)
  return False


def _run(tmp_path, name, devices, process_args, workdir=None, timeout=300):
  """Runs the job as len(process_args) processes of `devices` devices each, in `workdir` (by default
  tmp_path/name), its logs in tmp_path;
  returns [(stdout, stderr)] of each process. Processes that sit idle fail the test at once: that
  was how a deadlock showed (jaxlib's batched Cholesky on 2 devices a process, fixed in
  stoc_jax/occ.py and checked in tests/test_refine.py)."""
  paths = [(tmp_path / f"{name}_out{i}", tmp_path / f"{name}_err{i}") for i in range(len(process_args))]
  logs = [(open(out, "w"), open(err, "w")) for out, err in paths]
  # Files, not pipes: a process blocked on a full pipe would stall the other in a collective.
  procs = [subprocess.Popen([sys.executable, *ARGS, f"--workdir={workdir or tmp_path / name}", *args], cwd=ROOT,
                            env=_env(devices), stdin=subprocess.DEVNULL, stdout=out, stderr=err)
           for args, (out, err) in zip(process_args, logs)]
  try:
    finished = _wait(procs, timeout)
  finally:
    for p in procs:
      p.kill()
      p.wait()
    for out, err in logs:
      out.close(), err.close()
  outs = [(out.read_text(), err.read_text()) for out, err in paths]
  assert finished, f"the {name} run stalled; stderr: {outs[0][1][-2000:]}"
  for p, (_, err) in zip(procs, outs):
    assert p.returncode == 0, err[-3000:]
  return outs


def _two_processes_args():
  port = _free_port()
  return [["--jax_distributed", f"--coordinator_address=127.0.0.1:{port}", "--num_processes=2",
           f"--process_id={i}"] for i in range(2)]


@pytest.fixture
def shared_workdir(request, tmp_path):
  """The two processes' workdir: in the emulator's bucket, or a local folder without it."""
  try:
    request.getfixturevalue("gcs")
  except pytest.skip.Exception:
    return epath.Path(tmp_path / "two")
  return epath.Path(f"gs://{BUCKET}/{tmp_path.name}/two")


@pytest.mark.timeout(700)
def test_two_processes_give_the_result_of_one_with_as_many_devices(tmp_path, shared_workdir):
  _run(tmp_path, "one", 4, [["--config.checkpoint_every_steps=0"]])  # the reference needs no checkpoints
  outs = _run(tmp_path, "two", 2, _two_processes_args(), workdir=shared_workdir)
  single = json.loads((tmp_path / "one" / "results.json").read_text())
  multi = json.loads((shared_workdir / "results.json").read_text())
  assert (single["environment"]["processes"], single["environment"]["devices"]) == (1, 4)
  assert (multi["environment"]["processes"], multi["environment"]["devices"]) == (2, 4)
  assert abs(single["auc"] - multi["auc"]) <= 0.5, (single["auc"], multi["auc"])
  kept = lambda r: [round_["kept"] for round_ in r["refinement"]]
  assert [round_["step"] for round_ in multi["refinement"]] == [4, 8, 12]
  # Collectives sum in another order across processes: a borderline row or two may flip.
  assert all(abs(a - b) <= 3 for a, b in zip(kept(single), kept(multi))), (kept(single), kept(multi))
  assert len(kept(single)) == len(kept(multi))
  # Process 0 alone printed the table; both saved the checkpoints together.
  assert f"results: {shared_workdir / 'results.json'}" in outs[0][0] and "results:" not in outs[1][0]
  assert sorted(int(p.name) for p in (shared_workdir / "checkpoints").iterdir()) == [8, 12]
