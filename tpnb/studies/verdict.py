"""The verdict's Fashion-MNIST table: every rule in tpnb on the full 60k/10k split, from the studies that
trained it, next to published numbers (chapter 12)."""
from __future__ import annotations

import numpy as np

from .results import load
from .report import final_value, median_epoch_time

# (study, key prefix "network|method", label) of every rule trained on full Fashion-MNIST
SOURCES = [
    ("fmnist_final", "784-256-256-10|bp_sgd", "backprop, SGD (MSE)"),
    ("fmnist_final", "784-256-256-10|bp_adam", "backprop, Adam (MSE)"),
    ("fmnist_final", "784-256-256-10|exact_tp", "exact TP (seed rule)"),
    ("verdict_final", "784-256-256-10|pinv", "exact TP, pinv input targets"),
    ("verdict_final", "784-256-256-10|joint", "exact TP, joint weights"),
    ("verdict_final", "784-256-256-10|pinv+joint", "exact TP, pinv + joint"),
    ("verdict_final", "784-256-256-10|step", "exact TP, step output targets"),
    ("fmnist_final", "784-256-10|bp_sgd", "backprop, SGD (MSE)"),
    ("fmnist_final", "784-256-10|exact_tp", "exact TP (seed rule)"),
    ("random_tp_fmnist", "784-256-256-10|least_squares,k=64", "random-direction TP, least squares, k=64"),
    ("side_by_side", "784-256x5-10|bp_adam", "backprop, Adam (CE)"),
    ("side_by_side", "784-256x5-10|dfa", "DFA"),
    ("side_by_side", "784-256x5-10|dtp", "DTP"),
    ("side_by_side", "784-256x5-10|dtpdrl", "DTPDRL"),
    ("side_by_side", "784-256x5-10|ddtp_linear", "DDTP-linear"),
    ("side_by_side", "784-256x5-10|ddtp_rhl", "DDTP-RHL"),
    ("side_by_side", "784-256x5-10|ddtp_control", "DDTP-control"),
    ("side_by_side", "784-256x5-10|exact_tp", "exact TP (seed rule)"),
    ("side_by_side", "784-100-10|bp_sgd_b1", "backprop, SGD, batch 1"),
    ("side_by_side", "784-100-10|gtp_b1", "GTP, batch 1"),
    ("side_by_side", "784-100-10|gtp_b64", "GTP, batch 64"),
    ("side_by_side", "784-100-10|exact_tp", "exact TP (seed rule)"),
]

# Published Fashion-MNIST test accuracies (quotations, with their source).
PUBLISHED = {
    ("784-100-10", "GTP"): (0.8703, "seed 003 (Farias & Maziero), Table 2, 784-100-10"),
    ("784-100-100-10", "GTP"): (0.8771, "seed 003, Table 2, 784-100-100-10"),
    ("784-500-500-10", "GTP"): (0.8777, "seed 003, Table 2, 784-500-500-10"),
}


# studies whose results other studies' specifications are chosen from: loaded first
TUNING = ("fmnist_tuning", "atlas_variants", "side_gtp_tuning")


def rows(quick: bool | None = None) -> list:
    """One row per (network, method): label, study, runs, epochs, mean and std of the final test accuracy,
    median seconds per epoch (from ``load``: quick mode trains what is missing, the full book never does)."""
    for name in TUNING:
        load(name, quick)
    cache, out = {}, []
    for study_name, prefix, label in SOURCES:
        if study_name not in cache:
            cache[study_name] = load(study_name, quick)
        results = cache[study_name]
        runs = [(s, h) for s, h in results.items() if s.key.rsplit("|", 1)[0] == prefix]
        if not runs:
            continue
        acc = np.array([final_value(h, "test_acc") for _, h in runs])
        network = prefix.split("|")[0]
        activation = runs[0][0].activation
        out.append({"network": f"{network} {activation}", "method": label, "study": study_name, "runs": len(runs),
                    "epochs": runs[0][0].epochs, "acc": float(np.nanmean(acc)) if np.isfinite(acc).any() else np.nan,
                    "std": float(np.nanstd(acc)), "diverged": int(np.sum(~np.isfinite(acc))),
                    "seconds": float(np.median([median_epoch_time(h) for _, h in runs]))})
    return out
