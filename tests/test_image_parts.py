"""Objectives, augmentations, the ResNet and the image loaders."""

import tarfile

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from PIL import Image

from stoc_jax import augment, objectives, resnet
from stoc_jax.data import images as image_data
from stoc_jax.data import DataError


# ------------------------------------------------------------ objectives

def nt_xent_reference(z1, z2, t):
  z = np.concatenate([z1, z2]).astype(np.float64)
  z /= np.linalg.norm(z, axis=1, keepdims=True)
  n = len(z1)
  sim = z @ z.T / t
  losses = []
  for i in range(2 * n):
    pos = (i + n) % (2 * n)
    others = [j for j in range(2 * n) if j != i]
    losses.append(-sim[i, pos] + np.log(np.exp(sim[i, others]).sum()))
  return np.mean(losses)


def test_contrastive_loss_matches_reference():
  rng = np.random.default_rng(0)
  z1, z2 = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
  loss, _ = objectives.contrastive_loss(z1, z2, 0.2)
  assert float(loss) == pytest.approx(nt_xent_reference(z1, z2, 0.2), rel=1e-4)


def test_contrastive_identical_views_of_distinct_instances():
  z = jnp.eye(8)  # orthogonal instances, identical views
  loss, m = objectives.contrastive_loss(z, z, 0.2)
  # positive similarity 1/t, the 14 negatives 0: loss = log(e^5 + 14) - 5
  assert float(loss) == pytest.approx(np.log(np.exp(5.0) + 14) - 5.0, rel=1e-5)
  assert float(m["accuracy"]) == 1.0
  # views that disagree cost more
  worse, _ = objectives.contrastive_loss(z, jnp.roll(z, 1, axis=0), 0.2)
  assert float(worse) > float(loss)


def test_contrastive_loss_invariant_to_scale_and_order():
  rng = np.random.default_rng(1)
  z1, z2 = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
  a, _ = objectives.contrastive_loss(z1, z2, 0.5)
  b, _ = objectives.contrastive_loss(3 * z1, 0.5 * z2, 0.5)
  perm = rng.permutation(5)
  c, _ = objectives.contrastive_loss(z1[perm], z2[perm], 0.5)
  assert float(a) == pytest.approx(float(b), rel=1e-5) == pytest.approx(float(c), rel=1e-5)


def test_rotate_batch_and_rotation_scores():
  x = jnp.arange(2 * 4 * 4 * 1, dtype=jnp.float32).reshape(2, 4, 4, 1)
  r, labels = objectives.rotate_batch(x)
  assert r.shape == (8, 4, 4, 1) and labels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
  np.testing.assert_array_equal(r[2], jnp.rot90(x[0], 1, axes=(0, 1)))
  r8, l8 = objectives.rotate_batch(x, hflip=True)
  assert r8.shape[0] == 16 and l8.max() == 7
  confident = jnp.log(jnp.tile(jnp.eye(4)[:, None, :] * 0.97 + 0.01, (1, 3, 1)))
  unsure = jnp.log(jnp.full((4, 3, 4), 0.25))
  assert (objectives.rotation_scores(confident) < objectives.rotation_scores(unsure)).all()


# ------------------------------------------------------------ augmentations

@pytest.fixture
def batch():
  return jax.random.uniform(jax.random.key(0), (4, 16, 16, 3))


# Under jit, as the train steps run them: one program each, not one per operation.
simclr_augment, crop_flip_augment = jax.jit(augment.simclr_augment), jax.jit(augment.crop_flip_augment)


def test_simclr_augment_ranges_and_shapes(batch):
  out = simclr_augment(jax.random.key(1), batch)
  assert out.shape == batch.shape
  assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
  assert not np.allclose(out, batch)
  again = simclr_augment(jax.random.key(1), batch)
  np.testing.assert_array_equal(out, again)  # keyed, deterministic


def test_full_crop_is_identity(batch):
  out = augment.random_resized_crop(jax.random.key(0), batch[0], scale=(1.0, 1.0), ratio=(1.0, 1.0))
  np.testing.assert_allclose(out, batch[0], atol=1e-5)


def test_crop_zooms_in(batch):
  img = jnp.zeros((16, 16, 1)).at[4:12, 4:12].set(1.0)
  out = augment.random_resized_crop(jax.random.key(3), img, scale=(0.1, 0.1))
  assert out.shape == img.shape


def test_flip_grayscale_blur_jitter(batch):
  img = batch[0]
  flips = {bool(jnp.allclose(augment.random_flip(jax.random.key(k), img), img[:, ::-1])) for k in range(8)}
  assert flips == {True, False}
  g = augment.grayscale(img)
  np.testing.assert_allclose(g[..., 0], g[..., 2])
  blurred = augment.gaussian_blur(jax.random.key(0), img)
  assert float(blurred.std()) < float(img.std())
  assert float(blurred.mean()) == pytest.approx(float(img.mean()), abs=0.02)
  np.testing.assert_allclose(augment.color_jitter(jax.random.key(0), img, strength=0.0), img, atol=1e-4)
  jittered = augment.color_jitter(jax.random.key(0), img, strength=1.0)
  assert float(jittered.min()) >= 0 and float(jittered.max()) <= 1


def test_crop_flip_augment_and_single_channel():
  x = jax.random.uniform(jax.random.key(0), (3, 8, 8, 1))
  assert crop_flip_augment(jax.random.key(0), x).shape == x.shape
  assert simclr_augment(jax.random.key(0), x).shape == x.shape


# ------------------------------------------------------------ model

@pytest.mark.parametrize("stem,size", [("cifar", 32), ("imagenet", 64)])
def test_resnet_shapes(stem, size):
  net = resnet.ResNet18(width=0.125, stem=stem, rngs=nnx.Rngs(0))
  x = jnp.ones((2, size, size, 3))
  h = net(x, train=False)
  assert h.shape == (2, 64)  # 512 x 0.125
  assert net.out_dim == 64


@pytest.mark.parametrize("objective,out", [("contrastive", 16), ("rotation", 4), ("rotnet", 4)])
def test_learner_heads(objective, out):
  model = resnet.Learner(objective, width=0.125, head_hidden=32, head_depth=2, head_out=16, rngs=nnx.Rngs(0))
  h = model.represent(jnp.ones((2, 32, 32, 3)))
  assert model.apply_head(h, train=False).shape == (2, out)


def test_mlp_head_depth():
  head = resnet.MLPHead(8, 16, 8, 4, rngs=nnx.Rngs(0))
  assert len(head.layers) == 8 and head(jnp.ones((3, 8)), train=True).shape == (3, 4)


def test_dae_decoder_reconstructs_image_shape():
  model = resnet.Learner("dae", width=0.125, image_size=32, rngs=nnx.Rngs(0))
  assert model.decoder(model.represent(jnp.ones((2, 32, 32, 3)))).shape == (2, 32, 32, 3)


# ------------------------------------------------------------ loaders

def write_folder(root, sizes=None, per_class=3, classes=("cat", "dog"), size=8, channels=3):
  rng = np.random.default_rng(0)
  for split in ("train", "test"):
    for c in classes:
      d = root / split / c
      d.mkdir(parents=True)
      for i in range(per_class):
        s = sizes.pop(0) if sizes else size
        arr = rng.integers(0, 255, (s, s, channels) if channels == 3 else (s, s), dtype=np.uint8)
        Image.fromarray(arr).save(d / f"{i}.png")
  return root


def test_image_folder_and_tarball(tmp_path, monkeypatch):
  monkeypatch.setenv("STOC_CACHE", str(tmp_path / "cache"))
  root = write_folder(tmp_path / "imgs")
  d = image_data.load_image_folder(root)
  assert d.x_train.shape == (6, 8, 8, 3) and d.class_names == ("cat", "dog")
  assert d.y_train.tolist() == [0, 0, 0, 1, 1, 1]
  tar_path = tmp_path / "imgs.tar.gz"
  with tarfile.open(tar_path, "w:gz") as tar:
    tar.add(root, arcname=".")
  t = image_data.load_image_folder(tar_path)
  np.testing.assert_array_equal(t.x_train, d.x_train)
  np.testing.assert_array_equal(t.y_test, d.y_test)
  assert list((tmp_path / "cache").glob("*.npz"))  # decoded once, cached
  again = image_data.load_image_folder(tar_path)
  np.testing.assert_array_equal(again.x_test, t.x_test)
  # An image replaced in a class folder changes no time of the folder itself: still not served stale.
  replaced = np.full((8, 8, 3), 7, np.uint8)
  Image.fromarray(replaced).save(root / "train" / "cat" / "0.png")
  np.testing.assert_array_equal(image_data.load_image_folder(root).x_train[0], replaced)


def test_mixed_sizes_and_unreadable_images_are_clear_errors(tmp_path):
  root = write_folder(tmp_path / "mixed", sizes=[8, 8, 12])
  with pytest.raises(DataError, match="different sizes"):
    image_data.read_image_folder(root, "train")
  bad = write_folder(tmp_path / "bad")
  (bad / "train" / "cat" / "9.png").write_bytes(b"not an image")
  with pytest.raises(DataError, match="9.png: not an image: its bytes are in no format Pillow reads"):
    image_data.read_image_folder(bad, "train")
  with pytest.raises(DataError, match="no such image folder"):
    image_data.read_image_folder(tmp_path / "nowhere", "train")


def test_grayscale_images_get_a_channel(tmp_path):
  root = write_folder(tmp_path / "g", channels=1)
  x, _, _ = image_data.read_image_folder(root, "test")
  assert x.shape == (6, 8, 8, 1)


def test_npz_digits_and_unknown(tmp_path):
  rng = np.random.default_rng(0)
  np.savez(tmp_path / "d.npz", x_train=rng.integers(0, 255, (10, 6, 6), dtype=np.uint8),
           y_train=np.arange(10) % 2, x_test=rng.integers(0, 255, (4, 6, 6), dtype=np.uint8),
           y_test=np.arange(4) % 2)
  d = image_data.load_npz(tmp_path / "d.npz")
  assert d.x_train.shape == (10, 6, 6, 1)
  digits = image_data.load_digits()
  assert digits.x_train.shape[1:] == (8, 8, 1) and len(digits.x_train) + len(digits.x_test) == 1797
  with pytest.raises(DataError, match="unknown image dataset"):
    image_data.load_images("imagenet21k")
  with pytest.raises(DataError, match="cifar10-jpeg.tar.gz"):
    image_data.load_images("cifar10", tmp_path)


def test_one_vs_rest_swap_protocol():
  d = image_data.load_digits()
  s = image_data.one_vs_rest_split(d, 3, 0.1, seed=0)
  n_normal = int((d.y_train == 3).sum())
  assert len(s.x_train) == n_normal  # size unchanged
  assert s.y_train.sum() == round(0.1 * n_normal)
  assert len(s.x_test) == len(d.x_test) and s.y_test.sum() == int((d.y_test != 3).sum())
  s2 = image_data.one_vs_rest_split(d, 3, 0.1, seed=0)
  np.testing.assert_array_equal(s.x_train, s2.x_train)
  with pytest.raises(ValueError, match="normal class 12 not among"):
    image_data.one_vs_rest_split(d, 12, 0.1)


def test_cifar10_shared_tarball_classes():
  from conftest import need_shared
  path = need_shared("images/cifar10-jpeg.tar.gz")
  with tarfile.open(path) as tar:
    names = set()
    for m in tar:
      parts = m.name.strip("./").split("/")
      if len(parts) == 3:
        names.add(parts[1])
      if len(names) == 10:
        break
  assert tuple(sorted(names)) == image_data.CIFAR10_CLASSES


def test_tfds_data_source_path(monkeypatch):
  """load_tfds reads both splits through tfds.data_source (a stand-in module here: no network)."""
  import sys
  import types
  calls = []

  def data_source(name, split, data_dir=None):
    calls.append((name, split))
    n = 6 if split == "train" else 4
    return [{"image": np.full((5, 5, 1), i, np.uint8), "label": i % 2} for i in range(n)]

  monkeypatch.setitem(sys.modules, "tensorflow_datasets", types.SimpleNamespace(data_source=data_source))
  d = image_data.load_images("tfds:fashion_mnist")
  assert calls == [("fashion_mnist", "train"), ("fashion_mnist", "test")]
  assert d.x_train.shape == (6, 5, 5, 1) and d.y_test.tolist() == [0, 1, 0, 1]


def test_tfds_missing_says_how_to_install(monkeypatch):
  import sys
  monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)
  with pytest.raises(DataError, match=r"stoc-jax\[images\]"):
    image_data.load_images("tfds:cifar10")


def test_batch_size_checks_name_the_problem():
  from types import SimpleNamespace
  from stoc_jax.sharding import check_batch_size
  four_devices = SimpleNamespace(devices=np.empty(4))
  check_batch_size(64, 100, four_devices)
  check_batch_size(64, None, four_devices)  # no bound on the rows
  with pytest.raises(ValueError, match="batch_size 62 must be a positive multiple of the 4 devices"):
    check_batch_size(62, 100, four_devices)
  with pytest.raises(ValueError, match="oe.batch_size 0 must be a positive multiple"):
    check_batch_size(0, None, four_devices, "oe.batch_size")
  with pytest.raises(ValueError, match="batch_size 128 exceeds the 100 training images"):
    check_batch_size(128, 100, four_devices)
