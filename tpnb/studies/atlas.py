"""Chapters 8-10: the convergence atlas of exact TP, its mechanism, and two variants beyond the seed.

- ``atlas_map``: exact TP over two-dimensional slices of its options (alpha x eta, batch size x eta,
  cap x margin, depth x width) on a linear regression, a teacher-student regression and a Fashion-MNIST
  subset (10k training samples; 10k held-out training samples as the test set, so settings chosen here
  never see the real test set), several seeds, next to backprop (Adam) on the same networks.
- ``atlas_variants``: the seed rule and its variants (input_rule="pinv", weight_rule="joint", both, and
  output step targets) over batch size x eta on the same problems.
- ``atlas_mechanism``: per-epoch probes (tpnb.diagnostics) of exact TP, the variants and backprop.
- ``verdict_final``: each variant's best Fashion-MNIST setting (chosen on the held-out split) trained on the
  full 60k training set and tested on the 10k test set, for the verdict table.
"""
from __future__ import annotations

import itertools

from .convergence import classify
from .core import RunSpec, affine_metrics, study
from .results import fresh_results
from .selection import best_per_group

SEEDS = {"linear": (0, 1), "teacher": (0, 1), "fmnist": (0,)}
PROBLEMS = {
    "linear": dict(data=dict(name="linear_regression", n_train=2000, n_test=1000, n_inputs=20, n_outputs=5,
                             noise=0.1, seed=7),
                   quick=dict(name="linear_regression", n_train=300, n_test=200, n_inputs=20, n_outputs=5,
                              noise=0.1, seed=7),
                   inputs=20, outputs=5, width=64, widths=(16, 64, 256), depths=(1, 2, 3, 4), epochs=20,
                   slices=("alpha_eta", "batch_eta"), task="regression"),
    "teacher": dict(data=dict(name="teacher_student", n_train=4000, n_test=1000, n_inputs=20, hidden=(32,),
                              n_outputs=1, noise=0.0, seed=123),
                    quick=dict(name="teacher_student", n_train=400, n_test=200, n_inputs=20, hidden=(32,),
                               n_outputs=1, noise=0.0, seed=123),
                    inputs=20, outputs=1, width=64, widths=(16, 64, 256), depths=(1, 2, 3, 4), epochs=20,
                    slices=("alpha_eta", "batch_eta", "depth_width", "cap_margin"), task="regression"),
    "fmnist": dict(data=dict(name="fashion_mnist", n_train=20000, validation=10000),
                   quick=dict(name="fashion_mnist", n_train=2000, n_test=500, validation=500),
                   inputs=784, outputs=10, width=256, widths=(64, 256), depths=(1, 2), epochs=3,
                   slices=("alpha_eta", "batch_eta", "depth_width"), task="classification"),
}
DEFAULTS = dict(alpha=0.5, eta=1.0, batch=32, cap=2.0, margin=0.0, depth=1)
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
ETAS = (0.1, 0.3, 1.0, 2.0, 4.0)
BATCHES = (1, 8, 64, 512, "full")
CAPS = (0.5, 1.0, 2.0, 4.0, None)
MARGINS = (0.0, 0.1, 0.5, 1.0)
QUICK_EPOCHS = 3
ADAM = dict(optimizer="adam", lr=1e-3)

VARIANTS = {
    "seed": dict(),
    "pinv": dict(input_rule="pinv"),
    "joint": dict(weight_rule="joint"),
    "pinv+joint": dict(input_rule="pinv", weight_rule="joint"),
    "step": dict(output_target="step", beta=0.2),
}
VARIANT_ETAS = (0.3, 1.0, 2.0)
VARIANT_BATCHES = (8, 64, 512)


def _sizes(problem: str, depth: int, width: int) -> tuple:
    p = PROBLEMS[problem]
    return (p["inputs"],) + (width,) * depth + (p["outputs"],)


def _data(problem: str, quick: bool) -> dict:
    return dict(PROBLEMS[problem]["quick" if quick else "data"])


def _n_train(problem: str, quick: bool) -> int:
    data = _data(problem, quick)
    return data["n_train"] - data.get("validation", 0)


def _exact_tp(problem, quick, key, labels, *, seed, alpha, eta, batch, cap, margin, depth, width=None,
              extra=None, probe=0):
    p = PROBLEMS[problem]
    batch = _n_train(problem, quick) if batch == "full" else batch
    options = dict(alpha=alpha, eta=eta, cap=cap, margin=margin, diagnostics=True, **(extra or {}))
    return RunSpec(key=key, data=_data(problem, quick), sizes=_sizes(problem, depth, width or p["width"]),
                   activation="relu", rule="exact_tp", rule_options=options,
                   epochs=QUICK_EPOCHS if quick else p["epochs"], batch_size=batch, seed=seed, probe=probe,
                   labels=dict(problem=problem, method="exact_tp", **labels))


def _backprop(problem, quick, key, labels, *, seed, depth, width=None, probe=0):
    p = PROBLEMS[problem]
    return RunSpec(key=key, data=_data(problem, quick), sizes=_sizes(problem, depth, width or p["width"]),
                   activation="relu", rule="backprop", rule_options=dict(ADAM),
                   epochs=QUICK_EPOCHS if quick else p["epochs"], batch_size=DEFAULTS["batch"], seed=seed,
                   probe=probe, labels=dict(problem=problem, method="bp_adam", **labels))


def _grid(values, quick):
    """The full axis, or its two ends in quick mode."""
    return (values[0], values[-1]) if quick else values


def _slices(problem: str, quick: bool) -> dict:
    """{slice name: [(row value, column value, option overrides), ...]} for the problem's slices."""
    p = PROBLEMS[problem]
    batches = tuple(b for b in BATCHES if not (problem == "fmnist" and b == 1))
    slices = {
        "alpha_eta": [(a, e, dict(alpha=a, eta=e)) for a, e in itertools.product(_grid(ALPHAS, quick),
                                                                                   _grid(ETAS, quick))],
        "batch_eta": [(b, e, dict(batch=b, eta=e)) for b, e in itertools.product(_grid(batches, quick),
                                                                                   _grid(ETAS, quick))],
        "depth_width": [(d, w, dict(depth=d, width=w)) for d, w in itertools.product(_grid(p["depths"], quick),
                                                                                       _grid(p["widths"], quick))],
        "cap_margin": [(c, m, dict(cap=c, margin=m, depth=2))
                       for c, m in itertools.product(_grid(CAPS, quick), _grid(MARGINS, quick))],
    }
    return {name: slices[name] for name in p["slices"]}


def bp_networks(problem: str, quick: bool) -> list:
    """(depth, width) of every network the problem's map uses: backprop runs on each."""
    p = PROBLEMS[problem]
    nets = {(DEFAULTS["depth"], p["width"]), (2, p["width"])}
    if "depth_width" in p["slices"]:
        nets |= set(itertools.product(_grid(p["depths"], quick), _grid(p["widths"], quick)))
    return sorted(nets)


def map_specs(quick: bool) -> list:
    """Labels: problem, method ("exact_tp" or "bp_adam"), seed; exact TP: slice (e.g. "alpha_eta"), row and
    col (the slice's two option values: numbers, None for no cap, "full" for full-batch); backprop: depth
    and width of its network."""
    specs = []
    for problem in PROBLEMS:
        seeds = SEEDS[problem][:1] if quick else SEEDS[problem]
        for name, cells in _slices(problem, quick).items():
            for row, col, overrides in cells:
                options = {**DEFAULTS, **overrides}
                for seed in seeds:
                    specs.append(_exact_tp(problem, quick, f"{problem}|{name}|{row}|{col}|seed={seed}",
                                           dict(slice=name, row=row, col=col, seed=seed), seed=seed, **options))
        for (depth, width), seed in itertools.product(bp_networks(problem, quick), seeds):
            specs.append(_backprop(problem, quick, f"{problem}|bp_adam|{depth}|{width}|seed={seed}",
                                   dict(depth=depth, width=width, seed=seed), seed=seed, depth=depth, width=width))
    return specs


def variant_specs(quick: bool) -> list:
    """Labels: problem, method="exact_tp", variant (a name in VARIANTS), batch, eta, seed."""
    specs = []
    etas, batches = _grid(VARIANT_ETAS, quick), _grid(VARIANT_BATCHES, quick)
    for problem in PROBLEMS:
        seeds = SEEDS[problem][:1] if quick else SEEDS[problem][:2]
        for (name, extra), eta, batch, seed in itertools.product(VARIANTS.items(), etas, batches, seeds):
            options = {**DEFAULTS, "eta": eta, "batch": batch, "depth": 2, "extra": extra}
            specs.append(_exact_tp(problem, quick, f"{problem}|{name}|{batch}|{eta}|seed={seed}",
                                   dict(variant=name, batch=batch, eta=eta, seed=seed), seed=seed, **options))
    return specs


MECHANISM_PROBLEMS = ("teacher", "fmnist")
PROBE_SAMPLES = 256


def mechanism_specs(quick: bool) -> list:
    """Labels: problem, method ("exact_tp" or "bp_adam"), variant (exact TP only), seed."""
    specs = []
    for problem in MECHANISM_PROBLEMS:
        for name, extra in VARIANTS.items():
            options = {**DEFAULTS, "depth": 2, "extra": extra}
            specs.append(_exact_tp(problem, quick, f"{problem}|{name}", dict(variant=name, seed=0), seed=0,
                                   probe=PROBE_SAMPLES, **options))
        specs.append(_backprop(problem, quick, f"{problem}|bp_adam", dict(seed=0), seed=0, depth=2,
                               probe=PROBE_SAMPLES))
    return specs


FINAL_SEEDS = (0,)
FINAL_EPOCHS = 15


def chosen_variants(quick: bool) -> dict:
    """{variant: the atlas_variants Fashion-MNIST RunSpec with the best held-out score}; raises if the
    variant map is missing or stale (defining a study never trains another one)."""
    runs = fresh_results("atlas_variants", quick).select(problem="fmnist")
    picks = best_per_group(runs, lambda spec: spec.labels["variant"], "classification")
    return {name: spec for name, (spec, _) in picks.items()}


def final_specs(quick: bool) -> list:
    """Labels: network, method="exact_tp", variant, seed."""
    data = dict(name="fashion_mnist", n_train=2000, n_test=500) if quick else dict(name="fashion_mnist")
    seeds = FINAL_SEEDS[:1] if quick else FINAL_SEEDS
    return [RunSpec(key=f"784-256-256-10|{name}|seed={seed}", data=data, sizes=(784, 256, 256, 10),
                    activation="relu", rule="exact_tp", rule_options=tuned.rule_options,
                    epochs=QUICK_EPOCHS if quick else FINAL_EPOCHS, batch_size=tuned.batch_size, seed=seed,
                    labels=dict(network="784-256-256-10", method="exact_tp", variant=name, seed=seed))
            for name, tuned in chosen_variants(quick).items() for seed in seeds]


study("atlas_map", 1, "chapter 8: exact TP over alpha x eta, batch x eta, cap x margin, depth x width")(map_specs)
study("atlas_variants", 1, "chapter 10: the seed rule and its variants over batch x eta")(variant_specs)
study("atlas_mechanism", 1, "chapter 9: per-epoch mechanism probes of exact TP, variants, backprop")(
    mechanism_specs)
study("verdict_final", 1, "verdict: each exact-TP variant's chosen setting on full Fashion-MNIST",
      depends=("atlas_variants",))(final_specs)


def _order(value):
    """Sort key of a map axis: numbers ascending, then None (no cap), then "full" (full batch)."""
    return (value is None, value == "full", value if isinstance(value, (int, float)) else 0)


def map_cells(results, problem: str, slice_name: str) -> tuple:
    """The runs of one slice as a grid: (row values, column values, {(row, col): [(spec, History), ...]})."""
    cells = {}
    for spec, history in results.select(problem=problem, slice=slice_name):
        cells.setdefault((spec.labels["row"], spec.labels["col"]), []).append((spec, history))
    rows = sorted({r for r, _ in cells}, key=_order)
    cols = sorted({c for _, c in cells}, key=_order)
    return rows, cols, cells


def reference_losses(results, problem: str, metric: str = "train_mse") -> dict:
    """{(depth, width): mean final loss of backprop (Adam) over seeds} for the problem's networks."""
    losses = {}
    for spec, history in results.select(problem=problem, method="bp_adam"):
        if not history.diverged:
            losses.setdefault((spec.labels["depth"], spec.labels["width"]), []).append(history.metrics[metric][-1])
    return {k: float(sum(v) / len(v)) for k, v in losses.items()}


def network_of(spec) -> tuple:
    """(depth, width) of a run's network."""
    return len(spec.sizes) - 2, spec.sizes[1]


def linear_references(results, problems=None) -> dict:
    """{problem: metrics of the least-squares affine map on that problem's data} for a study whose runs
    are labelled with a problem (``problems``: which; default the atlas's)."""
    out = {}
    for problem in PROBLEMS if problems is None else problems:
        spec = next((s for s in results.specs if s.labels["problem"] == problem), None)
        if spec is not None:
            out[problem] = affine_metrics(spec)
    return out


def classified(results, linear: dict | None = None) -> list:
    """Every exact-TP run of an ``atlas_map`` result with its convergence class and where it ended:
    dicts with problem, slice, cls, spec, history, vs_linear (final training loss / least squares)
    and vs_bp (/ backprop-Adam's on the same network). ``linear``: linear_references(results), if the
    caller has it already."""
    linear = linear_references(results) if linear is None else linear
    refs = {problem: reference_losses(results, problem) for problem in linear}
    records = []
    for spec, history in results.select(method="exact_tp"):
        problem, name = spec.labels["problem"], spec.labels["slice"]
        reference = refs[problem][network_of(spec)]
        final = float("nan") if history.diverged else history.metrics["train_mse"][-1]
        records.append(dict(problem=problem, slice=name, cls=classify(history, reference), spec=spec,
                            history=history, vs_linear=final / linear[problem]["train_mse"],
                            vs_bp=final / reference))
    return records
