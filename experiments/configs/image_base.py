"""Shared settings of the image STOC experiments (Sohn et al. 2021 A.1; STOC §4.2), paper scale, and
the CPU-sized variant every image config offers as `:cpu`.

Experiment files import this and set what differs. The fields and their
defaults are in stoc_jax/configs.py.
"""

from stoc_jax.configs import image_defaults


def get_config():
  return image_defaults()


def cpu_sized(c):
  """`c` at the size a 2-core CPU runs in minutes: ResNet-18 at width 0.25, head 2 x 128, 1,000
  training and 2,000 test images, 300 steps of 64 with refinement at steps 25, 50, 100 and 200.

  DA-contrastive becomes plain contrastive: DA puts 4 rotations of every image through the network,
  4x the cost of a step (set objective=da_contrastive to keep it). Other objectives stay.
  """
  if c.objective == "da_contrastive":
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
