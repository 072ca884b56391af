"""Training throughput of the jitted image step, as a fraction of this CPU's matmul peak,
and GDE refinement time against scikit-learn, in one run.

  python benchmarks/images/throughput.py --out=benchmarks/images/throughput.json

* images/s of `train_step` (contrastive, two views per image, batch 64) at ResNet-18
  width 1.0 and 0.25 (CIFAR stem, 32x32), after compilation, median of timed steps;
* FLOPs per training image from XLA's cost analysis of the compiled step;
* the CPU's float32 matmul peak, measured as the best of large jitted matmuls;
* refine_data (K = 5 GDEs) on N = 50,000 x 512 against scikit-learn's
  GaussianMixture(1, "full") fitted on each of the 5 subsets and scoring all rows.
"""

import argparse
import functools
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from experiments.configs import cifar10_stoc  # noqa: E402
from stoc_jax import image_learner, image_stoc, refine, sharding  # noqa: E402


def matmul_peak(n=2048, reps=10):
  a = jnp.ones((n, n), jnp.float32)
  f = jax.jit(lambda x: x @ x)
  f(a).block_until_ready()
  best = float("inf")
  for _ in range(reps):
    t = time.perf_counter()
    f(a).block_until_ready()
    best = min(best, time.perf_counter() - t)
  return 2 * n**3 / best


def step_throughput(width, batch=64, steps=6):
  c = cifar10_stoc.get_config()
  c.objective = "contrastive"
  c.model.width = width
  c.batch_size = batch
  mesh = image_stoc.make_mesh()
  tx = image_learner.make_optimizer(c.optimizer, 1000)
  graphdef, state = image_learner.init_state(c, (32, 32, 3), tx, jax.random.key(0))
  state = sharding.replicate(state, mesh)  # as the learner places it: the step is compiled for that
  static = dict(graphdef=graphdef, total_steps=1000, mesh=mesh,
                cfg=sharding.frozen_fields(c, image_learner.STEP_FIELDS))
  step = functools.partial(image_learner.train_step, **static)
  images = jax.device_put(np.random.default_rng(0).integers(0, 255, (batch, 32, 32, 3), dtype=np.uint8),
                          jax.sharding.NamedSharding(mesh, jax.P("data")))
  compiled = image_learner.train_step.lower(state, images, jax.random.key(0), **static).compile()
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  flops = float(cost.get("flops", float("nan")))
  state, m = step(state, images, jax.random.key(0))
  jax.block_until_ready(m)
  times = []
  for i in range(steps):
    t = time.perf_counter()
    state, m = step(state, images, jax.random.key(i))
    jax.block_until_ready(m)
    times.append(time.perf_counter() - t)
  sec = float(np.median(times))
  return {"width": width, "batch": batch, "seconds_per_step": sec, "images_per_sec": batch / sec,
          "flops_per_step": flops, "flops_per_image": flops / batch, "achieved_flops": flops / sec}


def gde_timing(n=50_000, d=512, k=5):
  from sklearn.mixture import GaussianMixture
  x = np.random.default_rng(0).normal(size=(n, d)).astype(np.float32)
  refine.refine_data(jax.random.key(0), x[:1000], k, 0.1)  # compile a small one first
  refine.refine_data(jax.random.key(0), x, k, 0.1)  # compile at full size
  t = time.perf_counter()
  mask, info = refine.refine_data(jax.random.key(1), x, k, 0.1)
  ours = time.perf_counter() - t
  t = time.perf_counter()
  assign = info["assignment"]
  for j in range(k):
    GaussianMixture(1, covariance_type="full").fit(x[assign == j]).score_samples(x)
  theirs = time.perf_counter() - t
  return {"n": n, "dim": d, "num_models": k, "refine_data_seconds": ours, "sklearn_seconds": theirs}


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--out", default="benchmarks/images/throughput.json")
  args = ap.parse_args()
  peak = matmul_peak()
  out = {"device": str(jax.devices()[0]), "cpu_count": os.cpu_count(), "matmul_peak_flops": peak,
         "steps": [], "gde": gde_timing()}
  for w in (0.25, 1.0):
    r = step_throughput(w)
    r["fraction_of_matmul_peak"] = r["achieved_flops"] / peak
    out["steps"].append(r)
    print(json.dumps(r), flush=True)
  print(json.dumps(out["gde"]))
  with open(args.out, "w") as f:
    json.dump(out, f, indent=2)


if __name__ == "__main__":
  main()
