"""The benchmark specs and the one function that times a spec with the real training loop."""
from __future__ import annotations

import statistics
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
    note: str = ""

    @property
    def network(self) -> str:
        return "-".join(map(str, self.sizes)) + f" {self.activation}"


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
    Spec("dfa", MAIN, "relu", "dfa", dict(ADAM, seed=0, angles=False), 64),
    Spec("backprop_deep", DEEP, "tanh", "backprop", dict(optimizer="sgd", lr=0.01), 128, baseline="backprop_deep"),
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
]


def subset(data: Dataset, n: int | None, n_test: int | None = None) -> Dataset:
    """The first n training (and n_test test) samples of data (views, no copies)."""
    if n is None and n_test is None:
        return data
    return Dataset(data.name, data.x_train[:n], data.y_train[:n], data.x_test[:n_test], data.y_test[:n_test],
                   data.task)


def peak_memory(spec: Spec, data: Dataset, max_steps: int = 100) -> float:
    """Peak MiB that tracemalloc sees (numpy reports its buffers to it) over the first ``max_steps``
    steps of the training loop's inner part (batch indexing + rule.step), the data excluded (it is
    allocated before tracing starts). Every full batch has the same shapes, so the peak of a few steps
    is the peak of the epoch; tracing slows allocations, so the timed epochs run without it."""
    net = MLP(spec.sizes, spec.activation, seed=0)
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


def time_spec(spec: Spec, data: Dataset, epochs: int, warmup: bool) -> dict:
    """Seconds per epoch of ``spec`` via tpnb.train.train (History.epoch_time, evaluation excluded).

    Trains epochs (+ 1 warm-up epoch that is discarded, if ``warmup``) and takes the median. With
    ``spec.samples`` the run uses that many samples and the figure is scaled to the full training set.
    """
    n_full = len(data.x_train)
    run_data = subset(data, spec.samples, 2000 if spec.samples else None)
    n_run = len(run_data.x_train)
    net = MLP(spec.sizes, spec.activation, seed=0)
    rule = make_rule(spec.rule, **spec.options)
    total = epochs + (1 if warmup else 0)
    history = train(net, rule, run_data, epochs=total, batch_size=spec.batch, seed=0)
    times = history.epoch_time[1 + (1 if warmup else 0):]
    # a diverged epoch stops early, so its time is not an epoch's: no figure (the table says so)
    train_seconds = float("nan") if history.diverged else statistics.median(times)
    feedback_seconds = 0.0
    if spec.feedback_epoch and not history.diverged:
        fb_times = []
        for e in range(max(1, epochs)):
            start = time.perf_counter()
            rule.pretrain_feedback(net, run_data.x_train, epochs=1, batch_size=spec.batch, seed=100 + e)
            fb_times.append(time.perf_counter() - start)
        feedback_seconds = statistics.median(fb_times)
    scale = n_full / n_run
    result = {
        "name": spec.name, "network": spec.network, "sizes": spec.sizes, "rule": spec.rule,
        "options": spec.options, "batch": spec.batch, "baseline": spec.baseline, "note": spec.note,
        "samples_timed": n_run, "extrapolated": n_run != n_full,
        "epochs_timed": len(times), "warmup_discarded": warmup,
        "epoch_times_raw": times, "train_seconds": train_seconds * scale,
        "feedback_epoch_seconds": feedback_seconds * scale,
        "seconds_per_epoch": (train_seconds + feedback_seconds) * scale,
        "final_train_acc": history.metrics.get("train_acc", [None])[-1],
        "diverged_epoch": history.diverged_epoch,
    }
    return result
