"""The study runner: atomic, resumable, fingerprinted, deterministic."""
import json

import numpy as np
import pytest

from tpnb.studies import core
from tpnb.studies.core import RunSpec, StudyResults, load, study

DATA = dict(name="linear_regression", n_train=64, n_test=32, n_inputs=3, n_outputs=2, noise=0.1, seed=1)


def _specs(quick, lr=0.1):
    return [RunSpec(key=f"bp|lr={lr}|seed={seed}", data=DATA, sizes=(3, 4, 2), activation="relu",
                    rule="backprop", rule_options=dict(lr=lr), epochs=2, batch_size=8, seed=seed)
            for seed in (0, 1)] + [
        RunSpec(key="exact", data=DATA, sizes=(3, 4, 2), activation="relu", rule="exact_tp",
                rule_options=dict(alpha=0.5), epochs=2, batch_size=16, seed=0),
        RunSpec(key="diverges", data=DATA, sizes=(3, 4, 2), activation="relu", rule="backprop",
                rule_options=dict(lr=1e6), epochs=5, batch_size=8, seed=0)]


@pytest.fixture
def tiny_study(tmp_path, monkeypatch):
    monkeypatch.setenv("TPNB_RESULTS_DIR", str(tmp_path))
    settings = {"lr": 0.1}
    name = "test_tiny_study"
    core.STUDIES.pop(name, None)
    study(name, 1, "unit-test study")(lambda quick: _specs(quick, settings["lr"]))
    yield name, tmp_path, settings
    core.STUDIES.pop(name, None)


def test_run_writes_every_run_and_reload_is_fresh(tiny_study):
    name, root, _ = tiny_study
    results = load(name, quick=False)
    assert results.path == root / f"{name}.json"
    stored = json.loads(results.path.read_text())
    assert set(stored["runs"]) == {s.key for s in results.specs}
    assert StudyResults(name, quick=False).stale == []
    assert results["exact"].epochs == 2


def test_quick_results_live_apart(tiny_study):
    name, root, _ = tiny_study
    assert load(name, quick=True).path == root / "quick" / f"{name}.json"


def test_diverging_run_is_recorded_not_raised(tiny_study):
    name, _, _ = tiny_study
    history = load(name, quick=False)["diverges"]
    assert history.diverged and 1 <= history.diverged_epoch <= 5


def test_changed_settings_make_results_stale(tiny_study):
    name, _, settings = tiny_study
    load(name, quick=False)
    settings["lr"] = 0.05
    stale = StudyResults(name, quick=False).stale
    assert {s.key for s in stale} == {"bp|lr=0.05|seed=0", "bp|lr=0.05|seed=1"}
    with pytest.raises(RuntimeError, match="missing or stale"):
        load(name, quick=False, recompute=False)


def test_changed_rule_code_changes_the_fingerprint(tiny_study, monkeypatch):
    name, _, _ = tiny_study
    spec = _specs(False)[0]
    before = core.fingerprint(spec, 1)
    monkeypatch.setattr(core, "_sources_hash", lambda rule: "other code")
    assert core.fingerprint(spec, 1) != before
    assert core.fingerprint(spec, 2) != core.fingerprint(spec, 1)


def test_docstring_edits_keep_the_code_hash(tmp_path):
    a, b, c = tmp_path / "a.py", tmp_path / "b.py", tmp_path / "c.py"
    a.write_text('def f(x):\n    """Old words."""\n    return x + 1  # comment\n')
    b.write_text('def f(x):\n    """New words."""\n    return x + 1\n')
    c.write_text('def f(x):\n    """Old words."""\n    return x + 2\n')
    assert core._code_hash(a) == core._code_hash(b) != core._code_hash(c)


def test_interrupted_study_resumes(tiny_study, monkeypatch):
    name, _, _ = tiny_study
    real_execute, calls = core.execute, []

    def flaky(spec, progress=False):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(spec.key)
        return real_execute(spec)

    monkeypatch.setattr(core, "execute", flaky)
    with pytest.raises(KeyboardInterrupt):
        StudyResults(name, quick=False).run(progress=False)
    partial = StudyResults(name, quick=False)
    assert len(partial.stale) == len(partial.specs) - 2          # two runs were saved
    monkeypatch.setattr(core, "execute", real_execute)
    assert partial.run(progress=False).stale == []


def test_same_seed_gives_identical_results(tiny_study, tmp_path, monkeypatch):
    name, root, _ = tiny_study
    first = load(name, quick=False)
    monkeypatch.setenv("TPNB_RESULTS_DIR", str(tmp_path / "again"))
    second = load(name, quick=False)
    for spec in first.specs:
        for metric, values in first[spec.key].metrics.items():   # bit-identical, NaN included
            np.testing.assert_array_equal(values, second[spec.key].metrics[metric])


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    path = tmp_path / "r.json"
    core.write_atomic(path, {"ok": 1})
    with pytest.raises(TypeError):
        core.write_atomic(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_unknown_study_and_duplicate_keys(tiny_study):
    with pytest.raises(ValueError, match="unknown study"):
        core.get_study("no_such_study")
    core.STUDIES.pop("test_dupes", None)
    study("test_dupes", 1)(lambda quick: _specs(quick)[:1] * 2)
    try:
        with pytest.raises(ValueError, match="duplicate run keys"):
            StudyResults("test_dupes", quick=False)
    finally:
        core.STUDIES.pop("test_dupes")


def test_validation_data_holds_out_the_end_of_the_training_set():
    spec = RunSpec(key="v", data={**DATA, "validation": 16}, sizes=(3, 2), activation="relu",
                   rule="backprop")
    full = core.dataset_for(RunSpec(key="f", data=DATA, sizes=(3, 2), activation="relu", rule="backprop"))
    held = core.dataset_for(spec)
    np.testing.assert_array_equal(held.x_test, full.x_train[-16:])
    assert len(held.x_train) == 64 - 16


def test_fingerprint_covers_the_rule_helpers_a_rule_imports():
    names = [p.name for p in core.rule_modules("exact_tp")]
    assert names == ["exact_tp.py", "targets.py"]


def test_final_study_refuses_stale_tuning_instead_of_training_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TPNB_RESULTS_DIR", str(tmp_path))          # no tuning results at all
    with pytest.raises(RuntimeError, match="teacher_tuning"):
        StudyResults("teacher_final", quick=True)
    assert not any(tmp_path.rglob("*.json"))
