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

Network: seed 003 uses ReLU in the first hidden layer and sigmoid units elsewhere, the output included:
``MLP(sizes, ["relu", "sigmoid", ...], output_activation="sigmoid", init="gtp")``. Each layer's Euler step
uses its own activation f_{i+1}. With an output activation the output target is a target of the prediction
o = f_out(u_L) (the label, or o - beta dl/do) and the output layer's local loss is 1/2 |o' - f_out(u_L)|^2;
with a linear output (f = identity) it is the target u'_L of u_L.
"""
from __future__ import annotations

import numpy as np

from ..initialization import gtp_init_variances
from ..network import MLP
from . import options
from .direction_rule import DirectionRule
from .local_losses import hidden_activations, local_gradients
from .protocol import Directions
from .targets import check_output_target, output_error, output_target

OUTPUT_TARGETS = ("label", "gradient")        # of tpnb.rules.targets' vocabulary

def gtp_initialize(net: MLP, *, seed: int = 0, corrected: bool = False) -> MLP:
    """Overwrite net.weights with seed 003's initialisation: W ~ N(0, VAR), biases 0 (the weights of
    ``MLP(..., init="gtp" or "gtp_corrected", seed=seed)``, drawn the same way). Returns net."""
    rng = np.random.default_rng(options.seed(seed))
    for w, var in zip(net.weights, gtp_init_variances(net.sizes, corrected=corrected)):
        w[:, :-1] = rng.normal(0.0, np.sqrt(var), w[:, :-1].shape)
        w[:, -1] = 0.0
    return net


def euler_target(net: MLP, i: int, h: np.ndarray, upper_target: np.ndarray, tau: float, steps: int,
                 u_upper: np.ndarray | None = None) -> np.ndarray:
    """Target of hidden layer i: ``steps`` Euler steps of dy/dt = -dC_{i+1}/dy from y = h, (B, n_i).
    u_upper: the forward pass's u_{i+1} = W_{i+1} [h; 1], if known: the first step's z, not recomputed."""
    w = net.weights[i + 1]
    wx, bias = w[:, :-1], w[:, -1]
    is_output = i + 1 == net.depth - 1
    f = (None if net.linear_output else net.output_activation) if is_output else net.activations[i + 1]
    # y and buffers of every step's (B, n_{i+1}) and (B, n_i) values, written in place (the same operations;
    # in the dtype the step's values have, e.g. float64 for float64 targets of a float32 network)
    dtype = np.result_type(h, wx, upper_target)
    if f is None:
        return _linear_output_target(wx, bias, h.astype(dtype), upper_target, tau, steps, u_upper)
    y = h.astype(dtype)
    buffer = np.empty((len(h), wx.shape[0]), dtype=dtype)
    fz, r, dy = np.empty_like(buffer), np.empty_like(buffer), np.empty_like(y)
    for step in range(steps):
        if step == 0 and u_upper is not None and u_upper.dtype == dtype:
            z = u_upper                                              # y = h: z = u_{i+1} (read only)
        else:
            z = np.matmul(y, wx.T, out=buffer)
            z += bias                                                # z = W_{i+1} [y; 1]
        f.write(z, fz)
        np.subtract(upper_target, fz, out=r)
        r *= f.derivative_from(z, fz)                                # (y^_{i+1} - f(z)) f'(z)
        np.matmul(r, wx, out=dy)
        dy *= tau
        y += dy                                                      # y <- y + tau W^T r
    return y


def _linear_output_target(wx: np.ndarray, bias: np.ndarray, y: np.ndarray, upper_target: np.ndarray, tau: float,
                          steps: int, u_upper: np.ndarray | None) -> np.ndarray:
    """euler_target below a linear output layer, y (B, n_i) the start h (a copy, updated in place). There the
    residual r = y^_L - W [y; 1] of every step follows from the last one in output space,
        r_{k+1} = r_k - tau r_k (W W^T),   y_T = y_0 + tau (r_0 + ... + r_{T-1}) W,
    so the T steps cost one (n_L, n_L) product each instead of two through the hidden layer."""
    z = u_upper if u_upper is not None and u_upper.dtype == y.dtype else y @ wx.T + bias     # W [y_0; 1]
    r = np.subtract(upper_target, z)                                 # r_0
    total = r.copy()
    if steps > 1:
        gram = wx @ wx.T                                             # W W^T, (n_L, n_L)
        for _ in range(steps - 1):
            r -= tau * (r @ gram)                                    # r_{k+1}
            total += r
    y += tau * (total @ wx)                                          # y_T
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

    def output_target_of(self, net: MLP, fp, y: np.ndarray, e: np.ndarray | None = None) -> np.ndarray:
        """y^_L: u'_L for a linear output (e = dl/du_L per sample, computed when the "gradient" target needs
        it and it is not given); the prediction target o' (the label, or o - beta dl/do) for an output
        activation."""
        if net.linear_output:
            if e is None and self.output_target == "gradient":
                e = output_error(self.loss, fp.output, y)
            return output_target(self.output_target, self.beta, fp.output, y, e)
        if self.output_target == "label":
            return y
        o = net.output_activation(fp.output)
        return o - self.beta * output_error(self.loss, o, y)          # o - beta dl/do

    def targets(self, net: MLP, fp, y: np.ndarray, e: np.ndarray | None = None):
        """(hidden targets y^_i for i = 0..L-2, output target y^_L, see output_target_of)."""
        u_target = self.output_target_of(net, fp, y, e)
        targets = [None] * (net.depth - 1)
        upper, hidden = u_target, hidden_activations(fp)
        for i in range(net.depth - 2, -1, -1):
            targets[i] = euler_target(net, i, hidden[i], upper, self.tau, self.steps, fp.us[i + 1])
            upper = targets[i]
        return targets, u_target

    def directions(self, net: MLP, x: np.ndarray, y: np.ndarray) -> Directions:
        """Local-loss gradients for the Euler targets (fed to the optimiser)."""
        fp = net.forward(x)
        # e = dl/du_L: for the angle diagnostics (the targets compute it when they need it)
        e = output_error(self.loss, fp.output, y, net.output_activation) if self.angles else None
        targets, u_target = self.targets(net, fp, y, e)
        grads = local_gradients(net, fp, targets, u_target, prediction_target=not net.linear_output)
        return Directions(grads, targets, fp, e)
