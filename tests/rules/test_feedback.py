"""Tests for tpnb.rules.feedback: the helpers shared by the published TP rules."""
import numpy as np
import pytest

from tpnb.network import MLP
from tpnb.rules.feedback import damped_pinv_apply, hidden_activations, outputs_from_layers


def reference_pinv_apply(jac, v, damping):
    """One sample at a time: numpy's SVD pseudo-inverse, or J^T (J J^T + lam I)^{-1} v."""
    out = []
    for j, w in zip(jac, v):
        if damping == 0:
            out.append(np.linalg.pinv(j) @ w)
        else:
            out.append(j.T @ np.linalg.solve(j @ j.T + damping * np.eye(len(j)), w))
    return np.array(out)


@pytest.mark.parametrize("m, n", [(3, 7), (7, 3), (5, 5), (1, 4), (4, 1)])
@pytest.mark.parametrize("damping", [0.0, 0.3])
def test_damped_pinv_apply_matches_the_per_sample_definition(m, n, damping):
    rng = np.random.default_rng(m * 10 + n)
    jac, v = rng.standard_normal((6, m, n)), rng.standard_normal((6, m))
    np.testing.assert_allclose(damped_pinv_apply(jac, v, damping), reference_pinv_apply(jac, v, damping),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 9), (9, 4)])
def test_pinv_apply_of_rank_deficient_jacobians_is_the_minimum_norm_least_squares_solution(shape):
    # rank 2 Jacobians (e.g. dead units or a narrow layer): pinv drops the null directions
    rng = np.random.default_rng(1)
    m, n = shape
    jac = rng.standard_normal((5, m, 2)) @ rng.standard_normal((5, 2, n))
    v = rng.standard_normal((5, m))
    np.testing.assert_allclose(damped_pinv_apply(jac, v, 0.0), reference_pinv_apply(jac, v, 0.0),
                               rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("sizes", [[5, 4, 6, 3, 2], [3, 8, 2], [4, 6, 6, 6, 6, 3]])
def test_outputs_from_layers_equal_one_partial_forward_per_entry(sizes):
    net = MLP(sizes, "tanh", seed=2)
    rng = np.random.default_rng(3)
    entries = [rng.standard_normal((2 + i, n)) for i, n in enumerate(sizes[1:-1])]   # uneven batches
    outputs = outputs_from_layers(net, entries)
    assert len(outputs) == len(entries)
    for i, entry in enumerate(entries):
        h = entry
        for l in range(i + 1, net.depth):
            h = h @ net.weights[l][:, :-1].T + net.weights[l][:, -1]
            if l < net.depth - 1:
                h = np.tanh(h)
        np.testing.assert_allclose(outputs[i], h, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_hidden_activations_are_f_of_the_pre_activations(activation):
    net = MLP([4, 5, 3, 2], activation, seed=0)
    fp = net.forward(np.random.default_rng(0).standard_normal((6, 4)))
    hidden = hidden_activations(fp)
    assert [h.shape for h in hidden] == [(6, 5), (6, 3)]
    for h, u in zip(hidden, fp.us[:-1]):
        np.testing.assert_array_equal(h, net.activation(u))
