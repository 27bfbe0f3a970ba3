"""Tests for tpnb.studies.protocols: the seeds' protocol tables from stored runs."""
import math

import numpy as np
import pytest

from tpnb.studies.core import RunSpec
from tpnb.studies.protocols import (best_validation_rows, equivalence_rows, final_accuracy_rows,
                                    hidden_mean_series, layer_values, trajectory_gap, within_seed_noise)
from tpnb.studies.report import seed_stats
from tpnb.train import History


class FakeResults:
    """The two things the tables read of a StudyResults: select(**labels) and records[key]."""

    def __init__(self, runs):
        self.runs = runs                      # [(spec, history, probes)]
        self.records = {spec.key: {"probes": probes} for spec, _, probes in runs}

    def select(self, **labels):
        return [(s, h) for s, h, _ in self.runs if all(s.labels.get(k) == v for k, v in labels.items())]


def spec(key, sizes=(2, 2), **labels):
    return RunSpec(key=key, data={}, sizes=sizes, activation="relu", rule="backprop", epochs=4, labels=labels)


def history(val, test, stopped=None, diverged=None):
    return History(metrics={"val_acc": val, "test_acc": test}, epoch_time=[0.0] + [2.0] * (len(val) - 1),
                   stopped_epoch=stopped, diverged_epoch=diverged)


def test_seed_stats_count_the_diverged_runs_apart():
    stats = seed_stats([0.8, 0.9, math.nan])
    assert stats["mean"] == pytest.approx(0.85) and stats["std"] == pytest.approx(0.05)
    assert stats["n"] == 2 and stats["diverged"] == 1


def test_best_validation_rows_report_the_test_accuracy_at_the_best_validation_epoch():
    # three layers: the hidden layers' mean (layers 1 and 2) leaves out the output layer (3)
    early = {"raw_angle_bp_1": 80.0, "raw_angle_bp_2": 60.0, "raw_angle_bp_3": 0.0}
    late = {"raw_angle_bp_1": 10.0, "raw_angle_bp_2": 30.0, "raw_angle_bp_3": 5.0}
    probes = [early] * 3 + [late]
    sizes = (2, 2, 2, 2)
    runs = [(spec("a0", sizes, method="a", seed=0),
             history([0.1, 0.5, 0.7, 0.6], [0.1, 0.4, 0.65, 0.7], stopped=3), probes),
            (spec("a1", sizes, method="a", seed=1), history([0.1, 0.6, 0.5, 0.8], [0.1, 0.5, 0.5, 0.75]), probes),
            (spec("b0", sizes, method="b", seed=0), history([0.1, 0.2], [0.1, math.nan], diverged=1), [])]
    rows = best_validation_rows(FakeResults(runs), ["a", "b", "missing"], early_epoch=1)
    assert [r["method"] for r in rows] == ["a", "b"]
    a, b = rows
    assert a["acc"]["mean"] == pytest.approx((0.65 + 0.75) / 2) and a["best_epoch"] == pytest.approx(2.5)
    assert a["best_epochs"] == [2, 3] and a["acc_early"]["mean"] == pytest.approx(0.45)
    assert a["stopped_early"] == 1 and a["epochs"] == [3, 3] and a["seconds_per_epoch"] == 2.0
    assert a["raw_angle_bp"] == pytest.approx((70.0 + 20.0) / 2)     # hidden-layer mean at epochs 2 and 3
    assert a["raw_angle_bp_layers"] == pytest.approx([45.0, 45.0, 2.5])
    assert math.isnan(a["raw_angle_gnt"]) and all(map(math.isnan, a["raw_angle_gnt_layers"]))
    assert b["acc"]["diverged"] == 1 and math.isnan(b["acc"]["mean"])
    assert b["acc_early"]["diverged"] == 1 and math.isnan(b["raw_angle_bp"])


def test_final_accuracy_rows_group_seeds_by_network():
    labels = dict(role="table", published=0.87, tau=100.0, eta=0.01, steps=1)
    runs = [(spec(f"n{s}", network="784-100-10", seed=s, **labels), history([0.0] * 3, [0.1, 0.8, 0.84 + s / 100]), [])
            for s in range(3)]
    runs.append((spec("other", network="784-100-10", seed=0, **dict(labels, role="init")), history([0.0], [0.5]), []))
    (row,) = final_accuracy_rows(FakeResults(runs), role="table")
    assert row["network"] == "784-100-10" and row["published"] == 0.87 and row["acc"]["n"] == 3
    assert row["sizes"] == (2, 2)                       # the runs' own sizes (spec() above)
    assert row["acc"]["mean"] == pytest.approx(0.85)


def test_trajectory_gap_is_the_largest_relative_difference():
    a, b = History(metrics={"train_mse": [1.0, 0.5, 0.25]}), History(metrics={"train_mse": [1.0, 0.5, 0.2]})
    assert trajectory_gap(a, b) == pytest.approx(0.25)
    assert trajectory_gap(b, b) == 0.0


def test_hidden_mean_series_averages_the_hidden_layers_of_each_epoch():
    records = [{"raw_angle_bp_1": 80.0, "raw_angle_bp_2": 60.0, "raw_angle_bp_3": 1.0, "angle_bp_1": 5.0},
               {"raw_angle_bp_1": 10.0}, {}]
    series = hidden_mean_series(records, "raw_angle_bp", layers=3)
    assert series[:2].tolist() == [70.0, 10.0] and math.isnan(series[2])
    assert layer_values(records, "angle_bp", 0, 3)[0] == 5.0
    assert np.isnan(layer_values(records, "angle_bp", 7, 3)).all()       # an epoch without a record


def test_equivalence_rows_pair_each_backprop_run_with_its_gtp_run():
    """The backprop run with per-layer rates is compared with the GTP run of its network, init and seed
    (not another seed's), with chapter 7's predicted rates eta tau^(L - l)."""
    labels = dict(network="784-100-100-10", init="printed", tau=25.0, eta=0.0005)

    def run(key, role, seed, mse, acc):
        s = RunSpec(key=key, data={}, sizes=(784, 100, 100, 10), activation="relu", rule="gtp", epochs=2,
                    labels=dict(labels, role=role, seed=seed))
        return s, History(metrics={"train_mse": mse, "test_acc": acc}, epoch_time=[0.0, 1.0, 1.0]), []

    runs = [run("g0", "table", 0, [1.0, 0.5, 0.25], [0.1, 0.8, 0.85]),
            run("g1", "table", 1, [1.0, 0.9, 0.9], [0.1, 0.2, 0.2]),
            run("b0", "equivalence", 0, [1.0, 0.5, 0.2], [0.1, 0.8, 0.86])]
    (row,) = equivalence_rows(FakeResults(runs))
    assert row["rates"] == pytest.approx([0.0005 * 25.0 ** 2, 0.0005 * 25.0, 0.0005])
    assert row["gtp_acc"] == 0.85 and row["bp_acc"] == 0.86 and row["epochs"] == 2
    assert row["gap_mse"] == pytest.approx(0.25) and row["gap_acc"] == pytest.approx(0.01 / 0.86)
    assert row["gaps_mse"].tolist() == pytest.approx([0.0, 0.0, 0.25])


def test_within_seed_noise_compares_the_gap_with_its_standard_error():
    a = seed_stats([0.885, 0.884, 0.883])              # mean 0.884, std sqrt(2/3) 1e-3
    assert within_seed_noise(a, seed_stats([0.886, 0.885, 0.884]))             # 1e-3 apart: 1.2 errors
    assert not within_seed_noise(a, seed_stats([0.870, 0.869, 0.868]))         # 18 errors
    assert within_seed_noise(a, seed_stats([0.88])) is None                   # one seed: no spread

