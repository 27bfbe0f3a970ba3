"""Tests for tpnb.rules.random_direction_tp: the algebra of each factor and the vectorised rule against the
per-sample / per-neuron reference (Hypothesis properties over random layers, networks and options), determinism,
the diagnostics reaching the training history, and argument validation.

Every tolerance is eps times the size of the terms that are rounded (tests/tolerances.py): a factor
dy / <w, d> with a nearly orthogonal direction makes a large, ill-conditioned weight, and only there does the
tolerance grow."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from tpnb.data import linear_regression
from tpnb.network import MLP
from tpnb.rules import RULES, RandomDirectionTP, make_rule, reference_step
from tpnb.rules.random_direction_tp import ZERO
from tpnb.train import train
from tolerances import EPS, abs_matmul, assert_close_conditioned, sensitivity
from strategies import INVERTIBLE, examples, floats, problems, random_direction_options, seeds

FACTORS = ("as_written", "derived", "least_squares")
DISTRIBUTIONS = ("gaussian", "sphere", "coordinate")


@st.composite
def layers(draw, batch=None, n=None):
    """A random layer problem (rng, w (N, D+1), x with bias column (B, D+1), residual dy (B, N)): B in 1..11,
    N in 1..5, D in 1..8, inputs and residuals of a drawn scale in [0.1, 3]."""
    rng = np.random.default_rng(draw(seeds))
    batch = batch or draw(st.integers(1, 11))
    n = n or draw(st.integers(1, 5))
    d = draw(st.integers(1, 8))
    w = rng.normal(size=(n, d + 1))
    x = np.hstack([rng.normal(size=(batch, d)) * draw(floats(0.1, 3.0)), np.ones((batch, 1))])
    dy = rng.normal(size=(batch, n)) * draw(floats(0.1, 3.0))
    return rng, w, x, dy


def sq(a):
    return float(np.sum(a * a))


def ridge_coefficients(design, rhs, ridge, eta):
    """eta (A^T A + lam I)^{-1} A^T rhs with lam = ridge trace(A^T A) / k: the least-squares coefficients as
    the module docstring defines them (to size the terms of the rule's products; zeros for a zero design)."""
    gram = design.T @ design
    lam = ridge * np.trace(gram) / len(gram)
    if lam == 0:
        return np.zeros((design.shape[1], rhs.shape[1])), lam
    return eta * np.linalg.solve(gram + lam * np.eye(len(gram)), design.T @ rhs), lam


def assert_never_increases(after, before, after_terms):
    """|after|^2 <= |before|^2 for residuals that are exact up to rounding: with |after - exact| <= c eps S
    (S = after_terms, the size of the terms of the residual), |after|^2 <= |before|^2 + 2 |before| |c eps S|
    + |c eps S|^2, and the squares' own sums carry c eps |before|^2."""
    slack = 4.0 * (after.size + 8) * EPS
    delta = slack * np.linalg.norm(after_terms)
    assert sq(after) <= sq(before) * (1 + slack) + 2 * np.sqrt(sq(before)) * delta + delta ** 2


# ----------------------------------------------------------------------------------- the factors
@examples(2)
@given(layer=layers(batch=1), distribution=st.sampled_from(DISTRIBUTIONS), seed=seeds)
def test_derived_factor_with_one_sample_removes_its_error_exactly(layer, distribution, seed):
    _, w, x, dy = layer
    rule = RandomDirectionTP(factor="derived", distribution=distribution, seed=seed % 2 ** 31)
    d = rule.sample_directions(w.shape[1])
    if abs(x[0] @ d[0]) <= 1e-9 * np.linalg.norm(x[0]) * np.linalg.norm(d[0]):   # an axis orthogonal to x:
        d = np.ones_like(d)                                                       # nothing would move
    dw, residual, _ = rule.weight_move(w, x, dy, d)
    target = x @ w.T + dy
    # <x, w + dw> = <x, w> + dy: terms |x| |w|, |x| |w + dw| (the large f d when <x, d> is small) and |dy|
    factor = 4.0 * (w.shape[1] + 8)
    assert_close_conditioned(x @ (w + dw).T, target, abs_matmul(x, np.abs(w).T + np.abs(w + dw).T) + np.abs(dy),
                             factor)
    # the residual dy - <x, d> f cancels two terms of size |dy|
    assert_close_conditioned(residual, np.zeros_like(residual), np.abs(dy), factor)


@examples(1)
@given(layer=layers(batch=1, n=1), seed=seeds)
def test_the_seeds_weight_factor_does_not_remove_the_error(layer, seed):
    # as written, f = dy / <w, d> changes <x, w> by dy <x, d> / <w, d>: exact only when <x, d> = <w, d>
    _, w, x, dy = layer
    d = np.random.default_rng(seed).normal(size=(1, w.shape[1]))
    dw, residual, _ = RandomDirectionTP(factor="as_written").weight_move(w, x, dy, d)
    xd, wd = x[0] @ d[0], w[0] @ d[0]
    assert abs(wd) > ZERO * np.linalg.norm(w[0]) * np.linalg.norm(d[0])        # a Gaussian d: never orthogonal
    change = (x @ dw.T)[0, 0]
    f = dy[0, 0] / wd
    # the two dot products <x, d> and <w, d> carry eps times their terms |x| |d| and |w| |d|, relative to
    # themselves (kappa: 1 / cos of the angle); the change is f <x, d>, the residual dy - f <x, d>
    kappa_x, kappa_w = (np.abs(x[0]) @ np.abs(d[0])) / abs(xd), (np.abs(w[0]) @ np.abs(d[0])) / abs(wd)
    factor = 4.0 * (w.shape[1] + 8)
    assert_close_conditioned(change, dy[0, 0] * xd / wd, abs(f * xd) * (kappa_x + kappa_w), factor)
    assert_close_conditioned(residual[0, 0], dy[0, 0] * (1 - xd / wd),
                             abs(dy[0, 0]) + abs(f * xd) * (kappa_x + kappa_w), factor)


@examples(2)
@given(layer=layers(n=1), factor=st.sampled_from(("derived", "least_squares")), seed=seeds)
def test_input_move_of_a_single_neuron_removes_its_error(layer, factor, seed):
    # derived input factor g = dy / <w, d_x>: the moved input hits the target exactly (N = 1); least squares
    # with one neuron is the same up to its relative ridge (1e-14, a bias of 1e-14 |g|)
    _, w, x, dy = layer
    d = np.random.default_rng(seed).normal(size=(1, w.shape[1]))
    ridge = 1e-14
    dx, residual, _ = RandomDirectionTP(factor=factor, ridge=ridge).input_move(w, x, dy, d)
    v = w[0, :-1] @ d[0, :-1]
    kappa = (np.abs(w[0, :-1]) @ np.abs(d[0, :-1])) / abs(v)                  # rounding of <w, d_x>, relative
    expected = (dy[:, :1] / v) * d[:, :-1]
    bias = (ridge / EPS if factor == "least_squares" else 0.0)
    tol = 4.0 * (w.shape[1] + 8)
    assert_close_conditioned(dx, expected, np.abs(expected) * (1 + kappa + bias), tol)
    # the residual dy - g <w, d_x> cancels terms of size |dy|
    assert_close_conditioned(residual, np.zeros_like(residual), np.abs(dy) * (1 + kappa + bias), tol)
    moved = (x[:, :-1] + dx) @ w[:, :-1].T + w[:, -1]
    terms = abs_matmul(x[:, :-1] + dx, np.abs(w[:, :-1]).T) + abs_matmul(x, w.T) + np.abs(dy) * (1 + kappa + bias)
    assert_close_conditioned(moved, x @ w.T + dy, terms, tol)


@examples(3)
@given(layer=layers(), k=st.integers(1, 19), eta=floats(0.01, 1.0), distribution=st.sampled_from(DISTRIBUTIONS),
       log_ridge=floats(-10.0, -1.0), seed=seeds)
def test_least_squares_step_never_increases_the_layer_error(layer, k, eta, distribution, log_ridge, seed):
    """k in 1..19 directions (also k > B and k > D + 1: rank-deficient designs), ridge down to 1e-10."""
    _, w, x, dy = layer
    ridge = 10.0 ** log_ridge
    rule = RandomDirectionTP(factor="least_squares", directions=k, eta=eta, distribution=distribution,
                             ridge=ridge, seed=seed % 2 ** 31)
    d = rule.sample_directions(w.shape[1])
    dw, residual, _ = rule.weight_move(w, x, dy, d)
    # residual = dy - A C: terms |dy| + |A| |C| (the coefficients of a nearly singular design are large)
    a = x @ d.T
    coef, _ = ridge_coefficients(a, dy, ridge, eta)
    terms = np.abs(dy) + abs_matmul(a, coef)
    direct = x @ w.T + dy - x @ (w + dw).T
    assert_close_conditioned(residual, direct, terms + abs_matmul(x, np.abs(w).T + np.abs(w + dw).T),
                             4.0 * (w.shape[1] + k + 8))
    assert_never_increases(residual, dy, terms)
    # the input move (with the moved weights) never increases it either
    dx, after_input, _ = rule.input_move(w + dw, x, residual, d)
    v = (w + dw)[:, :-1] @ d[:, :-1].T
    coef_x, _ = ridge_coefficients(v, residual.T, ridge, eta)
    assert_never_increases(after_input, residual, np.abs(residual) + abs_matmul(coef_x.T, v.T))


@examples(1)
@given(layer=layers(), seed=seeds)
def test_least_squares_step_along_one_direction_is_the_closed_form(layer, seed):
    _, w, x, dy = layer
    d = np.random.default_rng(seed).normal(size=(1, w.shape[1]))
    ridge = 1e-14
    dw, _, _ = RandomDirectionTP(factor="least_squares", ridge=ridge).weight_move(w, x, dy, d)
    a = x @ d[0]
    f = dy.T @ a / (a @ a)                            # sum_i dy_i <x_i, d> / sum_i <x_i, d>^2, per neuron
    # f sums terms |dy_i| |a_i|, and every a_i = <x_i, d> carries eps |x_i| |d|; the ridge biases f by 1e-14
    a_err = np.abs(x) @ np.abs(d[0])
    f_terms = (np.abs(dy).T @ a_err + 2 * np.abs(f) * (np.abs(a) @ a_err)) / (a @ a) + np.abs(f) * ridge / EPS
    assert_close_conditioned(dw, np.outer(f, d[0]), np.outer(f_terms, np.abs(d[0])),
                             4.0 * (w.shape[1] + len(x) + 8))


@examples(2)
@given(layer=layers(), k=st.sampled_from((2, 4, 16)), seed=seeds)
def test_k_directions_are_at_least_as_good_as_the_first_one(layer, k, seed):
    """The best step in the span of k directions is at least as good as the best along the first. With the
    rule's ridge (1e-12 relative) the k-direction step misses the exact least-squares fit by at most
    lam |A^+ dy|^2 (the ridge objective at the minimum-norm exact coefficients)."""
    _, w, x, dy = layer
    ridge = 1e-12
    rule = RandomDirectionTP(factor="least_squares", directions=k, ridge=ridge, seed=seed % 2 ** 31)
    d = rule.sample_directions(w.shape[1])
    _, res_k, _ = rule.weight_move(w, x, dy, d)
    _, res_1, _ = RandomDirectionTP(factor="least_squares", ridge=ridge).weight_move(w, x, dy, d[:1])
    a = x @ d.T
    coef, lam = ridge_coefficients(a, dy, ridge, 1.0)
    ridge_bias = lam * sq(np.linalg.pinv(a) @ dy)
    coef_1, _ = ridge_coefficients(a[:, :1], dy, ridge, 1.0)
    slack = 4.0 * (w.shape[1] + k + len(x) + 8) * EPS
    delta = slack * (np.linalg.norm(np.abs(dy) + abs_matmul(a, coef))
                     + np.linalg.norm(np.abs(dy) + abs_matmul(a[:, :1], coef_1)))
    assert sq(res_k) <= sq(res_1) * (1 + slack) + ridge_bias + 2 * np.sqrt(sq(dy)) * delta + delta ** 2


@pytest.mark.parametrize("factor", FACTORS)
def test_a_zero_denominator_contributes_nothing(factor):
    w = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]])
    x = np.array([[0.0, 2.0, 1.0], [1.0, 1.0, 1.0]])
    dy = np.array([[1.0, 2.0], [0.5, -1.0]])
    d = np.array([[1.0, 0.0, 0.0]])                   # <x_0, d> = 0 and <w_2, d> = 0
    rule = RandomDirectionTP(factor=factor)
    dw, residual, var = rule.weight_move(w, x, dy, d)
    dx, after, in_var = rule.input_move(w + dw, x, residual, d)
    for value in (dw, residual, dx, after, var, in_var):
        assert np.all(np.isfinite(value))
    if factor == "derived":                           # only sample 1 has a factor: f = dy_1 / 1, averaged with 0
        np.testing.assert_allclose(dw, np.outer(dy[1] / 2, d[0]))
    if factor == "as_written":                        # neuron 2 has <w, d> = 0: its weights do not move
        np.testing.assert_allclose(dw[1], 0.0)


# ------------------------------------------------------------------------- vectorised vs reference
def reciprocal(den, norms):
    """1 / den, 0 where the rule counts the denominator as zero (|den| <= ZERO |a| |b|)."""
    return np.divide(1.0, den, out=np.zeros(den.shape), where=np.abs(den) > ZERO * norms)


def move_errors(rule, dy, dy_terms, a, a_abs, own, own_abs, d, norms, own_norms):
    """(err, coef), each (k, m): the coefficients of one move and how far the two implementations' may be
    apart, in units of eps, through what input perturbations cannot show.

    The reference recomputes every residual and denominator from the moved weights (inputs); the vectorised
    rule updates them algebraically. Both round, and a residual that is structurally zero (a layer already at
    its target: the reference's recomputed u' - <x, w> is a rounding residue, the vectorised one exactly 0) is
    amplified by 1 / denominator. Per direction j, in the order of the moves:
    - derived, f_j = eta mean_i dy_i^(j) / a_ij: eta mean_i (terms of dy_i^(j): those of dy_i and
      |x_i| |d_j'| |f_j'| for the earlier directions; and |dy_i^(j)| |x_i| |d_j| / |a_ij| for the rounding of
      a_ij = <x_i, d_j> itself) / |a_ij|;
    - as_written, f_j = eta mean_i dy_i^(j) / <w + sum_{j'<j} f_j' d_j', d_j>: the numerator's terms as above,
      and the denominator's, |w| |d_j| + sum |f_j'| |d_j'| |d_j| (both forms), relative to itself;
    - least_squares: the ridge solve, |C| and the terms of the residual and of the design sent through it,
      times the condition of A^T A + lam I.
    Rows of dy (rows, m) are what a factor averages over (samples for the weight move, neurons for the input
    move); dy_terms: its terms; a (rows, k): what derived / least_squares divide by (<x_i, d_j>); own (m, k):
    what as_written divides by (<w_n, d_j>); *_abs: the same with absolute values; d (k, D): the directions;
    norms, own_norms: the rule's zero thresholds' |x_i| |d_j| (rows, k) and |w_n| (m,).
    """
    eta, k, rows = rule.eta, d.shape[0], dy.shape[0]
    if rule.factor == "least_squares":
        coef, lam = ridge_coefficients(a, dy, rule.ridge, eta)
        if lam == 0:
            return coef, coef
        spectrum = np.linalg.eigvalsh(a.T @ a)
        cond = (spectrum.max() + lam) / (spectrum.min() + lam)
        through = eta * (np.linalg.norm(dy_terms, axis=0) + np.linalg.norm(a_abs) * np.linalg.norm(coef, axis=0))
        return cond * (np.abs(coef) + through / np.sqrt(spectrum.max() + lam)), coef
    dd, d_abs = d @ d.T, np.abs(d) @ np.abs(d).T
    coef, err = np.zeros((k, dy.shape[1])), np.zeros((k, dy.shape[1]))
    residual, terms = dy.copy(), dy_terms.copy()
    own_sq = own_norms ** 2
    for j in range(k):
        if rule.factor == "derived":
            r = reciprocal(a[:, j], norms[:, j])[:, None]                 # (rows, 1)
            coef[j] = eta * np.sum(r * residual, axis=0) / rows
            err[j] = eta * np.sum(np.abs(r) * (terms + np.abs(residual * r) * a_abs[:, j:j + 1]), axis=0) / rows
        else:
            den = own[:, j] + coef[:j].T @ dd[:j, j]
            den_terms = own_abs[:, j] + np.abs(coef[:j]).T @ d_abs[:j, j]
            inv = reciprocal(den, np.sqrt(own_sq * dd[j, j]))
            y_bar = residual.mean(axis=0)
            coef[j] = eta * y_bar * inv
            err[j] = eta * np.abs(inv) * (terms.mean(axis=0) + np.abs(y_bar) * den_terms * np.abs(inv))
            own_sq = own_sq + 2 * coef[j] * den + coef[j] ** 2 * dd[j, j]
        residual = residual - np.outer(a[:, j], coef[j])
        terms = terms + np.outer(a_abs[:, j], np.abs(coef[j]))
    return err, coef


def variance_terms(f, f_terms, factor):
    """The size of the terms behind var = E f^2 - (E f)^2 over factors f (averaged like the diagnostic): the
    one-pass formula cancels terms of size E f^2, and factors that carry rounding eps * f_terms (a residual
    that is itself a rounding residue, after a move that removed the error) add 2 |f| f_terms and, to second
    order, factor eps f_terms^2. In units of eps (the caller multiplies by factor eps)."""
    return float(np.mean(f ** 2) + 2 * np.mean(np.abs(f) * f_terms) + factor * EPS * np.mean(f_terms ** 2))


def replay(rule, net, x, y, directions, factor):
    """The vectorised step again, layer by layer through the rule's public pieces, to size what the comparison
    needs: the relative error of every move (move_errors, sent through the directions and divided by the size
    of what the move changes: the weights, or the inputs), and the terms of the factor variances."""
    fp = net.forward(x)
    u_target = rule.output_targets(fp.output, y)
    condition, moments = 1.0, {}
    for l in range(net.depth - 1, -1, -1):
        w, x_l, d = net.weights[l], fp.xs[l], directions[l]
        d_norm = np.linalg.norm(d, axis=1)
        dy = u_target - x_l @ w.T
        dy_terms = np.abs(u_target) + abs_matmul(x_l, w.T)                  # dy = u' - W x
        a, a_abs, wd, wd_abs = x_l @ d.T, abs_matmul(x_l, d.T), w @ d.T, abs_matmul(w, d.T)
        x_norm, w_norm = np.linalg.norm(x_l, axis=1), np.linalg.norm(w, axis=1)
        inv = (reciprocal(wd, w_norm[:, None] * d_norm)[None] if rule.factor == "as_written"
               else reciprocal(a, x_norm[:, None] * d_norm)[:, None, :])
        moments[f"factor_var_{l + 1}"] = variance_terms(dy[:, :, None] * inv, dy_terms[:, :, None] * np.abs(inv),
                                                        factor)
        err, coef = move_errors(rule, dy, dy_terms, a, a_abs, wd, wd_abs, d, x_norm[:, None] * d_norm, w_norm)
        dw, dy_after, _ = rule.weight_move(w, x_l, dy, d)
        moved = w + dw
        condition = max(condition, float(np.max(err.T @ np.abs(d)) / np.max(np.abs(w) + np.abs(moved))))
        if l == 0:
            break
        hx, dx_dirs, wx = x_l[:, :-1], d[:, :-1], moved[:, :-1]
        dx_norm = np.linalg.norm(dx_dirs, axis=1)
        v, v_abs, xd, xd_abs = wx @ dx_dirs.T, abs_matmul(wx, dx_dirs.T), hx @ dx_dirs.T, abs_matmul(hx, dx_dirs.T)
        hx_norm, wx_norm = np.linalg.norm(hx, axis=1), np.linalg.norm(wx, axis=1)
        inv = (reciprocal(xd, hx_norm[:, None] * dx_norm)[:, None, :] if rule.factor == "as_written"
               else reciprocal(v, wx_norm[:, None] * dx_norm)[None])
        after_terms = dy_terms + abs_matmul(a, coef) + abs_matmul(x_l, (err.T @ np.abs(d)).T)   # dy - A C
        moments[f"input_factor_var_{l + 1}"] = variance_terms(dy_after[:, :, None] * inv,
                                                              after_terms[:, :, None] * np.abs(inv), factor)
        err, _ = move_errors(rule, dy_after.T, after_terms.T, v, v_abs, xd, xd_abs, dx_dirs,
                             wx_norm[:, None] * dx_norm, hx_norm)
        dx, _, _ = rule.input_move(moved, x_l, dy_after, d)
        condition = max(condition, float(np.max(err.T @ np.abs(dx_dirs))
                                         / max(np.max(np.abs(hx) + np.abs(hx + dx)), 1e-300)))
        x_target = net.activation.project(hx + dx, rule.cap)
        u_target = net.activation.target(fp.us[l - 1], x_target)
    return condition, moments


def assert_matches_reference(options, net, x, y):
    """rule.apply == reference_step for the same directions: the weights and the variance diagnostics.

    Tolerance: eps times (the step's sensitivity to relative perturbations of its inputs, which measures the
    rounding of every dot product and division the two share and is large where a denominator nearly
    vanishes; plus the size of the weights and of the result), times 1 + the relative error of the moves that
    perturbations cannot show (replay). The perturbations move the weights, x, y and the directions together
    (the same step of slightly different inputs), and separately the weights the moves see but not the forward
    pass that recorded u = W x: that is how rounding makes a residual u' - W x that is structurally zero (a
    layer already at its target) a residue, which the factors then divide by small denominators."""
    rule = RandomDirectionTP(**options)
    directions = [rule.sample_directions(w.shape[1]) for w in net.weights]
    depth = net.depth
    keys = [f"factor_var_{l}" for l in range(1, depth + 1)] + [f"input_factor_var_{l}" for l in range(2, depth + 1)]

    def step(arrays, decoupled=False):
        moved = net.copy()
        moved.weights = [a.copy() for a in arrays[:depth]]
        if decoupled:      # the forward pass of the unperturbed weights (on the perturbed x)
            moved.forward = lambda inputs, weights=None: net.forward(inputs)
        diagnostics = RandomDirectionTP(**options).apply(moved, arrays[depth], arrays[depth + 1],
                                                         arrays[depth + 2:])
        return moved.weights + [np.array(diagnostics[key]) for key in keys]

    inputs = [*net.weights, x, y, *directions]
    fast, sens = sensitivity(step, inputs, trials=2)
    _, sens_decoupled = sensitivity(lambda arrays: step(arrays, decoupled=True), inputs, trials=2, seed=1)
    sens = [np.maximum(a, b) for a, b in zip(sens, sens_decoupled)]
    slow = net.copy()
    reference = reference_step(RandomDirectionTP(**options), slow, x, y, directions)
    assert sorted(reference) == sorted(keys)
    factor = 4.0 * (max(net.sizes) + len(x) + rule.k + 8)
    condition, moments = replay(rule, net, x, y, directions, factor)
    for l in range(depth):
        assert np.all(np.isfinite(fast[l]))
        scale = (1 + condition) * (sens[l].max() + np.abs(slow.weights[l]).max() + np.abs(net.weights[l]).max())
        assert_close_conditioned(fast[l], slow.weights[l], scale, factor, err_msg=f"layer {l + 1}")
    for key, value, s in zip(keys, fast[depth:], sens[depth:]):
        assert_close_conditioned(value, reference[key], (1 + condition) * (s + moments[key] + abs(reference[key])),
                                 factor, err_msg=key)


@examples(2)
@given(problem=problems(max_batch=9, max_depth=3, max_width=9, activations=INVERTIBLE),
       options=random_direction_options())
def test_vectorised_rule_matches_the_per_sample_reference(problem, options):
    """Every factor, k, distribution, eta, ridge, cap and output target, on networks of depth 1..3 with every
    invertible activation (tanh and sigmoid: the moved inputs are clipped into the image)."""
    assert_matches_reference(options, *problem)


@pytest.mark.parametrize("activation", ("tanh", "sigmoid"))
def test_bounded_activations_are_clipped_and_match_the_reference(activation):
    net = make_net([5, 6, 3], activation, 3)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(8, 5)), 5 * rng.normal(size=(8, 3))      # large targets: inputs leave the image
    assert_matches_reference(dict(factor="least_squares", directions=2, seed=3), net, x, y)


def make_net(sizes, activation, seed):
    net = MLP(sizes, activation, seed=seed)
    rng = np.random.default_rng(50 + seed)
    for w in net.weights:
        w[:, -1] = rng.normal(0.0, 0.3, size=w.shape[0])
    return net


def test_one_step_with_the_derived_factor_fits_a_single_layer_net_to_one_sample():
    net = MLP([5, 3], "relu", seed=0)                 # depth 1: no hidden activation to invert, relu is fine
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(1, 5)), rng.normal(size=(1, 3))
    before = net.weights[0].copy()
    RandomDirectionTP(factor="derived", seed=1).step(net, x, y)
    # <x, w + f d> = y: terms |x| |w| and |x| |w + f d| (large when <x, d> is small), and |y|
    xb = np.append(x[0], 1.0)[None]
    terms = abs_matmul(xb, np.abs(before).T + np.abs(net.weights[0]).T) + np.abs(y)
    assert_close_conditioned(net(x), y, terms, 4.0 * (6 + 8))


# ------------------------------------------------------------------------- randomness, training loop
def test_directions_follow_their_distribution():
    rule = RandomDirectionTP(directions=5, distribution="sphere", seed=0)
    np.testing.assert_allclose(np.linalg.norm(rule.sample_directions(30), axis=1), 1.0)
    coordinate = RandomDirectionTP(directions=5, distribution="coordinate", seed=0).sample_directions(8)
    assert np.all(coordinate.sum(axis=1) == 1) and np.all((coordinate == 0) | (coordinate == 1))
    assert len(set(coordinate.argmax(axis=1))) == 5          # distinct axes when k <= dim
    many = RandomDirectionTP(directions=10, distribution="coordinate", seed=0).sample_directions(3)
    assert many.shape == (10, 3) and np.all(many.sum(axis=1) == 1)   # with replacement when k > dim
    gaussian = RandomDirectionTP(directions=4000, seed=0).sample_directions(3)
    assert abs(gaussian.mean()) < 0.05 and abs(gaussian.var() - 1) < 0.05


def fit(seed, **options):
    data = linear_regression(n_train=64, n_test=16, n_inputs=4, n_outputs=2, seed=0)
    net = MLP([4, 8, 2], "leaky_relu", seed=0)
    rule = make_rule("random_direction_tp", seed=seed, **options)
    return net, train(net, rule, data, epochs=3, batch_size=16, seed=0)


@pytest.mark.parametrize("factor", FACTORS)
def test_same_seed_gives_bit_identical_runs(factor):
    options = dict(factor=factor, directions=3, eta=0.1)
    (net_a, hist_a), (net_b, hist_b) = fit(7, **options), fit(7, **options)
    for wa, wb in zip(net_a.weights, net_b.weights):
        assert np.array_equal(wa, wb)
    assert hist_a.metrics == hist_b.metrics
    net_c, _ = fit(8, **options)
    assert not np.array_equal(net_a.weights[0], net_c.weights[0])


def test_diagnostics_reach_the_training_history():
    _, history = fit(0, factor="least_squares", directions=2, eta=0.1)
    assert history.diagnostics[0] == {}
    expected = {f"{name}_{l}" for l in (1, 2)
                for name in ("factor_var", "sq_err_before", "sq_err_after", "decreased", "weight_step")}
    expected |= {"input_factor_var_2", "sq_err_input_2", "target_step_2"}
    for epoch in history.diagnostics[1:]:
        assert set(epoch) == expected
        assert all(np.isfinite(v) for v in epoch.values())
        assert 0.0 <= epoch["decreased_1"] <= 1.0
        assert epoch["sq_err_after_2"] <= epoch["sq_err_before_2"]     # least squares: never worse
    assert history.metrics["train_mse"][-1] < history.metrics["train_mse"][0]


def test_registered_under_its_name():
    assert RULES["random_direction_tp"] is RandomDirectionTP
    rule = make_rule("random_direction_tp", factor="derived", directions=4)
    assert rule.name == "random_direction_tp" and rule.k == 4 and "derived" in repr(rule)


# ------------------------------------------------------------------------------------- bad input
def test_relu_is_refused_with_a_clear_error():
    net = MLP([4, 5, 2], "relu", seed=0)
    with pytest.raises(ValueError, match="'relu' is not invertible"):
        RandomDirectionTP().step(net, np.zeros((2, 4)), np.zeros((2, 2)))


@pytest.mark.parametrize("options,message", [
    (dict(factor="swapped"), "unknown factor"),
    (dict(distribution="uniform"), "unknown direction distribution"),
    (dict(directions=0), "directions must be"),
    (dict(directions=-2), "directions must be"),
    (dict(directions=1.5), "directions must be"),
    (dict(directions=True), "directions must be"),
    (dict(eta=0.0), "eta must be > 0"),
    (dict(eta=float("nan")), "eta must be > 0"),
    (dict(ridge=0.0), "ridge must be > 0"),
    (dict(cap=0.0), "cap must be > 0"),
    (dict(output_target="softmax"), "unknown output_target"),
    (dict(beta=-1.0), "beta must be > 0"),
])
def test_bad_options_raise(options, message):
    with pytest.raises(ValueError, match=message):
        RandomDirectionTP(**options)


def test_directions_of_the_wrong_shape_raise():
    net = MLP([4, 5, 2], "leaky_relu", seed=0)
    rule = RandomDirectionTP(directions=2)
    with pytest.raises(ValueError, match="shape mismatch"):
        rule.apply(net, np.zeros((3, 4)), np.zeros((3, 2)), [np.zeros((2, 5)), np.zeros((1, 6))])
