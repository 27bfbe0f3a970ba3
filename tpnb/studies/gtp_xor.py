"""Chapter 7's training study: how far from backprop should GTP's targets move?

A 2-16-16-2 sigmoid network (linear output) on XOR with inputs in [0, 1]^2 (seed 003's input range), batch
size 1, SGD at one learning rate, from chapter 7's corrected initialisation: GTP on a grid of Euler step tau
x number of steps T, and backprop, from the same initial weights and data order.

Labels: method ("gtp" or "backprop"), and for GTP tau and steps (T).
"""
from __future__ import annotations

from .core import RunSpec, study

TAUS, STEPS = (0.1, 0.5, 2.0), (1, 5, 20)
LR = 0.2
SIZES = (2, 16, 16, 2)


def xor_specs(quick: bool) -> list:
    data = dict(name="xor", n_train=200 if quick else 400, n_test=200, noise=0.15, seed=0, unit_square=True)
    common = dict(data=data, sizes=SIZES, activation="sigmoid", epochs=10 if quick else 30, batch_size=1,
                  seed=0, init="gtp_corrected")
    specs = [RunSpec(key=f"gtp|tau={tau}|T={steps}", rule="gtp", rule_options=dict(tau=tau, steps=steps, lr=LR),
                     labels=dict(method="gtp", tau=tau, steps=steps), **common)
             for tau in TAUS for steps in STEPS]
    return specs + [RunSpec(key="backprop", rule="backprop", rule_options=dict(lr=LR),
                            labels=dict(method="backprop"), **common)]


study("gtp_xor", 1, "chapter 7: GTP's (tau, T) grid and backprop on XOR, batch size 1")(xor_specs)
