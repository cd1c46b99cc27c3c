"""The app's pool as a backend of :mod:`sim.runs.pools`, for library code that takes ``backend=``
(the attribution, the brief): its runs are this session's ticket on the server's fair scheduler
(:mod:`sim.ui.scheduler`), served in turn with other sessions' seeds and cancelled if the page
reruns or closes; without a pool (``SIM_APP_WORKERS=1``) they run in this process, as the app's
own seeds do."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sim.runs.pools import Backend, InProcess
from sim.ui import shared
from sim.ui.scheduler import FairScheduler, session_id


class SessionRuns(Backend):
    """This session's runs on the shared pool, through the fair scheduler."""

    kind = "app"

    def __init__(self, scheduler: FairScheduler) -> None:
        self.scheduler = scheduler

    def describe(self) -> str:
        return f"the app's worker pool ({self.scheduler.pool.describe()})"

    def slots(self) -> int:
        return self.scheduler.pool.slots()

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable,
                       window: int | None = None) -> Iterator[tuple[int, Any]]:
        items = list(items)
        if fn is not self.scheduler.fn:  # the scheduler runs one function; anything else goes to the pool
            yield from self.scheduler.pool.imap_unordered(fn, items, window)
            return
        ticket = self.scheduler.submit(session_id(), items)
        try:
            yield from ticket.wait()
        finally:
            self.scheduler.cancel(ticket)  # nothing left when all finished; else what was still queued


def session_backend() -> Backend:
    """Where this session's library runs go: the shared pool through the scheduler, or this process."""
    scheduler = shared.scheduler()
    return InProcess() if scheduler is None else SessionRuns(scheduler)
