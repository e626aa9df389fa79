"""Where Saturn keeps its state.

Environment:
- ``SATURN_DB``: full path of the SQLite store (wins over everything else).
- ``SATURN_ROOT``: the Jupyter notebook root; the store is ``$SATURN_ROOT/.saturn/saturn.db``.
- neither: the nearest ``.saturn/saturn.db`` in the current directory or one of its parents, else
  ``./.saturn/saturn.db`` (a kernel started in a sub-folder of the notebook root still finds the root's store).
"""
from __future__ import annotations

import os
from pathlib import Path

STORE_DIR = ".saturn"
STORE_FILE = "saturn.db"


def store_path() -> Path:
    explicit = os.environ.get("SATURN_DB")
    if explicit:
        return Path(explicit).expanduser()
    root = os.environ.get("SATURN_ROOT")
    if root:
        return Path(root).expanduser() / STORE_DIR / STORE_FILE
    cwd = Path.cwd()
    for folder in (cwd, *cwd.parents):
        candidate = folder / STORE_DIR / STORE_FILE
        if candidate.exists():
            return candidate
    return cwd / STORE_DIR / STORE_FILE


def saturn_dir(store) -> Path:
    """The ``.saturn/`` folder of a store (its checkpoints, logs, weights and TensorBoard files live there)."""
    return Path(store.path).parent
