"""Tables, grids and series drawn from study results, runs chosen by their labels."""
import math

import numpy as np
import pytest

from tpnb.studies import report
from tpnb.studies.core import RunSpec
from tpnb.train import History

DATA = dict(name="xor", n_train=64, n_test=32, noise=0.1, seed=0)


@pytest.fixture
def results(trained_study):
    specs = [RunSpec(key=f"2-8-2|exact_tp|alpha={a},eta={e},B=16", data=DATA, sizes=(2, 8, 2),
                     activation="relu", rule="exact_tp", rule_options=dict(alpha=a, eta=e), epochs=2,
                     batch_size=16, labels=dict(network="2-8-2", method="exact_tp", alpha=a, eta=e, batch=16, seed=0))
             for a in (0.1, 0.9) for e in (0.5, 1.0)]
    specs += [RunSpec(key=f"2-8-2|bp_sgd|seed={s}", data=DATA, sizes=(2, 8, 2), activation="relu",
                      rule="backprop", rule_options=dict(lr=0.1), epochs=2, batch_size=16, seed=s,
                      labels=dict(network="2-8-2", method="bp_sgd", seed=s))
              for s in (0, 1)]
    return trained_study("test_report", specs)


def test_summary_groups_over_seeds(results):
    rows = {(r["arch"], r["method"]): r for r in report.summary(results, "test_acc")}
    sgd = rows[("2-8-2", "bp_sgd")]
    accs = [results[f"2-8-2|bp_sgd|seed={s}"].final("test_acc") for s in (0, 1)]
    assert sgd["runs"] == 2 and sgd["diverged"] == 0
    assert sgd["mean"] == pytest.approx(sum(accs) / 2)
    assert rows[("2-8-2", "exact_tp")]["runs"] == 4


def test_grid_is_alpha_by_eta(results):
    values, alphas, etas = report.grid(results, "2-8-2", 16, "test_acc")
    assert values.shape == (2, 2) and alphas == [0.1, 0.9] and etas == [0.5, 1.0]
    assert values[1, 0] == results["2-8-2|exact_tp|alpha=0.9,eta=0.5,B=16"].final("test_acc")


def test_final_value_of_a_diverged_run_is_nan(results):
    history = results["2-8-2|bp_sgd|seed=0"]
    history.diverged_epoch = 1
    assert math.isnan(report.final_value(history, "test_acc"))


def test_group_by_labels_or_by_a_function(results):
    by_seed = report.group(results, ("method", "seed"))
    assert [s.key for s, _ in by_seed[("bp_sgd", 1)]] == ["2-8-2|bp_sgd|seed=1"]
    assert len(by_seed[("exact_tp", 0)]) == 4
    by_eta = report.group(results, lambda spec: (spec.labels["network"], spec.labels.get("eta")))
    assert [len(v) for v in by_eta.values()] == [2, 2, 2]          # eta 0.5, eta 1.0, backprop (no eta)
    rows = report.summary(results, "test_acc", by=lambda spec: ("net", spec.labels["method"]))
    assert [(r["arch"], r["method"], r["runs"]) for r in rows] == [("net", "exact_tp", 4), ("net", "bp_sgd", 2)]


def test_only_returns_the_single_match_and_refuses_otherwise(results):
    spec, history = report.only(results, method="bp_sgd", seed=1)
    assert spec.key == "2-8-2|bp_sgd|seed=1" and history.epochs == 2
    with pytest.raises(ValueError, match="2 runs of 'test_report' match"):
        report.only(results, method="bp_sgd")
    with pytest.raises(ValueError, match="0 runs"):
        report.only(results, method="gtp")


def _history(values, metric="train_mse"):
    return History({metric: list(values)}, [0.0] * len(values), [{}] + [{"spread_1": v} for v in values[1:]])


def test_plateau_is_the_mean_relative_change_over_the_second_half():
    runs = [(None, _history([9.0, 4.0, 2.0, 1.0, 1.0])), (None, _history([9.0, 1.0, 1.0, 1.0, 0.5]))]
    # middle epochs 2: (2 - 1) / 2 and (1 - 0.5) / 1
    assert report.plateau(runs, "train_mse") == pytest.approx((0.5 + 0.5) / 2)
    # a rise counts negative, relative to the size of the middle value
    assert report.plateau([(None, _history([1.0, -2.0, -1.0]))], "train_mse") == pytest.approx(-0.5)


def test_probe_and_diagnostic_series_are_nan_where_absent():
    records = [{"epoch": 0, "angle_bp_1": 80.0}, {"epoch": 1, "angle_bp_1": 70.0, "on_1": 0.1}]
    np.testing.assert_array_equal(report.probe_series(records, "angle_bp_1"), [80.0, 70.0])
    np.testing.assert_array_equal(report.probe_series(records, "on_1"), [np.nan, 0.1])
    history = _history([3.0, 2.0, 1.0])
    history.diagnostics[2] = {}
    series = report.diagnostic_series(history, "spread_1")
    assert series.dtype == float and series.shape == (3,)
    np.testing.assert_array_equal(series, [np.nan, 2.0, np.nan])
