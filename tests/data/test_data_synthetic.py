"""Synthetic data sets: determinism, shapes, exactness of the noiseless sets, class balance."""
import numpy as np
import pytest

from tpnb.data import LOADERS, linear_regression, load, teacher_student, two_spirals, xor

GENERATORS = {
    "linear_regression": dict(n_train=40, n_test=12, n_inputs=5, n_outputs=3, noise=0.1),
    "teacher_student": dict(n_train=40, n_test=12, n_inputs=5, hidden=(7, 6), n_outputs=3, noise=0.1),
    "xor": dict(n_train=40, n_test=12, noise=0.2),
    "two_spirals": dict(n_train=40, n_test=12, noise=0.05, turns=1.5),
}
SHAPES = {  # name -> (n_inputs, n_outputs, task)
    "linear_regression": (5, 3, "regression"),
    "teacher_student": (5, 3, "regression"),
    "xor": (2, 2, "classification"),
    "two_spirals": (2, 2, "classification"),
}


def arrays(data):
    return [data.x_train, data.y_train, data.x_test, data.y_test]


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_gives_bit_identical_arrays(name):
    a, b = load(name, seed=3, **GENERATORS[name]), load(name, seed=3, **GENERATORS[name])
    for x, y in zip(arrays(a), arrays(b)):
        assert x.tobytes() == y.tobytes()


@pytest.mark.parametrize("name", GENERATORS)
def test_different_seeds_differ(name):
    a, b = load(name, seed=3, **GENERATORS[name]), load(name, seed=4, **GENERATORS[name])
    assert not np.array_equal(a.x_train, b.x_train)


@pytest.mark.parametrize("name", GENERATORS)
def test_shapes_dtype_and_task(name):
    data = load(name, seed=0, **GENERATORS[name])
    n_inputs, n_outputs, task = SHAPES[name]
    assert data.x_train.shape == (40, n_inputs) and data.x_test.shape == (12, n_inputs)
    assert data.y_train.shape == (40, n_outputs) and data.y_test.shape == (12, n_outputs)
    assert all(a.dtype == np.float64 for a in arrays(data))
    assert data.task == task and data.name == name


def affine_fit_residual(x, y):
    design = np.hstack([x, np.ones((len(x), 1))])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    return np.abs(design @ coef - y).max()


def test_noiseless_linear_set_is_fit_exactly_by_least_squares():
    data = linear_regression(n_train=50, n_test=20, n_inputs=8, n_outputs=4, noise=0.0, seed=1)
    x = np.vstack([data.x_train, data.x_test])
    y = np.vstack([data.y_train, data.y_test])
    assert affine_fit_residual(x, y) < 1e-10


def test_noisy_linear_set_is_not_exact():
    data = linear_regression(n_train=50, n_test=20, n_inputs=8, n_outputs=4, noise=0.1, seed=1)
    assert affine_fit_residual(data.x_train, data.y_train) > 1e-3


def test_teacher_without_hidden_layers_is_affine_and_with_them_is_not():
    linear = teacher_student(n_train=60, n_test=10, n_inputs=4, hidden=(), n_outputs=2, seed=5)
    assert affine_fit_residual(linear.x_train, linear.y_train) < 1e-10
    relu = teacher_student(n_train=60, n_test=10, n_inputs=4, hidden=(16,), n_outputs=2, seed=5)
    assert affine_fit_residual(relu.x_train, relu.y_train) > 1e-2


def test_xor_labels_are_the_xor_of_the_corner_signs_and_balanced():
    data = xor(n_train=40, n_test=8, noise=0.0, seed=0)
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        assert set(map(tuple, x)) == {(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)}
        np.testing.assert_array_equal(y.argmax(1), (x[:, 0] * x[:, 1] < 0).astype(int))
        np.testing.assert_array_equal(y.sum(0), [len(x) / 2, len(x) / 2])


def test_xor_on_the_unit_square_is_the_same_draw_mapped_by_half_x_plus_one():
    plain, unit = xor(n_train=12, n_test=4, noise=0.2, seed=3), xor(n_train=12, n_test=4, noise=0.2, seed=3,
                                                                   unit_square=True)
    np.testing.assert_array_equal(unit.x_train, (plain.x_train + 1) / 2)
    np.testing.assert_array_equal(unit.y_test, plain.y_test)
    with pytest.raises(TypeError, match="unit_square"):
        xor(unit_square="yes")


def test_two_spirals_lie_on_their_arms_and_are_balanced():
    data = two_spirals(n_train=41, n_test=10, noise=0.0, turns=1.5, seed=0)
    x, labels = data.x_train, data.y_train.argmax(1)
    assert np.bincount(labels).tolist() == [20, 21]
    radius = np.hypot(x[:, 0], x[:, 1])
    assert np.all((radius >= 0.05) & (radius <= 1.0))
    arm_angle = 2 * np.pi * 1.5 * radius + np.pi * labels
    np.testing.assert_allclose(np.cos(arm_angle), x[:, 0] / radius, atol=1e-12)
    np.testing.assert_allclose(np.sin(arm_angle), x[:, 1] / radius, atol=1e-12)


@pytest.mark.parametrize("make, kwargs, argument", [
    (linear_regression, dict(n_train=0), "n_train"),
    (linear_regression, dict(n_test=-1), "n_test"),
    (linear_regression, dict(n_inputs=2.5), "n_inputs"),
    (linear_regression, dict(noise=-0.1), "noise"),
    (teacher_student, dict(n_outputs=0), "n_outputs"),
    (teacher_student, dict(hidden=(4, 0)), "hidden"),
    (teacher_student, dict(noise=float("nan")), "noise"),
    (xor, dict(n_train=True), "n_train"),
    (two_spirals, dict(turns=0), "turns"),
    (two_spirals, dict(noise=-1), "noise"),
])
def test_bad_arguments_raise_naming_the_argument(make, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        make(**kwargs)


def test_load_dispatches_by_name():
    assert set(LOADERS) == {"fashion_mnist", "mnist", "cifar10", "linear_regression",
                            "teacher_student", "xor", "two_spirals"}
    np.testing.assert_array_equal(load("xor", n_train=8, n_test=4, seed=2).x_train,
                                  xor(n_train=8, n_test=4, seed=2).x_train)
    with pytest.raises(ValueError, match="unknown data set 'nope'; known: fashion_mnist, mnist"):
        load("nope")
