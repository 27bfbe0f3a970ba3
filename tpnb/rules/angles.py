"""Angles between update directions: the diagnostics that compare a rule's update with a reference
(backprop's gradient, the GNT update)."""
from __future__ import annotations

import numpy as np

from .protocol import layer_values


def angle_degrees(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two arrays seen as vectors, in degrees (90 when either is zero)."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0 or not np.isfinite(na * nb):
        return 90.0
    return float(np.degrees(np.arccos(np.clip(np.sum(a * b) / (na * nb), -1.0, 1.0))))


def angle_diagnostics(grads: list, reference: list, prefix: str = "angle_bp") -> dict:
    """{<prefix>_<l>: angle between grads[l - 1] and reference[l - 1]} for weight layers l = 1..L."""
    return layer_values(prefix, [angle_degrees(g, r) for g, r in zip(grads, reference)])
