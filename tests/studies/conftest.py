"""A tiny registered study in a temporary results folder, shared by the studies tests."""
import pytest

from tpnb.studies import core
from tpnb.studies.core import RunSpec, study

from tiny import DATA, tiny_specs

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


@pytest.fixture
def trained_study(tmp_path, monkeypatch):
    """train(name, specs) -> the StudyResults of a study of ``specs`` registered as ``name``, trained in a
    temporary results folder (full mode); unregistered after the test."""
    monkeypatch.setenv("TPNB_RESULTS_DIR", str(tmp_path))
    names = []

    def train(name, specs):
        from tpnb.studies.results import StudyResults
        core.STUDIES.pop(name, None)
        study(name, 1)(lambda quick: specs)
        names.append(name)
        return StudyResults(name, quick=False).run(progress=False)

    yield train
    for name in names:
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


@pytest.fixture
def chained(tmp_path, monkeypatch):
    """Study 'test_chain_b' picks its run from 'test_chain_a' (its dependency)."""
    monkeypatch.setenv("TPNB_RESULTS_DIR", str(tmp_path))
    from tpnb.studies.results import fresh_results

    def a_specs(quick):
        return [RunSpec(key=f"lr={lr}", data=DATA, sizes=(3, 2), activation="relu", rule="backprop",
                        rule_options=dict(lr=lr), epochs=2, batch_size=8) for lr in (0.01, 0.1)]

    def b_specs(quick):
        a = fresh_results("test_chain_a", quick)
        best = min(a.specs, key=lambda s: a[s.key].final("test_mse"))
        return [RunSpec(key="best", data=DATA, sizes=(3, 2), activation="relu", rule="backprop",
                        rule_options=best.rule_options, epochs=3, batch_size=8)]

    for name in ("test_chain_b", "test_chain_a"):
        core.STUDIES.pop(name, None)
    study("test_chain_a", 1)(a_specs)
    study("test_chain_b", 1, depends=("test_chain_a",))(b_specs)
    yield
    for name in ("test_chain_b", "test_chain_a"):
        core.STUDIES.pop(name, None)
