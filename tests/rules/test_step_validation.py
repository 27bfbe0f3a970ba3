"""Bad input to every rule and optimiser: a clear error naming the argument and the value, raised before
the weights or the rule's state (feedback weights, generators, optimiser moments) change."""
import math
import pickle

import numpy as np
import pytest

from tpnb.checks import ArgumentTypeError
from tpnb.network import MLP
from tpnb.optimizers import Adam, SGD, make_optimizer
from tpnb.rules import RULES, make_rule

NAMES = sorted(RULES)
SIZES = [3, 5, 4, 2]          # two hidden layers, so every rule's hidden-layer code runs


def problem(batch=4, seed=0):
    rng = np.random.default_rng(seed)
    net = MLP(SIZES, "leaky_relu", seed=seed)     # invertible, as random_direction_tp needs
    return net, rng.normal(size=(batch, SIZES[0])), rng.normal(size=(batch, SIZES[-1]))


def state(net, rule):
    return pickle.dumps((net.weights, rule.__dict__))


def with_nan(a, i=1, j=0, value=math.nan):
    a = a.copy()
    a[i, j] = value
    return a


BAD_BATCHES = [
    ("y (B, 1) on a 2-output net", lambda x, y: (x, y[:, :1]), ValueError,
     r"shape mismatch: targets y must have shape \(batch, n_outputs\) = \(4, 2\) .*got \(4, 1\)"),
    ("y 1-D", lambda x, y: (x, y[:, 0]), ValueError, r"targets y must have shape .*got \(4,\)"),
    ("y of another batch", lambda x, y: (x, y[:3]), ValueError, r"= \(4, 2\) .*got \(3, 2\)"),
    ("x of the wrong width", lambda x, y: (x[:, :2], y), ValueError, r"inputs x of shape \(batch, 3\), got \(4, 2\)"),
    ("empty batch", lambda x, y: (x[:0], y[:0]), ValueError, "inputs x hold 0 samples"),
    ("NaN input", lambda x, y: (with_nan(x), y), ValueError, r"inputs x contain NaN or inf \(1 of 12 entries"),
    ("inf label", lambda x, y: (x, with_nan(y, 2, 1, math.inf)), ValueError,
     r"targets y contain NaN or inf .*index \(2, 1\)"),
    ("string input", lambda x, y: (x.astype(str), y), TypeError, "inputs x must be an array of real numbers"),
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case, corrupt, error, message", BAD_BATCHES, ids=[c[0] for c in BAD_BATCHES])
def test_every_step_refuses_a_bad_batch_before_changing_anything(name, case, corrupt, error, message):
    net, x, y = problem()
    rule = make_rule(name)
    rule.step(net, x, y)                      # feedback drawn, optimiser moments set: state worth protecting
    before = state(net, rule)
    with pytest.raises(error, match=message):
        rule.step(net, *corrupt(x, y))
    assert state(net, rule) == before


@pytest.mark.parametrize("name", NAMES)
def test_a_fresh_rule_refuses_a_bad_batch_without_drawing_its_feedback(name):
    net, x, y = problem()
    rule = make_rule(name)
    before = state(net, rule)
    with pytest.raises(ValueError, match="shape mismatch"):
        rule.step(net, x, y[:, :1])
    assert state(net, rule) == before


@pytest.mark.parametrize("name", NAMES)
def test_lists_are_accepted_and_give_the_same_step_as_arrays(name):
    net, x, y = problem()
    other = net.copy()
    diag = make_rule(name).step(net, x, y)
    diag_list = make_rule(name).step(other, x.tolist(), y.tolist())
    assert diag == diag_list
    for w, v in zip(net.weights, other.weights):
        np.testing.assert_array_equal(w, v)


# ------------------------------------------------------------------------------------------- options

NUMERIC_OPTIONS = {
    "exact_tp": ["a", "alpha", "eta", "cap", "margin", "beta"],
    "random_direction_tp": ["eta", "ridge", "cap", "beta"],
    "backprop": ["lr", "momentum"],
    "dfa": ["feedback_scale", "lr"],
    "gnt": ["beta", "damping", "lr"],
    "gtp": ["tau", "beta", "lr"],
    "dtp": ["beta", "sigma", "feedback_lr", "feedback_weight_decay", "feedback_init_scale", "lr", "momentum"],
    "ddtp_linear": ["beta", "sigma", "feedback_lr"],
}
NUMERIC_CASES = [(name, option) for name, options in NUMERIC_OPTIONS.items() for option in options]
ADAM_CASES = [(name, option) for name in ("backprop", "dfa", "gnt", "gtp", "ddtp_rhl") for option in
              ("lr", "beta1", "beta2", "eps")]


@pytest.mark.parametrize("name, option", NUMERIC_CASES + [(n, o) for n, o in ADAM_CASES])
@pytest.mark.parametrize("value, error, shown", [(math.inf, ValueError, "inf"), (math.nan, ValueError, "nan"),
                                                 ("0.5", TypeError, "'0.5'")])
def test_numeric_options_refuse_inf_nan_and_strings(name, option, value, error, shown):
    extra = dict(optimizer="adam") if (name, option) in ADAM_CASES else {}
    with pytest.raises(error, match=rf"^{option} must .*got {shown}"):
        make_rule(name, **extra, **{option: value})


COUNT_OPTIONS = [("random_direction_tp", "directions", 1), ("random_direction_tp", "seed", 0), ("dfa", "seed", 0),
                 ("gtp", "steps", 1), ("dtp", "feedback_iterations", 0), ("dtp", "rhl_width", 1),
                 ("ddtp_linear", "pretrain_epochs", 0), ("ddtp_linear", "seed", 0)]


@pytest.mark.parametrize("name, option, minimum", COUNT_OPTIONS)
@pytest.mark.parametrize("value, error", [(2.5, TypeError), (True, TypeError), ("3", TypeError), (-1, ValueError)])
def test_count_options_refuse_fractions_bools_strings_and_negatives(name, option, minimum, value, error):
    with pytest.raises(error, match=rf"^{option} must be a whole number .*>= {minimum}, got {value!r}"):
        make_rule(name, **{option: value})


@pytest.mark.parametrize("name, option", [("exact_tp", "diagnostics"), ("dfa", "angles"), ("gnt", "angles"),
                                          ("gtp", "angles"), ("dtp", "gnt_angles")])
def test_flags_refuse_strings(name, option):
    with pytest.raises(TypeError, match=rf"{option} must be True or False, got 'no'"):
        make_rule(name, **{option: "no"})


@pytest.mark.parametrize("name", NAMES)
def test_a_misspelt_option_is_blamed_on_the_rule(name):
    with pytest.raises(TypeError, match=rf"unknown option 'etaa' for rule '{name}'.*; allowed: .*"):
        make_rule(name, etaa=0.5)


@pytest.mark.parametrize("name", ["backprop", "dfa", "gnt", "gtp", "dtp"])
def test_forwarding_rules_blame_themselves_when_made_directly(name):
    with pytest.raises(TypeError, match=rf"unknown option 'lrr' for rule '{name}' \(with optimizer 'adam'\); "
                                        r"allowed: .*loss, optimizer.*lr, beta1, beta2, eps"):
        RULES[name](optimizer="adam", lrr=0.1)


def test_misspelt_feedback_options_are_named():
    with pytest.raises(TypeError, match=r"unknown option 'momentm' for feedback_options of rule 'dtp' .*"
                                        r"allowed: momentum"):
        make_rule("dtp", feedback_options=dict(momentm=0.9))
    with pytest.raises(TypeError, match="feedback_options must be a dict"):
        make_rule("dtp", feedback_options=[("momentum", 0.9)])


@pytest.mark.parametrize("make, message", [
    (lambda: SGD(lr=math.inf), "lr must be > 0 and finite, got inf"),
    (lambda: SGD(momentum="0.9"), "momentum must be a real number"),
    (lambda: Adam(beta1=math.nan), r"beta1 must be in \[0, 1\), got nan"),
    (lambda: Adam(eps=math.inf), "eps must be > 0 and finite, got inf"),
    (lambda: make_optimizer("sgd", lrr=0.1), "unknown option 'lrr' for optimizer 'sgd'; allowed: lr, momentum"),
])
def test_optimizers_refuse_bad_options(make, message):
    with pytest.raises(ValueError, match=message):
        make()
