"""Tests for tpnb.network: shapes, forward pass records, seeding, copy, validation, dtype."""
import numpy as np
import pytest

from tpnb.network import INITS, MLP, with_bias
from tolerances import assert_close_conditioned, forward_error_scale


def sizes_for_depth(depth, d_in=4, width=6, n_out=3):
    return [d_in] + [width + l for l in range(depth - 1)] + [n_out]


def inputs(net, batch=5, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, net.sizes[0]))


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_shapes(depth, activation):
    sizes = sizes_for_depth(depth)
    net = MLP(sizes, activation, seed=1)
    assert net.depth == depth
    assert len(net.weights) == depth
    for l, w in enumerate(net.weights):
        assert w.shape == (sizes[l + 1], sizes[l] + 1)
    x = inputs(net, batch=7)
    fp = net.forward(x)
    assert len(fp.xs) == len(fp.us) == depth
    for l in range(depth):
        assert fp.xs[l].shape == (7, sizes[l] + 1)
        assert fp.us[l].shape == (7, sizes[l + 1])
    assert net(x).shape == (7, sizes[-1])


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "x_plus_relu", "identity"])
def test_forward_records_are_consistent(depth, activation):
    net = MLP(sizes_for_depth(depth), activation, seed=2)
    # non-zero biases, so the bias column matters
    rng = np.random.default_rng(3)
    for w in net.weights:
        w[:, -1] = rng.normal(size=w.shape[0])
    x = inputs(net, batch=6, seed=4)
    fp = net.forward(x)
    # net(x) adds the bias after the product, the forward pass multiplies by the bias column: the same sums
    # in another order, apart by rounding of the terms that reach the output
    assert_close_conditioned(fp.output, net(x), forward_error_scale(net, x), 4.0 * (max(net.sizes) + 8))
    assert fp.output is fp.us[-1]
    np.testing.assert_array_equal(fp.xs[0][:, :-1], x)
    for l in range(depth):
        np.testing.assert_array_equal(fp.xs[l][:, -1], 1.0)  # bias column of every recorded x is 1
        np.testing.assert_array_equal(fp.us[l], fp.xs[l] @ net.weights[l].T)   # the same product
        if l > 0:
            np.testing.assert_array_equal(fp.xs[l][:, :-1], net.activation(fp.us[l - 1]))


def test_forward_with_other_weights():
    net = MLP([3, 4, 2], seed=0)
    other = MLP([3, 4, 2], seed=1)
    x = inputs(net)
    np.testing.assert_array_equal(net.forward(x, weights=other.weights).output, other.forward(x).output)
    np.testing.assert_array_equal(net(x, weights=other.weights), other(x))
    assert not np.allclose(net(x), other(x))


def test_output_layer_is_linear():
    net = MLP([2, 3, 2], "relu", seed=0)
    net.weights[-1][:] = 0.0
    net.weights[-1][:, -1] = [-5.0, 7.0]
    np.testing.assert_array_equal(net(np.zeros((2, 2))), [[-5.0, 7.0], [-5.0, 7.0]])


def test_with_bias():
    h = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(with_bias(h), [[0, 1, 2, 1], [3, 4, 5, 1]])


@pytest.mark.parametrize("init", INITS)
def test_same_seed_identical_different_seed_different(init):
    sizes = [5, 8, 8, 3]
    a, b, c = MLP(sizes, seed=7, init=init), MLP(sizes, seed=7, init=init), MLP(sizes, seed=8, init=init)
    for wa, wb, wc in zip(a.weights, b.weights, c.weights):
        np.testing.assert_array_equal(wa, wb)
        assert not np.array_equal(wa, wc)


@pytest.mark.parametrize("init, expected_std", [("he", lambda d, n: np.sqrt(2 / d)),
                                                ("xavier", lambda d, n: np.sqrt(2 / (d + n))),
                                                ("lecun", lambda d, n: np.sqrt(1 / d))])
def test_init_scale_and_zero_biases(init, expected_std):
    d, n = 200, 150
    net = MLP([d, n], seed=0, init=init)
    w = net.weights[0]
    np.testing.assert_array_equal(w[:, -1], 0.0)
    assert np.std(w[:, :-1]) == pytest.approx(expected_std(d, n), rel=0.02)


def test_copy_is_deep():
    net = MLP([3, 4, 2], seed=0)
    clone = net.copy()
    assert isinstance(clone, MLP)
    assert clone.sizes == net.sizes and clone.dtype == net.dtype
    x = inputs(net)
    np.testing.assert_array_equal(clone(x), net(x))
    before = [w.copy() for w in net.weights]
    for w in clone.weights:
        w += 1.0
    clone.sizes.append(99)
    for w, b in zip(net.weights, before):
        np.testing.assert_array_equal(w, b)
    assert net.sizes == [3, 4, 2]
    assert all(cw is not w for cw, w in zip(clone.weights, net.weights))


@pytest.mark.parametrize("sizes", [[], [3], [3, 0], [0, 2], [3, -1, 2]])
def test_bad_sizes_raise(sizes):
    with pytest.raises(ValueError, match="sizes"):
        MLP(sizes)


def test_bad_init_raises_naming_it():
    with pytest.raises(ValueError, match="glorot_xyz"):
        MLP([3, 2], init="glorot_xyz")


def test_bad_activation_raises_naming_it():
    with pytest.raises(ValueError, match="swish_xyz"):
        MLP([3, 2], "swish_xyz")


@pytest.mark.parametrize("shape", [(5, 4), (5,), (3,), (2, 3, 1), (5, 2)])
@pytest.mark.parametrize("method", ["forward", "__call__"])
def test_input_shape_mismatch_raises(shape, method):
    net = MLP([3, 4, 2], seed=0)
    x = np.zeros(shape)
    with pytest.raises(ValueError, match="shape mismatch"):
        getattr(net, method)(x)


def test_input_shape_message_names_expected_and_actual():
    net = MLP([3, 4, 2], seed=0)
    with pytest.raises(ValueError) as info:
        net(np.zeros((5, 4)))
    assert "3" in str(info.value) and "(5, 4)" in str(info.value)


def test_float64_default():
    net = MLP([3, 4, 2], seed=0)
    assert net.dtype == np.float64
    assert all(w.dtype == np.float64 for w in net.weights)
    x = inputs(net).astype(np.float32)
    fp = net.forward(x)
    assert all(a.dtype == np.float64 for a in fp.xs + fp.us)
    assert net(x).dtype == np.float64


def test_float32_option():
    net = MLP([3, 4, 2], seed=0, dtype=np.float32)
    assert all(w.dtype == np.float32 for w in net.weights)
    assert net(inputs(net)).dtype == np.float32


def test_repr_mentions_sizes():
    assert "[3, 4, 2]" in repr(MLP([3, 4, 2]))


# ------------------------------------------------------------------------ bad arguments (issue 11, items 5, 9)

@pytest.mark.parametrize("sizes, error, message", [
    ([3, 2.7, 2], TypeError, r"sizes\[1\] must be a whole number \(int\) >= 1, got 2.7 of type float"),
    ([3, True, 2], TypeError, r"sizes\[1\] must be .*got True of type bool"),
    ([3, "4", 2], TypeError, r"sizes\[1\] must be .*got '4' of type str"),
    ([3, 4.0, 2], TypeError, r"sizes\[1\] must be .*got 4.0 of type float"),
    (None, TypeError, r"sizes must be a sequence of layer widths .*got None of type NoneType"),
    ("34", TypeError, r"sizes must be a sequence .*got '34' of type str"),
    (5, TypeError, r"sizes must be a sequence .*got 5 of type int"),
    ([3, 0, 2], ValueError, r"sizes\[1\] must be a whole number >= 1, got 0"),
])
def test_sizes_must_be_whole_numbers_not_coerced(sizes, error, message):
    with pytest.raises(error, match=message):
        MLP(sizes)


def test_numpy_integer_sizes_are_whole_numbers():
    net = MLP(np.array([3, 4, 2]), seed=0)
    assert net.sizes == [3, 4, 2] and all(type(s) is int for s in net.sizes)
    for w, v in zip(net.weights, MLP([3, 4, 2], seed=0).weights):
        np.testing.assert_array_equal(w, v)


@pytest.mark.parametrize("dtype", [np.int32, int, bool, np.bool_, "U4", np.float16, np.complex128, "no_such_type"])
def test_only_floating_dtypes(dtype):
    with pytest.raises(TypeError, match=r"dtype must be float32 or float64, got"):
        MLP([3, 4, 2], dtype=dtype)


@pytest.mark.parametrize("seed, error, message", [(-1, ValueError, "seed must be a whole number >= 0, got -1"),
                                                  (1.5, TypeError, "seed must be a whole number .*got 1.5"),
                                                  ("0", TypeError, "seed must be a whole number .*got '0'")])
def test_seed_must_be_a_whole_number(seed, error, message):
    with pytest.raises(error, match=message):
        MLP([3, 4, 2], seed=seed)


@pytest.mark.parametrize("method", ["forward", "__call__"])
def test_a_list_input_is_converted(method):
    net = MLP([3, 4, 2], seed=0)
    x = inputs(net)
    as_list, as_array = getattr(net, method)(x.tolist()), getattr(net, method)(x)
    if method == "forward":
        as_list, as_array = as_list.output, as_array.output
    np.testing.assert_array_equal(as_list, as_array)


@pytest.mark.parametrize("x, message", [([["a", "b", "c"]], r"inputs x must be an array of real numbers, got \[\["),
                                        (np.array([["1", "2", "3"]]), "inputs x must be an array of real numbers, "
                                                                      "dtype <U1")])
def test_non_numeric_input_is_refused(x, message):
    with pytest.raises(TypeError, match=message):
        MLP([3, 4, 2], seed=0)(x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ["relu", "tanh", "leaky_relu"])
def test_forward_and_call_are_the_plain_formulas_bit_for_bit(dtype, activation):
    """forward: x_l = [h_{l-1}; 1], u_l = x_l @ W_l.T (the bias inside the product); __call__: h @ W.T + b.
    The input is cast to the network's dtype once (float64 data into a float32 network)."""
    net = MLP([5, 7, 6, 3], activation, seed=2, dtype=dtype)
    x = inputs(net, batch=9, seed=4)                                  # float64 data
    fp = net.forward(x)
    h = x.astype(dtype)
    for l, w in enumerate(net.weights):
        x_l = np.hstack([h, np.ones((len(h), 1), dtype)])
        np.testing.assert_array_equal(fp.xs[l], x_l)
        assert fp.xs[l].dtype == dtype and fp.us[l].dtype == dtype
        np.testing.assert_array_equal(fp.us[l], x_l @ w.T)
        h = net.activation(fp.us[l])
    h = x.astype(dtype)
    for l, w in enumerate(net.weights):
        h = h @ w[:, :-1].T + w[:, -1]
        if l < net.depth - 1:
            h = net.activation(h)
    np.testing.assert_array_equal(net(x), h)


def test_forward_records_fresh_arrays_every_call():
    """Rules keep forward passes (before / after a step): a later call must not overwrite an earlier one."""
    net = MLP([4, 6, 3], seed=0)
    x = inputs(net)
    first = net.forward(x)
    kept = [a.copy() for a in first.xs + first.us]
    net.weights[0] += 1.0
    net.forward(x)
    for a, b in zip(first.xs + first.us, kept):
        np.testing.assert_array_equal(a, b)


def test_with_bias_casts_in_the_same_copy():
    h = np.arange(6.0).reshape(3, 2)
    out = with_bias(h, np.float32)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0, 1, 1], [2, 3, 1], [4, 5, 1]])


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "x_plus_relu", "identity"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_forward_writes_each_activation_beside_the_bias_column_bit_for_bit(activation, dtype):
    """x_{l+1} = [f_l(u_l), 1] without a copy: the same numbers as with_bias(f_l(u_l))."""
    net = MLP([5, 7, 6, 3], activation, dtype=dtype, seed=1)
    fp = net.forward(np.random.default_rng(2).normal(size=(9, 5)))
    for l in range(1, net.depth):
        expected = with_bias(net.activations[l - 1](fp.us[l - 1]))
        assert fp.xs[l].dtype == expected.dtype == dtype
        np.testing.assert_array_equal(fp.xs[l].view(np.uint8), expected.view(np.uint8))
        np.testing.assert_array_equal(fp.us[l], fp.xs[l] @ net.weights[l].T)
