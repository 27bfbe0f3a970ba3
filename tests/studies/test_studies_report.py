"""Tables and grids drawn from study results."""
import math

import pytest

from tpnb.studies import core, report
from tpnb.studies.core import RunSpec, study
from tpnb.studies.results import StudyResults

DATA = dict(name="xor", n_train=64, n_test=32, noise=0.1, seed=0)


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setenv("TPNB_RESULTS_DIR", str(tmp_path))
    specs = [RunSpec(key=f"2-8-2|exact_tp|alpha={a},eta={e},B=16", data=DATA, sizes=(2, 8, 2),
                     activation="relu", rule="exact_tp", rule_options=dict(alpha=a, eta=e), epochs=2,
                     batch_size=16) for a in (0.1, 0.9) for e in (0.5, 1.0)]
    specs += [RunSpec(key=f"2-8-2|bp_sgd|seed={s}", data=DATA, sizes=(2, 8, 2), activation="relu",
                      rule="backprop", rule_options=dict(lr=0.1), epochs=2, batch_size=16, seed=s)
              for s in (0, 1)]
    core.STUDIES.pop("test_report", None)
    study("test_report", 1)(lambda quick: specs)
    yield StudyResults("test_report", quick=False).run(progress=False)
    core.STUDIES.pop("test_report")


def test_summary_groups_over_seeds(results):
    rows = {(r["arch"], r["method"]): r for r in report.summary(results, "test_acc")}
    sgd = rows[("2-8-2", "bp_sgd")]
    accs = [results[f"2-8-2|bp_sgd|seed={s}"].final("test_acc") for s in (0, 1)]
    assert sgd["runs"] == 2 and sgd["diverged"] == 0
    assert sgd["mean"] == pytest.approx(sum(accs) / 2)
    assert rows[("2-8-2", "exact_tp")]["runs"] == 4


def test_grid_is_alpha_by_eta(results):
    values, alphas, etas = report.grid(results, "2-8-2", 16, "test_acc")
    assert values.shape == (2, 2) and alphas == [0.1, 0.9] and etas == [0.5, 1.0]
    assert values[1, 0] == results["2-8-2|exact_tp|alpha=0.9,eta=0.5,B=16"].final("test_acc")


def test_final_value_of_a_diverged_run_is_nan(results):
    history = results["2-8-2|bp_sgd|seed=0"]
    history.diverged_epoch = 1
    assert math.isnan(report.final_value(history, "test_acc"))
