"""Rounding bounds for the book's numerical checks: tolerances that follow from a computation's conditioning,
not from one CPU's rounding.

Two computations of the same quantity (a vectorised rule and its per-neuron reference, a matrix product and a
loop, BLAS kernels of different processors) agree only up to rounding, and the size of that rounding depends on
the *terms* that are summed, not on the result: terms of size 1e6 that cancel to 1 carry an error of about
eps * 1e6. A check therefore measures the discrepancy in *rounding units*,

    units = max |actual - expected| / (eps * scale)      (elementwise, then the maximum),

with ``scale`` the size of the terms whose rounding reaches each entry (``abs_matmul`` for a product,
``forward_error_scale`` for a forward pass), and compares it with an ``allowance`` that counts the rounding
steps. Correct computations stay within the allowance on every CPU and summation order; a wrong formula leaves
an error of the size of the result itself, about 1e10 units and more.
"""
from __future__ import annotations

import numpy as np

EPS = float(np.finfo(np.float64).eps)


def abs_matmul(a, b) -> np.ndarray:
    """|a| @ |b|: the size of the terms of every entry of a @ b (its rounding is at most n eps/2 times this,
    for inner dimension n)."""
    return np.abs(np.asarray(a, dtype=float)) @ np.abs(np.asarray(b, dtype=float))


def rounding_units(actual, expected, scale) -> float:
    """max |actual - expected| / (EPS * scale) over the entries (scale broadcasts against them): the
    discrepancy in units of the rounding that terms of size ``scale`` carry. An entry with scale 0 counts 0
    if it agrees exactly and infinity otherwise; non-finite values count infinity."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if actual.shape != expected.shape:
        raise ValueError(f"rounding_units: shapes differ, {actual.shape} vs {expected.shape}")
    scale = np.broadcast_to(np.asarray(scale, dtype=float), actual.shape)
    if not np.all(np.isfinite(scale) & (scale >= 0)):
        raise ValueError("rounding_units: the scale must be finite and >= 0")
    err = np.abs(actual - expected)
    err = np.where(np.isfinite(err), err, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        units = np.where(err == 0, 0.0, err / (EPS * scale))
    return float(np.max(units, initial=0.0))


def allowance(terms: int, margin: float = 4.0) -> float:
    """The rounding units a computation may be off when each entry sums at most ``terms`` products plus a few
    scalar operations: margin * (terms + 8). A dot product of length n is off by at most n eps/2 times the size
    of its terms; the 8 covers the divisions, square roots and additions around it; the margin (4 by default)
    a chain of such steps. Multiply by the condition of any step that amplifies the error it is given."""
    if terms < 0 or margin <= 0:
        raise ValueError(f"allowance: terms must be >= 0 and margin > 0, got {terms!r} and {margin!r}")
    return float(margin * (terms + 8))


def forward_error_scale(weights, xs, lip: float = 1.0) -> np.ndarray:
    """The size S of the terms whose rounding reaches a network's output, (batch, n_L): layer l adds its own
    products |x_l| @ |W_l|^T and carries the error of the layer below through |W_l| (without the bias column)
    and the activation's Lipschitz constant ``lip``:

        S_1 = |x_1| |W_1|^T,   S_l = |x_l| |W_l|^T + lip S_{l-1} |W_l[:, :-1]|^T.

    ``xs`` are the layers' inputs with the bias column (a ``ForwardPass.xs``); ``weights`` may be any arrays
    bounding the weights entrywise in size (e.g. |W'| + |W| when W' was built from W).
    """
    if len(weights) != len(xs):
        raise ValueError(f"forward_error_scale: {len(weights)} weight matrices but {len(xs)} layer inputs")
    scale = None
    for w, x in zip(weights, xs):
        local = abs_matmul(x, np.transpose(w))
        scale = local if scale is None else local + lip * abs_matmul(scale, np.transpose(np.asarray(w)[:, :-1]))
    return scale
