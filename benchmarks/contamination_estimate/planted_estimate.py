"""The contamination estimate on Gaussian tables with planted anomalies of three kinds, 20 seeds each.

  python benchmarks/contamination_estimate/planted_estimate.py > benchmarks/contamination_estimate/planted_estimate.md   # 2 min

* scattered: each anomaly near a random corner of a cube, 3.5 SDs out on every column (the
  anomalies of tests/test_detector.py);
* one group: the anomalies a second population, Gaussian like the normal rows and 5 SDs away on
  every column;
* one column: each anomaly 6 SDs out on the first column and normal on the others, as a row with
  one wrong or extreme value is.

Each cell: how many of the 20 seeds put `contamination_` of `STOCDetector()` within 2x of the
planted fraction, how many below half of it and above twice it, and the median AUC of its scores
(the ranking, which does not depend on the estimate's count). A last table gives the same counts
for a candidate that also reads each row's most extreme column (`either_geo_2.5` of
contamination_probe.py) on the one-column anomalies.
"""

import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

from stoc_jax import STOCDetector, metrics  # noqa: E402

ROWS = 1000
COLUMNS = (2, 4, 8, 16)
RATIOS = (0.02, 0.05, 0.10)
SEEDS = 20


def planted(kind, ratio, dim, seed):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(ROWS, dim))
  k = int(ratio * ROWS)
  if kind == "scattered":
    x[:k] = 0.5 * rng.normal(size=(k, dim)) + 3.5 * rng.choice([-1, 1], (k, dim))
  elif kind == "one group":
    x[:k] += 5.0
  else:
    x[:k, 0] += 6.0
  y = np.zeros(ROWS)
  y[:k] = 1
  return x, y


def main():
  warnings.filterwarnings("ignore")
  print("Seeds of 20 within 2x of the planted fraction (below half of it / above twice it), and the "
        f"median AUC, {ROWS:,} rows (`python benchmarks/contamination_estimate/planted_estimate.py`):")
  for kind in ("scattered", "one group", "one column"):
    print(f"\n{kind}:\n")
    print_table(lambda dim, ratio, kind=kind: detector_cell(kind, dim, ratio))
  print("\none column, `either_geo_2.5` (the larger of the library's reading and the same reading of each "
        "row's most extreme column; no AUC, it scores nothing):\n")
  print_table(lambda dim, ratio: counts(
      [either_estimate(planted("one column", ratio, dim, seed)[0], seed) for seed in range(SEEDS)], ratio))


def print_table(cell):
  """A markdown table: a row per column count, a cell(columns, ratio) per planted fraction."""
  print("| columns | " + " | ".join(f"{100 * r:g} % planted" for r in RATIOS) + " |")
  print("|---|" + "---|" * len(RATIOS))
  for dim in COLUMNS:
    print(f"| {dim} | " + " | ".join(cell(dim, ratio) for ratio in RATIOS) + " |", flush=True)


def counts(estimates, ratio):
  low, high = sum(e < ratio / 2 for e in estimates), sum(e > 2 * ratio for e in estimates)
  return f"{len(estimates) - low - high} ({low} / {high})"


def detector_cell(kind, dim, ratio):
  estimates, aucs = [], []
  for seed in range(SEEDS):
    x, y = planted(kind, ratio, dim, seed)
    det = STOCDetector(random_state=seed).fit(x)
    estimates.append(det.contamination_)
    aucs.append(metrics.auc(y, det.decision_scores_))
  return f"{counts(estimates, ratio)}, AUC {np.median(aucs):.1f}"


def either_estimate(x, seed):
  """contamination_probe.py's either_geo_2.5 of x, standardized as the detector standardizes it."""
  from benchmarks.contamination_estimate.contamination_probe import most_extreme_column
  from stoc_jax import contamination
  x = contamination.columns_for_estimate((x - x.mean(0)) / x.std(0))
  # The library's reading of each score, capped at 0.5 as the library caps it: no count here moves,
  # since twice the truth is at most 0.2.
  return max(contamination.fraction_of_scores(contamination.member_z(x, 5, seed).mean(0)),
             contamination.fraction_of_scores(most_extreme_column(x)))


if __name__ == "__main__":
  main()
