"""KDD-Rev 2.5 %: refinement whose K models each see a different GOAD, a probe for the next check.

  python benchmarks/tabular/multi_representation_probe.py --splits=0,1,2,3,4

With one GOAD, whether a KDE removes KDD-Rev's copied attacks depends on the GOAD's seed (RESULTS.md,
"Masking on KDD-Rev"). Here model k of the K = 5 fits on its own disjoint fifth of the rows, as in Eq. 1, but
on the features of its own GOAD (seed k, `:cpu`, trained without refinement). A row is kept when all
K call it normal at gamma = 2 x ratio. The final OCC is the per-projection GDEs of GOAD seed s (the
split's seed, as on the grid's diagonal), fitted on the kept rows: STOC's fixed-representation form,
with no retraining. Rows: GOAD (that final OCC on all rows); one GOAD with KDE models (all K on seed
s); K GOADs with KDE models; K GOADs with per-projection GDE models; and, as a control, the K GOADs
without refinement, their test scores combined by mean rank. About 1.5 min a split.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from run_f1 import benchmark_config  # noqa: E402  (this folder is on sys.path when run as a script)
from stoc_jax import goad, loop, metrics, occ, tabular_stoc  # noqa: E402


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--data_dir", default="../shared/data/tabular")
  ap.add_argument("--ratio", type=float, default=0.025)
  ap.add_argument("--splits", default="0")
  ap.add_argument("--num_models", type=int, default=5)
  args = ap.parse_args()
  k_models, gamma = args.num_models, 2 * args.ratio
  for s in map(int, args.splits.split(",")):
    c = benchmark_config("kddrev", args.data_dir, args.ratio, s)
    c.refine.enabled = False
    data = tabular_stoc.load_split(c)
    y, n = data.y_train, len(data.y_train)
    goads = [loop.run_stoc(tabular_stoc.make_learner(c, data.x_train.shape[1]), data.x_train, c,
                           key=jax.random.key(m), gamma=gamma, y_train=y)
             for m in range(k_models)]
    feats = [np.asarray(g.features(data.x_train)) for g in goads]  # (N, M, H) each
    part = np.random.default_rng(s).permutation(n) % k_models

    def refine(goad_of_model, kind):
      keep = np.ones(n, bool)
      for k in range(k_models):
        f = feats[goad_of_model(k)]
        if kind == "kde":
          flat = f.reshape(n, -1)
          scores = occ.kde_score(occ.kde_fit(flat[part == k]), flat)
        else:
          scores = goad.gde_score_per_transform(goad.gde_fit_per_transform(jnp.asarray(f[part == k])), f)
        keep &= scores <= np.quantile(scores, 1 - gamma)
      return keep

    final = goads[s % k_models]
    train_f, test_f = feats[s % k_models], final.features(data.x_test)

    def f1(keep):
      gdes = goad.gde_fit_per_transform(jnp.asarray(train_f[keep]))
      return metrics.f1_oracle(data.y_test, goad.gde_score_per_transform(gdes, test_f))

    cells = [f"split {s}: GOAD {f1(np.ones(n, bool)):.1f}"]
    for name, goad_of_model, kind in (("one GOAD, KDE", lambda k: s % k_models, "kde"),
                                      (f"{k_models} GOADs, KDE", lambda k: k, "kde"),
                                      (f"{k_models} GOADs, GDE", lambda k: k, "gde")):
      keep = refine(goad_of_model, kind)
      cells.append(f"{name} {f1(keep):.1f} (attacks removed {100 * (~keep[y == 1]).mean():.0f} %, "
                   f"normals {100 * (~keep[y == 0]).mean():.1f} %)")
    # The control: the same K GOADs without refinement, their test scores combined by mean rank.
    ranks = [np.argsort(np.argsort(g.score(data.x_test))) for g in goads]
    cells.append(f"{k_models} GOADs, no refinement {metrics.f1_oracle(data.y_test, np.mean(ranks, 0)):.1f}")
    print(" | ".join(cells), flush=True)


if __name__ == "__main__":
  main()
