"""The simulated firms as a table of typed 2-D arrays (:class:`FirmTable`), the declaration of its
columns (:data:`FIRM_GROUPS`), the column indices the compiled loops read, and the clock ids."""

from __future__ import annotations

from functools import cache

import numba
import numpy as np

from sim.submodels.innovation.parameters import CLOCKS

_compiled = numba.njit(cache=True, nogil=True)

# The firms' columns by dtype. Size factors are refreshed once a year with the sizes. Clocks (a row per
# clock): the firm's factor F, the trigger T on the clock's cumulative scalar, the threshold left R at
# the last rebase, the events so far, and whether the firm is on the clock's candidate list.
FLOAT_COLUMNS = ("log_size", "f_exit", "f_first", "f_std", "f_cert", "f_intl", "f_tm")
INT_COLUMNS = ("n_inv", "n_hv", "pend1", "pend2", "os_grants", "category", "n_std", "n_intl", "credit", "status_step",
               "listed_step", "city")
FLAG_COLUMNS = ("industrial", "alive", "above", "certified")
FIRM_GROUPS: dict[str, tuple[type, tuple[str, ...]]] = {
    "key": (np.uint64, ("key",)), "floats": (np.float64, FLOAT_COLUMNS), "ints": (np.int64, INT_COLUMNS),
    "flags": (np.bool_, FLAG_COLUMNS), "factor": (np.float64, CLOCKS), "trigger": (np.float64, CLOCKS),
    "threshold_left": (np.float64, CLOCKS), "events": (np.uint64, CLOCKS), "candidate": (np.bool_, CLOCKS),
}
# Row of each column in its group, as the compiled loops (clocks.py) index the groups.
LOG_SIZE, F_EXIT, F_FIRST, F_STD, F_CERT, F_INTL, F_TM = (FLOAT_COLUMNS.index(c) for c in FLOAT_COLUMNS)
N_INV, N_HV, PEND1, PEND2, OS_GRANTS, CATEGORY, N_STD, N_INTL, CREDIT, STATUS_STEP, LISTED_STEP, CITY = (
    INT_COLUMNS.index(c) for c in INT_COLUMNS)
INDUSTRIAL, ALIVE, ABOVE, CERTIFIED = (FLAG_COLUMNS.index(c) for c in FLAG_COLUMNS)

# Key of a firm's k-th threshold on a clock: firm key << 24 | clock index << 20 | k (firm keys < 2^32).
CLOCK_ID = {c: i for i, c in enumerate(CLOCKS)}
NEVER = -(10 ** 6)  # listed_step of a firm never listed
HORIZON_MONTHS = 6.0  # a clock's candidates are the firms that could fire within this many months


@cache
def clock_ids(clocks: tuple[str, ...]) -> np.ndarray:
    """The indices of the named clocks (rows of the table's clock groups)."""
    return np.array([CLOCK_ID[c] for c in clocks], np.int64)


@_compiled
def compact_columns(arr, rows, n):
    """Move the kept ``rows`` (ascending) of every column of ``arr`` to the front, in place, and
    clear the rest of the first n."""
    zero = arr.dtype.type(0)
    for c in range(arr.shape[0]):
        for j in range(rows.size):
            arr[c, j] = arr[c, rows[j]]
        for j in range(rows.size, n):
            arr[c, j] = zero


class FirmTable:
    """The simulated firms as a few 2-D arrays with spare capacity, one per group of columns of one
    dtype (``(columns, capacity)``, so each column is contiguous). ``firms[name]`` is a column's live
    view over the ``n_rows`` rows (a clock group's view is ``[:, :n_rows]``); ``firms.full_columns[name]``
    the column over the whole capacity; ``firms.groups`` the 2-D arrays, as the compiled clocks take them."""

    def __init__(self, groups: dict[str, tuple[type, tuple[str, ...]]], n_rows: int) -> None:
        self.n_rows = n_rows
        cap = max(16, int(n_rows * 1.5))  # room for a few years of entrants before a reallocation
        self.groups = {g: np.zeros((len(cols), cap), dtype) for g, (dtype, cols) in groups.items()}
        self._where = {col: (g, i) for g, (_, cols) in groups.items() for i, col in enumerate(cols)}
        self._clock_groups = {g for g, (_, cols) in groups.items() if cols == CLOCKS}
        self.full_columns = FullColumns(self)
        self._views: dict[str, np.ndarray] = {}

    def full_column(self, name: str) -> np.ndarray:
        """A column (or a clock group) over the whole capacity."""
        if name in self._clock_groups:
            return self.groups[name]
        g, i = self._where[name]
        return self.groups[g][i]

    def __getitem__(self, name: str) -> np.ndarray:
        view = self._views.get(name)
        if view is None:
            arr = self.full_column(name)
            view = self._views[name] = arr[..., :self.n_rows]
        return view

    def add(self, count: int) -> slice:
        """Room for ``count`` more rows (zeros); returns their slice."""
        need = self.n_rows + count
        cap = self.groups["key"].shape[1]
        if need > cap:
            new_cap = max(need, int(cap * 1.5))
            for g, arr in self.groups.items():
                grown = np.zeros((arr.shape[0], new_cap), arr.dtype)
                grown[:, :self.n_rows] = arr[:, :self.n_rows]
                self.groups[g] = grown
        sl = slice(self.n_rows, need)  # rows past n_rows are zero (new arrays, or cleared by compact)
        self.n_rows = need
        self._views.clear()
        return sl

    def compact(self, keep: np.ndarray) -> None:
        """Drop the rows where ``keep`` is False (row numbers change)."""
        rows = np.flatnonzero(keep)
        for arr in self.groups.values():
            compact_columns(arr, rows, self.n_rows)
        self.n_rows = rows.size
        self._views.clear()


class FullColumns:
    """``firms.full_columns[name]``: a column over the table's whole capacity."""

    def __init__(self, table: FirmTable) -> None:
        self.table = table

    def __getitem__(self, name: str) -> np.ndarray:
        return self.table.full_column(name)
