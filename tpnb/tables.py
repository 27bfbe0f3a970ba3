"""Results as tables a reader can compare: Markdown tables made from rows of values, shown as a cell's
output or glued into the prose (``{glue:md}``), with "mean ± std" cells where there are seeds."""
from __future__ import annotations

import math


def mean_std(mean: float, std: float | None = None, digits: int = 2, scale: float = 1.0) -> str:
    """'mean ± std' with ``digits`` decimals after multiplying by ``scale`` (e.g. 100 for percent); the
    mean alone when std is None; '—' for a NaN mean (e.g. every run diverged)."""
    if mean is None or not math.isfinite(mean):
        return "—"
    text = f"{scale * mean:.{digits}f}"
    if std is not None and math.isfinite(std):
        text += f" ± {scale * std:.{digits}f}"
    return text


def number(value, fmt: str = "{:.3g}") -> str:
    """A number formatted with ``fmt``; '—' for None or NaN; anything else as str."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return fmt.format(value) if isinstance(value, (int, float)) else str(value)


def _cell(value) -> str:
    """A value as the text of one Markdown table cell (pipes escaped, newlines flattened)."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown(header, rows, align: str | None = None) -> str:
    """A Markdown (GFM) table: ``header`` a list of column names, ``rows`` a list of lists of cells;
    ``align`` one letter per column, 'l', 'r' or 'c' (default: left for the first column, right else)."""
    align = align or "l" + "r" * (len(header) - 1)
    if len(align) != len(header) or any(len(row) != len(header) for row in rows):
        raise ValueError("every row and the alignment need one entry per column")
    rule = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
             "| " + " | ".join(rule[a] for a in align) + " |"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def show(header, rows, align: str | None = None):
    """The table of ``markdown`` as an IPython Markdown object: the last expression of a cell renders it
    as a table (in Jupyter and in the book); ``glue`` it to place it in the prose."""
    from IPython.display import Markdown      # imported here: tpnb itself does not need IPython

    return Markdown(markdown(header, rows, align))
