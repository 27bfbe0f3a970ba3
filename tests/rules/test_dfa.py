"""Tests for tpnb.rules.dfa: direct feedback alignment."""
import numpy as np
import pytest

from tpnb.data.dataset import Dataset
from tpnb.losses import get_loss
from tpnb.network import MLP
from tpnb.rules import DFA, Backprop, gradients, make_rule
from tpnb.train import train
from problems import random_problem
from tolerances import assert_close_conditioned, backward_error_scale, parallel_angle_degrees


def problem(sizes=(4, 6, 5, 3), activation="tanh", seed=0, batch=8, loss="mse"):
    return random_problem(sizes, activation, seed, batch, loss, base_seed=50)


def true_jacobian_feedback(net):
    """B_i = du_L/dh_i for a linear network: W_L ... W_{i+1} without bias columns."""
    feedback = []
    for i in range(net.depth - 1):
        b = np.eye(net.sizes[-1])
        for l in range(net.depth - 1, i, -1):
            b = b @ net.weights[l][:, :-1]
        feedback.append(b)
    return feedback


def test_feedback_shapes_and_diagnostics():
    net, x, y = problem()
    rule = DFA(lr=0.01)
    diagnostics = rule.step(net, x, y)
    assert [b.shape for b in rule.feedback] == [(3, 6), (3, 5)]
    assert set(diagnostics) == {f"update_{l}" for l in (1, 2, 3)} | {f"angle_bp_{l}" for l in (1, 2, 3)}
    assert all(np.isfinite(v) for v in diagnostics.values())
    assert diagnostics["angle_bp_3"] <= parallel_angle_degrees(3 * 6)   # the output layer gets the true gradient


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
@pytest.mark.parametrize("sizes", [(4, 6, 5, 3), (3, 7, 7, 6, 2), (5, 2)])
def test_with_true_jacobians_on_a_linear_net_dfa_is_backprop(loss, sizes):
    net, x, y = problem(sizes, "identity", loss=loss)
    rule = DFA(loss=loss)
    rule.feedback = true_jacobian_feedback(net)
    grads = rule.directions(net, x, y)[0]
    # the same chain of products W_L ... W_{i+1}, associated differently: backprop's terms, summed over the
    # widths of the chain and the batch
    fp = net.forward(x)
    scales = backward_error_scale(net, fp, get_loss(loss).gradient(fp.output, y))
    factor = 4.0 * (sum(net.sizes) + len(x) + 8)
    for l, (g, bp, scale) in enumerate(zip(grads, gradients(net, x, y, get_loss(loss)), scales)):
        assert_close_conditioned(g, bp, scale, factor, err_msg=f"layer {l + 1}")


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_one_hidden_layer_with_transpose_feedback_is_backprop(activation):
    net, x, y = problem((4, 9, 3), activation)
    before = [w.copy() for w in net.weights]
    rule = DFA(lr=0.1)
    rule.feedback = [net.weights[1][:, :-1].copy()]
    rule.step(net, x, y)
    reference = MLP([4, 9, 3], activation)
    reference.weights = [w.copy() for w in before]
    fp = reference.forward(x)
    scales = backward_error_scale(reference, fp, get_loss("mse").gradient(fp.output, y))
    Backprop(lr=0.1).step(reference, x, y)
    # w - lr g with the same g, scaled by 1 / B elsewhere: the terms of w and lr times those of g
    for l, (w, r, b, scale) in enumerate(zip(net.weights, reference.weights, before, scales)):
        assert_close_conditioned(w, r, np.abs(b) + 0.1 * scale, 4.0 * (9 + len(x) + 8), err_msg=f"layer {l + 1}")


def test_a_small_step_lowers_the_loss_with_aligned_feedback():
    net, x, y = problem((4, 8, 3), "tanh", batch=16)
    loss = get_loss("mse")
    rule = DFA(lr=1e-3)
    rule.feedback = [net.weights[1][:, :-1].copy()]
    before = loss(net(x), y)
    rule.step(net, x, y)
    assert loss(net(x), y) < before


def test_training_lowers_the_loss_with_random_feedback():
    net, x, y = problem((4, 16, 16, 3), "tanh", batch=32)
    loss = get_loss("mse")
    rule = make_rule("dfa", lr=0.05, seed=3)
    start = loss(net(x), y)
    for _ in range(300):
        rule.step(net, x, y)
    assert loss(net(x), y) < 0.5 * start


def test_seeded_determinism():
    results = []
    for seed in (1, 1, 2):
        net, x, y = problem()
        rule = DFA(lr=0.05, seed=seed)
        for _ in range(3):
            rule.step(net, x, y)
        results.append(np.concatenate([w.ravel() for w in net.weights]))
    assert np.array_equal(results[0], results[1])
    assert not np.allclose(results[0], results[2])


def test_feedback_scale_sets_the_spread():
    net = MLP([3, 400, 400, 4], "tanh")
    feedback = DFA(feedback_scale=2.0).init_feedback(net)
    assert abs(np.std(feedback[0]) - 2.0 / np.sqrt(4)) < 0.05


@pytest.mark.parametrize("kwargs, name", [(dict(feedback_scale=0.0), "feedback_scale"),
                                          (dict(feedback_scale=np.nan), "feedback_scale"),
                                          (dict(seed=-1), "seed"), (dict(seed=1.5), "seed"),
                                          (dict(loss="hinge_xyz"), "hinge_xyz"), (dict(lr=-1.0), "lr"),
                                          (dict(optimizer="rmsprop_xyz"), "rmsprop_xyz")])
def test_bad_options_raise_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_rule("dfa", **kwargs)


def test_wrong_feedback_shapes_raise():
    net, x, y = problem()
    rule = DFA()
    rule.feedback = [np.zeros((3, 6))]
    with pytest.raises(ValueError, match="shape mismatch"):
        rule.step(net, x, y)


@pytest.mark.parametrize("loss, optimizer", [("mse", dict(lr=0.05, momentum=0.5)),
                                             ("cross_entropy", dict(optimizer="adam", lr=0.01))])
def test_runs_through_the_training_loop(loss, optimizer):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4))
    labels = (x[:, 0] + x[:, 1] > 0).astype(int)
    y = np.eye(2)[labels]
    data = Dataset("toy", x[:30], y[:30], x[30:], y[30:], "classification")
    net = MLP([4, 8, 8, 2], "relu", seed=0)
    history = train(net, make_rule("dfa", loss=loss, **optimizer), data, epochs=3, batch_size=5)
    assert not history.diverged and history.epochs == 3
    assert all(np.isfinite(v) for d in history.diagnostics[1:] for v in d.values())
    key = "train_mse" if loss == "mse" else "train_ce"
    assert history.diagnostics[1] and history.metrics[key][-1] < history.metrics[key][0]
