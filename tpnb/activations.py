"""Hidden-layer activations, each with what target propagation needs besides f and f'.

Every activation provides
- ``__call__(u)`` and ``derivative(u)``: f(u) and f'(u), elementwise; ``write(u, out)`` writes f(u) into
  ``out`` (e.g. the columns of a forward pass's (batch, n + 1) layer input beside its bias column), bit for
  bit what ``__call__`` returns; ``derivative_from(u, fu)`` is f'(u)
  given fu = f(u) as well (a forward pass has it): tanh and sigmoid then skip recomputing f, the most
  expensive elementwise work of a tanh network (float64 np.tanh is scalar libm, ~15 ns per element);
- ``project(ix, cap)``: map a proposed activation target ix into the image of f (and clip above at
  ``cap`` when given), giving a reachable target x';
- ``target(u, x_target, margin)``: a pre-activation target u' with f(u') = x' exactly, chosen as close
  to the current pre-activation u as the activation allows (identity on invertible activations);
- ``invertible``: True when f is a bijection onto its image (random-direction TP needs this).

Speed. Every method makes one output array and no more temporaries than it needs; derivatives have the
dtype of u (float32 stays float32). Leaky ReLU and x + relu use a min / max where np.where would pick
between two branches: np.where branches on every element, which on a mask of mixed signs (a leaky layer's
pre-activations) costs several ns per element, ten times a ufunc pass; the min / max gives np.where's
results bit for bit, signed zeros, infinities and NaN included. ReLU's target rule keeps np.where: in a
trained network its masks are mostly of one sign, where np.where is fast (a branch-free select on the bit
patterns measured 1.6x slower there).
"""
from __future__ import annotations

import numpy as np


def _result(u) -> np.ndarray:
    """An empty array for f(u): u's shape, the dtype of ``u * 0.5`` (float32 stays float32)."""
    return np.empty(np.shape(u), np.result_type(u, 0.5))


class Activation:
    name: str = ""
    invertible: bool = True
    lower: float = -np.inf  # the image of f is the interval (lower, upper) or [lower, upper]
    upper: float = np.inf

    def __call__(self, u: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, u: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def write(self, u: np.ndarray, out: np.ndarray) -> np.ndarray:
        """f(u) written into ``out`` (same shape; a strided view is fine), returned; equal to self(u) bit for bit."""
        np.copyto(out, self(u))
        return out

    def derivative_from(self, u: np.ndarray, fu: np.ndarray) -> np.ndarray:
        """f'(u) when fu = f(u) is known too; equal to derivative(u) bit for bit when fu is self(u)."""
        return self.derivative(u)

    def inverse(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def project(self, ix: np.ndarray, cap: float | None = None) -> np.ndarray:
        """Clip ix into the image of f, then above at cap (cap=None: no cap)."""
        upper = self.upper if cap is None else min(self.upper, cap)
        if self.lower == -np.inf and upper == np.inf:
            return ix
        return np.clip(ix, self.lower, upper)

    def target(self, u: np.ndarray, x_target: np.ndarray, margin: float = 0.0) -> np.ndarray:
        """Pre-activation target u' with f(u') = x_target (x_target already projected)."""
        return self.inverse(x_target)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Identity(Activation):
    name = "identity"

    def __call__(self, u):
        return u

    def derivative(self, u):
        return np.ones_like(u)

    def inverse(self, x):
        return x


class ReLU(Activation):
    name = "relu"
    invertible = False
    lower = 0.0

    def __call__(self, u):
        return np.maximum(u, 0.0)

    def write(self, u, out):
        return np.maximum(u, 0.0, out=out)

    def derivative(self, u):
        return (u > 0).astype(u.dtype)

    def inverse(self, x):
        raise ValueError("relu is not invertible: use target(u, x', margin) for a pre-activation target")

    def target(self, u, x_target, margin=0.0):
        # seed 000: x'_j > 0 -> u'_j = x'_j (linear part);  x'_j = 0 and u_j <= 0 -> u'_j = u_j (already off);
        #           x'_j = 0 and u_j > 0 -> u'_j = -m (push just past the kink, margin m >= 0).
        return np.where(x_target > 0, x_target, np.where(u <= 0, u, -margin))


class LeakyReLU(Activation):
    name = "leaky_relu"

    def __init__(self, slope: float = 0.1):
        if not 0 < slope < 1:
            raise ValueError(f"leaky_relu slope must be in (0, 1), got {slope}")
        self.slope = slope

    def __call__(self, u):
        return self.write(u, _result(u))

    def write(self, u, out):
        np.multiply(u, self.slope, out=out)
        return np.maximum(u, out, out=out)              # u > 0: u >= slope u;  u <= 0: slope u >= u

    def derivative(self, u):
        out = (u > 0).astype(u.dtype)
        return np.maximum(out, self.slope, out=out)     # 1 or slope

    def inverse(self, x):
        out = x / self.slope
        return np.minimum(x, out, out=out)              # x > 0: x <= x / slope;  x <= 0: x / slope <= x

    def __repr__(self):
        return f"LeakyReLU(slope={self.slope})"


class XPlusReLU(Activation):
    """f(u) = u + relu(u): slope 1 below zero, 2 above; invertible on all of R (seed 001)."""
    name = "x_plus_relu"

    def __call__(self, u):
        return self.write(u, _result(u))

    def write(self, u, out):
        np.maximum(u, 0.0, out=out)
        out += u
        return out

    def derivative(self, u):
        out = (u > 0).astype(u.dtype)
        out += 1.0                                      # 2 or 1
        return out

    def inverse(self, x):
        out = 0.5 * x
        return np.minimum(x, out, out=out)              # x > 0: x / 2;  x <= 0: x


class _Bounded(Activation):
    """Activations with an open image (lower, upper): targets are clipped eps inside it."""
    eps: float = 1e-6

    def project(self, ix, cap=None):
        upper = self.upper - self.eps if cap is None else min(self.upper - self.eps, cap)
        return np.clip(ix, self.lower + self.eps, upper)


class Tanh(_Bounded):
    name = "tanh"
    lower, upper = -1.0, 1.0

    def __call__(self, u):
        return np.tanh(u)

    def write(self, u, out):
        return np.tanh(u, out=out)

    def derivative(self, u):
        return self.derivative_from(u, np.tanh(u))

    def derivative_from(self, u, fu):
        out = np.square(fu)
        return np.subtract(1.0, out, out=out)           # 1 - tanh(u)^2

    def inverse(self, x):
        return np.arctanh(x)


class Sigmoid(_Bounded):
    name = "sigmoid"
    lower, upper = 0.0, 1.0

    def __call__(self, u):
        return self.write(u, _result(u))

    def write(self, u, out):
        np.multiply(u, 0.5, out=out)
        np.tanh(out, out=out)
        out += 1.0
        out *= 0.5
        return out                                      # 0.5 (1 + tanh(u / 2)): overflow-free logistic

    def derivative(self, u):
        return self.derivative_from(u, self(u))

    def derivative_from(self, u, fu):
        out = np.subtract(1.0, fu)
        out *= fu
        return out                                      # s (1 - s)

    def inverse(self, x):
        return np.log(x) - np.log1p(-x)


ACTIVATIONS = {cls.name: cls for cls in (Identity, ReLU, LeakyReLU, XPlusReLU, Tanh, Sigmoid)}


def get_activation(spec: str | Activation) -> Activation:
    """An Activation instance from its name (e.g. "relu") or an instance (returned as is)."""
    if isinstance(spec, Activation):
        return spec
    if not isinstance(spec, str) or spec not in ACTIVATIONS:
        raise ValueError(f"unknown activation {spec!r}; known: {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[spec]()
