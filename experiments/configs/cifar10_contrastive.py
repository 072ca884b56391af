"""The baseline of cifar10_stoc.py: the same DA-contrastive learner and GDE, no refinement.

  python experiments/run.py --config=experiments/configs/cifar10_contrastive.py \
      --config.data_dir=../shared/data/images --config.anomaly_ratio=0.1 --workdir=/tmp/cifar10_base

Expected (paper, mean over classes): AUC 92.1 at 0 %, 83.6 at 10 %. Variant `:cpu`: cifar10_stoc.py:cpu
without refinement, 3 min on 2 CPU cores (class 0 at 10 %: 185 s, AUC 63.8).
"""

from stoc_jax.configs import check_variant
from experiments.configs import cifar10_stoc


def get_config(variant=""):
  check_variant(variant, ("cpu",))
  c = cifar10_stoc.get_config(variant)
  c.refine.enabled = False
  return c
