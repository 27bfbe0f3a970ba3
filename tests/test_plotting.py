"""The book's figure style: column-sized figures, readable fonts, one colour per method, heat maps that
annotate only cells their text fits."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tpnb import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def style():
    with matplotlib.rc_context():
        plotting.setup()
        yield
    plt.close("all")


def test_setup_fonts_are_at_least_80_percent_of_body_text_at_natural_size():
    px_per_point = plotting.DPI / 72
    for key in ("font.size", "xtick.labelsize", "ytick.labelsize", "legend.fontsize", "axes.titlesize"):
        assert matplotlib.rcParams[key] * px_per_point >= 0.8 * 16, key
    assert matplotlib.rcParams["figure.figsize"][0] * plotting.DPI <= 676


@pytest.mark.parametrize("request_size, expected_width", [((10, 4), plotting.COLUMN_WIDTH), ((5, 3), 5)])
def test_figure_never_exceeds_the_content_column(request_size, expected_width):
    fig, _ = plotting.figure(1, 2, figsize=request_size)
    width, height = fig.get_size_inches()
    assert width == pytest.approx(expected_width) and height <= request_size[1]


def test_method_colours_are_distinct_within_a_family_and_stable():
    assert plotting.color("exact_tp") == plotting.color("exact_tp|seed=1") == plotting.color("seed")
    assert plotting.color("unknown") == "#555555"
    deep = ["bp_adam", "dfa", "dtp", "dtpdrl", "ddtp_linear", "ddtp_rhl", "ddtp_control", "exact_tp"]
    assert len({plotting.color(m) for m in deep}) == len(deep)
    variants = ["seed", "pinv", "joint", "pinv+joint", "step", "bp_sgd", "bp_adam"]
    assert len({plotting.color(m) for m in variants}) == len(variants)


def test_heatmap_annotates_large_cells_and_relies_on_the_colour_bar_for_tiny_ones():
    fig, (big, tiny) = plt.subplots(1, 2, figsize=(6, 3))
    plotting.heatmap(big, np.arange(4.0).reshape(2, 2), [1, 2], [1, 2], fmt="{:.1f}")
    plotting.heatmap(tiny, np.arange(400.0).reshape(20, 20), range(20), range(20), fmt="{:.3f}")
    assert len(big.texts) == 4 and len(tiny.texts) == 0
    assert len(fig.axes) == 4          # two panels, two colour bars


def test_heatmap_marks_nan_cells_as_diverged():
    fig, ax = plt.subplots(figsize=(4, 3))
    plotting.heatmap(ax, np.array([[1.0, np.nan]]), ["a"], ["x", "y"], annotate=True)
    assert [t.get_text() for t in ax.texts] == ["1", "div"]


def test_category_map_returns_one_handle_per_category_and_skips_unreadable_notes():
    fig, ax = plt.subplots(figsize=(2, 2))
    labels = [["a", "b"] * 5] * 10
    handles = plotting.category_map(ax, labels, range(10), range(10), ["a", "b", "c"],
                                    annotations=[["1.234"] * 10] * 10)
    assert [h.get_label() for h in handles] == ["a", "b", "c"] and len(ax.texts) == 0


def test_cells_fit_uses_the_panel_share_of_the_grid():
    fig = plt.figure(figsize=(6, 8))
    grid = fig.add_gridspec(2, 1, height_ratios=[3, 1])
    tall, short = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    assert plotting.cells_fit(tall, (10, 4), ["88"]) and not plotting.cells_fit(short, (10, 4), ["88"])
