"""Tests for the two exact-TP variants beyond the seed: layer-level minimum-norm input targets
(input_rule="pinv") and the joint minimum-norm batch projection (weight_rule="joint"), plus
``diagnostics=False``."""
import numpy as np
import pytest

from tpnb.network import MLP, with_bias
from tpnb.rules import ExactTP
from tpnb.rules.exact_tp import RIDGE, ridge_solve_rows

from problems import random_problem
from tolerances import EPS, assert_close_conditioned


def output_after_step(rule, net, x, y):
    stepped = net.copy()
    rule.step(stepped, x, y)
    return stepped, stepped(x)


@pytest.mark.parametrize("shape", [(3, 7), (7, 3), (5, 5), (1, 4)])
@pytest.mark.parametrize("seed", range(3))
def test_ridge_solve_rows_is_pseudo_inverse(shape, seed):
    rng = np.random.default_rng(seed)
    m, n = shape                                      # singular values in [0.5, 2]: a conditioned matrix
    u, _ = np.linalg.qr(rng.normal(size=(m, m)))
    v, _ = np.linalg.qr(rng.normal(size=(n, n)))
    a = u[:, :min(m, n)] @ np.diag(rng.uniform(0.5, 2.0, min(m, n))) @ v[:, :min(m, n)].T
    rhs = rng.normal(size=(6, shape[0]))
    np.testing.assert_allclose(ridge_solve_rows(rhs, a), rhs @ np.linalg.pinv(a).T, rtol=1e-6, atol=1e-8)


# Property E for every variant (one sample, eta = 1: the new weights map it to its target) is part of the
# property test test_exact_tp.py::test_property_e, which draws input_rule and weight_rule with the other options.


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_pinv_input_change_is_exact_and_minimum_norm(seed, alpha):
    """Before projection, W (x + dx) hits u + (1 - alpha) dv exactly, and dx lies in W's row space."""
    rng = np.random.default_rng(seed)
    net = MLP([4, 9, 3], "leaky_relu", seed=seed)
    rule = ExactTP(alpha=alpha, cap=None, input_rule="pinv")
    w = net.weights[1]
    x = with_bias(rng.normal(size=(5, 9)))
    u = x @ w.T
    dv = rng.normal(size=(5, 3))
    _, ix = rule.input_target(net, w, x, u, dv)
    dx = ix - x[:, :-1]
    np.testing.assert_allclose(dx @ w[:, :-1].T, (1 - alpha) * dv, atol=1e-8)
    null = np.linalg.svd(w[:, :-1])[2][3:]           # basis of W's null space (6 x 9)
    np.testing.assert_allclose(dx @ null.T, 0.0, atol=1e-8)


def test_pinv_moves_input_further_than_the_mean_of_proposals():
    """The mean of N per-neuron proposals moves x by about 1/N of what each asks for; pinv by all of it."""
    net, x, y = random_problem([5, 40, 10], "leaky_relu", seed=1, batch=16)
    fp = net.forward(x)
    w = net.weights[1]
    dv = y - fp.output
    steps = {}
    for input_rule in ("mean", "pinv"):
        rule = ExactTP(alpha=0.0, cap=None, input_rule=input_rule)
        _, ix = rule.input_target(net, w, fp.xs[1], fp.us[1], dv)
        steps[input_rule] = np.linalg.norm((ix - fp.xs[1][:, :-1]) @ w[:, :-1].T - dv)
    assert steps["pinv"] < 1e-8 < steps["mean"]


@pytest.mark.parametrize("batch", [1, 3, 6])
@pytest.mark.parametrize("seed", range(4))
def test_joint_single_layer_hits_every_target_with_minimum_change(batch, seed):
    """B <= d + 1: one step with eta = 1 puts every sample of the batch on its target, and the change
    of each row lies in the span of the batch inputs (the minimum-norm solution)."""
    net, x, y = random_problem([6, 2], "identity", seed=seed, batch=batch)
    rule = ExactTP(weight_rule="joint")
    stepped, out = output_after_step(rule, net, x, y)
    np.testing.assert_allclose(out, y, atol=1e-7)
    dw = stepped.weights[0] - net.weights[0]
    xb = with_bias(x)
    coef = np.linalg.lstsq(xb.T, dw.T, rcond=None)[0]
    np.testing.assert_allclose(xb.T @ coef, dw.T, atol=1e-8)


def test_joint_batch_of_one_equals_the_seed_rule():
    net, x, y = random_problem([4, 7, 7, 3], "relu", seed=3, batch=1)
    a = ExactTP(alpha=0.5, weight_rule="joint").mean_update(net, x, y)[0]
    b = ExactTP(alpha=0.5).mean_update(net, x, y)[0]
    # the same input targets; only the last formula differs: r x'^T / |x'|^2 against the ridge solve
    # r x'^T / (|x'|^2 (1 + RIDGE)), whose rounding is normwise per row and whose ridge biases it by RIDGE
    factor = 4.0 * (max(net.sizes) + 8)
    for l, (da, db) in enumerate(zip(a, b)):
        scale = np.linalg.norm(db, axis=1, keepdims=True) * (1 + 2 * RIDGE / (factor * EPS))
        assert_close_conditioned(da, db, scale, factor, err_msg=f"layer {l + 1}")


def test_joint_overdetermined_batch_gives_least_squares():
    """B > d + 1 on a single linear layer: one step lands on the least-squares solution."""
    net, x, y = random_problem([3, 2], "identity", seed=0, batch=50)
    stepped, _ = output_after_step(ExactTP(weight_rule="joint"), net, x, y)
    ls = np.linalg.lstsq(with_bias(x), y, rcond=None)[0].T
    np.testing.assert_allclose(stepped.weights[0], ls, atol=1e-7)


@pytest.mark.parametrize("options", [dict(), dict(input_rule="pinv"), dict(weight_rule="joint", eta=0.5)])
def test_diagnostics_off_changes_nothing_but_the_record(options):
    net, x, y = random_problem([5, 8, 8, 3], "relu", seed=2, batch=7)
    on, off = net.copy(), net.copy()
    recorded = ExactTP(**options).step(on, x, y)
    assert recorded and all(np.isfinite(v) for v in recorded.values())
    assert ExactTP(diagnostics=False, **options).step(off, x, y) == {}
    for a, b in zip(on.weights, off.weights):      # the same code path computes the updates: bit-identical
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, name", [(dict(input_rule="both"), "input_rule"),
                                          (dict(weight_rule="sum"), "weight_rule")])
def test_unknown_variant_is_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ExactTP(**kwargs)
