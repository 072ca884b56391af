"""Shared settings of the image STOC experiments (Sohn et al. 2021 A.1; STOC §4.2), paper scale.

Experiment files import this and set what differs. The fields and their
defaults are in stoc_jax/configs.py.
"""

from stoc_jax.configs import image_defaults


def get_config():
  return image_defaults()
