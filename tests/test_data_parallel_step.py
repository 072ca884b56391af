"""stoc_jax.sharding.data_parallel_step and frozen_fields: one module-level jitted step, shared by
learners with equal settings, its state donated and its config reduced to the fields it reads."""

import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from stoc_jax import sharding


@sharding.data_parallel_step("cfg")
def scaled_sum_step(state, batch, rng, *, cfg):
  """A toy step: the state grows by the batch's sum times cfg.scale."""
  del rng
  return state + cfg.scale * batch.sum(), {"mean": batch.mean()}


def test_a_frozen_config_holds_only_its_fields_and_hashes_by_value():
  config = ml_collections.ConfigDict({"objective": "contrastive", "optimizer": {"learning_rate": 0.1}, "seed": 3})
  part = sharding.frozen_fields(config, ("objective", "optimizer"))
  with pytest.raises(AttributeError):
    part.seed  # a step that read the seed would fail rather than compile a setting its key leaves out
  config.optimizer.learning_rate = 0.5  # a later change to the config does not reach the frozen copy
  assert part.optimizer.learning_rate == 0.1
  other_seed = ml_collections.ConfigDict({"objective": "contrastive", "optimizer": {"learning_rate": 0.1}, "seed": 4})
  same = sharding.frozen_fields(other_seed, ("objective", "optimizer"))
  assert same == part and hash(same) == hash(part)
  assert sharding.frozen_fields(config, ("objective", "optimizer")) != part  # learning rate 0.5


def test_equal_settings_share_one_compiled_step_and_the_state_is_donated():
  mesh = sharding.make_mesh()
  frozen = lambda scale: sharding.frozen_fields(ml_collections.ConfigDict({"scale": scale, "seed": 0}), ("scale",))
  batch = jax.device_put(np.arange(4, dtype=np.float32), sharding.rows(mesh))
  before = scaled_sum_step._cache_size()
  # Two learners' steps, each bound to its own (equal) config object, as the learners bind theirs.
  first = functools.partial(scaled_sum_step, cfg=frozen(2.0), mesh=mesh)
  second = functools.partial(scaled_sum_step, cfg=frozen(2.0), mesh=sharding.make_mesh())
  state = jax.device_put(jnp.zeros(()), sharding.replicated(mesh))  # as a learner's `place` puts it
  new, metrics = first(state, batch, jax.random.key(0))
  assert float(new) == 12.0 and float(metrics["mean"]) == 1.5
  assert state.is_deleted()  # donated: the step reuses the state's buffers
  new, _ = second(new, batch, jax.random.key(1))
  assert float(new) == 24.0
  assert scaled_sum_step._cache_size() == before + 1
  functools.partial(scaled_sum_step, cfg=frozen(3.0), mesh=mesh)(new, batch, jax.random.key(2))
  assert scaled_sum_step._cache_size() == before + 2  # another setting is another program
  assert new.sharding.is_fully_replicated


def test_more_devices_than_jax_sees_is_an_error_not_a_smaller_mesh():
  """An accelerator JAX did not find leaves CPU devices only: asked for more, the run stops, and does
  not go on at a fraction of the devices without a word."""
  n = len(jax.devices())
  assert sharding.make_mesh(n).devices.size == n and sharding.make_mesh().devices.size == n
  with pytest.raises(ValueError, match=rf"num_devices={n + 1}, but JAX sees {n} cpu device\(s\); set num_devices=0"):
    sharding.make_mesh(n + 1)
