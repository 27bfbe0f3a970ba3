"""Gradient target propagation (GTP, seed 003: Farias & Maziero).

Top-down, per sample: the output target is the label (seed 003: one-hot targets; ``output_target="label"``)
or u_L - beta dl/du_L (``"gradient"``). Layer i's target is T explicit Euler steps of
    dy_i/dt = -dC_{i+1}/dy_i,   C_{i+1} = 1/2 |y^_{i+1} - f(W_{i+1} [y_i; 1])|^2,
started at the current activation y_i = h_i with step tau (seed 003 eq. (3), Appendix B eq. (32)):
    y <- y + tau W_{i+1}^T [(y^_{i+1} - f(z)) * f'(z)],  z = W_{i+1} [y; 1]   (f = identity at the output),
so y^_i = y^T. The weights follow the gradient of the local loss C_i = 1/2 |y^_i - y_i|^2 (batch mean here;
the seed uses batch size 1, i.e. ``batch_size=1`` in the training loop), fed to an optimiser; all layers are
updated after the targets are computed (seed 003, Algorithm 1).

With T = 1 and tau = 1 (and the label target with MSE) the target change of every layer is exactly the
backprop error, so GTP is backprop (tests check it); with T = 1 and general tau the hidden updates are
tau^k times backprop's (k = layers above). Seed 003's Appendix D derives an extra "Hebbian" term
-y_l dy_l/dw_l, but only because its eq. (39) drops the starting point y_l of the Euler step; with it the
term cancels (chapter 7 derives this with SymPy).

Network: seed 003 uses sigmoid units with ReLU in the first hidden layer; ``tpnb.MLP`` has one activation for
all hidden layers, so GTP runs with whatever single activation the network has (a mixed-activation MLP
is a needed change to the shared network code). The output layer is linear here (sigmoid in the seed).
"""
from __future__ import annotations

import numpy as np

from ..network import MLP, check_sizes
from . import options
from .direction_rule import DirectionRule
from .local_losses import hidden_activations, local_gradients
from .protocol import Directions
from .targets import check_output_target, output_error, output_target

OUTPUT_TARGETS = ("label", "gradient")        # of tpnb.rules.targets' vocabulary

# seed 003, Appendix A: the uncertainty density U(y) = 6 y (1 - y) on (0, 1) has mean 1/2, variance 1/20;
# inputs uniform on [0, 1] have mean 1/2, variance 1/12; the sigmoid's slope at 0 is 1/4.
UNCERTAINTY_MEAN, UNCERTAINTY_VAR = 0.5, 1.0 / 20.0
INPUT_MEAN, INPUT_VAR = 0.5, 1.0 / 12.0
SIGMOID_SLOPE_AT_0 = 0.25


def gtp_init_variances(sizes, *, corrected: bool = False) -> list:
    """Weight variances of seed 003's initialisation for an MLP with ``sizes`` [d_in, n_1, ..., n_L].

    VAR(w_l) = VAR(y_l) / (N f'(0)^2 (m + VAR(y_{l-1}))), N the fan-in, with m = <y_{l-1}> as printed
    (eq. (26), giving 48/(35 N) for layer 1 and 16/(11 N) for the others) or m = <y_{l-1}>^2 as the
    variance of a product requires (``corrected=True``: 12/(5 N) and 8/(3 N)).
    """
    sizes = check_sizes(sizes)
    out = []
    for l, fan_in in enumerate(sizes[:-1]):
        mean, var = (INPUT_MEAN, INPUT_VAR) if l == 0 else (UNCERTAINTY_MEAN, UNCERTAINTY_VAR)
        m = mean ** 2 if corrected else mean
        out.append(UNCERTAINTY_VAR / (fan_in * SIGMOID_SLOPE_AT_0 ** 2 * (m + var)))
    return out


def gtp_initialize(net: MLP, *, seed: int = 0, corrected: bool = False) -> MLP:
    """Overwrite net.weights with seed 003's initialisation: W ~ N(0, VAR), biases 0. Returns net."""
    rng = np.random.default_rng(options.seed(seed))
    for w, var in zip(net.weights, gtp_init_variances(net.sizes, corrected=corrected)):
        w[:, :-1] = rng.normal(0.0, np.sqrt(var), w[:, :-1].shape)
        w[:, -1] = 0.0
    return net


def euler_target(net: MLP, i: int, h: np.ndarray, upper_target: np.ndarray, tau: float, steps: int) -> np.ndarray:
    """Target of hidden layer i: ``steps`` Euler steps of dy/dt = -dC_{i+1}/dy from y = h, (B, n_i)."""
    w = net.weights[i + 1]
    wx, bias = w[:, :-1], w[:, -1]
    is_output = i + 1 == net.depth - 1
    y = h.copy()
    for _ in range(steps):
        z = y @ wx.T + bias
        if is_output:
            r = upper_target - z
        else:
            r = (upper_target - net.activation(z)) * net.activation.derivative(z)
        y = y + tau * (r @ wx)
    return y


class GTP(DirectionRule):
    """Gradient target propagation.

    tau (> 0): Euler step. steps (>= 1): the number T of Euler steps per layer.
    output_target: "label" (y^_L = y, the seed) or "gradient" (u_L - beta dl/du_L with ``loss``).
    beta (> 0), loss ("mse" or "cross_entropy"): for the "gradient" target, and for the BP reference of
    the angle diagnostics. optimizer ("sgd" or "adam") with its options (lr, momentum, ...): the seed's
    plain gradient step is optimizer="sgd" with lr = eta.
    """

    name = "gtp"

    def __init__(self, *, tau: float = 0.5, steps: int = 10, output_target: str = "label", beta: float = 1.0,
                 loss: str = "mse", optimizer: str = "sgd", angles: bool = True, **optimizer_options):
        super().__init__(loss, optimizer, angles, optimizer_options)
        self.tau = options.positive("tau", tau)
        self.steps = options.count("steps", steps, 1)
        self.output_target, self.beta = check_output_target(output_target, beta, OUTPUT_TARGETS)

    def __repr__(self):
        return (f"GTP(tau={self.tau}, steps={self.steps}, output_target={self.output_target!r}, "
                f"beta={self.beta}, loss={self.loss.name!r}, optimizer={self.optimizer!r})")

    def targets(self, net: MLP, fp, y: np.ndarray, e: np.ndarray | None = None):
        """(hidden targets y^_i for i = 0..L-2, output target y^_L); e = dl/du_L per sample (computed
        when the "gradient" target needs it and it is not given)."""
        if e is None and self.output_target == "gradient":
            e = output_error(self.loss, fp.output, y)
        u_target = output_target(self.output_target, self.beta, fp.output, y, e)
        targets = [None] * (net.depth - 1)
        upper, hidden = u_target, hidden_activations(fp)
        for i in range(net.depth - 2, -1, -1):
            targets[i] = euler_target(net, i, hidden[i], upper, self.tau, self.steps)
            upper = targets[i]
        return targets, u_target

    def directions(self, net: MLP, x: np.ndarray, y: np.ndarray) -> Directions:
        """Local-loss gradients for the Euler targets (fed to the optimiser)."""
        fp = net.forward(x)
        e = output_error(self.loss, fp.output, y)
        targets, u_target = self.targets(net, fp, y, e)
        return Directions(local_gradients(net, fp, targets, u_target), targets, fp, e)
