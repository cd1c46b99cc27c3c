"""What every session of the app's server shares: the seed runs and the worker pool.

Process-wide (one per server), created on first use by whichever thread asks first - a
session's page, or the warm-up of :mod:`sim.ui.serve` at server start - and shut down with
the server (the pool's processes end when its interpreter exits). :mod:`sim.ui.serve` also
computes the page a new visitor gets first while the server starts (:func:`prefetch`).
"""

from __future__ import annotations

import os
import threading

from sim.runs.pools import WarmPool, warm_pool
from sim.runs.runner import run
from sim.ui import runner
from sim.ui import scenario as sc
from sim.ui.runner import Key, SeedCache
from sim.ui.scheduler import FairScheduler

_lock = threading.Lock()
_cache: SeedCache | None = None
_pool: WarmPool | None = None
_pool_started = False
_scheduler: FairScheduler | None = None
_prefetched = threading.Event()  # set while no prefetch is under way
_prefetched.set()


def app_workers() -> int:
    """Worker processes for the seeds: ``SIM_APP_WORKERS``, default the CPU count (1: none, the seeds
    run in the page's process)."""
    return int(os.environ.get("SIM_APP_WORKERS") or os.cpu_count() or 1)


def seed_cache() -> SeedCache:
    """Seed runs shared by every session of this server."""
    global _cache
    with _lock:
        if _cache is None:
            _cache = SeedCache()
        return _cache


def worker_pool() -> WarmPool | None:
    """The server's warm worker pool, started (and warmed) by the first caller; the others wait for
    it. None when ``app_workers()`` is 1."""
    global _pool, _pool_started
    with _lock:
        if not _pool_started:
            workers = app_workers()
            _pool = warm_pool(workers) if workers > 1 else None
            _pool_started = True
        return _pool


def scheduler() -> FairScheduler | None:
    """The sessions' fair, cancellable access to the pool (:mod:`sim.ui.scheduler`); None without a pool."""
    global _scheduler
    pool = worker_pool()
    with _lock:
        if pool is not None and (_scheduler is None or _scheduler.pool is not pool):
            _scheduler = FairScheduler(pool, run)
        return _scheduler if pool is not None else None


def first_page_keys() -> list[Key]:
    """The seed runs of the page a new visitor gets: the first preset of the preset folder as it is,
    at the default seeds, scale and horizon, the posterior's draws (``app.py``'s sidebar untouched)."""
    presets, _ = sc.load_presets(sc.scenario_dir())
    if not presets:
        return []
    first = next(iter(presets.values()))
    return runner.seed_keys(sc.run_key(first), range(sc.default_seeds()), sc.default_scale(), sc.TARGET_YEAR)


def prefetch(keys: list[Key]) -> threading.Thread:
    """Compute ``keys`` into the shared seed runs in a thread of its own (on the pool, as a session of
    its own); a page waits for it (:func:`wait_for_prefetch`) rather than ask for the same runs again."""
    _prefetched.clear()

    def work() -> None:
        try:
            cache = seed_cache()
            todo = [k for k in keys if k not in cache]
            if todo:
                runner.compute(cache, todo, sc.from_key, scheduler=scheduler())
        except Exception:  # noqa: BLE001 - a warm-up: the page computes what is missing and reports its own errors
            pass
        finally:
            _prefetched.set()

    thread = threading.Thread(target=work, name="sim-prefetch", daemon=True)
    thread.start()
    return thread


def wait_for_prefetch(timeout: float = 60.0) -> None:
    """Until a prefetch under way has finished (at most ``timeout`` seconds)."""
    _prefetched.wait(timeout)


def reset() -> None:
    """Forget the seed runs and shut the pool down (tests start from a fresh server's state)."""
    global _cache, _pool, _pool_started, _scheduler
    with _lock:
        pool, _cache, _pool, _pool_started, _scheduler = _pool, None, None, False, None
    if pool is not None:
        pool.shutdown()
