"""Tests for benchmarks.breakdown: the phase timers measure the step they wrap and leave nothing behind."""
import pytest

from benchmarks.breakdown import PHASES, breakdown, timed, _resolve
from benchmarks.rules import Spec
from test_benchmark_rules import SIZES, tiny_data      # the same tiny network and data


@pytest.mark.parametrize("name, rule, options", [
    ("backprop", "backprop", dict(optimizer="sgd", lr=0.05)),
    ("exact_tp", "exact_tp", dict(alpha=0.5, diagnostics=False)),
    ("gtp_b1", "gtp", dict(tau=0.5, steps=3, lr=0.1, angles=False)),
])
def test_phases_add_up_to_the_step_and_the_functions_are_restored(name, rule, options):
    originals = [_resolve(target) for _, target, _ in PHASES[name]]
    originals = [owner.__dict__[attr] if isinstance(owner, type) else getattr(owner, attr) for owner, attr in originals]
    activation, batch = ("sigmoid", 1) if rule == "gtp" else ("relu", 16)
    rows = breakdown(Spec(name, SIZES, activation, rule, options, batch), tiny_data(), rounds=3, block=2)
    by_phase = {row["phase"]: row for row in rows}
    assert list(by_phase) == [p for p, _, _ in PHASES[name]] + ["rest", "step"]
    timed_phases = sum(by_phase[p]["ms"] for p, _, _ in PHASES[name])
    assert all(by_phase[p]["ms"] > 0 for p, _, _ in PHASES[name])          # every phase runs in every step
    assert timed_phases <= by_phase["step"]["ms"] * 1.5     # medians of parts: about the median step
    assert by_phase["step"]["share"] == pytest.approx(1.0)
    after = [_resolve(target) for _, target, _ in PHASES[name]]
    after = [owner.__dict__[attr] if isinstance(owner, type) else getattr(owner, attr) for owner, attr in after]
    assert all(a is b for a, b in zip(after, originals))


def test_timed_restores_the_function_when_the_step_raises():
    import importlib
    loop = importlib.import_module("tpnb.train")         # the module (tpnb.train is also the function)
    original, totals = loop.weights_finite, {"finiteness test": 0.0}
    with pytest.raises(RuntimeError):
        with timed([("finiteness test", "tpnb.train:weights_finite", None)], totals):
            assert loop.weights_finite is not original
            raise RuntimeError
    assert loop.weights_finite is original
