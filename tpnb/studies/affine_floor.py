"""Chapter 13: the causal test of the affine floor — which step of exact TP makes it settle at the best affine
model.

Study ``affine_floor``: the seed's rule and interventions that each change one step of it, everything else
equal (the network's initialisation, the data order and the seeds are the run's seed; alpha, eta, batch size,
cap and margin are chapter 8's defaults), on the teacher-student regression (20-64-64-1) and the
Fashion-MNIST subset of the atlas (784-256-256-10, 10k training images, 10k held-out training images as the
test set), three seeds, with the mechanism probes of chapter 9 after every epoch and the rule's requested
unit switches (``count_switches``) at every step. The interventions (``VARIANTS``):

- the hidden target rule (tpnb.rules.hidden_targets): "threshold" at several t, "mask", "preactivation";
- the activation, with its exact inverse: leaky ReLU, x + relu(x), tanh;
- the averaging of the neurons' proposals: input_rule="pinv" (chapter 10);
- the output target: "step" (beta = 0.2, as chapter 10);
- and, because the averaging turns out to matter, the hidden-target and activation changes again with pinv;
next to backprop (Adam and SGD) on the same networks.
"""
from __future__ import annotations

import itertools
import math

from . import atlas
from .atlas import ADAM, DEFAULTS, PROBLEMS as ATLAS_PROBLEMS
from .core import RunSpec, study
from .report import final_value
from ..floor import final_floor_ratio

PROBLEMS = {
    "teacher": dict(ATLAS_PROBLEMS["teacher"], epochs=20, quick_epochs=3),
    "fmnist": dict(ATLAS_PROBLEMS["fmnist"], epochs=10, quick_epochs=2),
}
SEEDS = (0, 1, 2)
THRESHOLDS = {"teacher": (0.01, 0.03, 0.1, 0.3, 1.0), "fmnist": (0.01, 0.1, 1.0)}   # on-thresholds t
QUICK_THRESHOLDS = (0.1,)
PROBE_SAMPLES = 256
STEP_TARGET = dict(output_target="step", beta=0.2)
SGD = dict(optimizer="sgd", lr=0.03)


def thresholds(problem: str, quick: bool) -> tuple:
    """The on-thresholds t of the problem's "threshold" variants."""
    return QUICK_THRESHOLDS if quick else THRESHOLDS[problem]


def variants(problem: str, quick: bool) -> dict:
    """{name: (activation, exact-TP options, labels)}: the seed, every one-step intervention, and the
    hidden-target and activation interventions combined with pinv. Labels: hidden (the hidden-target rule),
    threshold (its t, or None), activation, averaging ("mean" or "pinv"), output ("label" or "step")."""
    hidden = [("seed", {}, None)] + [(f"threshold={t}", dict(hidden_target="threshold", threshold=t), t)
                                     for t in thresholds(problem, quick)]
    hidden += [(name, dict(hidden_target=name), None) for name in ("mask", "preactivation")]
    variants = {}
    for averaging, prefix in (("mean", ""), ("pinv", "pinv+")):
        extra = dict(input_rule="pinv") if averaging == "pinv" else {}
        for name, options, t in hidden:
            label = "pinv" if (averaging, name) == ("pinv", "seed") else prefix + name
            variants[label] = ("relu", {**options, **extra},
                               dict(hidden=options.get("hidden_target", "seed"), threshold=t))
        for activation in ("leaky_relu", "x_plus_relu", "tanh"):
            variants[prefix + activation] = (activation, dict(extra), dict(hidden="inverse", threshold=None))
    variants["step"] = ("relu", dict(STEP_TARGET), dict(hidden="seed", threshold=None))
    for name, (activation, options, labels) in variants.items():
        labels.update(activation=activation, averaging=options.get("input_rule", "mean"),
                      output=options.get("output_target", "label"))
    return variants


def _spec(problem: str, quick: bool, key: str, rule: str, options: dict, activation: str, seed: int,
          labels: dict) -> RunSpec:
    p = PROBLEMS[problem]
    return RunSpec(key=key, data=dict(p["quick" if quick else "data"]),
                   sizes=(p["inputs"], p["width"], p["width"], p["outputs"]), activation=activation, rule=rule,
                   rule_options=options, epochs=p["quick_epochs"] if quick else p["epochs"],
                   batch_size=DEFAULTS["batch"], seed=seed, probe=PROBE_SAMPLES,
                   labels=dict(problem=problem, seed=seed, **labels))


def floor_specs(quick: bool) -> list:
    """Labels: problem, method ("exact_tp", "bp_adam" or "bp_sgd"), variant (a name of the exact-TP
    variants, or the backprop method), seed; exact TP also hidden, threshold, activation, averaging, output."""
    base = dict(alpha=DEFAULTS["alpha"], eta=DEFAULTS["eta"], cap=DEFAULTS["cap"], margin=DEFAULTS["margin"],
                diagnostics=True, count_switches=True)
    seeds = SEEDS[:1] if quick else SEEDS
    specs = []
    for problem in PROBLEMS:
        for seed in seeds:
            for name, (activation, options, labels) in variants(problem, quick).items():
                specs.append(_spec(problem, quick, f"{problem}|{name}|seed={seed}", "exact_tp",
                                   {**base, **options}, activation, seed,
                                   dict(method="exact_tp", variant=name, **labels)))
            for method, options in (("bp_adam", ADAM), ("bp_sgd", SGD)):
                specs.append(_spec(problem, quick, f"{problem}|{method}|seed={seed}", "backprop", dict(options),
                                   "relu", seed, dict(method=method, variant=method)))
    return specs


study("affine_floor", 1, "chapter 13: one step of exact TP changed at a time, against the affine floor")(
    floor_specs)

# the variants the causal test points to: pinv input targets with an on-threshold (or the mask)
MAP_VARIANTS = {"pinv+threshold=0.1": dict(input_rule="pinv", hidden_target="threshold", threshold=0.1),
                "pinv+mask": dict(input_rule="pinv", hidden_target="mask")}


def map_specs(quick: bool) -> list:
    """MAP_VARIANTS over chapter 10's batch x eta map, built as atlas_variants builds it (so the seed's rule on
    the same cells is atlas_variants' variant "seed"). Labels as there: problem, method="exact_tp", variant,
    batch, eta, seed."""
    specs = []
    etas, batches = atlas._grid(atlas.VARIANT_ETAS, quick), atlas._grid(atlas.VARIANT_BATCHES, quick)
    for problem in atlas.PROBLEMS:
        seeds = atlas.SEEDS[problem][:1] if quick else atlas.SEEDS[problem][:2]
        for (name, extra), eta, batch, seed in itertools.product(MAP_VARIANTS.items(), etas, batches, seeds):
            options = {**DEFAULTS, "eta": eta, "batch": batch, "depth": 2, "extra": extra}
            specs.append(atlas._exact_tp(problem, quick, f"{problem}|{name}|{batch}|{eta}|seed={seed}",
                                         dict(variant=name, batch=batch, eta=eta, seed=seed), seed=seed, **options))
    return specs


study("affine_floor_map", 1, "chapter 13: pinv + on-threshold variants over chapter 10's batch x eta map")(
    map_specs)


def floors(results) -> dict:
    """{problem: metrics of the least-squares affine model on that problem's data} (tpnb.baselines)."""
    return atlas.linear_references(results, PROBLEMS)


def run_measures(history, probes: list, floor: dict, task: str) -> dict:
    """The causal test's numbers for one run: train and test loss against the floor (loss_ratio,
    test_ratio: final MSE / the affine model's), test_score (accuracy, or MSE), r2 (affine fit to the outputs,
    last probe) and per hidden layer l: active_<l> (share of active (sample, unit) pairs, last probe),
    on_<l> / off_<l> (realised switches in epoch 1 and the last epoch, as pairs) and, for exact TP,
    switch_on_<l> / switch_off_<l> (the targets' requests, averaged over the steps of epoch 1 and the last).
    A diverged run gives NaN everywhere but its epoch counts."""
    out = {"loss_ratio": final_floor_ratio(history, floor, "train_mse"),
           "test_ratio": final_floor_ratio(history, floor, "test_mse"),
           "test_score": final_value(history, "test_acc" if task == "classification" else "test_mse"),
           "r2": math.nan if history.diverged else probes[-1]["linearity_r2"]}
    for l in (1, 2):
        out[f"active_{l}"] = math.nan if history.diverged else probes[-1][f"active_{l}"]
        for kind in ("on", "off"):
            out[f"{kind}_{l}"] = ((math.nan, math.nan) if history.diverged
                                  else (probes[1][f"{kind}_{l}"], probes[-1][f"{kind}_{l}"]))
            key = f"switch_{kind}_{l}"
            out[key] = ((math.nan, math.nan) if history.diverged or key not in history.diagnostics[-1]
                        else (history.diagnostics[1][key], history.diagnostics[-1][key]))
    return out


def measures(results, floor_metrics: dict | None = None) -> dict:
    """{(problem, variant): [run_measures of each seed, in seed order]} for an ``affine_floor`` result;
    floor_metrics: floors(results), if the caller has it already."""
    floor_metrics = floors(results) if floor_metrics is None else floor_metrics
    out = {}
    for spec, history in sorted(results.items(), key=lambda run: run[0].labels["seed"]):
        problem = spec.labels["problem"]
        out.setdefault((problem, spec.labels["variant"]), []).append(
            run_measures(history, results.probes(spec.key), floor_metrics[problem], PROBLEMS[problem]["task"]))
    return out


# decision boundaries (chapter 13): backprop, the seed's rule and each intervention on two 2-D problems; the
# runs keep their trained weights, which the chapter draws
BOUNDARY_PROBLEMS = {
    "xor": dict(data=dict(name="xor", n_train=400, n_test=400, noise=0.2, seed=0), width=16, epochs=60),
    "two spirals": dict(data=dict(name="two_spirals", n_train=600, n_test=600, noise=0.03, turns=1.0, seed=0),
                        width=64, epochs=100),
}
BOUNDARY_PANELS = ("bp_adam", "seed", "threshold=0.1", "mask", "preactivation", "leaky_relu", "x_plus_relu",
                   "tanh", "pinv", "step", "pinv+threshold=0.1", "pinv+mask")
BOUNDARY_BASE = dict(alpha=0.5, eta=1.0, cap=2.0, margin=0.0)


def boundary_specs(quick: bool) -> list:
    """One run per (problem, panel), seed 0, batch 32, weights kept. Labels: problem, variant."""
    settings = {name: (activation, options) for name, (activation, options, _) in variants("teacher", False).items()}
    specs = []
    for problem, p in BOUNDARY_PROBLEMS.items():
        data = dict(p["data"], n_train=200) if quick else p["data"]
        for name in BOUNDARY_PANELS:
            if name == "bp_adam":
                activation, rule, options = "relu", "backprop", dict(optimizer="adam", lr=3e-3)
            else:
                activation, options = settings[name]
                rule, options = "exact_tp", {**BOUNDARY_BASE, **options}
            specs.append(RunSpec(key=f"{problem}|{name}", data=data, sizes=(2, p["width"], p["width"], 2),
                                 activation=activation, rule=rule, rule_options=options,
                                 epochs=5 if quick else p["epochs"], batch_size=32, seed=0, keep_weights=True,
                                 labels=dict(problem=problem, variant=name)))
    return specs


study("affine_floor_boundaries", 1, "chapter 13: decision boundaries on XOR and two spirals (weights kept)")(
    boundary_specs)
