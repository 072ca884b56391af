"""DEC's assignment and target against NumPy; ODIN's perturbation raises the confidence."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from stoc_jax import dec, odin


def test_soft_assignment_and_target_match_numpy():
  rng = np.random.default_rng(0)
  z, mu = rng.normal(size=(7, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)
  d2 = ((z[:, None] - mu[None]) ** 2).sum(-1)
  for alpha in (1.0, 2.0):
    q = (1 + d2 / alpha) ** (-(alpha + 1) / 2)
    q /= q.sum(1, keepdims=True)
    np.testing.assert_allclose(dec.soft_assignment(z, mu, alpha), q, rtol=1e-5)
  q = (1 + d2) ** -1.0
  q /= q.sum(1, keepdims=True)
  p = q ** 2 / q.sum(0)
  p /= p.sum(1, keepdims=True)
  np.testing.assert_allclose(dec.target_distribution(jnp.asarray(q)), p, rtol=1e-5)
  np.testing.assert_allclose(dec.kl_loss(p, q), np.mean((p * np.log(p / q)).sum(1)), rtol=1e-5)
  # the target sharpens: each row's largest assignment grows
  assert (p.max(1) >= q.max(1) - 1e-7).all()


def test_kl_gradient_makes_each_code_more_confident_of_its_cluster():
  z = jnp.array([[0.9, 0.1], [-1.1, 0.0]])
  mu = jnp.array([[1.0, 0.0], [-1.0, 0.0]])
  p = dec.target_distribution(dec.soft_assignment(z, mu))
  g = jax.grad(lambda zz: dec.kl_loss(p, dec.soft_assignment(zz, mu)))(z)
  before = dec.soft_assignment(z, mu).max(axis=1)
  after = dec.soft_assignment(z - 0.1 * g, mu).max(axis=1)
  assert (after > before).all()


def test_kmeans_centers_find_separated_clusters():
  rng = np.random.default_rng(0)
  z = np.concatenate([rng.normal(m, 0.1, (30, 2)) for m in (-3, 0, 3)])
  centers = np.sort(dec.kmeans_centers(z, 3)[:, 0])
  np.testing.assert_allclose(centers, [-3, 0, 3], atol=0.1)
  with pytest.raises(ValueError, match="exceeds"):
    dec.kmeans_centers(z[:2], 3)


def test_odin_perturbation_raises_the_max_softmax():
  w = jnp.array([[2.0, -1.0, 0.5], [0.3, 1.5, -0.7]])

  def logits(x):
    return x @ w

  x = jax.random.normal(jax.random.key(0), (16, 2))
  for temperature in (1.0, 1000.0):
    before = odin.max_softmax(logits(x), temperature)
    after = odin.odin_score(logits, x, temperature, 0.05)
    assert (after >= before).all() and (after > before).any()
  np.testing.assert_allclose(odin.odin_score(logits, x, 1.0, 0.0), odin.max_softmax(logits(x), 1.0))
  # temperature flattens the softmax towards uniform
  assert float(odin.max_softmax(logits(x), 1000.0).max()) < 1 / 3 + 2e-3


def test_multi_class_split_counts_and_errors():
  import ml_collections

  from stoc_jax.data import images
  d = images.load_digits(0)
  split = images.one_vs_rest_split(d, (0, 3, 8), 0.1, seed=1)
  n_normal = int(np.isin(d.y_train, (0, 3, 8)).sum())
  assert len(split.x_train) == n_normal and split.y_train.sum() == round(0.1 * n_normal)
  assert len(split.x_test) == len(d.x_test)
  assert split.y_test.sum() == int((~np.isin(d.y_test, (0, 3, 8))).sum())
  # each training image's class: a normal class where it is normal, another where it was swapped in
  assert np.isin(split.train_classes[split.y_train == 0], (0, 3, 8)).all()
  assert not np.isin(split.train_classes[split.y_train == 1], (0, 3, 8)).any()
  # one class as an int or a 1-tuple: the same split
  a, b = images.one_vs_rest_split(d, 3, 0.1, seed=2), images.one_vs_rest_split(d, (3,), 0.1, seed=2)
  np.testing.assert_array_equal(a.x_train, b.x_train)
  with pytest.raises(ValueError, match="normal class 12 not among"):
    images.one_vs_rest_split(d, (0, 12), 0.0)
  with pytest.raises(ValueError, match="every class"):
    images.one_vs_rest_split(d, tuple(range(10)), 0.0)
  c = ml_collections.ConfigDict({"normal_class": 4, "normal_classes": ()})
  assert images.normal_classes_of(c) == (4,)  # the one-class shorthand
  c.normal_classes = (2, 5)
  assert images.normal_classes_of(c) == (2, 5)
  with pytest.raises(ValueError, match="normal_classes is empty"):
    images.normal_classes_of(ml_collections.ConfigDict({"normal_classes": ()}))
