"""The affine floor (chapter 13): a run's loss against that of the least-squares affine model on the same
data, per epoch and at the end, and the spread of such curves over seeds."""
from __future__ import annotations

import math
import warnings

import numpy as np

from .baselines import least_squares_readout


def floor_ratio(history, floor: dict, metric: str = "train_mse") -> np.ndarray:
    """history.metrics[metric] / floor[metric] per epoch, (epochs + 1,); floor: metrics of
    tpnb.baselines.least_squares. Below 1: the network beats the best affine model."""
    if metric not in floor or metric not in history.metrics:
        raise ValueError(f"metric {metric!r} must be in both the run's metrics {sorted(history.metrics)} and "
                         f"the floor's {sorted(floor)}")
    return np.asarray(history.metrics[metric], dtype=float) / floor[metric]


def final_floor_ratio(history, floor: dict, metric: str = "train_mse") -> float:
    """The last epoch's floor_ratio; NaN for a diverged run."""
    return math.nan if history.diverged else float(floor_ratio(history, floor, metric)[-1])


def seed_band(curves) -> tuple:
    """(mean, std) over seeds of per-epoch curves, each 1-D; a shorter (diverged) curve counts as NaN
    after its end, and an epoch where every curve is NaN stays NaN. Returns two (max length,) arrays."""
    curves = [np.asarray(c, dtype=float) for c in curves]
    if not curves or any(c.ndim != 1 for c in curves):
        raise ValueError(f"seed_band needs one or more 1-D curves, got shapes {[c.shape for c in curves]}")
    stacked = np.full((len(curves), max(len(c) for c in curves)), np.nan)
    for row, c in zip(stacked, curves):
        row[:len(c)] = c
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)          # all-NaN epochs: NaN, as documented
        return np.nanmean(stacked, axis=0), np.nanstd(stacked, axis=0)


def hidden_features(net, x: np.ndarray) -> np.ndarray:
    """The last hidden layer's activations of ``net`` on x, with the bias column: x_L (batch, n_{L-1} + 1)."""
    if net.depth < 2:
        raise ValueError(f"hidden_features needs a network with a hidden layer, got {net!r}")
    return net.forward(x).xs[-1]


def readout_metrics(net, data) -> dict:
    """Metrics of the best affine readout of ``net``'s last hidden layer: the output layer replaced by the
    least-squares fit of the training targets to x_L (the training set's), keyed like History.metrics
    ("train_mse", "test_acc", ...). It measures the features the hidden layers hold, whatever the output
    layer learnt; for an untrained network, those of random ReLU features."""
    return least_squares_readout(hidden_features(net, data.x_train), hidden_features(net, data.x_test), data)
