"""Tests for tpnb.studies.interpretability: three runs on affine_floor's Fashion-MNIST problem, weights kept."""
import pytest

from tpnb.studies import affine_floor as af, get_study, interpretability as si


@pytest.mark.parametrize("quick", [True, False])
def test_runs_share_affine_floors_problem_and_keep_their_weights(quick):
    specs = get_study("interpretability").build(quick)
    p = af.PROBLEMS["fmnist"]
    assert [s.labels["variant"] for s in specs] == list(si.METHODS)
    for spec in specs:
        assert spec.data == p["quick" if quick else "data"]
        assert spec.epochs == (p["quick_epochs"] if quick else p["epochs"])
        assert (spec.batch_size, spec.seed, spec.keep_weights, spec.activation) == (32, 0, True, "relu")
        assert spec.sizes[0] == p["inputs"] and spec.sizes[-1] == p["outputs"]
        assert spec.sizes[1:3] == ((si.QUICK_WIDTH,) * 2 if quick else (p["width"],) * 2)


def test_the_rules_are_the_seed_the_chapter_13_variant_and_backprop_sgd():
    specs = {s.labels["variant"]: s for s in get_study("interpretability").build(False)}
    floor = {(s.labels["variant"]): s for s in get_study("affine_floor").build(False)
             if s.labels["problem"] == "fmnist" and s.labels["seed"] == 0}
    for name in ("seed", "pinv+threshold=0.1", "bp_sgd"):
        mine, theirs = specs[name], floor[name]
        assert (mine.rule, mine.sizes, mine.data, mine.epochs) == (theirs.rule, theirs.sizes, theirs.data, theirs.epochs)
        # the same rule options, less chapter 13's diagnostics switches
        extra = {"diagnostics", "count_switches"}
        assert mine.rule_options == {k: v for k, v in theirs.rule_options.items() if k not in extra}
    assert specs["pinv+threshold=0.1"].rule_options["input_rule"] == "pinv"


def test_analysis_groups():
    assert si.analysis_groups(10000) == si.MAX_GROUPS
    assert si.analysis_groups(1500) == 1500 // si.GROUP_SIZE
    assert si.analysis_groups(10) == 1
