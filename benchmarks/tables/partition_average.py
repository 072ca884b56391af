"""Does refinement's one random partition limit it? The default with each refinement round drawn over
P random partitions of the rows instead of one, the rows' refinement scores averaged over them.

  python benchmarks/tables/partition_average.py --out=benchmarks/tables/partition_average.jsonl   # 2 min
  python benchmarks/tables/partition_average.py --suite=unseen --out=benchmarks/tables/partition_average.jsonl
  python benchmarks/tables/report.py benchmarks/tables/rows.jsonl benchmarks/tables/partition_average.jsonl \
      --detectors=stoc,stoc_partitions5,iforest

STOC's refinement (Eq. 1) fits K models, each on one part of a single random partition of the rows,
and keeps a row only if all K keep it, so which rows it removes moves with the partition drawn. Here
each round runs `refine.refine_data` with P keys (`jax.random.fold_in(key, p)`), averages each row's
score under the ensemble of each partition (`RefinementEnsemble.normalise`: 1 at the threshold of
the model that rejects it), and removes the rows with the highest mean, as many as the P partitions
removed on average; the final model is fitted on the rest, as the default's is. Splits, scaling and
timing as run_tables.py's; the rows carry the detector name `stoc_partitions<P>`.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.tables import run_tables  # noqa: E402
from stoc_jax import refine  # noqa: E402

ONE_PARTITION = refine.refine_data


def averaged_refinement(partitions: int):
  """refine_data over `partitions` random partitions, the rows with the highest mean score removed."""
  def refine_data(key, features, num_models=5, gamma=0.1, **kwargs):
    runs = [ONE_PARTITION(jax.random.fold_in(key, p), features, num_models, gamma, **kwargs)
            for p in range(partitions)]
    mean_score = np.mean([info["ensemble"].normalise(info["scores"]) for _, info in runs], axis=0)
    removed = int(round(np.mean([(~mask).sum() for mask, _ in runs])))
    mask = np.ones(len(mean_score), bool)
    mask[np.argsort(-mean_score, kind="stable")[:removed]] = False
    info = dict(runs[0][1], rejected_by=(~mask).astype(np.int32))
    return mask, info
  return refine_data


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  ap.add_argument("--partitions", type=int, default=5)
  args, rest = ap.parse_known_args()
  # The detector's loop calls refine.refine_data for every round (refine.configured_round).
  refine.refine_data = averaged_refinement(args.partitions)
  sys.argv = [sys.argv[0], "--detectors=stoc", f"--name=stoc_partitions{args.partitions}", *rest]
  run_tables.main()


if __name__ == "__main__":
  main()
