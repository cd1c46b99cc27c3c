"""Fair, cancellable seed runs for the app's sessions on the server's one worker pool.

Every session's request is a *ticket*: its seed runs wait in the session's own queue, and a
dispatcher keeps the pool's workers busy by taking one run at a time from each session in turn
(round robin), so one session's long ensemble never makes another's first seeds wait behind
it. A session's new request replaces what it still had queued (the runs already on a worker
finish and their results are kept in the seed cache), and a session that stops waiting - it
reran, or its page was closed - cancels what it had queued. Seeds never run in the server's own
process: if the pool breaks, it is replaced and the runs it lost are queued again (up to
:data:`RETRIES` times), after which the ticket fails with a message.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import BrokenExecutor, Future
from dataclasses import dataclass, field
from typing import Any

RETRIES = 2  # times a run lost to a broken pool is queued again


class SchedulerError(RuntimeError):
    """A ticket's runs failed (the message says why)."""


@dataclass(eq=False)
class Ticket:
    """One session's request: ``total`` runs whose results arrive as (index, result) in any order."""

    session: str
    total: int
    on_result: Callable[[int, Any], None] | None = None  # called as each run finishes, even after a cancel
    results: queue.Queue = field(default_factory=queue.Queue)
    cancelled: bool = False

    def wait(self, timeout: float | None = None) -> Iterator[tuple[int, Any]]:
        """Each (index, result) as it finishes; raises SchedulerError if a run failed."""
        for _ in range(self.total):
            item = self.results.get(timeout=timeout)
            if isinstance(item, BaseException):
                raise SchedulerError(str(item)) from item
            yield item


@dataclass(eq=False)
class _Run:
    ticket: Ticket
    index: int
    job: Any
    tries: int = 0


class FairScheduler:
    """Round-robin dispatch of sessions' runs to a pool (a :class:`sim.runs.pools.WarmPool` or any
    object whose ``_current()`` gives an executor and ``_found_broken(executor)`` replaces it).

    Args:
        pool: The worker pool.
        fn: What a worker runs for one job (a picklable function).
        in_flight: Runs handed to the pool at once (default: two per worker, so a worker finds its next
            run waiting when it finishes one; the rest wait here, in turn).
    """

    def __init__(self, pool, fn: Callable[[Any], Any], in_flight: int | None = None) -> None:
        self.pool = pool
        self.fn = fn
        self.in_flight = in_flight or 2 * pool.slots()
        self._lock = threading.RLock()  # a done callback may run inside submit()
        self._queues: OrderedDict[str, deque[_Run]] = OrderedDict()
        self._tickets: dict[str, Ticket] = {}
        self._running = 0
        # the sessions of the last runs handed to the pool, in order (bounded: the server runs for weeks)
        self.dispatched: deque[str] = deque(maxlen=1000)

    def submit(self, session: str, jobs: list, on_result: Callable[[int, Any], None] | None = None) -> Ticket:
        """Queue a session's runs, replacing what it still had queued; returns the ticket to wait on.
        ``on_result(index, result)`` is called as each run finishes (the app stores it in the seed
        cache, so a run finished after its session moved on is not lost)."""
        ticket = Ticket(session, len(jobs), on_result)
        with self._lock:
            old = self._tickets.get(session)
            if old is not None:
                old.cancelled = True
            self._tickets[session] = ticket
            self._queues.pop(session, None)
            if jobs:
                self._queues[session] = deque(_Run(ticket, i, job) for i, job in enumerate(jobs))
            self._dispatch()
        return ticket

    def cancel(self, ticket: Ticket) -> None:
        """Drop a ticket's queued runs (those on a worker finish; their results are dropped here)."""
        with self._lock:
            ticket.cancelled = True
            if self._tickets.get(ticket.session) is ticket:
                del self._tickets[ticket.session]
                self._queues.pop(ticket.session, None)

    def queued(self) -> dict[str, int]:
        """Runs waiting, by session."""
        with self._lock:
            return {s: len(q) for s, q in self._queues.items()}

    def _dispatch(self) -> None:
        """Fill the pool's free slots, one run from each session in turn (called with the lock held)."""
        while self._running < self.in_flight and self._queues:
            session, runs = next(iter(self._queues.items()))
            run = runs.popleft()
            if runs:
                self._queues.move_to_end(session)
            else:
                del self._queues[session]
            executor = self.pool._current()
            try:
                future = executor.submit(self.fn, run.job)
            except BrokenExecutor:
                self._lost(run, executor)
                continue
            except RuntimeError as err:  # an executor shut down under us: fail the ticket, keep serving
                run.ticket.results.put(err)
                continue
            self._running += 1
            self.dispatched.append(session)
            future.add_done_callback(lambda f, run=run, executor=executor: self._finished(run, f, executor))

    def _lost(self, run: _Run, executor) -> None:
        """A run the pool lost when it broke: replace the pool and queue the run first again, or fail."""
        self.pool._found_broken(executor)
        run.tries += 1
        if run.tries > RETRIES:
            run.ticket.results.put(SchedulerError(f"the worker pool broke {run.tries} times running this "
                                                  "seed; it was not run in the server's own process"))
            return
        if not run.ticket.cancelled:
            self._queues.setdefault(run.ticket.session, deque()).appendleft(run)
            self._queues.move_to_end(run.ticket.session, last=False)

    def _finished(self, run: _Run, future: Future, executor) -> None:
        with self._lock:
            self._running -= 1
            try:
                result = future.result()
            except BrokenExecutor:
                self._lost(run, executor)
            except Exception as err:  # the run's own error: the ticket fails with it
                run.ticket.results.put(err)
            else:
                if run.ticket.on_result is not None:
                    run.ticket.on_result(run.index, result)
                run.ticket.results.put((run.index, result))
            self._dispatch()


def session_id() -> str:
    """The current Streamlit session's id (a thread's own id outside a session)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx(suppress_warning=True)
    except Exception:  # pragma: no cover - streamlit internals moved
        ctx = None
    return ctx.session_id if ctx is not None else f"thread-{threading.get_ident()}"

