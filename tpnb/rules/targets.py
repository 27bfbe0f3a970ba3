"""Output-layer targets u'_L: one vocabulary for every target-propagation rule.

Per sample (rows of a batch; u = u_L the linear output, (B, n_L), y the label, (B, n_L)):

- "label":        u'_L = y (seed 000; seed 003's one-hot targets);
- "step":         u'_L = u_L + beta (y - u_L), the MSE step;
- "softmax_step": u'_L = u_L + beta (y - softmax(u_L)), the cross-entropy step;
- "gradient":     u'_L = u_L - beta e with e = dl/du_L the per-sample gradient of the rule's own loss
                  (seed 002, eq. (2)): the MSE or cross-entropy step written through ``loss.gradient``
                  (the same values up to rounding), for rules that carry a loss.

The package's losses are batch means, so the per-sample error is e = dl/du_L = B * loss.gradient(u, y)
(MSE: u - y; cross-entropy: softmax(u) - y). With an output activation f_out (``net.output_activation``)
the loss is on the prediction o = f_out(u_L): e = B * loss.gradient(o, y) * f_out'(u_L), and the "label"
and "step" targets are set on o and pulled back to u'_L = f_out^{-1}(o'), o' clipped into the image of
f_out (a one-hot label lies on the border of the sigmoid's). Rules without a loss (exact TP, random-direction TP) offer
"label", "step" and "softmax_step"; GTP offers "label" and "gradient"; GNT and the DTP family use "gradient".
"""
from __future__ import annotations

import numpy as np

from ..activations import Activation, Identity
from ..losses import softmax
from . import options

OUTPUT_TARGETS = ("label", "step", "softmax_step", "gradient")
LOSS_FREE = ("label", "step", "softmax_step")      # the targets a rule without a loss can offer


def check_output_target(mode: str, beta: float, allowed=LOSS_FREE) -> tuple:
    """(mode, float(beta)) if mode is one of ``allowed`` and beta > 0; else ValueError naming the option."""
    return options.choice("output_target", mode, allowed), options.positive("beta", beta)


def _linear(f_out: Activation | None) -> bool:
    return f_out is None or isinstance(f_out, Identity)


def output_error(loss, u: np.ndarray, y: np.ndarray, f_out: Activation | None = None) -> np.ndarray:
    """Per-sample output error e = dl/du_L, (B, n_L), of the loss on f_out(u_L) (f_out None: u_L)."""
    return len(u) * output_gradient(loss, u, y, f_out)


def output_gradient(loss, u: np.ndarray, y: np.ndarray, f_out: Activation | None = None) -> np.ndarray:
    """dL/du_L of the batch-mean loss on f_out(u_L), (B, n_L) (= output_error / B)."""
    if _linear(f_out):
        return loss.gradient(u, y)
    o = f_out(u)
    return loss.gradient(o, y) * f_out.derivative_from(u, o)             # dL/do * f_out'(u_L)


def output_target(mode: str, beta: float, u: np.ndarray, y: np.ndarray, error: np.ndarray | None = None,
                  f_out: Activation | None = None) -> np.ndarray:
    """u'_L for a batch, (B, n_L); "gradient" needs the per-sample error e = output_error(loss, u, y, f_out).
    With an output activation f_out, "label", "step" and "softmax_step" set the target o' of the
    prediction o = f_out(u_L) and return u'_L = f_out^{-1}(o')."""
    if mode == "gradient":
        return u - beta * error                      # u_L - beta dl/du_L
    linear = _linear(f_out)
    o = u if linear else f_out(u)
    if mode == "label":
        o_target = y
    elif mode == "step":
        o_target = o + beta * (y - o)                # o + beta (y - o)
    else:
        o_target = o + beta * (y - softmax(o))       # o + beta (y - softmax(o))
    return o_target if linear else f_out.target(u, f_out.project(o_target))
