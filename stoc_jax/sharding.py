"""The ("data",) mesh that every jitted step and refinement shards rows over."""

from __future__ import annotations

import jax


def make_mesh(num_devices: int | None = None) -> jax.sharding.Mesh:
  """A 1-D ("data",) mesh over all (or the first `num_devices`) devices, from jax.make_mesh.

  Its axis is of Auto type: the jitted steps place their collectives by the in/out
  shardings they are given."""
  devices = jax.devices()[:num_devices] if num_devices else jax.devices()
  return jax.make_mesh((len(devices),), ("data",), axis_types=(jax.sharding.AxisType.Auto,),
                       devices=devices)
