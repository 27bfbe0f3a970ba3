"""Run specifications, the study registry, atomic writes and the runs' data."""
import json

import numpy as np
import pytest

from tpnb.studies import core
from tpnb.studies.core import RunSpec, study

from tiny import DATA, tiny_specs


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    path = tmp_path / "r.json"
    core.write_atomic(path, {"ok": 1})
    with pytest.raises(TypeError):
        core.write_atomic(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_unknown_study_and_undeclared_dependency():
    with pytest.raises(ValueError, match="unknown study 'no_such_study'"):
        core.get_study("no_such_study")
    with pytest.raises(ValueError, match="depends on unregistered studies"):
        study("test_bad_dep", 1, depends=("no_such_study",))(lambda quick: [])
    assert "test_bad_dep" not in core.STUDIES


def test_validation_data_holds_out_the_end_of_the_training_set():
    spec = RunSpec(key="v", data={**DATA, "validation": 16}, sizes=(3, 2), activation="relu",
                   rule="backprop")
    full = core.dataset_for(RunSpec(key="f", data=DATA, sizes=(3, 2), activation="relu", rule="backprop"))
    held = core.dataset_for(spec)
    np.testing.assert_array_equal(held.x_test, full.x_train[-16:])
    assert len(held.x_train) == 64 - 16


def test_execute_records_history_spec_and_labels():
    spec = tiny_specs()[0]
    record = core.execute(spec)
    assert record["spec"]["labels"] == {"method": "bp", "seed": 0}
    assert len(record["history"]["metrics"]["train_mse"]) == spec.epochs + 1
    assert record["wall_time"] > 0


def test_declared_dependencies_of_the_book_studies():
    assert core.get_study("verdict_final").depends == ("atlas_variants",)
    assert core.get_study("side_by_side").depends == ("side_gtp_tuning",)
    assert core.get_study("teacher_final").depends == ("teacher_tuning",)


SPIRALS = dict(name="two_spirals", n_train=60, n_test=20, seed=0)
BEHAVIOUR = {"train_mse": [0.5, 0.25], "angle_bp_1": [12.0]}     # a canary signature (Signature.to_dict())
# one run of every rule family (their checkpoints must have the layout today's classes make, or they
# would never resume): rule, options, activation
RESUMABLE = {
    "dtpdrl": ("dtpdrl", dict(loss="cross_entropy"), ("relu", "tanh")),
    "ddtp_rhl": ("ddtp_rhl", dict(loss="cross_entropy", pretrain_epochs=1), "tanh"),
    "backprop_adam": ("backprop", dict(optimizer="adam", lr=1e-3), "relu"),
    "exact_tp": ("exact_tp", dict(alpha=0.5), "relu"),
    "gtp": ("gtp", dict(tau=0.5, steps=2, lr=0.1), "sigmoid"),
    "dfa": ("dfa", dict(lr=0.1), "tanh"),
    "random_direction_tp": ("random_direction_tp", dict(), "leaky_relu"),
}


def _spec(name):
    rule, options, activation = RESUMABLE[name]
    return RunSpec(key="r", data=SPIRALS, sizes=(2, 8, 8, 2), activation=activation, rule=rule,
                   rule_options=options, epochs=4, batch_size=16, seed=1, probe=4)


def _interrupt_after_epoch_2(spec, path, monkeypatch, behaviour=BEHAVIOUR):
    """Execute ``spec`` with checkpoint ``path`` and stop it (KeyboardInterrupt) right after its epoch-2
    checkpoint, as a killed runner would."""
    real_train = core.train

    def interrupted_train(*args, checkpoint=None, **kwargs):
        def save_then_stop(epoch, *state):
            checkpoint(epoch, *state)
            if epoch == 2:
                raise KeyboardInterrupt
        return real_train(*args, checkpoint=save_then_stop, **kwargs)

    monkeypatch.setattr(core, "train", interrupted_train)
    with pytest.raises(KeyboardInterrupt):
        core.execute(spec, checkpoint=path, behaviour=behaviour)
    monkeypatch.setattr(core, "train", real_train)
    assert path.exists()


def _mark(path):
    """Write a marker into the checkpoint's history (epoch 0's training loss): a run that resumes from the
    checkpoint carries it into its record, a run that starts afresh does not."""
    import pickle
    payload = pickle.loads(path.read_bytes())
    payload["state"][3].metrics["train_mse"][0] = -1.0
    core.write_pickle_atomic(path, payload)
    return payload


@pytest.mark.parametrize("name", sorted(RESUMABLE))
def test_an_interrupted_run_resumes_from_its_checkpoint_bit_identically(name, tmp_path, monkeypatch):
    """Every rule's run, stopped right after its epoch-2 checkpoint, resumes there when executed again (the
    marker shows it resumed), gives the uninterrupted record's numbers after epoch 2 and removes the file."""
    spec = _spec(name)
    whole = core.execute(spec)
    path = tmp_path / "run.pkl"
    _interrupt_after_epoch_2(spec, path, monkeypatch)
    _mark(path)
    resumed = core.execute(spec, checkpoint=path, behaviour=BEHAVIOUR)
    assert not path.exists()
    assert resumed["history"]["metrics"]["train_mse"][0] == -1.0                     # it resumed
    for metric, values in whole["history"]["metrics"].items():
        assert resumed["history"]["metrics"][metric][1:] == values[1:], metric
    assert resumed["probes"] == whole["probes"]


def _scaled(behaviour, factor):
    return {name: [v * factor for v in values] for name, values in behaviour.items()}


@pytest.mark.parametrize("change, resumes", [
    ("rounding", True),             # a canary 1e-12 apart: code that behaves the same (another CPU's BLAS)
    ("behaviour", False),           # a canary 1e-6 apart: code that computes something else
    ("no_behaviour", False),        # written without a signature, read with one
    ("extra_attribute", False),     # a pickled object with an attribute today's class does not set
    ("missing_attribute", False),   # ... without one it sets
    ("garbage", False),             # a file that does not unpickle
    ("old_format", False),          # the state tuple alone (checkpoints before behaviour was stored)
])
def test_a_checkpoint_resumes_only_under_code_that_behaves_the_same(change, resumes, tmp_path, monkeypatch):
    """read_checkpoint accepts a checkpoint written under a canary signature that matches today's within
    rounding, by objects of today's layout; anything else starts the run afresh (and gives its numbers)."""
    import pickle
    spec = _spec("backprop_adam")
    whole = core.execute(spec)
    path = tmp_path / "run.pkl"
    _interrupt_after_epoch_2(spec, path, monkeypatch, behaviour=None if change == "no_behaviour" else BEHAVIOUR)
    payload = _mark(path)
    behaviour = {"rounding": _scaled(BEHAVIOUR, 1 + 1e-12), "behaviour": _scaled(BEHAVIOUR, 1 + 1e-6)}.get(
        change, BEHAVIOUR)
    rule = payload["state"][1]
    if change == "extra_attribute":
        rule.optimizer.obsolete = 1
    elif change == "missing_attribute":
        del rule.optimizer.eps_corrected
    if change in ("extra_attribute", "missing_attribute"):
        core.write_pickle_atomic(path, payload)
    elif change == "garbage":
        path.write_bytes(b"not a pickle")
    elif change == "old_format":
        path.write_bytes(pickle.dumps(payload["state"]))
    record = core.execute(spec, checkpoint=path, behaviour=behaviour)
    assert (record["history"]["metrics"]["train_mse"][0] == -1.0) == resumes
    if not resumes:
        assert record["history"]["metrics"] == whole["history"]["metrics"]
    assert not path.exists()


def test_object_layout_names_classes_and_attributes_not_values():
    """A network and rule before training and after it have one layout (arrays fill in, records grow)."""
    from tpnb.studies.core import object_layout
    spec = _spec("backprop_adam")
    fresh = (spec.make_network(), core.make_rule(spec.rule, **spec.rule_options))
    record_before = object_layout(fresh)
    net, rule = fresh
    x, y = core.dataset_for(spec).x_train[:16], core.dataset_for(spec).y_train[:16]
    rule.step(net, x, y)
    assert object_layout((net, rule)) == record_before
    assert record_before[1][0] == "Backprop" and "optimizer" in record_before[1][1]
    assert record_before[1][1]["optimizer"][0] == "Adam"


def test_early_stopping_and_a_validation_set_are_settings_of_a_run():
    from tpnb.studies.core import RunSpec, dataset_for
    from tpnb.studies.freshness import settings_hash
    data = dict(name="two_spirals", n_train=60, n_test=20, seed=0)
    plain = RunSpec(key="r", data=data, sizes=(2, 4, 2), activation="relu", rule="backprop")
    stopping = RunSpec(key="r", data={**data, "validation_set": 10}, sizes=(2, 4, 2), activation="relu",
                       rule="backprop", patience=3)
    assert settings_hash(plain, 1) != settings_hash(stopping, 1)
    held = dataset_for(stopping)
    assert len(held.x_val) == 10 and len(held.x_train) == 50 and len(held.x_test) == 20


def test_affine_metrics_are_the_least_squares_fit_once_per_data():
    """Two runs on the same data share one fit (a chapter quoting the affine model twice fits it once)."""
    from tpnb.baselines import least_squares
    specs = tiny_specs()
    core._affine_metrics.cache_clear()
    first = core.affine_metrics(specs[0])
    assert first == least_squares(core.dataset_for(specs[0]))[1]
    assert core.affine_metrics(specs[1]) == first
    assert core._affine_metrics.cache_info().hits == 1 and core._affine_metrics.cache_info().misses == 1
    first["test_mse"] = -1.0                                  # a caller's copy: the cache keeps its own
    assert core.affine_metrics(specs[0])["test_mse"] != -1.0
