"""What a perfect refinement would give: the final OCC fitted on the true normals only.

  python benchmarks/tabular/final_occ_oracle.py --dataset=kdd --ratio=0.1 --seeds=0,1,2 \
      --out=benchmarks/tabular/final_occ_oracle.jsonl

Trains GOAD once per seed on the contaminated training set (the `:cpu` config, no
refinement), then fits the per-projection GDEs of the final OCC on: every training
row (GOAD), the rows one refinement keeps at each gamma (STOC's final step on this
representation), and the true normals (the oracle, which needs the labels). A
diagnostic, not a method: it separates what refinement could gain from what it does.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from run_f1 import apply_overrides, benchmark_config  # noqa: E402  (this folder is on sys.path when run as a script)
from stoc_jax import goad, loop, metrics, refine, tabular_stoc  # noqa: E402


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--data_dir", default="../shared/data/tabular")
  ap.add_argument("--dataset", default="kdd")
  ap.add_argument("--ratio", type=float, default=0.1)
  ap.add_argument("--seeds", default="0,1,2")
  ap.add_argument("--gamma_multipliers", default="1,1.5,2", help="gamma = multiplier x ratio")
  ap.add_argument("--set", action="append", default=[],
                  help="config override key=value, e.g. standardize_robust=False (the committed Thyroid rows)")
  ap.add_argument("--out", default="benchmarks/tabular/final_occ_oracle.jsonl")
  args = ap.parse_args()
  for seed in map(int, args.seeds.split(",")):
    c = benchmark_config(args.dataset, args.data_dir, args.ratio, seed)
    overrides = apply_overrides(c, args.set)
    c.refine.enabled = False
    data = tabular_stoc.load_split(c)
    key = jax.random.key(seed)
    detector = loop.run_stoc(tabular_stoc.make_learner(c, data.x_train.shape[1]), data.x_train, c, key=key,
                                 gamma=2 * args.ratio, y_train=data.y_train)
    f_train, f_test = detector.features(data.x_train), detector.features(data.x_test)
    fit = lambda f: goad.gde_fit_per_transform(np.asarray(f))
    score = lambda p, f: goad.gde_score_per_transform(p, f, c.goad.score_aggregate)
    masks = {"all rows (GOAD)": np.ones(len(f_train), bool), "true normals (oracle)": data.y_train == 0}
    for mult in map(float, args.gamma_multipliers.split(",")):
      masks[f"refined, gamma = {mult:g} x ratio"], _ = refine.refine_data(
          refine.round_key(key, 0), f_train, c.refine.num_models, mult * args.ratio,
          occ_fit=fit, occ_score=score)  # STOC's final (and, on KDD, only) round
    for name, mask in masks.items():
      test_scores = score(fit(f_train[mask]), f_test)
      row = {"dataset": args.dataset, "anomaly_ratio": args.ratio, "seed": seed, "final_occ_on": name,
             "overrides": overrides,
             "f1_oracle": metrics.f1_oracle(data.y_test, test_scores),
             "anomalies_removed": float((~mask[data.y_train == 1]).mean()),
             "normals_removed": float((~mask[data.y_train == 0]).mean())}
      with open(args.out, "a") as f:
        f.write(json.dumps(row) + "\n")
      print(f"seed {seed} {name}: F1 {row['f1_oracle']:.1f} (removed {100 * row['anomalies_removed']:.0f} % "
            f"of anomalies, {100 * row['normals_removed']:.1f} % of normals)", flush=True)


if __name__ == "__main__":
  main()
