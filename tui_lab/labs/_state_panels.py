"""The recurrent-state panels that char_rnn, forecast and anomaly share: h_t (and c_t)
and the gate activations of every layer, and the per-step traces of the input strip."""

from __future__ import annotations

import numpy as np

from tui_lab.frames import Matrix
from tui_lab.models import GATE_NAMES

__all__ = ["collect_states", "recurrent_panels", "state_traces"]


def collect_states(rnn, time, batch) -> tuple[np.ndarray, np.ndarray]:
    """States and gates of the last forward at trace[time, batch] (ints or slices).

    Returns states [..., L, 2, H] (h, then c for LSTM; zeros otherwise) and gates
    [..., L, G, H] (G = 1 of zeros for the plain RNN), the leading dims from the indexing.
    """
    H = rnn.hidden_size
    names = GATE_NAMES[rnn.cell]
    states, gates = [], []
    for traces in rnn.traces:
        trace = traces[0]
        h = trace.out[time, batch]
        c = trace.c[time, batch] if rnn.cell == "lstm" else np.zeros_like(h)
        states.append(np.stack([h, c], axis=-2))
        if names:
            g = trace.gates[time, batch]
            gates.append(g.reshape(*g.shape[:-1], len(names), H))
        else:
            gates.append(np.zeros((*h.shape[:-1], 1, H)))
    return np.stack(states, axis=-3).astype(np.float64), np.stack(gates, axis=-3).astype(np.float64)


def state_traces(rnn, states: np.ndarray, gates: np.ndarray) -> dict[str, np.ndarray]:
    """Per-step traces for a Sequence strip. states [T, L, 2, H], gates [T, L, G, H]."""
    traces = {}
    for layer in range(rnn.num_layers):
        traces[f"h{layer}"] = states[:, layer, 0]
        if rnn.cell == "lstm":
            traces[f"c{layer}"] = states[:, layer, 1]
        for g, name in enumerate(GATE_NAMES[rnn.cell]):
            traces[f"{name}{layer}"] = gates[:, layer, g]
    return traces


def recurrent_panels(rnn, states: np.ndarray, gates: np.ndarray) -> list:
    """h_t (c_t) and gate matrices of every layer. states [L, 2, H], gates [L, G, H]."""
    units = tuple(str(i) for i in range(rnn.hidden_size))
    names = GATE_NAMES[rnn.cell]
    panels: list = []
    for layer in range(rnn.num_layers):
        suffix = f" (layer {layer})" if rnn.num_layers > 1 else ""
        if rnn.cell == "lstm":
            rows, traces, values = ("c", "h"), (f"c{layer}", f"h{layer}"), states[layer, ::-1]
        else:
            rows, traces, values = ("h",), (f"h{layer}",), states[layer, :1]
        panels.append(
            Matrix(
                f"h_t{suffix}",
                values,
                "diverging",
                rows,
                units,
                units="hidden",
                row_traces=traces,
                caption="hidden state after this step",
            )
        )
        if names:
            panels.append(
                Matrix(
                    f"gates{suffix}",
                    gates[layer],
                    "unit",
                    names,
                    units,
                    units="hidden",
                    row_traces=tuple(f"{name}{layer}" for name in names),
                    caption="gate activations (0..1; g and n are -1..1)",
                )
            )
    return panels
