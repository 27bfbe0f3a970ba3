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
    return net, _metrics(net, data.x_train, data.x_test, data)


def least_squares_readout(features_train: np.ndarray, features_test: np.ndarray, data: Dataset) -> dict:
    """Metrics (keyed like History.metrics) of the linear map from given features to the targets that
    minimises the training MSE: features (n_train, k) and (n_test, k) of data's training and test inputs,
    a bias column included if one is wanted (e.g. a hidden layer's x_L)."""
    if features_train.shape[0] != len(data.y_train) or features_test.shape[0] != len(data.y_test):
        raise ValueError(f"features of {features_train.shape[0]} training and {features_test.shape[0]} test "
                         f"samples for data with {len(data.y_train)} and {len(data.y_test)}")
    solution, *_ = np.linalg.lstsq(features_train, data.y_train, rcond=None)     # (k, n_out)
    net = MLP([features_train.shape[1], data.n_outputs], "identity")
    net.weights[0] = np.hstack([solution.T, np.zeros((data.n_outputs, 1))])     # the features carry the bias
    return _metrics(net, features_train, features_test, data)


def _metrics(net: MLP, inputs_train: np.ndarray, inputs_test: np.ndarray, data: Dataset) -> dict:
    """net's metrics on the training and test split, keyed like History.metrics, from the given inputs."""
    metrics = {}
    for split, inputs in (("train", inputs_train), ("test", inputs_test)):
        for name, value in evaluate(net, inputs, getattr(data, f"y_{split}"), data.task).items():
            metrics[f"{split}_{name}"] = value
    return metrics
