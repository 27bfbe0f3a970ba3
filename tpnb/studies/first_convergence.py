"""Chapter 4: exact TP over a small grid against backprop (SGD, Adam) on the same nets, data, seeds.

Every setting is chosen on a validation split carved from the training set (``*_tuning`` studies);
the ``*_final`` studies then train the chosen settings on the full training set and report the test set.
"""
from __future__ import annotations

import itertools

from .core import RunSpec, study
from .results import fresh_results
from .selection import best_per_group

# alpha (input/weight split), eta (step to the batch mean), batch size: the exact TP grid
ALPHAS = (0.1, 0.5, 0.9)
ETAS = (0.1, 0.5, 1.0)
SGD_LRS = (0.01, 0.03, 0.1, 0.3)
ADAM_LRS = (1e-4, 3e-4, 1e-3, 3e-3)
FINAL_SEEDS = (0, 1)

PROBLEMS = {
    "teacher": dict(
        data=dict(name="teacher_student", n_train=4000, n_test=1000, n_inputs=20, hidden=(32,),
                  n_outputs=1, noise=0.0, seed=123),
        quick_data=dict(name="teacher_student", n_train=400, n_test=200, n_inputs=20, hidden=(32,),
                        n_outputs=1, noise=0.0, seed=123),
        validation=1000, quick_validation=100, task="regression",
        archs={"20-64-1": (20, 64, 1), "20-64-64-1": (20, 64, 64, 1)},
        batch_sizes=(1, 32, 256), tune_epochs=30, final_epochs=60, quick_epochs=3),
    "fmnist": dict(
        data=dict(name="fashion_mnist"),
        quick_data=dict(name="fashion_mnist", n_train=1500, n_test=500),
        validation=10000, quick_validation=500, task="classification",
        archs={"784-256-10": (784, 256, 10), "784-256-256-10": (784, 256, 256, 10)},
        batch_sizes=(32, 256), tune_epochs=3, final_epochs=15, quick_epochs=2),
}


def _methods(batch_sizes, quick):
    """(method, config name, rule, options, batch size, setting labels) for every candidate setting."""
    alphas, etas = ((0.5,), (1.0,)) if quick else (ALPHAS, ETAS)
    batches = batch_sizes[-1:] if quick else batch_sizes
    out = []
    for alpha, eta, batch in itertools.product(alphas, etas, batches):
        out.append(("exact_tp", f"alpha={alpha},eta={eta},B={batch}", "exact_tp",
                    dict(alpha=alpha, eta=eta), batch, dict(alpha=alpha, eta=eta, batch=batch)))
    sgd, adam = (SGD_LRS[2:3], ADAM_LRS[2:3]) if quick else (SGD_LRS, ADAM_LRS)
    bp_batch = 32 if 32 in batch_sizes else batch_sizes[0]
    out += [("bp_sgd", f"lr={lr}", "backprop", dict(optimizer="sgd", lr=lr), bp_batch, dict(lr=lr)) for lr in sgd]
    out += [("bp_adam", f"lr={lr}", "backprop", dict(optimizer="adam", lr=lr), bp_batch, dict(lr=lr))
            for lr in adam]
    return out


def _data(problem, quick, validation):
    p = PROBLEMS[problem]
    data = dict(p["quick_data"] if quick else p["data"])
    if validation:
        data["validation"] = p["quick_validation"] if quick else p["validation"]
    return data


def tuning_specs(problem, quick):
    """Labels: problem, network (e.g. "20-64-1"), method ("exact_tp", "bp_sgd", "bp_adam"), split="validation",
    seed=0 and the setting: alpha, eta, batch (exact TP) or lr (backprop)."""
    p = PROBLEMS[problem]
    epochs = p["quick_epochs"] if quick else p["tune_epochs"]
    return [RunSpec(key=f"{arch}|{method}|{config}", data=_data(problem, quick, True), sizes=sizes,
                    activation="relu", rule=rule, rule_options=options, epochs=epochs,
                    batch_size=batch, seed=0,
                    labels=dict(problem=problem, network=arch, method=method, split="validation", seed=0,
                                **setting))
            for arch, sizes in p["archs"].items()
            for method, config, rule, options, batch, setting in _methods(p["batch_sizes"], quick)]


def chosen(problem, quick, tuning=None):
    """{(arch, method): tuning RunSpec with the best validation score}. ``tuning``: the tuning results a
    chapter loaded (possibly the previous complete ones, during a regeneration); by default they are read
    and must be fresh (StaleResultsError otherwise): defining a study never trains another one."""
    tuning = fresh_results(f"{problem}_tuning", quick) if tuning is None else tuning
    picks = best_per_group(tuning.items(),
                           lambda spec: (spec.labels["network"], spec.labels["method"]), PROBLEMS[problem]["task"])
    return {k: spec for k, (spec, _) in picks.items()}


def final_specs(problem, quick):
    """Labels: problem, network, method, split="test", seed."""
    p = PROBLEMS[problem]
    epochs = p["quick_epochs"] if quick else p["final_epochs"]
    seeds = FINAL_SEEDS[:1] if quick else FINAL_SEEDS
    return [RunSpec(key=f"{arch}|{method}|seed={seed}", data=_data(problem, quick, False),
                    sizes=tuned.sizes, activation="relu", rule=tuned.rule,
                    rule_options=tuned.rule_options, epochs=epochs, batch_size=tuned.batch_size,
                    seed=seed, labels=dict(problem=problem, network=arch, method=method, split="test", seed=seed))
            for (arch, method), tuned in chosen(problem, quick).items() for seed in seeds]


for _problem in PROBLEMS:
    study(f"{_problem}_tuning", 1, f"chapter 4: settings of every method on a {_problem} validation split")(
        lambda quick, p=_problem: tuning_specs(p, quick))
    study(f"{_problem}_final", 1, f"chapter 4: chosen settings on the full {_problem} train/test split",
          depends=(f"{_problem}_tuning",))(
        lambda quick, p=_problem: final_specs(p, quick))
