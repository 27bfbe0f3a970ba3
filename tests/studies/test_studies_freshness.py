"""Freshness follows behaviour: a refactor keeps results fresh, a changed computation stales exactly the
runs that use it, and rounding differences between CPUs do not count as a change."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tpnb import data as data_module
from tpnb.rules import exact_tp
from tpnb.studies import freshness
from tpnb.studies.freshness import Signature
from tpnb.studies.results import StudyResults
from tpnb.studies.runner import run_studies


def _reasons(name):
    """Why each run is (not) fresh, with the code as it is now (a process caches canaries and data)."""
    from tpnb.studies import core, results
    for cache in (freshness._canary_cached, results._data_summary, core._dataset):
        cache.cache_clear()
    return {v.spec.key: v.reason for v in StudyResults(name, quick=False).verdicts()}


@pytest.fixture
def trained(tiny_study):
    name = tiny_study[0]
    run_studies([name], quick=False, progress=False)
    assert set(_reasons(name).values()) == {"fresh"}
    return name


def test_a_refactor_that_keeps_the_numbers_keeps_every_run_fresh(trained, monkeypatch):
    original = exact_tp.ExactTP.step

    def rewritten(self, net, x, y):            # the same computation through another function
        return dict(original(self, net, x, y))

    monkeypatch.setattr(exact_tp.ExactTP, "step", rewritten)
    assert set(_reasons(trained).values()) == {"fresh"}


def test_a_changed_rule_stales_exactly_the_runs_that_use_it(trained, monkeypatch):
    original = exact_tp.ExactTP.step

    def mutated(self, net, x, y):              # one weight moves by 1e-7 more per step
        out = original(self, net, x, y)
        net.weights[0][0, 0] += 1e-7
        return out

    monkeypatch.setattr(exact_tp.ExactTP, "step", mutated)
    assert _reasons(trained) == {"bp|lr=0.1|seed=0": "fresh", "bp|lr=0.1|seed=1": "fresh",
                                 "exact": "behaviour", "diverges": "fresh"}


def test_a_changed_network_stales_every_run(trained, monkeypatch):
    from tpnb import activations
    relu = activations.get_activation("relu")
    monkeypatch.setattr(type(relu), "__call__", lambda self, u: np.maximum(u, 0.0) * (1 + 1e-7))
    assert set(_reasons(trained).values()) == {"behaviour"}


def test_changed_data_stales_the_runs_on_it(trained, monkeypatch):
    loader = data_module.LOADERS["linear_regression"]

    def shifted(**options):
        d = loader(**options)
        return type(d)(d.name, d.x_train, d.y_train + 1e-9, d.x_test, d.y_test, d.task)

    monkeypatch.setitem(data_module.LOADERS, "linear_regression", shifted)
    assert set(_reasons(trained).values()) == {"data"}


def test_signatures_match_within_rounding_and_not_beyond():
    rng = np.random.default_rng(0)
    values = list(rng.standard_normal(50) * 10.0 ** rng.integers(-3, 3, 50)) + [float("nan")]
    base = Signature({"a": values, "b": [1.0, -1.0]})
    scale = max(abs(v) for v in values[:-1])
    rounded = Signature({"a": [v + 1e-14 * scale for v in values], "b": [1.0, -1.0]})
    changed = Signature({"a": [values[0] + 1e-6 * scale] + values[1:], "b": [1.0, -1.0]})
    assert base.matches(rounded) and rounded.matches(base)
    assert changed.differences(base) == ["a"]
    assert Signature({"a": values}).differences(base) == ["b"]                  # a group went missing
    assert not Signature({"a": values[:-1] + [1.0], "b": [1.0, -1.0]}).matches(base)   # NaN vs number
    assert Signature.from_dict(json.loads(json.dumps(base.to_dict()))).matches(base)


CANARY_SCRIPT = """
import json, sys
from tpnb.studies import freshness
configs = json.loads(sys.argv[1])
print(json.dumps([freshness.canary(c).to_dict() for c in configs]))
"""


def _config(rule, options, activation="relu", task="classification", depth=3, probe=4, batch=8):
    return dict(rule=rule, rule_options=options, activation=activation, init="he", depth=depth, task=task,
                batch_size=batch, probe=probe, seed=0)


CONFIGS = [
    _config("exact_tp", dict(alpha=0.5, eta=1.0, diagnostics=True)),
    _config("backprop", dict(optimizer="adam", lr=1e-3), task="regression"),
    _config("dtp", dict(loss="cross_entropy", beta=0.2, angles=True, pretrain_epochs=1), activation="tanh"),
    _config("gnt", dict(), probe=0),
    _config("random_direction_tp", dict(directions=4), activation="leaky_relu", task="regression"),
]


@pytest.mark.parametrize("environment", [{"OPENBLAS_NUM_THREADS": "1"}, {"OPENBLAS_NUM_THREADS": "2"},
                                         {"OPENBLAS_NUM_THREADS": "1", "OPENBLAS_CORETYPE": "Prescott"},
                                         {"OPENBLAS_NUM_THREADS": "2", "OPENBLAS_CORETYPE": "Haswell"}])
def test_canaries_agree_across_blas_kernels_and_thread_counts(environment):
    """Other BLAS kernels and thread counts (what another CPU does) change last bits, not freshness."""
    here = [freshness.canary(c) for c in CONFIGS]
    env = {**os.environ, **environment}
    out = subprocess.run([sys.executable, "-c", CANARY_SCRIPT, json.dumps(CONFIGS)], env=env, check=True,
                         capture_output=True, text=True).stdout
    there = [Signature.from_dict(d) for d in json.loads(out)]
    for config, a, b in zip(CONFIGS, here, there):
        assert a.matches(b), (config["rule"], a.differences(b))
