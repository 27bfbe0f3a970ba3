"""Backpropagation: the gradient of the loss on the output, pushed down the layers, fed to an optimiser."""
from __future__ import annotations

import numpy as np

from .. import checks
from ..losses import get_loss
from ..network import MLP, ForwardPass
from ..optimizers import check_rule_options, make_optimizer
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
        grads[l] = delta.T @ fp.xs[l]                         # dL/dW_l = delta^T x_l
        if l > 0:
            delta = (delta @ net.weights[l][:, :-1]) * net.activations[l - 1].derivative(fp.us[l - 1])
    return grads


def bp_gradients(net: MLP, fp: ForwardPass, e: np.ndarray) -> list:
    """Backprop gradients of mean_b l_b given per-sample output errors e = dl/du_L, (B, n_L)."""
    return backward(net, fp, e / e.shape[0])


class Backprop:
    """Gradient of ``loss`` ("mse" or "cross_entropy") with an optimiser ("sgd" or "adam")."""

    name = "backprop"

    def __init__(self, *, loss: str = "mse", optimizer: str = "sgd", **optimizer_options):
        check_rule_options(self, optimizer, optimizer_options)
        self.loss = get_loss(loss)
        self.optimizer = make_optimizer(optimizer, **optimizer_options)

    def __repr__(self):
        return f"Backprop(loss={self.loss.name!r}, optimizer={self.optimizer!r})"

    def step(self, net: MLP, x: np.ndarray, y: np.ndarray) -> dict:
        x, y = checks.training_batch(net, x, y)
        grads = gradients(net, x, y, self.loss)
        self.optimizer.update(net.weights, grads)
        return norms("grad_norm", grads)
