"""The tabular pipeline (benchmarks/tabular/run_f1.py) with refinement's rule for tied scores chosen:
--rule=eq2, Eq. 2 as the paper writes it (every score at or above the ceil(gamma N)-th largest is
rejected, ties included), or --rule=library (`stoc_jax.refine._decide_xp`: tied rows are rejected
only where that brings the count nearer ceil(gamma N)). Every other argument goes to run_f1.py.

  python benchmarks/refinement_ties/run_rule.py --rule=eq2 --datasets=kdd,kddrev \
      --ratios=0.02,0.025,0.04,0.06,0.08,0.1 --seeds=5 --methods=stoc --out=benchmarks/refinement_ties/eq2.jsonl
  python benchmarks/refinement_ties/run_rule.py --rule=library ... --out=benchmarks/refinement_ties/library.jsonl
  python benchmarks/refinement_ties/compare.py benchmarks/refinement_ties/eq2.jsonl benchmarks/refinement_ties/library.jsonl
"""

import argparse
import functools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from stoc_jax import refine  # noqa: E402


def eq2_as_written(scores, num_reject, xp):
  n = scores.shape[1]
  ordered = xp.sort(scores, axis=1)
  thresholds = xp.where(num_reject > 0, ordered[:, xp.clip(n - num_reject, 0, n - 1)], xp.inf)
  return thresholds, xp.sum(scores >= thresholds[:, None], axis=0), xp.all(xp.isfinite(scores))


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  ap.add_argument("--rule", required=True, choices=("eq2", "library"),
                  help="eq2: Eq. 2 as written; library: stoc_jax.refine's rule for tied scores")
  args, rest = ap.parse_known_args()  # the rest is run_f1.py's
  if args.rule == "eq2":
    refine._decide = jax.jit(functools.partial(eq2_as_written, xp=jnp))
    refine._decide_host = functools.partial(eq2_as_written, xp=np)
  sys.argv = [sys.argv[0]] + rest
  from benchmarks.tabular import run_f1
  run_f1.main()


if __name__ == "__main__":
  main()
