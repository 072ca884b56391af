"""STOC + GOAD on ODDS Thyroid (paper settings: M = 256, 2^16 steps).

  python experiments/run.py --config=experiments/configs/thyroid_stoc.py \
      --config.data_dir=../shared/data/tabular --config.anomaly_ratio=0.015 --workdir=/tmp/thyroid

CPU-sized variant (what tests and benchmarks use): append `:cpu` to the config
path, i.e. --config=experiments/configs/thyroid_stoc.py:cpu, which sets
train_steps=2048 and learning_rate=0.1 (about 1 min a run on 2 CPU cores; the
paper setting takes 30-40 min). Measured at 1.5 %, seeds 0-2 (F1): paper
setting GOAD 44.7 / 51.1 / 31.9, STOC 44.7 / 51.1 / 36.2; `:cpu` GOAD 40.4 /
44.7 / 34.0, STOC 51.1 / 48.9 / 38.3 (benchmarks/tabular/RESULTS.md).
Expected (paper): F1 75.1 clean; at 1.5 % GOAD 50.6, STOC 63.9.

Robust column scaling, --config.standardize_robust=True (median and IQR instead of
the mean and std that the training anomalies inflate), `:cpu`, seeds 0-4: at 1.5 %
GOAD 49.8, STOC 66.8; at 2.5 % GOAD 43.9, STOC 67.0 (RESULTS.md, session 8).
"""

from experiments.configs import tabular_base


def get_config(variant=""):
  c = tabular_base.get_config()
  c.dataset = "thyroid"
  c.goad.num_transforms = 256
  c.train_steps = 2**16
  if variant == "cpu":
    c.train_steps = 2048
    c.goad.learning_rate = 0.1
  return c
