"""STOC on Dogs-vs-Cats at 64x64 (ImageNet stem), through TFDS `cats_vs_dogs`.

  pip install 'stoc-jax[images]'
  python experiments/run.py --config=experiments/configs/catsdogs_stoc.py \
      --config.anomaly_ratio=0.1 --workdir=/tmp/catsdogs

TFDS's images have mixed sizes and no test split: each image is resized to 64 x 64
as it is read, and the last 2,500 images of each class are the test set (Golan &
El-Yaniv 2018's protocol, which Sohn et al. 2021 follow). Or pass an image folder
(train/<class>/, test/<class>/) with --config.dataset=folder --config.data_dir=FOLDER.
Expected (paper, AUC at 10 %): dog 84.0, cat 71.5. Variant `:cpu`: the CPU sizing of
`image_base.cpu_sized` (width 0.25, plain contrastive, 1,000 training images, 300 steps of 64), at 64 x 64:
144 s on 2 CPU cores on random images of that size (`--config.dataset=npz`; the ImageNet stem leaves
16 x 16 maps, so a step costs less than CIFAR-10's at 32 x 32).
"""

from stoc_jax.configs import check_variant
from experiments.configs import image_base


def get_config(variant=""):
  check_variant(variant, ("cpu",))
  c = image_base.get_config()
  c.dataset = "tfds:cats_vs_dogs"
  c.data_dir = ""
  c.model.stem = "imagenet"
  c.image_size = 64
  c.holdout_per_class = 2500
  if variant == "cpu":
    image_base.cpu_sized(c)
  return c
