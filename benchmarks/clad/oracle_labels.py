"""CLAD's classifier and ODIN score trained on the clusters' pseudo-labels and, as a check of the score
alone, on the normal images' true classes; with the clusters' purity against those classes.

  python benchmarks/clad/oracle_labels.py --dataset=cifar10 --scenario=things [--seed=0] \
      [--labels=clusters,true] [--train_steps=0]

Appends one JSON row per run to oracle_rows.jsonl: AUC at T = 1 and T = 1000 (eps 0) and the purity
(each cluster counted as its most frequent true class). About 5 minutes a CIFAR-10 scenario here.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.clad.run import SCENARIOS, make_config  # noqa: E402
from stoc_jax import clad_learner, loop, metrics, sharding  # noqa: E402
from stoc_jax.data import images  # noqa: E402
from stoc_jax.sharding import make_mesh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def training_classes(config, split):
  """The true class of every training image of an uncontaminated split (one_vs_rest_split's draws)."""
  data = images.load_configured(config)
  normal = images.normal_classes_of(config)
  rng = np.random.default_rng(config.seed)
  normals = rng.permutation(np.flatnonzero(np.isin(data.y_train, normal)))
  rng.choice(np.flatnonzero(~np.isin(data.y_train, normal)), 0, replace=False)
  order = rng.permutation(len(normals))
  index = normals[order][:len(split.x_train)]
  if not np.array_equal(data.x_train[index], split.x_train):
    raise RuntimeError("the replayed split differs from configured_split's; one_vs_rest_split changed.")
  return data.y_train[index]


def purity(labels, classes):
  return float(sum(np.bincount(classes[labels == k]).max() for k in np.unique(labels)) / len(labels))


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--dataset", default="cifar10", choices=tuple(SCENARIOS))
  parser.add_argument("--scenario", default="things")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--data_dir", default="../shared/data/images")
  parser.add_argument("--labels", default="clusters,true", help="clusters, true (classes) or both")
  parser.add_argument("--train_steps", type=int, default=0, help="all three stages; 0: the config's")
  parser.add_argument("--rows", default=os.path.join(HERE, "oracle_rows.jsonl"))
  args = parser.parse_args()
  config = make_config(args.dataset, "clad", args.scenario, args.seed, args.data_dir)
  if args.train_steps:
    config.train_steps = args.train_steps
  split = images.configured_split(config)
  classes = training_classes(config, split)
  mesh = make_mesh(None)
  for labels_from in [{"clusters": "clusters", "true": "true classes"}[v] for v in args.labels.split(",")]:
    t0 = time.time()
    learner = clad_learner.CLADLearner(config, split.x_train.shape[1:], mesh)
    if labels_from == "true classes":
      cluster_start = learner._start_stage
      true = np.searchsorted(np.unique(classes), classes).astype(np.int32)

      def start(state, stage, x, mask, cluster_start=cluster_start, true=true, learner=learner):
        if stage == "dec":
          return cluster_start(state, stage, x, mask)
        return state._replace(labels=learner.place(jnp.asarray(true)))
      learner._start_stage = start
    trained = loop.run_stoc(learner, split.x_train, config, key=jax.random.key(config.seed), gamma=0.1)
    labels = np.asarray(sharding.to_host(trained.state.labels))
    row = {"dataset": args.dataset, "scenario": args.scenario, "seed": args.seed, "labels": labels_from,
           "purity": purity(labels, classes), "clusters_used": int(len(np.unique(labels))),
           "train_steps": trained.total_steps}
    for temperature in (1.0, 1000.0):
      config.odin.temperature = temperature
      row[f"auc_T{int(temperature)}"] = metrics.auc(split.y_test, -learner._odin(trained.state, split.x_test, 0.0))
    config.odin.temperature = 1000.0
    row.update(seconds=time.time() - t0, date=time.strftime("%Y-%m-%d"))
    with open(args.rows, "a") as f:
      f.write(json.dumps(row, sort_keys=True) + "\n")
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
  main()
