"""Frames for the NTM lab: what a person sees at each step of one episode.

The input, target and output bits; the controller's h_t; the memory M_t; each head's
weighting of this step and its history (time across, slot down, as in the paper's figures);
the four addressing stages; erase and add vectors, read vectors and each head's beta, g,
gamma and shift; the cost curve. A mixin over the lab's trace, episode and shape.

Memory, weightings and addressing stages all put the slots across (units "slots"), so a
slot is the same column in each, and they name a `focus` slot: the middle of the slots
the heads visit in this episode, which the renderer keeps in view when 128 slots do not
fit the screen. The histories show only the HISTORY_SLOTS slots around that focus (the
part of memory this episode uses), which keeps them short enough to sit beside the memory.
Group "memory" (memory and weightings) and "history" are what the screen puts first.
"""

from __future__ import annotations

import numpy as np

from tui_lab.frames import Frame, Matrix, Scalars, Sequence, Series

HISTORY_SLOTS = 32


def visited_window(argmax: np.ndarray, slots: int, size: int) -> tuple[int, bool]:
    """(first slot, all inside) of a circular window of `size` slots around `argmax`.

    Memory is a ring (shifts wrap), so a head that runs from slot 120 on through slot 5
    uses one stretch of 14 slots: the window starts after the largest gap between the
    visited slots and is centred on what they span. `all inside` is False when they
    span more than `size` (an untrained network's heads land anywhere).
    """
    visited = np.unique(np.asarray(argmax, dtype=np.int64) % slots)
    if visited.size == 0 or size >= slots:
        return 0, True
    gaps = np.diff(np.append(visited, visited[0] + slots))
    after = int(np.argmax(gaps))
    first = int(visited[(after + 1) % visited.size])
    span = slots - int(gaps[after]) + 1
    centre = first + span // 2
    return (centre - size // 2) % slots, span <= size


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

    def _short_head_names(self) -> tuple[str, ...]:
        """r0, w0: row labels as narrow as the memory's, so slot columns line up."""
        R = self.shape.read_heads
        return tuple(f"r{k}" if k < R else f"w{k - R}" for k in range(self.shape.heads))

    def _episode_argmax(self) -> np.ndarray:
        """[T, heads] the slot each head weights most at each step of this episode."""
        T = self.sequence_length()
        return np.argmax(self.trace.addr[0, :T, :, 4], axis=-1)

    def _slot_view(self, weights: np.ndarray) -> tuple[int, np.ndarray, bool]:
        """(focus slot, the history's slots in order, all visited slots inside them).

        The focus stays put through an episode (the middle of the slots the heads use),
        so a narrow screen's window of slots does not slide at every step; when the heads
        land anywhere (untrained) it follows this step's sharpest head instead (`weights`:
        [heads, N] this step's weightings), so that head's peak is always in view.
        """
        N = self.shape.slots
        size = min(N, HISTORY_SLOTS)
        first, inside = visited_window(self._episode_argmax(), N, size)
        rows = (first + np.arange(size)) % N
        focus = int(rows[size // 2])
        if not inside:
            sharpest = int(np.argmax(weights.max(axis=1)))
            focus = int(np.argmax(weights[sharpest]))
        return focus, rows, inside

    def _weightings_panel(self, weights: np.ndarray, focus: int, when: str) -> Matrix:
        # Colour alone is not a number: the caption names each head's peak.
        peaks = " · ".join(
            f"{short} slot {int(np.argmax(w))} ({float(np.max(w)):.2f})"
            for short, w in zip(self._short_head_names(), weights, strict=True)
        )
        return Matrix(
            "weightings",
            weights,
            "unit",
            self._short_head_names(),
            units="slots",
            caption=f"{when}; peak: {peaks}",
            group="memory",
            focus=focus,
        )

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
            focus = self._slot_view(self.trace.w0)[0]
            panels.append(self._memory_panel(-1, focus))
            panels.append(self._weightings_panel(self.trace.w0, focus, "initial, softmax(w0)"))
        return self._frame(-1, panels, "press -> to run the first step")

    def _memory_panel(self, t: int, focus: int) -> Matrix:
        mem = self.trace.memory_at(0, t)
        return Matrix(
            "memory M_t",
            mem.T,
            "diverging",
            units="slots",
            caption=f"after step {t}: {mem.shape[0]} slots across, {mem.shape[1]} features down",
            group="memory",
            focus=focus,
            compact=True,
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
        focus, rows, inside = self._slot_view(tr.addr[0, t, :, 4])
        panels.append(self._memory_panel(t, focus))
        panels.append(self._weightings_panel(tr.addr[0, t, :, 4], focus, f"step {t}"))
        T = self.sequence_length()
        first, last = int(rows[0]), int(rows[-1])
        span = f"{first}-{last}" if first <= last else f"{first}-{shape.slots - 1},0-{last}"
        shown = f"slots {span} down, time across" + ("" if inside else "; heads also elsewhere")
        for k, name in enumerate(names):
            history = np.zeros((rows.size, T))
            history[:, : t + 1] = tr.addr[0, : t + 1, k, 4][:, rows].T
            panels.append(
                Matrix(
                    f"{name} weighting history",
                    history,
                    "unit",
                    tuple(str(slot) for slot in rows),
                    tuple(str(s) for s in range(T)),
                    units="steps",
                    caption=shown,
                    group="history",
                    focus=t,
                    compact=True,
                )
            )
        for k, name in enumerate(names):
            panels.append(
                Matrix(
                    f"{name} addressing",
                    tr.addr[0, t, k, 1:5],
                    "unit",
                    ("cont", "intrp", "shift", "sharp"),
                    units="slots",
                    caption="content, interpolated, shifted, sharpened weightings (this step)",
                    group="addressing",
                    focus=focus,
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
