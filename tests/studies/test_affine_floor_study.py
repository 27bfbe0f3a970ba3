"""Tests for tpnb.studies.affine_floor: the causal test changes one step at a time, everything else equal."""
import math

import pytest

from tpnb.studies import affine_floor as af, get_study
from tpnb.train import History

STEP_OPTIONS = {"hidden_target", "threshold", "input_rule", "output_target", "beta"}


@pytest.mark.parametrize("quick", [True, False])
def test_every_variant_changes_only_the_steps_its_labels_name(quick):
    specs = get_study("affine_floor").build(quick)
    assert len({s.key for s in specs}) == len(specs)
    seeds = {(s.labels["problem"], s.labels["seed"]): s for s in specs if s.labels["variant"] == "seed"}
    for spec in specs:
        seed = seeds[(spec.labels["problem"], spec.labels["seed"])]
        # same data, network, schedule and seed (so the same initial weights and data order)
        assert (spec.data, spec.sizes, spec.epochs, spec.batch_size, spec.seed, spec.init, spec.probe) == \
            (seed.data, seed.sizes, seed.epochs, seed.batch_size, seed.seed, seed.init, seed.probe)
        if spec.labels["method"] != "exact_tp":
            continue
        labels = spec.labels
        changed = {k: v for k, v in spec.rule_options.items() if seed.rule_options.get(k) != v}
        assert set(changed) <= STEP_OPTIONS and set(seed.rule_options) <= set(spec.rule_options)
        assert changed.get("hidden_target", "seed") == (labels["hidden"] if labels["hidden"] != "inverse" else "seed")
        assert changed.get("threshold") == labels["threshold"]
        assert changed.get("input_rule", "mean") == labels["averaging"]
        assert changed.get("output_target", "label") == labels["output"]
        assert spec.activation == labels["activation"]
        assert (labels["hidden"] == "inverse") == (spec.activation != "relu")


def test_the_seed_variant_is_the_seed_rule_with_switch_counts():
    seed = next(s for s in get_study("affine_floor").build(True) if s.labels["variant"] == "seed")
    assert seed.activation == "relu"
    assert seed.rule_options == dict(alpha=0.5, eta=1.0, cap=2.0, margin=0.0, diagnostics=True, count_switches=True)


def test_run_measures_reads_the_probes_and_diagnostics_and_gives_nan_for_a_diverged_run():
    probes = [{"linearity_r2": 0.5, "active_1": 0.5, "active_2": 0.5},
              {"linearity_r2": 0.9, "active_1": 0.8, "active_2": 0.7, "on_1": 0.1, "off_1": 0.01, "on_2": 0.2,
               "off_2": 0.02}]
    diagnostics = [{}, {"switch_on_1": 0.3, "switch_off_1": 0.0, "switch_on_2": 0.4, "switch_off_2": 0.1}]
    history = History({"train_mse": [2.0, 1.0], "test_mse": [3.0, 1.5]}, [0.0, 1.0], diagnostics, None)
    floor = {"train_mse": 0.5, "test_mse": 1.0}
    m = af.run_measures(history, probes, floor, "regression")
    assert (m["loss_ratio"], m["test_ratio"], m["test_score"], m["r2"]) == (2.0, 1.5, 1.5, 0.9)
    assert (m["active_1"], m["on_2"], m["switch_on_2"], m["switch_off_1"]) == (0.8, (0.2, 0.2), (0.4, 0.4), (0.0, 0.0))
    diverged = History({"train_mse": [2.0, math.inf], "test_mse": [3.0, math.inf]}, [0.0, 1.0], diagnostics, 1)
    m = af.run_measures(diverged, probes[:1], floor, "regression")
    assert all(math.isnan(v) if isinstance(v, float) else all(map(math.isnan, v)) for v in m.values())


@pytest.mark.parametrize("quick", [True, False])
def test_map_variants_differ_from_the_atlas_seed_cells_only_in_their_options(quick):
    """affine_floor_map's runs are atlas_variants' "seed" runs (same problem, cell, seed, network, schedule)
    with the variant's options added, so the two maps compare cell by cell."""
    seeds = {(s.labels["problem"], s.labels["batch"], s.labels["eta"], s.labels["seed"]): s
             for s in get_study("atlas_variants").build(quick) if s.labels["variant"] == "seed"}
    specs = get_study("affine_floor_map").build(quick)
    assert {s.labels["variant"] for s in specs} == set(af.MAP_VARIANTS)
    for spec in specs:
        seed = seeds[(spec.labels["problem"], spec.labels["batch"], spec.labels["eta"], spec.labels["seed"])]
        assert (spec.data, spec.sizes, spec.activation, spec.epochs, spec.batch_size, spec.seed) == \
            (seed.data, seed.sizes, seed.activation, seed.epochs, seed.batch_size, seed.seed)
        assert spec.rule_options == {**seed.rule_options, **af.MAP_VARIANTS[spec.labels["variant"]]}
