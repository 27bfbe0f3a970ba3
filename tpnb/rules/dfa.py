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

from ..network import MLP
from . import options
from .direction_rule import DirectionRule
from .protocol import Directions
from .targets import output_error


class DFA(DirectionRule):
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
        super().__init__(loss, optimizer, angles, optimizer_options)
        self.feedback_scale = options.positive("feedback_scale", feedback_scale)
        self.seed = options.seed(seed)
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

    def directions(self, net: MLP, x: np.ndarray, y: np.ndarray) -> Directions:
        """The DFA update directions (what is fed to the optimiser); no hidden targets."""
        self._check_feedback(net)
        fp = net.forward(x)
        e = output_error(self.loss, fp.output, y, net.output_activation)
        batch = x.shape[0]
        grads = []
        for i, b in enumerate(self.feedback):
            delta = (e @ b) * net.activations[i].derivative(fp.us[i])         # delta_i = (e B_i) * f'(u_i)
            grads.append(delta.T @ fp.xs[i] / batch)                      # dW_i = delta_i^T x_i / B
        grads.append(e.T @ fp.xs[-1] / batch)                             # dW_L = e^T x_L / B
        return Directions(grads, None, fp, e)
