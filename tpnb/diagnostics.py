"""Mechanism measurements taken during training (chapter 9): what the hidden layers do, how nonlinear the
trained function is, and where a rule's update points.

All functions take the network and a fixed probe set; none of them changes the network or the rule.
``Probe`` bundles them into the per-epoch callback of ``tpnb.train.train``.
"""
from __future__ import annotations

import copy

import numpy as np

from .losses import get_loss
from .network import MLP, with_bias
from .rules.angles import angle_diagnostics
from .rules.backprop import backward
from .rules.gnt import gnt_targets
from .rules.local_losses import local_gradients
from .rules.protocol import layer_key
from .rules.targets import output_error, output_gradient, output_target


def active_units(net: MLP, x: np.ndarray) -> list:
    """Per hidden layer, the (B, n_l) boolean matrix of units with positive pre-activation (u > 0)."""
    return [u > 0 for u in net.forward(x).us[:-1]]


def unit_states(active: np.ndarray) -> dict:
    """Fractions over units of one layer: mean activity, dead (never active on the probe set) and
    always on (active on every probe sample). active: (B, n) booleans."""
    per_unit = active.mean(axis=0)
    return {"active": float(per_unit.mean()), "dead": float(np.mean(per_unit == 0)),
            "always_on": float(np.mean(per_unit == 1))}


def switches(before: np.ndarray, after: np.ndarray) -> dict:
    """Fractions of (sample, unit) pairs that switched off -> on and on -> off between two probes."""
    return {"on": float(np.mean(~before & after)), "off": float(np.mean(before & ~after))}


def linearity_r2(net: MLP, x_fit: np.ndarray, x_eval: np.ndarray) -> float:
    """R^2 on x_eval of the best affine map (least squares on x_fit) to the network's own outputs:
    1 means the trained function is affine on the data. Needs len(x_fit) > d_in + 1."""
    coef = np.linalg.lstsq(with_bias(x_fit), net(x_fit), rcond=None)[0]
    out = net(x_eval)
    residual = out - with_bias(x_eval) @ coef
    total = out - out.mean(axis=0)
    return float(1.0 - np.sum(residual ** 2) / max(np.sum(total ** 2), 1e-300))


def update_directions(net: MLP, rule, x: np.ndarray, y: np.ndarray, loss: str = "mse",
                      gnt_beta: float = 0.1) -> dict:
    """Angles (degrees) per layer between the weight change one ``rule.step`` makes on (x, y) and
    (i) the negative gradient of ``loss``, (ii) the negative local-loss gradient of Gauss-Newton targets
    (GNT, undamped, output target u - gnt_beta dl/du). The step runs on copies: net and rule are untouched."""
    trial_net, trial_rule = net.copy(), copy.deepcopy(rule)
    with np.errstate(all="ignore"):
        trial_rule.step(trial_net, x, y)
    change = [new - old for new, old in zip(trial_net.weights, net.weights)]
    grads, gnt = reference_gradients(net, x, y, loss, gnt_beta)
    return {**angle_diagnostics(change, [-g for g in grads], "angle_bp"),
            **angle_diagnostics(change, [-n for n in gnt], "angle_gnt")}


def reference_gradients(net: MLP, x: np.ndarray, y: np.ndarray, loss: str = "mse", gnt_beta: float = 0.1) -> tuple:
    """(dL/dW of the batch-mean ``loss``, the local-loss gradients of undamped Gauss-Newton targets with the
    output target u - gnt_beta dl/du) on (x, y): the two references the angles are measured against."""
    fp, loss = net.forward(x), get_loss(loss)
    f_out = net.output_activation
    grads = backward(net, fp, output_gradient(loss, fp.output, y, f_out))
    u_target = output_target("gradient", gnt_beta, fp.output, y, output_error(loss, fp.output, y, f_out))
    return grads, local_gradients(net, fp, gnt_targets(net, fp, u_target), u_target)


def raw_directions(net: MLP, rule, x: np.ndarray, y: np.ndarray, loss: str = "mse", gnt_beta: float = 0.1) -> dict:
    """Angles (degrees) per layer between the direction a rule feeds its optimiser on (x, y) (its
    ``directions``: before Adam, as seed 002 measures alignment) and (i) the gradient of ``loss``, (ii) the
    local-loss gradient of Gauss-Newton targets (as ``update_directions``). Empty for a rule without an
    optimiser direction (exact TP: its update is its direction; backprop: the gradient itself). The rule
    is used on a copy: its lazily drawn feedback is not drawn here."""
    if not hasattr(rule, "directions"):
        return {}
    with np.errstate(all="ignore"):
        raw = copy.deepcopy(rule).directions(net, x, y).grads
    grads, gnt = reference_gradients(net, x, y, loss, gnt_beta)
    return {**angle_diagnostics(raw, grads, "raw_angle_bp"), **angle_diagnostics(raw, gnt, "raw_angle_gnt")}


class Probe:
    """Per-epoch mechanism measurements on a fixed probe set, as a ``train`` callback.

    x, y: the probe batch (for unit states, switching and update directions). x_fit, x_eval: the
    inputs of the linearity fit (None: skip it). loss: the loss whose gradient the angles refer to.
    directions: also the angles of the rule's raw optimiser direction (``raw_directions``).
    ``records`` gets one dict per epoch (epoch 0 included): layer-numbered keys active_<l>, dead_<l>,
    always_on_<l>, on_<l>, off_<l> (from the previous epoch), angle_bp_<l>, angle_gnt_<l> (the weight
    change of one step), raw_angle_bp_<l>, raw_angle_gnt_<l> (with ``directions``), and linearity_r2.
    """

    def __init__(self, rule, x: np.ndarray, y: np.ndarray, x_fit=None, x_eval=None, loss: str = "mse",
                 directions: bool = False):
        self.rule, self.x, self.y, self.x_fit, self.x_eval, self.loss = rule, x, y, x_fit, x_eval, loss
        self.directions = directions
        self.records, self._previous = [], None

    def __call__(self, epoch: int, net: MLP, history) -> None:
        record = {"epoch": epoch}
        active = active_units(net, self.x)
        for l, act in enumerate(active, start=1):
            record.update({layer_key(k, l): v for k, v in unit_states(act).items()})
            if self._previous is not None:
                record.update({layer_key(k, l): v for k, v in switches(self._previous[l - 1], act).items()})
        self._previous = active
        if self.x_fit is not None:
            record["linearity_r2"] = linearity_r2(net, self.x_fit, self.x_eval)
        record.update(update_directions(net, self.rule, self.x, self.y, self.loss))
        if self.directions:
            record.update(raw_directions(net, self.rule, self.x, self.y, self.loss))
        self.records.append(record)
