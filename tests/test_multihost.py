"""A run that spans processes: two processes with 2 CPU devices each, joined by jax.distributed on
127.0.0.1 with gloo collectives, give the result of one process with 4 devices."""

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from conftest import ROOT

ARGS = ["experiments/run.py", "--config=experiments/configs/digits_stoc.py", "--config.train_steps=24",
        "--config.refine.schedule_steps=(8,16)", "--config.compare_baseline=False",
        "--config.checkpoint_every_steps=8"]


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _env(devices):
  env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_CPU_COLLECTIVES_IMPLEMENTATION="gloo",
             XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", PYTHONPATH=str(ROOT))
  env.pop("STOC_TEST_JAX_CACHE", None)
  return env


def _two_processes(tmp_path, attempts=4, timeout=85):
  """Runs the two-process job; returns [(stdout, stderr)] of processes 0 and 1.

  On this 2-core CPU machine, XLA's CPU collectives (gloo across processes, and the in-process
  rendezvous of 4 simulated devices) now and then stall for good: a run takes 50-70 s, and from one
  in five up to one in two attempts stalled, at a random collective (a psum of refinement's
  shard_map on one process while the other waits in the next all-gather, seen with faulthandler).
  The same happens at the commit before the host models, so a stalled attempt is killed and run
  again from scratch. A run that finishes is checked in full.
  """
  for attempt in range(attempts):
    shutil.rmtree(tmp_path / "two", ignore_errors=True)
    port = _free_port()
    logs = [(open(tmp_path / f"out{i}", "w"), open(tmp_path / f"err{i}", "w")) for i in range(2)]
    # Files, not pipes: a process blocked on a full pipe would stall the other in a collective.
    procs = [subprocess.Popen([sys.executable, *ARGS, f"--workdir={tmp_path / 'two'}", "--jax_distributed",
                               f"--coordinator_address=127.0.0.1:{port}", "--num_processes=2",
                               f"--process_id={i}"], cwd=ROOT, env=_env(2), stdout=out, stderr=err)
             for i, (out, err) in enumerate(logs)]
    try:
      for p in procs:
        p.wait(timeout=timeout)
      stalled = False
    except subprocess.TimeoutExpired:
      stalled = True
    finally:
      for p in procs:
        p.kill()
      for out, err in logs:
        out.close(), err.close()
    outs = [((tmp_path / f"out{i}").read_text(), (tmp_path / f"err{i}").read_text()) for i in range(2)]
    if not stalled:
      for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
      return outs
  pytest.fail(f"the two-process run stalled {attempts} times; last stderr: {outs[0][1][-2000:]}")


@pytest.mark.timeout(900)
def test_two_processes_give_the_result_of_one_with_as_many_devices(tmp_path):
  one = None
  for attempt in range(3):  # the same stall hits 4 simulated devices in one process, now and then
    shutil.rmtree(tmp_path / "one", ignore_errors=True)
    try:
      one = subprocess.run([sys.executable, *ARGS, f"--workdir={tmp_path / 'one'}"], cwd=ROOT, env=_env(4),
                           capture_output=True, text=True, timeout=100)
    except subprocess.TimeoutExpired:
      continue
    if one.returncode == 0:
      break
  assert one is not None, "the 4-device run stalled 3 times"
  assert one.returncode == 0, one.stderr[-3000:]
  outs = _two_processes(tmp_path)
  single = json.loads((tmp_path / "one" / "results.json").read_text())
  multi = json.loads((tmp_path / "two" / "results.json").read_text())
  assert (single["environment"]["processes"], single["environment"]["devices"]) == (1, 4)
  assert (multi["environment"]["processes"], multi["environment"]["devices"]) == (2, 4)
  assert abs(single["auc"] - multi["auc"]) <= 0.5, (single["auc"], multi["auc"])
  kept = lambda r: [round_["kept"] for round_ in r["refinement"]]
  assert [round_["step"] for round_ in multi["refinement"]] == [8, 16, 24]
  # Collectives sum in another order across processes: a borderline row or two may flip.
  assert all(abs(a - b) <= 3 for a, b in zip(kept(single), kept(multi))), (kept(single), kept(multi))
  assert len(kept(single)) == len(kept(multi))
  # Process 0 alone printed the table; both saved the checkpoints together.
  assert "results:" in outs[0][0] and "results:" not in outs[1][0]
  assert sorted(os.listdir(tmp_path / "two" / "checkpoints")) == ["16", "24"]
