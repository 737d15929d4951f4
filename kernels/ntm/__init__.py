"""Neural Turing Machine kernels (Graves, Wayne and Danihelka 2014).

addressing.py  content / interpolate / shift / sharpen, forward + backward per head
memory.py      read and write (erase, add)
heads.py       raw head projection -> key, beta, g, gamma, shift, erase, add
controller.py  one LSTM step of one episode (forward + backward)
linear.py      SIMD-friendly vector x matrix loops
episode.py     one whole episode, forward and BPTT backward
batch.py       prange over a batch of episodes, per-episode gradient rows
layout.py      NTMShape: sizes and the flat parameter vector's layout; init
api.py         forward(shape, flat, x, lengths) -> NTMTrace; backward(trace, targets, mask)
"""

from kernels.ntm.api import MEMORY_INIT, NTMTrace, backward, forward
from kernels.ntm.layout import NTMShape, init_params, views

__all__ = ["MEMORY_INIT", "NTMShape", "NTMTrace", "backward", "forward", "init_params", "views"]
