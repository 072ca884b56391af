"""A label-free estimate of the fraction of anomalies in a table.

K Gaussians, each fitted on a disjoint 1/K of the rows (refinement's ensemble, STOC
Eq. 1), score every row. Under a Gaussian a row's squared Mahalanobis distance is
chi-square with D degrees of freedom, which `normal_scores` turns into a standard normal
z-score (Wilson and Hilferty's cube root from 3 dimensions, the exact quantile below);
the K z-scores are averaged. Two readings of that score
must agree that there is contamination:

* the tail count: the fraction of rows more than 2.5 robust standard deviations
  (median and MAD) above the median, the outlier cut Leys et al. (2013) recommend;
* a two-component fit: the weight of the upper component of a 1-D Gaussian mixture on
  the score, or 0 when one component fits better by BIC.

The estimate is their geometric mean, so it is 0 when either finds nothing: on Gaussian
noise it flags no row, where Otsu's cut flags a quarter. Anomalies are the fewer rows, so
an upper component that holds most of them is not their share but the bulk of a skewed
score, its lower part read as a second component (on one Gaussian column of 300 rows, 5
seeds of 20 put 60-86 % of the rows there, and the geometric mean said 3-11 %); there
the tail count alone is the estimate. benchmarks/tables/ compares it with the other
candidates on every table.

Columns with only two values (0/1 flags, one-hot codes of a categorical column) are left
out of the estimate, not of the models: such a column adds a two-valued term to every
distance, so the rows split by their value there, and on clean data with one balanced
0/1 column the two-component fit finds the two groups and the estimate is 5-14 % where
it should be 0 (tests/test_detector.py). The values of a column that repeats them (counts,
ratings, ages in years, measurements rounded to a grid) are spread over their cells of the
column's grid (`dequantize`), for the same reason: the distances fall into tight groups, which
the two-component fit reads as components (up to 19 % on 28 of 40 seeds of a clean Gaussian
column beside one rounded to whole numbers; spread, 0 on all 40).

Its limit is masking: anomalies that form one tight cluster of, say, 10 % of the rows
pull every Gaussian towards themselves and leave no tail to count (the estimate is then
near 0; tests/test_detector.py), and so does a second population of 10 % of the rows, 5 SDs
away on each of 8 columns. Anomalies far out on one column of many are missed too: a
deviation in one column is a small part of a distance over all of them (on 8 or 16
Gaussian columns with 2-10 % such rows, the estimate is mostly 0; benchmarks/contamination_estimate/,
"Planted anomalies"). And it fits Gaussians: clean columns of other shapes read as contaminated,
7-25 % on lognormal or exponential columns, 4-16 % on counts of rare events (Poisson, mean
0.5), up to 4 % on a few seeds of uniform ratings (benchmarks/contamination_estimate/noise_estimate.md).
Give the contamination when you know it.

Images have learned features, 512 of them for a few hundred images: there the estimate reads
their first principal components (`leading_components`), where each Gaussian can be fitted
(benchmarks/images/RESULTS.md, section 4).
"""

from __future__ import annotations

import numbers

import numpy as np

# The detector's contamination_ is never below this: the most extreme row in a thousand is flagged
# even on clean data (scikit-learn's outlier-detector contract expects both labels from fit_predict).
MIN_CONTAMINATION = 0.001

TAIL_CUT = 2.5


def percent_hint(value) -> str:
  """For an anomaly fraction given as a percentage (5 for 5 %, or "5%" as the command line takes it),
  the fraction meant; else ""."""
  if isinstance(value, str) and value.strip().endswith("%"):
    try:
      value = float(value.strip()[:-1])
    except ValueError:
      return ""
    return f" (a percentage? {value:g} % is {value / 100:g})" if value >= 0 else ""
  if isinstance(value, numbers.Real) and 1.0 <= value <= 50.0:  # 1: no one means all rows
    return f" (a percentage? {value:g} % is {value / 100:g})"
  return ""


def check_anomaly_ratio(value) -> None:
  """The splits' anomaly_ratio, the anomalies' share of the training rows, must lie in [0, 1)."""
  if not 0.0 <= value < 1.0:
    raise ValueError(f"anomaly_ratio must be a fraction in [0, 1), the anomalies' share of the training "
                     f"rows; got {value:g}{percent_hint(value)}.")


def wilson_hilferty(maha2, dim):
  """Squared Mahalanobis distances (chi-square, `dim` degrees of freedom) as ~N(0, 1) z-scores."""
  return (np.cbrt(maha2 / dim) - (1 - 2 / (9 * dim))) / np.sqrt(2 / (9 * dim))


def normal_scores(maha2, dim):
  """Squared Mahalanobis distances (chi-square, `dim` degrees of freedom) as N(0, 1) z-scores.

  From 3 dimensions Wilson and Hilferty's cube root, close there (the estimate is 0 on Gaussian
  noise of 3 to 20 columns, tests/test_detector.py). In 1 and 2 it is not: on Gaussian noise of one
  column (300 to 5,000 rows) or two (5,000 rows) the estimate came out up to 11 %. There the
  chi-square tail has a closed form, and the z-score is its exact normal quantile:
  log P(chi2_1 > m) = log 2 + log Phi(-sqrt(m)), log P(chi2_2 > m) = -m / 2."""
  from scipy import special
  if dim > 2:
    return wilson_hilferty(maha2, dim)
  maha2 = np.asarray(maha2, np.float64)
  log_tail = np.log(2.0) + special.log_ndtr(-np.sqrt(maha2)) if dim == 1 else -maha2 / 2.0
  # A row at the very mean has tail probability 1, z = -inf; -8 is as far as a normal reaches (6e-16).
  return np.maximum(-special.ndtri_exp(np.minimum(log_tail, 0.0)), -8.0)


def robust_z(values):
  med = np.median(values)
  mad = 1.4826 * np.median(np.abs(values - med))
  return (values - med) / max(mad, 1e-12)


def member_z(x, num_models: int = 5, random_state: int = 0) -> np.ndarray:
  """(K, N): each row's z-score (`normal_scores`) under each of K Gaussians fitted on disjoint parts."""
  from stoc_jax.table_models import GaussianModel
  from stoc_jax.refine import disjoint_parts
  x = np.asarray(x, np.float64)
  assign = disjoint_parts(len(x), num_models, random_state)
  z = []
  for k in range(num_models):
    g = GaussianModel().fit(x[assign == k])
    # Woodbury's path can dip below 0 by rounding.
    z.append(normal_scores(np.maximum(g.mahalanobis2(x), 0.0), x.shape[1]))
  return np.array(z)


def tail_fraction(z, cut: float = TAIL_CUT) -> float:
  return float(np.mean(robust_z(z) > cut))


def mixture_fraction(z, tied: bool = False) -> float:
  """The upper component's weight in a two-component fit of z, 0 when one component is better.
  `tied`: one variance shared by both components, which cannot read a wider component as a second
  one (a candidate that benchmarks/contamination_estimate/contamination_probe.py compares; not the
  estimate's)."""
  from sklearn.mixture import GaussianMixture
  v = np.asarray(z, np.float64)[:, None]
  one = GaussianMixture(1, random_state=0).fit(v)
  # k-means++ seeding: 10x faster than a k-means start on 1-D scores, to the same fit. Tied, it
  # stays at two equal components, so that fit starts from k-means.
  two = GaussianMixture(2, random_state=0, covariance_type="tied" if tied else "full",
                        init_params="kmeans" if tied else "k-means++").fit(v)
  if two.bic(v) >= one.bic(v):
    return 0.0
  return float(two.weights_[int(np.argmax(two.means_.ravel()))])


def two_valued_columns(x) -> np.ndarray:
  """A mask of the columns of `x` that hold at most two distinct values."""
  x = np.asarray(x)
  return ((x == x.min(axis=0)) | (x == x.max(axis=0))).all(axis=0)


def columns_for_estimate(x) -> np.ndarray:
  """`x` without its two-valued columns; a table of such columns only, as it is."""
  flags = two_valued_columns(x)
  return x if flags.all() else x[:, ~flags]


def dequantize(x, random_state: int = 0) -> np.ndarray:
  """`x` with each value of a column that repeats its values (counts, ratings, ages in years,
  rounded measurements) spread uniformly over its cell of the column's grid: the smallest spacing
  between the column's distinct values, so no two values' cells overlap. Columns of distinct values
  are returned as they are.

  Spread by a random draw of `random_state`, which the estimate shares with its partition. The
  models still score the values as given."""
  x = np.array(x, np.float64)
  rng = np.random.default_rng(random_state)
  for j in range(x.shape[1]):
    values = np.unique(x[:, j])
    if 1 < len(values) < len(x):
      cell = np.diff(values).min()
      x[:, j] += rng.uniform(-cell / 2, cell / 2, len(x))
  return x


def quartile_skewness(x) -> np.ndarray:
  """Bowley's skewness of each column, (Q3 + Q1 - 2 median) / (Q3 - Q1): the bulk's asymmetry, which a
  few rows far out do not move; 0 for a column whose quartiles coincide."""
  q1, median, q3 = np.percentile(np.asarray(x, np.float64), [25, 50, 75], axis=0)
  spread = q3 - q1
  return np.where(spread > 0, (q3 + q1 - 2 * median) / np.where(spread > 0, spread, 1.0), 0.0)


def log_symmetrized_columns(x) -> np.ndarray:
  """A mask of the columns of `x` whose values are all positive and whose bulk their log makes more
  symmetric (`quartile_skewness` nearer 0): amounts, durations, sizes. The estimate's Gaussians read
  the long right tail of such a clean column as anomalies (7-25 % on four lognormal or exponential
  columns), and its log as none (benchmarks/contamination_estimate/noise_estimate.md)."""
  x = np.asarray(x, np.float64)
  positive = (x > 0).all(axis=0)
  logs = np.log(np.where(positive, x, 1.0))
  return positive & (np.abs(quartile_skewness(logs)) < np.abs(quartile_skewness(x)))


def fraction_of_scores(z) -> float:
  """The estimate from each row's score z: the geometric mean of the tail count and the upper
  component's weight, at most 0.5. Where the upper component holds most rows it is the bulk of a
  skewed score, not the anomalies, and the tail count alone is the estimate."""
  tail, upper = tail_fraction(z), mixture_fraction(z)
  return float(min(tail if upper > 0.5 else np.sqrt(tail * upper), 0.5))


def leading_components(x, count: int) -> np.ndarray:
  """The rows of `x` (columns standardized first) on its first `count` principal components, each
  scaled to unit variance; components without variance (a set of fewer distinct rows) are dropped.
  Where rows are few for their columns (a few hundred images, 512 learned features), the K
  Gaussians of the estimate can be fitted here and not on `x` itself."""
  from sklearn.decomposition import PCA
  from stoc_jax import column_scaling
  x = column_scaling.standardize(np.asarray(x, np.float64))[0].astype(np.float64)
  if not (x.std(axis=0) > 0).any():
    return np.zeros((len(x), 1))
  # The full SVD: deterministic, and at most a few thousand images by 512 features.
  pca = PCA(min(count, *x.shape), svd_solver="full").fit(x)
  spread = np.sqrt(pca.explained_variance_)
  kept = spread > 1e-6 * spread[0]
  return pca.transform(x)[:, kept] / spread[kept]


def estimate_scores(x, num_models: int = 5, random_state: int = 0) -> np.ndarray:
  """The score `estimate_contamination` reads: each row's z-score, the mean over K Gaussians, on the
  columns the estimate keeps (`columns_for_estimate`) with their repeated values spread (`dequantize`)."""
  x = dequantize(columns_for_estimate(np.asarray(x, np.float64)), random_state)
  return member_z(x, num_models, random_state).mean(axis=0)


def estimate_contamination(x, num_models: int = 5, random_state: int = 0) -> float:
  """The estimated anomaly fraction of the rows of `x` (scaled columns), in [0, 0.5]."""
  if len(x) < 2 * num_models:
    raise ValueError(f"estimating the contamination needs at least {2 * num_models} rows; got {len(x)}.")
  return fraction_of_scores(estimate_scores(x, num_models, random_state))
