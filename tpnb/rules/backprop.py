"""Backpropagation: the gradient of the loss on the output, pushed down the layers, fed to an optimiser."""
from __future__ import annotations

import numpy as np

from .. import checks
from ..losses import get_loss
from ..network import MLP, ForwardPass
from ..optimizers import check_rule_options, make_optimizer
from . import options
from .local_losses import outer_sum
from .protocol import norms
from .targets import output_gradient


def gradients(net: MLP, x: np.ndarray, y: np.ndarray, loss) -> list:
    """dL/dW_l for every layer, each (N_l, D_l + 1); L is the batch-mean loss."""
    fp = net.forward(x)
    return backward(net, fp, output_gradient(loss, fp.output, y, net.output_activation))


def backward(net: MLP, fp: ForwardPass, delta: np.ndarray) -> list:
    """dL/dW_l for every layer from a recorded forward pass and delta = dL/du_L, (B, n_L)."""
    grads = [None] * net.depth
    for l in range(net.depth - 1, -1, -1):
        grads[l] = outer_sum(delta, fp.xs[l])                 # dL/dW_l = delta^T x_l
        if l > 0:
            # delta_{l-1} = (delta_l W_l) * f'(u_{l-1}), f' from the recorded h_{l-1} = f(u_{l-1})
            delta = delta @ net.weights[l][:, :-1]
            delta *= net.activations[l - 1].derivative_from(fp.us[l - 1], fp.xs[l][:, :-1])
    return grads


def bp_gradients(net: MLP, fp: ForwardPass, e: np.ndarray) -> list:
    """Backprop gradients of mean_b l_b given per-sample output errors e = dl/du_L, (B, n_L)."""
    return backward(net, fp, e / e.shape[0])


class Backprop:
    """Gradient of ``loss`` ("mse" or "cross_entropy") with an optimiser ("sgd" or "adam").
    layer_scales: one factor > 0 per weight layer multiplying its gradient before the optimiser (with SGD,
    per-layer learning rates lr s_l: what GTP with one Euler step amounts to, s_l = tau^(L - l)); None: 1."""

    name = "backprop"

    def __init__(self, *, loss: str = "mse", optimizer: str = "sgd", layer_scales=None, **optimizer_options):
        check_rule_options(self, optimizer, optimizer_options)
        self.loss = get_loss(loss)
        self.optimizer = make_optimizer(optimizer, **optimizer_options)
        self.layer_scales = None if layer_scales is None else options.positive_numbers("layer_scales", layer_scales)

    def __repr__(self):
        scales = "" if self.layer_scales is None else f", layer_scales={self.layer_scales}"
        return f"Backprop(loss={self.loss.name!r}, optimizer={self.optimizer!r}{scales})"

    def step(self, net: MLP, x: np.ndarray, y: np.ndarray) -> dict:
        x, y = checks.training_batch(net, x, y)
        grads = gradients(net, x, y, self.loss)
        if self.layer_scales is not None:
            if len(self.layer_scales) != net.depth:
                raise ValueError(f"layer_scales has {len(self.layer_scales)} entries, the network {net.depth} "
                                 f"weight layers")
            grads = [s * g for s, g in zip(self.layer_scales, grads)]    # SGD: layer l's rate lr s_l
        self.optimizer.update(net.weights, grads)
        return norms("grad_norm", grads)
