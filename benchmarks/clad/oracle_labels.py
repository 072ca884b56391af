"""CLAD's classifier and ODIN score trained on the clusters' pseudo-labels and, as a check of the score
alone, on the normal images' true classes; with the clusters' purity against those classes.

  python benchmarks/clad/oracle_labels.py --dataset=cifar10 --scenario=things [--seed=0] \
      [--labels=clusters,true,contrastive] [--train_steps=0]
  python benchmarks/clad/oracle_labels.py --scale=paper --epochs_per_stage=25 ...   # GPU

`--scale=paper` (CIFAR-10 only) takes `cifar10_clad.py` at its defaults, the paper's scale: all of the
scenario's training images, the 10,000 test images, the full-width autoencoder and the ResNet-18.

`contrastive` (beyond the paper, and label-free): the pseudo-labels are k-means clusters
(num_clusters of them) of the contrastive ResNet-18 features that the contrastive + GDE baseline
learns on the same training images, in place of DEC on the autoencoder's codes. `sobel` (label-free
too): k-means on the first 100 principal components of the images' grey-level Sobel gradient magnitude,
which carries no colour (DeepCluster's front end, Caron et al. 2018: clustering raw images groups them by
colour).

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
from stoc_jax.configs import parse_overrides  # noqa: E402
from stoc_jax.data import images  # noqa: E402
from stoc_jax.sharding import make_mesh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def purity(labels, classes):
  return float(sum(np.bincount(classes[labels == k]).max() for k in np.unique(labels)) / len(labels))


def contrastive_kmeans(args, split, num_clusters, mesh):
  """k-means labels of the training images' features under the contrastive baseline's ResNet-18."""
  from sklearn.cluster import KMeans
  from stoc_jax import image_learner
  cfg = make_config(args.dataset, "contrastive", args.scenario, args.seed, args.data_dir, args.scale)
  if not np.array_equal(images.configured_split(cfg).x_train, split.x_train):
    raise RuntimeError("the contrastive config's training split differs from CLAD's.")
  learner = image_learner.ImageLearner(cfg, split.x_train.shape[1:], mesh)
  trained = loop.run_stoc(learner, split.x_train, cfg, key=jax.random.key(cfg.seed), gamma=0.1, final_occ="gde")
  feats = np.asarray(sharding.to_host(learner.features(trained.state, split.x_train)))[:len(split.x_train)]  # unpadded
  return KMeans(num_clusters, n_init=10, random_state=args.seed).fit_predict(feats).astype(np.int32)


def sobel_kmeans(x, num_clusters, seed):
  """k-means labels of the images' colour-free edges: grey level, Sobel magnitude, 100 PCs."""
  from scipy import ndimage
  from sklearn.cluster import KMeans
  from sklearn.decomposition import PCA
  grey = np.asarray(x, np.float32).mean(axis=-1) / 255.0
  edges = np.hypot(ndimage.sobel(grey, axis=1), ndimage.sobel(grey, axis=2)).reshape(len(x), -1)
  codes = PCA(min(100, edges.shape[1]), random_state=seed).fit_transform(edges)
  return KMeans(num_clusters, n_init=10, random_state=seed).fit_predict(codes).astype(np.int32)


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--dataset", default="cifar10", choices=tuple(SCENARIOS))
  parser.add_argument("--scenario", default="things")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--data_dir", default="../shared/data/images")
  parser.add_argument("--labels", default="clusters,true", help="comma-separated: clusters, true (classes), "
                      "contrastive (k-means on contrastive features), sobel (k-means on Sobel edges)")
  length = parser.add_mutually_exclusive_group()
  length.add_argument("--train_steps", type=int, default=0, help="all three stages; 0: the config's")
  length.add_argument("--epochs_per_stage", type=int, default=0, help="in place of the config's steps")
  parser.add_argument("--scale", default="cpu", choices=("cpu", "paper"))
  parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config overrides")
  parser.add_argument("--rows", default=os.path.join(HERE, "oracle_rows.jsonl"))
  args = parser.parse_args()
  if args.scale == "paper" and args.dataset != "cifar10":
    parser.error("--scale=paper is CIFAR-10's; the digits configs are their own scale.")
  config = make_config(args.dataset, "clad", args.scenario, args.seed, args.data_dir, args.scale)
  if args.train_steps:
    config.train_steps = args.train_steps
  if args.epochs_per_stage:
    config.train_epochs, config.train_steps = 3 * args.epochs_per_stage, 0
  config.checkpoint_every_steps = 0  # no workdir: nothing to pause for
  config.update_from_flattened_dict(parse_overrides(args.set))
  split = images.configured_split(config)
  classes = split.train_classes
  mesh = make_mesh(None)
  names = {"clusters": "clusters", "true": "true classes", "contrastive": "contrastive k-means",
           "sobel": "sobel k-means"}
  for labels_from in [names[v] for v in args.labels.split(",")]:
    t0 = time.time()
    learner = clad_learner.CLADLearner(config, split.x_train.shape[1:], mesh)
    if labels_from != "clusters":
      cluster_start = learner._start_stage
      if labels_from == "true classes":
        given = np.searchsorted(np.unique(classes), classes).astype(np.int32)
      elif labels_from == "sobel k-means":
        given = sobel_kmeans(split.x_train, config.num_clusters, args.seed)
      else:
        given = contrastive_kmeans(args, split, config.num_clusters, mesh)

      def start(state, stage, x, mask, cluster_start=cluster_start, given=given, learner=learner):
        if stage == "dec":
          return cluster_start(state, stage, x, mask)
        return state._replace(labels=learner.place(jnp.asarray(given)))
      learner._start_stage = start
    trained = loop.run_stoc(learner, split.x_train, config, key=jax.random.key(config.seed), gamma=0.1)
    labels = np.asarray(sharding.to_host(trained.state.labels))
    row = {"dataset": args.dataset, "scenario": args.scenario, "seed": args.seed, "labels": labels_from,
           "purity": purity(labels, classes), "clusters_used": int(len(np.unique(labels))),
           "train_steps": trained.total_steps, "scale": args.scale, "num_train": len(split.x_train),
           "num_test": len(split.x_test)}
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
