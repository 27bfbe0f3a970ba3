"""The ``target_step_<l>`` diagnostic of every target-propagation rule: how far the hidden targets move.

Definition (one quantity, one numbering, for every rule):

    target_step_l = mean_b |x'_l - x_l| / |x_l|,   l = 2..L,

where x_l = h_{l-1} is the input of weight layer l (the book's 1-based numbering, without its bias entry),
x'_l its target and |.| the Euclidean norm of one sample's row (a norm below 1e-12 counts as 1e-12). So l
is the weight layer whose input the target is: exact TP's and random-direction TP's input target x'_l,
and the hidden target h'_{l-1} of GNT, GTP and the DTP family (their 0-based hidden layer i has l = i + 2).
Layer 1's input is the data, which no rule moves, so there is no ``target_step_1``. The step is relative,
so layers and rules of different scales compare.
"""
from __future__ import annotations

import numpy as np

from .protocol import layer_values

SMALLEST_NORM = 1e-12


def target_step(target: np.ndarray, h: np.ndarray) -> float:
    """mean_b |h'_b - h_b| / |h_b| for one layer; target and h (B, n)."""
    step = target - h
    moved = np.sqrt(np.einsum("bn,bn->b", step, step))              # |h'_b - h_b| per row
    norm = np.sqrt(np.einsum("bn,bn->b", h, h))                     # |h_b|
    relative = moved / np.maximum(norm, SMALLEST_NORM)
    return float(relative.sum() / len(relative))                     # the mean over the batch


def target_steps(targets: list, hidden: list) -> dict:
    """{target_step_l: ...} for l = 2..L from the hidden targets h'_i and activations h_i, i = 0..L-2."""
    return layer_values("target_step", [target_step(t, h) for t, h in zip(targets, hidden)], first=2)
