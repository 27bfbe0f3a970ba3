"""Choosing settings on a validation split: the score of a run and the best run of a group."""
from __future__ import annotations

import math

import numpy as np


def score(history, task: str) -> float:
    """Higher is better: validation accuracy (classification) or -MSE (regression) averaged over the last
    quarter of the epochs (at least one), so an oscillating run is not chosen for one lucky epoch;
    -inf if the run diverged."""
    if history.diverged:
        return -math.inf
    values = history.metrics["test_acc"] if task == "classification" else history.metrics["test_mse"]
    tail = np.asarray(values[-max(1, history.epochs // 4):], dtype=float)
    value = float(tail.mean()) if task == "classification" else -float(tail.mean())
    return value if math.isfinite(value) else -math.inf


def best(results, keys, task: str):
    """The key among ``keys`` whose run scored best (ties: the first)."""
    return max(keys, key=lambda k: score(results[k], task))
