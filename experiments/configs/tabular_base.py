"""Shared settings of the tabular STOC experiments (STOC A.3, Table 1).

Not an experiment itself: thyroid_stoc.py, arrhythmia_stoc.py, kdd_stoc.py,
kddrev_stoc.py and breast_cancer_stoc.py import it and set what differs. The
fields and their defaults are in stoc_jax/configs.py.
"""

from stoc_jax.configs import tabular_defaults


def get_config():
  return tabular_defaults()
