"""Messages the compute thread posts to the lab screen (thread-safe post_message)."""

from __future__ import annotations

from textual.message import Message

from tui_lab.frames import Frame


class LabReady(Message):
    """The lab is built and its kernels are compiled. `preview`: the frame of the first
    step (t = 0), for the screen to lay out ahead of the user's first key (None when a
    step is not a pure view, e.g. Word2Vec's steps apply updates)."""

    def __init__(self, lab, frame: Frame, note: str = "", preview: Frame | None = None):
        super().__init__()
        self.lab = lab
        self.frame = frame
        self.note = note
        self.preview = preview


class FrameReady(Message):
    def __init__(self, frame: Frame, note: str = ""):
        super().__init__()
        self.frame = frame
        self.note = note


class JobFailed(Message):
    def __init__(self, what: str, error: BaseException):
        super().__init__()
        self.what = what
        self.error = error


class WarmupProgress(Message):
    """Compiling kernels: `done` of `total` finished, now `label`."""

    def __init__(self, done: int, total: int, label: str):
        super().__init__()
        self.done = done
        self.total = total
        self.label = label


class TrainProgress(Message):
    def __init__(self, done: int, total: int, loss: float | None, train_step: int):
        super().__init__()
        self.done = done
        self.total = total
        self.loss = loss
        self.train_step = train_step


class TrainFinished(Message):
    def __init__(self, done: int, total: int, stopped: bool, error: BaseException | None = None):
        super().__init__()
        self.done = done
        self.total = total
        self.stopped = stopped
        self.error = error


class Notice(Message):
    """Tell the user something (a saved path, generated text)."""

    def __init__(self, text: str, title: str = "", severity: str = "information"):
        super().__init__()
        self.text = text
        self.title = title
        self.severity = severity
