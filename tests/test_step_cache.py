"""stoc_jax.step_cache: built steps kept under their keys, the oldest dropped, and a step config
that holds only the fields asked for."""

import ml_collections
import pytest

from stoc_jax import step_cache


def test_an_equal_key_reuses_the_step_and_the_oldest_key_is_dropped(monkeypatch):
  monkeypatch.setattr(step_cache, "_STEPS", type(step_cache._STEPS)())
  monkeypatch.setattr(step_cache, "MAX_STEPS", 2)
  built = []
  build = lambda name: lambda: built.append(name) or (lambda: name)
  a = step_cache.cached_step(("a", 1), build("a"))
  assert step_cache.cached_step(("a", 1), build("a again")) is a and built == ["a"]
  step_cache.cached_step(("b", 1), build("b"))
  step_cache.cached_step(("a", 1), build("a again"))  # a is now the most recent
  step_cache.cached_step(("c", 1), build("c"))  # over the limit: b, the oldest, goes
  assert built == ["a", "b", "c"]
  step_cache.cached_step(("b", 1), build("b again"))
  assert built == ["a", "b", "c", "b again"]


def test_a_step_config_holds_only_its_fields_and_keys_by_value():
  config = ml_collections.ConfigDict({"objective": "contrastive", "optimizer": {"learning_rate": 0.1},
                                      "seed": 3})
  part = step_cache.step_config(config, ("objective", "optimizer"))
  with pytest.raises(AttributeError):
    part.seed  # a step that read the seed would fail rather than hide it from the key
  config.optimizer.learning_rate = 0.5  # a later change to the config does not reach the copy
  assert part.optimizer.learning_rate == 0.1
  config.optimizer.learning_rate = 0.1
  other_seed = ml_collections.ConfigDict({**config.to_dict(), "seed": 4})
  assert step_cache.config_key(step_cache.step_config(other_seed, ("objective", "optimizer"))) == \
      step_cache.config_key(part)
  other_rate = ml_collections.ConfigDict({**config.to_dict(), "optimizer": {"learning_rate": 0.2}})
  assert step_cache.config_key(step_cache.step_config(other_rate, ("objective", "optimizer"))) != \
      step_cache.config_key(part)
