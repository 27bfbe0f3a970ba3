"""The book's answer in numbers (the front page): on Fashion-MNIST's common 784-256-256-10 ReLU network,
exact TP (the seed's rule) against backprop with SGD and against the best affine model, from the study
chapters 4 and 12 quote (``fmnist_final``), summarised over seeds as ``report.summary`` does for them."""
from __future__ import annotations

import numpy as np

from .core import affine_metrics
from .report import summary
from .results import load

NETWORK = "784-256-256-10"
# fmnist_final's method label -> its name in the verdict's table (chapter 12)
METHODS = {"exact_tp": "exact TP (seed rule)", "bp_sgd": "backprop, SGD (MSE)"}


def accuracy_curves(results, network: str = NETWORK) -> dict:
    """{method: (mean, std) of the test accuracy per epoch over the seeds, arrays of shape (epochs + 1,)}
    for the methods of METHODS on ``network`` (fmnist_final's labels)."""
    curves = {}
    for method in METHODS:
        acc = np.array([h.metrics["test_acc"] for _, h in results.select(network=network, method=method)],
                       dtype=float)                                   # (seeds, epochs + 1)
        curves[method] = (acc.mean(axis=0), acc.std(axis=0))
    return curves


def rows(results, network: str = NETWORK) -> dict:
    """{method: {"acc", "std" (final test accuracy over the seeds, fractions; diverged runs left out),
    "runs", "diverged", "epochs"}} for the methods of METHODS on ``network``."""
    table = {r["method"]: r for r in summary(results, "test_acc") if r["arch"] == network}
    epochs = {spec.labels["method"]: spec.epochs for spec in results.specs}
    return {m: {"acc": table[m]["mean"], "std": table[m]["std"], "runs": table[m]["runs"],
                "diverged": table[m]["diverged"], "epochs": epochs[m]} for m in METHODS}


def fashion_mnist(quick: bool | None = None) -> dict:
    """{"rows": ``rows``, "curves": ``accuracy_curves``, "affine": the least-squares affine classifier's
    test accuracy (fraction) on the same data, "network": NETWORK}."""
    results = load("fmnist_final", quick)
    spec = results.select(network=NETWORK)[0][0]
    return {"rows": rows(results), "curves": accuracy_curves(results),
            "affine": affine_metrics(spec)["test_acc"], "network": NETWORK}
