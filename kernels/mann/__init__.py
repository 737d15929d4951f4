"""Memory-augmented neural network kernels: one-shot learning with least-recently-used access
(Santoro, Bartunov, Botvinick, Wierstra and Lillicrap 2016).

An LSTM controller reads a memory by content only (cosine similarity, softmax) and writes
either to the slot it read last step or to the least-used slot, through a learned gate.

heads.py    raw head projection -> key, add, write gate sigma, key strength beta
lru.py      usage, least-used slots, write weights, the write; forward + backward
episode.py  one whole episode, forward and BPTT backward (reuses the NTM's LSTM gates,
            cosine content addressing, read and vector x matrix loops)
batch.py    prange over a batch of episodes
layout.py   MANNShape: sizes and the flat parameter vector's layout; init
api.py      forward(shape, flat, x, gamma) -> MANNTrace; backward(trace, labels, mask, scale)
"""

from kernels.mann.api import GAMMA, MEMORY_INIT, MANNTrace, backward, forward
from kernels.mann.layout import MANNShape, init_params, views

__all__ = [
    "GAMMA", "MEMORY_INIT", "MANNShape", "MANNTrace", "backward", "forward", "init_params",
    "views",
]  # fmt: skip
