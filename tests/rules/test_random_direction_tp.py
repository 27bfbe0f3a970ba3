"""Tests for tpnb.rules.random_direction_tp: the algebra of each factor (property-style, over many random
cases), the vectorised rule against the per-sample / per-neuron reference, determinism, the diagnostics
reaching the training history, and argument validation."""
import itertools
import zlib

import numpy as np
import pytest

from tpnb.data import linear_regression
from tpnb.network import MLP
from tpnb.rules import RULES, RandomDirectionTP, make_rule, reference_step
from tpnb.train import train

FACTORS = ("as_written", "derived", "least_squares")
DISTRIBUTIONS = ("gaussian", "sphere", "coordinate")
CASES = range(40)   # random cases per property


def random_layer(seed, batch=None, n=None, d=None):
    """A random layer problem: weights (N, D+1), inputs with bias column (B, D+1), residual (B, N)."""
    rng = np.random.default_rng(seed)
    batch = batch or int(rng.integers(1, 12))
    n = n or int(rng.integers(1, 6))
    d = d or int(rng.integers(1, 9))
    w = rng.normal(size=(n, d + 1))
    x = np.hstack([rng.normal(size=(batch, d)) * rng.uniform(0.1, 3), np.ones((batch, 1))])
    dy = rng.normal(size=(batch, n)) * rng.uniform(0.1, 3)
    return rng, w, x, dy


def sq(a):
    return float(np.sum(a * a))


# ----------------------------------------------------------------------------------- the factors
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_derived_factor_with_one_sample_removes_its_error_exactly(case, distribution):
    rng, w, x, dy = random_layer(case, batch=1)
    rule = RandomDirectionTP(factor="derived", distribution=distribution, seed=case)
    d = rule.sample_directions(w.shape[1])
    if abs(x[0] @ d[0]) < 1e-9:                       # a coordinate axis can be orthogonal to x: nothing moves
        d = np.ones_like(d)
    dw, residual, _ = rule.weight_move(w, x, dy, d)
    target = x @ w.T + dy
    np.testing.assert_allclose(x @ (w + dw).T, target, atol=1e-10 * (1 + np.abs(target).max()))
    np.testing.assert_allclose(residual, 0.0, atol=1e-10 * (1 + np.abs(target).max()))


@pytest.mark.parametrize("case", CASES)
def test_the_seeds_weight_factor_does_not_remove_the_error(case):
    # as written, f = dy / <w, d> changes <x, w> by dy <x, d> / <w, d>: exact only when <x, d> = <w, d>
    _, w, x, dy = random_layer(case, batch=1, n=1)
    d = np.random.default_rng(100 + case).normal(size=(1, w.shape[1]))
    dw, residual, _ = RandomDirectionTP(factor="as_written").weight_move(w, x, dy, d)
    change = (x @ dw.T)[0, 0]
    assert change == pytest.approx(dy[0, 0] * (x[0] @ d[0]) / (w[0] @ d[0]), rel=1e-10)
    assert residual[0, 0] == pytest.approx(dy[0, 0] * (1 - (x[0] @ d[0]) / (w[0] @ d[0])), rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("factor", ("derived", "least_squares"))
def test_input_move_of_a_single_neuron_removes_its_error(case, factor):
    # derived input factor g = dy / <w, d_x>: the moved input hits the target exactly (N = 1)
    _, w, x, dy = random_layer(case, n=1)
    d = np.random.default_rng(200 + case).normal(size=(1, w.shape[1]))
    rule = RandomDirectionTP(factor=factor, ridge=1e-14)
    dx, residual, _ = rule.input_move(w, x, dy, d)
    np.testing.assert_allclose(dx, (dy[:, :1] / (w[0, :-1] @ d[0, :-1])) * d[:, :-1], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(residual, 0.0, atol=1e-7 * (1 + np.abs(dy).max()))
    np.testing.assert_allclose((x[:, :-1] + dx) @ w[:, :-1].T + w[:, -1] - (x @ w.T + dy), 0.0, atol=1e-7)


@pytest.mark.parametrize("case", range(200))
def test_least_squares_step_never_increases_the_layer_error(case):
    rng, w, x, dy = random_layer(case)
    k = int(rng.integers(1, 20))                      # also k > B and k > D + 1 (rank-deficient designs)
    rule = RandomDirectionTP(factor="least_squares", directions=k, eta=float(rng.uniform(0.01, 1.0)),
                             distribution=DISTRIBUTIONS[case % 3], ridge=10.0 ** rng.uniform(-10, -1), seed=case)
    d = rule.sample_directions(w.shape[1])
    dw, residual, _ = rule.weight_move(w, x, dy, d)
    np.testing.assert_allclose(residual, x @ w.T + dy - x @ (w + dw).T, atol=1e-9 * (1 + np.abs(dy).max()))
    assert sq(residual) <= sq(dy) * (1 + 1e-12) + 1e-300
    # the input move (with the moved weights) never increases it either
    dx, after_input, _ = rule.input_move(w + dw, x, residual, d)
    assert sq(after_input) <= sq(residual) * (1 + 1e-12) + 1e-300


@pytest.mark.parametrize("case", CASES)
def test_least_squares_step_along_one_direction_is_the_closed_form(case):
    _, w, x, dy = random_layer(case)
    d = np.random.default_rng(300 + case).normal(size=(1, w.shape[1]))
    rule = RandomDirectionTP(factor="least_squares", ridge=1e-14)
    dw, _, _ = rule.weight_move(w, x, dy, d)
    a = x @ d[0]
    f = dy.T @ a / (a @ a)                            # sum_i dy_i <x_i, d> / sum_i <x_i, d>^2, per neuron
    np.testing.assert_allclose(dw, np.outer(f, d[0]), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("k", (2, 4, 16))
def test_k_directions_are_at_least_as_good_as_the_first_one(case, k):
    _, w, x, dy = random_layer(case)
    rule = RandomDirectionTP(factor="least_squares", directions=k, ridge=1e-12, seed=case)
    d = rule.sample_directions(w.shape[1])
    _, res_k, _ = rule.weight_move(w, x, dy, d)
    _, res_1, _ = RandomDirectionTP(factor="least_squares", ridge=1e-12).weight_move(w, x, dy, d[:1])
    assert sq(res_k) <= sq(res_1) * (1 + 1e-8) + 1e-12


@pytest.mark.parametrize("factor", FACTORS)
def test_a_zero_denominator_contributes_nothing(factor):
    w = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]])
    x = np.array([[0.0, 2.0, 1.0], [1.0, 1.0, 1.0]])
    dy = np.array([[1.0, 2.0], [0.5, -1.0]])
    d = np.array([[1.0, 0.0, 0.0]])                   # <x_0, d> = 0 and <w_2, d> = 0
    rule = RandomDirectionTP(factor=factor)
    dw, residual, var = rule.weight_move(w, x, dy, d)
    dx, after, in_var = rule.input_move(w + dw, x, residual, d)
    for value in (dw, residual, dx, after, var, in_var):
        assert np.all(np.isfinite(value))
    if factor == "derived":                           # only sample 1 has a factor: f = dy_1 / 1, averaged with 0
        np.testing.assert_allclose(dw, np.outer(dy[1] / 2, d[0]))
    if factor == "as_written":                        # neuron 2 has <w, d> = 0: its weights do not move
        np.testing.assert_allclose(dw[1], 0.0)


# ------------------------------------------------------------------------- vectorised vs reference
def make_net(sizes, activation, seed):
    net = MLP(sizes, activation, seed=seed)
    rng = np.random.default_rng(50 + seed)
    for w in net.weights:
        w[:, -1] = rng.normal(0.0, 0.3, size=w.shape[0])
    return net


REFERENCE_CASES = list(itertools.product(
    FACTORS, (1, 2, 3), DISTRIBUTIONS,
    [dict(), dict(eta=0.3), dict(output_target="step", beta=0.5), dict(output_target="softmax_step", cap=1.5)]))


@pytest.mark.parametrize("factor,k,distribution,options", REFERENCE_CASES)
@pytest.mark.parametrize("activation", ("leaky_relu", "x_plus_relu"))
def test_vectorised_rule_matches_the_per_sample_reference(factor, k, distribution, options, activation):
    seed = zlib.crc32(f"{factor}{k}{distribution}{activation}{options}".encode()) % 1000
    net = make_net([6, 9, 8, 4], activation, seed)
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(7, 6)), rng.normal(size=(7, 4))
    rule = RandomDirectionTP(factor=factor, directions=k, distribution=distribution, seed=seed, **options)
    directions = [rule.sample_directions(w.shape[1]) for w in net.weights]
    fast, slow = net.copy(), net.copy()
    diagnostics = rule.apply(fast, x, y, directions)
    reference = reference_step(rule, slow, x, y, directions)
    for w_fast, w_slow in zip(fast.weights, slow.weights):
        np.testing.assert_allclose(w_fast, w_slow, rtol=1e-10, atol=1e-10 * max(1.0, np.abs(w_slow).max()))
    # the factor variances are statistics of residuals that cancel (u' - u): 1e-8 relative
    for key, value in reference.items():
        assert diagnostics[key] == pytest.approx(value, rel=1e-8, abs=1e-12), key


@pytest.mark.parametrize("activation", ("tanh", "sigmoid"))
def test_bounded_activations_are_clipped_and_match_the_reference(activation):
    net = make_net([5, 6, 3], activation, 3)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(8, 5)), 5 * rng.normal(size=(8, 3))      # large targets: inputs leave the image
    rule = RandomDirectionTP(factor="least_squares", directions=2, seed=3)
    directions = [rule.sample_directions(w.shape[1]) for w in net.weights]
    fast, slow = net.copy(), net.copy()
    rule.apply(fast, x, y, directions)
    reference_step(rule, slow, x, y, directions)
    for w_fast, w_slow in zip(fast.weights, slow.weights):
        assert np.all(np.isfinite(w_fast))
        np.testing.assert_allclose(w_fast, w_slow, rtol=1e-9, atol=1e-9)


def test_one_step_with_the_derived_factor_fits_a_single_layer_net_to_one_sample():
    net = MLP([5, 3], "relu", seed=0)                 # depth 1: no hidden activation to invert, relu is fine
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(1, 5)), rng.normal(size=(1, 3))
    RandomDirectionTP(factor="derived", seed=1).step(net, x, y)
    np.testing.assert_allclose(net(x), y, atol=1e-10)


# ------------------------------------------------------------------------- randomness, training loop
def test_directions_follow_their_distribution():
    rule = RandomDirectionTP(directions=5, distribution="sphere", seed=0)
    np.testing.assert_allclose(np.linalg.norm(rule.sample_directions(30), axis=1), 1.0)
    coordinate = RandomDirectionTP(directions=5, distribution="coordinate", seed=0).sample_directions(8)
    assert np.all(coordinate.sum(axis=1) == 1) and np.all((coordinate == 0) | (coordinate == 1))
    assert len(set(coordinate.argmax(axis=1))) == 5          # distinct axes when k <= dim
    many = RandomDirectionTP(directions=10, distribution="coordinate", seed=0).sample_directions(3)
    assert many.shape == (10, 3) and np.all(many.sum(axis=1) == 1)   # with replacement when k > dim
    gaussian = RandomDirectionTP(directions=4000, seed=0).sample_directions(3)
    assert abs(gaussian.mean()) < 0.05 and abs(gaussian.var() - 1) < 0.05


def fit(seed, **options):
    data = linear_regression(n_train=64, n_test=16, n_inputs=4, n_outputs=2, seed=0)
    net = MLP([4, 8, 2], "leaky_relu", seed=0)
    rule = make_rule("random_direction_tp", seed=seed, **options)
    return net, train(net, rule, data, epochs=3, batch_size=16, seed=0)


@pytest.mark.parametrize("factor", FACTORS)
def test_same_seed_gives_bit_identical_runs(factor):
    options = dict(factor=factor, directions=3, eta=0.1)
    (net_a, hist_a), (net_b, hist_b) = fit(7, **options), fit(7, **options)
    for wa, wb in zip(net_a.weights, net_b.weights):
        assert np.array_equal(wa, wb)
    assert hist_a.metrics == hist_b.metrics
    net_c, _ = fit(8, **options)
    assert not np.array_equal(net_a.weights[0], net_c.weights[0])


def test_diagnostics_reach_the_training_history():
    _, history = fit(0, factor="least_squares", directions=2, eta=0.1)
    assert history.diagnostics[0] == {}
    expected = {f"{name}_{l}" for l in (1, 2)
                for name in ("factor_var", "sq_err_before", "sq_err_after", "decreased", "weight_step")}
    expected |= {"input_factor_var_2", "sq_err_input_2", "target_step_2"}
    for epoch in history.diagnostics[1:]:
        assert set(epoch) == expected
        assert all(np.isfinite(v) for v in epoch.values())
        assert 0.0 <= epoch["decreased_1"] <= 1.0
        assert epoch["sq_err_after_2"] <= epoch["sq_err_before_2"]     # least squares: never worse
    assert history.metrics["train_mse"][-1] < history.metrics["train_mse"][0]


def test_registered_under_its_name():
    assert RULES["random_direction_tp"] is RandomDirectionTP
    rule = make_rule("random_direction_tp", factor="derived", directions=4)
    assert rule.name == "random_direction_tp" and rule.k == 4 and "derived" in repr(rule)


# ------------------------------------------------------------------------------------- bad input
def test_relu_is_refused_with_a_clear_error():
    net = MLP([4, 5, 2], "relu", seed=0)
    with pytest.raises(ValueError, match="'relu' is not invertible"):
        RandomDirectionTP().step(net, np.zeros((2, 4)), np.zeros((2, 2)))


@pytest.mark.parametrize("options,message", [
    (dict(factor="swapped"), "unknown factor"),
    (dict(distribution="uniform"), "unknown direction distribution"),
    (dict(directions=0), "directions must be"),
    (dict(directions=-2), "directions must be"),
    (dict(directions=1.5), "directions must be"),
    (dict(directions=True), "directions must be"),
    (dict(eta=0.0), "eta must be > 0"),
    (dict(eta=float("nan")), "eta must be > 0"),
    (dict(ridge=0.0), "ridge must be > 0"),
    (dict(cap=0.0), "cap must be > 0"),
    (dict(output_target="softmax"), "unknown output_target"),
    (dict(beta=-1.0), "beta must be > 0"),
])
def test_bad_options_raise(options, message):
    with pytest.raises(ValueError, match=message):
        RandomDirectionTP(**options)


def test_directions_of_the_wrong_shape_raise():
    net = MLP([4, 5, 2], "leaky_relu", seed=0)
    rule = RandomDirectionTP(directions=2)
    with pytest.raises(ValueError, match="shape mismatch"):
        rule.apply(net, np.zeros((3, 4)), np.zeros((3, 2)), [np.zeros((2, 5)), np.zeros((1, 6))])
