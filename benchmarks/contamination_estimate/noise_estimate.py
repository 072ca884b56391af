"""The contamination estimate on clean tables: Gaussian noise of every size, and clean columns
that are skewed, heavy-tailed or counts, 20 seeds each.

  python benchmarks/contamination_estimate/noise_estimate.py > benchmarks/contamination_estimate/noise_estimate.md   # 46 s on 2 cores

A clean table should be estimated clean: each cell gives how many of the 20 seeds put the estimate
(`stoc_jax.contamination.estimate_contamination`, as STOCDetector calls it) above 1 %, and the
largest estimate among them.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

from stoc_jax.contamination import estimate_contamination  # noqa: E402

ROWS = (50, 100, 300, 1000, 3000, 5000)
COLUMNS = (1, 2, 3, 8, 20)
SEEDS = 20


def main():
  print("Seeds of 20 with the estimate above 1 %, and the largest estimate, on Gaussian noise "
        "(`python benchmarks/contamination_estimate/noise_estimate.py`):\n")
  print("| columns | " + " | ".join(f"{n:,} rows" for n in ROWS) + " |")
  print("|---|" + "---|" * len(ROWS))
  for d in COLUMNS:
    cells = []
    for n in ROWS:
      est = [estimate_contamination(np.random.default_rng(seed).normal(size=(n, d)), 5, seed)
             for seed in range(SEEDS)]
      cells.append(f"{sum(e > 0.01 for e in est)} ({100 * max(est):.1f} %)")
    print(f"| {d} | " + " | ".join(cells) + " |", flush=True)
  # Clean columns as measurements often are: skewed (amounts, durations) or heavy-tailed.
  kinds = {"lognormal": lambda rng, n: rng.lognormal(size=(n, 4)),
           "exponential": lambda rng, n: rng.exponential(size=(n, 4)),
           "Student's t, 5 degrees of freedom": lambda rng, n: rng.standard_t(5, size=(n, 4)),
           "the log of lognormal": lambda rng, n: np.log(rng.lognormal(size=(n, 4))),
           "the log of exponential": lambda rng, n: np.log(rng.exponential(size=(n, 4))),
           # Counts of rare events (claims, returns, failed logins), alone and beside measurements.
           "Poisson counts, mean 0.5": lambda rng, n: rng.poisson(0.5, size=(n, 4)).astype(float),
           "Poisson counts, mean 3": lambda rng, n: rng.poisson(3.0, size=(n, 4)).astype(float),
           "geometric counts, mean 2": lambda rng, n: rng.geometric(0.5, size=(n, 4)).astype(float),
           "2 Gaussian and 2 Poisson (mean 0.5)": lambda rng, n: np.c_[rng.normal(size=(n, 2)),
                                                                       rng.poisson(0.5, size=(n, 2))],
           # Measurements rounded to a grid (ages in years, sizes in whole units) and ratings.
           "2 Gaussian and 2 Gaussian rounded to whole numbers": lambda rng, n: np.c_[
               rng.normal(size=(n, 2)), np.round(rng.normal(size=(n, 2)))],
           "1 Gaussian and 1 Gaussian rounded to whole numbers": lambda rng, n: np.c_[
               rng.normal(size=n), np.round(rng.normal(size=n))],
           "ratings 1 to 5, uniform": lambda rng, n: rng.integers(1, 6, size=(n, 4)).astype(float),
           "2 Gaussian and 2 uniform": lambda rng, n: np.c_[rng.normal(size=(n, 2)), rng.uniform(size=(n, 2))],
           # Clean rows of several operating modes (machines, shifts, product types): Gaussian groups
           # whose centres lie 6 SDs apart in every column.
           "two groups of rows, half each": lambda rng, n: rng.normal(size=(n, 4))
               + 6.0 * (np.arange(n) % 2)[:, None],
           "three groups of rows, a third each": lambda rng, n: rng.normal(size=(n, 4))
               + 6.0 * (np.arange(n) % 3)[:, None]}
  print("\nOn clean columns of other shapes, 4 unless the row says 2: seeds of 20 above 1 %, and the range of the estimate:\n")
  print("| columns | 300 rows | 2,000 rows |\n|---|---|---|")
  for kind, make in kinds.items():
    cells = []
    for n in (300, 2000):
      est = [estimate_contamination(make(np.random.default_rng(seed), n), 5, seed) for seed in range(SEEDS)]
      cells.append(f"{sum(e > 0.01 for e in est)} ({100 * min(est):.1f}-{100 * max(est):.1f} %)")
    print(f"| {kind} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
  main()
