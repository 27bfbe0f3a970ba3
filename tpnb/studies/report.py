"""Tables and per-epoch series drawn from study results: rows per (network, method) with statistics over
seeds, exact-TP tuning grids, and the curves and probes the chapters quote. Runs are chosen by their
labels (``RunSpec.labels``), never by parsing their keys."""
from __future__ import annotations

import math

import numpy as np


def final_value(history, metric: str) -> float:
    """The metric after the last epoch; NaN for a diverged run."""
    return math.nan if history.diverged else float(history.metrics[metric][-1])


def median_epoch_time(history) -> float:
    """Median seconds of training per epoch (the loop's own timing, evaluation excluded)."""
    return float(np.median(history.epoch_time[1:])) if history.epochs else math.nan


def only(results, **labels) -> tuple:
    """The one (spec, History) of ``results`` whose labels include every given label=value; ValueError if
    none or several match."""
    runs = results.select(**labels)
    if len(runs) != 1:
        raise ValueError(f"{len(runs)} runs of {results.study.name!r} match {labels}; expected exactly one")
    return runs[0]


def group(results, by=("network", "method")) -> dict:
    """{key: [(spec, History), ...]} in study order; key: the tuple of the labels named in ``by``, or
    ``by(spec)`` if ``by`` is a function."""
    key = by if callable(by) else (lambda spec: tuple(spec.labels[name] for name in by))
    groups = {}
    for spec, history in results.items():
        groups.setdefault(key(spec), []).append((spec, history))
    return groups


def summary(results, metric: str, by=("network", "method")) -> list:
    """Rows {arch, method, mean, std, runs, diverged, epoch_time} over the seeds of each group (``group``;
    arch and method: the two parts of the group's key)."""
    rows = []
    for (arch, method), runs in group(results, by).items():
        stats = seed_stats(final_value(h, metric) for _, h in runs)
        rows.append({"arch": arch, "method": method, "runs": len(runs), "diverged": stats["diverged"],
                     "mean": stats["mean"], "std": stats["std"],
                     "epoch_time": float(np.median([median_epoch_time(h) for _, h in runs]))})
    return rows


def seed_stats(values) -> dict:
    """mean, std (population, as the papers' ±) and n of the finite values; diverged: how many were not."""
    values = np.asarray(list(values), dtype=float)
    finite = values[np.isfinite(values)]
    return {"mean": float(finite.mean()) if finite.size else math.nan,
            "std": float(finite.std()) if finite.size else math.nan,
            "n": int(finite.size), "diverged": int(values.size - finite.size)}


def grid(results, arch: str, batch_size: int, metric: str, rows=("alpha",), cols=("eta",)) -> tuple:
    """Exact-TP tuning results of one network (label ``network``) and batch size as a matrix over two options.

    Returns (values, row_values, col_values); a diverged run is NaN.
    """
    cells = {}
    for spec, history in results.select(network=arch, method="exact_tp"):
        if spec.batch_size != batch_size:
            continue
        key = (tuple(spec.rule_options[r] for r in rows), tuple(spec.rule_options[c] for c in cols))
        cells[key] = final_value(history, metric)
    row_values = sorted({r for r, _ in cells})
    col_values = sorted({c for _, c in cells})
    values = np.array([[cells.get((r, c), math.nan) for c in col_values] for r in row_values])
    return values, [r[0] if len(r) == 1 else r for r in row_values], [c[0] if len(c) == 1 else c for c in col_values]


def plateau(runs, metric: str) -> float:
    """How much the metric still changed over the second half of training: (value at the middle epoch -
    final value) / |value at the middle epoch|, averaged over ``runs`` ((spec, History) pairs)."""
    changes = []
    for _, history in runs:
        values = np.asarray(history.metrics[metric], dtype=float)
        half = values[len(values) // 2]
        changes.append((half - values[-1]) / abs(half))
    return float(np.mean(changes))


def probe_series(records, quantity: str) -> np.ndarray:
    """A probe quantity per recorded epoch from a run's probe records (``StudyResults.probes``); NaN where a
    record lacks it (e.g. unit switches at epoch 0)."""
    return np.array([r.get(quantity, np.nan) for r in records], dtype=float)


def diagnostic_series(history, quantity: str) -> np.ndarray:
    """A rule diagnostic per epoch, epoch 0 included as NaN (it has none); NaN where an epoch lacks it."""
    return np.array([np.nan] + [d.get(quantity, np.nan) for d in history.diagnostics[1:]], dtype=float)
