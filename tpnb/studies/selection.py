"""Choosing settings on a validation split: the score of a run and the best run of a group."""
from __future__ import annotations

import math


def score(history, task: str) -> float:
    """Higher is better: final validation accuracy (classification) or -MSE (regression); -inf if diverged."""
    if history.diverged:
        return -math.inf
    value = history.final("test_acc") if task == "classification" else -history.final("test_mse")
    return value if math.isfinite(value) else -math.inf


def best(results, keys, task: str):
    """The key among ``keys`` whose run scored best (ties: the first)."""
    return max(keys, key=lambda k: score(results[k], task))
