"""Choosing settings on the validation split."""
import math

from tpnb.studies.selection import best, best_per_group, best_run, held_out, score
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


def test_held_out_is_the_tail_mean_in_the_metric_s_own_units():
    lucky = _history([2.0, 0.2, 0.9, 0.2, 0.9, 0.2, 0.9, 0.9, 0.1])    # 8 epochs: the last 2 count
    assert held_out(lucky, "regression") == (0.9 + 0.1) / 2 == -score(lucky, "regression")
    short = _history([0.1, 0.5, 0.6, 0.7], "test_acc")                   # 3 epochs: the last one
    assert held_out(short, "classification") == 0.7
    assert math.isnan(held_out(_history([0.1, 0.9], "test_acc", diverged=1), "classification"))


def test_best_run_and_best_per_group_use_the_score():
    steady = ("a", _history([2.0] + [0.30] * 8))
    lucky = ("b", _history([2.0, 0.2, 0.9, 0.2, 0.9, 0.2, 0.9, 0.9, 0.1]))
    blown = ("c", _history([2.0, 0.1], diverged=1))
    assert best_run([lucky, blown, steady], "regression") is steady
    assert best_run([], "regression") is None
    tie = ("d", _history([2.0] + [0.30] * 8))
    assert best_run([steady, tie], "regression") is steady               # ties: the first
    groups = best_per_group([lucky, steady, blown, tie], lambda name: name in "ab", "regression")
    assert list(groups) == [True, False] and groups[True][0] == "a" and groups[False][0] == "d"
