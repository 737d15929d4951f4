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


# OpenBLAS runs a GEMM on one thread when m * n * k is at most this (its SMP_THRESHOLD_MIN times
# GEMM_MULTITHREAD_THRESHOLD); above it, every call wakes the BLAS threads and waits for them.
BLAS_SINGLE_THREAD_MNK = 65536 * 4
# Products with at least this many rows span the whole sequence (T * B); BLAS may thread them.
SEQUENCE_ROWS = 64


@njit(cache=True)
def dot_rows(a, b, out):
    """out = a @ b for a [R, K] (C order), b [K, N] (C or F order); out [R, N] C-contiguous.

    The recurrent kernels' products are mostly just over OpenBLAS's threading threshold: each
    call then pays a hand-off to the second BLAS thread, and when the cores are busy (other
    processes, the UI thread) that hand-off stalls for milliseconds (measured under load: a
    3M multiply-add product took 8 ms instead of 60 us). Such products are split into row
    blocks that each stay single-threaded, as long as a block keeps >= 4 rows (each
    block re-reads b, which stays in cache at these sizes). Bigger products, where two
    threads pay off, go to BLAS whole: those whose 4-row block alone passes the threshold, and
    the whole-sequence products (R >= 64 rows: x[T*B, I] @ W^T and its backward twins), which
    amortise the hand-off (B=16 H=128: the LSTM went from 0.78x to 0.88x torch's speed).
    """
    R = a.shape[0]
    per_row = a.shape[1] * b.shape[1]
    whole = R * per_row <= BLAS_SINGLE_THREAD_MNK or 4 * per_row > BLAS_SINGLE_THREAD_MNK
    if whole or R >= SEQUENCE_ROWS:
        np.dot(a, b, out)
        return
    rows = BLAS_SINGLE_THREAD_MNK // per_row
    for r0 in range(0, R, rows):
        r1 = min(R, r0 + rows)
        np.dot(a[r0:r1], b, out[r0:r1])


@njit(cache=True)
def dot_tn(a, b, out, accumulate):
    """out (+)= a^T @ b for a [K, M], b [K, N] (both C order); out [M, N] C-contiguous.

    The weight gradients (dW = dA^T X summed over every time step and batch row). Split
    along K like dot_rows splits rows, so each BLAS call stays single-threaded; the blocks
    are summed. accumulate=True adds to out instead of overwriting it.
    """
    K = a.shape[0]
    per_k = a.shape[1] * b.shape[1]
    # a block sums M*N values for block*M*N multiply-adds: >= 16 rows keeps that cheap
    whole = K * per_k <= BLAS_SINGLE_THREAD_MNK or 16 * per_k > BLAS_SINGLE_THREAD_MNK
    if whole or K >= SEQUENCE_ROWS:
        step = K
    else:
        step = BLAS_SINGLE_THREAD_MNK // per_k
    tmp = np.empty_like(out)
    for k0 in range(0, K, step):
        k1 = min(K, k0 + step)
        if k0 == 0 and not accumulate:
            np.dot(a[k0:k1].T, b[k0:k1], out)
        else:
            np.dot(a[k0:k1].T, b[k0:k1], tmp)
            add_into(out, tmp)
