"""The recurrent-state panels that char_rnn, sequence, compare, forecast and anomaly share:
h_t (and c_t) and the gate activations of every layer, and the per-step traces of the
input strip.

One layer's (and direction's) panels and traces come from state_matrix, gate_matrix and
add_traces; `key` names its traces in the strip ("h0", "c0", "f0", "h1r" ...)."""

from __future__ import annotations

import numpy as np

from tui_lab.frames import Matrix
from tui_lab.models import GATE_NAMES

__all__ = [
    "add_traces",
    "collect_states",
    "gate_matrix",
    "recurrent_panels",
    "state_matrix",
    "state_traces",
]

GATE_CAPTION = "gate activations (0..1; g and n are -1..1)"


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


def state_matrix(name: str, state: np.ndarray, cell: str, key: str, caption: str) -> Matrix:
    """h_t of one layer, with c_t above it for an LSTM. state: [2, H] (h, then c)."""
    units = tuple(str(i) for i in range(state.shape[-1]))
    if cell == "lstm":
        rows, traces, values = ("c", "h"), (f"c{key}", f"h{key}"), state[::-1]
    else:
        rows, traces, values = ("h",), (f"h{key}",), state[:1]
    return Matrix(
        name, values, "diverging", rows, units, units="hidden", row_traces=traces, caption=caption
    )


def gate_matrix(name: str, gates: np.ndarray, cell: str, key: str) -> Matrix:
    """The gate activations of one layer (a cell with gates). gates: [G, H]."""
    names = GATE_NAMES[cell]
    return Matrix(
        name,
        gates,
        "unit",
        names,
        tuple(str(i) for i in range(gates.shape[-1])),
        units="hidden",
        row_traces=tuple(f"{gate}{key}" for gate in names),
        caption=GATE_CAPTION,
    )


def add_traces(traces: dict, cell: str, key: str, states: np.ndarray, gates: np.ndarray) -> None:
    """Put one layer's strip traces into `traces`: h, c (LSTM), then each gate, [T, H]
    views of states [T, 2, H] and gates [T, G, H]."""
    traces[f"h{key}"] = states[:, 0]
    if cell == "lstm":
        traces[f"c{key}"] = states[:, 1]
    for g, name in enumerate(GATE_NAMES[cell]):
        traces[f"{name}{key}"] = gates[:, g]


def state_traces(rnn, states: np.ndarray, gates: np.ndarray) -> dict[str, np.ndarray]:
    """Per-step traces for a Sequence strip. states [T, L, 2, H], gates [T, L, G, H]."""
    traces: dict[str, np.ndarray] = {}
    for layer in range(rnn.num_layers):
        add_traces(traces, rnn.cell, str(layer), states[:, layer], gates[:, layer])
    return traces


def recurrent_panels(rnn, states: np.ndarray, gates: np.ndarray) -> list:
    """h_t (c_t) and gate matrices of every layer. states [L, 2, H], gates [L, G, H]."""
    panels: list = []
    for layer in range(rnn.num_layers):
        suffix = f" (layer {layer})" if rnn.num_layers > 1 else ""
        caption = "hidden state after this step"
        panels.append(state_matrix(f"h_t{suffix}", states[layer], rnn.cell, str(layer), caption))
        if GATE_NAMES[rnn.cell]:
            panels.append(gate_matrix(f"gates{suffix}", gates[layer], rnn.cell, str(layer)))
    return panels
