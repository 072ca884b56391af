"""CLAD on the STOC loop (Kim et al., "What is wrong with one-class anomaly detection?").

`CLADLearner` trains in three stages, one count of steps each (`stage_fractions` of the run):

1. autoencoder: reconstruction (MSE) with dropout, Adam;
2. DEC (Xie et al. 2016): at the stage's first step the centres are k-means on the kept rows' codes;
   then the encoder and the centres are fine-tuned together on KL(P || Q), SGD with momentum;
3. classifier: at the stage's first step every row gets the pseudo-label argmax_j q_ij; a LeNet or
   ResNet-18 learns them by cross-entropy on the kept rows, Adam.

The score is ODIN's (`stoc_jax.odin`) on the classifier: temperature T and the input perturbation eps,
with eps = "auto" chosen at the end of training, without labels, as the value of `odin.epsilons` that
gives the training rows the highest mean score (Hsu et al. 2020's criterion for in-distribution data).
Refinement sees the encoder's codes: a round at the end of the autoencoder stage puts STOC's
refinement in front of the clustering. Every stage's state lives in one pytree, so the loop's
checkpoints resume any stage.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from stoc_jax import augment, autoencoder, configs, dec, lenet, occ, odin, resnet, sharding
from stoc_jax.image_learner import BatchSampler, epoch_steps, map_batches, run_steps

STAGES = ("autoencoder", "dec", "classifier")


class CLADState(NamedTuple):
  ae: Any  # autoencoder params
  centers: jax.Array  # (num_clusters, hidden_dim)
  cls_params: Any
  cls_stats: Any
  ae_opt: Any
  dec_opt: Any
  cls_opt: Any
  labels: jax.Array  # (N,) pseudo-labels of the training rows
  epsilon: jax.Array  # ODIN's perturbation, set at the end
  step: jax.Array

  # map_batches reads these two
  @property
  def params(self):
    return self.ae

  @property
  def batch_stats(self):
    return ()


class Classifier(nnx.Module):
  """The pseudo-label classifier: the LeNet (logits = its last layer) or ResNet-18 + a linear layer."""

  def __init__(self, cfg, num_classes: int, *, in_channels: int, image_size: int, rngs: nnx.Rngs):
    if cfg.arch == "lenet":
      self.net = lenet.LeNet(tuple(cfg.conv_channels), (cfg.fc_units, num_classes), in_channels=in_channels,
                             image_size=image_size, bias=True, rngs=rngs)
      self.head = None
    elif cfg.arch == "resnet18":
      self.net = resnet.ResNet18(cfg.width, "cifar", in_channels, rngs=rngs)
      self.head = nnx.Linear(self.net.out_dim, num_classes, rngs=rngs)
    else:
      raise ValueError(f"classifier.arch must be 'lenet' or 'resnet18'; got {cfg.arch!r}.")

  def __call__(self, x, train: bool = False):
    out = self.net(x, train=train)
    return out if self.head is None else self.head(out)



def stage_steps(total: int, fractions) -> tuple[int, int, int]:
  """(autoencoder, DEC, classifier) step counts summing to `total`."""
  f = np.asarray(fractions, np.float64)
  if f.shape != (3,) or (f < 0).any() or f.sum() <= 0:
    raise ValueError(f"stage_fractions must be three non-negative fractions; got {tuple(fractions)}.")
  ae = int(round(total * f[0] / f.sum()))
  de = int(round(total * (f[0] + f[1]) / f.sum())) - ae
  return ae, de, total - ae - de


# The config fields the three steps read; their optimisers come from the same blocks.
STEP_FIELDS = ("autoencoder", "dec", "classifier", "augment")


def stage_optimizers(c, stages) -> tuple[optax.GradientTransformation, ...]:
  """The (autoencoder, DEC, classifier) optimisers: Adam, SGD with momentum, and Adam with one cosine
  decay over the classifier's steps."""
  return (optax.adam(c.autoencoder.learning_rate), optax.sgd(c.dec.learning_rate, momentum=c.dec.momentum),
          optax.adam(optax.cosine_decay_schedule(c.classifier.learning_rate, max(1, stages[2]))))


# The three steps; `cfg` holds the STEP_FIELDS (`sharding.frozen_fields`), `stages` the step counts.

@sharding.data_parallel_step("ae_def", "cfg", "stages")
def ae_step(state, batch, rng, *, ae_def, cfg, stages):
  ae_tx = stage_optimizers(cfg, stages)[0]

  def loss_fn(params):
    x = augment.to_float(batch["images"])
    return jnp.mean((nnx.merge(ae_def, params)(x, rng) - x) ** 2)
  loss, g = jax.value_and_grad(loss_fn)(state.ae)
  updates, opt = ae_tx.update(g, state.ae_opt, state.ae)
  return state._replace(ae=optax.apply_updates(state.ae, updates), ae_opt=opt, step=state.step + 1), {"loss": loss}


@sharding.data_parallel_step("ae_def", "cfg", "stages")
def dec_step(state, batch, rng, *, ae_def, cfg, stages):
  dec_tx = stage_optimizers(cfg, stages)[1]

  def loss_fn(tree):
    z = nnx.merge(ae_def, tree["ae"]).encode(augment.to_float(batch["images"]))
    q = dec.soft_assignment(z, tree["centers"], cfg.dec.alpha)
    return dec.kl_loss(dec.target_distribution(q), q)
  tree = {"ae": state.ae, "centers": state.centers}
  loss, g = jax.value_and_grad(loss_fn)(tree)
  updates, opt = dec_tx.update(g, state.dec_opt, tree)
  new = optax.apply_updates(tree, updates)
  return state._replace(ae=new["ae"], centers=new["centers"], dec_opt=opt, step=state.step + 1), {"loss": loss}


@sharding.data_parallel_step("cls_def", "cfg", "stages")
def classifier_step(state, batch, rng, *, cls_def, cfg, stages):
  cls_tx = stage_optimizers(cfg, stages)[2]
  x = augment.oe_augment(rng, augment.to_float(batch["images"]), crop_padding=cfg.augment.crop_padding,
                         hflip=cfg.augment.hflip, jitter_strength=0.0, noise_std=0.0)
  labels = state.labels[batch["index"]]

  def loss_fn(model):
    logits = model(x, train=True)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    return loss, (logits.argmax(-1) == labels).mean()
  model = nnx.merge(cls_def, state.cls_params, state.cls_stats)
  (loss, acc), g = nnx.value_and_grad(loss_fn, has_aux=True)(model)
  _, _, stats = nnx.split(model, nnx.Param, nnx.BatchStat)
  updates, opt = cls_tx.update(g, state.cls_opt, state.cls_params)
  return state._replace(cls_params=optax.apply_updates(state.cls_params, updates), cls_stats=stats,
                        cls_opt=opt, step=state.step + 1), {"loss": loss, "accuracy": acc}


class CLADLearner:
  """CLAD for `stoc_jax.loop.run_stoc`; `config` holds the fields of configs.clad_defaults."""

  own_score_name = "odin"
  learning_rate_hint = "--config.autoencoder.learning_rate / dec.learning_rate / classifier.learning_rate"
  steps_per_call = None

  def __init__(self, config, image_shape, mesh):
    self.config, self.image_shape, self.mesh = config, tuple(image_shape), mesh
    self.name, self.batch_size = "clad", config.batch_size
    self.final_occs = occ.FINAL_OCCS + (self.own_score_name,)
    self.refinement_occ = (None, None)

  def steps(self, num_rows: int):
    return epoch_steps(self.config, num_rows)

  def _modules(self, key):
    c = self.config
    k1, k2 = jax.random.split(key)
    ae = autoencoder.ConvAutoencoder(in_channels=self.image_shape[-1], image_size=self.image_shape[0],
                                     channels=tuple(c.autoencoder.channels), linear=c.autoencoder.linear,
                                     hidden_dim=c.hidden_dim, dropout=c.autoencoder.dropout, rngs=nnx.Rngs(k1))
    cls = Classifier(c.classifier, c.num_clusters, in_channels=self.image_shape[-1],
                     image_size=self.image_shape[0], rngs=nnx.Rngs(k2))
    return ae, cls

  def init(self, key, x_train):
    c = self.config
    total, steps_per_epoch = self.steps(len(x_train))
    self.stages = stage_steps(total, c.stage_fractions)
    if c.num_clusters < 2:
      raise ValueError(f"num_clusters must be >= 2; got {c.num_clusters}.")
    configs.check_positive(c, "hidden_dim", integer=True)
    if c.classifier.arch == "resnet18":
      configs.check_positive(c, "classifier.width")
    ae, cls = self._modules(jax.random.fold_in(key, 0))
    self.ae_def, ae_params = nnx.split(ae, nnx.Param)
    self.cls_def, cls_params, cls_stats = nnx.split(cls, nnx.Param, nnx.BatchStat)
    ae_tx, dec_tx, cls_tx = stage_optimizers(c, self.stages)
    centers = jnp.zeros((c.num_clusters, c.hidden_dim), jnp.float32)
    state = CLADState(ae_params, centers, cls_params, cls_stats, ae_tx.init(ae_params),
                      dec_tx.init({"ae": ae_params, "centers": centers}), cls_tx.init(cls_params),
                      jnp.zeros(len(x_train), jnp.int32), jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))
    self.sampler = BatchSampler(c.seed, c.batch_size, steps_per_epoch)
    static = dict(cfg=sharding.frozen_fields(c, STEP_FIELDS), stages=self.stages, mesh=self.mesh)
    self._steps = {"autoencoder": functools.partial(ae_step, ae_def=self.ae_def, **static),
                   "dec": functools.partial(dec_step, ae_def=self.ae_def, **static),
                   "classifier": functools.partial(classifier_step, cls_def=self.cls_def, **static)}
    return self.place(state)

  def place(self, state):
    return sharding.replicate(state, self.mesh)

  def stage_of(self, step: int) -> str:
    ae, de, _ = self.stages
    return STAGES[0] if step < ae else STAGES[1] if step < ae + de else STAGES[2]

  # -- the stage boundaries: host work on all training rows

  def _codes(self, state, x):
    return sharding.to_host(self.features(state, x))[:len(x)]

  def _start_stage(self, state, stage, x_train, mask):
    if stage == "dec":  # the centres: k-means on the kept rows' codes
      centers = dec.kmeans_centers(self._codes(state, x_train)[mask], self.config.num_clusters, self.config.seed)
      return state._replace(centers=self.place(jnp.asarray(centers)))
    codes = jnp.asarray(self._codes(state, x_train))
    labels = np.asarray(dec.soft_assignment(codes, jnp.asarray(sharding.to_host(state.centers)),
                                            self.config.dec.alpha).argmax(axis=1), np.int32)
    return state._replace(labels=self.place(jnp.asarray(labels)))

  def train(self, state, x_train, mask, *, key, num_steps: int, round_index: int):
    step, end = int(state.step), int(state.step) + num_steps
    metrics = {}
    while step < end:
      stage = self.stage_of(step)
      first = sum(self.stages[:STAGES.index(stage)])
      if step == first and stage != "autoencoder":
        state = self._start_stage(state, stage, x_train, mask)
      stop = min(end, first + self.stages[STAGES.index(stage)])
      kept = np.flatnonzero(mask)
      index = lambda s: self.sampler.indices(s, kept, round_index)
      batches = ({"images": sharding.put_rows(x_train, self.mesh, index(s)),
                  "index": sharding.put_rows(index(s).astype(np.int32), self.mesh)} for s in range(step, stop))
      state, m = run_steps(self._steps[stage], state, batches, jax.random.fold_in(key, 3), step, stop - step,
                           self.batch_size)
      metrics = {**m, "stage": STAGES.index(stage)}
      step = stop
    if step == sum(self.stages):
      state = state._replace(epsilon=self.place(jnp.float32(self._choose_epsilon(state, x_train, mask))))
    return state, metrics

  def _choose_epsilon(self, state, x_train, mask) -> float:
    eps = self.config.odin.epsilon
    if eps != "auto":
      return float(eps)
    rows = x_train[np.flatnonzero(mask)[:self.config.odin.calibration_rows]]
    means = [float(np.mean(self._odin(state, rows, e))) for e in self.config.odin.epsilons]
    return float(self.config.odin.epsilons[int(np.argmax(means))])

  # -- features and scores

  def features(self, state, x):
    return map_batches(_encode, state, self.ae_def, x, self.config.eval_batch_size, self.mesh)

  def _odin(self, state, x, epsilon):
    classifier = _Classifier(state.cls_params, state.cls_stats)
    scores = map_batches(_odin_scores, classifier, (self.cls_def, float(self.config.odin.temperature)), x,
                         self.config.eval_batch_size, self.mesh, extra=(jnp.float32(epsilon),))
    return sharding.to_host(scores)[:len(x)]

  def own_scores(self, state, x):
    return -self._odin(state, x, float(sharding.to_host(state.epsilon)))

  def final_occ(self, kind, features, mask):
    return occ.FinalOCC(kind, features, mask)


class _Classifier(NamedTuple):
  """The classifier's part of the state, as map_batches reads it."""
  params: Any
  batch_stats: Any


@functools.partial(jax.jit, static_argnums=0)
def _encode(graphdef, params, batch_stats, images):
  return nnx.merge(graphdef, params).encode(augment.to_float(images))


@functools.partial(jax.jit, static_argnums=0)
def _odin_scores(static, params, batch_stats, epsilon, images):
  graphdef, temperature = static
  model = nnx.merge(graphdef, params, batch_stats)
  return odin.odin_score(lambda x: model(x, train=False), augment.to_float(images), temperature, epsilon)
