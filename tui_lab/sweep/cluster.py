"""Where a sweep's runs execute: Dask distributed, on a LocalCluster started here
(one single-threaded worker process per core) or on a cluster the user started with
`dask scheduler` and `dask worker` (--scheduler tcp://HOST:PORT)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from tui_lab.scenario import ScenarioError

# A run whose worker process dies is retried once (on a fresh worker process), then
# recorded as failed. Dask's default is 3 retries; a run that kills its worker twice
# will kill it again.
ALLOWED_FAILURES = 1


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextmanager
def dask_client(workers: int | None, scheduler: str | None) -> Iterator[tuple[object, str]]:
    """(client, where) for the runs; the local cluster closes (its processes end) on exit."""
    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as error:
            raise ScenarioError(
                f"--scheduler {scheduler}: cannot connect ({error}); expected the address "
                "`dask scheduler` prints, e.g. tcp://127.0.0.1:8786"
            ) from None
        try:
            # The same fault rule as on a local cluster: one retry after a worker dies. A
            # lambda travels by value: the scheduler's machine may not have tui-lab.
            client.run_on_scheduler(
                lambda count, dask_scheduler: setattr(dask_scheduler, "allowed_failures", count),
                ALLOWED_FAILURES,
            )
            count = len(client.scheduler_info().get("workers", {}))
            yield client, f"the cluster at {scheduler} ({count} workers now)"
        finally:
            client.close()
        return

    workers = workers or default_workers()
    # Dask's nanny pins BLAS to one thread in each worker (OPENBLAS/OMP/MKL_NUM_THREADS=1)
    # and the task pins Numba's (worker.one_compute_thread): N workers on N cores.
    settings = {
        "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
        # Dask's MALLOC_TRIM_THRESHOLD_=65536 pins glibc's mmap threshold too: every
        # array over 128 KiB is then a fresh mmap, and an LSTM run took 10.4 s against
        # 6.0 s. Unset (None), the workers allocate as `tui-lab run` does.
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    }
    # The nanny sets those variables in *this* process's environment before it spawns a
    # worker, and leaves them there: put ours back, or later Numba code in this process
    # (a test session) reads a changed NUMBA/OMP setting and refuses to run.
    environment = dict(os.environ)
    with dask.config.set(settings):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",  # a local sweep listens on loopback only
            dashboard_address=None,
            # no dashboard, and the scheduler's HTTP endpoint on a free port, not 8787
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    _restore(environment)
    try:
        yield client, f"a local cluster of {workers} worker processes"
    finally:
        client.close()
        cluster.close()
        _restore(environment)


def _restore(environment: dict[str, str]) -> None:
    for name in set(os.environ) - set(environment):
        del os.environ[name]
    os.environ.update(environment)
