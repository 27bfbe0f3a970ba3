"""Seed 003's Fashion-MNIST experiments at their own protocol (Table 2), for chapter 11.

Seed 003 (section 4): ReLU first hidden layer, sigmoid units elsewhere (the output included), MSE on
one-hot targets, batch size 1, inputs scaled to [0, 1], 50 000 training and 10 000 test images, 30 epochs
(60 for three hidden layers), its initialisation (the printed constants, ``init="gtp"``) and its (tau, eta)
per row. The seed does not state T, the number of Euler steps; the authors' public code uses one.

- ``gtp_table``: every row of Table 2 with T = 1 and the printed initialisation (3 seeds for 784-100-10
  and 784-100-100-10, 1 for the other rows); the corrected initialisation of chapter 7 on the two small rows
  (1 seed); backprop with layer l's learning rate eta tau^(L - l) from the same initialisation and data
  order on the two small rows (chapter 7: what GTP with T = 1 amounts to).
- ``gtp_steps_tuning``: T in {2, 5, 10} x tau on 784-100-10, 3 epochs on 40 000 images scored on the
  other 10 000 of the 50 000 (a validation split; the test set is not used).
- ``gtp_steps_final``: the best T > 1 of the tuning on 784-100-10 at the full protocol, 3 seeds.
- ``gtp_steps_control``: what the extra steps add. T = 1 with the step T tau of the tuned setting, 3 seeds:
  to first order in tau, T Euler steps of tau move a target as far as one step of T tau (each step adds
  tau times the same gradient at the start), so a gap between the two is the steps' higher-order effect,
  and no gap says the tuned setting differs from the published one by its step size alone.

Labels: network ("784-100-10", ...), method ("gtp" or "bp_layer_lr"), init ("printed" or "corrected"),
steps (T), tau, eta, seed, published (the row's published test accuracy, a fraction) and role ("table",
"init", "equivalence", "steps", "control").
"""
from __future__ import annotations

from ..published import SEED003_TABLE2
from .core import RunSpec, study
from .results import fresh_results
from .selection import best_run

SMALL_ROWS = ((784, 100, 10), (784, 100, 100, 10))
# seed 003, Table 2 (tpnb.published): network -> (published test accuracy, tau, eta, epochs, seeds here: 3 on
# the small rows, 1 on the others)
TABLE = {sizes: (*row, 3 if sizes in SMALL_ROWS else 1) for sizes, row in SEED003_TABLE2.items()}
STEPS = (2, 5, 10)
QUICK_DATA = dict(name="fashion_mnist", n_train=300, n_test=100)


def name(sizes) -> str:
    return "-".join(map(str, sizes))


def activations(sizes) -> tuple:
    """ReLU in the first hidden layer, sigmoid in the others (seed 003, section 4)."""
    return ("relu",) + ("sigmoid",) * (len(sizes) - 3)


def _data(quick: bool) -> dict:
    return QUICK_DATA if quick else dict(name="fashion_mnist", n_train=50000)


def seed003_run(sizes, *, rule: str, options: dict, epochs: int, seed: int, init: str, quick: bool,
                data: dict | None = None, **labels) -> RunSpec:
    """One run on seed 003's network ``sizes`` at batch size 1 (labels: network, method, init, seed + ``labels``)."""
    method = "gtp" if rule == "gtp" else "bp_layer_lr"
    return RunSpec(key=f"{name(sizes)}|{method}|{init}|" + ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
                   + f"|seed={seed}", data=_data(quick) if data is None else data, sizes=tuple(sizes),
                   activation=activations(sizes), output_activation="sigmoid", rule=rule, rule_options=options,
                   epochs=1 if quick else epochs, batch_size=1, seed=seed,
                   init="gtp" if init == "printed" else "gtp_corrected",
                   labels=dict(network=name(sizes), method=method, init=init, seed=seed, **labels))


def gtp_options(tau: float, eta: float, steps: int = 1) -> dict:
    return dict(tau=tau, steps=steps, lr=eta, angles=False)


def layer_scales(sizes, tau: float) -> list:
    """tau^(L - l) for layers l = 1..L: GTP with T = 1 as backprop's per-layer learning-rate factors."""
    depth = len(sizes) - 1
    return [tau ** (depth - l) for l in range(1, depth + 1)]


def effective_learning_rates(sizes, tau: float, eta: float) -> list:
    """What GTP with T = 1, step tau and learning rate eta amounts to (chapter 7): backprop (SGD on the MSE
    of the sigmoid output) with layer l's learning rate eta tau^(L - l), l = 1..L."""
    return [eta * s for s in layer_scales(sizes, tau)]


def table_specs(quick: bool) -> list:
    specs = []
    rows = dict(list(TABLE.items())[:2]) if quick else TABLE        # the small rows first: three seeds each
    for sizes, (published, tau, eta, epochs, n_seeds) in rows.items():
        for seed in range(1 if quick else n_seeds):
            specs.append(seed003_run(sizes, rule="gtp", options=gtp_options(tau, eta), epochs=epochs, seed=seed,
                                     init="printed", quick=quick, steps=1, tau=tau, eta=eta, published=published,
                                     role="table"))
    for sizes in SMALL_ROWS:
        published, tau, eta, epochs, _ = TABLE[sizes]
        specs.append(seed003_run(sizes, rule="gtp", options=gtp_options(tau, eta), epochs=epochs, seed=0,
                                 init="corrected", quick=quick, steps=1, tau=tau, eta=eta, published=published,
                                 role="init"))
        specs.append(seed003_run(sizes, rule="backprop", options=dict(lr=eta, layer_scales=layer_scales(sizes, tau)),
                                 epochs=epochs, seed=0, init="printed", quick=quick, steps=1, tau=tau, eta=eta,
                                 published=published, role="equivalence"))
    return specs


def steps_taus(steps: int, tau_published: float) -> tuple:
    """The Euler steps tried with T steps: the published tau, tau / T (the same total time T tau), and 1."""
    return tuple(sorted({tau_published, tau_published / steps, 1.0}))


def steps_tuning_specs(quick: bool) -> list:
    sizes = SMALL_ROWS[0]
    published, tau, eta, _, _ = TABLE[sizes]
    data = dict(QUICK_DATA, validation=100) if quick else dict(name="fashion_mnist", n_train=50000, validation=10000)
    specs = []
    for steps in STEPS[:1] if quick else STEPS:
        for t in steps_taus(steps, tau)[:1] if quick else steps_taus(steps, tau):
            specs.append(seed003_run(sizes, rule="gtp", options=gtp_options(t, eta, steps), epochs=3, seed=0,
                                     init="printed", quick=quick, data=data, steps=steps, tau=t, eta=eta,
                                     published=published, role="steps", split="validation"))
    return specs


def tuned_setting(quick: bool) -> tuple:
    """(T, tau) of the best ``gtp_steps_tuning`` run (validation accuracy)."""
    tuned, _ = best_run(fresh_results("gtp_steps_tuning", quick).items(), "classification")
    return tuned.rule_options["steps"], tuned.rule_options["tau"]


def small_row_runs(quick: bool, steps: int, tau: float, role: str) -> list:
    """GTP with ``steps`` Euler steps of ``tau`` on 784-100-10 at seed 003's protocol, its seeds."""
    sizes = SMALL_ROWS[0]
    published, _, eta, epochs, n_seeds = TABLE[sizes]
    return [seed003_run(sizes, rule="gtp", options=gtp_options(tau, eta, steps), epochs=epochs, seed=seed,
                        init="printed", quick=quick, steps=steps, tau=tau, eta=eta, published=published, role=role)
            for seed in range(1 if quick else n_seeds)]


def steps_final_specs(quick: bool) -> list:
    steps, tau = tuned_setting(quick)
    return small_row_runs(quick, steps, tau, "steps")


def steps_control_specs(quick: bool) -> list:
    steps, tau = tuned_setting(quick)
    return small_row_runs(quick, 1, steps * tau, "control")          # one step as long as the T steps


study("gtp_table", 1, "chapter 11: seed 003's Table 2 (Fashion-MNIST) at its protocol, GTP with T = 1")(table_specs)
study("gtp_steps_tuning", 1, "chapter 11: GTP with T > 1 Euler steps on 784-100-10 (validation split)")(
    steps_tuning_specs)
study("gtp_steps_final", 1, "chapter 11: the best T > 1 on 784-100-10 at seed 003's protocol",
      depends=("gtp_steps_tuning",))(steps_final_specs)
study("gtp_steps_control", 1, "chapter 15: GTP with T = 1 and the tuned T > 1 setting's whole step T tau "
      "(does the gain come from the steps or from the step size?)", depends=("gtp_steps_tuning",))(steps_control_specs)
