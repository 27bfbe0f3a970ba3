"""Chapter 5: random-direction TP (seed 001) — as-written vs derived vs least-squares factors, k directions.

Two studies on the problems of chapter 4 (same data, architectures and seeds):

- ``random_tp_teacher``: teacher–student regression, nets 20-64-1 and 20-64-64-1, seeds 0 and 1. Besides
  the main grid it holds a small sweep on the validation split (label ``split="validation"``) over the step
  eta, and single runs for the other options (direction distribution, x + relu(x), a tiny ridge).
- ``random_tp_fmnist``: Fashion-MNIST, 784-256-256-10, seed 0 (one seed keeps the full run affordable).

Random-direction TP inverts the hidden activation, so every net here uses leaky ReLU (slope 0.1), not the
ReLU of chapter 4; backprop (SGD) and exact TP are rerun on the same leaky-ReLU nets as references.
Every random-direction variant uses the same schedule (epochs, batch size), the same step ``ETA`` and the
same relative ridge ``RIDGE``; only the factor and the number of directions k differ.

Labels of every run: problem, network (e.g. "20-64-1"), method ("random_direction_tp", "bp_sgd" or
"exact_tp"), split ("test"; "validation" for the sweep), seed; random-direction runs also factor, k, eta
and ridge (their rule options); sweep runs also ``sweep``, the option they vary ("eta", "distribution",
"activation" or "ridge"), and ``distribution`` or ``activation`` when that is the one they vary.
"""
from __future__ import annotations

from .core import RunSpec, study
from .first_convergence import PROBLEMS

FACTORS = ("as_written", "derived", "least_squares")
KS = (1, 4, 16, 64)
ETA = 0.03          # the step of both moves, from the teacher sweep (eta = 1 is the seed's full factor)
RIDGE = 1e-2        # relative ridge of the least-squares solves (k = 64 >= B needs more than a tiny one)
ACTIVATION = "leaky_relu"
SEEDS = (0, 1)

# references on the same nets: settings that train stably with leaky ReLU
BACKPROP = {"teacher": dict(optimizer="sgd", lr=0.1), "fmnist": dict(optimizer="sgd", lr=0.03)}
EXACT_TP = dict(alpha=0.5, eta=1.0)

TEACHER = dict(archs=PROBLEMS["teacher"]["archs"], batch_size=32, epochs=60, quick_epochs=3)
FMNIST = dict(arch=("784-256-256-10", (784, 256, 256, 10)), batch_size=64, epochs=6, quick_epochs=2)

SWEEP_ETAS = (1.0, 0.1, 0.03, 0.01)
SWEEP_KS = (1, 16)
SWEEP_ARCH = "20-64-64-1"
SWEEP_EPOCHS = 30


def variant(factor: str, k: int) -> str:
    """The run-key name of a random-direction variant, e.g. 'least_squares,k=16'."""
    return f"{factor},k={k}"


def rule_options(factor: str, k: int, seed: int, **extra) -> dict:
    return dict(factor=factor, directions=k, eta=ETA, ridge=RIDGE, seed=seed, **extra)


def _labels(problem: str, arch: str, method: str, seed: int, split: str = "test", options=None, **extra) -> dict:
    """A run's labels; ``options``: a random-direction run's rule options (factor, k, eta, ridge taken from them)."""
    labels = dict(problem=problem, network=arch, method=method, split=split, seed=seed)
    if options is not None:
        labels.update(factor=options["factor"], k=options["directions"], eta=options["eta"], ridge=options["ridge"])
    return dict(labels, **extra)


def _data(problem: str, quick: bool, validation: bool = False) -> dict:
    p = PROBLEMS[problem]
    data = dict(p["quick_data"] if quick else p["data"])
    if validation:
        data["validation"] = p["quick_validation"] if quick else p["validation"]
    return data


def _runs(problem, arch, sizes, data, epochs, batch, seed, prefix=""):
    """Every variant of the grid plus the two references, for one net and seed."""
    specs = [RunSpec(key=f"{prefix}{arch}|{variant(f, k)}|seed={seed}", data=data, sizes=sizes,
                     activation=ACTIVATION, rule="random_direction_tp", rule_options=rule_options(f, k, seed),
                     epochs=epochs, batch_size=batch, seed=seed,
                     labels=_labels(problem, arch, "random_direction_tp", seed, options=rule_options(f, k, seed)))
             for f in FACTORS for k in KS]
    specs.append(RunSpec(key=f"{prefix}{arch}|bp_sgd|seed={seed}", data=data, sizes=sizes, activation=ACTIVATION,
                         rule="backprop", rule_options=BACKPROP[problem], epochs=epochs, batch_size=batch,
                         seed=seed, labels=_labels(problem, arch, "bp_sgd", seed)))
    specs.append(RunSpec(key=f"{prefix}{arch}|exact_tp|seed={seed}", data=data, sizes=sizes, activation=ACTIVATION,
                         rule="exact_tp", rule_options=EXACT_TP, epochs=epochs, batch_size=batch, seed=seed,
                         labels=_labels(problem, arch, "exact_tp", seed)))
    return specs


def teacher_specs(quick: bool) -> list:
    epochs = TEACHER["quick_epochs"] if quick else TEACHER["epochs"]
    seeds = SEEDS[:1] if quick else SEEDS
    specs = [s for arch, sizes in TEACHER["archs"].items() for seed in seeds
             for s in _runs("teacher", arch, sizes, _data("teacher", quick), epochs, TEACHER["batch_size"], seed)]
    # the sweep: validation split, one net, seed 0
    sizes = TEACHER["archs"][SWEEP_ARCH]
    data = _data("teacher", quick, validation=True)
    sweep_epochs = TEACHER["quick_epochs"] if quick else SWEEP_EPOCHS

    def sweep(key, varied, **options):
        activation = options.pop("activation", ACTIVATION)
        opts = dict(rule_options("least_squares", 16, 0), **options)
        extra = {"distribution": dict(distribution=opts.get("distribution")),
                 "activation": dict(activation=activation)}.get(varied, {})
        return RunSpec(key=f"sweep|{key}", data=data, sizes=sizes, activation=activation,
                       rule="random_direction_tp", rule_options=opts, epochs=sweep_epochs,
                       batch_size=TEACHER["batch_size"], seed=0,
                       labels=_labels("teacher", SWEEP_ARCH, "random_direction_tp", 0, "validation", opts,
                                      sweep=varied, **extra))

    specs += [sweep(f"{variant(f, k)}|eta={eta}", "eta", factor=f, directions=k, eta=eta)
              for f in FACTORS for k in SWEEP_KS for eta in SWEEP_ETAS]
    specs += [sweep("least_squares,k=16|distribution=sphere", "distribution", distribution="sphere"),
              sweep("least_squares,k=16|distribution=coordinate", "distribution", distribution="coordinate"),
              sweep("least_squares,k=16|activation=x_plus_relu", "activation", activation="x_plus_relu"),
              sweep("least_squares,k=64|ridge=0.01", "ridge", directions=64),
              sweep("least_squares,k=64|ridge=1e-08", "ridge", directions=64, ridge=1e-8)]
    return specs


def fmnist_specs(quick: bool) -> list:
    arch, sizes = FMNIST["arch"]
    epochs = FMNIST["quick_epochs"] if quick else FMNIST["epochs"]
    data = _data("fmnist", quick)
    specs = _runs("fmnist", arch, sizes, data, epochs, FMNIST["batch_size"], SEEDS[0])
    # the tiny ridge the least-squares solve would otherwise use, at k = 64 = batch size
    tiny = dict(rule_options("least_squares", 64, SEEDS[0]), ridge=1e-8)
    specs.append(RunSpec(key=f"{arch}|least_squares,k=64,ridge=1e-08|seed={SEEDS[0]}", data=data, sizes=sizes,
                         activation=ACTIVATION, rule="random_direction_tp", rule_options=tiny,
                         epochs=epochs, batch_size=FMNIST["batch_size"], seed=SEEDS[0],
                         labels=_labels("fmnist", arch, "random_direction_tp", SEEDS[0], options=tiny)))
    return specs


study("random_tp_teacher", 1, "chapter 5: random-direction TP factors x k on teacher-student regression "
      "(leaky ReLU), with backprop and exact TP, plus an eta sweep on a validation split")(teacher_specs)
study("random_tp_fmnist", 1, "chapter 5: random-direction TP factors x k on Fashion-MNIST 784-256-256-10 "
      "(leaky ReLU), with backprop and exact TP")(fmnist_specs)
