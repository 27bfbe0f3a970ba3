"""The verdict's Fashion-MNIST table: every rule in tpnb on the full 60k/10k split, from the studies that
trained it, next to published numbers (chapter 12)."""
from __future__ import annotations

import numpy as np

from ..published import SEED003_TABLE2
from .answer import fashion_mnist
from .gtp_protocol import name
from .random_direction import RIDGE
from .results import load
from .report import final_value, median_epoch_time

# (study, labels selecting the runs, label) of every rule trained on full Fashion-MNIST, network by network
_COMMON, _DEEP, _SMALL = "784-256-256-10", "784-256x5-10", "784-100-10"
_SEED_RULE, _SGD_MSE = "exact TP (seed rule)", "backprop, SGD (MSE)"
FLOOR_VARIANT = "exact TP, pinv + hidden target rule (chapter 13)"
_VARIANTS = {"pinv": "exact TP, pinv input targets", "joint": "exact TP, joint weights",
             "pinv+joint": "exact TP, pinv + joint", "step": "exact TP, step output targets"}
_DEEP_METHODS = {"bp_adam": "backprop, Adam (CE)", "dfa": "DFA", "dtp": "DTP", "dtpdrl": "DTPDRL",
                 "ddtp_linear": "DDTP-linear", "ddtp_rhl": "DDTP-RHL", "ddtp_control": "DDTP-control",
                 "exact_tp": _SEED_RULE}
_SMALL_METHODS = [(dict(method="bp_sgd", batch=1), "backprop, SGD, batch 1"),
                  (dict(method="gtp", batch=1), "GTP, batch 1"), (dict(method="gtp", batch=64), "GTP, batch 64"),
                  (dict(method="exact_tp"), _SEED_RULE)]
SOURCES = (
    [("fmnist_final", dict(network=_COMMON, method=m), label)
     for m, label in (("bp_sgd", _SGD_MSE), ("bp_adam", "backprop, Adam (MSE)"), ("exact_tp", _SEED_RULE))]
    + [("verdict_final", dict(network=_COMMON, variant=v), label) for v, label in _VARIANTS.items()]
    + [("floor_variants_final", dict(network=_COMMON, cell="variant"), FLOOR_VARIANT)]
    + [("fmnist_final", dict(network="784-256-10", method=m), label)
       for m, label in (("bp_sgd", _SGD_MSE), ("exact_tp", _SEED_RULE))]
    + [("random_tp_fmnist", dict(network=_COMMON, method="random_direction_tp", factor="least_squares", k=64,
                                 ridge=RIDGE), "random-direction TP, least squares, k=64")]
    + [("side_by_side", dict(network=_DEEP, method=m), label) for m, label in _DEEP_METHODS.items()]
    + [("side_by_side", dict(labels, network=_SMALL), label) for labels, label in _SMALL_METHODS])

# Published Fashion-MNIST test accuracies (quotations from tpnb.published, with their source).
PUBLISHED = {(name(sizes), "GTP"): (SEED003_TABLE2[sizes][0],
                                    f"seed 003 (Farias & Maziero), Table 2, {name(sizes)}")
             for sizes in ((784, 100, 10), (784, 100, 100, 10), (784, 500, 500, 10))}


# studies whose results other studies' specifications are chosen from: loaded first
TUNING = ("fmnist_tuning", "atlas_variants", "side_gtp_tuning")


def rows(quick: bool | None = None) -> list:
    """One row per (network, method): label, study, runs, epochs, mean and std of the final test accuracy,
    median seconds per epoch (from ``load``: quick mode trains what is missing, the full book never does)."""
    for name in TUNING:
        load(name, quick)
    cache, out = {}, []
    for study_name, labels, label in SOURCES:
        if study_name not in cache:
            cache[study_name] = load(study_name, quick)
        results = cache[study_name]
        runs = results.select(**labels)
        if not runs:
            continue
        acc = np.array([final_value(h, "test_acc") for _, h in runs])
        network = labels["network"]
        activation = runs[0][0].activation
        out.append({"network": f"{network} {activation}", "method": label, "study": study_name, "runs": len(runs),
                    "epochs": runs[0][0].epochs, "acc": float(np.nanmean(acc)) if np.isfinite(acc).any() else np.nan,
                    "std": float(np.nanstd(acc)), "diverged": int(np.sum(~np.isfinite(acc))),
                    "seconds": float(np.median([median_epoch_time(h) for _, h in runs]))})
    return out


def affine_accuracy(quick: bool | None = None) -> float:
    """Test accuracy (fraction) of the least-squares affine classifier on the common network's data (the
    front page's figure, ``answer.fashion_mnist``)."""
    return fashion_mnist(quick)["affine"]
