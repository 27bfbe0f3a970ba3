"""What the rules that feed an update direction to an optimiser share (DFA, GNT, the DTP family, GTP).

Each computes ``directions(net, x, y) -> Directions`` (tpnb.rules.protocol); ``DirectionRule`` makes the
loss and the forward optimiser, and its ``step`` checks the batch, records ``step_diagnostics`` and hands
the directions to the optimiser.
"""
from __future__ import annotations

import numpy as np

from .. import checks
from ..losses import get_loss
from ..network import MLP
from ..optimizers import check_rule_options, make_optimizer
from . import options
from .angles import angle_diagnostics
from .backprop import bp_gradients
from .local_losses import hidden_activations
from .protocol import Directions, norms
from .target_steps import target_steps


def step_diagnostics(net: MLP, d: Directions, angles: bool) -> dict:
    """update_<l> = |grads_l|_F, target_step_<l> (when the rule has hidden targets) and, with ``angles``,
    angle_bp_<l>: the angle (degrees) between grads_l and the backprop gradient of the same loss."""
    diagnostics = norms("update", d.grads)
    if d.targets is not None:
        diagnostics.update(target_steps(d.targets, hidden_activations(d.forward)))
    if angles:
        diagnostics.update(angle_diagnostics(d.grads, bp_gradients(net, d.forward, d.error)))
    return diagnostics


class DirectionRule:
    """Base of the optimiser-driven rules. loss: "mse" or "cross_entropy"; optimizer: "sgd" or "adam" with
    its options (lr, momentum, ...); angles: record angle_bp_<l> (True or False)."""

    def __init__(self, loss: str, optimizer: str, angles: bool, optimizer_options: dict):
        check_rule_options(self, optimizer, optimizer_options)
        self.loss = get_loss(loss)
        self.optimizer = make_optimizer(optimizer, **optimizer_options)
        self.angles = options.flag("angles", angles)

    def directions(self, net: MLP, x: np.ndarray, y: np.ndarray) -> Directions:
        """The update directions for the batch (x (B, d_in), y (B, n_out)); each rule defines its own."""
        raise NotImplementedError

    def step(self, net: MLP, x: np.ndarray, y: np.ndarray) -> dict:
        """One optimiser step along ``directions``, in place; returns ``step_diagnostics``."""
        x, y = checks.training_batch(net, x, y)          # before any feedback is drawn
        d = self.directions(net, x, y)
        diagnostics = step_diagnostics(net, d, self.angles)
        self.optimizer.update(net.weights, d.grads)
        return diagnostics
