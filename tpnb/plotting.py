"""One figure style for the whole book: solid white backgrounds (readable in dark mode), one palette."""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

# one colour per method, the same in every chapter
METHOD_COLORS = {
    "exact_tp": "#d62728", "bp_sgd": "#1f77b4", "bp_adam": "#2ca02c", "least_squares": "#7f7f7f",
    "random_tp": "#9467bd", "dtp": "#8c564b", "ddtp": "#e377c2", "gnt": "#17becf", "dfa": "#bcbd22",
    "gtp": "#ff7f0e",
}


def setup() -> None:
    """Apply the book's matplotlib style (call once at the top of a notebook)."""
    mpl.rcParams.update({
        "figure.facecolor": "white", "axes.facecolor": "white", "savefig.facecolor": "white",
        "figure.dpi": 110, "savefig.dpi": 110, "figure.figsize": (6.4, 3.8),
        "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
        "legend.frameon": False, "font.size": 10,
    })


def color(method: str) -> str:
    """The method's colour; unknown methods get a neutral grey."""
    return METHOD_COLORS.get(method.split("|")[0], "#555555")


def curves(ax, histories: dict, metric: str, *, log: bool = False, styles: dict | None = None):
    """Plot metric per epoch for {label: History}; labels map to colours through ``color``."""
    for label, history in histories.items():
        values = np.asarray(history.metrics[metric], dtype=float)
        finite = np.isfinite(values)
        style = {"label": label, "color": color(label), **(styles or {}).get(label, {})}
        ax.plot(np.arange(len(values))[finite], values[finite], **style)
        if history.diverged and finite.any():          # x marks the last finite value of a diverged run
            last = np.flatnonzero(finite)[-1]
            ax.plot(last, values[last], "x", color=style["color"], ms=9)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    if log:
        ax.set_yscale("log")
    return ax


def _label_grid(ax, row_labels, col_labels, xlabel, ylabel, title):
    """Tick labels, axis labels and title of an image grid (rows on y, columns on x), without grid lines."""
    ax.set_xticks(range(len(col_labels)), [str(c) for c in col_labels])
    ax.set_yticks(range(len(row_labels)), [str(r) for r in row_labels])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(False)


def heatmap(ax, values: np.ndarray, row_labels, col_labels, *, fmt: str = "{:.3g}", cmap: str = "viridis",
            xlabel: str = "", ylabel: str = "", title: str = ""):
    """Annotated heat map of a 2-D array (NaN cells shown empty and labelled 'div')."""
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, "div" if not np.isfinite(v) else fmt.format(v), ha="center", va="center",
                color="white" if np.isfinite(v) and v < np.nanmean(values) else "black", fontsize=8)
    _label_grid(ax, row_labels, col_labels, xlabel, ylabel, title)
    return image


def figure(*args, **kwargs):
    """plt.subplots with the book's layout defaults."""
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(*args, **kwargs)


def category_map(ax, labels, row_labels, col_labels, categories, *, xlabel="", ylabel="", title="",
                 annotations=None):
    """Heat map of categorical cells: labels is a 2-D list of category names (one colour each, in the
    order of ``categories``); annotations (2-D list of strings) are written in the cells."""
    palette = ["#2ca02c", "#bcbd22", "#1f77b4", "#ff7f0e", "#d62728", "#7f7f7f"]
    index = np.array([[categories.index(c) for c in row] for row in labels])
    cmap = mpl.colors.ListedColormap(palette[:len(categories)])
    ax.imshow(index, cmap=cmap, vmin=-0.5, vmax=len(categories) - 0.5, aspect="auto")
    if annotations is not None:
        for (i, j), text in np.ndenumerate(np.array(annotations, dtype=object)):
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white")
    _label_grid(ax, row_labels, col_labels, xlabel, ylabel, title)
    handles = [mpl.patches.Patch(color=palette[k], label=c) for k, c in enumerate(categories)]
    return handles
