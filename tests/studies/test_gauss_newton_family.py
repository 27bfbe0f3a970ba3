"""Tests for tpnb.studies.gauss_newton_family: chapter 6's comparison as runs."""
from tpnb.studies.gauss_newton_family import METHODS, PRETRAIN_EPOCHS, family_specs


def test_every_method_shares_data_network_and_order_and_pretrained_ones_train_longer():
    for quick in (True, False):
        specs = family_specs(quick)
        assert [s.labels["method"] for s in specs] == list(METHODS)
        assert len({(str(s.data), s.sizes, s.init, s.seed, s.batch_size) for s in specs}) == 1
        plain = {s.epochs for s in specs if "pretrain_steps" not in s.rule_options}
        pretrained = {s.epochs for s in specs if "pretrain_steps" in s.rule_options}
        assert len(plain) == 1 and pretrained == {plain.pop() + PRETRAIN_EPOCHS}
        assert len({s.rule_options["pretrain_steps"] for s in specs if "pretrain_steps" in s.rule_options}) == 1
