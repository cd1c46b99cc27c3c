"""sim/__init__.py: compiled kernels are cached per version of the model code they are built from, and
numpy keeps large arrays out of huge pages unless the user says otherwise."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import sim
from sim.engines import passes
from sim.submodels.innovation import clocks

ROOT = Path(__file__).resolve().parents[1]


def _copy_package(tmp_path: Path) -> Path:
    root = tmp_path / "sim"
    shutil.copytree(ROOT / "sim", root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_the_digest_follows_the_rules_and_kernels_not_the_interface(tmp_path):
    root = _copy_package(tmp_path)
    before = sim.compiled_code_digest(root)
    assert before == sim.compiled_code_digest(ROOT / "sim")
    (root / "ui" / "text.py").write_text((root / "ui" / "text.py").read_text() + "\n# a new label\n")
    assert sim.compiled_code_digest(root) == before  # the app's text compiles nothing
    rules = root / "core" / "rules.py"
    rules.write_text(rules.read_text().replace("LOG_100 = math.log(100.0)", "LOG_100 = math.log(101.0)"))
    assert sim.compiled_code_digest(root) != before  # a rule the kernels call changed


def test_kernels_are_cached_in_the_folder_of_this_code():
    folder = Path(os.environ["NUMBA_CACHE_DIR"])
    assert folder.name == sim.compiled_code_digest()
    for kernel in (passes.behave.serial, passes.behave.parallel, clocks.fire_clock):
        assert Path(kernel._cache._cache_path).is_relative_to(folder), kernel


def test_a_changed_rule_gets_a_fresh_cache_and_the_oldest_go(tmp_path):
    root = _copy_package(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "SIM_NUMBA_CACHE_BASE")}
    env["PYTHONPATH"] = str(tmp_path)
    rules = root / "core" / "rules.py"
    folders = []
    for version in range(sim.KEEP_CACHES + 2):
        rules.write_text(rules.read_text() + "\n")
        shown = subprocess.run([sys.executable, "-c", "import os, sim; print(os.environ['NUMBA_CACHE_DIR'])"],
                               env=env, cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
        folders.append(Path(shown))
        time.sleep(0.05)  # (folders are ranked by when they were last used)
    assert len(set(folders)) == len(folders)  # each version of the rules its own folder
    assert all(f.is_relative_to(root / "__pycache__" / "numba") for f in folders)
    assert not folders[0].exists() and all(f.is_dir() for f in folders[1:])  # the current and KEEP_CACHES before


def _huge_pages(env_value: str | None, import_numpy_first: bool) -> str:
    """numpy's huge-page switch in a fresh process after ``import sim``, and the variable its children see."""
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if env_value is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = env_value
    code = ("import numpy, sim; " if import_numpy_first else "import sim, numpy; ") + \
        "import os; print(numpy._core.multiarray._get_madvise_hugepage(), os.environ['NUMPY_MADVISE_HUGEPAGE'])"
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_large_arrays_stay_out_of_huge_pages_unless_the_user_asks():
    assert _huge_pages(None, import_numpy_first=False) == "False 0"  # numpy reads the variable sim set
    assert _huge_pages(None, import_numpy_first=True) == "False 0"  # numpy imported first: switched at run time
    assert _huge_pages("1", import_numpy_first=False) == "True 1"  # the user's setting stands
    assert _huge_pages("1", import_numpy_first=True) == "True 1"
