"""What every session of the app's server shares: the seed runs and the worker pool.

Process-wide (one per server), created on first use by whichever thread asks first - a
session's page, or the warm-up of :mod:`sim.ui.serve` at server start - and shut down with
the server (the pool's processes end when its interpreter exits).
"""

from __future__ import annotations

import os
import threading

from sim.runs.pools import WarmPool, warm_pool
from sim.runs.runner import run
from sim.ui.runner import SeedCache
from sim.ui.scheduler import FairScheduler

_lock = threading.Lock()
_cache: SeedCache | None = None
_pool: WarmPool | None = None
_pool_started = False
_scheduler: FairScheduler | None = None


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


def reset() -> None:
    """Forget the seed runs and shut the pool down (tests start from a fresh server's state)."""
    global _cache, _pool, _pool_started, _scheduler
    with _lock:
        pool, _cache, _pool, _pool_started, _scheduler = _pool, None, None, False, None
    if pool is not None:
        pool.shutdown()
