"""Tests for tpnb.rules.gtp: gradient target propagation (seed 003)."""
from fractions import Fraction

import numpy as np
import pytest

from tpnb.data.dataset import Dataset
from tpnb.losses import get_loss
from tpnb.network import MLP
from tpnb.rules import GTP, Backprop, gradients, gtp_init_variances, gtp_initialize, make_rule
from tpnb.rules.gtp import euler_target
from tpnb.train import train
from tolerances import abs_matmul, assert_close_conditioned, backward_error_scale


def problem(sizes=(4, 7, 6, 3), activation="sigmoid", seed=0, batch=6):
    net = MLP(list(sizes), activation, seed=seed)
    rng = np.random.default_rng(110 + seed)
    for w in net.weights:
        w[:, -1] = rng.normal(0.0, 0.3, size=w.shape[0])
    x = rng.uniform(size=(batch, sizes[0]))
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    return net, x, y


def one_step_gradient_scales(net, x, y, tau):
    """Per layer, the size of the terms behind GTP's one-Euler-step local gradients (label target) and
    backprop's, scaled by the power of tau that relates them.

    GTP writes the targets as absolute values and subtracts again: the output residual y - (W h + b) has terms
    |y| + |W| |h|; a hidden target h'_i = h_i + tau r_{i+1} W_{i+1} carries |h_i| and tau times the residual's
    terms through |W_{i+1}|; the next residual (h'_{i+1} - f(z)) f'(z) and the gradient's step h'_i - h_i
    cancel |h'| + |h| (plus what the target carried) before the batch sum over |x_i|."""
    fp = net.forward(x)
    targets = GTP(tau=tau, steps=1).directions(net, x, y)[1]
    hidden = [xs[:, :-1] for xs in fp.xs[1:]]
    bp = backward_error_scale(net, fp, get_loss("mse").gradient(fp.output, y))
    residual = np.abs(y) + abs_matmul(fp.xs[-1], net.weights[-1].T)
    scales = [None] * net.depth
    scales[-1] = abs_matmul(residual.T, fp.xs[-1]) / len(x) + bp[-1]
    for i in range(net.depth - 2, -1, -1):
        carried = np.abs(hidden[i]) + tau * abs_matmul(residual, net.weights[i + 1][:, :-1])
        slope = np.abs(net.activation.derivative(fp.us[i]))
        step_terms = (np.abs(targets[i]) + np.abs(hidden[i]) + carried) * slope
        scales[i] = abs_matmul(step_terms.T, fp.xs[i]) / len(x) + tau ** (net.depth - 1 - i) * bp[i]
        residual = step_terms
    return scales


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("sizes", [(4, 3), (4, 7, 3), (4, 7, 6, 5, 3)])
def test_one_unit_euler_step_is_backprop(activation, sizes):
    """T = 1, tau = 1, label target: every layer's target change is the BP error, so GTP = BP."""
    net, x, y = problem(sizes, activation)
    reference = net.copy()
    before = [w.copy() for w in net.weights]
    scales = one_step_gradient_scales(net, x, y, 1.0)
    GTP(tau=1.0, steps=1, lr=0.1).step(net, x, y)
    Backprop(loss="mse", lr=0.1).step(reference, x, y)
    for l, (a, b, w, scale) in enumerate(zip(net.weights, reference.weights, before, scales)):
        assert_close_conditioned(a, b, np.abs(w) + 0.1 * scale, 4.0 * (sum(sizes) + len(x) + 8),
                                 err_msg=f"layer {l + 1}")


def test_one_euler_step_scales_backprop_by_powers_of_tau():
    net, x, y = problem((4, 7, 6, 5, 3), "tanh")
    tau = 0.3
    grads = GTP(tau=tau, steps=1).directions(net, x, y)[0]
    bp = gradients(net, x, y, get_loss("mse"))
    scales = one_step_gradient_scales(net, x, y, tau)
    for l, (g, b, scale) in enumerate(zip(grads, bp, scales)):
        assert_close_conditioned(g, tau ** (net.depth - 1 - l) * b, scale, 4.0 * (sum(net.sizes) + len(x) + 8),
                                 err_msg=f"layer {l + 1}")


def test_euler_targets_lower_the_next_layers_cost():
    net, x, y = problem()
    fp = net.forward(x)
    h = net.activation(fp.us[-2])
    costs = []
    for steps in (0, 1, 5, 50):
        t = euler_target(net, net.depth - 2, h, y, tau=0.1, steps=steps) if steps else h
        out = t @ net.weights[-1][:, :-1].T + net.weights[-1][:, -1]
        costs.append(0.5 * np.sum((y - out) ** 2))
    assert all(b < a for a, b in zip(costs, costs[1:]))


def test_many_euler_steps_reach_the_target_through_a_wide_linear_output():
    """With n_i >= n_L the output layer's cost can be driven to 0: the Euler iteration converges."""
    net, x, y = problem((4, 9, 3))
    fp = net.forward(x)
    t = euler_target(net, 0, net.activation(fp.us[0]), y, tau=0.2, steps=3000)
    out = t @ net.weights[-1][:, :-1].T + net.weights[-1][:, -1]
    np.testing.assert_allclose(out, y, atol=1e-8)


def test_init_variances_as_printed_and_corrected():
    sizes = [784, 100, 100, 10]
    printed = gtp_init_variances(sizes)
    corrected = gtp_init_variances(sizes, corrected=True)
    assert Fraction(printed[0] * 784).limit_denominator(100) == Fraction(48, 35)
    assert Fraction(printed[1] * 100).limit_denominator(100) == Fraction(16, 11)
    assert Fraction(corrected[0] * 784).limit_denominator(100) == Fraction(12, 5)
    assert Fraction(corrected[2] * 100).limit_denominator(100) == Fraction(8, 3)
    with pytest.raises(ValueError, match="sizes"):
        gtp_init_variances([3])


def test_initialize_draws_the_variances_and_is_seeded():
    net = gtp_initialize(MLP([400, 300, 10], "sigmoid"), seed=1)
    assert abs(np.var(net.weights[0][:, :-1]) * 400 / (48 / 35) - 1) < 0.02
    assert np.all(net.weights[0][:, -1] == 0)
    again = gtp_initialize(MLP([400, 300, 10], "sigmoid"), seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, again.weights))


def test_a_small_step_lowers_the_loss():
    for output_target in ("label", "gradient"):
        net, x, y = problem(batch=16)
        loss = get_loss("mse")
        before = loss(net(x), y)
        GTP(tau=0.5, steps=10, output_target=output_target, lr=1e-3).step(net, x, y)
        assert loss(net(x), y) < before


def test_training_lowers_the_loss_and_is_deterministic():
    finals = []
    for _ in range(2):
        net, x, y = problem((4, 12, 12, 3), batch=32)
        gtp_initialize(net, seed=0)
        loss = get_loss("mse")
        rule = make_rule("gtp", tau=0.5, steps=5, lr=0.5)
        start = loss(net(x), y)
        for _ in range(300):
            diagnostics = rule.step(net, x, y)
        assert loss(net(x), y) < 0.5 * start
        assert set(diagnostics) >= {"update_1", "target_step_2", "target_step_3", "angle_bp_3"}
        assert all(np.isfinite(v) for v in diagnostics.values())
        finals.append(np.concatenate([w.ravel() for w in net.weights]))
    assert np.array_equal(finals[0], finals[1])


@pytest.mark.parametrize("kwargs, name", [(dict(tau=0.0), "tau"), (dict(tau=-1.0), "tau"), (dict(steps=0), "steps"),
                                          (dict(steps=2.5), "steps"), (dict(output_target="soft_xyz"), "soft_xyz"),
                                          (dict(beta=0.0), "beta"), (dict(loss="l1_xyz"), "l1_xyz"),
                                          (dict(lr=-1.0), "lr")])
def test_bad_options_raise_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_rule("gtp", **kwargs)


@pytest.mark.parametrize("options", [dict(), dict(output_target="gradient", loss="cross_entropy", beta=1.0,
                                                    optimizer="adam", lr=0.01)])
def test_runs_through_the_training_loop_with_batch_size_one(options):
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(40, 4))
    y = np.eye(3)[rng.integers(0, 3, 40)]
    data = Dataset("toy", x[:30], y[:30], x[30:], y[30:], "classification")
    net = gtp_initialize(MLP([4, 8, 8, 3], "sigmoid"), seed=0)
    history = train(net, make_rule("gtp", **{"lr": 0.05, **options}), data, epochs=2, batch_size=1)
    assert not history.diverged and history.epochs == 2
    assert all(np.isfinite(v) for d in history.diagnostics[1:] for v in d.values())


@pytest.mark.parametrize("corrected", [False, True])
def test_the_mlp_gtp_inits_draw_the_weights_gtp_initialize_draws(corrected):
    sizes = [30, 12, 9, 4]
    by_init = MLP(sizes, ["relu", "sigmoid"], output_activation="sigmoid", seed=5,
                  init="gtp_corrected" if corrected else "gtp")
    by_function = gtp_initialize(MLP(sizes, ["relu", "sigmoid"]), seed=5, corrected=corrected)
    for a, b in zip(by_init.weights, by_function.weights):
        np.testing.assert_array_equal(a, b)


def test_gtp_with_one_euler_step_is_backprop_with_per_layer_learning_rates():
    """Chapter 7: GTP (T = 1, tau) = backprop with layer l's learning rate eta tau^(L - l); after 20 SGD
    steps on seed 003's network shape the two trajectories agree to rounding."""
    sizes, tau, eta = [6, 9, 7, 4], 3.0, 0.05
    make = lambda: MLP(sizes, ["relu", "sigmoid"], output_activation="sigmoid", init="gtp", seed=2)
    rng = np.random.default_rng(9)
    x, y = rng.uniform(size=(20, 6)), np.eye(4)[rng.integers(0, 4, 20)]
    gtp_net, bp_net = make(), make()
    gtp = GTP(tau=tau, steps=1, lr=eta, angles=False)
    bp = Backprop(lr=eta, layer_scales=[tau ** (len(sizes) - 2 - l) for l in range(len(sizes) - 1)])
    for i in range(20):
        gtp.step(gtp_net, x[i:i + 1], y[i:i + 1])
        bp.step(bp_net, x[i:i + 1], y[i:i + 1])
    for a, b in zip(gtp_net.weights, bp_net.weights):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_layer_scales_must_be_one_positive_number_per_layer():
    with pytest.raises(ValueError, match=r"layer_scales\[1\]"):
        Backprop(layer_scales=[1.0, -2.0])
    net = MLP([3, 4, 2], "sigmoid")
    with pytest.raises(ValueError, match="2 weight layers"):
        Backprop(layer_scales=[1.0]).step(net, np.ones((1, 3)), np.ones((1, 2)))


@pytest.mark.parametrize("output_activation", ["identity", "sigmoid"])
@pytest.mark.parametrize("batch", [1, 6])
def test_euler_steps_in_buffers_are_the_plain_formula_bit_for_bit(output_activation, batch):
    net = MLP([5, 8, 4], "sigmoid", output_activation=output_activation, seed=2)
    rng = np.random.default_rng(3)
    h, target = rng.random((batch, 8)), rng.random((batch, 4))
    w = net.weights[1]
    y = h.copy()
    for _ in range(7):
        z = y @ w[:, :-1].T + w[:, -1]
        if output_activation == "identity":
            r = target - z
        else:
            fz = net.output_activation(z)
            r = (target - fz) * net.output_activation.derivative(z)
        y = y + 0.3 * (r @ w[:, :-1])
    if output_activation == "sigmoid":
        np.testing.assert_array_equal(euler_target(net, 0, h, target, 0.3, 7), y)
    else:
        # below a linear output the steps run in output space (r_{k+1} = r_k - tau r_k W W^T): the same
        # numbers up to rounding, which each of the 7 steps may amplify by at most |I - tau W W^T| <= 1 + tau |W|^2
        growth = (1 + 0.3 * np.linalg.norm(w[:, :-1], 2) ** 2) ** 7
        np.testing.assert_allclose(euler_target(net, 0, h, target, 0.3, 7), y, rtol=0,
                                   atol=7 * growth * 8 * np.finfo(float).eps * np.abs(y).max())


@pytest.mark.parametrize("output_activation", ["identity", "sigmoid"])
@pytest.mark.parametrize("steps", [1, 3])
def test_the_first_euler_step_may_start_from_the_forward_pass(output_activation, steps):
    """Given u_{i+1} of the forward pass, the first step does not recompute W [h; 1]: the same target up to
    the rounding of the two ways of computing that product."""
    net = MLP([5, 8, 6, 4], "sigmoid", output_activation=output_activation, seed=4)
    x, target = np.random.default_rng(5).random((3, 5)), np.random.default_rng(6).random((3, 4))
    fp = net.forward(x)
    for i, upper in ((1, target), (0, np.random.default_rng(7).random((3, 6)))):
        h = fp.xs[i + 1][:, :-1]
        plain = euler_target(net, i, h, upper, 0.5, steps)
        reused = euler_target(net, i, h, upper, 0.5, steps, fp.us[i + 1])
        np.testing.assert_allclose(reused, plain, rtol=0, atol=64 * np.finfo(float).eps * np.abs(plain).max())
