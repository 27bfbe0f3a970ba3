"""What chapters 15 and 16 report from the seeds' protocols (``dtp_protocol``, ``gtp_table``, ``gtp_steps_final``):
per method, the test accuracy as each paper reports it, mean and std over seeds, beside the published score.

- Seed 002: the test accuracy at the epoch of best validation accuracy (``History.at_best``).
- Seed 003: the test accuracy after the last epoch (its Table 2 gives one score per network).
- GTP with T = 1 against backprop with per-layer learning rates: how far apart their trajectories are.
Rows are dicts of plain numbers; tpnb.tables renders them.
"""
from __future__ import annotations

import math

import numpy as np

from .gtp_protocol import effective_learning_rates
from .report import final_value, median_epoch_time, only, seed_stats


ANGLES = ("raw_angle_bp", "raw_angle_gnt", "angle_bp", "angle_gnt")   # the probe's angles (degrees)


def best_validation_rows(results, methods, early_epoch: int = 2) -> list:
    """Seed 002's protocol, one row per method of ``methods`` (labels "method") that has runs: test accuracy
    at the best-validation epoch over seeds (``acc``: seed_stats), and after ``early_epoch`` epochs
    (``acc_early``: chapter 11's budget), the best epoch's mean, the epochs trained, how many runs early
    stopping ended, median seconds of training per epoch, and for each of ANGLES (``raw_``: the direction the
    rule hands its optimiser, seed 002's measure; else the weight change after it) the angle at the best
    epoch, averaged over the hidden layers and the seeds (NaN where not probed), and ``<angle>_layers``: per
    layer 1..L, averaged over the seeds."""
    rows = []
    for method in methods:
        runs = results.select(method=method)
        if not runs:
            continue
        probes = [results.records[spec.key].get("probes", []) for spec, _ in runs]
        layers = len(runs[0][0].sizes) - 1
        angles = {}
        for name in ANGLES:
            at_best = np.array([layer_values(records, name, history.best_epoch(), layers)
                                for records, (_, history) in zip(probes, runs)])
            per_layer = _finite_mean(at_best, axis=0)
            angles[name] = float(_finite_mean(per_layer[:-1]))
            angles[f"{name}_layers"] = per_layer.tolist()
        rows.append({"method": method,
                     "acc": seed_stats(math.nan if h.diverged else h.at_best() for _, h in runs),
                     "acc_early": seed_stats(math.nan if h.diverged and h.diverged_epoch <= early_epoch
                                             else h.metrics["test_acc"][min(early_epoch, h.epochs)]
                                             for _, h in runs),
                     "best_epoch": float(np.mean([h.best_epoch() for _, h in runs])),
                     "best_epochs": [h.best_epoch() for _, h in runs],
                     "epochs": [h.epochs for _, h in runs],
                     "stopped_early": sum(h.stopped_epoch is not None for _, h in runs),
                     "seconds_per_epoch": float(np.median([median_epoch_time(h) for _, h in runs])),
                     **angles})
    return rows


def layer_values(records: list, quantity: str, epoch: int, layers: int) -> np.ndarray:
    """``quantity``_<l> for l = 1..``layers`` in the probe record of ``epoch``, NaN where absent."""
    values = np.full(layers, math.nan)
    if epoch < len(records):
        for l in range(1, layers + 1):
            values[l - 1] = records[epoch].get(f"{quantity}_{l}", math.nan)
    return values


def hidden_mean_series(records: list, quantity: str, layers: int) -> np.ndarray:
    """Per epoch of a run's probe records, the mean of ``quantity``_<l> over the hidden layers
    l = 1..``layers`` - 1 (NaN where absent)."""
    return np.array([_finite_mean(layer_values(records, quantity, epoch, layers)[:-1])
                     for epoch in range(len(records))])


def _finite_mean(values: np.ndarray, axis=None):
    """Mean of the finite entries (along ``axis``); NaN where there is none."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    count = finite.sum(axis=axis)
    total = np.where(finite, values, 0.0).sum(axis=axis)
    return np.where(count > 0, total / np.maximum(count, 1), math.nan)


def final_accuracy_rows(results, **labels) -> list:
    """Seed 003's protocol: one row per network among the runs matching ``labels`` (e.g. role="table"),
    in the order they appear: its sizes, the published score and the test accuracy after the last epoch over
    seeds."""
    rows = {}
    for spec, history in results.select(**labels):
        row = rows.setdefault(spec.labels["network"], {"network": spec.labels["network"], "sizes": spec.sizes,
                                                       "published": spec.labels["published"], "values": [],
                                                       "tau": spec.labels["tau"], "eta": spec.labels["eta"],
                                                       "steps": spec.labels["steps"], "epochs": spec.epochs})
        row["values"].append(final_value(history, "test_acc"))
    return [{**{k: v for k, v in row.items() if k != "values"}, "acc": seed_stats(row["values"])}
            for row in rows.values()]


def relative_gaps(first, second, metric: str = "train_mse") -> np.ndarray:
    """|a - b| / |b| per epoch between two Histories' ``metric`` (the epochs both have)."""
    a, b = np.asarray(first.metrics[metric], dtype=float), np.asarray(second.metrics[metric], dtype=float)
    n = min(len(a), len(b))
    return np.abs(a[:n] - b[:n]) / np.abs(b[:n])


def trajectory_gap(first, second, metric: str = "train_mse") -> float:
    """max over epochs of |a - b| / |b| between two Histories' ``metric`` (the epochs both have)."""
    return float(np.max(relative_gaps(first, second, metric)))


def equivalence_rows(results) -> list:
    """Chapter 7's prediction at seed 003's scale, one row per backprop run with per-layer learning rates
    (labels role="equivalence"): the GTP run with T = 1 it should reproduce (role="table", same network,
    init and seed: the same initial weights and data order), the predicted rates eta tau^(L - l) for
    l = 1..L (``rates``), both runs' final test accuracies and the largest relative gaps of their
    training-loss and test-accuracy trajectories (``trajectory_gap``), and the training-loss gap per epoch
    (``gaps_mse``, ``relative_gaps``)."""
    rows = []
    for spec, bp in results.select(role="equivalence"):
        labels = spec.labels
        _, gtp = only(results, role="table", network=labels["network"], init=labels["init"], seed=labels["seed"])
        gaps_mse = relative_gaps(gtp, bp, "train_mse")
        rows.append({"network": labels["network"], "tau": labels["tau"], "eta": labels["eta"],
                     "rates": effective_learning_rates(spec.sizes, labels["tau"], labels["eta"]),
                     "gtp_acc": final_value(gtp, "test_acc"), "bp_acc": final_value(bp, "test_acc"),
                     "gap_mse": float(np.max(gaps_mse)), "gap_acc": trajectory_gap(gtp, bp, "test_acc"),
                     "epochs": min(gtp.epochs, bp.epochs), "gaps_mse": gaps_mse})
    return rows


def within_seed_noise(a: dict, b: dict, k: float = 2.0) -> bool | None:
    """Whether two ``seed_stats`` means differ by at most k standard errors of their difference,
    sqrt(std_a^2 / (n_a - 1) + std_b^2 / (n_b - 1)) with the population stds of n seeds each; None when a
    side has fewer than 2 seeds (no spread to compare with)."""
    if min(a["n"], b["n"]) < 2:
        return None
    error = math.sqrt(a["std"] ** 2 / (a["n"] - 1) + b["std"] ** 2 / (b["n"] - 1))
    return abs(a["mean"] - b["mean"]) <= k * error
