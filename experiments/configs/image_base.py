"""Shared settings of the image STOC experiments (Sohn et al. 2021 A.1; STOC §4.2).

Paper scale (GPU/TPU). Experiment files import this and set what differs.
"""

import ml_collections
from ml_collections import config_dict


def get_config():
  c = ml_collections.ConfigDict()
  c.pipeline = "image"
  c.seed = 0
  c.dataset = "cifar10"  # digits, cifar10, folder, npz or tfds:NAME
  c.data_dir = "data"
  c.normal_class = 0
  c.anomaly_ratio = 0.0  # fraction of the normal class's training images swapped for other classes
  c.image_size = 0  # > 0: resize every image to image_size x image_size once, on the host
  c.compare_baseline = False  # run.py also runs without refinement and reports both
  c.max_train_images = 0  # 0 = all; CPU-sized runs subsample
  c.max_test_images = 0
  c.num_devices = 0  # 0 = all devices on the ("data",) mesh

  c.objective = "da_contrastive"  # contrastive, da_contrastive, rotation, rotnet, dae
  c.temperature = 0.2
  c.dae_noise = 0.1
  c.model = ml_collections.ConfigDict()
  c.model.width = 1.0
  c.model.stem = "cifar"
  c.model.head_hidden = 512
  c.model.head_depth = 8
  c.model.head_out = 128
  c.augment = ml_collections.ConfigDict()
  c.augment.crop_scale = (0.2, 1.0)
  c.augment.jitter_strength = 0.5
  c.augment.blur_kernel = 3
  c.augment.hflip_distributions = False

  c.optimizer = ml_collections.ConfigDict()
  c.optimizer.learning_rate = 0.01
  c.optimizer.momentum = 0.9
  c.optimizer.weight_decay = 3e-4
  c.batch_size = 32
  c.eval_batch_size = 256
  c.train_epochs = 2048
  c.train_steps = 0  # > 0 overrides train_epochs
  c.checkpoint_every_steps = 5000

  c.final_occ = "gde"  # gde, kde, ocsvm, ocsvm_linear; rotnet for objective=rotnet
  c.refine = ml_collections.ConfigDict()
  c.refine.enabled = True
  c.refine.update_representation = True
  c.refine.num_models = 5
  c.refine.gamma = config_dict.FieldReference("auto", field_type=object)
  c.refine.otsu_multiplier = 2.0
  c.refine.schedule_epochs = (1, 2, 5, 10, 20, 50, 100, 500)
  c.refine.every_epochs = 500
  c.refine.schedule_steps = ()
  return c
