"""The book's answer in numbers (the front page): on Fashion-MNIST's common 784-256-256-10 ReLU network,
exact TP (the seed's rule) against backprop with SGD and against the best affine model, from the same
results and the same verdict rows as chapter 12."""
from __future__ import annotations

import numpy as np

from ..baselines import least_squares
from . import verdict
from .core import dataset_for
from .results import load

NETWORK = "784-256-256-10"
# (method label of fmnist_final, row label of verdict.rows)
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


def fashion_mnist(quick: bool | None = None) -> dict:
    """{"rows": {method: the verdict row (acc and std as fractions, runs, epochs)}, "curves":
    ``accuracy_curves``, "affine": the least-squares affine classifier's test accuracy (fraction) on the
    same data, "network": NETWORK}."""
    table = {(r["network"].split()[0], r["method"]): r for r in verdict.rows(quick)}
    results = load("fmnist_final", quick)
    data = dataset_for(results.select(network=NETWORK)[0][0])
    return {"rows": {m: table[(NETWORK, label)] for m, label in METHODS.items()},
            "curves": accuracy_curves(results), "affine": least_squares(data)[1]["test_acc"],
            "network": NETWORK}
