"""Chapter 11: every method on full Fashion-MNIST with the seeds' own architectures and settings.

- "784-256x5-10 tanh" (seed 002's network), batch 128, softmax cross-entropy, Adam: backprop, DFA, DTP,
  DTPDRL, DDTP-linear, DDTP-RHL, DDTP-control with the hyperparameters of the authors' final Fashion-MNIST
  configurations (github.com/meulemansalex/theoretical_framework_for_target_propagation,
  final_configs/fashion_mnist_*.py; their forward lr is divided by the target step size, as their
  ``normalize_lr`` option does), 6 epochs of feedback pre-training and 1 feedback-only epoch after each
  epoch for the DRL variants, as seed 002's appendix B.1 states; plus exact TP on the same network.
- "784-100-10 sigmoid" (seed 003's smallest network): GTP at batch size 1 as published and in minibatches,
  backprop (SGD) at the same batch sizes, exact TP; tau and lr chosen on a held-out split
  (``side_gtp_tuning``), because seed 003's tau = 100 belongs to its own scaling of the update.
Every run probes the alignment of each layer's update with the BP gradient and the GNT update
(tpnb.diagnostics) on 256 training samples after each epoch. One seed, and far fewer epochs than the
papers' 100 (the 2-core budget of this book's build machine), which the chapter states next to the
published numbers.

Labels: network ("784-256x5-10" or "784-100-10"), method (a DEEP_METHODS name, "gtp" or "bp_sgd"), seed;
the GTP and backprop runs on 784-100-10 also batch (their tuning runs also tau and lr, and split="validation").
"""
from __future__ import annotations

import itertools

from .core import RunSpec, study
from .results import fresh_results
from .selection import best_per_group

SEEDS = (0,)
DEEP = (784, 256, 256, 256, 256, 256, 10)
GTP_NET = (784, 100, 10)
DEEP_NAME, SMALL = "784-256x5-10", "784-100-10"     # the networks' names in keys and labels
DEEP_EPOCHS, GTP_EPOCHS, QUICK_EPOCHS = 2, 3, 2
PROBE = 256


def _adam(lr, beta1, beta2, eps, step=1.0):
    """Forward Adam options from an authors' config (lr normalised by the target step size), with eps where
    PyTorch's Adam adds it (the authors' optimiser: tpnb.optimizers.Adam, eps_corrected)."""
    return dict(optimizer="adam", lr=lr / step, beta1=beta1, beta2=beta2, eps=eps, eps_corrected=True)


def _feedback(lr, beta1, beta2, eps, sigma, weight_decay, pretrain=6, extra=1):
    return dict(feedback_optimizer="adam", feedback_lr=lr,
                feedback_options=dict(beta1=beta1, beta2=beta2, eps=eps, eps_corrected=True),
                sigma=sigma, feedback_weight_decay=weight_decay, pretrain_epochs=pretrain, feedback_epochs=extra)


# the authors' final Fashion-MNIST configurations (see the module docstring)
DEEP_METHODS = {
    "bp_adam": ("backprop", dict(loss="cross_entropy", **_adam(2.876e-4, 0.9, 0.99, 4.73e-8))),
    "dfa": ("dfa", dict(loss="cross_entropy", seed=0, angles=False, **_adam(9.403e-4, 0.9, 0.99, 3.66e-8))),
    "dtp": ("dtp", dict(loss="cross_entropy", beta=0.2413, angles=False,
                        **_adam(6.265e-5, 0.9, 0.99, 3.18e-8, step=0.2413),
                        **_feedback(3.660e-4, 0.99, 0.999, 1.36e-6, 0.2675, 0.0, pretrain=0, extra=0))),
    "dtpdrl": ("dtpdrl", dict(loss="cross_entropy", beta=0.08657, angles=False,
                              **_adam(7.102e-5, 0.99, 0.999, 1.64e-8, step=0.08657),
                              **_feedback(9.698e-5, 0.99, 0.9, 2.27e-5, 0.08433, 2.139e-5))),
    "ddtp_linear": ("ddtp_linear", dict(loss="cross_entropy", beta=0.01725, angles=False,
                                        **_adam(8.704e-6, 0.99, 0.99, 1.73e-8, step=0.01725),
                                        **_feedback(7.959e-4, 0.99, 0.9, 3.11e-8, 0.09857, 5.783e-6))),
    "ddtp_rhl": ("ddtp_rhl", dict(loss="cross_entropy", beta=0.02615, angles=False,
                                  **_adam(3.375e-5, 0.9, 0.99, 3.65e-7, step=0.02615),
                                  **_feedback(1.157e-5, 0.9, 0.999, 2.08e-4, 0.04388, 8.499e-4))),
    "ddtp_control": ("ddtp_control", dict(loss="cross_entropy", beta=0.03235, angles=False,
                                          **_adam(3.008e-5, 0.9, 0.999, 1.33e-8, step=0.03235),
                                          **_feedback(3.121e-5, 0.999, 0.99, 3.26e-4, 0.08487, 1.189e-6))),
    "exact_tp": ("exact_tp", dict(alpha=0.5, eta=1.0, diagnostics=False)),
}
TP_FAMILY = ("dtp", "dtpdrl", "ddtp_linear", "ddtp_rhl", "ddtp_control")   # seed 002's target-propagation rules

GTP_TAUS = (0.1, 0.5, 1.0)
GTP_LRS = {1: (0.003, 0.01, 0.03), 64: (0.1, 0.3, 1.0)}
BP_LRS = {1: (0.003, 0.01, 0.03), 64: (0.1, 0.3, 1.0)}
GTP_BATCHES = (1, 64)
TUNING_DATA = dict(name="fashion_mnist", n_train=20000, validation=10000)


def _full_data(quick):
    return dict(name="fashion_mnist", n_train=2000, n_test=500) if quick else dict(name="fashion_mnist")


def gtp_tuning_specs(quick: bool) -> list:
    """tau x lr for GTP and lr for backprop on 784-100-10 sigmoid, 2 epochs on 10k, scored on 10k held out."""
    data = dict(name="fashion_mnist", n_train=1000, validation=500) if quick else TUNING_DATA
    specs = []
    for batch in GTP_BATCHES:
        taus, lrs = (GTP_TAUS[1:2], GTP_LRS[batch][1:2]) if quick else (GTP_TAUS, GTP_LRS[batch])
        for tau, lr in itertools.product(taus, lrs):
            specs.append(RunSpec(key=f"gtp|B={batch}|tau={tau},lr={lr}", data=data, sizes=GTP_NET,
                                 activation="sigmoid", rule="gtp",
                                 rule_options=dict(tau=tau, steps=10, lr=lr, angles=False),
                                 epochs=1 if quick else 2, batch_size=batch, seed=0, init="xavier",
                                 labels=dict(network=SMALL, method="gtp", batch=batch, tau=tau, lr=lr,
                                             split="validation", seed=0)))
        for lr in (BP_LRS[batch][1:2] if quick else BP_LRS[batch]):
            specs.append(RunSpec(key=f"bp_sgd|B={batch}|lr={lr}", data=data, sizes=GTP_NET,
                                 activation="sigmoid", rule="backprop", rule_options=dict(optimizer="sgd", lr=lr),
                                 epochs=1 if quick else 2, batch_size=batch, seed=0, init="xavier",
                                 labels=dict(network=SMALL, method="bp_sgd", batch=batch, lr=lr,
                                             split="validation", seed=0)))
    return specs


def side_specs(quick: bool) -> list:
    seeds = SEEDS[:1] if quick else SEEDS
    specs = []
    for (name, (rule, options)), seed in itertools.product(DEEP_METHODS.items(), seeds):
        options = dict(options)
        if quick and "pretrain_epochs" in options:
            options.update(pretrain_epochs=min(options["pretrain_epochs"], 1))
        specs.append(RunSpec(key=f"{DEEP_NAME}|{name}|seed={seed}", data=_full_data(quick), sizes=DEEP,
                             activation="tanh", rule=rule, rule_options=options,
                             epochs=QUICK_EPOCHS if quick else DEEP_EPOCHS, batch_size=128, seed=seed,
                             init="xavier", probe=PROBE, labels=dict(network=DEEP_NAME, method=name, seed=seed)))
    picks = best_per_group(fresh_results("side_gtp_tuning", quick).items(),
                           lambda spec: (spec.labels["method"], spec.labels["batch"]), "classification")
    for (method, batch), (tuned, _) in picks.items():
        for seed in seeds:
            specs.append(RunSpec(key=f"{SMALL}|{method}_b{batch}|seed={seed}", data=_full_data(quick),
                                 sizes=GTP_NET, activation="sigmoid", rule=tuned.rule,
                                 rule_options=tuned.rule_options, epochs=QUICK_EPOCHS if quick else GTP_EPOCHS,
                                 batch_size=tuned.batch_size, seed=seed, init="xavier",
                                 probe=0 if tuned.batch_size == 1 else PROBE,
                                 labels=dict(network=SMALL, method=method, batch=batch, seed=seed)))
    for seed in seeds:
        specs.append(RunSpec(key=f"{SMALL}|exact_tp|seed={seed}", data=_full_data(quick), sizes=GTP_NET,
                             activation="sigmoid", rule="exact_tp", rule_options=dict(alpha=0.5, eta=1.0),
                             epochs=QUICK_EPOCHS if quick else GTP_EPOCHS, batch_size=64, seed=seed,
                             init="xavier", probe=PROBE, labels=dict(network=SMALL, method="exact_tp", seed=seed)))
    return specs


study("side_gtp_tuning", 1, "chapter 11: GTP tau x lr and backprop lr on 784-100-10 sigmoid (held-out split)")(
    gtp_tuning_specs)
study("side_by_side", 1, "chapter 11: every method on full Fashion-MNIST, seed 002 and 003 networks",
      depends=("side_gtp_tuning",))(side_specs)


def row(spec) -> tuple:
    """(network, method name) of a run in chapter 11's table, from its labels: the method, "<method>_b<batch>"
    for the batch-size pairs on 784-100-10 (e.g. "gtp_b1"), the variant for exact-TP variants (verdict_final)."""
    labels = spec.labels
    if "variant" in labels:
        return labels["network"], labels["variant"]
    if labels["network"] == SMALL and "batch" in labels:
        return labels["network"], f"{labels['method']}_b{labels['batch']}"
    return labels["network"], labels["method"]
