"""A plain numpy NTM written straight from the equations (float64, one episode, no tricks):
the forward reference the kernels are tested against."""

from __future__ import annotations

import numpy as np

from kernels.ntm.layout import NTMShape, views


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def softplus(a):
    return np.log1p(np.exp(a))


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def address(key, beta, g, gamma, shift, mem, w_prev):
    """-> (K, wc, wg, ws, w) for one head."""
    K = mem @ key / (np.linalg.norm(key) * np.linalg.norm(mem, axis=1) + 1e-8)
    wc = softmax(beta * K)
    wg = g * wc + (1 - g) * w_prev
    n, s = len(wg), len(shift) // 2
    ws = np.array([sum(wg[(i - k) % n] * shift[k + s] for k in range(-s, s + 1)) for i in range(n)])
    w = ws**gamma / np.sum(ws**gamma)
    return K, wc, wg, ws, w


def run_episode(shape: NTMShape, flat, x, targets=None, mask=None):
    """x [T, X] -> dict with logits [T, Y], memories [T+1, N, W], weightings [T, heads, N],
    reads [T, R, W] and (with targets, mask) the loss in nats."""
    p = {k: np.asarray(v, np.float64) for k, v in views(shape, np.asarray(flat)).items()}
    N, W, R, Wh = shape.slots, shape.width, shape.read_heads, shape.write_heads
    S = shape.shifts
    h, c = p["controller.h0"], p["controller.c0"]
    reads = [p["read0"][k] for k in range(R)]
    w_prev = [softmax(p["weight0_logits"][k]) for k in range(shape.heads)]
    mem = np.full((N, W), 1e-6)
    out = {"logits": [], "memories": [mem.copy()], "weightings": [], "reads": []}
    for x_t in x:
        u = np.concatenate([x_t, *reads])
        if shape.controller == "feedforward":
            h = np.tanh(p["controller.weight_ih"] @ u + p["controller.bias"])
        else:
            z = p["controller.weight_ih"] @ u + p["controller.weight_hh"] @ h
            i, f, gg, o = np.split(z + p["controller.bias"], 4)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(gg)
            h = sigmoid(o) * np.tanh(c)
        raw = p["heads.weight"] @ h + p["heads.bias"]
        ws_all, erase_add = [], []
        offset = 0
        for k in range(shape.heads):
            blk = raw[offset:]
            key, beta = np.tanh(blk[:W]), softplus(blk[W])
            g, gamma = sigmoid(blk[W + 1]), 1 + softplus(blk[W + 2])
            shift = softmax(blk[W + 3 : W + 3 + S])
            w = address(key, beta, g, gamma, shift, mem, w_prev[k])[-1]
            ws_all.append(w)
            offset += W + 3 + S
            if k >= R:
                erase_add.append(
                    (
                        sigmoid(blk[W + 3 + S : 2 * W + 3 + S]),
                        np.tanh(blk[2 * W + 3 + S : 3 * W + 3 + S]),
                    )
                )
                offset += 2 * W
        reads = [ws_all[k] @ mem for k in range(R)]
        for q in range(Wh):
            w = ws_all[R + q]
            e, a = erase_add[q]
            mem = mem * (1 - np.outer(w, e)) + np.outer(w, a)
        w_prev = ws_all
        y = p["output.weight"] @ np.concatenate([h, *reads]) + p["output.bias"]
        out["logits"].append(y)
        out["memories"].append(mem.copy())
        out["weightings"].append(np.array(ws_all))
        out["reads"].append(np.array(reads).reshape(R, W))
    out = {k: np.array(v) for k, v in out.items()}
    if targets is not None:
        z = out["logits"]
        bce = np.maximum(z, 0) - z * targets + np.log1p(np.exp(-np.abs(z)))
        out["loss"] = float((bce.sum(axis=1) * mask).sum())
    return out
