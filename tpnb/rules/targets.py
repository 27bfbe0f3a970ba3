"""Output-layer targets u'_L: one vocabulary for every target-propagation rule.

Per sample (rows of a batch; u = u_L the linear output, (B, n_L), y the label, (B, n_L)):

- "label":        u'_L = y (seed 000; seed 003's one-hot targets);
- "step":         u'_L = u_L + beta (y - u_L), the MSE step;
- "softmax_step": u'_L = u_L + beta (y - softmax(u_L)), the cross-entropy step;
- "gradient":     u'_L = u_L - beta e with e = dl/du_L the per-sample gradient of the rule's own loss
                  (seed 002, eq. (2)): the MSE or cross-entropy step written through ``loss.gradient``
                  (the same values up to rounding), for rules that carry a loss.

The package's losses are batch means, so the per-sample error is e = dl/du_L = B * loss.gradient(u, y)
(MSE: u - y; cross-entropy: softmax(u) - y). Rules without a loss (exact TP, random-direction TP) offer
"label", "step" and "softmax_step"; GTP offers "label" and "gradient"; GNT and the DTP family use "gradient".
"""
from __future__ import annotations

import numpy as np

from ..losses import softmax
from . import options

OUTPUT_TARGETS = ("label", "step", "softmax_step", "gradient")
LOSS_FREE = ("label", "step", "softmax_step")      # the targets a rule without a loss can offer


def check_output_target(mode: str, beta: float, allowed=LOSS_FREE) -> tuple:
    """(mode, float(beta)) if mode is one of ``allowed`` and beta > 0; else ValueError naming the option."""
    return options.choice("output_target", mode, allowed), options.positive("beta", beta)


def output_error(loss, u: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample output error e = dl/du_L, (B, n_L)."""
    return len(u) * loss.gradient(u, y)


def output_target(mode: str, beta: float, u: np.ndarray, y: np.ndarray, error: np.ndarray | None = None) -> np.ndarray:
    """u'_L for a batch, (B, n_L); "gradient" needs the per-sample error e = output_error(loss, u, y)."""
    if mode == "label":
        return y
    if mode == "step":
        return u + beta * (y - u)                    # u_L + beta (y - u_L)
    if mode == "softmax_step":
        return u + beta * (y - softmax(u))           # u_L + beta (y - softmax(u_L))
    return u - beta * error                          # u_L - beta dl/du_L
