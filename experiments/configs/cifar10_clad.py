"""CLAD on CIFAR-10 with several normal classes (Kim et al., "What is wrong with one-class anomaly
detection?"): things {0 airplane, 1 automobile, 8 ship, 9 truck} normal against living {2, ..., 7}, or
the reverse with --config.normal_classes="(2, 3, 4, 5, 6, 7)". Paper scale: 100 epochs per stage,
10 clusters, a 100-dimensional code, a ResNet-18 classifier (Adam 1e-4).

  python experiments/run.py --config=experiments/configs/cifar10_clad.py \
      --config.data_dir=../shared/data/images --workdir=/tmp/cifar10_clad

Paper AUC: things 74.9, living 72.8. Measured on one H200 (things, seed 0, the whole split): AUC
34.5 after 16 epochs a stage (--config.train_epochs=48; 68 s once compiled) and 44.8 after 35
(epsilon 0), where the contrastive ResNet-18 + GDE scores 71.9: the DEC clusters are not the classes.

Variant `:cpu`: 4,000 training images, 2,000 test images, the autoencoder at half width, the CIFAR-10
LeNet as the classifier, 1,200 steps of 128 images (400 a stage); about 2.5 min on 2 CPU cores, AUC
things 39.7, living 34.5 (mean of seeds 0-2). Both scales: benchmarks/clad/RESULTS.md.
"""

from stoc_jax.configs import check_variant, clad_defaults


def get_config(variant=""):
  check_variant(variant, ("cpu",))
  c = clad_defaults()
  c.dataset = "cifar10"
  c.normal_classes = (0, 1, 8, 9)
  if variant == "cpu":
    c.max_train_images = 4000
    c.max_test_images = 2000
    c.autoencoder.channels = (16, 16, 32, 32, 64)
    c.autoencoder.linear = 256
    c.autoencoder.learning_rate = 1e-3
    c.classifier.arch = "lenet"
    c.classifier.learning_rate = 1e-3
    c.train_epochs = 0
    c.train_steps = 1200
    c.checkpoint_every_steps = 400
  return c
