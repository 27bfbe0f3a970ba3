"""Quoting numbers in the prose: NumPy scalars reach myst-nb's glue as Python numbers."""
import numpy as np
import pytest

from tpnb import quoting


@pytest.mark.parametrize("value, expected, kind", [(np.float64(0.25), 0.25, float), (np.int64(3), 3, int),
                                                   (np.bool_(True), True, bool), (1.5, 1.5, float),
                                                   ("eta = 2", "eta = 2", str), (None, None, type(None))])
def test_plain_turns_numpy_scalars_into_python_values(value, expected, kind):
    out = quoting.plain(value)
    assert out == expected and type(out) is kind


def test_glue_hands_plain_values_to_myst_nb_without_displaying(monkeypatch):
    myst_nb = pytest.importorskip("myst_nb")
    calls = []
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: calls.append((name, value, display)))
    quoting.glue("ch_x", np.float32(0.5))
    quoting.glue("ch_y", np.int32(7), display=True)
    assert calls == [("ch_x", 0.5, False), ("ch_y", 7, True)]
    assert type(calls[0][1]) is float and type(calls[1][1]) is int


@pytest.mark.parametrize("a, b, word", [(0.9, 0.8, "above"), (0.7, 0.8, "below"), (0.8, 0.8, "level with"),
                                        (float("nan"), 0.8, "(not comparable: a run diverged)"),
                                        (0.8, float("inf"), "(not comparable: a run diverged)")])
def test_side_says_where_a_lies_from_b(a, b, word):
    assert quoting.side(a, b) == word
