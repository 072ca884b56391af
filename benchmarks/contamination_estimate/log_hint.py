"""Where `stoc-jax detect` says what the contamination estimate reads with the logs of a table's
positive, right-skewed columns (`cli._estimate_on_logs`: where that at least halves the estimate), on
the benchmark tables as their loaders give them (whole tables, raw columns: the protocol's min-max
scaling puts a 0 in every column, which no log takes), and whether the estimate or the reading with
logs comes within 2x of the true fraction there.

  python benchmarks/contamination_estimate/log_hint.py --data_dir=../shared/data \
      > benchmarks/contamination_estimate/log_hint.md   # 70 s
"""

import argparse
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

from benchmarks.tables.run_tables import SUITES, TABLE_SUITES  # noqa: E402
from stoc_jax import STOCDetector, cli, contamination  # noqa: E402


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--data_dir", default="../shared/data")
  args = parser.parse_args()
  warnings.filterwarnings("ignore")
  print("The tables where `stoc-jax detect` gives the estimate with the logs of the positive, right-skewed "
        "columns: the true fraction, `STOCDetector().contamination_` and the reading with logs, in % "
        "(**bold**: within 2x of the truth), and how many columns it takes the logs of "
        "(`python benchmarks/contamination_estimate/log_hint.py`):\n")
  print("| suite | table | true | estimate | with logs | columns |\n|---|---|---|---|---|---|")
  tables = candidates = 0
  shown, within = [], []
  for suite in TABLE_SUITES:
    for table, (x, y) in SUITES[suite](args.data_dir).items():
      x = np.asarray(x, np.float64)
      tables += 1
      columns = contamination.log_symmetrized_columns(x)
      candidates += bool(columns.any())
      det = STOCDetector().fit(x)
      hint = cli._estimate_on_logs(x, [str(j) for j in range(x.shape[1])], det)
      if hint is None:
        continue
      truth = float(np.mean(y))
      ok = [0.5 * truth <= e <= 2 * truth for e in (det.contamination_, hint[1])]
      shown.append(table)
      within.append(ok)
      cells = [f"**{100 * e:.1f}**" if o else f"{100 * e:.1f}" for e, o in zip((det.contamination_, hint[1]), ok)]
      print(f"| {suite} | {table} | {100 * truth:.1f} | {cells[0]} | {cells[1]} | {len(hint[0])} of {x.shape[1]} |",
            flush=True)
  within = np.array(within, bool).reshape(-1, 2)
  print(f"\nOf {tables} tables, {candidates} have a positive column whose quartiles the log makes more symmetric; "
        f"the line appears on {len(shown)}. There the estimate is within 2x of the truth on {within[:, 0].sum()}, "
        f"the reading with logs on {within[:, 1].sum()}.")


if __name__ == "__main__":
  main()
