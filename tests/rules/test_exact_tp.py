"""Tests for tpnb.rules.exact_tp: property E, the vectorised batch rule against the per-sample
reference, the meaning of each option, the geometry of the updates, and argument validation.

The core invariants are Hypothesis properties over random depths, widths, activations, batches and options
(tests/rules/strategies.py); every tolerance is a multiple of eps times the size of the terms that are
rounded (tests/tolerances.py), so no assertion depends on one CPU's summation order."""
import itertools

import numpy as np
import pytest
from hypothesis import given, strategies as st

from tpnb.activations import ACTIVATIONS
from tpnb.network import MLP
from tpnb.rules import ExactTP, make_rule, per_sample_weights
from tpnb.rules.exact_tp import RIDGE, ZERO_TOL
from tolerances import EPS, abs_matmul, assert_close_conditioned, eps_of, lipschitz, sensitivity
from strategies import examples, exact_tp_options, floats, problems, random_batch, random_net, seeds

D_IN, N_OUT = 4, 3

# option sets of the example-based tests below (the property tests draw their options)
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


def rounding_factor(net, batch=1):
    """Rounding steps behind one entry: a dot product over the largest fan-in (+ bias), a sum over the batch,
    the few scalar operations around them (target, residual, projection), times a safety margin of 4."""
    return 4.0 * (max(net.sizes) + batch + 8)


def property_e_scales(rule, net, x, theta, eps=EPS):
    """Per layer, the size of the terms whose rounding separates W'_l x'_l from u'_l, (1, n_l) each.

    Layer l builds w'_n = w_n + (u'_n - <w_n, x'>) / |x'|^2 x' (from u_n = <w_n, x> and dv = u' - u), so
    <w'_n, x'> - u'_n is a sum of terms of size |u'_n|, |w_n| |x'| and |w_n| |x| (and, for weight_rule
    "joint", the solve's relative ridge: a bias of RIDGE times the residual it removes, allowed twice). The
    forward pass with theta' adds |w'_n| |x'| and carries the error of the layer below through |W'_l| and
    Lip(f). x' and u' are read off the forward pass with theta' (property E makes them the targets).
    """
    old, new = net.forward(x), net.forward(x, weights=theta)
    lip, factor = lipschitz(net.activation), rounding_factor(net)
    scales, carried = [], None
    for l, (w, w_new) in enumerate(zip(net.weights, theta)):
        x_new, u_new = new.xs[l], new.us[l]
        local = abs_matmul(x_new, np.abs(w_new).T + np.abs(w).T) + abs_matmul(old.xs[l], w.T) + np.abs(u_new)
        if rule.weight_rule == "joint":          # a bias of RIDGE |r|, written in units of factor * eps
            local = local + 2 * RIDGE / (factor * eps) * (np.abs(u_new) + abs_matmul(x_new, w.T))
        carried = local if carried is None else local + lip * abs_matmul(carried, w_new[:, :-1].T)
        scales.append(carried)
    return scales


def assert_property_e(rule, net, xb, yb, theta):
    """theta' maps the sample xb to u'_L (computed independently), up to rounding of the terms involved."""
    assert len(theta) == net.depth
    for w_new, w in zip(theta, net.weights):
        assert w_new.shape == w.shape and np.all(np.isfinite(w_new))
    target = expected_output_target(rule, net(xb[None]), yb[None])
    # the output target itself: u + beta (y - u) or u + beta (y - softmax u), terms |u| + beta (|y| + |u| + 1)
    target_terms = (1 + getattr(rule, "beta", 1.0)) * (np.abs(net(xb[None])) + np.abs(yb) + 1.0)
    scale = property_e_scales(rule, net, xb[None], theta)[-1] + target_terms
    assert_close_conditioned(net(xb[None], weights=theta), target, scale, rounding_factor(net),
                             err_msg="property E: theta'(x, y) does not map x to u'_L")


def reference_mean_update(rule, net, x, y, thetas=None):
    """mean_b theta'_b - theta from the per-sample (neuron by neuron) reference."""
    thetas = [per_sample_weights(rule, net, xb, yb) for xb, yb in zip(x, y)] if thetas is None else thetas
    return [np.mean([t[l] for t in thetas], axis=0) - net.weights[l] for l in range(net.depth)]


def denominator_condition(rule, net, x, thetas):
    """max over samples, layers l >= 2 and neurons of (|w_n|^2 + |a dv_n x|^2) / |w_n + a dv_n x|^2.

    The vectorised rule expands |w_n + a dv_n x|^2 = |w_n|^2 + 2 a dv_n <w_n, x> + a^2 dv_n^2 |x|^2; when w_n
    nearly cancels a dv_n x, terms of size |w_n|^2 + |a dv_n x|^2 cancel to a small denominator whose relative
    rounding is eps times this ratio. Input perturbations do not reproduce that (the reference computes the
    norm of w_n + a dv_n x directly), so the tolerance of the comparison is multiplied by it. dv is read off
    the reference's per-sample weights (property E: their forward pass meets the targets); neurons whose
    denominator counts as zero (dx_n = 0 in both) do not count.
    """
    fp, worst = net.forward(x), 1.0
    changeable = slice(None) if rule.dx_mode == "full" else slice(0, -1)
    for b, theta in enumerate(thetas):
        targets = net.forward(x[b:b + 1], weights=theta).us
        for l in range(1, net.depth):
            w, x_l = net.weights[l][:, changeable], fp.xs[l][b]
            sq_x = x_l @ x_l
            a = (rule.alpha if rule.a is None else rule.a * sq_x) / sq_x
            dv = targets[l][0] - fp.us[l][b]
            den = np.sum((w + a * dv[:, None] * x_l[changeable]) ** 2, axis=1)
            scale = np.sum(w ** 2, axis=1) + (a * dv) ** 2 * (x_l[changeable] @ x_l[changeable])
            counted = den > ZERO_TOL * scale
            if counted.any():
                worst = max(worst, float(np.max(scale[counted] / den[counted])))
    return worst


def update_sensitivity(rule, net, x, y):
    """(rule.mean_update(net, x, y)[0], per layer the largest change of the update per unit relative
    perturbation of the weights, x and y). Another implementation of the same update rounds differently; by
    backward stability it computes the update of inputs perturbed by a few eps, so it differs by about eps
    times this sensitivity. The sensitivity is large exactly where the update is ill-conditioned: a
    per-neuron denominator |w_n + a dv_n x|^2 that nearly cancels, a residual u' - W x' of nearly equal terms,
    or the final mean theta' - theta of weights much larger than their change."""
    def update(arrays):
        moved = net.copy()
        moved.weights = arrays[:-2]
        return rule.mean_update(moved, arrays[-2], arrays[-1])[0]
    updates, sens = sensitivity(update, [*net.weights, x, y])
    return updates, [float(s.max()) for s in sens]


def assert_updates_match(actual, expected, sens, net, batch, condition=1.0, err_msg=""):
    """Two implementations of one update agree to eps times its sensitivity (see update_sensitivity), plus the
    rounding of the update itself and of the weights it was read off from (theta' - theta), all times the
    condition of the per-neuron denominators (see denominator_condition)."""
    assert len(actual) == len(expected) == len(sens)
    for l, (a, e, s) in enumerate(zip(actual, expected, sens)):
        assert a.shape == e.shape
        scale = (1.0 + condition) * (s + np.max(np.abs(net.weights[l])) + np.max(np.abs(e)))
        assert_close_conditioned(a, e, scale, rounding_factor(net, batch), err_msg=f"layer {l + 1}. {err_msg}")


def per_sample_update_terms(net, xb, theta):
    """Per layer, the largest term of one sample's change theta'_l - theta_l = (u' - <w_n, x'>) x' / |x'|^2:
    the residual's terms |u'_n|, |w_n| |x'| (and the reference's |w_n| |x|, from dv = u' - u), times
    |x'| / |x'|^2. For comparisons where input perturbations are no measure (an exactly zero denominator)."""
    old, new = net.forward(xb[None]), net.forward(xb[None], weights=theta)
    terms = []
    for l, w in enumerate(net.weights):
        x_new, x_old = np.abs(new.xs[l][0]), np.abs(old.xs[l][0])
        residual = np.abs(new.us[l][0]) + np.abs(w) @ x_new + np.abs(w) @ x_old
        terms.append(float(np.max(np.outer(residual, x_new)) / (x_new @ x_new)))
    return terms


def assert_diagnostics_close(actual, expected, factor, condition=1.0):
    """The step's diagnostics from two roundings of one update. update_l = |mean update| carries relative
    rounding; spread_l = sqrt(m - |mean|^2) with m = mean_b |update_b|^2 is a difference of two terms of size
    m = spread^2 + update^2 that cancel, so spread^2 carries eps * m (times the update's condition); the
    target steps and clipping fractions come from the same input targets and are equal."""
    assert actual.keys() == expected.keys()
    for key, e in expected.items():
        a = actual[key]
        if key.startswith("update_"):
            assert_close_conditioned(a, e, (1 + condition) * e, factor, err_msg=key)
        elif key.startswith("spread_"):
            m = e ** 2 + expected["update_" + key.split("_")[1]] ** 2
            assert_close_conditioned(a ** 2, e ** 2, (1 + condition) * m, factor, err_msg=key)
        else:
            assert a == e, key


# --------------------------------------------------------------------------------------------
# Property E


@examples(3)
@given(problem=problems(max_batch=3), options=exact_tp_options())
def test_property_e(problem, options):
    """Every sample's theta'(x, y) maps x to u'_L exactly (to rounding): the per-sample reference for the
    seed's rule, and the vectorised rule with a batch of one (mean_update is then theta' - theta) for every
    rule, including input_rule="pinv" and weight_rule="joint"."""
    net, x, y = problem
    rule = ExactTP(**options)
    for xb, yb in zip(x, y):
        if (rule.input_rule, rule.weight_rule) == ("mean", "mean"):
            assert_property_e(rule, net, xb, yb, per_sample_weights(rule, net, xb, yb))
        updates, _ = rule.mean_update(net, xb[None], yb[None])
        assert_property_e(rule, net, xb, yb, [w + u for w, u in zip(net.weights, updates)])


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_property_e_with_large_targets(activation):
    """Far-away targets force heavy clipping; the per-sample weights are still exact."""
    net = make_net(3, 4, activation, seed=5)
    x, y = make_batch(net, 4, seed=5, y_scale=50.0)
    for options in (dict(), dict(alpha=0.0, cap=0.3)):
        rule = ExactTP(**options)
        for xb, yb in zip(x, y):
            assert_property_e(rule, net, xb, yb, per_sample_weights(rule, net, xb, yb))


# --------------------------------------------------------------------------------------------
# Vectorised batch rule == mean over the per-sample reference


@examples(2)
@given(problem=problems(max_batch=33), options=exact_tp_options(variants=False))
def test_mean_update_matches_per_sample_reference(problem, options):
    net, x, y = problem
    rule = ExactTP(**options)
    updates, sens = update_sensitivity(rule, net, x, y)
    thetas = [per_sample_weights(rule, net, xb, yb) for xb, yb in zip(x, y)]
    assert_updates_match(updates, reference_mean_update(rule, net, x, y, thetas), sens, net, len(x),
                         denominator_condition(rule, net, x, thetas))
    _, diagnostics = rule.mean_update(net, x, y)
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
    factor = rounding_factor(net, batch)
    for l in range(depth - 1):
        # u' = u and x' = x exactly: the residual u' - W x' is the difference of two roundings of the same
        # products (terms |W| |x|), then scaled by x / |x|^2 and averaged over the batch
        x_l = fp.xs[l]
        r_terms = abs_matmul(x_l, net.weights[l].T) / np.sum(x_l ** 2, axis=1, keepdims=True)
        assert_close_conditioned(updates[l], np.zeros_like(updates[l]), abs_matmul(r_terms.T, x_l) / batch, factor)
    for l in range(1, depth):
        assert diagnostics[f"target_step_{l + 1}"] == 0.0
        assert diagnostics[f"clipped_{l + 1}"] == 0.0
    x_top = fp.xs[-1]
    sq_top = np.sum(x_top ** 2, axis=1, keepdims=True)
    dv = y - fp.output
    expected = (dv.T @ (x_top / sq_top)) / batch
    # dv = y - W x: terms |y| + |W| |x|; then the batch mean of dv x / |x|^2
    dv_terms = (np.abs(y) + abs_matmul(x_top, net.weights[-1].T)) / sq_top
    assert_close_conditioned(updates[-1], expected, abs_matmul(dv_terms.T, x_top) / batch, factor)


@pytest.mark.parametrize("depth, width, seed", [(2, 4, 0), (3, 17, 40), (3, 17, 1), (5, 3, 3), (4, 8, 5)])
@pytest.mark.parametrize("dx_mode", DX_MODES)
def test_alpha_one_per_sample_reference_keeps_hidden_layers(depth, width, seed, dx_mode):
    """The same for the per-sample reference: alpha = 1 means dx = 0 exactly, so with no cap every
    hidden layer keeps its weights. (A rounding residue in 1 - a|x|^2 would move dead ReLU units'
    targets x' from 0 to +1e-17, and the ReLU target rule turns that into u' = 0 instead of u.)"""
    net = make_net(depth, width, seed=seed)
    x, y = make_batch(net, 4, seed=seed, y_scale=1.5)
    rule = ExactTP(alpha=1.0, cap=None, dx_mode=dx_mode)
    fp = net.forward(x)
    for b, (xb, yb) in enumerate(zip(x, y)):
        theta = per_sample_weights(rule, net, xb, yb)
        for l in range(depth - 1):
            # the change (dv - <w, x'> + <w, x>) / |x'|^2 x' with dv = 0 and x' = x: two roundings of the
            # same dot products (terms |w| |x|) that cancel, times x / |x|^2
            x_l = np.abs(fp.xs[l][b])
            scale = np.outer(np.abs(net.weights[l]) @ x_l, x_l) / (x_l @ x_l)
            assert_close_conditioned(theta[l], net.weights[l], scale, rounding_factor(net),
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
    # relu(W'_1 x) reproduces x' to the rounding of layer 1's terms (property E's scale at layer 1)
    scale = property_e_scales(rule, net, x, theta)[0][0]
    assert_close_conditioned(x_target, np.minimum(h, cap), scale, rounding_factor(net))
    _, diagnostics = rule.mean_update(net, x, y)
    assert diagnostics["clipped_2"] == pytest.approx(np.mean(h > cap))


@pytest.mark.parametrize("activation, alpha", [("relu", 0.0), ("relu", 0.25), ("relu", 0.5), ("relu", 0.8),
                                               ("leaky_relu", 1.0)])
@pytest.mark.parametrize("dx_mode", DX_MODES)
@pytest.mark.parametrize("seed", range(3))
def test_a_and_alpha_agree_for_batch_of_one(activation, alpha, dx_mode, seed):
    """In a depth-2 net only the output layer splits the change, so a = alpha / |x_2|^2 is the same rule.

    The two differ by the rounding of alpha = a |x_2|^2 (a few eps): the updates agree to eps times their
    sensitivity. alpha = 1 is checked on leaky ReLU: there 1 - a |x_2|^2 is a rounding residue instead of 0,
    and the ReLU target rule is discontinuous at x' = 0, so a dead unit's residue would decide its branch."""
    net = make_net(2, 5, activation, seed=seed)
    x, y = make_batch(net, 1, seed=seed)
    x2 = net.forward(x).xs[1][0]
    rule = ExactTP(alpha=alpha, dx_mode=dx_mode, cap=None)
    by_alpha, sens = update_sensitivity(rule, net, x, y)
    by_a = ExactTP(a=alpha / (x2 @ x2), dx_mode=dx_mode, cap=None).mean_update(net, x, y)[0]
    assert_updates_match(by_a, by_alpha, sens, net, batch=1)


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
    # terms |x| and |dv_n| / |w_n|^2 |w_n|, summed over the neurons (the norms: relative rounding only)
    scale = np.abs(x2[:, :-1]) + abs_matmul(dv / norms, w[:, :-1]) / w.shape[0]
    assert_close_conditioned(ix, expected, scale, rounding_factor(net))
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
    # Rounding: x' = x + dv (1 - alpha) / |d|^2 d with d = w + a dv x, whose squared norm nearly cancels
    # when w is close to -a dv x (condition kappa = (|w|^2 + |a dv x|^2) / |d|^2, on the changeable
    # coordinates); x'_L is read back through the forward pass of theta' (property E's scale one layer down).
    d = w + a * dv * x_old
    kappa = (w[:-1] @ w[:-1] + (a * dv) ** 2 * (x_old[:-1] @ x_old[:-1])) / (d[:-1] @ d[:-1])
    scales = property_e_scales(rule, net, x, theta)
    x_terms = kappa * (np.abs(x_old[:-1]) + np.abs(x_new[:-1] - x_old[:-1])) + scales[-2][0]
    factor = rounding_factor(net)
    dot_terms = np.abs(d[:-1]) @ x_terms + np.abs(d) @ np.abs(x_new) + abs(y[0, 0])
    assert_close_conditioned(x_new @ d, y[0, 0], dot_terms, factor)
    # the same through the vectorised input_target
    x_proj, _ = rule.input_target(net, net.weights[-1], x_old[None], np.array([[w @ x_old]]), np.array([[dv]]))
    assert_close_conditioned(x_proj[0], x_new[:-1], x_terms, factor)
    # and the final weights are exact for that x' (property E at the output layer)
    assert_close_conditioned(theta[-1][0] @ x_new, y[0, 0], scales[-1][0, 0] + abs(y[0, 0]), factor)


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
    # the degenerate neuron proposes dx = 0 in both; the others are ordinary (their condition counts)
    assert_updates_match(updates, [t - w for t, w in zip(theta, net.weights)],
                         per_sample_update_terms(net, x[0], theta), net, 1,
                         denominator_condition(rule, net, x, [theta]))
    assert_property_e(rule, net, x[0], y[0], theta)
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
    # a ~1e15 step would miss these by far more than rounding (the neuron itself does not count: it
    # proposes nothing in both, so only the ordinary neurons' condition, here none, enters)
    terms = per_sample_update_terms(net, x[0], theta)
    assert_updates_match(updates, expected, terms, net, 1, err_msg="mean_update")
    assert_updates_match([t - w for t, w in zip(theta, net.weights)], expected, terms, net, 1,
                         err_msg="per_sample_weights")
    assert_property_e(rule, net, x[0], y[0], theta)


# --------------------------------------------------------------------------------------------
# Geometry of the final weight update


@examples(1)
@given(problem=problems(max_batch=2), options=exact_tp_options(variants=False))
def test_final_dw_is_minimum_norm_orthogonal_projection(problem, options):
    """For every layer, w'_n - w_n is parallel to x' and equals the minimum-norm solution of
    <x', w_n + dw> = u'_n (np.linalg.lstsq); for layer 1, x' = x."""
    net, x, y = problem
    rule = ExactTP(**options)
    factor, lip = rounding_factor(net), lipschitz(net.activation)
    for xb, yb in zip(x, y):
        theta = per_sample_weights(rule, net, xb, yb)
        fp_new = net.forward(xb[None], weights=theta)   # records x'_l and u'_l = W'_l x'_l
        np.testing.assert_array_equal(fp_new.xs[0], net.forward(xb[None]).xs[0])
        scales = property_e_scales(rule, net, xb[None], theta)
        for l in range(net.depth):
            x_t, u_t = fp_new.xs[l][0], fp_new.us[l][0]
            w = net.weights[l]
            dw = theta[l] - w
            sq = x_t @ x_t
            # Rounding: dw = theta' - theta carries that of both (terms |w| and |dw|); x' and u' are read back
            # through the forward pass of theta', which moves x' by up to Lip(f) times property E's scale of the
            # layer below, delta, and so turns the reference's direction by |dw_n| |delta| / |x'| (four terms)
            dw_terms = np.abs(w) + np.abs(dw)
            delta = np.append(lip * scales[l - 1][0], 0.0) if l else np.zeros_like(x_t)
            turn = 4 * np.linalg.norm(dw, axis=1, keepdims=True) * np.linalg.norm(delta) / np.sqrt(sq)
            # parallel to x': the component along x', (dw x') x' / |x'|^2, is all of it
            along = (dw @ x_t)[:, None] * x_t[None, :] / sq
            along_terms = np.outer(dw_terms @ np.abs(x_t), np.abs(x_t)) / sq
            assert_close_conditioned(dw, along, dw_terms + along_terms + turn, factor,
                                     err_msg=f"layer {l + 1}, along")
            # minimum-norm change with <x', w'> = u' (LAPACK's SVD-based lstsq adds a backward error of a few
            # times n eps of its own: four times the factor)
            solution = np.linalg.lstsq(x_t[None, :], (u_t - w @ x_t)[None, :], rcond=None)[0].T
            residual_terms = np.abs(theta[l]) @ np.abs(x_t) + np.abs(w) @ np.abs(x_t)
            assert_close_conditioned(dw, solution, dw_terms + np.outer(residual_terms, np.abs(x_t)) / sq + turn,
                                     4 * factor, err_msg=f"layer {l + 1}, lstsq")
        assert_property_e(rule, net, xb, yb, theta)


# --------------------------------------------------------------------------------------------
# The batch step


@pytest.mark.parametrize("eta", [0.1, 0.5, 1.0, 1.7])
@pytest.mark.parametrize("options", RULE_OPTIONS[:6], ids=option_id)
def test_step_moves_by_eta_times_mean_update(eta, options):
    net = make_net(3, 5, seed=2)
    x, y = make_batch(net, 6, seed=2)
    rule = ExactTP(eta=eta, **options)
    updates, sens = update_sensitivity(rule, net, x, y)
    _, expected_diag = rule.mean_update(net, x, y)
    stepped = net.copy()
    diagnostics = rule.step(stepped, x, y)
    # step scales the residuals by eta before the batch sum, mean_update after it: the same update,
    # rounded differently (its sensitivity), added to the weights (their rounding)
    assert_diagnostics_close(diagnostics, expected_diag, rounding_factor(net, len(x)))
    assert_updates_match([w_new - w for w_new, w in zip(stepped.weights, net.weights)],
                         [eta * dw for dw in updates], [eta * s for s in sens], net, len(x))


@pytest.mark.parametrize("options", RULE_OPTIONS, ids=option_id)
def test_step_with_eta_one_is_plain_average_of_theta(options):
    net = make_net(3, 5, seed=9)
    x, y = make_batch(net, 5, seed=9)
    rule = ExactTP(eta=1.0, **options)
    thetas = [per_sample_weights(rule, net, xb, yb) for xb, yb in zip(x, y)]
    stepped = net.copy()
    rule.step(stepped, x, y)
    _, sens = update_sensitivity(rule, net, x, y)
    assert_updates_match([s - w for s, w in zip(stepped.weights, net.weights)],
                         reference_mean_update(rule, net, x, y, thetas), sens, net, len(x),
                         denominator_condition(rule, net, x, thetas))


def cimmino_matrices(x, u_target):
    """M = mean_b x_b x_b^T / |x_b|^2 and C = mean_b u'_b x_b^T / |x_b|^2 (x_b with its bias entry 1)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    weighted = xb / np.einsum("bi,bi->b", xb, xb)[:, None]
    return weighted.T @ xb / len(x), u_target.T @ weighted / len(x), xb


@examples(2)
@given(sizes=st.tuples(st.integers(1, 6), st.integers(1, 4)), batch=st.integers(1, 12), seed=seeds,
       eta=st.one_of(st.just(1.0), floats(0.05, 1.95)), options=exact_tp_options(variants=False),
       activation=st.sampled_from(sorted(ACTIVATIONS)))
def test_single_layer_step_is_a_cimmino_step(sizes, batch, seed, eta, options, activation):
    """Depth 1: layer 1 cannot change its input, so whatever the split, cap, margin or activation, the step
    averages the Kaczmarz projections of W onto {W : W x_b = u'_b} (Cimmino's method), which is the gradient
    step W + eta (C - W M) on the weighted least-squares objective of chapter 3. With one sample and eta = 1 it
    is the Kaczmarz projection itself: the net then outputs u' on x, by the minimum-norm change."""
    net = random_net(sizes, activation, seed)
    x, y = random_batch(sizes, batch, seed, y_scale=3.0)
    rule = ExactTP(eta=eta, **options)
    u_target = expected_output_target(rule, net(x), y)
    m, c, xb = cimmino_matrices(x, u_target)
    w0 = net.weights[0].copy()
    rule.step(net, x, y)
    # terms: |W|, and eta times the batch mean of (|u'_b| + |W| |x_b|) |x_b| / |x_b|^2
    residual_terms = (np.abs(u_target) + abs_matmul(xb, w0.T)) / np.einsum("bi,bi->b", xb, xb)[:, None]
    scale = np.abs(w0) + eta * abs_matmul(residual_terms.T, xb) / batch
    factor = 4.0 * (sizes[0] + batch + 8)
    assert_close_conditioned(net.weights[0], w0 + eta * (c - w0 @ m), scale, factor)
    if batch == 1 and eta == 1.0:
        assert_close_conditioned(net(x), u_target, abs_matmul(xb, net.weights[0].T) + scale @ np.abs(xb[0]),
                                 factor)


@examples(0.5)
@given(sizes=st.tuples(st.integers(1, 5), st.integers(1, 3)), batch=st.integers(1, 10), seed=seeds,
       eta=floats(0.2, 1.8), noise=st.sampled_from((0.0, 0.5)))
def test_single_layer_iteration_converges_to_the_cimmino_limit(sizes, batch, seed, eta, noise):
    """Chapter 3: for 0 < eta < 2 the full-batch iteration converges to W_inf = C M^+ + W_0 (I - M M^+), the
    weighted least-squares solution closest to W_0 (on consistent data, the exact solution closest to W_0), at
    the rate rho = max |1 - eta lambda| over the non-zero eigenvalues lambda of M (which lie in (0, 1]):
    |W_k - W_inf| <= rho^k |W_0 - W_inf|. Iterated until that bound is below 1e-9 of the start (at most 2000
    steps); the null-space part of W_0 never changes."""
    net = random_net(sizes, "identity", seed)
    rng = np.random.default_rng([seed, 3])
    x = rng.normal(size=(batch, sizes[0]))
    teacher = rng.normal(size=(sizes[1], sizes[0] + 1))
    y = x @ teacher[:, :-1].T + teacher[:, -1] + noise * rng.normal(size=(batch, sizes[1]))
    m, c, xb = cimmino_matrices(x, y)
    lam, vectors = np.linalg.eigh(m)
    assert abs(lam.sum() - 1) < 1e-12 and lam.min() > -1e-12 and lam.max() <= 1 + 1e-12   # tr M = 1, M >= 0
    positive = lam > 1e-12                                          # above the rounding of M's zero eigenvalues
    rho = float(np.max(np.abs(1 - eta * lam[positive])))
    null = vectors[:, ~positive] @ vectors[:, ~positive].T          # projector onto the null space of M
    m_pinv = (vectors[:, positive] / lam[positive]) @ vectors[:, positive].T
    w0 = net.weights[0].copy()
    w_inf = c @ m_pinv + w0 @ null
    steps = int(min(2000, np.ceil(np.log(1e-9) / np.log(rho)))) if rho > 0 else 1   # rho = 0: one step
    rule = ExactTP(eta=eta)
    for _ in range(steps):
        rule.step(net, x, y)
    # every step adds rounding of the terms of test_single_layer_step_is_a_cimmino_step (at most
    # |W| + eta (|Y| + |W| |x|) |x| / |x|^2, bounded along the way by max(|W_0|, |W_inf|) + |W_0 - W_inf|);
    # the contraction does not remove its null-space part, so it adds up over the steps
    size = max(np.abs(w0).max(), np.abs(w_inf).max()) + np.linalg.norm(w0 - w_inf)
    per_step = size + eta * (np.abs(y).max() + size * (sizes[0] + 1))
    factor = 4.0 * (sizes[0] + batch + 8)
    distance = np.linalg.norm(net.weights[0] - w_inf)
    rounding = factor * EPS * steps * per_step * np.sqrt(w0.size)
    assert distance <= rho ** steps * np.linalg.norm(w0 - w_inf) + rounding
    assert_close_conditioned((net.weights[0] - w0) @ null, np.zeros_like(w0), steps * per_step * np.sqrt(w0.size),
                             factor)


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
    (dict(hidden_target="sticky_xyz"), "hidden_target"),
    (dict(hidden_target="threshold", threshold=-0.1), "threshold"),
    (dict(hidden_target="threshold", threshold=float("nan")), "threshold"),
    (dict(hidden_target="mask", threshold=0.2), "applies only to hidden_target='threshold'"),
    (dict(threshold=0.2), "applies only to hidden_target='threshold'"),
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
    _, sens = update_sensitivity(rule, net, x, y)
    thetas = [per_sample_weights(rule, net, xb, yb) for xb, yb in zip(x, y)]
    condition = denominator_condition(rule, net, x, thetas)
    factor = rounding_factor(net, len(x))
    for l in range(net.depth):
        assert diagnostics[f"update_{l + 1}"] == np.linalg.norm(updates[l])      # the same computation
        deviations = [np.sum((p[l] - updates[l]) ** 2) for p in per_sample]
        # spread^2 = m - |mean|^2 cancels terms of size m = spread^2 + update^2 (the per-sample updates of
        # the reference carry their own rounding: their sensitivity, relative to the update's size)
        spread, update = diagnostics[f"spread_{l + 1}"], diagnostics[f"update_{l + 1}"]
        m = spread ** 2 + update ** 2 + sens[l] ** 2
        assert_close_conditioned(spread ** 2, np.mean(deviations), (1 + condition) * m, factor)
    # one sample: no spread, up to the rounding of that difference, |spread^2| <= c eps |update|^2
    _, single = rule.mean_update(net, x[:1], y[:1])
    for l in range(net.depth):
        assert_close_conditioned(single[f"spread_{l + 1}"] ** 2, 0.0, single[f"update_{l + 1}"] ** 2,
                                 rounding_factor(net))


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
    # property E's scale of the terms, with float32's eps
    eps32 = eps_of(updates[-1])
    scale = property_e_scales(rule, net, x, new_weights, eps=eps32)[-1] + np.abs(y)
    assert_close_conditioned(net(x, new_weights), y, scale, rounding_factor(net), eps=eps32)
    batch_x = rng.normal(size=(8, D_IN)).astype(np.float32)
    rule.step(net, batch_x, rng.normal(size=(8, N_OUT)).astype(np.float32))
    assert all(w.dtype == np.float32 for w in net.weights)


@pytest.mark.parametrize("options", [dict(input_rule="pinv"), dict(weight_rule="joint")])
def test_the_neuron_by_neuron_reference_refuses_the_joint_solves(options):
    net = MLP([3, 4, 2], "relu", seed=0)
    with pytest.raises(ValueError, match=list(options)[0]):
        per_sample_weights(ExactTP(**options), net, np.ones(3), np.ones(2))
