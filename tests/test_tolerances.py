"""Tests for tests/tolerances.py: the conditioning-aware comparisons the other tests rely on. The error bounds
are checked against extended precision (np.longdouble: a 64-bit mantissa on x86, 11 bits more than float64)."""
import numpy as np
import pytest

from tpnb.network import MLP
from tpnb.rules import gradients
from tpnb.losses import get_loss
from tolerances import (EPS, abs_matmul, assert_close_conditioned, backward_error_scale, eps_of,
                        forward_error_scale, parallel_angle_degrees, sensitivity)

EXTENDED = np.finfo(np.longdouble).eps < EPS / 100
needs_extended = pytest.mark.skipif(not EXTENDED, reason="np.longdouble is no more precise than float64 here")


def extended_copy(net):
    """The network in extended precision (MLP itself offers float32 and float64 only)."""
    extended = net.copy()
    extended.dtype = np.dtype(np.longdouble)
    extended.weights = [w.astype(np.longdouble) for w in net.weights]
    return extended


def test_the_comparison_allows_factor_eps_scale_and_no_more():
    scale = np.array([1.0, 1e6])
    expected = np.array([1.0, 5.0])
    assert_close_conditioned(expected + 0.9 * 8 * EPS * scale, expected, scale, 8)
    with pytest.raises(AssertionError, match="1 of 2 entries"):
        assert_close_conditioned(expected + [0.0, 1.1 * 8 * EPS * 1e6], expected, scale, 8)


def test_the_comparison_refuses_shape_mismatches_non_finite_values_and_bad_scales():
    with pytest.raises(AssertionError, match="shape mismatch"):
        assert_close_conditioned(np.zeros(2), np.zeros(3), 1.0, 1)
    with pytest.raises(AssertionError, match="non-finite"):
        assert_close_conditioned(np.array([np.nan]), np.array([np.nan]), 1.0, 1)
    with pytest.raises(AssertionError, match="scale"):
        assert_close_conditioned(np.zeros(1), np.zeros(1), -1.0, 1)


def test_float32_values_are_compared_with_float32_eps():
    assert eps_of(np.zeros(1, np.float32), np.zeros(1)) == np.finfo(np.float32).eps
    value = np.float32(1.0) + np.float32(2 * np.finfo(np.float32).eps)
    assert_close_conditioned(np.array([value]), np.ones(1), 1.0, 4)
    with pytest.raises(AssertionError):
        assert_close_conditioned(np.array([1.0 + 2 * float(np.finfo(np.float32).eps)]), np.ones(1), 1.0, 4)


@needs_extended
def test_abs_matmul_bounds_the_rounding_of_a_product_that_cancels():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20, 30)) * 1e4
    b = rng.normal(size=(30, 5))
    a[:, -1] = -(a[:, :-1] @ b[:-1, 0]) / b[-1, 0]     # column 0 of a @ b cancels to ~0
    exact = a.astype(np.longdouble) @ b.astype(np.longdouble)
    err = np.abs(a @ b - exact).astype(float)
    bound = 30 * EPS / 2 * abs_matmul(a, b)
    assert np.all(err <= bound)
    assert np.max(err[:, 0]) > 1e3 * EPS * np.max(np.abs(exact[:, 0]))    # relative to the result: far off


@needs_extended
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "leaky_relu", "x_plus_relu", "relu"])
def test_forward_error_scale_bounds_the_rounding_of_a_forward_pass(activation):
    rng = np.random.default_rng(1)
    sizes = [6, 20, 20, 3]
    net = MLP(sizes, activation, seed=2)
    net.weights = [w * 3 for w in net.weights]
    x = rng.normal(size=(50, 6))
    err = np.abs(net(x) - extended_copy(net)(x.astype(np.longdouble))).astype(float)
    scale = forward_error_scale(net, x)
    assert np.all(err <= (max(sizes) + 2) * EPS * scale)
    assert np.max(err / (EPS * scale)) > 1e-3                 # not vacuous: within 1e3 of the actual error


@needs_extended
def test_backward_error_scale_bounds_the_rounding_of_the_gradients():
    rng = np.random.default_rng(3)
    sizes = [5, 16, 12, 4]
    net = MLP(sizes, "tanh", seed=4)
    x, y = rng.normal(size=(30, 5)), rng.normal(size=(30, 4))
    loss = get_loss("mse")
    exact = gradients(extended_copy(net), x.astype(np.longdouble), y.astype(np.longdouble), loss)
    fp = net.forward(x)
    # the output error u - y cancels terms |u| + |y|: that is the delta whose terms the recursion carries
    scales = backward_error_scale(net, fp, (np.abs(fp.output) + np.abs(y)) / len(x))
    for g, e, scale in zip(gradients(net, x, y, loss), exact, scales):
        assert np.all(np.abs(g - e).astype(float) <= 4 * (sum(sizes) + len(x)) * EPS * scale)


def test_sensitivity_sees_the_terms_that_cancel_and_not_only_the_result():
    a = np.array([1.0, 1.0 - 1e-9])
    _, (difference,) = sensitivity(lambda arrays: [arrays[0][:1] - arrays[0][1:]], [a])
    assert 0.1 < difference[0] < 10                           # the terms (size 1), not the result (1e-9)
    _, (product,) = sensitivity(lambda arrays: [arrays[0][:1] * arrays[0][1:]], [a])
    assert 0.1 < product[0] < 10                              # well-conditioned: the size of the result


def test_parallel_arrays_may_show_an_angle_of_a_few_eps_to_the_power_one_half():
    rng = np.random.default_rng(5)
    worst = 0.0
    for _ in range(200):
        a = rng.normal(size=40)
        b = a * (1 + EPS * rng.normal(size=40))           # parallel up to rounding
        cos = np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), -1.0, 1.0)
        worst = max(worst, float(np.degrees(np.arccos(cos))))
    assert worst <= parallel_angle_degrees(40)
    assert np.degrees(np.arccos(1 - 2 * EPS)) > 1e-6          # why "< 1e-6 degrees" was no bound
