"""Default settings of the two pipelines, as ml_collections ConfigDicts.

The experiment files in experiments/configs/ start from these; the estimator
(`STOCDetector`) uses them for its learned representations. Every field is
documented where it is set.
"""

import ast

import ml_collections
from ml_collections import config_dict


def check_variant(variant: str, known=()) -> str:
  """A config file's variant (the text after ':' in --config=FILE:VARIANT), refused unless known."""
  if variant not in ("",) + tuple(known):
    listed = ", ".join(f"':{v}'" for v in known) if known else "none"
    raise ValueError(f"unknown config variant {variant!r}: this config's variants are {listed} "
                     "(or no variant for the default).")
  return variant


def parse_overrides(pairs) -> dict:
  """['a.b=value', ...] -> {'a.b': value}, each value a Python literal or else the bare string
  (such as otsu); for ConfigDict.update_from_flattened_dict in scripts that sweep configs."""
  out = {}
  for kv in pairs:
    key, value = kv.split("=", 1)
    try:
      out[key] = ast.literal_eval(value)
    except (ValueError, SyntaxError):
      out[key] = value
  return out


def tabular_defaults() -> ml_collections.ConfigDict:
  """Settings of the tabular pipeline (STOC A.3, Table 1 at Thyroid scale)."""
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
  # dataset="kddrev": attacks kept, as a fraction of the normal rows. 0.2 is our reading of DAGMM
  # (Zong et al. 2018); GOAD's code draws normal : attack = 4 : 1, i.e. 0.25. It sets how many attacks
  # the test set holds; the training set's contamination is anomaly_ratio either way.
  c.kddrev_attack_fraction = 0.2

  # True: keep one copy of rows repeated exactly in the (unlabeled) training set. A single Gaussian
  # weighs a row by its multiplicity, so hundreds of copies of one anomaly (KDD's smurf attacks)
  # look normal to every OCC and refinement cannot remove them. The test set is left as it is.
  c.deduplicate_train = False
  c.standardize = True  # z-score columns by the (unlabeled) training set's mean / std
  # False: 0/1 columns (one-hot codes) keep their values and only the others are z-scored, as GOAD
  # scales KDD; True also z-scores them, which turns a rare category into a huge value.
  c.standardize_binary = True
  # True: centre on the median and scale by IQR / 1.349 instead of mean and std, statistics the
  # training set's anomalies cannot drag (see tabular_stoc.scaling_statistics).
  c.standardize_robust = False
  c.representation = "goad"  # "goad" (learned, refined on a schedule) or "raw" (fixed features)
  # representation="raw": gde, kde, ocsvm or ocsvm_linear; "goad": gde (per projection). Either:
  # "ensemble" scores with refinement's K OCCs instead (STOC Table 7: "SRR without final OCC", and
  # with refine.enabled=False "Ensemble only").
  c.final_occ = "gde"
  c.goad = ml_collections.ConfigDict()
  c.goad.num_transforms = 256
  c.goad.proj_dim = 32
  c.goad.hidden = 8
  c.goad.depth = 5
  c.goad.optimizer = "sgd"  # "sgd" (paper, with momentum) or "adam"
  c.goad.learning_rate = 1e-3
  c.goad.momentum = 0.9
  c.goad.weight_decay = 3e-5
  c.goad.batch_size = 64  # rows per step; each is seen under all M projections
  c.goad.clip_grad_norm = 0.0  # > 0: clip each gradient to this global norm (goad.make_optimizer)
  c.goad.score_aggregate = "sum"
  # True: the GDEs see f(T_m(x)) / ||f(T_m(x))||, Sohn et al.'s default representation; it drops
  # the norm, which carries most of the signal here (Thyroid 1.5 %: STOC 31.5 against 46.8).
  c.goad.l2_normalize = False
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
  # The ensemble's one-class model: "gde" (the papers'; per projection on GOAD features) or "kde".
  c.refine.occ = "gde"
  # GOAD only: R GOADs, refinement's model k looking through GOAD k mod R; GOAD 0 gives the final OCC.
  c.refine.num_representations = 1
  # When fewer than 2 rows survive a round: "raise" (stop with the reason) or "keep_all" (warn and
  # keep every row; what STOCDetector does).
  c.refine.if_nothing_kept = "raise"
  c.refine.schedule_epochs = (1, 2, 5, 10, 20, 50, 100, 500)
  c.refine.every_epochs = 500
  c.refine.schedule_steps = ()  # explicit steps instead of the epoch schedule
  # True: a first round at step 0 with the initialised representation (STOC Algorithm 1, line 10).
  c.refine.before_training = False
  # True: the column scaling is part of g, so it too is estimated on refined rows: one refinement
  # of the scaled raw features, then the scaling statistics recomputed on the rows it keeps.
  c.refine.scaling = False
  return c


def image_defaults() -> ml_collections.ConfigDict:
  """Settings of the image pipeline at paper scale (Sohn et al. 2021 A.1)."""
  c = ml_collections.ConfigDict()
  c.pipeline = "image"
  c.seed = 0
  c.dataset = "cifar10"  # digits, cifar10, folder, npz or tfds:NAME
  c.data_dir = "data"
  c.normal_class = 0
  c.anomaly_ratio = 0.0  # fraction of the normal class's training images swapped for other classes
  c.image_size = 0  # > 0: resize every image to image_size x image_size once, on the host
  # > 0: a data set without a test split holds out its last holdout_per_class images of each
  # class as the test set (tfds:cats_vs_dogs, 2,500 a class as Golan & El-Yaniv 2018).
  c.holdout_per_class = 0
  c.compare_baseline = False  # run.py also runs without refinement and reports both
  c.max_train_images = 0  # 0 = all; CPU-sized runs subsample
  c.max_test_images = 0
  c.num_devices = 0  # 0 = all devices on the ("data",) mesh

  c.objective = "da_contrastive"  # contrastive, da_contrastive, rotation, rotnet, dae
  c.temperature = 0.2
  c.dae_noise = 0.1
  c.model = ml_collections.ConfigDict()
  c.model.width = 1.0
  c.model.stem = "cifar"
  c.model.head_hidden = 512
  c.model.head_depth = 8
  c.model.head_out = 128
  c.augment = ml_collections.ConfigDict()
  c.augment.crop_scale = (0.2, 1.0)
  c.augment.jitter_strength = 0.5
  c.augment.blur_kernel = 3
  c.augment.hflip_distributions = False

  c.optimizer = ml_collections.ConfigDict()
  c.optimizer.learning_rate = 0.01
  c.optimizer.momentum = 0.9
  c.optimizer.weight_decay = 3e-4
  c.batch_size = 32
  c.eval_batch_size = 256
  c.train_epochs = 2048
  c.train_steps = 0  # > 0 overrides train_epochs
  c.checkpoint_every_steps = 5000

  # gde, kde, ocsvm, ocsvm_linear; rotnet for objective=rotnet; "ensemble": refinement's K GDEs
  # score instead of a final OCC (STOC Table 7's "SRR without final OCC" / "Ensemble only").
  c.final_occ = "gde"
  c.refine = ml_collections.ConfigDict()
  c.refine.enabled = True
  c.refine.update_representation = True
  c.refine.num_models = 5
  c.refine.gamma = config_dict.FieldReference("auto", field_type=object)
  c.refine.otsu_multiplier = 2.0
  c.refine.if_nothing_kept = "raise"  # see tabular_defaults
  c.refine.schedule_epochs = (1, 2, 5, 10, 20, 50, 100, 500)
  c.refine.every_epochs = 500
  c.refine.schedule_steps = ()
  c.refine.before_training = False  # see tabular_defaults
  return c
