"""Dataset, one_hot and check_xy: construction rules, subsets and validation splits."""
import numpy as np
import pytest

from tpnb.data import Dataset, check_xy, one_hot


def make(n_train=10, n_test=4, d=3, k=2):
    rng = np.random.default_rng(0)
    return Dataset("toy", rng.normal(size=(n_train, d)), rng.normal(size=(n_train, k)),
                   rng.normal(size=(n_test, d)), rng.normal(size=(n_test, k)), "regression")


def test_one_hot_rows():
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    assert one_hot(np.array([1]), 2).dtype == np.float64


@pytest.mark.parametrize("labels, problem", [
    (np.array([[0, 1]]), "must be 1-D"),
    (np.array([0.0, 1.0]), "must be integers"),
    (np.array([0, 3]), "label out of range"),
    (np.array([-1, 0]), "label out of range"),
])
def test_one_hot_errors(labels, problem):
    with pytest.raises(ValueError, match=problem):
        one_hot(labels, 3)


@pytest.mark.parametrize("x, y, problem", [
    (np.array([[np.nan]]), np.zeros((1, 1)), "inputs contain NaN or inf"),
    (np.zeros((1, 1)), np.array([[np.inf]]), "targets contain NaN or inf"),
    (np.zeros((3, 2)), np.zeros((2, 1)), "shape mismatch, 3 inputs but 2 targets"),
    (np.zeros(3), np.zeros((3, 1)), "inputs must be a 2-D array"),
    ([[0.0]], np.zeros((1, 1)), "inputs must be a 2-D array"),
])
def test_check_xy_errors(x, y, problem):
    with pytest.raises(ValueError, match=problem):
        check_xy(x, y)


def test_dataset_rejects_unknown_task_and_mismatched_splits():
    data = make()
    with pytest.raises(ValueError, match="unknown task"):
        Dataset("toy", data.x_train, data.y_train, data.x_test, data.y_test, "ranking")
    with pytest.raises(ValueError, match="train inputs have 3 features, test inputs 2"):
        Dataset("toy", data.x_train, data.y_train, data.x_test[:, :2], data.y_test, "regression")
    with pytest.raises(ValueError, match="train targets have 2 columns, test targets 1"):
        Dataset("toy", data.x_train, data.y_train, data.x_test, data.y_test[:, :1], "regression")


def test_sizes():
    data = make()
    assert (data.n_inputs, data.n_outputs) == (3, 2)


def test_subset_keeps_the_first_samples():
    data = make()
    small = data.subset(n_train=6, n_test=2)
    np.testing.assert_array_equal(small.x_train, data.x_train[:6])
    np.testing.assert_array_equal(small.y_test, data.y_test[:2])
    assert data.subset().x_train.shape == data.x_train.shape


def test_validation_split_holds_out_the_last_training_samples():
    data = make()
    split = data.validation_split(3)
    assert split.name == "toy-validation"
    np.testing.assert_array_equal(split.x_train, data.x_train[:7])
    np.testing.assert_array_equal(split.x_test, data.x_train[7:])
    np.testing.assert_array_equal(split.y_test, data.y_train[7:])
    for bad in (0, 10):
        with pytest.raises(ValueError, match=r"n_val must be in \(0, 10\)"):
            data.validation_split(bad)


# ------------------------------------------------------------------ classification targets (issue 11, item 1)

def classification(y_train, y_test=None, n=4):
    x = np.zeros((n, 2))
    return Dataset("toy", x, y_train, x, y_train if y_test is None else y_test, "classification")


@pytest.mark.parametrize("y, message", [
    (np.array([[0], [3], [1], [2]]), "toy train: targets have 1 column: classification needs one-hot targets "
                                     "over at least 2 classes"),
    (np.ones((4, 1)), "1 column"),
    (np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 1.0]]), r"must be one-hot: .*row 2 is \[1. 1.\]"),
    (np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), r"row 1 is \[0. 0.\]"),
    (np.array([[0.9, 0.1], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]), r"row 0 is \[0.9 0.1\]"),
    (np.array([[2.0, -1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]), r"row 0 is \[ 2. -1.\]"),
])
def test_classification_targets_must_be_one_hot(y, message):
    with pytest.raises(ValueError, match=message):
        classification(y)


def test_the_test_split_is_checked_too():
    good = np.eye(2)[[0, 1, 1, 0]]
    assert classification(good).n_outputs == 2
    assert classification(good.astype(np.int64)).n_outputs == 2     # integer one-hot rows are one-hot
    with pytest.raises(ValueError, match=r"toy test: targets must be one-hot: .*row 3"):
        classification(good, np.array([[1, 0], [0, 1], [1, 0], [0, 0]]))


def test_regression_targets_may_be_anything_finite():
    x = np.zeros((3, 2))
    assert Dataset("toy", x, np.array([[3.0], [-1.0], [0.5]]), x, np.zeros((3, 1)), "regression").n_outputs == 1


@pytest.mark.parametrize("x, message", [(np.array([["a", "b"]]), "toy train: inputs must be an array of real numbers, "
                                                                  "dtype <U1"),
                                        (np.zeros((1, 2), dtype=object), "dtype object")])
def test_inputs_must_be_real_numbers(x, message):
    with pytest.raises(TypeError, match=message):
        Dataset("toy", x, np.zeros((1, 1)), np.zeros((1, 2)), np.zeros((1, 1)), "regression")


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(n_train=2.5), TypeError, r"n_train must be a whole number \(int\) >= 1, got 2.5 of type float"),
    (dict(n_test="2"), TypeError, "n_test must be a whole number .*got '2' of type str"),
    (dict(n_train=0), ValueError, "n_train must be a whole number >= 1, got 0"),
    (dict(n_test=-1), ValueError, "n_test must be a whole number >= 1, got -1"),
])
def test_subset_sizes_are_whole_numbers(kwargs, error, message):
    with pytest.raises(error, match=message):
        make().subset(**kwargs)


def test_validation_split_size_is_a_whole_number():
    with pytest.raises(TypeError, match="n_val must be a whole number .*got 2.5"):
        make().validation_split(2.5)
