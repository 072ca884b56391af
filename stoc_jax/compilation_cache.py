"""The persistent cache of compiled programs that `stoc-jax` and `experiments/run.py` use.

Each new process compiles its programs again: on 2 CPU cores `stoc-jax detect --images` on 60
images of 16 x 16 took 79 s, and 70 s with the programs of an earlier run loaded (21.6 s and
11.7 s with `--train-steps 20`: the ResNet-18's train step and its weights' initialisers); the
digits experiment, 47 s and 40 s. JAX can keep compiled programs on disk and load them in the next
process with the same program, JAX version, device kind and XLA flags; it leaves that off by
default. The two commands turn it on, in `$XDG_CACHE_HOME/stoc_jax/jax` (`~/.cache/stoc_jax/jax`),
unless JAX's own settings say otherwise: `JAX_COMPILATION_CACHE_DIR` moves it (a gs:// bucket
shares it over a pod's hosts, since JAX writes from process 0 alone), and
`JAX_ENABLE_COMPILATION_CACHE=false` turns it off. Importing the library changes no setting of JAX's.
"""

from __future__ import annotations

import os


def default_dir() -> str:
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(base, "stoc_jax", "jax")


def use_persistent_cache(default_folder: str | None = None) -> str | None:
  """Turns on JAX's persistent compilation cache (before anything is compiled), for programs of any
  compile time unless JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS says otherwise, and returns its
  folder: the one already configured (JAX_COMPILATION_CACHE_DIR, a local folder or a gs:// URL), or
  else `default_folder` (`default_dir()` when None); None where JAX_ENABLE_COMPILATION_CACHE=false,
  or where the default folder cannot be made (a read-only home)."""
  import jax
  if not jax.config.jax_enable_compilation_cache:
    return None
  folder = jax.config.jax_compilation_cache_dir
  if not folder:
    folder = default_folder or default_dir()
    try:
      os.makedirs(folder, exist_ok=True)
    except OSError:  # JAX would warn at every program it could not read or write there
      return None
    jax.config.update("jax_compilation_cache_dir", folder)
  if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
    # JAX keeps only programs that took over 1 s to compile; an image fit's weights come from about
    # a hundred eager initialisers of under 0.1 s each, 8 s together on 2 CPU cores.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
  return folder
