"""A plain numpy MANN written straight from the paper's equations (Santoro et al. 2016,
section 3.2), float64, one episode, no tricks: the forward reference for the kernels.

Written independently of kernels/mann (it uses only the layout, for the parameter names):
the least-used slots by a stable argsort, the write weights and memory update as whole
vectors and outer products."""

from __future__ import annotations

import numpy as np

from kernels.mann.layout import MANNShape, views


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def cosine(key, mem):
    return mem @ key / (np.linalg.norm(key) * np.linalg.norm(mem, axis=1) + 1e-8)


def run_episode(shape: MANNShape, flat, x, labels=None, gamma=0.95, mem_init=1e-6):
    """x [T, X] -> dict of logits [T, Y], memories [T+1, N, M], usage [T+1, N], read and
    write weights [T, R, N], least_used [T, R], reads [T, R, M] and (with labels) the
    summed cross-entropy loss in nats."""
    p = {k: np.asarray(v, np.float64) for k, v in views(shape, np.asarray(flat)).items()}
    H, N, M, R = shape.hidden, shape.slots, shape.width, shape.heads
    h, c = np.zeros(H), np.zeros(H)
    mem = np.full((N, M), mem_init)
    usage = np.zeros(N)
    w_read = np.zeros((R, N))
    reads = np.zeros((R, M))
    out = {k: [] for k in ("logits", "w_read", "w_write", "least_used", "reads")}
    out["memories"], out["usage"] = [mem.copy()], [usage.copy()]
    for x_t in x:
        z = p["controller.weight_ih"] @ np.concatenate([x_t, reads.ravel()])
        z += p["controller.weight_hh"] @ h + p["controller.bias"]
        i, f, g, o = np.split(z, 4)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        if R:
            raw = (p["heads.weight"] @ h + p["heads.bias"]).reshape(R, shape.block)
            keys, adds = np.tanh(raw[:, :M]), np.tanh(raw[:, M : 2 * M])
            sigma = sigmoid(raw[:, 2 * M])
            beta = np.log1p(np.exp(raw[:, 2 * M + 1])) if shape.key_strength else np.ones(R)
            least = np.argsort(usage, kind="stable")[:R]
            w_lu = np.eye(N)[least]  # [R, N]: head k's least-used slot, one-hot
            w_write = sigma[:, None] * w_read + (1 - sigma[:, None]) * w_lu
            mem = mem.copy()
            mem[least[0]] = 0.0
            mem = mem + w_write.T @ adds
            w_read = np.stack([softmax(beta[k] * cosine(keys[k], mem)) for k in range(R)])
            reads = w_read @ mem
            usage = gamma * usage + w_read.sum(0) + w_write.sum(0)
            out["w_write"].append(w_write)
            out["least_used"].append(least)
        logits = p["output.weight"] @ np.concatenate([h, reads.ravel()]) + p["output.bias"]
        out["logits"].append(logits)
        out["w_read"].append(w_read)
        out["reads"].append(reads)
        out["memories"].append(mem)
        out["usage"].append(usage)
    result = {k: np.array(v) for k, v in out.items()}
    if labels is not None:
        z = result["logits"]
        logz = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
        result["loss"] = float(np.sum(logz - z[np.arange(len(labels)), labels]))
    return result
