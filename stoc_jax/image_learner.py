"""Self-supervised ResNet-18 learners of images for the STOC loop (Sohn et al. 2021, STOC §4.2).

`ImageLearner` holds the model (`resnet.Learner`: backbone plus the heads the
objective needs) and its objective: contrastive, distribution-augmented
contrastive, rotation prediction, RotNet or a denoising autoencoder. Its
`train_step(state, batch, rng) -> (state, metrics)` is jitted at module level
on a ("data",) mesh with the batch sharded, the state replicated and donated;
batches are drawn from the refined set on the host and prefetched by a thread.
"""

from __future__ import annotations

import functools
import queue
import threading
import time
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from stoc_jax import augment, objectives, occ, resnet, sharding

OBJECTIVES = ("contrastive", "da_contrastive", "rotation", "rotnet", "dae")
# The objectives that rotate images by 90 degrees (objectives.rotate_batch), which keeps only a square's shape.
SQUARE_OBJECTIVES = ("da_contrastive", "rotation", "rotnet")


class TrainState(NamedTuple):
  params: Any
  batch_stats: Any
  opt_state: Any
  step: jax.Array


def make_optimizer(cfg, total_steps: int) -> optax.GradientTransformation:
  """SGD with momentum, one cycle of cosine decay, L2 weight decay (Sohn et al. A.1)."""
  lr = optax.cosine_decay_schedule(cfg.learning_rate, max(total_steps, 1))
  return optax.chain(optax.add_decayed_weights(cfg.weight_decay), optax.sgd(lr, momentum=cfg.momentum))


def build_learner(config, in_channels: int, image_size: int, key) -> resnet.Learner:
  m = config.model
  return resnet.Learner(config.objective, width=m.width, stem=m.stem, in_channels=in_channels,
                        head_hidden=m.head_hidden, head_depth=m.head_depth, head_out=m.head_out,
                        image_size=image_size, rngs=nnx.Rngs(key))


def init_state(config, sample_shape, tx, key):
  """(graphdef, TrainState) for images of shape (H, W, C)."""
  model = build_learner(config, sample_shape[-1], sample_shape[0], key)
  graphdef, params, batch_stats = nnx.split(model, nnx.Param, nnx.BatchStat)
  return graphdef, TrainState(params, batch_stats, tx.init(params), jnp.zeros((), jnp.int32))



def loss_fn(model: resnet.Learner, images, rng, cfg):
  """Loss of the configured objective on a uint8 batch; returns (loss, metrics).

  Batch norm updates its statistics on `model` in place (as NNX modules do).
  """
  x = augment.to_float(images)
  objective = cfg.objective
  aug_kwargs = dict(crop_scale=tuple(cfg.augment.crop_scale), jitter_strength=cfg.augment.jitter_strength,
                    blur_kernel=cfg.augment.blur_kernel)
  if objective in ("contrastive", "da_contrastive"):
    if objective == "da_contrastive":
      x, _ = objectives.rotate_batch(x, hflip=cfg.augment.hflip_distributions)
    k1, k2 = jax.random.split(rng)
    views = jnp.concatenate([augment.simclr_augment(k1, x, **aug_kwargs),
                             augment.simclr_augment(k2, x, **aug_kwargs)])
    z = model.apply_head(model.represent(views, train=True), train=True)
    loss, m = objectives.contrastive_loss(z[:x.shape[0]], z[x.shape[0]:], cfg.temperature)
  elif objective in ("rotation", "rotnet"):
    x, labels = objectives.rotate_batch(augment.crop_flip_augment(rng, x))
    logits = model.apply_head(model.represent(x, train=True), train=True)
    loss, m = objectives.rotation_loss(logits, labels)
  else:  # dae
    k1, k2 = jax.random.split(rng)
    clean = augment.crop_flip_augment(k1, x)
    noisy = clean + cfg.dae_noise * jax.random.normal(k2, clean.shape)
    loss, m = objectives.denoising_loss(model.decoder(model.represent(noisy, train=True)), clean)
  return loss, m


# The config fields the train step reads (`loss_fn`); the optimiser comes from `optimizer`.
STEP_FIELDS = ("objective", "augment", "temperature", "dae_noise", "optimizer")


@sharding.data_parallel_step("graphdef", "cfg", "total_steps")
def train_step(state: TrainState, batch, rng, *, graphdef, cfg, total_steps: int):
  """One step of the objective on a uint8 batch: state replicated and donated, batch sharded along
  "data" (batch norm statistics and contrastive negatives span the global batch). `cfg` holds the
  STEP_FIELDS (`sharding.frozen_fields`); the optimiser is `make_optimizer(cfg.optimizer, total_steps)`."""
  tx = make_optimizer(cfg.optimizer, total_steps)
  model = nnx.merge(graphdef, state.params, state.batch_stats)
  grads, m = nnx.grad(lambda mdl: loss_fn(mdl, batch, rng, cfg), has_aux=True)(model)
  _, _, stats = nnx.split(model, nnx.Param, nnx.BatchStat)
  updates, opt_state = tx.update(grads, state.opt_state, state.params)
  return TrainState(optax.apply_updates(state.params, updates), stats, opt_state, state.step + 1), m


@functools.partial(jax.jit, static_argnames=("graphdef",))
def _represent(graphdef, params, batch_stats, images):
  model = nnx.merge(graphdef, params, batch_stats)
  return resnet.l2_normalize(model.represent(augment.to_float(images), train=False))


@functools.partial(jax.jit, static_argnames=("graphdef",))
def _rotnet_scores(graphdef, params, batch_stats, images):
  model = nnx.merge(graphdef, params, batch_stats)
  x, _ = objectives.rotate_batch(augment.to_float(images))
  logp = jax.nn.log_softmax(model.apply_head(model.represent(x, train=False), train=False))
  return objectives.rotation_scores(logp.reshape(4, images.shape[0], -1))


def map_batches(fn, state, graphdef, images, batch_size, mesh, extra=()) -> jax.Array:
  """fn(graphdef, params, batch_stats, *extra, images) over host images, as an (N', ...) array
  sharded over "data": device d holds rows
  [d M, (d + 1) M), N' = n_devices x M, N rounded up to whole batches (the last image repeated).

  Batch j gives every device the next rows of its own block, so each device's outputs are
  its final rows as they come: they are concatenated where they are, with no collective
  and no trip through a host. Each process puts only its devices' rows.
  """
  devices = list(mesh.devices.flat)
  per_device = max(1, batch_size // len(devices))
  index = sharding.padded_indices(len(images), per_device * len(devices))
  block = len(index) // len(devices)
  outputs = {d: [] for d in devices}
  for start in range(0, block, per_device):
    rows = np.concatenate([index[d * block + start:d * block + start + per_device] for d in range(len(devices))])
    out = fn(graphdef, state.params, state.batch_stats, *extra, sharding.put_rows(images, mesh, rows))
    for shard in out.addressable_shards:
      outputs[shard.device].append(shard.data)
  local = [jnp.concatenate(outputs[d]) for d in devices if d.process_index == jax.process_index()]
  shape = (len(index),) + local[0].shape[1:]
  return jax.make_array_from_single_device_arrays(shape, sharding.rows(mesh), local)


def features(graphdef, state, images, batch_size, mesh) -> jax.Array:
  """L2-normalised backbone representations, (N', D) float32 sharded over the mesh (see map_batches)."""
  return map_batches(_represent, state, graphdef, images, batch_size, mesh)


def epoch_steps(config, num_rows: int) -> tuple[int, int]:
  """(total steps, steps per epoch) of an image config: train_steps, or train_epochs of num_rows
  rows in batches of batch_size."""
  if config.train_steps < 0 or config.train_epochs < 0:
    raise ValueError(f"train_steps and train_epochs must be >= 0 (train_steps 0: train_epochs decides); got "
                     f"train_steps={config.train_steps}, train_epochs={config.train_epochs}.")
  steps_per_epoch = max(1, num_rows // config.batch_size)
  return int(config.train_steps or config.train_epochs * steps_per_epoch), steps_per_epoch


def run_steps(train_step, state, batches, step_key, first_step: int, num_steps: int, batch_size: int):
  """`num_steps` calls of the jitted `train_step` on device batches, step s keyed by
  fold_in(step_key, s): (state, the mean of each metric, and images_per_sec)."""
  t0, sums = time.perf_counter(), None
  for s, batch in zip(range(first_step, first_step + num_steps), batches):
    state, m = train_step(state, batch, jax.random.fold_in(step_key, s))
    sums = m if sums is None else jax.tree.map(jnp.add, sums, m)
  metrics = {k: float(v) / num_steps for k, v in jax.device_get(sums).items()}
  metrics["images_per_sec"] = num_steps * batch_size / (time.perf_counter() - t0)
  return state, metrics


class BatchSampler:
  """Step s's batch: epoch s // steps_per_epoch of a permutation of the kept rows, seeded by
  (seed, epoch, refinement round), so a resumed run draws exactly the same batches."""

  def __init__(self, seed, batch_size, steps_per_epoch):
    self.seed, self.batch_size, self.steps_per_epoch = seed, batch_size, steps_per_epoch
    self._cache = {}

  def indices(self, step, kept, round_index):
    epoch = step // self.steps_per_epoch
    key = (epoch, round_index)
    if key not in self._cache:
      self._cache = {}
      rng = np.random.default_rng([self.seed, epoch, round_index])
      need = self.steps_per_epoch * self.batch_size
      perm = np.concatenate([rng.permutation(kept) for _ in range(-(-need // len(kept)))])
      self._cache[key] = perm
    pos = (step % self.steps_per_epoch) * self.batch_size
    return self._cache[key][pos:pos + self.batch_size]


def prefetch(batches, size: int = 2):
  """Runs a batch iterator in a host thread, `size` batches ahead of the jitted step."""
  q: queue.Queue = queue.Queue(maxsize=size)
  sentinel = object()

  def work():
    try:
      for b in batches:
        q.put(b)
    except BaseException as e:  # surfaced in the consumer
      q.put(e)
    q.put(sentinel)

  threading.Thread(target=work, daemon=True).start()
  while (item := q.get()) is not sentinel:
    if isinstance(item, BaseException):
      raise item
    yield item


def _pure_numpy(nnx_state) -> dict:
  return jax.tree.map(np.asarray, nnx.to_pure_dict(nnx_state))


def _restore(template, pure: dict):
  nnx.replace_by_pure_dict(template, jax.tree.map(jnp.asarray, pure))
  return template


class ImageLearner:
  """A self-supervised image learner for `stoc_jax.loop.run_stoc`.

  `config` holds the image fields of configs.image_defaults (objective, model,
  augment, optimizer, batch_size, eval_batch_size, train_epochs / train_steps).
  Features are the L2-normalised backbone outputs; RotNet also scores with its
  rotation classifier (final_occ="rotnet").
  """

  own_score_name = "rotnet"
  learning_rate_hint = "--config.optimizer.learning_rate"
  steps_per_call = None  # one call per stretch between pauses; the host feeds the batches

  def __init__(self, config, image_shape, mesh):
    if config.objective not in OBJECTIVES:
      raise ValueError(f"unknown objective {config.objective!r}; choose one of {OBJECTIVES}.")
    height, width = tuple(image_shape)[:2]
    if config.objective in SQUARE_OBJECTIVES and height != width:
      raise ValueError(f"objective {config.objective!r} rotates images by 90 degrees, which needs square images; "
                       f"these are {height} x {width} (height x width). Resize them to a square (image_size=N; "
                       "--image-size N on the command line), or learn a contrastive representation "
                       "(objective or representation 'contrastive').")
    self.config, self.image_shape, self.mesh = config, tuple(image_shape), mesh
    self.name, self.batch_size = config.objective, config.batch_size
    self.final_occs = occ.FINAL_OCCS + (("rotnet",) if config.objective == "rotnet" else ())
    self.refinement_occ = (None, None)

  def steps(self, num_rows: int):
    return epoch_steps(self.config, num_rows)

  def init(self, key, x_train):
    total, self._steps_per_epoch = self.steps(len(x_train))
    tx = make_optimizer(self.config.optimizer, total)
    self.graphdef, state = init_state(self.config, self.image_shape, tx, jax.random.fold_in(key, 0))
    self.train_step = functools.partial(train_step, graphdef=self.graphdef, total_steps=total, mesh=self.mesh,
                                        cfg=sharding.frozen_fields(self.config, STEP_FIELDS))
    self.sampler = BatchSampler(self.config.seed, self.config.batch_size, self._steps_per_epoch)
    return self.place(state)

  def __getstate__(self):  # the compiled step, sampler and mesh belong to this process
    return {"config": self.config, "image_shape": self.image_shape}

  def __setstate__(self, state):
    self.__init__(state["config"], state["image_shape"], sharding.make_mesh())
    model = nnx.eval_shape(lambda: build_learner(self.config, self.image_shape[-1], self.image_shape[0], 0))
    self.graphdef = nnx.split(model, nnx.Param, nnx.BatchStat)[0]

  def export_state(self, state) -> dict:
    """The weights as plain NumPy (no optimiser state): what a pickled detector keeps."""
    return {"params": _pure_numpy(state.params), "batch_stats": _pure_numpy(state.batch_stats)}

  def import_state(self, saved: dict):
    model = nnx.eval_shape(lambda: build_learner(self.config, self.image_shape[-1], self.image_shape[0], 0))
    _, params, batch_stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    return TrainState(_restore(params, saved["params"]), _restore(batch_stats, saved["batch_stats"]), None, None)

  def place(self, state):
    return sharding.replicate(state, self.mesh)

  def train(self, state, x_train, mask, *, key, num_steps: int, round_index: int):
    step = int(state.step)
    kept = np.flatnonzero(mask)
    # Every process draws the same global batch and puts only its devices' rows of it. The loader
    # thread gathers the rows on the host; JAX calls stay on this thread, in the same order on
    # every process.
    local_batches = (sharding.process_rows(x_train, self.mesh, self.sampler.indices(s, kept, round_index))
                     for s in range(step, step + num_steps))
    batches = (sharding.assemble_rows(local, self.mesh, self.batch_size) for local in prefetch(local_batches))
    return run_steps(self.train_step, state, batches, jax.random.fold_in(key, 2), step, num_steps, self.batch_size)

  def features(self, state, x):
    return map_batches(_represent, state, self.graphdef, x, self.config.eval_batch_size, self.mesh)

  def own_scores(self, state, x):
    scores = map_batches(_rotnet_scores, state, self.graphdef, x, self.config.eval_batch_size, self.mesh)
    return sharding.to_host(scores)[:len(x)]

  def final_occ(self, kind, features, mask):
    return occ.FinalOCC(kind, features, mask)
