"""Progress bars that cost the browser little: drawn only for a run that lasts, moved at most twice a second.

Each move of a Streamlit progress bar is a message the browser redraws, with a half-second
transition of the bar, and Streamlit fades a rerunning page's elements (and the expanders' borders
and titles) to a third of their opacity over a second, starting half a second into the run: frames
of the whole page, recomposited in the browser for the whole of a short run. With the browser on the
server's two cores (as in the end-to-end test) that took about one of the cores the seeds run on.
So a seed run's bar waits :data:`APP_DELAY` seconds, and a run that ends sooner (a slider change at
the app's default settings) never draws one: the page dims and Streamlit's running indicator turns
meanwhile. :data:`STALE_STYLE` makes the dimming one step after the same half second. Both together:
Chromium 0.53-0.74 CPU seconds per slider change against 0.95-1.02 before (benchmarks/RESULTS.md,
session 14).
"""

from __future__ import annotations

import time
from typing import Any, Callable

APP_DELAY = 1.5  # s: a seed run shorter than this (a slider change at the default settings) draws no bar
EVERY = 0.5  # s between two moves of a bar
STALE_STYLE = """<style>
.stElementContainer[data-stale="true"], [data-testid="stExpander"] details, [data-testid="stExpander"] summary {
  transition-duration: 0s !important;
}
</style>"""


class Progress:
    """``progress(done, total, *extra)`` that draws ``text(done, total, *extra)`` in ``slot`` (an
    ``st.empty()`` or ``st.progress`` element): not before ``delay`` seconds from its creation, then at
    most once every ``every`` seconds, and at the end."""

    def __init__(self, slot: Any, text: Callable[..., str], delay: float = 0.0, every: float = EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.slot, self.text, self.delay, self.every, self.clock = slot, text, delay, every, clock
        self.started = clock()
        self.last: float | None = None

    def __call__(self, done: int, total: int, *extra: Any) -> None:
        now = self.clock()
        if now - self.started < self.delay:
            return
        if self.last is None or done >= total or now - self.last >= self.every:
            self.last = now
            self.slot.progress(min(1.0, done / max(total, 1)), text=self.text(done, total, *extra))

    def close(self) -> None:
        """Remove the bar (or the empty place kept for it)."""
        self.slot.empty()
