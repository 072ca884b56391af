"""CLAD's AUC and the label-free epsilon criterion over a grid of ODIN's temperature and perturbation,
on the digits scenarios: how much T and eps can move the score, and where "auto" lands.

  python benchmarks/clad/odin_grid.py [--scenarios=curly,straight,mix] [--seeds=0,1,2]

Each scenario and seed trains `digits_clad.py` once (as committed, seed = the split and the models),
then scores the test split at every (T, eps), and records the criterion "auto" maximises: the mean
score of the first `odin.calibration_rows` training rows. One JSON row per run appended to
odin_grid.jsonl. About 20 s a run on 2 CPU cores.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.clad.run import make_config  # noqa: E402
from stoc_jax import clad_learner, loop, metrics, refine  # noqa: E402
from stoc_jax.data import images  # noqa: E402
from stoc_jax.sharding import make_mesh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPERATURES = (1.0, 1000.0)
EPSILONS = (0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--scenarios", default="curly,straight,mix")
  parser.add_argument("--seeds", default="0,1,2")
  parser.add_argument("--rows", default=os.path.join(HERE, "odin_grid.jsonl"))
  args = parser.parse_args()
  for scenario in args.scenarios.split(","):
    for seed in (int(s) for s in args.seeds.split(",")):
      config = make_config("digits", "clad", scenario, seed, "")
      split = images.configured_split(config)
      learner = clad_learner.CLADLearner(config, split.x_train.shape[1:], make_mesh(None))
      trained = loop.run_stoc(learner, split.x_train, config, key=jax.random.key(seed),
                              gamma=refine.resolve_gamma(config.refine.gamma, config.anomaly_ratio))
      calibration = split.x_train[:config.odin.calibration_rows]
      grid = []
      for t in TEMPERATURES:
        config.odin.temperature = t  # read by learner._odin
        for eps in EPSILONS:
          grid.append({"temperature": t, "epsilon": eps,
                       "train_mean": float(np.mean(learner._odin(trained.state, calibration, eps))),
                       "auc": metrics.auc(split.y_test, -learner._odin(trained.state, split.x_test, eps))})
      row = {"scenario": scenario, "seed": seed, "grid": grid}
      with open(args.rows, "a") as f:
        f.write(json.dumps(row) + "\n")
      print(scenario, seed, " ".join(f"T{g['temperature']:g}/eps{g['epsilon']:g}: {g['auc']:.1f}" for g in grid),
            flush=True)


if __name__ == "__main__":
  main()
