"""The LeNet-style networks of Ruff et al. (2018) and Ruff et al. (2021, "Rethinking assumptions in
deep anomaly detection", appendix F), in Flax NNX.

Each convolution (5 x 5) is followed by batch normalisation, a leaky ReLU and 2 x 2 max-pooling; the
first fully connected layer by batch normalisation and a leaky ReLU; the last layer is linear and its
output is the representation phi(x). MNIST: 16-32 convolutions, 64-32 units; CIFAR-10: 32-64-128,
512-256. Without bias terms (`bias=False`, batch norm without its affine shift and scale) no constant
map is reachable, which Deep SVDD needs: with biases its objective is minimised by phi(x) = c for
every x (Ruff et al. 2018, section 3.3).
"""

from __future__ import annotations

import jax
from flax import nnx

MNIST = ((16, 32), (64, 32))
CIFAR10 = ((32, 64, 128), (512, 256))


def _norm(features, bias, rngs):
  return nnx.BatchNorm(features, momentum=0.9, epsilon=1e-4, use_bias=bias, use_scale=bias, rngs=rngs)


class LeNet(nnx.Module):
  """conv(5x5)-BN-leakyReLU-maxpool per entry of `conv_channels`, then FC-BN-leakyReLU, then linear."""

  def __init__(self, conv_channels=CIFAR10[0], fc_units=CIFAR10[1], *, in_channels: int, image_size: int,
               bias: bool = False, rngs: nnx.Rngs):
    if image_size % (2 ** len(conv_channels)):
      raise ValueError(f"LeNet with {len(conv_channels)} pooling stages needs an image size divisible by "
                       f"{2 ** len(conv_channels)}; got {image_size}. Set image_size to resize the images.")
    channels = (in_channels,) + tuple(conv_channels)
    self.convs = nnx.List([nnx.Conv(a, b, (5, 5), padding="SAME", use_bias=bias, rngs=rngs)
                           for a, b in zip(channels[:-1], channels[1:])])
    self.conv_norms = nnx.List([_norm(b, bias, rngs) for b in channels[1:]])
    side = image_size // 2 ** len(conv_channels)
    hidden, out = fc_units
    self.fc = nnx.Linear(side * side * channels[-1], hidden, use_bias=bias, rngs=rngs)
    self.fc_norm = _norm(hidden, bias, rngs)
    self.out = nnx.Linear(hidden, out, use_bias=bias, rngs=rngs)
    self.out_dim = out

  def __call__(self, x, train: bool = False):
    ura = not train
    for conv, norm in zip(self.convs, self.conv_norms):
      x = jax.nn.leaky_relu(norm(conv(x), use_running_average=ura), 0.01)
      x = nnx.max_pool(x, (2, 2), strides=(2, 2))
    x = x.reshape(x.shape[0], -1)
    x = jax.nn.leaky_relu(self.fc_norm(self.fc(x), use_running_average=ura), 0.01)
    return self.out(x)

