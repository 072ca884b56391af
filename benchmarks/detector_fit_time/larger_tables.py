"""STOCDetector on tables past 20,000 rows: fit time on Gaussian tables, and fit + score with AUC and
AP on the whole KDD Cup 99 10 % file and on a 100,000-row sample of it (there also with exact
distances), against IsolationForest in the same run.

  python benchmarks/detector_fit_time/larger_tables.py --kdd_dir=../shared/data/tabular \
      --out=benchmarks/detector_fit_time/larger_tables.json
  python benchmarks/detector_fit_time/larger_tables.py --rows= --kdd_dir=../shared/data/tabular \
      --kdd_detectors=stoc_two_rounds --out=benchmarks/detector_fit_time/kdd_two_rounds.json
  python benchmarks/detector_fit_time/larger_tables.py --rows=2000,20000 --dims=100,500,1500 \
      --detectors=stoc,stoc_gde_iforest,iforest,pyod_knn --out=benchmarks/detector_fit_time/wide_tables.json

Detectors: `STOCDetector()` at its defaults, whose kNN distances measure to at most
`table_models.REFINEMENT_KNN_ROWS` rows in refinement and `FINAL_KNN_ROWS` in the final model (a
random subset beyond); the same with exact distances (both caps off, --exact_up_to rows at most:
they grow with the square of the rows); `refine_occ="gde", occ="iforest"`; IsolationForest; and on
request `refine_rounds=2, gamma_factor=1` (`stoc_two_rounds`) and PyOD's KNN (`pyod_knn`, its defaults: the 5-NN distance, exact).
One fit each, 2 CPU cores shared with nothing else.
"""

import argparse
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402

from stoc_jax import STOCDetector, table_models  # noqa: E402


def stoc_scores(**params):
  return lambda x_train, x_test: STOCDetector(**params).fit(x_train).anomaly_score(x_test)


def exact_stoc_scores(x_train, x_test):
  """STOCDetector() with every kNN distance to all of its rows (the caps off until it has scored)."""
  saved = table_models.REFINEMENT_KNN_ROWS, table_models.FINAL_KNN_ROWS
  table_models.REFINEMENT_KNN_ROWS = table_models.FINAL_KNN_ROWS = None
  try:
    return stoc_scores()(x_train, x_test)
  finally:
    table_models.REFINEMENT_KNN_ROWS, table_models.FINAL_KNN_ROWS = saved


# Each fits on x_train and returns x_test's anomaly scores, higher = more anomalous.
DETECTORS = {
    "stoc": stoc_scores(),
    "stoc_exact": exact_stoc_scores,
    "stoc_gde_iforest": stoc_scores(refine_occ="gde", occ="iforest"),
    # A second round of refinement, the columns rescaled on the rows the first kept, at gamma = the estimate.
    "stoc_two_rounds": stoc_scores(refine_rounds=2, gamma_factor=1),
    "iforest": lambda x_train, x_test: -IsolationForest(random_state=0).fit(x_train).score_samples(x_test),
    "pyod_knn": lambda x_train, x_test: pyod_knn().fit(x_train).decision_function(x_test),
}


def pyod_knn():
  from pyod.models.knn import KNN  # the bench extra
  return KNN()


def timed(name, x_train, x_test):
  """(seconds for fit + scoring x_test, the scores) of DETECTORS[name]."""
  t0 = time.perf_counter()
  scores = DETECTORS[name](x_train, x_test)
  return time.perf_counter() - t0, scores


def main():
  p = argparse.ArgumentParser()
  p.add_argument("--rows", default="20000,50000,100000,200000", help="Gaussian tables' rows, comma-separated")
  p.add_argument("--dims", default="20", help="Gaussian tables' columns, comma-separated")
  p.add_argument("--detectors", default="stoc,stoc_exact,stoc_gde_iforest,iforest",
                  help=f"the Gaussian tables' detectors, comma-separated, of {', '.join(DETECTORS)}")
  p.add_argument("--exact_up_to", type=int, default=100_000, help="stoc_exact on tables up to this many rows")
  p.add_argument("--kdd_dir", default="", help="the folder of kddcup.data_10_percent.gz; empty: no KDD run")
  p.add_argument("--kdd_detectors", default="stoc,stoc_exact,iforest",
                 help="KDD's detectors (stoc_exact on the sample only, as --exact_up_to bounds it)")
  p.add_argument("--out", default="")
  a = p.parse_args()
  detectors, kdd_detectors = a.detectors.split(","), a.kdd_detectors.split(",")
  unknown = sorted(set(detectors + kdd_detectors) - set(DETECTORS))
  if unknown:
    p.error(f"unknown --detectors {', '.join(unknown)}; choose from {', '.join(DETECTORS)}.")
  warnings.simplefilter("ignore")  # convergence and scaling notes, not what is measured
  # JAX's start, and PyOD's import, outside the timings.
  STOCDetector().fit(np.random.default_rng(0).normal(size=(200, 4)))
  if "pyod_knn" in detectors:
    pyod_knn().fit(np.random.default_rng(0).normal(size=(200, 4)))
  results = []
  for n in (int(v) for v in a.rows.split(",") if v):
    for dim in (int(v) for v in a.dims.split(",")):
      x = np.random.default_rng(0).normal(size=(n, dim))
      for name in detectors:
        if name == "stoc_exact" and n > a.exact_up_to:
          continue
        seconds, _ = timed(name, x, x)
        results.append({"table": f"gaussian_{n}x{dim}", "rows": n, "columns": dim, "detector": name,
                        "seconds": seconds})
        print(results[-1], flush=True)
  if a.kdd_dir:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tables"))
    import run_tables
    from stoc_jax.data import tabular
    x, y = tabular.load_kdd(a.kdd_dir)
    sample = run_tables.stratified_rows(np.arange(len(y)), y, 100_000)
    for table, rows in (("kdd_10_percent_sample_100000", sample), ("kdd_10_percent", np.arange(len(y)))):
      x_train, x_test, _, y_test = run_tables.split(x[rows].astype(np.float64), y[rows], 0)
      for name in kdd_detectors:
        if name == "stoc_exact" and len(rows) > a.exact_up_to:
          continue
        seconds, scores = timed(name, x_train, x_test)
        results.append({"table": table, "rows": len(x_train), "detector": name, "seconds": seconds,
                        "auc": 100 * roc_auc_score(y_test, scores),
                        "ap": 100 * average_precision_score(y_test, scores)})
        print(results[-1], flush=True)
  if a.out:
    with open(a.out, "w") as f:
      json.dump(results, f, indent=1)


if __name__ == "__main__":
  main()
