"""How long `stoc-jax detect --images DIR --image-size N` takes on a folder of mixed-size images.

  python benchmarks/detector_fit_time/image_folder_sizes.py \
      --out=benchmarks/detector_fit_time/image_folder_sizes.json     # 14 min on 2 CPU cores

The folder: scikit-learn's bundled 8 x 8 digits as a practitioner's folder would hold them, 170
zeros under normal/ and 10 other digits under anomaly/, each saved as an RGB PNG of 48, 96 or 120
pixels (drawn at random), so no two sizes agree without --image-size. Each size runs in a new
process, as a user's first command would: the time includes importing JAX and compiling the
training step (the command line's cache of compiled programs is off, JAX_ENABLE_COMPILATION_CACHE=
false, so that no earlier run's programs are loaded). The defaults otherwise (a ResNet-18 of width
0.25 learning to predict rotations, 300 training steps, contamination estimated).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from absl import app, flags
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.metrics import average_precision_score, roc_auc_score

_SIZES = flags.DEFINE_list("sizes", ["16", "32", "64"], "values of --image-size to time")
_OUT = flags.DEFINE_string("out", None, "JSON file for the rows")


def write_folder(root: Path):
  digits, rng = load_digits(), np.random.default_rng(0)
  for sub, ids in (("normal", np.flatnonzero(digits.target == 0)[:170]),
                   ("anomaly", np.flatnonzero(digits.target != 0)[:10])):
    (root / sub).mkdir(parents=True)
    for i in ids:
      pixels = (digits.images[i] * 16).clip(0, 255).astype(np.uint8)
      size = int(rng.choice([48, 96, 120]))
      Image.fromarray(pixels).resize((size, size), Image.BILINEAR).convert("RGB").save(root / sub / f"{i}.png")


def main(_):
  rows = []
  with tempfile.TemporaryDirectory() as tmp:
    folder = Path(tmp) / "folder"
    write_folder(folder)
    for size in map(int, _SIZES.value):
      out = Path(tmp) / f"scores_{size}.csv"
      start = time.perf_counter()
      subprocess.run([sys.executable, "-m", "stoc_jax.cli", "detect", "--images", str(folder), "--out", str(out),
                      "--image-size", str(size)], check=True, capture_output=True, text=True,
                     env=dict(os.environ, JAX_ENABLE_COMPILATION_CACHE="false"))
      seconds = time.perf_counter() - start
      import pandas as pd
      scores = pd.read_csv(out)
      rows.append({"image_size": size, "images": len(scores), "seconds": round(seconds, 1),
                   "auc": 100 * roc_auc_score(scores["label"], scores["score"]),
                   "ap": 100 * average_precision_score(scores["label"], scores["score"]),
                   "flagged": int(scores["is_anomaly"].sum())})
      print(json.dumps(rows[-1]), flush=True)
  if _OUT.value:
    Path(_OUT.value).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
  app.run(main)
