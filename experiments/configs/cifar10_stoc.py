"""STOC with DA-contrastive ResNet-18 on CIFAR-10, one class normal (paper hyperparameters; GPU/TPU).

  python experiments/run.py --config=experiments/configs/cifar10_stoc.py \
      --config.data_dir=../shared/data/images --config.normal_class=0 --config.anomaly_ratio=0.1 \
      --workdir=/tmp/cifar10_stoc

2048 epochs of 5,000 images at batch 32: days on one GPU at full width. Expected
(paper, mean over classes): AUC 89.9 at 10 % vs. 83.6 for the baseline.

Variant `:cpu` (`image_base.cpu_sized`): width 0.25, plain contrastive, 1,000 training images,
300 steps of 64; 3 min a run on 2 CPU cores (`--config=experiments/configs/cifar10_stoc.py:cpu`; class 0 at
10 %: 183 s, AUC 66.9).
Measured on classes 0-2 (AUC 44-67 at 10 %): benchmarks/images/RESULTS.md. Its rotation-prediction learner
(`--config.objective=rotation`: 4-way rot90 classification, MLP head; the backbone's features go to
the GDE) learns a more useful representation in this budget, at about twice the time of a step.
"""

from stoc_jax.configs import check_variant
from experiments.configs import image_base


def get_config(variant=""):
  check_variant(variant, ("cpu",))
  c = image_base.get_config()
  c.dataset = "cifar10"
  c.objective = "da_contrastive"
  if variant == "cpu":
    image_base.cpu_sized(c)
  return c
