"""The cursor over one walked input: what the screen and headless stepping talk to.

A Stepper owns the input, the lab's current Walk of it and the step t. A frame is
built on demand from the Walk, so a frame at step 10,000 costs what a frame at step
10 costs, and nothing grows with how far the user has stepped (there is no history
of Frames). When the lab's weights changed since the Walk was made (training, a
loaded checkpoint, a live setting: `train_step` or `revision` moved), the next frame
walks the same input again, once.
"""

from __future__ import annotations

from tui_lab.frames import Frame
from tui_lab.labs.base import Lab, Walk


class Stepper:
    def __init__(self, lab: Lab, input=None):
        self.lab = lab
        self.t = -1
        self._input = input
        self._walk: Walk | None = None
        self._walked_at: tuple[int, int] | None = None

    def _version(self) -> tuple[int, int]:
        return (self.lab.train_step, self.lab.revision)

    @property
    def walk(self) -> Walk:
        """The current Walk, made again if the lab changed since it was made."""
        if self._walk is None:
            self._walk = self.lab.walk(self._input)
            self._walked_at = self._version()
        elif self._walked_at != self._version():
            self._walk = self.lab.walk(self._walk.input)
            self._walked_at = self._version()
            if self._walk.steps_are_updates:
                self.t = -1
        self.t = min(self.t, self._walk.length - 1)
        return self._walk

    @property
    def length(self) -> int:
        return self.walk.length

    def frame(self) -> Frame:
        walk = self.walk
        return self.lab.frame(walk, self.t)

    def _move(self, t: int) -> Frame:
        # The cursor moves only once the frame is built: a step that fails stays undone.
        walk = self.walk
        t = max(-1, min(int(t), walk.length - 1))
        frame = self.lab.frame(walk, t)
        self.t = t
        if walk.steps_are_updates:  # the updates this step applied are the walk's own
            self._walked_at = self._version()
        return frame

    def step(self) -> Frame:
        """One time step forward (stays on the last step at the end)."""
        return self._move(self.t + 1)

    def back(self) -> Frame:
        """One time step back (t = -1 is the state before the first step)."""
        return self._move(self.t - 1)

    def first(self) -> Frame:
        return self._move(-1)

    def last(self) -> Frame:
        return self._move(self.walk.length - 1)

    def go(self, t: int) -> Frame:
        return self._move(t)

    def reset(self, new_input=None) -> Frame:
        """Start over on a new input: the user's text, or None for the lab's default (or a
        fresh sample). A bad input raises ValueError and leaves the current one in place."""
        walk = self.lab.walk(new_input)
        self._input, self._walk, self._walked_at = new_input, walk, self._version()
        self.t = -1
        return self.frame()
