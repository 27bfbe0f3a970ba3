"""Tests for tpnb.rules.backprop and the rule registry."""
import numpy as np
import pytest

from tpnb.losses import get_loss
from tpnb.network import MLP
from tpnb.rules import RULES, Backprop, ExactTP, gradients, make_rule
from tpnb.rules.backprop import backward
from tolerances import assert_close_conditioned, backward_error_scale, eps_of


def problem(loss_name, activation, seed=0, sizes=(3, 4, 3, 2), batch=5):
    net = MLP(list(sizes), activation, seed=seed)
    rng = np.random.default_rng(100 + seed)
    for w in net.weights:
        w[:, -1] = rng.normal(0.0, 0.3, size=w.shape[0])
    x = rng.normal(size=(batch, sizes[0]))
    if loss_name == "cross_entropy":
        y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    else:
        y = rng.normal(size=(batch, sizes[-1]))
    return net, x, y


def numerical_gradients(net, x, y, loss, h=1e-6):
    grads = []
    for w in net.weights:
        g = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            old = w[idx]
            w[idx] = old + h
            up = loss(net(x), y)
            w[idx] = old - h
            down = loss(net(x), y)
            w[idx] = old
            g[idx] = (up - down) / (2 * h)
        grads.append(g)
    return grads


@pytest.mark.parametrize("loss_name", ["mse", "cross_entropy"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("sizes", [(3, 2), (3, 4, 2), (3, 4, 3, 2)])
@pytest.mark.parametrize("seed", range(3))
def test_gradients_match_finite_differences(loss_name, activation, sizes, seed):
    net, x, y = problem(loss_name, activation, seed=seed, sizes=sizes)
    loss = get_loss(loss_name)
    fp = net.forward(x)
    if activation == "relu" and net.depth > 1:  # away from the kink, where differences are meaningless
        assert min(np.min(np.abs(u)) for u in fp.us[:-1]) > 1e-4
    analytic = gradients(net, x, y, loss)
    numeric = numerical_gradients(net, x, y, loss)
    assert len(analytic) == net.depth
    for l, (a, n) in enumerate(zip(analytic, numeric)):
        assert a.shape == net.weights[l].shape
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-8, err_msg=f"layer {l + 1}")


@pytest.mark.parametrize("loss_name", ["mse", "cross_entropy"])
@pytest.mark.parametrize("optimizer, options", [("sgd", dict(lr=1e-3)), ("sgd", dict(lr=1e-3, momentum=0.9)),
                                                ("adam", dict(lr=1e-4))])
def test_small_step_lowers_the_loss(loss_name, optimizer, options):
    net, x, y = problem(loss_name, "relu", seed=4, batch=16)
    loss = get_loss(loss_name)
    before = loss(net(x), y)
    rule = Backprop(loss=loss_name, optimizer=optimizer, **options)
    diagnostics = rule.step(net, x, y)
    after = loss(net(x), y)
    assert after < before
    assert set(diagnostics) == {f"grad_norm_{l}" for l in range(1, net.depth + 1)}
    assert all(np.isfinite(v) and v > 0 for v in diagnostics.values())


def test_sgd_step_is_minus_lr_times_gradient():
    net, x, y = problem("mse", "tanh", seed=5)
    grads = gradients(net, x, y, get_loss("mse"))
    before = [w.copy() for w in net.weights]
    Backprop(loss="mse", optimizer="sgd", lr=0.3).step(net, x, y)
    for w, b, g in zip(net.weights, before, grads):
        np.testing.assert_allclose(w, b - 0.3 * g, rtol=1e-14, atol=1e-15)


def test_training_reduces_loss_over_many_steps():
    net, x, y = problem("mse", "tanh", seed=6, batch=20)
    loss = get_loss("mse")
    rule = make_rule("backprop", loss="mse", optimizer="sgd", lr=0.05)
    start = loss(net(x), y)
    for _ in range(200):
        rule.step(net, x, y)
    assert loss(net(x), y) < 0.5 * start


def test_make_rule_registry():
    assert {"exact_tp", "backprop"} <= set(RULES)  # other rules get registered as they are written
    assert isinstance(make_rule("backprop"), Backprop)
    assert isinstance(make_rule("exact_tp", alpha=0.2), ExactTP)
    rule = make_rule("backprop", loss="cross_entropy", optimizer="adam", lr=0.01)
    assert rule.loss.name == "cross_entropy" and rule.optimizer.lr == 0.01
    assert "cross_entropy" in repr(rule)


def test_make_rule_unknown_name_raises_naming_it():
    with pytest.raises(ValueError, match="hebbian_xyz"):
        make_rule("hebbian_xyz")


@pytest.mark.parametrize("kwargs, name", [(dict(loss="hinge_xyz"), "hinge_xyz"),
                                          (dict(optimizer="rmsprop_xyz"), "rmsprop_xyz"),
                                          (dict(lr=-1.0), "lr"),
                                          (dict(optimizer="sgd", momentum=1.0), "momentum")])
def test_backprop_bad_options_raise(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_rule("backprop", **kwargs)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_float32_option_keeps_float32(optimizer):
    net = MLP([5, 7, 3], "relu", seed=0, dtype=np.float32)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 5)).astype(np.float32), rng.normal(size=(6, 3)).astype(np.float32)
    grads = gradients(net, x, y, get_loss("mse"))
    assert [g.dtype for g in grads] == [np.float32, np.float32]
    net64 = MLP([5, 7, 3], "relu", seed=0)
    reference = gradients(net64, x.astype(np.float64), y.astype(np.float64), get_loss("mse"))
    # float32 rounds the weights (He init drawn in float64) and every product: eps_32 times backprop's terms
    fp = net64.forward(x.astype(np.float64))
    scales = backward_error_scale(net64, fp, np.abs(fp.output) + np.abs(y))
    for g, r, scale in zip(grads, reference, scales):
        assert_close_conditioned(g, r, scale / len(x), 4.0 * (7 + len(x) + 8), eps=eps_of(g))
    make_rule("backprop", optimizer=optimizer, lr=0.01).step(net, x, y)
    assert all(w.dtype == np.float32 for w in net.weights)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("batch", [1, 5])
def test_backward_is_the_chain_rule_formula_bit_for_bit(activation, batch):
    """f' from the recorded h = f(u) and the one-sample outer products give the plain formula's numbers."""
    net = MLP([4, 6, 5, 3], activation, seed=1)
    rng = np.random.default_rng(2)
    fp = net.forward(rng.normal(size=(batch, 4)))
    delta = rng.normal(size=(batch, 3))
    expected, d = [None] * net.depth, delta
    for l in range(net.depth - 1, -1, -1):
        expected[l] = d.T @ fp.xs[l]
        if l > 0:
            d = (d @ net.weights[l][:, :-1]) * net.activations[l - 1].derivative(fp.us[l - 1])
    for g, e in zip(backward(net, fp, delta), expected):
        np.testing.assert_array_equal(g, e)
