"""Decision boundaries of two-class networks on 2-D inputs (chapter 13: XOR and two spirals)."""
from __future__ import annotations

import numpy as np

from . import checks


def grid(x: np.ndarray, resolution: int = 150, pad: float = 0.2) -> tuple:
    """A square grid over the box of the 2-D points x (N, 2), widened by ``pad`` on every side.

    Returns (xs, ys, points): the (resolution,) axes and the (resolution^2, 2) grid points, row by row
    (points reshaped to (resolution, resolution) rows follow ys, columns xs)."""
    x = checks.finite_array("x", checks.real_array("x", x))
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError(f"x must be (N, 2) points with N >= 1, got shape {x.shape}")
    checks.whole_number("resolution", resolution, 2)
    checks.positive_number("pad", pad, allow_zero=True)
    lo, hi = x.min(axis=0) - pad, x.max(axis=0) + pad
    xs, ys = np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])


def class_margin(net, points: np.ndarray, resolution: int) -> np.ndarray:
    """u_1 - u_0 of a two-output network on the grid points, as a (resolution, resolution) image:
    positive where the network predicts class 1; its zero level is the decision boundary."""
    if net.sizes[0] != 2 or net.sizes[-1] != 2:
        raise ValueError(f"class_margin needs a network with 2 inputs and 2 outputs, got sizes {net.sizes}")
    out = net(points)
    return (out[:, 1] - out[:, 0]).reshape(resolution, resolution)
