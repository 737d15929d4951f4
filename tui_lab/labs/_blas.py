"""One BLAS thread for forwards over many windows at once (the time-series labs' test sets).

Their per-step products ([windows, hidden] x [hidden, gates]) are just big enough for
OpenBLAS to hand half of each to a second thread, and on a busy machine (training in the
background, other processes on the 2 cores) every hand-off stalls: forecast-sine's 180
test windows took 300-430 ms so, and 9-24 ms on one thread (measured with
scripts/measure_stepping.py's after-training case). The recurrent cells' own products no
longer use BLAS (kernels/_gemm.py); the output layers around them still do.

The limit is process-wide (OpenBLAS has one setting), so nested or concurrent users
share it: the first to enter sets it, the last to leave restores what was there.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_users = 0
_controller = None
_limiter = None


def prepare() -> None:
    """Import threadpoolctl and find the loaded BLAS (4 ms idle, 20-30 ms on a busy
    machine): a lab's warm-up does it, so the first frame does not."""
    global _controller
    with _lock:
        if _controller is None:
            from threadpoolctl import ThreadpoolController

            _controller = ThreadpoolController()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    global _users, _limiter
    prepare()
    with _lock:
        if _users == 0:
            _limiter = _controller.limit(limits=1, user_api="blas")
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                _limiter.restore_original_limits()
                _limiter = None
