"""Data loading: the papers' tabular benchmark sets (`tabular`), a user's table file (`table_file`),
images (`images`), outlier-exposure sets (`outlier_exposure`) and the contamination split (`split`)."""


class DataError(ValueError):
  """Raised for missing or malformed data, with a message saying how to fix it."""


def read_numpy(path):
  """A user's .npy (an array) or .npz (a dict of its arrays), read without unpickling, its failures
  as DataError: NumPy's own words for a text file saved under the suffix speak of pickles and
  allow_pickle, which would run code from the file."""
  import zipfile

  import numpy as np
  try:
    loaded = np.load(path, allow_pickle=False)
    if isinstance(loaded, np.ndarray):
      return loaded
    with loaded:
      return {name: loaded[name] for name in loaded.files}
  except ValueError as e:
    if "Object arrays" in str(e):
      raise DataError(f"{path} holds object arrays, which are not read (loading them would run code from the "
                      "file); save numbers.") from None
    raise DataError(f"{path} {_not_numpy(path)}; write it with np.save or np.savez.") from None
  except (OSError, EOFError, zipfile.BadZipFile) as e:
    raise DataError(f"{path} is not a readable NumPy file ({e}).") from None


def _not_numpy(path) -> str:
  """What a file np.load refused is: text (a CSV under the suffix), or else not NumPy's or cut short."""
  with open(path, "rb") as f:
    head = f.read(512)
  try:
    text = head.decode("utf-8")
  except UnicodeDecodeError:
    text = ""
  if text and "\x00" not in text:
    return "is not a NumPy file: it holds text (a CSV? name it .csv)"
  return "is not a NumPy file, or is cut short"
