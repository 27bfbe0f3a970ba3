"""Tests for benchmarks.rules: the timing machinery (what it records, not how fast anything is)."""
import math

import numpy as np
import pytest

import benchmarks.rules as rules
from benchmarks import gemm
from benchmarks.rules import (QUIET, SPECS, Probe, Spec, as_dtype, batch_stream, block_steps, peak_memory,
                              quiet_rounds, slow_state_specs, time_spec)
from tpnb.data.dataset import Dataset
from tpnb.network import MLP
from tpnb.rules import RULES, make_rule
from tpnb.train import train, train_steps

SIZES = [6, 8, 3]


def tiny_data(n=96):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n + 32, SIZES[0]))
    y = np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], n + 32)]
    return Dataset("tiny", x[:n], y[:n], x[n:], y[n:], "classification")


BASE = Spec("bp", SIZES, "relu", "backprop", dict(optimizer="sgd", lr=0.05), 64, baseline="bp")
RULE = Spec("etp", SIZES, "relu", "exact_tp", dict(alpha=0.5, diagnostics=False), 64, baseline="bp")


@pytest.fixture
def every_round_counts(monkeypatch):
    """Timings of a tiny network are noise: keep every round, so the bookkeeping is what is tested."""
    monkeypatch.setattr(rules, "QUIET", math.inf)


def test_every_spec_names_a_known_rule_and_an_existing_baseline():
    names = {s.name for s in SPECS}
    assert len(names) == len(SPECS)
    for spec in SPECS:
        assert spec.rule in RULES
        assert spec.baseline in names
        baseline = next(s for s in SPECS if s.name == spec.baseline)
        assert baseline.rule == "backprop" and baseline.batch == spec.batch
        assert baseline.sizes == spec.sizes


def test_every_spec_has_a_product_list_for_its_gemm_bound():
    for spec in SPECS:
        shapes = gemm.rule_shapes(spec.rule, spec.sizes, spec.batch, spec.options, spec.feedback_epoch)
        assert shapes and gemm.macs(shapes) > 0, spec.name


def test_train_steps_is_the_training_loops_inner_part():
    """train() is train_steps over the epoch's batches: the same steps give the same weights."""
    data = tiny_data()
    a, b = MLP(SIZES, seed=0), MLP(SIZES, seed=0)
    train(a, make_rule("backprop", lr=0.05), data, epochs=1, batch_size=16, seed=0)
    order = np.random.default_rng([0, 1]).permutation(len(data.x_train))
    sums = {}
    steps, finite = train_steps(b, make_rule("backprop", lr=0.05), data.x_train, data.y_train,
                                (order[i:i + 16] for i in range(0, 96, 16)), sums)
    assert (steps, finite) == (6, True) and sorted(sums) == ["grad_norm_1", "grad_norm_2"]
    for wa, wb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(wa, wb)


def test_train_steps_stops_after_the_step_that_breaks_the_weights():
    data = tiny_data()
    with np.errstate(all="ignore"):
        steps, finite = train_steps(MLP(SIZES, seed=0), make_rule("backprop", lr=1e300), data.x_train, data.y_train,
                                    [np.arange(16)] * 10, {})
    assert not finite and steps < 10


def test_batch_stream_walks_the_epochs_of_the_training_loop():
    stream = batch_stream(10, 4)
    batches = [next(stream) for _ in range(6)]
    assert [len(b) for b in batches] == [4, 4, 2, 4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(batches[:3]), np.random.default_rng([0, 1]).permutation(10))
    np.testing.assert_array_equal(np.concatenate(batches[3:]), np.random.default_rng([0, 2]).permutation(10))


def test_block_steps_cover_about_block_times_64_samples():
    assert block_steps(20, 64) == block_steps(20, 128) == 20
    assert block_steps(20, 1) == 1280 and block_steps(20, 16) == 80


def test_quiet_rounds_keep_the_rounds_where_every_block_is_near_its_fastest():
    rounds = [{"rule": (1.0, 0.0), "rule_gemm": (0.5, 0.0)}, {"rule": (1.1, 0.1), "rule_gemm": (0.55, 0.0)},
              {"rule": (1.0, 0.0), "rule_gemm": (1.2, 0.0)}, {"rule": (3.0, 0.0), "rule_gemm": (0.5, 0.0)}]
    assert quiet_rounds(rounds) == rounds[:2]          # 1.1 + 0.1 <= 1.25 x 1.0; 1.2 and 3.0 are not


def test_quiet_rounds_compare_the_probe_with_the_fastest_of_the_whole_run():
    rounds = [{"rule": (1.0, 0.0), "probe": (2.0, 0.0)}, {"rule": (1.0, 0.0), "probe": (2.2, 0.0)}]
    assert quiet_rounds(rounds) == rounds                       # among themselves both are fast
    assert quiet_rounds(rounds, probe_fastest=1.0) == []        # the run has seen a probe twice as fast
    assert quiet_rounds(rounds, probe_fastest=1.7) == rounds[:1]


def test_benchmarks_whose_probe_was_slow_against_the_runs_fastest_are_named_for_a_rerun():
    rows = {"bp": {"probe_seconds": 1.0}, "etp": {"probe_seconds": 1.3}, "none": {"probe_seconds": None}}
    none = Spec("none", SIZES, "relu", "gnt", {}, 64)
    assert slow_state_specs([BASE, RULE, none], rows, probe_fastest=1.0) == [RULE]   # 1.3 > QUIET x 1.0
    assert slow_state_specs([BASE, RULE, none], rows, probe_fastest=1.3 / QUIET) == []
    assert slow_state_specs([BASE, RULE], {"bp": rows["bp"]}, probe_fastest=0.1) == [BASE]  # not yet timed: no


def test_every_round_times_the_shared_probe(every_round_counts):
    probe = Probe()
    row = time_spec(RULE, tiny_data(), pairs=2, block=2, warmup=0, baseline=BASE, probe=probe)
    assert all("probe" in r for r in row["rounds_raw"]) and row["probe_seconds"] >= probe.fastest > 0


def test_paired_timing_records_every_pair_and_the_median_ratios(every_round_counts):
    row = time_spec(RULE, tiny_data(), pairs=4, block=3, warmup=1, baseline=BASE)
    assert row["pairs"] == row["rounds"] == 4 and row["block_steps"] == 3
    rule, base = np.array(row["block_times_raw"]), np.array(row["baseline_block_times_raw"])
    rule_gemm = np.array(row["gemm_block_times_raw"])
    assert len(rule) == len(base) == len(rule_gemm) == 4 and np.all(rule > 0) and np.all(base > 0)
    assert row["ratio"] == pytest.approx(float(np.median(rule / base)))
    assert row["gemm_fraction"] == pytest.approx(float(np.median(rule_gemm / rule)))
    spread = row["ratio_spread"]
    assert spread["range"][0] <= spread["iqr"][0] <= row["ratio"] <= spread["iqr"][1] <= spread["range"][1]
    assert len(spread["halves"]) == 2 and row["gemm_ratio"] > 0 and row["baseline_gemm_fraction"] > 0
    # per epoch: the median block, per step, times the full set's steps (96 samples at batch 64)
    assert row["seconds_per_epoch"] == pytest.approx(float(np.median(rule)) / 3 * 96 / 64)
    assert row["gemm_bound_seconds"] == pytest.approx(float(np.median(rule_gemm)) / 3 * 96 / 64)
    assert not row["diverged"] and row["dtype"] == "float64"


def test_a_rule_without_a_product_list_has_no_gemm_figures(every_round_counts):
    spec = Spec("etp_pinv", SIZES, "relu", "exact_tp", dict(alpha=0.5, input_rule="pinv"), 64, baseline="bp")
    row = time_spec(spec, tiny_data(), pairs=2, block=2, warmup=0, baseline=BASE)
    assert row["ratio"] > 0 and row["gemm_ratio"] is None and row["gemm_fraction"] is None
    assert row["baseline_gemm_fraction"] > 0


def test_a_sample_limit_scales_the_figures_to_the_full_training_set(every_round_counts):
    spec = Spec("etp", SIZES, "relu", "exact_tp", dict(alpha=0.5), 16, samples=32, baseline="bp")
    row = time_spec(spec, tiny_data(96), pairs=2, block=5, warmup=0)
    assert row["samples_timed"] == 32 and row["extrapolated"] and row["block_steps"] == 20
    assert row["seconds_per_epoch"] == pytest.approx(float(np.median(row["block_times_raw"])) / 20 * 96 / 16)
    assert row["ratio"] is None and row["gemm_fraction"] > 0          # no baseline given


def test_a_diverging_run_gives_no_time_and_no_ratio(every_round_counts):
    spec = Spec("bp_huge", SIZES, "relu", "backprop", dict(optimizer="sgd", lr=1e200), 16, baseline="bp")
    row = time_spec(spec, tiny_data(), pairs=3, block=2, warmup=0, baseline=BASE)
    assert row["diverged"]
    assert math.isnan(row["seconds_per_epoch"]) and row["ratio"] is None and row["gemm_fraction"] is None


def test_a_run_diverging_after_some_blocks_gives_no_median(monkeypatch, every_round_counts):
    # block times 1, 2, then NaN from the block in which the weights broke: the median must not skip the NaN
    script = iter([1.0, 2.0, float("nan")])

    def block(self, batches):
        seconds = next(script)
        self.diverged = math.isnan(seconds)
        return seconds, 0.0

    monkeypatch.setattr(rules.Runner, "block", block)
    row = time_spec(RULE, tiny_data(), pairs=3, block=2, warmup=0)
    assert row["diverged"] and math.isnan(row["seconds_per_epoch"]) and math.isnan(row["train_seconds"])


def test_float32_specs_train_a_float32_network_on_float32_data(every_round_counts):
    data = tiny_data()
    cast = as_dtype(data, "float32")
    assert all(getattr(cast, k).dtype == np.float32 for k in ("x_train", "y_train", "x_test", "y_test"))
    assert as_dtype(data, "float64") is data
    spec = Spec("etp32", SIZES, "relu", "exact_tp", dict(alpha=0.5, diagnostics=False), 16, dtype="float32",
                baseline="bp")
    row = time_spec(spec, data, pairs=2, block=2, warmup=0, baseline=BASE)
    assert row["dtype"] == "float32" and row["ratio"] > 0
    assert spec.network.endswith("float32")


def test_a_feedback_epoch_spec_times_a_feedback_block_with_every_training_block(every_round_counts):
    spec = Spec("ddtp", [6, 8, 8, 3], "tanh", "ddtp_linear", dict(beta=0.5, angles=False), 16, baseline="bp",
                feedback_epoch=True)
    row = time_spec(spec, tiny_data(), pairs=2, block=2, warmup=0)
    assert all(f > 0 for f in row["feedback_block_times_raw"])
    assert row["feedback_epoch_seconds"] > 0 and row["train_seconds"] > 0


def test_peak_memory_is_measured_and_small_for_a_tiny_network():
    assert 0 < peak_memory(RULE, tiny_data(), max_steps=5) < 1.0
