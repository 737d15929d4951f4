"""ADAPTER (to be removed): labs still written against the old stepping hooks.

The old protocol kept the stepped input's arrays on the lab itself and built frames
with `start_sequence(new_input, keep_input)`, `sequence_length()`,
`initial_frame()` and `compute_step(t)`. `HookedLab` turns those into `walk` and
`frame`: the Walk is only a token (the arrays stay on the lab), and every frame
calls the hooks, which for these kinds index precomputed arrays at random t. Kinds
on this adapter: every class that derives from HookedLab.
"""

from __future__ import annotations

from tui_lab.frames import Frame
from tui_lab.labs.base import OWN_INPUT, Lab, Walk

KEEP = "<the input walked last>"
"""Walk.input of a hooked lab: walking it again keeps the lab's current input."""


class HookedLab(Lab):
    capabilities = frozenset({OWN_INPUT})

    def __init__(self, scenario):
        super().__init__(scenario)
        self._walked = False

    def walk(self, input=None) -> Walk:
        # The constructor already drew the first sample: the first walk keeps it, and a
        # later None draws a fresh one (the old reset()).
        if input is KEEP or (input is None and not self._walked):
            self.start_sequence(None, keep_input=True)
        else:
            self.start_sequence(input)
        self._walked = True
        return Walk(KEEP, self.sequence_length())

    def frame(self, walk: Walk, t: int) -> Frame:
        return self.initial_frame() if t < 0 else self.compute_step(t)

    def start_sequence(self, new_input=None, keep_input: bool = False) -> None:
        raise NotImplementedError

    def sequence_length(self) -> int:
        raise NotImplementedError

    def initial_frame(self) -> Frame:
        raise NotImplementedError

    def compute_step(self, t: int) -> Frame:
        raise NotImplementedError
