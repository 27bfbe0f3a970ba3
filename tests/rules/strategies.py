"""Hypothesis strategies shared by the rule tests: architectures, random problems and rule options.

The structure of an example (depth, widths, activation, batch size, every option) is drawn by Hypothesis, so
it shrinks to the simplest failing case; the numbers (weights, inputs, targets) come from a NumPy generator
seeded by a drawn integer: Gaussian entries keep every example well-conditioned (no subnormals, no 1e300 inputs),
and the remaining ill-conditioning (a near-zero denominator) is handled by conditioning-aware tolerances,
not filtered out.
"""
import numpy as np
from hypothesis import settings, strategies as st

from tpnb.activations import ACTIVATIONS
from tpnb.network import MLP

ACTIVATION_NAMES = sorted(ACTIVATIONS)                      # identity, leaky_relu, relu, sigmoid, tanh, x_plus_relu
INVERTIBLE = [name for name in ACTIVATION_NAMES if ACTIVATIONS[name].invertible]
seeds = st.integers(0, 2 ** 32 - 1)


def examples(multiple: float) -> settings:
    """Settings with ``multiple`` times the profile's max_examples (tests/conftest.py), so that the
    "thorough" profile scales every property test alike."""
    return settings(max_examples=max(1, int(multiple * settings.default.max_examples)))


def floats(low: float, high: float):
    """Finite floats in [low, high] without subnormals (the bounds themselves are drawn too)."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def architectures(draw, min_depth=1, max_depth=5, max_width=17, max_in=6, max_out=4, activations=ACTIVATION_NAMES):
    """(sizes, activation): [d_in, n_1, ..., n_L] with L in [min_depth, max_depth], every width drawn."""
    depth = draw(st.integers(min_depth, max_depth))
    sizes = ([draw(st.integers(1, max_in))] + [draw(st.integers(1, max_width)) for _ in range(depth - 1)]
             + [draw(st.integers(1, max_out))])
    return sizes, draw(st.sampled_from(activations))


def random_net(sizes, activation, seed, bias_scale=0.3):
    """An MLP with He weights and random (non-zero) biases."""
    net = MLP(list(sizes), activation, seed=seed)
    rng = np.random.default_rng([seed, 1])
    for w in net.weights:
        w[:, -1] = rng.normal(0.0, bias_scale, size=w.shape[0])
    return net


def random_batch(sizes, batch, seed, y_scale=1.0):
    rng = np.random.default_rng([seed, 2])
    return rng.normal(size=(batch, sizes[0])), rng.normal(0.0, y_scale, size=(batch, sizes[-1]))


@st.composite
def problems(draw, min_batch=1, max_batch=8, **architecture):
    """(net, x, y): a random network (``architectures`` options) and a batch with Gaussian targets whose
    scale is drawn in [0.1, 4]."""
    sizes, activation = draw(architectures(**architecture))
    seed = draw(seeds)
    batch = draw(st.integers(min_batch, max_batch))
    x, y = random_batch(sizes, batch, seed, y_scale=draw(floats(0.1, 4.0)))
    return random_net(sizes, activation, seed), x, y


def output_target_options(draw, options):
    """output_target and beta (every target; beta only where it matters)."""
    options["output_target"] = draw(st.sampled_from(("label", "step", "softmax_step")))
    if options["output_target"] != "label":
        options["beta"] = draw(floats(0.05, 3.0))
    return options


@st.composite
def exact_tp_options(draw, variants=True):
    """Keyword options of ExactTP: every dx_mode, output target, the split given as the default, as alpha in
    [0, 1] (0 and 1 included) or as a in [0, 3] (0 included; alpha = a |x|^2 > 1 too), cap None / default /
    drawn, margin 0 or drawn; with ``variants`` also input_rule "pinv" and weight_rule "joint"."""
    options = {"dx_mode": draw(st.sampled_from(("full", "exact")))}
    split = draw(st.sampled_from(("default", "alpha", "a")))
    if split == "alpha":
        options["alpha"] = draw(st.one_of(st.sampled_from((0.0, 1.0)), floats(0.0, 1.0)))
    elif split == "a":
        options["a"] = draw(st.one_of(st.just(0.0), floats(0.01, 3.0)))
    cap = draw(st.one_of(st.just("default"), st.none(), floats(0.3, 5.0)))
    if cap != "default":
        options["cap"] = cap
    margin = draw(st.one_of(st.just(0.0), floats(0.0, 1.0)))
    if margin:
        options["margin"] = margin
    output_target_options(draw, options)
    if variants:
        options["input_rule"] = draw(st.sampled_from(("mean", "pinv")))
        options["weight_rule"] = draw(st.sampled_from(("mean", "joint")))
    return options


@st.composite
def random_direction_options(draw):
    """Keyword options of RandomDirectionTP: every factor and distribution, k in 1..4 directions, eta default or
    drawn, ridge default or drawn (least_squares), cap None or drawn, every output target, a drawn seed."""
    options = {"factor": draw(st.sampled_from(("as_written", "derived", "least_squares"))),
               "directions": draw(st.integers(1, 4)),
               "distribution": draw(st.sampled_from(("gaussian", "sphere", "coordinate"))),
               "seed": draw(st.integers(0, 2 ** 31 - 1))}
    if draw(st.booleans()):
        options["eta"] = draw(floats(0.05, 1.5))
    if options["factor"] == "least_squares" and draw(st.booleans()):
        options["ridge"] = draw(floats(1e-4, 1.0))
    cap = draw(st.one_of(st.none(), floats(0.3, 5.0)))
    if cap is not None:
        options["cap"] = cap
    return output_target_options(draw, options)
