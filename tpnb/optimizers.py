"""First-order optimisers updating a list of parameter arrays in place."""
from __future__ import annotations

import numpy as np

from . import checks


class SGD:
    """p <- p - lr * v with v <- momentum * v + g (momentum = 0: plain SGD)."""

    def __init__(self, lr: float = 0.1, momentum: float = 0.0):
        checks.positive_number("lr", lr)
        checks.number_in("momentum", momentum, 0, 1, include_high=False)
        self.lr, self.momentum = lr, momentum
        self.velocity = None

    def update(self, params: list, grads: list) -> None:
        if self.momentum == 0:
            for p, g in zip(params, grads):
                p -= self.lr * g
            return
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in params]
        for p, g, v in zip(params, grads, self.velocity):
            v *= self.momentum
            v += g
            p -= self.lr * v

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

    def update(self, params: list, grads: list) -> None:
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        step = self.lr * np.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            p -= step * m / (np.sqrt(v) + self.eps)

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
