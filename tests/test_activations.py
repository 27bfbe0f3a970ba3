"""Tests for tpnb.activations: f, f', inverse, image projection and the pre-activation target rule."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tpnb.activations import ACTIVATIONS, Activation, LeakyReLU, ReLU, get_activation
from tolerances import assert_close_conditioned

NAMES = sorted(ACTIVATIONS)
INVERTIBLE = [name for name in NAMES if ACTIVATIONS[name].invertible]
SEEDS = range(5)


# property tests: every activation, a seeded array of proposals, cap None or drawn (0.05 to 10, the image of
# tanh and sigmoid included), margin 0 or drawn
CAP_VALUES = st.one_of(st.none(), st.floats(0.05, 10.0, allow_subnormal=False))
MARGINS = st.one_of(st.just(0.0), st.floats(0.0, 2.0, allow_subnormal=False))
SEED_VALUES = st.integers(0, 2 ** 32 - 1)


def random_array(seed, shape=(40, 7), scale=3.0):
    """Random proposals of every sign and size, including exact zeros (the ReLU kink)."""
    rng = np.random.default_rng(seed)
    arr = rng.normal(0.0, scale, size=shape)
    arr[rng.random(shape) < 0.1] = 0.0
    return arr


def test_registry_names_match_classes():
    assert set(NAMES) == {"identity", "relu", "leaky_relu", "x_plus_relu", "tanh", "sigmoid"}
    for name in NAMES:
        act = get_activation(name)
        assert isinstance(act, Activation)
        assert act.name == name


def test_get_activation_returns_instances_as_is():
    act = LeakyReLU(0.3)
    assert get_activation(act) is act


def test_unknown_activation_raises_naming_it():
    with pytest.raises(ValueError, match="softplus_xyz"):
        get_activation("softplus_xyz")


@pytest.mark.parametrize("slope", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_leaky_relu_slope_validation(slope):
    with pytest.raises(ValueError, match="slope"):
        LeakyReLU(slope)


@pytest.mark.parametrize("slope", [0.01, 0.1, 0.5, 0.99])
def test_leaky_relu_valid_slope(slope):
    act = LeakyReLU(slope)
    u = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(act(u), [-2.0 * slope, 0.0, 3.0])


def test_relu_is_not_invertible_and_says_so():
    act = ReLU()
    assert not act.invertible
    with pytest.raises(ValueError, match="relu"):
        act.inverse(np.array([1.0]))


@settings(max_examples=2 * settings.default.max_examples)
@given(name=st.sampled_from(NAMES), seed=SEED_VALUES, cap=CAP_VALUES, margin=MARGINS)
def test_target_inverts_projection(name, seed, cap, margin):
    """f(target(u, project(ix))) == project(ix): the step that makes property E exact."""
    act = get_activation(name)
    ix = random_array(seed)
    u = random_array(seed + 100)
    x_target = act.project(ix, cap)
    u_target = act.target(u, x_target, margin)
    assert np.all(np.isfinite(u_target))
    # f(f^-1(x')) rounds f^-1 (relative eps |u'|, sent through f'(u')) and f itself: eps |x'|, and for sigmoid,
    # evaluated as 0.5 (1 + tanh(u / 2)), terms of size 1 that cancel where it is near 0
    scale = np.abs(x_target) + np.abs(u_target) * np.abs(act.derivative(u_target)) + (name == "sigmoid")
    assert_close_conditioned(act(u_target), x_target, scale, 16.0)


@settings(max_examples=settings.default.max_examples)
@given(name=st.sampled_from(NAMES), seed=SEED_VALUES, cap=CAP_VALUES)
def test_project_lands_in_image_and_below_cap(name, seed, cap):
    act = get_activation(name)
    ix = random_array(seed, scale=10.0)
    x = act.project(ix, cap)
    assert x.shape == ix.shape
    if name in ("tanh", "sigmoid"):  # open image: strictly inside
        assert np.all(x > act.lower) and np.all(x < act.upper)
    else:
        assert np.all(x >= act.lower) and np.all(x <= act.upper)
    if cap is not None:
        assert np.all(x <= cap)
    # projection is idempotent and leaves points already in the (capped) image alone
    np.testing.assert_array_equal(act.project(x, cap), x)


@pytest.mark.parametrize("name", NAMES)
def test_project_without_cap_keeps_interior_points(name):
    act = get_activation(name)
    u = random_array(7, scale=1.0)
    x = act(u)
    inside = (x > act.lower + 1e-3) & (x < act.upper - 1e-3)
    np.testing.assert_array_equal(act.project(x)[inside], x[inside])


def test_relu_project_clips_below_at_zero_and_above_at_cap():
    act = ReLU()
    ix = np.array([-3.0, -1e-12, 0.0, 0.7, 2.0, 5.0])
    np.testing.assert_array_equal(act.project(ix, 2.0), [0.0, 0.0, 0.0, 0.7, 2.0, 2.0])
    np.testing.assert_array_equal(act.project(ix, None), [0.0, 0.0, 0.0, 0.7, 2.0, 5.0])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", SEEDS)
def test_derivative_matches_central_differences(name, seed):
    act = get_activation(name)
    u = random_array(seed, scale=2.0)
    u = u[np.abs(u) > 1e-3]  # away from the kinks at 0
    h = 1e-6
    fd = (act(u + h) - act(u - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(u), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", INVERTIBLE)
@pytest.mark.parametrize("seed", SEEDS)
def test_inverse_of_f_is_identity(name, seed):
    act = get_activation(name)
    u = np.clip(random_array(seed, scale=1.5), -4.0, 4.0)  # tanh/sigmoid lose digits far out
    np.testing.assert_allclose(act.inverse(act(u)), u, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", INVERTIBLE)
def test_target_of_invertible_is_inverse(name):
    act = get_activation(name)
    x = act.project(random_array(3, scale=0.4))
    u = random_array(4)
    np.testing.assert_array_equal(act.target(u, x, 0.5), act.inverse(x))


@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_relu_target_rule_cases(margin):
    """Seed 000: x'>0 -> x'; x'=0 and u<=0 -> u; x'=0 and u>0 -> -margin."""
    act = ReLU()
    u = np.array([-1.5, 0.0, 2.0, -0.3, 0.8, 3.0, -2.0])
    x_t = np.array([0.0, 0.0, 0.0, 1.2, 0.4, 0.0, 2.0])
    expected = np.array([-1.5, 0.0, -margin, 1.2, 0.4, -margin, 2.0])
    np.testing.assert_array_equal(act.target(u, x_t, margin), expected)
    np.testing.assert_array_equal(act(act.target(u, x_t, margin)), x_t)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_relu_target_rule_property(seed, margin):
    act = ReLU()
    u = random_array(seed)
    x_t = act.project(random_array(seed + 50), 2.0)
    ut = act.target(u, x_t, margin)
    pos = x_t > 0
    np.testing.assert_array_equal(ut[pos], x_t[pos])
    off = (x_t == 0) & (u <= 0)
    np.testing.assert_array_equal(ut[off], u[off])
    push = (x_t == 0) & (u > 0)
    assert push.any() and off.any() and pos.any()
    np.testing.assert_array_equal(ut[push], -margin)


def test_specific_values():
    u = np.array([-2.0, 0.0, 1.5])
    np.testing.assert_array_equal(get_activation("x_plus_relu")(u), [-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(get_activation("relu")(u), [0.0, 0.0, 1.5])
    np.testing.assert_array_equal(get_activation("identity")(u), u)
    # two formulas: 0.5 (1 + tanh(u / 2)) cancels terms of size 0.5 (1 + |tanh|) where sigmoid is small
    expected = 1 / (1 + np.exp(-u))
    terms = 0.5 * (1 + np.abs(np.tanh(u / 2))) + expected
    assert_close_conditioned(get_activation("sigmoid")(u), expected, terms, 16.0)
    np.testing.assert_allclose(get_activation("tanh")(u), np.tanh(u), rtol=1e-15)


def test_sigmoid_has_no_overflow_for_huge_inputs():
    act = get_activation("sigmoid")
    with np.errstate(all="raise"):
        out = act(np.array([-1e4, 1e4]))
    np.testing.assert_array_equal(out, [0.0, 1.0])


# ------------------------------------------------------------------------------------------ speed forms
# Leaky ReLU and x + relu avoid np.where (a branch per element, slow on mixed-sign masks) and the smooth
# activations work in place; these tests pin that the results are the plain formulas' bit for bit, signed
# zeros, infinities and NaN included.

SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 3.0, np.inf, -np.inf, np.nan, 1e-310, -1e-310,
                    5e-324, -5e-324, 1e308, -1e308])


def special_grid(dtype):
    """Every pair of special values, plus random values with exact zeros, as two arrays of one shape."""
    with np.errstate(over="ignore"):
        u, x = (a.astype(dtype) for a in np.meshgrid(SPECIAL, SPECIAL))
    rng = np.random.default_rng(0)
    more = rng.normal(0, 3, (2, 17, 17)).astype(dtype)
    more[rng.random(more.shape) < 0.2] = 0
    return np.concatenate([u, more[0]]), np.concatenate([x, more[1]])


def assert_bits_equal(actual, expected):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    bits = {4: np.int32, 8: np.int64}[actual.dtype.itemsize]
    np.testing.assert_array_equal(actual.view(bits), expected.view(bits))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_piecewise_forms_equal_the_np_where_formulas(dtype):
    u, x = special_grid(dtype)
    with np.errstate(all="ignore"):
        for slope in (0.1, 0.3):
            act = LeakyReLU(slope)
            assert_bits_equal(act(u), np.where(u > 0, u, slope * u))
            assert_bits_equal(act.derivative(u), np.where(u > 0, 1.0, slope).astype(dtype))
            assert_bits_equal(act.inverse(u), np.where(u > 0, u, u / slope))
        act = get_activation("x_plus_relu")
        assert_bits_equal(act(u), u + np.maximum(u, 0.0))
        assert_bits_equal(act.derivative(u), np.where(u > 0, 2.0, 1.0).astype(dtype))
        assert_bits_equal(act.inverse(u), np.where(u > 0, 0.5 * u, u))
        assert_bits_equal(get_activation("tanh").derivative(u), 1.0 - np.tanh(u) ** 2)
        sigmoid = get_activation("sigmoid")
        s = 0.5 * (1.0 + np.tanh(0.5 * u))
        assert_bits_equal(sigmoid(u), s)
        assert_bits_equal(sigmoid.derivative(u), s * (1.0 - s))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_derivatives_keep_the_dtype(name, dtype):
    """float32 stays float32 (a float64 derivative would silently turn a float32 rule's arithmetic float64)."""
    act = get_activation(name)
    u = random_array(3).astype(dtype)
    assert act(u).dtype == dtype and act.derivative(u).dtype == dtype
    if name != "relu":
        assert act.inverse(act.project(act(u))).dtype == dtype
    assert act.target(u, act.project(act(u))).dtype == dtype


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_derivative_from_the_forward_value_is_the_derivative_bit_for_bit(name, dtype):
    act = get_activation(name)
    u, _ = special_grid(dtype)
    with np.errstate(all="ignore"):
        assert_bits_equal(act.derivative_from(u, act(u)), act.derivative(u))


def test_a_custom_activation_gets_derivative_from_by_default():
    class Cube(Activation):
        def __call__(self, u):
            return u ** 3

        def derivative(self, u):
            return 3 * u ** 2

    u = np.array([-1.0, 2.0])
    np.testing.assert_array_equal(Cube().derivative_from(u, Cube()(u)), [3.0, 12.0])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_write_into_a_strided_view_is_the_call_bit_for_bit(name, dtype):
    """write(u, out) fills e.g. the columns of a (B, n + 1) layer input beside its bias column."""
    act = get_activation(name)
    u, _ = special_grid(dtype)
    buffer = np.full((u.shape[0], u.shape[1] + 1), 7.0, dtype=dtype)
    with np.errstate(all="ignore"):
        out = act.write(u, buffer[:, :-1])
        assert_bits_equal(np.ascontiguousarray(buffer[:, :-1]), act(u))
    assert np.shares_memory(out, buffer) and np.all(buffer[:, -1] == 7.0)


def test_a_custom_activation_gets_write_by_default():
    class Cube(Activation):
        def __call__(self, u):
            return u ** 3

    out = np.zeros(2)
    assert Cube().write(np.array([-1.0, 2.0]), out) is out
    np.testing.assert_array_equal(out, [-1.0, 8.0])
