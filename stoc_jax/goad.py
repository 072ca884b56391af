"""GOAD-style representation for tables with a parametric classifier (STOC A.3).

M fixed random projections T_m(x) = x W_m (to 32 dims); a shared network f =
[Linear(8), LeakyReLU(0.2)] x 5 and a linear M-way classifier learn to tell which
projection a row went through (Eq. 3 with Eq. 5). Anomaly scores come from one
GDE per projection on f(T_m(x)), aggregated over the M projections.

Training is functional: `train_step(state, batch, rng) -> (state, metrics)` is
pure, and `train_steps` runs many of them inside one jit with `lax.fori_loop`,
sampling minibatches on device from the currently refined rows.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from stoc_jax import occ, resnet


class GOADNet(nnx.Module):
  """f: [Linear(hidden), LeakyReLU(0.2)] x depth, then a linear M-way classifier."""

  def __init__(self, in_dim: int, num_transforms: int, hidden: int = 8, depth: int = 5,
               *, rngs: nnx.Rngs):
    dims = [in_dim] + [hidden] * depth
    self.layers = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in zip(dims[:-1], dims[1:])])
    self.classifier = nnx.Linear(hidden, num_transforms, rngs=rngs)

  def features(self, x):
    for layer in self.layers:
      x = jax.nn.leaky_relu(layer(x), 0.2)
    return x

  def __call__(self, x):
    return self.classifier(self.features(x))


class TrainState(NamedTuple):
  params: Any  # nnx.State of GOADNet's parameters
  opt_state: Any
  step: jax.Array


OPTIMIZERS = ("sgd", "adam")


@functools.lru_cache(maxsize=None)  # one object per setting: train_steps takes it as a static argument
def make_optimizer(learning_rate: float = 1e-3, momentum: float = 0.9,
                   weight_decay: float = 3e-5, name: str = "sgd",
                   clip_grad_norm: float = 0.0) -> optax.GradientTransformation:
  """L2 weight regularisation, then SGD with momentum (STOC Table 1) or Adam (GOAD's own code).

  `clip_grad_norm` > 0 first scales each gradient down to that global norm (0: off, as in
  the papers). At the CPU configs' lr 0.1 the first gradients have norms 5-16, and on
  Arrhythmia that first step sent 2 runs in 50 to a NaN loss within 40 steps; clipped at
  1, they train like the others (benchmarks/tabular/RESULTS.md).

  SGD is the papers' and the default. The CPU-sized KDD and KDD-Rev configs use Adam
  at lr 3e-3: in their 2^10 steps SGD at lr 0.1 diverged on one KDD seed in five and
  at the paper's 1e-3 barely trains (benchmarks/tabular/RESULTS.md).
  """
  if name == "sgd":
    step = optax.sgd(learning_rate, momentum=momentum)
  elif name == "adam":
    step = optax.adam(learning_rate)
  else:
    raise ValueError(f"goad.optimizer must be one of {OPTIMIZERS}, got {name!r}.")
  chain = [optax.add_decayed_weights(weight_decay), step]
  if clip_grad_norm > 0:
    chain.insert(0, optax.clip_by_global_norm(clip_grad_norm))
  return optax.chain(*chain)


def random_projections(key, in_dim: int, num_transforms: int, proj_dim: int = 32) -> jax.Array:
  """The M fixed transformations W_m, (M, in_dim, proj_dim), standard normal as in GOAD."""
  return jax.random.normal(key, (num_transforms, in_dim, proj_dim), jnp.float32)


def init(key, in_dim: int, cfg, tx: optax.GradientTransformation):
  """Returns (graphdef, projections, TrainState) for a config with the `goad` fields."""
  k_proj, k_net = jax.random.split(key)
  projections = random_projections(k_proj, in_dim, cfg.num_transforms, cfg.proj_dim)
  net = GOADNet(cfg.proj_dim, cfg.num_transforms, cfg.hidden, cfg.depth, rngs=nnx.Rngs(k_net))
  graphdef, params = nnx.split(net, nnx.Param)
  return graphdef, projections, TrainState(params, tx.init(params), jnp.zeros((), jnp.int32))


def transform(projections, x):
  """(B, D) rows -> (B, M, P) projected rows."""
  return jnp.einsum("bd,mdp->bmp", x, projections)


def loss_fn(graphdef, params, projections, batch):
  """Cross-entropy of predicting which of the M projections produced each row."""
  z = transform(projections, batch)  # (B, M, P)
  b, m, p = z.shape
  logits = nnx.merge(graphdef, params)(z.reshape(b * m, p))
  labels = jnp.tile(jnp.arange(m), b)
  loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
  acc = (logits.argmax(-1) == labels).mean()
  return loss, {"loss": loss, "accuracy": acc}


def train_step(graphdef, tx, projections, state: TrainState, batch, rng):
  """One SGD step. `rng` is unused (the model is deterministic); kept for the common signature."""
  del rng
  grads, metrics = jax.grad(loss_fn, argnums=1, has_aux=True)(graphdef, state.params, projections, batch)
  updates, opt_state = tx.update(grads, state.opt_state, state.params)
  params = optax.apply_updates(state.params, updates)
  return TrainState(params, opt_state, state.step + 1), metrics


@functools.partial(jax.jit, static_argnames=("graphdef", "tx", "num_steps", "batch_size"),
                   donate_argnames=("state",))
def train_steps(graphdef, tx, projections, state: TrainState, x, kept_idx, num_kept, key,
                num_steps: int, batch_size: int):
  """Runs `num_steps` steps in one jit, each on a batch drawn from the refined rows.

  `kept_idx` lists the kept row indices first (padded to N); `num_kept` says how
  many are valid, so the shapes stay fixed as refinement changes the set. The
  batch key of step s is fold_in(key, s): resuming at any step gives the same run.
  Returns the state and the mean metrics over the steps.
  """
  def body(_, carry):
    state, sums = carry
    rng = jax.random.fold_in(key, state.step)
    pos = jax.random.randint(rng, (batch_size,), 0, num_kept)
    state, metrics = train_step(graphdef, tx, projections, state, x[kept_idx[pos]], rng)
    return state, jax.tree.map(jnp.add, sums, metrics)

  zeros = {"loss": jnp.zeros(()), "accuracy": jnp.zeros(())}
  state, sums = jax.lax.fori_loop(0, num_steps, body, (state, zeros))
  return state, jax.tree.map(lambda v: v / num_steps, sums)


@functools.partial(jax.jit, static_argnames=("graphdef", "l2_normalize"))
def _features_batch(graphdef, params, projections, x, l2_normalize):
  z = transform(projections, x)
  b, m, p = z.shape
  f = nnx.merge(graphdef, params).features(z.reshape(b * m, p)).reshape(b, m, -1)
  return resnet.l2_normalize(f) if l2_normalize else f


def features(graphdef, params, projections, x, batch_size: int = 2048,
             l2_normalize: bool = False) -> np.ndarray:
  """f(T_m(x)) for all rows and projections: (N, M, hidden), computed in batches.

  `l2_normalize` divides each f(T_m(x)) by its norm, the representation Sohn et al.
  (2021) use at test time unless stated otherwise. It is off by default: f is
  nearly positively homogeneous (LeakyReLU), so its norm carries how extreme a row
  is; normalised, STOC's F1 on Thyroid at 1.5 % fell from 46.8 to 31.5 (RESULTS.md).
  """
  x = np.asarray(x, np.float32)
  out = [np.asarray(_features_batch(graphdef, params, projections, x[i:i + batch_size], l2_normalize))
         for i in range(0, len(x), batch_size)]
  return np.concatenate(out)


# ------------------------------------------------------------- per-projection GDEs

@functools.partial(jax.jit, static_argnames=("shrinkage",))
def gde_fit_per_transform(feats, weights=None, shrinkage: float | str = "ledoit_wolf") -> occ.GDEParams:
  """One GDE per projection on (N, M, H) features (rows weighted by `weights`, e.g. a 0/1 mask):
  params with a leading M axis."""
  return jax.lax.map(lambda f: occ.gde_fit(f, weights, shrinkage=shrinkage), jnp.swapaxes(feats, 0, 1))


@functools.partial(jax.jit, static_argnames=("aggregate",))
def _score_batch(params, feats, aggregate):
  # (M, B) negative log-likelihoods; lax.map keeps the triangular solves unbatched.
  nll = jax.lax.map(lambda a: occ.gde_score(a[0], a[1]), (params, jnp.swapaxes(feats, 0, 1)))
  if aggregate == "sum":
    return nll.sum(0)
  if aggregate == "max_normality":
    return nll.min(0)
  return nll.max(0)  # "min_normality"


AGGREGATES = ("sum", "max_normality", "min_normality")


def gde_score_per_transform(params, feats, aggregate: str = "sum", batch_size: int = 8192) -> np.ndarray:
  """Anomaly score from the M per-projection GDEs on (N, M, H) features.

  aggregate: "sum" of the M negative log-likelihoods (GOAD's sum over
  transformations), "max_normality" (the best-fitting projection; STOC A.3's
  wording) or "min_normality" (the worst-fitting projection).
  """
  if aggregate not in AGGREGATES:
    raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}.")
  out = [np.asarray(_score_batch(params, feats[i:i + batch_size], aggregate))
         for i in range(0, len(feats), batch_size)]
  return np.concatenate(out)


# ------------------------------------------------------------- the learner of the STOC loop

class PerTransformGDE:
  """The final OCC on GOAD features: one GDE per projection, fitted on the refined rows."""

  def __init__(self, features, aggregate: str, mask=None):
    weights = None if mask is None else jnp.asarray(mask, jnp.float32)
    self.gdes = jax.device_get(gde_fit_per_transform(jnp.asarray(features), weights))
    self.aggregate = aggregate

  def __call__(self, features) -> np.ndarray:
    return gde_score_per_transform(self.gdes, features, self.aggregate)


class GOADLearner:
  """GOAD for `stoc_jax.loop.run_stoc`: R >= 1 networks, each with its own projections and seed.

  With `num_representations` R > 1, refinement's model k looks through GOAD k mod R
  (`features` returns R views) and GOAD 0 gives the final OCC: one GOAD's view can hide
  a group of copied rows that another's shows. GOAD 0 keeps the keys of a single GOAD,
  so R = 1 is the plain pipeline. The projections are fixed by the run's key; the
  training state (one TrainState, or a list of R) is what is checkpointed.
  """

  name = "GOAD"
  final_occs = ("gde",)
  learning_rate_hint = "--config.goad.learning_rate, or STOCDetector(learning_rate=...)"

  def __init__(self, cfg, in_dim: int, *, train_steps: int, steps_per_jit: int,
               num_representations: int = 1, refinement_occ: str = "gde"):
    if cfg.score_aggregate not in AGGREGATES:
      raise ValueError(f"goad.score_aggregate must be one of {AGGREGATES}, got {cfg.score_aggregate!r}.")
    self.cfg, self.in_dim = cfg, in_dim
    self.train_steps, self.steps_per_call = int(train_steps), int(steps_per_jit)
    self.num_representations = int(num_representations)
    self.refinement_occ_kind = refinement_occ
    self.batch_size = cfg.batch_size
    self._build()

  def _build(self):
    g = self.cfg
    self.tx = make_optimizer(g.learning_rate, g.momentum, g.weight_decay, g.optimizer, g.clip_grad_norm)
    net = nnx.eval_shape(lambda: GOADNet(g.proj_dim, g.num_transforms, g.hidden, g.depth, rngs=nnx.Rngs(0)))
    self.graphdef = nnx.split(net, nnx.Param)[0]
    self._x = (None, None)

  def __getstate__(self):  # the graph definition and optimiser are rebuilt from the settings
    state = self.__dict__.copy()
    for name in ("tx", "graphdef", "_x"):
      state.pop(name, None)
    state["projections"] = [np.asarray(p) for p in state.get("projections", [])]
    return state

  def __setstate__(self, state):
    self.__dict__.update(state)
    self.projections = [jnp.asarray(p) for p in self.projections]
    self._build()

  def export_state(self, state) -> list:
    """Each GOAD's weights as plain NumPy (no optimiser state): what a pickled detector keeps."""
    return [jax.tree.map(np.asarray, nnx.to_pure_dict(s.params)) for s in self._states(state)]

  def import_state(self, saved: list):
    net = nnx.eval_shape(lambda: GOADNet(self.cfg.proj_dim, self.cfg.num_transforms, self.cfg.hidden,
                                         self.cfg.depth, rngs=nnx.Rngs(0)))
    states = []
    for pure in saved:
      template = nnx.split(net, nnx.Param)[1]
      nnx.replace_by_pure_dict(template, jax.tree.map(jnp.asarray, pure))
      states.append(TrainState(template, None, None))
    return states[0] if self.num_representations == 1 else states

  def _keys(self, key, r):
    # GOAD 0 uses the keys a single GOAD always used; the others fold in their index.
    if r == 0:
      return jax.random.fold_in(key, 0), jax.random.fold_in(key, 2)
    extra = lambda tag: jax.random.fold_in(jax.random.fold_in(key, tag), r)
    return extra(5), extra(6)

  def steps(self, num_rows: int):
    return self.train_steps, max(1, -(-num_rows // self.cfg.batch_size))

  def init(self, key, x_train):
    inits = [init(self._keys(key, r)[0], self.in_dim, self.cfg, self.tx) for r in range(self.num_representations)]
    self.projections = [projections for _, projections, _ in inits]
    states = [state for _, _, state in inits]
    return states[0] if self.num_representations == 1 else states

  def _states(self, state):
    return [state] if self.num_representations == 1 else list(state)

  def train(self, state, x_train, mask, *, key, num_steps: int, round_index: int):
    del round_index  # batches are drawn on device from the kept rows, keyed by step
    if self._x[0] is not x_train:
      self._x = (x_train, jnp.asarray(x_train))
    kept_idx = jnp.asarray(np.argsort(~mask, kind="stable"))
    states, losses, first = [], [], None
    for r, s in enumerate(self._states(state)):
      s, m = train_steps(self.graphdef, self.tx, self.projections[r], s, self._x[1], kept_idx,
                         int(mask.sum()), self._keys(key, r)[1], num_steps=num_steps,
                         batch_size=self.cfg.batch_size)
      m = {k: float(v) for k, v in jax.device_get(m).items()}
      first = first or m
      losses.append(m["loss"])
      states.append(s)
    # The logged metrics are GOAD 0's; a non-finite loss of any GOAD stops the run.
    bad = [loss for loss in losses if not np.isfinite(loss)]
    metrics = dict(first, loss=bad[0] if bad else first["loss"])
    return (states[0] if self.num_representations == 1 else states), metrics

  def features(self, state, x):
    views = [features(self.graphdef, s.params, self.projections[r], x, l2_normalize=self.cfg.l2_normalize)
             for r, s in enumerate(self._states(state))]
    return views[0] if self.num_representations == 1 else views

  @property
  def refinement_occ(self):
    """refine.occ on (N, M, H) features: "gde", one GDE per projection summed as score_aggregate
    says; "kde", the papers' RBF KDE on a row's features flattened."""
    if self.refinement_occ_kind == "kde":
      return occ.kde_on_rows()
    aggregate = self.cfg.score_aggregate
    return ((lambda f: gde_fit_per_transform(jnp.asarray(f))),
            (lambda p, f: gde_score_per_transform(p, f, aggregate)))

  def final_occ(self, kind: str, features, mask):
    return PerTransformGDE(features, self.cfg.score_aggregate, mask)  # all rows, 0/1 weights: one shape
