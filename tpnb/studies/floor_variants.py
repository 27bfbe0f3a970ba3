"""Chapter 13: the variants the causal test points to, on full Fashion-MNIST 784-256-256-10, next to backprop-SGD
and the least-squares affine classifier.

- ``floor_variants_tuning``: pinv input targets (chapter 10) with each hidden target rule the causal test
  points to (on-thresholds t in THRESHOLDS, and the mask) at the batch sizes BATCHES; alpha, eta, cap and margin
  chapter 8's defaults; 3 epochs on 50 000 training images scored on the other 10 000 (a validation split: the
  test set is not used).
- ``floor_variants_final``: the best tuning run ("variant", ranked by ``selection.score``) and the 2 x 2
  factorial around it on the full 60 000 / 10 000 split for verdict_final's 15 epochs, all at the chosen batch
  size: the seed's rule (mean averaging, the seed's hidden targets), "pinv" (pinv averaging only),
  "hidden_rule" (the chosen hidden target rule with the seed's mean averaging) and the variant (both);
  backprop-SGD (lr 0.03, batch 32: chapter 4's tuned setting) on the same network. Three seeds for the
  variant, the seed's rule and backprop, two for the factorial's other two cells. A 256-sample probe after
  every epoch (R^2 of an affine fit, active shares, realised switches) and the targets' requested switches;
seed 0 of the seed's rule, the variant and backprop keeps its trained weights (the chapter fits a
least-squares readout to their hidden features).

Labels: network ("784-256-256-10"), method ("exact_tp" or "bp_sgd"), cell ("seed", "pinv", "hidden_rule",
"variant", or "bp_sgd" for backprop), seed; tuning runs: hidden ("threshold" or "mask"), threshold, batch.
"""
from __future__ import annotations

import math

from ..floor import final_floor_ratio
from .atlas import DEFAULTS, FINAL_EPOCHS, PROBLEMS as ATLAS_PROBLEMS, QUICK_EPOCHS
from .core import RunSpec, affine_metrics, study
from .report import final_value, seed_stats
from .results import fresh_results
from .selection import best_run, held_out

NETWORK, SIZES = "784-256-256-10", (784, 256, 256, 10)
THRESHOLDS = (0.03, 0.1, 0.3)
BATCHES = (8, 32)
TUNING_EPOCHS = 3
SEEDS, FACTORIAL_SEEDS = (0, 1, 2), (0, 1)
PROBE_SAMPLES = 256
BASE = dict(alpha=DEFAULTS["alpha"], eta=DEFAULTS["eta"], cap=DEFAULTS["cap"], margin=DEFAULTS["margin"],
            diagnostics=True)
BP_SGD = dict(optimizer="sgd", lr=0.03)
KEPT = ("seed", "variant")      # cells whose seed-0 run keeps its trained weights (so does backprop's)


def hidden_rules(quick: bool) -> dict:
    """{name: ExactTP options of the hidden target rule}: the on-thresholds, then the mask."""
    rules = {f"threshold={t}": dict(hidden_target="threshold", threshold=t)
             for t in (THRESHOLDS[1:2] if quick else THRESHOLDS)}
    if not quick:
        rules["mask"] = dict(hidden_target="mask")
    return rules


def tuning_specs(quick: bool) -> list:
    data = dict(ATLAS_PROBLEMS["fmnist"]["quick"]) if quick else dict(name="fashion_mnist", validation=10000)
    specs = []
    for name, hidden in hidden_rules(quick).items():
        for batch in BATCHES[:1] if quick else BATCHES:
            specs.append(RunSpec(key=f"{NETWORK}|pinv+{name}|B={batch}", data=data, sizes=SIZES, activation="relu",
                                 rule="exact_tp", rule_options={**BASE, "input_rule": "pinv", **hidden},
                                 epochs=QUICK_EPOCHS if quick else TUNING_EPOCHS, batch_size=batch, seed=0,
                                 labels=dict(network=NETWORK, method="exact_tp", hidden=hidden["hidden_target"],
                                             threshold=hidden.get("threshold"), batch=batch, seed=0)))
    return specs


def chosen(quick: bool):
    """The best ``floor_variants_tuning`` RunSpec (on its validation split); raises if it is missing or stale."""
    spec, _ = best_run(fresh_results("floor_variants_tuning", quick).items(), "classification")
    return spec


def final_specs(quick: bool) -> list:
    tuned = chosen(quick)
    hidden = {k: tuned.rule_options[k] for k in ("hidden_target", "threshold") if k in tuned.rule_options}
    data = dict(name="fashion_mnist", n_train=2000, n_test=500) if quick else dict(name="fashion_mnist")
    cells = {"variant": ({**BASE, "input_rule": "pinv", **hidden}, SEEDS),
             "seed": (dict(BASE), SEEDS),
             "pinv": ({**BASE, "input_rule": "pinv"}, FACTORIAL_SEEDS),
             "hidden_rule": ({**BASE, **hidden}, FACTORIAL_SEEDS)}
    epochs = QUICK_EPOCHS if quick else FINAL_EPOCHS
    specs = []
    for cell, (options, seeds) in cells.items():
        for seed in seeds[:1] if quick else seeds:
            specs.append(RunSpec(key=f"{NETWORK}|{cell}|seed={seed}", data=data, sizes=SIZES, activation="relu",
                                 rule="exact_tp", rule_options={**options, "count_switches": True}, epochs=epochs,
                                 batch_size=tuned.batch_size, seed=seed, probe=PROBE_SAMPLES,
                                 keep_weights=seed == 0 and cell in KEPT,
                                 labels=dict(network=NETWORK, method="exact_tp", cell=cell, seed=seed)))
    for seed in SEEDS[:1] if quick else SEEDS:
        specs.append(RunSpec(key=f"{NETWORK}|bp_sgd|seed={seed}", data=data, sizes=SIZES, activation="relu",
                             rule="backprop", rule_options=dict(BP_SGD), epochs=epochs, batch_size=32, seed=seed,
                             probe=PROBE_SAMPLES, keep_weights=seed == 0,
                             labels=dict(network=NETWORK, method="bp_sgd", cell="bp_sgd", seed=seed)))
    return specs


study("floor_variants_tuning", 1, "chapter 13: pinv + hidden target rules on Fashion-MNIST (validation split)")(
    tuning_specs)
study("floor_variants_final", 1, "chapter 13: the chosen variant and its 2x2 factorial on full Fashion-MNIST",
      depends=("floor_variants_tuning",))(final_specs)


CELLS = ("seed", "pinv", "hidden_rule", "variant", "bp_sgd")
MEASURES = ("test_acc", "loss_ratio", "r2", "active", "angle_bp_1")


def affine_floor(results) -> dict:
    """Metrics of the least-squares affine classifier on the final study's data (tpnb.baselines)."""
    return affine_metrics(results.specs[0])


def run_measures(history, probes: list, floor: dict) -> dict:
    """One final run's numbers: test_acc (last epoch), loss_ratio (training MSE / the affine model's), and from
    the last probe r2 (affine fit to the outputs), active (share of active pairs, mean over the two hidden
    layers) and angle_bp_1 (degrees between the first layer's update and the negative gradient). NaN
    everywhere for a diverged run."""
    if history.diverged:
        return dict.fromkeys(MEASURES, math.nan)
    last = probes[-1]
    return {"test_acc": final_value(history, "test_acc"), "loss_ratio": final_floor_ratio(history, floor),
            "r2": last["linearity_r2"], "active": (last["active_1"] + last["active_2"]) / 2,
            "angle_bp_1": last["angle_bp_1"]}


def cell_stats(results, floor: dict | None = None) -> dict:
    """{cell: {measure: seed_stats over the cell's seeds}} for a ``floor_variants_final`` result (cells in
    CELLS order; floor: affine_floor(results), if the caller has it)."""
    floor = affine_floor(results) if floor is None else floor
    out = {}
    for cell in CELLS:
        runs = results.select(cell=cell)
        per_run = [run_measures(h, results.probes(s.key), floor) for s, h in runs]
        out[cell] = {m: seed_stats(r[m] for r in per_run) for m in MEASURES}
    return out


def tuning_rows(results) -> list:
    """[(hidden rule name, batch, validation accuracy averaged over the last quarter of the epochs)] of a
    ``floor_variants_tuning`` result, in study order."""
    return [(f"pinv+{hidden_name(s)}", s.batch_size, held_out(h, "classification")) for s, h in results.items()]


def hidden_name(spec) -> str:
    """The hidden target rule of a tuning run, from its labels: "mask" or "threshold=<t>"."""
    return "mask" if spec.labels["hidden"] == "mask" else f"threshold={spec.labels['threshold']}"
