"""Photos stored on their side: what `stoc-jax detect --images` makes of them, read upright (as a
viewer shows them, through their EXIF orientation tag) and read as stored.

A camera stores a portrait photo's pixels as the sensor saw them, on their side, and writes an EXIF
orientation tag that viewers apply. Here 120 images of the bundled 8 x 8 digits 2, 4 and 7 (16 x 16,
JPEG), none of them anomalous, of which 40 are stored turned a quarter with the tag that turns them
back (what `--images` reads since it applies the tag); and the same 40 saved turned without the tag
(the pixels as stored, what it read before). Printed: how the 40 rank among the 120 (the AUC of
"stored on its side" against the score; 50 is no preference), and how many are among the 20 most
anomalous (by chance about 6.7).

  python benchmarks/images/sideways_photos.py --out=benchmarks/images/sideways_photos.jsonl   # 6 min on 2 cores
"""

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from stoc_jax import cli  # noqa: E402

ORIENTATION = 0x0112  # EXIF's tag; 6: turn the stored pixels a quarter clockwise to show them


def write_folder(folder: Path, seed: int, tagged: bool, images=120, sideways=40) -> set:
  """The folder of JPEGs; returns the names of those stored on their side."""
  digits = load_digits()
  rng = np.random.default_rng(seed)
  chosen = rng.permutation(np.flatnonzero(np.isin(digits.target, (2, 4, 7))))[:images]
  turned = set(rng.choice(images, sideways, replace=False).tolist())
  folder.mkdir(parents=True)
  for k, i in enumerate(chosen):
    pixels = Image.fromarray((digits.images[i] * 255 / 16).astype(np.uint8)).resize((16, 16), Image.BILINEAR)
    pixels = np.asarray(pixels.convert("RGB"))
    exif = Image.Exif()
    if k in turned:
      pixels = np.rot90(pixels, 1)  # as the sensor held it: a quarter anticlockwise of upright
      if tagged:
        exif[ORIENTATION] = 6
    Image.fromarray(np.ascontiguousarray(pixels)).save(folder / f"{k:03d}.jpg", quality=95, exif=exif)
  return {f"{k:03d}.jpg" for k in turned}


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--seeds", type=int, default=3)
  ap.add_argument("--out", required=True)
  args = ap.parse_args()
  rows = []
  with tempfile.TemporaryDirectory() as tmp:
    for seed in range(args.seeds):
      for tagged in (True, False):
        where = Path(tmp) / f"{seed}_{tagged}"
        turned = write_folder(where / "photos", seed, tagged)
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the command's summary; the table is ours
          assert cli.main(["detect", "--images", str(where / "photos"), "--out", str(where / "s.csv"),
                           "--seed", str(seed)]) == 0
        scores = pd.read_csv(where / "s.csv")
        on_side = scores["id"].isin(turned)
        top = scores.nlargest(20, "score")["id"].isin(turned)
        rows.append({"seed": seed, "read": "upright (tag applied)" if tagged else "as stored (no tag)",
                     "auc_of_turned": 100 * roc_auc_score(on_side, scores["score"]),
                     "turned_in_top_20": int(top.sum()), "seconds": time.perf_counter() - start})
        print(json.dumps(rows[-1]), file=sys.stderr)
  with open(args.out, "w") as f:
    f.writelines(json.dumps(r) + "\n" for r in rows)
  print("| read | AUC of the 40 turned, each seed | of the 20 most anomalous, turned |")
  print("|---|---|---|")
  for read in ("upright (tag applied)", "as stored (no tag)"):
    rs = [r for r in rows if r["read"] == read]
    aucs = ", ".join(f"{r['auc_of_turned']:.1f}" for r in rs)
    tops = ", ".join(str(r["turned_in_top_20"]) for r in rs)
    print(f"| {read} | {aucs} | {tops} |")


if __name__ == "__main__":
  main()
