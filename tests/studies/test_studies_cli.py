"""python -m tpnb.studies: one line and an exit code for every outcome, never a traceback."""
import pytest

from tpnb.studies.__main__ import main


def test_unknown_study_is_one_line_and_exit_2(capsys):
    assert main(["list", "NOSUCHSTUDY"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown study 'NOSUCHSTUDY'; known: teacher_tuning") and err.count("\n") == 1


def test_run_without_a_name_refuses_to_start_everything(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TPNB_RESULTS_DIR", str(tmp_path))
    assert main(["run"]) == 2
    assert "name the studies to run, or `all`" in capsys.readouterr().err
    assert not any(tmp_path.rglob("*.json"))


def test_status_exit_code_follows_freshness(tiny_study, capsys, monkeypatch):
    name = tiny_study[0]
    monkeypatch.setenv("TPNB_QUICK", "0")
    assert main(["status", name]) == 1
    assert f"{name}: STALE, 4 of 4 runs (4 missing)" in capsys.readouterr().err
    assert main(["run", name, "--workers", "0", "--no-progress"]) == 0
    assert f"{name}: 4 runs trained" in capsys.readouterr().out
    assert main(["status", name]) == 0
    assert f"{name}: fresh, 4 runs" in capsys.readouterr().out


def test_status_reports_every_study_of_a_fresh_clone(capsys, tmp_path, monkeypatch):
    """No results at all (a fresh clone in quick mode): final studies wait for their tuning, no crash."""
    monkeypatch.setenv("TPNB_RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv("TPNB_QUICK", "1")
    assert main(["status"]) == 1
    lines = capsys.readouterr().err.splitlines()[:-1]
    from tpnb.studies import STUDIES
    assert [line.split(":")[0] for line in lines] == list(STUDIES)
    assert any(line.startswith("verdict_final: waiting for atlas_variants") for line in lines)


def test_damaged_file_in_status_and_run(tiny_study, capsys, monkeypatch):
    name, root, _ = tiny_study
    monkeypatch.setenv("TPNB_QUICK", "0")                      # the full results' file
    (root / f"{name}.json").write_text('{"runs": {')
    assert main(["status", name]) == 1
    assert f"{name}: damaged results file: {root / name}.json: not valid JSON" in capsys.readouterr().err
    assert main(["run", name, "--workers", "0", "--no-progress"]) == 0
    assert "set aside" in capsys.readouterr().err
    assert main(["status", name]) == 0


@pytest.mark.parametrize("argv", [["run", "x", "--workers", "-1"], ["bogus"]])
def test_bad_arguments(argv, tiny_study, capsys):
    with pytest.raises(SystemExit) if argv == ["bogus"] else _nothing():
        assert main(argv) == 2


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_book_check_accepts_a_regeneration_under_way_and_nothing_else(tiny_study, capsys, monkeypatch):
    name, _, settings = tiny_study
    monkeypatch.setenv("TPNB_QUICK", "0")
    assert main(["run", name, "--workers", "0", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["status", name, "--quiet", "--allow-previous"]) == 0
    assert capsys.readouterr().out == ""                        # --quiet: nothing to say when fresh
    settings["lr"] = 0.05                                       # two runs change: stale, not regenerating
    assert main(["status", name, "--allow-previous"]) == 1
    assert "STALE, 2 of 4 runs (2 missing)" in capsys.readouterr().err
    from tpnb.studies.results import StudyResults, train_signed
    results = StudyResults(name, quick=False)
    spec = next(s for s in results.specs if s.key == "bp|lr=0.05|seed=0")
    results.store(spec, train_signed(spec, 1))                  # a regeneration has started
    assert main(["status", name, "--allow-previous"]) == 0
    assert main(["status", name]) == 1
    assert "regeneration under way" in capsys.readouterr().err
