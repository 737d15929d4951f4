"""The sequence lab's panels: forward steps, BPTT (backward) steps, the start.

Free functions on plain arguments: a SequenceWalk (tui_lab/labs/sequence.py), the step,
the task, arrays. They index the walk's arrays (no model call), and the h_t / gate
panels come from _state_panels, shared with the other recurrent labs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tui_lab.bptt import GATE_ROWS
from tui_lab.frames import Matrix, Scalars, Sequence, Series, TopK
from tui_lab.labs._state_panels import gate_matrix, state_matrix
from tui_lab.models import GATE_NAMES
from tui_lab.seqnet import gradient_ratio

if TYPE_CHECKING:
    from tui_lab.labs.sequence import SequenceWalk
    from tui_lab.tasks.sequence_tasks import SequenceTask

DIRECTION_NAMES = ("forward", "backward")
START_STATUS = "-> steps forward through the sequence, then backward through time (BPTT)"


def parts(num_layers: int, directions: int) -> tuple[tuple[int, int, str], ...]:
    """(layer, direction, suffix) for every layer and direction; suffix names panels."""
    found = []
    for layer in range(num_layers):
        for direction in range(directions):
            suffix = ""
            if num_layers > 1:
                suffix += f" layer {layer}"
            if directions > 1:
                suffix += f" {DIRECTION_NAMES[direction]}"
            found.append((layer, direction, suffix))
    return tuple(found)


def key(layer: int, direction: int) -> str:
    """The traces' name suffix of one layer and direction ("0", "1r")."""
    return f"{layer}{'r' if direction else ''}"


def sequence_panel(walk: SequenceWalk, position: int) -> Sequence:
    return Sequence("input", walk.tokens, position, traces=walk.traces, targets=walk.labels)


def loss_series(loss_history) -> Series:
    history = np.asarray(loss_history[-2000:], dtype=np.float64)
    return Series("training loss", {"loss": history}, x_label="update")


def norm_series(grad_norms) -> Series:
    """The global gradient norm of recent updates, before clipping (log scale)."""
    norms = np.asarray(grad_norms, dtype=np.float64)
    positive = bool(np.all(norms[np.isfinite(norms)] > 0))
    return Series("gradient norm", {"before clipping": norms}, x_label="update", log_y=positive)


def top_norms(walk: SequenceWalk) -> np.ndarray:
    """||dL/dh_t|| [T] of the top layer's forward direction."""
    top = max(layer for layer, _, _ in walk.parts)
    return walk.d_h_norms[[(layer, d) for layer, d, _ in walk.parts].index((top, 0))]


def forward_panels(walk: SequenceWalk, t: int, task: SequenceTask, weight_hh) -> list:
    """Forward step t: the input, h_t and gates of every layer and direction, the
    prediction. weight_hh: the live weight_hh_l0 [G*H, H]."""
    T, cell = walk.steps, walk.cell
    panels: list = [sequence_panel(walk, t)]
    token = walk.tokens[t]
    panels.append(
        Matrix(
            "x_t",
            walk.x[t],
            "unit",
            ("x",),
            task.input_labels,
            caption=f"input {token}",
            group="input",
        )
    )
    for p, (layer, direction, suffix) in enumerate(walk.parts):
        k = key(layer, direction)
        read = f"has read steps 0..{t}" if direction == 0 else f"has read steps {T - 1}..{t}"
        caption = f"state at step {t}: {read}"
        panels.append(state_matrix(f"h_t{suffix}", walk.states[t, p], cell, k, caption))
        if GATE_NAMES[cell]:
            panels.append(gate_matrix(f"gates{suffix}", walk.gates[t, p], cell, k))
    probs = walk.probs[t]
    target = int(walk.targets[t])
    order = np.argsort(-probs)[:5]
    labels = task.class_labels
    panels.append(
        TopK(
            "prediction",
            tuple((labels[i], probs[i]) for i in order),
            target=labels[target] if target >= 0 else None,
        )
    )
    panels.append(Matrix("p(class)", probs, "unit", ("p",), labels, group="output"))
    scalars = {"input": token, "task": task.name}
    if target >= 0:
        scalars["target"] = labels[target]
        scalars["-log p(target)"] = round(float(-np.log(max(probs[target], 1e-12))), 4)
    else:
        scalars["target"] = "(not scored here)"
    panels.append(Scalars("this step", scalars))
    panels.append(
        Matrix(
            "weight_hh_l0",
            weight_hh,
            "diverging",
            group="weights",
            caption=f"recurrent weights [{weight_hh.shape[0]} x {weight_hh.shape[1]}]",
        )
    )
    return panels


def backward_panels(walk: SequenceWalk, t: int) -> list:
    """BPTT step t (shown after the forward steps, from t = T-1 down to 0): dL/dh_t, dL/dc_t,
    the gate gradients, dL/dW_hh summed so far, the norms BPTT has reached."""
    T, cell, grads = walk.steps, walk.cell, walk.grads
    H = walk.states.shape[-1]
    units = tuple(str(j) for j in range(H))
    panels: list = [sequence_panel(walk, t)]
    panels.append(
        Matrix(
            "dL/dh_t",
            np.array([g.d_h[t, 0] for g in grads]),
            "diverging",
            tuple(suffix.strip() or "dL/dh" for _, _, suffix in walk.parts),
            units,
            units="hidden",
            row_traces=tuple(f"dh{key(layer, direction)}" for layer, direction, _ in walk.parts),
            caption=f"dL/dh_{t}: from the output at {t} and back from h_{t + 1}",
            group="gradients",
        )
    )
    if cell == "lstm":
        panels.append(
            Matrix(
                "dL/dc_t",
                np.array([g.d_c[t, 0] for g in grads]),
                "diverging",
                tuple(suffix.strip() or "dL/dc" for _, _, suffix in walk.parts),
                units,
                units="hidden",
                group="gradients",
                caption=f"dL/dc_{t}: the cell state's path back (times f at each step)",
            )
        )
    gate_rows = GATE_ROWS[cell]
    for g, (_, _, suffix) in zip(grads, walk.parts, strict=True):
        panels.append(
            Matrix(
                f"dL/d gates{suffix}",
                g.d_gates[t, 0].reshape(len(gate_rows), H),
                "diverging",
                tuple(f"d{row}" for row in gate_rows),
                units,
                units="hidden",
                group="gradients",
                caption="dL/d pre-activation of each gate at this step",
            )
        )
    so_far = grads[0].d_weight_hh_so_far(t)
    panels.append(
        Matrix(
            "dL/dW_hh so far",
            so_far,
            "diverging",
            group="gradients",
            caption=f"weight_hh_l0 gradient summed over steps {T - 1}..{t} (at 0: the whole of it)",
        )
    )
    lines = {}
    reached_positive = True
    for p, (_, direction, suffix) in enumerate(walk.parts):
        shown = {suffix.strip() or "||dL/dh_t||": walk.d_h_norms[p]}
        if cell == "lstm":
            shown[(suffix.strip() + " dL/dc").strip()] = walk.d_c_norms[p]
        for name, values in shown.items():
            norms = values.copy()
            if direction == 0:
                norms[:t] = np.nan  # not reached yet: BPTT has come down to t
            reached_positive &= bool(np.all(norms[~np.isnan(norms)] > 0))
            lines[name] = norms
    panels.append(Series("||dL/dh_t||", lines, x_label="t", marker=t, log_y=reached_positive))
    top = top_norms(walk)
    panels.append(
        Scalars(
            "BPTT step",
            {
                "t": t,
                "||dL/dh_t||": float(walk.d_h_norms[0][t]),
                "||dL/dh_t|| / ||dL/dh_T||": gradient_ratio(top[t:]),
                "||dW_hh so far||": float(np.linalg.norm(so_far)),
                "||dW_hh total||": float(np.linalg.norm(grads[0].d_weight_hh_so_far(0))),
                "sequence loss": round(float(walk.loss), 5),
            },
        )
    )
    return panels
