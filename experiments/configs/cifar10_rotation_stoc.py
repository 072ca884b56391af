"""STOC with the rotation-prediction learner (MLP head) on CIFAR-10; GDE on the backbone.

  python experiments/run.py --config=experiments/configs/cifar10_rotation_stoc.py \
      --config.data_dir=../shared/data/images --config.anomaly_ratio=0.1 --workdir=/tmp/cifar10_rot

`--config.objective=rotnet --config.final_occ=rotnet` gives RotNet, scored by its
own rotation classifier.
"""

from stoc_jax.configs import check_variant
from experiments.configs import cifar10_stoc


def get_config(variant=""):
  check_variant(variant, ())
  c = cifar10_stoc.get_config()
  c.objective = "rotation"
  return c
