"""Parameters kept in one flat vector, with named views into it (the NTM and the MANN).

One vector lets a kernel update every weight in one pass and lets the optimizer and the
checkpoints treat a model as a single array; the views give each weight its name and
shape again. A shape class lists `param_shapes()` (name -> dims, in vector order) and
inherits the offsets and the size from FlatParameters.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


class FlatParameters:
    """Mixin for a model's shape dataclass that defines param_shapes()."""

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError

    def param_offsets(self) -> dict[str, tuple[int, tuple[int, ...]]]:
        """name -> (offset in the flat vector, shape)."""
        return {name: (start, dims) for name, start, _, dims in _layout(self)}

    @property
    def size(self) -> int:
        layout = _layout(self)
        return layout[-1][2] if layout else 0


@lru_cache(maxsize=256)
def _layout(shape: FlatParameters) -> tuple[tuple[str, int, int, tuple[int, ...]], ...]:
    """((name, start, end, dims), ...) in vector order, computed once per shape (a frozen,
    hashable dataclass): a training update asks for it several times, and building it from
    param_shapes() took ~0.1 ms a call at the MANN's size."""
    out, offset = [], 0
    for name, dims in shape.param_shapes().items():
        end = offset + int(np.prod(dims))
        out.append((name, offset, end, tuple(int(d) for d in dims)))
        offset = end
    return tuple(out)


def views(shape: FlatParameters, flat: np.ndarray) -> dict[str, np.ndarray]:
    """Named views into a flat vector of `shape.size` values (writes go through)."""
    layout = _layout(shape)
    size = layout[-1][2] if layout else 0
    if flat.ndim != 1 or flat.size != size:
        raise ValueError(f"flat vector must have {size} values, got shape {flat.shape}")
    return {name: flat[start:end].reshape(dims) for name, start, end, dims in layout}


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
