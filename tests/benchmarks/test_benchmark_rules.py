"""Tests for benchmarks.rules: the timing machinery (what it records, not how fast anything is)."""
import math

import numpy as np
import pytest

from benchmarks.rules import SPECS, Spec, as_dtype, peak_memory, time_spec
from tpnb.data.dataset import Dataset
from tpnb.rules import RULES
from tpnb.train import History

SIZES = [6, 8, 3]


def tiny_data(n=96):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n + 32, SIZES[0]))
    y = np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], n + 32)]
    return Dataset("tiny", x[:n], y[:n], x[n:], y[n:], "classification")


BASE = Spec("bp", SIZES, "relu", "backprop", dict(optimizer="sgd", lr=0.05), 16, baseline="bp")
RULE = Spec("etp", SIZES, "relu", "exact_tp", dict(alpha=0.5, diagnostics=False), 16, baseline="bp")


def test_every_spec_names_a_known_rule_and_an_existing_baseline():
    names = {s.name for s in SPECS}
    assert len(names) == len(SPECS)
    for spec in SPECS:
        assert spec.rule in RULES
        assert spec.baseline in names
        baseline = next(s for s in SPECS if s.name == spec.baseline)
        assert baseline.rule == "backprop" and baseline.batch == spec.batch
        assert baseline.sizes == spec.sizes


def test_paired_timing_records_every_epoch_and_the_median_ratio():
    row = time_spec(RULE, tiny_data(), epochs=3, warmup=True, baseline=BASE)
    assert row["epochs_timed"] == 3 and len(row["epoch_times_raw"]) == 3
    assert len(row["baseline_epoch_times_raw"]) == 3
    assert all(t > 0 for t in row["epoch_times_raw"] + row["baseline_epoch_times_raw"])
    ratios = [t / b for t, b in zip(row["epoch_times_raw"], row["baseline_epoch_times_raw"])]
    assert row["ratio"] == pytest.approx(float(np.median(ratios)))
    assert row["seconds_per_epoch"] == pytest.approx(float(np.median(row["epoch_times_raw"])))
    assert row["diverged_epoch"] is None and row["dtype"] == "float64"


def test_a_sample_limit_scales_the_figures_to_the_full_training_set():
    spec = Spec("etp", SIZES, "relu", "exact_tp", dict(alpha=0.5), 16, samples=32, baseline="bp")
    row = time_spec(spec, tiny_data(96), epochs=1, warmup=False)
    assert row["samples_timed"] == 32 and row["extrapolated"]
    assert row["seconds_per_epoch"] == pytest.approx(3 * row["epoch_times_raw"][0])
    assert row["ratio"] is None                                   # no baseline given


def test_a_diverging_run_gives_no_time_and_no_ratio():
    spec = Spec("bp_huge", SIZES, "relu", "backprop", dict(optimizer="sgd", lr=1e200), 16, baseline="bp")
    row = time_spec(spec, tiny_data(), epochs=2, warmup=False, baseline=BASE)
    assert row["diverged_epoch"] == 1
    assert math.isnan(row["seconds_per_epoch"]) and row["ratio"] is None


def test_float32_specs_train_a_float32_network_on_float32_data():
    data = tiny_data()
    cast = as_dtype(data, "float32")
    assert all(getattr(cast, k).dtype == np.float32 for k in ("x_train", "y_train", "x_test", "y_test"))
    assert as_dtype(data, "float64") is data
    spec = Spec("etp32", SIZES, "relu", "exact_tp", dict(alpha=0.5, diagnostics=False), 16, dtype="float32",
                baseline="bp")
    row = time_spec(spec, data, epochs=1, warmup=False, baseline=BASE)
    assert row["dtype"] == "float32" and row["ratio"] > 0
    assert spec.network.endswith("float32")


def test_peak_memory_is_measured_and_small_for_a_tiny_network():
    assert 0 < peak_memory(RULE, tiny_data(), max_steps=5) < 1.0


def test_a_run_diverging_after_some_epochs_gives_no_median(monkeypatch):
    # epoch times 1, 2, then NaN from the diverged epoch on: the median must not skip over the NaN
    import benchmarks.rules as rules

    class Scripted(rules.Runner):
        script = iter([1.0, 2.0, float("nan")])

        def epoch(self):
            self.diverged_epoch, self.history = 3, History()
            return next(self.script), 0.0

    monkeypatch.setattr(rules, "Runner", Scripted)
    row = time_spec(RULE, tiny_data(), epochs=3, warmup=False)
    assert math.isnan(row["seconds_per_epoch"]) and math.isnan(row["train_seconds"])
