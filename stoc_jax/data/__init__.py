"""Data loading: the papers' tabular benchmark sets (`tabular`), a user's table file (`table_file`),
images (`images`), outlier-exposure sets (`outlier_exposure`) and the contamination split (`split`)."""


class DataError(ValueError):
  """Raised for missing or malformed data, with a message saying how to fix it."""
