"""Choosing settings on the validation split."""
import math

from tpnb.studies.selection import best, score
from tpnb.train import History


def _history(values, key="test_mse", diverged=None):
    return History({key: list(values)}, [0.0] * len(values), [{}] * len(values), diverged)


def test_an_oscillating_run_is_scored_by_its_tail_mean():
    steady = _history([2.0] + [0.30] * 8)
    lucky = _history([2.0, 0.2, 0.9, 0.2, 0.9, 0.2, 0.9, 0.9, 0.1])   # best last epoch, worse tail
    assert score(lucky, "regression") < score(steady, "regression")
    assert best({"steady": steady, "lucky": lucky}, ["lucky", "steady"], "regression") == "steady"


def test_accuracy_higher_is_better_and_diverged_is_worst():
    good, bad = _history([0.1, 0.8], "test_acc"), _history([0.1, 0.5], "test_acc")
    assert score(good, "classification") > score(bad, "classification")
    assert score(_history([0.1, 0.9], "test_acc", diverged=1), "classification") == -math.inf
