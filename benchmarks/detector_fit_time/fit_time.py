"""STOCDetector.fit on small tables, each of a new shape (rows + fit), with the XLA compilations
each fit triggered, and scikit-learn's IsolationForest on the same rows.

  python benchmarks/detector_fit_time/fit_time.py --out=benchmarks/detector_fit_time/fit_time.json
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import jax.monitoring  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402

from stoc_jax import STOCDetector  # noqa: E402


def main():
  p = argparse.ArgumentParser()
  p.add_argument("--rows", type=int, default=200)
  p.add_argument("--dim", type=int, default=8)
  p.add_argument("--fits", type=int, default=4)
  p.add_argument("--out", default="")
  a = p.parse_args()
  jax.config.update("jax_enable_compilation_cache", False)
  compiles = []
  jax.monitoring.register_event_duration_secs_listener(
      lambda name, *_, **__: compiles.append(name) if name == "/jax/core/compile/backend_compile_duration" else None)
  rows = []
  for fit in range(a.fits):
    x = np.random.default_rng(fit).normal(size=(a.rows + fit, a.dim))  # a new shape each fit
    before = len(compiles)
    t0 = time.perf_counter()
    STOCDetector(contamination=0.05, random_state=fit).fit(x)
    stoc = time.perf_counter() - t0
    t0 = time.perf_counter()
    IsolationForest(random_state=fit).fit(x).score_samples(x)
    iforest = time.perf_counter() - t0
    rows.append({"fit": fit, "stoc_s": stoc, "iforest_s": iforest, "compilations": len(compiles) - before})
    print(rows[-1], flush=True)
  result = {"rows": a.rows, "dim": a.dim, "fits": rows, "jax": jax.__version__, "cpus": os.cpu_count()}
  if a.out:
    with open(a.out, "w") as f:
      json.dump(result, f, indent=2)


if __name__ == "__main__":
  main()
