"""numpy-level NTM forward/backward over a batch of episodes (the kernel contract's shape).

    trace = forward(shape, flat, x, lengths=None)          x [T, B, X] sequence-first
    losses, grads = backward(trace, targets, mask, scale)   targets [T, B, Y], mask [T, B]

`flat` is the flat parameter vector (layout.py); grads is a dict name -> gradient array
(views into grads["flat"]). The loss of episode b is sum_t mask[t, b] * sum_j BCE(y, target)
in nats; backward returns the gradient of scale * sum_b loss_b.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels._flat import checked_batch
from kernels.ntm.batch import (
    backward_batch,
    backward_serial,
    forward_batch,
    forward_serial,
    sum_rows,
)
from kernels.ntm.layout import NTMShape, views

MEMORY_INIT = 1e-6  # every memory cell starts at this constant (Collier and Beel 2018)


def _trace_arrays(tr) -> tuple:
    """The per-step arrays the batch kernels fill and read, in batch.py's trace order."""
    return (tr.ctrl_in, tr.hs, tr.cs, tr.gates, tr.act, tr.addr, tr.reads, tr.mems, tr.logits)


def softmax_rows(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class NTMTrace:
    """One forward pass. Batch-first arrays [B, ...] as in episode.py's module docstring;
    `params` are the named parameter arrays used (dtype-converted), w0 the softmaxed
    initial weightings [heads, N]."""

    shape: NTMShape
    flat: np.ndarray
    params: dict
    w0: np.ndarray
    x: np.ndarray
    lengths: np.ndarray
    ctrl_in: np.ndarray
    hs: np.ndarray
    cs: np.ndarray
    gates: np.ndarray
    act: np.ndarray
    addr: np.ndarray
    reads: np.ndarray
    mems: np.ndarray
    logits: np.ndarray

    @property
    def outputs(self) -> np.ndarray:
        """Sigmoid outputs [T, B, Y] (sequence-first, like x)."""
        return (1.0 / (1.0 + np.exp(-self.logits))).transpose(1, 0, 2)

    def memory_at(self, b: int, t: int) -> np.ndarray:
        """M after step t (t = -1: the initial memory) of episode b: [N, W]."""
        return self.mems[b, (t + 1) * self.shape.write_heads]


def forward(shape: NTMShape, flat: np.ndarray, x, lengths=None, threaded=True) -> NTMTrace:
    """Run a batch of episodes. x [T, B, X]; lengths [B] steps per episode (default T).
    threaded: episodes in parallel threads (prange) when B > 1."""
    flat, x = checked_batch(flat, x, shape.inputs)
    dt = flat.dtype
    T, B, _ = x.shape
    lengths = np.full(B, T, dtype=np.int64) if lengths is None else np.asarray(lengths, np.int64)
    if lengths.shape != (B,) or lengths.min() < 1 or lengths.max() > T:
        raise ValueError(f"lengths must be [B={B}] integers in 1..{T}")
    xb = np.ascontiguousarray(x.transpose(1, 0, 2), dtype=dt)
    p = views(shape, flat)
    w0 = softmax_rows(p["weight0_logits"].astype(np.float64)).astype(dt)
    H, N, W, R, Wh = shape.hidden, shape.slots, shape.width, shape.read_heads, shape.write_heads
    tr = NTMTrace(
        shape=shape,
        flat=flat,
        params=p,
        w0=w0,
        x=xb,
        lengths=lengths,
        ctrl_in=np.zeros((B, T, shape.controller_inputs), dt),
        hs=np.zeros((B, T + 1, H), dt),
        cs=np.zeros((B, T + 1, H), dt),
        gates=np.zeros((B, T, shape.gate_rows), dt),
        act=np.zeros((B, T, shape.head_rows), dt),
        # the two largest: steps past an episode's length stay unwritten (never read)
        addr=np.empty((B, T, shape.heads, 5, N), dt),
        reads=np.zeros((B, T + 1, R, W), dt),
        mems=np.empty((B, T * Wh + 1, N, W), dt),
        logits=np.zeros((B, T, shape.outputs), dt),
    )
    weights = (
        np.ascontiguousarray(p["controller.weight_ih"].T),
        np.ascontiguousarray(p["controller.weight_hh"].T),
        p["controller.bias"],
        p["controller.h0"],
        p["controller.c0"],
        np.ascontiguousarray(p["heads.weight"].T),
        p["heads.bias"],
        np.ascontiguousarray(p["output.weight"].T),
        p["output.bias"],
        p["read0"],
        w0,
        shape.head_offsets(),
        shape.shifts,
        dt.type(MEMORY_INIT),
    )
    run = forward_batch if B > 1 and threaded else forward_serial
    run(xb, lengths, weights, _trace_arrays(tr))
    return tr


def backward(trace: NTMTrace, targets, mask, scale: float = 1.0, threaded=True):
    """-> (losses [B] in nats, grads dict: name -> array, plus "flat" [size])."""
    tr = trace
    dt = tr.flat.dtype
    B, T = tr.x.shape[:2]
    targets = np.asarray(targets)
    mask = np.asarray(mask)
    if targets.shape != (T, B, tr.shape.outputs):
        raise ValueError(
            f"targets must be [T, B, Y] = {(T, B, tr.shape.outputs)}, got {targets.shape}"
        )
    if mask.shape != (T, B):
        raise ValueError(f"mask must be [T, B] = {(T, B)}, got {mask.shape}")
    tb = np.ascontiguousarray(targets.transpose(1, 0, 2), dtype=dt)
    mb = np.ascontiguousarray(mask.T, dtype=dt)
    offsets = np.array([o for o, _ in tr.shape.param_offsets().values()], dtype=np.int64)
    grads = np.empty((B, tr.shape.size), dt)
    losses = np.zeros(B, np.float64)
    p = tr.params
    weights = (
        p["controller.weight_ih"],
        p["controller.weight_hh"],
        p["heads.weight"],
        p["output.weight"],
        p["read0"],
        tr.w0,
        tr.shape.head_offsets(),
        tr.shape.shifts,
    )
    run = backward_batch if B > 1 and threaded else backward_serial
    run(
        tr.x, tr.lengths, tb, mb, dt.type(scale), weights, _trace_arrays(tr), offsets, grads, losses
    )
    flat = sum_rows(grads)
    named = views(tr.shape, flat)
    named["flat"] = flat
    return losses, named
