"""Deep Embedded Clustering (Xie et al. 2016): the soft assignment, its sharpened target and the KL loss.

CLAD (Kim et al., "What is wrong with one-class anomaly detection?") self-labels the training set with
DEC on an autoencoder's codes: the cluster centres start from k-means on the codes, then the encoder
and the centres are fine-tuned together on KL(P || Q), and each row's label is its cluster argmax_j q_ij.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def soft_assignment(z, centers, alpha: float = 1.0):
  """q_ij: a Student's t kernel between code i and centre j, normalised over j (DEC eq. 1)."""
  d2 = jnp.sum((z[:, None, :] - centers[None, :, :]) ** 2, axis=-1)
  q = (1.0 + d2 / alpha) ** (-(alpha + 1.0) / 2.0)
  return q / jnp.sum(q, axis=1, keepdims=True)


def target_distribution(q):
  """p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j'), f_j = sum_i q_ij: confident assignments weigh
  more and large clusters less (DEC eq. 3). Held fixed (no gradient) while the loss is minimised."""
  weight = q ** 2 / jnp.sum(q, axis=0)
  return jax.lax.stop_gradient(weight / jnp.sum(weight, axis=1, keepdims=True))


def kl_loss(p, q):
  """KL(P || Q) per row, averaged over the rows (DEC eq. 2 divided by N)."""
  return jnp.mean(jnp.sum(p * (jnp.log(jnp.maximum(p, 1e-12)) - jnp.log(jnp.maximum(q, 1e-12))), axis=1))


def kmeans_centers(z, num_clusters: int, seed: int = 0) -> np.ndarray:
  """The initial centres: scikit-learn's k-means (20 restarts, as DEC) on the codes."""
  from sklearn.cluster import KMeans
  z = np.asarray(z, np.float64)
  if num_clusters > len(z):
    raise ValueError(f"num_clusters {num_clusters} exceeds the {len(z)} training images.")
  return KMeans(num_clusters, n_init=20, random_state=seed).fit(z).cluster_centers_.astype(np.float32)
