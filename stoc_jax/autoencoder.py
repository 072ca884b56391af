"""CLAD's convolutional autoencoder (Kim et al., "What is wrong with one-class anomaly detection?"):
an encoder of 5 convolutions and 2 linear layers, a mirrored decoder, dropout, in Flax NNX.

The encoder halves the image at its first log2(size) - 2 convolutions, so every input size ends at
4 x 4 before the linear layers (32 x 32: three halvings; 8 x 8 digits: one). Dropout acts after the
first linear layer of each half, in training only.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx


def _dropout(x, rate, key):
  if key is None or rate == 0:
    return x
  keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
  return jnp.where(keep, x / (1.0 - rate), 0.0)


class ConvAutoencoder(nnx.Module):

  def __init__(self, *, in_channels: int, image_size: int, channels=(32, 32, 64, 64, 128), linear: int = 512,
               hidden_dim: int = 100, dropout: float = 0.1, rngs: nnx.Rngs):
    downs = int(math.log2(image_size)) - 2
    if 2 ** (downs + 2) != image_size or downs < 0 or downs > len(channels):
      raise ValueError(f"the autoencoder takes square images of side 4 x 2^k (k <= {len(channels)}); got "
                       f"{image_size}. Set image_size to resize them.")
    self.strides = tuple(2 if i < downs else 1 for i in range(len(channels)))
    chans = (in_channels,) + tuple(channels)
    self.enc = nnx.List([nnx.Conv(a, b, (3, 3), strides=s, padding="SAME", rngs=rngs)
                         for a, b, s in zip(chans[:-1], chans[1:], self.strides)])
    self.flat = 16 * chans[-1]
    self.enc_fc1 = nnx.Linear(self.flat, linear, rngs=rngs)
    self.enc_fc2 = nnx.Linear(linear, hidden_dim, rngs=rngs)
    self.dec_fc1 = nnx.Linear(hidden_dim, linear, rngs=rngs)
    self.dec_fc2 = nnx.Linear(linear, self.flat, rngs=rngs)
    rev = chans[::-1]
    self.dec = nnx.List([nnx.ConvTranspose(a, b, (3, 3), strides=s, padding="SAME", rngs=rngs)
                         for a, b, s in zip(rev[:-1], rev[1:], self.strides[::-1])])
    self.dropout, self.last_channels = dropout, chans[-1]

  def encode(self, x, key=None):
    for conv in self.enc:
      x = jax.nn.relu(conv(x))
    x = jax.nn.relu(self.enc_fc1(x.reshape(x.shape[0], -1)))
    return self.enc_fc2(_dropout(x, self.dropout, key))

  def decode(self, z, key=None):
    x = _dropout(jax.nn.relu(self.dec_fc1(z)), self.dropout, key)
    x = jax.nn.relu(self.dec_fc2(x)).reshape(z.shape[0], 4, 4, self.last_channels)
    for i, conv in enumerate(self.dec):
      x = conv(x)
      x = jax.nn.relu(x) if i < len(self.dec) - 1 else jax.nn.sigmoid(x)
    return x

  def __call__(self, x, key=None):
    k1, k2 = (None, None) if key is None else jax.random.split(key)
    return self.decode(self.encode(x, k1), k2)
