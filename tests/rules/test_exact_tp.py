"""Tests for tpnb.rules.exact_tp: property E, the vectorised batch rule against the per-sample
reference, the meaning of each option, the geometry of the updates, and argument validation."""
import itertools

import numpy as np
import pytest

from tpnb.network import MLP
from tpnb.rules import ExactTP, make_rule, per_sample_weights

D_IN, N_OUT = 4, 3

# option sets exercised by the property tests (dx_mode is crossed with each of them)
RULE_OPTIONS = [
    dict(),
    dict(alpha=0.0),
    dict(alpha=1.0),
    dict(alpha=0.3, cap=None),
    dict(alpha=0.9, cap=0.7, margin=0.5),
    dict(a=0.05),
    dict(a=2.0, cap=1.0),
    dict(a=0.0, cap=None, margin=0.1),
    dict(output_target="step", beta=0.3),
    dict(output_target="softmax_step", beta=2.0, margin=0.2),
]
DX_MODES = ("full", "exact")
OTHER_ACTIVATIONS = ("tanh", "sigmoid", "leaky_relu", "x_plus_relu", "identity")


def option_id(options):
    return "-".join(f"{k}={v}" for k, v in options.items()) or "defaults"


def make_net(depth, width, activation="relu", seed=0, n_out=N_OUT, bias_scale=0.3):
    """A random MLP with `depth` weight layers, hidden width `width` and random (non-zero) biases."""
    net = MLP([D_IN] + [width] * (depth - 1) + [n_out], activation, seed=seed)
    rng = np.random.default_rng(1000 + seed)
    for w in net.weights:
        w[:, -1] = rng.normal(0.0, bias_scale, size=w.shape[0])
    return net


def make_batch(net, batch, seed=0, y_scale=1.0):
    rng = np.random.default_rng(2000 + seed)
    x = rng.normal(size=(batch, net.sizes[0]))
    y = rng.normal(0.0, y_scale, size=(batch, net.sizes[-1]))
    return x, y


def softmax_rows(u):
    z = np.exp(u - u.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def expected_output_target(rule, u, y):
    """u'_L computed independently of the package."""
    if rule.output_target == "label":
        return y
    if rule.output_target == "step":
        return u + rule.beta * (y - u)
    return u + rule.beta * (y - softmax_rows(u))


def assert_property_e(rule, net, x, y, tol=1e-9):
    """theta'(x, y) maps x to u'_L, sample by sample; returns the per-sample weights."""
    thetas = []
    for xb, yb in zip(x, y):
        theta = per_sample_weights(rule, net, xb, yb)
        assert len(theta) == net.depth
        for w_new, w in zip(theta, net.weights):
            assert w_new.shape == w.shape
            assert np.all(np.isfinite(w_new))
        target = expected_output_target(rule, net(xb[None]), yb[None])
        out = net(xb[None], weights=theta)
        err = np.max(np.abs(out - target)) / max(1.0, np.max(np.abs(target)))
        assert err < tol, f"property E violated: relative error {err:.3g}"
        thetas.append(theta)
    return thetas


def reference_mean_update(rule, net, x, y):
    """mean_b theta'_b - theta from the per-sample (neuron by neuron) reference."""
    thetas = [per_sample_weights(rule, net, xb, yb) for xb, yb in zip(x, y)]
    return [np.mean([t[l] for t in thetas], axis=0) - net.weights[l] for l in range(net.depth)]


def assert_updates_close(actual, expected, tol=1e-10):
    assert len(actual) == len(expected)
    for l, (a, e) in enumerate(zip(actual, expected)):
        assert a.shape == e.shape
        scale = max(1.0, float(np.max(np.abs(e))))
        np.testing.assert_allclose(a, e, rtol=0, atol=tol * scale, err_msg=f"layer {l + 1}")


# --------------------------------------------------------------------------------------------
# Property E


@pytest.mark.parametrize("options", RULE_OPTIONS, ids=option_id)
@pytest.mark.parametrize("dx_mode", DX_MODES)
@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("width", [1, 3, 17])
def test_property_e_relu(options, dx_mode, depth, width):
    rule = ExactTP(dx_mode=dx_mode, **options)
    seed = depth * 100 + width
    net = make_net(depth, width, "relu", seed=seed)
    x, y = make_batch(net, 3, seed=seed, y_scale=2.0)
    assert_property_e(rule, net, x, y)


@pytest.mark.parametrize("activation", OTHER_ACTIVATIONS)
@pytest.mark.parametrize("options", RULE_OPTIONS, ids=option_id)
@pytest.mark.parametrize("dx_mode", DX_MODES)
@pytest.mark.parametrize("depth", [2, 3, 5])
def test_property_e_other_activations(activation, options, dx_mode, depth):
    rule = ExactTP(dx_mode=dx_mode, **options)
    seed = depth * 10 + len(activation)
    net = make_net(depth, 5, activation, seed=seed)
    x, y = make_batch(net, 2, seed=seed, y_scale=0.5)  # moderate targets
    assert_property_e(rule, net, x, y)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_property_e_with_large_targets(activation):
    """Far-away targets force heavy clipping; the per-sample weights are still exact."""
    net = make_net(3, 4, activation, seed=5)
    x, y = make_batch(net, 4, seed=5, y_scale=50.0)
    for options in (dict(), dict(alpha=0.0, cap=0.3)):
        assert_property_e(ExactTP(**options), net, x, y)


# --------------------------------------------------------------------------------------------
# Vectorised batch rule == mean over the per-sample reference


@pytest.mark.parametrize("options", RULE_OPTIONS, ids=option_id)
@pytest.mark.parametrize("dx_mode", DX_MODES)
@pytest.mark.parametrize("batch", [1, 2, 7, 33])
@pytest.mark.parametrize("activation, depth, width", [("relu", 1, 3), ("relu", 2, 1), ("relu", 3, 17),
                                                      ("relu", 5, 3), ("tanh", 3, 4),
                                                      ("leaky_relu", 2, 6), ("sigmoid", 4, 3)])
def test_mean_update_matches_per_sample_reference(options, dx_mode, batch, activation, depth, width):
    rule = ExactTP(dx_mode=dx_mode, **options)
    seed = batch + 7 * depth + width
    net = make_net(depth, width, activation, seed=seed)
    x, y = make_batch(net, batch, seed=seed, y_scale=0.5 if activation in ("tanh", "sigmoid") else 1.5)
    updates, diagnostics = rule.mean_update(net, x, y)
    assert_updates_close(updates, reference_mean_update(rule, net, x, y))
    assert all(np.isfinite(v) for v in diagnostics.values())


def test_mean_update_does_not_touch_weights():
    net = make_net(3, 5, seed=1)
    before = [w.copy() for w in net.weights]
    x, y = make_batch(net, 6, seed=1)
    ExactTP().mean_update(net, x, y)
    for w, b in zip(net.weights, before):
        np.testing.assert_array_equal(w, b)


# --------------------------------------------------------------------------------------------
# What a and alpha mean


@pytest.mark.parametrize("depth", [2, 3, 5])
@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("dx_mode", DX_MODES)
def test_alpha_one_means_no_input_change(depth, batch, dx_mode):
    """alpha = 1: dx = 0, so x' = project(x) = x (activations within the cap), every hidden layer's
    pre-activation target equals its current value and only the output layer moves, by the plain
    normalised step dv x / |x|^2 (the update computed with x' = x)."""
    net = make_net(depth, 4, seed=depth)
    x, y = make_batch(net, batch, seed=depth)
    fp = net.forward(x)
    assert max(np.max(h[:, :-1]) for h in fp.xs[1:]) < 50.0
    rule = ExactTP(alpha=1.0, cap=50.0, dx_mode=dx_mode)
    updates, diagnostics = rule.mean_update(net, x, y)
    for l in range(depth - 1):
        np.testing.assert_allclose(updates[l], 0.0, atol=1e-12)
    for l in range(1, depth):
        assert diagnostics[f"target_step_{l + 1}"] == 0.0
        assert diagnostics[f"clipped_{l + 1}"] == 0.0
    x_top = fp.xs[-1]
    dv = y - fp.output
    expected = (dv.T @ (x_top / np.sum(x_top ** 2, axis=1, keepdims=True))) / batch
    np.testing.assert_allclose(updates[-1], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("depth, width, seed", [(2, 4, 0), (3, 17, 40), (3, 17, 1), (5, 3, 3), (4, 8, 5)])
@pytest.mark.parametrize("dx_mode", DX_MODES)
def test_alpha_one_per_sample_reference_keeps_hidden_layers(depth, width, seed, dx_mode):
    """The same for the per-sample reference: alpha = 1 means dx = 0 exactly, so with no cap every
    hidden layer keeps its weights. (A rounding residue in 1 - a|x|^2 would move dead ReLU units'
    targets x' from 0 to +1e-17, and the ReLU target rule turns that into u' = 0 instead of u.)"""
    net = make_net(depth, width, seed=seed)
    x, y = make_batch(net, 4, seed=seed, y_scale=1.5)
    rule = ExactTP(alpha=1.0, cap=None, dx_mode=dx_mode)
    for xb, yb in zip(x, y):
        theta = per_sample_weights(rule, net, xb, yb)
        for l in range(depth - 1):
            np.testing.assert_allclose(theta[l], net.weights[l], rtol=0, atol=1e-12,
                                       err_msg=f"layer {l + 1} moved although alpha = 1")


def test_alpha_one_with_cap_below_activations_clips_targets():
    """With alpha = 1 the only change to a hidden target is the projection (the cap)."""
    net = make_net(2, 6, seed=3)
    x, y = make_batch(net, 1, seed=3)
    x[:] *= 10.0
    h = net.forward(x).xs[1][0, :-1]
    cap = 0.5 * h.max()
    assert cap > 0
    rule = ExactTP(alpha=1.0, cap=cap)
    theta = per_sample_weights(rule, net, x[0], y[0])
    x_target = net.forward(x, weights=theta).xs[1][0, :-1]
    np.testing.assert_allclose(x_target, np.minimum(h, cap), atol=1e-12)
    _, diagnostics = rule.mean_update(net, x, y)
    assert diagnostics["clipped_2"] == pytest.approx(np.mean(h > cap))


@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.5, 0.8, 1.0])
@pytest.mark.parametrize("dx_mode", DX_MODES)
@pytest.mark.parametrize("seed", range(3))
def test_a_and_alpha_agree_for_batch_of_one(alpha, dx_mode, seed):
    """In a depth-2 net only the output layer splits the change, so a = alpha / |x_2|^2 is the same rule."""
    net = make_net(2, 5, seed=seed)
    x, y = make_batch(net, 1, seed=seed)
    x2 = net.forward(x).xs[1][0]
    by_alpha = ExactTP(alpha=alpha, dx_mode=dx_mode, cap=None).mean_update(net, x, y)[0]
    by_a = ExactTP(a=alpha / (x2 @ x2), dx_mode=dx_mode, cap=None).mean_update(net, x, y)[0]
    assert_updates_close(by_a, by_alpha, tol=1e-12)


@pytest.mark.parametrize("dx_mode", DX_MODES)
def test_alpha_zero_input_target_formula(dx_mode):
    """Spec: with a = 0 the averaged input target is x + (1/N) W^T diag(1/|w_n|^2) dv (over the
    coordinates that can change; the bias entry of dx is discarded, and in "exact" mode the norms
    are taken over the changeable coordinates only)."""
    net = make_net(2, 5, "identity", seed=4)
    x, y = make_batch(net, 3, seed=4)
    fp = net.forward(x)
    w, x2, u2 = net.weights[1], fp.xs[1], fp.us[1]
    dv = y - u2
    rule = ExactTP(alpha=0.0, cap=None, dx_mode=dx_mode)
    x_proj, ix = rule.input_target(net, w, x2, u2, dv)
    norms = np.sum(w ** 2, axis=1) if dx_mode == "full" else np.sum(w[:, :-1] ** 2, axis=1)
    expected = x2[:, :-1] + (dv / norms) @ w[:, :-1] / w.shape[0]
    np.testing.assert_allclose(ix, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(x_proj, ix)  # identity, no cap: nothing to project


# --------------------------------------------------------------------------------------------
# Single-neuron exactness and the zero denominator


@pytest.mark.parametrize("split", [dict(alpha=0.0), dict(alpha=0.4), dict(a=0.03), dict(a=0.5)], ids=option_id)
@pytest.mark.parametrize("depth", [2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_exact_mode_single_neuron_proposal_is_exact(split, depth, seed):
    """dx_mode="exact", no cap, identity activation, one output neuron: nothing is averaged or
    projected, so x' = x + dx satisfies <x', w + a dv x> = u' exactly. x' is read off the public
    per-sample weights: with the identity activation x'_L = [W'_{L-1} x'_{L-1}, 1]."""
    net = make_net(depth, 4, "identity", seed=seed, n_out=1)
    x, y = make_batch(net, 1, seed=seed)
    rule = ExactTP(dx_mode="exact", cap=None, **split)
    theta = per_sample_weights(rule, net, x[0], y[0])
    x_new = net.forward(x, weights=theta).xs[-1][0]            # x'_L, bias entry 1
    x_old = net.forward(x).xs[-1][0]
    w = net.weights[-1][0]
    dv = y[0, 0] - w @ x_old
    a = split["a"] if "a" in split else split["alpha"] / (x_old @ x_old)
    assert x_new[-1] == 1.0
    assert x_new @ (w + a * dv * x_old) == pytest.approx(y[0, 0], rel=1e-10, abs=1e-10)
    # the same through the vectorised input_target
    x_proj, _ = rule.input_target(net, net.weights[-1], x_old[None], np.array([[w @ x_old]]), np.array([[dv]]))
    np.testing.assert_allclose(x_proj[0], x_new[:-1], rtol=1e-10, atol=1e-10)
    # and the final weights are exact for that x' (property E at the output layer)
    np.testing.assert_allclose(theta[-1][0] @ x_new, y[0, 0], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_full_mode_single_neuron_proposal_is_not_exact(seed):
    """Contrast: in "full" mode the bias entry of dx is discarded, so the single-neuron proposal
    misses u' (which is why the "exact" variant exists)."""
    net = make_net(2, 4, "identity", seed=seed, n_out=1)
    x, y = make_batch(net, 1, seed=seed)
    rule = ExactTP(dx_mode="full", cap=None, alpha=0.3)
    theta = per_sample_weights(rule, net, x[0], y[0])
    x_new = net.forward(x, weights=theta).xs[-1][0]
    x_old = net.forward(x).xs[-1][0]
    w = net.weights[-1][0]
    dv = y[0, 0] - w @ x_old
    a = 0.3 / (x_old @ x_old)
    assert abs(x_new @ (w + a * dv * x_old) - y[0, 0]) > 1e-8


def zero_denominator_net(n_out):
    """A depth-2 ReLU net and a sample where output neuron 0 has w + a dv x = 0 exactly for alpha = 0.5.

    Layer 1 outputs h = [1, 1, 1] (zero weights, bias 1), so x_2 = [1, 1, 1, 1], |x_2|^2 = 4.
    With y_0 = 2 and w_0 = -y_0 x_2 / |x_2|^2 = [-0.5] * 4: u_0 = -2, dv_0 = 4, a = 0.5 / 4,
    a dv_0 x_2 = [0.5] * 4 = -w_0. Every number is exact in binary floating point.
    """
    net = MLP([2, 3, n_out], "relu", seed=0)
    net.weights[0][:] = 0.0
    net.weights[0][:, -1] = 1.0
    net.weights[1][0] = -0.5
    x = np.array([[0.3, -0.2]])
    y = np.zeros((1, n_out))
    y[0, 0] = 2.0
    if n_out > 1:
        y[0, 1:] = np.linspace(-1.0, 1.0, n_out - 1)
    return net, x, y


@pytest.mark.parametrize("split", [dict(alpha=0.5), dict(a=0.125)], ids=option_id)
@pytest.mark.parametrize("dx_mode", DX_MODES)
@pytest.mark.parametrize("n_out", [1, 3])
def test_zero_denominator_gives_no_nan(split, dx_mode, n_out):
    net, x, y = zero_denominator_net(n_out)
    x2 = net.forward(x).xs[1][0]
    u0 = net.forward(x).output[0, 0]
    a = 0.5 / (x2 @ x2)
    np.testing.assert_array_equal(net.weights[1][0] + a * (y[0, 0] - u0) * x2, 0.0)  # the degenerate case
    rule = ExactTP(dx_mode=dx_mode, **split)
    with np.errstate(all="raise"):
        updates, diagnostics = rule.mean_update(net, x, y)
        theta = per_sample_weights(rule, net, x[0], y[0])
    assert all(np.all(np.isfinite(u)) for u in updates)
    assert all(np.all(np.isfinite(t)) for t in theta)
    assert all(np.isfinite(v) for v in diagnostics.values())
    assert_updates_close(updates, [t - w for t, w in zip(theta, net.weights)])
    np.testing.assert_allclose(net(x, weights=theta), y, atol=1e-12)
    if n_out == 1:
        # the only neuron proposes dx = 0: x' = x and layer 1 keeps its weights
        assert diagnostics["target_step_2"] == 0.0
        np.testing.assert_array_equal(updates[0], 0.0)
        np.testing.assert_array_equal(theta[0], net.weights[0])
        np.testing.assert_allclose(theta[1][0], [0.5] * 4)


NEAR_ZERO_SEEDS = range(5)


@pytest.mark.parametrize("seed", NEAR_ZERO_SEEDS)
@pytest.mark.parametrize("cap", [2.0, None])
def test_denominator_zero_up_to_rounding_proposes_no_change(seed, cap):
    """The same degenerate neuron (w = -a dv x) with inexact numbers: |w + a dv x|^2 is zero up to
    rounding. The spec says such a neuron proposes dx = 0; it must not propose a ~1e15 step.
    With one output neuron that means x' = project(x), exactly what alpha = 1 (dx = 0) gives, in
    both implementations; and property E still holds (it breaks when x' is ~1e15)."""
    net = MLP([2, 3, 1], "relu", seed=seed)
    x = np.random.default_rng(3 + seed).normal(size=(1, 2))
    x2 = net.forward(x).xs[1][0]
    y = np.array([[1.3]])
    net.weights[1][0] = -y[0, 0] * x2 / (x2 @ x2)   # with alpha = 0.5: w = -a dv x
    rule = ExactTP(alpha=0.5, cap=cap)
    expected, _ = ExactTP(alpha=1.0, cap=cap).mean_update(net, x, y)   # dx = 0
    updates, _ = rule.mean_update(net, x, y)
    theta = per_sample_weights(rule, net, x[0], y[0])
    for l in range(net.depth):
        np.testing.assert_allclose(updates[l], expected[l], atol=1e-6, err_msg=f"mean_update layer {l + 1}")
        np.testing.assert_allclose(theta[l] - net.weights[l], expected[l], atol=1e-6,
                                   err_msg=f"per_sample_weights layer {l + 1}")
    np.testing.assert_allclose(net(x, weights=theta), y, atol=1e-9, err_msg="property E")


# --------------------------------------------------------------------------------------------
# Geometry of the final weight update


@pytest.mark.parametrize("options", RULE_OPTIONS, ids=option_id)
@pytest.mark.parametrize("dx_mode", DX_MODES)
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_final_dw_is_minimum_norm_orthogonal_projection(options, dx_mode, activation):
    """For every layer, w'_n - w_n is parallel to x' and equals the minimum-norm solution of
    <x', w_n + dw> = u'_n (np.linalg.lstsq); for layer 1, x' = x."""
    rule = ExactTP(dx_mode=dx_mode, **options)
    net = make_net(3, 6, activation, seed=11)
    x, y = make_batch(net, 2, seed=11, y_scale=0.5)
    for xb, yb in zip(x, y):
        theta = per_sample_weights(rule, net, xb, yb)
        fp_new = net.forward(xb[None], weights=theta)   # records x'_l and u'_l = W'_l x'_l
        np.testing.assert_array_equal(fp_new.xs[0], net.forward(xb[None]).xs[0])
        for l in range(net.depth):
            x_t, u_t = fp_new.xs[l][0], fp_new.us[l][0]
            w = net.weights[l]
            dw = theta[l] - w
            # parallel to x': remove the component along x', nothing is left
            along = (dw @ x_t)[:, None] * x_t[None, :] / (x_t @ x_t)
            np.testing.assert_allclose(dw, along, atol=1e-10)
            # minimum-norm change with <x', w'> = u'
            solution = np.linalg.lstsq(x_t[None, :], (u_t - w @ x_t)[None, :], rcond=None)[0].T
            np.testing.assert_allclose(dw, solution, rtol=1e-9, atol=1e-10)
        target = expected_output_target(rule, net(xb[None]), yb[None])[0]
        np.testing.assert_allclose(fp_new.output[0], target, atol=1e-9)


# --------------------------------------------------------------------------------------------
# The batch step


@pytest.mark.parametrize("eta", [0.1, 0.5, 1.0, 1.7])
@pytest.mark.parametrize("options", RULE_OPTIONS[:6], ids=option_id)
def test_step_moves_by_eta_times_mean_update(eta, options):
    net = make_net(3, 5, seed=2)
    x, y = make_batch(net, 6, seed=2)
    rule = ExactTP(eta=eta, **options)
    updates, expected_diag = rule.mean_update(net, x, y)
    stepped = net.copy()
    diagnostics = rule.step(stepped, x, y)
    assert diagnostics == pytest.approx(expected_diag, rel=1e-12, abs=1e-14)
    for w_new, w, dw in zip(stepped.weights, net.weights, updates):
        np.testing.assert_allclose(w_new, w + eta * dw, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("options", RULE_OPTIONS, ids=option_id)
def test_step_with_eta_one_is_plain_average_of_theta(options):
    net = make_net(3, 5, seed=9)
    x, y = make_batch(net, 5, seed=9)
    rule = ExactTP(eta=1.0, **options)
    thetas = [per_sample_weights(rule, net, xb, yb) for xb, yb in zip(x, y)]
    stepped = net.copy()
    rule.step(stepped, x, y)
    for l in range(net.depth):
        np.testing.assert_allclose(stepped.weights[l], np.mean([t[l] for t in thetas], axis=0),
                                   rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_out", [1, 3])
@pytest.mark.parametrize("options", [dict(), dict(a=0.7, dx_mode="exact"), dict(cap=None, margin=1.0)],
                         ids=option_id)
def test_single_layer_batch_of_one_is_kaczmarz(seed, n_out, options):
    """Depth 1, eta = 1, batch 1: the step is a Kaczmarz projection; the net then outputs y on x,
    and the change is the minimum-norm one, dv x^T / |x|^2."""
    net = make_net(1, 1, seed=seed, n_out=n_out)
    x, y = make_batch(net, 4, seed=seed, y_scale=3.0)
    rule = ExactTP(eta=1.0, **options)
    for i in range(len(x)):
        xb, yb = x[i:i + 1], y[i:i + 1]
        before = net.weights[0].copy()
        dv = yb[0] - net(xb)[0]
        rule.step(net, xb, yb)
        np.testing.assert_allclose(net(xb), yb, rtol=0, atol=1e-12)
        xbias = np.append(xb[0], 1.0)
        np.testing.assert_allclose(net.weights[0] - before, np.outer(dv, xbias) / (xbias @ xbias),
                                   rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("eta", [0.5, 1.0, 1.8])
def test_single_layer_full_batch_is_cimmino_and_converges(eta):
    """Averaging the Kaczmarz projections of a consistent linear system (Cimmino) converges for
    0 < eta < 2 to a solution: the training MSE goes to ~0."""
    rng = np.random.default_rng(0)
    net = MLP([3, 2], "relu", seed=1)
    teacher = rng.normal(size=(2, 4))
    x = rng.normal(size=(12, 3))
    y = x @ teacher[:, :-1].T + teacher[:, -1]
    rule = ExactTP(eta=eta)
    start = np.mean((net(x) - y) ** 2)
    for _ in range(400):
        rule.step(net, x, y)
    assert np.mean((net(x) - y) ** 2) < 1e-10 * start
    np.testing.assert_allclose(net.weights[0], teacher, atol=1e-5)


# --------------------------------------------------------------------------------------------
# Determinism, diagnostics, validation


@pytest.mark.parametrize("options", RULE_OPTIONS, ids=option_id)
def test_deterministic(options):
    net = make_net(4, 7, seed=6)
    x, y = make_batch(net, 9, seed=6)
    rule = ExactTP(**options)
    first, diag1 = rule.mean_update(net, x, y)
    second, diag2 = ExactTP(**options).mean_update(net.copy(), x.copy(), y.copy())
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert diag1 == diag2
    for a, b in zip(per_sample_weights(rule, net, x[0], y[0]), per_sample_weights(rule, net, x[0], y[0])):
        np.testing.assert_array_equal(a, b)
    nets = [net.copy(), net.copy()]
    for n in nets:
        for _ in range(3):
            rule.step(n, x, y)
    for a, b in zip(*(n.weights for n in nets)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, name", [
    (dict(a=-0.1), "a must"),
    (dict(a=float("nan")), "a must"),
    (dict(alpha=-0.01), "alpha"),
    (dict(alpha=1.01), "alpha"),
    (dict(alpha=float("nan")), "alpha"),
    (dict(a=0.1, alpha=0.5), "either a or alpha"),
    (dict(eta=0.0), "eta"),
    (dict(eta=-1.0), "eta"),
    (dict(eta=float("nan")), "eta"),
    (dict(cap=0.0), "cap"),
    (dict(cap=-2.0), "cap"),
    (dict(margin=-0.1), "margin"),
    (dict(margin=float("nan")), "margin"),
    (dict(dx_mode="partial_xyz"), "dx_mode"),
    (dict(output_target="logits_xyz"), "output_target"),
    (dict(beta=0.0), "beta"),
    (dict(beta=-1.0), "beta"),
])
def test_invalid_options_raise_naming_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ExactTP(**kwargs)
    with pytest.raises(ValueError, match=name):
        make_rule("exact_tp", **kwargs)


def test_unknown_option_values_are_named_in_message():
    with pytest.raises(ValueError, match="partial_xyz"):
        ExactTP(dx_mode="partial_xyz")
    with pytest.raises(ValueError, match="logits_xyz"):
        ExactTP(output_target="logits_xyz")


def test_defaults_and_repr():
    rule = make_rule("exact_tp")
    assert isinstance(rule, ExactTP)
    assert (rule.a, rule.alpha, rule.eta, rule.cap, rule.margin) == (None, 0.5, 1.0, 2.0, 0.0)
    assert (rule.dx_mode, rule.output_target) == ("full", "label")
    assert "alpha=0.5" in repr(rule) and "a=0.3" in repr(ExactTP(a=0.3))


@pytest.mark.parametrize("depth", [1, 2, 4])
@pytest.mark.parametrize("options", [dict(), dict(cap=None, alpha=0.0), dict(output_target="softmax_step")],
                         ids=option_id)
def test_diagnostics_keys_present_and_finite(depth, options):
    net = make_net(depth, 5, seed=depth)
    x, y = make_batch(net, 8, seed=depth)
    diagnostics = ExactTP(**options).step(net, x, y)
    expected = {f"{kind}_{l}" for l in range(1, depth + 1) for kind in ("spread", "update")}
    expected |= {f"{kind}_{l}" for l in range(2, depth + 1) for kind in ("target_step", "clipped")}
    assert set(diagnostics) == expected
    for key, value in diagnostics.items():
        assert isinstance(value, float) and np.isfinite(value), key
        assert value >= 0.0, key
    for l in range(2, depth + 1):
        assert 0.0 <= diagnostics[f"clipped_{l}"] <= 1.0


def test_diagnostics_values():
    """update_l is the norm of the mean update; spread_l the root mean squared deviation of the
    per-sample updates from it (zero for a batch of one)."""
    net = make_net(3, 4, seed=8)
    x, y = make_batch(net, 6, seed=8)
    rule = ExactTP()
    updates, diagnostics = rule.mean_update(net, x, y)
    per_sample = [[t - w for t, w in zip(per_sample_weights(rule, net, xb, yb), net.weights)]
                  for xb, yb in zip(x, y)]
    for l in range(net.depth):
        assert diagnostics[f"update_{l + 1}"] == pytest.approx(np.linalg.norm(updates[l]), rel=1e-12)
        deviations = [np.sum((p[l] - updates[l]) ** 2) for p in per_sample]
        assert diagnostics[f"spread_{l + 1}"] == pytest.approx(np.sqrt(np.mean(deviations)), rel=1e-6, abs=1e-9)
    _, single = rule.mean_update(net, x[:1], y[:1])
    for l in range(net.depth):
        assert single[f"spread_{l + 1}"] == pytest.approx(0.0, abs=1e-7)


def test_output_target_options():
    rule_cls = ExactTP
    u = np.array([[0.5, -1.0, 2.0]])
    y = np.array([[0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(rule_cls().output_targets(u, y), y)
    np.testing.assert_allclose(rule_cls(output_target="step", beta=0.25).output_targets(u, y),
                               u + 0.25 * (y - u), rtol=1e-15)
    np.testing.assert_allclose(rule_cls(output_target="softmax_step", beta=3.0).output_targets(u, y),
                               u + 3.0 * (y - softmax_rows(u)), rtol=1e-14)


def test_all_option_combinations_construct():
    for dx_mode, target, split in itertools.product(("full", "exact"), ("label", "step", "softmax_step"),
                                                     (dict(a=0.0), dict(alpha=1.0), dict())):
        rule = ExactTP(dx_mode=dx_mode, output_target=target, **split)
        assert rule.dx_mode == dx_mode and rule.output_target == target


@pytest.mark.parametrize("options", [dict(diagnostics=False), dict(), dict(input_rule="pinv"),
                                     dict(weight_rule="joint"), dict(a=0.05, dx_mode="exact")], ids=option_id)
def test_float32_option_stays_float32_and_exact_to_float32_precision(options):
    # float32 network and data: every update is float32, and property E holds to float32 rounding
    rng = np.random.default_rng(5)
    net = MLP([D_IN, 6, 5, N_OUT], "relu", seed=3, dtype=np.float32)
    rule = ExactTP(**options)
    x = rng.normal(size=(1, D_IN)).astype(np.float32)
    y = rng.normal(size=(1, N_OUT)).astype(np.float32)
    updates, _ = rule.mean_update(net, x, y)
    assert [u.dtype for u in updates] == [np.float32] * net.depth
    new_weights = [w + u for w, u in zip(net.weights, updates)]
    np.testing.assert_allclose(net(x, new_weights), y, rtol=0, atol=1e-5 * (1 + np.abs(y).max()))
    batch_x = rng.normal(size=(8, D_IN)).astype(np.float32)
    rule.step(net, batch_x, rng.normal(size=(8, N_OUT)).astype(np.float32))
    assert all(w.dtype == np.float32 for w in net.weights)
