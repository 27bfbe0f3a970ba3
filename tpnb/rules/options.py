"""Option checks of every rule: one helper per kind of option, built on tpnb.checks.

Each raises a ValueError or TypeError naming the option, the value and what is allowed (tpnb.checks'
messages), and otherwise returns the value as the rules store it: numbers as Python float or int (so a
rule's state and repr hold plain numbers), names and flags unchanged.
"""
from __future__ import annotations

from .. import checks


def positive(name: str, value, *, allow_zero: bool = False, allow_none: bool = False) -> float | None:
    """value as float if it is a finite number > 0 (allow_zero: >= 0; allow_none: or None, kept)."""
    checks.positive_number(name, value, allow_zero=allow_zero, allow_none=allow_none)
    return None if value is None else float(value)


def fraction(name: str, value) -> float:
    """value as float if it is a number in [0, 1]."""
    return float(checks.number_in(name, value, 0, 1))


def count(name: str, value, minimum: int = 0) -> int:
    """value as int if it is a whole number >= minimum (not bool, not 2.0)."""
    return int(checks.whole_number(name, value, minimum))


def seed(value, name: str = "seed") -> int:
    """value as int if it can seed np.random.default_rng (a whole number >= 0)."""
    return int(checks.seed(value, name))


def flag(name: str, value) -> bool:
    """value as bool if it is True or False."""
    return bool(checks.flag(name, value))


def choice(name: str, value, allowed, what: str | None = None) -> str:
    """value if it is one of ``allowed``; the error says "unknown <what> ...; known: ..." (what: name)."""
    if value not in allowed:
        raise ValueError(f"unknown {what or name} {value!r}; known: {tuple(allowed)}")
    return value


def positive_numbers(name: str, values) -> tuple:
    """values as a tuple of floats if it is a non-empty sequence of numbers > 0; else ValueError naming it."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of numbers > 0, got {values!r}")
    return tuple(positive(f"{name}[{i}]", v) for i, v in enumerate(values))
