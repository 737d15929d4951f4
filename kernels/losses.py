"""Losses returning (mean loss as a Python float, gradient w.r.t. the first argument).

All are means (PyTorch's default reduction="mean"), so the gradient carries the 1/N.
Sums accumulate in float64; gradients have the dtype of the prediction/logits.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


def _float(a):
    a = np.asarray(a)
    return np.ascontiguousarray(
        a, dtype=a.dtype if a.dtype in (np.float32, np.float64) else np.float64
    )


@njit(cache=True)
def _softmax_xent(logits, targets, d_logits):
    N, C = logits.shape
    total = 0.0
    for n in range(N):
        row = logits[n]
        mx = row[0]
        for c in range(1, C):
            if row[c] > mx:
                mx = row[c]
        s = 0.0
        for c in range(C):
            s += math.exp(row[c] - mx)
        lse = mx + math.log(s)
        total += lse - row[targets[n]]
        for c in range(C):
            d_logits[n, c] = math.exp(row[c] - lse) / N
        d_logits[n, targets[n]] -= 1.0 / N
    return total / N


def softmax_cross_entropy(logits, targets):
    """logits [N, C], targets [N] class indices -> (mean loss, d_logits [N, C])."""
    logits = _float(logits)
    targets = np.ascontiguousarray(targets, dtype=np.int64)
    if logits.ndim != 2 or targets.shape != (logits.shape[0],):
        raise ValueError(
            f"need logits [N, C] and targets [N], got {logits.shape} and {targets.shape}"
        )
    C = logits.shape[1]
    if targets.size and (targets.min() < 0 or targets.max() >= C):
        raise ValueError(f"targets must lie in [0, {C - 1}]")
    d = np.empty_like(logits)
    loss = _softmax_xent(logits, targets, d) if logits.shape[0] else float("nan")
    return float(loss), d


@njit(cache=True)
def _bce_logits(x, y, d):
    n = x.size
    total = 0.0
    for k in range(n):
        a = x[k]
        # max(a, 0) - a*y + log(1 + exp(-|a|)): never exponentiates a positive number
        total += max(a, 0.0) - a * y[k] + math.log1p(math.exp(-abs(a)))
        if a >= 0.0:
            s = 1.0 / (1.0 + math.exp(-a))
        else:
            e = math.exp(a)
            s = e / (1.0 + e)
        d[k] = (s - y[k]) / n
    return total / n


def sigmoid_bce_with_logits(logits, targets):
    """Any shape; targets in [0, 1] -> (mean loss, d_logits) like BCEWithLogitsLoss."""
    logits = _float(logits)
    targets = np.ascontiguousarray(targets, dtype=logits.dtype)
    if targets.shape != logits.shape:
        raise ValueError(f"targets shape {targets.shape} != logits shape {logits.shape}")
    d = np.empty_like(logits)
    loss = _bce_logits(logits.reshape(-1), targets.reshape(-1), d.reshape(-1))
    return float(loss), d


@njit(cache=True)
def _mse(p, t, d):
    n = p.size
    total = 0.0
    for k in range(n):
        e = p[k] - t[k]
        total += e * e
        d[k] = 2.0 * e / n
    return total / n


@njit(cache=True)
def _mae(p, t, d):
    n = p.size
    total = 0.0
    for k in range(n):
        e = p[k] - t[k]
        total += abs(e)
        d[k] = (1.0 if e > 0 else (-1.0 if e < 0 else 0.0)) / n
    return total / n


def _regression(kernel, pred, target):
    pred = _float(pred)
    target = np.ascontiguousarray(target, dtype=pred.dtype)
    if target.shape != pred.shape:
        raise ValueError(f"target shape {target.shape} != pred shape {pred.shape}")
    d = np.empty_like(pred)
    loss = kernel(pred.reshape(-1), target.reshape(-1), d.reshape(-1))
    return float(loss), d


def mse(pred, target):
    """Mean squared error -> (loss, d_pred)."""
    return _regression(_mse, pred, target)


def mae(pred, target):
    """Mean absolute error -> (loss, d_pred); subgradient 0 where pred == target."""
    return _regression(_mae, pred, target)
