"""Tests for tpnb.diagnostics: unit states, switches, linearity R^2, update directions and the Probe."""
import copy

import numpy as np
import pytest

from tpnb.data import Dataset
from tpnb.diagnostics import (Probe, active_units, linearity_r2, raw_directions, switches, unit_states,
                              update_directions)
from tpnb.network import MLP
from tpnb.rules import Backprop, ExactTP
from tpnb.train import train
from tolerances import parallel_angle_degrees


def test_unit_states_counts_dead_and_always_on():
    active = np.array([[1, 0, 1], [1, 0, 0]], dtype=bool)
    states = unit_states(active)
    assert states["dead"] == pytest.approx(1 / 3)
    assert states["always_on"] == pytest.approx(1 / 3)
    assert states["active"] == pytest.approx(0.5)


def test_switches_directions():
    before = np.array([[1, 0], [0, 0]], dtype=bool)
    after = np.array([[0, 1], [0, 0]], dtype=bool)
    assert switches(before, after) == {"on": 0.25, "off": 0.25}
    assert switches(after, after) == {"on": 0.0, "off": 0.0}


def test_active_units_shapes():
    net = MLP([3, 5, 4, 2], "relu", seed=0)
    x = np.random.default_rng(0).normal(size=(7, 3))
    assert [a.shape for a in active_units(net, x)] == [(7, 5), (7, 4)]


@pytest.mark.parametrize("seed", range(3))
def test_linearity_is_one_for_an_affine_network_and_below_for_a_nonlinear_one(seed):
    rng = np.random.default_rng(seed)
    x_fit, x_eval = rng.normal(size=(200, 4)), rng.normal(size=(200, 4))
    assert linearity_r2(MLP([4, 8, 2], "identity", seed=seed), x_fit, x_eval) == pytest.approx(1.0, abs=1e-10)
    net = MLP([4, 64, 1], "relu", seed=seed)
    net.weights[1] *= 5.0
    assert linearity_r2(net, x_fit, x_eval) < 0.99


def test_backprop_sgd_update_points_along_the_negative_gradient():
    rng = np.random.default_rng(1)
    net = MLP([4, 6, 6, 3], "tanh", seed=1)
    x, y = rng.normal(size=(9, 4)), rng.normal(size=(9, 3))
    angles = update_directions(net, Backprop(optimizer="sgd", lr=0.1), x, y)
    # the update is -lr times the gradient: parallel up to rounding, which arccos turns into ~1e-5 degrees
    assert all(angles[f"angle_bp_{l}"] <= parallel_angle_degrees(net.weights[l - 1].size) for l in (1, 2, 3))
    before = [w.copy() for w in net.weights]
    update_directions(net, ExactTP(), x, y)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.weights))   # the probe never trains


def test_probe_records_every_epoch_and_leaves_training_unchanged():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(120, 5)), rng.normal(size=(120, 2))
    data = Dataset("toy", x[:100], y[:100], x[100:], y[100:], "regression")
    plain, probed = MLP([5, 8, 2], "relu", seed=3), MLP([5, 8, 2], "relu", seed=3)
    rule = ExactTP(alpha=0.5)
    train(plain, ExactTP(alpha=0.5), data, epochs=3, batch_size=10, seed=0)
    probe = Probe(rule, x[:20], y[:20], x[20:60], x[60:100])
    train(probed, rule, data, epochs=3, batch_size=10, seed=0, callback=probe)
    assert [r["epoch"] for r in probe.records] == [0, 1, 2, 3]
    assert "on_1" not in probe.records[0] and "on_1" in probe.records[1]
    assert all(0 <= r["linearity_r2"] <= 1 for r in probe.records)
    for a, b in zip(plain.weights, probed.weights):
        np.testing.assert_array_equal(a, b)


def test_raw_directions_measure_the_direction_before_the_optimiser():
    """GTP with T = 1 and tau = 1 feeds Adam exactly the gradient: raw angle ~0, while the weight change
    Adam makes from it points elsewhere; the probe leaves the rule's state alone (same next step)."""
    from tpnb.rules import make_rule
    rng = np.random.default_rng(4)
    net = MLP([4, 6, 5, 3], ["relu", "sigmoid"], output_activation="sigmoid", init="gtp", seed=2)
    x, y = rng.uniform(size=(16, 4)), np.eye(3)[rng.integers(0, 3, 16)]
    rule = make_rule("gtp", tau=1.0, steps=1, optimizer="adam", lr=0.01, angles=False)
    rule.step(net, x, y)                                         # Adam's moments are no longer zero
    twin_net, twin_rule = net.copy(), copy.deepcopy(rule)          # as they were before the probe
    raw = raw_directions(net, rule, x, y)
    assert all(raw[f"raw_angle_bp_{l}"] <= parallel_angle_degrees(net.weights[l - 1].size) for l in (1, 2, 3))
    after = update_directions(net, rule, x, y)
    assert max(after[f"angle_bp_{l}"] for l in (1, 2, 3)) > 1.0
    rule.step(net, x, y)
    twin_rule.step(twin_net, x, y)
    for a, b in zip(net.weights, twin_net.weights):
        np.testing.assert_array_equal(a, b)
    assert raw_directions(net, ExactTP(), x, y) == {}
