"""STOC on Dogs-vs-Cats at 64x64 (ImageNet stem), through TFDS `cats_vs_dogs`.

  pip install 'stoc-jax[images]'
  python experiments/run.py --config=experiments/configs/catsdogs_stoc.py \
      --config.anomaly_ratio=0.1 --workdir=/tmp/catsdogs

TFDS images have varied sizes: resize them to 64x64 into an image folder
(train/<class>/, test/<class>/) and pass --config.dataset=folder
--config.data_dir=FOLDER. Expected (paper, AUC at 10 %): dog 84.0, cat 71.5.
"""

from experiments.configs import image_base


def get_config():
  c = image_base.get_config()
  c.dataset = "tfds:cats_vs_dogs"
  c.data_dir = ""
  c.model.stem = "imagenet"
  return c
