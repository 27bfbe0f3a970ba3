"""Tests for tpnb.studies.gtp_protocol: seed 003's Table 2 as runs."""
import pytest

from tpnb.studies import gtp_protocol
from tpnb.studies.core import RunSpec
from tpnb.studies.gtp_protocol import TABLE, effective_learning_rates, steps_taus, table_specs


def test_the_published_pairs_amount_to_per_layer_learning_rates():
    assert effective_learning_rates((784, 100, 10), 100.0, 0.01) == pytest.approx([1.0, 0.01])
    assert effective_learning_rates((784, 100, 100, 10), 25.0, 0.0005) == pytest.approx([0.3125, 0.0125, 0.0005])


def test_every_table_row_is_run_as_published():
    specs = [s for s in table_specs(quick=False) if s.labels["role"] == "table"]
    assert {s.sizes for s in specs} == set(TABLE)
    for s in specs:
        published, tau, eta, epochs, seeds = TABLE[s.sizes]
        assert (s.rule_options["tau"], s.rule_options["lr"], s.rule_options["steps"]) == (tau, eta, 1)
        assert s.epochs == epochs and s.batch_size == 1 and s.init == "gtp"
        assert s.activation == ("relu",) + ("sigmoid",) * (len(s.sizes) - 3) and s.output_activation == "sigmoid"
        assert s.data == dict(name="fashion_mnist", n_train=50000)
    assert sorted(sum(1 for s in specs if s.sizes == sizes) for sizes in TABLE) == [1, 1, 1, 3, 3]


def test_steps_taus_hold_the_published_step_and_the_same_total_time():
    assert steps_taus(5, 100.0) == (1.0, 20.0, 100.0)


@pytest.mark.parametrize("steps, tau", [(2, 1.0), (5, 20.0)])
def test_the_final_and_the_control_runs_follow_the_tuned_setting(monkeypatch, steps, tau):
    """gtp_steps_final runs the tuned T and tau at seed 003's protocol; gtp_steps_control the same runs with
    one Euler step of T tau (the same first-order target change)."""
    tuned = RunSpec(key="t", data={}, sizes=(784, 100, 10), activation=("relu",), rule="gtp",
                    rule_options=gtp_protocol.gtp_options(tau, 0.01, steps))
    monkeypatch.setattr(gtp_protocol, "fresh_results", lambda name, quick: {"t": None})
    monkeypatch.setattr(gtp_protocol, "best_run", lambda items, task: (tuned, None))
    final, control = gtp_protocol.steps_final_specs(False), gtp_protocol.steps_control_specs(False)
    assert [s.seed for s in final] == [s.seed for s in control] == [0, 1, 2]
    for f, c in zip(final, control):
        assert (f.rule_options["steps"], f.rule_options["tau"]) == (steps, tau)
        assert (c.rule_options["steps"], c.rule_options["tau"]) == (1, steps * tau)
        assert c.labels["role"] == "control" and f.labels["role"] == "steps"
        assert (c.epochs, c.batch_size, c.init, c.data) == (f.epochs, f.batch_size, f.init, f.data) == (
            30, 1, "gtp", dict(name="fashion_mnist", n_train=50000))

