"""Memory-augmented neural network kernels: one-shot learning with least-recently-used access
(Santoro, Bartunov, Botvinick, Wierstra and Lillicrap 2016).

An LSTM controller reads a memory by content only (cosine similarity, softmax) and writes
either to the slot it read last step or to the least-used slot, through a learned gate.

heads.py    raw head projection -> key, add, write gate sigma, key strength beta
lru.py      usage, least-used slots, write weights, the write; forward + backward
memory.py   one step of one episode's memory: write, content read, usage; forward + backward
            (reuses the NTM's cosine content addressing and read)
batch.py    whole episodes, forward and BPTT backward: each step's controller products for
            a chunk of episodes at once (kernels/_gemm.py's tiles), chunks in parallel
layout.py   MANNShape: sizes and the flat parameter vector's layout; init
api.py      forward(shape, flat, x, gamma) -> MANNTrace; backward(trace, labels, mask, scale);
            the whole-batch products (input projections, weight gradients)
"""

from kernels.mann.api import GAMMA, MEMORY_INIT, MANNTrace, backward, forward
from kernels.mann.layout import MANNShape, init_params, views

__all__ = [
    "GAMMA", "MEMORY_INIT", "MANNShape", "MANNTrace", "backward", "forward", "init_params",
    "views",
]  # fmt: skip
