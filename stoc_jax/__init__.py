"""stoc_jax: unsupervised anomaly detection on contaminated data (STOC / SRR) in JAX.

Library layout: `occ` (one-class classifiers), `refine` (ensemble refinement,
Eq. 1-2), `metrics`, `goad` and `resnet` / `objectives` / `augment`
(representation learners), `lenet` / `oe_objectives` / `oe_learner` (outlier
exposure), `tabular_stoc`, `image_stoc` and `oe_stoc` (the pipelines),
`data` (loaders and contamination splits), `table_models` and `contamination`
(host one-class models and the contamination estimate of tables), `detector`
and `oe_detector` (the estimator APIs).
"""

__version__ = "0.1.0"


def __getattr__(name):
  # Lazy, so that `import stoc_jax` stays cheap and the submodules import JAX only when used.
  if name in ("STOCDetector", "refine_dataset", "features_as_given"):
    from stoc_jax import detector
    return getattr(detector, name)
  if name == "OEDetector":
    from stoc_jax import oe_detector
    return oe_detector.OEDetector
  raise AttributeError(f"module 'stoc_jax' has no attribute {name!r}")
