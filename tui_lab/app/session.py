"""A lab as the screen sees it: every call goes through the compute thread.

The screen never touches the Lab directly. A LabSession queues jobs on the
shared compute thread and posts the results (Frames, progress, errors) back
to the screen as messages. Training runs as ~30 ms chunks that queue their own
continuation and end early when a job is queued behind them, so a stepping key
pressed mid-training is answered after the current update and Escape stops
training within one chunk.
"""

from __future__ import annotations

import math
import threading
import time

from tui_lab.app import messages
from tui_lab.app.compute import ComputeThread, shared
from tui_lab.frames import Frame
from tui_lab.labs.stepper import Stepper
from tui_lab.registry import build_lab, save_checkpoint

TRAIN_CHUNK_S = 0.03  # a key pressed mid-training waits at most one chunk
TRAIN_FRAME_EVERY_S = 0.3

_warmed: set[str] = set()
"""Warm-up labels already run in this process (Numba compiles once per process)."""


class LabSession:
    def __init__(self, scenario, target, compute: ComputeThread | None = None, lab=None):
        self.scenario = scenario
        self.target = target
        self.compute = compute or shared()
        self.lab = lab
        self.stepper: Stepper | None = None
        self.closed = False
        self._stop: threading.Event | None = None
        self._pending = 0
        self._lock = threading.Lock()

    # ---- plumbing ---------------------------------------------------------------
    def _post(self, message) -> None:
        if not self.closed:
            self.target.post_message(message)

    @property
    def pending(self) -> int:
        """Jobs queued and not finished (play mode waits for 0 before the next step)."""
        return self._pending

    def _submit(self, what: str, run, done=None) -> None:
        with self._lock:
            self._pending += 1

        def finish(result):
            self._finished()
            if done is not None:
                done(result)

        def failed(error):
            self._finished()
            self._post(messages.JobFailed(what, error))

        self.compute.submit(run, finish, failed)

    def _finished(self) -> None:
        with self._lock:
            self._pending -= 1

    # ---- opening ----------------------------------------------------------------
    def start(self) -> None:
        """Build the lab (unless given) and compile its kernels, with progress."""

        def run():
            lab = self.lab if self.lab is not None else build_lab(self.scenario)
            self._warm(lab)
            stepper = Stepper(lab)
            return stepper, stepper.frame(), first_step_preview(stepper)

        def done(result):
            stepper, frame, preview = result
            lab = stepper.lab
            self.lab, self.stepper = lab, stepper
            self.scenario = lab.scenario
            self._post(messages.LabReady(lab, frame, preview=preview))

        self._submit("open", run, done)

    def _warm(self, lab) -> None:
        tasks = [(label, call) for label, call in lab.warmup_tasks() if label not in _warmed]
        for index, (label, call) in enumerate(tasks):
            self._post(messages.WarmupProgress(index, len(tasks), label))
            call()
            _warmed.add(label)
        self._post(messages.WarmupProgress(len(tasks), len(tasks), ""))

    # ---- stepping ---------------------------------------------------------------
    def _stepper(self) -> Stepper:
        """The stepper, on the compute thread (jobs queued while opening run after it)."""
        if self.stepper is None:
            raise RuntimeError("the lab did not open")
        return self.stepper

    def call(self, what: str, method: str, *args, note: str = "") -> None:
        """Run stepper.<method>(*args) (step, back, first, last: each returns a Frame) and
        post the Frame."""

        def run():
            return getattr(self._stepper(), method)(*args)

        self._submit(what, run, lambda frame: self._post(messages.FrameReady(frame, note)))

    def reset(self, new_input=None) -> None:
        note = "new input" if new_input is not None else ""
        self._submit(
            "reset",
            lambda: self._stepper().reset(new_input=new_input),
            lambda frame: self._post(messages.FrameReady(frame, note)),
        )

    def generate(self) -> None:
        def run():
            text = self.lab.generate()
            return text, self._stepper().frame()

        def done(result):
            text, frame = result
            self._post(messages.FrameReady(frame))
            self._post(messages.Notice(str(text), "generated"))

        self._submit("generate", run, done)

    def ask(self, text: str) -> None:
        """lab.query(text) on the compute thread; the answer comes back as a notice."""

        def done(answer):
            self._post(messages.Notice(str(answer), text))

        self._submit("query", lambda: self.lab.query(text), done)

    def save(self, path) -> None:
        def run():
            save_checkpoint(self.lab, path)
            return path

        self._submit("save", run, lambda p: self._post(messages.Notice(f"checkpoint saved to {p}")))

    def set_value(self, dotted: str, value, new_scenario) -> None:
        """Apply a validated value live, or rebuild the lab when it changes the model."""

        def run():
            if self.lab.set_value(dotted, value):
                return "live", self._stepper(), self._stepper().frame(), None
            lab = build_lab(new_scenario)
            self._warm(lab)
            stepper = Stepper(lab)
            return "rebuilt", stepper, stepper.frame(), first_step_preview(stepper)

        def done(result):
            how, stepper, frame, preview = result
            lab = stepper.lab
            self.lab, self.stepper = lab, stepper
            self.scenario = lab.scenario
            if how == "live":
                self._post(messages.FrameReady(frame, f"{dotted} = {value!r} (applied live)"))
            else:
                note = f"{dotted} = {value!r}: model rebuilt, training starts over"
                self._post(messages.LabReady(lab, frame, note, preview))

        self._submit("set " + dotted, run, done)

    # ---- training ---------------------------------------------------------------
    @property
    def training(self) -> bool:
        return self._stop is not None

    def train(self, total: int) -> None:
        """`total` updates in the background, in chunks; progress and frames are posted."""
        if self._stop is not None:
            return
        stop = threading.Event()
        self._stop = stop
        start_step = self.lab.train_step
        last_frame = [time.perf_counter()]

        def chunk():
            deadline = time.perf_counter() + TRAIN_CHUNK_S
            done = self.lab.train_step - start_step

            def should_stop():
                time.sleep(0)  # hand the GIL to the UI thread between two updates
                return (
                    stop.is_set()
                    or self.closed
                    or self.compute.waiting()  # a key was pressed: answer it first
                    or time.perf_counter() > deadline
                )

            metrics = self.lab.train(total - done, None, should_stop)
            done = self.lab.train_step - start_step
            loss = metrics.get("loss", self.lab.loss_history[-1] if self.lab.loss_history else None)
            self._post(messages.TrainProgress(done, total, loss, self.lab.train_step))
            finished = done >= total or stop.is_set() or self.closed
            if finished or time.perf_counter() - last_frame[0] > TRAIN_FRAME_EVERY_S:
                last_frame[0] = time.perf_counter()
                self._post(messages.FrameReady(self._stepper().frame()))
            if finished:
                self._stop = None
                self._post(messages.TrainFinished(done, total, stop.is_set()))
            else:
                self.compute.submit(chunk, None, failed)

        def failed(error):
            self._stop = None
            done = self.lab.train_step - start_step
            self._post(messages.TrainFinished(done, total, True, error))
            try:
                self._post(messages.FrameReady(self._stepper().frame()))
            except Exception:  # the frame itself may be what failed
                pass

        self.compute.submit(chunk, None, failed)

    def stop_training(self) -> None:
        if self._stop is not None:
            self._stop.set()

    def close(self) -> None:
        self.stop_training()
        self.closed = True


def first_step_preview(stepper: Stepper) -> Frame | None:
    """The frame the first step will show (t = 0), without moving the cursor, so the
    screen can mount and draw its panels while the lab opens; None if the walk is empty
    or its steps apply updates (building that frame would train)."""
    walk = stepper.walk
    if walk.steps_are_updates or walk.length == 0 or stepper.t != -1:
        return None
    try:
        return stepper.lab.frame(walk, 0)
    except Exception:  # only a head start: the step itself reports the error
        return None


def loss_text(loss) -> str:
    if loss is None:
        return "-"
    return f"{loss:.4g}" if math.isfinite(loss) else str(loss)
