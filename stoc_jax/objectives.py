"""Self-supervised objectives of the image learners (Sohn et al. 2021, STOC §4.2).

All are pure functions of arrays. Under `jit` with the batch sharded over a
("data",) mesh, the (2B x 2B) similarity matrix of `contrastive_loss` spans the
global batch, so negatives come from every device (XLA gathers them).
"""

from __future__ import annotations

import jax.numpy as jnp
import optax


def contrastive_loss(z1, z2, temperature: float = 0.2):
  """SimCLR's NT-Xent for two views (B, D) of B instances; z are L2-normalised inside.

  Each view's positive is the other view of the same instance; the other 2B - 2
  views are its negatives.
  """
  z = jnp.concatenate([z1, z2], axis=0)
  z = z / jnp.maximum(jnp.linalg.norm(z, axis=-1, keepdims=True), 1e-12)
  n = z1.shape[0]
  logits = (z @ z.T) / temperature
  logits = jnp.where(jnp.eye(2 * n, dtype=bool), -jnp.inf, logits)  # no self-similarity
  positives = jnp.concatenate([jnp.arange(n, 2 * n), jnp.arange(0, n)])
  loss = optax.softmax_cross_entropy_with_integer_labels(logits, positives).mean()
  accuracy = (logits.argmax(-1) == positives).mean()
  return loss, {"loss": loss, "accuracy": accuracy}


def rotate_batch(images, hflip: bool = False):
  """Distribution augmentation: every image rotated by 0/90/180/270 degrees (and h-flipped).

  Returns (R*B, H, W, C) with distribution-major order and the (R*B,) distribution
  labels; for square images only.
  """
  rotations = [jnp.rot90(images, k, axes=(1, 2)) for k in range(4)]
  if hflip:
    flipped = images[:, :, ::-1]
    rotations += [jnp.rot90(flipped, k, axes=(1, 2)) for k in range(4)]
  labels = jnp.repeat(jnp.arange(len(rotations)), images.shape[0])
  return jnp.concatenate(rotations, axis=0), labels


def rotation_loss(logits, labels):
  """4-way (or R-way) rotation prediction cross-entropy."""
  loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
  return loss, {"loss": loss, "accuracy": (logits.argmax(-1) == labels).mean()}


def rotation_scores(log_probs):
  """RotNet's anomaly score: minus the mean log-probability of the true rotation.

  log_probs: (4, B, 4) log-softmax outputs for the 4 rotated copies of B images.
  """
  true = jnp.stack([log_probs[k, :, k] for k in range(log_probs.shape[0])])
  return -true.mean(axis=0)


def denoising_loss(reconstruction, clean):
  loss = jnp.mean((reconstruction - clean) ** 2)
  return loss, {"loss": loss}
