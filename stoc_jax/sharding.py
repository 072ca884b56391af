"""Rows sharded over the ("data",) mesh, on one host or several.

Every process holds the same host arrays (it loaded the data set) but puts on its
devices only the rows those devices hold (`jax.make_array_from_process_local_data`).
Arrays of rows are padded to a multiple of the devices by repeating the last row;
the padding never enters a fit, and small results (scores, masks) come back to
every host through `multihost_utils.process_allgather`.
"""

from __future__ import annotations

import copy
from typing import Callable

import jax
import ml_collections
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P


def make_mesh(num_devices: int | None = None) -> jax.sharding.Mesh:
  """A 1-D ("data",) mesh over all (or the first `num_devices`) devices, from jax.make_mesh.

  Its axis is of Auto type: the jitted steps place their collectives by the in/out
  shardings they are given."""
  devices = jax.devices()
  if num_devices and num_devices > len(devices):
    # Fewer devices than asked for is most often an accelerator JAX did not find (a CPU fallback).
    raise ValueError(f"num_devices={num_devices}, but JAX sees {len(devices)} {devices[0].platform} device(s); "
                     "set num_devices=0 to use all of them, or check the accelerator's install "
                     "(requirements-gpu.txt, requirements-tpu.txt).")
  devices = devices[:num_devices] if num_devices else devices
  return jax.make_mesh((len(devices),), ("data",), axis_types=(jax.sharding.AxisType.Auto,),
                       devices=devices)


def check_batch_size(batch_size: int, num_rows: int | None, mesh, name: str = "batch_size") -> None:
  """A batch splits evenly over the mesh's devices and, unless num_rows is None, fits in the
  training set; otherwise a one-line error."""
  n_devices = mesh.devices.size
  if batch_size < 1 or batch_size % n_devices:
    raise ValueError(f"{name} {batch_size} must be a positive multiple of the {n_devices} devices.")
  if num_rows is not None and batch_size > num_rows:
    raise ValueError(f"{name} {batch_size} exceeds the {num_rows} training images.")


def rows(mesh) -> NamedSharding:
  return NamedSharding(mesh, P("data"))


def replicated(mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def local_slice(sharding: NamedSharding, num_rows: int) -> slice:
  """The rows of a (num_rows, ...) array that this process's devices hold under `sharding`."""
  starts, stops = [], []
  for index in sharding.addressable_devices_indices_map((num_rows,)).values():
    starts.append(index[0].start or 0)
    stops.append(num_rows if index[0].stop is None else index[0].stop)
  lo, hi = min(starts), max(stops)
  if hi - lo != sum(b - a for a, b in zip(starts, stops)):
    raise ValueError("this process's devices do not hold one contiguous block of rows; build the mesh "
                     "with jax.make_mesh (stoc_jax.sharding.make_mesh), which orders devices by process.")
  return slice(lo, hi)


def process_rows(x: np.ndarray, mesh, indices=None) -> np.ndarray:
  """The rows of `x[indices]` (all rows by default) that this process's devices hold: host work
  only, so a loader thread can do it."""
  indices = np.arange(len(x)) if indices is None else np.asarray(indices)
  return x[indices[local_slice(rows(mesh), len(indices))]]


def assemble_rows(local: np.ndarray, mesh, num_rows: int) -> jax.Array:
  """The global (num_rows, ...) array sharded over "data" from each process's own rows."""
  return jax.make_array_from_process_local_data(rows(mesh), local, (num_rows,) + local.shape[1:])


def put_rows(x: np.ndarray, mesh, indices=None) -> jax.Array:
  """The global array of rows `x[indices]` sharded over "data", each process putting only its own
  part (`indices`: all rows by default; their count must divide by the devices)."""
  count = len(x) if indices is None else len(indices)
  return assemble_rows(process_rows(x, mesh, indices), mesh, count)


def data_parallel_step(*static_argnames: str) -> Callable:
  """Decorator of a pure `fn(state, batch, rng, **static) -> (state, metrics)`: jitted once at
  module level, with `state` donated, the batch sharded over the "data" axis of the mesh passed as
  `mesh=`, and the result replicated on it, so that a step's gradients are averaged over the whole
  global batch. `mesh` and the `static_argnames` (a graph, a frozen config, a step count) are static:
  learners with equal ones share one compiled step, and a second fit compiles nothing. JAX also keys
  the compiled step on its inputs' placement: put the state with `replicate` before the first call,
  or the first call compiles for a state on one device and the second again."""
  def wrap(fn):
    def step(state, batch, rng, *, mesh, **static):
      batch = jax.lax.with_sharding_constraint(batch, rows(mesh))
      return jax.lax.with_sharding_constraint(fn(state, batch, rng, **static), replicated(mesh))
    step.__name__, step.__qualname__, step.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    return jax.jit(step, static_argnames=("mesh", *static_argnames), donate_argnames=("state",))
  return wrap


def frozen_fields(config, fields) -> ml_collections.FrozenConfigDict:
  """The `fields` of `config`, and only those, frozen: a step's static argument. It hashes by value,
  so equal settings share a compiled step; a step that reads another field fails rather than
  compile a setting its key leaves out; and a later change to `config` cannot reach it."""
  # A deep copy: a FrozenConfigDict made of the config's own blocks would still see their changes.
  return ml_collections.FrozenConfigDict({k: copy.deepcopy(config[k]) for k in fields})


def padded_indices(num_rows: int, multiple: int) -> np.ndarray:
  """0..num_rows-1, then the last row repeated up to a multiple of `multiple`."""
  padded = -(-num_rows // multiple) * multiple
  return np.minimum(np.arange(padded), num_rows - 1)


def replicate(tree, mesh):
  """Every leaf replicated on all devices of the mesh (on every process); leaves that already
  span processes (restored from a checkpoint) stay as they are."""
  def leaf(x):
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
      return x
    return jax.make_array_from_process_local_data(replicated(mesh), np.asarray(x))
  return jax.tree.map(leaf, tree)


def to_host(x) -> np.ndarray:
  """A small array (scores, a mask) as NumPy on every host, whether or not it spans processes."""
  if isinstance(x, jax.Array) and not x.is_fully_addressable:
    return np.asarray(multihost_utils.process_allgather(x, tiled=True))
  return np.asarray(x)
