"""Parameters kept in one flat vector, with named views into it (the NTM and the MANN).

One vector lets a kernel update every weight in one pass and lets the optimizer and the
checkpoints treat a model as a single array; the views give each weight its name and
shape again. A shape class lists `param_shapes()` (name -> dims, in vector order) and
inherits the offsets and the size from FlatParameters.
"""

from __future__ import annotations

import numpy as np


class FlatParameters:
    """Mixin for a model's shape dataclass that defines param_shapes()."""

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError

    def param_offsets(self) -> dict[str, tuple[int, tuple[int, ...]]]:
        """name -> (offset in the flat vector, shape)."""
        out, offset = {}, 0
        for name, shape in self.param_shapes().items():
            out[name] = (offset, shape)
            offset += int(np.prod(shape))
        return out

    @property
    def size(self) -> int:
        return sum(int(np.prod(s)) for s in self.param_shapes().values())


def views(shape: FlatParameters, flat: np.ndarray) -> dict[str, np.ndarray]:
    """Named views into a flat vector of `shape.size` values (writes go through)."""
    if flat.ndim != 1 or flat.size != shape.size:
        raise ValueError(f"flat vector must have {shape.size} values, got shape {flat.shape}")
    return {
        name: flat[offset : offset + int(np.prod(dims))].reshape(dims)
        for name, (offset, dims) in shape.param_offsets().items()
    }


def checked_batch(flat: np.ndarray, x, inputs: int) -> tuple[np.ndarray, np.ndarray]:
    """The checks every forward makes: parameters float32/float64, x [T, B, inputs] with
    T, B >= 1. Returns (flat contiguous, x as an array)."""
    flat = np.ascontiguousarray(flat)
    if flat.dtype not in (np.float32, np.float64):
        raise ValueError(f"parameters must be float32 or float64, got {flat.dtype}")
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[2] != inputs:
        raise ValueError(f"x must be [T, B, {inputs}], got shape {x.shape}")
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"x needs at least one step and one episode, got shape {x.shape}")
    return flat, x
