"""Quoting computed numbers in the book's prose: myst-nb's ``glue``, with NumPy scalars turned into the
Python numbers they hold (the ``{glue:text}`name:.2f` `` role formats only those)."""
from __future__ import annotations

import numpy as np


def plain(value):
    """A NumPy scalar as the Python number (or bool) it holds; any other value unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def glue(name: str, value, display: bool = False) -> None:
    """Store ``value`` under ``name`` for the prose (``{glue:text}`name` ``); not shown in the cell's output
    unless ``display``."""
    from myst_nb import glue as myst_glue     # imported here: tpnb itself does not need myst-nb

    myst_glue(name, plain(value), display=display)
