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


def held_out(history, task: str) -> float:
    """The held-out number ``score`` ranks by, in its own units: the accuracy or the MSE averaged over the
    last quarter of the epochs (NaN for a diverged run)."""
    value = score(history, task)
    if not math.isfinite(value):
        return math.nan
    return value if task == "classification" else -value


def best_run(runs, task: str):
    """The (spec, History) among ``runs`` whose History scored best (ties: the first); None if empty."""
    runs = list(runs)
    return max(runs, key=lambda run: score(run[1], task)) if runs else None


def best(results, keys, task: str):
    """The key among ``keys`` whose run scored best (ties: the first)."""
    return best_run([(k, results[k]) for k in keys], task)[0]


def best_per_group(runs, group, task: str) -> dict:
    """{group(spec): the best (spec, History) of that group} over (spec, History) pairs, groups in the order
    they first appear."""
    groups = {}
    for spec, history in runs:
        groups.setdefault(group(spec), []).append((spec, history))
    return {k: best_run(v, task) for k, v in groups.items()}
