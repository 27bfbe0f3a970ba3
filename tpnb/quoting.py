"""Quoting computed numbers in the book's prose: myst-nb's ``glue``, with NumPy scalars turned into the
Python numbers they hold (the ``{glue:text}`name:.2f` `` role formats only those)."""
from __future__ import annotations

import math

import numpy as np


def plain(value):
    """A NumPy scalar as the Python number (or bool) it holds; any other value unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def glue(name: str, value, display: bool = False) -> None:
    """Store ``value`` under ``name`` for the prose (``{glue:text}`name` ``); not shown in the cell's output
    unless ``display``."""
    from myst_nb import glue as myst_glue     # imported here: tpnb itself does not need myst-nb

    myst_glue(name, plain(value), display=display)


def side(a: float, b: float) -> str:
    """Where a lies from b, as prose: "above", "below" or "level with"; a note when either is not finite
    (e.g. a diverged run)."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return "(not comparable: a run diverged)"
    return "above" if a > b else "below" if a < b else "level with"
