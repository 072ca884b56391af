"""STOC with DA-contrastive ResNet-18 on CIFAR-10, one class normal (paper hyperparameters; GPU/TPU).

  python experiments/run.py --config=experiments/configs/cifar10_stoc.py \
      --config.data_dir=../shared/data/images --config.normal_class=0 --config.anomaly_ratio=0.1 \
      --workdir=/tmp/cifar10_stoc

2048 epochs of 5,000 images at batch 32: days on one GPU at full width. Expected
(paper, mean over classes): AUC 89.9 at 10 % vs. 83.6 for the baseline. On a
CPU use cifar10_cpu.py.
"""

from stoc_jax.configs import check_variant
from experiments.configs import image_base


def get_config(variant=""):
  check_variant(variant, ())
  c = image_base.get_config()
  c.dataset = "cifar10"
  c.objective = "da_contrastive"
  return c
