"""Data loading: tabular benchmark sets and user tables (`tabular`), the contamination split (`split`)."""
