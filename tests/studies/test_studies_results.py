"""Cached results: what load() returns, never trains in full mode, and damaged files named."""
import json

import numpy as np
import pytest

from tpnb.studies import core
from tpnb.studies.results import (ResultsFileError, StaleResultsError, StudyResults, fresh_results, load,
                                   train_signed)
from tpnb.studies.runner import run_studies


def test_load_trains_in_quick_mode_and_reload_is_fresh(tiny_study):
    name, root, _ = tiny_study
    results = load(name, quick=True)
    assert results.path == root / "quick" / f"{name}.json"
    stored = json.loads(results.path.read_text())
    assert set(stored["runs"]) == {s.key for s in results.specs}
    assert StudyResults(name, quick=True).stale == []
    assert results["exact"].epochs == 2


def test_full_mode_never_trains(tiny_study):
    name, root, _ = tiny_study
    with pytest.raises(StaleResultsError, match=rf"study '{name}': 4 of 4 runs missing .*"
                                                rf"python -m tpnb\.studies run {name}"):
        load(name, quick=False)
    assert not any(root.rglob("*.json"))


def test_diverging_run_is_recorded_not_raised(tiny_study):
    name, _, _ = tiny_study
    history = load(name, quick=True)["diverges"]
    assert history.diverged and 1 <= history.diverged_epoch <= 5


def test_changed_settings_make_exactly_those_runs_stale(tiny_study):
    name, _, settings = tiny_study
    run_studies([name], quick=False, progress=False)
    settings["lr"] = 0.05
    verdicts = StudyResults(name, quick=False).verdicts()
    assert {v.spec.key: v.reason for v in verdicts if not v.fresh} == {
        "bp|lr=0.05|seed=0": "missing", "bp|lr=0.05|seed=1": "missing"}


def test_renamed_runs_and_new_labels_stay_fresh(tiny_study):
    name, _, _ = tiny_study
    run_studies([name], quick=False, progress=False)
    results = StudyResults(name, quick=False)
    spec = results.specs[2]
    renamed = core.RunSpec(**{**spec.__dict__, "labels": {"method": "exact", "new": 1}})
    assert results.verdict(renamed).fresh


def test_select_by_labels(tiny_study):
    name, _, _ = tiny_study
    results = load(name, quick=True)
    assert [s.key for s, _ in results.select(method="bp")] == ["bp|lr=0.1|seed=0", "bp|lr=0.1|seed=1"]
    assert [s.key for s, _ in results.select(method="bp", seed=1)] == ["bp|lr=0.1|seed=1"]
    assert results.select(method="none") == []


def test_same_seed_gives_identical_results(tiny_study, tmp_path, monkeypatch):
    name, _, _ = tiny_study
    first = load(name, quick=True)
    monkeypatch.setenv("TPNB_RESULTS_DIR", str(tmp_path / "again"))
    second = load(name, quick=True)
    for spec in first.specs:
        for metric, values in first[spec.key].metrics.items():   # bit-identical, NaN included
            np.testing.assert_array_equal(values, second[spec.key].metrics[metric])


@pytest.mark.parametrize("content, problem", [
    ('{"runs": {"a": ', "not valid JSON"),
    ("{}", "no 'runs' table"),
    ('{"runs": {}}', "results format None"),
    ('{"format": 2, "runs": {"exact": {"spec": {}, "history": {}}}}', "run 'exact' has no settings"),
])
def test_damaged_file_is_named_with_what_to_do(tiny_study, content, problem):
    name, root, _ = tiny_study
    path = root / f"{name}.json"
    path.write_text(content)
    with pytest.raises(ResultsFileError) as err:
        load(name, quick=False)
    assert str(path) in str(err.value) and problem in str(err.value)
    assert f"python -m tpnb.studies run {name}" in str(err.value)


def test_run_sets_a_damaged_file_aside_and_rebuilds_it(tiny_study):
    name, root, _ = tiny_study
    (root / f"{name}.json").write_text("{}")
    report = run_studies([name], quick=False, progress=False)
    assert report.set_aside == [str(root / f"{name}.json.damaged")]
    assert (root / f"{name}.json.damaged").read_text() == "{}"
    assert fresh_results(name, quick=False).stale == []


def test_regeneration_under_way_shows_the_previous_complete_results(tiny_study, capsys):
    name, _, settings = tiny_study
    run_studies([name], quick=False, progress=False)
    before = load(name, quick=False)
    old = before["bp|lr=0.1|seed=0"].metrics["test_mse"]
    settings["lr"] = 0.05
    results = StudyResults(name, quick=False)
    spec = next(s for s in results.specs if s.key == "bp|lr=0.05|seed=0")
    results.store(spec, train_signed(spec, 1))               # 2 unchanged + 1 new run done, 1 to go
    shown = load(name, quick=False)
    assert shown.provisional and "being regenerated (3 of 4 new runs done)" in capsys.readouterr().out
    assert [s.key for s in shown.specs] == [s.key for s in before.specs]
    assert shown["bp|lr=0.1|seed=0"].metrics["test_mse"] == old
    with pytest.raises(StaleResultsError):
        fresh_results(name, quick=False)                     # what another study builds on: no fallback
    run_studies([name], quick=False, progress=False)         # complete: the previous results are dropped
    stored = json.loads(StudyResults(name, quick=False).path.read_text())
    assert "previous" not in stored and set(stored["runs"]) == {s.key for s in results.specs}
    assert not load(name, quick=False).provisional


def test_final_study_refuses_missing_tuning_instead_of_training_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TPNB_RESULTS_DIR", str(tmp_path))          # no tuning results at all
    with pytest.raises(StaleResultsError, match="teacher_tuning"):
        StudyResults("teacher_final", quick=True)
    assert not any(tmp_path.rglob("*.json"))


def test_a_study_whose_dependency_is_being_regenerated_shows_its_previous_results(chained, capsys):
    run_studies(["test_chain_b"], quick=False, progress=False)
    best = load("test_chain_b", quick=False)["best"].metrics["test_mse"]
    a = StudyResults("test_chain_a", quick=False)
    core.STUDIES["test_chain_a"] = core.Study("test_chain_a", 2, a.study.build)   # a new version of a
    load_a = pytest.raises(StaleResultsError, match="test_chain_a")
    with load_a:
        load("test_chain_b", quick=False)                    # a stale, not being regenerated: no
    a = StudyResults("test_chain_a", quick=False)
    a.store(a.specs[0], train_signed(a.specs[0], 2))         # its regeneration has started
    shown = load("test_chain_b", quick=False)
    assert shown.provisional and shown["best"].metrics["test_mse"] == best
    assert "depends on is being regenerated" in capsys.readouterr().out
