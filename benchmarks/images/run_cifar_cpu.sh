#!/usr/bin/env bash
# The CIFAR-10 CPU benchmark as committed in RESULTS.md, class by class, on 2 cores:
# contrastive learner (about 3 min a run), then the rotation learner (about 6 min a run),
# 3 seeds of it at 10 %.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-../shared/data/images}
for cls in 0 1 2; do
  python benchmarks/images/run_cifar.py --data_dir=$DATA --classes=$cls --ratios=0.0 --methods=baseline
  python benchmarks/images/run_cifar.py --data_dir=$DATA --classes=$cls --ratios=0.1 --methods=baseline,stoc
done
ROT=(--set objective=rotation --tag=rotation)
for cls in 0 1 2; do
  python benchmarks/images/run_cifar.py --data_dir=$DATA --classes=$cls --ratios=0.1 --methods=baseline,stoc "${ROT[@]}"
  python benchmarks/images/run_cifar.py --data_dir=$DATA --classes=$cls --ratios=0.0 --methods=baseline "${ROT[@]}"
done
# More seeds at 10 % for the rotation learner: seeds 1 and 2. The seed sets the split, the 2,000
# test images and the model.
python benchmarks/images/run_cifar.py --data_dir=$DATA --classes=0,1,2 --ratios=0.1 --methods=baseline,stoc \
  --seeds=3 "${ROT[@]}"
