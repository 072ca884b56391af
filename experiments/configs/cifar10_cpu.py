"""CPU-sized CIFAR-10 STOC: ResNet-18 width 0.25, contrastive, head 2 x 128, 1,000 training images.

Plain contrastive rather than the paper's DA-contrastive: DA puts 4 rotations of
every image through the network, 4x the cost of a step, which a 2-core CPU
cannot afford for a multi-class benchmark (set objective=da_contrastive to use it).

  python experiments/run.py --config=experiments/configs/cifar10_cpu.py \
      --config.data_dir=../shared/data/images --config.normal_class=0 --config.anomaly_ratio=0.1 \
      --workdir=/tmp/cifar10_cpu

The rotation-prediction learner (4-way rot90 classification, MLP head; the
backbone's features go to the GDE) learns a more useful representation in this
budget: add --config.objective=rotation (each step then trains on 4 x 64 rotated
images, about twice the time of a contrastive step).

Refinement in steps (schedule_steps). See benchmarks/images/RESULTS.md for
measured AUC/AP and run time on a 2-core CPU.
"""

from stoc_jax.configs import check_variant
from experiments.configs import cifar10_stoc


def get_config(variant=""):
  check_variant(variant, ())
  c = cifar10_stoc.get_config()
  c.objective = "contrastive"
  c.model.width = 0.25
  c.model.head_hidden = 128
  c.model.head_depth = 2
  c.max_train_images = 1000
  c.max_test_images = 2000
  c.batch_size = 64
  c.optimizer.learning_rate = 0.1
  c.train_epochs = 0
  c.train_steps = 300
  c.refine.schedule_steps = (25, 50, 100, 200)
  c.checkpoint_every_steps = 100
  return c
