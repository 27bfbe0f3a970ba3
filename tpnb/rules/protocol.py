"""The protocol every learning rule follows.

- ``rule.step(net, x, y) -> dict``: one update of ``net.weights`` in place from a batch x (B, d_in),
  y (B, n_out), checked first by tpnb.checks.training_batch; returns the step's diagnostics, a flat
  {name: float} built by ``layer_values`` / ``layer_key``: per-layer quantities are ``<quantity>_<l>``
  with weight layers numbered l = 1..L as in the book (``target_step_<l>``: tpnb.rules.target_steps).
- ``rule.directions(net, x, y) -> Directions``: offered by the rules that feed an update direction to an
  optimiser (DFA, GNT, the DTP family, GTP); computes it without changing anything but the rule's lazily
  drawn feedback.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..network import ForwardPass


class Directions(NamedTuple):
    """What ``directions`` returns (a tuple: ``grads, targets, forward, error = rule.directions(...)``).

    grads: the update directions fed to the optimiser, one (n_l, d_l + 1) array per weight layer.
    targets: hidden targets h'_i, (B, n_i) for i = 0..L-2 (None for DFA, which has none).
    forward: the forward pass the directions were computed at.
    error: per-sample output error e = dl/du_L, (B, n_L).
    """
    grads: list
    targets: list | None
    forward: ForwardPass
    error: np.ndarray


def layer_key(quantity: str, l: int) -> str:
    """The diagnostics key of a per-layer quantity: <quantity>_<l>, weight layers numbered l = 1..L."""
    return f"{quantity}_{l}"


def layer_values(quantity: str, values, first: int = 1) -> dict:
    """{<quantity>_<l>: float(value)} for layers l = first, first + 1, ... (the builder of every rule's
    per-layer diagnostics; a rule that walks the layers one by one sets ``layer_key`` entries instead)."""
    return {layer_key(quantity, l): float(v) for l, v in enumerate(values, start=first)}


def norms(quantity: str, arrays) -> dict:
    """{<quantity>_<l>: Frobenius norm of arrays[l - 1]} for l = 1..L."""
    return layer_values(quantity, [np.linalg.norm(a) for a in arrays])
