"""The one rule protocol (tpnb.rules.protocol): what every rule's ``step`` and ``directions`` return, the
target_step definition and numbering (tpnb.rules.target_steps), one output-target vocabulary, one option
helper, and the DTP variants as what they fix."""
import copy
import pickle
import re

import numpy as np
import pytest

from tpnb.losses import get_loss, softmax
from tpnb.network import MLP
from tpnb.rules import RULES, DTP, DDTPControl, DDTPLinear, DDTPRHL, DTPDRL, Directions, InverseTP, make_rule
from tpnb.rules.local_losses import hidden_activations
from tpnb.rules.target_steps import target_step
from tpnb.rules.targets import OUTPUT_TARGETS, output_error, output_target

SIZES = [4, 6, 5, 3]                     # L = 3 weight layers, two hidden layers
L = len(SIZES) - 1
DIRECTION_RULES = ["dfa", "gnt", "gtp", "dtp", "dtpdrl", "ddtp_linear", "ddtp_rhl", "ddtp_control"]
TARGET_RULES = ["exact_tp", "random_direction_tp", "gnt", "gtp", "dtp", "dtpdrl", "ddtp_linear", "ddtp_rhl",
                "ddtp_control"]
SMALL = dict(ddtp_rhl=dict(rhl_width=8))


def problem(seed=0, sizes=SIZES, batch=7):
    rng = np.random.default_rng(seed)
    net = MLP(sizes, "leaky_relu", seed=seed)               # invertible, as random_direction_tp needs
    return net, rng.normal(size=(batch, sizes[0])), rng.normal(size=(batch, sizes[-1]))


@pytest.mark.parametrize("name", sorted(RULES))
def test_step_returns_flat_per_layer_floats(name):
    net, x, y = problem()
    diagnostics = make_rule(name, **SMALL.get(name, {})).step(net, x, y)
    assert diagnostics and all(type(v) is float for v in diagnostics.values())
    for key in diagnostics:
        match = re.fullmatch(r"([a-z_]+)_(\d+)", key)
        assert match and 1 <= int(match.group(2)) <= L, key


@pytest.mark.parametrize("name", TARGET_RULES)
def test_target_steps_are_numbered_by_the_weight_layer_whose_input_moves(name):
    net, x, y = problem()
    diagnostics = make_rule(name, **SMALL.get(name, {})).step(net, x, y)
    assert sorted(k for k in diagnostics if k.startswith("target_step_")) == [f"target_step_{l}" for l in
                                                                              range(2, L + 1)]


@pytest.mark.parametrize("name", DIRECTION_RULES)
def test_directions_return_one_type_and_leave_the_network_alone(name):
    net, x, y = problem(1)
    before = [w.copy() for w in net.weights]
    d = make_rule(name, **SMALL.get(name, {})).directions(net, x, y)
    assert type(d) is Directions
    grads, targets, forward, error = d                      # a tuple too
    assert [g.shape for g in grads] == [w.shape for w in net.weights]
    assert error.shape == (len(x), SIZES[-1]) and forward.output.shape == error.shape
    if name == "dfa":
        assert targets is None
    else:
        assert [t.shape for t in targets] == [(len(x), n) for n in SIZES[1:-1]]
    for w, b in zip(net.weights, before):
        np.testing.assert_array_equal(w, b)


@pytest.mark.parametrize("name", [n for n in DIRECTION_RULES if n != "dfa"])
def test_target_step_is_the_mean_relative_move_of_the_directions_targets(name):
    net, x, y = problem(2)
    rule = make_rule(name, feedback_iterations=0, **SMALL.get(name, {})) if name not in ("gnt", "gtp") \
        else make_rule(name)
    d = copy.deepcopy(rule).directions(net.copy(), x, y)
    diagnostics = rule.step(net, x, y)
    for i, (t, h) in enumerate(zip(d.targets, hidden_activations(d.forward))):
        expected = np.mean(np.linalg.norm(t - h, axis=1) / np.linalg.norm(h, axis=1))
        assert diagnostics[f"target_step_{i + 2}"] == pytest.approx(expected, rel=1e-12)
        assert diagnostics[f"target_step_{i + 2}"] == target_step(t, h)


def test_target_step_is_relative_and_floors_a_zero_activation():
    h = np.array([[3.0, 4.0], [0.0, 0.0]])
    t = h + np.array([[0.0, 5.0], [1e-13, 0.0]])
    assert target_step(t, h) == pytest.approx((5 / 5 + 1e-13 / 1e-12) / 2)      # |h| = 0 counts as 1e-12
    assert target_step(10 * t[:1], 10 * h[:1]) == pytest.approx(target_step(t[:1], h[:1]), rel=1e-15)


def test_output_target_vocabulary():
    rng = np.random.default_rng(3)
    u, y = rng.normal(size=(5, 4)), np.eye(4)[rng.integers(0, 4, 5)]
    beta = 0.3
    np.testing.assert_array_equal(output_target("label", beta, u, y), y)
    np.testing.assert_allclose(output_target("step", beta, u, y), u + beta * (y - u))
    np.testing.assert_allclose(output_target("softmax_step", beta, u, y), u + beta * (y - softmax(u)))
    # "gradient" is the step of the rule's own loss
    for loss, same in (("mse", "step"), ("cross_entropy", "softmax_step")):
        e = output_error(get_loss(loss), u, y)
        np.testing.assert_allclose(output_target("gradient", beta, u, y, e), output_target(same, beta, u, y),
                                   rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name, allowed", [("exact_tp", ("label", "step", "softmax_step")),
                                           ("random_direction_tp", ("label", "step", "softmax_step")),
                                           ("gtp", ("label", "gradient"))])
def test_rules_offer_targets_of_the_one_vocabulary(name, allowed):
    assert set(allowed) <= set(OUTPUT_TARGETS)
    for mode in allowed:
        assert make_rule(name, output_target=mode).output_target == mode
    for mode in set(OUTPUT_TARGETS) - set(allowed):
        with pytest.raises(ValueError, match=rf"unknown output_target '{mode}'; known: "):
            make_rule(name, output_target=mode)


@pytest.mark.parametrize("name, option, value", [("exact_tp", "eta", 1), ("exact_tp", "alpha", 0),
                                                 ("random_direction_tp", "eta", 2), ("gnt", "beta", 1),
                                                 ("gtp", "tau", 1), ("dfa", "feedback_scale", 2),
                                                 ("dtp", "sigma", 1), ("random_direction_tp", "seed", np.int64(3))])
def test_options_are_stored_as_plain_numbers(name, option, value):
    rule = make_rule(name, **{option: value})
    stored = getattr(rule, option)
    assert stored == value and type(stored) in (float, int)


VARIANTS = [(DTP, "dtp", "layerwise", "layerwise"), (DTPDRL, "dtpdrl", "layerwise", "drl"),
            (DDTPLinear, "ddtp_linear", "direct_linear", "drl"), (DDTPRHL, "ddtp_rhl", "direct_rhl", "drl"),
            (DDTPControl, "ddtp_control", "direct_linear", "control"),
            (InverseTP, "inverse_tp", "inverse", "none")]


@pytest.mark.parametrize("cls, name, parameterization, reconstruction", VARIANTS)
def test_dtp_variants_are_what_they_fix(cls, name, parameterization, reconstruction):
    assert (cls.name, cls.parameterization, cls.reconstruction) == (name, parameterization, reconstruction)
    assert name == "inverse_tp" or RULES[name] is cls
    rule = cls(lr=0.01)
    assert type(pickle.loads(pickle.dumps(rule))) is cls and repr(rule).startswith(cls.__name__)
