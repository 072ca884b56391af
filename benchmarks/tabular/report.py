"""Turns results.jsonl of run_f1.py into markdown tables of F1 (mean +- std over seeds).

  python benchmarks/tabular/report.py benchmarks/tabular/sweep.jsonl
  python benchmarks/tabular/report.py --settings benchmarks/tabular/kdd_settings.jsonl

--settings makes one line per (data set, ratio, method, config overrides) instead, listing every
run, for the tables of settings tried (kdd_settings.jsonl, gamma_ablation.jsonl).
--paired compares STOC with GOAD run by run (same split, same model seed), for the papers' grid of
5 splits x 5 model seeds (`run_f1.py --model_seeds=5`). `--paired FILE GOAD_FILE` takes GOAD's runs
(without overrides) from GOAD_FILE, e.g. gamma_ablation.jsonl against paper_grid.jsonl.
"""

import collections
import json
import sys

import numpy as np

ORDER = ("goad", "stoc", "stoc_otsu", "raw_gde", "raw_gde_refine", "raw_ocsvm", "iforest", "lof")


def run_id(r):
  """(split seed, model seed) of a row; rows from before --model_seeds used the split's seed."""
  return r["seed"], r.get("model_seed", r["seed"])


def main(path):
  rows = [json.loads(l) for l in open(path)]
  # One row per (dataset, ratio, method, split, model seed): a repeated run counts once (the last one).
  latest = {(r["dataset"], r["anomaly_ratio"], r["method"], run_id(r)): r for r in rows}
  cells = collections.defaultdict(list)
  for (dataset, ratio, method, _), r in latest.items():
    cells[(dataset, ratio, method)].append(r["f1_oracle"])
  for dataset in dict.fromkeys(r["dataset"] for r in rows):
    methods = [m for m in ORDER if any(k[0] == dataset and k[2] == m for k in cells)]
    ratios = sorted({k[1] for k in cells if k[0] == dataset})
    print(f"\n### {dataset}: F1 (oracle top-k, 0-100), mean ± std over seeds\n")
    print("| ratio | " + " | ".join(methods) + " |")
    print("|---|" + "---|" * len(methods))
    for ratio in ratios:
      out = []
      for m in methods:
        v = cells.get((dataset, ratio, m))
        out.append(f"{np.mean(v):.1f} ± {np.std(v):.1f} (n={len(v)})" if v else "—")
      print(f"| {100 * ratio:.1f} % | " + " | ".join(out) + " |")


PAPER_SCALE = "paper-scale config"


def _settings(r, drop_n_setting=False):
  """A row's config overrides as one string, prefixed by PAPER_SCALE for the configs without `:cpu`.
  With `drop_n_setting`, the N setting (max_anomaly_ratio=0) is left to the table's heading."""
  overrides = [o for o in r["overrides"]
               if not (drop_n_setting and o in ("split.max_anomaly_ratio=0", "split.max_anomaly_ratio=0.0"))]
  if r.get("variant", "cpu") != "cpu":
    overrides.insert(0, PAPER_SCALE)
  return " ".join(overrides)


def settings_table(path):
  """One line per (data set, ratio, method, config overrides), with the last refinement's efficacy."""
  cells = collections.defaultdict(dict)
  for r in map(json.loads, open(path)):
    # The N setting (max_anomaly_ratio=0) is named by its table's heading, not on every line.
    cells[(r["dataset"], r["anomaly_ratio"], r["method"], _settings(r, drop_n_setting=True))][run_id(r)] = r
  print("| data set | ratio | method | overrides | F1 per seed | mean ± std | anomalies / normals removed |")
  print("|---|---|---|---|---|---|---|")
  for (dataset, ratio, method, overrides), by_run in cells.items():
    runs = [by_run[k] for k in sorted(by_run)]
    v = [r["f1_oracle"] for r in runs]
    last = [r["refinement"][-1] for r in runs if r.get("refinement")]
    anomalies = [x["anomalies_removed"] for x in last if x.get("anomalies_removed") is not None]
    normals = [x["normals_removed"] for x in last if x.get("normals_removed") is not None]
    # At 0 % there is no anomaly to remove: only the normals' fraction is shown.
    removed = (f"{f'{100 * np.mean(anomalies):.0f} %' if anomalies else '—'} / "
               f"{100 * np.mean(normals):.1f} %") if normals else "—"
    print(f"| {dataset} | {100 * ratio:.1f} % | {method} | `{overrides}` | "
          f"{' / '.join(f'{x:.1f}' for x in v)} | {np.mean(v):.1f} ± {np.std(v):.1f} | {removed} |")


def paired_table(path, goad_path=None):
  """STOC against GOAD, pairing the runs of one split and one model seed. With `goad_path`, GOAD's
  runs come from that file instead, whatever STOC's overrides (for STOC settings such as a γ)."""
  from scipy.stats import binomtest
  runs = collections.defaultdict(dict)
  for r in map(json.loads, open(path)):
    if goad_path and r["method"] == "goad":
      continue
    cell = (r["dataset"], r["anomaly_ratio"], _settings(r))
    runs[cell][(r["method"],) + run_id(r)] = r["f1_oracle"]
  if goad_path:
    goad = {(r["dataset"], r["anomaly_ratio"], r.get("variant", "cpu")) + run_id(r): r["f1_oracle"]
            for r in map(json.loads, open(goad_path)) if r["method"] == "goad" and not r["overrides"]}
    for (dataset, ratio, settings), f1 in runs.items():
      variant = "" if settings.startswith(PAPER_SCALE) else "cpu"
      f1.update({("goad",) + k[3:]: v for k, v in goad.items() if k[:3] == (dataset, ratio, variant)})
  print("| data set | ratio | runs | GOAD | STOC | STOC - GOAD (± s.e.) | STOC wins / losses / ties "
        "| sign test p | splits where STOC's mean is higher |")
  print("|---|---|---|---|---|---|---|---|---|")
  for (dataset, ratio, overrides), f1 in runs.items():
    pairs = sorted(k[1:] for k in f1 if k[0] == "goad" and ("stoc",) + k[1:] in f1)
    if not pairs:
      continue
    goad = np.array([f1[("goad",) + k] for k in pairs])
    stoc = np.array([f1[("stoc",) + k] for k in pairs])
    diff = stoc - goad
    wins, losses = int((diff > 1e-9).sum()), int((diff < -1e-9).sum())
    p = binomtest(wins, wins + losses).pvalue if wins + losses else 1.0
    splits = sorted({k[0] for k in pairs})
    split_wins = sum(diff[[k[0] == s for k in pairs]].mean() > 0 for s in splits)
    name = f"{dataset} {overrides}".strip()
    print(f"| {name} | {100 * ratio:.1f} % | {len(pairs)} ({len(splits)} splits) "
          f"| {goad.mean():.1f} ± {goad.std():.1f} | {stoc.mean():.1f} ± {stoc.std():.1f} "
          f"| {diff.mean():+.1f} ± {diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else 0:.1f} "
          f"| {wins} / {losses} / {len(diff) - wins - losses} | {p:.3f} | {split_wins} of {len(splits)} |")


if __name__ == "__main__":
  if sys.argv[1] == "--settings":
    settings_table(sys.argv[2])
  elif sys.argv[1] == "--paired":
    paired_table(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
  else:
    main(sys.argv[1])
