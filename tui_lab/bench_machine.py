"""What this machine gives, for `tui-lab bench`: the BLAS numpy runs on (its kernel type and
threads, from threadpoolctl), its float32 GEMM rate, and our LSTM beside a plain-numpy
LSTM written from torch.nn.LSTM's equations (numpy's BLAS does the products; no torch).

The shapes are issue 16's: T = 50, (B, I, H) from one sequence at a time to a large batch.
FLOPs count the products only: forward 2 T B 4H (I + H); forward+backward three times that
(the backward's two products per weight matrix).
"""

from __future__ import annotations

import os

import numpy as np

from kernels import lstm
from tui_lab.bench import _median_us

SHAPES = ((1, 16, 64), (1, 128, 128), (16, 32, 32), (16, 32, 128), (64, 256, 512))
STEPS = 50
GEMM_SIZE = 1024


def _median_s(fn, repeats: int, min_seconds: float) -> float:
    return _median_us(fn, repeats, min_seconds) / 1e6


def blas_info() -> dict:
    """numpy's BLAS as threadpoolctl reads it: library, version, kernel type, threads; and the
    OpenBLAS variables that change its choice, where set."""
    from threadpoolctl import threadpool_info

    found = [entry for entry in threadpool_info() if entry.get("user_api") == "blas"]
    entry = found[0] if found else {}
    info = {
        "library": entry.get("internal_api", "unknown"),
        "version": entry.get("version") or "?",
        "kernels": entry.get("architecture") or "?",
        "threads": entry.get("num_threads", 0),
    }
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS"):
        if name in os.environ:
            info[name] = os.environ[name]
    return info


def sgemm_gflops(size: int = GEMM_SIZE, quick: bool = False) -> float:
    """numpy's float32 [size, size] @ [size, size], in GFLOP/s (median of several)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    seconds = _median_s(lambda: a @ b, 3 if quick else 7, 0.0 if quick else 0.3)
    return 2.0 * size**3 / seconds / 1e9


def numpy_lstm_forward(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    """x [T, B, I], h, c [B, H] -> hs [T, B, H]: torch.nn.LSTM's equations in plain numpy,
    the input projections of all steps as one product, as a careful numpy user writes it."""
    T, B, _ = x.shape
    H = h.shape[1]
    projected = (x.reshape(T * B, -1) @ weight_ih.T + (bias_ih + bias_hh)).reshape(T, B, 4 * H)
    weight_hh_t = np.ascontiguousarray(weight_hh.T)
    hs = np.empty((T, B, H), x.dtype)
    for t in range(T):
        a = projected[t] + h @ weight_hh_t
        i = 1.0 / (1.0 + np.exp(-a[:, :H]))
        f = 1.0 / (1.0 + np.exp(-a[:, H : 2 * H]))
        g = np.tanh(a[:, 2 * H : 3 * H])
        o = 1.0 / (1.0 + np.exp(-a[:, 3 * H :]))
        c = f * c + i * g
        h = o * np.tanh(c)
        hs[t] = h
    return hs


def lstm_params(input_size: int, hidden: int, rng, dtype=np.float32) -> dict:
    k = 1.0 / np.sqrt(hidden)
    shapes = {
        "weight_ih": (4 * hidden, input_size),
        "weight_hh": (4 * hidden, hidden),
        "bias_ih": (4 * hidden,),
        "bias_hh": (4 * hidden,),
    }
    return {name: rng.uniform(-k, k, shape).astype(dtype) for name, shape in shapes.items()}


def _lstm_row(B: int, input_size: int, hidden: int, rng, quick: bool, sgemm: float | None):
    p = lstm_params(input_size, hidden, rng)
    x = rng.standard_normal((STEPS, B, input_size)).astype(np.float32)
    h0 = np.zeros((B, hidden), np.float32)
    d_out = rng.standard_normal((STEPS, B, hidden)).astype(np.float32)
    big = B * hidden >= 64 * 512
    repeats = (1 if quick else 3) if big else (3 if quick else 10)
    seconds = 0.0 if quick else 0.2
    ours = _median_s(lambda: lstm.forward(x, h0, h0, p), repeats, seconds)
    reference = _median_s(lambda: numpy_lstm_forward(x, h0, h0, *p.values()), repeats, seconds)
    both = _median_s(lambda: lstm.backward(lstm.forward(x, h0, h0, p), d_out), repeats, seconds)
    gflops = 3 * 2.0 * STEPS * B * 4 * hidden * (input_size + hidden) / both / 1e9
    return {
        "B, I, H": f"{B}, {input_size}, {hidden}",
        "fwd ms": ours * 1e3,
        "numpy fwd ms": reference * 1e3,
        "vs numpy": f"{reference / ours:.1f}x",
        "fwd+bwd ms": both * 1e3,
        "GFLOP/s": gflops,
        "of sgemm": f"{100 * gflops / sgemm:.0f}%" if sgemm else "-",
    }


def lstm_rows(quick: bool = False, sgemm: float | None = None) -> list[dict]:
    """Per shape (T = 50): our forward and the numpy forward (ms, and ours as a multiple of
    numpy's speed), our forward+backward (ms, GFLOP/s, and % of the sgemm rate when given)."""
    rng = np.random.default_rng(0)
    return [_lstm_row(B, I, H, rng, quick, sgemm) for B, I, H in SHAPES]
