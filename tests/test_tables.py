"""Markdown tables of results: cells, alignment, mean ± std, and refusal of ragged rows."""
import math

import pytest

from tpnb import tables


def test_mean_std_formats_scaled_values_and_marks_missing_ones():
    assert tables.mean_std(0.8712, 0.0031, digits=2, scale=100) == "87.12 ± 0.31"
    assert tables.mean_std(0.5, None, digits=1) == "0.5"
    assert tables.mean_std(math.nan, 0.1) == "—"
    assert tables.mean_std(1.0, math.nan, digits=0) == "1"


def test_number_formats_numbers_and_passes_text_through():
    assert tables.number(0.012345) == "0.0123"
    assert tables.number(3, "{:d}") == "3"
    assert tables.number(math.nan) == "—" and tables.number(None) == "—"
    assert tables.number("diverged") == "diverged"


def test_markdown_table_has_header_rule_and_escaped_cells():
    text = tables.markdown(["method", "acc (%)"], [["exact TP", "80.1"], ["a|b", 2]])
    assert text.splitlines() == ["| method | acc (%) |", "| :-- | --: |", "| exact TP | 80.1 |",
                                 "| a\\|b | 2 |"]
    assert tables.markdown(["a", "b"], [[1, 2]], align="cc").splitlines()[1] == "| :-: | :-: |"


def test_markdown_table_refuses_ragged_rows():
    with pytest.raises(ValueError):
        tables.markdown(["a", "b"], [[1]])
    with pytest.raises(ValueError):
        tables.markdown(["a", "b"], [[1, 2]], align="l")


def test_show_returns_a_markdown_display_object():
    display = pytest.importorskip("IPython.display")
    shown = tables.show(["a"], [[1]])
    assert isinstance(shown, display.Markdown) and shown.data.startswith("| a |")
