"""SimCLR-style augmentations as jitted jnp ops on device (float images in [0, 1], NHWC).

Written here rather than taken from dm-pix: five short functions that vmap over a
batch under one jit, with no extra dependency to keep in step with JAX releases.
Each takes a key and one image; `simclr_augment` composes them for a batch.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

_GRAY = jnp.array([0.2989, 0.5870, 0.1140])


def random_resized_crop(key, image, scale=(0.2, 1.0), ratio=(3 / 4, 4 / 3)):
  """Crops a random area fraction in `scale` with aspect in `ratio` and resizes back (bilinear)."""
  h, w, _ = image.shape
  k1, k2, k3, k4 = jax.random.split(key, 4)
  area = jax.random.uniform(k1, minval=scale[0], maxval=scale[1])
  log_r = jax.random.uniform(k2, minval=jnp.log(ratio[0]), maxval=jnp.log(ratio[1]))
  aspect = jnp.exp(log_r)
  ch = jnp.clip(jnp.sqrt(area / aspect), 0.05, 1.0) * h
  cw = jnp.clip(jnp.sqrt(area * aspect), 0.05, 1.0) * w
  y0 = jax.random.uniform(k3) * (h - ch)
  x0 = jax.random.uniform(k4) * (w - cw)
  scale_yx = jnp.array([h / ch, w / cw])
  translate = -jnp.array([y0, x0]) * scale_yx
  out = jax.image.scale_and_translate(image, image.shape, (0, 1), scale_yx, translate, "linear",
                                      antialias=False)
  return jnp.clip(out, 0.0, 1.0)


def random_flip(key, image):
  return jnp.where(jax.random.bernoulli(key), image[:, ::-1], image)


def grayscale(image):
  if image.shape[-1] == 1:
    return image
  g = image @ _GRAY
  return jnp.repeat(g[..., None], image.shape[-1], axis=-1)


def color_jitter(key, image, strength: float = 0.5):
  """Brightness, contrast, saturation (factors in 1 +- 0.8 s) and hue (+- 0.2 s) in random order."""
  kb, kc, ks, kh, ko = jax.random.split(key, 5)
  s = strength
  b = jax.random.uniform(kb, minval=1 - 0.8 * s, maxval=1 + 0.8 * s)
  c = jax.random.uniform(kc, minval=1 - 0.8 * s, maxval=1 + 0.8 * s)
  sat = jax.random.uniform(ks, minval=1 - 0.8 * s, maxval=1 + 0.8 * s)
  hue = jax.random.uniform(kh, minval=-0.2 * s, maxval=0.2 * s)

  def brightness(x):
    return x * b

  def contrast(x):
    m = (x @ _GRAY).mean() if x.shape[-1] == 3 else x.mean()
    return (x - m) * c + m

  def saturation(x):
    return grayscale(x) + (x - grayscale(x)) * sat if x.shape[-1] == 3 else x

  def hue_shift(x):
    if x.shape[-1] != 3:
      return x
    # Rotate chroma in YIQ space by 2 pi hue.
    to_yiq = jnp.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    yiq = x @ to_yiq.T
    a = 2 * jnp.pi * hue
    rot = jnp.array([[1, 0, 0], [0, jnp.cos(a), -jnp.sin(a)], [0, jnp.sin(a), jnp.cos(a)]])
    return (yiq @ rot.T) @ jnp.linalg.inv(to_yiq).T

  ops = (brightness, contrast, saturation, hue_shift)
  order = jax.random.permutation(ko, 4)
  for i in range(4):
    image = jax.lax.switch(order[i], ops, image)
    image = jnp.clip(image, 0.0, 1.0)
  return image


def gaussian_blur(key, image, sigma_range=(0.1, 2.0), kernel_size: int = 3):
  """Separable Gaussian blur with sigma drawn uniformly from `sigma_range`."""
  sigma = jax.random.uniform(key, minval=sigma_range[0], maxval=sigma_range[1])
  r = kernel_size // 2
  t = jnp.arange(-r, r + 1, dtype=image.dtype)
  k = jnp.exp(-0.5 * (t / sigma) ** 2)
  k = k / k.sum()
  padded = jnp.pad(image, ((r, r), (r, r), (0, 0)), mode="reflect")
  h, w, _ = image.shape
  rows = sum(k[i] * padded[i:i + h] for i in range(kernel_size))
  return sum(k[i] * rows[:, i:i + w] for i in range(kernel_size))


def _apply(p, key, fn, image):
  k1, k2 = jax.random.split(key)
  return jnp.where(jax.random.bernoulli(k1, p), fn(k2, image), image)


def simclr_augment_one(key, image, crop_scale=(0.2, 1.0), jitter_strength=0.5, p_jitter=0.8,
                       p_gray=0.2, p_blur=0.5, blur_kernel=3):
  keys = jax.random.split(key, 5)
  x = random_resized_crop(keys[0], image, crop_scale)
  x = random_flip(keys[1], x)
  x = _apply(p_jitter, keys[2], lambda k, im: color_jitter(k, im, jitter_strength), x)
  x = _apply(p_gray, keys[3], lambda k, im: grayscale(im), x)
  x = _apply(p_blur, keys[4], lambda k, im: gaussian_blur(k, im, kernel_size=blur_kernel), x)
  return x


def simclr_augment(key, images, **kwargs):
  """Independently augments every image of a (B, H, W, C) batch."""
  keys = jax.random.split(key, images.shape[0])
  return jax.vmap(lambda k, im: simclr_augment_one(k, im, **kwargs))(keys, images)


def to_float(images):
  """uint8 images as floats in [0, 1]."""
  return images.astype(jnp.float32) / 255.0


def random_crop(key_y, key_x, image, padding: int):
  """A crop of the image's size at a random offset after reflect-padding `padding` pixels."""
  h, w, c = image.shape
  padded = jnp.pad(image, ((padding, padding), (padding, padding), (0, 0)), mode="reflect")
  dy = jax.random.randint(key_y, (), 0, 2 * padding + 1)
  dx = jax.random.randint(key_x, (), 0, 2 * padding + 1)
  return jax.lax.dynamic_slice(padded, (dy, dx, 0), (h, w, c))


def crop_flip_augment(key, images):
  """The lighter augmentation of the rotation learners: random crop (padding 4) and flip."""
  def one(k, im):
    k1, k2, k3 = jax.random.split(k, 3)
    return random_flip(k3, random_crop(k1, k2, im, 4))
  return jax.vmap(one)(jax.random.split(key, images.shape[0]), images)


def oe_augment(key, images, crop_padding: int = 4, hflip: bool = True, jitter_strength: float = 0.1,
               noise_std: float = 0.01):
  """The augmentation of Ruff et al. (2021) for OE training: colour jitter, random crop (reflect
  padding), horizontal flip and Gaussian pixel noise."""
  def one(k, im):
    k1, k2, k3, k4, k5 = jax.random.split(k, 5)
    if jitter_strength > 0:
      im = color_jitter(k1, im, jitter_strength)
    if crop_padding > 0:
      im = random_crop(k2, k3, im, crop_padding)
    if hflip:
      im = random_flip(k4, im)
    return im + noise_std * jax.random.normal(k5, im.shape)
  return jax.vmap(one)(jax.random.split(key, images.shape[0]), images)
