"""List processes a test run left behind: every process whose environment carries its marker.

``make test`` runs pytest with ``SIM_TEST_RUN=<marker>`` in the environment, which every process
it starts inherits (worker pools, Dask nannies and workers, the app's server, browsers). After
pytest has exited, none should be running:

    python scripts/leftovers.py MARKER [--wait SECONDS]

prints the ones that are (pid, command) and exits 1; exits 0 when there are none.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import psutil

VARIABLE = "SIM_TEST_RUN"


def carrying(marker: str) -> list[psutil.Process]:
    """Running processes (not zombies, not this one) whose environment has ``SIM_TEST_RUN=marker``."""
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and proc.environ().get(VARIABLE) == marker:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("marker")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds to let processes finish exiting")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.wait
    while True:
        left = carrying(args.marker)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for proc in left:
        try:
            print(f"left running: pid {proc.pid}: {' '.join(proc.cmdline())[:160]}", file=sys.stderr)
        except psutil.Error:
            print(f"left running: pid {proc.pid}", file=sys.stderr)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
