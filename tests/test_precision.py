"""Tests for tpnb.precision, the rounding bounds the book's checks use. Error bounds are checked against exact
sums (math.fsum of exactly representable products) and against extended precision where NumPy has it."""
import math

import numpy as np
import pytest

from tpnb.network import MLP
from tpnb.precision import EPS, abs_matmul, allowance, forward_error_scale, rounding_units

EXTENDED = np.finfo(np.longdouble).eps < EPS / 100


def test_rounding_units_counts_eps_times_scale():
    assert rounding_units(1.0 + 4 * EPS, 1.0, 1.0) == pytest.approx(4.0)
    assert rounding_units(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 2 * EPS]), np.array([1.0, 0.5])) == \
        pytest.approx(4.0)                                 # |diff| 2 eps on terms of size 0.5
    assert rounding_units(np.ones((2, 3)), np.ones((2, 3)) + EPS, 2.0) == pytest.approx(0.5)    # scale broadcasts
    assert rounding_units([0.0, 3.0], [0.0, 3.0], [0.0, 1.0]) == 0.0                         # exact with scale 0
    assert rounding_units(1e-300, 0.0, 0.0) == np.inf                                          # inexact with scale 0
    assert rounding_units(np.nan, 1.0, 1.0) == np.inf and rounding_units(np.inf, 1.0, 1.0) == np.inf
    assert rounding_units(np.zeros(0), np.zeros(0), 1.0) == 0.0


def test_rounding_units_refuses_bad_arguments():
    with pytest.raises(ValueError, match="shapes differ"):
        rounding_units(np.zeros(2), np.zeros(3), 1.0)
    for scale in (-1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="scale must be finite and >= 0"):
            rounding_units(0.0, 0.0, scale)


def test_a_wrong_result_is_far_outside_any_allowance():
    """The checks stay strong: an error of 1e-3 on terms of size 10 is about 5e11 units."""
    assert rounding_units(1.0 + 1e-3, 1.0, 10.0) > 1e11 > 1e6 * allowance(1000)


def test_allowance():
    assert allowance(0) == 32.0 and allowance(12) == 80.0 and allowance(12, margin=1.0) == 20.0
    for terms, margin in ((-1, 4.0), (3, 0.0), (3, -1.0)):
        with pytest.raises(ValueError):
            allowance(terms, margin)


def test_abs_matmul_bounds_the_rounding_of_a_product():
    """|fl(a @ b) - a @ b| <= n eps/2 |a| @ |b| (n the inner dimension), against exact sums; terms of size 1e8
    that cancel to about 1 show why the bound scales with the terms, not the result."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(7, 50)), rng.normal(size=(50, 5))
    a[:, 0], b[0] = 1e8, 1e8 * rng.normal(size=5)
    a[:, 1], b[1] = -1e8, b[0] * (1 + 1e-9 * rng.normal(size=5))     # nearly cancels the first term
    np.testing.assert_array_equal(abs_matmul(a, b), np.abs(a) @ np.abs(b))
    exact = np.array([[_exact_dot(a[i], b[:, j]) for j in range(5)]
                      for i in range(7)])
    units = rounding_units(a @ b, exact, abs_matmul(a, b))
    assert units <= 50 / 2
    assert np.max(np.abs(a @ b - exact)) > 10 * EPS * np.max(np.abs(exact))   # the result alone would not do


def _exact_dot(p, q):
    """The dot product rounded once: every float64 product is split exactly into two floats (Dekker)."""
    terms = []
    for x, y in zip(p, q):
        prod = x * y
        terms += [prod, _two_product_error(x, y, prod)]
    return math.fsum(terms)


def _two_product_error(x, y, prod):
    split = 134217729.0                                   # 2^27 + 1
    def halves(v):
        c = split * v
        high = c - (c - v)
        return high, v - high
    xh, xl = halves(x)
    yh, yl = halves(y)
    return ((xh * yh - prod) + xh * yl + xl * yh) + xl * yl


def test_forward_error_scale_recursion():
    net = MLP([3, 4, 2], "tanh", seed=1)
    x = np.random.default_rng(1).normal(size=(5, 3))
    fp = net.forward(x)
    s1 = abs_matmul(fp.xs[0], net.weights[0].T)
    expected = abs_matmul(fp.xs[1], net.weights[1].T) + 0.5 * abs_matmul(s1, np.abs(net.weights[1][:, :-1]).T)
    np.testing.assert_allclose(forward_error_scale(net.weights, fp.xs, lip=0.5), expected, rtol=1e-14)
    np.testing.assert_array_equal(forward_error_scale(net.weights[:1], fp.xs[:1]), s1)
    with pytest.raises(ValueError, match="2 weight matrices but 1 layer inputs"):
        forward_error_scale(net.weights, fp.xs[:1])


@pytest.mark.skipif(not EXTENDED, reason="np.longdouble is float64 on this platform")
@pytest.mark.parametrize("activation", ["relu", "tanh", "identity"])
def test_forward_error_scale_bounds_a_forward_pass(activation):
    """The float64 forward pass is within allowance(fan-in) eps x forward_error_scale of one in extended
    precision, also with weights scaled so that the layers' terms cancel to a small output."""
    rng = np.random.default_rng(2)
    net = MLP([20, 64, 64, 3], activation, seed=3)
    x = rng.normal(size=(16, 20))
    net.weights[-1] = net.weights[-1] * 1e3
    net.weights[-1][:, -1] -= net(x[:1])[0]                      # the first sample's output cancels to ~0
    fp = net.forward(x)
    h = x.astype(np.longdouble)
    for l, w in enumerate(net.weights):
        u = np.concatenate([h, np.ones((len(h), 1), np.longdouble)], axis=1) @ w.T.astype(np.longdouble)
        h = u if l == net.depth - 1 else net.activation(u)
    scale = forward_error_scale(net.weights, fp.xs, lip=1.0)
    units = rounding_units(fp.output, np.asarray(h, dtype=float), scale)
    assert units < allowance(65)
    assert np.min(np.abs(fp.output[0]) / scale[0]) < 1e-12        # that output is far smaller than its terms
