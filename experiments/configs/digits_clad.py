"""CLAD on scikit-learn's bundled 8x8 digits, several digits normal (MNIST cannot be had offline).

The paper's MNIST scenarios (Kim et al., "What is wrong with one-class anomaly detection?"): curly
{0, 3, 8}, straight {1, 4, 7} and mix {2, 5, 6, 9}; every other digit is an anomaly. The autoencoder
halves the 8x8 images once (to 4x4); the classifier is the MNIST LeNet (16-32 conv, 64 units).

  python experiments/run.py --config=experiments/configs/digits_clad.py \
      --config.normal_classes="(0, 3, 8)" --workdir=/tmp/digits_clad

About 20 s on 2 CPU cores. Expected AUC (mean of seeds 0-2, benchmarks/clad/RESULTS.md): curly 78.2,
straight 94.1, mix 90.4 (the paper on MNIST: 94.0, 96.1, 92.6).
"""

from stoc_jax.configs import check_variant, clad_defaults


def get_config(variant=""):
  check_variant(variant, ())
  c = clad_defaults()
  c.dataset = "digits"
  c.data_dir = ""
  c.normal_classes = (0, 3, 8)
  c.autoencoder.channels = (16, 16, 32, 32, 64)
  c.autoencoder.linear = 256
  c.autoencoder.learning_rate = 1e-3  # 0.01 diverges on these small images
  c.classifier.arch = "lenet"
  c.classifier.conv_channels = (16, 32)
  c.classifier.fc_units = 64
  c.classifier.learning_rate = 1e-3
  c.augment.crop_padding = 1
  c.augment.hflip = False
  c.batch_size = 64
  c.eval_batch_size = 512
  c.train_epochs = 0
  c.train_steps = 900
  c.checkpoint_every_steps = 300
  return c
