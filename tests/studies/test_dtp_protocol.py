"""Tests for tpnb.studies.dtp_protocol: seed 002's protocol as runs."""
from tpnb.studies.dtp_protocol import LABELS, MAX_EPOCHS, METHODS, ORDER, PATIENCE, SEEDS, VALIDATION, protocol_specs
from tpnb.studies.side_by_side import TP_FAMILY


def test_every_method_runs_every_seed_at_the_protocol():
    specs = protocol_specs(quick=False)
    assert sorted(ORDER) == sorted(METHODS) == sorted(LABELS) and set(TP_FAMILY) < set(METHODS)
    assert [s.labels["method"] for s in specs] == [m for m in ORDER for _ in SEEDS]
    for s in specs:
        assert s.sizes == (784, 256, 256, 256, 256, 256, 10) and s.activation == "tanh" and s.batch_size == 128
        assert s.epochs == MAX_EPOCHS and s.patience == PATIENCE and s.probe_directions
        # each seed holds out its own random validation split, as the authors draw one per run
        assert s.data == dict(name="fashion_mnist", validation_set=VALIDATION, validation_seed=s.seed)
    pinv = [s for s in specs if s.labels["method"] == "exact_tp_pinv"]
    assert all(s.rule == "exact_tp" and s.rule_options["input_rule"] == "pinv" for s in pinv)
