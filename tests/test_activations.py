"""Tests for tpnb.activations: f, f', inverse, image projection and the pre-activation target rule."""
import numpy as np
import pytest

from tpnb.activations import ACTIVATIONS, Activation, LeakyReLU, ReLU, get_activation

NAMES = sorted(ACTIVATIONS)
INVERTIBLE = [name for name in NAMES if ACTIVATIONS[name].invertible]
SEEDS = range(5)
CAPS = (None, 2.0, 0.5)


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


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("cap", CAPS)
@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_target_inverts_projection(name, seed, cap, margin):
    """f(target(u, project(ix))) == project(ix): the step that makes property E exact."""
    act = get_activation(name)
    ix = random_array(seed)
    u = random_array(seed + 100)
    x_target = act.project(ix, cap)
    u_target = act.target(u, x_target, margin)
    assert np.all(np.isfinite(u_target))
    np.testing.assert_allclose(act(u_target), x_target, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("cap", CAPS)
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
    np.testing.assert_allclose(get_activation("sigmoid")(u), 1 / (1 + np.exp(-u)), rtol=1e-14)
    np.testing.assert_allclose(get_activation("tanh")(u), np.tanh(u), rtol=1e-15)


def test_sigmoid_has_no_overflow_for_huge_inputs():
    act = get_activation("sigmoid")
    with np.errstate(all="raise"):
        out = act(np.array([-1e4, 1e4]))
    np.testing.assert_array_equal(out, [0.0, 1.0])
