"""Tables drawn from study results: one row per (architecture, method), statistics over seeds."""
from __future__ import annotations

import math

import numpy as np


def final_value(history, metric: str) -> float:
    """The metric after the last epoch; NaN for a diverged run."""
    return math.nan if history.diverged else float(history.metrics[metric][-1])


def median_epoch_time(history) -> float:
    """Median seconds of training per epoch (the loop's own timing, evaluation excluded)."""
    return float(np.median(history.epoch_time[1:])) if history.epochs else math.nan


def group(results, n_parts: int = 2) -> dict:
    """{key prefix of n_parts '|'-separated fields: [(spec, History), ...]} in study order."""
    groups = {}
    for spec, history in results.items():
        groups.setdefault(tuple(spec.key.split("|")[:n_parts]), []).append((spec, history))
    return groups


def summary(results, metric: str) -> list:
    """Rows {arch, method, mean, std, runs, diverged, epoch_time} over the seeds of each group."""
    rows = []
    for (arch, method), runs in group(results).items():
        values = np.array([final_value(h, metric) for _, h in runs])
        finite = values[np.isfinite(values)]
        rows.append({"arch": arch, "method": method, "runs": len(runs),
                     "diverged": int(np.sum(~np.isfinite(values))),
                     "mean": float(finite.mean()) if finite.size else math.nan,
                     "std": float(finite.std()) if finite.size else math.nan,
                     "epoch_time": float(np.median([median_epoch_time(h) for _, h in runs]))})
    return rows


def grid(results, arch: str, batch_size: int, metric: str, rows=("alpha",), cols=("eta",)) -> tuple:
    """Exact-TP tuning results of one architecture and batch size as a matrix over two options.

    Returns (values, row_values, col_values); a diverged run is NaN.
    """
    cells = {}
    for spec, history in results.items():
        if spec.rule != "exact_tp" or not spec.key.startswith(arch + "|") or spec.batch_size != batch_size:
            continue
        key = (tuple(spec.rule_options[r] for r in rows), tuple(spec.rule_options[c] for c in cols))
        cells[key] = final_value(history, metric)
    row_values = sorted({r for r, _ in cells})
    col_values = sorted({c for _, c in cells})
    values = np.array([[cells.get((r, c), math.nan) for c in col_values] for r in row_values])
    return values, [r[0] if len(r) == 1 else r for r in row_values], [c[0] if len(c) == 1 else c for c in col_values]
