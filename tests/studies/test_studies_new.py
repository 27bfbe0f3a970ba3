"""The studies of chapters 4, 5 and 8-12: well-formed specifications in quick and full mode, structured labels
that name every run, and the readers that select runs by those labels (never by parsing keys)."""
import math
import zlib
from types import SimpleNamespace

import pytest

from tpnb.studies import atlas, first_convergence, floor_variants, get_study, random_direction, side_by_side, verdict
from tpnb.studies.results import StudyResults
from tpnb.train import History

INDEPENDENT = {  # builders that read no other study
    "atlas_map": atlas.map_specs, "atlas_variants": atlas.variant_specs, "atlas_mechanism": atlas.mechanism_specs,
    "side_gtp_tuning": side_by_side.gtp_tuning_specs,
    "teacher_tuning": lambda quick: first_convergence.tuning_specs("teacher", quick),
    "fmnist_tuning": lambda quick: first_convergence.tuning_specs("fmnist", quick),
    "random_tp_teacher": random_direction.teacher_specs, "random_tp_fmnist": random_direction.fmnist_specs,
}


class FakeResults:
    """Runs with made-up histories, read through StudyResults' own select/items."""
    select, items = StudyResults.select, StudyResults.items

    def __init__(self, specs, history):
        self.specs, self.study = list(specs), SimpleNamespace(name="fake")
        self.histories = {s.key: history(s) for s in self.specs}

    def __getitem__(self, key):
        return self.histories[key]


def _history(test, train=None, metric="test_mse", diverged=None):
    train = list(train or [1.0] * len(test))
    return History({metric: list(test), "train_mse": train}, [0.0] * len(test), [{}] * len(test), diverged)


def _score(spec):
    """A made-up held-out curve per run: deterministic, different for every run, highest where eta = 1."""
    value = (zlib.crc32(spec.key.encode()) % 1000) / 1000
    return [0.1, 0.2 + 0.1 * value, 0.4 + 0.2 * value + (0.3 if spec.labels.get("eta") == 1.0 else 0.0)]


@pytest.fixture
def fake_tuning(monkeypatch):
    """fresh_results of every tuning study answered from its specs with made-up histories."""
    def fake(name, quick=None):
        specs = get_study(name).build(bool(quick))
        metric = "test_mse" if name == "teacher_tuning" else "test_acc"
        return FakeResults(specs, lambda s: _history(_score(s), metric=metric))
    for module in (atlas, first_convergence, side_by_side, floor_variants):
        monkeypatch.setattr(module, "fresh_results", fake)
    return fake


@pytest.mark.parametrize("name", sorted(INDEPENDENT))
@pytest.mark.parametrize("quick", [True, False])
def test_specs_have_unique_keys_and_valid_rules(name, quick):
    specs = INDEPENDENT[name](quick)
    assert len({s.key for s in specs}) == len(specs) > 0
    from tpnb.rules import make_rule
    for spec in specs[:: max(1, len(specs) // 40)]:
        make_rule(spec.rule, **spec.rule_options)


def _check_labels(specs):
    labels = [tuple(sorted(s.labels.items(), key=lambda kv: kv[0])) for s in specs]
    assert len(set(labels)) == len(specs), "two runs share their labels"
    for spec in specs:
        assert spec.labels["seed"] == spec.seed and spec.labels["method"], spec.key
        assert "network" in spec.labels or "problem" in spec.labels, spec.key


@pytest.mark.parametrize("name", sorted(INDEPENDENT))
@pytest.mark.parametrize("quick", [True, False])
def test_every_run_is_named_by_its_labels(name, quick):
    _check_labels(INDEPENDENT[name](quick))


@pytest.mark.parametrize("name", ["teacher_final", "fmnist_final", "verdict_final", "side_by_side"])
@pytest.mark.parametrize("quick", [True, False])
def test_final_studies_are_named_by_their_labels(name, quick, fake_tuning):
    _check_labels(get_study(name).build(quick))


def test_map_labels_carry_typed_option_values():
    specs = {s.key: s for s in atlas.map_specs(False)}
    assert specs["teacher|cap_margin|None|0.5|seed=1"].labels == dict(
        problem="teacher", method="exact_tp", slice="cap_margin", row=None, col=0.5, seed=1)
    assert specs["linear|batch_eta|full|2.0|seed=0"].labels["row"] == "full"
    assert specs["linear|alpha_eta|0.25|4.0|seed=0"].labels["col"] == 4.0
    assert specs["fmnist|bp_adam|2|64|seed=0"].labels == dict(problem="fmnist", method="bp_adam", depth=2,
                                                             width=64, seed=0)
    assert specs["teacher|depth_width|3|16|seed=0"].sizes == (20, 16, 16, 16, 1)


def test_variant_and_random_direction_labels():
    variant = next(s for s in atlas.variant_specs(False) if s.key == "teacher|pinv+joint|512|0.3|seed=1")
    assert variant.labels == dict(problem="teacher", method="exact_tp", variant="pinv+joint", batch=512, eta=0.3,
                                  seed=1)
    teacher = {s.key: s for s in random_direction.teacher_specs(False)}
    assert teacher["20-64-1|least_squares,k=16|seed=1"].labels == dict(
        problem="teacher", network="20-64-1", method="random_direction_tp", split="test", seed=1,
        factor="least_squares", k=16, eta=random_direction.ETA, ridge=random_direction.RIDGE)
    swept = teacher["sweep|least_squares,k=16|distribution=sphere"].labels
    assert swept["split"] == "validation" and swept["sweep"] == "distribution" and swept["distribution"] == "sphere"
    assert teacher["sweep|derived,k=1|eta=0.1"].labels["eta"] == 0.1
    tiny = next(s for s in random_direction.fmnist_specs(False) if "ridge=1e-08" in s.key)
    assert tiny.labels["ridge"] == tiny.rule_options["ridge"] == 1e-8


def _map_results(quick=True):
    """atlas_map's runs with made-up losses: exact TP ends at 2, backprop at 1 (seed 0) or 3 (seed 1)."""
    def history(spec):
        if spec.labels["method"] == "bp_adam":
            final = 1.0 if spec.seed == 0 else 3.0
            return _history([1.0, 1.0], [4.0, final])
        return _history([1.0, 1.0, 1.0], [4.0, 2.0, 2.0])
    return FakeResults(atlas.map_specs(quick), history)


def test_map_cells_is_the_slice_as_a_grid_with_none_and_full_last():
    results = _map_results(quick=False)
    rows, cols, cells = atlas.map_cells(results, "teacher", "batch_eta")
    assert rows == [1, 8, 64, 512, "full"] and cols == list(atlas.ETAS)
    assert [s.key for s, _ in cells[("full", 0.1)]] == ["teacher|batch_eta|full|0.1|seed=0",
                                                        "teacher|batch_eta|full|0.1|seed=1"]
    rows, cols, _ = atlas.map_cells(results, "teacher", "cap_margin")
    assert rows == [0.5, 1.0, 2.0, 4.0, None] and cols == list(atlas.MARGINS)


def test_reference_losses_and_classified_read_labels(monkeypatch):
    results = _map_results()
    refs = atlas.reference_losses(results, "teacher")
    assert set(refs) == set(atlas.bp_networks("teacher", True)) and refs[(1, 64)] == 1.0   # quick: seed 0 only
    linear = {p: {"train_mse": 4.0} for p in atlas.PROBLEMS}
    records = atlas.classified(results, linear)
    assert len(records) == len(results.select(method="exact_tp"))
    assert {r["slice"] for r in records if r["problem"] == "teacher"} == set(atlas.PROBLEMS["teacher"]["slices"])
    assert all(r["vs_linear"] == 0.5 and r["vs_bp"] == 2.0 for r in records)


def test_final_studies_pick_their_settings_by_the_tail_score(fake_tuning):
    chosen = atlas.chosen_variants(False)
    assert list(chosen) == list(atlas.VARIANTS)
    assert all(spec.labels["eta"] == 1.0 and spec.labels["problem"] == "fmnist" for spec in chosen.values())
    finals = {s.labels["variant"]: s for s in atlas.final_specs(False)}
    assert finals["joint"].rule_options == chosen["joint"].rule_options
    picks = first_convergence.chosen("fmnist", False)           # accuracy: the highest curve wins
    assert set(picks) == {(a, m) for a in first_convergence.PROBLEMS["fmnist"]["archs"]
                          for m in ("exact_tp", "bp_sgd", "bp_adam")}
    assert all(picks[(a, "exact_tp")].labels["eta"] == 1.0 for a in first_convergence.PROBLEMS["fmnist"]["archs"])


def test_side_by_side_rows_name_the_batch_size_pairs(fake_tuning):
    specs = side_by_side.side_specs(True)
    rows = [side_by_side.row(s) for s in specs]
    assert ("784-100-10", "gtp_b1") in rows and ("784-100-10", "bp_sgd_b64") in rows
    assert ("784-100-10", "exact_tp") in rows and ("784-256x5-10", "ddtp_rhl") in rows
    assert all(f"|{name}|" in s.key for s, (_, name) in zip(specs, rows))
    final = next(s for s in atlas.final_specs(True) if s.labels["variant"] == "pinv")
    assert side_by_side.row(final) == ("784-256-256-10", "pinv")


def test_every_verdict_source_selects_runs(fake_tuning):
    for study_name, labels, _ in verdict.SOURCES:
        specs = get_study(study_name).build(False)
        matched = [s for s in specs if all(s.labels.get(k) == v for k, v in labels.items())]
        assert matched and len({(s.sizes, s.rule, s.activation) for s in matched}) == 1, (study_name, labels)
        assert all(s.seed == s.labels["seed"] for s in matched)


def test_quick_map_is_much_smaller():
    assert len(atlas.map_specs(True)) * 4 < len(atlas.map_specs(False))


def test_mechanism_runs_carry_probes():
    assert all(s.probe > 0 for s in atlas.mechanism_specs(False))


def test_registered():
    for name in ("atlas_map", "atlas_variants", "atlas_mechanism", "verdict_final", "side_gtp_tuning",
                 "side_by_side"):
        assert get_study(name).version >= 1


def test_linear_references_reads_the_problem_label(monkeypatch):
    seen = []

    def affine_metrics(spec):
        seen.append(spec.labels["problem"])
        return {"train_mse": math.pi}

    monkeypatch.setattr(atlas, "affine_metrics", affine_metrics)
    assert atlas.linear_references(_map_results()) == {p: {"train_mse": math.pi} for p in atlas.PROBLEMS}
    assert seen == list(atlas.PROBLEMS)


def test_seed_002_methods_use_pytorchs_adam():
    """The authors train every method with PyTorch's Adam: eps after the bias correction, forward and feedback."""
    for name, (rule, options) in side_by_side.DEEP_METHODS.items():
        if options.get("optimizer") == "adam":
            assert options["eps_corrected"] is True, name
        if options.get("feedback_optimizer") == "adam":
            assert options["feedback_options"]["eps_corrected"] is True, name
