"""Tests for tpnb.studies.gtp_protocol: seed 003's Table 2 as runs."""
import pytest

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
