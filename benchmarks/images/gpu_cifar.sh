#!/usr/bin/env bash
# CIFAR-10 class 0 at 10 % contamination, DA-contrastive ResNet-18 at width 1.0, baseline and STOC,
# with as many training steps as fit a wall-clock budget (default 480 s: 8 minutes on one H200).
#
#   bash benchmarks/images/gpu_cifar.sh DATA_DIR OUT_DIR [BUDGET_SECONDS] [--config.KEY=VALUE ...]
#
# DATA_DIR holds cifar10-jpeg.tar.gz (or the python batches). The script first times 20 steps
# (after compilation) to measure images/s, then gives each of the two runs (baseline, STOC) an
# equal share of what is left of the budget, less a margin for compiling, feature passes and
# refinement. OUT_DIR receives throughput/, baseline/, stoc/ (each a workdir) and summary.json.
# Extra --config overrides apply to all three runs (the tests use them for a tiny CPU run).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=$1; OUT=$2; BUDGET=${3:-480}; shift $(( $# >= 3 ? 3 : $# ))
CONFIG=experiments/configs/cifar10_stoc.py
COMMON=(--config="$CONFIG" --config.data_dir="$DATA" --config.normal_class=0 --config.anomaly_ratio=0.1
        --config.model.width=1.0 --config.objective=da_contrastive --config.train_epochs=0 "$@")
start=$(date +%s)
mkdir -p "$OUT"
python experiments/run.py "${COMMON[@]}" --config.train_steps=25 --config.refine.enabled=False \
  --config.compare_baseline=False --config.checkpoint_every_steps=0 --workdir="$OUT/throughput"
# The last logged stretch (steps after the first pause) gives images/s after compilation.
read -r STEPS IPS <<<"$(python - "$OUT" "$BUDGET" "$start" <<'PY'
import json, sys, time
out, budget, start = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
rows = [json.loads(l) for l in open(f"{out}/throughput/metrics.jsonl") if '"images_per_sec"' in l]
ips = rows[-1]["images_per_sec"]
config = json.load(open(f"{out}/throughput/config.json"))
left = budget - (time.time() - start)
margin = 0.25 * left  # compiling, feature passes of all images, refinement, evaluation
steps = max(int((left - margin) / 2 * ips / config["batch_size"]), 10)
print(steps, ips)
PY
)"
echo "throughput ${IPS} images/s -> ${STEPS} steps per run"
for run in baseline stoc; do
  enabled=$([ $run = stoc ] && echo True || echo False)
  python experiments/run.py "${COMMON[@]}" --config.train_steps="$STEPS" --config.refine.enabled=$enabled \
    --config.compare_baseline=False --config.refine.schedule_steps="($((STEPS / 8)), $((STEPS / 4)), $((STEPS / 2)))" \
    --config.checkpoint_every_steps=0 --workdir="$OUT/$run"
done
python - "$OUT" "$STEPS" "$IPS" "$start" <<'PY'
import json, sys, time
out, steps, ips, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
summary = {"train_steps": steps, "images_per_sec": ips, "seconds": time.time() - start}
for run in ("baseline", "stoc"):
  r = json.load(open(f"{out}/{run}/results.json"))
  summary[run] = {k: r[k] for k in ("auc", "ap", "f1_oracle")}
  summary[run]["refinement"] = r["refinement"]
  summary["environment"] = r["environment"]
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
print(json.dumps({k: summary[k] for k in ("train_steps", "images_per_sec", "seconds")}))
print("baseline AUC %.1f  STOC AUC %.1f" % (summary["baseline"]["auc"], summary["stoc"]["auc"]))
PY
