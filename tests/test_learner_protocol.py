"""A learner written outside the library runs on the one STOC loop unchanged.

`LinearAutoencoder` is the smallest learner of the protocol in `stoc_jax/loop.py`'s docstring (and
`docs/design.md`, "Adding a method family"): a linear autoencoder whose code is the representation.
Its train step is pure, jitted once at module level with the state donated, and draws each step's
batch from `jax.random.fold_in(key, step)`. Refinement's K Gaussians and the final one-class model
come from the library. The tests check what the loop promises any learner: its loss is logged, it
trains, refinement removes the planted anomalies, a run killed mid-way resumes to the same result, and
a non-finite loss stops the run with the learner's name and hint.
"""

import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from conftest import killed_at_refinement

from stoc_jax import configs, loop, metrics, occ
from stoc_jax.workdir import Workdir

OPTIMISER = optax.adam(1e-2)  # module level, so the jitted step below is built and compiled once


def reconstruction_loss(w, x):
  return jnp.mean((x @ w @ w.T - x) ** 2)


@functools.partial(jax.jit, donate_argnums=0)
def train_step(state, batch, rng):
  """One Adam step on the reconstruction loss: (state, batch, rng) -> (state, metrics)."""
  del rng  # a deterministic objective; a denoising one would draw its noise from it
  loss, grad = jax.value_and_grad(reconstruction_loss)(state["w"], batch)
  updates, opt_state = OPTIMISER.update(grad, state["opt"], state["w"])
  return {"w": optax.apply_updates(state["w"], updates), "opt": opt_state, "step": state["step"] + 1}, {"loss": loss}


@functools.partial(jax.jit, static_argnums=2)
def batch_rows(key, kept, batch_size):
  """`batch_size` of the kept rows' indices, drawn from the step's key."""
  return kept[jax.random.randint(key, (batch_size,), 0, kept.shape[0])]


class LinearAutoencoder:
  name = "linear autoencoder"
  final_occs = occ.FINAL_OCCS
  refinement_occ = (None, None)  # refinement's K Gaussians, fitted on the codes
  steps_per_call = None  # train up to the next pause in one call
  batch_size = 32
  learning_rate_hint = "OPTIMISER's learning rate"

  def __init__(self, code_dim: int, total_steps: int):
    self.code_dim, self.total_steps = code_dim, total_steps

  def steps(self, num_rows):
    return self.total_steps, max(1, num_rows // self.batch_size)

  def init(self, key, x_train):
    w = 0.1 * jax.random.normal(jax.random.fold_in(key, 0), (x_train.shape[1], self.code_dim))
    return {"w": w, "opt": OPTIMISER.init(w), "step": jnp.zeros((), jnp.int32)}

  def train(self, state, x_train, mask, *, key, num_steps, round_index):
    x, kept = jnp.asarray(x_train, jnp.float32), jnp.asarray(np.flatnonzero(mask))
    losses = []
    for _ in range(num_steps):
      step_key = jax.random.fold_in(key, int(state["step"]))
      batch = x[batch_rows(step_key, kept, self.batch_size)]
      state, step_metrics = train_step(state, batch, step_key)
      losses.append(float(step_metrics["loss"]))
    return state, {"loss": float(np.mean(losses))}

  def features(self, state, x):
    return np.asarray(jnp.asarray(x, jnp.float32) @ state["w"])

  def final_occ(self, kind, features, mask):
    return occ.FinalOCC(kind, features, mask)


def planted(n=400, ratio=0.05, seed=0):
  """Rows near a 2-d subspace of 8 columns; the anomalies lie far out along it."""
  rng = np.random.default_rng(seed)
  k = int(ratio * n)
  basis = np.linalg.qr(rng.normal(size=(8, 2)))[0].T
  latent = np.concatenate([rng.normal(size=(n - k, 2)), rng.normal(size=(k, 2)) + 6.0])
  x = (latent @ basis + 0.05 * rng.normal(size=(n, 8))).astype(np.float32)
  y = np.r_[np.zeros(n - k, int), np.ones(k, int)]
  perm = rng.permutation(n)
  return x[perm], y[perm]


def config(**refine):
  c = configs.tabular_defaults()
  c.final_occ, c.checkpoint_every_steps = "gde", 20
  c.refine.schedule_steps, c.refine.num_models = (20, 40), 4
  c.refine.update(refine)
  return c


def run(workdir=None, **refine):
  x, y = planted()
  return loop.run_stoc(LinearAutoencoder(code_dim=2, total_steps=60), x, config(**refine),
                       key=jax.random.key(0), gamma=0.1, y_train=y, workdir=workdir), x, y


def test_a_learner_outside_the_library_trains_refines_and_scores(tmp_path):
  trained, x, y = run(Workdir(tmp_path / "run"))
  assert [r["step"] for r in trained.rounds] == [20, 40, 60]
  assert all(r["anomalies_removed"] == 1.0 for r in trained.rounds)  # the fraction removed
  assert not trained.mask[y == 1].any() and trained.mask[y == 0].mean() > 0.8
  assert metrics.auc(y, trained.train_scores) > 99
  logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
  losses = [r for r in logged if "loss" in r]
  assert [r["step"] for r in losses] == [20, 40, 60]
  assert all(np.isfinite(r["loss"]) for r in losses)
  # The representation was trained: the kept rows' reconstruction error fell from the initial weights'.
  initial = LinearAutoencoder(code_dim=2, total_steps=60).init(jax.random.key(0), x)["w"]
  kept = x[trained.mask]
  assert reconstruction_loss(trained.state["w"], kept) < 0.5 * reconstruction_loss(initial, kept)


def test_a_killed_run_of_that_learner_resumes_to_the_same_result(tmp_path, monkeypatch):
  full, _, _ = run(Workdir(tmp_path / "full"))
  with killed_at_refinement(monkeypatch, 2), pytest.raises(KeyboardInterrupt):
    run(Workdir(tmp_path / "resumed"))
  assert Workdir(tmp_path / "resumed").latest_step() == 20  # killed refining at step 40
  resumed, _, _ = run(Workdir(tmp_path / "resumed"))
  assert resumed.rounds == full.rounds
  # It went on from step 20: steps 20-40 trained twice (the kill came before their checkpoint), 0-20 once.
  logged = [json.loads(line) for line in (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()]
  assert [r["step"] for r in logged if "loss" in r] == [20, 40, 40, 60]
  np.testing.assert_array_equal(resumed.mask, full.mask)
  np.testing.assert_allclose(np.asarray(resumed.state["w"]), np.asarray(full.state["w"]), rtol=1e-6)
  np.testing.assert_allclose(resumed.train_scores, full.train_scores, rtol=1e-6)


def test_a_non_finite_loss_stops_the_run_naming_the_learner():
  x, _ = planted()
  x[0, 0] = np.inf
  with pytest.raises(FloatingPointError, match="linear autoencoder loss became nan .*OPTIMISER's learning rate"):
    loop.run_stoc(LinearAutoencoder(code_dim=2, total_steps=60), x, config(enabled=False),
                  key=jax.random.key(0), gamma=0.1)
