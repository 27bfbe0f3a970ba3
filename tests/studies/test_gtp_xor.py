"""Tests for tpnb.studies.gtp_xor: chapter 7's (tau, T) grid and its backprop reference as runs."""
from tpnb.studies.gtp_xor import LR, STEPS, TAUS, xor_specs


def test_the_grid_and_backprop_share_data_network_init_and_order():
    for quick in (True, False):
        specs = xor_specs(quick)
        grid = {(s.labels["tau"], s.labels["steps"]) for s in specs if s.labels["method"] == "gtp"}
        assert grid == {(tau, steps) for tau in TAUS for steps in STEPS}
        assert [s.labels["method"] for s in specs].count("backprop") == 1
        assert len({(str(s.data), s.sizes, s.init, s.seed, s.epochs, s.batch_size) for s in specs}) == 1
        assert all(s.rule_options["lr"] == LR and s.batch_size == 1 and s.data["unit_square"] for s in specs)
