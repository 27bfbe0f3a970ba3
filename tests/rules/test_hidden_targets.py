"""Tests for tpnb.rules.hidden_targets and ExactTP's hidden_target / threshold / count_switches options:
each rule's defining property against a unit-by-unit reference written from the math, property E with every
rule, the defaults leaving the seed's numbers bit for bit, and argument validation."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from tpnb.activations import ReLU
from tpnb.network import MLP
from tpnb.rules import ExactTP, make_rule, per_sample_weights
from tpnb.rules.hidden_targets import HIDDEN_TARGETS, relu_target
from strategies import examples, floats, problems, seeds
from test_exact_tp import assert_property_e, make_batch, make_net

NON_SEED = tuple(r for r in HIDDEN_TARGETS if r != "seed")


def reference_target(rule, u, ix, cap, margin, threshold):
    """u' of one unit, case by case as the module docstring states it."""
    c = ix if cap is None else min(ix, cap)
    x_proj = max(c, 0.0)
    if rule == "preactivation":
        return u + (c - max(u, 0.0))
    on_request = x_proj > (threshold if rule == "threshold" else 0.0)
    if u <= 0 and (rule == "mask" or not on_request):
        return u                                        # stays off
    if x_proj > 0:
        return x_proj                                   # on, at the requested activity
    return -margin                                      # active, asked below zero: off just past the kink


@st.composite
def layer_requests(draw):
    """(u, ix): pre-activations and requests of a (B, n) layer, zeros included."""
    rng = np.random.default_rng(draw(seeds))
    shape = (draw(st.integers(1, 6)), draw(st.integers(1, 7)))
    u, ix = rng.normal(size=shape), rng.normal(size=shape)
    u[rng.random(shape) < 0.15] = 0.0
    ix[rng.random(shape) < 0.15] = 0.0
    return u, ix


@examples(2)
@given(requests=layer_requests(), rule=st.sampled_from(HIDDEN_TARGETS),
       cap=st.one_of(st.none(), floats(0.2, 3.0)), margin=st.one_of(st.just(0.0), floats(0.0, 1.0)),
       threshold=floats(0.0, 1.5))
def test_relu_target_matches_unit_by_unit_reference(requests, rule, cap, margin, threshold):
    u, ix = requests
    got = relu_target(rule, u, ix, cap, margin, threshold)
    expected = np.vectorize(lambda uj, ij: reference_target(rule, uj, ij, cap, margin, threshold))(u, ix)
    np.testing.assert_array_equal(got, expected)


@examples(1)
@given(requests=layer_requests(), cap=st.one_of(st.none(), floats(0.2, 3.0)), margin=floats(0.0, 1.0))
def test_seed_rule_is_the_activation_target_and_threshold_zero_is_the_seed(requests, cap, margin):
    u, ix = requests
    relu = ReLU()
    seed = relu.target(u, relu.project(ix, cap), margin)
    np.testing.assert_array_equal(relu_target("seed", u, ix, cap, margin, 0.0), seed)
    np.testing.assert_array_equal(relu_target("threshold", u, ix, cap, margin, 0.0), seed)


@examples(1)
@given(requests=layer_requests(), cap=st.one_of(st.none(), floats(0.2, 3.0)), margin=floats(0.0, 1.0),
       threshold=floats(0.0, 1.5))
def test_switching_properties(requests, cap, margin, threshold):
    """threshold: an inactive unit turns on exactly when its projected request exceeds t; mask: no unit turns
    on, the active ones move as with the seed's rule; preactivation: the same step u' - u = c - relu(u) for
    both states, so a unit switches exactly when the request crosses the kink."""
    u, ix = requests
    capped = ix if cap is None else np.minimum(ix, cap)
    off = u <= 0
    turned_on = off & (relu_target("threshold", u, ix, cap, margin, threshold) > 0)
    np.testing.assert_array_equal(turned_on, off & (np.maximum(capped, 0.0) > threshold))
    masked = relu_target("mask", u, ix, cap, margin, 0.0)
    np.testing.assert_array_equal(masked[off], u[off])
    np.testing.assert_array_equal(masked[~off], relu_target("seed", u, ix, cap, margin, 0.0)[~off])
    pre = relu_target("preactivation", u, ix, cap, margin, 0.0)
    step = capped - np.maximum(u, 0.0)                  # u' - u, up to the rounding of u + step
    assert np.all(np.abs((pre - u) - step) <= 2 * np.finfo(float).eps * (np.abs(u) + np.abs(step)))
    np.testing.assert_array_equal(off & (pre > 0), off & (capped > -u))
    np.testing.assert_array_equal(~off & (pre <= 0), ~off & (capped <= 0))


@examples(2)
@given(problem=problems(max_batch=3, min_depth=2, activations=["relu"]), rule_name=st.sampled_from(NON_SEED),
       threshold=floats(0.0, 1.0), alpha=floats(0.0, 1.0), margin=floats(0.0, 0.5),
       input_rule=st.sampled_from(("mean", "pinv")))
def test_property_e_with_every_hidden_target(problem, rule_name, threshold, alpha, margin, input_rule):
    """theta'(x, y) maps x to u'_L with every hidden-target rule and either input rule (pinv + threshold is
    chapter 13's candidate variant): the per-sample reference (mean proposals) and the vectorised rule with
    a batch of one."""
    net, x, y = problem
    rule = ExactTP(alpha=alpha, margin=margin, hidden_target=rule_name, input_rule=input_rule,
                   threshold=threshold if rule_name == "threshold" else 0.0)
    for xb, yb in zip(x, y):
        if input_rule == "mean":
            assert_property_e(rule, net, xb, yb, per_sample_weights(rule, net, xb, yb))
        updates, _ = rule.mean_update(net, xb[None], yb[None])
        assert_property_e(rule, net, xb, yb, [w + u for w, u in zip(net.weights, updates)])


@pytest.mark.parametrize("options", [dict(), dict(input_rule="pinv"), dict(output_target="step", beta=0.2),
                                     dict(alpha=0.0, cap=None, margin=0.3)])
def test_defaults_reproduce_the_seed_rule_bit_for_bit(options):
    """hidden_target="seed", threshold=0 and count_switches (which only adds diagnostics) leave every
    weight of three steps bit-identical to the rule without the new options."""
    nets = [make_net(3, 6, seed=2) for _ in range(4)]
    rules = [ExactTP(**options), ExactTP(hidden_target="seed", threshold=0.0, **options),
             ExactTP(count_switches=True, **options), make_rule("exact_tp", **options)]
    x, y = make_batch(nets[0], 9, seed=2)
    diagnostics = [[rule.step(net, x, y) for _ in range(3)] for net, rule in zip(nets, rules)]
    for net in nets[1:]:
        for a, b in zip(nets[0].weights, net.weights):
            np.testing.assert_array_equal(a, b)
    assert diagnostics[0] == diagnostics[1] == diagnostics[3]
    assert all(set(d) - set(diagnostics[0][0]) == {"switch_on_1", "switch_off_1", "switch_on_2", "switch_off_2"}
               for d in diagnostics[2])


def test_count_switches_records_what_the_targets_ask():
    """switch_on_l / switch_off_l are the fractions of hidden layer l's (sample, unit) pairs whose pre-activation
    target has the other sign; the mask rule asks no unit to turn on, the seed's rule asks some."""
    net = make_net(3, 8, seed=4)
    x, y = make_batch(net, 16, seed=4, y_scale=3.0)
    fp = net.forward(x)
    for name in HIDDEN_TARGETS:
        diagnostics = ExactTP(hidden_target=name, count_switches=True).step(net.copy(), x, y)
        if name == "mask":
            assert diagnostics["switch_on_1"] == diagnostics["switch_on_2"] == 0.0
        if name == "seed":
            assert diagnostics["switch_on_2"] > diagnostics["switch_off_2"]
        for l in (1, 2):
            assert 0.0 <= diagnostics[f"switch_on_{l}"] <= 1.0 - np.mean(fp.us[l - 1] > 0)
            assert 0.0 <= diagnostics[f"switch_off_{l}"] <= np.mean(fp.us[l - 1] > 0)


def test_count_switches_must_be_a_flag():
    with pytest.raises(TypeError, match="count_switches"):
        ExactTP(count_switches="yes")


@pytest.mark.parametrize("activation", ["tanh", "leaky_relu"])
def test_non_seed_rule_needs_relu_layers(activation):
    net = MLP([3, 4, 2], activation, seed=0)
    x, y = np.ones((2, 3)), np.zeros((2, 2))
    with pytest.raises(ValueError, match="needs ReLU hidden layers"):
        ExactTP(hidden_target="mask").step(net, x, y)


def test_unknown_rule_name_in_function():
    with pytest.raises(ValueError, match="unknown hidden_target 'xyz'"):
        relu_target("xyz", np.zeros((1, 1)), np.zeros((1, 1)), None, 0.0, 0.0)


def test_repr_names_a_non_seed_rule_only():
    assert "hidden_target" not in repr(ExactTP())
    assert "hidden_target='threshold', threshold=0.1" in repr(ExactTP(hidden_target="threshold", threshold=0.1))


@pytest.mark.parametrize("seed", range(3))
def test_chapter_13_candidate_is_exact_per_sample_and_keeps_no_state(seed):
    """pinv input targets + the on-threshold rule (the variant chapter 13's causal test points to) still
    computes, per sample, parameters theta' that map x to its label exactly, and carries no state from one
    step to the next (no optimiser)."""
    net = make_net(4, 12, seed=seed)
    x, y = make_batch(net, 5, seed=seed, y_scale=2.0)
    rule = ExactTP(input_rule="pinv", hidden_target="threshold", threshold=0.1)
    for xb, yb in zip(x, y):
        updates, _ = rule.mean_update(net, xb[None], yb[None])
        assert_property_e(rule, net, xb, yb, [w + u for w, u in zip(net.weights, updates)])
    state = dict(vars(rule))
    rule.step(net, x, y)
    assert vars(rule) == state
