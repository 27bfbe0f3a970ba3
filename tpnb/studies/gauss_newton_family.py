"""Chapter 6's training study: the DTP family on a small teacher-student regression.

A 10-32-32-5 tanh student (Xavier initialisation, seed 0) of a random ReLU teacher (10-32-5, data seed 4),
1000 training and 200 test samples, batch size 32, Adam at one learning rate for every method. The DTP
variants share the output step beta, the feedback settings and 5 epochs of feedback pre-training (passed as
``pretrain_steps``: their first 5 epochs train only the feedback), so they train 5 epochs more. Every step
records the angle between each layer's update and the backprop gradient, and the GNT update
(``gnt_angles``).

Labels: method (the METHODS name).
"""
from __future__ import annotations

from .core import RunSpec, study

DATA = dict(name="teacher_student", n_train=1000, n_test=200, n_inputs=10, hidden=[32], n_outputs=5, seed=4)
SIZES, BATCH, PRETRAIN_EPOCHS = (10, 32, 32, 5), 32, 5
_COMMON = dict(beta=0.5, optimizer="adam", lr=2e-3, angles=True)
_STEPS_PER_EPOCH = -(-DATA["n_train"] // BATCH)
_FEEDBACK = dict(feedback_optimizer="adam", feedback_lr=2e-3, pretrain_steps=PRETRAIN_EPOCHS * _STEPS_PER_EPOCH,
                 gnt_angles=True, sigma=0.1, feedback_weight_decay=1e-4, seed=0)
METHODS = {
    "bp_adam": ("backprop", dict(optimizer="adam", lr=2e-3)),
    "gnt": ("gnt", dict(_COMMON, damping=1e-3)),
    "dfa": ("dfa", dict(optimizer="adam", lr=2e-3, seed=0)),
    "dtp": ("dtp", dict(_COMMON, **_FEEDBACK)),
    "dtpdrl": ("dtpdrl", dict(_COMMON, **_FEEDBACK)),
    "ddtp_linear": ("ddtp_linear", dict(_COMMON, **_FEEDBACK)),
    "ddtp_rhl": ("ddtp_rhl", dict(_COMMON, **_FEEDBACK, rhl_width=256)),
    "ddtp_control": ("ddtp_control", dict(_COMMON, **_FEEDBACK)),
}


def family_specs(quick: bool) -> list:
    epochs = 15 if quick else 40
    return [RunSpec(key=name, data=DATA, sizes=SIZES, activation="tanh", rule=rule, rule_options=options,
                    epochs=epochs + (PRETRAIN_EPOCHS if "pretrain_steps" in options else 0), batch_size=BATCH,
                    seed=0, init="xavier", labels=dict(method=name))
            for name, (rule, options) in METHODS.items()]


study("gauss_newton_family", 1, "chapter 6: the DTP family, GNT, DFA and backprop on a small teacher-student "
      "problem")(family_specs)
