"""The benchmark specs and the one function that times a spec with the real training loop."""
from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

from tpnb.data import Dataset
from tpnb.network import MLP
from tpnb.rules import make_rule
from tpnb.train import train

MAIN = [784, 256, 256, 10]
DEEP = [784] + [256] * 5 + [10]
SMALL = [784, 64, 64, 10]
GTP_NET = [784, 100, 10]
ADAM = dict(optimizer="adam", lr=2e-3)                                  # the book's chapter 6 settings
FEEDBACK = dict(feedback_optimizer="adam", feedback_lr=2e-3)


@dataclass
class Spec:
    """One benchmark: ``rule`` with ``options`` training MLP(sizes, activation) at ``batch``.

    samples: train on the first ``samples`` training samples and extrapolate to the full set (None: all).
    baseline: the backprop spec on the same network and batch that the ratio refers to.
    max_seconds / max_ratio / min_gemm_fraction: the issue's target, if any.
    feedback_epoch: also time one epoch of pure feedback training (seed 002 does one per epoch) and
    add it to the epoch time.
    dtype: of the network and the data ("float32": the float32 option, where the rule tolerates it).
    """
    name: str
    sizes: list
    activation: str
    rule: str
    options: dict
    batch: int
    samples: int | None = None
    baseline: str = "backprop"
    max_seconds: float | None = None
    max_ratio: float | None = None
    min_gemm_fraction: float | None = None
    feedback_epoch: bool = False
    dtype: str = "float64"
    note: str = ""

    @property
    def network(self) -> str:
        return "-".join(map(str, self.sizes)) + f" {self.activation}" + ("" if self.dtype == "float64" else
                                                                           f" {self.dtype}")


SPECS = [
    Spec("backprop", MAIN, "relu", "backprop", dict(optimizer="sgd", lr=0.03), 64, min_gemm_fraction=0.75),
    Spec("exact_tp", MAIN, "relu", "exact_tp", dict(alpha=0.5, eta=1.0, diagnostics=False), 64, max_ratio=1.4,
         note="per-step diagnostics off"),
    Spec("exact_tp+diagnostics", MAIN, "relu", "exact_tp", dict(alpha=0.5, eta=1.0), 64,
         note="as the studies run it: target steps, clipping and batch spread every step"),
    Spec("rdtp_k1", MAIN, "leaky_relu", "random_direction_tp",
         dict(factor="least_squares", directions=1, eta=0.03, seed=0), 64,
         note="leaky ReLU (the rule needs an invertible activation)"),
    Spec("rdtp_k16", MAIN, "leaky_relu", "random_direction_tp",
         dict(factor="least_squares", directions=16, eta=0.03, seed=0), 64,
         note="leaky ReLU (the rule needs an invertible activation)"),
    Spec("backprop_adam", MAIN, "relu", "backprop", dict(ADAM), 64, baseline="backprop_adam"),
    Spec("dfa", MAIN, "relu", "dfa", dict(ADAM, seed=0, angles=False), 64, baseline="backprop_adam"),
    Spec("backprop_deep", DEEP, "tanh", "backprop", dict(ADAM), 128, baseline="backprop_deep",
         note="Adam, as seed 002 trains every method"),
    Spec("dtp", DEEP, "tanh", "dtp", dict(ADAM, **FEEDBACK, beta=0.5, angles=False), 128,
         baseline="backprop_deep", note="1 feedback update per step"),
    Spec("ddtp_linear", DEEP, "tanh", "ddtp_linear", dict(ADAM, **FEEDBACK, beta=0.5, angles=False), 128,
         baseline="backprop_deep", max_seconds=8.0, feedback_epoch=True,
         note="1 feedback update per step + 1 feedback-only epoch"),
    Spec("ddtp_linear+angles", DEEP, "tanh", "ddtp_linear", dict(ADAM, **FEEDBACK, beta=0.5, angles=True), 128,
         baseline="backprop_deep", feedback_epoch=True, note="as ddtp_linear, with the BP-angle diagnostics"),
    Spec("backprop_small", SMALL, "relu", "backprop", dict(optimizer="sgd", lr=0.05), 64, baseline="backprop_small"),
    Spec("gnt", SMALL, "relu", "gnt", dict(beta=1.0, lr=0.05, angles=False), 64, baseline="backprop_small"),
    Spec("backprop_gtp_b1", GTP_NET, "sigmoid", "backprop", dict(optimizer="sgd", lr=0.1), 1, samples=6000,
         baseline="backprop_gtp_b1"),
    Spec("gtp_b1", GTP_NET, "sigmoid", "gtp", dict(tau=0.5, steps=10, lr=0.01, angles=False), 1, samples=6000,
         baseline="backprop_gtp_b1", max_seconds=35.0, note="T=10 Euler steps, tau=0.5"),
    Spec("backprop_gtp_b64", GTP_NET, "sigmoid", "backprop", dict(optimizer="sgd", lr=0.1), 64,
         baseline="backprop_gtp_b64"),
    Spec("gtp_b64", GTP_NET, "sigmoid", "gtp", dict(tau=0.5, steps=10, lr=0.01, angles=False), 64,
         baseline="backprop_gtp_b64", max_seconds=3.0, note="T=10 Euler steps, tau=0.5"),
    Spec("backprop_f32", MAIN, "relu", "backprop", dict(optimizer="sgd", lr=0.03), 64, dtype="float32",
         note="float32 network and data"),
    Spec("exact_tp_f32", MAIN, "relu", "exact_tp", dict(alpha=0.5, eta=1.0, diagnostics=False), 64,
         dtype="float32", baseline="backprop_f32", note="float32 network and data, per-step diagnostics off"),
]


def as_dtype(data: Dataset, dtype: str) -> Dataset:
    """data with every array in ``dtype`` (the same object for float64)."""
    if np.dtype(dtype) == data.x_train.dtype:
        return data
    cast = {k: getattr(data, k).astype(dtype) for k in ("x_train", "y_train", "x_test", "y_test")}
    return Dataset(data.name, task=data.task, **cast)


class Runner:
    """One spec's network, rule and data, trained one timed epoch at a time by tpnb.train.train."""

    def __init__(self, spec: Spec, data: Dataset):
        self.spec, self.data = spec, data
        self.net = MLP(spec.sizes, spec.activation, seed=0, dtype=spec.dtype)
        self.rule = make_rule(spec.rule, **spec.options)
        self.epochs, self.diverged_epoch, self.history = 0, None, None

    def epoch(self) -> tuple:
        """(training seconds, feedback-epoch seconds) of one more epoch; NaN once the run diverged (a
        diverged epoch stops early, so its time is not an epoch's)."""
        if self.diverged_epoch is not None:
            return float("nan"), float("nan")
        self.epochs += 1
        self.history = train(self.net, self.rule, self.data, epochs=1, batch_size=self.spec.batch,
                             seed=self.epochs)
        if self.history.diverged:
            self.diverged_epoch = self.epochs
            return float("nan"), float("nan")
        feedback_seconds = 0.0
        if self.spec.feedback_epoch:
            start = time.perf_counter()
            self.rule.pretrain_feedback(self.net, self.data.x_train, epochs=1, batch_size=self.spec.batch,
                                        seed=100 + self.epochs)
            feedback_seconds = time.perf_counter() - start
        return self.history.epoch_time[1], feedback_seconds


def peak_memory(spec: Spec, data: Dataset, max_steps: int = 100) -> float:
    """Peak MiB that tracemalloc sees (numpy reports its buffers to it) over the first ``max_steps``
    steps of the training loop's inner part (batch indexing + rule.step), the data excluded (it is
    allocated before tracing starts). Every full batch has the same shapes, so the peak of a few steps
    is the peak of the epoch; tracing slows allocations, so the timed epochs run without it."""
    data = as_dtype(data, spec.dtype)
    net = MLP(spec.sizes, spec.activation, seed=0, dtype=spec.dtype)
    rule = make_rule(spec.rule, **spec.options)
    order = np.random.default_rng([0, 1]).permutation(len(data.x_train))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        with np.errstate(all="ignore"):
            for k, i in enumerate(range(0, len(order), spec.batch)):
                if k >= max_steps:
                    break
                idx = order[i:i + spec.batch]
                rule.step(net, data.x_train[idx], data.y_train[idx])
            if spec.feedback_epoch:
                rule.pretrain_feedback(net, data.x_train[:max_steps * spec.batch], epochs=1,
                                       batch_size=spec.batch)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (peak - base) / 2 ** 20


def time_spec(spec: Spec, data: Dataset, epochs: int, warmup: bool, baseline: Spec | None = None) -> dict:
    """Seconds per epoch of ``spec`` (History.epoch_time, evaluation excluded), and its ratio to ``baseline``.

    Trains ``epochs`` epochs (+ 1 warm-up epoch that is discarded, if ``warmup``) and takes the median.
    The ``*_raw`` lists are seconds on the samples timed (unscaled); the other figures are per 60k epoch.
    With a baseline (backprop on the same network and batch), the two alternate epoch by epoch and the
    ratio is the median of the per-epoch ratios: both see the same phase of a shared machine. With
    ``spec.samples`` both use that many samples and the figures are scaled to the full training set.
    """
    n_full = len(data.x_train)
    run_data = data.subset(spec.samples, 2000 if spec.samples else None)
    n_run = len(run_data.x_train)
    runners = [Runner(s, as_dtype(run_data, s.dtype)) for s in (spec, baseline) if s is not None]
    times = [[r.epoch() for r in runners] for _ in range(epochs + (1 if warmup else 0))][1 if warmup else 0:]
    own = [train_s + feedback_s for (train_s, feedback_s), *_ in times]
    scale = n_full / n_run
    rule_run = runners[0]
    # np.median, not statistics.median: a diverged run's NaN epochs must give NaN, not a sorted-past value
    result = {
        "name": spec.name, "network": spec.network, "sizes": spec.sizes, "rule": spec.rule,
        "options": spec.options, "batch": spec.batch, "dtype": spec.dtype, "baseline": spec.baseline,
        "note": spec.note, "samples_timed": n_run, "extrapolated": n_run != n_full,
        "epochs_timed": len(times), "warmup_discarded": warmup,
        "epoch_times_raw": [t[0][0] for t in times], "feedback_epoch_times_raw": [t[0][1] for t in times],
        "train_seconds": float(np.median([t[0][0] for t in times])) * scale,
        "feedback_epoch_seconds": float(np.median([t[0][1] for t in times])) * scale,
        "seconds_per_epoch": float(np.median(own)) * scale,
        "final_train_acc": rule_run.history.metrics.get("train_acc", [None])[-1],
        "diverged_epoch": rule_run.diverged_epoch,
        "ratio": None,
    }
    if baseline is not None:
        base = [sum(t[1]) for t in times]
        result["baseline_epoch_times_raw"] = base
        ratio = float(np.median([o / b for o, b in zip(own, base)]))
        result["ratio"] = ratio if np.isfinite(ratio) else None
    return result
