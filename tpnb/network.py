"""The one multilayer perceptron every learning rule trains.

Notation (the book's): layer l = 1..L has input x_l with a trailing constant 1 (the bias input),
weights W_l of shape (n_l, d_l + 1) whose last column is the bias, pre-activation u_l = W_l x_l,
hidden activation h_l = f_l(u_l) and x_{l+1} = [h_l, 1]. Each hidden layer has its own activation f_l
(one for all by default). The output layer is linear unless an output activation f_out is given: the
network's prediction is f_out(u_L) (seed 003's sigmoid output units); the rules' losses and output
targets see it through tpnb.rules.targets. Batches are rows: X is (batch, d), so u_l = x_l @ W_l.T.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import checks
from .activations import Activation, Identity, get_activation
from .initialization import INITS, init_stds

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
    us[l] its pre-activation (batch, n_l); ``output`` is us[-1], the output pre-activation u_L (the
    prediction itself when the network has no output activation)."""
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


def per_layer_activations(activation, n_hidden: int) -> list:
    """One Activation per hidden layer from one activation (name or instance) for all of them or a
    sequence of exactly ``n_hidden``."""
    if isinstance(activation, (str, Activation)):
        return [get_activation(activation)] * n_hidden
    if not hasattr(activation, "__len__") or len(activation) != n_hidden:
        raise ValueError(f"activation must be one activation or a sequence of one per hidden layer "
                         f"({n_hidden}), got {activation!r}")
    return [get_activation(a) for a in activation]


class MLP:
    """Fully connected network with sizes [d_in, n_1, ..., n_L].

    sizes: whole numbers >= 1. activation: one hidden activation (name or instance) for every hidden
    layer, or a sequence with one per hidden layer (seed 003: ["relu", "sigmoid", ...]).
    output_activation: "identity" (a linear output, the default) or e.g. "sigmoid".
    init: one of tpnb.initialization.INITS. seed: a whole number >= 0 (the generator of the initial
    weights). dtype: float32 or float64. Anything else raises a ValueError or TypeError naming the argument.
    """

    def __init__(self, sizes, activation="relu", *, output_activation: str | Activation = "identity",
                 seed: int = 0, init: str = "he", dtype=np.float64):
        sizes = check_sizes(sizes)
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; known: {INITS}")
        checks.seed(seed)
        dtype = check_dtype(dtype)
        self.sizes = sizes
        self.activations = per_layer_activations(activation, len(sizes) - 2)
        self._declared = get_activation(activation) if isinstance(activation, (str, Activation)) else None
        self.output_activation = get_activation(output_activation)
        self.dtype = dtype
        rng = np.random.default_rng(seed)
        self.weights = []
        for d_in, n_out, std in zip(sizes[:-1], sizes[1:], init_stds(sizes, init)):
            w = np.zeros((n_out, d_in + 1), dtype=self.dtype)
            w[:, :-1] = rng.normal(0.0, std, size=(n_out, d_in))  # biases start at 0
            self.weights.append(w)

    @property
    def depth(self) -> int:
        """Number of weight layers L."""
        return len(self.weights)

    @property
    def activation(self) -> Activation:
        """The hidden activation shared by every hidden layer (ValueError for mixed ones: use
        ``activations[l]``, or for a network without hidden layers)."""
        if self.activations and all(a is self.activations[0] for a in self.activations):
            return self.activations[0]
        if not self.activations and self._declared is not None:
            return self._declared                       # no hidden layer: the one it was given
        raise ValueError(f"{self!r} has no single hidden activation: use net.activations[l]")

    @property
    def linear_output(self) -> bool:
        """True when the prediction is u_L itself (no output activation)."""
        return isinstance(self.output_activation, Identity)

    def copy(self) -> "MLP":
        clone = object.__new__(MLP)
        clone.sizes, clone.activations, clone.dtype = list(self.sizes), list(self.activations), self.dtype
        clone.output_activation, clone._declared = self.output_activation, self._declared
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
            u = x_l @ w.T                               # u_l = W_l x_l
            xs.append(x_l)
            us.append(u)
            if l < len(weights) - 1:
                # x_{l+1} = [f_l(u_l), 1]: f_l written straight beside the bias column (no copy)
                x_l = np.empty((u.shape[0], u.shape[1] + 1), dtype=u.dtype)
                self.activations[l].write(u, x_l[:, :-1])
                x_l[:, -1] = 1.0
        return ForwardPass(xs, us)

    def __call__(self, x: np.ndarray, weights=None) -> np.ndarray:
        """The network's prediction f_out(u_L) (u_L for a linear output), (batch, n_L)."""
        x = self.check_input(x)
        weights = self.weights if weights is None else weights
        h = x.astype(self.dtype, copy=False)
        for l, w in enumerate(weights):
            h = h @ w[:, :-1].T
            h += w[:, -1]
            if l < len(weights) - 1:
                h = self.activations[l](h)
        return h if self.linear_output else self.output_activation(h)

    def __repr__(self) -> str:
        same = all(a is self.activations[0] for a in self.activations)
        activation = (self.activations[0] if self.activations else self._declared) if same else \
            [a.name for a in self.activations]
        output = "" if self.linear_output else f", output_activation={self.output_activation!r}"
        return f"MLP(sizes={self.sizes}, activation={activation!r}{output})"
