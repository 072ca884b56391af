"""The short report of `stoc-jax detect`: a score histogram with the threshold (two colours with
labels), the 20 most anomalous rows (on tables, with the columns that put each furthest from the rows
kept as normal), per-round refinement counts, and (with labels) AUC / AP / F1 and the precision /
recall of refinement."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np


def refinement_quality(keep, labels) -> dict:
  """How well refinement removed the anomalies: precision / recall of 'removed' vs. true anomalies."""
  removed = ~np.asarray(keep, bool)
  labels = np.asarray(labels).astype(bool)
  tp = int((removed & labels).sum())
  return {"removed": int(removed.sum()), "anomalies_removed": tp,
          "precision": tp / removed.sum() if removed.any() else float("nan"),
          "recall": tp / labels.sum() if labels.any() else float("nan")}


def most_anomalous(ids, scores, count: int = 20) -> list:
  """(id, score) of the `count` highest scores, highest first."""
  order = np.argsort(-np.asarray(scores), kind="stable")[:count]
  return [(ids[i], float(scores[i])) for i in order]


# A column is named as a reason only this many SDs from the kept rows' mean: about 5 % of a normal
# column's values lie further out, so a common value is never given as why a row stands out.
DEVIATION_SD = 2.0


def normal_column_statistics(x, keep) -> tuple[np.ndarray, np.ndarray]:
  """(mean, SD) of each column over the rows kept as normal: what `column_deviations` measures from.
  Where the kept rows hold one value (a category none of them has), the SD of all rows."""
  x = np.asarray(x, np.float64)
  kept = x[np.asarray(keep, bool)]
  sd = kept.std(axis=0)
  return kept.mean(axis=0), np.where(sd > 0, sd, x.std(axis=0))


def column_deviations(x, statistics, names, top: int = 3) -> list[str]:
  """For each row of table `x`, up to `top` of its columns furthest from the rows kept as normal,
  as "name value (+z SD)", z = (value - their mean) / their SD (`statistics`, from
  `normal_column_statistics`), largest |z| first and only |z| >= DEVIATION_SD. A row with no such
  column gets a sentence saying so: it stands out, if at all, by a combination of columns.

  A per-column reading, as ECOD's tail probabilities give one (Li et al., TKDE 2022): it says where
  a row stands out column by column, not how the final model combined the columns."""
  x = np.asarray(x, np.float64)
  mean, sd = statistics
  z = np.divide(x - mean, sd, out=np.zeros_like(x), where=sd > 0)
  top = min(top, x.shape[1])
  far = np.argpartition(-np.abs(z), top - 1, axis=1)[:, :top]  # wide tables: no full sort per row
  order = np.take_along_axis(far, np.argsort(-np.abs(np.take_along_axis(z, far, 1)), axis=1, kind="stable"), 1)
  out = []
  for i, columns in enumerate(order):
    named = [f"{names[j]} {x[i, j]:.4g} ({z[i, j]:+.3g} SD)" for j in columns if abs(z[i, j]) >= DEVIATION_SD]
    out.append(", ".join(named) if named else f"no column beyond {DEVIATION_SD:g} SD")
  return out


def glossary(refined: bool, estimated: bool = False, unit: str = "rows", found_none: bool = False,
             on_logs: tuple | None = None) -> dict:
  """One sentence for each number of the summary that needs one; `unit` names what is scored
  ("rows" of a table, "images" of a folder). `found_none`: the estimate read no contamination (the
  detector's floor, MIN_CONTAMINATION). `on_logs`: (column names, the estimate with their logs) where
  the logs of a table's right-skewed columns at least halve the estimate."""
  out = {"contamination": f"the fraction of {unit} taken to be anomalies; the threshold flags that "
                          "fraction of the input, estimated without labels unless you gave it."}
  if estimated:
    out["contamination"] += " The estimate is rough (the README says how rough): give --contamination when you know it."
  if estimated and found_none:
    # A class of anomalies of its own, not a tail, reads as clean (on KEEL's dermatology-6 and vowel0
    # the estimate read 0 where the scores ranked the anomalies at 95-97 AUC: benchmarks/tables).
    out["contamination"] += (f" Here it found none: either the {unit} are clean, or the anomalies form a group "
                             f"of their own, which it cannot see; the scores may still rank them first, so "
                             f"read the most anomalous {unit}.")
  if estimated and on_logs is not None:
    names, estimate = on_logs
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    out["contamination"] += (f" It reads a long right tail as anomalies: with the logs of {shown} it is "
                             f"{estimate:.3g}. If those tails are normal (amounts, durations), give "
                             f"--contamination or the columns' logs.")
  if refined:
    out["refinement gamma"] = (f"the fraction of {unit} each of the K one-class models of refinement "
                               "rejects: twice a given contamination; of an estimated one, half on tables, all of it "
                               "on embeddings and GOAD features, and on images twice the fraction above Otsu's "
                               "cut on refinement's scores; unless set.")
    out["kept by refinement"] = (f"the {unit} that all K models, each fitted on its own part of the data, "
                                 "call normal in the last round of refinement; the final model is fitted on "
                                 "them.")
  article = "an" if unit[0] in "aeiou" else "a"  # an image's, a row's
  out["confidence"] = (f"(a column of the scores file) how surely {article} {unit[:-1]}'s is_anomaly would hold were "
                       f"the {unit} drawn again, from its rank against the contamination's cut (ExCeeD, "
                       "Perini et al. 2020): lowest at the threshold, near 1 far from it.")
  return out


def write_report(folder: Path, scores, threshold: float, rounds: list | None, summary: dict,
                 label_metrics: dict | None = None, ids=None, labels=None, deviations=None,
                 confidence=None, unit: str = "rows", terms: dict | None = None) -> list[str]:
  """Writes score_histogram.png, refinement.png (unless `rounds` is None: refinement off) and
  report.html into `folder`; returns the file names. With `labels`, the histogram shows normal
  and anomalous rows in two colours; the report lists the 20 highest-scoring rows by `ids`, with
  their `confidence` (one value per row, the scores file's) and `deviations` (one string per row,
  `column_deviations`) beside them when given. `unit` names what is scored: "rows" or "images";
  `terms`, the sentences of `glossary` the summary's numbers need."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  folder.mkdir(parents=True, exist_ok=True)
  scores = np.asarray(scores, np.float64)
  ids = list(range(len(scores))) if ids is None else ids
  fig, ax = plt.subplots(figsize=(6, 3.5))
  bins = np.histogram_bin_edges(scores, bins=50)
  if labels is not None:  # log counts: the tail of anomalies stays visible
    labels = np.asarray(labels).astype(bool)
    ax.hist(scores[~labels], bins=bins, color="#4c72b0", log=True, alpha=0.75, label="normal (label 0)")
    ax.hist(scores[labels], bins=bins, color="#dd8452", log=True, alpha=0.75, label="anomaly (label 1)")
  else:
    ax.hist(scores, bins=bins, color="#4c72b0", log=True)
  ax.axvline(threshold, color="#c44e52", linestyle="--", label=f"threshold {threshold:.3g}")
  ax.set_xlabel("anomaly score (higher = more anomalous)")
  ax.set_ylabel(unit)
  ax.set_title("Score histogram")
  ax.legend()
  fig.tight_layout()
  fig.savefig(folder / "score_histogram.png", dpi=100)
  plt.close(fig)
  files = ["report.html", "score_histogram.png"]

  refinement = ""
  if rounds is not None:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar([str(r["round"]) for r in rounds], [r["kept"] for r in rounds], color="#55a868")
    ax.set_xlabel("refinement round")
    ax.set_ylabel(f"{unit} kept as normal")
    ax.set_title(f"Refinement: {unit} kept per round")
    fig.tight_layout()
    fig.savefig(folder / "refinement.png", dpi=100)
    plt.close(fig)
    files.append("refinement.png")
    round_rows = "".join(f"<tr><td>{r['round']}</td><td>{r['kept']}</td><td>{_fmt(r.get('gamma'))}</td></tr>"
                         for r in rounds)
    refinement = f"""<h2>Refinement</h2>
<p>Figure <code>refinement.png</code>: {unit} kept as normal after each refinement round.</p>
<img src="refinement.png" alt="Refinement: {unit} kept per round">
<table><tr><th>round</th><th>kept</th><th>gamma</th></tr>{round_rows}</table>
"""

  rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>"
                 for k, v in summary.items())
  term_items = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in (terms or {}).items())
  top_rows = most_anomalous(list(range(len(scores))), scores)
  sure = (lambda i: f"<td>{confidence[i]:.3f}</td>") if confidence is not None else (lambda i: "")
  why = (lambda i: f"<td>{html.escape(deviations[i])}</td>") if deviations is not None else (lambda i: "")
  top = "".join(f"<tr><td>{rank + 1}</td><td>{html.escape(str(ids[i]))}</td><td>{v:.6g}</td>{sure(i)}{why(i)}</tr>"
                for rank, (i, v) in enumerate(top_rows))
  sure_head = "<th>confidence</th>" if confidence is not None else ""
  why_head, why_note = "", ""
  if deviations is not None:
    reference = "the rows kept by refinement" if rounds is not None else "all rows"
    why_head = "<th>furthest from the normal rows</th>"
    why_note = (f"<p>Beside each row, up to three of its columns furthest from {reference}: the value, and "
                f"how many of their standard deviations it lies from their mean (only columns {DEVIATION_SD:g} or "
                "more out). One-hot columns read as <i>column_value</i> 1 for the row's category. A row with "
                "no such column stands out by a combination of columns.</p>")
  # Errors about the input count its data rows from 1; the scores file's id, as pandas' index, from 0.
  numbering = ("<p>Rows are numbered as in the scores file's <code>id</code> column, 0 for the first row "
               "below the header.</p>" if unit == "rows" else "")
  label_rows = ""
  if label_metrics:
    label_rows = "<h2>With the given labels</h2><table>" + "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in label_metrics.items()
    ) + "</table>"
  (folder / "report.html").write_text(f"""<!doctype html>
<html><head><meta charset="utf-8"><title>stoc-jax report</title>
<style>body{{font-family:sans-serif;max-width:720px;margin:2em auto}}th{{text-align:left;padding-right:1em}}</style>
</head><body>
<h1>stoc-jax anomaly report</h1>
<table>{rows}</table>
<ul>{term_items}</ul>
<h2>Score histogram</h2>
<p>Figure <code>score_histogram.png</code>: the anomaly score of every {unit[:-1]}, and the threshold
({threshold:.4g}) above which a {unit[:-1]} is flagged.</p>
<img src="score_histogram.png" alt="Score histogram">
<h2>The 20 most anomalous {unit}</h2>
{numbering}{why_note}<table><tr><th>rank</th><th>{unit[:-1]}</th><th>score</th>{sure_head}{why_head}</tr>{top}</table>
{refinement}{label_rows}
</body></html>
""")
  return files


def _fmt(v):
  if isinstance(v, float):
    return f"{v:.4g}"
  return str(v)
