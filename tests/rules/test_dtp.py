"""Tests for tpnb.rules.dtp: DTP, DTPDRL, DDTP-linear, DDTP-RHL, DDTP-control (seed 002) and TP with
exact inverses."""
import numpy as np
import pytest

from tpnb.data.dataset import Dataset
from tpnb.losses import get_loss
from tpnb.network import MLP
from tpnb.rules import (DDTPControl, DDTPLinear, DDTPRHL, DTP, DTPDRL, DifferenceTP, InverseTP, make_rule)
from tpnb.rules.jacobians import output_jacobians
from tpnb.rules.local_losses import hidden_activations
from tpnb.rules.gnt import gnt_targets
from tpnb.train import train
from problems import random_problem
from tolerances import abs_matmul, assert_close_conditioned

VARIANTS = ["dtp", "dtpdrl", "ddtp_linear", "ddtp_rhl", "ddtp_control"]


def problem(sizes=(4, 8, 6, 3), activation="tanh", seed=0, batch=8, loss="mse"):
    return random_problem(sizes, activation, seed, batch, loss, base_seed=90)


def flat(arrays):
    return np.concatenate([a.ravel() for a in arrays])


@pytest.mark.parametrize("name, shapes", [
    ("dtp", [(8, 7), (6, 4)]), ("dtpdrl", [(8, 7), (6, 4)]), ("ddtp_linear", [(8, 4), (6, 4)]),
    ("ddtp_control", [(8, 4), (6, 4)]), ("ddtp_rhl", [(8, 17), (6, 4)])])
def test_feedback_shapes_and_diagnostics(name, shapes):
    net, x, y = problem()
    rule = make_rule(name, rhl_width=16, lr=0.01)
    diagnostics = rule.step(net, x, y)
    assert [q.shape for q in rule.Q] == shapes
    expected = ({f"rec_loss_{i}" for i in (1, 2)} | {f"target_step_{i}" for i in (2, 3)}
                | {f"update_{l}" for l in (1, 2, 3)} | {f"angle_bp_{l}" for l in (1, 2, 3)})
    assert set(diagnostics) == expected
    assert all(np.isfinite(v) for v in diagnostics.values())
    if name == "ddtp_rhl":
        assert rule.R.shape == (16, 3) and rule.b.shape == (16,)


def test_output_target_and_last_layer_update():
    """u'_L = u_L - beta dL/du_L of the batch-mean loss (each sample: u - beta/B e, the authors' step), and
    the output layer's update, the gradient of mean_b |u'_L - u_L|^2 (the authors' 2 (u - u')), is 2 beta
    times BP's batch-mean gradient, divided by B once more."""
    for loss in ("mse", "cross_entropy"):
        net, x, y = problem(loss=loss)
        rule = DDTPLinear(beta=0.25, loss=loss)
        grads, _, fp, e = rule.directions(net, x, y)
        step = 0.25 / len(x)
        np.testing.assert_array_equal(rule.output_targets(fp, y, e), fp.output - step * e)
        bp_last = e.T @ fp.xs[-1] / len(x)
        # -(u' - u)^T x / B with u' = u - step e: u' - u cancels terms |u| + step |e|, then the batch sum
        scale = abs_matmul((np.abs(fp.output) + step * np.abs(e)).T, fp.xs[-1]) / len(x)
        assert_close_conditioned(grads[-1], 2 * step * bp_last, 2 * scale, 4.0 * (max(net.sizes) + len(x) + 8))


def test_tp_with_exact_inverses_approximates_gn_targets():
    """Seed 002, Lemma 1 / Theorem 2: with perfect inverses, h'_i - h_i = J_i^{-1}(-beta e) + O(beta^2)."""
    net, x, y = problem((5, 5, 5, 5), "tanh", batch=6)
    fp = net.forward(x)
    e = fp.output - y
    errors = []
    for beta in (1e-3, 1e-4, 1e-5):
        u_target = fp.output - beta * e
        tp = InverseTP(beta=beta).targets(net, fp, u_target)
        gn = gnt_targets(net, fp, u_target)
        errors.append(max(np.max(np.abs(a - b)) for a, b in zip(tp, gn)))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 50) & (ratios < 200)), errors        # error ~ beta^2


def test_tp_with_exact_inverses_piecewise_linear_is_exact_for_small_beta():
    """Leaky ReLU is linear between kinks: for beta small enough that no unit crosses its kink, the
    inverse targets equal the GN targets (up to rounding)."""
    net, x, y = problem((5, 5, 5, 5), "leaky_relu", batch=6)
    fp = net.forward(x)
    u_target = fp.output - 1e-4 * (fp.output - y)
    jacobians = output_jacobians(net, fp)
    inverse_targets = InverseTP(beta=1e-4).targets(net, fp, u_target)
    for i, (a, b) in enumerate(zip(inverse_targets, gnt_targets(net, fp, u_target))):
        # rounding: h + g(u') - g(h_{i+1}) cancels the two inverse images (solves with the layers above, each
        # carrying eps cond(W) relative, and the inverse activations between them, cond(f') = 1 / slope),
        # h + J^+ du the Gram pseudo-inverse's eps cond(J)^2 relative
        h = np.abs(fp.xs[i + 1][:, :-1])
        slopes = [np.abs(net.activation.derivative(fp.us[l])) for l in range(i + 1, net.depth - 1)]
        chain = (np.prod([np.linalg.cond(net.weights[l][:, :-1]) for l in range(i + 1, net.depth)])
                 * np.prod([s.max() / s.min() for s in slopes]))
        sigma = np.linalg.svd(jacobians[i], compute_uv=False)
        cond_j = ((sigma[:, 0] / sigma[:, -1]) ** 2)[:, None]
        rows = lambda v: np.linalg.norm(v, axis=1, keepdims=True)      # a solve's rounding is normwise
        scale = (rows(h) + rows(a) + rows(b)) * chain + cond_j * rows(b - fp.xs[i + 1][:, :-1])
        assert_close_conditioned(a, b, scale, 4.0 * (max(net.sizes) + 8), err_msg=f"layer {i + 1}")


def test_inverse_tp_needs_square_layers_and_an_invertible_activation():
    net, x, y = problem()
    with pytest.raises(ValueError, match="square"):
        InverseTP().step(net, x, y)
    net, x, y = problem((4, 4, 4), "relu")
    with pytest.raises(ValueError, match="invertible"):
        InverseTP().step(net, x, y)


def test_ddtp_linear_with_pseudo_inverse_feedback_gives_gnt_targets():
    net, x, y = problem((4, 8, 6, 2), "identity")
    fp = net.forward(x)
    rule = DDTPLinear()
    rule.init_feedback(net)
    for q, jac in zip(rule.Q, output_jacobians(net, fp)):
        q[:, :-1] = np.linalg.pinv(jac[0])
    u_target = fp.output - 0.3 * (fp.output - y)
    for i, (a, b, q, jac) in enumerate(zip(rule.targets(net, fp, u_target), gnt_targets(net, fp, u_target), rule.Q,
                                           output_jacobians(net, fp))):
        # rounding: h + Q [u'; 1] - Q [u; 1] cancels terms |Q| (|u'| + |u| + 2); J^+ (both SVD's and the
        # Gram pseudo-inverse's) carries eps cond(J)^2 relative
        h = np.abs(fp.xs[i + 1][:, :-1])
        sigma = np.linalg.svd(jac[0], compute_uv=False)
        terms = abs_matmul(np.abs(u_target) + np.abs(fp.output) + 2.0, q[:, :-1].T) + 2 * np.abs(q[:, -1])
        step = np.linalg.norm(b - fp.xs[i + 1][:, :-1], axis=1, keepdims=True)
        scale = h + terms + (sigma[0] / sigma[-1]) ** 2 * step
        assert_close_conditioned(a, b, scale, 4.0 * (max(net.sizes) + 8), err_msg=f"layer {i + 1}")


@pytest.mark.parametrize("cls, options", [(DDTPLinear, {}), (DTPDRL, dict(feedback_activation="identity"))])
def test_drl_trains_the_feedback_to_the_pseudo_inverse(cls, options):
    """Seed 002, Theorem 4: on a linear network the DRL minimum is J_i^+ (no damping)."""
    net = MLP([4, 8, 6, 2], "identity", seed=0)
    x = np.random.default_rng(0).normal(size=(256, 4))
    fp = net.forward(x)
    rule = cls(sigma=0.1, seed=0, feedback_optimizer="adam", feedback_lr=0.01, **options)
    rule.train_feedback(net, fp, 1000)
    rule.feedback_optimizer.lr = 0.001
    rule.train_feedback(net, fp, 1000)
    for i, jac in enumerate(output_jacobians(net, fp)):
        path = rule.Q[i][:, :-1]
        if cls is DTPDRL:                       # the layer-wise path composes the Q's above layer i
            for k in range(i + 1, net.depth - 1):
                path = path @ rule.Q[k][:, :-1]
        pinv = np.linalg.pinv(jac[0])
        assert np.linalg.norm(path - pinv) / np.linalg.norm(pinv) < 0.05


def test_weight_decay_gives_the_damped_pseudo_inverse():
    """With weight decay lam the DRL minimum of DDTP-linear on a linear net is J_i^T (J_i J_i^T + mu_i I)^{-1},
    mu_i = n_i lam / 2: the loss 1/sigma^2 mean over the B n_i entries of |sigma (Q_i J_i - I) eps|^2 has the
    expectation |Q_i J_i - I|_F^2 / n_i, whose gradient 2 / n_i (Q_i J_i - I) J_i^T meets lam Q_i."""
    net = MLP([4, 8, 6, 2], "identity", seed=0)
    fp = net.forward(np.random.default_rng(0).normal(size=(256, 4)))
    rule = DDTPLinear(feedback_weight_decay=0.5, feedback_optimizer="adam", feedback_lr=0.01)
    rule.train_feedback(net, fp, 1000)
    rule.feedback_optimizer.lr = 0.001
    rule.train_feedback(net, fp, 1000)
    for q, jac in zip(rule.Q, output_jacobians(net, fp)):
        j = jac[0]
        damped = j.T @ np.linalg.inv(j @ j.T + len(q) * 0.5 / 2 * np.eye(2))
        assert np.linalg.norm(q[:, :-1] - damped) / np.linalg.norm(damped) < 0.05
        assert np.linalg.norm(q[:, :-1] - np.linalg.pinv(j)) / np.linalg.norm(damped) > 0.1


@pytest.mark.parametrize("name", VARIANTS)
def test_training_lowers_the_loss(name):
    net, x, y = problem((4, 12, 10, 3), batch=32)
    loss = get_loss("mse")
    rule = make_rule(name, beta=0.5, lr=0.3, feedback_lr=0.05, rhl_width=64, seed=1)
    rule.pretrain_feedback(net, x, epochs=20, batch_size=32)
    start = loss(net(x), y)
    for _ in range(150):
        rule.step(net, x, y)
    assert loss(net(x), y) < 0.5 * start


def test_pretrain_feedback_lowers_the_reconstruction_loss():
    net, x, _ = problem((4, 12, 10, 3), batch=64)
    for name in VARIANTS:
        rule = make_rule(name, feedback_lr=0.05, rhl_width=64)
        first = rule.pretrain_feedback(net, x, epochs=1, batch_size=16)
        last = rule.pretrain_feedback(net, x, epochs=30, batch_size=16)
        assert len(first) == 2 and sum(last) < sum(first), name


def test_pretrain_steps_train_only_the_feedback():
    net, x, y = problem()
    rule = DDTPLinear(pretrain_steps=2, lr=0.1)
    before = [w.copy() for w in net.weights]
    for _ in range(2):
        diagnostics = rule.step(net, x, y)
        assert set(diagnostics) == {"rec_loss_1", "rec_loss_2"}
    assert all(np.array_equal(a, b) for a, b in zip(before, net.weights))
    q_before = [q.copy() for q in rule.Q]
    rule.step(net, x, y)
    assert not all(np.array_equal(a, b) for a, b in zip(before, net.weights))
    assert not all(np.array_equal(a, b) for a, b in zip(q_before, rule.Q))


def test_zero_feedback_iterations_keep_the_feedback_fixed():
    net, x, y = problem()
    rule = DTP(feedback_iterations=0)
    rule.step(net, x, y)
    q = [a.copy() for a in rule.Q]
    rule.step(net, x, y)
    assert all(np.array_equal(a, b) for a, b in zip(q, rule.Q))


@pytest.mark.parametrize("name", VARIANTS)
def test_seeded_determinism(name):
    runs = []
    for seed in (3, 3, 4):
        net, x, y = problem()
        rule = make_rule(name, seed=seed, rhl_width=32, lr=0.1, feedback_lr=0.05)
        for _ in range(3):
            rule.step(net, x, y)
        runs.append(np.concatenate([flat(net.weights), flat(rule.Q)]))
    assert np.array_equal(runs[0], runs[1])
    assert not np.allclose(runs[0], runs[2])


def test_the_variants_differ_only_in_their_class_settings():
    assert (DTP.parameterization, DTP.reconstruction) == ("layerwise", "layerwise")
    assert (DTPDRL.parameterization, DTPDRL.reconstruction) == ("layerwise", "drl")
    assert (DDTPLinear.parameterization, DDTPLinear.reconstruction) == ("direct_linear", "drl")
    assert (DDTPRHL.parameterization, DDTPRHL.reconstruction) == ("direct_rhl", "drl")
    assert (DDTPControl.parameterization, DDTPControl.reconstruction) == ("direct_linear", "control")
    net, x, y = problem()
    a, b = DDTPLinear(seed=5), DifferenceTP(parameterization="direct_linear", reconstruction="drl", seed=5)
    a.step(net.copy(), x, y)
    b.step(net.copy(), x, y)
    assert all(np.array_equal(p, q) for p, q in zip(a.Q, b.Q))


@pytest.mark.parametrize("kwargs, name", [
    (dict(beta=0.0), "beta"), (dict(sigma=-0.1), "sigma"), (dict(sigma=0), "sigma"),
    (dict(feedback_weight_decay=-1e-4), "feedback_weight_decay"), (dict(feedback_iterations=-1), "feedback_iterations"),
    (dict(feedback_iterations=1.5), "feedback_iterations"), (dict(pretrain_steps=-2), "pretrain_steps"),
    (dict(feedback_lr=0.0), "lr"), (dict(feedback_optimizer="lbfgs_xyz"), "lbfgs_xyz"),
    (dict(feedback_activation="swish_xyz"), "swish_xyz"), (dict(feedback_init_scale=0), "feedback_init_scale"),
    (dict(rhl_width=0), "rhl_width"), (dict(seed=-3), "seed"), (dict(loss="l1_xyz"), "l1_xyz"),
    (dict(lr=-0.1), "lr"), (dict(parameterization="conv_xyz"), "conv_xyz"),
    (dict(reconstruction="vae_xyz"), "vae_xyz"), (dict(feedback_options=dict(lr=0.1)), "feedback_lr")])
def test_bad_options_raise_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_rule("dtp", **kwargs)


def test_inconsistent_parameterization_and_reconstruction_raise():
    with pytest.raises(ValueError, match="control"):
        DifferenceTP(parameterization="layerwise", reconstruction="control")
    with pytest.raises(ValueError, match="layerwise"):
        DifferenceTP(parameterization="direct_linear", reconstruction="layerwise")


def test_feedback_of_another_network_raises():
    net, x, y = problem()
    rule = DDTPLinear()
    rule.step(net, x, y)
    other, x2, y2 = problem((4, 5, 3))
    with pytest.raises(ValueError, match="shape mismatch"):
        rule.step(other, x2, y2)


@pytest.mark.parametrize("name", VARIANTS)
def test_runs_through_the_training_loop(name):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4))
    y = np.eye(3)[rng.integers(0, 3, 40)]
    data = Dataset("toy", x[:30], y[:30], x[30:], y[30:], "classification")
    net = MLP([4, 8, 8, 3], "tanh", seed=0)
    rule = make_rule(name, loss="cross_entropy", beta=0.5, optimizer="adam", lr=0.01, feedback_optimizer="adam",
                     feedback_lr=0.005, rhl_width=32, pretrain_steps=3, feedback_iterations=2,
                     feedback_weight_decay=1e-4, gnt_angles=True)
    history = train(net, rule, data, epochs=3, batch_size=5)
    assert not history.diverged and history.epochs == 3
    assert all(np.isfinite(v) for d in history.diagnostics[1:] for v in d.values())
    assert "angle_gnt_1" in history.diagnostics[-1]


@pytest.mark.parametrize("option", ["pretrain_epochs", "feedback_epochs"])
def test_feedback_epoch_hooks_train_only_the_feedback(option):
    from tpnb.data import Dataset
    from tpnb.train import train
    net, x, y = random_problem([6, 5, 5, 3], "tanh", seed=1, batch=40)
    data = Dataset("toy", x, y, x[:5], y[:5], "regression")
    rule = DDTPLinear(beta=0.1, lr=1e-3, feedback_lr=1e-2, feedback_iterations=0, seed=0, angles=False,
                      **{option: 2})
    rule.init_feedback(net)
    q_before = [q.copy() for q in rule.Q]
    w_before = [w.copy() for w in net.weights]
    rule.begin(net, x) if option == "pretrain_epochs" else rule.end_epoch(net, x, 1)
    assert any(not np.array_equal(a, b) for a, b in zip(q_before, rule.Q))
    assert all(np.array_equal(a, b) for a, b in zip(w_before, net.weights))
    train(net, rule, data, epochs=1, batch_size=10)    # the loop calls the hooks without error


@pytest.mark.parametrize("kwargs, name", [(dict(pretrain_epochs=-1), "pretrain_epochs"),
                                          (dict(feedback_epochs=1.5), "feedback_epochs"),
                                          (dict(feedback_batch_size=0), "feedback_batch_size")])
def test_feedback_epoch_options_are_validated(kwargs, name):
    with pytest.raises(ValueError, match=name):
        DDTPLinear(**kwargs)


def test_float32_difference_targets_lose_precision_as_the_output_step_shrinks():
    # why the DTP family stays float64: h'_i - h_i = g(u'_L) - g(u_L) is a difference of two nearly
    # equal feedback outputs, so in float32 its relative rounding error grows like eps_32 / beta
    net, x, y = problem(sizes=(6, 16, 16, 4), batch=16)
    errors = {}
    for beta in (0.5, 1e-4):
        steps = []
        for dtype in (np.float64, np.float32):
            cast = MLP(net.sizes, "tanh", dtype=dtype)
            cast.weights = [w.astype(dtype) for w in net.weights]
            rule = DDTPLinear(beta=beta, seed=0)
            rule.init_feedback(cast)
            rule.Q = [q.astype(dtype) for q in rule.Q]
            fp = cast.forward(x.astype(dtype))
            u_target = fp.output + beta * (y.astype(dtype) - fp.output)
            steps.append(np.concatenate([(t - h).ravel() for t, h in
                                         zip(rule.targets(cast, fp, u_target), hidden_activations(fp))]))
        assert steps[1].dtype == np.float32
        errors[beta] = np.linalg.norm(steps[1] - steps[0]) / np.linalg.norm(steps[0])
    assert errors[0.5] < 1e-5
    assert errors[1e-4] > 100 * errors[0.5]


# --------------------------------------------- the fused feedback step against its equations, term by term

def through_rhl(rule, i):
    """Whether layer i's feedback passes DDTP-RHL's random layer (every hidden layer but the last)."""
    return rule.parameterization == "direct_rhl" and i < len(rule.Q) - 1


def reference_features(rule, a, i):
    """F_i(a): [a; 1] (layer-wise, linear, RHL's last hidden layer) or [tanh(R a + b); 1] (RHL), written out."""
    if through_rhl(rule, i):
        a = np.tanh(a @ rule.R.T + rule.b)
    return np.hstack([a, np.ones((len(a), 1))])


def nonlinear_feedback(rule):
    """Whether g_i = phi(F_i Q_i^T) applies phi (layer-wise feedback, DDTP-RHL) or is linear (DDTP-linear)."""
    return rule.parameterization in ("layerwise", "direct_rhl")


def reference_feedback_gradients(rule, net, fp, rng):
    """The reconstruction losses of the module docstring (the authors' c mean |r_i|^2, c = 1 / max(sigma,
    0.02)^2 for DTP, 1 / sigma^2 for DRL, 1 for the control), each term on its own: one noise draw per layer,
    each path through the output sent forward and down separately, every g_i evaluated where it appears,
    the DRL gradient as d/dQ_i of <r, g_i(above)> - <r, g_i(clean)> (r held fixed). Returns the gradients,
    the losses and, per gradient entry, the size of the terms whose rounding reaches it."""
    phi, batch, n_hidden = rule.feedback_activation, fp.output.shape[0], net.depth - 1
    acts = hidden_activations(fp) + [fp.output]
    lip = 1.0                                                          # tanh, identity: Lip(phi) = Lip(f) = 1

    def g(i, a, size):
        """g_i(a) and the size of the terms of each entry (size: that of a's own rounding)."""
        feats, q = reference_features(rule, a, i), rule.Q[i]
        if through_rhl(rule, i):                                       # through tanh(R a + b), Lip 1
            size = abs_matmul(a, np.abs(rule.R.T)) + np.abs(rule.b) + abs_matmul(size, np.abs(rule.R.T))
        z = feats @ q.T
        z_size = abs_matmul(feats, np.abs(q.T)) + lip * abs_matmul(size, np.abs(q[:, :-1].T))
        return (phi(z) if nonlinear_feedback(rule) else z), z_size

    def grad(i, a, c):
        """d/dQ_i of sum_b <c_b, g_i(a_b)>."""
        feats = reference_features(rule, a, i)
        if nonlinear_feedback(rule):
            c = c * phi.derivative(feats @ rule.Q[i].T)
        return c.T @ feats, feats

    noisy = [h + rule.sigma * rng.standard_normal(h.shape) for h in acts[:-1]]
    grads, losses, scales = [], [], []
    for i in range(n_hidden):
        size = np.zeros_like(noisy[i])                                 # the path's accumulated term sizes
        up = noisy[i]
        # DTP: one layer up, f_{i+1}(h_i + sigma eps); the others: to the output, u~_i = f_{i->L}(h_i + sigma eps)
        for l in range(i + 1, i + 2 if rule.reconstruction == "layerwise" else net.depth):
            w = net.weights[l]
            size = abs_matmul(up, np.abs(w[:, :-1].T)) + np.abs(w[:, -1]) + lip * abs_matmul(size, np.abs(w[:, :-1].T))
            up = up @ w[:, :-1].T + w[:, -1]
            if l < net.depth - 1:
                up = net.activations[l](up)
        if rule.reconstruction in ("layerwise", "control"):
            g_noisy, g_size = g(i, up, size)
            r, r_size = g_noisy - noisy[i], g_size + np.abs(noisy[i])
            gr, feats = grad(i, up, r)
            scale = 1.0 / max(rule.sigma, 0.02) ** 2 if rule.reconstruction == "layerwise" else 1.0
            grad_size = abs_matmul((np.abs(r) + r_size).T, np.abs(feats))
        else:
            if rule.parameterization == "layerwise":                   # down the difference-corrected path
                for j in range(net.depth - 2, i, -1):
                    g_up, g_size = g(j, up, size)
                    g_clean, clean_size = g(j, acts[j + 1], np.zeros_like(acts[j + 1]))
                    up = acts[j] + g_up - g_clean
                    size = np.abs(acts[j]) + g_size + clean_size
            clean = acts[i + 1] if rule.parameterization == "layerwise" else fp.output
            g_up, g_size = g(i, up, size)
            g_clean, clean_size = g(i, clean, np.zeros_like(clean))
            r = acts[i] + g_up - g_clean - noisy[i]
            r_size = np.abs(acts[i]) + g_size + clean_size + np.abs(noisy[i])
            g_above, f_above = grad(i, up, r)
            g_below, f_clean = grad(i, clean, r)
            gr = g_above - g_below
            scale = 1.0 / rule.sigma ** 2
            grad_size = abs_matmul((np.abs(r) + r_size).T, np.abs(f_above) + np.abs(f_clean))
        # the authors' loss c F.mse_loss: c times the mean of r^2 over the B n_i entries, gradient 2 c / (B n_i) ...
        entries = batch * r.shape[1]
        grads.append(2 * scale / entries * gr + rule.feedback_weight_decay * rule.Q[i])
        losses.append(scale * float(np.sum(r * r)) / entries)
        scales.append(2 * scale / entries * grad_size + rule.feedback_weight_decay * np.abs(rule.Q[i]))
    return grads, losses, scales


@pytest.mark.parametrize("name", VARIANTS)
def test_feedback_gradients_are_the_equations_term_by_term(name):
    """The shared products, the stacked paths, the one noise draw and (DDTP) the differences of features
    F(u~) - F(u_L) give the per-layer loss gradients of the equations, to the rounding of the terms."""
    net, x, _ = problem((4, 7, 6, 5, 3), batch=8)
    rule = make_rule(name, sigma=0.3, seed=2, rhl_width=9, feedback_weight_decay=0.01)
    rule.init_feedback(net)
    rng = np.random.default_rng([2, 7])
    for q in rule.Q:                                                   # feedback with biases, far from trained
        q += rng.normal(0.0, 0.5, q.shape)
    fp = net.forward(x)
    expected, expected_losses, scales = reference_feedback_gradients(rule, net, fp, np.random.default_rng([2, 1]))
    grads, losses = rule.feedback_gradients(net, fp)
    for i, (a, b, scale) in enumerate(zip(grads, expected, scales)):
        assert_close_conditioned(a, b, scale, 8.0 * (max(net.sizes) + 10), err_msg=f"{name}, layer {i + 1}")
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-10)


@pytest.mark.parametrize("name", ["ddtp_linear", "ddtp_rhl", "ddtp_control"])
def test_direct_targets_are_the_difference_of_two_feedback_outputs(name):
    """h'_i = h_i + g_i(u'_L) - g_i(u_L), computed as h_i + (F(u'_L) - F(u_L)) Q_i^T (linear feedback) or
    h_i + phi(F(u'_L) Q_i^T) - phi(F(u_L) Q_i^T) (DDTP-RHL)."""
    net, x, _ = problem((4, 7, 6, 3), batch=8)
    rule = make_rule(name, rhl_width=9)
    rule.init_feedback(net)
    fp = net.forward(x)
    u_target = fp.output + 0.3 * np.random.default_rng(4).normal(size=fp.output.shape)
    for i, (t, h) in enumerate(zip(rule.targets(net, fp, u_target), hidden_activations(fp))):
        expected = h + rule.g(net, i, u_target) - rule.g(net, i, fp.output)
        f_target, f_out = reference_features(rule, u_target, i), reference_features(rule, fp.output, i)
        scale = np.abs(h) + abs_matmul(np.abs(f_target) + np.abs(f_out), np.abs(rule.Q[i].T))
        assert_close_conditioned(t, expected, scale, 4.0 * (rule.Q[i].shape[1] + 4), err_msg=f"layer {i + 1}")


@pytest.mark.parametrize("rule_cls", [DDTPLinear, DTPDRL])
def test_a_step_uses_the_targets_of_the_feedback_from_before_its_feedback_update(rule_cls):
    """The authors' order: targets first (with the feedback weights the batch found), then the feedback
    update, then the forward update: plain SGD moves the weights by -lr times those directions."""
    import copy
    net, x, y = problem(loss="mse")
    rule = rule_cls(beta=0.25, loss="mse", optimizer="sgd", lr=0.1, feedback_lr=0.5, angles=False)
    rule.init_feedback(net)
    expected = copy.deepcopy(rule).directions(net, x, y).grads
    before = [w.copy() for w in net.weights]
    rule.step(net, x, y)
    for w, w0, g in zip(net.weights, before, expected):
        np.testing.assert_allclose(w - w0, -0.1 * g, rtol=1e-12, atol=1e-15 * np.abs(w0).max())


@pytest.mark.parametrize("rule_cls", [DDTPLinear, DTP])
def test_feedback_weights_start_xavier_normal(rule_cls):
    """As the authors' code initialises them: N(0, 2 / (fan_in + fan_out)), biases 0; the top feedback
    matrix maps the 10 outputs to the last 256 hidden units (direct feedback: every Q_i does)."""
    net = MLP([30, 256, 256, 10], "tanh", seed=0)
    q = rule_cls(seed=3).init_feedback(net)[-1]                       # (256, 10 + 1)
    assert q.shape == (256, 11) and np.all(q[:, -1] == 0)
    assert np.std(q[:, :-1]) == pytest.approx(np.sqrt(2.0 / (10 + 256)), rel=0.06)   # 2560 draws: ~1.4% sd


# --------------------------------------------- DDTP-RHL as the authors' code builds it (see tpnb.rules.dtp)

def rhl_problem(width=12, **options):
    net, x, _ = problem((4, 7, 6, 5, 3), batch=8)
    rule = DDTPRHL(rhl_width=width, seed=1, **options)
    rule.init_feedback(net)
    return net, x, rule


def test_ddtp_rhl_last_hidden_layer_takes_direct_feedback_from_the_output():
    """g_{L-2}(u) = phi(Q_{L-2} [u; 1]): a (n_{L-1}, n_L + 1) matrix, the random layer not on its path (a new
    R and b leave it unchanged while they change the layers below); with phi = identity it is linear in u."""
    net, x, rule = rhl_problem()
    assert [q.shape for q in rule.Q] == [(7, 13), (6, 13), (5, 4)]
    u = net.forward(x).output
    before = [rule.g(net, i, u) for i in range(3)]
    np.testing.assert_allclose(before[-1], np.tanh(np.hstack([u, np.ones((len(u), 1))]) @ rule.Q[-1].T),
                               rtol=0, atol=4e-16 * 8)
    rule.R = rule.R[::-1].copy()
    rule.b = rule.b[::-1].copy() + 0.5
    np.testing.assert_array_equal(rule.g(net, 2, u), before[-1])
    assert not np.allclose(rule.g(net, 0, u), before[0])
    net, x, rule = rhl_problem(feedback_activation="identity")
    rng = np.random.default_rng(3)
    u1, u2 = rng.normal(size=(8, 3)), rng.normal(size=(8, 3))
    q = rule.Q[-1]
    q[:, -1] = rng.normal(size=len(q))                                  # a bias, so that g(0) != 0
    lhs = rule.g(net, 2, u1 + u2) + rule.g(net, 2, np.zeros_like(u1))
    rhs = rule.g(net, 2, u1) + rule.g(net, 2, u2)
    scale = abs_matmul(np.abs(u1) + np.abs(u2), np.abs(q[:, :-1].T)) + np.abs(q[:, -1])
    assert_close_conditioned(lhs, rhs, scale, 16.0)


def test_ddtp_rhl_feedback_is_bounded_by_its_outer_tanh():
    """phi = tanh after Q_i (the authors' fb_activation): every g_i(u) lies in (-1, 1) however large u and
    Q_i are, and is phi(F_i(u) Q_i^T) with F_i(u) = [tanh(R u + b); 1] below the last hidden layer."""
    net, x, rule = rhl_problem()
    rule.Q = [50.0 * q for q in rule.Q]
    u = 1e3 * np.random.default_rng(5).normal(size=(8, 3))
    for i in range(3):
        g = rule.g(net, i, u)
        assert np.all(np.abs(g) <= 1.0)
        features = reference_features(rule, u, i)
        expected = np.tanh(features @ rule.Q[i].T)
        # tanh is 1-Lipschitz: the rounding of z = F Q^T (terms |F| |Q|), and of tanh itself near 1
        scale = abs_matmul(features, rule.Q[i].T) + 1.0
        assert_close_conditioned(g, expected, scale, 4.0 * (rule.Q[i].shape[1] + 4), err_msg=f"layer {i + 1}")
    assert rule.feedback_activation.name == "tanh"


def test_ddtp_rhl_random_layer_is_torch_linear_default_uniform():
    """R (width, n_L) and b (width,) ~ U(-1/sqrt(n_L), 1/sqrt(n_L)) (nn.Linear's default init, fan_in = n_L),
    not Gaussian: inside the bound, reaching near it, with the uniform's sd bound / sqrt(3)."""
    net = MLP([30, 256, 256, 10], "tanh", seed=0)
    rule = DDTPRHL(seed=4)                                               # rhl_width 1024: 10240 weights
    rule.init_feedback(net)
    bound = 1.0 / np.sqrt(10)
    assert rule.R.shape == (1024, 10) and rule.b.shape == (1024,)
    for values, n in ((rule.R, 10240), (rule.b, 1024)):
        assert np.all(np.abs(values) <= bound)
        assert values.max() > bound * (1 - 20 / n) and values.min() < -bound * (1 - 20 / n)
        # sd of the sample sd of a uniform: about 0.56 / sqrt(n) relative; 6 of them
        assert np.std(values) == pytest.approx(bound / np.sqrt(3), rel=6 * 0.56 / np.sqrt(n))
        assert abs(np.mean(values)) < 6 * bound / np.sqrt(3 * n)


def test_ddtp_rhl_targets_and_first_feedback_update_share_the_clean_feedback():
    """The step's clean g_i(u_L) (computed once) equals the one each part would compute on its own: the
    step moves the forward weights by the directions of the feedback it found and the feedback by the
    gradient a fresh computation gives."""
    import copy
    net, x, _ = problem((4, 7, 6, 5, 3), batch=8)
    y = np.random.default_rng(6).normal(size=(8, 3))
    rule = DDTPRHL(beta=0.25, optimizer="sgd", lr=0.1, feedback_optimizer="sgd", feedback_lr=0.5, rhl_width=12,
                   angles=False, seed=2)
    rule.init_feedback(net)
    twin = copy.deepcopy(rule)
    expected = twin.directions(net, x, y).grads
    fb_grads, _ = twin.feedback_gradients(net, net.forward(x))
    before, q_before = [w.copy() for w in net.weights], [q.copy() for q in rule.Q]
    rule.step(net, x, y)
    for w, w0, g in zip(net.weights, before, expected):
        np.testing.assert_allclose(w - w0, -0.1 * g, rtol=1e-12, atol=1e-15 * np.abs(w0).max())
    for q, q0, g in zip(rule.Q, q_before, fb_grads):
        np.testing.assert_allclose(q - q0, -0.5 * g, rtol=1e-9, atol=1e-14 * np.abs(q0).max())


# --------------------------------------------- the authors' loss scales (see tpnb.rules.dtp's docstring)

def feedback_problem(name, sigma=0.3, **options):
    """A tiny network and a rule whose feedback carries biases and is far from trained (so every term counts)."""
    net, x, _ = problem((4, 7, 6, 5, 3), batch=8)
    rule = make_rule(name, sigma=sigma, seed=2, rhl_width=9, **options)
    rule.init_feedback(net)
    rng = np.random.default_rng([2, 7])
    for q in rule.Q:
        q += rng.normal(0.0, 0.5, q.shape)
    return net, net.forward(x), rule


def test_reconstruction_loss_factors_are_the_authors():
    """c of c F.mse_loss: DTP 1 / max(sigma, 0.02)^2 (the floor only in the layer-wise loss), DRL 1 / sigma^2
    at any sigma, the control 1."""
    assert DTP(sigma=0.3).loss_factor() == 1 / 0.3 ** 2
    assert DTP(sigma=0.01).loss_factor() == DTP(sigma=0.02).loss_factor() == 1 / 0.02 ** 2
    for cls in (DTPDRL, DDTPLinear, DDTPRHL):
        assert cls(sigma=0.01).loss_factor() == 1 / 0.01 ** 2
    assert DDTPControl(sigma=0.01).loss_factor() == 1.0


@pytest.mark.parametrize("name, sigma", [(name, 0.3) for name in VARIANTS] + [("dtp", 0.01)])
def test_feedback_gradients_are_the_derivatives_of_the_authors_losses(name, sigma):
    """Each layer's gradient is d/dQ_i of the plain c mean_{b,k} r_{i,bk}^2 (reference_feedback_gradients's
    loss, written out, the noise held fixed), by central differences along a random direction D: the
    scale 2 c / (B n_i) of F.mse_loss's gradient, not tpnb's former 1/2 batch mean (c / B). sigma = 0.01:
    DTP's noise is 0.01 eps but its factor 1 / 0.02^2. Central differences at step t: truncation O(t^2)
    relative (about 1e-10 at t = 1e-5 for these O(1) curvatures), rounding about eps L / t (L the loss)."""
    net, fp, rule = feedback_problem(name, sigma)
    grads, losses = rule.feedback_gradients(net, fp)
    expected_losses = reference_feedback_gradients(rule, net, fp, np.random.default_rng([2, 1]))[1]
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-10)
    rng, t = np.random.default_rng(8), 1e-5
    for i, grad in enumerate(grads):
        direction = rng.normal(size=grad.shape)
        values = []
        for sign in (1.0, -1.0):
            q0 = rule.Q[i].copy()
            rule.Q[i] = q0 + sign * t * direction
            values.append(reference_feedback_gradients(rule, net, fp, np.random.default_rng([2, 1]))[1][i])
            rule.Q[i] = q0
        numeric = (values[0] - values[1]) / (2 * t)
        assert numeric == pytest.approx(np.sum(grad * direction), rel=1e-6, abs=1e-6 * expected_losses[i]), \
            f"{name}, layer {i + 1}"


@pytest.mark.parametrize("name", VARIANTS)
def test_forward_gradients_have_the_authors_factor_2(name):
    """lib/dtp_layers.py compute_forward_gradients: the teaching signal 2 f'(u_l) (h_l - h'_l) (output:
    2 (u_L - u'_L)), times the layer input [x_l; 1], over B: the gradient of mean_b |h'_l - h_l|^2, written
    out per layer; and exactly twice the 1/2-loss gradients of local_gradients (x 2 rounds nothing)."""
    from tpnb.rules.local_losses import local_gradients
    net, x, y = problem((4, 7, 6, 3), batch=8)
    rule = make_rule(name, beta=0.5, rhl_width=9, seed=1)
    grads, targets, fp, e = rule.directions(net, x, y)
    u_target = rule.output_targets(fp, y, e)
    for g, half in zip(grads, local_gradients(net, fp, targets, u_target)):
        np.testing.assert_array_equal(g, 2 * half)
    for l in range(net.depth):
        if l < net.depth - 1:
            h, t = fp.xs[l + 1][:, :-1], targets[l]
            slope = 1 - np.tanh(fp.us[l]) ** 2
        else:
            h, t, slope = fp.output, u_target, 1.0
        teaching = 2 * slope * (h - t)
        expected = teaching.T @ fp.xs[l] / len(x)
        # h - h' cancels terms |h| + |h'|; then one product over the batch
        scale = abs_matmul((2 * np.abs(slope) * (np.abs(h) + np.abs(t))).T, np.abs(fp.xs[l])) / len(x)
        assert_close_conditioned(grads[l], expected, scale, 4.0 * (len(x) + 8), err_msg=f"{name}, layer {l + 1}")


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_weight_decay_enters_as_the_authors_optimiser_applies_it(name, optimizer):
    """torch.optim.Adam / SGD(weight_decay=wd), the authors' feedback optimiser: the gradient fed to the
    moments (the momentum) is dL/dQ_i + wd Q_i, bias column included (the feedback biases are in its
    parameter list). Two feedback updates of the rule equal two steps of the optimiser's formulas written
    out, fed the loss gradient without decay (a twin rule: same initialisation and noise, put at the
    reference's Q) plus wd Q. DDTP's linear DRL never moves the bias by its loss (it cancels in
    F(u~) - F(u_L)), so there only the decay moves it."""
    wd, lr, (b1, b2, eps, momentum) = 0.3, 0.01, (0.9, 0.99, 1e-3, 0.5)
    options = (dict(feedback_optimizer="adam", feedback_options=dict(beta1=b1, beta2=b2, eps=eps))
               if optimizer == "adam" else dict(feedback_optimizer="sgd", feedback_options=dict(momentum=momentum)))
    net, fp, rule = feedback_problem(name, feedback_weight_decay=wd, feedback_lr=lr, **options)
    _, _, plain = feedback_problem(name, feedback_lr=lr, **options)
    q = [a.copy() for a in rule.Q]
    m, v = [np.zeros_like(a) for a in q], [np.zeros_like(a) for a in q]
    for t in (1, 2):
        plain.Q = [a.copy() for a in q]
        loss_grads, _ = plain.feedback_gradients(net, fp)
        for i, g_loss in enumerate(loss_grads):
            g = g_loss + wd * q[i]
            if optimizer == "adam":
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                q[i] = q[i] - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m[i] / (np.sqrt(v[i]) + eps)
            else:
                m[i] = momentum * m[i] + g
                q[i] = q[i] - lr * m[i]
        rule.train_feedback(net, fp, 1)
        for i, (a, b) in enumerate(zip(rule.Q, q)):
            # the same operations in the same order; a few roundings of |Q| and of each step (<= lr x 1 for Adam)
            assert_close_conditioned(a, b, np.abs(b) + lr * t * (1 + np.abs(m[i])), 16.0,
                                     err_msg=f"{name}, {optimizer}, step {t}, layer {i + 1}")
        if name == "ddtp_linear":                    # the loss leaves the bias alone: only the decay moves it
            assert all(np.all(g[:, -1] == 0) for g in loss_grads)
            assert all(np.all(a[:, -1] != b[:, -1]) for a, b in zip(rule.Q, plain.Q))
