"""Output-layer targets u'_L shared by the target-propagation rules."""
from __future__ import annotations

import numpy as np

from .. import checks
from ..losses import softmax

OUTPUT_TARGETS = ("label", "step", "softmax_step")


def check_output_target(mode: str, beta: float) -> None:
    """Raise ValueError naming the bad option."""
    if mode not in OUTPUT_TARGETS:
        raise ValueError(f"unknown output_target {mode!r}; known: {OUTPUT_TARGETS}")
    checks.positive_number("beta", beta)


def output_targets(mode: str, beta: float, u_out: np.ndarray, y: np.ndarray) -> np.ndarray:
    """u'_L for a batch, (batch, n_L): "label" y, "step" u_L + beta (y - u_L),
    "softmax_step" u_L + beta (y - softmax(u_L))."""
    if mode == "label":
        return y
    if mode == "step":
        return u_out + beta * (y - u_out)
    return u_out + beta * (y - softmax(u_out))
