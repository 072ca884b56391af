"""CLAD on the STOC loop, with several normal classes (Kim et al., "What is wrong with one-class anomaly
detection?").

`train_and_evaluate(config, workdir)`: the split with `normal_classes` normal (every other class an
anomaly; `anomaly_ratio` of the training images swapped for them), the loop with a
`clad_learner.CLADLearner` (autoencoder, DEC, classifier; checkpointed and resumable in every stage),
ODIN's score, evaluation. With refine.enabled=True and no refine.schedule_steps, refinement runs at the
end of the autoencoder stage, in front of the clustering.
"""

from __future__ import annotations

import logging
import time

import jax

from stoc_jax import clad_learner, loop, refine
from stoc_jax.data import images as image_data
from stoc_jax.sharding import check_batch_size, make_mesh
from stoc_jax.workdir import Workdir


def train_and_evaluate(config, workdir) -> dict:
  start = time.time()
  wd = Workdir(workdir)
  normal = image_data.normal_classes_of(config)
  split = image_data.configured_split(config)
  wd.write_config(config, training_data={"x_train": split.x_train})
  mesh = make_mesh(config.num_devices or None)
  n = len(split.x_train)
  check_batch_size(config.batch_size, n, mesh)
  learner = clad_learner.CLADLearner(config, split.x_train.shape[1:], mesh)
  total, _ = learner.steps(n)
  stages = clad_learner.stage_steps(total, config.stage_fractions)
  run_config = config
  if config.refine.enabled and not tuple(config.refine.schedule_steps):
    run_config = config.copy_and_resolve_references()
    run_config.refine.schedule_steps = (stages[0],)
  gamma = refine.resolve_gamma(config.refine.gamma, config.anomaly_ratio)
  logging.info("%s normal classes %s: %d training images (%d swapped in), %d test; stages %s steps",
               config.dataset, normal, n, int(split.y_train.sum()), len(split.x_test), stages)
  trained = loop.run_stoc(learner, split.x_train, run_config, key=jax.random.key(config.seed), gamma=gamma,
                          y_train=split.y_train, workdir=wd)
  results = trained.evaluate(split.x_test, split.y_test, minority_positive=False)
  results.update({
      "dataset": config.dataset, "normal_classes": list(normal), "anomaly_ratio": config.anomaly_ratio,
      "refine_enabled": bool(config.refine.enabled), "num_clusters": config.num_clusters,
      "hidden_dim": config.hidden_dim, "final_occ": config.final_occ,
      "odin": {"temperature": config.odin.temperature,
               "epsilon": float(jax.device_get(trained.state.epsilon))},
      "stage_steps": list(stages), "seed": config.seed, "num_train": n, "num_test": len(split.x_test),
      "seconds": time.time() - start})
  wd.finish(results)
  return results
