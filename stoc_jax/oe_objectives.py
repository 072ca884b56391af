"""Objectives with outlier exposure (OE) of Ruff et al. (2021), "Rethinking assumptions in deep anomaly
detection", and their anomaly scores.

Labels follow the paper: `normal` is 1 for a nominal row and 0 for an OE row. Every loss is the
weighted mean of per-row terms, `sum(w * l) / sum(w)`: balanced batches (128 normal + 128 OE) with
unit weights give the paper's batch mean, and rows of weight 0 (the OE half of a batch before any OE
exists) do not count. Scores are higher for more anomalous rows.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

OBJECTIVES = ("hsc", "bce", "focal", "deep_sad", "deep_svdd")
USES_OE = ("hsc", "bce", "focal", "deep_sad")
CLASSIFIER_HEAD = ("bce", "focal")  # a linear + sigmoid layer on phi(x)
CENTRED = ("deep_sad", "deep_svdd")  # a centre c fixed by an initial forward pass

_EPS = 1e-6


def pseudo_huber(z):
  """h(z) = sqrt(||z||^2 + 1) - 1 over the last axis: squared near 0, linear far away."""
  return jnp.sqrt(jnp.sum(z * z, axis=-1) + 1.0) - 1.0


def _mean(terms, weight):
  return jnp.sum(weight * terms) / jnp.maximum(jnp.sum(weight), _EPS)


def hsc_loss(z, normal, weight):
  """Hypersphere classification: cross-entropy with l(z) = exp(-h(z)) the probability of normal.

  -log l = h(z) for a normal row; -log(1 - exp(-h(z))) for an OE row, computed as
  -log(-expm1(-h)) so that it stays finite as h -> 0 (clipped at h = 1e-6).
  """
  h = pseudo_huber(z)
  oe_term = -jnp.log(-jnp.expm1(-jnp.maximum(h, _EPS)))
  return _mean(jnp.where(normal > 0, h, oe_term), weight)


def bce_loss(logit, normal, weight):
  """Binary cross-entropy of sigmoid(logit) = P(normal)."""
  terms = jnp.where(normal > 0, jax.nn.softplus(-logit), jax.nn.softplus(logit))
  return _mean(terms, weight)


def focal_loss(logit, normal, weight, gamma: float = 2.0, alpha: float = 0.5):
  """Focal loss (Lin et al. 2017): -alpha_t (1 - p_t)^gamma log p_t, p = sigmoid(logit) = P(normal).

  gamma = 0 and alpha = 0.5 is half the BCE loss.
  """
  log_p = -jax.nn.softplus(-logit)  # log sigmoid
  log_1mp = -jax.nn.softplus(logit)
  log_pt = jnp.where(normal > 0, log_p, log_1mp)
  alpha_t = jnp.where(normal > 0, alpha, 1.0 - alpha)
  return _mean(-alpha_t * (1.0 - jnp.exp(log_pt)) ** gamma * log_pt, weight)


def squared_distance(z, center):
  return jnp.sum((z - center) ** 2, axis=-1)


def deep_sad_loss(z, normal, weight, center, eta: float = 1.0):
  """Deep SAD (Ruff et al. 2020): ||z - c||^2 for a normal row, eta / (||z - c||^2 + 1e-6) for an OE row."""
  d = squared_distance(z, center)
  return _mean(jnp.where(normal > 0, d, eta / (d + _EPS)), weight)


def deep_svdd_loss(z, normal, weight, center):
  """One-class Deep SVDD (Ruff et al. 2018): the mean ||z - c||^2 of the normal rows; OE rows ignored."""
  return _mean(squared_distance(z, center), weight * (normal > 0))


def loss(objective: str, z, logit, normal, weight, center, *, eta=1.0, focal_gamma=2.0, focal_alpha=0.5):
  if objective == "hsc":
    return hsc_loss(z, normal, weight)
  if objective == "bce":
    return bce_loss(logit, normal, weight)
  if objective == "focal":
    return focal_loss(logit, normal, weight, focal_gamma, focal_alpha)
  if objective == "deep_sad":
    return deep_sad_loss(z, normal, weight, center, eta)
  if objective == "deep_svdd":
    return deep_svdd_loss(z, normal, weight, center)
  raise ValueError(f"unknown objective {objective!r}; choose one of {OBJECTIVES}.")


def anomaly_score(objective: str, z, logit, center):
  """HSC: h(phi(x)); BCE and Focal: -logit (low P(normal)); Deep SAD / SVDD: ||phi(x) - c||^2."""
  if objective == "hsc":
    return pseudo_huber(z)
  if objective in CLASSIFIER_HEAD:
    return -logit
  return squared_distance(z, center)


def initial_center(z, eps: float = 0.1):
  """Deep SVDD's c: the mean initial output, each coordinate moved out to at least +-eps (Ruff et al.
  2018's code), since a coordinate at 0 can be matched by zero weights."""
  c = jnp.mean(z, axis=0)
  return jnp.where(jnp.abs(c) < eps, jnp.where(c < 0, -eps, eps), c)
