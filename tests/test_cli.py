"""The `stoc-jax` console script on files the tests write."""

import json
import pickle
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from stoc_jax import cli


@pytest.fixture
def table(tmp_path):
  rng = np.random.default_rng(0)
  n, k = 300, 20
  df = pd.DataFrame(rng.normal(size=(n, 4)), columns=list("abcd"))
  df.loc[: k - 1, ["a", "b", "c", "d"]] += 4.0
  df["color"] = rng.choice(["red", "blue"], n)
  df["is_fraud"] = (np.arange(n) < k).astype(int)
  df = df.sample(frac=1.0, random_state=0).reset_index(drop=True)
  path = tmp_path / "table.csv"
  df.to_csv(path, index=False)
  return path


def run_cli(*args, cwd=None):
  exe = shutil.which("stoc-jax")
  cmd = [exe] if exe else [sys.executable, "-m", "stoc_jax.cli"]
  return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, timeout=600, cwd=cwd)


def assert_confidence_grows_away_from_the_threshold(scores):
  """The scores file's `confidence` (ExCeeD): in [0, 1], rising with the score among flagged rows and
  falling with it among the others, near 1 at both ends."""
  assert ((scores["confidence"] >= 0) & (scores["confidence"] <= 1)).all()
  for flag, sign in ((1, 1), (0, -1)):
    part = scores[scores["is_anomaly"] == flag].sort_values("score")
    assert (np.diff(part["confidence"].to_numpy()) * sign >= -1e-12).all()
  ordered = scores.sort_values("score")["confidence"].to_numpy()
  assert ordered[0] > 0.99 and ordered[-1] > 0.99


def test_console_script_on_a_csv(table, tmp_path):
  out = tmp_path / "res" / "scores.csv"
  r = run_cli("detect", table, "--out", out, "--label-column", "is_fraud", "--contamination", "0.07")
  assert r.returncode == 0, r.stderr[-2000:]
  scores = pd.read_csv(out)
  assert len(scores) == 300 and {"score", "is_anomaly", "kept_in_refined_set", "label"} <= set(scores.columns)
  assert scores["is_anomaly"].sum() == pytest.approx(21, abs=2)
  # the flagged rows are mostly the planted anomalies
  assert scores.loc[scores.is_anomaly == 1, "label"].mean() > 0.8
  assert_confidence_grows_away_from_the_threshold(scores)
  assert "confidence: (a column of the scores file)" in r.stdout
  refined = pd.read_csv(tmp_path / "res" / "scores_refined.csv")
  assert len(refined) == scores["kept_in_refined_set"].sum() and "color" in refined.columns
  report = tmp_path / "res" / "scores_report"
  html = (report / "report.html").read_text()
  for fig in ("score_histogram.png", "refinement.png"):
    assert (report / fig).stat().st_size > 1000
    assert fig in html
  assert "AUC" in html and "refinement recall" in html
  assert "AUC" in r.stdout
  # The report's first row is the scores file's highest, by the same id: 0 = the first data row.
  top = scores.loc[scores["score"].idxmax()]
  assert "0 for the first row below the header" in html
  assert re.search(rf"<tr><td>1</td><td>{int(top['id'])}</td>", html), html[:3000]
  assert int(top["id"]) == int(top.name)


def test_a_table_is_scored_as_the_detector_scores_the_frame_pandas_reads(tmp_path):
  from stoc_jax import STOCDetector
  rng = np.random.default_rng(0)
  n = 300
  # Epoch milliseconds over an hour: in float32 (steps of 131 s at 1.7e12) they are 28 values, not 300.
  frame = pd.DataFrame({"time_ms": np.round(1.7e12 + np.sort(rng.uniform(0, 3.6e6, n))),
                        "temp": rng.normal(20.0, 1.0, n), "load": rng.normal(50.0, 5.0, n)})
  frame.loc[:9, "temp"] += 6.0
  frame.to_csv(tmp_path / "log.csv", index=False)
  assert cli.main(["detect", str(tmp_path / "log.csv"), "--out", str(tmp_path / "s.csv")]) == 0
  expected = STOCDetector().fit(pd.read_csv(tmp_path / "log.csv")).decision_scores_
  np.testing.assert_allclose(pd.read_csv(tmp_path / "s.csv")["score"], expected, rtol=1e-12)


def test_labels_of_one_class_say_why_nothing_is_evaluated(table, tmp_path, capsys):
  pd.read_csv(table).assign(is_fraud=0).to_csv(tmp_path / "normal_only.csv", index=False)
  assert cli.main(["detect", str(tmp_path / "normal_only.csv"), "--out", str(tmp_path / "s.csv"),
                   "--label-column", "is_fraud"]) == 0
  captured = capsys.readouterr()
  assert "the labels are all 0 (normal): AUC, AP and F1 need both labels" in captured.err
  assert "AUC" not in captured.out and "label" in pd.read_csv(tmp_path / "s.csv").columns


def test_unlabeled_table_auto_contamination(table, tmp_path):
  df = pd.read_csv(table).drop(columns=["is_fraud"])
  df.to_csv(tmp_path / "plain.csv", index=False)
  assert cli.main(["detect", str(tmp_path / "plain.csv"), "--out", str(tmp_path / "s.csv")]) == 0
  s = pd.read_csv(tmp_path / "s.csv")
  assert "label" not in s.columns and 0 < s["is_anomaly"].sum() < 60
  assert cli.main(["detect", str(tmp_path / "plain.csv"), "--out", str(tmp_path / "r.csv"),
                   "--scaling", "robust", "--occ", "kde"]) == 0
  assert len(pd.read_csv(tmp_path / "r.csv")) == len(s)
  assert "AUC" not in (tmp_path / "s_report" / "report.html").read_text()


@pytest.mark.parametrize("content,match", [
    ("", "is empty"),
    ("a,b\n1,2\n", "1 row"),
    ("a,b\n1,\n2,3\n4,5\n", "missing values"),
    ("name\nx\ny\nz\n", "needs at least 10"),  # categories alone are encoded, but three rows are too few
    ("id,v\n" + "".join(f"u{i},{i % 7}\n" for i in range(30)), r"\['id'\].*identifiers"),
    ("when,v\n" + "".join(f"2024-03-{i + 1:02d} 10:{i:02d},{i % 7}\n" for i in range(30)),
     r"\['when'\].*\(dates or times\).*--ignore-columns 'when'.*the weekday"),
    ("a,b\n" + "".join(f"{'?' if i in (4, 9) else i % 4},{i % 3}.5\n" for i in range(30)),
     r"columns of numbers hold other values, marks for missing values\? 'a': '\?' in 2 rows \(first data rows: \[5, 10\]\)"),
    ("0.52,1.25\n" + "".join(f"{i % 5}.1,{i % 3}.7\n" for i in range(30)), r"\['0.52', '1.25'\] holds data"),
    # Two files joined with their headers: every column read as text, some refused as identifiers,
    # others silently one-hot encoded.
    ("weight,price\n" + "".join(f"{70 + i * 0.3:.1f},{i * 1.7:.2f}\n" for i in range(15)) + "weight,price\n"
     + "".join(f"{70 + i * 0.3:.1f},{i * 1.7:.2f}\n" for i in range(15)),
     r"data row \[16\] repeats the column names: tables joined with their headers\? Delete those lines"),
    # Notes below the table, in one cell each: the column of numbers they lie in read as text.
    ("weight,price\n" + "".join(f"{70 + i * 0.3:.1f},{i * 1.7:.2f}\n" for i in range(30)) + "Source: shop export,\nIn USD,\n",
     r"the last data rows \(31, 32\) hold text in one cell and nothing else \('Source: shop export'\): a note below "
     r"the table, not a record\. Delete them"),
    # A second header line, the units: every column of numbers read as text, then refused as identifiers.
    ("weight,price,shop\nkg,USD,name\n" + "".join(f"{70 + i * 0.3:.1f},{i * 1.7:.2f},{'pq'[i % 2]}\n" for i in range(30)),
     r"data row 1 holds text \('kg', 'USD'\) in columns \['weight', 'price'\], where every later row holds a "
     r"number: a second line of column names or units\? Delete it"),
    # KDD Cup's file: no header, text among the numbers, and a first row that repeats its zeros.
    ("0,tcp,http,SF,181,5450,0,0,0.00,0.00\n" + "".join(f"0,udp,dns,SF,{i},{i * 3},0,1,0.00,0.50\n" for i in range(30)),
     r"\['0', 'tcp', 'http', 'SF', '181'\] holds data, not column names"),
    (",v,w\n" + "".join(f"{i},{i % 7},{i % 3}\n" for i in range(30)),
     r"'Unnamed: 0' \(0, 1, \.\.\.\) numbers the rows.*Leave it out: --ignore-columns 'Unnamed: 0'"),
    # Every column that keys the rows in one error, so that one --ignore-columns fixes the file.
    ("n,when,v\n" + "".join(f"{i + 1},2024-03-{i + 1:02d} 10:{i:02d},{i % 7}\n" for i in range(30)),
     r"column 'n' \(1, 2, \.\.\.\) numbers the rows.*; text columns \['when'\].*\(dates or times\).*"
     r"Leave them out: --ignore-columns 'n,when'"),
    # A spreadsheet's totals row, last or first: no record, and it would stretch every column's scale.
    ("a,b,c\n" + "".join(f"{i % 7},{i % 3}.5,x{i % 2}\n" for i in range(30)) + "85,45,Total\n",
     r"the last data row \(row 31\) holds the sums of the other rows in columns \['a', 'b'\]: a totals row"),
    ("a,b\n85,45\n" + "".join(f"{i % 7},{i % 3}.5\n" for i in range(30)),
     r"the first data row \(row 1\) holds the sums of the other rows in columns \['a', 'b'\]"),
    # Unquoted thousands commas first in a later row, which pandas stops at: the rows that hold them.
    ("price,qty\n" + "".join(f"{(i * 97) % 3000:,}.50,{i % 4}\n" for i in range(30)),
     r"rows hold more fields than its first line has column names; data rows \[12, 13, 14, 15, 16\] do, where "
     r"others fit: a value holding the delimiter ',' unquoted \(a thousands separator"),
])
def test_malformed_tables_fail_clearly_and_write_nothing(tmp_path, capsys, content, match):
  p = tmp_path / "bad.csv"
  p.write_text(content)
  out = tmp_path / "out" / "scores.csv"
  assert cli.main(["detect", str(p), "--out", str(out)]) == 2
  assert re.search(match, capsys.readouterr().err)
  assert not out.exists() and not (tmp_path / "out" / "scores_report").exists()


def test_missing_file(tmp_path, capsys):
  assert cli.main(["detect", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "s.csv")]) == 2
  assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("shape, fixed", [((40, 4, 4), "x_flat.npy"), ((40,), "x_column.npy")])
def test_an_array_of_other_than_two_dimensions_is_refused_with_the_command_that_reshapes_it(tmp_path, capsys, shape,
                                                                                             fixed):
  np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=shape))
  assert cli.main(["detect", str(tmp_path / "x.npy"), "--out", str(tmp_path / "s.csv")]) == 2
  err = capsys.readouterr().err
  assert f"got shape {shape}" in err and ("--images FOLDER" in err) == (len(shape) == 3)
  command = re.search(r'python -c "(.*)"', err).group(1)
  subprocess.run([sys.executable, "-c", command], check=True)  # the fix the error names works as written
  assert np.load(tmp_path / fixed).shape == ((40, 16) if len(shape) == 3 else (40, 1))
  assert cli.main(["detect", str(tmp_path / fixed), "--out", str(tmp_path / "s.csv")]) == 0


@pytest.mark.parametrize("row_names", [False, True])
def test_a_file_delimited_by_spaces_is_refused_with_the_line_that_rewrites_it_with_commas(tmp_path, capsys,
                                                                                         row_names):
  rng = np.random.default_rng(0)
  frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
  path = tmp_path / "x.dat"
  if row_names:  # R's write.table: quoted names, and a quoted row name first in every row but the header
    path.write_text('"a" "b" "c"\n' + "".join(f'"{i + 1}" ' + " ".join(map(repr, row)) + "\n"
                                             for i, row in enumerate(frame.to_numpy().tolist())))
  else:
    frame.to_csv(path, sep=" ", index=False)
  assert cli.main(["detect", str(path), "--out", str(tmp_path / "s.csv")]) == 2
  err = capsys.readouterr().err
  assert "a file delimited by spaces" in err and "3 fields" in err
  subprocess.run([sys.executable, "-c", re.search(r'python -c "(.*)"', err).group(1)], check=True)
  np.testing.assert_allclose(pd.read_csv(tmp_path / "x.csv")[["a", "b", "c"]].to_numpy(), frame.to_numpy())
  assert cli.main(["detect", str(tmp_path / "x.csv"), "--out", str(tmp_path / "s.csv")]) == 0


def test_one_column_of_text_with_spaces_is_not_taken_for_a_file_delimited_by_spaces(tmp_path, capsys):
  (tmp_path / "names.csv").write_text("full name\n" + "".join(f"Ada Lovelace{i}\n" for i in range(30)))
  assert cli.main(["detect", str(tmp_path / "names.csv"), "--out", str(tmp_path / "s.csv")]) == 2
  assert "delimited by spaces" not in capsys.readouterr().err


def _write_images(root, sizes):
  rng = np.random.default_rng(0)
  for i, (sub, s) in enumerate(sizes):
    d = root / sub
    d.mkdir(parents=True, exist_ok=True)
    arr = rng.integers(0, 60 if sub == "normal" else 255, (s, s, 3), dtype=np.uint8)
    Image.fromarray(arr).save(d / f"{i}.png")


def test_images_folder_with_labels(tmp_path, capsys):
  _write_images(tmp_path / "imgs", [("normal", 16)] * 36 + [("anomaly", 16)] * 4)
  out = tmp_path / "img_scores.csv"
  code = cli.main(["detect", "--images", str(tmp_path / "imgs"), "--out", str(out), "--representation", "none",
                   "--contamination", "0.1"])
  assert code == 0
  printed = capsys.readouterr().out
  assert re.search(r"^ *images: 40$", printed, re.M)  # the summary counts images, not rows
  assert "the fraction of images taken" in printed and "fraction of rows" not in printed
  html = (tmp_path / "img_scores_report" / "report.html").read_text()
  assert "The 20 most anomalous images" in html and "kept as normal" in html and " rows" not in html
  s = pd.read_csv(out)
  assert len(s) == 40 and s["id"].str.endswith(".png").all() and s["label"].sum() == 4
  assert (tmp_path / "img_scores_report" / "report.html").exists()
  assert pd.read_csv(tmp_path / "img_scores_refined.csv")["file"].str.startswith("normal").mean() > 0.8


def test_labels_come_from_label_word_folders_or_a_normal_folder_beside_others():
  from stoc_jax.cli import _folder_labels
  np.testing.assert_array_equal(_folder_labels([("normal", "a.png"), ("anomaly", "b.png")]), [0, 1])
  np.testing.assert_array_equal(_folder_labels([("good", "0.png"), ("crack", "1.png"), ("scratch", "x", "2.png")]),
                                [0, 1, 1])
  assert _folder_labels([("cats", "0.png"), ("dogs", "1.png")]) is None  # classes, not labels
  assert _folder_labels([("good", "0.png"), ("1.png",)]) is None  # an image outside every folder
  np.testing.assert_array_equal(_folder_labels([("good", "0.png"), ("good", "1.png")]), [0, 0])
  # An MVTec AD category's whole tree: the training images and the test images by their own folders.
  np.testing.assert_array_equal(
      _folder_labels([("train", "good", "0.png"), ("test", "good", "0.png"), ("test", "crack", "0.png")]), [0, 0, 1])
  np.testing.assert_array_equal(_folder_labels([("a", "normal", "0.png"), ("b", "anomaly", "0.png")]), [0, 1])
  assert _folder_labels([("normal", "anomaly", "0.png"), ("normal", "1.png")]) is None  # which is it?
  # Any case, and the other sets' folders: chest X-rays, an inspection line's OK / NG, inlier / outlier.
  np.testing.assert_array_equal(
      _folder_labels([("train", "NORMAL", "0.jpeg"), ("train", "PNEUMONIA", "1.jpeg"), ("test", "NORMAL", "2.jpeg")]),
      [0, 1, 0])
  np.testing.assert_array_equal(_folder_labels([("OK", "0.png"), ("NG", "1.png")]), [0, 1])
  np.testing.assert_array_equal(_folder_labels([("Good", "0.png"), ("Defect", "1.png")]), [0, 1])
  np.testing.assert_array_equal(_folder_labels([("inlier", "0.png"), ("Outlier", "1.png")]), [0, 1])
  np.testing.assert_array_equal(_folder_labels([("Normal", "0.png"), ("Abnormal", "1.png")]), [0, 1])
  assert _folder_labels([("ok", "abnormal", "0.png"), ("ok", "1.png")]) is None


def test_an_mvtec_category_folder_is_read_without_its_defect_masks(tmp_path, capsys):
  """Pointed at MVTec AD's bottle/, the command reads train/ and test/, labelled by their folders, and
  leaves out ground_truth/'s masks, which it would otherwise score as images."""
  _write_images(tmp_path / "bottle", [("train/good", 16)] * 30 + [("test/good", 16)] * 6
                + [("test/normal_looking_defect", 16)] * 4 + [("ground_truth/normal_looking_defect", 16)] * 4)
  out = tmp_path / "s.csv"
  assert cli.main(["detect", "--images", str(tmp_path / "bottle"), "--out", str(out), "--representation", "none",
                   "--contamination", "0.1"]) == 0
  assert "4 file(s) under ground_truth/ left out, taken for MVTec AD's defect masks" in capsys.readouterr().err
  s = pd.read_csv(out)
  assert len(s) == 40 and not s["id"].str.startswith("ground_truth").any()
  assert s["label"].sum() == 4 and s.loc[s["label"] == 1, "id"].str.startswith("test/normal_looking").all()


def test_grayscale_palette_and_alpha_images_beside_colour_ones_are_read_as_colour(tmp_path):
  """A folder as people keep it: some images saved grey, some with a palette or an alpha channel."""
  from stoc_jax.cli import _load_images
  rng = np.random.default_rng(0)
  colour = rng.integers(0, 255, (12, 16, 16, 3), dtype=np.uint8)
  (tmp_path / "imgs").mkdir()
  for i, arr in enumerate(colour):
    Image.fromarray(arr).convert(("RGB", "L", "RGBA", "P")[i % 4]).save(tmp_path / "imgs" / f"{i:02d}.png")
  x, _, names = _load_images(tmp_path / "imgs")
  assert x.shape == (12, 16, 16, 3)
  grey = np.asarray(Image.fromarray(colour[1]).convert("L"))
  np.testing.assert_array_equal(x[1], np.repeat(grey[..., None], 3, axis=-1))
  np.testing.assert_array_equal(x[2], colour[2])  # alpha dropped, colour kept
  model = tmp_path / "m.stoc"
  assert cli.main(["detect", "--images", str(tmp_path / "imgs"), "--out", str(tmp_path / "s.csv"),
                   "--representation", "none", "--save-model", str(model)]) == 0
  (tmp_path / "grey").mkdir()
  Image.fromarray(colour[0]).convert("L").save(tmp_path / "grey" / "0.png")
  assert cli.main(["score", "--images", str(tmp_path / "grey"), "--model", str(model),
                   "--out", str(tmp_path / "g.csv")]) == 0
  assert len(pd.read_csv(tmp_path / "g.csv")) == 1


def test_photos_stored_on_their_side_are_read_upright_as_a_viewer_shows_them(tmp_path):
  """A camera stores a portrait photo's pixels on their side, with an EXIF orientation tag that
  viewers apply. Read as stored, such photos are turned: among 120 digit images as JPEGs, 40 stored
  so, `stoc-jax detect --images` ranked all 40 above every other on 2 seeds of 3 (AUC 100.0; read
  upright, 48.7: benchmarks/images/RESULTS.md, section 6)."""
  from stoc_jax.cli import _load_images
  from stoc_jax.data.images import read_image_folder
  i, j = np.mgrid[0:12, 0:16]  # smooth, so that JPEG keeps it close; 12 x 16, so that a turn shows
  upright = np.stack([i * 20, j * 15, np.full_like(i, 128)], axis=-1).astype(np.uint8)
  # Orientation tag: the stored pixels that a viewer shows upright (EXIF 2.3, tag 0x0112).
  stored = {1: upright, 3: np.rot90(upright, 2), 6: np.rot90(upright, 1), 8: np.rot90(upright, -1)}
  folder = tmp_path / "photos" / "normal"
  folder.mkdir(parents=True)
  for tag, pixels in stored.items():
    exif = Image.Exif()
    exif[0x0112] = tag
    image = Image.fromarray(np.ascontiguousarray(pixels))
    image.save(folder / f"{tag}.png", exif=exif)
    image.save(folder / f"{tag}.jpg", exif=exif, quality=95)
  x, _, names = _load_images(folder)
  assert x.shape == (8, 12, 16, 3)
  for image, name in zip(x, names):
    # JPEG rounds a smooth image by a few levels; turned, it would be off by up to 255.
    assert np.abs(image.astype(int) - upright).max() <= (0 if name.endswith(".png") else 16), name
  x_research, _, _ = read_image_folder(tmp_path / "photos")
  np.testing.assert_array_equal(x_research, x)


def test_sixteen_bit_tiff_and_webp_images_are_read_on_the_8_bit_scale_and_other_files_named(tmp_path):
  """Microscopy and scanners write 16-bit grey PNGs and TIFFs: read as the 8-bit image they hold,
  not clipped to 255; a file that is not an image is named in a warning, not read."""
  from stoc_jax.cli import _load_images
  from stoc_jax.data import DataError
  grey = np.random.default_rng(0).integers(0, 256, (16, 16), dtype=np.uint8)
  (tmp_path / "imgs").mkdir()
  Image.fromarray(grey).save(tmp_path / "imgs" / "a.png")
  Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "imgs" / "b16.png")
  Image.fromarray(grey).save(tmp_path / "imgs" / "c.tif")
  Image.fromarray(grey).convert("RGB").save(tmp_path / "imgs" / "d.webp", lossless=True)
  (tmp_path / "imgs" / "notes.txt").write_text("scanned on Monday")
  (tmp_path / "imgs" / ".DS_Store").write_bytes(b"\0")
  with pytest.warns(UserWarning, match=r"1 file\(s\) that are not .* images left out: notes\.txt\.$"):
    x, _, names = _load_images(tmp_path / "imgs")
  assert names == ["a.png", "b16.png", "c.tif", "d.webp"]
  for i in range(4):
    np.testing.assert_array_equal(x[i], np.repeat(grey[..., None], 3, axis=-1))
  (tmp_path / "float").mkdir()
  Image.fromarray(grey.astype(np.float32)).save(tmp_path / "float" / "f.tif")  # values up to 255, not [0, 1]
  with pytest.raises(DataError, match=r"f\.tif: a float32 grey image with values in \[.*no 0-255 scale"):
    _load_images(tmp_path / "float")


def test_jpegs_by_windows_names_avif_and_netpbm_are_read_and_heic_photos_get_the_way_out(tmp_path):
  """Windows saves images from a browser as .jfif; face and vision sets keep .pgm / .ppm; an iPhone
  takes HEIC, which Pillow does not read: those are named with how to read them."""
  from stoc_jax.cli import _load_images
  from stoc_jax.data import DataError
  from PIL import features
  i, j = np.mgrid[0:16, 0:16]
  image = np.stack([i * 15, j * 15, np.full_like(i, 128)], axis=-1).astype(np.uint8)
  (tmp_path / "imgs").mkdir()
  Image.fromarray(image).save(tmp_path / "imgs" / "a.jfif", "JPEG", quality=95)
  Image.fromarray(image).save(tmp_path / "imgs" / "b.jpe", "JPEG", quality=95)
  Image.fromarray(image[..., 0]).save(tmp_path / "imgs" / "c.pgm")
  Image.fromarray(image).save(tmp_path / "imgs" / "d.ppm")
  if features.check("avif"):
    Image.fromarray(image).save(tmp_path / "imgs" / "e.avif", quality=95)
  (tmp_path / "imgs" / "IMG_0001.HEIC").write_bytes(b"\0\0\0\x18ftypheic")
  with pytest.warns(UserWarning, match=r"1 file\(s\) .* left out: IMG_0001\.HEIC\. HEIC / HEIF photos .* JPEG"):
    x, _, names = _load_images(tmp_path / "imgs")
  assert names[:4] == ["a.jfif", "b.jpe", "c.pgm", "d.ppm"] and len(names) == 4 + features.check("avif")
  np.testing.assert_array_equal(x[2][..., 0], image[..., 0])  # PGM: grey, lossless
  np.testing.assert_array_equal(x[3], image)
  assert np.abs(x[0].astype(int) - image).max() <= 16 and np.abs(x[-1].astype(int) - image).max() <= 16
  (tmp_path / "phone").mkdir()
  (tmp_path / "phone" / "IMG_0002.heic").write_bytes(b"\0\0\0\x18ftypheic")
  with pytest.raises(DataError, match=r"no image files found .*; it holds 1 \.heic file\. HEIC / HEIF photos "
                     r"\(an iPhone's default\)"):
    _load_images(tmp_path / "phone")
  (tmp_path / "gifs").mkdir()  # what a folder holds is named where none of it is read
  for i in range(3):
    Image.fromarray(image).save(tmp_path / "gifs" / f"{i}.gif")
  (tmp_path / "gifs" / "notes").write_text("taken in May")
  with pytest.raises(DataError, match=r"no image files found \(\.jpg, .*, \.ppm\); it holds 3 \.gif files, "
                     r"1 file without a suffix\.$"):
    _load_images(tmp_path / "gifs")


def test_large_images_on_cpu_are_warned_of_before_a_representation_is_learned(tmp_path):
  import warnings
  from stoc_jax.cli import _load_images
  (tmp_path / "photos").mkdir()
  for i in range(3):
    Image.fromarray(np.full((80, 96, 3), 40 * i, np.uint8)).save(tmp_path / "photos" / f"{i}.png")
  with pytest.warns(UserWarning, match=r"0\.png is 96 x 80 pixels: .* on CPU takes hours .*--image-size 32 or 64"):
    _load_images(tmp_path / "photos", learned=True)
  with warnings.catch_warnings():
    warnings.simplefilter("error")  # resized as read, or pixels as features: no warning
    assert _load_images(tmp_path / "photos", 32, learned=True)[0].shape == (3, 32, 32, 3)
    _load_images(tmp_path / "photos", learned=False)
  with pytest.warns(UserWarning, match=r"--image-size 128 makes images of 128 x 128 pixels: .* on CPU takes hours"):
    _load_images(tmp_path / "photos", 128, learned=True)  # resized up: as slow to learn as photos that size


def test_a_folder_whose_pixels_exceed_the_free_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
  from stoc_jax import cli as cli_module
  from stoc_jax.data import DataError
  assert cli_module._available_memory() > 2**20  # this machine's MemAvailable, read
  (tmp_path / "photos").mkdir()
  for i in range(3):
    Image.fromarray(np.full((80, 96, 3), 40 * i, np.uint8)).save(tmp_path / "photos" / f"{i}.png")
  monkeypatch.setattr(cli_module, "_available_memory", lambda: 100_000)  # 3 x 96 x 80 x 3 = 69,120 bytes
  with pytest.raises(DataError, match=r"3 images of 96 x 80 pixels take 0\.0 GiB as pixels, more than half "
                     r"the memory free here .*--image-size 64"):
    cli_module._load_images(tmp_path / "photos")
  assert cli_module._load_images(tmp_path / "photos", 32)[0].shape == (3, 32, 32, 3)  # resized as read
  # Resized to a size larger than memory holds: read until the process was killed.
  with pytest.raises(DataError, match=r"3 images of 128 x 128 pixels take 0\.0 GiB .*; pass a smaller "
                     r"--image-size, 64 \(or up to 224 on a GPU\)\.$"):
    cli_module._load_images(tmp_path / "photos", 128)
  monkeypatch.setattr(cli_module, "_available_memory", lambda: None)  # unknown: read
  assert cli_module._load_images(tmp_path / "photos")[0].shape == (3, 80, 96, 3)


def test_image_size_resizes_a_folder_of_mixed_sizes_and_a_saved_model_resizes_alike(tmp_path, capsys):
  from stoc_jax.cli import _load_images
  _write_images(tmp_path / "mixed", [("normal", 16)] * 24 + [("normal", 40)] * 12 + [("anomaly", 24)] * 4)
  x, labels, _ = _load_images(tmp_path / "mixed", 12)
  assert x.shape == (40, 12, 12, 3) and labels.sum() == 4
  out, model = tmp_path / "s.csv", tmp_path / "m.stoc"
  assert cli.main(["detect", "--images", str(tmp_path / "mixed"), "--out", str(out), "--image-size", "12",
                   "--representation", "none", "--save-model", str(model)]) == 0
  _write_images(tmp_path / "new", [("a", 64)] * 2)  # another size again: resized as the model's
  assert cli.main(["score", "--images", str(tmp_path / "new"), "--model", str(model),
                   "--out", str(tmp_path / "n.csv")]) == 0
  assert len(pd.read_csv(tmp_path / "n.csv")) == 2
  for bad in ("4", "big"):
    with pytest.raises(SystemExit):
      cli.main(["detect", "--images", str(tmp_path / "mixed"), "--out", str(out), "--image-size", bad])
    assert "8 or more" in capsys.readouterr().err


def test_large_jpegs_resized_as_read_are_decoded_at_a_reduced_scale_to_the_same_image(tmp_path):
  """A 4032 x 3024 JPEG (a phone photo's size, synthetic) to be resized to 64 x 64 decoded whole in
  0.20 s and through JPEG's draft mode in 0.026 s, to the same image within 0.14 grey levels on
  average."""
  from stoc_jax.cli import _load_images
  from stoc_jax.data.images import _decode, _resized
  i, j = np.mgrid[0:1200, 0:1600]
  photo = np.stack([(i // 7) % 256, (j // 5) % 256, ((i + j) // 11) % 256], axis=-1).astype(np.uint8)
  (tmp_path / "photos").mkdir()
  Image.fromarray(photo).save(tmp_path / "photos" / "0.jpg", quality=90)
  data = (tmp_path / "photos" / "0.jpg").read_bytes()
  reduced = _decode(data, "0.jpg", min_side=64)
  assert reduced.shape == (150, 200, 3)  # 1/8 of each side, the largest reduction that keeps 64
  assert _decode(data, "0.jpg", min_side=600).shape == (600, 800, 3)
  x, _, _ = _load_images(tmp_path / "photos", 64)
  whole = _resized(_decode(data, "0.jpg"), 64)
  assert np.abs(x[0].astype(int) - whole).mean() < 1.0


def test_images_of_mixed_sizes_and_unreadable(tmp_path, capsys):
  _write_images(tmp_path / "mixed", [("a", 16)] * 10 + [("a", 20)])
  assert cli.main(["detect", "--images", str(tmp_path / "mixed"), "--out", str(tmp_path / "m.csv")]) == 2
  err = capsys.readouterr().err
  assert "different sizes" in err and "--image-size N" in err
  _write_images(tmp_path / "broken", [("a", 16)] * 10)
  (tmp_path / "broken" / "a" / "x.png").write_bytes(b"garbage")
  assert cli.main(["detect", "--images", str(tmp_path / "broken"), "--out", str(tmp_path / "b.csv")]) == 2
  # Pillow's own words name an in-memory buffer ("<_io.BytesIO object at 0x...>"), not what is wrong.
  assert "x.png: not an image: its bytes are in no format Pillow reads" in capsys.readouterr().err
  (tmp_path / "broken" / "a" / "x.png").write_bytes(b"")
  assert cli.main(["detect", "--images", str(tmp_path / "broken"), "--out", str(tmp_path / "b.csv")]) == 2
  assert "x.png: empty (0 bytes). Remove or replace the file." in capsys.readouterr().err
  assert not (tmp_path / "m.csv").exists() and not (tmp_path / "b.csv").exists()
  _write_images(tmp_path / "few", [("a", 16)] * 6)
  assert cli.main(["detect", "--images", str(tmp_path / "few"), "--out", str(tmp_path / "f.csv")]) == 2
  assert "6 images: refinement with --num-models 5 needs at least 10" in capsys.readouterr().err


def test_repeated_rows_are_counted_and_a_large_group_is_pointed_out(table, tmp_path, capsys):
  df = pd.read_csv(table)
  copies = pd.concat([df.iloc[[0]]] * 40, ignore_index=True)  # 40 copies of one row
  pd.concat([df, copies], ignore_index=True).to_csv(tmp_path / "rep.csv", index=False)
  assert cli.main(["detect", str(tmp_path / "rep.csv"), "--out", str(tmp_path / "r.csv"),
                   "--label-column", "is_fraud"]) == 0
  captured = capsys.readouterr()
  assert "rows repeating an earlier row: 40" in captured.out
  assert "largest group of identical rows: 41" in captured.out
  assert "stoc-jax: warning: 41 rows are exact copies of one row" in captured.err
  assert cli.main(["detect", str(table), "--out", str(tmp_path / "s.csv")]) == 0
  captured = capsys.readouterr()
  assert "largest group of identical rows: 1" in captured.out and "exact copies" not in captured.err


def test_save_model_then_score_new_rows_in_another_process(table, tmp_path):
  df = pd.read_csv(table)
  fit, new = df.iloc[:200], df.iloc[200:].drop(columns=["is_fraud"])
  fit.to_csv(tmp_path / "fit.csv", index=False)
  new[["color", "d", "c", "b", "a"]].to_csv(tmp_path / "new.csv", index=False)  # other column order
  model = tmp_path / "models" / "m.stoc"
  r = run_cli("detect", tmp_path / "fit.csv", "--out", tmp_path / "fit_scores.csv", "--label-column", "is_fraud",
              "--contamination", "0.07", "--save-model", model)
  assert r.returncode == 0, r.stderr[-2000:]
  assert str(model) in r.stdout
  # The saved detector scores its own training rows as detect did: exactly where the final model
  # never saw them, no higher where it did (detect scores a kept row without itself).
  r = run_cli("score", tmp_path / "fit.csv", "--model", model, "--out", tmp_path / "again.csv",
              "--label-column", "is_fraud")
  assert r.returncode == 0, r.stderr[-2000:]
  again, first = pd.read_csv(tmp_path / "again.csv"), pd.read_csv(tmp_path / "fit_scores.csv")
  kept = first["kept_in_refined_set"].to_numpy() == 1
  np.testing.assert_allclose(again["score"][~kept], first["score"][~kept], rtol=1e-5)
  np.testing.assert_allclose(again["confidence"][~kept], first["confidence"][~kept], rtol=1e-4)
  assert (again["score"][kept] <= first["score"][kept] + 1e-12).all()
  assert "AUC" in r.stdout
  r = run_cli("score", tmp_path / "new.csv", "--model", model, "--out", tmp_path / "new_scores.csv")
  assert r.returncode == 0, r.stderr[-2000:]
  scored = pd.read_csv(tmp_path / "new_scores.csv")
  labels = df.iloc[200:]["is_fraud"].to_numpy()
  assert len(scored) == 100 and "label" not in scored.columns
  assert_confidence_grows_away_from_the_threshold(scored)
  # Flagged with the training threshold: the planted anomalies among the new rows.
  assert scored["is_anomaly"].to_numpy()[labels == 1].mean() > 0.8
  assert scored["is_anomaly"].to_numpy()[labels == 0].mean() < 0.1
  assert "differ as a whole" not in r.stderr
  # The same rows in other units (cents for euros): nearly all above the threshold, and said so.
  new.assign(a=new["a"] * 100, b=new["b"] * 100).to_csv(tmp_path / "cents.csv", index=False)
  r = run_cli("score", tmp_path / "cents.csv", "--model", model, "--out", tmp_path / "cents_scores.csv")
  assert r.returncode == 0, r.stderr[-2000:]
  assert re.search(r"warning: \d+% of the rows score above the threshold, which flagged 7.0% of the fitted rows: "
                   r"they differ as a whole", r.stderr), r.stderr


def test_score_errors_are_clear_and_write_nothing(table, tmp_path, capsys):
  model = tmp_path / "m.stoc"
  assert cli.main(["detect", str(table), "--out", str(tmp_path / "s.csv"), "--label-column", "is_fraud",
                   "--save-model", str(model)]) == 0
  capsys.readouterr()
  (tmp_path / "lacking.csv").write_text("a,b,color\n1,2,red\n")
  (tmp_path / "junk.stoc").write_bytes(b"not a model")
  _write_images(tmp_path / "imgs", [("a", 16)] * 10)
  for argv, match in [
      (["score", str(tmp_path / "lacking.csv"), "--model", str(model)], r"lacks: \['c', 'd'\]"),
      (["score", str(table), "--model", str(tmp_path / "none.stoc")], "no such file.*--save-model"),
      (["score", str(table), "--model", str(tmp_path / "junk.stoc")], "not a model saved by"),
      (["score", str(table), "--model", str(tmp_path)], r"is a folder; give the model file \(junk.stoc, m.stoc in it\?\)"),
      (["score", "--images", str(tmp_path / "imgs"), "--model", str(model)], "fitted on a table"),
  ]:
    assert cli.main(argv + ["--out", str(tmp_path / "out.csv")]) == 2
    assert re.search(match, capsys.readouterr().err)
  assert not (tmp_path / "out.csv").exists()


def test_saved_image_model_scores_a_folder(tmp_path, capsys):
  _write_images(tmp_path / "imgs", [("normal", 16)] * 36 + [("anomaly", 16)] * 4)
  model = tmp_path / "img.stoc"
  assert cli.main(["detect", "--images", str(tmp_path / "imgs"), "--out", str(tmp_path / "s.csv"),
                   "--representation", "none", "--contamination", "0.1", "--save-model", str(model)]) == 0
  assert cli.main(["score", "--images", str(tmp_path / "imgs"), "--model", str(model),
                   "--out", str(tmp_path / "again.csv")]) == 0
  again, first = pd.read_csv(tmp_path / "again.csv"), pd.read_csv(tmp_path / "s.csv")
  assert again["id"].tolist() == first["id"].tolist()
  kept = first["kept_in_refined_set"].to_numpy() == 1  # detect scored kept images without themselves
  np.testing.assert_allclose(again["score"][~kept], first["score"][~kept], rtol=1e-5)
  np.testing.assert_allclose(again["confidence"][~kept], first["confidence"][~kept], rtol=1e-4)
  assert (again["score"][kept] <= first["score"][kept] + 1e-12).all()
  _write_images(tmp_path / "big", [("a", 20)] * 3)
  capsys.readouterr()
  assert cli.main(["score", "--images", str(tmp_path / "big"), "--model", str(model),
                   "--out", str(tmp_path / "big.csv")]) == 2
  assert "resize them first" in capsys.readouterr().err


def test_a_folder_of_images_gets_a_rotation_representation_by_default_and_its_model_scores(tmp_path, capsys):
  """The image path end to end at its default, a network trained on the images: detect, save, score."""
  _write_images(tmp_path / "imgs", [("normal", 16)] * 36 + [("anomaly", 16)] * 4)
  model = tmp_path / "rot.stoc"
  assert cli.main(["detect", "--images", str(tmp_path / "imgs"), "--out", str(tmp_path / "s.csv"),
                   "--train-steps", "2", "--contamination", "0.1", "--save-model", str(model)]) == 0
  assert re.search(r"representation: +rotation\n", capsys.readouterr().out)
  first = pd.read_csv(tmp_path / "s.csv")
  assert len(first) == 40 and first["is_anomaly"].sum() == 4 and np.isfinite(first["score"]).all()
  assert cli.main(["score", "--images", str(tmp_path / "imgs"), "--model", str(model),
                   "--out", str(tmp_path / "again.csv")]) == 0
  again = pd.read_csv(tmp_path / "again.csv")
  np.testing.assert_allclose(again["score"], first["score"], rtol=1e-4)  # a Gaussian scores an image alike in both
  assert 0 < first["kept_in_refined_set"].sum() < 40
  assert pickle.loads(model.read_bytes())["detector"]._model.learner.config.objective == "rotation"


def test_an_image_fit_killed_mid_training_resumes_from_its_workdir(tmp_path, capsys, monkeypatch):
  """--workdir: the same command again resumes from the last checkpoint and writes what an
  uninterrupted fit writes; a table, whose fit has no training to resume, refuses it."""
  from conftest import killed_at_refinement
  _write_images(tmp_path / "imgs", [("normal", 8)] * 36 + [("anomaly", 8)] * 4)
  command = lambda name: ["detect", "--images", str(tmp_path / "imgs"), "--out", str(tmp_path / f"{name}.csv"),
                          "--train-steps", "60", "--contamination", "0.1", "--workdir", str(tmp_path / f"{name}_work")]
  assert cli.main(command("full")) == 0
  with killed_at_refinement(monkeypatch, 3), pytest.raises(KeyboardInterrupt):  # after step 15's round
    cli.main(command("resumed"))
  assert not (tmp_path / "resumed.csv").exists() and (tmp_path / "resumed_work" / "checkpoints").is_dir()
  assert cli.main(command("resumed")) == 0
  pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "resumed.csv"), pd.read_csv(tmp_path / "full.csv"))
  records = [json.loads(line) for line in (tmp_path / "resumed_work" / "metrics.jsonl").open()]
  # Killed in the round at step 30: training went on from step 15's checkpoint, not from the start.
  assert [r["step"] for r in records if "event" not in r] == [7, 15, 30, 30, 50, 60]
  capsys.readouterr()
  (tmp_path / "t.csv").write_text("a,b\n" + "".join(f"{i % 7},{i % 3}\n" for i in range(30)))
  assert cli.main(["detect", str(tmp_path / "t.csv"), "--out", str(tmp_path / "t_scores.csv"),
                   "--workdir", str(tmp_path / "t_work")]) == 2
  assert "workdir checkpoints a learned representation's training" in capsys.readouterr().err


def test_score_names_changed_package_versions(table, tmp_path, capsys):
  model = tmp_path / "m.stoc"
  assert cli.main(["detect", str(table), "--out", str(tmp_path / "s.csv"), "--save-model", str(model)]) == 0
  saved = pickle.loads(model.read_bytes())
  saved["environment"]["packages"]["jax"] = "0.0.1"
  model.write_bytes(pickle.dumps(saved))
  capsys.readouterr()
  assert cli.main(["score", str(table), "--model", str(model), "--out", str(tmp_path / "again.csv")]) == 0
  err = capsys.readouterr().err
  assert "other package versions: jax 0.0.1 -> " in err and "flax" not in err


def test_the_declared_scikit_learn_floor_has_what_the_detector_imports():
  """validate_data, which the detector uses, arrived in scikit-learn 1.6."""
  import configparser
  from conftest import ROOT
  requires = configparser.ConfigParser()
  requires.read(ROOT / "setup.cfg")
  line = next(l for l in requires["options"]["install_requires"].split("\n") if l.startswith("scikit-learn"))
  assert line == "scikit-learn>=1.6"


def test_a_bare_percentage_is_refused_with_the_fraction_and_one_with_a_percent_sign_read(capsys):
  with pytest.raises(SystemExit):
    cli.build_parser().parse_args(["detect", "t.csv", "--out", "s.csv", "--contamination", "5"])
  assert "got 5 (a percentage? 5 % is 0.05)" in capsys.readouterr().err
  with pytest.raises(SystemExit):  # 1: no one means every row
    cli.build_parser().parse_args(["detect", "t.csv", "--out", "s.csv", "--contamination", "1"])
  assert "got 1 (a percentage? 1 % is 0.01)" in capsys.readouterr().err
  for given, fraction in (("5%", 0.05), ("2.5 %", 0.025), ("0.05", 0.05)):
    args = cli.build_parser().parse_args(["detect", "t.csv", "--out", "s.csv", "--contamination", given])
    assert args.contamination == pytest.approx(fraction)
  with pytest.raises(SystemExit):
    cli.build_parser().parse_args(["detect", "t.csv", "--out", "s.csv", "--contamination", "60%"])
  assert "must lie in (0, 0.5], got 0.6" in capsys.readouterr().err


def test_version():
  from stoc_jax import __version__
  with pytest.raises(SystemExit) as e:
    cli.build_parser().parse_args(["--version"])
  assert e.value.code == 0
  r = run_cli("--version")
  assert r.stdout.strip() == f"stoc-jax {__version__}"


def test_semicolon_and_tab_tables_are_read_as_such(table, tmp_path):
  from stoc_jax.data.table_file import load_table
  x, y, schema = load_table(table, "is_fraud")
  for sep, name in ((";", "semi.csv"), ("\t", "tab.csv")):
    pd.read_csv(table).to_csv(tmp_path / name, sep=sep, index=False)
    x2, y2, schema2 = load_table(tmp_path / name, "is_fraud")
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)
    assert schema2.columns == schema.columns


def test_decimal_commas_thousands_commas_and_a_trailing_delimiter_are_read_as_numbers(table, tmp_path):
  """As spreadsheets in other locales save tables: the same matrix as the plain file."""
  from stoc_jax.data.table_file import load_table
  x, y, schema = load_table(table, "is_fraud")
  frame = pd.read_csv(table)
  frame.to_csv(tmp_path / "decimal.csv", sep=";", decimal=",", index=False)
  big = frame.copy()
  big["a"] = big["a"] * 1e4  # thousands separators in one column: "12,345.6"
  with open(tmp_path / "thousands.csv", "w") as f:
    f.write(",".join(big.columns) + ",\n")  # and a delimiter closing every line
    for row in big.itertuples(index=False):
      f.write(f'"{row.a:,.17g}",' if abs(row.a) < 1e3 else f'"{row.a:,}",')
      f.write(",".join(map(str, row[1:])) + ",\n")
  x2, y2, schema2 = load_table(tmp_path / "decimal.csv", "is_fraud")
  np.testing.assert_array_equal(x2, x)
  np.testing.assert_array_equal(y2, y)
  assert schema2 == schema
  x3, y3, schema3 = load_table(tmp_path / "thousands.csv", "is_fraud")
  np.testing.assert_allclose(x3[:, 0], (frame["a"] * 1e4).to_numpy(np.float32), rtol=1e-6)
  np.testing.assert_array_equal(x3[:, 1:], x[:, 1:])
  assert schema3.columns == schema.columns


def test_words_among_numbers_are_categories_and_only_marks_of_missing_values_stop(tmp_path):
  from stoc_jax.data import DataError
  from stoc_jax.data.table_file import load_table
  floors = tmp_path / "floors.csv"
  floors.write_text("floor,v\n" + "".join(f"{'ground' if i % 6 == 0 else i % 4},{i % 5}.5\n" for i in range(30)))
  assert "floor" in load_table(floors)[2].categories  # a category among numbers, as before
  unknown = tmp_path / "unknown.csv"
  unknown.write_text("age,v\n" + "".join(f"{'Unknown' if i == 3 else 20 + i},{i % 5}.5\n" for i in range(30)))
  with pytest.raises(DataError, match=r"'age': 'Unknown' in 1 row \(first data rows: \[4\]\)\. Leave the columns "
                     r"out \(--ignore-columns 'age'\)"):
    load_table(unknown)
  # A spreadsheet's error values, where a formula failed: read as numbers' missing values (however many
  # kinds), not as identifiers; every such column in one error.
  sheet = tmp_path / "sheet.csv"
  errors = {3: "#DIV/0!", 8: "#VALUE!", 12: "#REF!", 20: "#NAME?", 25: "Err:502"}
  sheet.write_text("margin,cost,units\n" + "".join(
      f"{errors.get(i, f'0.{10 + i}')},{'#DIV/0!' if i == 5 else 600 + i * 1.5},{i % 7}\n" for i in range(30)))
  with pytest.raises(DataError, match=r"spreadsheet's error values, where a formula failed: 'margin': '#DIV/0!', "
                     r"'#NAME\?', '#REF!', '#VALUE!', 'Err:502' in 5 rows .*; 'cost': '#DIV/0!' in 1 row "
                     r"\(first data rows: \[6\]\)\. Mend them in the sheet"):
    load_table(sheet)
  with pytest.warns(UserWarning, match=r"6 missing values filled"):
    x, _, schema = load_table(sheet, fill_missing=True)
  assert schema.features == ("margin", "cost", "units") and x[3, 0] == np.median(x[:, 0])


def test_missing_values_are_filled_when_asked_and_scored_tables_are_filled_as_the_fitted_one(tmp_path, capsys):
  from stoc_jax.data import DataError
  from stoc_jax.data.table_file import load_table
  rows = [f"{'' if i in (3, 8) else 10 + i % 7},{'?' if i == 5 else f'{(i * 3) % 11}.5'},{'' if i == 7 else 'aabc'[i % 4]}\n"
          for i in range(40)]
  fitted = tmp_path / "fitted.csv"
  fitted.write_text("age,dose,city\n" + "".join(rows))
  with pytest.raises(DataError, match=r"missing values in 3 rows .* or pass --fill-missing"):
    load_table(fitted)
  with pytest.warns(UserWarning, match=r"4 missing values filled with each column's median \(a text column's most "
                    r"frequent value\): 'age' \(2\), 'dose' \(1\), 'city' \(1\)\."):
    x, _, schema = load_table(fitted, fill_missing=True)
  frame = pd.read_csv(fitted, na_values=["?"])
  assert schema.columns == ("age", "dose", "city")
  assert schema.features == ("age", "dose", "city_a", "city_b", "city_c")  # no column for what was filled
  np.testing.assert_array_equal(x[[3, 8], 0], frame["age"].median())  # the median of the rows that have one
  np.testing.assert_array_equal(x[5, 1], frame["dose"].median())
  np.testing.assert_array_equal(x[7, 2:], [1, 0, 0])  # a text column's: its most frequent value, "a"
  assert not np.isnan(x).any()
  # A table scored later is filled with the fitted rows' values, not its own, also in columns that were
  # complete when fitted.
  new = tmp_path / "new.csv"
  new.write_text("age,dose,city\n,99.5,\n70,,b\n71,0.5,c\n")
  with pytest.warns(UserWarning, match=r"3 missing values filled with each column's median over the fitted rows"):
    x_new, _, _ = load_table(new, schema=schema)
  np.testing.assert_array_equal(x_new, [[frame["age"].median(), 99.5, 1, 0, 0],
                                        [70, frame["dose"].median(), 0, 1, 0], [71, 0.5, 0, 0, 1]])
  complete = tmp_path / "complete.csv"
  complete.write_text("age,dose,city\n" + "".join(f"{10 + i % 7},{i % 5}.5,{'abbc'[i % 4]}\n" for i in range(40)))
  _, _, complete_schema = load_table(complete, fill_missing=True)
  with pytest.warns(UserWarning, match="3 missing values filled"):
    assert load_table(new, schema=complete_schema)[0][0].tolist() == [13.0, 99.5, 0.0, 1.0, 0.0]
  sheet = tmp_path / "sheet.csv"  # a spreadsheet's error values, in columns complete when fitted
  sheet.write_text("age,dose,city\n#DIV/0!,99.5,b\n70,#VALUE!,c\n71,0.5,a\n")
  with pytest.warns(UserWarning, match="2 missing values filled"):
    assert load_table(sheet, schema=complete_schema)[0][:2].tolist() == [[13.0, 99.5, 0, 1, 0], [70, 2.5, 0, 0, 1]]
  counted = tmp_path / "counted.csv"  # the other rules still hold: a column of row numbers is refused
  counted.write_text("n,age\n" + "".join(f"{i},{'' if i == 2 else i % 7}\n" for i in range(20)))
  with pytest.raises(DataError, match=r"column 'n' \(0, 1, \.\.\.\) numbers the rows"), pytest.warns(UserWarning, match="1 missing value"):
    load_table(counted, fill_missing=True)
  empty = tmp_path / "empty_column.csv"
  empty.write_text("age,blank\n" + "".join(f"{i},\n" for i in range(20)))
  with pytest.raises(DataError, match=r"columns \['blank'\] hold no values; leave them out: --ignore-columns 'blank'"):
    load_table(empty, fill_missing=True)
  # Infinite values are not missing ones: refused with where they are, at the fit and when scoring
  # (scikit-learn's imputer failed on them without naming the file, row or column).
  infinite = tmp_path / "infinite.csv"
  infinite.write_text("age,dose,city\n" + "".join(rows[:10]) + "15,inf,a\n")
  with pytest.raises(DataError, match=r"infinite\.csv: infinite values \(data rows counted from 1\) at row 11 "
                     r"column 'dose'; filling missing values \(--fill-missing\) does not fill these"):
    load_table(infinite, fill_missing=True)
  infinite.write_text("age,dose,city\n,1e309,b\n70,-inf,c\n")  # 1e309 overflows float64 to inf
  with pytest.raises(DataError, match=r"at row 1 column 'dose', row 2 column 'dose'"):
    load_table(infinite, schema=schema)
  # A column of TRUE / FALSE with an empty cell is read as 1 / 0 with a missing value, as it is read without
  # one (read_csv gives bools and NaN as objects, which failed as text with an AttributeError).
  flags = tmp_path / "flags.csv"
  flags.write_text("age,insured\n" + "".join(f"{20 + i},{'' if i == 4 else 'TRUE' if i % 3 else 'FALSE'}\n"
                                             for i in range(12)))
  with pytest.raises(DataError, match=r"missing values in 1 rows \(first data rows: \[5\]\) and columns \['insured'\]"):
    load_table(flags)
  with pytest.warns(UserWarning, match="1 missing value filled"):
    x_flags, _, flags_schema = load_table(flags, fill_missing=True)
  assert flags_schema.features == ("age", "insured")
  assert x_flags[:6, 1].tolist() == [0, 1, 1, 0, 1, 1]  # the median of seven 1s and four 0s fills row 5
  # A table of text columns alone: no median is fitted.
  words = tmp_path / "words.csv"
  words.write_text("c,d\n" + "".join(f"{'' if i == 4 else 'aabc'[i % 4]},{'xy'[i % 2]}\n" for i in range(40)))
  with pytest.warns(UserWarning, match="1 missing value filled"):
    x_words, _, words_schema = load_table(words, fill_missing=True)
  assert words_schema.features[:3] == ("c_a", "c_b", "c_c") and x_words[4, :3].tolist() == [1, 0, 0]
  # The command line: --fill-missing fits and says what it filled, and the saved model fills what it scores.
  out, model = tmp_path / "out" / "s.csv", tmp_path / "m.stoc"
  assert cli.main(["detect", str(fitted), "--out", str(out), "--fill-missing", "--save-model", str(model)]) == 0
  assert "stoc-jax: warning: " in capsys.readouterr().err
  assert len(pd.read_csv(out)) == 40
  assert cli.main(["score", str(new), "--model", str(model), "--out", str(tmp_path / "n.csv")]) == 0
  assert "3 missing values filled" in capsys.readouterr().err
  assert len(pd.read_csv(tmp_path / "n.csv")) == 3
  assert cli.main(["detect", str(fitted), "--out", str(tmp_path / "plain" / "s.csv"), "--save-model",
                   str(tmp_path / "plain.stoc"), "--ignore-columns", "age,dose"]) == 2
  assert "--fill-missing" in capsys.readouterr().err


def test_currency_and_percent_signs_are_read_as_numbers(tmp_path):
  """Amounts and shares as spreadsheets format them; without this they were text columns of distinct
  values, refused as identifiers."""
  from stoc_jax.data.table_file import load_table
  rng = np.random.default_rng(0)
  amounts, shares = rng.lognormal(6, 2, 40).round(2) * rng.choice([-1, 1], 40), rng.uniform(0, 100, 40).round(1)
  comma = tmp_path / "money.csv"
  comma.write_text("amount,share\n" + "".join(
      f'"{"-" if a < 0 else ""}${abs(a):,.2f}",{s}%\n' for a, s in zip(amounts, shares)))
  x, _, schema = load_table(comma)
  assert schema.features == ("amount", "share")
  np.testing.assert_allclose(x, np.c_[amounts, shares], rtol=1e-6)
  semicolon = tmp_path / "geld.csv"  # decimal commas, thousands dots, the sign after the currency
  semicolon.write_text("betrag;anteil\n" + "".join(
      f"€{a:,.2f};{s} %\n".replace(",", "_").replace(".", ",").replace("_", ".") for a, s in zip(amounts, shares)))
  np.testing.assert_allclose(load_table(semicolon)[0], np.c_[amounts, shares], rtol=1e-6)
  french = tmp_path / "montants.csv"  # thousands separated by a no-break space (narrow, in recent Excel)
  french.write_text("montant;part\n" + "".join(
      f"{a:,.2f} €;{s}\n".replace(",", "_").replace(".", ",").replace("_", "\u202f" if i % 2 else "\u00a0")
      for i, (a, s) in enumerate(zip(amounts, shares))), encoding="utf-8")
  np.testing.assert_allclose(load_table(french)[0], np.c_[amounts, shares], rtol=1e-6)
  two_signs = tmp_path / "codes.csv"  # not a number: stays a text column (categories, one-hot)
  two_signs.write_text("code,v\n" + "".join(f"-$-{i % 2 + 3},{i % 5}\n" for i in range(12)))
  assert load_table(two_signs)[2].categories == {"code": ("-$-3", "-$-4")}


def test_numbers_with_one_unit_are_read_as_numbers(tmp_path):
  """Measurements as exports write them, "70.3 kg" or "312ms": without this a column of them was text,
  refused as identifiers or, with half its values repeated, one-hot encoded into a column per value."""
  from stoc_jax.data import DataError
  from stoc_jax.data.table_file import load_table
  rng = np.random.default_rng(0)
  weights, durations = rng.normal(70, 8, 40).round(1), rng.normal(300, 30, 40).round()
  units = tmp_path / "units.csv"
  units.write_text("weight,duration,size\n" + "".join(
      f"{w} kg,{d:.0f}ms,{i % 3 + 1} GB\n" for i, (w, d) in enumerate(zip(weights, durations))))
  x, _, schema = load_table(units)
  assert schema.features == ("weight", "duration", "size") and not schema.categories
  np.testing.assert_allclose(x, np.c_[weights, durations, np.arange(40) % 3 + 1])
  decimal_commas = tmp_path / "gewicht.csv"  # the file's own decimal mark before the unit
  decimal_commas.write_text("gewicht;n\n" + "".join(f"{str(w).replace('.', ',')} kg;{i % 4}\n"
                                                       for i, w in enumerate(weights)))
  np.testing.assert_allclose(load_table(decimal_commas)[0][:, 0], weights)
  # Rows scored later must write a column in its fitted unit, or as bare numbers.
  assert schema.units == (("weight", "kg"), ("duration", "ms"), ("size", "GB"))
  for name, duration, ok in (("same", "310ms", True), ("bare", "310", True), ("seconds", "0.31 s", False)):
    new = tmp_path / f"{name}.csv"
    new.write_text(f"weight,duration,size\n71.0 kg,{duration},2 GB\n69.5 kg,{duration},1 GB\n")
    if ok:
      assert load_table(new, schema=schema)[0][:, 1].tolist() == [310.0, 310.0]
    else:
      with pytest.raises(DataError, match=r"other units than when the model was fitted: 'duration' in ms then, "
                                          r"s here\. Convert them"):
        load_table(new, schema=schema)
  # A word that is no unit: text, as before (categories, one-hot).
  model = tmp_path / "model.csv"
  model.write_text("model,v\n" + "".join(f"{i % 3 * 2 + 3} Series,{i % 5}\n" for i in range(20)))
  assert "model" in load_table(model)[2].categories
  # Two units in one column: refused with them, where it was categories or identifiers.
  mixed = tmp_path / "mixed.csv"
  mixed.write_text("took,v\n" + "".join(f"{i % 50 + 1} {'min' if i % 2 else 'h'},{i % 5}\n" for i in range(30)))
  with pytest.raises(DataError, match=r"column 'took' holds measurements in several units \['h', 'min'\] "
                                      r"\(e\.g\. '1 h', '2 min', '3 h'\); convert them to one unit"):
    load_table(mixed)


def test_a_summary_piped_into_a_reader_that_stops_early_ends_without_a_traceback(tmp_path):
  pd.DataFrame(np.random.default_rng(0).normal(size=(60, 3)), columns=list("abc")).to_csv(tmp_path / "t.csv",
                                                                                            index=False)
  # `true` reads nothing and has exited long before the fit ends, so every write meets a closed pipe.
  done = subprocess.run(f"{sys.executable} -m stoc_jax.cli detect t.csv --out s.csv | true; exit ${{PIPESTATUS[0]}}",
                        shell=True, executable="/bin/bash", cwd=tmp_path, capture_output=True, text=True, timeout=120)
  assert done.returncode == 0 and "Error" not in done.stderr, done.stderr
  assert len(pd.read_csv(tmp_path / "s.csv")) == 60  # the outputs are written whole


def test_windows_1252_and_utf_16_tables_are_read_and_other_bytes_name_the_encoding(tmp_path, capsys):
  """Excel's plain "CSV" on a Western European system: cp1252, semicolons, decimal commas."""
  from stoc_jax.data.table_file import load_table
  rng = np.random.default_rng(0)
  values = rng.normal(size=(30, 2)).round(3)
  path = tmp_path / "excel.csv"
  path.write_bytes(("café;größe\n" + "".join(f"{a};{b}\n".replace(".", ",") for a, b in values)).encode("cp1252"))
  x, _, schema = load_table(path)
  assert schema.columns == ("café", "größe")
  np.testing.assert_allclose(x, values, rtol=1e-6)
  bad = tmp_path / "bad.csv"
  bad.write_bytes(b"a,b\n\x81\x8d,2\n3,4\n")
  assert cli.main(["detect", str(bad), "--out", str(tmp_path / "s.csv")]) == 2
  assert re.search(r"bad.csv is not UTF-8 or CP1252 text .*save it as UTF-8", capsys.readouterr().err)
  # Excel's "Unicode Text": UTF-16 with its byte-order mark, tab-separated.
  unicode_text = tmp_path / "unicode.txt"
  unicode_text.write_bytes(("café\tgröße\n" + "".join(f"{a}\t{b}\n" for a, b in values)).encode("utf-16"))
  x, _, schema = load_table(unicode_text)
  assert schema.columns == ("café", "größe")
  np.testing.assert_allclose(x, values, rtol=1e-6)
  # Excel's "CSV UTF-8": a byte-order mark before the first column's name, here the label's.
  bom = tmp_path / "bom.csv"
  bom.write_bytes(("label,café\n" + "".join(f"{i % 2},{a}\n" for i, (a, _) in enumerate(values))).encode("utf-8-sig"))
  x, y, schema = load_table(bom, "label")
  assert schema.columns == ("café",) and y.tolist() == [i % 2 for i in range(30)]


def test_a_column_not_every_value_of_which_is_a_number_stays_text(tmp_path):
  from stoc_jax.data.table_file import load_table
  path = tmp_path / "t.csv"
  path.write_text("a;code\n" + "".join(f"{i},5;{'1,5' if i % 2 else 'x1'}\n" for i in range(12)))
  x, _, schema = load_table(path)
  assert schema.categories == {"code": ("1,5", "x1")}
  np.testing.assert_allclose(x[:, 0], np.arange(12) + 0.5)


def test_a_first_line_sep_names_the_delimiter_as_excel_reads_it(table, tmp_path):
  """Excel writes and reads a first line `sep=;` naming the delimiter; read as the header it made the
  file unreadable, or one column said to mix delimiters. It names the delimiter and is skipped, also
  after a byte-order mark and with Windows line ends, and the refined rows come out without it."""
  from stoc_jax.data.table_file import load_table
  x, y, schema = load_table(table, "is_fraud")
  semi = tmp_path / "sep.csv"
  semi.write_text("sep=;\n" + pd.read_csv(table).to_csv(sep=";", decimal=",", index=False))
  comma = tmp_path / "bom_sep.csv"
  comma.write_bytes(b"\xef\xbb\xbfSEP=,\r\n" + pd.read_csv(table).to_csv(index=False, lineterminator="\r\n").encode())
  for path in (semi, comma):
    x2, y2, schema2 = load_table(path, "is_fraud")
    np.testing.assert_allclose(x2, x)
    np.testing.assert_array_equal(y2, y)
    assert schema2.columns == schema.columns
  assert cli.main(["detect", str(semi), "--out", str(tmp_path / "s.csv"), "--label-column", "is_fraud"]) == 0
  assert list(pd.read_csv(tmp_path / "s_refined.csv").columns) == list(pd.read_csv(table).columns)


def test_the_refined_rows_of_a_semicolon_table_keep_its_columns(table, tmp_path):
  semi = tmp_path / "semi.csv"
  pd.read_csv(table).to_csv(semi, sep=";", decimal=",", index=False)
  assert cli.main(["detect", str(semi), "--out", str(tmp_path / "s.csv"), "--label-column", "is_fraud"]) == 0
  scores = pd.read_csv(tmp_path / "s.csv")
  refined = pd.read_csv(tmp_path / "s_refined.csv")
  kept = pd.read_csv(table)[scores["kept_in_refined_set"].to_numpy() == 1]
  assert list(refined.columns) == list(kept.columns)
  np.testing.assert_allclose(refined[list("abcd")].to_numpy(), kept[list("abcd")].to_numpy())


def test_rows_of_delimiters_alone_below_a_table_are_blank_lines(tmp_path):
  """Spreadsheets save the empty rows below a table as ",,,"; they are read as the blank lines they are."""
  from stoc_jax.data.table_file import load_table
  rows = "".join(f"{i % 7},{i % 5},{(i * 3) % 11}\n" for i in range(40))
  (tmp_path / "t.csv").write_text("a,b,c\n" + rows + ",,\n,,\n")
  (tmp_path / "blank.csv").write_text("a,b,c\n" + rows + "\n\n")
  x, _, _ = load_table(tmp_path / "t.csv")
  np.testing.assert_array_equal(x, load_table(tmp_path / "blank.csv")[0])
  assert x.shape == (40, 3)


def test_compressed_csv_files_are_sniffed_through_their_compression(table, tmp_path):
  """A ;-delimited table with decimal commas reads the same gzipped, bz2-, xz-compressed or zipped;
  a gzip cut short and a zip of two files are named errors."""
  import gzip
  import zipfile
  from stoc_jax.data import DataError
  from stoc_jax.data.table_file import load_table
  frame = pd.read_csv(table)
  plain = tmp_path / "t.csv"
  frame.to_csv(plain, sep=";", decimal=",", index=False)
  expected = load_table(plain, "is_fraud")[0]
  for suffix in (".gz", ".bz2", ".xz"):
    frame.to_csv(tmp_path / f"t.csv{suffix}", sep=";", decimal=",", index=False)
    np.testing.assert_array_equal(load_table(tmp_path / f"t.csv{suffix}", "is_fraud")[0], expected)
  with zipfile.ZipFile(tmp_path / "t.zip", "w") as z:
    z.write(plain, "t.csv")
  np.testing.assert_array_equal(load_table(tmp_path / "t.zip", "is_fraud")[0], expected)
  with zipfile.ZipFile(tmp_path / "two.zip", "w") as z:
    z.write(plain, "a.csv")
    z.write(plain, "b.csv")
  with pytest.raises(DataError, match=r"two.zip: a .zip is read when it holds one CSV file"):
    load_table(tmp_path / "two.zip")
  (tmp_path / "cut.csv.gz").write_bytes(gzip.compress(plain.read_bytes())[:400])
  with pytest.raises(DataError, match=r"cut.csv.gz ends inside its compressed data"):
    load_table(tmp_path / "cut.csv.gz")
  (tmp_path / "not.csv.gz").write_bytes(plain.read_bytes())
  with pytest.raises(DataError, match=r"not.csv.gz is not a readable .gz file"):
    load_table(tmp_path / "not.csv.gz")


def test_accountants_negatives_in_parentheses_are_read_as_numbers(tmp_path):
  """Finance exports write -1,234.50 as (1,234.50) or 1,234.50-; read as text the column was refused as
  identifiers."""
  from stoc_jax.data.table_file import load_table
  values = np.random.default_rng(0).normal(0, 1000, 40).round(2)
  written = [f'"({-v:,.2f})"' if v < 0 else f'"{v:,.2f}"' for v in values]
  (tmp_path / "ledger.csv").write_text("amount,qty\n" + "".join(f"{w},{i % 5}\n" for i, w in enumerate(written)))
  x, _, schema = load_table(tmp_path / "ledger.csv")
  np.testing.assert_allclose(x[:, 0], values)
  (tmp_path / "euro.csv").write_text("betrag;n\n(1.234,5);1\n2,5;2\n(€ 3,0);3\n4;4\n1.000,25-;5\n")
  np.testing.assert_allclose(load_table(tmp_path / "euro.csv")[0][:, 0], [-1234.5, 2.5, -3.0, 4.0, -1000.25])
  (tmp_path / "notes.csv").write_text("code,n\n" + "".join(f"({'ab'[i % 2]}),{i % 3}\n" for i in range(12)))
  assert load_table(tmp_path / "notes.csv")[2].categories == {"code": ("(a)", "(b)")}  # words stay text
  # The typographic minus sign (U+2212), as Apple Numbers and some locales write negatives: read as
  # text, the column was refused as identifiers.
  (tmp_path / "minus.csv").write_text("temp;n\n" + "".join(f"{v:.1f};{i % 5}\n".replace("-", "\u2212").replace(".", ",")
                                                          for i, v in enumerate(values / 100)), encoding="utf-8")
  np.testing.assert_allclose(load_table(tmp_path / "minus.csv")[0][:, 0], (values / 100).round(1))


def test_spaces_around_names_and_values_of_a_hand_written_csv_are_dropped(tmp_path):
  """'a, b' files: names are typed without the spaces, "yes" and " yes " are one category, and a
  quoted thousands comma after the space stays inside its field."""
  from stoc_jax.data.table_file import load_table
  rows = "".join(f'{i}.5, "{i},{i % 10}00", {" yes" if i % 2 else "no "}, {int(i < 3)}\n' for i in range(1, 41))
  (tmp_path / "t.csv").write_text("amount ,  price, kind , label\n" + rows)
  x, y, schema = load_table(tmp_path / "t.csv", "label")
  assert schema.columns == ("amount", "price", "kind")
  assert schema.categories == {"kind": ("no", "yes")}
  np.testing.assert_allclose(x[:3, :2], [[1.5, 1100], [2.5, 2200], [3.5, 3300]])
  assert y.sum() == 2


@pytest.mark.parametrize("content, match", [
    ("a;b\n1,2\n3,4\n5,6\n", r"header holds ';'"),
    ("a,b\n1,2\n3,1e308\n5,6\n", r"values too large .* at row 2 column 'b'"),
    ("a,b\n1,2\n3,1e309\n5,6\n", r"NaN or infinite values .* at row 2 column 'b'"),
    # A table edited in two locales: read as text, the column was one-hot encoded, a column per value.
    ('a,b\n1.5,2\n"2,5",3\n3.5,4\n4,5\n', r"column 'a' writes numbers with a decimal point \('1\.5' in data row 1\) "
     r"and with a decimal comma \('2,5' in data row 2\); write them all one way"),
    ("a;b\n1,5;2\n2.5;3\n3,25;4\n", r"decimal point \('2\.5' in data row 2\) and with a decimal comma \('1,5' in"),
    # Rows longer than the header: pandas would read the extra fields as an index and shift the columns.
    ("a,b\n0,1,2\n1,3,4\n2,5,6\n", r"rows hold more fields than its first line has column names; the first"),
    ("# exported by a sensor\na,b\n1,2\n3,4\n", r"first line looks like a comment"),
    # pandas would read the second 'amount' as 'amount.1', which `score` could match to another column.
    ("amount,qty,amount\n1,2,3\n4,5,6\n7,8,9\n", r"column names repeat: 'amount' \(columns 1, 3\)"),
    # Thousands commas without quotes: only the rows that hold one are too long.
    ("amount,qty\n1,234.50,3\n20.00,4\n3,100.25,1\n", r"data rows \[1, 3\] do, where others fit: a value holding "
     r"the delimiter ',' unquoted \(a thousands separator, 1,234.50\?\)"),
])
def test_mixed_delimiters_and_huge_values_name_the_place(tmp_path, capsys, content, match):
  path = tmp_path / "bad.csv"
  path.write_text(content)
  assert cli.main(["detect", str(path), "--out", str(tmp_path / "s.csv")]) == 2
  err = capsys.readouterr().err
  assert str(path) in err and re.search(match, err), err
  assert not (tmp_path / "s.csv").exists()


def test_report_lists_the_most_anomalous_rows_explains_terms_and_aligns(table, tmp_path, capsys):
  out = tmp_path / "s.csv"
  assert cli.main(["detect", str(table), "--out", str(out), "--label-column", "is_fraud"]) == 0
  printed = capsys.readouterr().out
  summary = [line for line in printed.splitlines() if ": " in line and not line.startswith("  ")]
  assert len({line.index(": ") for line in summary}) == 1  # one column of colons
  for term in ("contamination", "refinement gamma", "kept by refinement"):
    assert f"  {term}: " in printed
  html = (tmp_path / "s_report" / "report.html").read_text()
  scores = pd.read_csv(out)
  top = scores.sort_values("score", ascending=False, kind="stable").head(20)
  section = html.split("The 20 most anomalous rows")[1].split("<h2>")[0]
  listed = re.findall(r"<tr><td>(\d+)</td><td>(\d+)</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>",
                      section)
  assert "<th>confidence</th>" in section
  assert [int(r) for _, r, *_ in listed] == top["id"].tolist()
  np.testing.assert_allclose([float(v) for _, _, v, _, _ in listed], top["score"], rtol=1e-5)
  np.testing.assert_allclose([float(c) for *_, c, _ in listed], top["confidence"], atol=5e-4)
  assert [why for *_, why in listed] == top["furthest_columns"].tolist()
  assert "kept by refinement</b>:" in html
  # The estimate's caveat, where there is an estimate (contamination "auto", the default), and not beside a given one.
  assert "give --contamination when you know it" in printed and "give --contamination when you know it" in html
  assert cli.main(["detect", str(table), "--out", str(out), "--contamination", "0.05"]) == 0
  assert "when you know it" not in capsys.readouterr().out
  assert "when you know it" not in (tmp_path / "s_report" / "report.html").read_text()


def test_a_table_of_categories_alone_is_scored_by_how_rare_its_rows_are(tmp_path):
  rng = np.random.default_rng(0)
  n = 300
  shape = rng.choice(["circle", "square", "star"], n)
  colour = pd.Series(shape).map({"circle": "red", "square": "blue", "star": "gold"}).to_numpy()
  df = pd.DataFrame({"shape": shape, "colour": colour, "size": rng.choice(["S", "M", "L"], n)})
  df.loc[17, "colour"] = "red" if df.loc[17, "shape"] != "circle" else "blue"  # the one combination off the rule
  path = tmp_path / "shapes.csv"
  df.to_csv(path, index=False)
  out = tmp_path / "s.csv"
  assert cli.main(["detect", str(path), "--out", str(out), "--contamination", "0.01"]) == 0
  scores = pd.read_csv(out)
  assert scores["score"].idxmax() == 17 and scores["score"].iloc[17] > scores["score"].drop(17).max()


def test_each_row_names_the_columns_that_put_it_furthest_from_the_kept_rows(tmp_path):
  rng = np.random.default_rng(0)
  n = 400
  df = pd.DataFrame(rng.normal(size=(n, 3)), columns=["height", "weight", "age"])
  df["plan"] = rng.choice(["basic", "plus"], n)
  df.loc[7, "weight"] = 15.0       # far out in one column
  df.loc[8, ["height", "age"]] = [-9.0, 12.0]
  df.loc[9, "plan"] = "legacy"     # a category no other row has
  df.loc[9, "height"] = 6.0
  path = tmp_path / "t.csv"
  df.to_csv(path, index=False)
  out, model = tmp_path / "s.csv", tmp_path / "m.stoc"
  assert cli.main(["detect", str(path), "--out", str(out), "--save-model", str(model)]) == 0
  why = pd.read_csv(out)["furthest_columns"]
  assert why[7].startswith("weight 15 (+") and "," not in why[7]
  assert why[8].startswith("age 12 (+") and ", height -9 (-" in why[8]
  assert why[9].startswith("plan_legacy 1 (+") and "height 6 (+" in why[9]
  # a common category is no reason, and a typical row has none
  assert not why.str.contains("plan_basic|plan_plus").any()
  assert (why == "no column beyond 2 SD").mean() > 0.8
  assert "from the rows kept by refinement" in (tmp_path / "s_report" / "report.html").read_text()
  # new rows are measured from the rows the fitted table kept
  df.iloc[:2].assign(weight=[0.0, -20.0]).to_csv(tmp_path / "new.csv", index=False)
  assert cli.main(["score", str(tmp_path / "new.csv"), "--model", str(model), "--out", str(out)]) == 0
  assert pd.read_csv(out)["furthest_columns"][1].startswith("weight -20 (-")
  assert cli.main(["detect", str(path), "--out", str(out), "--no-refine"]) == 0
  assert "furthest from all rows" in (tmp_path / "s_report" / "report.html").read_text()


def test_no_refinement_means_no_refinement_lines_or_plot(table, tmp_path, capsys):
  out = tmp_path / "s.csv"
  assert cli.main(["detect", str(table), "--out", str(out), "--label-column", "is_fraud", "--no-refine"]) == 0
  printed = capsys.readouterr().out.replace(str(tmp_path), "")  # the folder is named after this test
  assert "refinement" not in printed and "nan" not in printed
  report = tmp_path / "s_report"
  assert not (report / "refinement.png").exists()
  assert "Refinement" not in (report / "report.html").read_text()
  assert not (tmp_path / "s_refined.csv").exists()
  assert "kept_in_refined_set" not in pd.read_csv(out).columns


def test_labels_colour_the_histogram(monkeypatch, tmp_path):
  import matplotlib.axes
  from stoc_jax import report
  calls = []
  real = matplotlib.axes.Axes.hist
  monkeypatch.setattr(matplotlib.axes.Axes, "hist", lambda self, x, **kw: calls.append(
      (len(x), kw.get("color"))) or real(self, x, **kw))
  scores = np.r_[np.zeros(90), np.ones(10) * 5]
  labels = np.r_[np.zeros(90, int), np.ones(10, int)]
  report.write_report(tmp_path / "with", scores, 1.0, None, {}, None, labels=labels)
  assert [n for n, _ in calls] == [90, 10] and calls[0][1] != calls[1][1]
  calls.clear()
  report.write_report(tmp_path / "without", scores, 1.0, None, {}, None)
  assert [n for n, _ in calls] == [100]


def test_occ_names_and_ensembles_on_the_command_line(table, tmp_path):
  out = tmp_path / "s.csv"
  assert cli.main(["detect", str(table), "--out", str(out), "--occ", "gde+knn", "--refine-occ", "ecod"]) == 0
  assert len(pd.read_csv(out)) == 300
  assert cli.main(["detect", str(table), "--out", str(out), "--occ", "knnn"]) == 2


def test_n_neighbors_on_the_command_line(table, tmp_path):
  scores = {}
  for k in ("5", "40"):
    out = tmp_path / f"k{k}.csv"
    assert cli.main(["detect", str(table), "--out", str(out), "--occ", "knn", "--no-refine", "--n-neighbors", k]) == 0
    scores[k] = pd.read_csv(out)["score"].to_numpy()
  assert (scores["40"] >= scores["5"] - 1e-9).all() and (scores["40"] > scores["5"]).any()  # a farther neighbour


def test_refine_rounds_on_the_command_line(table, tmp_path, capsys):
  for rounds in (1, 3):
    model = tmp_path / f"r{rounds}.stoc"
    assert cli.main(["detect", str(table), "--out", str(tmp_path / f"r{rounds}.csv"), "--refine-rounds", str(rounds),
                     "--save-model", str(model)]) == 0
    assert len(pickle.loads(model.read_bytes())["detector"].refinement_) == rounds
  capsys.readouterr()
  assert cli.main(["detect", str(table), "--out", str(tmp_path / "bad.csv"), "--representation", "goad",
                   "--refine-rounds", "2"]) == 2
  assert "refine_rounds applies to representation=None" in capsys.readouterr().err


def test_a_large_table_is_announced_before_its_fit(table, tmp_path, capsys, monkeypatch):
  assert cli.main(["detect", str(table), "--out", str(tmp_path / "a.csv")]) == 0
  assert "fitting on" not in capsys.readouterr().err  # a small table: no line before the summary
  monkeypatch.setattr(cli, "ANNOUNCE_ROWS", 10)
  assert cli.main(["detect", str(table), "--out", str(tmp_path / "b.csv")]) == 0
  assert re.search(r"stoc-jax: fitting on [\d,]+ rows \.\.\.", capsys.readouterr().err)


def test_ignored_columns_stay_out_of_the_fit_and_of_what_a_saved_model_scores(tmp_path, capsys):
  rng = np.random.default_rng(0)
  df = pd.DataFrame(rng.normal(size=(120, 3)), columns=["a", "b", "c"])
  df.insert(0, "row", np.arange(1, 121))
  df.to_csv(tmp_path / "t.csv", index=False)
  model, out = tmp_path / "m.stoc", tmp_path / "s.csv"
  assert cli.main(["detect", str(tmp_path / "t.csv"), "--out", str(out), "--ignore-columns", "rowz"]) == 2
  assert "no columns ['rowz'] to ignore" in capsys.readouterr().err
  assert cli.main(["detect", str(tmp_path / "t.csv"), "--out", str(out), "--ignore-columns", "row",
                   "--contamination", "0.05", "--save-model", str(model)]) == 0
  # The same rows without the counter give the same scores: it was left out.
  df.drop(columns=["row"]).to_csv(tmp_path / "plain.csv", index=False)
  assert cli.main(["detect", str(tmp_path / "plain.csv"), "--out", str(tmp_path / "p.csv"),
                   "--contamination", "0.05"]) == 0
  np.testing.assert_allclose(pd.read_csv(out)["score"], pd.read_csv(tmp_path / "p.csv")["score"], rtol=1e-6)
  # The saved model reads new rows with the counter and leaves it out as well, without a warning.
  capsys.readouterr()
  assert cli.main(["score", str(tmp_path / "t.csv"), "--model", str(model), "--out", str(tmp_path / "n.csv")]) == 0
  assert len(pd.read_csv(tmp_path / "n.csv")) == 120
  assert "warning" not in capsys.readouterr().err
  # A column the fit never saw is not scored, and the warning says so.
  df.assign(sensor=1.0).to_csv(tmp_path / "more.csv", index=False)
  assert cli.main(["score", str(tmp_path / "more.csv"), "--model", str(model), "--out", str(tmp_path / "m.csv")]) == 0
  assert "columns the model was not fitted on are not scored: ['sensor']" in capsys.readouterr().err
  np.testing.assert_allclose(pd.read_csv(tmp_path / "m.csv")["score"], pd.read_csv(tmp_path / "n.csv")["score"])


def test_a_header_of_column_numbers_is_read_as_names(tmp_path):
  rng = np.random.default_rng(0)
  pd.DataFrame(rng.normal(size=(60, 3)), columns=["0", "1", "2"]).to_csv(tmp_path / "t.csv", index=False)
  assert cli.main(["detect", str(tmp_path / "t.csv"), "--out", str(tmp_path / "s.csv")]) == 0
  assert len(pd.read_csv(tmp_path / "s.csv")) == 60


def test_embeddings_are_used_unscaled_with_a_gaussian_and_a_saved_model_scores_them(tmp_path):
  """--representation embedding: a table of features (a pretrained network's embeddings) used as it is,
  unscaled, with a Gaussian as the final model: detect's scores are
  STOCDetector(representation=features_as_given)'s, not the table default's, and a saved model (the
  function pickles, where a lambda would not) scores new rows as that detector does."""
  from stoc_jax import STOCDetector, features_as_given
  rng = np.random.default_rng(0)
  x = rng.normal(size=(300, 16)) * np.r_[np.full(8, 10.0), np.full(8, 0.1)]  # columns of unequal scale
  x[:15, :4] += 40.0
  np.save(tmp_path / "emb.npy", x)
  new = rng.normal(size=(50, 16)) * np.r_[np.full(8, 10.0), np.full(8, 0.1)]
  new[:5, :4] += 40.0
  np.save(tmp_path / "new.npy", new)
  model = tmp_path / "m.stoc"
  assert cli.main(["detect", str(tmp_path / "emb.npy"), "--out", str(tmp_path / "s.csv"), "--representation",
                   "embedding", "--contamination", "0.05", "--save-model", str(model)]) == 0
  scores = pd.read_csv(tmp_path / "s.csv")["score"].to_numpy()
  det = STOCDetector(representation=features_as_given, contamination=0.05).fit(x)
  np.testing.assert_allclose(scores, det.decision_scores_, rtol=1e-5)
  gaussian = STOCDetector(representation=features_as_given, occ="gde", contamination=0.05).fit(x)
  np.testing.assert_allclose(scores, gaussian.decision_scores_, rtol=1e-5)
  assert not np.allclose(scores, STOCDetector(contamination=0.05).fit(x).decision_scores_, rtol=1e-2)
  assert cli.main(["score", str(tmp_path / "new.npy"), "--model", str(model), "--out", str(tmp_path / "n.csv")]) == 0
  scored = pd.read_csv(tmp_path / "n.csv")
  np.testing.assert_allclose(scored["score"], det.decision_function(new), rtol=1e-5)
  assert scored["is_anomaly"][:5].all() and not scored["is_anomaly"][5:].any()
  with pytest.raises(ValueError, match="gave 10 features per row; this detector was fitted on 16"):
    det.decision_function(new[:, :10])
  (tmp_path / "imgs").mkdir()
  assert cli.main(["detect", "--images", str(tmp_path / "imgs"), "--out", str(tmp_path / "i.csv"),
                   "--representation", "embedding"]) == 2


@pytest.mark.parametrize("option,value,wanted", [
    ("--num-models", "0", ">= 1"), ("--n-neighbors", "x", ">= 1"), ("--seed", "-1", "from 0 to 4294967295"),
    ("--seed", "4294967296", "from 0 to 4294967295"), ("--refine-rounds", "0", ">= 1"), ("--train-steps", "-1", ">= 0")])
def test_counts_are_checked_under_their_option_names(table, tmp_path, capsys, option, value, wanted):
  """Not in the estimator's words (num_models, random_state): the option the user typed."""
  with pytest.raises(SystemExit) as e:
    cli.main(["detect", str(table), "--out", str(tmp_path / "s.csv"), option, value])
  assert e.value.code == 2
  assert f"argument {option}: takes a whole number {wanted}, not '{value}'" in capsys.readouterr().err
  assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize("flag", ["--out", "--report", "--save-model", "--workdir", "table"])
def test_an_empty_path_is_refused_under_its_option_name(table, tmp_path, capsys, flag):
  """An unset shell variable ("--report $DIR"): --report and --save-model read it as not given, and --out
  failed with "PosixPath('.') has an empty name"."""
  args = {"table": str(table), "--out": str(tmp_path / "s.csv"), flag: ""}
  with pytest.raises(SystemExit) as e:
    cli.main(["detect", args.pop("table")] + [part for item in args.items() for part in item])
  assert e.value.code == 2
  assert f"argument {flag}: takes a path, not ''" in capsys.readouterr().err
  assert not (tmp_path / "s.csv").exists()


def test_no_output_overwrites_an_input_or_deletes_a_folder_of_other_files(table, tmp_path, capsys):
  """Checked before the fit: the scores, the refined rows, the report and the model file each spare
  the input table, the model file and every file a --report folder holds besides an earlier report."""
  original = table.read_bytes()
  cases = [
      (["--out", str(table)], r"--out .* is an input of this command.*Choose another --out"),
      (["--out", str(tmp_path / "s.csv"), "--report", str(table)], r"report folder .* is an input.*another --report"),
      (["--out", str(tmp_path / "s.csv"), "--save-model", str(table)], r"--save-model .* is an input"),
      (["--out", str(tmp_path / "s.csv"), "--report", str(tmp_path / "s.csv")],
       r"the report folder and --out are both .*s\.csv; choose another --report"),
  ]
  for extra, match in cases:
    assert cli.main(["detect", str(table)] + extra) == 2
    assert re.search(match, capsys.readouterr().err)
  # t_refined.csv as the input and --out t.csv: the refined rows' file would be the input.
  refined_input = tmp_path / "t_refined.csv"
  refined_input.write_bytes(original)
  assert cli.main(["detect", str(refined_input), "--out", str(tmp_path / "t.csv")]) == 2
  assert "the refined rows' file" in capsys.readouterr().err
  # A --report folder holding anything but an earlier report is not replaced.
  folder = tmp_path / "results"
  folder.mkdir()
  (folder / "notes.txt").write_text("keep me")
  assert cli.main(["detect", str(table), "--out", str(tmp_path / "s.csv"), "--report", str(folder)]) == 2
  assert "holds other files (notes.txt)" in capsys.readouterr().err
  assert (folder / "notes.txt").read_text() == "keep me" and not (tmp_path / "s.csv").exists()
  # An earlier report is replaced, as before.
  (folder / "notes.txt").unlink()
  for _ in range(2):
    assert cli.main(["detect", str(table), "--out", str(tmp_path / "s.csv"), "--report", str(folder)]) == 0
  assert {p.name for p in folder.iterdir()} == {"report.html", "score_histogram.png", "refinement.png"}
  assert table.read_bytes() == original
  # score spares the model file and the table it reads.
  model = tmp_path / "m.stoc"
  assert cli.main(["detect", str(table), "--out", str(tmp_path / "s.csv"), "--save-model", str(model)]) == 0
  for target in (model, table):
    assert cli.main(["score", str(table), "--model", str(model), "--out", str(target)]) == 2
    assert "is an input of this command" in capsys.readouterr().err
  assert table.read_bytes() == original and cli._load_model(model)["detector"] is not None


def test_outputs_inside_the_image_folder_are_refused(tmp_path, capsys):
  _write_images(tmp_path / "imgs", [("normal", 8)] * 12)
  assert cli.main(["detect", "--images", str(tmp_path / "imgs"), "--out", str(tmp_path / "imgs" / "s.csv"),
                   "--representation", "none"]) == 2
  assert "lies inside the image folder" in capsys.readouterr().err
  assert sorted(p.name for p in (tmp_path / "imgs" / "normal").iterdir())[0] == "0.png"
  assert not (tmp_path / "imgs" / "s.csv").exists()


def test_a_two_valued_column_named_like_labels_is_warned_of_when_no_label_column_is_given(tmp_path, capsys):
  rng = np.random.default_rng(0)
  df = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
  df["Label"] = np.where(np.arange(60) < 6, "anomaly", "normal")
  df["class"] = np.arange(60) % 3  # three classes: a feature as any other
  df.to_csv(tmp_path / "t.csv", index=False)
  assert cli.main(["detect", str(tmp_path / "t.csv"), "--out", str(tmp_path / "s.csv")]) == 0
  err = capsys.readouterr().err
  assert "column 'Label' looks like labels but is read as a feature; if it marks the anomalies, pass " \
         "--label-column 'Label'" in err and "'class'" not in err
  assert cli.main(["detect", str(tmp_path / "t.csv"), "--out", str(tmp_path / "s.csv"), "--label-column", "Label"]) == 0
  assert "looks like labels" not in capsys.readouterr().err


def test_a_column_of_whole_numbers_named_like_an_identifier_is_warned_of(tmp_path, capsys):
  """CustomerID read as a number would put the customers with the largest and smallest numbers apart."""
  rng = np.random.default_rng(0)
  df = pd.DataFrame({"CustomerID": rng.choice(np.arange(10000, 99999), 60, replace=False),
                     "zip_code": rng.choice(np.arange(1000, 9999), 60), "OrderNo": np.arange(500, 560)[::-1],
                     "amount": rng.normal(size=60), "store_id": rng.integers(1, 4, 60),  # three stores: few values
                     "paid": rng.integers(0, 500, 60), "order_id": rng.normal(size=60),  # not identifiers
                     "volcano": rng.integers(0, 500, 60)})  # ends in "no", no code
  df.to_csv(tmp_path / "t.csv", index=False)
  assert cli.main(["detect", str(tmp_path / "t.csv"), "--out", str(tmp_path / "s.csv")]) == 0
  err = capsys.readouterr().err
  assert "column 'CustomerID' is named like an identifier and holds 60 different whole numbers" in err
  assert "--ignore-columns 'CustomerID'" in err
  assert "'zip_code' is named like" in err and "'OrderNo' is named like" in err
  assert not any(f"'{c}' is named like" in err for c in ("store_id", "paid", "order_id", "amount", "volcano"))
  assert cli.main(["detect", str(tmp_path / "t.csv"), "--out", str(tmp_path / "s.csv"),
                   "--ignore-columns", "CustomerID, store_id,zip_code,OrderNo"]) == 0  # spaces after commas as typed
  assert "named like an identifier" not in capsys.readouterr().err


def test_a_column_that_rises_with_every_row_is_warned_of(tmp_path, capsys):
  """Epoch seconds, years, running numbers: they order the rows, and their first and last look anomalous."""
  rng = np.random.default_rng(0)
  df = pd.DataFrame({"ts": 1.7e9 + np.cumsum(rng.integers(1, 90, 60)), "amount": rng.normal(size=60),
                     "left": np.arange(60.0)[::-1] * 2.5,  # falls with every row
                     "almost": np.r_[np.arange(59.0), 3.0],  # one step back: not in order
                     "sorted_ties": np.sort(rng.integers(0, 20, 60))})  # repeats: not rising with every row
  df.to_csv(tmp_path / "t.csv", index=False)
  assert cli.main(["detect", str(tmp_path / "t.csv"), "--out", str(tmp_path / "s.csv")]) == 0
  err = capsys.readouterr().err
  assert f"column 'ts' rises with every row ({int(df.ts[0])}, {int(df.ts[1])}, ..., {int(df.ts[59])})" in err
  assert "--ignore-columns 'ts'" in err and "column 'left' falls with every row (147.5, 145, ..., 0)" in err
  assert not any(f"'{c}' rises" in err or f"'{c}' falls" in err for c in ("amount", "almost", "sorted_ties"))
  assert cli.main(["detect", str(tmp_path / "t.csv"), "--out", str(tmp_path / "s.csv"),
                   "--ignore-columns", "ts,left"]) == 0
  assert "with every row" not in capsys.readouterr().err


def test_a_wide_table_of_relu_features_gets_the_embedding_hint(tmp_path, capsys):
  """512 columns of max(0, Gaussian), as a network's features are; integer counts of as many columns,
  and the features with --representation given, get no hint."""
  rng = np.random.default_rng(0)
  np.save(tmp_path / "features.npy", np.maximum(rng.normal(size=(60, 512)), 0.0))
  np.save(tmp_path / "counts.npy", rng.poisson(0.5, size=(60, 512)).astype(float))
  hint = "512 columns of non-negative decimals, many of them 0, as a network's features are"
  assert cli.main(["detect", str(tmp_path / "features.npy"), "--out", str(tmp_path / "f.csv"),
                   "--contamination", "0.05"]) == 0
  assert hint in capsys.readouterr().err
  for args in (["counts.npy", "--drop-constant"], ["features.npy", "--representation", "embedding"]):
    assert cli.main(["detect", str(tmp_path / args[0]), *args[1:], "--out", str(tmp_path / "o.csv"),
                     "--contamination", "0.05"]) == 0
    assert "as a network's features are" not in capsys.readouterr().err


def test_an_output_on_a_folder_or_below_a_file_is_refused_before_the_fit(table, tmp_path, capsys, monkeypatch):
  from stoc_jax import detector
  monkeypatch.setattr(detector.STOCDetector, "fit", lambda *a, **k: pytest.fail("fitted before the check"))
  (tmp_path / "results").mkdir()
  (tmp_path / "notes.txt").write_text("kept")
  for argv, match in [
      (["detect", str(table), "--out", str(tmp_path / "results")],
       r"--out .*results is a folder; give --out a file name in it, e.g. .*results/scores.csv"),
      (["detect", str(table), "--out", str(table / "s.csv")], r"cannot be written: .*table.csv is a file"),
      (["detect", str(table), "--out", str(tmp_path / "s.csv"), "--save-model", str(tmp_path / "results")],
       r"--save-model .*results is a folder"),
      (["detect", str(table), "--out", "/proc/s.csv"], r"cannot be written: /proc refuses new files"),
      (["detect", str(table), "--out", str(tmp_path / "s.csv"), "--report", str(tmp_path / "notes.txt")],
       r"the report folder .*notes.txt is a file; give --report a new folder"),
      (["detect", str(table), "--out", str(tmp_path / "s.csv"), "--workdir", str(tmp_path / "notes.txt")],
       r"--workdir .*notes.txt is a file; give --workdir a new folder"),
      (["detect", str(table), "--out", "gs://bucket/s.csv"],
       r"--out gs://bucket/s.csv is a URL; --out writes a local file or folder, and only --workdir takes"),
      (["detect", str(table), "--out", str(tmp_path / "s.csv"), "--report", "gs://bucket/r"],
       r"--report gs://bucket/r is a URL"),
      (["score", str(table), "--model", str(tmp_path / "m.stoc"), "--out", "s3://bucket/s.csv"],
       r"--out s3://bucket/s.csv is a URL"),
  ]:
    assert cli.main(argv) == 2
    assert re.search(match, capsys.readouterr().err)
  assert list((tmp_path / "results").iterdir()) == [] and (tmp_path / "notes.txt").read_text() == "kept"


def test_an_estimate_that_reads_skewed_columns_says_what_their_logs_read(table, tmp_path, capsys):
  rng = np.random.default_rng(0)
  names = ["amount", "duration", "fee", "volume"]
  skewed = tmp_path / "amounts.csv"
  pd.DataFrame(rng.lognormal(size=(400, 4)), columns=names).to_csv(skewed, index=False)
  out = tmp_path / "s.csv"
  assert cli.main(["detect", str(skewed), "--out", str(out)]) == 0
  printed = capsys.readouterr().out
  estimate = float(re.search(r"contamination \(estimated\): ([0-9.]+)", printed)[1])
  assert estimate > 0.1  # clean lognormal columns read as contaminated
  line = "It reads a long right tail as anomalies: with the logs of amount, duration, fee, volume it is 0.001."
  assert line in printed and line in (tmp_path / "s_report" / "report.html").read_text()
  # Not where the logs read about as much (the anomalies stand out on the log scale too), nor on
  # columns that are not all positive, nor beside a given fraction.
  x = rng.lognormal(size=(400, 4))
  x[:20] *= 30.0
  anomalous = tmp_path / "anomalous.csv"
  pd.DataFrame(x, columns=names).to_csv(anomalous, index=False)
  for args in (["detect", str(anomalous)], ["detect", str(table)], ["detect", str(skewed), "--contamination", "0.05"]):
    assert cli.main(args + ["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "with the logs of" not in printed, args
  from stoc_jax.report import glossary
  many = glossary(True, True, on_logs=(list("abcdefg"), 0.0123))["contamination"]
  assert "with the logs of a, b, c, d, e and 2 more it is 0.0123." in many
  assert "with the logs of" not in glossary(True, False, on_logs=(["a"], 0.01))["contamination"]  # a given fraction


def test_an_estimate_that_finds_nothing_says_what_that_can_mean(table, tmp_path, capsys):
  clean = tmp_path / "clean.csv"
  pd.DataFrame(np.random.default_rng(0).normal(size=(300, 4)), columns=list("abcd")).to_csv(clean, index=False)
  out = tmp_path / "s.csv"
  assert cli.main(["detect", str(clean), "--out", str(out)]) == 0
  printed = capsys.readouterr().out
  assert "contamination (estimated): 0.001" in printed  # the floor: nothing found on Gaussian noise
  assert "Here it found none" in printed and "read the most anomalous rows" in printed
  assert "Here it found none" in (tmp_path / "s_report" / "report.html").read_text()
  # Not where the estimate found anomalies, nor beside a given fraction.
  assert cli.main(["detect", str(table), "--out", str(out)]) == 0
  printed = capsys.readouterr().out
  assert "Here it found none" not in printed and "Here it found none" not in (tmp_path / "s_report" / "report.html").read_text()
  assert cli.main(["detect", str(clean), "--out", str(out), "--contamination", "0.001"]) == 0
  assert "Here it found none" not in capsys.readouterr().out


def test_the_glossary_names_what_is_scored_with_its_article():
  from stoc_jax.report import glossary
  assert "how surely a row's is_anomaly would hold were the rows drawn again" in glossary(True)["confidence"]
  images = glossary(True, unit="images")
  assert "how surely an image's is_anomaly would hold were the images drawn again" in images["confidence"]
  assert images["kept by refinement"].startswith("the images that all K models")
