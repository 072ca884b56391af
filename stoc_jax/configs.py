"""Default settings of the pipelines (tables, images, outlier exposure, CLAD), as ml_collections ConfigDicts.

The experiment files in experiments/configs/ start from these; the estimator
(`STOCDetector`) uses them for its learned representations. Every field is
documented where it is set.
"""

import ast
import numbers

import ml_collections
from ml_collections import config_dict


def check_variant(variant: str, known=()) -> str:
  """A config file's variant (the text after ':' in --config=FILE:VARIANT), refused unless known."""
  if variant not in ("",) + tuple(known):
    listed = ", ".join(f"':{v}'" for v in known) if known else "none"
    raise ValueError(f"unknown config variant {variant!r}: this config's variants are {listed} "
                     "(or no variant for the default).")
  return variant


def check_positive(config, *fields, integer: bool = False) -> None:
  """A one-line error naming the first of `fields` ("model.width", dotted as on the command line) that
  is not a positive number (an integer with `integer`): a size of 0 otherwise fails deep in JAX, or
  trains a network of no channels without a word."""
  kind = numbers.Integral if integer else numbers.Real
  for field in fields:
    value = config
    for part in field.split("."):
      value = value[part]
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
      raise ValueError(f"{field} must be a positive {'integer' if integer else 'number'}, got {value!r}.")


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
  # training set's anomalies cannot drag (see column_scaling.scaling_statistics).
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
  c = image_data_defaults("image")

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
  c.refine = image_refine_defaults()
  return c


def image_data_defaults(pipeline: str) -> ml_collections.ConfigDict:
  """The data fields every image pipeline shares."""
  c = ml_collections.ConfigDict()
  c.pipeline = pipeline
  c.seed = 0
  c.dataset = "cifar10"  # digits, cifar10, folder, npz or tfds:NAME
  c.data_dir = "data"
  c.normal_class = 0
  # Several normal classes (a tuple, e.g. (0, 3, 8)); empty: (normal_class,).
  c.normal_classes = ()
  c.anomaly_ratio = 0.0  # fraction of the normal classes' training images swapped for other classes
  c.image_size = 0  # > 0: resize every image to image_size x image_size once, on the host
  # > 0: a data set without a test split holds out its last holdout_per_class images of each
  # class as the test set (tfds:cats_vs_dogs, 2,500 a class as Golan & El-Yaniv 2018).
  c.holdout_per_class = 0
  c.compare_baseline = False  # run.py also runs without refinement and reports both
  c.max_train_images = 0  # 0 = all; CPU-sized runs subsample
  c.max_test_images = 0
  c.num_devices = 0  # 0 = all devices on the ("data",) mesh
  return c


def image_refine_defaults(enabled: bool = True) -> ml_collections.ConfigDict:
  """The refine block of the image pipelines (its fields as in tabular_defaults)."""
  r = ml_collections.ConfigDict()
  r.enabled = enabled
  r.update_representation = True
  r.num_models = 5
  r.gamma = config_dict.FieldReference("auto", field_type=object)
  r.otsu_multiplier = 2.0
  r.if_nothing_kept = "raise"
  r.schedule_epochs = (1, 2, 5, 10, 20, 50, 100, 500)
  r.every_epochs = 500
  r.schedule_steps = ()
  r.before_training = False
  return r


def outlier_exposure_defaults() -> ml_collections.ConfigDict:
  """Settings of the outlier-exposure pipeline at paper scale (Ruff et al. 2021, "Rethinking
  assumptions in deep anomaly detection", appendix F: CIFAR-10, LeNet, 200 epochs)."""
  c = image_data_defaults("outlier_exposure")
  # Test anomalies: these classes (empty: every class that is neither normal nor OE); anomaly_ratio's
  # swapped-in images come from them too.
  c.test_anomaly_classes = ()

  # hsc, bce, focal, deep_sad (OE pushed away), deep_svdd (one-class; ignores OE).
  c.objective = "hsc"
  c.eta = 1.0  # Deep SAD's weight of the OE term
  c.focal_gamma = 2.0
  c.focal_alpha = 0.5  # balanced batches (the paper's appendix E)
  c.model = ml_collections.ConfigDict()
  c.model.arch = "lenet"  # "lenet" or "resnet18" (the project's ResNet-18, a linear map to out_dim)
  c.model.conv_channels = (32, 64, 128)  # lenet; MNIST-sized: (16, 32)
  c.model.fc_units = (512, 256)  # lenet; the last is phi's dimension. MNIST-sized: (64, 32)
  c.model.bias = False  # bias terms (Deep SVDD must have none)
  c.model.width = 1.0  # resnet18
  c.model.out_dim = 256  # resnet18: phi's dimension
  c.augment = ml_collections.ConfigDict()
  c.augment.crop_padding = 4  # random crop after reflect-padding this many pixels
  c.augment.hflip = True
  c.augment.jitter_strength = 0.1  # colour jitter, factors in 1 +- 0.8 x this
  c.augment.noise_std = 0.01  # Gaussian pixel noise (images in [0, 1])

  c.optimizer = ml_collections.ConfigDict()
  c.optimizer.learning_rate = 1e-3  # Adam
  c.optimizer.milestones = (0.5, 0.75)  # fractions of the run: epochs 100 and 150 of 200
  c.optimizer.decay = 0.1  # the learning rate's factor at each milestone
  c.optimizer.weight_decay = 5e-7
  c.batch_size = 128  # normal images per step
  c.eval_batch_size = 512
  c.train_epochs = 200  # epochs of the normal training images
  c.train_steps = 0  # > 0 overrides train_epochs
  c.checkpoint_every_steps = 1000

  c.oe = ml_collections.ConfigDict()
  c.oe.source = "classes"  # classes, folder, npz or none (see stoc_jax/data/outlier_exposure.py)
  c.oe.classes = ()  # source=classes; empty: half of the non-normal classes, by seed
  c.oe.path = ""  # source=folder or npz
  c.oe.size = 0  # OE images kept, by seed (0: all)
  c.oe.blur_sigma = 0.0  # Gaussian blur of the OE images, in pixels
  c.oe.batch_size = 128  # OE images per step

  # network: the objective's own score (h(phi(x)) for HSC, -logit for BCE / Focal, ||phi(x) - c||^2
  # for Deep SAD / SVDD); or gde, kde, ocsvm, ocsvm_linear on phi(x), or refinement's ensemble.
  c.final_occ = "network"
  # Off by default: the paper's OE methods. On with oe.source="none": the rows refinement rejects
  # are HSC's / BCE's OE set, outlier exposure drawn from the contaminated training set itself.
  c.refine = image_refine_defaults(enabled=False)
  return c


def clad_defaults() -> ml_collections.ConfigDict:
  """Settings of CLAD at paper scale (Kim et al., "What is wrong with one-class anomaly detection?"):
  100 epochs per stage, 10 clusters, a 100-dimensional code, a ResNet-18 classifier."""
  c = image_data_defaults("clad")
  del c["normal_class"]  # several latent classes are the point; normal_classes=(k,) is one class
  c.normal_classes = (0, 1, 8, 9)  # the normal data's latent classes: CIFAR-10's things

  c.num_clusters = 10
  c.hidden_dim = 100  # the autoencoder's code
  c.autoencoder = ml_collections.ConfigDict()
  c.autoencoder.channels = (32, 32, 64, 64, 128)  # the five convolutions
  c.autoencoder.linear = 512
  c.autoencoder.dropout = 0.1
  c.autoencoder.learning_rate = 0.01  # Adam (the paper)
  c.dec = ml_collections.ConfigDict()
  c.dec.learning_rate = 0.01  # SGD (the paper)
  c.dec.momentum = 0.9
  c.dec.alpha = 1.0  # the Student's t degrees of freedom
  c.classifier = ml_collections.ConfigDict()
  c.classifier.arch = "resnet18"  # or "lenet"
  c.classifier.width = 1.0  # resnet18
  c.classifier.conv_channels = (32, 64, 128)  # lenet
  c.classifier.fc_units = 512  # lenet: the hidden fully connected layer
  c.classifier.learning_rate = 1e-4  # Adam (the paper), cosine decay
  c.augment = ml_collections.ConfigDict()
  c.augment.crop_padding = 4
  c.augment.hflip = True
  c.odin = ml_collections.ConfigDict()
  c.odin.temperature = 1000.0  # Liang et al. (2018)'s value
  # "auto": the value of odin.epsilons that gives the training rows the highest mean score (no labels).
  # At T = 1000 that mean grows with eps well past the grid, so "auto" takes the grid's top: keep it
  # at 0.01 (inputs in [0, 1]); beyond 0.05 AUC falls (benchmarks/clad/RESULTS.md).
  c.odin.epsilon = config_dict.FieldReference("auto", field_type=object)
  c.odin.epsilons = (0.0, 0.0005, 0.001, 0.0014, 0.002, 0.005, 0.01)
  c.odin.calibration_rows = 1000

  c.batch_size = 128
  c.eval_batch_size = 512
  c.train_epochs = 300  # all three stages (stage_fractions: 100 each)
  c.train_steps = 0  # > 0 overrides train_epochs
  c.stage_fractions = (1.0, 1.0, 1.0)  # autoencoder, DEC, classifier
  c.checkpoint_every_steps = 1000
  c.final_occ = "odin"  # or gde, kde, ocsvm, ocsvm_linear on the codes, or refinement's ensemble
  # Off by default (the paper). On: a round at the end of the autoencoder stage (schedule_steps
  # empty) removes rows before the clustering; the later stages train on the kept rows.
  c.refine = image_refine_defaults(enabled=False)
  return c
