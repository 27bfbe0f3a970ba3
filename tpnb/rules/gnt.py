"""Gauss-Newton targets (GNT, seed 002, Condition 2): the ideal the DTP family approximates.

Per sample: output target u'_L = u_L - beta e with e = dl/du_L; every hidden layer i gets the target
    h'_i = h_i + J_i^+ (u'_L - u_L),   J_i = du_L/dh_i  (n_L, n_i), evaluated at the sample,
i.e. one Gauss-Newton step for the activations with a block-diagonal curvature (one block per
layer, seed 002 Lemma S2). With damping lam > 0 the pseudo-inverse is replaced by the Tikhonov-damped
J^T (J J^T + lam I)^{-1}. The forward weights then follow the gradient of the local losses
mean_b 1/2 |h'_i - h_i|^2 (output: mean_b 1/2 |u'_L - u_L|^2), fed to an optimiser.

Cost: the per-sample Jacobians take about n_L backward passes (O(B n_L sum_l n_l n_{l+1}) time,
O(B n_L n_i) memory per layer) and each damped solve is an (n_L x n_L) system per sample, so GNT is
roughly n_L times backprop. That is cheap for 10 outputs and widths in the hundreds (e.g. 784-256x5-10
at batch 128: ~0.4 GFLOP a step), but it stops being affordable when the output is wide (n_L in the
hundreds, e.g. autoencoders), when batch x n_L x width no longer fits in memory, or with damping 0,
where a batched SVD of every (n_L, n_i) Jacobian costs O(B n_L^2 n_i) per layer.
"""
from __future__ import annotations

import numpy as np

from ..network import MLP
from . import options
from .direction_rule import DirectionRule
from .jacobians import damped_pinv_apply, output_jacobians
from .local_losses import hidden_activations, local_gradients
from .protocol import Directions
from .targets import output_error, output_target


def gnt_targets(net: MLP, fp, u_target: np.ndarray, damping: float = 0.0) -> list:
    """Hidden targets h'_i = h_i + J_i^+ (u'_L - u_L) for i = 0..L-2, each (B, n_i)."""
    du = u_target - fp.output
    return [h + damped_pinv_apply(jac, du, damping)
            for h, jac in zip(hidden_activations(fp), output_jacobians(net, fp))]


class GNT(DirectionRule):
    """Gauss-Newton target method.

    beta: output target step (> 0). damping: Tikhonov damping lam >= 0 of the pseudo-inverse.
    loss: "mse" or "cross_entropy". optimizer: "sgd" or "adam", with its options (lr, momentum, ...).
    angles: record the angle (degrees) of each layer's update with the BP gradient.
    """

    name = "gnt"

    def __init__(self, *, beta: float = 0.1, damping: float = 0.0, loss: str = "mse",
                 optimizer: str = "sgd", angles: bool = True, **optimizer_options):
        super().__init__(loss, optimizer, angles, optimizer_options)
        self.beta = options.positive("beta", beta)
        self.damping = options.positive("damping", damping, allow_zero=True)

    def __repr__(self):
        return (f"GNT(beta={self.beta}, damping={self.damping}, loss={self.loss.name!r}, "
                f"optimizer={self.optimizer!r})")

    def directions(self, net: MLP, x: np.ndarray, y: np.ndarray) -> Directions:
        """Local-loss gradients for the Gauss-Newton targets (fed to the optimiser)."""
        fp = net.forward(x)
        e = output_error(self.loss, fp.output, y, net.output_activation)
        u_target = output_target("gradient", self.beta, fp.output, y, e)      # u'_L = u_L - beta e
        targets = gnt_targets(net, fp, u_target, self.damping)
        return Directions(local_gradients(net, fp, targets, u_target), targets, fp, e)
