"""Numba flags shared by the NTM kernels.

REASSOC lets LLVM reorder float sums so that loops with a reduction (dot products over a
memory row, the gradient of a weighting) vectorise. It is the fine-grained subset of fastmath
the design allows: no "nnan"/"ninf", so NaN and Inf still propagate and divergence is seen.
Measured on the copy preset (CPU time, float32): content and write backward about 2x faster.

No "contract" (fused multiply-add): with it, the kernels compiled in a process and the same
kernels loaded from Numba's cache rounded differently (float32 gradients up to 4e-6 apart
at the copy preset), so the first run after a change or a fresh install trained to other
numbers than every later run. Without it the two agree bit for bit, at the same speed
(2.10-2.12 vs 2.01-2.14 ms per length-20 episode, forward + backward, two runs each).
"""

REASSOC = {"reassoc"}  # a set: numba rejects frozenset
