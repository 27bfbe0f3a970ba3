"""The full results committed under results/ must match the code and settings that plot them: every study
fresh, or (a study that takes more than one sitting) being regenerated with its previous complete results
kept, which the chapters then show with a note."""
import pytest

from tpnb.config import results_dir
from tpnb.studies import STUDIES
from tpnb.studies.__main__ import status_line

COMMITTED = [name for name in STUDIES if (results_dir(quick=False) / f"{name}.json").exists()]


def test_every_study_has_committed_results_or_waits_for_a_first_generation(monkeypatch):
    """A study without a results file must be one whose dependencies are still being generated."""
    monkeypatch.delenv("TPNB_QUICK", raising=False)
    for name in sorted(set(STUDIES) - set(COMMITTED)):
        assert STUDIES[name].depends, name
        fine, line = status_line(name, allow_previous=True)
        assert fine and "first generation waits" in line, line


@pytest.mark.parametrize("name", COMMITTED)
def test_committed_results_are_fresh_or_being_regenerated(name, monkeypatch):
    monkeypatch.delenv("TPNB_QUICK", raising=False)
    fine, line = status_line(name, allow_previous=True)
    assert fine, line
