"""The least-squares reference model."""
import numpy as np

from tpnb.baselines import least_squares
from tpnb.data import linear_regression, xor


def test_least_squares_recovers_a_consistent_linear_map():
    data = linear_regression(n_train=200, n_test=50, n_inputs=6, n_outputs=3, noise=0.0, seed=3)
    net, metrics = least_squares(data)
    assert metrics["train_mse"] < 1e-20 and metrics["test_mse"] < 1e-20
    np.testing.assert_allclose(net(data.x_test), data.y_test, atol=1e-10)


def test_least_squares_is_no_worse_than_a_perturbed_fit():
    data = linear_regression(n_train=200, n_test=50, n_inputs=6, n_outputs=3, noise=0.5, seed=4)
    net, metrics = least_squares(data)
    net.weights[0] += 1e-3 * np.random.default_rng(0).normal(size=net.weights[0].shape)
    perturbed = 0.5 * np.sum((net(data.x_train) - data.y_train) ** 2) / len(data.x_train)
    assert metrics["train_mse"] < perturbed


def test_classification_metrics_include_accuracy():
    _, metrics = least_squares(xor(n_train=100, n_test=100, seed=0))
    assert 0.0 <= metrics["test_acc"] <= 1.0 and "test_ce" in metrics
