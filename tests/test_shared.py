"""sim/ui/shared.py: the server's shared runs, and the first visitor's page computed at server start."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sim.ui import runner, shared

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh_server(monkeypatch: pytest.MonkeyPatch):
    """A server's state with nothing computed yet, seeds in this process, small default settings."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("SIM_SCENARIO_DIR", raising=False)
    monkeypatch.setenv("SIM_APP_WORKERS", "1")
    monkeypatch.setenv("SIM_APP_SEEDS", "2")
    monkeypatch.setenv("SIM_APP_SCALE", "100000")
    shared.reset()
    yield
    shared.reset()


def _computes(monkeypatch: pytest.MonkeyPatch, delay: float = 0.0) -> list[int]:
    """Count the calls of ``runner.compute`` (each after ``delay`` seconds) and the runs they ask for."""
    calls: list[int] = []
    real = runner.compute

    def counted(cache, keys, *args, **kwargs):
        calls.append(len(keys))
        time.sleep(delay)
        return real(cache, keys, *args, **kwargs)

    monkeypatch.setattr(runner, "compute", counted)
    return calls


def _page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_prefetched_runs_are_the_first_page_s(fresh_server, monkeypatch):
    keys = shared.first_page_keys()
    assert [k[4] for k in keys] == [0, 1] and {k[1] for k in keys} == {100000.0}
    shared.prefetch(keys).join(timeout=120)
    assert all(k in shared.seed_cache() for k in keys)
    calls = _computes(monkeypatch)
    at = _page()
    assert calls == []  # the page found every run it needed: the keys are the page's own
    assert at.dataframe  # and drew its scorecard from them


def test_a_page_opened_during_the_prefetch_waits_for_it_instead_of_computing_again(fresh_server, monkeypatch):
    calls = _computes(monkeypatch, delay=1.0)
    thread = shared.prefetch(shared.first_page_keys())
    started = threading.Event()
    threading.Timer(0.1, started.set).start()
    started.wait()
    _page()
    thread.join(timeout=120)
    assert calls == [2]  # the prefetch's two runs; the page asked for none


def test_no_presets_no_prefetch(fresh_server, monkeypatch, tmp_path):
    monkeypatch.setenv("SIM_SCENARIO_DIR", str(tmp_path))
    assert shared.first_page_keys() == []
    calls = _computes(monkeypatch)
    shared.prefetch([]).join(timeout=10)
    assert calls == []
