"""Which ReLU units a rule asks to change state, and in which direction (chapter 13).

A unit is *on* for a sample when its pre-activation is positive (u > 0), as in tpnb.diagnostics. These
functions compare a pre-activation with the target a rule sets for it; tpnb.diagnostics.switches compares
two activity patterns of the trained network instead (what actually switched between two probes).
"""
from __future__ import annotations

import numpy as np


def requested_switches(u: np.ndarray, u_target: np.ndarray) -> dict:
    """Fractions of the (sample, unit) pairs that the target turns on (u <= 0 < u') and off (u' <= 0 < u).
    u, u_target: (B, n) pre-activations and their targets."""
    on, on_target = u > 0, u_target > 0
    return {"on": float(np.mean(~on & on_target)), "off": float(np.mean(on & ~on_target))}


def switch_counts(u: np.ndarray, u_target: np.ndarray) -> tuple:
    """Per sample, the numbers of units the target turns on and off: two (B,) integer arrays."""
    on, on_target = u > 0, u_target > 0
    return np.sum(~on & on_target, axis=1), np.sum(on & ~on_target, axis=1)
