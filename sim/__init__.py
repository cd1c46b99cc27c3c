"""Zhejiang market-supervision scenario simulator (Mesa agent-based model).

Importing the package points numba's cache of compiled kernels at a folder named after the model
code (:func:`compiled_code_digest`): numba checks only the file of a cached function for changes, not
the rules it calls from other files, so a changed rule would otherwise run stale compiled code.
It also keeps numpy's large arrays in the kernel's ordinary pages (:func:`_use_small_pages`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

__version__ = "0.1.0"

# The code numba compiles, and everything it calls: the rules, the engines' passes, the submodels'
# clocks and the parameter tuples they read.
COMPILED_CODE = ("core", "engines", "submodels", "inputs/parameters")
_DEFAULT_BASE = Path(__file__).parent / "__pycache__" / "numba"
KEEP_CACHES = 3  # folders of earlier code kept beside the current one's (switching versions does not recompile)


def compiled_code_digest(root: Path | None = None) -> str:
    """A short hash of the model code under ``root`` (this package by default) that compiled kernels
    are built from; it changes when any of it does."""
    root = Path(root or Path(__file__).parent)
    digest = hashlib.sha256()
    for folder in COMPILED_CODE:
        for path in sorted((root / folder).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _point_numba_cache() -> None:
    """Set ``NUMBA_CACHE_DIR`` to a folder of this code's digest (under the user's own setting, if any,
    else under the package's ``__pycache__``), keeping beside it the folders of the last few versions used."""
    base = Path(os.environ.get("SIM_NUMBA_CACHE_BASE") or os.environ.get("NUMBA_CACHE_DIR") or _DEFAULT_BASE)
    os.environ["SIM_NUMBA_CACHE_BASE"] = str(base)  # (worker processes inherit both)
    target = base / compiled_code_digest()
    try:
        target.mkdir(parents=True, exist_ok=True)
        os.utime(target)  # (in use: the folders of the code used longest ago go first)
    except OSError:  # a read-only install: numba falls back to its own locations
        return
    os.environ["NUMBA_CACHE_DIR"] = str(target)
    if "numba" in sys.modules:  # imported before this package: its configuration is already read
        sys.modules["numba"].config.CACHE_DIR = str(target)
    if base == _DEFAULT_BASE:  # (never in a folder of the user's)
        try:
            folders = sorted((d for d in base.iterdir() if d.is_dir() and len(d.name) == 16),
                             key=lambda d: d.stat().st_mtime, reverse=True)
        except OSError:  # (another process removing one)
            return
        for old in folders[KEEP_CACHES + 1:]:
            shutil.rmtree(old, ignore_errors=True)


def _use_small_pages() -> None:
    """Ask numpy not to put large arrays in transparent huge pages (``NUMPY_MADVISE_HUGEPAGE=0``),
    unless the variable is already set. On the virtual machines measured (benchmarks/RESULTS.md),
    first touching a fresh huge page costs far more than the 512 small pages it replaces: the
    whole-province run spent 4.6-5.6 s in the kernel with huge pages and 1.9-2.1 s without, 2-6 s of
    wall time, with the same numbers (memory placement changes no result). The variable is read when numpy
    is imported, and by the processes this one starts; numpy imported before this package is switched
    at run time."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:  # the user's choice
        return
    os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        try:
            numpy._core.multiarray._set_madvise_hugepage(False)
        except AttributeError:  # (a numpy without the switch: nothing to do)
            pass


_point_numba_cache()
_use_small_pages()
