"""Tests for tpnb.boundaries: the grid over 2-D data and the class margin image of a network."""
import numpy as np
import pytest

from tpnb.boundaries import class_margin, grid
from tpnb.network import MLP


def test_grid_covers_the_padded_box_row_by_row():
    x = np.array([[0.0, -1.0], [2.0, 3.0]])
    xs, ys, points = grid(x, resolution=5, pad=0.5)
    assert (xs[0], xs[-1], ys[0], ys[-1]) == (-0.5, 2.5, -1.5, 3.5)
    assert points.shape == (25, 2)
    np.testing.assert_array_equal(points.reshape(5, 5, 2)[2, :, 0], xs)     # a row runs along x
    np.testing.assert_array_equal(points.reshape(5, 5, 2)[:, 3, 1], ys)     # a column along y


def test_class_margin_of_an_affine_network_is_its_affine_function():
    net = MLP([2, 2], "identity", seed=0)
    net.weights[0] = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])        # u_1 - u_0 = x - 2 y + 0.5
    xs, ys, points = grid(np.array([[-1.0, -1.0], [1.0, 1.0]]), resolution=4, pad=0.0)
    margin = class_margin(net, points, 4)
    np.testing.assert_allclose(margin, xs[None, :] - 2 * ys[:, None] + 0.5, rtol=0, atol=1e-15)


@pytest.mark.parametrize("x, kwargs, message", [
    (np.zeros((3, 3)), {}, "x must be"),
    (np.zeros((0, 2)), {}, "x must be"),
    (np.array([[np.nan, 0.0]]), {}, "NaN"),
    (np.zeros((2, 2)), dict(resolution=1), "resolution"),
    (np.zeros((2, 2)), dict(pad=-1.0), "pad"),
])
def test_grid_refuses_bad_input(x, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        grid(x, **kwargs)


def test_class_margin_needs_two_inputs_and_outputs():
    with pytest.raises(ValueError, match="2 inputs and 2 outputs"):
        class_margin(MLP([3, 2], "identity"), np.zeros((4, 3)), 2)
