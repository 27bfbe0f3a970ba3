"""The one multilayer perceptron every learning rule trains.

Notation (the book's): layer l = 1..L has input x_l with a trailing constant 1 (the bias input),
weights W_l of shape (n_l, d_l + 1) whose last column is the bias, pre-activation u_l = W_l x_l,
hidden activation h_l = f(u_l) and x_{l+1} = [h_l, 1]. The output layer is linear: u_L is the output.
Batches are rows: X is (batch, d), so u_l = x_l @ W_l.T.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import checks
from .activations import Activation, get_activation

INITS = ("he", "xavier", "lecun")
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def with_bias(h: np.ndarray, dtype=None) -> np.ndarray:
    """(batch, d) -> (batch, d + 1) with a trailing column of ones, in ``dtype`` (default h's; the cast
    and the copy are one pass)."""
    out = np.empty((h.shape[0], h.shape[1] + 1), dtype=h.dtype if dtype is None else dtype)
    out[:, :-1] = h
    out[:, -1] = 1.0
    return out


@dataclass
class ForwardPass:
    """What a forward pass records: xs[l] is layer l's input with bias column (batch, d_l + 1),
    us[l] its pre-activation (batch, n_l); us[-1] is the network output."""
    xs: list
    us: list

    @property
    def output(self) -> np.ndarray:
        return self.us[-1]


def check_sizes(sizes) -> list:
    """sizes as a list of ints if it lists at least two whole numbers >= 1 (ints or NumPy integers;
    2.7, True and '4' are refused, not rounded)."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise checks.ArgumentTypeError(f"sizes must be a sequence of layer widths [d_in, n_1, ..., n_L], "
                                       f"got {sizes!r} of type {type(sizes).__name__}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output size, all >= 1; got {list(sizes)}")
    for i, size in enumerate(sizes):
        checks.whole_number(f"sizes[{i}]", size, 1)
    return [int(s) for s in sizes]


def check_dtype(dtype) -> np.dtype:
    """np.dtype(dtype) if it is float32 or float64 (integer weights would truncate the initialisation)."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = np.dtype(object)
    if not any(resolved == allowed for allowed in DTYPES):
        raise checks.ArgumentTypeError(f"dtype must be float32 or float64, got {dtype!r}")
    return resolved


class MLP:
    """Fully connected network with sizes [d_in, n_1, ..., n_L] and one hidden activation.

    sizes: whole numbers >= 1. seed: a whole number >= 0 (the generator of the initial weights).
    dtype: float32 or float64. Anything else raises a ValueError or TypeError naming the argument.
    """

    def __init__(self, sizes, activation: str | Activation = "relu", *, seed: int = 0,
                 init: str = "he", dtype=np.float64):
        sizes = check_sizes(sizes)
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; known: {INITS}")
        checks.seed(seed)
        dtype = check_dtype(dtype)
        self.sizes = sizes
        self.activation = get_activation(activation)
        self.dtype = dtype
        rng = np.random.default_rng(seed)
        self.weights = []
        for d_in, n_out in zip(sizes[:-1], sizes[1:]):
            scale = {"he": np.sqrt(2.0 / d_in), "xavier": np.sqrt(2.0 / (d_in + n_out)),
                     "lecun": np.sqrt(1.0 / d_in)}[init]
            w = np.zeros((n_out, d_in + 1), dtype=self.dtype)
            w[:, :-1] = rng.normal(0.0, scale, size=(n_out, d_in))  # biases start at 0
            self.weights.append(w)

    @property
    def depth(self) -> int:
        """Number of weight layers L."""
        return len(self.weights)

    def copy(self) -> "MLP":
        clone = object.__new__(MLP)
        clone.sizes, clone.activation, clone.dtype = list(self.sizes), self.activation, self.dtype
        clone.weights = [w.copy() for w in self.weights]
        return clone

    def check_input(self, x) -> np.ndarray:
        """x as an array (a nested list is converted) if it is a (batch, d_in) array of real numbers."""
        x = checks.real_array("inputs x", x)
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"shape mismatch: network expects inputs of shape (batch, {self.sizes[0]}), "
                             f"got {x.shape}")
        return x

    def forward(self, x: np.ndarray, weights=None) -> ForwardPass:
        """Forward pass recording every layer's input and pre-activation (optionally with other weights)."""
        x = self.check_input(x)
        weights = self.weights if weights is None else weights
        xs, us = [], []
        x_l = with_bias(x, self.dtype)                  # cast and bias column in one copy
        for l, w in enumerate(weights):
            u = x_l @ w.T
            xs.append(x_l)
            us.append(u)
            if l < len(weights) - 1:
                x_l = with_bias(self.activation(u))
        return ForwardPass(xs, us)

    def __call__(self, x: np.ndarray, weights=None) -> np.ndarray:
        """Network output u_L, (batch, n_L)."""
        x = self.check_input(x)
        weights = self.weights if weights is None else weights
        h = x.astype(self.dtype, copy=False)
        for l, w in enumerate(weights):
            h = h @ w[:, :-1].T
            h += w[:, -1]
            if l < len(weights) - 1:
                h = self.activation(h)
        return h

    def __repr__(self) -> str:
        return f"MLP(sizes={self.sizes}, activation={self.activation!r})"
