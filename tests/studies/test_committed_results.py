"""The full results committed under results/ must match the code and settings that plot them."""
import pytest

from tpnb.config import results_dir
from tpnb.studies import STUDIES, StudyResults

COMMITTED = [name for name in STUDIES if (results_dir(quick=False) / f"{name}.json").exists()]


def test_every_study_has_committed_results():
    assert sorted(COMMITTED) == sorted(STUDIES)


@pytest.mark.parametrize("name", COMMITTED)
def test_committed_results_are_fresh(name):
    stale = StudyResults(name, quick=False).stale
    assert not stale, (f"{name}: {len(stale)} committed runs are stale ({stale[0].key} ...); "
                       f"regenerate with `make studies`")
