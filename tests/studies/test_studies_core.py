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


def test_an_interrupted_run_resumes_from_its_checkpoint_bit_identically(tmp_path, monkeypatch):
    """The run is stopped (KeyboardInterrupt) right after its epoch-2 checkpoint; executing it again
    resumes there, gives the uninterrupted record's numbers and removes the checkpoint."""
    import tpnb.studies.core as core
    from tpnb.studies.core import RunSpec, execute
    spec = RunSpec(key="r", data=dict(name="two_spirals", n_train=60, n_test=20, seed=0), sizes=(2, 8, 8, 2),
                   activation=("relu", "tanh"), rule="dtpdrl", rule_options=dict(loss="cross_entropy"),
                   epochs=4, batch_size=16, seed=1, probe=4)
    whole = execute(spec)
    path = tmp_path / "run.pkl"
    real_train = core.train

    def interrupted_train(*args, checkpoint=None, **kwargs):
        def save_then_stop(epoch, *state):
            checkpoint(epoch, *state)
            if epoch == 2:
                raise KeyboardInterrupt
        return real_train(*args, checkpoint=save_then_stop, **kwargs)

    monkeypatch.setattr(core, "train", interrupted_train)
    with pytest.raises(KeyboardInterrupt):
        execute(spec, checkpoint=path)
    assert path.exists()
    monkeypatch.setattr(core, "train", real_train)
    resumed = execute(spec, checkpoint=path)
    assert not path.exists()
    assert resumed["history"]["metrics"] == whole["history"]["metrics"]
    assert resumed["probes"] == whole["probes"]


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
