"""Tests for tpnb.rules.local_losses: the local-loss gradients and the stacked partial forwards' helpers."""
import numpy as np
import pytest

from tpnb.network import MLP
from tpnb.rules.local_losses import hidden_activations, local_gradients, outer_sum


@pytest.mark.parametrize("batch", [1, 2, 7])
def test_outer_sum_is_the_matmul_up_to_the_sign_of_zero_products(batch):
    rng = np.random.default_rng(batch)
    delta, x = rng.normal(size=(batch, 4)), rng.normal(size=(batch, 6))
    delta[0, :2] = [0.0, -0.0]
    x[0, 0] = -0.0
    out, expected = outer_sum(delta, x), delta.T @ x
    np.testing.assert_array_equal(out, expected)                      # numbers equal; -0.0 == 0.0
    differ = np.signbit(out) != np.signbit(expected)
    assert np.all(out[differ] == 0)


@pytest.mark.parametrize("output_activation", ["identity", "sigmoid"])
@pytest.mark.parametrize("batch", [1, 5])
def test_local_gradients_are_the_formula_bit_for_bit(output_activation, batch):
    """-(h' - h) f'(u), its outer sum with x over B, in place: the numbers of the plain expression."""
    net = MLP([4, 6, 5, 3], ["relu", "sigmoid"], output_activation=output_activation, seed=3)
    rng = np.random.default_rng(4)
    fp = net.forward(rng.normal(size=(batch, 4)))
    targets = [h + rng.normal(0, 0.1, h.shape) for h in hidden_activations(fp)]
    u_target = rng.random((batch, 3))
    prediction = output_activation != "identity"
    grads = local_gradients(net, fp, targets, u_target, prediction_target=prediction)
    expected = [(-(t - h) * net.activations[i].derivative(fp.us[i])).T @ fp.xs[i] / batch
                for i, (t, h) in enumerate(zip(targets, hidden_activations(fp)))]
    if prediction:
        o = net.output_activation(fp.output)
        expected.append((-(u_target - o) * net.output_activation.derivative(fp.output)).T @ fp.xs[-1] / batch)
    else:
        expected.append(-(u_target - fp.output).T @ fp.xs[-1] / batch)
    for g, e in zip(grads, expected):
        np.testing.assert_array_equal(g, e)
