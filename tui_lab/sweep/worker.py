"""What a Dask worker does for one run: exactly `tui-lab run`, in a temporary folder.

The task carries the scenario's text and the data files it names, so the worker needs
tui-lab installed but no copy of the user's files. The run's output files come back
as bytes; the machine that started the sweep writes them under DIR/runs/<run-id>/.
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

# Numba's workqueue threading layer aborts the process when two threads enter parallel
# code at once: a worker started with --nthreads > 1 still runs one run at a time.
_ONE_RUN_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class RunTask:
    run_id: str
    scenario_text: str
    scenario_source: str  # the path or name the user gave, as `tui-lab run` records it
    scenario_filename: str | None  # the scenario file's name, so relative data paths resolve
    data_files: dict[str, bytes]
    overrides: tuple[str, ...]


@dataclass
class RunOutcome:
    run_id: str
    exit_code: int
    status: str  # "done", "diverged: ...", or "failed"
    summary: dict | None
    files: dict[str, bytes] = field(default_factory=dict)  # relative path -> contents
    message: str = ""
    wall_s: float = 0.0
    worker: str = ""


def one_compute_thread() -> None:
    """Pin this process's kernels to one thread: N workers on N cores must not each start
    N BLAS or Numba threads. Dask's nanny already sets OPENBLAS/OMP/MKL_NUM_THREADS=1 before
    a worker starts; this also covers a worker started without a nanny."""
    import numba
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # the environment variable is read only when numpy loads

    numba.set_num_threads(1)
    _malloc_as_by_default()


def _malloc_as_by_default() -> None:
    """A worker started by `dask worker` has MALLOC_TRIM_THRESHOLD_ set (Dask's default),
    which also fixes glibc's mmap threshold at 128 KiB, so every larger array is a fresh
    mmap and its page faults: runs took 1.7x as long. Raise both thresholds back to the
    sizes glibc's own adaptive rule reaches."""
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 32 << 20)
    libc.mallopt(m_trim_threshold, 64 << 20)


def execute_run(task: RunTask) -> RunOutcome:
    """Run one scenario to its end; never raises for a failed run (the outcome says so)."""
    with _ONE_RUN_AT_A_TIME:
        return _execute(task)


def _execute(task: RunTask) -> RunOutcome:
    start = time.perf_counter()
    worker = f"{os.uname().nodename}:{os.getpid()}"
    try:
        one_compute_thread()
        from rich.console import Console

        from tui_lab import registry, runner

        with tempfile.TemporaryDirectory(prefix=f"tui-lab-{task.run_id}-") as temp:
            folder = Path(temp)
            path = None
            if task.scenario_filename is not None:
                path = folder / "scenario" / task.scenario_filename
                path.parent.mkdir(parents=True)
                path.write_text(task.scenario_text, encoding="utf-8")
                for relative, contents in task.data_files.items():
                    target = path.parent / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(contents)
            loaded = registry.parse(task.scenario_text, task.scenario_source, path)
            loaded = loaded.with_overrides(list(task.overrides))
            out = folder / "out"
            quiet = Console(stderr=True, quiet=True)
            result = runner.run(loaded, out, console=quiet, quiet=True)
            files = {
                entry.relative_to(out).as_posix(): entry.read_bytes()
                for entry in sorted(out.rglob("*"))
                if entry.is_file() and not entry.name.startswith(".")
            }
        return RunOutcome(
            task.run_id,
            result.exit_code,
            result.summary["status"],
            result.summary,
            files,
            wall_s=time.perf_counter() - start,
            worker=worker,
        )
    except Exception as error:  # the sweep records it and goes on
        return RunOutcome(
            task.run_id,
            1,
            "failed",
            None,
            message=f"{type(error).__name__}: {error}",
            files={"error.txt": traceback.format_exc().encode("utf-8")},
            wall_s=time.perf_counter() - start,
            worker=worker,
        )
