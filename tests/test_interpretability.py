"""Tests for tpnb.interpretability: per-sample theta' and gradients as rank-one changes, their consensus
measures from Gram matrices, and the rank statistics of chapter 14.

Tolerances follow the conditioning of what is compared (tests/tolerances.py): a vectorised rank-one change
against the per-sample reference sums the same terms in another order, so it may differ by a few eps times
the size of those terms (|W| + |c| |x'|, entrywise); consensus measures from Gram matrices against ones from
full matrices differ by eps times the squared norms they cancel.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from tpnb import interpretability as it
from tpnb.losses import get_loss
from tpnb.network import MLP
from tpnb.rules import ExactTP, per_sample_weights
from tpnb.rules.backprop import gradients
from tolerances import EPS, assert_close_conditioned, backward_error_scale, forward_error_scale, sensitivity

seeds = st.integers(0, 2 ** 32 - 1)
OPTIONS = [dict(), dict(alpha=0.2, cap=None, margin=0.3), dict(a=0.05, dx_mode="exact"),
           dict(output_target="step", beta=0.3), dict(hidden_target="threshold", threshold=0.1),
           dict(input_rule="pinv", hidden_target="threshold", threshold=0.1), dict(input_rule="pinv")]


def problem(seed, sizes=(5, 16, 16, 3), batch=8, activation="relu"):
    net = MLP(list(sizes), activation, seed=seed % 1000)
    rng = np.random.default_rng(seed)
    for w in net.weights:
        w[:, -1] = rng.normal(0.0, 0.3, size=w.shape[0])
    return net, rng.normal(size=(batch, sizes[0])), rng.normal(size=(batch, sizes[-1]))


def change_scale(rule, net, x, y):
    """Entrywise size of what the rounding of theta'_b = W + c x'^T may reach, (B, N_l, D_l + 1) per layer:
    the terms |W| + |c| |x'|, plus how far theta' moves per unit relative perturbation of the weights and
    the batch (``sensitivity``: a target computed through small denominators or a pinv solve amplifies
    rounding, and two implementations that sum in other orders differ by eps times that)."""
    def thetas(arrays):
        *weights, xx, yy = arrays
        clone = net.copy()
        clone.weights = weights
        r = it.exact_tp_changes(rule, clone, xx, yy)
        return [w + np.einsum("bn,bd->bnd", c, v) for w, c, v in zip(weights, r.coef, r.inputs)]
    r = it.exact_tp_changes(rule, net, x, y)
    _, moved = sensitivity(thetas, [*net.weights, x, y])
    return [np.abs(w) + np.einsum("bn,bd->bnd", np.abs(c), np.abs(v)) + m
            for w, c, v, m in zip(net.weights, r.coef, r.inputs, moved)]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()) or "seed")
@given(seed=seeds)
def test_rank_one_changes_are_the_rules_per_sample_weights(options, seed):
    """W_l + c_l x'_l^T is the per-sample reference's theta' (the mean input rule) and the batch rule's update
    on a batch of one sample (every rule); the batch mean of the changes is the batch rule's update."""
    net, x, y = problem(seed)
    rule = ExactTP(**options)
    r = it.exact_tp_changes(rule, net, x, y)
    # pinv input targets solve with the Gram matrix of W (bias column excluded): one right-hand side or
    # several round differently, by up to eps times its condition, cond(W)^2
    condition = max(np.linalg.cond(w[:, :-1]) ** 2 for w in net.weights[1:]) if rule.input_rule == "pinv" else 1.0
    scales = change_scale(rule, net, x, y)
    for b in range(len(x)):
        one, _ = rule.mean_update(net, x[b:b + 1], y[b:b + 1])
        references = [[w + u for w, u in zip(net.weights, one)]]
        if rule.input_rule == "mean":
            references.append(per_sample_weights(rule, net, x[b], y[b]))
        for reference in references:
            for w, d, ref, scale in zip(net.weights, r.sample(b), reference, scales):
                assert_close_conditioned(w + d, ref, scale[b], 64 * w.shape[1] * condition)
    mean, (update, _) = r.mean(), rule.mean_update(net, x, y)
    for m, u, c, v in zip(mean, update, r.coef, r.inputs):
        assert_close_conditioned(m, u, np.abs(c).T @ np.abs(v) / len(c), 64 * len(c))


@given(seed=seeds)
def test_property_e_holds_with_the_targets(seed):
    """theta'_b maps x_b to u'_L and every layer's x'_l to u'_l (the targets fitted exactly)."""
    net, x, y = problem(seed)
    rule = ExactTP(input_rule="pinv", hidden_target="threshold", threshold=0.1)
    t = it.targets(rule, net, x, y)
    r = it.exact_tp_changes(rule, net, x, y, t)
    for b in range(len(x)):
        theta = [w + d for w, d in zip(net.weights, r.sample(b))]
        for w, xt, ut in zip(theta, t.x_targets, t.u_targets):
            assert_close_conditioned(w @ xt[b], ut[b], np.abs(w) @ np.abs(xt[b]), 64 * len(xt[b]))


def test_joint_weights_have_no_per_sample_theta():
    net, x, y = problem(0)
    with pytest.raises(ValueError, match="per sample"):
        it.targets(ExactTP(weight_rule="joint"), net, x, y)


@pytest.mark.parametrize("activation", ["relu", "tanh", "leaky_relu"])
@given(seed=seeds)
def test_per_sample_gradients_are_backprops(activation, seed):
    """delta_l x_l^T of each sample is backprop's gradient on that sample alone; their mean is the batch's."""
    net, x, y = problem(seed, activation=activation)
    g = it.bp_gradients(net, x, y)
    mse, fp = get_loss("mse"), net.forward(x)
    # delta_L = u - y carries the forward pass's rounding; the recursion then sums |delta| |W| terms
    delta = np.abs(fp.output - y) + forward_error_scale(net, x)
    factor = 16 * (max(net.sizes) + 8) * net.depth
    for b in (0, len(x) - 1):
        scales = backward_error_scale(net, net.forward(x[b:b + 1]), delta[b:b + 1])
        for mine, ref, scale in zip(g.sample(b), gradients(net, x[b:b + 1], y[b:b + 1], mse), scales):
            assert_close_conditioned(mine, ref, scale, factor)
    for mine, ref, scale in zip(g.mean(), gradients(net, x, y, mse), backward_error_scale(net, fp, delta / len(x))):
        assert_close_conditioned(mine, ref, scale, factor)


def test_per_sample_loss():
    net, x, y = problem(3)
    assert np.allclose(it.per_sample_loss(net, x, y).mean(), get_loss("mse")(net(x), y), rtol=1e-13)
    ce = it.per_sample_loss(net, x, np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1]], "cross_entropy")
    assert np.allclose(ce.mean(), get_loss("cross_entropy")(net(x), np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1]]), rtol=1e-13)


@given(seed=seeds, batch=st.integers(1, 6), groups=st.integers(1, 3))
def test_consensus_from_grams_equals_full_matrices(seed, batch, groups):
    """distance to the batch mean, cosine with it and norms, from Gram matrices, equal the same computed on
    the full matrices; trailing samples beyond whole batches are dropped."""
    net, x, y = problem(seed, batch=batch * groups + batch - 1)
    r = it.exact_tp_changes(ExactTP(), net, x, y)
    c = it.consensus(r, batch)
    assert len(c["distance"]) == batch * groups
    for g in range(groups):
        rows = range(g * batch, (g + 1) * batch)
        mean = [np.mean([r.sample(b)[l] for b in rows], axis=0) for l in range(net.depth)]
        mean_sq = sum(np.sum(m ** 2) for m in mean)
        for b in rows:
            full = r.sample(b)
            sq = sum(np.sum(f ** 2) for f in full)
            scale = sq + mean_sq                       # the squared norms the distance formula cancels
            dist = np.sqrt(sum(np.sum((f - m) ** 2) for f, m in zip(full, mean)))
            assert abs(c["distance"][b] ** 2 - dist ** 2) <= 200 * EPS * scale
            dot = sum(np.sum(f * m) for f, m in zip(full, mean))
            assert abs(c["cosine"][b] * np.sqrt(sq * mean_sq) - dot) <= 200 * EPS * scale
            assert abs(c["norm"][b] ** 2 - sq) <= 200 * EPS * sq
            assert -1 - 1e-12 <= c["cosine"][b] <= 1 + 1e-12


def test_consensus_of_one_sample_batches_is_the_sample_itself():
    net, x, y = problem(5)
    c = it.consensus(it.exact_tp_changes(ExactTP(), net, x, y), 1)
    assert np.allclose(c["cosine"], 1.0) and np.all(c["distance"] <= 1e-6 * c["norm"])
    with pytest.raises(ValueError, match="larger"):
        it.consensus(it.exact_tp_changes(ExactTP(), net, x, y), 9)


def test_layer_one_changes_are_multiples_of_the_input():
    """Layer 1: both rules' per-sample change is c x^T; their cosine is that of the coefficient vectors."""
    net, x, y = problem(7)
    tp, bp = it.exact_tp_changes(ExactTP(), net, x, y), it.bp_gradients(net, x, y)
    xb = np.column_stack([x, np.ones(len(x))])
    for b in range(len(x)):
        for change in (tp.sample(b)[0], bp.sample(b)[0]):
            s = np.linalg.svd(change, compute_uv=False)
            assert s[1] <= 1e-12 * s[0]
            assert np.allclose(change, np.outer(change @ xb[b] / (xb[b] @ xb[b]), xb[b]), atol=1e-14 * s[0])
    c, d = tp.coef[0], -bp.coef[0]
    expected = np.einsum("bn,bn->b", c, d) / (np.linalg.norm(c, axis=1) * np.linalg.norm(d, axis=1))
    assert np.allclose(it.paired_cosine(tp.layers([0]), bp.layers([0]).scaled(-1.0)), expected, atol=1e-12)


def test_target_steps():
    net, x, y = problem(2)
    t = it.targets(ExactTP(alpha=1.0, cap=None), net, x, y)      # alpha = 1: no input change
    assert all(np.allclose(s, 0.0, atol=1e-12) for s in it.target_steps(t))
    assert len(it.target_steps(t)) == net.depth - 1


# --- statistics --------------------------------------------------------------------------------------------

values = st.lists(st.integers(-5, 5), min_size=2, max_size=40).map(lambda v: np.array(v, dtype=float))


@given(v=values)
def test_ranks_are_average_ranks(v):
    """Each value's rank is 1 + (number below) + (number equal - 1) / 2."""
    expected = 1 + (v[None, :] < v[:, None]).sum(1) + ((v[None, :] == v[:, None]).sum(1) - 1) / 2
    np.testing.assert_array_equal(it.ranks(v), expected)


@given(v=values, seed=seeds)
def test_auc_counts_pairs(v, seed):
    positive = np.random.default_rng(seed).random(len(v)) < 0.5
    if positive.all() or not positive.any():
        assert np.isnan(it.auc(v, positive))
        return
    pos, neg = v[positive], v[~positive]
    pairs = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert it.auc(v, positive) == pytest.approx(pairs / (len(pos) * len(neg)), abs=1e-12)
    assert it.auc(-v, positive) == pytest.approx(1 - it.auc(v, positive), abs=1e-12)


@given(seed=seeds)
def test_spearman_and_partial(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=50)
    assert it.spearman(a, np.exp(a)) == pytest.approx(1.0)          # invariant under monotone maps
    assert it.spearman(a, -a ** 3) == pytest.approx(-1.0)
    b = rng.normal(size=50)
    assert -1 <= it.spearman(a, b) <= 1
    assert np.isnan(it.spearman(a, np.ones(50)))
    # b's link to a runs only through c = a + b: a's partial correlation with b given c is negative
    # (a and b are independent but both make up c) and exactly -1 would need no noise at all
    c = a + b
    p = it.partial_spearman(a, b, c)
    assert -1 <= p < it.spearman(a, b) + 1e-12
    assert np.isnan(it.partial_spearman(a, b, a))


def test_partial_spearman_removes_a_shared_cause():
    """a and b both follow c plus independent noise: correlated, but not once c is accounted for."""
    rng = np.random.default_rng(0)
    c = rng.normal(size=20000)
    a, b = c + 0.3 * rng.normal(size=c.size), c + 0.3 * rng.normal(size=c.size)
    assert it.spearman(a, b) > 0.8
    assert abs(it.partial_spearman(a, b, c)) < 0.05


def test_logistic_fit_recovers_coefficients():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20000, 2))
    truth = np.array([-0.5, 2.0, -1.0])
    positive = rng.random(len(x)) < 1 / (1 + np.exp(-(truth[0] + x @ truth[1:])))
    beta = it.fit_logistic(x, positive, ridge=0.0)
    assert np.allclose(beta, truth, atol=0.1)
    separable = it.fit_logistic(x[:, :1], x[:, 0] > 0)          # ridge keeps separable data finite
    assert np.all(np.isfinite(separable)) and separable[1] > 0


def test_added_auc_sees_information_beyond_the_base_and_none_in_noise():
    rng = np.random.default_rng(2)
    n = 4000
    base, extra = rng.normal(size=n), rng.normal(size=n)
    groups = np.arange(n) // 1000
    positive = base + extra + 0.5 * rng.normal(size=n) > 0
    alone, both = it.added_auc(base, extra, positive, groups)
    assert alone.shape == (4,) and np.all(both - alone > 0.1)
    alone, both = it.added_auc(base, rng.normal(size=n), positive, groups)
    assert np.all(np.abs(both - alone) < 0.02)


def test_uniform_scores_rank_within_groups():
    v = np.array([3.0, 1.0, 2.0, 10.0, 20.0])
    g = np.array([0, 0, 0, 1, 1])
    np.testing.assert_allclose(it.uniform_scores(v, g), [3 / 4, 1 / 4, 2 / 4, 1 / 3, 2 / 3])


def test_atypicality_and_class_means():
    x = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0]])
    labels = np.array([0, 0, 1])
    means = it.class_means(x, labels, 3)
    np.testing.assert_array_equal(means, [[1.0, 0.0], [0.0, 4.0], [0.0, 0.0]])
    np.testing.assert_array_equal(it.atypicality(x, labels, means), [1.0, 1.0, 0.0])


def test_sample_measures_and_group_statistics():
    net, x, y = problem(4, batch=67)
    y = np.eye(3)[np.random.default_rng(4).integers(0, 3, 67)]
    m = it.sample_measures(ExactTP(), net, x, y, batch=8)
    assert set(it.QUANTITIES) <= set(m) and all(len(v) == 64 for v in m.values())
    assert np.all((m["tp_disagreement"] >= -1e-12) & (m["tp_disagreement"] <= 2 + 1e-12))
    np.testing.assert_allclose(m["tp_disagreement"], 1 - m["tp_cosine"])
    groups = np.arange(64) // 32
    stats = it.group_statistics(m["tp_distance"], m, np.abs(x[:64, 0]), groups)
    assert set(stats) == {"auc", "auc_gain", "rho_loss", "rho_atypical", "partial_atypical"}
    assert all(v.shape == (2,) for v in stats.values())
    assert np.allclose(it.group_statistics(m["loss"], m, np.abs(x[:64, 0]), groups)["rho_loss"], 1.0)
