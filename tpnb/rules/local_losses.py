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
        delta = -(hidden_targets[i] - h) * net.activations[i].derivative(fp.us[i])
        grads.append(delta.T @ fp.xs[i] / batch)
    if prediction_target:
        f_out = net.output_activation
        o = f_out(fp.output)
        delta = -(u_target - o) * f_out.derivative_from(fp.output, o)   # -(o' - o) f_out'(u_L)
        grads.append(delta.T @ fp.xs[-1] / batch)
    else:
        grads.append(-(u_target - fp.output).T @ fp.xs[-1] / batch)
    return grads


def outputs_from_layers(net: MLP, entries: list) -> list:
    """Output u_L for every entry: entries[i] (B_i, n_{i+1}) is an input of layer i + 1 (no bias column),
    sent through layers i + 1..L. Entries meeting at a layer share its matrix product: at layer l the rows
    of every entry that entered below are stacked, so the L - 1 partial forwards cost L - 1 products."""
    stack, rows = None, []
    for l in range(1, net.depth):
        entry = entries[l - 1]
        stack = entry if stack is None else np.concatenate([stack, entry])
        rows.append(len(entry))
        w = net.weights[l]
        stack = stack @ w[:, :-1].T + w[:, -1]
        if l < net.depth - 1:
            stack = net.activations[l](stack)
    return np.split(stack, np.cumsum(rows)[:-1])
