"""Backpropagation through time, one step at a time, for the screen's backward mode.

The kernels run BPTT over a whole sequence in one call and return only its totals. The
screen wants the pieces: at each step t (from the last to the first), the gradient reaching
h_t, the gradients of the gate pre-activations, and how much of dL/dW_hh has built up so
far. This module recomputes BPTT from the equations in numpy (float64), step by step, from
a kernel trace. It is for display; tests/sequence check it equals the kernels' backward.

Gate gradients are dL/d(pre-activation) of each gate: RNN (a), LSTM (i, f, g, o),
GRU (r, z, n) where n's pre-activation is W_in x + b_in + r * (W_hn h + b_hn).

dL/dW_hh "so far" (the sum of the contributions of the steps BPTT has come down through)
is a [G*H, H] matrix per step: keeping it for every step would cost O(T G H^2). A
RunningSum keeps the per-step factors (O(T (G + 1) H)) and the sums at block starts, and
adds up the few steps within a block on demand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

GATE_ROWS = {"rnn": ("a",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
SUMS_BYTES = 16 * 2**20
"""At most this much for a RunningSum's block sums (unless every block is one matrix)."""
MIN_BLOCK = 32
"""Steps per block at least: a sum at any step adds up fewer than this many products."""


@dataclass(frozen=True)
class RunningSum:
    """sum_{s >= t} left[s].T @ right[s] for any t, in O(block) products per query.

    left [T, B, G], right [T, B, H] in processing order; sums [blocks + 1, G, H] with
    sums[j] the sum from step j * block on (sums[-1] = 0). flipped: t counts in the
    other direction (a reverse-direction layer, whose arrays elsewhere are in original
    time order)."""

    left: np.ndarray
    right: np.ndarray
    sums: np.ndarray
    block: int
    flipped: bool = False

    @classmethod
    def of(cls, left: np.ndarray, right: np.ndarray) -> RunningSum:
        T, G, H = left.shape[0], left.shape[2], right.shape[2]
        block = max(MIN_BLOCK, math.ceil(T / max(1, SUMS_BYTES // (8 * G * H))))
        blocks = math.ceil(T / block)
        sums = np.zeros((blocks + 1, G, H))
        for j in range(blocks - 1, -1, -1):
            sums[j] = sums[j + 1] + _products(left, right, j * block, min((j + 1) * block, T))
        return cls(left, right, sums, block)

    def at(self, t: int) -> np.ndarray:
        """The sum from step t on (processing order; original order when flipped): [G, H]."""
        T = self.left.shape[0]
        t = t + T if t < 0 else t
        if self.flipped:
            t = T - 1 - t
        j = t // self.block
        return self.sums[j + 1] + _products(self.left, self.right, t, min((j + 1) * self.block, T))

    def reversed(self) -> RunningSum:
        return RunningSum(self.left, self.right, self.sums, self.block, not self.flipped)


def _products(left: np.ndarray, right: np.ndarray, start: int, stop: int) -> np.ndarray:
    """sum_{start <= s < stop} left[s].T @ right[s] (over the batch too): [G, H]."""
    G, H = left.shape[2], right.shape[2]
    return left[start:stop].reshape(-1, G).T @ right[start:stop].reshape(-1, H)


@dataclass(frozen=True)
class StepwiseGrads:
    """One layer and direction, indexed in that direction's processing order.

    d_h [T, B, H]: total dL/dh_t; d_gates [T, B, G*H]: dL/d gate pre-activations;
    weight_hh: the running sum behind d_weight_hh_so_far(t); d_input [T, B, I]: dL/dx_t
    (what the layer below receives)."""

    d_h: np.ndarray
    d_gates: np.ndarray
    weight_hh: RunningSum
    d_input: np.ndarray
    d_c: np.ndarray | None = None  # LSTM only: total dL/dc_t [T, B, H]

    def d_weight_hh_so_far(self, t: int) -> np.ndarray:
        """[G*H, H]: the sum of the contributions of steps t..T-1 (at 0: the whole
        gradient); for a reverse direction flipped to original time order, of the steps it
        processed before and at t: t..0."""
        return self.weight_hh.at(t)


def stepwise_backward(cell: str, trace, d_out: np.ndarray, nonlinearity: str = "tanh"):
    """BPTT through one kernel trace (rnn, lstm or gru), step by step. d_out: [T, B, H]."""
    h0 = np.asarray(trace.h0, np.float64)
    hs = np.asarray(trace.out, np.float64)
    w_ih = np.asarray(trace.params["weight_ih"], np.float64)
    w_hh = np.asarray(trace.params["weight_hh"], np.float64)
    d_out = np.asarray(d_out, np.float64)
    T, B, H = hs.shape
    G = w_hh.shape[0]
    d_h = np.zeros((T, B, H))
    d_gates = np.zeros((T, B, G))
    d_gates_h = d_gates if cell != "gru" else np.zeros((T, B, G))  # what W_hh multiplies
    dh_next = np.zeros((B, H))
    dc_next = np.zeros((B, H))
    d_c = np.zeros((T, B, H)) if cell == "lstm" else None
    # whole-sequence conversions once, not a float64 copy per step
    all_gates = np.asarray(trace.gates, np.float64) if cell != "rnn" else None
    if cell == "lstm":
        cs = np.asarray(trace.c, np.float64)
        c0 = np.asarray(trace.c0, np.float64)
    if cell == "gru":
        hns = np.asarray(trace.hn, np.float64)  # W_hn h_prev + b_hn
    for t in range(T - 1, -1, -1):
        h_prev = h0 if t == 0 else hs[t - 1]
        dh = d_out[t] + dh_next
        d_h[t] = dh
        if cell == "rnn":
            if nonlinearity == "tanh":
                d_pre = dh * (1.0 - hs[t] ** 2)
            else:
                d_pre = dh * (hs[t] > 0)
            dh_next = d_pre @ w_hh
        elif cell == "lstm":
            gates = all_gates[t]
            i, f, g, o = (gates[:, k * H : (k + 1) * H] for k in range(4))
            c = cs[t]
            c_prev = c0 if t == 0 else cs[t - 1]
            tc = np.tanh(c)
            dc = dc_next + dh * o * (1.0 - tc**2)
            d_c[t] = dc
            d_pre = np.concatenate(
                [
                    dc * g * i * (1 - i),
                    dc * c_prev * f * (1 - f),
                    dc * i * (1 - g**2),
                    dh * tc * o * (1 - o),
                ],
                axis=1,
            )
            dc_next = dc * f
            dh_next = d_pre @ w_hh
        else:
            gates = all_gates[t]
            r, z, n = (gates[:, k * H : (k + 1) * H] for k in range(3))
            hn = hns[t]
            d_n = dh * (1.0 - z) * (1.0 - n**2)
            d_r = d_n * hn * r * (1.0 - r)
            d_z = dh * (h_prev - n) * z * (1.0 - z)
            d_pre = np.concatenate([d_r, d_z, d_n], axis=1)
            d_pre_h = np.concatenate([d_r, d_z, d_n * r], axis=1)
            d_gates_h[t] = d_pre_h
            dh_next = dh * z + d_pre_h @ w_hh
        d_gates[t] = d_pre
    d_input = d_gates @ w_ih
    h_prevs = np.concatenate([h0[None], hs[:-1]])  # [T, B, H]: the state each step read
    return StepwiseGrads(d_h, d_gates, RunningSum.of(d_gates_h, h_prevs), d_input, d_c)


def recurrent_stepwise(rnn, d_out: np.ndarray) -> dict[tuple[int, int], StepwiseGrads]:
    """Step-by-step BPTT through every layer and direction of the last rnn.forward().

    d_out: [T, B, D*H] (dL/d top-layer output). Returns (layer, direction) -> StepwiseGrads,
    every array in *original* time order (the reverse direction's arrays are flipped back;
    its d_weight_hh_so_far(t) then sums the steps it processed before and at t: t..0).
    """
    H = rnn.hidden_size
    result = {}
    d_layer_out = np.asarray(d_out, np.float64)
    for layer in reversed(range(rnn.num_layers)):
        d_below = None
        for direction in range(rnn.directions):
            piece = d_layer_out[:, :, direction * H : (direction + 1) * H]
            if direction == 1:
                piece = piece[::-1]
            trace = rnn.traces[layer][direction]
            grads = stepwise_backward(rnn.cell, trace, piece, rnn.nonlinearity)
            if direction == 1:
                flip = (None if a is None else a[::-1] for a in (grads.d_h, grads.d_gates))
                grads = StepwiseGrads(
                    *flip,
                    grads.weight_hh.reversed(),
                    grads.d_input[::-1],
                    None if grads.d_c is None else grads.d_c[::-1],
                )
            result[(layer, direction)] = grads
            d_below = grads.d_input if d_below is None else d_below + grads.d_input
        d_layer_out = d_below
    return result
