"""The short report of `stoc-jax detect`: a score histogram with the threshold (two colours with
labels), the 20 most anomalous rows, per-round refinement counts, and (with labels) AUC / AP / F1
and the precision / recall of refinement."""

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


def glossary(refined: bool) -> dict:
  """One sentence for each number of the summary that needs one."""
  out = {"contamination": "the fraction of rows taken to be anomalies; the threshold flags that "
                          "fraction of the input, estimated without labels unless you gave it."}
  if refined:
    out["refinement gamma"] = ("the fraction of rows each of the K one-class models of refinement "
                               "rejects: twice a given contamination, once an estimated one (on images, "
                               "twice the fraction above Otsu's cut on refinement's scores), unless set.")
    out["kept by refinement"] = ("the rows that all K models, each fitted on its own part of the data, "
                                 "call normal in the last round of refinement; the final model is fitted on "
                                 "them.")
  return out


def write_report(folder: Path, scores, threshold: float, rounds: list | None, summary: dict,
                 label_metrics: dict | None = None, ids=None, labels=None) -> list[str]:
  """Writes score_histogram.png, refinement.png (unless `rounds` is None: refinement off) and
  report.html into `folder`; returns the file names. With `labels`, the histogram shows normal
  and anomalous rows in two colours; the report lists the 20 highest-scoring rows by `ids`."""
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
  ax.set_ylabel("rows")
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
    ax.set_ylabel("rows kept as normal")
    ax.set_title("Refinement: rows kept per round")
    fig.tight_layout()
    fig.savefig(folder / "refinement.png", dpi=100)
    plt.close(fig)
    files.append("refinement.png")
    round_rows = "".join(f"<tr><td>{r['round']}</td><td>{r['kept']}</td><td>{_fmt(r.get('gamma'))}</td></tr>"
                         for r in rounds)
    refinement = f"""<h2>Refinement</h2>
<p>Figure <code>refinement.png</code>: rows kept as normal after each refinement round.</p>
<img src="refinement.png" alt="Refinement: rows kept per round">
<table><tr><th>round</th><th>kept</th><th>gamma</th></tr>{round_rows}</table>
"""

  rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>"
                 for k, v in summary.items())
  terms = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>"
                  for k, v in glossary(rounds is not None).items())
  top = "".join(f"<tr><td>{i + 1}</td><td>{html.escape(str(r))}</td><td>{v:.6g}</td></tr>"
                for i, (r, v) in enumerate(most_anomalous(ids, scores)))
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
<ul>{terms}</ul>
<h2>Score histogram</h2>
<p>Figure <code>score_histogram.png</code>: the anomaly score of every row, and the threshold
({threshold:.4g}) above which a row is flagged.</p>
<img src="score_histogram.png" alt="Score histogram">
<h2>The 20 most anomalous rows</h2>
<table><tr><th>rank</th><th>row</th><th>score</th></tr>{top}</table>
{refinement}{label_rows}
</body></html>
""")
  return files


def _fmt(v):
  if isinstance(v, float):
    return f"{v:.4g}"
  return str(v)
