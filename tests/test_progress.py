"""The app's progress bars: none for a short run, then at most one move each half second."""

from __future__ import annotations

from sim.ui.progress import APP_DELAY, EVERY, Progress


class Slot:
    """Stands for an ``st.empty()`` or ``st.progress`` element: records what is drawn in it."""

    def __init__(self) -> None:
        self.drawn: list[tuple[float, str]] = []
        self.emptied = False

    def progress(self, value: float, text: str) -> None:
        self.drawn.append((value, text))

    def empty(self) -> None:
        self.emptied = True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_run_shorter_than_the_delay_draws_no_bar():
    slot, clock = Slot(), Clock()
    bar = Progress(slot, lambda done, total, left: f"{done}/{total} {left:.0f}s", delay=APP_DELAY, clock=clock)
    for done in range(1, 11):
        clock.now += (APP_DELAY - 0.01) / 10
        bar(done, 10, 1.0)
    bar.close()
    assert slot.drawn == [] and slot.emptied


def test_a_long_run_draws_after_the_delay_then_at_most_every_half_second_and_at_the_end():
    slot, clock = Slot(), Clock()
    bar = Progress(slot, lambda done, total, left: f"{done}/{total} {left:.0f}s", delay=APP_DELAY, clock=clock)
    for done in range(1, 41):
        clock.now += 0.125  # a seed every eighth of a second (exact in binary): 5 s in all
        bar(done, 40, (40 - done) * 0.125)
    # the first draw at 1.5 s (seed 12), then every 0.5 s (seeds 16, 20, ..., 40: the last is the end)
    assert [text.split()[0] for _, text in slot.drawn] == [f"{n}/40" for n in range(12, 41, 4)]
    assert slot.drawn[0][0] == 12 / 40 and slot.drawn[-1] == (1.0, "40/40 0s")
    assert EVERY == 0.5


def test_without_a_delay_the_first_call_draws():
    slot, clock = Slot(), Clock()
    bar = Progress(slot, lambda done, total: f"{done}/{total}", clock=clock)
    bar(0, 7)
    clock.now += 0.2
    bar(1, 7)  # too soon after the first
    bar(7, 7)  # the end is always drawn
    assert slot.drawn == [(0.0, "0/7"), (1.0, "7/7")]
