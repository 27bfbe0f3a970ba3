"""Tests for tpnb.rules.gnt: Gauss-Newton targets (seed 002, Condition 2 and Theorems 5, 6)."""
import numpy as np
import pytest

from tpnb.data.dataset import Dataset
from tpnb.losses import get_loss
from tpnb.network import MLP
from tpnb.rules import GNT, gradients, make_rule
from tpnb.rules.jacobians import output_jacobians
from tpnb.rules.gnt import gnt_targets
from tpnb.train import train
from problems import random_problem
from tolerances import EPS, abs_matmul, assert_close_conditioned


def problem(sizes=(4, 7, 6, 3), activation="tanh", seed=0, batch=6, loss="mse"):
    return random_problem(sizes, activation, seed, batch, loss, base_seed=70)


def angle(a, b):
    """Degrees; the cosine is clipped to [-1, 1]: for (nearly) parallel arrays it rounds to just above 1."""
    return np.degrees(np.arccos(np.clip(np.sum(a * b) / (np.linalg.norm(a) * np.linalg.norm(b)), -1.0, 1.0)))


def pinv_condition(jac):
    """Per sample, cond(J)^2: the Gram-matrix pseudo-inverse J^T (J J^T)^+ carries eps cond(J)^2 relative."""
    sigma = np.linalg.svd(jac, compute_uv=False)
    return (sigma[:, 0] / sigma[:, -1]) ** 2


@pytest.mark.parametrize("activation", ["tanh", "leaky_relu", "identity"])
def test_output_jacobians_match_finite_differences(activation):
    net, x, _ = problem(activation=activation)
    fp = net.forward(x)
    jac = output_jacobians(net, fp)
    assert [j.shape for j in jac] == [(6, 3, 7), (6, 3, 6)]
    h = 1e-6
    for i in range(net.depth - 1):
        hidden = net.activation(fp.us[i])
        numeric = np.zeros_like(jac[i])
        for k in range(hidden.shape[1]):
            for sign in (1, -1):
                moved = hidden.copy()
                moved[:, k] += sign * h
                out = moved
                for l in range(i + 1, net.depth):
                    out = out @ net.weights[l][:, :-1].T + net.weights[l][:, -1]
                    if l < net.depth - 1:
                        out = net.activation(out)
                numeric[:, :, k] += sign * out / (2 * h)
        np.testing.assert_allclose(jac[i], numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_single_layer_and_output_layer_updates_are_beta_times_backprop(loss):
    for sizes in [(4, 3), (4, 7, 6, 3)]:
        net, x, y = problem(sizes, loss=loss)
        grads = GNT(beta=0.3, loss=loss).directions(net, x, y)[0]
        bp = gradients(net, x, y, get_loss(loss))
        # -(u' - u)^T x / B with u' = u - beta e: u' - u cancels terms |u| + beta |e|, then the batch sum
        fp = net.forward(x)
        e = len(x) * get_loss(loss).gradient(fp.output, y)
        scale = abs_matmul((np.abs(fp.output) + 0.3 * np.abs(e)).T, fp.xs[-1]) / len(x)
        assert_close_conditioned(grads[-1], 0.3 * bp[-1], scale, 4.0 * (max(sizes) + len(x) + 8))


@pytest.mark.parametrize("damping", [0.0, 1e-9])
def test_targets_push_the_linearised_output_along_minus_the_gradient(damping):
    """J_i (h'_i - h_i) = -beta e for contracting layers (n_L <= n_i), exactly with damping 0."""
    net, x, y = problem()
    fp = net.forward(x)
    e = fp.output - y
    targets = gnt_targets(net, fp, fp.output - 0.2 * e, damping)
    for i, jac in enumerate(output_jacobians(net, fp)):
        h = net.activation(fp.us[i])
        dh = targets[i] - h
        moved = np.einsum("bmn,bn->bm", jac, dh)
        # rounding: the step h' - h cancels |h'| + |h|, the output target u - 0.2 e cancels |u| + 0.2 |e|, and
        # the Gram pseudo-inverse carries eps cond(J)^2 |dh| (sent through |J| <= sigma_max); damping lam biases
        # J J^T (J J^T + lam)^-1 by at most lam / sigma_min(J)^2 relative (written in units of the factor's eps)
        factor = 4.0 * (max(net.sizes) + 8)
        sigma = np.linalg.svd(jac, compute_uv=False)
        sigma_min = sigma[:, -1]
        rounding = (np.einsum("bmn,bn->bm", np.abs(jac), np.abs(h) + np.abs(targets[i]))
                    + np.abs(fp.output) + 0.2 * np.abs(e)
                    + (sigma[:, 0] * pinv_condition(jac) * np.linalg.norm(dh, axis=1))[:, None])
        bias = damping / sigma_min ** 2 * np.linalg.norm(0.2 * e, axis=1) / (factor * EPS)
        assert_close_conditioned(moved, -0.2 * e, rounding + 2 * bias[:, None], factor)


def test_targets_are_minimum_norm():
    """The GNT target change has no component in the null space of J_i (seed 002, Theorem 5)."""
    net, x, y = problem(sizes=(4, 9, 8, 2))
    fp = net.forward(x)
    targets = gnt_targets(net, fp, y)
    for i, jac in enumerate(output_jacobians(net, fp)):
        h = net.activation(fp.us[i])
        dh = targets[i] - h
        cond = pinv_condition(jac)
        for b in range(len(x)):
            null = np.linalg.svd(jac[b])[2][jac.shape[1]:]      # orthonormal basis of ker J
            # rounding: h' - h cancels |h'| + |h|; the pseudo-inverse's own error, eps cond(J)^2 |dh|, need
            # not lie in the row space
            scale = np.linalg.norm(np.abs(h[b]) + np.abs(targets[i][b])) + cond[b] * np.linalg.norm(dh[b])
            assert_close_conditioned(null @ dh[b], np.zeros(len(null)), scale, 4.0 * (jac.shape[2] + 8))


def test_heavy_damping_gives_backprop_directions():
    """J^T (J J^T + lam I)^{-1} -> J^T / lam: the hidden updates align with the BP gradient."""
    net, x, y = problem()
    grads = GNT(beta=0.1, damping=1e8).directions(net, x, y)[0]
    # the exact angle is about |J|^2 / lam ~ 1e-8 rad; computed, arccos turns the cosine's rounding of a few
    # eps into up to sqrt(2 c eps) ~ 1e-7 rad = 1e-5 degrees: 1e-3 degrees is far above both
    for g, bp in zip(grads, gradients(net, x, y, get_loss("mse"))):
        assert angle(g, bp) < 1e-3


@pytest.mark.parametrize("batch", [1, 5, 40])
def test_linear_network_updates_within_90_degrees_of_the_gradient(batch):
    """Seed 002, Theorem 6, for any batch size, layer by layer."""
    for seed in range(5):
        net, x, y = problem((5, 8, 6, 3), "identity", seed=seed, batch=batch)
        grads, _, _, _ = GNT(beta=0.5).directions(net, x, y)
        for g, bp in zip(grads, gradients(net, x, y, get_loss("mse"))):
            assert np.sum(g * bp) > 0


def test_linear_network_converges_to_the_least_squares_loss():
    """Seed 002, Theorem 6: linear GNT reaches the global minimum (small steps, full batch)."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 4))
    y = x @ rng.normal(size=(4, 2)) + 0.3 * rng.normal(size=(40, 2)) + 1.0
    design = np.hstack([x, np.ones((40, 1))])
    residual = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    optimum = 0.5 * np.sum(residual ** 2) / 40
    net = MLP([4, 6, 5, 2], "identity", seed=0)
    loss = get_loss("mse")
    rule = GNT(beta=0.5, lr=0.2, angles=False)
    for _ in range(1500):
        rule.step(net, x, y)
    assert loss(net(x), y) - optimum < 1e-6 * max(1.0, optimum)


def test_a_small_step_lowers_the_loss():
    for seed in range(3):
        net, x, y = problem(seed=seed, batch=16)
        loss = get_loss("mse")
        before = loss(net(x), y)
        GNT(beta=0.5, lr=1e-3).step(net, x, y)
        assert loss(net(x), y) < before


def test_training_lowers_the_loss_and_diagnostics_are_finite():
    net, x, y = problem((4, 12, 12, 3), batch=32)
    loss = get_loss("mse")
    rule = make_rule("gnt", beta=0.5, damping=1e-3, lr=0.5)
    start = loss(net(x), y)
    for _ in range(200):
        diagnostics = rule.step(net, x, y)
    assert loss(net(x), y) < 0.2 * start
    assert set(diagnostics) >= {"update_1", "target_step_2", "target_step_3", "angle_bp_1"}
    assert all(np.isfinite(v) for v in diagnostics.values())


def test_deterministic():
    out = []
    for _ in range(2):
        net, x, y = problem()
        rule = GNT(beta=0.4, lr=0.1)
        for _ in range(3):
            rule.step(net, x, y)
        out.append(np.concatenate([w.ravel() for w in net.weights]))
    assert np.array_equal(out[0], out[1])


@pytest.mark.parametrize("kwargs, name", [(dict(beta=0.0), "beta"), (dict(beta=-1), "beta"),
                                          (dict(beta=np.inf), "beta"), (dict(damping=-1e-3), "damping"),
                                          (dict(damping="x"), "damping"), (dict(loss="l1_xyz"), "l1_xyz"),
                                          (dict(lr=0.0), "lr")])
def test_bad_options_raise_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_rule("gnt", **kwargs)


def test_runs_through_the_training_loop():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4))
    y = np.eye(3)[rng.integers(0, 3, 40)]
    data = Dataset("toy", x[:30], y[:30], x[30:], y[30:], "classification")
    net = MLP([4, 8, 8, 3], "relu", seed=0)
    history = train(net, make_rule("gnt", loss="cross_entropy", beta=1.0, damping=1e-2, optimizer="adam",
                                   lr=0.01), data, epochs=3, batch_size=5)
    assert not history.diverged and history.epochs == 3
    assert all(np.isfinite(v) for d in history.diagnostics[1:] for v in d.values())
    assert history.metrics["train_ce"][-1] < history.metrics["train_ce"][0]
