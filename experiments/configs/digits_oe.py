"""Outlier exposure on scikit-learn's bundled 8x8 digits (no download): HSC by default, digit 0 normal.

The MNIST LeNet of Ruff et al. (2021), 16-32 conv and 64-32 units, on the 8x8 images (two pooling
stages leave 2x2). The paper's MNIST OE set is EMNIST letters, handwritten characters that are not
digits; offline, the closest source is other handwritten digits from the same scanner: OE is the
training images of half of the other nine digits (chosen by seed) and the test anomalies are the
remaining digits, so no OE digit is ever tested (the paper's appendix B protocol).

  python experiments/run.py --config=experiments/configs/digits_oe.py --workdir=/tmp/digits_oe

About 12 s on 2 CPU cores. Expected: AUC 99.9, AP 99.8 (seed 0; seeds 1 and 2: 100.0 / 99.8 and
99.9 / 99.8, `--config.seed=N`): digit 0 against the digits that were not OE is nearly solved at this
size. No horizontal flips (a flipped digit is another shape) and a crop of at most 1 pixel (an 8x8
image has little room).
"""

from stoc_jax.configs import check_variant, outlier_exposure_defaults


def get_config(variant=""):
  check_variant(variant, ())
  c = outlier_exposure_defaults()
  c.dataset = "digits"
  c.data_dir = ""
  c.model.conv_channels = (16, 32)
  c.model.fc_units = (64, 32)
  c.augment.crop_padding = 1
  c.augment.hflip = False
  c.batch_size = 32
  c.oe.batch_size = 32
  c.eval_batch_size = 256
  c.train_epochs = 0
  c.train_steps = 300
  c.optimizer.milestones = (1 / 3, 2 / 3)  # the paper's MNIST schedule: epochs 50 and 100 of 150
  c.checkpoint_every_steps = 100
  return c
