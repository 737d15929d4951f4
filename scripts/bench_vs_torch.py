"""Side-by-side speed (and, with --check, equivalence) of kernels/ vs torch.nn.RNN/LSTM/GRU.

    python scripts/bench_vs_torch.py            # timing table, float32, torch on 2 threads
    python scripts/bench_vs_torch.py --check    # float64 outputs/grads vs torch, max abs diffs
    python scripts/bench_vs_torch.py --quick    # fewer repeats

Each row also prints the GEMM rate (FLOPs of the six matrix products per forward+backward,
gate math left out) of both sides and the rate a 5x ratio would need; the first line is the
rate of one large float32 GEMM, about the most this machine sustains.

Forward+backward means: our forward + backward(d_out) against torch's forward +
(out * d_out).sum().backward(), same shapes, same weights, median of repeated runs.
This script is a developer tool; tui_lab and the tests never import torch.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from kernels import gru, lstm, rnn  # noqa: E402
from kernels._gemm import step_weights  # noqa: E402

GATES = {"rnn": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}
TORCH_CLS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
# (T, B, I, H): issue 16's shapes
TOY = [(50, 1, 16, 64), (50, 1, 128, 128), (50, 16, 32, 32), (50, 16, 32, 128)]
LARGE = [(50, 64, 256, 512)]


def make_case(cell, T, B, I, H, dtype, seed=0):
    rng = np.random.default_rng(seed)
    G = GATES[cell]
    k = 1 / np.sqrt(H)
    p = {
        "weight_ih": rng.uniform(-k, k, (G * H, I)),
        "weight_hh": rng.uniform(-k, k, (G * H, H)),
        "bias_ih": rng.uniform(-k, k, G * H),
        "bias_hh": rng.uniform(-k, k, G * H),
    }
    p = {n: a.astype(dtype) for n, a in p.items()}
    x = rng.normal(size=(T, B, I)).astype(dtype)
    h0 = (rng.normal(size=(B, H)) * 0.5).astype(dtype)
    c0 = (rng.normal(size=(B, H)) * 0.5).astype(dtype)
    d_out = rng.normal(size=(T, B, H)).astype(dtype)
    return p, x, h0, c0, d_out


def ours(cell, p, x, h0, c0, d_out):
    if cell == "rnn_relu":
        tr = rnn.forward(x, h0, p, "relu")
        return tr, rnn.backward(tr, d_out)
    if cell == "lstm":
        tr = lstm.forward(x, h0, c0, p)
        return tr, lstm.backward(tr, d_out)
    mod = rnn if cell == "rnn" else gru
    tr = mod.forward(x, h0, p)
    return tr, mod.backward(tr, d_out)


def torch_module(cell, p, I, H, dtype):
    m = torch.nn.RNN(I, H, nonlinearity="relu") if cell == "rnn_relu" else TORCH_CLS[cell](I, H)
    m = m.double() if dtype == np.float64 else m.float()
    with torch.no_grad():
        for n, a in p.items():
            getattr(m, n + "_l0").copy_(torch.from_numpy(a))
    return m


def theirs(cell, m, x, h0, c0, d_out):
    xt = torch.from_numpy(x).requires_grad_(True)
    ht = torch.from_numpy(h0)[None].clone().requires_grad_(True)
    if cell == "lstm":
        ct = torch.from_numpy(c0)[None].clone().requires_grad_(True)
        out, _ = m(xt, (ht, ct))
    else:
        ct = None
        out, _ = m(xt, ht)
    (out * torch.from_numpy(d_out)).sum().backward()
    return out, xt, ht, ct


def gemm_flops(cell, T, B, I, H):
    """Multiply-add FLOPs of forward + backward: the input and recurrent products forward, and
    backward their three twins each (dx and dW_ih; dh and dW_hh). The gate math is left out."""
    forward = 2 * T * B * GATES[cell] * H * (I + H)
    return 3 * forward


def sgemm_ceiling():
    """GFLOP/s of one large float32 GEMM through numpy's BLAS: what this machine can sustain."""
    a = np.random.default_rng(0).normal(size=(2048, 2048)).astype(np.float32)
    out = np.empty_like(a)
    np.dot(a, a, out)
    return 2 * 2048**3 / best_time(lambda: np.dot(a, a, out), 5) / 1e9


def best_time(fn, calls):
    """Fastest of `calls` timed calls (the one least disturbed by other processes)."""
    best = float("inf")
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench(quick, cells=("rnn", "lstm", "gru")):
    """Time both sides in alternation (ours, torch, ours, ...) so they share the machine's
    load, and keep each side's fastest call."""
    torch.set_num_threads(2)
    rows = []
    for cell in cells:
        for T, B, I, H in TOY + LARGE:
            p, x, h0, c0, d_out = make_case(cell, T, B, I, H, np.float32)
            m = torch_module(cell, p, I, H, np.float32)

            def run_torch(m=m, cell=cell, x=x, h0=h0, c0=c0, d_out=d_out):
                m.zero_grad(set_to_none=True)
                theirs(cell, m, x, h0, c0, d_out)

            def run_ours(cell=cell, p=p, x=x, h0=h0, c0=c0, d_out=d_out):
                ours(cell, p, x, h0, c0, d_out)

            run_ours()
            run_torch()
            big = H >= 512
            rounds = (2 if quick else 4) if big else (4 if quick else 10)
            calls = 1 if big else 5
            t_ours = t_torch = float("inf")
            for _ in range(rounds):
                t_ours = min(t_ours, best_time(run_ours, calls))
                t_torch = min(t_torch, best_time(run_torch, calls))
            rows.append((cell, (T, B, I, H), t_ours, t_torch))
            gflop = gemm_flops(cell, T, B, I, H) / 1e9
            print(
                f"{cell:5s} T={T:3d} B={B:3d} I={I:4d} H={H:4d}  ours {t_ours * 1e3:9.3f} ms"
                f"  torch {t_torch * 1e3:9.3f} ms  torch/ours x{t_torch / t_ours:6.2f}"
                f"  GFLOP/s ours {gflop / t_ours:5.1f} torch {gflop / t_torch:5.1f}"
                f" (5x torch needs {5 * gflop / t_torch:5.1f})",
                flush=True,
            )
    return rows


def step_pair(cell, B=1, I=64, H=64):
    """(ours, torch's) one-step callables: our step_arrays vs torch's *Cell under no_grad."""
    p, x, h0, c0, _ = make_case(cell, 1, B, I, H, np.float32)
    w = (*step_weights(p["weight_ih"], p["weight_hh"]), p["bias_ih"], p["bias_hh"])
    x_t = x[0]
    h_out, c_out = np.empty_like(h0), np.empty_like(h0)
    g = np.empty((B, GATES[cell] * H), np.float32)
    if cell == "lstm":
        ours_fn = lambda: lstm.step_arrays(x_t, h0, c0, *w, h_out, c_out, g)  # noqa: E731
    elif cell == "gru":
        ours_fn = lambda: gru.step_arrays(x_t, h0, *w, h_out, g)  # noqa: E731
    else:
        ours_fn = lambda: rnn.step_arrays(x_t, h0, *w, 0, h_out)  # noqa: E731
    m = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[cell](I, H)
    xt, ht, ct = (torch.from_numpy(a) for a in (x_t, h0, c0))

    def torch_fn():
        with torch.no_grad():
            return m(xt, (ht, ct)) if cell == "lstm" else m(xt, ht)

    return ours_fn, torch_fn


def per_call(fn, n):
    """Fastest mean time per call over 5 batches of n calls."""
    fn()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def bench_steps():
    """One step at B=1, I=H=64, float32, torch on 2 threads."""
    torch.set_num_threads(2)
    for cell in ("rnn", "lstm", "gru"):
        ours_fn, torch_fn = step_pair(cell)
        t_ours, t_torch = per_call(ours_fn, 2000), per_call(torch_fn, 500)
        print(
            f"{cell:5s} one step B=1 I=H=64   ours {t_ours * 1e6:7.2f} us  torch "
            f"{t_torch * 1e6:7.2f} us  torch/ours x{t_torch / t_ours:6.1f}",
            flush=True,
        )


def check():
    """float64: outputs and every gradient vs torch; prints max abs differences."""
    worst = 0.0
    for cell in ("rnn", "rnn_relu", "lstm", "gru"):
        for T, B, I, H in [(7, 3, 5, 6), (20, 4, 16, 32), (30, 24, 64, 64)]:  # last: row blocks
            p, x, h0, c0, d_out = make_case(cell, T, B, I, H, np.float64, seed=1)
            m = torch_module(cell, p, I, H, np.float64)
            out_t, xt, ht, ct = theirs(cell, m, x, h0, c0, d_out)
            tr, g = ours(cell, p, x, h0, c0, d_out)
            diffs = {"out": np.abs(tr.out - out_t.detach().numpy()).max()}
            diffs["input"] = np.abs(g["input"] - xt.grad.numpy()).max()
            diffs["h0"] = np.abs(g["h0"] - ht.grad.numpy()[0]).max()
            if ct is not None:
                diffs["c0"] = np.abs(g["c0"] - ct.grad.numpy()[0]).max()
            for n in p:
                diffs[n] = np.abs(g[n] - getattr(m, n + "_l0").grad.numpy()).max()
            worst = max(worst, *diffs.values())
            text = " ".join(f"{k}={v:.1e}" for k, v in diffs.items())
            print(f"{cell:5s} T={T} B={B} I={I} H={H}: {text}")
    print(f"max abs diff over all: {worst:.2e}  ({'OK' if worst < 1e-6 else 'MISMATCH'})")
    return worst < 1e-6


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="float64 equivalence vs torch")
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--cells", default="rnn,lstm,gru", help="comma-separated subset")
    args = ap.parse_args()
    if args.check:
        sys.exit(0 if check() else 1)
    print(f"float32 sgemm 2048^3 through numpy's BLAS: {sgemm_ceiling():.0f} GFLOP/s (the ceiling)")
    bench_steps()
    bench(args.quick, tuple(args.cells.split(",")))


if __name__ == "__main__":
    main()
