"""Argument checks shared by the whole package: one place for what bad input is and how it is reported.

Every check raises an exception whose message names the argument, the value it got and what is allowed,
and otherwise returns the value unchanged (arrays given as lists come back as ``np.asarray`` of them). Checks
only look: they never convert, round or reorder floating-point data, so valid input gives bit-identical
results with and without them.

A value of the wrong kind (a string where a number belongs, 2.5 where a count belongs, an unknown keyword)
raises ``ArgumentTypeError``: a TypeError, and also a ValueError, so code that treats every bad argument as
a ValueError keeps working. A value of the right kind outside its range raises ValueError.
"""
from __future__ import annotations

import inspect
import math
import numbers

import numpy as np

REAL_KINDS = "biuf"   # numpy dtype kinds of real numbers: bool, signed and unsigned integers, floats


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type or an unknown keyword (a TypeError that is also a ValueError)."""


def _got(value) -> str:
    return f"got {value!r} of type {type(value).__name__}"


# ------------------------------------------------------------------------------------------- scalars

def real_number(name: str, value):
    """value if it is a real number (int, float or a NumPy scalar of either; not bool, not a string)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be a real number (int or float), {_got(value)}")
    return value


def _finite(value) -> bool:
    return isinstance(value, numbers.Integral) or math.isfinite(value)


def positive_number(name: str, value, *, allow_zero: bool = False, allow_none: bool = False):
    """value if it is a finite real number > 0 (allow_zero: >= 0; allow_none: or None)."""
    if value is None and allow_none:
        return value
    alternative = " (or None)" if allow_none else ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be a real number (int or float){alternative}, {_got(value)}")
    if not (_finite(value) and (value >= 0 if allow_zero else value > 0)):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite{alternative}, got {value!r}")
    return value


def number_in(name: str, value, low: float, high: float, *, include_low: bool = True,
              include_high: bool = True):
    """value if it is a real number in the interval from low to high (ends included or not)."""
    real_number(name, value)
    above = value >= low if include_low else value > low
    below = value <= high if include_high else value < high
    if not (above and below):          # NaN fails both comparisons
        interval = f"{'[' if include_low else '('}{low}, {high}{']' if include_high else ')'}"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return value


def integer(name: str, value, what: str = "a whole number (int)"):
    """value if it is a Python int or NumPy integer (not bool, not 8.0); its range is the caller's."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be {what}, {_got(value)}")
    return value


def whole_number(name: str, value, minimum: int = 0):
    """value if it is a whole number >= minimum: a Python int or NumPy integer (not bool, not 8.0)."""
    integer(name, value, f"a whole number (int) >= {minimum}")
    if value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return value


def seed(value, name: str = "seed"):
    """value if it can seed np.random.default_rng: a whole number >= 0."""
    return whole_number(name, value, 0)


def flag(name: str, value):
    """value if it is True or False (a string such as "no" would silently count as True)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be True or False, {_got(value)}")
    return value


# -------------------------------------------------------------------------------------------- options

def keyword_names(function) -> list:
    """Names of the arguments ``function`` takes by keyword (not self, not *args or **kwargs)."""
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in inspect.signature(function).parameters.values() if p.kind in kinds and p.name != "self"]


def known_options(owner: str, options, allowed) -> None:
    """Raise ArgumentTypeError naming ``owner`` (e.g. "rule 'exact_tp'") and every allowed name when
    ``options`` holds a name not in ``allowed``."""
    unknown = [key for key in options if key not in allowed]
    if unknown:
        raise ArgumentTypeError(f"unknown option {unknown[0]!r} for {owner}; allowed: {', '.join(allowed)}")


# --------------------------------------------------------------------------------------------- arrays

def real_array(name: str, array) -> np.ndarray:
    """np.asarray(array) if it holds real numbers (a list of lists is fine; strings or objects are not)."""
    original = array
    try:
        array = np.asarray(array)
    except ValueError as err:          # e.g. ragged nested lists
        raise ArgumentTypeError(f"{name} must be a rectangular array of real numbers: {err}") from None
    if array.dtype.kind not in REAL_KINDS:
        what = f"dtype {array.dtype}" if isinstance(original, np.ndarray) else _got(original)
        raise ArgumentTypeError(f"{name} must be an array of real numbers, {what}")
    return array


def finite_array(name: str, array: np.ndarray) -> np.ndarray:
    """array if no entry is NaN or inf (one np.isfinite pass over it)."""
    finite = np.isfinite(array)
    if not finite.all():
        bad = np.argwhere(~finite)
        raise ValueError(f"{name} contain NaN or inf ({len(bad)} of {array.size} entries, the first at index "
                         f"{tuple(int(i) for i in bad[0])}); every value must be finite")
    return array


def one_hot_targets(name: str, y: np.ndarray, n_outputs: int | None = None) -> np.ndarray:
    """y if it is (n, k) rows of 0/1 with exactly one 1 each, k >= 2 (and k == n_outputs when given)."""
    if y.ndim != 2:
        raise ValueError(f"{name} must be one-hot rows of shape (n, classes), got shape {y.shape}")
    k = y.shape[1]
    if n_outputs is not None and k != n_outputs:
        raise ValueError(f"{name} have {k} columns but the network has {n_outputs} outputs: one-hot targets "
                         f"need one column per output")
    if k < 2:
        raise ValueError(f"{name} have {k} column: classification needs one-hot targets over at least 2 "
                         f"classes (encode integer labels with tpnb.data.one_hot(labels, n_classes))")
    good = ((y == 0) | (y == 1)).all(axis=1) & (np.count_nonzero(y, axis=1) == 1)
    if not good.all():
        row = int(np.argmin(good))
        raise ValueError(f"{name} must be one-hot: rows of 0/1 with exactly one 1; row {row} is "
                         f"{np.array2string(y[row], threshold=12)} (encode integer labels with "
                         f"tpnb.data.one_hot(labels, n_classes))")
    return y


def training_batch(net, x, y):
    """(x, y) as arrays if they are a batch a rule can step on: x (B, d_in), y (B, n_out) with B >= 1,
    real and finite, for ``net``'s sizes. Every rule's ``step`` calls this first."""
    x, y = real_array("inputs x", x), real_array("targets y", y)
    n_in, n_out = net.sizes[0], net.sizes[-1]
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ValueError(f"shape mismatch: network expects inputs x of shape (batch, {n_in}), got {x.shape}")
    if x.shape[0] == 0:
        raise ValueError("inputs x hold 0 samples: a step needs a batch of at least one")
    if y.shape != (x.shape[0], n_out):
        raise ValueError(f"shape mismatch: targets y must have shape (batch, n_outputs) = ({x.shape[0]}, {n_out}) "
                         f"for inputs of shape {x.shape}, got {y.shape}")
    finite_array("inputs x", x)
    finite_array("targets y", y)
    return x, y
