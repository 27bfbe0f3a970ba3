"""Tests for tpnb.rules.jacobians and tpnb.rules.local_losses: the helpers shared by the published TP rules."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from tpnb.network import MLP
from tpnb.rules.jacobians import damped_pinv_apply
from tpnb.rules.local_losses import hidden_activations, outputs_from_layers
from tolerances import abs_matmul, assert_close_conditioned, lipschitz
from strategies import examples, floats, seeds


def reference_pinv_apply(jac, v, damping):
    """One sample at a time: numpy's SVD pseudo-inverse, or J^T (J J^T + lam I)^{-1} v."""
    out = []
    for j, w in zip(jac, v):
        if damping == 0:
            out.append(np.linalg.pinv(j) @ w)
        else:
            out.append(j.T @ np.linalg.solve(j @ j.T + damping * np.eye(len(j)), w))
    return np.array(out)


@examples(1)
@given(m=st.integers(1, 7), n=st.integers(1, 7), batch=st.integers(1, 6), seed=seeds,
       damping=st.one_of(st.just(0.0), floats(1e-3, 10.0)))
def test_damped_pinv_apply_matches_the_per_sample_definition(m, n, batch, seed, damping):
    rng = np.random.default_rng(seed)
    jac, v = rng.standard_normal((batch, m, n)), rng.standard_normal((batch, m))
    # J^T (J J^T + lam)^{-1} v (undamped: the Gram form of J^+ v, through the smaller Gram matrix) is a solve
    # with the condition c = (sigma_max^2 + lam) / g of the Gram matrix, g its smallest eigenvalue (lam when
    # J J^T (m > n) is singular): its rounding is about eps c times sigma_max |v| / g, the size of the
    # result's terms; the reference's SVD J^+ only eps cond(J)
    sigma = np.linalg.svd(jac, compute_uv=False)
    big, small = sigma[:, 0], sigma[:, -1]
    gram_min = (small ** 2 if (m <= n or damping == 0) else 0.0) + damping
    condition = (big ** 2 + damping) / gram_min
    scale = condition * big * np.linalg.norm(v, axis=1) / gram_min
    assert_close_conditioned(damped_pinv_apply(jac, v, damping), reference_pinv_apply(jac, v, damping),
                             scale[:, None], 4.0 * (m + n + 8))


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
    stacked = outputs_from_layers(net, entries)
    assert stacked.shape == (sum(len(e) for e in entries), sizes[-1])
    outputs = np.split(stacked, np.cumsum([len(e) for e in entries])[:-1])
    lip = lipschitz(net.activation)
    for i, entry in enumerate(entries):
        h, scale = entry, np.zeros_like(entry)
        for l in range(i + 1, net.depth):
            w = net.weights[l]
            # stacked and separate products of different shapes round differently: each layer's terms
            # |h| |W| + |b|, plus what the layer below carried through Lip(f) |W|
            scale = abs_matmul(h, w[:, :-1].T) + np.abs(w[:, -1]) + lip * abs_matmul(scale, w[:, :-1].T)
            h = h @ w[:, :-1].T + w[:, -1]
            if l < net.depth - 1:
                h = np.tanh(h)
        assert_close_conditioned(outputs[i], h, scale, 4.0 * (max(sizes) + 8))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_hidden_activations_are_f_of_the_pre_activations(activation):
    net = MLP([4, 5, 3, 2], activation, seed=0)
    fp = net.forward(np.random.default_rng(0).standard_normal((6, 4)))
    hidden = hidden_activations(fp)
    assert [h.shape for h in hidden] == [(6, 5), (6, 3)]
    for h, u in zip(hidden, fp.us[:-1]):
        np.testing.assert_array_equal(h, net.activation(u))
