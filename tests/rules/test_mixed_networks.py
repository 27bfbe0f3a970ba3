"""Every rule on the one MLP with per-layer hidden activations and an output activation (seed 003's
network shape): a step runs, changes the weights and keeps them finite; where a rule has an exact property
(backprop's gradient, GTP with T = 1 as backprop, exact TP's property E) it holds through f_out."""
import numpy as np
import pytest

from tpnb.losses import get_loss
from tpnb.network import MLP
from tpnb.rules import RULES, GTP, gradients, make_rule
from tpnb.rules.targets import output_error

SIZES = [5, 7, 6, 3]
MIXED = ["relu", "sigmoid"]           # seed 003: ReLU first hidden layer, sigmoid elsewhere
INVERTIBLE_MIXED = ["leaky_relu", "tanh"]
OPTIONS = {"dtp": dict(loss="mse"), "dtpdrl": dict(loss="mse"), "ddtp_linear": dict(loss="mse"),
           "ddtp_rhl": dict(loss="mse"), "ddtp_control": dict(loss="mse"), "gnt": dict(loss="mse"),
           "dfa": dict(loss="mse"), "gtp": dict(tau=0.5, steps=2), "backprop": dict(loss="mse"),
           "exact_tp": dict(alpha=0.5, eta=0.5), "random_direction_tp": dict(eta=0.5)}


def problem(activation, output_activation="sigmoid", batch=8, seed=0):
    net = MLP(SIZES, activation, output_activation=output_activation, seed=seed, init="xavier")
    rng = np.random.default_rng(seed + 40)
    x = rng.uniform(size=(batch, SIZES[0]))
    y = np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], batch)]
    return net, x, y


def test_every_rule_has_options_here():
    assert sorted(OPTIONS) == sorted(RULES)


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_rule_steps_on_a_mixed_network_with_a_sigmoid_output(name):
    activation = INVERTIBLE_MIXED if name in ("random_direction_tp",) else MIXED
    net, x, y = problem(activation)
    before = [w.copy() for w in net.weights]
    rule = make_rule(name, **OPTIONS[name])
    for _ in range(3):
        rule.step(net, x, y)
    assert all(np.isfinite(w).all() for w in net.weights)
    assert any(not np.array_equal(w, b) for w, b in zip(net.weights, before))


def test_the_forward_pass_uses_each_layers_activation_and_the_output_activation():
    net, x, _ = problem(MIXED)
    fp = net.forward(x)
    np.testing.assert_array_equal(fp.xs[1][:, :-1], np.maximum(fp.us[0], 0.0))
    np.testing.assert_allclose(fp.xs[2][:, :-1], 1.0 / (1.0 + np.exp(-fp.us[1])), rtol=1e-14)
    np.testing.assert_allclose(net(x), 1.0 / (1.0 + np.exp(-fp.output)), rtol=1e-14)


def test_backprop_differentiates_the_loss_on_the_sigmoid_output():
    net, x, y = problem(MIXED, batch=4)
    loss = get_loss("mse")
    grads = gradients(net, x, y, loss)
    rng = np.random.default_rng(3)
    for l, g in enumerate(grads):
        direction = rng.standard_normal(g.shape)
        h = 1e-6
        plus, minus = net.copy(), net.copy()
        plus.weights[l] += h * direction
        minus.weights[l] -= h * direction
        numeric = (loss(plus(x), y) - loss(minus(x), y)) / (2 * h)   # central difference, error O(h^2)
        assert numeric == pytest.approx(float(np.sum(g * direction)), rel=1e-6, abs=1e-10)


def test_gtp_with_one_euler_step_and_tau_one_is_backprop_on_the_sigmoid_output():
    net, x, y = problem(MIXED, batch=6)
    directions = GTP(tau=1.0, steps=1).directions(net, x, y).grads
    for g_tp, g_bp in zip(directions, gradients(net, x, y, get_loss("mse"))):
        np.testing.assert_allclose(g_tp, g_bp, rtol=1e-9, atol=1e-12 * np.abs(g_bp).max())


def test_output_error_chains_the_output_activation():
    net, x, y = problem(MIXED, batch=5)
    u = net.forward(x).output
    o = 1.0 / (1.0 + np.exp(-u))
    np.testing.assert_allclose(output_error(get_loss("mse"), u, y, net.output_activation),
                               (o - y) * o * (1 - o), rtol=1e-12)


@pytest.mark.parametrize("activation", [MIXED, ["tanh", "x_plus_relu"]])
def test_exact_tp_property_e_through_the_output_activation(activation):
    """One sample, eta = 1: the new weights make the prediction the label (clipped into the sigmoid's
    image, 1e-6 inside it) exactly, up to rounding amplified by the sigmoid's inverse slope there."""
    net, x, y = problem(activation, batch=1)
    make_rule("exact_tp", alpha=0.5, eta=1.0).step(net, x, y)
    clipped = np.clip(y, 1e-6, 1 - 1e-6)
    np.testing.assert_allclose(net(x), clipped, rtol=0, atol=1e-9)


def test_an_mlp_needs_one_activation_per_hidden_layer():
    with pytest.raises(ValueError, match="one per hidden layer"):
        MLP(SIZES, ["relu"])
    with pytest.raises(ValueError, match="no single hidden activation"):
        MLP(SIZES, MIXED).activation
    assert MLP(SIZES, "tanh").activation.name == "tanh"
