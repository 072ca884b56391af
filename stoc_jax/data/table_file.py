"""A user's table file, read into a feature matrix: CSV with a header row (text columns one-hot
encoded, numbers in other locales' notation, missing values refused or filled) or .npy / .npz.

`load_table` is what `stoc-jax detect` and `score` read tables with; its `TableSchema` encodes a
table scored later as the fitted one was. Every error names the file, and the rows and columns where
there are any, and says how to fix it (`docs/command_line.md`).
"""

from __future__ import annotations

import dataclasses
import os
import re
import warnings
from pathlib import Path

import numpy as np

from stoc_jax.column_scaling import MAX_ABS_VALUE
from stoc_jax.data import DataError, read_numpy


@dataclasses.dataclass(frozen=True)
class TableSchema:
  """How a table's columns became the feature matrix, so that new rows are encoded the same way.

  `columns`: the feature columns read (label column removed), in order; `categories`:
  for each text column, its training values (each becomes a one-hot column);
  `features`: the encoded feature names, in the matrix's order (constant columns
  dropped when asked); `left_out`: the columns the fit was told to leave out (ignored, and the
  label column), which a table scored later may hold without a warning; `fill`: how missing
  values were filled (`MissingFill`), or None where they were refused; `constant`: (name, value) of
  each numeric column dropped as constant, which a table scored later may lack, and whose other
  values there are warned of, since the model cannot see them; `units`: (name, unit) of each column
  read as numbers with a unit ("70.3 kg"), which a table scored later must write in the same unit.
  """
  columns: tuple
  categories: dict
  features: tuple
  left_out: tuple = ()
  fill: MissingFill | None = None
  constant: tuple = ()  # class-level defaults: models saved before these were added still load
  units: tuple = ()


@dataclasses.dataclass(frozen=True)
class MissingFill:
  """Missing values filled as the fitted table's were (`load_table(..., fill_missing=True)`): a numeric
  column's with its median over the fitted rows, a text column's with its most frequent value
  (scikit-learn's `SimpleImputer`s, `numeric` and `text`, None where there are no such columns).

  The typical value, and no 0/1 column saying which values were filled: with 5 % of the values of
  the 15 benchmark tables removed at random, the default detector's mean AUC went from 82.9 to 82.0
  with the median, and to 72.2 with such a column beside each, which made every row missing a value
  look anomalous (`benchmarks/missing_values/`). `marked`: the columns of
  numbers whose marks ("?", "-", "unknown") were read as missing.
  """
  numeric: object
  text: object
  marked: tuple = ()


# Table formats a practitioner may hold, each with the pandas reader that turns it into CSV: refused by
# name, where reading them as text said "no data rows" (a spreadsheet) or named a codec (Parquet).
OTHER_FORMATS = {".xlsx": "read_excel", ".xlsm": "read_excel", ".xls": "read_excel", ".ods": "read_excel",
                 ".parquet": "read_parquet", ".feather": "read_feather", ".json": "read_json",
                 ".pkl": "read_pickle", ".pickle": "read_pickle", ".h5": "read_hdf", ".hdf5": "read_hdf",
                 ".dta": "read_stata", ".sav": "read_spss", ".sas7bdat": "read_sas"}


def load_table(path, label_column: str | int | None = None, drop_constant: bool = False,
               schema: TableSchema | None = None, ignore_columns=(), fill_missing: bool = False):
  """A user table: CSV (header row; categorical columns one-hot encoded) or .npy / .npz.

  `label_column` names a 0/1 column (1 = anomaly) to split off, by name or index;
  `ignore_columns` names CSV columns to leave out (identifiers, row numbers, timestamps).
  Errors name what is wrong: a missing file, an empty file, a first row that is data
  rather than column names, text columns of identifiers, a column of row numbers, a totals row,
  measurements in several units, missing values (rows and columns listed; unless `fill_missing`),
  fewer than 2 rows, constant columns (unless `drop_constant`). Numbers written in other locales, or
  with one unit in every row ("70.3 kg"), are read as numbers. Returns (X, y or None, TableSchema).

  `fill_missing=True` (CSV): a numeric column's missing values (and marks such as "?" in a column
  of numbers) become its median, a text column's its most frequent value, with a warning saying how
  many were filled in which columns (`MissingFill`).

  With `schema` (from an earlier call), the table is encoded as that one was: the
  same columns are required, text values unseen then get all-zero one-hot codes
  (with a warning), missing values are filled as then (or refused, as then), and one
  row or constant columns are fine (new data to score).
  """
  path = Path(os.path.expanduser(str(path)))
  if not path.exists():
    raise DataError(f"no such file: {path}")
  if path.is_dir():  # read as a file, it failed in the words of a compressed file's error
    raise DataError(f"{path} is a folder; give a table file (CSV, .npy or .npz), or --images {path} for a folder "
                    "of images.")
  if path.stat().st_size == 0:
    raise DataError(f"{path} is empty.")
  reader = OTHER_FORMATS.get(path.suffix.lower())
  if reader:
    raise DataError(f"{path}: {path.suffix} files are not read here, only CSV, .npy and .npz. Save it as CSV first: "
                    f"python -c \"import pandas as pd; pd.{reader}('{path}').to_csv('{path.with_suffix('.csv')}', "
                    "index=False)\"")
  if path.suffix not in (".npy", ".npz"):
    return _load_csv(path, label_column, drop_constant, schema, tuple(ignore_columns), fill_missing)
  if ignore_columns:
    raise DataError(f"{path}: ignoring columns by name needs a CSV with a header row; drop them from the array.")
  if fill_missing:
    raise DataError(f"{path}: filling missing values needs a CSV with a header row; fill them in the array.")
  y = None
  loaded = read_numpy(path)
  if path.suffix == ".npy":
    if isinstance(loaded, dict):
      raise DataError(f"{path} is an .npz archive of arrays {sorted(loaded)}; name it .npz.")
    arr = loaded
  else:
    if not isinstance(loaded, dict):
      raise DataError(f"{path} is one array (an .npy file); name it .npy.")
    if "X" not in loaded:
      raise DataError(f"{path}: an .npz needs an array named X (and optionally y); found {sorted(loaded)}.")
    arr = loaded["X"]
    if "y" in loaded and label_column is None:
      y = np.asarray(loaded["y"]).astype(np.int64).ravel()
  if arr.ndim != 2:
    fixed = path.with_name(f"{path.stem}_{'column' if arr.ndim == 1 else 'flat'}.npy")
    fix = (f"python -c \"import numpy as np; X = np.load('{path}'); "
           f"np.save('{fixed}', X.reshape({'-1, 1' if arr.ndim == 1 else 'len(X), -1'}))\"")
    if arr.ndim == 1:
      raise DataError(f"{path}: expected a 2-D array (rows x features), got shape {arr.shape}; for one feature "
                      f"save it as a column: {fix}")
    # An (N, H, W[, C]) array is most often images, which the command line reads from a folder.
    raise DataError(f"{path}: expected a 2-D array (rows x features), got shape {arr.shape}. Images go in a "
                    "folder of image files (--images FOLDER; in Python, STOCDetector(representation='rotation') "
                    f"takes them as an (N, H, W, C) array); to score the values as a table, flatten it: {fix}")
  names = [f"x{i}" for i in range(arr.shape[1])]
  if label_column is not None:
    col = int(label_column)
    y = _labels(arr[:, col], path, col)
    arr = np.delete(arr, col, axis=1)
    del names[col]
  if schema is not None:
    if tuple(names) != schema.columns:
      raise DataError(f"{path}: {len(names)} feature columns, but the model was fitted on "
                      f"{len(schema.columns)}; give the same columns (and the same --label-column).")
    _warn_constant_differs({n: arr[:, i] for i, n in enumerate(names)}, path, schema)
    keep = [names.index(f) for f in schema.features]
    return _check_rows(arr[:, keep], path, list(schema.features)), y, schema
  x, features, constant = _check_matrix(arr, path, names, drop_constant)
  return x, y, TableSchema(tuple(names), {}, tuple(features), constant=constant)


# Label words whose meaning is not in doubt (as the image folders' sub-folders name them): 0 normal, 1 anomaly.
LABEL_WORDS = {"normal": 0, "anomaly": 1, "anomalous": 1, "abnormal": 1, "inlier": 0, "outlier": 1}


# Answers to "is this row an anomaly?", as a boolean column's True and False are read: 1 yes, 0 no.
ANSWER_WORDS = {"yes": 1, "no": 0, "y": 1, "n": 0, "true": 1, "false": 0}


# Words for the normal class: in a label column of two words, one of these, the other word is the anomaly
# ("benign" / "malignant", "normal" / "attack", "good" / "defect").
NORMAL_WORDS = frozenset({"normal", "inlier", "benign", "legit", "legitimate", "good", "ok", "clean", "nominal"})


def _lowered(values) -> list:
  """A label column's values as words: trimmed, lower case."""
  return [str(v).strip().lower() for v in values]


def _labels(values, path, column):
  import pandas as pd
  missing = np.flatnonzero(pd.isna(np.asarray(values, object)))
  if missing.size:
    raise DataError(f"{path}: label column {column!r} is missing in {missing.size} rows (first data rows: "
                    f"{(missing[:5] + 1).tolist()}); labels are used only to evaluate: drop those rows, or leave "
                    "out --label-column.")
  # "is_normal: yes" (or True) would be the reverse of an answer to "an anomaly?": not guessed at.
  named_normal = sorted(set(re.split(r"[^a-z]+", str(column).lower())) & NORMAL_WORDS)
  if named_normal and (distinct := set(_lowered(values))) <= set(ANSWER_WORDS):
    raise DataError(f"{path}: label column {column!r} holds {sorted(distinct)} and is named for the normal "
                    f"rows ({named_normal[0]!r}): map it to 1 for the anomalies and 0 for the normal rows first.")
  try:
    y = np.asarray(values, np.float64)
  except (TypeError, ValueError):
    words = _lowered(values)
    distinct = set(words)
    if distinct <= set(LABEL_WORDS):
      return np.array([LABEL_WORDS[w] for w in words], np.int64)
    if distinct <= set(ANSWER_WORDS):
      return np.array([ANSWER_WORDS[w] for w in words], np.int64)
    if len(distinct) == 2 and len(distinct & NORMAL_WORDS) == 1:
      return np.array([w not in NORMAL_WORDS for w in words], np.int64)
    found = sorted({str(v) for v in values})[:5]
    raise DataError(f"{path}: label column {column!r} must hold 0 (normal) / 1 (anomaly), yes / no, the words "
                    f"{'/'.join(LABEL_WORDS)}, or two words one of which names the normal rows "
                    f"({'/'.join(sorted(NORMAL_WORDS))}); found text {found}: map it to 0 and 1 first.") from None
  if not np.isin(y, (0, 1)).all():
    hint = ""
    if set(np.unique(y).tolist()) == {-1.0, 1.0}:
      hint = " (scikit-learn's -1 = outlier, 1 = inlier? then write 1 for -1 and 0 for 1)"
    raise DataError(f"{path}: label column {column!r} must hold only 0 (normal) and 1 (anomaly); "
                    f"found {sorted(set(np.unique(y).tolist()) - {0, 1})[:5]}{hint}.")
  return y.astype(np.int64)


CSV_DELIMITERS = ",;\t|"


def _open_bytes(path):
  """The file opened for reading its bytes, decompressed by its suffix as pandas' read_csv
  decompresses it (.gz, .bz2, .xz, or a .zip of one file), so that sniffing reads the text."""
  import zipfile
  suffix = Path(path).suffix.lower()
  try:
    if suffix in (".gz", ".bz2", ".xz"):
      import bz2, gzip, lzma
      return {".gz": gzip, ".bz2": bz2, ".xz": lzma}[suffix].open(path, "rb")
    if suffix == ".zip":
      archive = zipfile.ZipFile(path)
      names = [n for n in archive.namelist() if not n.endswith("/") and not n.startswith("__MACOSX/")]
      if len(names) != 1:
        raise DataError(f"{path}: a .zip is read when it holds one CSV file; it holds {names[:5]}.")
      return archive.open(names[0])
  except (OSError, zipfile.BadZipFile) as e:
    raise _unreadable(path, e) from None
  return open(path, "rb")


def _unreadable(path, error) -> DataError:
  """A compressed file that is not what its suffix says."""
  suffix = Path(path).suffix.lower()
  return DataError(f"{path} is not a readable {suffix + ' ' if suffix else ''}file: {error}")


def _cut_short(path, error) -> DataError:
  """A compressed file cut short, as an interrupted download leaves it."""
  return DataError(f"{path} ends inside its compressed data ({error}); the file is incomplete.")


def _encodings(path) -> tuple:
  """The text encodings to try, in order: UTF-16 where the file starts with its byte-order mark (as
  Excel's "Unicode Text" saves), else UTF-8, then Windows-1252 (Excel's plain "CSV" on Western
  European systems)."""
  try:  # gzip, bz2 and lzma check their data only as it is read
    with _open_bytes(path) as f:
      start = f.read(2)
  except EOFError as e:
    raise _cut_short(path, e) from None
  except OSError as e:
    raise _unreadable(path, e) from None
  return ("utf-16",) if start in (b"\xff\xfe", b"\xfe\xff") else ("utf-8", "cp1252")


def _delimiter(path, encoding: str) -> tuple:
  """(the file's field delimiter, the lines above its header): the delimiter a first line `sep=;`
  names, as Excel writes and reads it (that line then skipped), or else one sniffed from its first
  lines among , ; tab and |."""
  import csv
  import io
  try:
    with io.TextIOWrapper(_open_bytes(path), encoding=encoding, errors="replace", newline="") as f:
      lines = [f.readline() for _ in range(20)]
  except EOFError as e:
    raise _cut_short(path, e) from None
  directive = re.fullmatch(r"sep=(.)", lines[0].lstrip("\ufeff").rstrip("\r\n"), re.IGNORECASE)
  if directive:
    return directive[1], 1
  try:
    return csv.Sniffer().sniff("".join(lines), delimiters=CSV_DELIMITERS).delimiter, 0
  except csv.Error:  # one column, or no consistent delimiter: the parser's error will say
    return ",", 0


def _looks_like_data(header) -> bool:
  """A header row whose every field is a number, one of them not a plain column index (0, 1, 2, ...),
  or that repeats numbers among text: a file without column names, whose first row of data was read
  as them."""
  def number(v):
    try:
      float(v)
      return True
    except ValueError:  # or a number in another locale's notation (read_csv)
      return bool(_DECIMAL_COMMA.fullmatch(v) or _THOUSANDS_COMMA.fullmatch(v))
  names = [str(c) for c in header]
  if all(number(v) for v in names):
    return not all(v.isdigit() for v in names)
  # A first row of data with text among its numbers (KDD Cup's "0,tcp,http,SF,181,..."): pandas
  # renames a value the row repeats, 0, 0.1, 0.2, ..., and column names hardly ever repeat a number.
  repeated = [v for v in names if (m := re.fullmatch(r"(.+)\.\d+", v)) and m[1] in names and number(m[1])]
  return len(repeated) >= 2 and sum(map(number, names)) >= len(names) / 2


def _numeric_columns(df, sep) -> list:
  """The columns of `df` whose every value is a number as the file writes them (read_csv's rules)."""
  import pandas as pd
  read, _ = _read_local_numbers(df.copy(), sep)
  return [c for c in df.columns if pd.api.types.is_numeric_dtype(read[c]) and read[c].notna().any()]


def _refuse_header_lines(df, path, sep):
  """Lines below the column names that hold text where every later row holds a number, in two columns
  or more: a second header line (the units, "kg", "USD"; descriptions), which made every such column
  text, and then categories or identifiers, where without it they are numbers."""
  import pandas as pd
  text = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
  if len(df) < 10 or len(text) < 2:
    return
  for lines in (1, 2, 3):
    head = df.iloc[:lines]
    if any(isinstance(v, str) and _is_missing_mark(v) for v in head[text].to_numpy().ravel()):
      return  # marks of missing values in the first rows: the missing values' error says so
    # The next rows first: a column of words fails there at once, and a large table is read once.
    numbers = _numeric_columns(df.iloc[lines:lines + 50][text], sep)
    if len(numbers) >= 2:
      numbers = _numeric_columns(df.iloc[lines:][numbers], sep)
    if len(numbers) >= 2:
      example = ", ".join(repr(v) for v in head[numbers].iloc[0].tolist()[:4]) + ", ..." * (len(numbers) > 4)
      rows = "data row 1" if lines == 1 else f"data rows 1-{lines}"
      raise DataError(f"{path}: {rows} hold{'s' * (lines == 1)} text ({example}) in columns "
                      f"{[str(c) for c in numbers[:10]]}, where every later row holds a number: a second line of "
                      f"column names or units? Delete {'it' if lines == 1 else 'them'} from the file, and those "
                      "columns are read as numbers.")


def _refuse_repeated_header(df, path):
  """Data rows that repeat the column names, as files joined with their headers leave them (`cat a.csv
  b.csv`): as text among numbers they made every column text, then categories or identifiers."""
  import pandas as pd
  # Such a row makes every column text: a table with a numeric column has none, and is not searched.
  if df.shape[1] < 2 or any(pd.api.types.is_numeric_dtype(df[c]) for c in df.columns):
    return
  first = np.flatnonzero(df.iloc[:, 0].astype(str).to_numpy() == str(df.columns[0]))
  repeats = np.array([i for i in first if all(str(v) == str(c) for v, c in zip(df.iloc[i], df.columns))], int)
  if repeats.size:
    rows = (repeats[:5] + 1).tolist()
    raise DataError(f"{path}: data row{'s' * (repeats.size > 1)} {rows} repeat{'s' * (repeats.size == 1)} the "
                    "column names: tables joined with their headers? Delete those lines (the first line "
                    "names the columns) and run again.")


MAX_NOTE_LINES = 5


def _refuse_note_lines(df, path):
  """Lines below a table that hold text in one cell and nothing else ("Source: ...", "Figures in
  USD"), as spreadsheets export notes under a table: no records, and as one text value in a column of
  numbers they made it text (then categories, or refused as identifiers)."""
  if len(df) < 10 or df.shape[1] < 2:
    return
  notes = 0
  for i in range(len(df) - 1, -1, -1):
    filled = df.iloc[i].dropna()
    if len(filled) != 1 or not isinstance(filled.iloc[0], str) or _is_missing_mark(filled.iloc[0]):
      break
    # A value its column holds elsewhere is a sparse record's (a city), not a note.
    if (df[filled.index[0]] == filled.iloc[0]).sum() > 1:
      break
    notes += 1
    if notes > MAX_NOTE_LINES:  # so many such rows are the table's own, however sparse
      return
  if notes:
    rows = list(range(len(df) - notes + 1, len(df) + 1))
    raise DataError(f"{path}: the last data row{'s' * (notes > 1)} ({', '.join(map(str, rows[:5]))}) hold"
                    f"{'s' * (notes == 1)} text in one cell and nothing else "
                    f"({df.iloc[len(df) - notes].dropna().iloc[0]!r}): a note below the table, not a record. "
                    f"Delete {'it' if notes == 1 else 'them'} from the file and run again.")


# A number with a decimal point; one with a decimal comma that no thousands separator writes (not three
# digits after it); a whole number.
POINT_DECIMAL = re.compile(r"[+-]?\d*\.\d+")
COMMA_DECIMAL = re.compile(r"[+-]?\d*,(?:\d{1,2}|\d{4,})")
WHOLE_NUMBER = re.compile(r"[+-]?\d+")


def _refuse_mixed_decimals(df, path):
  """A text column of numbers written with a decimal point in some rows and a decimal comma in others
  (a table edited in two locales): read as text, it became one-hot categories, or was refused as
  identifiers."""
  import pandas as pd
  for c in df.columns:
    if pd.api.types.is_numeric_dtype(df[c]):
      continue
    text = df[c].dropna().astype(str).str.strip()
    point, comma = text.str.fullmatch(POINT_DECIMAL), text.str.fullmatch(COMMA_DECIMAL)
    if point.any() and comma.any() and (point | comma | text.str.fullmatch(WHOLE_NUMBER)).all():
      example = lambda rows: f"{text[rows].iloc[0]!r} in data row {text[rows].index[0] + 1}"
      raise DataError(f"{path}: column {str(c)!r} writes numbers with a decimal point ({example(point)}) and with "
                      f"a decimal comma ({example(comma)}); write them all one way to have it read as numbers.")


def _refuse_summary_row(df, path):
  """A first or last row that holds the sums of the other rows, as spreadsheets export a "Total"
  row, refused: it is no record, and as the largest value of every column it stretches the columns'
  scaling until the records' own anomalies no longer stand out (on 300 rows, two planted anomalies
  fell from the first two places to the fourth and sixth)."""
  import pandas as pd
  numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
  if len(df) < 10 or len(numeric) < 2:
    return
  values = df[numeric].to_numpy(np.float64)
  for row, others in ((len(df) - 1, values[:-1]), (0, values[1:])):
    sums = others.sum(axis=0)
    # Two columns or more, and two thirds of them; each sum far from 0 (zeros sum to 0 by themselves).
    matched = np.isclose(values[row], sums, rtol=1e-6, atol=0.0) & (np.abs(sums) > 0)
    if matched.sum() >= 2 and matched.sum() >= 2 * len(numeric) / 3:
      columns = [str(c) for c, m in zip(numeric, matched) if m]
      where = "last" if row else "first"
      raise DataError(
          f"{path}: the {where} data row (row {row + 1}) holds the sums of the other rows in columns "
          f"{columns[:10]}: a totals row, not a record, which would stretch those columns' scale until the "
          f"records' own anomalies no longer stand out. Delete that line from the file and run again.")


def _refuse_mixed_units(df, path):
  """A text column of measurements in several units ("1 h" beside "30 min"), refused with the units:
  as text it would be categories, or refused as identifiers, where one unit makes it numbers."""
  import pandas as pd
  for c in df.columns:
    if pd.api.types.is_numeric_dtype(df[c]):
      continue
    measured = _measurements(df[c].dropna().astype(str).str.strip())
    units = set(measured[1].str.lower()) if measured else set()
    if len(units) > 1:
      example = ", ".join(repr(v) for v in df[c].dropna().astype(str).drop_duplicates()[:3])
      raise DataError(f"{path}: column {str(c)!r} holds measurements in several units {sorted(units)} (e.g. "
                      f"{example}); convert them to one unit, and the column is read as numbers.")


def _refuse_row_keys(df, path, counters, id_like):
  """Columns that tell the rows apart rather than describe them, refused in one error that names
  them all, so that one --ignore-columns fixes the file: numbers counting the rows, and text with a
  distinct value in most rows (identifiers, dates)."""
  if not counters and not id_like:
    return
  reasons = []
  if counters:
    listed = ", ".join(f"{str(c)!r} ({df[c].iloc[0]}, {df[c].iloc[1]}, ...)" for c in counters)
    reasons.append(f"column{'s' if len(counters) > 1 else ''} {listed} number{'' if len(counters) > 1 else 's'} "
                   "the rows, which would make the first and last rows look anomalous (pandas writes such an "
                   "index unless to_csv(index=False))")
  hint = ""
  if id_like:
    dates = [c for c in id_like if _holds_dates(df[c])]
    what = "dates or times" if dates == id_like else "identifiers?"
    reasons.append(f"text columns {id_like[:10]} have a distinct value in most rows ({what}), and one-hot "
                   "encoding them would add a column per row")
    if dates == id_like:
      hint = (" Read as numbers, dates would make the earliest and latest rows look anomalous; if the time "
              "matters, add a column derived from it (the hour, the weekday).")
  names = ",".join(str(c) for c in list(counters) + id_like[:10])
  raise DataError(f"{path}: {'; '.join(reasons)}. Leave {'it' if len(counters) + len(id_like) == 1 else 'them'} "
                  f"out: --ignore-columns {names!r} (ignore_columns= in Python).{hint}")


def _row_number_columns(df) -> list:
  """Numeric columns that count the rows, 0..n-1 or 1..n in file order (an index pandas writes by default)."""
  import pandas as pd
  n = len(df)
  if n < 10:
    return []
  return [c for c in df.columns if pd.api.types.is_integer_dtype(df[c])
          and df[c].iloc[0] in (0, 1) and (np.diff(df[c].to_numpy()) == 1).all()]


# Numbers as spreadsheets in other locales write them. In a file delimited by ; tab or |: decimal
# commas, "1,5" or "-2,5e-3", with or without thousands dots or spaces, "1.234,5" or "1 234,5" (French
# and Nordic spreadsheets write a no-break space there). In a comma-delimited file:
# thousands commas inside quotes, "1,234.5". Either may carry a currency sign, "$1,234.50",
# "-€12,5" or "12,5 €", or a percent sign, "12.5%" (read as 12.5); a negative may be written in
# parentheses, "(1,234.50)", or with a trailing minus, "1,234.50-". A column is read so only when
# every value matches.
_UNITS = r"(?P<sign>[+-]?)\s?[$€£¥]?\s?(?P<number>{})\s?[%$€£¥]?"
_DECIMAL_COMMA = re.compile(_UNITS.format(r"[+-]?(\d+|\d{1,3}(\.\d{3})+|\d{1,3}([ \u00a0\u202f]\d{3})+)(,\d+)?"
                                          r"([eE][+-]?\d+)?"))
_THOUSANDS_COMMA = re.compile(_UNITS.format(r"[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?([eE][+-]?\d+)?"))


# Units a column of measurements may write after every number, "70.3 kg" or "312ms": read as the
# numbers, where every value of the column carries the same one. A closed list, so that a column of
# names that start with a number ("3 Series") stays text; without single letters that mark parts
# ("12a", "4b", "3c", "7d" as flats or sections).
UNIT_WORDS = frozenset(
    ["mg", "g", "kg", "t", "lb", "lbs", "oz", "mm", "cm", "m", "km", "in", "ft", "mi", "ml", "l", "µs", "us", "ms",
     "s", "sec", "min", "h", "hr", "hrs", "day", "days", "kb", "mb", "gb", "tb", "kib", "mib", "gib",
     "bytes", "w", "kw", "mw", "kwh", "v", "mv", "ma", "hz", "khz", "mhz", "ghz", "°c", "°f", "k", "pa",
     "kpa", "bar", "psi", "rpm", "bpm", "mph", "km/h", "m/s", "x", "pcs", "pts", "px"])
_NUMBER_AND_UNIT = r"^(?P<number>.*\d)\s?(?P<unit>[^\d\s]+)$"


def _measurements(text):
  """(each value's number, each value's unit as written) where every value of `text` (stripped, no
  NaN) is a number followed by a unit of UNIT_WORDS; None otherwise."""
  parts = text.str.extract(_NUMBER_AND_UNIT)  # NaN where a value does not match
  if not len(text) or not set(parts["unit"].str.lower()) <= UNIT_WORDS:  # no measurement: NaN, not a unit
    return None
  return parts["number"].str.strip(), parts["unit"]


def _read_local_numbers(df, sep):
  """(`df` with its text columns that hold only locale-written numbers (above) as floats, also where
  every value is followed by one unit of UNIT_WORDS; {column: its unit} of those)."""
  import pandas as pd
  # The pattern, the thousands separators to drop and the decimal mark to make a point.
  pattern, thousands, decimal = ((_THOUSANDS_COMMA, ",", ".") if sep == "," else
                                 (_DECIMAL_COMMA, ". \u00a0\u202f", ","))
  units = {}
  for c in df.columns:
    if pd.api.types.is_numeric_dtype(df[c]):
      continue
    text = df[c].dropna().astype(str).str.strip()
    numbers = _as_local_numbers(text, pattern, thousands, decimal)
    measured = _measurements(text) if numbers is None else None
    if measured and measured[1].str.lower().nunique() == 1:
      numbers = _as_local_numbers(measured[0], pattern, thousands, decimal)
      if numbers:
        units[c] = measured[1].iloc[0]
    if numbers:
      df[c] = pd.Series(np.asarray(numbers, np.float64), index=text.index).reindex(df.index)
  return df, units


def _as_local_numbers(text, pattern, thousands, decimal):
  """The values of `text` as number strings Python reads, or None at the first that is not one."""
  matches = []
  for v in text:  # stops at the first word of a text column
    v = v.replace("\u2212", "-")  # the typographic minus sign, as Apple Numbers and some locales write it
    # Accountants' negatives: "(1,234.50)" is -1234.5, and so is SAP's "1,234.50-".
    parenthesised = len(v) > 2 and v[0] == "(" and v[-1] == ")"
    trailing = len(v) > 1 and v[-1] == "-"
    negative = parenthesised or trailing
    m = pattern.fullmatch(v[1:-1].strip() if parenthesised else v[:-1] if trailing else v)
    if m is None or (m["sign"] and (negative or m["number"][0] in "+-")):  # one sign at most: not "-$-5"
      return None
    matches.append(("-" if negative else m["sign"]) + re.sub(f"[{thousands}]", "", m["number"]).replace(decimal, "."))
  return matches


def _longer_rows(path, encoding, sep, width, skip=0, limit=100_000) -> list:
  """The data rows (1 = the first below the header) of more than `width` fields, among the first `limit`;
  `skip` lines above the header."""
  import csv
  import io
  longer = []
  with io.TextIOWrapper(_open_bytes(path), encoding=encoding, errors="replace", newline="") as f:
    rows = csv.reader(f, delimiter=sep, skipinitialspace=True)
    for _ in range(1 + skip):
      next(rows, None)
    for i, row in enumerate(rows, start=1):
      if i > limit:
        break
      if len(row) > width:
        longer.append(i)
  return longer


def _longer_rows_error(path, sep, header, longer, num_rows):
  """DataError for data rows with more fields than the header names: which rows, and the likely cause.
  `longer`: those rows (`_longer_rows`); `num_rows`: the rows read, or None where pandas stopped at the
  first longer row."""
  if str(header[0]).startswith("#"):
    hint = "its first line looks like a comment: delete the lines above the column names"
  elif longer and (num_rows is None or len(longer) < num_rows):  # some rows fit: a delimiter inside values
    hint = (f"data rows {longer[:5]} do, where others fit: a value holding the delimiter {sep!r} unquoted "
            f"(a thousands separator, 1{sep}234.50?) splits in two; quote such values or write them without it")
  else:
    hint = "the first line must name every column (delete any title line above the column names)"
  return DataError(f"{path}: rows hold more fields than its first line has column names; {hint}.")


def _check_space_delimited(path, df):
  """A file read as one column whose header and first rows all split on spaces into as many fields
  (or one more: the row names R's write.table adds), mostly numbers: delimited by spaces, which is not
  sniffed, since text values hold spaces too."""
  if len(df.columns) != 1:
    return
  def number(field):
    try:
      float(field.strip('"'))
      return True
    except ValueError:
      return False
  width = len(str(df.columns[0]).split())
  rows = [str(v).split() for v in df.iloc[:20, 0] if isinstance(v, str)]
  # Mostly numbers, so that one column of text with spaces in it ("full name": "Ada Lovelace") is not it.
  if width >= 2 and rows and all(len(r) in (width, width + 1) and 2 * sum(map(number, r)) >= len(r) for r in rows):
    raise DataError(
        f"{path}: read as one column, {str(df.columns[0])!r}, whose rows split on spaces into {width} fields: "
        "a file delimited by spaces, which is not read here (the delimiters are , ; tab and |). Save it with "
        f"commas: python -c \"import pandas as pd; pd.read_csv('{path}', sep=r'\\s+')"
        f".to_csv('{path.with_suffix('.csv')}', index=False)\"")


def _check_one_delimiter(path, sep, header):
  """A header read as one column that holds another delimiter: the file mixes delimiters."""
  others = [d for d in CSV_DELIMITERS if d != sep and d in str(header[0])] if len(header) == 1 else []
  if others:
    raise DataError(f"{path}: read as one column with the delimiter {sep!r}, but its header holds "
                    f"{others[0]!r}; give every row the same delimiter ({', '.join(map(repr, CSV_DELIMITERS))}).")


def read_csv(path):
  """A CSV file as the loaders read it, a pandas DataFrame: UTF-8, Windows-1252 or UTF-16 text, also
  compressed (.gz, .bz2, .xz, a .zip of one file), the delimiter sniffed among , ; tab and |, the
  spaces around names and text values dropped, numbers in other locales' notation read as numbers (decimal commas
  in files not delimited by commas, quoted thousands commas in files that are, either with a
  currency or percent sign; also measurements with one unit a column, "70.3 kg"), the empty, unnamed
  columns that a delimiter at the end of every line leaves and the rows of delimiters alone dropped.
  Errors (DataError) name the file."""
  return _read_csv(path)[0]


def _read_csv(path):
  """(read_csv's DataFrame, the delimiter it sniffed, {name: [column numbers from 1]} of the names its
  header repeats, {name: unit} of the columns read as numbers with a unit)."""
  import pandas as pd
  encodings = _encodings(path)
  sep, skip = _delimiter(path, encodings[0])
  for encoding in encodings:
    try:
      with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        # index_col=False: rows longer than the header are not read as an index, shifting the columns.
        # skipinitialspace: hand-written "a, b" files, whose quoted fields start after the space.
        df = pd.read_csv(path, sep=sep, encoding=encoding, index_col=False, skipinitialspace=True, skiprows=skip)
      if any("Length of header" in str(w.message) for w in caught):
        _check_one_delimiter(path, sep, df.columns)
        longer = _longer_rows(path, encoding, sep, len(df.columns), skip)
        raise _longer_rows_error(path, sep, df.columns, longer, len(df))
      break
    except UnicodeDecodeError as e:
      error = e
    except pd.errors.EmptyDataError:
      raise DataError(f"{path} is empty: no header and no rows.") from None
    except pd.errors.ParserError as e:
      # A row longer than the rows above it (pandas stops there): read the header alone to say why.
      if "Expected" in str(e):
        header = pd.read_csv(path, sep=sep, encoding=encoding, skipinitialspace=True, skiprows=skip, nrows=0).columns
        if longer := _longer_rows(path, encoding, sep, len(header), skip):
          raise _longer_rows_error(path, sep, header, longer, None) from None
      raise DataError(f"{path} could not be read as CSV: {e}") from None
    except EOFError as e:
      raise _cut_short(path, e) from None
  else:
    raise DataError(f"{path} is not {' or '.join(e.upper() for e in encodings)} text ({error}); "
                    "save it as UTF-8 CSV.")
  _check_space_delimited(path, df)
  repeated = _repeated_names(path, sep, encoding, skip)
  trailing = [c for c in df.columns if str(c).startswith("Unnamed: ") and df[c].isna().all()]
  df = df.drop(columns=trailing)
  # Rows of delimiters alone (",,,", as spreadsheets save the empty rows below a table) are blank
  # lines, which read_csv already skips.
  df = df.dropna(how="all").reset_index(drop=True)
  df, units = _read_local_numbers(_strip_spaces(_booleans_as_numbers(df)), sep)
  return df, sep, repeated, units


def _booleans_as_numbers(df):
  """Columns of TRUE / FALSE with empty cells as 1 / 0 and NaN (missing values), as such a column
  without empty cells is read (a bool column, scored as 1 / 0): read_csv gives them as objects, bools
  and NaN, which are neither numbers nor text."""
  for c in df.columns:
    values = df[c].dropna()
    if df[c].dtype == object and len(values) and all(isinstance(v, (bool, np.bool_)) for v in values):
      df[c] = df[c].astype(np.float64)
  return df


def _repeated_names(path, sep, encoding, skip=0) -> dict:
  """{name: [column numbers from 1]} of the names the header gives more than one column. pandas
  renames a repeat ("amount" twice: "amount", "amount.1"), and `score` matches a new table's columns
  to the fitted ones by name."""
  import pandas as pd
  names = pd.read_csv(path, sep=sep, encoding=encoding, header=None, nrows=1, dtype=str, skiprows=skip,
                      skipinitialspace=True, keep_default_na=False).iloc[0].tolist()
  seen = {}
  for i, name in enumerate(names, 1):
    if name:  # the empty names of empty trailing columns, dropped below
      seen.setdefault(name, []).append(i)
  return {name: at for name, at in seen.items() if len(at) > 1}


def _strip_spaces(df):
  """Column names and text values without the spaces around them ("amount ,age", "yes , no"),
  which would make "label" a column name no one can type and "yes " a category apart from "yes"."""
  import pandas as pd
  names = [c.strip() if isinstance(c, str) else c for c in df.columns]
  if len(set(names)) == len(names):  # two names equal but for spaces stay apart
    df.columns = names
  for c in df.columns:
    if not pd.api.types.is_numeric_dtype(df[c]):
      df[c] = df[c].str.strip()
  return df


def _load_csv(path, label_column, drop_constant, schema, ignore_columns=(), fill_missing=False):
  import pandas as pd
  df, sep, repeated, units = _read_csv(path)
  if len(df) == 0:
    raise DataError(f"{path} has a header but no data rows.")
  if _looks_like_data(df.columns):
    raise DataError(f"{path}: the first row {[str(c) for c in df.columns[:5]]} holds data, not column names; "
                    "add a header row (one name per column) as the first line.")
  _refuse_repeated_header(df, path)
  _refuse_header_lines(df, path, sep)
  _refuse_note_lines(df, path)
  _refuse_mixed_decimals(df, path)
  if repeated:
    which = ", ".join(f"{name!r} (columns {', '.join(map(str, at))})" for name, at in list(repeated.items())[:5])
    raise DataError(f"{path}: column names repeat: {which}; give each column a name of its own.")
  unknown = [c for c in ignore_columns if c not in df.columns]
  if unknown:
    raise DataError(f"{path}: no columns {unknown} to ignore; columns are {list(df.columns)[:20]}.")
  df = df.drop(columns=list(ignore_columns))
  _check_one_delimiter(path, sep, df.columns)
  y = None
  if label_column is not None:
    if label_column not in df.columns:
      raise DataError(f"{path}: no label column {label_column!r}; columns are {list(df.columns)}.")
    y = _labels(df.pop(label_column).to_numpy(), path, label_column)
  if schema is not None:
    for c, value in schema.constant:  # not scored: a table may leave such a column out
      if c not in df.columns:
        df[c] = value
    missing_columns = [c for c in schema.columns if c not in df.columns]
    if missing_columns:
      # A column renamed in case, spacing or separators ("Mean_Radius" for "mean radius") is the likeliest cause.
      key = lambda c: " ".join(str(c).replace("_", " ").replace("-", " ").split()).lower()  # noqa: E731
      here = {key(c): c for c in df.columns if c not in schema.columns}
      renamed = [(c, here[key(c)]) for c in missing_columns if key(c) in here]
      hint = ("; this table has " + ", ".join(f"{now!r} for {c!r}" for c, now in renamed[:5])
              + ": rename them as fitted") if renamed else ""
      raise DataError(f"{path}: the model was fitted on columns this table lacks: {missing_columns[:10]}{hint}.")
    other = [(c, u, units[c]) for c, u in schema.units if c in units and units[c].lower() != u.lower()]
    if other:
      which = "; ".join(f"{str(c)!r} in {u} then, {now} here" for c, u, now in other[:5])
      raise DataError(f"{path}: columns written in other units than when the model was fitted: {which}. "
                      "Convert them to the fitted units: the model reads the numbers alone.")
    unknown = [str(c) for c in df.columns if c not in schema.columns and c not in schema.left_out]
    if unknown:
      warnings.warn(f"{path}: columns the model was not fitted on are not scored: {unknown[:5]}"
                    f"{' ...' if len(unknown) > 5 else ''}.", stacklevel=3)
    df = df[list(schema.columns)]
  if df.shape[1] == 0:
    raise DataError(f"{path}: no feature columns left after removing the label column.")
  columns = tuple(df.columns)
  fill = schema.fill if schema is not None else None
  if schema is None and fill_missing:
    df, fill = _fit_missing_fill(df, path)
  if fill is not None:
    df = _fill_missing(df, path, fill, fitted=schema is not None)
  else:
    _refuse_missing(df, path, fitted=schema is not None)
  if schema is not None:
    return _encode_like(df, path, schema), y, schema
  _refuse_summary_row(df, path)
  _refuse_mixed_units(df, path)
  # Text columns are categories, one-hot encoded, also where every column is one: a table of
  # categories alone is scored by how rare its rows' combinations are.
  categorical = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
  _refuse_row_keys(df, path, _row_number_columns(df),
                   [c for c in categorical if len(df) >= 10 and df[c].nunique() > 0.5 * len(df)])
  categories = {c: tuple(sorted(df[c].astype(str).unique())) for c in categorical}
  many = {str(c): len(v) for c, v in categories.items() if len(v) > MANY_CATEGORIES}
  if many:
    listed = ", ".join(f"{c!r} ({k:,})" for c, k in list(many.items())[:3])
    warnings.warn(f"{path}: text columns with many categories, each one-hot encoded as a column per category: "
                  f"{listed}. A fit takes longer with every column (a kNN distance's time grows with them), and "
                  f"a category seen in few rows makes them look anomalous by it alone; if that is not meant, "
                  f"group rare categories or leave the column out (--ignore-columns).", stacklevel=3)
  encoded = _one_hot(df, categories)
  x, features, constant = _check_matrix(encoded.to_numpy(np.float64), path, [str(c) for c in encoded.columns],
                                        drop_constant)
  left_out = tuple(ignore_columns) + ((label_column,) if label_column is not None else ())
  # One-hot codes of a text column with one value are left out: a new value there is warned of as unseen.
  numeric = {str(c) for c in columns if c not in categories}
  return x, y, TableSchema(columns, categories, tuple(features), left_out, fill,
                           tuple((c, v) for c, v in constant if c in numeric),
                           tuple((c, u) for c, u in units.items() if c in columns))


def _refuse_missing(df, path, fitted):
  """The error for missing values (or marks of them among numbers) where they are not filled."""
  how = ("the model was fitted without --fill-missing; impute or drop them first, or fit it again with "
         "--fill-missing" if fitted else
         "impute or drop them first, or pass --fill-missing (fill_missing=True in Python): each column's "
         "median, or a text column's most frequent value")
  missing = df.isna()
  if missing.to_numpy().any():
    cols = [c for c in df.columns if missing[c].any()]
    rows = np.flatnonzero(missing.to_numpy().any(axis=1))
    raise DataError(
        f"{path}: missing values in {len(rows)} rows (first data rows: {(rows[:5] + 1).tolist()}) "
        f"and columns {cols[:10]}; {how}.")
  marked = _marked_missing(df)
  if marked:  # every such column in one error
    listed = "; ".join(f"{str(c)!r}: {', '.join(map(repr, marks))} in {len(rows)} row{'s' * (len(rows) > 1)} "
                       f"(first data rows: {(rows[:5] + 1).tolist()})" for c, marks, rows in marked)
    columns = ",".join(str(c) for c, _, _ in marked)
    if all(_is_spreadsheet_error(m) for _, marks, _ in marked for m in marks):
      raise DataError(f"{path}: columns of numbers hold a spreadsheet's error values, where a formula failed: "
                      f"{listed}. Mend them in the sheet, or {how}.")
    raise DataError(f"{path}: columns of numbers hold other values, marks for missing values? {listed}. Leave "
                    f"the columns out (--ignore-columns {columns!r}), or {how}.")


def _refuse_infinite(df, path):
  """The error for infinite values among numbers, where missing values are filled: they are not missing
  (a median cannot replace them), and the imputer would fail on them without saying where."""
  import pandas as pd
  numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
  infinite = np.isinf(df[numeric].to_numpy(np.float64))
  if infinite.any():
    where = ", ".join(f"row {r + 1} column {str(numeric[c])!r}" for r, c in np.argwhere(infinite)[:3])
    raise DataError(f"{path}: infinite values (data rows counted from 1) at {where}; filling missing values "
                    "(--fill-missing) does not fill these: replace or drop them first.")


def _fit_missing_fill(df, path):
  """(`df` with its marked columns as numbers, the `MissingFill` fitted on it)."""
  import pandas as pd
  from sklearn.impute import SimpleImputer
  marked = tuple(c for c, _, _ in _marked_missing(df))
  df = _as_numbers(df, marked)
  _refuse_infinite(df, path)
  empty = [c for c in df.columns if df[c].isna().all()]
  if empty:
    raise DataError(f"{path}: columns {empty[:10]} hold no values; leave them out: --ignore-columns "
                    f"{','.join(map(str, empty[:10]))!r} (ignore_columns= in Python).")
  numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
  text = [c for c in df.columns if c not in numeric]
  fit = lambda strategy, columns: (SimpleImputer(strategy=strategy).fit(_named(df[columns])) if columns else None)
  return df, MissingFill(fit("median", numeric), fit("most_frequent", text), marked)


def _named(frame):
  """A frame as scikit-learn's imputers take it: string column names, text as objects with NaN for
  missing (pandas' string columns hold their own missing value)."""
  import pandas as pd
  frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
  text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
  return frame.astype({c: object for c in text}).where(frame.notna(), np.nan) if text else frame


def _as_numbers(df, columns):
  """`columns` of numbers with marks of missing values, as numbers (the marks as NaN); those already
  numeric (converted at the fit, or without marks in a table scored later) stay as they are."""
  import pandas as pd
  columns = [c for c in columns if not pd.api.types.is_numeric_dtype(df[c])]
  if not columns:
    return df
  df = df.copy()
  for c in columns:
    df[c] = pd.to_numeric(df[c].astype(str).str.strip(), errors="coerce")
  return df


def _fill_missing(df, path, fill: MissingFill, fitted: bool):
  """`df` with its missing values filled by `fill`, and a warning saying how many, where."""
  import pandas as pd
  # Marks of missing values among numbers (a spreadsheet's #DIV/0!) also in a numeric column that held
  # none in the fitted table.
  numeric = set(fill.numeric.feature_names_in_) if fill.numeric is not None else set()
  marked = set(fill.marked) | {c for c, _, _ in _marked_missing(df) if str(c) in numeric}
  df = _as_numbers(df, [c for c in df.columns if c in marked])
  _refuse_infinite(df, path)
  missing = {c: int(k) for c, k in df.isna().sum().items() if k}
  if not missing:
    return df
  for imputer in (fill.numeric, fill.text):
    if imputer is None:
      continue
    fitted_on = set(imputer.feature_names_in_)
    columns = [c for c in df.columns if str(c) in fitted_on]
    if fitted and imputer is fill.numeric:
      not_numbers = [c for c in columns if not pd.api.types.is_numeric_dtype(df[c])]
      if not_numbers:
        raise DataError(f"{path}: columns {not_numbers[:10]} hold text, but they were numeric when the model "
                        "was fitted.")
    filled = imputer.transform(_named(df[columns]))
    for j, c in enumerate(columns):  # only where values were missing: the others keep their type
      if c in missing:
        df[c] = filled[:, j]
  listed = ", ".join(f"{str(c)!r} ({k})" for c, k in list(missing.items())[:5])
  total = sum(missing.values())
  source = " over the fitted rows" if fitted else ""
  warnings.warn(f"{path}: {total} missing value{'s' * (total > 1)} filled with each column's median{source} (a text "
                f"column's most frequent value): {listed}{' ...' if len(missing) > 5 else ''}.", stacklevel=4)
  return df


# A text column of more categories than this gets a warning: each becomes a column.
MANY_CATEGORIES = 100


# What tables write for a missing number beyond what pandas reads as missing ("", "NA", "null", ...):
# punctuation alone ("?", "-", ".") or one of these words.
_MISSING_WORDS = {"missing", "unknown", "none", "n.a.", "nil", "empty", "blank"}


# The error values a spreadsheet writes where a formula failed (Excel, LibreOffice, Google Sheets;
# "#N/A" pandas reads as missing already), and LibreOffice's "Err:502".
_SPREADSHEET_ERRORS = {"#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                       "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#ERROR!"}


def _is_spreadsheet_error(text: str) -> bool:
  return text.upper() in _SPREADSHEET_ERRORS or re.fullmatch(r"Err:\d{3}", text) is not None


def _is_missing_mark(text: str) -> bool:
  return ((bool(text) and not any(ch.isalnum() for ch in text)) or text.lower() in _MISSING_WORDS
          or _is_spreadsheet_error(text))


def _marked_missing(df):
  """[(column, marks, rows)] of the text columns that hold numbers in most rows and, in the others,
  at most three marks of missing values ("?", "-", "unknown"): read as text they would be one-hot
  categories, and a numeric column of few values would lose its order without a word. Other words
  among numbers ("ground" among floor numbers) stay categories."""
  import pandas as pd
  found = []
  for c in df.columns:
    if pd.api.types.is_numeric_dtype(df[c]):
      continue
    present = df[c].notna().to_numpy()  # empty cells, where missing values are filled
    text = df[c].astype(object).where(present, "").astype(str).str.strip()
    numeric = pd.to_numeric(text, errors="coerce").notna().to_numpy()
    marks = sorted(set(text[present & ~numeric]))
    # Spreadsheet errors are marks beyond doubt, however many kinds; other marks at most three.
    others = [m for m in marks if not _is_spreadsheet_error(m)]
    if numeric[present].mean() > 0.5 and marks and len(others) <= 3 and all(map(_is_missing_mark, marks)):
      found.append((c, marks, np.flatnonzero(present & ~numeric)))
  return found


def _holds_dates(column) -> bool:
  """Whether every value of a text column reads as a date or a time."""
  import warnings
  import pandas as pd
  with warnings.catch_warnings():  # pandas warns when it infers the format value by value
    warnings.simplefilter("ignore", UserWarning)
    return bool(pd.to_datetime(column, errors="coerce", format="mixed").notna().all())


def _one_hot(df, categories):
  """Numeric columns as they are, then a 0/1 column `name_value` per text column and training value
  (pandas.get_dummies' names and order); values outside `categories` get all zeros."""
  import pandas as pd
  codes = {f"{c}_{v}": (df[c].astype(str) == v).to_numpy(np.float32)
           for c, values in categories.items() for v in values}
  return pd.concat([df.drop(columns=list(categories)), pd.DataFrame(codes, index=df.index)], axis=1)


def _encode_like(df, path, schema):
  import pandas as pd
  for c, values in schema.categories.items():
    unseen = sorted(set(df[c].astype(str)) - set(values))
    if unseen:
      warnings.warn(f"{path}: column {c!r} holds values the model never saw: {unseen[:5]}; they are "
                    "encoded as all-zero one-hot codes.", stacklevel=4)
  numeric = [c for c in schema.columns if c not in schema.categories]
  text = [c for c in numeric if not pd.api.types.is_numeric_dtype(df[c])]
  if text:
    raise DataError(f"{path}: columns {text[:10]} hold text, but they were numeric when the model was fitted.")
  encoded = _one_hot(df, schema.categories)
  encoded.columns = [str(c) for c in encoded.columns]
  _warn_constant_differs(encoded, path, schema)
  return _check_rows(encoded[list(schema.features)].to_numpy(np.float64), path, list(schema.features))


def _check_rows(arr, path, names=None):
  """Rows as float64, numeric, finite and within MAX_ABS_VALUE (one row and constant columns are fine).
  float64, as pandas reads them: the detector scales each column before anything computes in float32,
  and float32 before the scaling would round a column of large values with a small spread (epoch
  milliseconds, 1.7e12, to steps of 131 s)."""
  try:
    x = np.asarray(arr, np.float64)
  except (TypeError, ValueError):
    raise DataError(f"{path}: features must be numeric.") from None
  names = names or [f"x{i}" for i in range(x.shape[1])]

  def where(bad):
    return ", ".join(f"row {r + 1} column {names[c]!r}" for r, c in np.argwhere(bad)[:3])
  if not np.isfinite(x).all():
    raise DataError(f"{path}: NaN or infinite values (data rows counted from 1) at {where(~np.isfinite(x))}; "
                    "impute or drop them first.")
  too_large = np.abs(x) > MAX_ABS_VALUE
  if too_large.any():
    raise DataError(f"{path}: values too large to compute with (beyond {MAX_ABS_VALUE:g}) at "
                    f"{where(too_large)}; rescale the column (e.g. take its logarithm) first.")
  return x


def _warn_constant_differs(columns, path, schema):
  """A warning naming the columns that were constant when the model was fitted, and so are not
  scored, where rows scored now hold other values: what sets such a row apart is what the model
  cannot see. `columns`: the rows scored, by feature name (a DataFrame or {name: values})."""
  differ = []
  for name, value in schema.constant:
    if name in columns:
      column = np.asarray(columns[name], np.float64)
      rows = np.flatnonzero(~np.isclose(column, value, rtol=1e-12, atol=0.0) & ~np.isnan(column))
      if rows.size:
        differ.append(f"{name!r} ({value:g} when fitted; {rows.size} row{'s' if rows.size > 1 else ''} here, "
                      f"e.g. {column[rows[0]]:g} in row {rows[0] + 1})")
  if differ:
    warnings.warn(f"{path}: columns that were constant when the model was fitted, and so are not scored, "
                  f"hold other values here: {'; '.join(differ[:5])}. The scores cannot see these values: a row "
                  "set apart by them alone is not flagged.", stacklevel=4)


def _check_matrix(arr, path, names, drop_constant):
  """(rows, feature names kept, ((name, value) of each constant column dropped))."""
  x = _check_rows(arr, path, names)
  if x.shape[0] < 2:
    raise DataError(f"{path}: {x.shape[0]} row(s); anomaly detection needs at least 2 (in practice hundreds).")
  const = np.flatnonzero(x.max(axis=0) == x.min(axis=0))
  if const.size:
    if not drop_constant:
      raise DataError(
          f"{path}: constant columns carry no information: {[names[i] for i in const[:10]]}. "
          "Remove them, or pass drop_constant=True (--drop-constant on the command line).")
    dropped = tuple((names[i], float(x[0, i])) for i in const)
    keep = np.setdiff1d(np.arange(x.shape[1]), const)
    x, names = x[:, keep], [names[i] for i in keep]
    if x.shape[1] == 0:
      raise DataError(f"{path}: every column is constant.")
    return x, names, dropped
  return x, names, ()
