"""tpnb.checks: every check names the argument and the value, and passes valid input through untouched."""
import math

import numpy as np
import pytest

from tpnb import checks
from tpnb.checks import ArgumentTypeError
from tpnb.network import MLP


def test_a_type_error_is_also_a_value_error():
    assert issubclass(ArgumentTypeError, TypeError) and issubclass(ArgumentTypeError, ValueError)


@pytest.mark.parametrize("value", [1, 0.5, 1e300, np.float32(2.0), np.float64(0.1), np.int64(3)])
def test_positive_numbers_pass_unchanged(value):
    assert checks.positive_number("eta", value) is value


@pytest.mark.parametrize("value, error, message", [
    (0.0, ValueError, "eta must be > 0 and finite, got 0.0"),
    (-1, ValueError, "eta must be > 0 and finite, got -1"),
    (math.inf, ValueError, "eta must be > 0 and finite, got inf"),
    (math.nan, ValueError, "eta must be > 0 and finite, got nan"),
    ("0.5", ArgumentTypeError, "eta must be a real number \\(int or float\\), got '0.5' of type str"),
    (None, ArgumentTypeError, "eta must be a real number .*got None of type NoneType"),
    (True, ArgumentTypeError, "eta must be a real number .*got True of type bool"),
    (1j, ArgumentTypeError, "eta must be a real number .*got 1j of type complex"),
])
def test_bad_positive_numbers_name_the_argument_and_the_value(value, error, message):
    with pytest.raises(error, match=message):
        checks.positive_number("eta", value)


def test_zero_and_none_where_allowed():
    assert checks.positive_number("margin", 0.0, allow_zero=True) == 0.0
    assert checks.positive_number("cap", None, allow_none=True) is None
    with pytest.raises(ValueError, match=r"margin must be >= 0 and finite, got -0.1"):
        checks.positive_number("margin", -0.1, allow_zero=True)
    with pytest.raises(ValueError, match=r"cap must be > 0 and finite \(or None\), got inf"):
        checks.positive_number("cap", math.inf, allow_none=True)


@pytest.mark.parametrize("value, ok", [(0.0, True), (0.999, True), (1.0, False), (-0.1, False), (math.nan, False),
                                       (math.inf, False)])
def test_number_in_a_half_open_interval(value, ok):
    if ok:
        assert checks.number_in("momentum", value, 0, 1, include_high=False) == value
    else:
        with pytest.raises(ValueError, match=rf"momentum must be in \[0, 1\), got {value}"):
            checks.number_in("momentum", value, 0, 1, include_high=False)


@pytest.mark.parametrize("value", [1, 7, np.int32(3), np.int64(10 ** 12), 10 ** 400])
def test_whole_numbers_pass_unchanged(value):
    assert checks.whole_number("batch_size", value, 1) is value


@pytest.mark.parametrize("value, error, message", [
    (0, ValueError, "batch_size must be a whole number >= 1, got 0"),
    (8.0, ArgumentTypeError, r"batch_size must be a whole number \(int\) >= 1, got 8.0 of type float"),
    (2.5, ArgumentTypeError, "got 2.5 of type float"),
    (True, ArgumentTypeError, "got True of type bool"),
    ("8", ArgumentTypeError, "got '8' of type str"),
    (None, ArgumentTypeError, "got None of type NoneType"),
])
def test_bad_whole_numbers_name_the_argument_and_the_value(value, error, message):
    with pytest.raises(error, match=message):
        checks.whole_number("batch_size", value, 1)


def test_seed_and_flag():
    assert checks.seed(0) == 0
    with pytest.raises(ValueError, match="seed must be a whole number >= 0, got -1"):
        checks.seed(-1)
    assert checks.flag("angles", False) is False
    with pytest.raises(ArgumentTypeError, match="angles must be True or False, got 'no' of type str"):
        checks.flag("angles", "no")


def test_known_options_lists_what_is_allowed():
    checks.known_options("rule 'x'", {"eta": 1}, ["eta", "alpha"])
    with pytest.raises(ArgumentTypeError, match="unknown option 'etaa' for rule 'x'; allowed: eta, alpha"):
        checks.known_options("rule 'x'", {"etaa": 1}, ["eta", "alpha"])
    assert checks.keyword_names(lambda self, a, *args, b=1, **kw: None) == ["a", "b"]


def test_arrays_pass_through_as_the_same_object():
    x = np.arange(6.0).reshape(2, 3)
    assert checks.real_array("x", x) is x
    assert checks.finite_array("x", x) is x
    np.testing.assert_array_equal(checks.real_array("x", [[1, 2], [3, 4]]), [[1, 2], [3, 4]])


@pytest.mark.parametrize("array, message", [
    (np.array([["a", "b"]]), "x must be an array of real numbers, dtype <U1"),
    ([[1.0, 2.0], [3.0]], "x must be a rectangular array of real numbers"),
    (None, "x must be an array of real numbers, got None of type NoneType"),
])
def test_non_numeric_arrays_are_refused(array, message):
    with pytest.raises(ArgumentTypeError, match=message):
        checks.real_array("x", array)


def test_non_finite_arrays_name_how_many_and_where():
    with pytest.raises(ValueError, match=r"x contain NaN or inf \(2 of 6 entries, the first at index \(0, 2\)\)"):
        checks.finite_array("x", np.array([[0.0, 1.0, np.nan], [np.inf, 0.0, 0.0]]))


@pytest.mark.parametrize("y, message", [
    (np.array([[0.0, 1.0], [0.0, 0.0]]), r"row 1 is \[0. 0.\]"),
    (np.array([[1.0, 1.0]]), r"row 0 is \[1. 1.\]"),
    (np.array([[0.5, 0.5]]), r"row 0 is \[0.5 0.5\]"),
    (np.array([[3], [1]]), "1 column: classification needs one-hot targets over at least 2 classes"),
    (np.array([1, 0]), r"shape \(2,\)"),
])
def test_one_hot_targets(y, message):
    with pytest.raises(ValueError, match=message):
        checks.one_hot_targets("targets", y)


def test_one_hot_targets_must_match_the_network():
    assert checks.one_hot_targets("y", np.eye(3)[[0, 2]], 3) is not None
    with pytest.raises(ValueError, match="y have 3 columns but the network has 4 outputs"):
        checks.one_hot_targets("y", np.eye(3), 4)


def test_training_batch_returns_the_arrays_it_was_given():
    net = MLP([3, 4, 2], seed=0)
    x, y = np.zeros((5, 3)), np.zeros((5, 2))
    bx, by = checks.training_batch(net, x, y)
    assert bx is x and by is y
