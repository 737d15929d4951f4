"""The NTM's controllers, one step of one episode (vectors, not batches): an LSTM, or a
feed-forward layer h_t = tanh(W_ih u_t + b) (the paper's other controller).

Same equations and gate order (i, f, g, o) as kernels/lstm.py (PyTorch's), with one bias
vector (PyTorch's bias_ih + bias_hh). The NTM needs a step-at-a-time controller because its
input at step t holds the read vectors of step t - 1, so the input projections of a whole
sequence cannot be computed up front as kernels/lstm.py does; this fused step keeps one
episode's work in one thread.

Shapes: u [I] input, h, c [H], gates [4H] (post-activation; the feed-forward layer keeps its
pre-activation [H] there), w_ih_t [I, 4H], w_hh_t [H, 4H]
(transposed for the forward loops), w_ih [4H, I], w_hh [4H, H] (stored layout, backward).
"""

from __future__ import annotations

from numba import njit

from kernels._common import one, sigmoid, tanh
from kernels.ntm.linear import add_vec_mat, linear_forward


@njit(cache=True, error_model="numpy")
def lstm_step_forward(u, h_prev, c_prev, w_ih_t, w_hh_t, bias, gates, h, c):
    """Fills gates [4H], h, c [H]."""
    linear_forward(w_ih_t, bias, u, gates)
    add_vec_mat(h_prev, w_hh_t, gates)
    _gates_forward(gates, c_prev, c, h)


@njit(cache=True, error_model="numpy")
def _gates_forward(gates, c_prev, c, h):
    """Activations in place (i, f, g, o) and the new c, h. Not inlined, one slice per gate,
    vectorisable tanh/sigmoid: the same recipe (and reasons) as kernels/lstm.py's _fwd_step."""
    H = h.shape[0]
    gi, gf, gg, go = gates[:H], gates[H : 2 * H], gates[2 * H : 3 * H], gates[3 * H :]
    for j in range(H):
        i = sigmoid(gi[j])
        f = sigmoid(gf[j])
        g = tanh(gg[j])
        o = sigmoid(go[j])
        cj = f * c_prev[j] + i * g
        gi[j] = i
        gf[j] = f
        gg[j] = g
        go[j] = o
        c[j] = cj
        h[j] = o * tanh(cj)


@njit(cache=True, error_model="numpy")
def lstm_step_backward(c_prev, gates, c, d_h, d_c, w_ih, w_hh, d_pre, d_u, d_h_prev):
    """d_h: total dL/dh_t. d_c: in dL/dc_t from later steps, out dL/dc_{t-1} (in place).
    Sets d_pre [4H] (dL/d pre-activations), d_u [I], d_h_prev [H]. The weight and bias
    gradients are sums over steps of outer(d_pre, u) etc.: the caller forms them once per
    episode (linear.add_outer_sum)."""
    _gates_backward(c_prev, gates, c, d_h, d_c, d_pre)
    d_u[:] = 0.0
    d_h_prev[:] = 0.0
    add_vec_mat(d_pre, w_ih, d_u)
    add_vec_mat(d_pre, w_hh, d_h_prev)


@njit(cache=True, error_model="numpy")
def _gates_backward(c_prev, gates, c, d_h, d_c, d_pre):
    """d_pre [4H] from d_h, d_c [H] (d_c is replaced by dL/dc_{t-1}); see _gates_forward."""
    H = c.shape[0]
    gi, gf, gg, go = gates[:H], gates[H : 2 * H], gates[2 * H : 3 * H], gates[3 * H :]
    pi, pf, pg, po = d_pre[:H], d_pre[H : 2 * H], d_pre[2 * H : 3 * H], d_pre[3 * H :]
    for j in range(H):
        one_ = one(c[j])
        i = gi[j]
        f = gf[j]
        g = gg[j]
        o = go[j]
        tc = tanh(c[j])
        dct = d_c[j] + d_h[j] * o * (one_ - tc * tc)
        pi[j] = dct * g * i * (one_ - i)
        pf[j] = dct * c_prev[j] * f * (one_ - f)
        pg[j] = dct * i * (one_ - g * g)
        po[j] = d_h[j] * tc * o * (one_ - o)
        d_c[j] = dct * f


@njit(cache=True, error_model="numpy")
def feedforward_step_forward(u, w_ih_t, bias, pre, h):
    """Fills pre [H] = w_ih_t^T u + bias and h [H] = tanh(pre)."""
    linear_forward(w_ih_t, bias, u, pre)
    for j in range(h.shape[0]):
        h[j] = tanh(pre[j])


@njit(cache=True, error_model="numpy")
def feedforward_step_backward(h, d_h, w_ih, d_pre, d_u):
    """d_h: dL/dh_t -> d_pre [H] = d_h * (1 - h^2) and d_u [I] = w_ih^T d_pre (set)."""
    for j in range(h.shape[0]):
        d_pre[j] = d_h[j] * (one(h[j]) - h[j] * h[j])
    d_u[:] = 0.0
    add_vec_mat(d_pre, w_ih, d_u)
