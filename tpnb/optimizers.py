"""First-order optimisers updating a list of parameter arrays in place.

Speed: every update works through scratch buffers allocated once (per parameter shape and dtype) and
reused across steps, so no (n, d + 1) temporary is made per step. The operations and their order are
those of the plain expressions in each docstring, so the results are the same bit for bit: each scratch
buffer has the dtype numpy gives the value it holds in the plain expression (``lr * g`` of a float32 g is
float32; Adam's ``step * m`` is float64, step being a NumPy float64).
"""
from __future__ import annotations

import numpy as np

from . import checks


def scratch(buffers: list | None, like: list, *operands) -> list:
    """One buffer per array of ``like``, of its shape and of the dtype numpy gives the array combined with
    ``operands`` (scalars: ``lr * g`` of a float32 g is float32 for a Python float lr, float64 for a NumPy
    float64 one): ``buffers`` itself when it already fits, else new arrays."""
    dtypes = [np.result_type(a, *operands) for a in like]
    if buffers is not None and len(buffers) == len(like) and all(
            b.shape == a.shape and b.dtype == t for b, a, t in zip(buffers, like, dtypes)):
        return buffers
    return [np.empty(a.shape, dtype=t) for a, t in zip(like, dtypes)]


class _Scratch:
    """Pickles (checkpoints) without the scratch buffers: they hold nothing between updates."""

    def __getstate__(self):
        return {k: None if k.startswith("_scratch") else v for k, v in self.__dict__.items()}


class SGD(_Scratch):
    """p <- p - lr * v with v <- momentum * v + g (momentum = 0: plain SGD)."""

    def __init__(self, lr: float = 0.1, momentum: float = 0.0):
        checks.positive_number("lr", lr)
        checks.number_in("momentum", momentum, 0, 1, include_high=False)
        self.lr, self.momentum = lr, momentum
        self.velocity = None
        self._scratch = None

    def update(self, params: list, grads: list) -> None:
        if self.momentum == 0:
            self._scratch = scratch(self._scratch, grads, self.lr)
            for p, g, buf in zip(params, grads, self._scratch):
                p -= np.multiply(g, self.lr, out=buf)                # p -= lr g
            return
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in params]
        self._scratch = scratch(self._scratch, self.velocity, self.lr)
        for p, g, v, buf in zip(params, grads, self.velocity, self._scratch):
            v *= self.momentum
            v += g
            p -= np.multiply(v, self.lr, out=buf)                    # p -= lr v

    def __repr__(self):
        return f"SGD(lr={self.lr}, momentum={self.momentum})"


class Adam(_Scratch):
    """Adam (Kingma & Ba 2015) with bias correction:
    m <- beta1 m + (1 - beta1) g,  v <- beta2 v + (1 - beta2) g g,
    p <- p - step m / (sqrt(v) + eps_t),  step = lr sqrt(1 - beta2^t) / (1 - beta1^t),
    with eps_t = eps (the paper's efficient form: eps added to sqrt(v)) or, with ``eps_corrected``,
    eps_t = eps sqrt(1 - beta2^t): eps added to the bias-corrected sqrt(v / (1 - beta2^t)), as PyTorch's Adam
    does since version 1.3 (pull request pytorch/pytorch#22628; seed 002's authors used 1.5.0, their
    environment.yml). The two differ while 1 - beta2^t is far from 1."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 eps_corrected: bool = False):
        checks.positive_number("lr", lr)
        checks.number_in("beta1", beta1, 0, 1, include_high=False)
        checks.number_in("beta2", beta2, 0, 1, include_high=False)
        checks.positive_number("eps", eps)
        if not isinstance(eps_corrected, bool):
            raise checks.ArgumentTypeError(f"eps_corrected must be True or False, got {eps_corrected!r}")
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.eps_corrected = eps_corrected
        self.m = self.v = None
        self.t = 0
        self._scratch_g = self._scratch_v = self._scratch_m = None

    def update(self, params: list, grads: list) -> None:
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        step = self.lr * np.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        eps = float(self.eps * np.sqrt(1 - self.beta2 ** self.t)) if self.eps_corrected else self.eps   # eps_t
        self._scratch_g = scratch(self._scratch_g, grads, 1 - self.beta1, 1 - self.beta2)   # (1 - beta) g
        self._scratch_v = scratch(self._scratch_v, self.v, eps)                              # sqrt(v) + eps_t
        self._scratch_m = scratch(self._scratch_m, self.m, step)       # step m (step: a NumPy float64)
        for p, g, m, v, gb, vb, mb in zip(params, grads, self.m, self.v, self._scratch_g, self._scratch_v,
                                          self._scratch_m):
            m *= self.beta1
            m += np.multiply(g, 1 - self.beta1, out=gb)              # m += (1 - beta1) g
            v *= self.beta2
            np.multiply(g, 1 - self.beta2, out=gb)
            v += np.multiply(gb, g, out=gb)                          # v += (1 - beta2) g g
            np.sqrt(v, out=vb)
            vb += eps                                                # sqrt(v) + eps_t
            np.multiply(m, step, out=mb)
            p -= np.divide(mb, vb, out=mb)                           # p -= step m / (sqrt(v) + eps)

    def __repr__(self):
        corrected = ", eps_corrected=True" if self.eps_corrected else ""
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps}{corrected})"


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
