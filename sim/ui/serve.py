"""Serve the app (``python -m sim.ui.serve``, what ``make app`` runs): Streamlit, warmed from the start.

``streamlit run app.py`` imports the model and starts the worker pool only when the first
visitor's page runs, who then waits for both (about 7 s on two cores). This launcher first
starts the shared pool (:mod:`sim.ui.shared`) - forked from this process while it has no other
thread, so the workers inherit the imported model instead of importing it again (about 2 s) -
then Streamlit's server in this process, with a thread importing the page's other modules
beside it and one computing the page a new visitor gets first (the first preset at the default
settings) into the shared seed runs, which the page then finds instead of waiting for them. Arguments go to ``streamlit run`` (``--server.port 8502``, ...) after :data:`QUIET`: no
usage statistics, no Deploy button, uploads up to 1 MB, no warning flood in the terminal, no
"magic" (the page writes nothing by bare expressions; without it each rerun skips parsing the page again).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app.py"
# The server's settings, as .streamlit/config.toml has them (that file is read only from the folder
# streamlit starts in); arguments given to the launcher come after and win.
QUIET = ["--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal", "--server.maxUploadSize", "1",
         "--logger.level", "error", "--runner.magicEnabled", "false"]


def import_page_modules() -> None:
    """Import what the page needs besides the model (run beside the server's start)."""
    import altair  # noqa: F401

    from sim.calibration import history  # noqa: F401
    from sim.ui import views  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    """Start the worker pool, then Streamlit's server on the app (returns its exit status)."""
    from sim.ui import shared

    args = sys.argv[1:] if argv is None else argv
    shared.worker_pool()  # before any other thread: the workers are forks of this process
    shared.prefetch(shared.first_page_keys())  # the first visitor's page, computed while the server starts
    from streamlit.web import cli

    threading.Thread(target=import_page_modules, name="sim-page-imports", daemon=True).start()
    sys.argv = ["streamlit", "run", str(APP), *QUIET, *args]
    try:
        cli.main()
    except SystemExit as done:
        return int(done.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
