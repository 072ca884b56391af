"""One-class classifiers on feature vectors.

Every scorer returns *anomaly* scores: higher means more anomalous.

* GDE (Gaussian density estimator): a single full-covariance Gaussian, written in
  jnp so that K of them can be fitted in one pass of weighted sums (or sharded), with
  optional per-sample weights. Shrinkage towards a scaled identity keeps the
  covariance invertible for singular or constant features.
* KDE with the RBF width rule of Sohn et al. (10 / (dim * Var)).
* OC-SVM (RBF or linear) through scikit-learn.
* Otsu's threshold, used to estimate an unknown contamination ratio.
* FinalOCC: any of the first three chosen by name, as configs and STOCDetector do.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class GDEParams(NamedTuple):
  mean: jax.Array  # (D,)
  chol: jax.Array  # (D, D) lower Cholesky factor of the covariance
  log_det: jax.Array  # () log-determinant of the covariance


def gde_fit(features, weights=None, shrinkage: float | str = "ledoit_wolf",
            reg_covar: float = 1e-6) -> GDEParams:
  """Fits one Gaussian to `features` (N, D), optionally weighted by `weights` (N,).

  The covariance is the (weighted) maximum-likelihood estimate S, shrunk as
  (1 - a) * S + a * (tr(S) / D) * I plus `reg_covar` * I. `shrinkage` is a, or
  "ledoit_wolf" for the Ledoit-Wolf estimate of a from the data (near 0 when
  N >> D, larger when the covariance is singular, e.g. more features than rows).
  `shrinkage=0.0` is scikit-learn's GaussianMixture(1, "full").
  """
  x = jnp.asarray(features, jnp.float32)
  if weights is None:
    weights = jnp.ones(x.shape[0], x.dtype)
  return jax.tree.map(lambda v: v[0], _fit_weighted(x, jnp.asarray(weights, x.dtype)[:, None], shrinkage,
                                                    reg_covar))


def _fit_weighted(x, weights, shrinkage, reg_covar, axis_name=None) -> GDEParams:
  """K Gaussians from one pass of weighted sums; weights (N, K). psum over `axis_name` if sharded."""
  psum = (lambda v: jax.lax.psum(v, axis_name)) if axis_name else (lambda v: v)
  # Centre on the global mean first so that the uncentred moments below stay
  # accurate in float32.
  centre = psum(x.sum(axis=0)) / psum(jnp.asarray(x.shape[0], x.dtype))
  x = x - centre
  totals = jnp.maximum(psum(weights.sum(axis=0)), 1e-12)  # (K,)
  means = psum(weights.T @ x) / totals[:, None]  # (K, D)
  # One (D, D) product per model, in sequence: an einsum over all K at once would
  # materialise an (N, K, D) intermediate.
  second = psum(jax.lax.map(lambda w: (x * w[:, None]).T @ x, weights.T))
  covs = second / totals[:, None, None] - means[:, :, None] * means[:, None, :]
  if shrinkage == "ledoit_wolf":
    # sum_i w_ik ||x_i - mu_k||^4, the fourth moment Ledoit-Wolf needs.
    sq = jnp.sum(x * x, 1)[:, None] - 2.0 * x @ means.T + jnp.sum(means * means, 1)[None, :]
    fourth = psum(jnp.sum(weights * sq * sq, axis=0)) / totals
    alpha = jax.vmap(_ledoit_wolf_alpha)(covs, fourth, totals)
  else:
    if isinstance(shrinkage, str):
      raise ValueError(f"shrinkage must be a number in [0, 1] or 'ledoit_wolf', got {shrinkage!r}.")
    alpha = jnp.full(covs.shape[0], float(shrinkage), covs.dtype)
  # One factorisation at a time: jaxlib's batched Cholesky spreads a batch over the CPU thread pool
  # and waits for it, which deadlocks when every pool thread is a device inside that same wait
  # (2 devices on 2 cores, as in a sharded fit).
  params = jax.lax.map(lambda mca: _gaussian_from_cov(*mca, reg_covar), (means, covs, alpha))
  return params._replace(mean=params.mean + centre)


def _ledoit_wolf_alpha(cov, fourth_moment, n):
  """Ledoit & Wolf (2004) shrinkage intensity towards (tr(S)/D) I, as scikit-learn computes it."""
  dim = cov.shape[-1]
  mu = jnp.trace(cov) / dim
  delta = (jnp.sum(cov * cov) - 2 * mu * jnp.trace(cov) + dim * mu * mu) / dim  # ||S - mu I||^2 / D
  beta = (fourth_moment - jnp.sum(cov * cov)) / (dim * n)
  beta = jnp.minimum(beta, delta)
  return jnp.where(delta > 0, beta / jnp.maximum(delta, 1e-30), 0.0)


def _gaussian_from_cov(mean, cov, shrinkage, reg_covar) -> GDEParams:
  dim = cov.shape[-1]
  eye = jnp.eye(dim, dtype=cov.dtype)
  cov = (1.0 - shrinkage) * cov + shrinkage * (jnp.trace(cov) / dim) * eye
  chol = _cholesky_with_jitter(cov, reg_covar)
  log_det = 2.0 * jnp.sum(jnp.log(jnp.diagonal(chol)))
  return GDEParams(mean, chol, log_det)


def _cholesky_with_jitter(cov, reg_covar, max_tries: int = 8):
  """Cholesky of cov + reg_covar * I, with the jitter raised 10x at a time while it fails.

  In float32 a covariance with exactly dependent columns (one-hot groups, columns
  constant in a refined subset) can come out slightly indefinite, and rounding
  errors grow with the scale of the features and the number of rows; a fixed
  reg_covar then gives a NaN factor. Well-conditioned covariances factor at the
  first try, so their result is unchanged.
  """
  eye = jnp.eye(cov.shape[-1], dtype=cov.dtype)
  floor = jnp.maximum(reg_covar, 1e-7 * jnp.trace(cov) / cov.shape[-1])

  def factor(state):
    tries, jitter, _ = state
    return tries + 1, jitter * 10.0, jnp.linalg.cholesky(cov + jitter * eye)

  def failed(state):
    tries, _, chol = state
    return (tries < max_tries) & ~jnp.all(jnp.isfinite(chol))

  first = jnp.linalg.cholesky(cov + reg_covar * eye)
  _, _, chol = jax.lax.while_loop(failed, factor, (jnp.asarray(0), 10.0 * floor, first))
  return chol


def gde_fit_many(features, assignment, num_models: int, shrinkage: float | str = "ledoit_wolf",
                 reg_covar: float = 1e-6, axis_name: str | None = None) -> GDEParams:
  """Fits `num_models` Gaussians at once, model k on the rows with assignment == k.

  Built from weighted sums over rows, so inside `shard_map` with `axis_name` set
  the rows may be sharded across devices (the sums are psum-ed). Returns stacked
  GDEParams with a leading axis of size `num_models`.
  """
  x = jnp.asarray(features, jnp.float32)
  onehot = jax.nn.one_hot(assignment, num_models, dtype=x.dtype)  # (N, K)
  return _fit_weighted(x, onehot, shrinkage, reg_covar, axis_name)


def gde_score(params: GDEParams, features) -> jax.Array:
  """Negative log-likelihood of `features` (N, D) under the Gaussian (anomaly score).

  A row's score does not depend on the other rows passed with it (scikit-learn's
  subset-invariance check holds to 1e-7)."""
  x = jnp.asarray(features, jnp.float32) - params.mean
  y = jax.scipy.linalg.solve_triangular(params.chol, x.T, lower=True)
  return _nll(params, jnp.sum(y * y, axis=0))


def gde_score_batched(params: GDEParams, features) -> jax.Array:
  """gde_score through L^-1 and one matrix product: 3x faster on CPU for many rows at once, but
  a row's last bits depend on the batch it is scored in. Refinement scores all N rows with it."""
  x = jnp.asarray(features, jnp.float32) - params.mean
  inverse = jax.scipy.linalg.solve_triangular(params.chol, jnp.eye(x.shape[-1], dtype=x.dtype), lower=True)
  return _nll(params, jnp.sum(jnp.square(x @ inverse.T), axis=-1))


def _nll(params, maha):
  dim = params.mean.shape[-1]
  return 0.5 * (maha + params.log_det + dim * jnp.log(2.0 * jnp.pi))


gde_fit_jit = jax.jit(gde_fit, static_argnames=("shrinkage", "reg_covar"))
gde_score_jit = jax.jit(gde_score)


# ---------------------------------------------------------------- KDE, OC-SVM

def rbf_gamma(features) -> float:
  """RBF kernel width of Sohn et al.: 10 / (dim * Var(f)), 10x scikit-learn's 'scale'."""
  features = np.asarray(features, np.float64)
  var = float(features.var())
  # Identical rows (e.g. all a refinement kept) leave float32 rounding as the variance: a width
  # of 1e17 would make every other point's kernel value 0 and its score infinite.
  if var <= 1e-10 * max(float(np.mean(features**2)), 1e-30):
    var = 1.0
  return 10.0 / (features.shape[1] * var)


class KDEParams(NamedTuple):
  support: jax.Array  # (M, D)
  gamma: float


def kde_fit(features, gamma: float | None = None) -> KDEParams:
  x = jnp.asarray(features, jnp.float32)
  return KDEParams(x, rbf_gamma(features) if gamma is None else float(gamma))


@jax.jit
def _kde_score(support, gamma, features):
  d2 = (jnp.sum(features**2, 1)[:, None] + jnp.sum(support**2, 1)[None, :]
        - 2.0 * features @ support.T)
  log_k = -gamma * jnp.maximum(d2, 0.0)
  return -(jax.nn.logsumexp(log_k, axis=1) - jnp.log(support.shape[0]))


def kde_score(params: KDEParams, features, batch_size: int = 4096) -> np.ndarray:
  """Negative log kernel density (up to a constant), scored in batches to bound memory."""
  features = jnp.asarray(features, jnp.float32)
  out = [_kde_score(params.support, params.gamma, features[i:i + batch_size])
         for i in range(0, features.shape[0], batch_size)]
  return np.asarray(jnp.concatenate(out))


def _flat(features):
  return np.asarray(features).reshape(len(features), -1)


def _kde_fit_rows(features):
  return kde_fit(_flat(features))


def _kde_score_rows(params, features):
  return kde_score(params, _flat(features))


def kde_on_rows():
  """(fit, score) of a KDE on each row's features flattened: refine.occ="kde" for `refine_data`."""
  return _kde_fit_rows, _kde_score_rows


def ocsvm_fit(features, kernel: str = "rbf", nu: float = 0.5, gamma: float | None = None):
  """scikit-learn OneClassSVM with the papers' kernel width rule."""
  from sklearn.svm import OneClassSVM
  if kernel not in ("rbf", "linear"):
    raise ValueError(f"OC-SVM kernel must be 'rbf' or 'linear', got {kernel!r}.")
  features = np.asarray(features, np.float64)
  kwargs = {"gamma": rbf_gamma(features) if gamma is None else gamma} if kernel == "rbf" else {}
  return OneClassSVM(kernel=kernel, nu=nu, **kwargs).fit(features)


def ocsvm_score(model, features) -> np.ndarray:
  return -model.decision_function(np.asarray(features, np.float64))


# ---------------------------------------------------------------- Otsu

def otsu_threshold_jnp(scores, num_bins: int = 256):
  """Otsu's threshold as jnp ops (jittable): the cut maximising the between-class variance of a
  `num_bins` histogram of the scores, returned as the upper edge of the best bin."""
  scores = jnp.ravel(scores)
  lo, hi = scores.min(), scores.max()
  width = jnp.where(hi > lo, hi - lo, 1.0)
  # np.histogram's bins: [lo + i w, lo + (i + 1) w), the last one closed.
  bins = jnp.clip(jnp.floor((scores - lo) / width * num_bins).astype(jnp.int32), 0, num_bins - 1)
  counts = jnp.zeros(num_bins, scores.dtype).at[bins].add(1.0)
  return _otsu_cut(counts, lo, width, hi, num_bins, jnp)


def otsu_threshold_np(scores, num_bins: int = 256) -> float:
  """`otsu_threshold_jnp` in NumPy, in the scores' dtype: for host scores, nothing to compile."""
  scores = np.ravel(scores)
  lo, hi = scores.min(), scores.max()
  width = hi - lo if hi > lo else scores.dtype.type(1.0)
  bins = np.clip(np.floor((scores - lo) / width * num_bins).astype(np.int64), 0, num_bins - 1)
  counts = np.bincount(bins, minlength=num_bins).astype(scores.dtype)
  return _otsu_cut(counts, lo, width, hi, num_bins, np)


def _otsu_cut(counts, lo, width, hi, num_bins, xp):
  edges = lo + width * xp.arange(num_bins + 1, dtype=counts.dtype) / num_bins
  centres = 0.5 * (edges[:-1] + edges[1:])
  w0 = xp.cumsum(counts)
  w1 = w0[-1] - w0
  s0 = xp.cumsum(counts * centres)
  s1 = s0[-1] - s0
  valid = (w0 > 0) & (w1 > 0)
  mu0 = xp.where(valid, s0 / xp.maximum(w0, 1), 0.0)
  mu1 = xp.where(valid, s1 / xp.maximum(w1, 1), 0.0)
  # Minimising within-class variance == maximising between-class variance.
  between = xp.where(valid, w0 * w1 * (mu0 - mu1) ** 2, -1.0)
  return xp.where(hi > lo, edges[xp.argmax(between) + 1], hi)


def otsu_ratio_jnp(scores, num_bins: int = 256):
  """Fraction of the scores at or above Otsu's threshold (jittable): an anomaly-ratio estimate."""
  return jnp.mean(jnp.ravel(scores) >= otsu_threshold_jnp(scores, num_bins))


def _finite_scores(scores):
  scores = np.asarray(scores, np.float64).ravel()
  if scores.size < 2 or not np.isfinite(scores).all():
    raise ValueError("Otsu's threshold needs at least two finite scores.")
  return scores


def otsu_threshold(scores, num_bins: int = 256) -> float:
  """Otsu's threshold of a score vector on the host, in float64."""
  return float(otsu_threshold_np(_finite_scores(scores), num_bins))


def otsu_ratio(scores, num_bins: int = 256) -> float:
  """Fraction of samples at or above Otsu's threshold: an anomaly-ratio estimate."""
  scores = _finite_scores(scores)
  return float(np.mean(scores >= otsu_threshold(scores, num_bins)))


FINAL_OCCS = ("gde", "kde", "ocsvm", "ocsvm_linear")


class FinalOCC:
  """An OCC named by a config's `final_occ`, fitted on the refined rows: a picklable callable
  returning anomaly scores. The final OCC of every learner with vector features.

  `features` holds every training row and `mask` the refined ones. The GDE is fitted
  on all rows with 0/1 weights, one compiled program per table shape however many rows
  refinement keeps (device arrays may be sharded, and padded past len(mask)); the host
  models (KDE, OC-SVM) on the kept rows, gathered to each host.
  """

  def __init__(self, kind: str, features, mask=None):
    if kind not in FINAL_OCCS:
      raise ValueError(f"final_occ must be one of {FINAL_OCCS}, got {kind!r}.")
    self.kind = kind
    mask = np.ones(features.shape[0], bool) if mask is None else np.asarray(mask, bool)
    on_device = isinstance(features, jax.Array)
    if kind == "gde":
      weights = np.zeros(features.shape[0], np.float32)
      weights[:len(mask)] = mask
      self.model = jax.device_get(gde_fit_jit(features, _like_rows(weights, features) if on_device else weights))
      return
    from stoc_jax import sharding
    kept = (sharding.to_host(features) if on_device else np.asarray(features))[:len(mask)][mask]
    if kind == "kde":
      self.model = kde_fit(kept)
    else:
      self.model = ocsvm_fit(kept, kernel="rbf" if kind == "ocsvm" else "linear")

  def __call__(self, features) -> np.ndarray:
    from stoc_jax import sharding
    if self.kind == "gde":
      return sharding.to_host(gde_score_jit(self.model, features))
    features = sharding.to_host(features) if isinstance(features, jax.Array) else features
    if self.kind == "kde":
      return kde_score(self.model, features)
    return ocsvm_score(self.model, features)


def _like_rows(values: np.ndarray, rows: jax.Array) -> jax.Array:
  """Host values, one per row, placed as `rows` is (sharded over the same devices)."""
  sharding = getattr(rows, "sharding", None)
  if isinstance(sharding, jax.sharding.NamedSharding) and len(sharding.mesh.devices.flat) > 1:
    from stoc_jax import sharding as rows_sharding
    return rows_sharding.put_rows(values, sharding.mesh)
  return jnp.asarray(values)
