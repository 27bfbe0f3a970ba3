"""Where a rule's step goes outside its matrix products: ``python -m benchmarks --breakdown [--only NAME,...]``.

The benchmark table says how far a rule is from its GEMM-bound (``% bound``); this says what the rest is.
A few functions of the rule's step (``PHASES``) are wrapped with timers for the run, each timing the
calls the step makes (inclusive, none nested in another); the step itself is tpnb.train.train_steps, as in
the table. Every round times one block of steps and, beside it, each phase's matrix products alone
(benchmarks.gemm.Products, the products the phase makes, as the table's bound); medians over the rounds.
Per phase: milliseconds per step, the products' share, and what is left (elementwise passes, the
optimiser's passes over the weights, checks, NumPy calls). ``rest`` is the step outside every phase: the
batch gathering x[idx], the diagnostics sums, the loop. The timers add about a microsecond per call.
"""
from __future__ import annotations

import importlib
import time
from contextlib import contextmanager

import numpy as np

from benchmarks import gemm
from benchmarks.rules import SPECS, Runner, batch_stream, block_steps

# [(phase, "module:attribute" of the function timed, products its calls make in one step: a function of
# the benchmark Spec giving benchmarks.gemm shapes, or None)]
CHECKS = ("checks", "tpnb.checks:training_batch", None)
FORWARD = ("forward", "tpnb.network:MLP.forward", lambda spec: gemm.forward_shapes(spec.sizes, spec.batch))
SGD = ("SGD update", "tpnb.optimizers:SGD.update", None)
FINITE = ("finiteness test", "tpnb.train:weights_finite", None)
BACKPROP = [
    CHECKS, FORWARD,
    ("backward", "tpnb.rules.backprop:backward",
     lambda spec: gemm.gradient_shapes(spec.sizes, spec.batch) + gemm.backward_shapes(spec.sizes, spec.batch)),
    ("gradient norms", "tpnb.rules.backprop:norms", None),
    SGD, FINITE,
]


def _exact_tp_products(spec, labels) -> list:
    return [s for s in gemm.exact_tp_shapes(spec.sizes, spec.batch) if s[0] in labels]


EXACT_TP = [
    CHECKS, FORWARD,
    ("input targets", "tpnb.rules.exact_tp:ExactTP.input_target",
     lambda spec: _exact_tp_products(spec, ("input target coef@W",))),
    ("pre-activation targets", "tpnb.activations:ReLU.target", None),
    FINITE,
]
GTP = [
    CHECKS, FORWARD,
    ("Euler targets", "tpnb.rules.gtp:GTP.targets",
     lambda spec: [s for s in gemm.gtp_shapes(spec.sizes, spec.batch, steps=spec.options.get("steps", 10),
                                                 angles=False)
                   if s[0].startswith("euler")]),
    ("local gradients", "tpnb.rules.gtp:local_gradients", lambda spec: gemm.gradient_shapes(spec.sizes, spec.batch)),
    ("step diagnostics", "tpnb.rules.direction_rule:step_diagnostics", None),
    SGD, FINITE,
]
PHASES = {"backprop": BACKPROP, "exact_tp": EXACT_TP, "backprop_gtp_b1": BACKPROP, "gtp_b1": GTP, "gtp_b1_t1": GTP}
# exact TP: the residuals and the weight change (R^T X', w += dw) are the step outside these phases
REST_PRODUCTS = {"exact_tp": lambda spec: _exact_tp_products(spec, ("residual x'@W.T", "grad d.T@x"))}


def _resolve(target: str) -> tuple:
    """(owner, attribute name) of "module:attr" or "module:Class.attr"."""
    module, _, path = target.partition(":")
    owner = importlib.import_module(module)
    *classes, name = path.split(".")
    for cls in classes:
        owner = getattr(owner, cls)
    return owner, name


@contextmanager
def timed(phases: list, totals: dict):
    """Wrap each phase's function so that its calls add their seconds to totals[phase]; restored after."""
    saved = []
    try:
        for phase, target, _ in phases:
            owner, name = _resolve(target)
            original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
            saved.append((owner, name, original))

            def wrapper(*args, _original=original, _phase=phase, **kwargs):
                start = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    totals[_phase] += time.perf_counter() - start

            setattr(owner, name, wrapper)
        yield totals
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def breakdown(spec, data, rounds: int = 30, block: int = 5) -> list:
    """Rows {phase, ms (per step), products_ms, other_ms, share (of the step)} for a spec of PHASES,
    medians over ``rounds`` blocks of ``block`` steps (more at small batches, as the table's blocks)."""
    phases = PHASES[spec.name]
    runner = Runner(spec, data)
    steps = block_steps(block, spec.batch)
    stream = batch_stream(len(data.x_train), spec.batch, 0)
    products = {phase: gemm.Products(shapes(spec)) for phase, _, shapes in phases if shapes}
    if spec.name in REST_PRODUCTS:
        products["rest"] = gemm.Products(REST_PRODUCTS[spec.name](spec))
    samples = {name: [] for name in [p for p, _, _ in phases] + ["rest", "step"]}
    product_samples = {name: [] for name in products}
    for round_ in range(rounds + 1):
        totals = dict.fromkeys(samples, 0.0)
        batches = [next(stream) for _ in range(steps)]
        with timed(phases, totals):
            seconds, _ = runner.block(batches)
        if round_ == 0:                                   # warm-up
            continue
        totals["step"] = seconds
        totals["rest"] = seconds - sum(totals[p] for p, _, _ in phases)
        for name in samples:
            samples[name].append(totals[name] / steps)
        for name, product in products.items():
            product_samples[name].append(product.run(steps) / steps)
    step = float(np.median(samples["step"]))
    rows = []
    for name in list(samples):
        ms = 1e3 * float(np.median(samples[name]))
        prod = 1e3 * float(np.median(product_samples[name])) if name in product_samples else 0.0
        rows.append({"phase": name, "ms": ms, "products_ms": prod, "other_ms": ms - prod, "share": ms / (1e3 * step)})
    return rows


def print_breakdown(names, data, rounds: int = 30) -> list:
    """Print the breakdown of every benchmark of ``names`` that PHASES lists; returns {name: rows}."""
    tables = {}
    for name in names:
        spec = next(s for s in SPECS if s.name == name)
        tables[name] = breakdown(spec, data, rounds=rounds)
        print(f"\n{name}: {spec.network}, batch {spec.batch} (ms per step, medians of {rounds} blocks)")
        print(f"{'phase':24s} {'ms':>7s} {'share':>6s} {'products':>9s} {'other':>7s}")
        for row in tables[name]:
            print(f"{row['phase']:24s} {row['ms']:7.3f} {100 * row['share']:5.1f}% {row['products_ms']:9.3f} "
                  f"{row['other_ms']:7.3f}", flush=True)
    return tables
