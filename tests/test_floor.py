"""Tests for tpnb.floor: loss against the least-squares affine model, and seed bands."""
import math

import numpy as np
import pytest

from tpnb.baselines import least_squares
from tpnb.data import load
from tpnb.floor import final_floor_ratio, floor_ratio, hidden_features, readout_metrics, seed_band
from tpnb.network import MLP
from tpnb.train import History, train
from tpnb.rules import ExactTP


def history(values, diverged=None):
    return History({"train_mse": list(values)}, [0.0] * len(values), [{}] * len(values), diverged)


def test_floor_ratio_divides_by_the_floor():
    np.testing.assert_array_equal(floor_ratio(history([4.0, 2.0, 1.0]), {"train_mse": 2.0}), [2.0, 1.0, 0.5])
    assert final_floor_ratio(history([4.0, 2.0, 1.0]), {"train_mse": 2.0}) == 0.5
    assert math.isnan(final_floor_ratio(history([4.0, math.inf], diverged=1), {"train_mse": 2.0}))


def test_affine_model_sits_at_the_floor_and_a_one_layer_network_does_not_beat_it():
    """least_squares is the floor itself (ratio 1); exact TP on a depth-1 network (an affine model) stays at
    or above it."""
    data = load("linear_regression", n_train=200, n_test=50, n_inputs=4, n_outputs=2, noise=0.3, seed=1)
    net, floor = least_squares(data)
    assert train(net, ExactTP(), data, epochs=0, batch_size=8).metrics["train_mse"][0] == floor["train_mse"]
    ratios = floor_ratio(train(MLP([4, 2], "identity", seed=0), ExactTP(), data, epochs=5, batch_size=8), floor)
    assert np.all(ratios >= 1.0 - 1e-12) and ratios[-1] < ratios[0]


def test_floor_ratio_names_a_missing_metric():
    with pytest.raises(ValueError, match="test_acc"):
        floor_ratio(history([1.0]), {"train_mse": 1.0}, "test_acc")


def test_seed_band_pads_diverged_curves_with_nan():
    mean, std = seed_band([[1.0, 2.0, 3.0], [3.0, 4.0], [np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(mean, [2.0, 3.0, 3.0])
    np.testing.assert_array_equal(std, [1.0, 1.0, 0.0])
    mean, _ = seed_band([[1.0, np.nan]])
    assert mean[0] == 1.0 and np.isnan(mean[1])


@pytest.mark.parametrize("curves", [[], [np.ones((2, 2))]])
def test_seed_band_refuses_bad_curves(curves):
    with pytest.raises(ValueError, match="1-D curves"):
        seed_band(curves)


def test_readout_of_hidden_features_refits_only_the_output_layer():
    """For a network whose output layer is already the least-squares fit of its hidden features, the readout
    reproduces its metrics; and a readout is never worse on the training MSE than the network itself."""
    data = load("teacher_student", n_train=300, n_test=100, n_inputs=5, hidden=(8,), n_outputs=2, noise=0.1,
                seed=2)
    net = MLP([5, 16, 16, 2], "relu", seed=3)
    readout = readout_metrics(net, data)
    own = train(net, ExactTP(), data, epochs=0, batch_size=8).metrics
    assert readout["train_mse"] <= own["train_mse"][0]
    features = hidden_features(net, data.x_train)
    solution, *_ = np.linalg.lstsq(features, data.y_train, rcond=None)
    net.weights[-1] = solution.T
    refit = train(net, ExactTP(), data, epochs=0, batch_size=8).metrics
    # the same least-squares problem solved twice: equal up to rounding amplified by its conditioning
    tolerance = 1e-9 * np.linalg.cond(features)
    assert abs(refit["train_mse"][0] - readout["train_mse"]) <= tolerance * readout["train_mse"]
    assert abs(refit["test_mse"][0] - readout["test_mse"]) <= tolerance * readout["test_mse"]


def test_hidden_features_need_a_hidden_layer():
    with pytest.raises(ValueError, match="hidden layer"):
        hidden_features(MLP([3, 2], "identity"), np.zeros((1, 3)))
