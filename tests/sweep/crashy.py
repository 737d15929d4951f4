"""Task functions that kill the Dask worker process running them, for the fault tests.
They live in a module of their own so that worker processes can import them by name."""

import os
from pathlib import Path

from tui_lab.sweep.worker import execute_run

CRASH_RUN = "seed=1"  # the run id these functions kill the worker on


def always_dies(task):
    """Kill the worker on CRASH_RUN every time; run every other task normally."""
    if task.run_id == CRASH_RUN:
        os._exit(17)
    return execute_run(task)


def dies_once(task):
    """Kill the worker on CRASH_RUN the first time only (a marker file remembers)."""
    marker = Path(os.environ["TUI_LAB_TEST_MARKER"])
    if task.run_id == CRASH_RUN and not marker.exists():
        marker.write_text("died once\n")
        os._exit(17)
    return execute_run(task)
