"""Frames of the sequence lab: forward steps, BPTT (backward) steps, the start.

Kept apart from the lab so each file stays about one thing. Everything here reads the
lab's precomputed stepping results (lab.sample, lab.step_traces, lab.step_probs,
lab.bptt) and builds immutable Frames; nothing is computed that the tests could not
compare with the kernels.
"""

from __future__ import annotations

import numpy as np

from tui_lab.bptt import GATE_ROWS
from tui_lab.frames import Frame, Matrix, Scalars, Sequence, Series, TopK
from tui_lab.models import GATE_NAMES
from tui_lab.seqnet import gradient_ratio

DIRECTION_NAMES = ("forward", "backward")


def _parts(lab):
    """(layer, direction, suffix) for every layer and direction; suffix names panels."""
    rnn = lab.net.rnn
    parts = []
    for layer in range(rnn.num_layers):
        for direction in range(rnn.directions):
            suffix = ""
            if rnn.num_layers > 1:
                suffix += f" layer {layer}"
            if rnn.directions > 1:
                suffix += f" {DIRECTION_NAMES[direction]}"
            parts.append((layer, direction, suffix))
    return parts


def _key(layer: int, direction: int) -> str:
    return f"{layer}{'r' if direction else ''}"


def states(lab, layer: int, direction: int) -> dict[str, np.ndarray]:
    """h (and c, gates) [T, ...] of one layer and direction, in original time order."""
    trace = lab.step_traces[layer][direction]
    flip = (lambda a: a[::-1]) if direction == 1 else (lambda a: a)
    result = {"h": flip(trace.out[:, 0])}
    if lab.net.cell == "lstm":
        result["c"] = flip(trace.c[:, 0])
    if GATE_NAMES[lab.net.cell]:
        result["gates"] = flip(trace.gates[:, 0])
    return result


def _target_labels(lab) -> tuple[str, ...]:
    task, targets = lab.task, lab.sample.targets
    T = lab.T()
    if task.mode == "last":
        return tuple([""] * (T - 1) + [task.class_labels[int(targets[0])]])
    return tuple(task.class_labels[int(c)] if c >= 0 else "" for c in targets[:, 0])


def _target_at(lab, t: int) -> int | None:
    targets = lab.sample.targets
    if lab.task.mode == "last":
        return int(targets[0]) if t == lab.T() - 1 else None
    return int(targets[t, 0]) if targets[t, 0] >= 0 else None


def sequence_panel(lab, position: int) -> Sequence:
    traces = {}
    for layer, direction, _ in _parts(lab):
        key = _key(layer, direction)
        found = states(lab, layer, direction)
        traces[f"h{key}"] = found["h"]
        if "c" in found:
            traces[f"c{key}"] = found["c"]
        for g, name in enumerate(GATE_NAMES[lab.net.cell]):
            H = lab.net.rnn.hidden_size
            traces[f"{name}{key}"] = found["gates"][:, g * H : (g + 1) * H]
        traces[f"dh{key}"] = lab.bptt[(layer, direction)].d_h[:, 0]
    tokens = tuple(lab.task.token(int(c)) for c in lab.sample.codes[:, 0])
    return Sequence("input", tokens, position, traces=traces, targets=_target_labels(lab))


def _loss_series(lab) -> Series:
    history = np.asarray(lab.loss_history[-2000:], dtype=np.float64)
    return Series("training loss", {"loss": history}, x_label="update")


def _norm_series(lab) -> Series:
    """The global gradient norm of recent updates, before clipping (log scale)."""
    norms = np.asarray(lab.grad_norms, dtype=np.float64)
    positive = bool(np.all(norms[np.isfinite(norms)] > 0))
    return Series("gradient norm", {"before clipping": norms}, x_label="update", log_y=positive)


def _frame(lab, t: int, panels, phase="forward", status="") -> Frame:
    loss = lab.loss_history[-1] if lab.loss_history else None
    return Frame(
        lab.title(),
        t,
        lab.T(),
        panels,
        phase=phase,
        train_step=lab.train_step,
        loss=loss,
        status=status,
    )


def initial_frame(lab) -> Frame:
    status = "-> steps forward through the sequence, then backward through time (BPTT)"
    return _frame(lab, -1, [sequence_panel(lab, -1), _loss_series(lab)], status=status)


def forward_frame(lab, t: int) -> Frame:
    task, H = lab.task, lab.net.rnn.hidden_size
    units = tuple(str(j) for j in range(H))
    panels: list = [sequence_panel(lab, t)]
    x_t = lab.sample.x[t, 0]
    input_labels = task.input_labels
    panels.append(
        Matrix(
            "x_t",
            x_t,
            "unit",
            ("x",),
            input_labels,
            caption=f"input {task.token(int(lab.sample.codes[t, 0]))}",
            group="input",
        )
    )
    gate_names = GATE_NAMES[lab.net.cell]
    T = lab.T()
    for layer, direction, suffix in _parts(lab):
        key = _key(layer, direction)
        found = states(lab, layer, direction)
        rows, traces, values = ["h"], [f"h{key}"], [found["h"][t]]
        if "c" in found:
            rows, traces, values = (
                ["c", "h"],
                [f"c{key}", f"h{key}"],
                [found["c"][t], found["h"][t]],
            )
        read = f"has read steps 0..{t}" if direction == 0 else f"has read steps {T - 1}..{t}"
        panels.append(
            Matrix(
                f"h_t{suffix}",
                np.array(values),
                "diverging",
                tuple(rows),
                units,
                units="hidden",
                row_traces=tuple(traces),
                caption=f"state at step {t}: {read}",
            )
        )
        if gate_names:
            panels.append(
                Matrix(
                    f"gates{suffix}",
                    found["gates"][t].reshape(len(gate_names), H),
                    "unit",
                    gate_names,
                    units,
                    units="hidden",
                    row_traces=tuple(f"{name}{key}" for name in gate_names),
                    caption="gate activations (0..1; g and n are -1..1)",
                )
            )
    probs = lab.step_probs[t]
    target = _target_at(lab, t)
    order = np.argsort(-probs)[:5]
    labels = task.class_labels
    panels.append(
        TopK(
            "prediction",
            tuple((labels[i], probs[i]) for i in order),
            target=labels[target] if target is not None else None,
        )
    )
    panels.append(Matrix("p(class)", probs, "unit", ("p",), labels, group="output"))
    scalars = {"input": task.token(int(lab.sample.codes[t, 0])), "task": task.name}
    if target is not None:
        scalars["target"] = labels[target]
        scalars["-log p(target)"] = round(float(-np.log(max(probs[target], 1e-12))), 4)
    else:
        scalars["target"] = "(not scored here)"
    panels.append(Scalars("this step", scalars))
    weight = lab.net.rnn.params["weight_hh_l0"]
    panels.append(
        Matrix(
            "weight_hh_l0",
            weight,
            "diverging",
            group="weights",
            caption=f"recurrent weights [{weight.shape[0]} x {weight.shape[1]}]",
        )
    )
    panels += [_loss_series(lab), _norm_series(lab)]
    return _frame(lab, t, panels)


def grad_norms(lab, layer: int, direction: int) -> np.ndarray:
    """||dL/dh_t|| for every t [T] of the stepping sequence."""
    d_h = lab.bptt[(layer, direction)].d_h[:, 0]
    return np.sqrt((d_h**2).sum(axis=1))


def backward_frame(lab, t: int) -> Frame:
    """BPTT step t (shown after the forward steps, from t = T-1 down to 0)."""
    H, T = lab.net.rnn.hidden_size, lab.T()
    units = tuple(str(j) for j in range(H))
    panels: list = [sequence_panel(lab, t)]
    parts = _parts(lab)
    rows = tuple(suffix.strip() or "dL/dh" for _, _, suffix in parts)
    d_h = np.array([lab.bptt[(layer, direction)].d_h[t, 0] for layer, direction, _ in parts])
    panels.append(
        Matrix(
            "dL/dh_t",
            d_h,
            "diverging",
            rows,
            units,
            units="hidden",
            row_traces=tuple(f"dh{_key(layer, direction)}" for layer, direction, _ in parts),
            caption=f"dL/dh_{t}: from the output at {t} and back from h_{t + 1}",
            group="gradients",
        )
    )
    if lab.net.cell == "lstm":
        d_c = np.array([lab.bptt[(layer, direction)].d_c[t, 0] for layer, direction, _ in parts])
        panels.append(
            Matrix(
                "dL/dc_t",
                d_c,
                "diverging",
                tuple(suffix.strip() or "dL/dc" for _, _, suffix in parts),
                units,
                units="hidden",
                group="gradients",
                caption=f"dL/dc_{t}: the cell state's path back (times f at each step)",
            )
        )
    gate_rows = GATE_ROWS[lab.net.cell]
    for layer, direction, suffix in parts:
        d_gates = lab.bptt[(layer, direction)].d_gates[t, 0].reshape(len(gate_rows), H)
        panels.append(
            Matrix(
                f"dL/d gates{suffix}",
                d_gates,
                "diverging",
                tuple(f"d{g}" for g in gate_rows),
                units,
                units="hidden",
                group="gradients",
                caption="dL/d pre-activation of each gate at this step",
            )
        )
    so_far = lab.bptt[(0, 0)].d_weight_hh_so_far[t]
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
    for layer, direction, suffix in parts:
        norms = grad_norms(lab, layer, direction).copy()
        if direction == 0:
            norms[:t] = np.nan  # not reached yet: BPTT has come down to t
        reached_positive &= bool(np.all(norms[~np.isnan(norms)] > 0))
        lines[suffix.strip() or "||dL/dh_t||"] = norms
        if lab.net.cell == "lstm":
            d_c = lab.bptt[(layer, direction)].d_c[:, 0]
            c_norms = np.sqrt((d_c**2).sum(axis=1))
            if direction == 0:
                c_norms[:t] = np.nan
            reached_positive &= bool(np.all(c_norms[~np.isnan(c_norms)] > 0))
            lines[(suffix.strip() + " dL/dc").strip()] = c_norms
    panels.append(Series("||dL/dh_t||", lines, x_label="t", marker=t, log_y=reached_positive))
    norms = grad_norms(lab, 0, 0)
    top = grad_norms(lab, lab.net.rnn.num_layers - 1, 0)
    total = lab.bptt[(0, 0)].d_weight_hh_so_far[0]
    panels.append(
        Scalars(
            "BPTT step",
            {
                "t": t,
                "||dL/dh_t||": float(norms[t]),
                "||dL/dh_t|| / ||dL/dh_T||": gradient_ratio(top[t:]),
                "||dW_hh so far||": float(np.linalg.norm(so_far)),
                "||dW_hh total||": float(np.linalg.norm(total)),
                "sequence loss": round(float(lab.step_loss), 5),
            },
        )
    )
    panels += [_loss_series(lab), _norm_series(lab)]
    status = f"backward through time: step {t} of {T - 1}..0"
    return _frame(lab, t, panels, phase="backward", status=status)
