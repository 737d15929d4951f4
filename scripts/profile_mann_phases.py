"""Per-phase CPU time of one MANN training update (mann-one-shot scenario), single-threaded.

    python scripts/profile_mann_phases.py [--batch 16] [--reps 200]

Phases: the input projection (whole batch), the forward recurrence (controller + memory),
the backward recurrence, the weight gradients, the global-norm clip, the Adam step. Each is
timed with time.process_time over --reps repetitions on the same inputs (median of 5 blocks),
Numba on one thread; the whole update is timed the same way.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kernels._gemm import matmul_packed, pack_transposed_into  # noqa: E402
from kernels.mann import GAMMA, api, backward, forward, init_params, views  # noqa: E402
from kernels.mann.batch import backward_rows, forward_rows  # noqa: E402
from kernels.optim import Adam, clip_global_norm  # noqa: E402
from tui_lab.labs.mann import glyph_spec, model_shape  # noqa: E402
from tui_lab.registry import resolve  # noqa: E402
from tui_lab.tasks.glyphs import batch_for_update  # noqa: E402


def timed(fn, reps: int) -> float:
    """Median over 5 blocks of the CPU ms per call."""
    fn()
    blocks = []
    for _ in range(5):
        start = time.process_time()
        for _ in range(reps):
            fn()
        blocks.append((time.process_time() - start) / reps * 1e3)
    return float(np.median(blocks))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--reps", type=int, default=100)
    args = ap.parse_args(argv)
    numba.set_num_threads(1)
    scenario = resolve("mann-one-shot")
    spec, shape = glyph_spec(scenario), model_shape(scenario)
    flat = init_params(shape, np.random.default_rng(0), np.float32)
    params = {k: v for k, v in views(shape, flat).items() if v.size}
    ep = batch_for_update(spec, 0, 0, args.batch)
    x = np.ascontiguousarray(ep.inputs, dtype=np.float32)
    T, B, X = x.shape
    p = views(shape, flat)
    scale = 1.0 / ep.labels.size
    trace = forward(shape, flat, x, GAMMA, False)

    gates = np.empty((T, B, shape.gate_rows), np.float32)

    def input_projection():
        gates[...] = p["controller.bias"]
        w_x = p["controller.weight_ih"][:, :X]
        packed = pack_transposed_into(w_x, np.empty(w_x.size, np.float32))
        matmul_packed(x.reshape(T * B, X), packed, gates.reshape(T * B, -1), True, 1)

    gates_in = trace.gates.swapaxes(0, 1).copy()

    def forward_recurrence():
        trace.gates.swapaxes(0, 1)[...] = gates_in  # (the copy is timed apart below)
        forward_rows(api._weights_forward(p, shape), np.float32(GAMMA), np.float32(1e-6),
                     shape.key_strength, api._trace_arrays(trace), 0, B)

    def copy_only():
        trace.gates.swapaxes(0, 1)[...] = gates_in

    forward(shape, flat, x, GAMMA, False)
    trace = forward(shape, flat, x, GAMMA, False)
    G, P, Y = shape.gate_rows, shape.head_rows, shape.classes
    labels = np.ascontiguousarray(ep.labels, dtype=np.int64)
    mask = np.ones((T, B), np.float32)
    d_pre = np.empty((T, B, G), np.float32)
    d_raw = np.zeros((T, B, api._padded_width(P)), np.float32)
    d_y = np.zeros((T, B, api._padded_width(Y)), np.float32)

    def backward_recurrence():
        weights = (
            api._packed(p["controller.weight_ih"][:, X:]), api._packed(p["controller.weight_hh"]),
            api._packed(p["heads.weight"]), api._packed(p["output.weight"]),
        )
        backward_rows(labels, mask, np.float32(scale), weights, shape.key_strength,
                      api._trace_arrays(trace), (d_pre, d_raw, d_y), np.zeros(B), 0, B)

    backward_recurrence()

    def weight_gradients():
        api._weight_gradients(trace, d_pre, d_raw, d_y, False)

    _, grads = backward(trace, ep.labels, None, scale, False)
    g_flat = grads.pop("flat")
    opt = Adam(params, lr=1e-4)
    small = g_flat * 1e-3

    def clip():
        clip_global_norm([small], 1e9)

    def adam():
        opt.step({k: grads[k] for k in params})

    last = [None]

    def whole_update():
        tr = last[0] = forward(shape, flat, x, GAMMA, False, reuse=last[0])
        _, gr = backward(tr, ep.labels, None, scale, False)
        clip_global_norm([gr.pop("flat")], 10.0)
        opt.step({k: gr[k] for k in params})

    rows = {
        "input projection": timed(input_projection, args.reps),
        "forward recurrence": timed(forward_recurrence, args.reps) - timed(copy_only, args.reps),
        "backward recurrence": timed(backward_recurrence, args.reps),
        "weight gradients": timed(weight_gradients, args.reps),
        "clip": timed(clip, args.reps),
        "adam": timed(adam, args.reps),
    }
    whole = timed(whole_update, args.reps)
    for name, ms in rows.items():
        print(f"{name:20s} {ms:7.3f} ms")
    print(f"{'sum of phases':20s} {sum(rows.values()):7.3f} ms")
    print(f"{'whole update':20s} {whole:7.3f} ms  (B = {B}: {B / whole * 1e3:.0f} seq/CPU-s)")


if __name__ == "__main__":
    main()
