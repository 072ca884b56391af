"""refine_data against scikit-learn's GaussianMixture fitting and scoring the same K subsets.

  python benchmarks/refinement_speed/speed.py --rows=50000 --dim=512 --models=5 --calls=4 \
      --out=benchmarks/refinement_speed/speed.json

Each call uses a new key (a new partition) on the same shape: the first call compiles,
the others reuse the compiled programs. scikit-learn fits GaussianMixture(1, "full") on
each of the same K subsets and scores all N rows with each, as refine_data does; the
thresholds and vote are left out of its time.
"""

import argparse
import json
import os
import sys
import time

import jax
import numpy as np
from sklearn.mixture import GaussianMixture

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from stoc_jax import refine  # noqa: E402


def main():
  p = argparse.ArgumentParser()
  p.add_argument("--rows", type=int, default=50000)
  p.add_argument("--dim", type=int, default=512)
  p.add_argument("--models", type=int, default=5)
  p.add_argument("--calls", type=int, default=4)
  p.add_argument("--out", default="")
  a = p.parse_args()
  rng = np.random.default_rng(0)
  x = rng.normal(size=(a.rows, a.dim)).astype(np.float32)
  x[: a.rows // 20] += 3.0
  ours, theirs = [], []
  for call in range(a.calls):
    key = jax.random.key(call)
    t0 = time.perf_counter()
    mask, info = refine.refine_data(key, x, a.models, 0.1)
    ours.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for k in range(a.models):
      gm = GaussianMixture(1, covariance_type="full", random_state=0).fit(x[info["assignment"] == k])
      gm.score_samples(x)
    theirs.append(time.perf_counter() - t0)
    print(f"call {call}: refine_data {ours[-1]:.2f} s, GaussianMixture {theirs[-1]:.2f} s", flush=True)
  later = ours[1:]
  row = {"rows": a.rows, "dim": a.dim, "models": a.models, "refine_data_s": ours, "sklearn_s": theirs,
         "slowest_later_ratio": min(t / o for o, t in zip(later, theirs[1:])),
         "devices": jax.device_count(), "backend": jax.default_backend(),
         "jax": jax.__version__, "cpus": os.cpu_count()}
  print(json.dumps(row))
  if a.out:
    with open(a.out, "w") as f:
      json.dump(row, f, indent=2)


if __name__ == "__main__":
  main()
