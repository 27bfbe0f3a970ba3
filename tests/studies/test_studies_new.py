"""The chapter 8-12 studies: well-formed specifications in quick and full mode, the map's grid helpers."""
import pytest

from tpnb.studies import atlas, get_study, side_by_side


@pytest.mark.parametrize("build", [atlas.map_specs, atlas.variant_specs, atlas.mechanism_specs,
                                   side_by_side.gtp_tuning_specs])
@pytest.mark.parametrize("quick", [True, False])
def test_specs_have_unique_keys_and_valid_rules(build, quick):
    specs = build(quick)
    assert len({s.key for s in specs}) == len(specs) > 0
    from tpnb.rules import make_rule
    for spec in specs[:: max(1, len(specs) // 40)]:
        make_rule(spec.rule, **spec.rule_options)


def test_quick_map_is_much_smaller():
    assert len(atlas.map_specs(True)) * 4 < len(atlas.map_specs(False))


@pytest.mark.parametrize("text, value", [("None", None), ("full", "full"), ("3", 3), ("0.25", 0.25)])
def test_parse_value(text, value):
    assert atlas.parse_value(text) == value


def test_mechanism_runs_carry_probes():
    assert all(s.probe > 0 for s in atlas.mechanism_specs(False))


def test_registered():
    for name in ("atlas_map", "atlas_variants", "atlas_mechanism", "verdict_final", "side_gtp_tuning",
                 "side_by_side"):
        assert get_study(name).version >= 1
