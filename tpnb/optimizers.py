"""First-order optimisers updating a list of parameter arrays in place.

Every update works in place on the parameters and the optimiser's state, through scratch buffers kept
from one call to the next (no temporary (N, D + 1) arrays per step), and evaluates the same expressions
in the same order as the plain formulas in each docstring, so the results are those of the formulas bit
for bit. The gradients passed in are never changed (rules report their norms after the update).
"""
from __future__ import annotations

import numpy as np

from . import checks


class _Scratch:
    """Scratch arrays kept between updates: ``get(key, make)`` returns what ``make()`` built the last time,
    or builds them anew when ``key`` (the shapes and dtypes involved) changed, e.g. the optimiser is used
    on another network. Their dtypes are those of the temporaries the plain formulas would make, so the
    in-place results equal the formulas' bit for bit."""

    def __init__(self):
        self.key, self.arrays = None, None

    def get(self, key, make) -> list:
        if key != self.key:
            self.key, self.arrays = key, make()
        return self.arrays


def _layout(*arrays_lists) -> list:
    """The key of a _Scratch: shape and dtype of every array of the given lists."""
    return [(a.shape, a.dtype) for arrays in arrays_lists for a in arrays]


class SGD:
    """p <- p - lr * v with v <- momentum * v + g (momentum = 0: plain SGD)."""

    def __init__(self, lr: float = 0.1, momentum: float = 0.0):
        checks.positive_number("lr", lr)
        checks.number_in("momentum", momentum, 0, 1, include_high=False)
        self.lr, self.momentum = lr, momentum
        self.velocity = None
        self._scratch = _Scratch()

    def update(self, params: list, grads: list) -> None:
        if self.momentum == 0:
            scratch = self._scratch.get((type(self.lr), _layout(grads)),
                                        lambda: [np.empty(g.shape, np.result_type(self.lr, g)) for g in grads])
            for p, g, step in zip(params, grads, scratch):
                np.multiply(g, self.lr, out=step)
                p -= step                                               # p - lr g
            return
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in params]
        scratch = self._scratch.get((type(self.lr), _layout(self.velocity)),
                                    lambda: [np.empty(v.shape, np.result_type(self.lr, v)) for v in self.velocity])
        for p, g, v, step in zip(params, grads, self.velocity, scratch):
            v *= self.momentum
            v += g
            np.multiply(v, self.lr, out=step)
            p -= step                                                   # p - lr v

    def __repr__(self):
        return f"SGD(lr={self.lr}, momentum={self.momentum})"


class Adam:
    """Adam (Kingma & Ba 2015) with bias correction."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        checks.positive_number("lr", lr)
        checks.number_in("beta1", beta1, 0, 1, include_high=False)
        checks.number_in("beta2", beta2, 0, 1, include_high=False)
        checks.positive_number("eps", eps)
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = self.v = None
        self.t = 0
        self._scratch = _Scratch()

    def update(self, params: list, grads: list) -> None:
        """m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g g,  p <- p - step m / (sqrt(v) + eps) with
        step = lr sqrt(1 - b2^t) / (1 - b1^t)."""
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        step = self.lr * np.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        key = (type(self.beta1), type(self.eps), type(step), _layout(grads, self.m, self.v))
        scratch = self._scratch.get(key, lambda: self._make(grads, step))
        for p, g, m, v, (a, d, q) in zip(params, grads, self.m, self.v, scratch):
            m *= self.beta1
            np.multiply(g, 1 - self.beta1, out=a)
            m += a                                                      # b1 m + (1 - b1) g
            v *= self.beta2
            np.multiply(g, 1 - self.beta2, out=a)
            a *= g
            v += a                                                      # b2 v + ((1 - b2) g) g
            np.sqrt(v, out=d)
            d += self.eps
            np.multiply(m, step, out=q)
            q /= d
            p -= q                                                      # p - (step m) / (sqrt(v) + eps)

    def _make(self, grads: list, step) -> list:
        """Per parameter: (1 - b1) g's array a, (sqrt(v) + eps)'s array d (a itself when the dtypes agree)
        and (step m) / d's array q."""
        arrays = []
        for g, m, v in zip(grads, self.m, self.v):
            a_dtype, d_dtype = np.result_type(self.beta1, g), np.result_type(v, self.eps)
            a = np.empty(g.shape, a_dtype)
            d = a if d_dtype == a_dtype else np.empty(g.shape, d_dtype)
            arrays.append((a, d, np.empty(g.shape, np.result_type(step, m, d_dtype))))
        return arrays

    def __repr__(self):
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps})"


OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def make_optimizer(name: str, **options):
    """The optimiser called ``name`` ("sgd" or "adam") with ``options``; an unknown name or option is
    named in the error, with what is allowed."""
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; known: {sorted(OPTIMIZERS)}")
    checks.known_options(f"optimizer {name!r}", options, checks.keyword_names(OPTIMIZERS[name].__init__))
    return OPTIMIZERS[name](**options)


def check_rule_options(rule, optimizer: str, options: dict) -> None:
    """For a rule that passes the keywords it does not take on to its optimiser: raise naming the rule
    when ``options`` holds one the optimiser does not take either, listing what the rule and the
    optimiser allow (without this the error would blame the optimiser's constructor). An unknown
    optimizer name is left to make_optimizer."""
    if isinstance(optimizer, str) and optimizer in OPTIMIZERS:
        allowed = checks.keyword_names(type(rule).__init__) + checks.keyword_names(OPTIMIZERS[optimizer].__init__)
        checks.known_options(f"rule {rule.name!r} (with optimizer {optimizer!r})", options, allowed)
