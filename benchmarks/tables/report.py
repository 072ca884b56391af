"""Tables of run_tables.py's rows: mean AUC, AP, average rank and time per detector, and how close
each detector's contamination estimate came to the training split's true anomaly fraction.

  python benchmarks/tables/report.py benchmarks/tables/rows.jsonl [--detectors=stoc,iforest,...]

A detector's rank on a table is by its mean AUC over the seeds (1 = best; AUCs equal to 1e-6 tie
and share the mean rank), among the detectors listed; the average rank is over the tables every listed detector ran on.

How far apart is apart (Demsar, "Statistical comparisons of classifiers over multiple data sets",
JMLR 2006): under the table, Nemenyi's critical difference, the gap two average ranks need before
the test tells them apart at alpha = 0.05; with --versus=D, D's wins and losses on each other
detector, table by table, the two-sided p-value of Wilcoxon's signed-rank test on the per-table
mean AUCs, and D's mean AUC and AP margins over each with 95 % bootstrap intervals over the tables
(`mean_difference`), and under them how precisely tables like these read each margin: its SD a
table, its interval's half-width on --tables_like such tables, and the tables it needs for
+- --half_width (`print_precision`). The head-to-head also follows the held-out choice of --select:
leave one table out (--group: tables held out together), or with --chosen_on one choice made on
other tables' rows and judged on these. After a
leave-one-out choice, the two candidates chosen most and how often the choice was the worse of the
two where they rank apart: where their sums of ranks differ by less than a table can move them, the
held-out reading measures their tie (`leaders_against_each_other`).

--detectable=65 keeps the tables where one of --detectable_by (default: every detector compared but
--versus) reaches a mean AUC of 65, and --undetectable=65 the others: where anomalies show in the
columns at all, and where they barely do. It is a way to read results, not to choose.
"""

import argparse
import json
from collections import defaultdict

import numpy as np
from scipy.stats import bootstrap, norm, rankdata, studentized_range, wilcoxon


def best_auc_by_table(rows, detectors) -> dict:
  """{table: the highest mean AUC over the seeds among `detectors`}, for the tables any of them ran on."""
  by = defaultdict(list)
  for r in rows:
    if r["detector"] in detectors:
      by[(r["table"], r["detector"])].append(r["auc"])
  best = {}
  for (table, _), aucs in by.items():
    best[table] = max(best.get(table, -np.inf), float(np.mean(aucs)))
  return best


def split_by_detectability(rows, detectors, detectable=None, undetectable=None):
  """The rows of the tables where one of `detectors` reaches a mean AUC of `detectable`, or of those
  where none reaches `undetectable`; all rows when neither is given."""
  if detectable is None and undetectable is None:
    return rows
  best = best_auc_by_table(rows, detectors)
  keep = {t for t, auc in best.items()
          if (detectable is None or auc >= detectable) and (undetectable is None or auc < undetectable)}
  return [r for r in rows if r["table"] in keep]


def load(paths):
  rows = []
  for path in paths:
    with open(path) as f:
      rows += [json.loads(line) for line in f if line.strip()]
  return rows


def refinement_means(rows, detector, tables):
  """(precision, recall) of `detector`'s refinement, the mean over its rows of `tables` that carry them
  (run_tables.refinement_fields: rows where refinement removed nothing carry neither); None without any."""
  kept = [r for r in rows if r["detector"] == detector and r["table"] in tables and "refinement_precision" in r]
  if not kept:
    return None
  return (float(np.mean([r["refinement_precision"] for r in kept])),
          float(np.mean([r["refinement_recall"] for r in kept])))


def summary(rows, detectors):
  """{detector: dict of means} over the tables every detector in `detectors` ran on."""
  by = defaultdict(list)
  for r in rows:
    by[(r["detector"], r["table"])].append(r)
  tables = sorted({t for (_, t) in by if all((d, t) in by for d in detectors)})
  auc = np.array([[np.mean([r["auc"] for r in by[(d, t)]]) for t in tables] for d in detectors])
  ap = np.array([[np.mean([r["ap"] for r in by[(d, t)]]) for t in tables] for d in detectors])
  secs = np.array([[np.median([r["seconds"] for r in by[(d, t)]]) for t in tables] for d in detectors])
  # Rounded first, so equal AUCs computed in different orders (last-digit noise) tie.
  ranks = np.stack([rankdata(-np.round(auc[:, j], 6)) for j in range(len(tables))], axis=1) if tables else auc
  out = {}
  for i, d in enumerate(detectors):
    out[d] = {"auc": auc[i].mean(), "ap": ap[i].mean(), "rank": ranks[i].mean(),
              "seconds": float(np.median(secs[i])), "auc_by_table": dict(zip(tables, auc[i])),
              "ap_by_table": dict(zip(tables, ap[i])), "rank_by_table": dict(zip(tables, ranks[i]))}
  return tables, out


def critical_difference(num_detectors: int, num_tables: int, alpha: float = 0.05) -> float:
  """Nemenyi's critical difference of average ranks (Demsar 2006, Sec. 3.2.2): q_alpha *
  sqrt(k (k + 1) / (6 N)), q_alpha the studentized range's quantile over sqrt(2)."""
  k = num_detectors
  q = studentized_range.ppf(1.0 - alpha, k, np.inf) / np.sqrt(2.0)
  return float(q * np.sqrt(k * (k + 1) / (6.0 * num_tables)))


def head_to_head(auc_a, auc_b):
  """(wins, ties, losses) of a against b over paired per-table AUCs (ties: equal to 1e-6), and
  the two-sided p-value of Wilcoxon's signed-rank test on them (nan when every table ties)."""
  diff = np.round(np.asarray(auc_a, float) - np.asarray(auc_b, float), 6)
  wins, losses = int((diff > 0).sum()), int((diff < 0).sum())
  p = float(wilcoxon(diff[diff != 0]).pvalue) if wins + losses else float("nan")
  return wins, len(diff) - wins - losses, losses, p


def mean_difference(values_a, values_b, confidence: float = 0.95, resamples: int = 10_000):
  """(mean, low, high): the mean over tables of a - b, and its bootstrap interval (BCa, Efron 1987),
  the tables drawn again with replacement. How far the mean margin over a baseline could move on
  other tables like these: a target margin inside the interval is one these tables cannot tell
  from the measured one. Every table differing alike: the interval is that difference."""
  diff = np.asarray(values_a, float) - np.asarray(values_b, float)
  mean = float(diff.mean())
  if np.ptp(diff) < 1e-12:
    return mean, mean, mean
  ci = bootstrap((diff,), np.mean, confidence_level=confidence, n_resamples=resamples,
                 random_state=np.random.default_rng(0)).confidence_interval
  return mean, float(ci.low), float(ci.high)


def margin_sd(values_a, values_b) -> float:
  """The spread over tables (SD) of the per-table margin of a over b."""
  return float(np.std(np.asarray(values_a, float) - np.asarray(values_b, float), ddof=1))


def tables_for_half_width(values_a, values_b, half_width: float, confidence: float = 0.95) -> int:
  """How many tables like these a mean margin of a over b needs before its interval at `confidence`
  is +-`half_width` wide: (z sd / half_width)^2, sd = `margin_sd` (the normal approximation, which
  the bootstrap interval matches within a fifth on 60 tables)."""
  z = norm.ppf(0.5 + confidence / 2.0)
  return max(1, int(np.ceil((z * margin_sd(values_a, values_b) / half_width) ** 2)))  # all alike: one tells


def half_width_on(values_a, values_b, num_tables: int, confidence: float = 0.95) -> float:
  """The half-width of the interval at `confidence` of a mean margin over `num_tables` tables whose
  margins spread as these do: z sd / sqrt(num_tables)."""
  return float(norm.ppf(0.5 + confidence / 2.0) * margin_sd(values_a, values_b) / np.sqrt(num_tables))


def print_precision(name, auc_of, others, ap_of, others_ap, num_tables: int, half_width: float):
  """How precisely tables like these can read `name`'s margins: each margin's spread over the tables,
  the 95 % half-width it would have on `num_tables` such tables, and the tables it needs for
  +-`half_width`."""
  print(f"\n| {name} against | SD a table, AUC / AP margin | 95 % half-width on {num_tables} tables, AUC / AP "
        f"| tables for +-{half_width:g}, AUC / AP |\n|---|---|---|---|")
  for other, aucs in others.items():
    ap_b = others_ap[other]
    sd = [margin_sd(auc_of, aucs), margin_sd(ap_of, ap_b)]
    widths = [half_width_on(auc_of, aucs, num_tables), half_width_on(ap_of, ap_b, num_tables)]
    needed = [tables_for_half_width(auc_of, aucs, half_width), tables_for_half_width(ap_of, ap_b, half_width)]
    print(f"| {other} | {sd[0]:.2f} / {sd[1]:.2f} | {widths[0]:.2f} / {widths[1]:.2f} | {needed[0]} / {needed[1]} |")


def print_head_to_head(name, auc_of, others, ap_of=None, others_ap=None):
  """`name`'s wins / ties / losses and Wilcoxon's p against each of `others` ({detector: [AUC a
  table]}), and the mean AUC difference with its 95 % bootstrap interval; with `ap_of` and
  `others_ap` (the same tables' APs), the mean AP difference too."""
  with_ap = ap_of is not None
  print(f"\n| {name} against | wins / ties / losses (AUC a table) | Wilcoxon signed-rank p "
        f"| mean AUC difference [95 % interval] |" + (" mean AP difference [95 % interval] |" if with_ap else "")
        + "\n|---|---|---|---|" + ("---|" if with_ap else ""))
  for other, aucs in others.items():
    w, t, l, p = head_to_head(auc_of, aucs)
    line = f"| {other} | {w} / {t} / {l} | {p:.3f} | {_signed_interval(mean_difference(auc_of, aucs))} |"
    if with_ap:
      line += f" {_signed_interval(mean_difference(ap_of, others_ap[other]))} |"
    print(line)


def _signed_interval(estimate):
  mean, low, high = estimate
  return f"{mean:+.2f} [{low:+.2f}, {high:+.2f}]"


def table_group(table, group_prefixes=()):
  """The tables held out together: those named with a shared prefix (e.g. the 15 MVTec AD tables,
  one feature extractor's view of one dataset) form one group, so a choice is never judged on a
  near-copy of a table it was made on; every other table is its own group."""
  return next((p for p in group_prefixes if table.startswith(p)), table)


def leave_one_table_out(rows, candidates, baselines, group_prefixes=()):
  """Defaults chosen apart from where they are judged: for each table, the candidate with the best
  average rank (among itself and the baselines) on the tables outside its group (`table_group`),
  ties to the higher mean AUC; then that choice's AUC, AP and rank on the held-out table. Returns
  [(table, chosen, auc, ap, rank)] and the baselines' ranks on the same footing (each table ranked
  among the chosen candidate and the baselines)."""
  tables, _ = summary(rows, list(candidates) + list(baselines))
  # A table's AUC and rank among a candidate and the baselines read that table's rows alone, so each
  # candidate is summarised once and every fold only leaves its group's tables out of the means.
  scores = candidate_scores(rows, candidates, baselines)
  choices = {}
  for t in tables:
    g = table_group(t, group_prefixes)
    choices[t] = best_candidate(scores, candidates, lambda table: table_group(table, group_prefixes) != g)
  return judge(rows, choices, baselines)


def candidate_scores(rows, candidates, baselines):
  """{candidate: its `summary` among itself and the baselines}."""
  return {c: summary(rows, [c] + list(baselines))[1][c] for c in candidates}


def best_candidate(scores, candidates, keep=lambda table: True):
  """The candidate with the best average rank over the tables `keep` admits (`scores` from
  `candidate_scores`); equal ranks go to the higher mean AUC."""
  def key(c):
    tables = [t for t in scores[c]["rank_by_table"] if keep(t)]
    rank = np.mean([scores[c]["rank_by_table"][t] for t in tables])
    return round(rank, 6), -np.mean([scores[c]["auc_by_table"][t] for t in tables]), c
  return min(candidates, key=key)


def leaders_against_each_other(held, scores):
  """For the two candidates chosen most often in `held` (from `leave_one_table_out`; `scores` from
  `candidate_scores`): their sums of ranks over every table, the tables where they rank apart and one
  of them was chosen, and on how many of those the choice was the one of the two ranked lower there.
  Between two leaders whose sums differ by less than one table's gap, leaving out a table where one is
  ahead hands the choice to the other, so each held-out table gets the one that is worse on it; such
  a held-out reading measures the tie, not how either candidate holds on new tables. None when fewer
  than two candidates were chosen."""
  counts = defaultdict(int)
  for h in held:
    counts[h[1]] += 1
  if len(counts) < 2:
    return None
  a, b = sorted(counts, key=lambda c: (-counts[c], c))[:2]
  rank_a, rank_b = scores[a]["rank_by_table"], scores[b]["rank_by_table"]
  apart = [(t, c) for t, c, *_ in held if c in (a, b) and rank_a[t] != rank_b[t]]
  worse = int(sum((rank_a[t] > rank_b[t]) == (c == a) for t, c in apart))
  return {"leaders": (a, b), "rank_sums": (sum(rank_a.values()), sum(rank_b.values())),
          "apart": len(apart), "worse_chosen": worse}


def choose(rows, candidates, baselines):
  """The candidate with the best average rank on `rows`' tables, among itself and the baselines;
  equal ranks go to the higher mean AUC."""
  return best_candidate(candidate_scores(rows, candidates, baselines), candidates)


def judge(rows, choices, baselines):
  """Each table's chosen candidate ({table: candidate}) and the baselines on it: [(table, chosen, auc,
  ap, rank)] and {baseline: [(auc, ap, rank)]}, each table ranked among its choice and the baselines."""
  held, baseline_ranks = [], defaultdict(list)
  for t, chosen in choices.items():
    _, on_t = summary([r for r in rows if r["table"] == t], [chosen] + list(baselines))
    held.append((t, chosen, on_t[chosen]["auc"], on_t[chosen]["ap"], on_t[chosen]["rank"]))
    for b in baselines:
      baseline_ranks[b].append((on_t[b]["auc"], on_t[b]["ap"], on_t[b]["rank"]))
  return held, baseline_ranks


def contamination_rows(rows, detector):
  """(table, true fraction, mean estimate) for a detector's rows that carry an estimate, on tables
  with anomalies in the training rows (a clean one, contamination_levels.py's level 0, has no ratio)."""
  by = defaultdict(list)
  for r in rows:
    if r["detector"] == detector and "contamination_estimate" in r and r["contamination"] > 0:
      by[r["table"]].append(r)
  return [(t, np.mean([r["contamination"] for r in rs]), np.mean([r["contamination_estimate"] for r in rs]))
          for t, rs in sorted(by.items())]


def print_selection(rows, candidates, baselines, group_prefixes=(), chosen_on=None):
  """The held-out choice: leave one table out, or with `chosen_on` (rows of other tables) one choice
  made there and judged on every table of `rows`."""
  if chosen_on is None:
    held, base = leave_one_table_out(rows, candidates, baselines, group_prefixes)
    grouped = f" (tables named {', '.join(p + '*' for p in group_prefixes)} held out together)" if group_prefixes else ""
    print(f"Leave one table out{grouped}: on each table, the candidate with the best average rank on the "
          f"tables outside its group, among itself and {', '.join(baselines)}.\n")
  else:
    overlap = sorted({r["table"] for r in chosen_on} & {r["table"] for r in rows})
    if overlap:
      raise SystemExit(f"--chosen_on's tables include tables judged: {overlap}.")
    seen, _ = summary(chosen_on, list(candidates) + list(baselines))
    chosen = choose(chosen_on, candidates, baselines)
    tables, _ = summary(rows, [chosen] + list(baselines))
    held, base = judge(rows, dict.fromkeys(tables, chosen), baselines)
    print(f"Chosen on {len(seen)} other tables (--chosen_on): {chosen}, the best average rank there among "
          f"itself and {', '.join(baselines)}; judged on each of these tables.\n")
  print("| held-out table | chosen | AUC | AP | rank |\n|---|---|---|---|---|")
  for t, c, auc, ap, rank in held:
    print(f"| {t} | {c} | {auc:.1f} | {ap:.1f} | {rank:.1f} |")
  print("\n| detector | mean AUC | mean AP | average rank |\n|---|---|---|---|")
  print(f"| chosen on the other tables | {np.mean([h[2] for h in held]):.1f} | {np.mean([h[3] for h in held]):.1f} "
        f"| {np.mean([h[4] for h in held]):.2f} |")
  for b, vals in base.items():
    print(f"| {b} | {np.mean([v[0] for v in vals]):.1f} | {np.mean([v[1] for v in vals]):.1f} "
          f"| {np.mean([v[2] for v in vals]):.2f} |")
  counts = defaultdict(int)
  for h in held:
    counts[h[1]] += 1
  print("\nchosen: " + ", ".join(f"{c} on {n} table{'s' * (n > 1)}" for c, n in sorted(counts.items(), key=lambda kv: -kv[1])))
  leaders = leaders_against_each_other(held, candidate_scores(rows, sorted(counts), baselines)) if chosen_on is None else None
  if leaders:
    (a, b), (sum_a, sum_b) = leaders["leaders"], leaders["rank_sums"]
    print(f"\n{a} and {b}, chosen most, have sums of ranks {sum_a:.1f} and {sum_b:.1f} over the {len(held)} tables; "
          f"on the {leaders['apart']} tables where they rank apart and one of them was chosen, the choice is the "
          f"one of the two ranked lower there on {leaders['worse_chosen']}")
  print(f"\nNemenyi's critical difference (alpha = 0.05, {1 + len(base)} detectors, {len(held)} tables): "
        f"{critical_difference(1 + len(base), len(held)):.2f}")
  print_head_to_head("chosen on the other tables", [h[2] for h in held],
                     {b: [v[0] for v in vals] for b, vals in base.items()},
                     [h[3] for h in held], {b: [v[1] for v in vals] for b, vals in base.items()})


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("paths", nargs="+")
  ap.add_argument("--detectors", default="", help="comma-separated; default: all in the rows")
  ap.add_argument("--per_table", action="store_true", help="also print AUC per table")
  ap.add_argument("--select", default="", help="candidate defaults: a leave-one-table-out choice among "
                  "them against --detectors (the baselines)")
  ap.add_argument("--group", action="append", default=[], help="with --select: a table-name prefix "
                  "whose tables are held out together (repeatable), e.g. --group=mvtec_")
  ap.add_argument("--chosen_on", nargs="+", default=None, help="with --select: row files of other tables; "
                  "the candidate chosen on them (best average rank) is judged on the tables of `paths`")
  ap.add_argument("--without", action="append", default=[], help="a table-name prefix whose tables are "
                  "left out (repeatable), e.g. --without=mvtec_ for the classical tables alone")
  ap.add_argument("--versus", default="", help="a detector of --detectors: its wins, losses and Wilcoxon's "
                  "p against each of the others")
  ap.add_argument("--tables_like", type=int, default=27, help="with --versus: the half-width of each margin's "
                  "95 %% interval on this many tables like these (27: ADBench's classical tables the defaults "
                  "were not chosen on)")
  ap.add_argument("--half_width", type=float, default=0.5, help="with --versus: how many such tables a 95 %% "
                  "interval of +- this needs")
  ap.add_argument("--detectable", type=float, default=None, help="keep the tables where one of "
                  "--detectable_by reaches this mean AUC (e.g. 65)")
  ap.add_argument("--undetectable", type=float, default=None, help="keep the tables where none of "
                  "--detectable_by reaches this mean AUC")
  ap.add_argument("--detectable_by", default="", help="comma-separated; default: the detectors compared "
                  "but --versus")
  args = ap.parse_args()
  rows = [r for r in load(args.paths) if not r["table"].startswith(tuple(args.without))]
  detectors = [d for d in args.detectors.split(",") if d] or sorted({r["detector"] for r in rows})
  if args.versus and args.versus not in detectors:
    raise SystemExit(f"--versus={args.versus} is not among the detectors compared: {', '.join(detectors)}.")
  judges = [d for d in args.detectable_by.split(",") if d] or [d for d in detectors if d != args.versus]
  rows = split_by_detectability(rows, judges, args.detectable, args.undetectable)
  if args.select:
    chosen_on = None if args.chosen_on is None else [
        r for r in load(args.chosen_on) if not r["table"].startswith(tuple(args.without))]
    print_selection(rows, [c for c in args.select.split(",") if c], detectors, tuple(args.group), chosen_on)
    return
  tables, out = summary(rows, detectors)
  seeds = sorted({r["seed"] for r in rows})
  print(f"{len(tables)} tables, seeds {seeds}; rank among the {len(detectors)} detectors below, by mean AUC a table.\n")
  print("| detector | mean AUC | mean AP | average rank | median seconds (fit + score) |")
  print("|---|---|---|---|---|")
  for d in sorted(detectors, key=lambda d: out[d]["rank"]):
    o = out[d]
    print(f"| {d} | {o['auc']:.1f} | {o['ap']:.1f} | {o['rank']:.2f} | {o['seconds']:.3f} |")
  if len(detectors) > 1 and tables:
    print(f"\nNemenyi's critical difference (alpha = 0.05, {len(detectors)} detectors, {len(tables)} tables): "
          f"{critical_difference(len(detectors), len(tables)):.2f}")
  refinement = {d: refinement_means(rows, d, tables) for d in detectors}
  if any(refinement.values()):
    print("\nRefinement's precision (the share of the rows it removes that are anomalies) and recall (the share "
          "of the training anomalies it removes), the mean over tables and seeds:\n")
    for d, (precision, recall) in ((d, v) for d, v in refinement.items() if v):
      print(f"- {d}: precision {precision:.3f}, recall {recall:.3f}")
  if args.versus:
    others = [d for d in detectors if d != args.versus]
    print_head_to_head(args.versus, [out[args.versus]["auc_by_table"][t] for t in tables],
                       {d: [out[d]["auc_by_table"][t] for t in tables] for d in others},
                       [out[args.versus]["ap_by_table"][t] for t in tables],
                       {d: [out[d]["ap_by_table"][t] for t in tables] for d in others})
    if len(tables) > 1:
      print_precision(args.versus, [out[args.versus]["auc_by_table"][t] for t in tables],
                      {d: [out[d]["auc_by_table"][t] for t in tables] for d in others},
                      [out[args.versus]["ap_by_table"][t] for t in tables],
                      {d: [out[d]["ap_by_table"][t] for t in tables] for d in others},
                      args.tables_like, args.half_width)
  if args.per_table:
    print("\nAUC per table (mean over seeds):\n")
    print("| table | " + " | ".join(detectors) + " |")
    print("|---|" + "---|" * len(detectors))
    for t in tables:
      print(f"| {t} | " + " | ".join(f"{out[d]['auc_by_table'][t]:.1f}" for d in detectors) + " |")
  for d in detectors:
    est = contamination_rows(rows, d)
    if not est:
      continue
    within = sum(1 for _, true, e in est if 0.5 <= e / true <= 2.0)
    print(f"\n{d}: contamination estimate within 2x of the true fraction on {within} of {len(est)} tables\n")
    print("| table | true | estimate | ratio |")
    print("|---|---|---|---|")
    for t, true, e in est:
      print(f"| {t} | {100 * true:.1f} % | {100 * e:.1f} % | {e / true:.2f} |")


if __name__ == "__main__":
  main()
