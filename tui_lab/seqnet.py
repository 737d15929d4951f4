"""A recurrent classifier over sequences: Recurrent layers + a linear head + softmax.

Used by the "sequence" and "compare" labs. Two ways to score a sequence:
- mode "last": one class per sequence, read from the output at the last step
  (many-to-one; one-to-one when T = 1);
- mode "all": one class per step (many-to-many tagging, one-to-many), where a
  target of -1 marks a step with nothing to score.

The gradient-norm ratio ||dL/dh_1|| / ||dL/dh_T|| (over a batch, for the top layer's
forward direction) is how far the loss's signal reaches back through time: about 1 when
it survives, tiny when it vanishes, huge when it explodes.
"""

from __future__ import annotations

import math

import numpy as np

from kernels import gru, losses, lstm, optim, rnn
from tui_lab.models import Linear, Recurrent, prefixed

_KERNELS = {"rnn": rnn, "lstm": lstm, "gru": gru}


class SequenceNet:
    """x [T, B, I] -> logits [T, B, C]. Parameters: the Recurrent's names + "head.*"."""

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden: int,
        n_classes: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        nonlinearity: str = "tanh",
        init_scale: float = 1.0,
        gate_bias: float = 0.0,
        rng: np.random.Generator | None = None,
    ):
        rng = rng if rng is not None else np.random.default_rng(0)
        self.rnn = Recurrent(
            cell, input_size, hidden, num_layers, bidirectional, nonlinearity, rng=rng
        )
        H = hidden
        for name, value in self.rnn.params.items():
            if name.startswith("weight_hh"):
                value *= init_scale  # torch's U(-1/sqrt(H), 1/sqrt(H)) times init_scale
            if name.startswith("bias_hh") and cell in ("lstm", "gru"):
                # LSTM: the forget gate (rows H..2H); GRU: the update gate z (rows H..2H).
                # Positive values start the cell remembering (f = 1 / z = 1 keep the state).
                value[H : 2 * H] += gate_bias
        self.head = Linear(hidden * self.rnn.directions, n_classes, rng=rng)
        self.params = {**self.rnn.parameters(), **prefixed("head", self.head.parameters())}
        self.cell = cell
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x [T, B, I] -> logits [T, B, C] (keeps what backward needs)."""
        out, _ = self.rnn.forward(x)
        self.out = out
        T, B, DH = out.shape
        return self.head.forward(out.reshape(T * B, DH)).reshape(T, B, -1)

    def loss_and_grads(self, x: np.ndarray, targets: np.ndarray, mode: str):
        """(mean cross-entropy, grads by parameter name, d_out [T, B, D*H])."""
        _, loss, d_out, head_grads = self._loss(x, targets, mode)
        rnn_grads = self.rnn.backward(d_out)
        grads = {name: rnn_grads[name] for name in self.rnn.parameters()}
        grads["head.weight"], grads["head.bias"] = head_grads["weight"], head_grads["bias"]
        return loss, grads, d_out

    def loss_and_d_out(self, x: np.ndarray, targets: np.ndarray, mode: str):
        """(logits [T, B, C], mean cross-entropy, d_out [T, B, D*H]): one forward and the
        head's backward, without the recurrent layers' backward (for step-by-step BPTT)."""
        logits, loss, d_out, _ = self._loss(x, targets, mode)
        return logits, loss, d_out

    def _loss(self, x: np.ndarray, targets: np.ndarray, mode: str):
        logits = self.forward(x)
        T, B, C = logits.shape
        d_logits = np.zeros_like(logits)
        if mode == "last":
            loss, d_last = losses.softmax_cross_entropy(logits[-1], targets)
            d_logits[-1] = d_last
        else:
            scored = targets.reshape(-1) >= 0
            flat = logits.reshape(T * B, C)
            loss, d_scored = losses.softmax_cross_entropy(flat[scored], targets.reshape(-1)[scored])
            d_logits.reshape(T * B, C)[scored] = d_scored
        DH = self.out.shape[2]
        # the head saw every step; steps without a target get zero gradient
        head_grads = self.head.backward(d_logits.reshape(T * B, C))
        d_out = head_grads["input"].reshape(T, B, DH).astype(self.out.dtype)
        return logits, loss, d_out, head_grads

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities [T, B, C] (float64)."""
        return softmax(self.forward(x).astype(np.float64))

    def top_d_h(self, d_out: np.ndarray) -> np.ndarray:
        """dL/dh_t [T, B, H] of the top layer's forward direction, from the kernel's backward
        (call after loss_and_grads on the same batch)."""
        H = self.rnn.hidden_size
        trace = self.rnn.traces[-1][0]
        piece = np.ascontiguousarray(d_out[:, :, :H])
        if self.cell == "lstm":
            return lstm.backward(trace, piece)["d_h"]
        if self.cell == "rnn":
            return rnn.backward(trace, piece)["d_h"]
        return gru.backward(trace, piece)["d_h"]

    def gradient_profile(self, x: np.ndarray, targets: np.ndarray, mode: str) -> np.ndarray:
        """||dL/dh_t|| over the batch, per step [T] (top layer, forward direction)."""
        _, _, d_out = self.loss_and_grads(x, targets, mode)
        d_h = self.top_d_h(d_out).astype(np.float64)
        return np.sqrt((d_h**2).sum(axis=(1, 2)))


def gradient_ratio(profile: np.ndarray) -> float:
    """||dL/dh_1|| / ||dL/dh_T|| from a per-step norm profile [T], where T is the last step
    the loss reaches (a tagging task may leave its last step unscored); 0 if none is."""
    reached = np.nonzero(profile > 0)[0]
    return float(profile[0] / profile[reached[-1]]) if len(reached) else 0.0


def clipped_step(optimizer, grads: dict, clip: float) -> float:
    """Clip by global norm (clip <= 0: off) and update. Returns the norm before clipping;
    a non-finite norm skips the update (the lab reports NaN, the runner stops)."""
    norm = optim.clip_global_norm(list(grads.values()), clip if clip > 0 else math.inf)
    if math.isfinite(norm):
        optimizer.step(grads)
    return norm


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)
