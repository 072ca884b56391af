"""Shared settings of the tabular STOC experiments (STOC A.3, Table 1).

Not an experiment itself: thyroid_stoc.py, arrhythmia_stoc.py, kdd_stoc.py,
kddrev_stoc.py and breast_cancer_stoc.py import it and set what differs.
"""

import ml_collections
from ml_collections import config_dict


def get_config():
  c = ml_collections.ConfigDict()
  c.pipeline = "tabular"
  c.seed = 0
  c.dataset = "thyroid"
  c.data_dir = "data"  # folder holding the data file; the loader names the file it looked for
  c.data_path = ""  # dataset="csv": the table; label_column names its 0/1 column
  c.label_column = ""
  c.anomaly_ratio = 0.0  # anomalies / all training rows
  c.minority_positive = False
  c.compare_baseline = False  # also run without refinement; results.json gains "baseline"

  c.split = ml_collections.ConfigDict()
  c.split.seed = 0
  c.split.train_normal_fraction = 0.5
  # Anomalies held out for contamination: enough for this ratio (None: min(data set ratio, 10 %)).
  c.split.max_anomaly_ratio = config_dict.placeholder(float)

  c.representation = "goad"  # "goad" (learned, refined on a schedule) or "raw" (fixed features)
  c.final_occ = "gde"  # representation="raw": gde, kde, ocsvm or ocsvm_linear
  c.goad = ml_collections.ConfigDict()
  c.goad.num_transforms = 256
  c.goad.proj_dim = 32
  c.goad.hidden = 8
  c.goad.depth = 5
  c.goad.learning_rate = 1e-3
  c.goad.momentum = 0.9
  c.goad.weight_decay = 3e-5
  c.goad.batch_size = 64  # rows per step; each is seen under all M projections
  c.goad.score_aggregate = "sum"
  c.train_steps = 2**16
  c.steps_per_jit = 256
  c.checkpoint_every_steps = 4096

  c.refine = ml_collections.ConfigDict()
  c.refine.enabled = True
  c.refine.update_representation = True  # False: refine once, for the final OCC only
  c.refine.num_models = 5
  # A fraction in (0, 1), "auto" (2 x anomaly_ratio; 0.005 at ratio 0) or "otsu".
  c.refine.gamma = config_dict.FieldReference("auto", field_type=object)
  c.refine.otsu_multiplier = 2.0
  c.refine.schedule_epochs = (1, 2, 5, 10, 20, 50, 100, 500)
  c.refine.every_epochs = 500
  c.refine.schedule_steps = ()  # explicit steps instead of the epoch schedule
  return c
