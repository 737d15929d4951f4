"""One NTM episode, forward and exact backward (BPTT over the whole episode), in one thread.

Step t of an episode (all heads address the memory M as it was at the start of the step):

    u_t     = [x_t, r_{t-1}]                          controller input (r_{-1} = read0)
    h_t,c_t = LSTM(u_t, h_{t-1}, c_{t-1})            or h_t = tanh(W_ih u_t + b) (feed-forward)
    raw_t   = W_heads h_t + b_heads  -> per head key, beta, g, gamma, shift (+ erase, add)
    w_t^k   = address(raw^k, M, w_{t-1}^k)           content -> interpolate -> shift -> sharpen
    r_t^k   = w_t^k M                                 read heads, before this step's writes
    M      <- write(M, w_t^q, e_t^q, a_t^q)           write heads, one after the other
    y_t     = W_out [h_t, r_t] + b_out                output logits (sigmoid outputs, BCE)

Trace arrays for one episode (T = the padded length, n = this episode's steps <= T):
ctrl_in [T, I], hs, cs [T+1, H] (index 0 = initial state), gates [T, G] (G = 4H for the LSTM,
H for the feed-forward controller, which has no weight_hh, h0, c0: zero-size), act [T, P] (activated
head blocks), addr [T, heads, 5, N] (content similarity K, wc, wg, ws, w), reads [T+1, R, W]
(index 0 = read0), mems [T*Wh+1, N, W] (index t*Wh + q = memory before write head q of step t),
logits [T, Y].
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.ntm.addressing import (
    content_backward,
    content_forward,
    interpolate_backward,
    interpolate_forward,
    sharpen_backward,
    sharpen_forward,
    shift_backward,
    shift_forward,
)
from kernels.ntm.controller import (
    feedforward_step_backward,
    feedforward_step_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from kernels.ntm.heads import activate, activate_backward
from kernels.ntm.linear import add_outer_sum, linear_backward_input, linear_forward
from kernels.ntm.memory import read_backward, read_forward, write_backward, write_forward

K_SIM, W_CONTENT, W_GATED, W_SHIFTED, W_FINAL = 0, 1, 2, 3, 4


@njit(cache=True)
def episode_forward(x, n, weights, trace):
    """Run n steps of one episode from x [T, X]; fill the trace arrays (see module doc).

    weights: (w_ih_t, w_hh_t, bias, h0, c0, heads_w_t, heads_b, out_w_t, out_b, read0, w0,
    head_off, shifts, mem_init), the weights transposed for the forward loops;
    trace: (ctrl_in, hs, cs, gates, act, addr, reads, mems, logits) of this episode."""
    w_ih_t, w_hh_t, bias, h0, c0, heads_w_t, heads_b, out_w_t, out_b = weights[:9]
    read0, w0, head_off, shifts, mem_init = weights[9:]
    ctrl_in, hs, cs, gates, act, addr, reads, mems, logits = trace
    X = x.shape[1]
    H = heads_w_t.shape[0]
    recurrent = w_hh_t.shape[0] > 0
    R, W = read0.shape
    n_heads = w0.shape[0]
    Wh = n_heads - R
    raw = np.empty(heads_b.shape[0], dtype=x.dtype)
    out_in = np.empty(out_w_t.shape[0], dtype=x.dtype)
    mems[0, :, :] = mem_init
    if recurrent:
        hs[0, :] = h0
        cs[0, :] = c0
    reads[0, :, :] = read0
    for t in range(n):
        u = ctrl_in[t]
        u[:X] = x[t]
        for k in range(R):
            u[X + k * W : X + (k + 1) * W] = reads[t, k]
        if recurrent:
            lstm_step_forward(u, hs[t], cs[t], w_ih_t, w_hh_t, bias, gates[t], hs[t + 1], cs[t + 1])
        else:
            feedforward_step_forward(u, w_ih_t, bias, gates[t], hs[t + 1])
        linear_forward(heads_w_t, heads_b, hs[t + 1], raw)
        mem = mems[t * Wh]
        for k in range(n_heads):
            o = head_off[k]
            block = W + 3 + shifts + (2 * W if k >= R else 0)
            a = act[t, o : o + block]
            activate(raw[o : o + block], a, W, shifts, k >= R)
            w_prev = w0[k] if t == 0 else addr[t - 1, k, W_FINAL]
            d = addr[t, k]
            content_forward(a[:W], a[W], mem, d[K_SIM], d[W_CONTENT])
            interpolate_forward(d[W_CONTENT], w_prev, a[W + 1], d[W_GATED])
            shift_forward(d[W_GATED], a[W + 3 : W + 3 + shifts], d[W_SHIFTED])
            sharpen_forward(d[W_SHIFTED], a[W + 2], d[W_FINAL])
        for k in range(R):
            read_forward(addr[t, k, W_FINAL], mem, reads[t + 1, k])
        for q in range(Wh):
            k = R + q
            o = head_off[k] + W + 3 + shifts
            write_forward(
                mems[t * Wh + q],
                addr[t, k, W_FINAL],
                act[t, o : o + W],
                act[t, o + W : o + 2 * W],
                mems[t * Wh + q + 1],
            )
        out_in[:H] = hs[t + 1]
        for k in range(R):
            out_in[H + k * W : H + (k + 1) * W] = reads[t + 1, k]
        linear_forward(out_w_t, out_b, out_in, logits[t])


@njit(cache=True)
def bce_with_logits(a, y):
    """-(y log sigmoid(a) + (1 - y) log(1 - sigmoid(a))), stable."""
    return max(a, 0.0) - a * y + math.log1p(math.exp(-abs(a)))


@njit(cache=True)
def episode_backward(x, n, targets, mask, scale, weights, trace, grads):
    """Gradients of scale * sum_t mask[t] * BCE(logits[t], targets[t]) (summed over bits),
    added into grads, one array per parameter in layout.param_shapes() order. Returns the
    unscaled loss (nats).

    weights: (w_ih, w_hh, heads_w, out_w, read0, w0, head_off, shifts), stored layouts;
    trace: this episode's arrays as episode_forward filled them."""
    w_ih, w_hh, heads_w, out_w, read0, w0, head_off, shifts = weights
    ctrl_in, hs, cs, gates, act, addr, reads, mems, logits = trace
    g_w_ih, g_w_hh, g_bias, g_h0, g_c0, g_heads_w, g_heads_b = grads[:7]
    g_out_w, g_out_b, g_read0, g_w0_logits = grads[7:]
    X = x.shape[1]
    H = hs.shape[1]
    G = w_ih.shape[0]
    recurrent = w_hh.shape[1] > 0
    R, W = read0.shape
    n_heads, N = w0.shape
    Wh = n_heads - R
    P = act.shape[1]
    Y = logits.shape[1]
    dt = x.dtype
    d_mem = np.zeros((N, W), dtype=dt)
    d_w_cur = np.zeros((n_heads, N), dtype=dt)
    d_w_carry = np.zeros((n_heads, N), dtype=dt)
    d_reads = np.zeros((R, W), dtype=dt)  # dL/d r_t from the controller input of step t + 1
    d_h = np.zeros(H, dtype=dt)
    d_c = np.zeros(H, dtype=dt)
    d_h_prev = np.zeros(H, dtype=dt)
    d_pre_all = np.zeros((max(n, 1), G), dtype=dt)  # per step, for the weight gradients
    d_raw_all = np.zeros((max(n, 1), P), dtype=dt)
    d_y_all = np.zeros((max(n, 1), Y), dtype=dt)
    out_in_all = np.zeros((max(n, 1), out_w.shape[1]), dtype=dt)
    d_u = np.zeros(ctrl_in.shape[1], dtype=dt)
    d_act = np.zeros(P, dtype=dt)
    d_out_in = np.zeros(out_w.shape[1], dtype=dt)
    d_wc = np.zeros(N, dtype=dt)
    d_wg = np.zeros(N, dtype=dt)
    d_ws = np.zeros(N, dtype=dt)
    loss = 0.0
    for t in range(n - 1, -1, -1):
        # output layer
        m = mask[t]
        d_y = d_y_all[t]
        out_in = out_in_all[t]
        d_raw = d_raw_all[t]
        d_pre = d_pre_all[t]
        for j in range(Y):
            z = logits[t, j]
            if m != 0.0:
                loss += m * bce_with_logits(z, targets[t, j])
            p = 1.0 / (1.0 + math.exp(-z)) if z >= 0.0 else math.exp(z) / (1.0 + math.exp(z))
            d_y[j] = (p - targets[t, j]) * m * scale
        out_in[:H] = hs[t + 1]
        for k in range(R):
            out_in[H + k * W : H + (k + 1) * W] = reads[t + 1, k]
        d_out_in[:] = 0.0
        linear_backward_input(out_w, d_y, d_out_in)
        for j in range(H):
            d_h[j] += d_out_in[j]
        for k in range(R):
            for j in range(W):
                d_reads[k, j] += d_out_in[H + k * W + j]
        # weightings: this step's use (read/write) plus the next step's interpolation
        d_w_cur[:, :] = d_w_carry
        d_w_carry[:, :] = 0.0
        d_act[:] = 0.0
        for q in range(Wh - 1, -1, -1):
            k = R + q
            o = head_off[k] + W + 3 + shifts
            write_backward(
                mems[t * Wh + q],
                addr[t, k, W_FINAL],
                act[t, o : o + W],
                act[t, o + W : o + 2 * W],
                d_mem,
                d_w_cur[k],
                d_act[o : o + W],
                d_act[o + W : o + 2 * W],
            )
        mem = mems[t * Wh]
        for k in range(R):
            read_backward(addr[t, k, W_FINAL], mem, d_reads[k], d_w_cur[k], d_mem)
        for k in range(n_heads):
            o = head_off[k]
            a = act[t, o:]
            da = d_act[o:]
            d = addr[t, k]
            w_prev = w0[k] if t == 0 else addr[t - 1, k, W_FINAL]
            da[W + 2] = sharpen_backward(d[W_SHIFTED], a[W + 2], d[W_FINAL], d_w_cur[k], d_ws)
            shift_backward(
                d[W_GATED], a[W + 3 : W + 3 + shifts], d_ws, d_wg, da[W + 3 : W + 3 + shifts]
            )
            da[W + 1] = interpolate_backward(
                d[W_CONTENT], w_prev, a[W + 1], d_wg, d_wc, d_w_carry[k]
            )
            da[W] = content_backward(a[:W], a[W], mem, d[K_SIM], d[W_CONTENT], d_wc, da[:W], d_mem)
            block = W + 3 + shifts + (2 * W if k >= R else 0)
            activate_backward(a[:block], da[:block], d_raw[o : o + block], W, shifts, k >= R)
        linear_backward_input(heads_w, d_raw, d_h)
        # controller
        if recurrent:
            lstm_step_backward(
                cs[t], gates[t], cs[t + 1], d_h, d_c, w_ih, w_hh, d_pre, d_u, d_h_prev
            )
            d_h[:] = d_h_prev
        else:
            feedforward_step_backward(hs[t + 1], d_h, w_ih, d_pre, d_u)
            d_h[:] = 0.0
        for k in range(R):
            for j in range(W):
                d_reads[k, j] = d_u[X + k * W + j]
    # weight gradients: sums over the episode's steps of outer products
    add_outer_sum(g_out_w, d_y_all, out_in_all, n)
    add_outer_sum(g_heads_w, d_raw_all, hs[1:], n)
    add_outer_sum(g_w_ih, d_pre_all, ctrl_in, n)
    add_outer_sum(g_w_hh, d_pre_all, hs, n)
    for t in range(n):
        for j in range(Y):
            g_out_b[j] += d_y_all[t, j]
        for j in range(P):
            g_heads_b[j] += d_raw_all[t, j]
        for j in range(G):
            g_bias[j] += d_pre_all[t, j]
    for j in range(g_h0.shape[0]):  # none for the feed-forward controller
        g_h0[j] += d_h[j]
        g_c0[j] += d_c[j]
    for k in range(R):
        for j in range(W):
            g_read0[k, j] += d_reads[k, j]
    for k in range(n_heads):  # w0 = softmax(logits)
        s = 0.0
        for i in range(N):
            s += w0[k, i] * d_w_carry[k, i]
        for i in range(N):
            g_w0_logits[k, i] += w0[k, i] * (d_w_carry[k, i] - s)
    return loss
