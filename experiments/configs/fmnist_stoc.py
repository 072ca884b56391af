"""STOC with DA-contrastive ResNet-18 on Fashion-MNIST (28x28x1) through TFDS.

  pip install 'stoc-jax[images]'
  python experiments/run.py --config=experiments/configs/fmnist_stoc.py \
      --config.anomaly_ratio=0.1 --workdir=/tmp/fmnist

Or with a local .npz (x_train, y_train, x_test, y_test):
--config.dataset=npz --config.data_dir=fmnist.npz. Variant `:cpu`: the CPU sizing of
`image_base.cpu_sized` (width 0.25, plain contrastive, 1,000 training images, 300 steps of 64).
Expected (Sohn et al. 2021, Table 2, clean training data, mean over classes): AUC 94.5 with a KDE
on DA-contrastive features; STOC's results under contamination are a figure (STOC, Figure 6b).
Fashion-MNIST is not among the data this project holds offline, so no result of it is reported here;
`:cpu` took 134 s on 2 CPU cores on random images of its shape (`--config.dataset=npz`, 1,000 training images).
"""

from stoc_jax.configs import check_variant
from experiments.configs import image_base


def get_config(variant=""):
  check_variant(variant, ("cpu",))
  c = image_base.get_config()
  c.dataset = "tfds:fashion_mnist"
  c.data_dir = ""
  if variant == "cpu":
    image_base.cpu_sized(c)
  return c
