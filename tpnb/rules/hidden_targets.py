"""Pre-activation targets of a hidden ReLU layer: the seed's rule and the alternatives of chapter 13.

At a hidden ReLU layer with pre-activation u (activity x = relu(u)) the layer above asks for the activity ix
(the averaged input target of exact TP, before projection). Write c = min(ix, cap) for ix capped above
(c = ix without a cap) and x~ = max(c, 0) for its projection into the image of relu. Each rule returns a
pre-activation target u'; the layer above is then fitted to x' = relu(u'), so property E (theta' maps x to
u'_L exactly) holds with every rule. Arrays are (B, n): rows are samples, columns the layer's units.

- "seed" (seed 000): x~ > 0 -> u' = x~;  x~ = 0 and u <= 0 -> u' = u;  x~ = 0 and u > 0 -> u' = -m.
  Any positive request turns an inactive unit on; an active unit goes off only when asked below zero.
- "threshold": as the seed, except that an inactive unit turns on only when asked past t >= 0:
  u <= 0 and x~ > t -> u' = x~, u <= 0 and x~ <= t -> u' = u (t = 0 is the seed's rule).
- "mask": inactive units keep u' = u, active ones follow the seed's rule: the backprop mask, only the
  units that are on change (the threshold rule with t = infinity).
- "preactivation": the requested change of activity is applied to the pre-activation of every unit,
  u' = u + (c - x): a unit switches when the request crosses the kink, |u| away in either direction.
"""
from __future__ import annotations

import numpy as np

HIDDEN_TARGETS = ("seed", "threshold", "mask", "preactivation")


def seed_target(u: np.ndarray, x_proj: np.ndarray, margin: float) -> np.ndarray:
    """u' of the seed's rule from x~ = x_proj (projected, capped): x~ where x~ > 0, else u (off) or -m (on)."""
    return np.where(x_proj > 0, x_proj, np.where(u <= 0, u, -margin))


def threshold_target(u: np.ndarray, x_proj: np.ndarray, margin: float, threshold: float) -> np.ndarray:
    """u' of the threshold rule: an inactive unit (u <= 0) turns on only when x~ > t; else the seed's rule."""
    stays_off = (u <= 0) & (x_proj <= threshold)
    return np.where(stays_off, u, seed_target(u, x_proj, margin))


def mask_target(u: np.ndarray, x_proj: np.ndarray, margin: float) -> np.ndarray:
    """u' of the mask rule: inactive units keep u' = u; active ones follow the seed's rule."""
    return np.where(u <= 0, u, seed_target(u, x_proj, margin))


def preactivation_target(u: np.ndarray, capped: np.ndarray) -> np.ndarray:
    """u' = u + (c - relu(u)) with c = capped, the capped (unprojected) request."""
    return u + (capped - np.maximum(u, 0.0))


def relu_target(rule: str, u: np.ndarray, ix: np.ndarray, cap: float | None, margin: float,
                threshold: float) -> np.ndarray:
    """u' of hidden-target rule ``rule`` (one of HIDDEN_TARGETS) for a ReLU layer: u, ix (B, n) -> (B, n)."""
    capped = ix if cap is None else np.minimum(ix, cap)                 # c
    if rule == "preactivation":
        return preactivation_target(u, capped)
    x_proj = np.maximum(capped, 0.0)                                      # x~
    if rule == "threshold":
        return threshold_target(u, x_proj, margin, threshold)
    if rule == "mask":
        return mask_target(u, x_proj, margin)
    if rule == "seed":
        return seed_target(u, x_proj, margin)
    raise ValueError(f"unknown hidden_target {rule!r}; known: {HIDDEN_TARGETS}")
