"""ResNet-18 (CIFAR or ImageNet stem, width multiplier) and the heads of the self-supervised learners.

Representation = the backbone's globally pooled output (512 x width dims), the
input of every one-class classifier (L2-normalised there). Modules are Flax NNX;
`train` switches batch norm between batch statistics and running averages.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx


class BasicBlock(nnx.Module):

  def __init__(self, in_ch: int, out_ch: int, stride: int, *, rngs: nnx.Rngs):
    self.conv1 = nnx.Conv(in_ch, out_ch, (3, 3), strides=stride, use_bias=False, rngs=rngs)
    self.bn1 = nnx.BatchNorm(out_ch, momentum=0.9, rngs=rngs)
    self.conv2 = nnx.Conv(out_ch, out_ch, (3, 3), use_bias=False, rngs=rngs)
    self.bn2 = nnx.BatchNorm(out_ch, momentum=0.9, scale_init=nnx.initializers.zeros, rngs=rngs)
    needs_proj = stride != 1 or in_ch != out_ch
    self.proj = (nnx.Conv(in_ch, out_ch, (1, 1), strides=stride, use_bias=False, rngs=rngs)
                 if needs_proj else None)
    self.proj_bn = nnx.BatchNorm(out_ch, momentum=0.9, rngs=rngs) if needs_proj else None

  def __call__(self, x, train: bool):
    ura = not train
    y = jax.nn.relu(self.bn1(self.conv1(x), use_running_average=ura))
    y = self.bn2(self.conv2(y), use_running_average=ura)
    shortcut = x if self.proj is None else self.proj_bn(self.proj(x), use_running_average=ura)
    return jax.nn.relu(y + shortcut)


class ResNet18(nnx.Module):
  """ResNet-18; stem "cifar" (3x3 conv, no max-pool) for 32x32 inputs or "imagenet" (7x7/2 + max-pool)."""

  def __init__(self, width: float = 1.0, stem: str = "cifar", in_channels: int = 3, *, rngs: nnx.Rngs):
    if stem not in ("cifar", "imagenet"):
      raise ValueError(f"stem must be 'cifar' or 'imagenet', got {stem!r}.")
    widths = [max(8, int(round(c * width))) for c in (64, 128, 256, 512)]
    self.stem_kind = stem
    k, s = ((3, 3), 1) if stem == "cifar" else ((7, 7), 2)
    self.stem = nnx.Conv(in_channels, widths[0], k, strides=s, use_bias=False, rngs=rngs)
    self.stem_bn = nnx.BatchNorm(widths[0], momentum=0.9, rngs=rngs)
    blocks, in_ch = [], widths[0]
    for i, ch in enumerate(widths):
      for j in range(2):
        blocks.append(BasicBlock(in_ch, ch, 2 if (j == 0 and i > 0) else 1, rngs=rngs))
        in_ch = ch
    self.blocks = nnx.List(blocks)
    self.out_dim = widths[-1]

  def __call__(self, x, train: bool = False):
    x = jax.nn.relu(self.stem_bn(self.stem(x), use_running_average=not train))
    if self.stem_kind == "imagenet":
      x = nnx.max_pool(x, (3, 3), strides=(2, 2), padding="SAME")
    for block in self.blocks:
      x = block(x, train)
    return x.mean(axis=(1, 2))


class MLPHead(nnx.Module):
  """[Linear-BatchNorm-ReLU] x depth, then Linear(out_dim): the papers' projection head (8 x 512, 128)."""

  def __init__(self, in_dim: int, hidden: int, depth: int, out_dim: int, *, rngs: nnx.Rngs):
    dims = [in_dim] + [hidden] * depth
    self.layers = nnx.List([nnx.Linear(a, b, use_bias=False, rngs=rngs) for a, b in zip(dims[:-1], dims[1:])])
    self.norms = nnx.List([nnx.BatchNorm(b, momentum=0.9, rngs=rngs) for b in dims[1:]])
    self.out = nnx.Linear(dims[-1], out_dim, rngs=rngs)

  def __call__(self, x, train: bool):
    for layer, norm in zip(self.layers, self.norms):
      x = jax.nn.relu(norm(layer(x), use_running_average=not train))
    return self.out(x)


class Decoder(nnx.Module):
  """A small transposed-conv decoder from the representation back to the image (denoising AE)."""

  def __init__(self, in_dim: int, image_size: int, channels: int, *, rngs: nnx.Rngs):
    self.start = image_size // 8
    self.fc = nnx.Linear(in_dim, self.start * self.start * 64, rngs=rngs)
    self.ups = nnx.List([nnx.ConvTranspose(64, 64, (4, 4), strides=(2, 2), rngs=rngs) for _ in range(3)])
    self.out = nnx.Conv(64, channels, (3, 3), rngs=rngs)

  def __call__(self, z):
    x = jax.nn.relu(self.fc(z)).reshape(z.shape[0], self.start, self.start, 64)
    for up in self.ups:
      x = jax.nn.relu(up(x))
    return self.out(x)


class Learner(nnx.Module):
  """Backbone plus the heads an objective needs.

  contrastive / da_contrastive: MLP projection head. rotation: MLP head ending in
  4 logits. rotnet: a linear 4-way classifier on the backbone. dae: decoder.
  """

  def __init__(self, objective: str, *, width=1.0, stem="cifar", in_channels=3, head_hidden=512,
               head_depth=8, head_out=128, image_size=32, rngs: nnx.Rngs):
    self.objective = objective
    self.backbone = ResNet18(width, stem, in_channels, rngs=rngs)
    d = self.backbone.out_dim
    if objective not in ("contrastive", "da_contrastive", "rotation", "rotnet", "dae"):
      raise ValueError(f"unknown objective {objective!r}; choose contrastive, da_contrastive, "
                       "rotation, rotnet or dae.")
    if objective in ("contrastive", "da_contrastive"):
      head = MLPHead(d, head_hidden, head_depth, head_out, rngs=rngs)
    elif objective == "rotation":
      head = MLPHead(d, head_hidden, head_depth, 4, rngs=rngs)
    elif objective == "rotnet":
      head = nnx.Linear(d, 4, rngs=rngs)
    else:
      head = None
    self.head = head
    self.decoder = Decoder(d, image_size, in_channels, rngs=rngs) if objective == "dae" else None

  def represent(self, x, train: bool = False):
    return self.backbone(x, train)

  def apply_head(self, h, train: bool):
    if isinstance(self.head, MLPHead):
      return self.head(h, train)
    return self.head(h)


def l2_normalize(x, eps: float = 1e-12):
  return x / jnp.maximum(jnp.linalg.norm(x, axis=-1, keepdims=True), eps)
