"""Why refinement cannot clean KDD-Rev: most of its training anomalies are exact copies of each other.

  python benchmarks/tabular/duplicate_anomalies.py --dataset=kddrev --ratio=0.025 --seeds=0,1,2

For each seed: how many of the training anomalies are distinct, how many sit in
groups of at least --group identical rows, the share of the test anomalies
identical to a training anomaly, and which of them one refinement of the
(scaled) raw features at gamma = 2 x ratio removes, in groups and outside them.
A diagnostic that reads the labels; STOC never does.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from run_f1 import benchmark_config  # noqa: E402  (this folder is on sys.path when run as a script)
from stoc_jax import refine, tabular_stoc  # noqa: E402


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--data_dir", default="../shared/data/tabular")
  ap.add_argument("--dataset", default="kddrev")
  ap.add_argument("--ratio", type=float, default=0.025)
  ap.add_argument("--seeds", default="0")
  ap.add_argument("--group", type=int, default=20, help="a 'group': at least this many identical rows")
  args = ap.parse_args()
  for seed in map(int, args.seeds.split(",")):
    c = benchmark_config(args.dataset, args.data_dir, args.ratio, seed)
    data = tabular_stoc.load_split(c)
    anomalies = data.x_train[data.y_train == 1]
    _, inverse, counts = np.unique(anomalies, axis=0, return_inverse=True, return_counts=True)
    in_group = counts[inverse.ravel()] >= args.group
    seen = {row.tobytes() for row in anomalies}
    test_copies = np.mean([row.tobytes() in seen for row in data.x_test[data.y_test == 1]])
    mask, _ = refine.refine_data(jax.random.key(seed), data.x_train, c.refine.num_models, 2 * args.ratio)
    removed = ~mask[data.y_train == 1]
    print(f"{args.dataset} {100 * args.ratio:g} % seed {seed}: {len(anomalies)} training anomalies, "
          f"{len(counts)} distinct, largest groups {sorted(counts.tolist())[-3:]}; "
          f"{100 * in_group.mean():.0f} % in groups of >= {args.group}; "
          f"{100 * test_copies:.0f} % of test anomalies copy a training anomaly; refinement removes "
          f"{100 * removed[in_group].mean():.0f} % of the grouped and {100 * removed[~in_group].mean():.0f} % "
          f"of the other training anomalies", flush=True)


if __name__ == "__main__":
  main()
