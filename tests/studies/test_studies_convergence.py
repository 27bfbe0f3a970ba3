"""Tests for the convergence classes of tpnb.studies.convergence (each class from a made-up curve)."""
import math

import pytest

from tpnb.studies.convergence import CLASSES, classify
from tpnb.train import History


def history(losses, diverged_epoch=None):
    return History({"train_mse": list(losses)}, [0.0] * len(losses), [{}] * len(losses), diverged_epoch)


@pytest.mark.parametrize("losses, reference, expected", [
    ([1.0, 0.5, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], 0.1, "converged"),
    ([1.0, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4], 0.1, "plateaued"),
    ([1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.15, 0.1], 0.1, "still decreasing"),
    ([1.0, 0.5, 0.6, 0.4, 0.6, 0.4, 0.6, 0.4, 0.6, 0.4, 0.6], 0.1, "oscillating"),
    ([1.0, 2.0, 4.0], 0.1, "diverged"),
    ([1.0, 0.5, math.nan], 0.1, "diverged"),
])
def test_each_class(losses, reference, expected):
    assert classify(history(losses), reference) == expected
    assert expected in CLASSES


def test_a_run_the_loop_marked_diverged_is_diverged():
    assert classify(history([1.0, 0.5, 0.4], diverged_epoch=2), 0.1) == "diverged"
