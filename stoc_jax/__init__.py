"""stoc_jax: unsupervised anomaly detection on contaminated data (STOC / SRR) in JAX.

Library layout: `occ` (one-class classifiers), `refine` (ensemble refinement,
Eq. 1-2), `metrics`, `goad` and `resnet` / `objectives` / `augment`
(representation learners), `tabular_stoc` and `image_stoc` (the pipelines),
`data` (loaders and contamination splits), `table_models` and `contamination`
(host one-class models and the contamination estimate of tables), `detector`
(the estimator API).
"""

__version__ = "0.1.0"


def __getattr__(name):
  # Lazy, so that `import stoc_jax` stays cheap and the submodules import JAX only when used.
  if name in ("STOCDetector", "refine_dataset"):
    from stoc_jax import detector
    return getattr(detector, name)
  raise AttributeError(f"module 'stoc_jax' has no attribute {name!r}")
