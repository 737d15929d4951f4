"""Kernel throughput on this machine (`tui-lab bench`): recurrent cells, forward+backward and
single-step latency, and the NTM's copy preset. Numbers only; the CLI renders them. Never
imports torch.

Each row: kernel, shape, what, microseconds (median wall time of one call) and throughput
(time steps x batch rows, or NTM episodes, processed per second, as text with its unit).
"""

from __future__ import annotations

import time

import numpy as np

from kernels import gru, lstm, ntm, rnn
from kernels._gemm import step_weights

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
TOY = (50, 16, 64, 64)  # T, B, I, H
LARGE = (50, 64, 256, 512)
STEP = (1, 64, 64)  # B, I, H
NTM_COPY_LENGTH = 20  # the copy preset's longest episode: 20 vectors in, delimiter, 20 out


def _params(cell, input_size, hidden, dtype, rng):
    g = GATES[cell]
    k = 1.0 / np.sqrt(hidden)
    shapes = {
        "weight_ih": (g * hidden, input_size),
        "weight_hh": (g * hidden, hidden),
        "bias_ih": (g * hidden,),
        "bias_hh": (g * hidden,),
    }
    return {n: rng.uniform(-k, k, s).astype(dtype) for n, s in shapes.items()}


def _median_us(fn, repeats: int, min_seconds: float) -> float:
    fn()  # compile / warm caches
    times = []
    deadline = time.perf_counter() + min_seconds
    while len(times) < repeats or (time.perf_counter() < deadline and len(times) < 100 * repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1e6


def _rate(per_second: float, unit: str) -> str:
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if per_second >= scale:
            return f"{per_second / scale:.2f} {prefix}{unit}/s"
    return f"{per_second:.1f}{unit}/s"


def _fwd_bwd(cell, shape, dtype, rng):
    T, B, input_size, hidden = shape
    p = _params(cell, input_size, hidden, dtype, rng)
    x = rng.standard_normal((T, B, input_size)).astype(dtype)
    h0 = np.zeros((B, hidden), dtype)
    d_out = rng.standard_normal((T, B, hidden)).astype(dtype)
    if cell == "lstm":
        return lambda: lstm.backward(lstm.forward(x, h0, h0, p), d_out)
    mod = rnn if cell == "rnn" else gru
    return lambda: mod.backward(mod.forward(x, h0, p), d_out)


def _step(cell, dtype, rng):
    B, input_size, hidden = STEP
    p = _params(cell, input_size, hidden, dtype, rng)
    w = (*step_weights(p["weight_ih"], p["weight_hh"]), p["bias_ih"], p["bias_hh"])
    x = rng.standard_normal((B, input_size)).astype(dtype)
    h = np.zeros((B, hidden), dtype)
    h_out = np.empty_like(h)
    if cell == "lstm":
        c_out = np.empty_like(h)
        g = np.empty((B, 4 * hidden), dtype)
        return lambda: lstm.step_arrays(x, h, h, *w, h_out, c_out, g)
    if cell == "gru":
        g = np.empty((B, 3 * hidden), dtype)
        return lambda: gru.step_arrays(x, h, *w, h_out, g)
    return lambda: rnn.step_arrays(x, h, *w, 0, h_out)


def _ntm_fwd_bwd(batch: int, controller: str, rng):
    """One update's kernels on the copy preset (LSTM or feed-forward controller 100, memory
    128 x 20, one read and one write head), episodes of the longest length; batch > 1 runs
    the episodes in parallel threads (prange), as training does."""
    shape = ntm.NTMShape(inputs=9, outputs=8, controller=controller)
    flat = ntm.init_params(shape, rng, np.float32)
    T = 2 * NTM_COPY_LENGTH + 1
    x = rng.integers(0, 2, (T, batch, shape.inputs)).astype(np.float32)
    y = rng.integers(0, 2, (T, batch, shape.outputs)).astype(np.float32)
    mask = np.ones((T, batch), np.float32)
    return lambda: ntm.backward(ntm.forward(shape, flat, x), y, mask)


def run_bench(quick: bool = False) -> list[dict]:
    """Time every cell; quick=True takes fewer repetitions (a few seconds in all)."""
    rng = np.random.default_rng(0)
    dtype = np.float32
    rows = []
    for cell in ("rnn", "lstm", "gru"):
        for shape in (TOY, LARGE):
            T, B, input_size, hidden = shape
            big = shape == LARGE
            repeats = (1 if quick else 3) if big else (5 if quick else 20)
            us = _median_us(_fwd_bwd(cell, shape, dtype, rng), repeats, 0.0 if quick else 0.3)
            rows.append(
                {
                    "kernel": cell,
                    "shape": f"T={T} B={B} I={input_size} H={hidden}",
                    "what": "forward+backward f32",
                    "microseconds": us,
                    "throughput": _rate(T * B / (us * 1e-6), " steps"),
                }
            )
        B, input_size, hidden = STEP
        us = _median_us(_step(cell, dtype, rng), 200 if quick else 2000, 0.0 if quick else 0.2)
        rows.append(
            {
                "kernel": cell,
                "shape": f"B={B} I={input_size} H={hidden}",
                "what": "one step (step_arrays) f32",
                "microseconds": us,
                "throughput": _rate(1.0 / (us * 1e-6), " steps"),
            }
        )
    for batch, controller in ((1, "lstm"), (16, "lstm"), (1, "feedforward")):
        fn = _ntm_fwd_bwd(batch, controller, rng)
        us = _median_us(fn, (3 if quick else 10) if batch > 1 else (10 if quick else 40), 0.2)
        rows.append(
            {
                "kernel": "ntm" if controller == "lstm" else "ntm ff",
                "shape": f"copy L={NTM_COPY_LENGTH} B={batch}",
                "what": "forward+backward f32" + (" prange" if batch > 1 else ""),
                "microseconds": us,
                "throughput": _rate(batch / (us * 1e-6), " episodes"),
            }
        )
    return rows
