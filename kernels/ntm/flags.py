"""Numba flags shared by the NTM kernels.

REASSOC lets LLVM reorder float sums so that loops with a reduction (dot products over a
memory row, the gradient of a weighting) vectorise. It is the fine-grained subset of fastmath
the design allows: no "nnan"/"ninf", so NaN and Inf still propagate and divergence is seen.
Measured on the copy preset (CPU time, float32): content and write backward about 2x faster.
"""

REASSOC = {"reassoc", "contract"}  # a set: numba rejects frozenset
