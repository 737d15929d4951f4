"""numpy-level MANN forward/backward over a batch of episodes (the kernel contract's shape).

    trace = forward(shape, flat, x, gamma=0.95)             x [T, B, X] sequence-first
    losses, grads = backward(trace, labels, mask, scale)     labels [T, B] int, mask [T, B]

`flat` is the flat parameter vector (layout.py); grads is a dict name -> gradient array
(views into grads["flat"]). The loss of episode b is sum_t mask[t, b] * CE(softmax(y_t),
labels[t, b]) in nats; backward returns the gradient of scale * sum_b loss_b.

Three kinds of matrix product run here over the whole batch rather than in the per-step
loops: the input projection W_x x_t + b of every step of every episode (X is the largest
input: a 20 x 20 sample), and the weight gradients, sums over (step, episode) of outer
products of the per-step gradients that batch.py fills with the step's inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from kernels._common import scratch
from kernels._flat import checked_batch
from kernels._gemm import (
    NARROW,
    _transpose_into,
    batch_chunks,
    matmul_packed,
    pack_into,
    pack_padded,
    pack_transposed,
    pack_transposed_into,
    transposed,
)
from kernels.mann.batch import backward_chunks, backward_rows, forward_chunks, forward_rows
from kernels.mann.layout import MANNShape, views

MEMORY_INIT = 1e-6  # every memory cell starts at this constant (as the NTM's)
GAMMA = 0.95  # the paper's usage decay
# batch.py's trace order; the kernels fill time-major arrays, MANNTrace shows them batch-first
TRACE_NAMES = (
    "hs", "cs", "gates", "act", "least_used", "w_write", "sim", "w_read", "usage", "mems",
    "reads", "logits",
)  # fmt: skip


def _kernel_view(name: str, a: np.ndarray) -> np.ndarray:
    """Between a time-major array of batch.py and MANNTrace's batch-first view of it (either
    way): the first two axes swapped, and for mems the last two as well (the kernels keep
    the memory transposed, [M, N]; MANNTrace shows it [N, M])."""
    a = a.swapaxes(0, 1)
    return a.swapaxes(2, 3) if name == "mems" else a


def _trace_arrays(tr) -> tuple:
    """The time-major arrays batch.py fills and reads (C views under MANNTrace's)."""
    return tuple(_kernel_view(name, getattr(tr, name)) for name in TRACE_NAMES)


def _chunks(B: int, threaded: bool) -> int:
    return batch_chunks(B, numba.get_num_threads()) if threaded else 1


@dataclass
class MANNTrace:
    """One forward pass: batch-first views [B, ...] of the time-major arrays of batch.py's
    module docstring (T steps; [T+1] arrays start with the state before the first step)."""

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


def _padded_width(n: int) -> int:
    """n rounded up to a multiple of kernels/_gemm's NARROW."""
    return -(-n // NARROW) * NARROW


def _zeroed(a: np.ndarray) -> np.ndarray:
    a.fill(0)
    return a


def _padded(a: np.ndarray) -> np.ndarray:
    """a [..., N] with zero columns appended up to _padded_width(N)."""
    out = np.zeros(a.shape[:-1] + (_padded_width(a.shape[-1]),), a.dtype)
    out[..., : a.shape[-1]] = a
    return out


def _packed(bt: np.ndarray) -> tuple:
    """kernels/_gemm.pack of bt [K, N] with zero columns up to a multiple of NARROW.

    _gemm runs the columns that fill no NARROW-wide tile in narrower ones and the last few
    with their sums in memory: [16, 400] x [400, 40] took 63 us, x [400, 64] 7 us, and
    [400, 100] 63 us, [400, 128] 25 us (float32, single-threaded, this machine under load),
    which made those columns most of a backward step at the scenario's sizes (R * M = 40,
    H = 100). The zero columns add nothing to the others: the real columns' sums, and
    bits, are the same."""
    return pack_padded(bt, _padded_width(bt.shape[1]))


def _weights_forward(p, shape: MANNShape):
    """The per-step products' right-hand sides, transposed and packed, and the biases padded
    to the packed widths (batch.forward_rows). Numba copies throughout: numpy's transposed
    copies and padding took ~0.13 ms an update here, this ~0.03."""
    H, X = shape.hidden, shape.inputs
    out_w_t = transposed(p["output.weight"])  # [H + R*M, Y]
    return (
        pack_transposed(p["controller.weight_ih"][:, X:]),  # G = 4H columns
        pack_transposed(p["controller.weight_hh"]),
        _packed(transposed(p["heads.weight"])),
        _padded(p["heads.bias"]),
        _packed(out_w_t[:H]),
        _packed(out_w_t[H:]),
        _padded(p["output.bias"]),
    )


def _step_arrays(shape: MANNShape, T: int, B: int, dt, reuse) -> dict:
    """The time-major trace arrays: reuse's when it is a trace of the same sizes and dtype,
    else new ones."""
    if (
        isinstance(reuse, MANNTrace)
        and reuse.shape == shape
        and reuse.flat.dtype == dt
        and reuse.logits.shape[:2] == (B, T)
    ):
        return {name: _kernel_view(name, getattr(reuse, name)) for name in TRACE_NAMES}
    H, R, M, N = shape.hidden, shape.heads, shape.width, shape.memory_slots
    return dict(
        hs=np.empty((T + 1, B, H), dt),
        cs=np.empty((T + 1, B, H), dt),
        gates=np.empty((T, B, shape.gate_rows), dt),
        act=np.empty((T, B, shape.head_rows), dt),
        least_used=np.empty((T, B, R), np.int64),
        w_write=np.empty((T, B, R, N), dt),
        sim=np.empty((T, B, R, N), dt),
        w_read=np.empty((T + 1, B, R, N), dt),
        usage=np.empty((T + 1, B, N), dt),
        mems=np.empty((T + 1, B, M if R else 0, N), dt),
        reads=np.empty((T + 1, B, R, M), dt),
        logits=np.empty((T, B, shape.classes), dt),
    )


def forward(
    shape: MANNShape, flat: np.ndarray, x, gamma: float = GAMMA, threaded=True, reuse=None
):
    """Run a batch of episodes of one length. x [T, B, X]. threaded: chunks of episodes in
    parallel threads when B allows (at least 4 episodes a chunk). reuse: a MANNTrace whose
    arrays this trace may take over (when its sizes and dtype match: it is overwritten),
    so that a training loop does not fault in ~12 MB of fresh pages every update (B = 16
    at the scenario's sizes, ~1 ms). -> MANNTrace."""
    flat, x = checked_batch(flat, x, shape.inputs)
    dt = flat.dtype
    T, B, X = x.shape
    p = views(shape, flat)
    x = np.ascontiguousarray(x, dtype=dt)
    threads = numba.get_num_threads() if threaded else 1
    steps = _step_arrays(shape, T, B, dt, reuse)
    # gates holds the input projections W_x x_t + b of every step first; each step adds its
    # recurrent terms and activates its slice in place
    gates = steps["gates"]
    gates[...] = p["controller.bias"]
    w_x = p["controller.weight_ih"][:, :X]
    packed = pack_transposed_into(w_x, scratch("mann.w_x_packed", w_x.size, dt))
    matmul_packed(x.reshape(T * B, X), packed, gates.reshape(T * B, -1), True, threads)
    tr = MANNTrace(
        shape=shape, flat=flat, params=p, gamma=float(gamma), x=x.swapaxes(0, 1),
        **{name: _kernel_view(name, a) for name, a in steps.items()},
    )  # fmt: skip
    args = (
        _weights_forward(p, shape),
        dt.type(gamma),
        dt.type(MEMORY_INIT),
        shape.key_strength,
        _trace_arrays(tr),
    )
    chunks = _chunks(B, threaded)
    if chunks > 1:
        forward_chunks(*args, chunks)
    else:
        forward_rows(*args, 0, B)
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
    # reused buffers (fresh ones faulted their pages in on every update); d_raw and d_y have
    # zero columns up to the padded widths (_packed's reason: the weight gradients' products)
    d_pre = scratch("mann.d_pre", T * B * G, dt).reshape(T, B, G)
    d_raw = _zeroed(scratch("mann.d_raw", T * B * _padded_width(P), dt)).reshape(T, B, -1)
    d_y = _zeroed(scratch("mann.d_y", T * B * _padded_width(Y), dt)).reshape(T, B, -1)
    losses = np.zeros(B, np.float64)
    weights = (
        _packed(p["controller.weight_ih"][:, X:]),
        _packed(p["controller.weight_hh"]),
        _packed(p["heads.weight"]),
        _packed(p["output.weight"]),
    )
    args = (
        np.ascontiguousarray(labels, dtype=np.int64),
        np.ascontiguousarray(mask, dtype=dt),
        dt.type(scale),
        weights,
        shape.key_strength,
        _trace_arrays(tr),
        (d_pre, d_raw, d_y),
        losses,
    )
    chunks = _chunks(B, threaded)
    if chunks > 1:
        backward_chunks(*args, chunks)
    else:
        backward_rows(*args, 0, B)
    return losses, _weight_gradients(tr, d_pre, d_raw, d_y, threaded)


def _weight_gradients(tr: MANNTrace, d_pre, d_raw, d_y, threaded) -> dict:
    """Sums over (step, episode) of outer products of the per-step gradients d_pre [T, B, G],
    d_raw [T, B, P'], d_y [T, B, Y'] (zero columns past P and Y) with the inputs of their
    products, and the bias gradients as products with a column of ones. Each is computed
    transposed (inputs^T @ gradients: the wide axis, G = 4H, across the tiles) into a C
    array, then copied into the flat gradient's layout. Every sum runs over the rows in
    (step, episode) order, one multiply then one add (kernels/_gemm.py): an episode whose
    mask is all zero adds exact zeros, so a batch's gradient with one episode unmasked is
    that episode's own, bit for bit (tests/mann/test_episode.py).

    Each gradient array is packed once (into a reused buffer: a fresh one faulted its pages
    in on every update) for all the input blocks it multiplies."""
    shape = tr.shape
    dt = tr.flat.dtype
    T, B, G = d_pre.shape
    X, R, M, H = shape.inputs, shape.heads, shape.width, shape.hidden
    P, Y = shape.head_rows, shape.classes
    threads = numba.get_num_threads() if threaded else 1
    rows = T * B
    x = tr.x.swapaxes(0, 1).reshape(rows, X)
    hs, reads = tr.hs.swapaxes(0, 1), tr.reads.swapaxes(0, 1)
    h_prev, h_now = hs[:T].reshape(rows, H), hs[1:].reshape(rows, H)
    reads_prev, reads_now = reads[:T].reshape(rows, R * M), reads[1:].reshape(rows, R * M)
    ones = np.ones((rows, 1), dt)

    def inputs_t_grads(name: str, inputs: tuple, d):
        """[inputs...]^T @ d: [sum of the inputs' widths, d's width], a row block each."""
        packed = pack_into(d, scratch("mann.grad_packed", d.size, dt))
        width = sum(a.shape[1] for a in inputs)
        out = scratch(name, width * d.shape[1], dt).reshape(width, d.shape[1])
        start = 0
        for a in inputs:
            matmul_packed(a.T, packed, out[start : start + a.shape[1]], False, threads)
            start += a.shape[1]
        return out

    def transpose_into(a, out):
        if a.size:
            _transpose_into(a, out)

    flat = np.zeros(shape.size, dt)
    g = views(shape, flat)
    d_pre = d_pre.reshape(rows, G)
    # [x_t, r_{t-1}, h_{t-1}], 1: W_ih's columns, then W_hh's, then the bias
    ctrl = inputs_t_grads("mann.grad_ctrl", (x, reads_prev, h_prev, ones), d_pre)
    transpose_into(ctrl[: X + R * M], g["controller.weight_ih"])
    transpose_into(ctrl[X + R * M : -1], g["controller.weight_hh"])
    g["controller.bias"][...] = ctrl[-1]
    if R:
        heads = inputs_t_grads("mann.grad_heads", (h_now, ones), d_raw.reshape(rows, -1))
        g["heads.weight"][...] = heads[:-1, :P].T
        g["heads.bias"][...] = heads[-1, :P]
    out = inputs_t_grads("mann.grad_out", (h_now, reads_now, ones), d_y.reshape(rows, -1))
    g["output.weight"][...] = out[:-1, :Y].T  # [h_t, r_t], 1
    g["output.bias"][...] = out[-1, :Y]
    g["flat"] = flat
    return g
