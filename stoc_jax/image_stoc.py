"""STOC for images: self-supervised ResNet-18 trained on the refined set, refined on a schedule.

`train_and_evaluate(config, workdir)`:
  1. one-vs-rest split with swap contamination (seeded);
  2. an explicit loop of jitted `train_step(state, batch, rng) -> (state, metrics)`
     on a ("data",) mesh (batch sharded, state replicated), batches drawn from the
     refined set and prefetched by a host thread;
  3. at each scheduled step: features of all training images -> `refine_data`;
  4. at the end: refine once more, fit the final OCC (GDE, KDE or OC-SVM; RotNet
     scores with its own classifier) on refined L2-normalised features, evaluate.

Three ablation variants by config: refine.enabled=False (no refinement);
refine.update_representation=False (refinement for the final OCC only, on the
frozen representation); both True (representation and OCC).
Checkpoints (params, batch stats, optimiser state, step, refined mask, progress)
go to workdir/checkpoints; a restarted run resumes and ends as an uninterrupted one.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
from tqdm.auto import tqdm

from stoc_jax import augment, metrics, objectives, occ, refine, resnet, schedule
from stoc_jax.data import images as image_data
from stoc_jax.workdir import Workdir


class TrainState(NamedTuple):
  params: Any
  batch_stats: Any
  opt_state: Any
  step: jax.Array


def make_mesh(num_devices: int | None = None) -> jax.sharding.Mesh:
  """A 1-D ("data",) mesh over all (or the first `num_devices`) devices."""
  devices = jax.devices()[:num_devices] if num_devices else jax.devices()
  return jax.sharding.Mesh(np.array(devices), ("data",))


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


def _to_float(batch):
  return batch.astype(jnp.float32) / 255.0


def loss_fn(model: resnet.Learner, images, rng, cfg):
  """Loss of the configured objective on a uint8 batch; returns (loss, metrics).

  Batch norm updates its statistics on `model` in place (as NNX modules do).
  """
  x = _to_float(images)
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


def make_train_step(graphdef, tx, cfg, mesh):
  """The jitted `train_step(state, batch, rng) -> (state, metrics)`: state replicated and donated,
  batch sharded along "data" (batch norm statistics and contrastive negatives span the global batch)."""

  def train_step(state: TrainState, batch, rng):
    model = nnx.merge(graphdef, state.params, state.batch_stats)
    grads, m = nnx.grad(lambda mdl: loss_fn(mdl, batch, rng, cfg), has_aux=True)(model)
    _, _, stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    return TrainState(optax.apply_updates(state.params, updates), stats, opt_state, state.step + 1), m

  replicated = NamedSharding(mesh, P())
  return jax.jit(train_step, in_shardings=(replicated, NamedSharding(mesh, P("data")), replicated),
                 out_shardings=(replicated, replicated), donate_argnums=0)


@functools.partial(jax.jit, static_argnames=("graphdef",))
def _represent(graphdef, params, batch_stats, images):
  model = nnx.merge(graphdef, params, batch_stats)
  return resnet.l2_normalize(model.represent(_to_float(images), train=False))


@functools.partial(jax.jit, static_argnames=("graphdef",))
def _rotnet_scores(graphdef, params, batch_stats, images):
  model = nnx.merge(graphdef, params, batch_stats)
  x, _ = objectives.rotate_batch(_to_float(images))
  logp = jax.nn.log_softmax(model.apply_head(model.represent(x, train=False), train=False))
  return objectives.rotation_scores(logp.reshape(4, images.shape[0], -1))


def _batched(fn, state, graphdef, images, batch_size, mesh):
  """Applies fn to the images in batches sharded over the mesh (last batch padded)."""
  n_dev = mesh.devices.size
  batch_size = max(n_dev, batch_size // n_dev * n_dev)
  out = []
  sharding = NamedSharding(mesh, P("data"))
  for i in range(0, len(images), batch_size):
    chunk = images[i:i + batch_size]
    pad = (-len(chunk)) % n_dev
    if pad:
      chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, 0)])
    res = fn(graphdef, state.params, state.batch_stats, jax.device_put(chunk, sharding))
    out.append(np.asarray(res)[:len(chunk) - pad])
  return np.concatenate(out)


def features(graphdef, state, images, batch_size, mesh):
  """L2-normalised backbone representations, (N, D) float32."""
  return _batched(_represent, state, graphdef, images, batch_size, mesh)


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


def _check_config(config, n_train, n_devices):
  if config.objective not in ("contrastive", "da_contrastive", "rotation", "rotnet", "dae"):
    raise ValueError(f"unknown objective {config.objective!r}.")
  if config.final_occ not in occ.FINAL_OCCS + ("rotnet", "ensemble"):
    raise ValueError(f"final_occ must be one of {occ.FINAL_OCCS + ('rotnet', 'ensemble')}; "
                     f"got {config.final_occ!r}.")
  if config.final_occ == "rotnet" and config.objective != "rotnet":
    raise ValueError("final_occ='rotnet' scores with the rotation classifier: set objective='rotnet'.")
  if config.batch_size % n_devices:
    raise ValueError(f"batch_size {config.batch_size} must be divisible by the {n_devices} devices.")
  if config.batch_size > n_train:
    raise ValueError(f"batch_size {config.batch_size} exceeds the {n_train} training images.")


class TrainedLearner(NamedTuple):
  graphdef: Any
  state: TrainState
  mask: np.ndarray  # the final refined set (all True without refinement)
  rounds: list
  gamma: Any
  train_features: np.ndarray  # L2-normalised features of the training images
  total_steps: int
  images_per_sec: float | None

  def features(self, images, batch_size: int = 256, mesh=None):
    return features(self.graphdef, self.state, images, batch_size, mesh or make_mesh())


def train_image_stoc(config, x_train, y_train, key, gamma, mesh, wd: Workdir | None = None) -> TrainedLearner:
  """Trains the self-supervised learner on the refined set, refining on the schedule, then refines
  once more (when enabled). `y_train` (or None) only measures refinement. With a Workdir it
  checkpoints and resumes."""
  n = len(x_train)
  steps_per_epoch = max(1, n // config.batch_size)
  total = int(config.train_epochs * steps_per_epoch)
  if config.get("train_steps"):
    total = int(config.train_steps)
  tx = make_optimizer(config.optimizer, total)
  graphdef, state = init_state(config, x_train.shape[1:], tx, jax.random.fold_in(key, 0))
  state = jax.device_put(state, NamedSharding(mesh, P()))
  train_step = make_train_step(graphdef, tx, config, mesh)

  refine_points, stops = schedule.training_stops(config.refine, total, steps_per_epoch,
                                                 config.checkpoint_every_steps)
  mask, rounds, used_gamma = np.ones(n, bool), [], gamma
  if wd is not None:
    state, mask, rounds, used_gamma = wd.restore_progress(state, n, gamma)
    state = jax.device_put(state, NamedSharding(mesh, P()))

  step_key = jax.random.fold_in(key, 2)
  sampler = BatchSampler(config.seed, config.batch_size, steps_per_epoch)
  batch_sharding = NamedSharding(mesh, P("data"))
  eval_bs = config.eval_batch_size

  def refine_round(feats):
    nonlocal mask, used_gamma
    mask, record = refine.configured_round(config.refine, refine.round_key(key, len(rounds)), feats,
                                           gamma,  # "otsu" re-estimates each round
                                           y_train=y_train, round_index=len(rounds), step=step)
    used_gamma = record["gamma"]
    rounds.append(record)
    if wd is not None:
      wd.log_metrics({"event": "refine", **rounds[-1]})

  step = int(state.step)
  if step == 0 and 0 in refine_points:  # past step 0 a checkpoint holds this round
    refine_round(features(graphdef, state, x_train, eval_bs, mesh))
  bar = tqdm(total=total, initial=step, desc=f"{config.objective}", unit="step", disable=None)
  images_seen, t_train = 0, 0.0
  while step < total:
    stop = next(s for s in stops if s > step)
    kept = np.flatnonzero(mask)
    r_idx = len(rounds)
    host_batches = (jax.device_put(x_train[sampler.indices(s, kept, r_idx)], batch_sharding)
                    for s in range(step, stop))
    t0 = time.time()
    sums, count = None, 0
    for batch in prefetch(host_batches):
      state, m = train_step(state, batch, jax.random.fold_in(step_key, step))
      step += 1
      count += 1
      sums = m if sums is None else jax.tree.map(jnp.add, sums, m)
      bar.update(1)
    m = {k: float(v) / count for k, v in jax.device_get(sums).items()}
    t_train += time.time() - t0
    images_seen += count * config.batch_size
    if not np.isfinite(m["loss"]):
      raise FloatingPointError(f"loss became {m['loss']} at step {step}; lower "
                               f"--config.optimizer.learning_rate (now {config.optimizer.learning_rate}).")
    if wd is not None:
      wd.log_metrics({"step": step, **m, "images_per_sec": count * config.batch_size / (time.time() - t0)})
    if step in refine_points:
      refine_round(features(graphdef, state, x_train, eval_bs, mesh))
    if wd is not None:
      wd.save(step, {"train": state, "mask": mask}, {"rounds": rounds, "gamma": used_gamma})
  bar.close()

  train_feats = features(graphdef, state, x_train, eval_bs, mesh)
  if config.refine.enabled:
    refine_round(train_feats)
  return TrainedLearner(graphdef, state, mask, rounds, used_gamma, train_feats, total,
                        images_seen / t_train if t_train else None)


def train_and_evaluate(config, workdir) -> dict:
  start = time.time()
  wd = Workdir(workdir)
  wd.write_config(config)
  data = image_data.load_images(config.dataset, config.data_dir, seed=config.seed)
  if config.get("image_size"):
    data = data._replace(x_train=image_data.resize_images(data.x_train, config.image_size),
                         x_test=image_data.resize_images(data.x_test, config.image_size))
  split = image_data.one_vs_rest_split(data, config.normal_class, config.anomaly_ratio, seed=config.seed)
  if config.get("max_train_images"):
    split = split._replace(x_train=split.x_train[:config.max_train_images],
                           y_train=split.y_train[:config.max_train_images])
  if config.get("max_test_images"):
    keep = np.random.default_rng(config.seed).permutation(len(split.x_test))[:config.max_test_images]
    split = split._replace(x_test=split.x_test[keep], y_test=split.y_test[keep])
  mesh = make_mesh(config.get("num_devices") or None)
  n = len(split.x_train)
  _check_config(config, n, mesh.devices.size)
  gamma = refine.resolve_gamma(config.refine.gamma, config.anomaly_ratio)
  logging.info("%s class %s: %d training images (%d swapped in), %d test; %d device(s); gamma=%s",
               config.dataset, config.normal_class, n, int(split.y_train.sum()), len(split.x_test),
               mesh.devices.size, gamma)

  key = jax.random.key(config.seed)
  learner = train_image_stoc(config, split.x_train, split.y_train, key, gamma, mesh, wd)
  graphdef, state, mask, rounds, used_gamma = (learner.graphdef, learner.state, learner.mask,
                                               learner.rounds, learner.gamma)
  eval_bs = config.eval_batch_size
  train_feats = learner.train_features
  if config.final_occ == "rotnet":
    test_scores = _batched(_rotnet_scores, state, graphdef, split.x_test, eval_bs, mesh)
    train_scores = _batched(_rotnet_scores, state, graphdef, split.x_train, eval_bs, mesh)
  elif config.final_occ == "ensemble":
    # The last refinement round's K GDEs (same key, same OCCs); without refinement a round-0 ensemble.
    test_scores, train_scores, info = refine.ensemble_scores(
        refine.round_key(key, max(len(rounds) - 1, 0)), train_feats,
        features(graphdef, state, split.x_test, eval_bs, mesh), config.refine.num_models,
        used_gamma, otsu_multiplier=config.refine.otsu_multiplier)
    used_gamma = info["gamma"]
  else:
    score = occ.FinalOCC(config.final_occ, train_feats[mask])
    test_scores = score(features(graphdef, state, split.x_test, eval_bs, mesh))
    train_scores = score(train_feats)
  results = metrics.evaluate(split.y_test, test_scores, train_scores=train_scores,
                             contamination=used_gamma, minority_positive=True)
  results.update({"refinement": rounds, "dataset": config.dataset, "normal_class": config.normal_class,
                  "anomaly_ratio": config.anomaly_ratio, "gamma": used_gamma,
                  "refine_enabled": bool(config.refine.enabled),
                  "update_representation": bool(config.refine.update_representation),
                  "objective": config.objective, "seed": config.seed, "num_train": n,
                  "num_test": len(split.x_test), "train_steps": learner.total_steps,
                  "train_images_per_sec": learner.images_per_sec,
                  "seconds": time.time() - start})
  wd.log_metrics({"event": "final", **{k: results[k] for k in ("auc", "ap", "f1_oracle")}})
  wd.write_results(results)
  wd.close()
  logging.info("results: AUC %.1f  AP %.1f", results["auc"], results["ap"])
  return results
