"""ODIN's confidence score (Liang et al. 2018): temperature scaling and input perturbation.

s(x; T, eps) = max_i softmax(f(x~) / T)_i with x~ = x - eps * sign(-grad_x log max_i softmax(f(x) / T)_i):
a step that raises the winning class's probability, which raises it more for in-distribution inputs
than for others. Higher s = more normal; CLAD's anomaly score is -s.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def max_softmax(logits, temperature: float):
  return jnp.max(jax.nn.softmax(logits / temperature, axis=-1), axis=-1)


def perturb(logit_fn, x, temperature: float, epsilon: float):
  """x~ = x - eps * sign(-d log S(x; T) / dx), S the maximum temperature-scaled softmax."""
  def neg_log_conf(inputs):
    return -jnp.sum(jnp.log(max_softmax(logit_fn(inputs), temperature)))
  return x - epsilon * jnp.sign(jax.grad(neg_log_conf)(x))


def odin_score(logit_fn, x, temperature: float, epsilon: float):
  """ODIN's normality of each input of the batch x."""
  return max_softmax(logit_fn(perturb(logit_fn, x, temperature, epsilon)), temperature)
