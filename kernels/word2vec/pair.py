"""One Word2Vec example as the notes write it: a forward trace and its gradients (numpy).

This is the readable form the screen shows and the tests check; training runs the same
update compiled (kernels.word2vec.core.apply_example).

forward(W_in, W_out, inputs, target, negatives=None) -> PairTrace
    h = mean of W_in[inputs]                      [D]   (skip-gram: inputs = [centre])
    scored = all words (full softmax) or [target, *negatives]
    scores u = W_out[scored] @ h                  [n]
    full softmax: probs = softmax(u), loss = -log probs[target]
    negative sampling: probs = sigmoid(u), labels = [1, 0, ...],
        loss = -log sigmoid(u_target) - sum log sigmoid(-u_neg)
backward(trace) -> {"scores": dL/du [n], "h": dL/dh [D], "W_out": dL/dW_out[scored] [n, D],
                    "W_in": dL/dW_in[inputs] [C, D]} (exact gradients; negatives equal to the
                    target are dropped from `scored`, as training skips them)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PairTrace:
    inputs: np.ndarray  # [C] input word ids
    target: int
    h: np.ndarray  # [D]
    scored: np.ndarray  # [n] output word ids
    labels: np.ndarray  # [n] 1 for the target, else 0
    scores: np.ndarray  # [n]
    probs: np.ndarray  # [n] softmax (full) or sigmoid (negative sampling)
    loss: float
    softmax: bool
    W_out_rows: np.ndarray  # [n, D] the scored rows of W' (before any update)


def _sigmoid(x):
    return np.where(
        x >= 0, 1.0 / (1.0 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1.0 + np.exp(-np.abs(x)))
    )


def forward(W_in, W_out, inputs, target, negatives=None) -> PairTrace:
    inputs = np.asarray(inputs, dtype=np.int64).reshape(-1)
    h = W_in[inputs].astype(np.float64).mean(axis=0)
    if negatives is None:
        scored = np.arange(W_out.shape[0])
        rows = W_out.astype(np.float64)
        scores = rows @ h
        shifted = np.exp(scores - scores.max())
        probs = shifted / shifted.sum()
        loss = float(-np.log(probs[target]))
        labels = (scored == target).astype(np.float64)
        softmax = True
    else:
        negatives = [int(n) for n in np.asarray(negatives).reshape(-1) if int(n) != int(target)]
        scored = np.asarray([int(target), *negatives], dtype=np.int64)
        rows = W_out[scored].astype(np.float64)
        scores = rows @ h
        probs = _sigmoid(scores)
        labels = np.zeros(len(scored))
        labels[0] = 1.0
        loss = float(np.logaddexp(0.0, -scores[0]) + np.logaddexp(0.0, scores[1:]).sum())
        softmax = False
    return PairTrace(inputs, int(target), h, scored, labels, scores, probs, loss, softmax, rows)


def backward(trace: PairTrace) -> dict[str, np.ndarray]:
    d_scores = trace.probs - trace.labels
    d_h = d_scores @ trace.W_out_rows
    d_W_out = np.outer(d_scores, trace.h)
    d_W_in = np.repeat((d_h / len(trace.inputs))[None, :], len(trace.inputs), axis=0)
    return {"scores": d_scores, "h": d_h, "W_out": d_W_out, "W_in": d_W_in}
