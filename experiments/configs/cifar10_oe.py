"""Outlier exposure on CIFAR-10 (Ruff et al. 2021, "Rethinking assumptions in deep anomaly detection"):
HSC, BCE, Focal, Deep SAD with OE, and Deep SVDD without. Paper scale: the CIFAR-10 LeNet (32-64-128
conv, 512-256 units), 200 epochs of the 5,000 normal images in batches of 128 normal + 128 OE, Adam
1e-3 divided by 10 at epochs 100 and 150.

The paper's OE set (80 Million Tiny Images) cannot be had offline: OE here is the training images of
`oe.classes`, by default half of the other nine classes chosen by seed, and the test anomalies are the
remaining classes (the analogue of the paper's appendix B, OE from classes absent at test time).

  python experiments/run.py --config=experiments/configs/cifar10_oe.py \
      --config.data_dir=../shared/data/images --config.normal_class=0 --config.objective=hsc \
      --workdir=/tmp/cifar10_oe

Variant `:cpu` (about a minute a run on 2 CPU cores: median 65 s over the benchmark's 80 runs): the
LeNet at half width (16-32-64 conv, 256-128 units), 400 steps of 64 normal + 64 OE images, 2,000 test
images. The command above with `:cpu` gives AUC 87.3 (HSC, airplane, seed 0); the rest is in
benchmarks/outlier_exposure/RESULTS.md.
"""

from stoc_jax.configs import check_variant, outlier_exposure_defaults


def get_config(variant=""):
  check_variant(variant, ("cpu",))
  c = outlier_exposure_defaults()
  c.dataset = "cifar10"
  if variant == "cpu":
    c.model.conv_channels = (16, 32, 64)
    c.model.fc_units = (256, 128)
    c.batch_size = 64
    c.oe.batch_size = 64
    c.train_epochs = 0
    c.train_steps = 400
    c.max_test_images = 2000
    c.checkpoint_every_steps = 200
  return c
