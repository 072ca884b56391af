"""Outlier exposure on the STOC loop (Ruff et al. 2021, "Rethinking assumptions in deep anomaly detection").

`train_and_evaluate(config, workdir)`:
  1. the one-vs-rest split and the OE images (`stoc_jax.data.outlier_exposure.split_with_oe`): OE
     from classes kept out of the test anomalies, from a folder or array, or none;
  2. the STOC loop (`stoc_jax.loop.run_stoc`) with an `oe_learner.OELearner`: balanced normal + OE
     batches, pure jitted steps on a ("data",) mesh, checkpoints in workdir;
  3. the objective's own score (final_occ="network") or a one-class model on phi(x); evaluation.

With refine.enabled=True the loop refines the training set on phi(x) as for every learner; with no
OE set (oe.source="none") the rows it rejects are the OE rows of HSC, BCE, Focal and Deep SAD.
"""

from __future__ import annotations

import logging
import time

import jax

from stoc_jax import configs, loop, oe_learner, oe_objectives, refine
from stoc_jax.data import images as image_data
from stoc_jax.data import outlier_exposure
from stoc_jax.sharding import check_batch_size, make_mesh
from stoc_jax.workdir import Workdir


def _check_config(config, n_train, mesh):
  if config.objective not in oe_objectives.OBJECTIVES:
    raise ValueError(f"unknown objective {config.objective!r}; choose one of {oe_objectives.OBJECTIVES}.")
  check_batch_size(config.batch_size, n_train, mesh)
  check_batch_size(config.oe.batch_size, None, mesh, "oe.batch_size")  # a smaller OE pool is drawn with replacement
  if config.model.arch == "resnet18":
    configs.check_positive(config, "model.width")
    configs.check_positive(config, "model.out_dim", integer=True)


def oe_source(config, split) -> str:
  if config.objective not in oe_objectives.USES_OE:
    return "none (one-class objective)"
  if split.x_oe is not None:
    return config.oe.source
  if config.refine.enabled:
    return "rejected by refinement"
  raise ValueError(f"objective {config.objective!r} needs outlier exposure: set oe.source to classes, folder "
                   "or npz, or refine.enabled=True to take the rows refinement rejects as OE.")


def prepare(config):
  """(split, image shape) of a config: the images loaded, resized, split and subsampled."""
  data = image_data.load_configured(config)
  split = outlier_exposure.split_with_oe(
      data, config.oe, normal_classes=image_data.normal_classes_of(config), anomaly_ratio=config.anomaly_ratio, seed=config.seed,
      test_anomaly_classes=tuple(config.test_anomaly_classes),
      uses_oe=config.objective in oe_objectives.USES_OE, image_size=config.image_size)
  split = image_data.limit_split(split, config.max_train_images, config.max_test_images, config.seed)
  return split


def train_and_evaluate(config, workdir) -> dict:
  start = time.time()
  wd = Workdir(workdir)
  split = prepare(config)
  wd.write_config(config, training_data={"x_train": split.x_train} | (
      {} if split.x_oe is None else {"x_oe": split.x_oe}))
  source = oe_source(config, split)
  mesh = make_mesh(config.num_devices or None)
  n = len(split.x_train)
  _check_config(config, n, mesh)
  gamma = refine.resolve_gamma(config.refine.gamma, config.anomaly_ratio)
  n_oe = 0 if split.x_oe is None else len(split.x_oe)
  logging.info("%s class %s, %s: %d training images (%d swapped in), %d OE (%s), %d test; %d device(s)",
               config.dataset, image_data.normal_classes_of(config), config.objective, n, int(split.y_train.sum()), n_oe, source,
               len(split.x_test), mesh.devices.size)

  learner = oe_learner.OELearner(config, split.x_train.shape[1:], mesh, split.x_oe)
  trained = loop.run_stoc(learner, split.x_train, config, key=jax.random.key(config.seed), gamma=gamma,
                          y_train=split.y_train, workdir=wd)
  results = trained.evaluate(split.x_test, split.y_test, minority_positive=True)
  results.update({
      "dataset": config.dataset, "normal_class": config.normal_class,
      "normal_classes": list(image_data.normal_classes_of(config)), "anomaly_ratio": config.anomaly_ratio,
      "refine_enabled": bool(config.refine.enabled),
      "update_representation": bool(config.refine.update_representation), "objective": config.objective,
      "final_occ": config.final_occ, "seed": config.seed, "num_train": n, "num_test": len(split.x_test),
      "test_anomaly_classes": list(split.test_anomaly_classes), "seconds": time.time() - start,
      "oe": {"source": source, "classes": list(split.oe_classes), "num_images": n_oe,
             "size": int(config.oe.size), "blur_sigma": float(config.oe.blur_sigma),
             "batch_size": int(config.oe.batch_size), "path": config.oe.path}})
  wd.finish(results)
  return results
