"""Initial weight scales: He, Xavier, LeCun, and seed 003's (GTP) for sigmoid networks.

``init_stds(sizes, init)`` gives the standard deviation of every weight layer's N(0, std^2) entries;
biases start at 0 (tpnb.network.MLP draws the weights layer by layer from one generator).
"""
from __future__ import annotations

import numpy as np

INITS = ("he", "xavier", "lecun", "gtp", "gtp_corrected")

# seed 003, Appendix A: the uncertainty density U(y) = 6 y (1 - y) on (0, 1) has mean 1/2, variance 1/20;
# inputs uniform on [0, 1] have mean 1/2, variance 1/12; the sigmoid's slope at 0 is 1/4.
UNCERTAINTY_MEAN, UNCERTAINTY_VAR = 0.5, 1.0 / 20.0
INPUT_MEAN, INPUT_VAR = 0.5, 1.0 / 12.0
SIGMOID_SLOPE_AT_0 = 0.25


def gtp_init_variances(sizes, *, corrected: bool = False) -> list:
    """Weight variances of seed 003's initialisation for an MLP with ``sizes`` [d_in, n_1, ..., n_L].

    VAR(w_l) = VAR(y_l) / (N f'(0)^2 (m + VAR(y_{l-1}))), N the fan-in, with m = <y_{l-1}> as printed
    (eq. (26), giving 48/(35 N) for layer 1 and 16/(11 N) for the others) or m = <y_{l-1}>^2 as the
    variance of a product requires (``corrected=True``: 12/(5 N) and 8/(3 N)).
    """
    from .network import check_sizes
    sizes = check_sizes(sizes)
    out = []
    for l, fan_in in enumerate(sizes[:-1]):
        mean, var = (INPUT_MEAN, INPUT_VAR) if l == 0 else (UNCERTAINTY_MEAN, UNCERTAINTY_VAR)
        m = mean ** 2 if corrected else mean
        out.append(UNCERTAINTY_VAR / (fan_in * SIGMOID_SLOPE_AT_0 ** 2 * (m + var)))
    return out


def init_stds(sizes: list, init: str) -> list:
    """Standard deviation of the weights of every layer of an MLP with ``sizes`` under ``init``."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; known: {INITS}")
    if init.startswith("gtp"):
        return [np.sqrt(var) for var in gtp_init_variances(sizes, corrected=init == "gtp_corrected")]
    scales = {"he": lambda d_in, n_out: np.sqrt(2.0 / d_in),
              "xavier": lambda d_in, n_out: np.sqrt(2.0 / (d_in + n_out)),
              "lecun": lambda d_in, n_out: np.sqrt(1.0 / d_in)}[init]
    return [scales(d_in, n_out) for d_in, n_out in zip(sizes[:-1], sizes[1:])]
