"""The short report of `stoc-jax detect`: a score histogram with the threshold, per-round
refinement counts, and (with labels) AUC / AP / F1 and the precision / recall of refinement."""

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


def write_report(folder: Path, scores, threshold: float, rounds: list, summary: dict,
                 label_metrics: dict | None = None) -> list[str]:
  """Writes score_histogram.png, refinement.png and report.html into `folder`; returns the file names."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  folder.mkdir(parents=True, exist_ok=True)
  fig, ax = plt.subplots(figsize=(6, 3.5))
  ax.hist(scores, bins=50, color="#4c72b0", log=True)  # log counts: the tail of anomalies stays visible
  ax.axvline(threshold, color="#c44e52", linestyle="--", label=f"threshold {threshold:.3g}")
  ax.set_xlabel("anomaly score (higher = more anomalous)")
  ax.set_ylabel("rows")
  ax.set_title("Score histogram")
  ax.legend()
  fig.tight_layout()
  fig.savefig(folder / "score_histogram.png", dpi=100)
  plt.close(fig)

  fig, ax = plt.subplots(figsize=(6, 3.5))
  if rounds:
    ax.bar([str(r["round"]) for r in rounds], [r["kept"] for r in rounds], color="#55a868")
  ax.set_xlabel("refinement round")
  ax.set_ylabel("rows kept as normal")
  ax.set_title("Refinement: rows kept per round" if rounds else "No refinement")
  fig.tight_layout()
  fig.savefig(folder / "refinement.png", dpi=100)
  plt.close(fig)

  rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>"
                 for k, v in summary.items())
  label_rows = ""
  if label_metrics:
    label_rows = "<h2>With the given labels</h2><table>" + "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in label_metrics.items()
    ) + "</table>"
  round_rows = "".join(f"<tr><td>{r['round']}</td><td>{r['kept']}</td><td>{_fmt(r.get('gamma'))}</td></tr>"
                       for r in rounds)
  (folder / "report.html").write_text(f"""<!doctype html>
<html><head><meta charset="utf-8"><title>stoc-jax report</title>
<style>body{{font-family:sans-serif;max-width:720px;margin:2em auto}}th{{text-align:left;padding-right:1em}}</style>
</head><body>
<h1>stoc-jax anomaly report</h1>
<table>{rows}</table>
<h2>Score histogram</h2>
<p>Figure <code>score_histogram.png</code>: the anomaly score of every row, and the threshold
({threshold:.4g}) above which a row is flagged.</p>
<img src="score_histogram.png" alt="Score histogram">
<h2>Refinement</h2>
<p>Figure <code>refinement.png</code>: rows kept as normal after each refinement round.</p>
<img src="refinement.png" alt="Refinement: rows kept per round">
<table><tr><th>round</th><th>kept</th><th>gamma</th></tr>{round_rows}</table>
{label_rows}
</body></html>
""")
  return ["report.html", "score_histogram.png", "refinement.png"]


def _fmt(v):
  if isinstance(v, float):
    return f"{v:.4g}"
  return str(v)
