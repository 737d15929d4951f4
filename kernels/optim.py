"""Optimizers and gradient clipping, updating parameters in place.

The njit kernels (`sgd_update`, `adam_update`, `rmsprop_graves_update`, `clip_elementwise`)
take C-contiguous arrays of any shape; state arrays have the parameter's shape and dtype.
Semantics follow PyTorch (torch.optim.SGD / Adam, torch.nn.utils.clip_grad_norm_); the
RMSProp variant is the centred form with momentum of Graves (2013), as used by the NTM paper.

The classes (`SGD`, `Adam`, `RMSPropGraves`) own the state for a dict of named parameters:
`opt.step(grads)` updates every parameter that has a gradient; `state_dict()` returns flat
numpy arrays ("adam.m.weight_ih_l0", ..., "step") and `load_state_dict` restores them.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange


# error_model="numpy" on the update kernels: with Numba's default ("python") every division
# checks for a zero divisor to raise ZeroDivisionError, and that branch per element keeps the
# loop from vectorising (Adam over 227k float32 parameters: 0.80 ms, 0.11 ms without it; the
# same bits). A zero divisor now gives inf/NaN, as torch.optim does.
@njit(cache=True, error_model="numpy")
def sgd_update(param, grad, velocity, lr, momentum=0.0):
    """v = momentum * v + g;  p -= lr * v  (torch.optim.SGD, no dampening/nesterov)."""
    p = param.reshape(param.size)
    g = grad.reshape(grad.size)
    v = velocity.reshape(velocity.size)
    for k in range(p.size):
        v[k] = momentum * v[k] + g[k]
        p[k] -= lr * v[k]


@njit(cache=True, error_model="numpy")
def adam_update(param, grad, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """torch.optim.Adam; `step` is the 1-based count of updates including this one."""
    p = param.reshape(param.size)
    g = grad.reshape(grad.size)
    mf = m.reshape(m.size)
    vf = v.reshape(v.size)
    bias1 = 1.0 - beta1**step
    bias2_sqrt = math.sqrt(1.0 - beta2**step)
    step_size = lr / bias1
    for k in range(p.size):
        gk = g[k]
        mf[k] = beta1 * mf[k] + (1.0 - beta1) * gk
        vf[k] = beta2 * vf[k] + (1.0 - beta2) * gk * gk
        p[k] -= step_size * mf[k] / (math.sqrt(vf[k]) / bias2_sqrt + eps)


# A flat parameter vector this long is updated in chunks on Numba's threads (the same
# elementwise arithmetic, so the same bits): Adam over the MANN's 227k float32 parameters
# took ~0.15 ms a step on one thread, memory-bound, a serial share of a 2-thread update.
PARALLEL_MIN_ELEMENTS = 1 << 17


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _adam_chunks(param, grad, m, v, step, lr, beta1, beta2, eps, chunks):
    """adam_update over `chunks` contiguous pieces of 1-D arrays, in parallel."""
    n = param.shape[0]
    per = (n + chunks - 1) // chunks
    for c in prange(chunks):
        lo = c * per
        hi = min(n, lo + per)
        adam_update(param[lo:hi], grad[lo:hi], m[lo:hi], v[lo:hi], step, lr, beta1, beta2, eps)


@njit(cache=True, error_model="numpy")
def rmsprop_graves_update(param, grad, n, g, delta, lr=1e-4, decay=0.95, momentum=0.9, eps=1e-4):
    """Graves (2013) eq. 38-41: centred RMSProp with momentum.

    n = decay n + (1-decay) grad^2;  g = decay g + (1-decay) grad;
    delta = momentum delta - lr grad / sqrt(n - g^2 + eps);  p += delta.
    """
    p = param.reshape(param.size)
    gr = grad.reshape(grad.size)
    nf = n.reshape(n.size)
    gf = g.reshape(g.size)
    df = delta.reshape(delta.size)
    for k in range(p.size):
        x = gr[k]
        nf[k] = decay * nf[k] + (1.0 - decay) * x * x
        gf[k] = decay * gf[k] + (1.0 - decay) * x
        df[k] = momentum * df[k] - lr * x / math.sqrt(nf[k] - gf[k] * gf[k] + eps)
        p[k] += df[k]


@njit(cache=True)
def _sum_squares(a):
    """sum of a's squares in float64 (squares too: float(x) of a float32 stays float32 in
    Numba), as eight interleaved partial sums added at the end:
    one running sum waits on each addition (~4 cycles an element; 0.14 ms over the MANN's
    227k gradients), eight independent ones go as one vector."""
    flat = a.reshape(a.size)
    n = flat.size
    whole = n - n % 8
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    for k in range(0, whole, 8):
        x0, x1 = np.float64(flat[k]), np.float64(flat[k + 1])
        x2, x3 = np.float64(flat[k + 2]), np.float64(flat[k + 3])
        x4, x5 = np.float64(flat[k + 4]), np.float64(flat[k + 5])
        x6, x7 = np.float64(flat[k + 6]), np.float64(flat[k + 7])
        s0 += x0 * x0
        s1 += x1 * x1
        s2 += x2 * x2
        s3 += x3 * x3
        s4 += x4 * x4
        s5 += x5 * x5
        s6 += x6 * x6
        s7 += x7 * x7
    total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    for k in range(whole, n):
        x = np.float64(flat[k])
        total += x * x
    return total


@njit(cache=True)
def _scale(a, factor):
    flat = a.reshape(a.size)
    for k in range(flat.size):
        flat[k] *= factor


@njit(cache=True)
def clip_elementwise(grad, limit):
    """Clamp every element of grad to [-limit, limit] in place (NaN stays NaN)."""
    flat = grad.reshape(grad.size)
    for k in range(flat.size):
        if flat[k] > limit:
            flat[k] = limit
        elif flat[k] < -limit:
            flat[k] = -limit


def clip_global_norm(grads, max_norm: float) -> float:
    """Scale all grads in place so their joint L2 norm is at most max_norm; return the norm
    before clipping. Same rule as torch.nn.utils.clip_grad_norm_: factor max_norm/(norm+1e-6),
    applied only when below 1. A NaN/Inf norm is returned unchanged and nothing is scaled."""
    grads = [np.asarray(g) for g in grads]
    total = 0.0
    for g in grads:
        if g.flags.c_contiguous:
            total += _sum_squares(g)
        else:
            total += float(np.sum(np.square(g, dtype=np.float64)))
    total = math.sqrt(total)
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            if g.flags.c_contiguous:
                _scale(g, coef)
            else:
                g *= coef
    return total


def consecutive_flat(arrays: list) -> np.ndarray | None:
    """The 1-D slice of one C vector that `arrays` (C-contiguous, one dtype) are consecutive
    views of, in order and without gaps (as kernels/_flat.views makes them), or None.
    Zero-size arrays are skipped."""
    arrays = [a for a in arrays if a is None or a.size]
    if not arrays or any(not isinstance(a, np.ndarray) for a in arrays):
        return None
    base = arrays[0].base
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    dtype, item = base.dtype, base.itemsize
    start = arrays[0].__array_interface__["data"][0] - base.__array_interface__["data"][0]
    if start % item:
        return None
    expected = arrays[0].__array_interface__["data"][0]
    for a in arrays:
        if a.base is not base or a.dtype != dtype or not a.flags.c_contiguous:
            return None
        if a.__array_interface__["data"][0] != expected:
            return None
        expected += a.nbytes
    begin = start // item
    return base[begin : begin + (expected - arrays[0].__array_interface__["data"][0]) // item]


def _views_like(params: dict, flat: np.ndarray) -> dict:
    """Views into flat [sum of sizes] with params' names and shapes, consecutive in order."""
    out, offset = {}, 0
    for name, p in params.items():
        out[name] = flat[offset : offset + p.size].reshape(p.shape)
        offset += p.size
    return out


class Optimizer:
    """Base: named parameters (updated in place) and named per-parameter state arrays."""

    kind = "optimizer"
    slots: tuple[str, ...] = ()

    def __init__(self, params: dict):
        for name, p in params.items():
            if not isinstance(p, np.ndarray) or p.dtype not in (np.float32, np.float64):
                raise ValueError(f"parameter {name!r} must be a float32/float64 numpy array")
            if not p.flags.c_contiguous or not p.flags.writeable:
                raise ValueError(f"parameter {name!r} must be C-contiguous and writeable")
        self.params = params
        self.step_count = 0
        # Parameters that are consecutive views of one flat vector (the NTM's and the MANN's,
        # kernels/_flat.py) get flat state vectors too, with per-name views: a step whose
        # gradients are laid out the same way is then one kernel call over everything.
        self._flat = consecutive_flat(list(params.values()))
        self._flat_state = (
            [np.zeros_like(self._flat) for _ in self.slots] if self._flat is not None else None
        )
        self.state = {
            s: _views_like(params, self._flat_state[k])
            if self._flat is not None
            else {n: np.zeros_like(p) for n, p in params.items()}
            for k, s in enumerate(self.slots)
        }

    def _grad(self, name, grads):
        return np.ascontiguousarray(grads[name], dtype=self.params[name].dtype)

    def step(self, grads: dict) -> None:
        """Apply one update to every parameter with an entry in grads: in one kernel call
        when the parameters and the gradients are each consecutive views of a flat vector
        (the same bits as name by name: the kernels are elementwise)."""
        self.step_count += 1
        if self._flat is not None and grads.keys() == self.params.keys():
            flat_grad = consecutive_flat([grads[n] for n in self.params])
            if flat_grad is not None and flat_grad.dtype == self._flat.dtype:
                self._update_arrays(self._flat, flat_grad, *self._flat_state)
                return
        for name, p in self.params.items():
            if name in grads:
                self._update(name, p, self._grad(name, grads))

    def _update(self, name, p, g):
        self._update_arrays(p, g, *(self.state[s][name] for s in self.slots))

    def _update_arrays(self, p, g, *state):
        """The kernel over p, g and the slots' state arrays (any shape, all alike)."""
        raise NotImplementedError

    def state_dict(self) -> dict:
        out = {
            f"{self.kind}.{s}.{n}": a.copy() for s, d in self.state.items() for n, a in d.items()
        }
        out["step"] = np.array(self.step_count, dtype=np.int64)
        return out

    def load_state_dict(self, d: dict) -> None:
        for s, arrays in self.state.items():
            for n, a in arrays.items():
                key = f"{self.kind}.{s}.{n}"
                if key not in d:
                    raise KeyError(f"optimizer state is missing {key!r}")
                src = np.asarray(d[key])
                if src.shape != a.shape:
                    raise ValueError(
                        f"optimizer state {key!r} has shape {src.shape}, expected {a.shape}"
                    )
                a[...] = src
        self.step_count = int(d["step"])


class SGD(Optimizer):
    kind = "sgd"
    slots = ("velocity",)

    def __init__(self, params: dict, lr: float, momentum: float = 0.0):
        super().__init__(params)
        self.lr = lr
        self.momentum = momentum

    def _update_arrays(self, p, g, velocity):
        sgd_update(p, g, velocity, self.lr, self.momentum)


class Adam(Optimizer):
    kind = "adam"
    slots = ("m", "v")

    def __init__(
        self,
        params: dict,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ):
        super().__init__(params)
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps

    def _update_arrays(self, p, g, m, v):
        args = (self.step_count, self.lr, self.beta1, self.beta2, self.eps)
        chunks = min(numba.get_num_threads(), p.size // (PARALLEL_MIN_ELEMENTS // 2))
        if p.ndim == 1 and chunks > 1 and g.flags.c_contiguous:
            _adam_chunks(p, g, m, v, *args, chunks)
        else:
            adam_update(p, g, m, v, *args)


class RMSPropGraves(Optimizer):
    kind = "rmsprop_graves"
    slots = ("n", "g", "delta")

    def __init__(
        self,
        params: dict,
        lr: float = 1e-4,
        decay: float = 0.95,
        momentum: float = 0.9,
        eps: float = 1e-4,
    ):
        super().__init__(params)
        self.lr, self.decay, self.momentum, self.eps = lr, decay, momentum, eps

    def _update_arrays(self, p, g, n, g_avg, delta):
        rmsprop_graves_update(p, g, n, g_avg, delta, self.lr, self.decay, self.momentum, self.eps)
