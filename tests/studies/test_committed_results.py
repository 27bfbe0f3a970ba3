"""The full results committed under results/ must match the code and settings that plot them."""
import pytest

from tpnb.config import results_dir
from tpnb.studies import STUDIES, StudyResults
from tpnb.studies.results import stale_message

COMMITTED = [name for name in STUDIES if (results_dir(quick=False) / f"{name}.json").exists()]


def test_every_study_has_committed_results():
    assert sorted(COMMITTED) == sorted(STUDIES)


@pytest.mark.parametrize("name", COMMITTED)
def test_committed_results_are_fresh(name):
    verdicts = StudyResults(name, quick=False).verdicts()
    assert all(v.fresh for v in verdicts), stale_message(name, verdicts)
