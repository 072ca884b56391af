#!/usr/bin/env bash
# GOAD vs STOC at the target cells (RESULTS.md, "Targets"), with the papers' protocol: 5 random splits
# x 5 model seeds = 25 runs a cell (run_all.sh runs one model seed per split). CPU configs.
# About 2.5 h on 2 cores (split it over jobs with --first_seed / --seeds; finished runs are
# skipped on rerun). Rows go to paper_grid.jsonl; table, pairing the runs of a split and seed:
#   python benchmarks/tabular/report.py --paired benchmarks/tabular/paper_grid.jsonl
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-../shared/data/tabular}
run() { python benchmarks/tabular/run_f1.py --data_dir=$DATA --seeds=5 --model_seeds=5 \
  --methods=goad,stoc --out=benchmarks/tabular/paper_grid.jsonl "$@"; }
run --datasets=kdd --ratios=0.1
run --datasets=kddrev --ratios=0.025
# These rows were measured with z-scores, the configs' scaling before robust scaling.
run --datasets=thyroid --ratios=0.015,0.025 --set standardize_robust=False
run --datasets=arrhythmia --ratios=0.1 --set standardize_robust=False
