"""Panels of the MANN lab (one-shot learning): free functions over plain arrays of a walk.

What a person sees at step t of an episode: the sample (a glyph, drawn two pixel rows per
line), the label given at this step (the answer of step t - 1), the network's guess against
the true label, the memory M_t with its usage weights, the least-used slot and each head's
read and write weights, and the accuracy at each presentation of a class so far in this
episode (beside the held-out curve of the last evaluation, if there was one).

Memory, usage and weights all put the slots across (units "slots") and name the same focus
slot, the least-used slot the heads wrote to at this step, so a narrow screen keeps the write
in view.
"""

from __future__ import annotations

import numpy as np

from tui_lab.frames import Matrix, Scalars, Sequence, Series

ORDINALS = {1: "1st", 2: "2nd", 3: "3rd"}


def ordinal(n: int) -> str:
    return ORDINALS.get(n, f"{n}th")


def episode_strip(labels: np.ndarray, predictions: np.ndarray, presentation, t: int) -> Sequence:
    """The episode's true labels as a strip, the guesses as its targets row; traces colour it
    by the presentation number. labels, predictions, presentation: [T]."""
    return Sequence(
        "labels (true / guessed)",
        tuple(str(int(v)) for v in labels),
        t,
        traces={"presentation": np.asarray(presentation, np.float64)[:, None]},
        targets=tuple(str(int(v)) if i <= t else "·" for i, v in enumerate(predictions)),
    )


def sample_panel(sample: np.ndarray, caption: str) -> Matrix:
    """sample [S, S] ink 0..1, drawn as half blocks (two pixel rows per line)."""
    return Matrix("sample x_t", sample, "unit", caption=caption, group="input", compact=True)


def label_in_panel(one_hot: np.ndarray, t: int) -> Matrix:
    """one_hot [Y]: the label that arrives with step t's sample (that of step t - 1)."""
    names = tuple(str(k) for k in range(one_hot.shape[0]))
    given = int(np.argmax(one_hot)) if one_hot.any() else None
    caption = "none at the first step" if given is None else f"label {given}, of step {t - 1}"
    return Matrix(
        "label in (one step late)", one_hot, "unit", ("in",), names, caption=caption,
        group="input",
    )  # fmt: skip


def guess_panel(probs: np.ndarray, label: int) -> Matrix:
    """probs [Y]: p(label) at this step; the caption names the guess and the truth."""
    names = tuple(str(k) for k in range(probs.shape[0]))
    guess = int(np.argmax(probs))
    verdict = "right" if guess == label else "wrong"
    return Matrix(
        "p(label)", probs, "unit", ("p",), names, group="output",
        caption=f"guess {guess} ({probs[guess]:.2f}), true {label}: {verdict}",
    )  # fmt: skip


def memory_panel(memory: np.ndarray, focus: int, caption: str) -> Matrix:
    """memory [N, M], shown slots across."""
    return Matrix(
        "memory M_t", memory.T, "diverging", units="slots", caption=caption, group="memory",
        focus=focus, compact=True,
    )  # fmt: skip


def usage_panel(usage: np.ndarray, least_used: int, focus: int) -> Matrix:
    """usage [N] after the step; least_used: the slot of smallest usage before it."""
    return Matrix(
        "usage u_t", usage, "positive", ("u",), units="slots", group="memory", focus=focus,
        caption=f"gamma u + read + write weights; least used before this step: slot {least_used}",
    )  # fmt: skip


def weights_panel(name: str, weights: np.ndarray, focus: int, what: str) -> Matrix:
    """weights [R, N] of the R heads; the caption names each head's peak."""
    peaks = " · ".join(
        f"h{k} slot {int(np.argmax(w))} ({float(np.max(w)):.2f})" for k, w in enumerate(weights)
    )
    return Matrix(
        name, weights, "unit", tuple(f"h{k}" for k in range(weights.shape[0])), units="slots",
        caption=f"{what}; peak: {peaks}", group="memory", focus=focus,
    )  # fmt: skip


def step_scalars(label: int, guess: int, presentation: int, sigma: np.ndarray, slot) -> Scalars:
    values = {
        "true label": label,
        "guess": guess,
        "presentation": ordinal(presentation),
    }
    if slot is not None:
        values["least-used slot"] = int(slot)
        for k, s in enumerate(sigma):
            values[f"h{k} sigma(alpha)"] = round(float(s), 3)
    return Scalars("this step", values)


def accuracy_panel(so_far: np.ndarray, held_out: np.ndarray | None) -> Series:
    """so_far [P]: this episode's accuracy at each presentation up to this step (NaN where
    none yet); held_out [P]: the last evaluation's, if any."""
    lines = {"this episode so far": so_far}
    if held_out is not None:
        lines["held-out (last evaluation)"] = held_out
    return Series(
        "accuracy by presentation", lines, x_label="presentation",
        x_values=np.arange(1, so_far.shape[0] + 1, dtype=np.float64), group="metrics",
    )  # fmt: skip


def loss_panel(history: list[float]) -> Series:
    recent = np.asarray(history[-5000:], dtype=np.float64)
    return Series("training loss (nats per step)", {"loss": recent}, x_label="update")
