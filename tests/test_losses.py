"""Tests for tpnb.losses: values, gradients, softmax stability, accuracy, lookup errors."""
import numpy as np
import pytest

from tpnb.losses import CrossEntropy, MSE, accuracy, get_loss, softmax
from tolerances import assert_close_conditioned


def one_hot_rows(rng, batch, classes):
    y = np.zeros((batch, classes))
    y[np.arange(batch), rng.integers(0, classes, batch)] = 1.0
    return y


def loss_case(name, seed, batch=5, classes=4):
    rng = np.random.default_rng(seed)
    u = rng.normal(0.0, 2.0, size=(batch, classes))
    y = one_hot_rows(rng, batch, classes) if name == "cross_entropy" else rng.normal(size=(batch, classes))
    return get_loss(name), u, y


def numerical_gradient(f, u, h=1e-6):
    grad = np.zeros_like(u)
    for idx in np.ndindex(u.shape):
        up, down = u.copy(), u.copy()
        up[idx] += h
        down[idx] -= h
        grad[idx] = (f(up) - f(down)) / (2 * h)
    return grad


@pytest.mark.parametrize("name", ["mse", "cross_entropy"])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("batch", [1, 3, 8])
def test_gradient_matches_finite_differences(name, seed, batch):
    loss, u, y = loss_case(name, seed, batch=batch)
    fd = numerical_gradient(lambda v: loss(v, y), u)
    np.testing.assert_allclose(loss.gradient(u, y), fd, rtol=1e-6, atol=1e-9)


def test_mse_value():
    u = np.array([[1.0, 2.0], [0.0, 0.0]])
    y = np.array([[0.0, 0.0], [1.0, 1.0]])
    # mean over batch of 1/2 |u - y|^2 = (5/2 + 2/2) / 2
    assert MSE()(u, y) == pytest.approx(1.75)
    assert MSE()(y, y) == 0.0


def test_cross_entropy_value():
    u = np.array([[0.0, np.log(3.0)]])  # softmax = [1/4, 3/4]
    assert CrossEntropy()(u, np.array([[0.0, 1.0]])) == pytest.approx(-np.log(0.75))
    assert CrossEntropy()(u, np.array([[1.0, 0.0]])) == pytest.approx(-np.log(0.25))


@pytest.mark.parametrize("seed", range(4))
def test_softmax_rows_sum_to_one(seed):
    u = np.random.default_rng(seed).normal(0.0, 5.0, size=(6, 9))
    p = softmax(u)
    assert np.all(p > 0)
    # a sum of 9 rounded probabilities (each to eps relative) that add up to 1
    assert_close_conditioned(p.sum(axis=1), np.ones(6), 1.0, 4.0 * (9 + 8))
    # invariant to a per-row shift c: u + c rounds to eps (|u| + c), and subtracting the row maximum cancels
    # it again, so each exponent (and after normalising, each p relative to itself) carries eps (|u| + c)
    shift = np.arange(6)[:, None] * 100.0
    terms = (np.abs(u) + shift).max(axis=1, keepdims=True)
    assert_close_conditioned(softmax(u + shift), p, p * terms, 16.0)


def test_softmax_does_not_modify_input():
    u = np.array([[1.0, 2.0, 3.0]])
    before = u.copy()
    softmax(u)
    np.testing.assert_array_equal(u, before)


def test_softmax_and_cross_entropy_stable_for_huge_logits():
    u = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, 0.0]])
    y = np.eye(3)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        p = softmax(u)
        value = CrossEntropy()(u, y)
        grad = CrossEntropy().gradient(u, y)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-14)
    np.testing.assert_allclose(p[0], [1.0, 0.0, 0.0], atol=1e-300)
    np.testing.assert_allclose(p[1], [1 / 3] * 3, rtol=1e-14)
    np.testing.assert_allclose(p[2], [0.5, 0.5, 0.0], atol=1e-300)
    # row 0 correct and certain (0), row 1 -log(1/3), row 2 wrong class: 1e4 + log 2
    assert value == pytest.approx((0.0 + np.log(3.0) + 1e4 + np.log(2.0)) / 3, rel=1e-14)
    assert np.all(np.isfinite(grad))


def test_accuracy():
    u = np.array([[0.1, 0.9], [2.0, -1.0], [0.0, 3.0], [5.0, 4.0]])
    y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert accuracy(u, y) == 0.5
    assert accuracy(y, y) == 1.0
    assert isinstance(accuracy(u, y), float)


@pytest.mark.parametrize("name, cls", [("mse", MSE), ("cross_entropy", CrossEntropy)])
def test_get_loss(name, cls):
    loss = get_loss(name)
    assert isinstance(loss, cls) and loss.name == name
    assert get_loss(loss) is loss


def test_unknown_loss_raises_naming_it():
    with pytest.raises(ValueError, match="hinge_xyz"):
        get_loss("hinge_xyz")
