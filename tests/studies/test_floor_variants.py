"""Tests for tpnb.studies.floor_variants: the variant's tuning on a validation split and its 2 x 2 factorial."""
import math
from types import SimpleNamespace

import pytest

from tpnb.studies import floor_variants as fv
from tpnb.train import History


def _tuned(options, batch=8):
    return SimpleNamespace(rule_options=options, batch_size=batch, key="784-256-256-10|pinv+mask|B=8")


@pytest.mark.parametrize("quick", [True, False])
def test_tuning_uses_a_validation_split_and_pinv_with_every_hidden_rule(quick):
    specs = fv.tuning_specs(quick)
    assert len({s.key for s in specs}) == len(specs) > 0
    assert all(s.rule_options["input_rule"] == "pinv" and "hidden_target" in s.rule_options for s in specs)
    assert all(s.data.get("validation", 0) > 0 for s in specs)        # the test split is never scored
    if not quick:
        assert {s.rule_options.get("threshold") for s in specs} == {*fv.THRESHOLDS, None}
        assert {s.batch_size for s in specs} == set(fv.BATCHES)


@pytest.mark.parametrize("hidden", [dict(hidden_target="mask"), dict(hidden_target="threshold", threshold=0.3)])
def test_the_factorial_cells_differ_from_their_neighbours_in_one_step(monkeypatch, hidden):
    monkeypatch.setattr(fv, "chosen", lambda quick: _tuned({**fv.BASE, "input_rule": "pinv", **hidden}))
    specs = fv.final_specs(False)
    options = {s.labels["cell"]: s.rule_options for s in specs if s.labels["seed"] == 0}
    averaging = {"input_rule": "pinv"}
    assert options["variant"] == {**options["seed"], **averaging, **hidden}
    assert options["pinv"] == {**options["seed"], **averaging}
    assert options["hidden_rule"] == {**options["seed"], **hidden}
    exact = [s for s in specs if s.rule == "exact_tp"]
    assert {s.batch_size for s in exact} == {8} and {s.epochs for s in specs} == {15}
    assert all(s.data == dict(name="fashion_mnist") and s.seed == s.labels["seed"] for s in specs)
    seeds = {c: sorted(s.seed for s in specs if s.labels["cell"] == c) for c in fv.CELLS}
    assert seeds == {"seed": [0, 1, 2], "pinv": [0, 1], "hidden_rule": [0, 1], "variant": [0, 1, 2],
                     "bp_sgd": [0, 1, 2]}
    assert {s.labels["cell"] for s in specs if s.keep_weights} == {"seed", "variant", "bp_sgd"}
    assert all(s.seed == 0 for s in specs if s.keep_weights)


def test_a_diverged_run_measures_nan():
    history = History({"train_mse": [1.0, math.inf], "test_acc": [0.1, 0.1]}, [0.0, 1.0], [{}, {}], 1)
    assert all(math.isnan(v) for v in fv.run_measures(history, [], {"train_mse": 1.0}).values())


def test_measures_of_a_run_read_its_last_probe():
    history = History({"train_mse": [2.0, 0.5], "test_acc": [0.1, 0.8]}, [0.0, 1.0], [{}, {}], None)
    probe = dict(linearity_r2=0.9, active_1=0.6, active_2=0.8, angle_bp_1=80.0)
    measures = fv.run_measures(history, [{}, probe], {"train_mse": 0.25})
    assert measures == dict(test_acc=0.8, loss_ratio=2.0, r2=0.9, active=pytest.approx(0.7), angle_bp_1=80.0)


def test_a_tuning_runs_hidden_rule_is_named_from_its_labels():
    names = [fv.hidden_name(s) for s in fv.tuning_specs(False)]
    assert [f"{fv.NETWORK}|pinv+{n}|B={s.batch_size}" for n, s in zip(names, fv.tuning_specs(False))] == \
        [s.key for s in fv.tuning_specs(False)]
