"""The study runner: local worker processes and a Dask cluster give the same numbers as one process,
dependencies come first, a failing run is reported and the others go on, an interruption resumes."""
import numpy as np
import pytest

from tpnb.studies import core, runner
from tpnb.studies.results import StudyResults, fresh_results
from tpnb.studies.runner import run_studies, with_dependencies



def _histories(name):
    results = fresh_results(name, quick=False)
    return {s.key: results[s.key] for s in results.specs}


def _same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        for metric, values in a[key].metrics.items():              # bit-identical, NaN included
            np.testing.assert_array_equal(values, b[key].metrics[metric], err_msg=key)


def test_two_workers_give_the_numbers_of_one(tiny_study, tmp_path, monkeypatch):
    name = tiny_study[0]
    report = run_studies([name], quick=False, workers=1, progress=False)
    assert report.trained == {name: 4} and not report.failed
    one = _histories(name)
    monkeypatch.setenv("TPNB_RESULTS_DIR", str(tmp_path / "two"))
    run_studies([name], quick=False, workers=2, progress=False)
    _same(one, _histories(name))
    assert run_studies([name], quick=False, workers=2, progress=False).trained == {name: 0}   # all fresh


def test_a_dask_cluster_gives_the_numbers_of_local_workers(tiny_study, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    name = tiny_study[0]
    run_studies([name], quick=False, workers=1, progress=False)
    local = _histories(name)
    monkeypatch.setenv("TPNB_RESULTS_DIR", str(tmp_path / "dask"))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  env=dict(runner.ONE_THREAD)) as cluster:
        report = run_studies([name], quick=False, scheduler=cluster.scheduler_address, progress=False)
    assert report.trained == {name: 4}
    _same(local, _histories(name))


@pytest.mark.parametrize("workers", [0, 2])
def test_dependencies_are_trained_first(chained, workers):
    assert with_dependencies(["test_chain_b"]) == ["test_chain_a", "test_chain_b"]
    report = run_studies(["test_chain_b"], quick=False, workers=workers, progress=False)
    assert report.trained == {"test_chain_a": 2, "test_chain_b": 1}
    assert fresh_results("test_chain_b", quick=False)["best"].epochs == 3


def test_a_failing_run_is_reported_and_the_others_go_on(tiny_study, monkeypatch):
    name = tiny_study[0]
    real = runner.train_signed

    def flaky(spec, version):
        if spec.key == "exact":
            raise ValueError("eta must be > 0, got -1")
        return real(spec, version)

    monkeypatch.setattr(runner, "train_signed", flaky)
    report = run_studies([name], quick=False, progress=False)
    assert report.failed == [(name, "exact", "ValueError: eta must be > 0, got -1")]
    assert [s.key for s in StudyResults(name, quick=False).stale] == ["exact"]


def test_interrupted_study_resumes(tiny_study, monkeypatch):
    name = tiny_study[0]
    real, calls = runner.train_signed, []

    def interrupted(spec, version):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(spec.key)
        return real(spec, version)

    monkeypatch.setattr(runner, "train_signed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_studies([name], quick=False, progress=False)
    partial = StudyResults(name, quick=False)
    assert len(partial.stale) == len(partial.specs) - 2          # the two finished runs were saved
    monkeypatch.setattr(runner, "train_signed", real)
    assert run_studies([name], quick=False, progress=False).trained == {name: 2}
    assert StudyResults(name, quick=False).stale == []


def test_bad_worker_count_is_refused_before_anything_runs(tiny_study):
    for workers in (-1, 1.5, True):
        with pytest.raises(ValueError, match="workers must be a whole number >= 0"):
            run_studies([tiny_study[0]], quick=False, workers=workers, progress=False)
    assert not any(tiny_study[1].rglob("*.json"))


def test_a_queued_study_counts_as_being_regenerated(tiny_study, monkeypatch):
    """Runs queued but not started: the study already keeps its previous complete results (the book shows
    them), so a regeneration committed part-way never leaves a study that the book cannot show."""
    name, _, settings = tiny_study
    run_studies([name], quick=False, progress=False)
    settings["lr"] = 0.05

    def interrupted(spec, version):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "train_signed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_studies([name], quick=False, progress=False)
    results = StudyResults(name, quick=False)
    assert len(results.stored["previous"]) == 4 and not results.stored["complete"]


def test_a_run_signed_by_the_runner_does_not_run_its_canary_again(tiny_study, monkeypatch):
    """The runner computes each distinct canary once and sends it with the run: train_signed then uses it."""
    from tpnb.studies import freshness, results
    study = core.get_study(tiny_study[0])
    spec = study.build(False)[0]
    signed_by = results.signing(spec)
    monkeypatch.setattr(freshness, "canary", lambda config: pytest.fail("the canary ran again"))
    signed = results.train_signed(spec, study.version, signed_by)
    assert signed["record"]["canary"] == signed_by[1][0]
    assert signed["canaries"][signed_by[1][0]]["signature"] == signed_by[1][2].to_dict()
