"""Progress bars that cost the browser little: drawn only for a run that lasts, moved at most twice a second.

Each move of a Streamlit progress bar is a message the browser redraws, with a half-second
transition of the bar. While a page reruns, its stale elements are drawn at reduced opacity, so
every frame of that transition recomposites the whole page: on the two cores the seeds run on
(a browser on the server's own machine, as in the end-to-end test) a bar shown for a one-second
slider change took about a core of the browser for the whole run (1.0-1.5 CPU seconds of
Chromium per change, against 0.4-0.6 without the bar; measured in benchmarks/RESULTS.md, session
14). A slider change at the app's default settings is such a run: its bar waits
:data:`APP_DELAY` seconds and a run that ends sooner never draws one (the rerunning page is shown
faded and Streamlit's running indicator turns meanwhile).

:data:`STALE_STYLE` makes that fading one step: Streamlit fades a rerunning page's elements to a
third of their opacity (and the expanders' borders and titles) over a second, starting half a second
into the run - sixty frames of the whole page, recomposited in the browser. The page still dims after
half a second, in one frame (Chromium
beside the server: 0.6-0.7 CPU seconds per slider change against 0.9-1.1 without it).
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
    most once every ``every`` seconds, and at the end once drawn."""

    def __init__(self, slot: Any, text: Callable[..., str], delay: float = 0.0, every: float = EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.slot, self.text, self.delay, self.every, self.clock = slot, text, delay, every, clock
        self.started = clock()
        self.last: float | None = None

    def due(self, done: int, total: int) -> bool:
        """Whether the bar is drawn now."""
        now = self.clock()
        if now - self.started < self.delay:
            return False
        return self.last is None or done >= total or now - self.last >= self.every

    def __call__(self, done: int, total: int, *extra: Any) -> None:
        if self.due(done, total):
            self.last = self.clock()
            self.slot.progress(min(1.0, done / max(total, 1)), text=self.text(done, total, *extra))

    def close(self) -> None:
        """Remove the bar (or the empty place kept for it)."""
        self.slot.empty()
