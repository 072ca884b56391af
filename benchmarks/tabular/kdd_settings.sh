#!/usr/bin/env bash
# GOAD settings tried on clean KDD and KDD-Rev (N setting; about 20 min on 2 cores). Each line:
# data set, number of seeds, config overrides on top of the `:cpu` config. Every line sets the
# optimizer, learning rate, aggregation and (KDD) scaling, so the rows do not depend on the configs'
# current defaults. Rows go to kdd_settings.jsonl (RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-../shared/data/tabular}
TMP=$(mktemp -d)
i=0
while read -r dataset seeds settings; do
  i=$((i + 1))
  args=()
  for kv in $settings; do args+=(--set "$kv"); done
  python benchmarks/tabular/run_f1.py --data_dir=$DATA --datasets=$dataset --ratios=0.0 --seeds=$seeds \
    --methods=goad --set split.max_anomaly_ratio=0.0 "${args[@]}" --out=$TMP/$(printf %02d $i).jsonl
done <<'SETTINGS'
kdd 3 goad.optimizer=sgd goad.learning_rate=0.1 standardize=False goad.score_aggregate=max_normality
kdd 3 goad.optimizer=adam goad.learning_rate=0.001 standardize=False goad.score_aggregate=max_normality
kdd 3 goad.optimizer=adam goad.learning_rate=0.001 train_steps=4096 goad.score_aggregate=max_normality standardize=False
kdd 3 goad.optimizer=adam goad.learning_rate=0.001 train_steps=4096 goad.score_aggregate=sum standardize=False
kdd 3 goad.optimizer=adam goad.learning_rate=0.001 train_steps=16384 goad.score_aggregate=max_normality standardize=False
kdd 3 goad.optimizer=adam goad.learning_rate=0.001 train_steps=16384 goad.score_aggregate=sum standardize=False
kdd 3 goad.optimizer=adam goad.learning_rate=0.001 standardize=True goad.score_aggregate=max_normality standardize_binary=True
kdd 3 goad.optimizer=adam goad.learning_rate=0.001 standardize=True goad.score_aggregate=sum standardize_binary=True
kdd 3 goad.optimizer=adam goad.learning_rate=0.001 goad.hidden=32 goad.proj_dim=64 goad.score_aggregate=max_normality standardize=False
kdd 3 goad.optimizer=adam goad.learning_rate=0.001 goad.hidden=32 goad.proj_dim=64 goad.score_aggregate=sum standardize=False
kdd 3 goad.optimizer=adam goad.learning_rate=0.001 goad.hidden=32 goad.proj_dim=32 goad.score_aggregate=max_normality standardize=False
kdd 3 goad.optimizer=adam goad.learning_rate=0.001 goad.hidden=32 goad.proj_dim=32 goad.score_aggregate=sum standardize=False
kdd 5 goad.optimizer=adam goad.learning_rate=0.003 standardize=False goad.score_aggregate=max_normality
kdd 5 goad.optimizer=adam goad.learning_rate=0.003 goad.score_aggregate=sum standardize=False
kddrev 5 goad.optimizer=adam goad.learning_rate=0.003 goad.score_aggregate=max_normality
kddrev 5 goad.optimizer=adam goad.learning_rate=0.003 goad.score_aggregate=sum
kddrev 5 goad.optimizer=adam goad.learning_rate=0.003 goad.score_aggregate=max_normality standardize=True
kdd 5 goad.optimizer=adam goad.learning_rate=0.003 standardize=True standardize_binary=False goad.score_aggregate=max_normality
kdd 5 goad.optimizer=adam goad.learning_rate=0.003 standardize=True standardize_binary=False goad.score_aggregate=sum
kddrev 5 goad.optimizer=adam goad.learning_rate=0.003 standardize=True standardize_binary=False goad.score_aggregate=sum
SETTINGS
cat $TMP/*.jsonl > benchmarks/tabular/kdd_settings.jsonl
