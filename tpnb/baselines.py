"""Reference models that need no training loop: the best affine map (least squares)."""
from __future__ import annotations

import numpy as np

from .data.dataset import Dataset
from .network import MLP
from .train import evaluate


def least_squares(data: Dataset) -> tuple:
    """The affine map minimising the training MSE, as a depth-1 MLP, and its metrics.

    Returns (net, metrics) with metrics keyed like History.metrics ("train_mse", "test_mse", ...).
    """
    net = MLP([data.n_inputs, data.n_outputs], "identity")
    x = np.hstack([data.x_train, np.ones((len(data.x_train), 1))])
    solution, *_ = np.linalg.lstsq(x, data.y_train, rcond=None)      # (d + 1, k)
    net.weights[0] = solution.T.copy()
    metrics = {}
    for split in ("train", "test"):
        for name, value in evaluate(net, getattr(data, f"x_{split}"), getattr(data, f"y_{split}"),
                                    data.task).items():
            metrics[f"{split}_{name}"] = value
    return net, metrics
