"""One figure style for the whole book: figures sized for the content column, fonts readable at that size,
solid white backgrounds (readable in dark mode), and one colour-blind-safe colour per method."""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

# The book's content column shows images at most 676 px wide (sphinx-book-theme at a 1280 px window):
# a figure this wide at DPI dots per inch is displayed at its natural size, so its fonts keep their size.
COLUMN_WIDTH = 6.1          # inches
DPI = 110
FONT_SIZE = 10              # points: 15 px at DPI; tick labels and legends one point smaller (>= 80% of 16 px)

# one colour per method, the same in every chapter (Okabe & Ito 2008, with Paul Tol's muted colours for the
# rest; families share a hue range: exact TP and its variants warm, backprop blue, seed 002's DTP family green)
METHOD_COLORS = {
    "exact_tp": "#D55E00", "seed": "#D55E00", "pinv": "#882255", "joint": "#88CCEE", "pinv+joint": "#661100",
    "step": "#888888",
    "bp_sgd": "#0072B2", "bp_adam": "#56B4E9", "least_squares": "#000000",
    "random_tp": "#CC79A7", "random_direction_tp": "#CC79A7",
    "dtp": "#117733", "dtpdrl": "#332288", "ddtp": "#44AA99", "ddtp_linear": "#44AA99", "ddtp_rhl": "#999933",
    "ddtp_control": "#DDCC77", "gnt": "#009E73", "dfa": "#AA4499", "gtp": "#E69F00",
}
# colours of categories (e.g. convergence classes), in order; light ones get black text
CATEGORY_COLORS = ["#009E73", "#F0E442", "#56B4E9", "#E69F00", "#D55E00", "#999999"]


def setup() -> None:
    """Apply the book's matplotlib style (call once at the top of a notebook)."""
    small = FONT_SIZE - 1
    mpl.rcParams.update({
        "figure.facecolor": "white", "axes.facecolor": "white", "savefig.facecolor": "white",
        "figure.dpi": DPI, "savefig.dpi": DPI, "figure.figsize": (COLUMN_WIDTH, 3.6),
        "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
        "legend.frameon": False, "font.size": FONT_SIZE, "axes.titlesize": FONT_SIZE,
        "axes.labelsize": FONT_SIZE, "figure.titlesize": FONT_SIZE + 1, "xtick.labelsize": small,
        "ytick.labelsize": small, "legend.fontsize": small, "legend.title_fontsize": small,
        "lines.linewidth": 1.6,
    })


def color(method: str) -> str:
    """The method's colour (the part of ``method`` before any '|'); unknown methods get a neutral grey."""
    return METHOD_COLORS.get(method.split("|")[0], "#555555")


def column_size(width: float, height: float) -> tuple:
    """(width, height) in inches fitted to the content column: a wider request is narrowed to
    COLUMN_WIDTH and its height shrunk by the square root of that factor (panels keep some height)."""
    if width <= COLUMN_WIDTH:
        return width, height
    return COLUMN_WIDTH, height * (COLUMN_WIDTH / width) ** 0.5


def figure(*args, **kwargs):
    """plt.subplots with the book's layout defaults and a size that fits the content column."""
    kwargs.setdefault("layout", "constrained")
    kwargs["figsize"] = column_size(*kwargs.get("figsize", mpl.rcParams["figure.figsize"]))
    return plt.subplots(*args, **kwargs)


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


def cells_fit(ax, shape: tuple, texts) -> bool:
    """Whether ``texts`` (strings, one per cell) fit, at the tick-label font size, into the cells of an
    image of ``shape`` (rows, columns) drawn on ``ax``. The panel is taken as its share of the figure's
    grid, less 40% for tick labels, colour bar and padding (the layout is only known when drawn)."""
    spec = ax.get_subplotspec()
    grid = spec.get_gridspec()
    rows, cols = grid.get_geometry()
    share = []                                              # the panel's share of the grid's width, height
    for ratios, span, n in ((grid.get_width_ratios(), spec.colspan, cols),
                            (grid.get_height_ratios(), spec.rowspan, rows)):
        ratios = np.ones(n) if ratios is None else np.asarray(ratios, dtype=float)
        share.append(ratios[span.start:span.stop].sum() / ratios.sum())
    width, height = ax.figure.get_size_inches() * 72 * 0.6 * np.array(share)    # points
    size = mpl.rcParams["xtick.labelsize"]
    size = size if isinstance(size, (int, float)) else FONT_SIZE - 1
    longest = max((len(t) for t in texts), default=0)
    return width / shape[1] >= 0.64 * size * longest + 4 and height / shape[0] >= 1.5 * size


def _text_color(rgba) -> str:
    """Black on light cells, white on dark ones (relative luminance of the cell's colour)."""
    red, green, blue = rgba[:3]
    return "black" if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.45 else "white"


def heatmap(ax, values: np.ndarray, row_labels, col_labels, *, fmt: str = "{:.3g}", cmap: str = "viridis",
            xlabel: str = "", ylabel: str = "", title: str = "", annotate: bool | None = None,
            colorbar_label: str = "", vmin: float | None = None, vmax: float | None = None):
    """Heat map of a 2-D array with a colour bar; each cell also shows its value when the text fits the
    cell (``annotate=None``: decided by ``cells_fit``). NaN cells are left empty and labelled 'div';
    vmin and vmax fix the colour scale (e.g. one scale for several panels)."""
    shown = np.ma.masked_invalid(values)
    image = ax.imshow(shown, cmap=cmap, aspect="auto", vmin=vmin, vmax=vmax)
    texts = {ij: "div" if not np.isfinite(v) else fmt.format(v) for ij, v in np.ndenumerate(values)}
    if annotate is None:
        annotate = cells_fit(ax, np.shape(values), texts.values())
    if annotate:
        for (i, j), text in texts.items():
            v = values[i, j]
            rgba = image.cmap(image.norm(v)) if np.isfinite(v) else (1.0, 1.0, 1.0)
            ax.text(j, i, text, ha="center", va="center", color=_text_color(rgba),
                    fontsize=mpl.rcParams["xtick.labelsize"])
    ax.figure.colorbar(image, ax=ax, label=colorbar_label, shrink=0.9)
    _label_grid(ax, row_labels, col_labels, xlabel, ylabel, title)
    return image


def category_map(ax, labels, row_labels, col_labels, categories, *, xlabel="", ylabel="", title="",
                 annotations=None):
    """Heat map of categorical cells: labels is a 2-D list of category names (one colour each, in the
    order of ``categories``); annotations (2-D list of strings) are written in the cells where they fit
    (``cells_fit``). Returns the legend handles of the categories."""
    palette = CATEGORY_COLORS
    index = np.array([[categories.index(c) for c in row] for row in labels])
    cmap = mpl.colors.ListedColormap(palette[:len(categories)])
    ax.imshow(index, cmap=cmap, vmin=-0.5, vmax=len(categories) - 0.5, aspect="auto")
    if annotations is not None:
        notes = np.array(annotations, dtype=object)
        if cells_fit(ax, notes.shape, notes.ravel()):
            for (i, j), text in np.ndenumerate(notes):
                ax.text(j, i, text, ha="center", va="center", fontsize=mpl.rcParams["xtick.labelsize"],
                        color=_text_color(mpl.colors.to_rgba(palette[index[i, j]])))
    _label_grid(ax, row_labels, col_labels, xlabel, ylabel, title)
    handles = [mpl.patches.Patch(color=palette[k], label=c) for k, c in enumerate(categories)]
    return handles
