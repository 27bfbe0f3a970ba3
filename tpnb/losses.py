"""Losses on the linear output u_L, averaged over the batch.

Shapes: outputs u and targets y are (batch, n_out); for cross-entropy y is one-hot.
"""
from __future__ import annotations

import numpy as np


def softmax(u: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (batch, classes) logits."""
    z = u - u.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


class MSE:
    """L = mean_b 1/2 |u_b - y_b|^2."""
    name = "mse"

    def __call__(self, u: np.ndarray, y: np.ndarray) -> float:
        return 0.5 * float(np.sum((u - y) ** 2)) / len(u)

    def gradient(self, u: np.ndarray, y: np.ndarray) -> np.ndarray:
        """dL/du, (batch, n_out)."""
        return (u - y) / len(u)


class CrossEntropy:
    """L = mean_b -log softmax(u_b)[class_b], y one-hot."""
    name = "cross_entropy"

    def __call__(self, u: np.ndarray, y: np.ndarray) -> float:
        z = u - u.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -float(np.sum(y * log_p)) / len(u)

    def gradient(self, u: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (softmax(u) - y) / len(u)


LOSSES = {"mse": MSE, "cross_entropy": CrossEntropy}


def get_loss(spec):
    """A loss from its name ("mse", "cross_entropy") or an instance (returned as is)."""
    if isinstance(spec, (MSE, CrossEntropy)):
        return spec
    if not isinstance(spec, str) or spec not in LOSSES:
        raise ValueError(f"unknown loss {spec!r}; known: {sorted(LOSSES)}")
    return LOSSES[spec]()


def accuracy(u: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose largest output is the one-hot class of y."""
    return float(np.mean(u.argmax(axis=1) == y.argmax(axis=1)))
