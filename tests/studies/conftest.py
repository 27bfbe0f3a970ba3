"""A tiny registered study in a temporary results folder, shared by the studies tests."""
import pytest

from tpnb.studies import core
from tpnb.studies.core import study

from tiny import tiny_specs

@pytest.fixture
def tiny_study(tmp_path, monkeypatch):
    """(name, results folder, settings): a study whose backprop lr is settings["lr"]."""
    monkeypatch.setenv("TPNB_RESULTS_DIR", str(tmp_path))
    settings = {"lr": 0.1}
    name = "test_tiny_study"
    core.STUDIES.pop(name, None)
    study(name, 1, "unit-test study")(lambda quick: tiny_specs(settings["lr"]))
    yield name, tmp_path, settings
    core.STUDIES.pop(name, None)


@pytest.fixture(autouse=True)
def forget_cached_behaviour():
    """Canary signatures and data summaries are cached per process: tests that patch code clear them."""
    from tpnb.studies import freshness, results
    caches = (freshness._canary_cached, results._data_summary, core._dataset)
    for cache in caches:
        cache.cache_clear()
    yield
    for cache in caches:
        cache.cache_clear()
