"""Direct feedback alignment (Nøkland 2016), the reference direct-feedback method of seed 002.

The output error e = dl/du_L (per sample) is sent to every hidden layer i by a fixed random matrix
B_i of shape (n_L, n_i):
    delta_i = (e @ B_i) * f'(u_i),   dW_i = delta_i^T x_i / B,
and the output layer gets the true gradient dW_L = e^T x_L / B. The dW are fed to an optimiser.

With B_i = du_L/dh_i (the product of the forward weights above layer i, only constant for linear
networks, or for one hidden layer) DFA is backprop exactly; the tests check this.
"""
from __future__ import annotations

import numpy as np

from .. import checks
from ..losses import get_loss
from ..network import MLP
from ..optimizers import check_rule_options, make_optimizer
from .feedback import angle_diagnostics, bp_gradients, check_positive, check_seed, output_error


class DFA:
    """Direct feedback alignment.

    loss: "mse" or "cross_entropy". optimizer: "sgd" or "adam", with its options (lr, momentum, ...).
    feedback_scale: B_i entries are N(0, feedback_scale^2 / n_L) (> 0). seed: generator of the B_i.
    angles: record the angle (degrees) between each layer's update direction and the BP gradient.

    The feedback matrices are drawn on the first step (they need the layer sizes) and kept in
    ``self.feedback`` (list over hidden layers of (n_L, n_i) arrays); ``init_feedback(net)`` draws them
    explicitly, and assigning ``self.feedback`` replaces them (e.g. with the true Jacobians).
    """

    name = "dfa"

    def __init__(self, *, loss: str = "mse", optimizer: str = "sgd", feedback_scale: float = 1.0,
                 seed: int = 0, angles: bool = True, **optimizer_options):
        check_rule_options(self, optimizer, optimizer_options)
        self.loss = get_loss(loss)
        self.optimizer = make_optimizer(optimizer, **optimizer_options)
        self.feedback_scale = check_positive("feedback_scale", feedback_scale)
        self.seed = check_seed(seed)
        checks.flag("angles", angles)
        self.angles = bool(angles)
        self.feedback = None

    def __repr__(self):
        return (f"DFA(loss={self.loss.name!r}, optimizer={self.optimizer!r}, "
                f"feedback_scale={self.feedback_scale}, seed={self.seed})")

    def init_feedback(self, net: MLP) -> list:
        """Draw B_i ~ N(0, feedback_scale^2 / n_L), (n_L, n_i), for every hidden layer."""
        rng = np.random.default_rng(self.seed)
        n_out = net.sizes[-1]
        self.feedback = [rng.normal(0.0, self.feedback_scale / np.sqrt(n_out), (n_out, n))
                         for n in net.sizes[1:-1]]
        return self.feedback

    def _check_feedback(self, net: MLP) -> None:
        if self.feedback is None:
            self.init_feedback(net)
        expected = [(net.sizes[-1], n) for n in net.sizes[1:-1]]
        if [np.shape(b) for b in self.feedback] != expected:
            raise ValueError(f"shape mismatch: feedback matrices {[np.shape(b) for b in self.feedback]}, "
                             f"network needs {expected}")

    def directions(self, net: MLP, x: np.ndarray, y: np.ndarray):
        """The DFA update directions (what is fed to the optimiser), the forward pass and e."""
        self._check_feedback(net)
        fp = net.forward(x)
        e = output_error(self.loss, fp.output, y)
        batch = x.shape[0]
        grads = []
        for i, b in enumerate(self.feedback):
            delta = (e @ b) * net.activation.derivative(fp.us[i])
            grads.append(delta.T @ fp.xs[i] / batch)
        grads.append(e.T @ fp.xs[-1] / batch)
        return grads, fp, e

    def step(self, net: MLP, x: np.ndarray, y: np.ndarray) -> dict:
        x, y = checks.training_batch(net, x, y)      # before the feedback matrices are drawn
        grads, fp, e = self.directions(net, x, y)
        diagnostics = {f"update_{l + 1}": float(np.linalg.norm(g)) for l, g in enumerate(grads)}
        if self.angles:
            diagnostics.update(angle_diagnostics(grads, bp_gradients(net, fp, e)))
        self.optimizer.update(net.weights, grads)
        return diagnostics
