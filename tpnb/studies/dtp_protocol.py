"""Seed 002's Fashion-MNIST comparison at its own protocol, for chapter 16.

Seed 002 (section 6, appendix B): 784-256x5-10 tanh, softmax cross-entropy, Adam, batch size 128, the
authors' final Fashion-MNIST configurations (``side_by_side.DEEP_METHODS``: forward and feedback
hyperparameters, 6 feedback pre-training epochs and one feedback-only epoch after each epoch for the DRL
variants), a random validation split of 5 000 of the 60 000 training images (a split of its own for each
seed, drawn with that seed, as the authors draw one per run), up to 100 epochs and the test accuracy at the
epoch of best validation accuracy. Here training stops early once PATIENCE epochs in a row bring no better
validation accuracy (the reported epoch is the same as with the full 100 whenever the best epoch is followed
by PATIENCE worse ones).
The DTP family follows the authors' code where it differs from a literal reading of the paper (tpnb.rules.dtp:
the batch-mean output step beta / B, targets before the batch's feedback update, Xavier-normal direct
feedback, DDTP-RHL's structure and random layer, and every loss at the authors' scale with weight decay where
their optimiser adds it). Every method has 3 seeds; exact TP runs as the seed
states it and as its best variant of chapter 10 (``input_rule="pinv"``), on the same network and protocol.

Every epoch, a probe on 256 training images measures each layer's *raw* update direction (what the rule
feeds Adam, before Adam: ``diagnostics.raw_directions``) against the BP gradient and the GNT update, as seed
002 measures alignment, besides the weight change's angles.

Labels: network ("784-256x5-10"), method (a DEEP_METHODS name, or "exact_tp_pinv"), seed.
"""
from __future__ import annotations

from ..published import SEED002_EPOCHS, SEED002_VALIDATION
from .core import RunSpec, study
from .side_by_side import DEEP, DEEP_METHODS, DEEP_NAME, PROBE

SEEDS = (0, 1, 2)
MAX_EPOCHS, PATIENCE, VALIDATION = SEED002_EPOCHS, 10, SEED002_VALIDATION
QUICK_EPOCHS, QUICK_PATIENCE = 3, 1
METHODS = dict(DEEP_METHODS, exact_tp_pinv=("exact_tp", dict(DEEP_METHODS["exact_tp"][1], input_rule="pinv")))
# the methods whose epochs are cheap first (all their seeds), the DTP family after them
ORDER = ("bp_adam", "dfa", "exact_tp", "exact_tp_pinv", "dtp", "ddtp_linear", "ddtp_control", "dtpdrl", "ddtp_rhl")
# the methods' names in tables
LABELS = {"bp_adam": "backprop (Adam)", "dfa": "DFA", "exact_tp": "exact TP, seed rule",
          "exact_tp_pinv": "exact TP, pinv", "dtp": "DTP", "ddtp_linear": "DDTP-linear",
          "ddtp_control": "DDTP-control", "dtpdrl": "DTPDRL", "ddtp_rhl": "DDTP-RHL"}


def protocol_specs(quick: bool) -> list:
    specs = []
    for name in ORDER:
        for seed in SEEDS[:1] if quick else SEEDS:
            data = (dict(name="fashion_mnist", n_train=600, n_test=200, validation_set=200, validation_seed=seed)
                    if quick else dict(name="fashion_mnist", validation_set=VALIDATION, validation_seed=seed))
            rule, options = METHODS[name]
            options = dict(options)
            if quick and "pretrain_epochs" in options:
                options.update(pretrain_epochs=min(options["pretrain_epochs"], 1))
            specs.append(RunSpec(key=f"{DEEP_NAME}|{name}|seed={seed}", data=data, sizes=DEEP, activation="tanh",
                                 rule=rule, rule_options=options, epochs=QUICK_EPOCHS if quick else MAX_EPOCHS,
                                 batch_size=128, seed=seed, init="xavier", probe=32 if quick else PROBE,
                                 probe_directions=True, patience=QUICK_PATIENCE if quick else PATIENCE,
                                 labels=dict(network=DEEP_NAME, method=name, seed=seed)))
    return specs


study("dtp_protocol", 1, "chapter 16: seed 002's methods at its protocol (validation split, early stopping, "
      "3 seeds)")(protocol_specs)
