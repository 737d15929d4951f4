"""Frames for the NTM lab: what a person sees at each step of one episode.

The input, target and output bits; the controller's h_t; the memory M_t; each head's
weighting of this step and its history (time across, slot down, as in the paper's figures);
the four addressing stages side by side; erase and add vectors, read vectors and each head's
beta, g, gamma and shift; the cost curve. A mixin over the lab's trace, episode and shape.
"""

from __future__ import annotations

import numpy as np

from tui_lab.frames import Frame, Matrix, Scalars, Sequence, Series


class NTMView:
    """Needs from the lab: scenario, spec, shape, episode, trace, outputs, loss_history,
    train_step and sequence_length()."""

    def _controller_name(self) -> str:
        return "LSTM" if self.shape.recurrent else "feed-forward"

    def _title(self) -> str:
        kind = self._controller_name() if not self.shape.heads else "NTM"
        return f"{self.scenario.name} - {kind}, task {self.spec.task}"

    def _bits_panels(self, t: int) -> list:
        T = self.sequence_length()
        x = self.episode.inputs[:T, 0]
        y = self.episode.targets[:T, 0]
        mask = self.episode.mask[:T, 0]
        out = np.where(np.arange(T)[:, None] <= t, self.outputs[:T], 0.0)
        blank = ("",) * T
        wrong = (
            int((((self.outputs[: t + 1] > 0.5) != (y[: t + 1] > 0.5)) * mask[: t + 1, None]).sum())
            if t >= 0
            else 0
        )
        return [
            Sequence("input bits", blank, t, bits=x),
            Sequence("target bits", blank, t, bits=y * mask[:, None], group="output"),
            Sequence("output bits", blank, t, bits=out, group="output"),
            Scalars(
                "episode", {"steps": T, "scored steps": int(mask.sum()), "wrong bits so far": wrong}
            ),
        ]

    def _head_names(self) -> list[str]:
        R = self.shape.read_heads
        return [f"read {k}" if k < R else f"write {k - R}" for k in range(self.shape.heads)]

    def _common_panels(self) -> list:
        history = np.asarray(self.loss_history[-5000:], dtype=np.float64)
        return [Series("cost (bits per sequence)", {"cost": history}, x_label="update")]

    def _frame(self, t: int, panels: list, status: str = "") -> Frame:
        loss = self.loss_history[-1] if self.loss_history else None
        return Frame(
            self._title(),
            t,
            self.sequence_length(),
            panels + self._common_panels(),
            train_step=self.train_step,
            loss=loss,
            status=status,
        )

    def initial_frame(self) -> Frame:
        panels = self._bits_panels(-1)
        if self.shape.heads:
            panels.append(self._memory_panel(-1))
            panels.append(
                Matrix(
                    "weightings",
                    self.trace.w0,
                    "unit",
                    tuple(self._head_names()),
                    caption="initial weightings softmax(w0 logits)",
                    group="heads",
                )
            )
        return self._frame(-1, panels, "press -> to run the first step")

    def _memory_panel(self, t: int) -> Matrix:
        mem = self.trace.memory_at(0, t)
        return Matrix(
            "memory M_t",
            mem,
            "diverging",
            None,
            None,
            caption=f"{mem.shape[0]} slots x {mem.shape[1]} wide, after step {t}",
            group="memory",
        )

    def compute_step(self, t: int) -> Frame:
        tr, shape = self.trace, self.shape
        panels = self._bits_panels(t)
        h = tr.hs[0, t + 1]
        panels.append(
            Matrix(
                "controller h_t",
                h,
                "diverging",
                ("h",),
                units="hidden",
                caption=f"{self._controller_name()} controller output",
            )
        )
        if not shape.heads:
            return self._frame(t, panels)
        W, S, R = shape.width, shape.shifts, shape.read_heads
        names = self._head_names()
        panels.append(self._memory_panel(t))
        final = tr.addr[0, t, :, 4]
        panels.append(
            Matrix(
                "weightings",
                final,
                "unit",
                tuple(names),
                caption="each head's weighting over the slots, this step",
                group="heads",
            )
        )
        T = self.sequence_length()
        for k, name in enumerate(names):
            history = np.zeros((shape.slots, T))
            history[:, : t + 1] = tr.addr[0, : t + 1, k, 4].T
            panels.append(
                Matrix(
                    f"{name} weighting history",
                    history,
                    "unit",
                    None,
                    tuple(str(s) for s in range(T)),
                    caption="time across, memory slot down",
                    group="history",
                )
            )
            stages = tr.addr[0, t, k, 1:5]
            panels.append(
                Matrix(
                    f"{name} addressing",
                    stages.T,
                    "unit",
                    None,
                    ("cont", "intrp", "shift", "sharp"),
                    caption="slot down; content, interpolated, shifted, sharpened (this step)",
                    group="addressing",
                )
            )
        act = tr.act[0, t]
        offsets = shape.head_offsets()
        scalars, shifts = {}, []
        for k, name in enumerate(names):
            o = offsets[k]
            scalars[f"{name} beta"] = round(float(act[o + W]), 4)
            scalars[f"{name} g"] = round(float(act[o + W + 1]), 4)
            scalars[f"{name} gamma"] = round(float(act[o + W + 2]), 4)
            shifts.append(act[o + W + 3 : o + W + 3 + S])
        panels.append(Scalars("head parameters", scalars, group="heads"))
        labels = tuple(f"{s:+d}" for s in range(-shape.shift_range, shape.shift_range + 1))
        panels.append(
            Matrix(
                "shift weights",
                np.array(shifts),
                "unit",
                tuple(names),
                labels,
                caption="softmax over the shifts",
                group="heads",
            )
        )
        if shape.write_heads:
            rows, values = [], []
            for q in range(shape.write_heads):
                o = offsets[R + q] + W + 3 + S
                rows += [f"erase {q}", f"add {q}"]
                values += [act[o : o + W], act[o + W : o + 2 * W]]
            panels.append(
                Matrix(
                    "erase and add",
                    np.array(values),
                    "diverging",
                    tuple(rows),
                    caption="erase in 0..1, add in -1..1",
                    group="heads",
                )
            )
        if R:
            panels.append(
                Matrix(
                    "read vectors",
                    tr.reads[0, t + 1],
                    "diverging",
                    tuple(f"r {k}" for k in range(R)),
                    caption="r = w^T M, read this step",
                    group="heads",
                )
            )
        return self._frame(t, panels)
