"""Tests for the convergence classes of tpnb.studies.convergence (each class from a made-up curve)."""
import math

import pytest

from tpnb.data import teacher_student
from tpnb.network import MLP
from tpnb.rules import make_rule
from tpnb.studies.convergence import CLASSES, classify
from tpnb.train import DIVERGENCE_FACTOR, History, train


def history(losses, diverged_epoch=None):
    return History({"train_mse": list(losses)}, [0.0] * len(losses), [{}] * len(losses), diverged_epoch)


@pytest.mark.parametrize("losses, reference, expected", [
    ([1.0, 0.5, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], 0.1, "converged"),
    ([1.0, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4], 0.1, "plateaued"),
    ([1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.15, 0.1], 0.1, "still decreasing"),
    ([1.0, 0.5, 0.6, 0.4, 0.6, 0.4, 0.6, 0.4, 0.6, 0.4, 0.6], 0.1, "oscillating"),
    ([1.0, 2.0, 1000.5], 0.1, "diverged"),          # beyond DIVERGENCE_FACTOR x L_0, never marked by the loop
    ([1.0, 0.5, math.nan], 0.1, "diverged"),
    ([1.0, 2.0, 4.0], 0.1, "worsened"),             # ended above its start, finite and below the factor
    ([1.0, 0.1, 900.0, 1.5], 0.1, "worsened"),
])
def test_each_class(losses, reference, expected):
    assert classify(history(losses), reference) == expected
    assert expected in CLASSES


def test_a_run_the_loop_marked_diverged_is_diverged():
    assert classify(history([1.0, 0.5, 0.4], diverged_epoch=2), 0.1) == "diverged"


def test_the_classes_and_the_training_loop_share_one_definition_of_divergence():
    data = teacher_student(n_train=200, n_test=50, n_inputs=5, hidden=(8,), n_outputs=1, seed=0)
    for eta in (0.5, 4.0):
        history = train(MLP([5, 16, 1], seed=0), make_rule("exact_tp", eta=eta), data, epochs=20, batch_size=16)
        assert (classify(history, 0.1) == "diverged") == history.diverged
        # the same curve stored without the loop's mark (e.g. recorded before the factor existed)
        unmarked = History(history.metrics, history.epoch_time, history.diagnostics, None)
        assert (classify(unmarked, 0.1) == "diverged") == history.diverged
    assert history.diverged


def test_classification_divergence_is_judged_on_the_cross_entropy():
    # a classifier sharpening its logits: its MSE grows 1e4 times while its cross-entropy falls
    sharpening = History({"train_mse": [1.0, 50.0, 1e4], "train_ce": [2.3, 0.5, 0.1]}, [0.0] * 3, [{}] * 3)
    assert classify(sharpening, 0.1, metric="train_ce") != "diverged"
    assert classify(sharpening, 0.1) == "worsened"        # classified on its MSE, which did end worse
    blown_up = History({"train_mse": [1.0, 1e9], "train_ce": [2.3, 3 * DIVERGENCE_FACTOR]}, [0.0] * 2, [{}] * 2)
    assert classify(blown_up, 0.1) == "diverged"
