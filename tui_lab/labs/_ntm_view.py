"""Frames for the NTM lab: what a person sees at each step of one episode.

The input, target and output bits; the controller's h_t; the memory M_t; each head's
weighting of this step and its history (time across, slot down, as in the paper's figures);
the four addressing stages; erase and add vectors, read vectors and each head's beta, g,
gamma and shift; the cost curve. Free functions over an NTMWalk (tui_lab/labs/ntm.py), the
step t, the model's NTMShape and plain values; no model call, nothing kept between calls.

Memory, weightings and addressing stages all put the slots across (units "slots"), so a
slot is the same column in each, and they name a `focus` slot: the middle of the slots
the heads visit in this episode, which the renderer keeps in view when 128 slots do not
fit the screen. The histories show only the HISTORY_SLOTS slots around that focus (the
part of memory this episode uses), which keeps them short enough to sit beside the memory.
Group "memory" (memory and weightings) and "history" are what the screen puts first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tui_lab.frames import Frame, Matrix, Scalars, Sequence, Series

if TYPE_CHECKING:
    from kernels.ntm import NTMShape
    from tui_lab.labs.ntm import NTMWalk

HISTORY_SLOTS = 32
# Histories for at most this many read and this many write heads (the first ones): with the
# paper's five and five for priority sort, ten side by side left each 12 columns at 140, no
# room for a step; every head's weighting of this step stays in "weightings".
HISTORY_HEADS_PER_KIND = 2


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


def history_slots(weightings: np.ndarray, slots: int) -> tuple[np.ndarray, bool]:
    """(the slots the histories show, in order [S], all visited slots among them) for an
    episode's weightings [T, heads, N]: the window of visited_window around the slot each
    head weights most at each step."""
    size = min(slots, HISTORY_SLOTS)
    first, inside = visited_window(np.argmax(weightings, axis=-1), slots, size)
    return (first + np.arange(size)) % slots, inside


def focus_slot(rows: np.ndarray, inside: bool, weights: np.ndarray) -> int:
    """The slot a narrow screen keeps in view. It stays put through an episode (the middle
    of the history's slots `rows`), so the window of slots does not slide at every step;
    when the heads land anywhere (not `inside`: untrained) it follows this step's sharpest
    head instead (`weights`: [heads, N] this step's weightings), so that head's peak is
    always in view."""
    if inside:
        return int(rows[rows.size // 2])
    sharpest = int(np.argmax(weights.max(axis=1)))
    return int(np.argmax(weights[sharpest]))


def controller_name(shape: NTMShape) -> str:
    return "LSTM" if shape.recurrent else "feed-forward"


def title(name: str, shape: NTMShape, task: str) -> str:
    kind = controller_name(shape) if not shape.heads else "NTM"
    return f"{name} - {kind}, task {task}"


def head_names(shape: NTMShape) -> list[str]:
    R = shape.read_heads
    return [f"read {k}" if k < R else f"write {k - R}" for k in range(shape.heads)]


def short_head_names(shape: NTMShape) -> tuple[str, ...]:
    """r0, w0: row labels as narrow as the memory's, so slot columns line up."""
    R = shape.read_heads
    return tuple(f"r{k}" if k < R else f"w{k - R}" for k in range(shape.heads))


def bits_panels(walk: NTMWalk, t: int) -> list:
    """Input, target and output bits (outputs up to step t), the wrong bits marked where
    they are (up to step t: an episode of any length shows where the copy breaks down), and
    the episode's counts."""
    T = walk.length
    done = np.arange(T)[:, None] <= t
    shown = np.where(done, walk.outputs, 0.0)
    blank = ("",) * T
    wrong = int(walk.wrong[t]) if t >= 0 else 0
    return [
        Sequence("input bits", blank, t, bits=walk.inputs),
        Sequence("target bits", blank, t, bits=walk.targets, group="output"),
        Sequence("output bits", blank, t, bits=shown, group="output"),
        Sequence("wrong bits", blank, t, bits=np.where(done, walk.wrong_bits, 0.0), group="output"),
        Scalars(
            "episode",
            {"steps": T, "scored steps": int(walk.mask.sum()), "wrong bits so far": wrong},
        ),
    ]


def memory_panel(memory: np.ndarray, t: int, focus: int) -> Matrix:
    """memory: [N, W] after step t (t = -1: the initial memory), drawn slots across."""
    return Matrix(
        "memory M_t",
        memory.T,
        "diverging",
        units="slots",
        caption=f"after step {t}: {memory.shape[0]} slots across, {memory.shape[1]} features down",
        group="memory",
        focus=focus,
        compact=True,
    )


def weightings_panel(weights: np.ndarray, focus: int, when: str, shape: NTMShape) -> Matrix:
    """weights: [heads, N] one row per head."""
    # Colour alone is not a number: the caption names each head's peak.
    short = short_head_names(shape)
    peaks = " · ".join(
        f"{name} slot {int(np.argmax(w))} ({float(np.max(w)):.2f})"
        for name, w in zip(short, weights, strict=True)
    )
    return Matrix(
        "weightings",
        weights,
        "unit",
        short,
        units="slots",
        caption=f"{when}; peak: {peaks}",
        group="memory",
        focus=focus,
    )


def history_panels(walk: NTMWalk, t: int, shape: NTMShape) -> list:
    """Each head's weighting over steps 0..t on the history's slots (slot down, time across)."""
    rows, T = walk.history_rows, walk.length
    first, last = int(rows[0]), int(rows[-1])
    span = f"{first}-{last}" if first <= last else f"{first}-{shape.slots - 1},0-{last}"
    shown = f"slots {span} down, time across"
    if not walk.all_inside:
        shown += "; heads also elsewhere"
    R, Wh = shape.read_heads, shape.write_heads
    if max(R, Wh) > HISTORY_HEADS_PER_KIND:
        shown += f"; reads and writes 0-{HISTORY_HEADS_PER_KIND - 1} only"
    row_labels = tuple(str(slot) for slot in rows)
    panels = []
    for k, name in enumerate(head_names(shape)):
        if (k if k < R else k - R) >= HISTORY_HEADS_PER_KIND:
            continue
        history = np.zeros((rows.size, T))
        history[:, : t + 1] = walk.weightings[: t + 1, k][:, rows].T
        panels.append(
            Matrix(
                f"{name} weighting history",
                history,
                "unit",
                row_labels,
                walk.step_labels,
                units="steps",
                caption=shown,
                group="history",
                focus=t,
                compact=True,
            )
        )
    return panels


def head_panels(walk: NTMWalk, t: int, shape: NTMShape, focus: int) -> list:
    """Step t's addressing stages, head parameters, shifts, erase and add, read vectors."""
    W, S, R = shape.width, shape.shifts, shape.read_heads
    names = head_names(shape)
    panels: list = [
        Matrix(
            f"{name} addressing",
            walk.stages[t, k],
            "unit",
            ("cont", "intrp", "shift", "sharp"),
            units="slots",
            caption="content, interpolated, shifted, sharpened weightings (this step)",
            group="addressing",
            focus=focus,
        )
        for k, name in enumerate(names)
    ]
    act = walk.heads[t]
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
                walk.reads[t + 1],
                "diverging",
                tuple(f"r {k}" for k in range(R)),
                caption="r = w^T M, read this step",
                group="heads",
            )
        )
    return panels


def frame(
    walk: NTMWalk,
    t: int,
    shape: NTMShape,
    title: str,
    losses: list[float],
    train_step: int,
) -> Frame:
    """The frame of step t (-1: before the first step). losses: the training costs so far
    (the last 5,000 are drawn)."""
    panels = bits_panels(walk, t)
    status = ""
    if t < 0:
        status = "press -> to run the first step"
        if shape.heads:
            focus = focus_slot(walk.history_rows, walk.all_inside, walk.w0)
            panels.append(memory_panel(walk.memory[0], -1, focus))
            panels.append(weightings_panel(walk.w0, focus, "initial, softmax(w0)", shape))
    else:
        panels.append(
            Matrix(
                "controller h_t",
                walk.hidden[t + 1],
                "diverging",
                ("h",),
                units="hidden",
                caption=f"{controller_name(shape)} controller output",
            )
        )
        if shape.heads:
            weights = walk.weightings[t]
            focus = focus_slot(walk.history_rows, walk.all_inside, weights)
            panels.append(memory_panel(walk.memory[t + 1], t, focus))
            panels.append(weightings_panel(weights, focus, f"step {t}", shape))
            panels += history_panels(walk, t, shape)
            panels += head_panels(walk, t, shape, focus)
    history = np.asarray(losses[-5000:], dtype=np.float64)
    panels.append(Series("cost (bits per sequence)", {"cost": history}, x_label="update"))
    loss = losses[-1] if losses else None
    return Frame(title, t, walk.length, panels, train_step=train_step, loss=loss, status=status)
