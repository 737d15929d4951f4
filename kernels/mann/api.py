"""numpy-level MANN forward/backward over a batch of episodes (the kernel contract's shape).

    trace = forward(shape, flat, x, gamma=0.95)             x [T, B, X] sequence-first
    losses, grads = backward(trace, labels, mask, scale)     labels [T, B] int, mask [T, B]

`flat` is the flat parameter vector (layout.py); grads is a dict name -> gradient array
(views into grads["flat"]). The loss of episode b is sum_t mask[t, b] * CE(softmax(y_t),
labels[t, b]) in nats; backward returns the gradient of scale * sum_b loss_b.

Three matrix products go to BLAS here rather than into the per-step loops: the input
projection W_x x_t + b of every step of every episode (X is the largest input: a 20 x 20
sample), and the weight gradients, sums over (episode, step) of outer products of the
per-step gradients that batch.py fills with the step's inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels._flat import checked_batch
from kernels.mann.batch import backward_batch, backward_serial, forward_batch, forward_serial
from kernels.mann.layout import MANNShape, views

MEMORY_INIT = 1e-6  # every memory cell starts at this constant (as the NTM's)
GAMMA = 0.95  # the paper's usage decay


def _trace_arrays(tr) -> tuple:
    """The per-step arrays the batch kernels fill and read, in batch.py's trace order."""
    return (
        tr.hs, tr.cs, tr.gates, tr.act, tr.least_used, tr.w_write, tr.sim, tr.w_read,
        tr.usage, tr.mems, tr.reads, tr.logits,
    )  # fmt: skip


@dataclass
class MANNTrace:
    """One forward pass: batch-first arrays [B, ...] as in episode.py's module docstring
    (T steps; [T+1] arrays start with the state before the first step)."""

    shape: MANNShape
    flat: np.ndarray
    params: dict
    gamma: float
    x: np.ndarray  # [B, T, X]
    hs: np.ndarray  # [B, T+1, H]
    cs: np.ndarray  # [B, T+1, H]
    gates: np.ndarray  # [B, T, 4H]
    act: np.ndarray  # [B, T, P]
    least_used: np.ndarray  # [B, T, R] int64
    w_write: np.ndarray  # [B, T, R, N]
    sim: np.ndarray  # [B, T, R, N]
    w_read: np.ndarray  # [B, T+1, R, N]
    usage: np.ndarray  # [B, T+1, N]
    mems: np.ndarray  # [B, T+1, N, M]
    reads: np.ndarray  # [B, T+1, R, M]
    logits: np.ndarray  # [B, T, Y]

    @property
    def probs(self) -> np.ndarray:
        """Softmax over the classes [T, B, Y] (sequence-first, like x), float64."""
        z = self.logits.astype(np.float64).transpose(1, 0, 2)
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)


def _weights_forward(p, shape: MANNShape):
    w_ih = p["controller.weight_ih"]
    return (
        np.ascontiguousarray(w_ih[:, shape.inputs :].T),
        np.ascontiguousarray(p["controller.weight_hh"].T),
        np.ascontiguousarray(p["heads.weight"].T),
        p["heads.bias"],
        np.ascontiguousarray(p["output.weight"].T),
        p["output.bias"],
    )


def forward(shape: MANNShape, flat: np.ndarray, x, gamma: float = GAMMA, threaded=True):
    """Run a batch of episodes of one length. x [T, B, X]. threaded: episodes in parallel
    threads (prange) when B > 1. -> MANNTrace."""
    flat, x = checked_batch(flat, x, shape.inputs)
    dt = flat.dtype
    T, B, X = x.shape
    p = views(shape, flat)
    xb = np.ascontiguousarray(x.transpose(1, 0, 2), dtype=dt)
    w_x_t = np.ascontiguousarray(p["controller.weight_ih"][:, :X].T)  # a faster GEMM than .T
    xproj = (xb.reshape(B * T, X) @ w_x_t + p["controller.bias"]).reshape(B, T, -1)
    H, R, M, N = shape.hidden, shape.heads, shape.width, shape.memory_slots
    tr = MANNTrace(
        shape=shape,
        flat=flat,
        params=p,
        gamma=float(gamma),
        x=xb,
        hs=np.empty((B, T + 1, H), dt),
        cs=np.empty((B, T + 1, H), dt),
        gates=np.empty((B, T, shape.gate_rows), dt),
        act=np.empty((B, T, shape.head_rows), dt),
        least_used=np.empty((B, T, R), np.int64),
        w_write=np.empty((B, T, R, N), dt),
        sim=np.empty((B, T, R, N), dt),
        w_read=np.empty((B, T + 1, R, N), dt),
        usage=np.empty((B, T + 1, N), dt),
        mems=np.empty((B, T + 1, N, M if R else 0), dt),
        reads=np.empty((B, T + 1, R, M), dt),
        logits=np.empty((B, T, shape.classes), dt),
    )
    run = forward_batch if B > 1 and threaded else forward_serial
    run(
        np.ascontiguousarray(xproj, dtype=dt),
        _weights_forward(p, shape),
        dt.type(gamma),
        dt.type(MEMORY_INIT),
        shape.key_strength,
        _trace_arrays(tr),
    )
    return tr


def backward(trace: MANNTrace, labels, mask=None, scale: float = 1.0, threaded=True):
    """-> (losses [B] in nats, grads dict: name -> array, plus "flat" [size])."""
    tr, shape = trace, trace.shape
    dt = tr.flat.dtype
    B, T, X = tr.x.shape
    labels = np.asarray(labels)
    if labels.shape != (T, B) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers [T, B] = {(T, B)}, got {labels.shape}")
    if labels.min() < 0 or labels.max() >= shape.classes:
        raise ValueError(f"labels must be in 0..{shape.classes - 1}")
    mask = np.ones((T, B)) if mask is None else np.asarray(mask)
    if mask.shape != (T, B):
        raise ValueError(f"mask must be [T, B] = {(T, B)}, got {mask.shape}")
    p = tr.params
    G, P, Y = shape.gate_rows, shape.head_rows, shape.classes
    d_pre = np.empty((B, T, G), dt)
    d_raw = np.zeros((B, T, P), dt)
    d_y = np.empty((B, T, Y), dt)
    losses = np.zeros(B, np.float64)
    weights = (
        np.ascontiguousarray(p["controller.weight_ih"][:, X:]),
        p["controller.weight_hh"],
        p["heads.weight"],
        p["output.weight"],
    )
    run = backward_batch if B > 1 and threaded else backward_serial
    run(
        np.ascontiguousarray(labels.T, dtype=np.int64),
        np.ascontiguousarray(mask.T, dtype=dt),
        dt.type(scale),
        weights,
        shape.key_strength,
        _trace_arrays(tr),
        d_pre,
        d_raw,
        d_y,
        losses,
    )
    flat = np.zeros(shape.size, dt)
    g = views(shape, flat)
    R, M, H = shape.heads, shape.width, shape.hidden
    rows = B * T
    d_pre, d_raw, d_y = d_pre.reshape(rows, G), d_raw.reshape(rows, P), d_y.reshape(rows, Y)
    h_prev, h_now = tr.hs[:, :T].reshape(rows, H), tr.hs[:, 1:].reshape(rows, H)
    d_pre_t = np.ascontiguousarray(d_pre.T)
    g_ih, g_out = g["controller.weight_ih"], g["output.weight"]
    g_ih[:, :X] = d_pre_t @ tr.x.reshape(rows, X)  # the step inputs [x_t, r_{t-1}] ...
    g_ih[:, X:] = d_pre_t @ tr.reads[:, :T].reshape(rows, R * M)
    g["controller.weight_hh"][...] = d_pre_t @ h_prev
    g["controller.bias"][...] = d_pre.sum(axis=0)
    g["heads.weight"][...] = d_raw.T @ h_now
    g["heads.bias"][...] = d_raw.sum(axis=0)
    g_out[:, :H] = d_y.T @ h_now  # ... and the output layer's [h_t, r_t]
    g_out[:, H:] = d_y.T @ tr.reads[:, 1:].reshape(rows, R * M)
    g["output.bias"][...] = d_y.sum(axis=0)
    g["flat"] = flat
    return losses, g
