"""Helpers shared by the recurrent-cell kernels (rnn, lstm, gru).

Everything here is either a tiny Numba device function or a numpy-level argument check that
the public wrappers run once per call (never per time step).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic, overload

PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
FLOAT_DTYPES = (np.float32, np.float64)


# --- vectorisable exp / sigmoid / tanh -------------------------------------------------------
# Numba (without SVML) calls libm's scalar exp/tanh, about 10-25 ns each, and that blocks SIMD:
# the gate math of an LSTM then costs more than its matrix products. These versions are plain
# arithmetic (Cody-Waite range reduction, a Taylor polynomial, 2^k built from its bit pattern),
# so LLVM vectorises the loops that call them. Accuracy: <= 2 ulp in float64 and float32
# (checked in tests/kernels/test_fastmath.py). NaN propagates; +-Inf saturate. Loops that call
# them must use error_model="numpy" (Python's zero-division check blocks vectorisation).


@intrinsic
def _i64_bits_as_f64(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


@intrinsic
def _i32_bits_as_f32(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float32))

    return types.float32(types.int32), codegen


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_C = [1.0 / math.factorial(k) for k in range(14)]
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = _C[2:14]
_F_LOG2E = np.float32(_LOG2E)
_F_LN2_HI = np.float32(0.693359375)
_F_LN2_LO = np.float32(-2.12194440e-4)
_F1, _F2, _F3, _F4, _F5, _F6, _F7, _F8 = (np.float32(c) for c in _C[1:9])
_F_ONE = np.float32(1.0)


def exp_parts(x):
    """(s, q) with exp(x) = s * (1 + q), s = 2^k, |q| < 0.42. Numba-only (overloaded below)."""
    raise NotImplementedError("exp_parts is only callable from Numba-compiled code")


@overload(exp_parts, inline="always")
def _exp_parts_impl(x):
    if x == types.float32:

        def impl32(x):
            x = min(max(x, np.float32(-87.0)), np.float32(88.0))
            k = np.floor(x * _F_LOG2E + np.float32(0.5))
            r = x - k * _F_LN2_HI - k * _F_LN2_LO
            r2 = r * r
            odd = r * (_F1 + r2 * (_F3 + r2 * (_F5 + r2 * _F7)))
            even = r2 * (_F2 + r2 * (_F4 + r2 * (_F6 + r2 * _F8)))
            s = _i32_bits_as_f32((np.int32(k) + np.int32(127)) << np.int32(23))
            return s, odd + even

        return impl32

    def impl64(x):
        x = min(max(x, -708.0), 709.0)
        k = np.floor(x * _LOG2E + 0.5)
        r = x - k * _LN2_HI - k * _LN2_LO
        r2 = r * r
        odd = r * (
            1.0 + r2 * (_C3 + r2 * (_C5 + r2 * (_C7 + r2 * (_C9 + r2 * (_C11 + r2 * _C13)))))
        )
        even = r2 * (_C2 + r2 * (_C4 + r2 * (_C6 + r2 * (_C8 + r2 * (_C10 + r2 * _C12)))))
        s = _i64_bits_as_f64((np.int64(k) + 1023) << 52)
        return s, odd + even

    return impl64


def one(x):
    """1 in the float type of scalar x (keeps float32 loops in float32). Numba-only."""
    raise NotImplementedError("one is only callable from Numba-compiled code")


@overload(one, inline="always")
def _one_impl(x):
    if x == types.float32:
        return lambda x: _F_ONE
    return lambda x: 1.0


@njit(cache=True, inline="always", error_model="numpy")
def fast_exp(x):
    s, q = exp_parts(x)
    return s + s * q


@njit(cache=True, inline="always", error_model="numpy")
def fast_expm1(x):
    s, q = exp_parts(x)
    return s * q + (s - one(x))


@njit(cache=True, inline="always", error_model="numpy")
def sigmoid(x):
    """1 / (1 + exp(-x)): accurate in both tails (exp of a large positive just saturates)."""
    return one(x) / (one(x) + fast_exp(-x))


@njit(cache=True, inline="always", error_model="numpy")
def tanh(x):
    """expm1(2x) / (expm1(2x) + 2): relative accuracy near 0, exact +-1 far out."""
    e = fast_expm1(x + x)
    return e / (e + one(x) + one(x))


_SCRATCH: dict = {}


def scratch(name: str, size: int, dtype) -> np.ndarray:
    """A flat [size] array for a kernel's internal temporaries, reused from call to call.

    Fresh big arrays cost page faults on every call (an LSTM backward at B = 64, H = 512
    faulted in 42 MB each time); these buffers grow to the largest size asked for and stay.
    Never returned to a caller: the next call with the same name overwrites it (one compute
    thread calls the kernels, so calls do not overlap).
    """
    key = (name, np.dtype(dtype).str)
    buffer = _SCRATCH.get(key)
    if buffer is None or buffer.shape[0] < size:
        buffer = np.empty(size, dtype=dtype)
        _SCRATCH[key] = buffer
    return buffer[:size]


def float_dtype(x: np.ndarray) -> np.dtype:
    """The compute dtype: x's own if it is float32/float64, otherwise float64."""
    dt = np.asarray(x).dtype
    return dt if dt in FLOAT_DTYPES else np.dtype(np.float64)


def as_c(a, dtype) -> np.ndarray:
    """C-contiguous array of `dtype` (no copy when `a` already is one)."""
    return np.ascontiguousarray(a, dtype=dtype)


def unpack_params(params: dict, gates: int, input_size: int, hidden: int, dtype):
    """Check shapes and return (weight_ih, weight_hh, bias_ih, bias_hh) as C arrays of `dtype`.

    weight_ih: [G*H, I], weight_hh: [G*H, H], bias_ih, bias_hh: [G*H].
    """
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise KeyError(f"params is missing {', '.join(missing)}")
    gh = gates * hidden
    expected = {
        "weight_ih": (gh, input_size),
        "weight_hh": (gh, hidden),
        "bias_ih": (gh,),
        "bias_hh": (gh,),
    }
    out = []
    for name in PARAM_NAMES:
        arr = as_c(params[name], dtype)
        if arr.shape != expected[name]:
            raise ValueError(f"params[{name!r}] has shape {arr.shape}, expected {expected[name]}")
        out.append(arr)
    return tuple(out)


def check_sequence(x, h0, name_h="h0"):
    """Validate x: [T, B, I] and h0: [B, H]; return (x, h0) as C arrays and (T, B, I, H)."""
    x = np.asarray(x)
    dtype = float_dtype(x)
    x = as_c(x, dtype)
    if x.ndim != 3:
        raise ValueError(f"x must be [T, B, I], got shape {x.shape}")
    h0 = as_c(h0, dtype)
    if h0.ndim != 2 or h0.shape[0] != x.shape[1]:
        raise ValueError(f"{name_h} must be [B, H] with B={x.shape[1]}, got shape {h0.shape}")
    T, B, input_size = x.shape
    return x, h0, (T, B, input_size, h0.shape[1])


def grad_or_zeros(g, shape, dtype, name) -> np.ndarray:
    """An upstream gradient as a C array of `dtype`, or zeros when it is None."""
    if g is None:
        return np.zeros(shape, dtype=dtype)
    g = as_c(g, dtype)
    if g.shape != tuple(shape):
        raise ValueError(f"{name} has shape {g.shape}, expected {tuple(shape)}")
    return g


@njit(cache=True, error_model="numpy")
def sum_rows(a, out):
    """out[k] = sum_r a[r, k] for a [R, K] (the bias gradient: summed over time and batch)."""
    for k in range(out.shape[0]):
        out[k] = 0.0
    for r in range(a.shape[0]):
        row = a[r]
        for k in range(out.shape[0]):
            out[k] += row[k]


@njit(cache=True, error_model="numpy")
def add_into(a, b):
    """a += b for two [B, H] arrays (explicit loop: no temporary)."""
    for r in range(a.shape[0]):
        ar = a[r]
        br = b[r]
        for k in range(ar.shape[0]):
            ar[k] += br[k]
