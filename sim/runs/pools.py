"""Where seed runs go: this process, a local process pool, a warm pool kept by the app, or Dask.

Every backend has one small interface: use it as a context manager (it starts on entry and
stops its workers on exit; the fork server and resource tracker that multiprocessing starts
stay until this process exits), then

- ``map(fn, items, progress)``: the results in item order (``progress(done, total)`` as they arrive);
- ``imap_unordered(fn, items)``: (item index, result) as results arrive, with only a few tasks
  per worker in flight, so huge sweeps stay small in memory.

``fn`` must be a module-level function (it is pickled to the workers). Ensembles, sweeps, the
target search, ``bench`` and the app all run their seeds through one of these, with the same
function (:func:`sim.runs.runner.run`), so a seed gives the same numbers on every backend.

=====================  =========================================================================
:class:`InProcess`     one task after another in this process
:class:`LocalPool`     a ``multiprocessing`` pool of N processes for one ensemble or sweep
:class:`WarmPool`      processes started and warmed once, kept across calls (the app's per-server
                       pool); if it breaks, the tasks not done run here and the next call starts a
                       new pool
:class:`ExecutorPool`  a ``concurrent.futures`` executor kept by the caller (same fallback)
:class:`Dask`          a local Dask cluster of N worker processes, or a running Dask scheduler
=====================  =========================================================================

:func:`backend_for` picks one from the command-line options (workers, scheduler, local Dask size).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
import itertools
import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, ProcessPoolExecutor, wait
from typing import Any

from sim.inputs.levers import ScenarioError

Progress = Callable[[int, int], None]


class BackendError(ScenarioError):
    """A backend cannot start (e.g. no Dask scheduler at the address); the message says what to give."""


# --------------------------------------------------------------------------------------------
# How worker processes start


def pool_context(*preload: str) -> multiprocessing.context.BaseContext:
    """How worker processes start.

    fork is fastest (workers inherit the loaded model), and safe while the only other threads
    are the idle native ones of OpenBLAS and Arrow's allocator (fork-aware). From a process
    running Python threads (Streamlit's server, a Dask client, a progress bar), which may hold
    locks, or one whose compiled kernels have started numba's thread pool (GNU OpenMP does not
    survive a fork: a worker using it would stop), workers start from a clean fork server that
    has imported ``preload`` and the seed runner; on Windows they are spawned.
    """
    if sys.platform == "win32":
        return multiprocessing.get_context("spawn")
    if threading.active_count() == 1 and not parallel_runtime_started():
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*preload, "sim.runs.runner", "sim.runs.pools"])
    return context


def parallel_runtime_started() -> bool:
    """Whether this process has started numba's parallel thread pool (a kernel ran on every core)."""
    from numba.np.ufunc import parallel

    return bool(getattr(parallel, "_is_initialized", False))


@contextlib.contextmanager
def quiet_fork() -> Iterator[None]:
    """Silence Python's warning that forking a process with threads may deadlock: the only other
    threads where :func:`pool_context` forks are idle native ones."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*multi-threaded, use of fork\(\)", category=DeprecationWarning)
        yield


@contextlib.contextmanager
def without_main_script() -> Iterator[None]:
    """Start processes that do not re-run the parent's main script. A worker started from a fork
    server (or spawned) imports the parent's ``__main__`` file as ``__mp_main__`` before its first
    task; under ``streamlit run`` that is the app itself, so every worker drew the whole page in
    bare mode and started a pool of its own (9 processes and 2.2 GB for a pool of two). The seed
    runner needs nothing from the main script, so it is hidden while the workers start."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def _worker_start() -> None:
    """Every pool worker: ignore Ctrl-C (the pool's owner stops it) and end with the owner."""
    _ignore_sigint()
    _exit_with_parent()


def _exit_with_parent(poll_seconds: float = 1.0) -> None:
    """End this worker when its parent goes, even by SIGKILL (which no handler sees): a thread
    watches the parent process id, which changes when the parent dies. (A fork server's workers end
    when the fork server does, and it ends with the pool's owner.)"""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _warm_up() -> None:
    """Start as every pool worker does (:func:`_worker_start`), then run a tiny model as a task runs
    one - tidy rows with the app's extras - so the compiled kernels and the rows' code paths are
    loaded before the first real run."""
    _worker_start()
    from sim.core.calendar import BASE_YEAR
    from sim.inputs.scenario import baseline
    from sim.runs.runner import Job, run

    run(Job(baseline(), 0, 1e6, BASE_YEAR + 1, "vector", extras=True))


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


# --------------------------------------------------------------------------------------------
# The interface


class Backend(ABC):
    """Where tasks run; a context manager (see the module docstring). Subclasses implement
    ``imap_unordered`` and, if they hold processes, ``start`` and ``close``."""

    kind = "serial"

    def describe(self) -> str:
        """Where the tasks run, for messages."""
        return "this process"

    def slots(self) -> int:
        """Tasks that can run at once."""
        return 1

    def start(self) -> None:
        """Start the workers (entering the context does this)."""

    def close(self, error: bool = False) -> None:
        """Stop the workers (leaving the context does this); ``error``: stop at once."""

    def __enter__(self) -> Backend:
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(error=exc_type is not None)

    @abstractmethod
    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable,
                       window: int | None = None) -> Iterator[tuple[int, Any]]:
        """Run ``fn`` on each item; yield (item index, result) as results arrive."""

    def map(self, fn: Callable[[Any], Any], items: Iterable, progress: Progress | None = None) -> list:
        """``fn`` of each item, in item order; ``progress(done, total)`` after each result."""
        items = list(items)
        out: list = [None] * len(items)
        for done, (i, result) in enumerate(self.imap_unordered(fn, items), 1):
            out[i] = result
            if progress:
                progress(done, len(items))
        return out


class InProcess(Backend):
    """One task after another in this process."""

    def imap_unordered(self, fn, items, window=None):
        for i, item in enumerate(items):
            yield i, fn(item)


class LocalPool(Backend):
    """A pool of ``workers`` local processes (started as :func:`pool_context` says), for one
    ensemble or sweep; workers ignore Ctrl-C, which stops the pool from this process."""

    kind = "pool"

    def __init__(self, workers: int, preload: Sequence[str] = ()):
        self.workers = workers
        self.preload = tuple(preload)
        self._pool = None

    def describe(self) -> str:
        return f"a local pool of {self.workers} processes"

    def slots(self) -> int:
        return self.workers

    def start(self) -> None:
        with quiet_fork():
            self._pool = pool_context(*self.preload).Pool(self.workers, initializer=_worker_start)

    def close(self, error: bool = False) -> None:
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        if error:
            pool.terminate()
        else:
            pool.close()
        pool.join()
        del pool

    def imap_unordered(self, fn, items, window=None):
        window = window or 2 * self.slots()
        done: queue.Queue = queue.Queue()
        it = enumerate(items)
        in_flight = 0

        def submit() -> bool:
            nonlocal in_flight
            try:
                i, item = next(it)
            except StopIteration:
                return False
            self._pool.apply_async(fn, (item,), callback=lambda r, i=i: done.put((i, r, None)),
                                   error_callback=lambda e, i=i: done.put((i, None, e)))
            in_flight += 1
            return True

        while in_flight < window and submit():
            pass
        while in_flight:
            i, result, error = done.get()
            in_flight -= 1
            if error is not None:
                raise error
            yield i, result
            while in_flight < window and submit():
                pass


class ExecutorPool(Backend):
    """A ``concurrent.futures`` executor kept by the caller. If it breaks (a worker died), the
    tasks not done run in this process."""

    kind = "executor"

    def __init__(self, executor: Executor | None = None, workers: int | None = None):
        self._executor = executor
        self.workers = workers or os.cpu_count() or 1

    def describe(self) -> str:
        return f"a pool of {self.workers} worker processes"

    def slots(self) -> int:
        return self.workers

    def _current(self) -> Executor:
        return self._executor

    def _found_broken(self, executor: Executor) -> None:
        """Called once the executor is found broken."""

    def imap_unordered(self, fn, items, window=None):
        window = window or 2 * self.slots()
        it = enumerate(items)
        pending: dict = {}  # future -> (index, item)
        job = None  # taken from ``it``, not yet submitted
        executor = None
        try:
            executor = self._current()
            for job in itertools.islice(it, window):
                pending[executor.submit(fn, job[1])] = job
                job = None
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    result = future.result()  # raises the task's error here
                    i, _ = pending.pop(future)
                    yield i, result
                    job = next(it, None)
                    if job is not None:
                        pending[executor.submit(fn, job[1])] = job
                        job = None
        except BrokenExecutor:
            if executor is not None:
                self._found_broken(executor)
            for future in pending:
                future.cancel()
            left = [*pending.values(), *([job] if job is not None else []), *it]
            for i, item in sorted(left, key=lambda j: j[0]):
                yield i, fn(item)


class WarmPool(ExecutorPool):
    """``workers`` processes that have started, imported the model and loaded its compiled kernels,
    so the first ensemble on them runs at full speed; kept across calls (the app keeps one per
    server; ``bench`` times one) and safe to share between threads. If the pool breaks, the
    tasks not done run in this process and the next call starts a new pool."""

    kind = "warm-pool"

    def __init__(self, workers: int):
        super().__init__(None, workers)
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"a warm pool of {self.workers} processes"

    def start(self) -> None:
        self._current()

    def _current(self) -> Executor:
        """The pool, started (again, after it broke) if need be."""
        with self._lock:
            if self._executor is None:
                self._executor = self._new_pool()
            return self._executor

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=pool_context(), initializer=_warm_up)
        started: set[int] = set()
        try:
            with quiet_fork(), without_main_script():
                for _ in range(20):  # a task returns only once its worker has warmed up; until every worker has
                    started |= {f.result() for f in [pool.submit(_pid_after, 0.05) for _ in range(self.workers)]}
                    if len(started) >= self.workers:
                        break
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        return pool

    def _found_broken(self, executor: Executor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)

    def close(self, error: bool = False) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=not error, cancel_futures=error)
            del executor
    def shutdown(self) -> None:
        """Stop the workers (as ``concurrent.futures`` executors do)."""
        self.close()


def warm_pool(workers: int) -> WarmPool:
    """A started :class:`WarmPool` of ``workers`` processes (stop it with ``shutdown()``)."""
    pool = WarmPool(workers)
    pool.start()
    return pool


def _descendants() -> set:
    """This process's child processes, recursively (psutil comes with Dask's distributed)."""
    import psutil

    return set(psutil.Process().children(recursive=True))


def _end_processes(processes: set, timeout: float = 5.0) -> None:
    """Terminate the processes still running, then kill those that do not stop within ``timeout``."""
    import psutil

    alive = [p for p in processes if p.is_running()]
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.terminate()
    _, stubborn = psutil.wait_procs(alive, timeout=timeout)
    for p in stubborn:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()


class Dask(Backend):
    """A Dask cluster: a running scheduler at ``address``, or (``local``) a local cluster of that
    many single-threaded worker processes, started on entry and shut down on exit."""

    def __init__(self, address: str | None = None, local: int | None = None):
        if bool(address) == bool(local):
            raise ValueError("give either a Dask scheduler address or a local Dask cluster size, not both")
        self.address = address
        self.local = local
        self._client = None
        self._stack: contextlib.ExitStack | None = None

    @property
    def kind(self) -> str:
        return "dask" if self.address else "dask-local"

    def describe(self) -> str:
        if self.address:
            return f"the Dask scheduler at {self.address}"
        return f"a local Dask cluster of {self.local} worker processes"

    def start(self) -> None:
        from dask.distributed import Client, LocalCluster

        with contextlib.ExitStack() as stack:
            if self.local:
                # Closing the cluster can leave its spawned worker processes orphaned when the machine is
                # busy: whatever it started is ended after it has closed (a callback registered before the
                # cluster runs after it).
                started: set = set()
                stack.callback(lambda: _end_processes(started))
                before = _descendants()
                cluster = stack.enter_context(LocalCluster(
                    n_workers=self.local, threads_per_worker=1, processes=True, dashboard_address=None,
                    silence_logs=logging.ERROR))
                started |= _descendants() - before
                self._client = stack.enter_context(Client(cluster))
            else:
                try:
                    self._client = stack.enter_context(Client(self.address, timeout="15s"))
                except (OSError, TimeoutError) as err:
                    raise BackendError(f"--scheduler {self.address}: cannot connect to a Dask scheduler "
                                       f"({err}); give an address like tcp://host:8786") from None
            self._stack = stack.pop_all()  # started: closed by close(), else here

    def close(self, error: bool = False) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            stack.close()  # the client, the local cluster, then any of its processes still running

    def slots(self) -> int:
        return max(1, sum(self._client.nthreads().values())) if self._client is not None else 1

    def imap_unordered(self, fn, items, window=None):
        from dask.distributed import as_completed

        window = window or 2 * self.slots()
        it = enumerate(items)
        index = {}
        ac = as_completed()
        for i, item in itertools.islice(it, window):
            fut = self._client.submit(fn, item, pure=False)
            index[fut.key] = i
            ac.add(fut)
        for fut in ac:
            i = index.pop(fut.key)
            result = fut.result()  # raises the task's error here
            fut.release()
            yield i, result
            nxt = next(it, None)
            if nxt is not None:
                new = self._client.submit(fn, nxt[1], pure=False)
                index[new.key] = nxt[0]
                ac.add(new)


def backend_for(workers: int | None = None, scheduler: str | None = None, dask_local: int | None = None,
                preload: Sequence[str] = ()) -> Backend:
    """The backend the options ask for (not started): a Dask scheduler address, a local Dask
    cluster of ``dask_local`` workers, or ``workers`` local processes (default: one per CPU; 1:
    this process). ``preload``: modules a fork server imports for the pool's workers."""
    if scheduler and dask_local:
        raise ValueError("give either a Dask scheduler address or a local Dask cluster size, not both")
    if scheduler or dask_local:
        return Dask(scheduler, dask_local)
    workers = workers or os.cpu_count() or 1
    return LocalPool(workers, preload) if workers > 1 else InProcess()


def as_backend(runner: Backend | Executor | None) -> Backend:
    """A backend for what a caller holds: itself, an executor it keeps, or this process (None)."""
    if runner is None:
        return InProcess()
    if isinstance(runner, Backend):
        return runner
    return ExecutorPool(runner)
