"""PyThresh's thresholders (Kulik, "PyThresh: a toolkit for thresholding outlier detection scores") as
contamination estimates, against the library's estimate, on the score the library's estimate reads.

  python benchmarks/contamination_estimate/pythresh_probe.py \
      --out=benchmarks/contamination_estimate/pythresh_probe.jsonl \
      > benchmarks/contamination_estimate/pythresh_probe.md   # 9 min on 2 CPU cores

PyThresh turns any detector's outlier scores into labels without a contamination, by about thirty
rules (statistical tests, fences, clustering, fitted mixtures). Each rule here reads the same score as
`stoc_jax.contamination.estimate_contamination`, `contamination.estimate_scores` (each row's z-score,
the mean over K = 5 Gaussians fitted on disjoint fifths). The estimate of a rule is the share of rows
it labels 1.

First the Gaussian noise tables of contamination_probe.py (3 seeds each). A rule that puts more than
1 % of clean rows above its cut on any of them fails the first demand on the estimate, that it flag
almost nothing on Gaussian noise, as in contamination_probe.py's selection. The rules at most 5 % there,
and the library's estimate, then read every training split of the 129 tables of benchmarks/tables/
(run_tables.py's seven suites and their splits, 3 seeds). The screen sees no table.

Left out: CLUST, CPD, META and VAE, which need pyclustering, ruptures, scikit-lego or torch (none of
them installed for the benchmarks); DUMMY, which cuts at a contamination given to it; and GAMGMM, which
ran for over 5 minutes on one score of 2,000 rows without finishing.

The report: each rule's largest estimate on the noise tables; for those at most 5 % there, the tables
each gets within 2x of the truth; and contamination_probe.py's leave-one-table-out choice among those at
most 1 %. Two additions were made after the rules' rows had been read, because MTT, the modified
Thompson tau test (Rengasamy et al. 2020), led the tables at its default level while flagging noise:
MTT at stricter significance levels (`mtt_<alpha>`), to see what it reads where it keeps noise clean;
and `gated_mtt`, MTT's estimate where the library's estimate is above 0 and 0 where the library reads
the table clean. `gated_mtt` is shown, not chosen among.
"""

import argparse
import importlib
import json
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

from benchmarks.contamination_estimate.contamination_probe import (held_out_choices, noise_tables,  # noqa: E402
                                                                   standardized, table_means, within_2x)
from benchmarks.tables.run_tables import TABLE_SUITES, SUITES, split  # noqa: E402
from stoc_jax import contamination  # noqa: E402

RULES = ("aucp", "boot", "chau", "clf", "comb", "decomp", "dsn", "eb", "fgd", "filter", "fwfm", "gesd", "hist",
         "iqr", "karch", "mad", "mcst", "mixmod", "moll", "mtt", "ocsvm", "qmcd", "regr", "wind", "yj", "zscore")
CLEAN, NEAR_CLEAN = 0.01, 0.05  # the most an estimate may read on any noise table: to be chosen, to be shown
# MTT's significance level, below its default 0.01: does a stricter test keep noise clean and the tables?
MTT_ALPHAS = (0.003, 0.001, 0.0001)
CANDIDATES = RULES + tuple(f"mtt_{alpha:g}" for alpha in MTT_ALPHAS)


def make_rule(name, seed):
  """The PyThresh rule `name` at its defaults, or `mtt_<alpha>`: MTT at that significance level."""
  if name.startswith("mtt_"):
    from pythresh.thresholds.mtt import MTT
    return MTT(alpha=float(name[4:]), random_state=seed)
  rule = getattr(importlib.import_module(f"pythresh.thresholds.{name}"), name.upper())
  try:
    return rule(random_state=seed)
  except TypeError:  # the rules without randomness take no seed
    return rule()


def rule_estimates(scores, seed, rules):
  """{rule: the share of rows it labels an outlier}."""
  out = {}
  for name in rules:
    rule = make_rule(name, seed)
    with warnings.catch_warnings():
      warnings.simplefilter("ignore")
      out[name] = float(np.mean(rule.eval(scores)))
  return out


def estimates(x, seed, rules=CANDIDATES):
  scores = contamination.estimate_scores(standardized(x), 5, seed)
  return {"library": contamination.fraction_of_scores(scores), **rule_estimates(scores, seed, rules)}


def write_rows(args):
  with open(args.out, "w") as f:
    noise = []
    for table, seed, x in noise_tables(args.seeds):
      noise.append({"table": table, "suite": "noise", "seed": seed, "true": 0.0, **estimates(x, seed)})
      f.write(json.dumps(noise[-1]) + "\n")
    near_clean = tuple(k for k in CANDIDATES if max(r[k] for r in noise) <= NEAR_CLEAN)
    print("at most 5 % on noise:", ", ".join(near_clean), file=sys.stderr, flush=True)
    for suite in TABLE_SUITES:
      for table, (x, y) in SUITES[suite](args.data_dir).items():
        for seed in range(args.seeds):
          x_train, _, y_train, _ = split(x, y, seed)
          row = {"table": table, "suite": suite, "seed": seed, "true": float(y_train.mean()),
                 **estimates(x_train, seed, near_clean)}
          f.write(json.dumps(row) + "\n")
          print(suite, table, seed, file=sys.stderr, flush=True)


def with_gated(row):
  """The row with gated_mtt: MTT's estimate where the library's estimate is above 0, else 0, so that it is
  0 wherever the library reads a table clean (every noise table). Added after the rows were read."""
  return {**row, "gated_mtt": row["mtt"] if row["library"] > 0 else 0.0}


def report(rows):
  from scipy.stats import binomtest, spearmanr
  rows = [with_gated(r) for r in rows]
  # The 37 tables whose anomalies are their own share; the 92 others were made by one rule, about 5 % each.
  own_truth = {r["table"] for r in rows if r["suite"] in ("shared", "unseen", "mass")}
  noise_rows = [r for r in rows if r["table"].startswith("noise")]
  noise = {k: max(r[k] for r in noise_rows) for k in ["library", *CANDIDATES, "gated_mtt"]}
  print("largest estimate on the noise tables:",
        ", ".join(f"{k} {100 * v:.1f} %" for k, v in sorted(noise.items(), key=lambda kv: kv[1])))
  shown = [k for k in noise if noise[k] <= NEAR_CLEAN]
  rows = [{k: r[k] for k in ("table", "seed", "true", *shown)} for r in rows]
  tables, mean = table_means(rows, shown + ["true"])
  true = [mean[(t, "true")] for t in tables]
  hit = {k: [within_2x(mean[(t, k)], mean[(t, "true")]) for t in tables] for k in shown}
  print("\nconstant guesses within 2x: " + ", ".join(f"{100 * c:g} % on {sum(within_2x(c, t) for t in true)}"
                                                     for c in (0.03, 0.05, 0.1)))
  own = [t in own_truth for t in tables]
  print(f"\n| estimate | largest on noise | within 2x (of {len(tables)} tables) | of the {sum(own)} whose truth is "
        f"their own | against the library: tables "
        "only it / only the library gets within 2x, sign test | Spearman's rho with the truth | read 0 | "
        "median estimate |\n|---|---|---|---|---|---|---|---|")
  for k in sorted(shown, key=lambda k: -sum(hit[k])):
    only, only_library = (sum(a and not b for a, b in zip(hit[k], hit["library"])),
                          sum(b and not a for a, b in zip(hit[k], hit["library"])))
    versus = "" if k == "library" else f"{only} / {only_library}"
    if only + only_library:  # the sign test over the tables where the two differ
      versus += f", p = {binomtest(only, only + only_library).pvalue:.3f}"
    estimate = [mean[(t, k)] for t in tables]
    own_hits = sum(h and o for h, o in zip(hit[k], own))
    rho = spearmanr(estimate, true)[0]
    print(f"| {k} | {100 * noise[k]:.1f} % | {sum(hit[k])} | {own_hits} | {versus} | {rho:.2f} | "
          f"{sum(e == 0 for e in estimate)} | {100 * np.median(estimate):.1f} % |")
  names = [k for k in shown if noise[k] <= CLEAN and k != "gated_mtt"]
  # Not among gated_mtt, which reads the library's own verdict.
  held = held_out_choices(tables, mean, names)
  chosen = sorted({k for _, k, _, _ in held})
  print(f"\nleave-one-table-out among the rules at most {100 * CLEAN:g} % on noise and the library: chose "
        f"{', '.join(chosen)}; held out, {sum(within_2x(e, t) for _, _, e, t in held)} of {len(held)} tables within 2x")


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  ap.add_argument("--data_dir", default="../shared/data")
  ap.add_argument("--seeds", type=int, default=3)
  ap.add_argument("--out", default="benchmarks/contamination_estimate/pythresh_probe.jsonl")
  ap.add_argument("--report_only", action="store_true", help="only the report, from --out's rows")
  args = ap.parse_args()
  if not args.report_only:
    write_rows(args)
  with open(args.out) as f:
    report([json.loads(line) for line in f])


if __name__ == "__main__":
  main()
