"""Outlier-exposure learners for the STOC loop: HSC, BCE, Focal, Deep SAD and Deep SVDD (Ruff et al.
2021, "Rethinking assumptions in deep anomaly detection"; Ruff et al. 2018, 2020).

`OELearner` holds the network (`OENetwork`: a LeNet or the project's ResNet-18, with a linear +
sigmoid head for BCE / Focal) and the objective (`stoc_jax.oe_objectives`). Every step trains on a
balanced batch, `batch_size` normal rows drawn from the refined set and `oe.batch_size` OE rows.
The OE rows come from the given OE set or, with none, from the rows refinement rejected (`~mask`):
outlier exposure drawn from the contaminated training set. Until a round rejects any row the OE half
carries zero weight, so HSC trains as a one-class objective (Deep SVDD with c = 0).

`train_step(state, batch, rng) -> (state, metrics)` is jitted at module level with the state
replicated and donated and the batch sharded over the ("data",) mesh.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from stoc_jax import augment, lenet, occ, oe_objectives, resnet, sharding
from stoc_jax.data import outlier_exposure
from stoc_jax.image_learner import BatchSampler, epoch_steps, map_batches, run_steps


class TrainState(NamedTuple):
  params: Any
  batch_stats: Any
  opt_state: Any
  step: jax.Array
  center: jax.Array  # Deep SAD / SVDD's c (zeros for the others)


class OENetwork(nnx.Module):
  """phi(x), and for BCE / Focal a linear logit of P(normal) on it."""

  def __init__(self, model_cfg, objective: str, *, in_channels: int, image_size: int, rngs: nnx.Rngs):
    if model_cfg.arch == "lenet":
      self.backbone = lenet.LeNet(tuple(model_cfg.conv_channels), tuple(model_cfg.fc_units),
                                  in_channels=in_channels, image_size=image_size, bias=model_cfg.bias, rngs=rngs)
      self.proj = None
      dim = self.backbone.out_dim
    elif model_cfg.arch == "resnet18":
      self.backbone = resnet.ResNet18(model_cfg.width, "cifar", in_channels, rngs=rngs)
      self.proj = nnx.Linear(self.backbone.out_dim, model_cfg.out_dim, use_bias=model_cfg.bias, rngs=rngs)
      dim = model_cfg.out_dim
    else:
      raise ValueError(f"model.arch must be 'lenet' or 'resnet18'; got {model_cfg.arch!r}.")
    self.head = nnx.Linear(dim, 1, rngs=rngs) if objective in oe_objectives.CLASSIFIER_HEAD else None

  def __call__(self, x, train: bool = False):
    z = self.backbone(x, train=train)
    if self.proj is not None:
      z = self.proj(z)
    logit = self.head(z)[:, 0] if self.head is not None else jnp.zeros(z.shape[:1], z.dtype)
    return z, logit


def make_optimizer(cfg, total_steps: int) -> optax.GradientTransformation:
  """Adam with the learning rate divided by 10 at each milestone (fractions of the run), as the
  paper's epochs 100 and 150 of 200; L2 weight decay."""
  boundaries = {max(1, int(round(f * total_steps))): cfg.decay for f in cfg.milestones}
  lr = optax.piecewise_constant_schedule(cfg.learning_rate, boundaries)
  return optax.chain(optax.add_decayed_weights(cfg.weight_decay), optax.adam(lr))



def loss_fn(model: OENetwork, batch, rng, center, cfg):
  x = augment.oe_augment(rng, augment.to_float(batch["images"]), crop_padding=cfg.augment.crop_padding,
                         hflip=cfg.augment.hflip, jitter_strength=cfg.augment.jitter_strength,
                         noise_std=cfg.augment.noise_std)
  z, logit = model(x, train=True)
  loss = oe_objectives.loss(cfg.objective, z, logit, batch["normal"], batch["weight"], center, eta=cfg.eta,
                            focal_gamma=cfg.focal_gamma, focal_alpha=cfg.focal_alpha)
  oe_weight = jnp.sum(batch["weight"] * (1 - batch["normal"]))
  return loss, {"loss": loss, "oe_rows": oe_weight}


# The config fields the train step reads (`loss_fn`); the optimiser comes from `optimizer`.
STEP_FIELDS = ("objective", "augment", "eta", "focal_gamma", "focal_alpha", "optimizer")


@sharding.data_parallel_step("graphdef", "cfg", "total_steps")
def train_step(state: TrainState, batch, rng, *, graphdef, cfg, total_steps: int):
  """One step on a balanced batch (normal and OE rows): state replicated and donated, batch sharded
  along "data". `cfg` holds the STEP_FIELDS; the optimiser is `make_optimizer(cfg.optimizer, total_steps)`."""
  tx = make_optimizer(cfg.optimizer, total_steps)
  model = nnx.merge(graphdef, state.params, state.batch_stats)
  grads, m = nnx.grad(lambda mdl: loss_fn(mdl, batch, rng, state.center, cfg), has_aux=True)(model)
  _, _, stats = nnx.split(model, nnx.Param, nnx.BatchStat)
  updates, opt_state = tx.update(grads, state.opt_state, state.params)
  return TrainState(optax.apply_updates(state.params, updates), stats, opt_state, state.step + 1,
                    state.center), m


def _apply(graphdef, params, batch_stats, images):
  return nnx.merge(graphdef, params, batch_stats)(augment.to_float(images), train=False)


def _phi(graphdef, params, batch_stats, images):
  return _apply(graphdef, params, batch_stats, images)[0]


_phi_jit = jax.jit(_phi, static_argnums=0)


@functools.partial(jax.jit, static_argnums=0)
def _network_scores(static, params, batch_stats, center, images):
  """The objective's anomaly score; `static` is (graphdef, objective)."""
  graphdef, objective = static
  z, logit = _apply(graphdef, params, batch_stats, images)
  return oe_objectives.anomaly_score(objective, z, logit, center)


class OELearner:
  """An outlier-exposure learner for `stoc_jax.loop.run_stoc`.

  `config` holds the fields of configs.outlier_exposure_defaults; `x_oe` the OE images (uint8
  NHWC) or None. Features (refinement's input and the final OCC's) are phi(x); final_occ="network"
  scores with the objective's own score.
  """

  own_score_name = "network"
  learning_rate_hint = "--config.optimizer.learning_rate"
  steps_per_call = None

  def __init__(self, config, image_shape, mesh, x_oe=None):
    if config.objective not in oe_objectives.OBJECTIVES:
      raise ValueError(f"unknown objective {config.objective!r}; choose one of {oe_objectives.OBJECTIVES}.")
    if config.objective == "deep_svdd" and config.model.bias:
      raise ValueError("Deep SVDD needs a network without bias terms (a bias lets phi map every image to c); "
                       "set model.bias=False.")
    self.config, self.image_shape, self.mesh = config, tuple(image_shape), mesh
    self.x_oe = x_oe if config.objective in oe_objectives.USES_OE else None
    # No OE set: the rows refinement rejects are the OE rows.
    self.oe_from_rejected = (self.x_oe is None and config.objective in oe_objectives.USES_OE
                             and config.refine.enabled)
    self.name = config.objective
    self.batch_size = config.batch_size + config.oe.batch_size
    self.final_occs = occ.FINAL_OCCS + (self.own_score_name,)
    self.refinement_occ = (None, None)

  def steps(self, num_rows: int):
    return epoch_steps(self.config, num_rows)

  def _network(self, key):
    return OENetwork(self.config.model, self.config.objective, in_channels=self.image_shape[-1],
                     image_size=self.image_shape[0], rngs=nnx.Rngs(key))

  def init(self, key, x_train):
    total, steps_per_epoch = self.steps(len(x_train))
    tx = make_optimizer(self.config.optimizer, total)
    model = self._network(jax.random.fold_in(key, 0))
    self.graphdef, params, batch_stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    self.train_step = functools.partial(train_step, graphdef=self.graphdef, total_steps=total, mesh=self.mesh,
                                        cfg=sharding.frozen_fields(self.config, STEP_FIELDS))
    self.sampler = BatchSampler(self.config.seed, self.config.batch_size, steps_per_epoch)
    state = TrainState(params, batch_stats, tx.init(params), jnp.zeros((), jnp.int32),
                       jnp.zeros((self._dim(),), jnp.float32))
    state = self.place(state)
    if self.config.objective in oe_objectives.CENTRED:
      # c from one forward pass of the initial network over the training rows (Ruff et al. 2018).
      z = sharding.to_host(self.features(state, x_train))[:len(x_train)]
      state = state._replace(center=self.place(oe_objectives.initial_center(jnp.asarray(z))))
    return state

  def _dim(self):
    m = self.config.model
    return m.fc_units[-1] if m.arch == "lenet" else m.out_dim

  def place(self, state):
    return sharding.replicate(state, self.mesh)

  def __getstate__(self):  # the compiled step, sampler, mesh and OE images belong to this fit
    return {"config": self.config, "image_shape": self.image_shape}

  def __setstate__(self, state):
    self.__init__(state["config"], state["image_shape"], sharding.make_mesh())
    self.graphdef = nnx.split(nnx.eval_shape(lambda: self._network(jax.random.key(0))), nnx.Param, nnx.BatchStat)[0]

  def export_state(self, state) -> dict:
    """The weights and centre as plain NumPy (no optimiser state): what a pickled detector keeps."""
    pure = lambda tree: jax.tree.map(np.asarray, nnx.to_pure_dict(tree))
    return {"params": pure(state.params), "batch_stats": pure(state.batch_stats),
            "center": np.asarray(sharding.to_host(state.center))}

  def import_state(self, saved: dict):
    _, params, batch_stats = nnx.split(nnx.eval_shape(lambda: self._network(jax.random.key(0))),
                                       nnx.Param, nnx.BatchStat)
    nnx.replace_by_pure_dict(params, jax.tree.map(jnp.asarray, saved["params"]))
    nnx.replace_by_pure_dict(batch_stats, jax.tree.map(jnp.asarray, saved["batch_stats"]))
    return TrainState(params, batch_stats, None, None, jnp.asarray(saved["center"]))

  def _oe_pool(self, x_train, mask):
    if self.x_oe is not None:
      return self.x_oe, np.arange(len(self.x_oe))
    if self.oe_from_rejected:
      return x_train, np.flatnonzero(~mask)
    return x_train, np.array([], np.int64)

  def batch(self, step: int, x_train, mask, round_index: int) -> dict:
    """Step `step`'s balanced batch on the host: normal rows, then OE rows (weight 0 when none)."""
    kept = np.flatnonzero(mask)
    normal = x_train[self.sampler.indices(step, kept, round_index)]
    source, pool = self._oe_pool(x_train, mask)
    nb, ob = self.config.batch_size, self.config.oe.batch_size
    if len(pool):
      oe = source[pool[outlier_exposure.oe_indices(self.config.seed, step, len(pool), ob, round_index)]]
      oe_weight = 1.0
    else:  # stand-ins that keep the shapes (and batch norm's statistics) of a full batch
      oe, oe_weight = normal[np.arange(ob) % nb], 0.0
    return {"images": np.concatenate([normal, oe]),
            "normal": np.r_[np.ones(nb, np.float32), np.zeros(ob, np.float32)],
            "weight": np.r_[np.ones(nb, np.float32), np.full(ob, oe_weight, np.float32)]}

  def train(self, state, x_train, mask, *, key, num_steps: int, round_index: int):
    step = int(state.step)
    # Every process builds the same global batch and puts only its devices' rows.
    batches = ({k: sharding.put_rows(v, self.mesh) for k, v in self.batch(s, x_train, mask, round_index).items()}
               for s in range(step, step + num_steps))
    return run_steps(self.train_step, state, batches, jax.random.fold_in(key, 2), step, num_steps, self.batch_size)

  def features(self, state, x):
    return map_batches(_phi_jit, state, self.graphdef, x, self.config.eval_batch_size, self.mesh)

  def own_scores(self, state, x):
    scores = map_batches(_network_scores, state, (self.graphdef, self.config.objective), x,
                         self.config.eval_batch_size, self.mesh, extra=(state.center,))
    return sharding.to_host(scores)[:len(x)]

  def final_occ(self, kind, features, mask):
    return occ.FinalOCC(kind, features, mask)

