"""STOC for images: a self-supervised ResNet-18 trained on the refined set, refined on a schedule.

`train_and_evaluate(config, workdir)`:
  1. one-vs-rest split with swap contamination (seeded);
  2. the STOC loop (`stoc_jax.loop.run_stoc`) with an `image_learner.ImageLearner`:
     jitted train steps on a ("data",) mesh, features of all training images
     refined at each scheduled step and once more at the end;
  3. the final OCC (GDE, KDE or OC-SVM on L2-normalised features; RotNet scores
     with its own classifier; or refinement's ensemble) on the refined set; evaluation.

Three ablation variants by config: refine.enabled=False (no refinement);
refine.update_representation=False (refinement for the final OCC only, on the
frozen representation); both True (representation and OCC).
Checkpoints go to workdir/checkpoints; a restarted run resumes and ends as an
uninterrupted one.
"""

from __future__ import annotations

import logging
import time

import jax

from stoc_jax import configs, image_learner, loop, occ, refine
from stoc_jax.sharding import check_batch_size, make_mesh
from stoc_jax.data import images as image_data
from stoc_jax.workdir import Workdir


def _check_config(config, n_train, mesh):
  if config.objective not in image_learner.OBJECTIVES:
    raise ValueError(f"unknown objective {config.objective!r}; choose one of {image_learner.OBJECTIVES}.")
  if config.final_occ not in occ.FINAL_OCCS + ("rotnet", "ensemble"):
    raise ValueError(f"final_occ must be one of {occ.FINAL_OCCS + ('rotnet', 'ensemble')}; "
                     f"got {config.final_occ!r}.")
  if config.final_occ == "rotnet" and config.objective != "rotnet":
    raise ValueError("final_occ='rotnet' scores with the rotation classifier: set objective='rotnet'.")
  configs.check_positive(config, "model.width")
  if "contrastive" in config.objective:  # the loss divides by it
    configs.check_positive(config, "temperature")
  check_batch_size(config.batch_size, n_train, mesh)


def train_and_evaluate(config, workdir) -> dict:
  start = time.time()
  wd = Workdir(workdir)
  normal = image_data.normal_classes_of(config)
  split = image_data.configured_split(config)
  wd.write_config(config, training_data={"x_train": split.x_train})
  mesh = make_mesh(config.num_devices or None)
  n = len(split.x_train)
  _check_config(config, n, mesh)
  gamma = refine.resolve_gamma(config.refine.gamma, config.anomaly_ratio)
  logging.info("%s class %s: %d training images (%d swapped in), %d test; %d device(s); gamma=%s",
               config.dataset, normal, n, int(split.y_train.sum()), len(split.x_test),
               mesh.devices.size, gamma)

  key = jax.random.key(config.seed)
  learner = image_learner.ImageLearner(config, split.x_train.shape[1:], mesh)
  trained = loop.run_stoc(learner, split.x_train, config, key=key, gamma=gamma, y_train=split.y_train,
                          workdir=wd)
  results = trained.evaluate(split.x_test, split.y_test, minority_positive=True)
  results.update({"dataset": config.dataset, "normal_class": config.normal_class, "normal_classes": list(normal),
                  "anomaly_ratio": config.anomaly_ratio, "refine_enabled": bool(config.refine.enabled),
                  "update_representation": bool(config.refine.update_representation),
                  "objective": config.objective, "seed": config.seed, "num_train": n,
                  "num_test": len(split.x_test), "seconds": time.time() - start})
  wd.finish(results)
  return results
