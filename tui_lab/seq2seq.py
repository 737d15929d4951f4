"""Encoder-decoder for unequal lengths, with or without additive (Bahdanau) attention.

Encoder: a GRU reads the source one-hots [S, B, V] into h_1..h_S. Decoder: a GRU whose
state starts at h_S; at step i it reads the previous target symbol (teacher forcing in
training, its own guess when decoding; a start symbol at i = 0) and, with attention, the
context c_i = sum_j a_ij h_j where a_i = softmax_j(v . tanh(W_q s_{i-1} + W_k h_j)).
Output: logits_i = W_o [s_i ; c_i] + b_o (without attention W_o s_i + b_o).

Without attention every source symbol must squeeze through the one vector h_S; with it the
decoder looks back at every h_j, and the attention matrix a [L, S] shows where.

Parameter names: "encoder.weight_ih_l0", ..., "decoder.weight_hh_l0", ..., "attention.w_k",
"attention.w_q", "attention.v", "head.weight", "head.bias".
"""

from __future__ import annotations

import numpy as np

from kernels import attention, gru, losses
from tui_lab.models import Linear, Recurrent, prefixed


class Seq2Seq:
    def __init__(
        self,
        vocab: int,
        hidden: int,
        attend: bool,
        attention_size: int = 0,
        rng=None,
        dtype=np.float32,
    ):
        rng = rng if rng is not None else np.random.default_rng(0)
        self.vocab, self.hidden, self.attend = vocab, hidden, attend
        self.dtype = np.dtype(dtype)
        self.start = vocab  # the decoder's start symbol: one extra input channel
        self.encoder = Recurrent("gru", vocab, hidden, dtype=dtype, rng=rng)
        decoder_input = vocab + 1 + (hidden if attend else 0)
        self.decoder = Recurrent("gru", decoder_input, hidden, dtype=dtype, rng=rng)
        self.head = Linear(hidden * (2 if attend else 1), vocab, dtype=dtype, rng=rng)
        self.params = {
            **prefixed("encoder", self.encoder.parameters()),
            **prefixed("decoder", self.decoder.parameters()),
        }
        if attend:
            A = attention_size or hidden
            bound = 1.0 / np.sqrt(hidden)
            self.attn = {
                "w_k": rng.uniform(-bound, bound, (A, hidden)).astype(dtype),
                "w_q": rng.uniform(-bound, bound, (A, hidden)).astype(dtype),
                "v": rng.uniform(-bound, bound, (A,)).astype(dtype),
            }
            self.params.update(prefixed("attention", self.attn))
        self.params.update(prefixed("head", self.head.parameters()))

    def _one_hot(self, codes: np.ndarray, width: int) -> np.ndarray:
        return np.eye(width, dtype=self.dtype)[codes]

    # ---- forward ------------------------------------------------------------------
    def run(self, source: np.ndarray, targets: np.ndarray | None, length: int, keep=True):
        """source [S, B] codes; targets [L, B] for teacher forcing, or None to feed back the
        decoder's own argmax. Returns logits [L, B, V] and a record for backward/display:
        "alpha" [L, B, S] and "ctx" [L, B, H] (attention only), "states" [L, B, H], "enc"
        [S, B, H], and "steps", the per-step traces backward needs (kept only if `keep`:
        an attention trace holds [S, B, A], so a whole decoding's hold O(L S A))."""
        S, B = source.shape
        enc, h_n = self.encoder.forward(self._one_hot(source, self.vocab))
        kp = attention.project_keys(enc, self.attn["w_k"]) if self.attend else None
        state = h_n[0]
        previous = np.full(B, self.start)
        logits_all, steps, states, alphas, contexts = [], [], [], [], []
        for i in range(length):
            parts = [self._one_hot(previous, self.vocab + 1)]
            attn_trace = None
            if self.attend:
                attn_trace = attention.forward(state, kp, enc, self.attn["w_q"], self.attn["v"])
                parts.append(attn_trace.ctx)
                alphas.append(attn_trace.alpha)
                contexts.append(attn_trace.ctx)
            x = np.concatenate(parts, axis=1)[None]  # [1, B, I]
            trace = gru.forward(x, state, self.decoder.layer_params(0))
            new_state = trace.h_n
            features = np.concatenate([new_state, attn_trace.ctx], 1) if self.attend else new_state
            logits = self.head.forward(features)
            if keep:
                steps.append((trace, attn_trace, features))
            states.append(new_state)
            logits_all.append(logits)
            state = new_state
            previous = targets[i] if targets is not None else logits.argmax(axis=1)
        record = {
            "enc": enc,
            "kp": kp,
            "steps": steps,
            "states": np.stack(states),
            "alpha": np.stack(alphas) if self.attend else None,
            "ctx": np.stack(contexts) if self.attend else None,
        }
        return np.stack(logits_all), record

    # ---- training -------------------------------------------------------------------
    def loss_and_grads(self, source: np.ndarray, targets: np.ndarray):
        """Teacher-forced cross-entropy over every target step, and its gradients."""
        L, B = targets.shape
        logits, record = self.run(source, targets, L)
        loss, d_logits = losses.softmax_cross_entropy(
            logits.reshape(L * B, -1), targets.reshape(-1)
        )
        d_logits = d_logits.reshape(L, B, -1)
        H = self.hidden
        grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        enc = record["enc"]
        d_enc = np.zeros_like(enc)
        d_kp = np.zeros_like(record["kp"]) if self.attend else None
        d_state = np.zeros((B, H), enc.dtype)  # dL/ds_i flowing back from step i+1
        for i in reversed(range(L)):
            trace, attn_trace, features = record["steps"][i]
            d_out = d_logits[i].astype(enc.dtype)
            grads["head.weight"] += d_out.T @ features
            grads["head.bias"] += d_out.sum(axis=0)
            d_features = d_out @ self.head.params["weight"]
            d_state = d_state + d_features[:, :H]
            step = gru.backward(trace, np.ascontiguousarray(d_state[None], enc.dtype))
            for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                grads[f"decoder.{kind}_l0"] += step[kind]
            d_state = step["h0"]
            if self.attend:
                d_ctx = d_features[:, H:] + step["input"][0, :, self.vocab + 1 :]
                attn = attention.backward(attn_trace, d_ctx)
                d_state = d_state + attn["query"]
                d_kp += attn["kp"]
                d_enc += attn["values"]
                grads["attention.w_q"] += attn["w_q"]
                grads["attention.v"] += attn["v"]
        if self.attend:
            S = enc.shape[0]
            flat_kp = d_kp.reshape(S * B, -1)
            grads["attention.w_k"] += flat_kp.T @ enc.reshape(S * B, H)
            d_enc += (flat_kp @ self.attn["w_k"]).reshape(S, B, H)
        enc_grads = self.encoder.backward(d_enc.astype(enc.dtype), d_state[None].astype(enc.dtype))
        for name in self.encoder.parameters():
            grads[f"encoder.{name}"] += enc_grads[name]
        return loss, grads

    def decode(self, source: np.ndarray, length: int):
        """Greedy decoding: (predicted codes [L, B], record with the attention [L, B, S])."""
        logits, record = self.run(source, None, length, keep=False)
        return logits.argmax(axis=2), record
