"""STOC with the rotation-prediction learner (MLP head) on CIFAR-10; GDE on the backbone.

  python experiments/run.py --config=experiments/configs/cifar10_rotation_stoc.py \
      --config.data_dir=../shared/data/images --config.anomaly_ratio=0.1 --workdir=/tmp/cifar10_rot

`--config.objective=rotnet --config.final_occ=rotnet` gives RotNet, scored by its
own rotation classifier. Variant `:cpu` (`image_base.cpu_sized`): width 0.25, 300 steps of 64 x 4
rotations, 1,000 training images; 6 min a run on 2 CPU cores (class 0 at 10 %: 357 s, AUC 75.9;
benchmarks/images/RESULTS.md, "rotation").
"""

from stoc_jax.configs import check_variant
from experiments.configs import cifar10_stoc, image_base


def get_config(variant=""):
  check_variant(variant, ("cpu",))
  c = cifar10_stoc.get_config()
  c.objective = "rotation"
  if variant == "cpu":
    image_base.cpu_sized(c)
  return c
