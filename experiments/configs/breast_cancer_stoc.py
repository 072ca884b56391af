"""The quickstart: STOC on scikit-learn's bundled breast-cancer table (no download).

Malignant cases are the anomalies; 5 % of the training rows are malignant.
Refinement on fixed standardised features, then a GDE; the same run without
refinement is the baseline printed beside it:

  python experiments/run.py --config=experiments/configs/breast_cancer_stoc.py --workdir=/tmp/bc

Expected: AUC 90.2 without refinement and 94.1 with it (AP 89.0 and 93.1); about 6 s on 2 CPU
cores. `:goad` learns a GOAD representation instead (about a minute).
"""

from stoc_jax.configs import check_variant
from experiments.configs import tabular_base


def get_config(variant=""):
  check_variant(variant, ('goad',))
  c = tabular_base.get_config()
  c.dataset = "breast_cancer"
  c.anomaly_ratio = 0.05
  c.representation = "raw"
  c.compare_baseline = True
  c.goad.num_transforms = 32
  c.train_steps = 1024
  c.goad.learning_rate = 0.1
  if variant == "goad":
    c.representation = "goad"
  return c
