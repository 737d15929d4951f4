"""The one compute thread: every lab call (and so every kernel) runs here.

Why one thread for the whole process: Numba's default threading layer aborts
the process when two threads enter parallel code at once, and cancelling a
Textual worker does not stop a thread that is inside a kernel. So the app
never runs lab code on the UI thread or on a worker pool: it queues jobs
here, in order, and each job hands its result back with a callback that runs
*on this thread* and should only post a message to the UI (Textual's
`post_message` is thread-safe).

Long work (training) is split into short jobs that queue their own
continuation, so a step requested mid-training runs between two chunks; a chunk
also ends early when `waiting()` says a job has been queued behind it, so a key
waits for one training update rather than a whole chunk.
"""

from __future__ import annotations

import queue
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Job:
    run: Callable[[], object]
    done: Callable[[object], None] | None = None
    failed: Callable[[BaseException], None] | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self.cancelled.set()


class ComputeThread:
    """A daemon thread that runs queued jobs one at a time, in submission order."""

    def __init__(self, name: str = "tui-lab-compute"):
        self._queue: queue.Queue[Job] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()
        self._idle = threading.Event()
        self._idle.set()

    def submit(self, run, done=None, failed=None) -> Job:
        job = Job(run, done, failed)
        self._idle.clear()
        self._queue.put(job)
        return job

    def waiting(self) -> bool:
        """True when a job is queued behind the one running (a chunk of training asks this
        between two updates and yields to it)."""
        return not self._queue.empty()

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until the queue is drained (tests and shutdown)."""
        return self._idle.wait(timeout)

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if not job.cancelled.is_set():
                    self._run(job)
            finally:
                self._queue.task_done()
                if self._queue.unfinished_tasks == 0:
                    self._idle.set()

    @staticmethod
    def _run(job: Job) -> None:
        try:
            result = job.run()
        except BaseException as error:  # a lab error must not kill the thread
            if job.failed is not None:
                try:
                    job.failed(error)
                except BaseException:
                    traceback.print_exc()
            return
        if job.done is not None:
            try:
                job.done(result)
            except BaseException:
                traceback.print_exc()


_shared: ComputeThread | None = None
_lock = threading.Lock()


def shared() -> ComputeThread:
    """The process-wide compute thread (created on first use)."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = ComputeThread()
        return _shared
