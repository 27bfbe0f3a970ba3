"""Tests for tpnb.optimizers: SGD, momentum, Adam, validation."""
import pickle

import numpy as np
import pytest

from tpnb.optimizers import Adam, SGD, make_optimizer, scratch


def params_and_grads(seed, steps=1):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=(3, 4)), rng.normal(size=(2, 5))]
    grads = [[rng.normal(size=p.shape) for p in params] for _ in range(steps)]
    return params, grads


@pytest.mark.parametrize("lr", [0.01, 0.5, 3.0])
def test_sgd_without_momentum(lr):
    params, (grads,) = params_and_grads(0)
    expected = [p - lr * g for p, g in zip(params, grads)]
    ids = [id(p) for p in params]
    SGD(lr=lr).update(params, grads)
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p, e, rtol=1e-15, atol=1e-15)
    assert [id(p) for p in params] == ids  # in place


@pytest.mark.parametrize("momentum", [0.5, 0.9])
def test_sgd_momentum_three_steps(momentum):
    lr = 0.1
    params, grads = params_and_grads(1, steps=3)
    ref_p = [p.copy() for p in params]
    ref_v = [np.zeros_like(p) for p in params]
    opt = SGD(lr=lr, momentum=momentum)
    for step_grads in grads:
        opt.update(params, step_grads)
        for i, g in enumerate(step_grads):
            ref_v[i] = momentum * ref_v[i] + g
            ref_p[i] = ref_p[i] - lr * ref_v[i]
        for p, r in zip(params, ref_p):
            np.testing.assert_allclose(p, r, rtol=1e-14, atol=1e-14)
    # explicit closed form after 3 steps: v3 = m^2 g1 + m g2 + g3, v2 = m g1 + g2, v1 = g1
    g1, g2, g3 = (g[0] for g in grads)
    start = params_and_grads(1, steps=3)[0][0]
    total = g1 + (momentum * g1 + g2) + (momentum ** 2 * g1 + momentum * g2 + g3)
    np.testing.assert_allclose(params[0], start - lr * total, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("lr", [1e-3, 0.05])
def test_adam_first_step_is_lr_sign(lr):
    params, (grads,) = params_and_grads(2)
    before = [p.copy() for p in params]
    Adam(lr=lr).update(params, grads)
    for p, b, g in zip(params, before, grads):
        np.testing.assert_allclose(p - b, -lr * np.sign(g), rtol=1e-5)


def test_adam_matches_reference_over_steps():
    lr, b1, b2, eps = 0.01, 0.8, 0.99, 1e-8
    params, grads = params_and_grads(3, steps=4)
    ref = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    opt = Adam(lr=lr, beta1=b1, beta2=b2, eps=eps)
    for t, step_grads in enumerate(grads, start=1):
        opt.update(params, step_grads)
        for i, g in enumerate(step_grads):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat, v_hat = m[i] / (1 - b1 ** t), v[i] / (1 - b2 ** t)
            ref[i] = ref[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    for p, r in zip(params, ref):
        # the package puts eps outside the bias correction (Kingma & Ba's efficient form): tiny difference
        np.testing.assert_allclose(p, r, rtol=1e-6, atol=1e-9)
    assert opt.t == 4


def test_adam_zero_gradient_does_not_move():
    params = [np.ones((2, 2))]
    Adam(lr=0.1).update(params, [np.zeros((2, 2))])
    np.testing.assert_array_equal(params[0], 1.0)


@pytest.mark.parametrize("kwargs, name", [
    (dict(lr=0.0), "lr"), (dict(lr=-1.0), "lr"), (dict(lr=float("nan")), "lr"),
    (dict(momentum=-0.1), "momentum"), (dict(momentum=1.0), "momentum"), (dict(momentum=float("nan")), "momentum"),
])
def test_sgd_validation(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SGD(**kwargs)


@pytest.mark.parametrize("kwargs, name", [
    (dict(lr=0.0), "lr"), (dict(lr=-1e-3), "lr"),
    (dict(beta1=1.0), "beta1"), (dict(beta1=-0.1), "beta1"),
    (dict(beta2=1.0), "beta2"), (dict(beta2=1.5), "beta2"),
])
def test_adam_validation(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Adam(**kwargs)


def test_make_optimizer():
    opt = make_optimizer("sgd", lr=0.2, momentum=0.5)
    assert isinstance(opt, SGD) and opt.lr == 0.2 and opt.momentum == 0.5
    assert isinstance(make_optimizer("adam", lr=1e-2), Adam)
    with pytest.raises(ValueError, match="rmsprop_xyz"):
        make_optimizer("rmsprop_xyz")


# ----------------------------------------------------------- in place, gradients untouched, the formulas

def plain_steps(name, options, params, grads_per_step):
    """The formulas of the optimisers' docstrings, evaluated with temporaries (the reference)."""
    params = [p.copy() for p in params]
    lr = options.get("lr")
    if name == "sgd":
        momentum = options.get("momentum", 0.0)
        velocity = [np.zeros_like(p) for p in params]
        for grads in grads_per_step:
            for i, g in enumerate(grads):
                if momentum == 0:
                    params[i] -= lr * g
                else:
                    velocity[i] *= momentum
                    velocity[i] += g
                    params[i] -= lr * velocity[i]
        return params
    b1, b2, eps = options.get("beta1", 0.9), options.get("beta2", 0.999), options.get("eps", 1e-8)
    m, v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    for t, grads in enumerate(grads_per_step, start=1):
        step = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        for i, g in enumerate(grads):
            m[i] *= b1
            m[i] += (1 - b1) * g
            v[i] *= b2
            v[i] += (1 - b2) * g * g
            params[i] -= step * m[i] / (np.sqrt(v[i]) + eps)
    return params


@pytest.mark.parametrize("name, options", [("sgd", dict(lr=0.03)), ("sgd", dict(lr=np.float64(0.03))),
                                           ("sgd", dict(lr=0.1, momentum=0.9)), ("adam", dict(lr=2e-3)),
                                           ("adam", dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6))])
@pytest.mark.parametrize("param_dtype, grad_dtype", [(np.float64, np.float64), (np.float32, np.float32),
                                                     (np.float32, np.float64), (np.float64, np.float32)])
def test_in_place_updates_are_the_formulas_bit_for_bit(name, options, param_dtype, grad_dtype):
    rng = np.random.default_rng(5)
    params = [rng.normal(size=(4, 6)).astype(param_dtype), rng.normal(size=(3, 5)).astype(param_dtype)]
    grads_per_step = [[(rng.normal(size=p.shape) * 10.0 ** rng.uniform(-3, 3)).astype(grad_dtype) for p in params]
                      for _ in range(4)]
    expected = plain_steps(name, options, params, grads_per_step)
    opt = make_optimizer(name, **options)
    ids = [id(p) for p in params]
    for grads in grads_per_step:
        copies = [g.copy() for g in grads]
        opt.update(params, grads)
        for g, c in zip(grads, copies):
            np.testing.assert_array_equal(g, c)                        # gradients are left alone
    assert [id(p) for p in params] == ids
    for p, e in zip(params, expected):
        assert p.dtype == e.dtype
        np.testing.assert_array_equal(p, e)


def test_scratch_buffers_are_kept_while_they_fit_and_remade_when_they_do_not():
    like = [np.zeros((3, 4)), np.zeros(5, dtype=np.float32)]
    buffers = scratch(None, like, 0.1)
    assert [(b.shape, b.dtype) for b in buffers] == [((3, 4), np.float64), ((5,), np.float32)]
    assert scratch(buffers, like, 0.1) is buffers                           # reused across steps
    assert scratch(buffers, like, np.float64(0.1))[1].dtype == np.float64    # a NumPy scalar widens float32
    assert scratch(buffers, like[:1], 0.1)[0] is not buffers[0]             # another parameter list


def test_sgd_serves_parameter_lists_of_other_shapes():
    """Plain SGD keeps no state but its scratch buffers: another list of parameters gets its own."""
    opt = SGD(lr=0.1)
    small, large = [np.ones((2, 3))], [np.ones((4, 5))]
    opt.update(small, [np.ones((2, 3))])
    opt.update(large, [np.ones((4, 5))])
    np.testing.assert_array_equal(small[0], np.full((2, 3), 0.9))
    np.testing.assert_array_equal(large[0], np.full((4, 5), 0.9))


@pytest.mark.parametrize("name, options", [("sgd", dict(lr=0.1)), ("sgd", dict(lr=0.1, momentum=0.9)),
                                           ("adam", dict(lr=0.01))])
def test_a_pickled_optimizer_leaves_its_scratch_behind_and_continues_bit_for_bit(name, options):
    params, grads = params_and_grads(1, steps=3)
    opt = make_optimizer(name, **options)
    opt.update(params, grads[0])
    twin, restored = [p.copy() for p in params], pickle.loads(pickle.dumps(opt))
    assert all(v is None for k, v in vars(restored).items() if k.startswith("_scratch"))
    for g in grads[1:]:
        opt.update(params, g)
        restored.update(twin, g)
    for p, t in zip(params, twin):
        np.testing.assert_array_equal(p, t)


@pytest.mark.parametrize("eps", [1e-8, 1e-3, 0.3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adam_with_eps_corrected_is_pytorchs_formula(eps, dtype):
    """eps_corrected: p <- p - lr m_hat / (sqrt(v_hat) + eps), eps added after the bias correction, as
    PyTorch's Adam (written here from its update rule); rounding aside, for a large eps too, where the
    efficient form of the default differs."""
    lr, b1, b2 = 0.01, 0.9, 0.99
    params, grads = params_and_grads(4, steps=5)
    params = [p.astype(dtype) for p in params]
    ref = [p.astype(np.float64) for p in params]
    m, v = [np.zeros_like(p) for p in ref], [np.zeros_like(p) for p in ref]
    opt, plain = Adam(lr=lr, beta1=b1, beta2=b2, eps=eps, eps_corrected=True), Adam(lr=lr, beta1=b1, beta2=b2, eps=eps)
    other = [p.copy() for p in params]
    for t, step_grads in enumerate(grads, start=1):
        step_grads = [g.astype(dtype) for g in step_grads]
        opt.update(params, step_grads)
        plain.update(other, step_grads)
        for i, g in enumerate(step_grads):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            ref[i] = ref[i] - lr / (1 - b1 ** t) * m[i] / (np.sqrt(v[i] / (1 - b2 ** t)) + eps)
    tolerance = 50 * np.finfo(dtype).eps
    for p, r, o in zip(params, ref, other):
        assert p.dtype == dtype
        np.testing.assert_allclose(p, r, rtol=tolerance, atol=tolerance * lr)
        if eps >= 1e-3:      # the default's eps acts as eps / sqrt(1 - beta2^t): a different step
            assert np.max(np.abs(o - r)) > 100 * tolerance * lr


def test_adam_eps_corrected_must_be_a_flag():
    with pytest.raises(TypeError, match="eps_corrected"):
        Adam(eps_corrected="yes")
