"""Seeded synthetic data sets: the same arguments give bit-identical arrays.

Train and test splits are drawn from the same distribution by one generator,
np.random.default_rng(seed), in a fixed order.
"""
from __future__ import annotations

import numpy as np

from tpnb import checks
from tpnb.data.dataset import Dataset, one_hot

TEACHER_BIAS_STD = 0.1


def linear_regression(n_train: int = 1000, n_test: int = 1000, n_inputs: int = 10,
                      n_outputs: int = 5, noise: float = 0.0, seed: int = 0) -> Dataset:
    """y = A x + b + noise * N(0, 1) with x ~ N(0, I), for a random affine map.

    A (n_outputs, n_inputs) ~ N(0, 1 / n_inputs), b (n_outputs,) ~ N(0, 1).  With noise = 0 the
    targets are exactly affine in the inputs (a consistent system).
    """
    _check_sizes(n_train=n_train, n_test=n_test, n_inputs=n_inputs, n_outputs=n_outputs)
    _check_noise(noise)
    checks.seed(seed)
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, 1.0 / np.sqrt(n_inputs), (n_outputs, n_inputs))
    bias = rng.normal(0.0, 1.0, n_outputs)
    x = rng.normal(0.0, 1.0, (n_train + n_test, n_inputs))
    y = x @ weights.T + bias + noise * rng.normal(0.0, 1.0, (n_train + n_test, n_outputs))
    return _regression("linear_regression", x, y, n_train)


def teacher_student(n_train: int = 1000, n_test: int = 1000, n_inputs: int = 10,
                    hidden: tuple[int, ...] = (32,), n_outputs: int = 5, noise: float = 0.0,
                    seed: int = 0) -> Dataset:
    """y = teacher(x) + noise * N(0, 1), x ~ N(0, I); the teacher is a random ReLU MLP.

    Teacher layers n_inputs -> *hidden -> n_outputs, ReLU after every hidden layer, a linear
    output; weights He-normal N(0, 2 / fan_in), biases N(0, 0.1^2).
    """
    _check_sizes(n_train=n_train, n_test=n_test, n_inputs=n_inputs, n_outputs=n_outputs)
    if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__len__"):
        raise checks.ArgumentTypeError(f"hidden must be a sequence of hidden-layer widths such as (32,), got "
                                       f"{hidden!r} of type {type(hidden).__name__}")
    for i, width in enumerate(hidden):
        _check_sizes(**{f"hidden[{i}]": width})
    _check_noise(noise)
    checks.seed(seed)
    rng = np.random.default_rng(seed)
    widths = [n_inputs, *hidden, n_outputs]
    layers = [(rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_out, fan_in)),
               rng.normal(0.0, TEACHER_BIAS_STD, fan_out))
              for fan_in, fan_out in zip(widths[:-1], widths[1:])]
    x = rng.normal(0.0, 1.0, (n_train + n_test, n_inputs))
    h = x
    for i, (weights, bias) in enumerate(layers):
        h = h @ weights.T + bias
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)
    y = h + noise * rng.normal(0.0, 1.0, h.shape)
    return _regression("teacher_student", x, y, n_train)


def xor(n_train: int = 1000, n_test: int = 1000, noise: float = 0.1, seed: int = 0,
        unit_square: bool = False) -> Dataset:
    """2-D points corner + noise * N(0, I) around the 4 corners of [-1, 1]^2, 2 classes.

    Label = XOR of the corner's signs: 1 for (-1, 1) and (1, -1), 0 for (-1, -1) and (1, 1).
    Corners are used equally often (exactly when n is a multiple of 4), in random order.
    unit_square: the same points mapped by (x + 1) / 2, around the corners of [0, 1]^2 (seed 003's inputs
    in [0, 1]).
    """
    _check_sizes(n_train=n_train, n_test=n_test)
    _check_noise(noise)
    checks.seed(seed)
    if not isinstance(unit_square, bool):
        raise checks.ArgumentTypeError(f"unit_square must be True or False, got {unit_square!r}")
    rng = np.random.default_rng(seed)
    corners = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    splits = []
    for n in (n_train, n_test):
        corner = rng.permutation(np.arange(n) % 4)
        x = corners[corner] + noise * rng.normal(0.0, 1.0, (n, 2))
        labels = (corners[corner, 0] * corners[corner, 1] < 0).astype(np.int64)
        splits += [(x + 1) / 2 if unit_square else x, one_hot(labels, 2)]
    return Dataset("xor", *splits, task="classification")


def two_spirals(n_train: int = 1000, n_test: int = 1000, noise: float = 0.05,
                turns: float = 2.0, seed: int = 0) -> Dataset:
    """Two interleaved 2-D spirals, one per class, plus noise * N(0, I).

    Class 0 is r (cos 2 pi turns r, sin 2 pi turns r) for r ~ U(0.05, 1) (starting just
    off the origin where the arms meet); class 1 is the same curve rotated by pi.
    Each split holds n // 2 points of class 0 and the rest of class 1, in random order.
    """
    _check_sizes(n_train=n_train, n_test=n_test)
    _check_noise(noise)
    checks.positive_number("turns", turns)
    checks.seed(seed)
    rng = np.random.default_rng(seed)
    splits = []
    for n in (n_train, n_test):
        labels = rng.permutation(np.arange(n) >= n // 2).astype(np.int64)
        radius = rng.uniform(0.05, 1.0, n)
        angle = 2.0 * np.pi * turns * radius + np.pi * labels
        x = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        x += noise * rng.normal(0.0, 1.0, (n, 2))
        splits += [x, one_hot(labels, 2)]
    return Dataset("two_spirals", *splits, task="classification")


def _regression(name: str, x: np.ndarray, y: np.ndarray, n_train: int) -> Dataset:
    return Dataset(name, x[:n_train], y[:n_train], x[n_train:], y[n_train:], task="regression")


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        checks.whole_number(name, value, 1)


def _check_noise(noise: float) -> None:
    checks.positive_number("noise", noise, allow_zero=True)
