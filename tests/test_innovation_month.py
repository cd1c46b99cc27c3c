"""The firms' month in one compiled call (sim/submodels/innovation/month.py): the clocks' candidate
lists, the firms ever listed (the rows the credit scan reads), the firms that leave and the trademark
weight they take with them, and the overseas pipeline stay consistent month after month.
(``tests/test_regression.py`` holds the numbers themselves to the stored baseline, bit for bit.)"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sim.inputs.scenario import baseline
from sim.submodels.innovation import CLOCKS, Innovation, InnovationParameters
from sim.submodels.innovation.table import NEVER

SMALL = InnovationParameters().replace(above_scale_2020=12000, other_holders_2020=4000)


def _month(step: int) -> SimpleNamespace:
    return SimpleNamespace(year=2021 + step // 12, month=step % 12 + 1, step=step)


def _check_candidates(inn: Innovation) -> None:
    t = inn.firms
    for c, clock in enumerate(CLOCKS):
        rows = inn.candidates[c, :inn.n_candidates[c]]
        assert np.unique(rows).size == rows.size, f"{clock}: a row twice on the candidate list"
        assert rows.size == 0 or rows.max() < t.n_rows
        flagged = np.flatnonzero(t["candidate"][c])
        assert np.array_equal(np.sort(rows), flagged), f"{clock}: list and flags disagree"
        near = np.flatnonzero(t["trigger"][c] <= inn.clock_horizons[c])
        assert np.isin(near, rows).all(), f"{clock}: a firm due within the horizon is not a candidate"


def _check_listed_rows(inn: Innovation) -> None:
    rows = inn.listed_rows[:inn.n_listed_rows[0]]
    assert np.unique(rows).size == rows.size, "a row twice among the firms ever listed"
    ever = np.flatnonzero(inn.firms["listed_step"] != NEVER)
    assert np.array_equal(np.sort(rows), ever), "the rows of firms ever listed are not those with a listing step"


def _check_trademark_weight(inn: Innovation) -> None:
    t = inn.firms
    assert inn.trademark_weight == pytest.approx(float(t["f_tm"][t["alive"]].sum()), rel=1e-9)


def test_candidate_lists_listed_firms_and_trademark_weight_hold_every_month():
    inn = Innovation(baseline(), 3, SMALL.replace(listing_detected_2020=0.1))
    _check_listed_rows(inn)
    for step in range(15):  # (a January and its compaction among them)
        inn.step(_month(step), {})
        _check_candidates(inn)
        _check_listed_rows(inn)
        _check_trademark_weight(inn)


def test_firms_that_leave_hold_nothing_and_never_fire_again():
    inn = Innovation(baseline(), 4, SMALL)
    inn.step(_month(0), {})  # (January: the yearly compaction renumbers the rows)
    exited = 0
    for step in range(1, 11):
        alive = inn.firms["alive"].copy()
        inn.step(_month(step), {})
        t = inn.firms
        gone = np.flatnonzero(alive & ~t["alive"][:alive.size])
        exited += int(gone.sum())
        assert not (t["n_inv"][gone] | t["pend1"][gone] | t["pend2"][gone] | t["n_intl"][gone]).any()
        assert np.isinf(t["trigger"][:, gone]).all() and not t["factor"][:, gone].any()
    assert exited > 20


def test_overseas_filings_move_through_the_stages_without_being_lost():
    inn = Innovation(baseline(), 6, SMALL)
    ofile = CLOCKS.index("ofile")
    inn.step(_month(0), {})  # (January: the yearly compaction renumbers the rows)
    filed = granted = 0
    for step in range(1, 11):
        t = inn.firms
        pending = int(t["pend1"].sum() + t["pend2"].sum())
        grants = int(t["os_grants"].sum())
        events = t["events"][ofile].copy()
        inn.step(_month(step), {})
        t = inn.firms
        new = int((t["events"][ofile][:events.size] - events).sum())  # (rows added this month file from the next)
        left = int(t["pend1"].sum() + t["pend2"].sum())
        # filings leave the pipeline only when decided (granted or refused) or with their firm
        assert 0 <= int(t["os_grants"].sum()) - grants <= pending + new - left
        filed += new
        granted += int(t["os_grants"].sum()) - grants
    assert filed > 100 and granted > 10
