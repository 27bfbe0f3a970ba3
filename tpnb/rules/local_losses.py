"""The forward side of the TP rules that train by local losses (GNT, the DTP family, GTP).

Notation (the book's, 0-based in code): layer l = 0..L-1 has input x_l (with bias column),
pre-activation u_l = x_l W_l^T and, for l < L-1, hidden activation h_l = f(u_l). The output u_{L-1}
is linear unless the network has an output activation f_out. "Hidden layer i" means h_i, i = 0..L-2;
its target is h'_i. Batches are rows.

Forward weights follow the gradient of the local batch-mean losses
    L_i = mean_b 1/2 |h'_i - h_i|^2  (hidden layers, post-activation),
    L_out = mean_b 1/2 |u'_L - u_L|^2 (output layer; GTP on an output activation: 1/2 |o' - f_out(u_L)|^2),
with the targets held fixed: dL_i/dW_i = -((h'_i - h_i) * f'(u_i))^T x_i / B.
"""
from __future__ import annotations

import numpy as np

from ..network import MLP, ForwardPass


def hidden_activations(fp: ForwardPass) -> list:
    """h_i = f(u_i) for i = 0..L-2, each (B, n_i): views of the layer inputs the forward pass recorded."""
    return [x[:, :-1] for x in fp.xs[1:]]


def local_gradients(net: MLP, fp: ForwardPass, hidden_targets: list, u_target: np.ndarray,
                    prediction_target: bool = False) -> list:
    """Gradients of the local losses w.r.t. every W_l, each (n_l, d_l + 1).

    hidden_targets[i] is h'_i, (B, n_i), for i = 0..L-2; u_target is u'_L, or (``prediction_target``,
    for a network with an output activation) the target o' of the prediction f_out(u_L).
    """
    batch = fp.output.shape[0]
    grads = []
    for i, h in enumerate(hidden_activations(fp)):
        delta = np.subtract(h, hidden_targets[i])                    # -(h'_i - h_i), exactly
        delta *= net.activations[i].derivative_from(fp.us[i], h)     # -(h'_i - h_i) f'(u_i)
        grads.append(_mean_outer(delta, fp.xs[i], batch))
    if prediction_target:
        f_out = net.output_activation
        o = f_out(fp.output)
        delta = np.subtract(o, u_target)                             # -(o' - o)
        delta *= f_out.derivative_from(fp.output, o)                 # -(o' - o) f_out'(u_L)
    else:
        delta = np.subtract(fp.output, u_target)                     # -(u'_L - u_L)
    grads.append(_mean_outer(delta, fp.xs[-1], batch))
    return grads


def _mean_outer(delta: np.ndarray, x: np.ndarray, batch: int) -> np.ndarray:
    """delta^T x / B, divided in place (not at all for B = 1: x / 1 is x, bit for bit)."""
    grad = outer_sum(delta, x)
    if batch != 1:
        grad /= batch
    return grad


def outer_sum(delta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_b delta_b x_b^T = delta^T x, (n, d), for delta (B, n) and x (B, d). For one sample the product
    is the outer product delta_0 x_0^T, computed as a broadcast multiply: numpy runs a matmul with an inner
    dimension of 1 through its slow non-BLAS loop (several times slower), whose 0 + a b gives the same
    numbers (a -0.0 product aside, which it turns into +0.0)."""
    return np.multiply(delta.T, x) if len(x) == 1 else delta.T @ x


def outputs_from_layers(net: MLP, entries: list) -> np.ndarray:
    """Output u_L for every entry, stacked: entries[i] (B_i, n_{i+1}) is an input of layer i + 1 (no bias
    column), sent through layers i + 1..L; the result's rows are those of entries[0], then entries[1], ...
    Entries meeting at a layer share its matrix product: at layer l the rows of every entry that entered
    below are stacked, so the L - 1 partial forwards cost L - 1 products. Each layer's activation is
    written straight into the next layer's stack, beside the rows of the entry that joins there."""
    stack = entries[0]
    for l in range(1, net.depth):
        w = net.weights[l]
        u = stack @ w[:, :-1].T
        u += w[:, -1]                                   # u_l = W_l [x; 1] for the stacked rows
        if l == net.depth - 1:
            return u
        entry = entries[l]
        stack = np.empty((len(u) + len(entry), u.shape[1]), dtype=np.result_type(u, entry))
        net.activations[l].write(u, stack[:len(u)])
        stack[len(u):] = entry
