"""The benchmark specs and the one function that times a spec with the real training loop.

Pairing by blocks. The build machine switches between speed states about 2.3x apart within seconds, so
whole epochs of a rule and of its baseline, run one after the other, see different machines. A spec is
timed in pairs of short blocks instead: ``block`` training steps of the rule, the same steps (same batches)
of its backprop baseline, and the same number of steps of each one's matrix products alone
(benchmarks.gemm.Products, preallocated operands), back to back (tens of milliseconds), the order
rotating from pair to pair. Each pair gives a ratio (rule / baseline, rule's products / baseline's
products, products / rule: the fraction of the GEMM-bound the rule reaches); the figures are the medians
over the pairs, with their spread (quartiles, range, and the medians of the first and the second half).
The steps are tpnb.train.train_steps, the shared training loop's own inner part, on the shuffled
training set, epoch after epoch.
"""
from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

from benchmarks import gemm
from tpnb.data import Dataset
from tpnb.network import MLP
from tpnb.rules import make_rule
from tpnb.train import DIVERGENCE_FACTOR, divergence_loss, evaluate, train_steps

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
    Spec("exact_tp", MAIN, "relu", "exact_tp", dict(alpha=0.5, eta=1.0, diagnostics=False), 64, max_ratio=1.2,
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
    Spec("dtpdrl", DEEP, "tanh", "dtpdrl", dict(ADAM, **FEEDBACK, beta=0.5, angles=False), 128,
         baseline="backprop_deep", max_ratio=3.0, feedback_epoch=True,
         note="1 feedback update per step + 1 feedback-only epoch"),
    Spec("ddtp_linear", DEEP, "tanh", "ddtp_linear", dict(ADAM, **FEEDBACK, beta=0.5, angles=False), 128,
         baseline="backprop_deep", max_ratio=2.0, feedback_epoch=True,
         note="1 feedback update per step + 1 feedback-only epoch"),
    Spec("ddtp_rhl", DEEP, "tanh", "ddtp_rhl", dict(ADAM, **FEEDBACK, beta=0.5, angles=False), 128,
         baseline="backprop_deep", max_ratio=3.0, feedback_epoch=True,
         note="random hidden layer of 1024; 1 feedback update per step + 1 feedback-only epoch"),
    Spec("ddtp_linear+angles", DEEP, "tanh", "ddtp_linear", dict(ADAM, **FEEDBACK, beta=0.5, angles=True), 128,
         baseline="backprop_deep", feedback_epoch=True, note="as ddtp_linear, with the BP-angle diagnostics"),
    Spec("backprop_small", SMALL, "relu", "backprop", dict(optimizer="sgd", lr=0.05), 64, baseline="backprop_small"),
    Spec("gnt", SMALL, "relu", "gnt", dict(beta=1.0, lr=0.05, angles=False), 64, baseline="backprop_small"),
    Spec("backprop_gtp_b1", GTP_NET, "sigmoid", "backprop", dict(optimizer="sgd", lr=0.1), 1, samples=6000,
         baseline="backprop_gtp_b1"),
    Spec("gtp_b1", GTP_NET, "sigmoid", "gtp", dict(tau=0.5, steps=10, lr=0.01, angles=False), 1, samples=6000,
         baseline="backprop_gtp_b1", max_ratio=1.2, note="T=10 Euler steps, tau=0.5"),
    Spec("gtp_b1_t1", GTP_NET, "sigmoid", "gtp", dict(tau=0.5, steps=1, lr=0.01, angles=False), 1, samples=6000,
         baseline="backprop_gtp_b1", max_ratio=1.2, note="T=1 Euler step (seed 003's protocol)"),
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


def batch_stream(n: int, batch: int, seed: int = 0):
    """The training loop's batches, epoch after epoch: a permutation per epoch from default_rng([seed,
    epoch]) (as tpnb.train.train), cut into index arrays of ``batch`` (the last one of an epoch shorter)."""
    epoch = 0
    while True:
        epoch += 1
        order = np.random.default_rng([seed, epoch]).permutation(n)
        for i in range(0, n, batch):
            yield order[i:i + batch]


class Runner:
    """One spec's network, rule and data, stepped a block at a time with the training loop's inner part
    (tpnb.train.train_steps: the batch gathering, rule.step, the diagnostics sums, the finiteness check)."""

    def __init__(self, spec: Spec, data: Dataset):
        self.spec, self.data = spec, data
        self.net = MLP(spec.sizes, spec.activation, seed=0, dtype=spec.dtype)
        self.rule = make_rule(spec.rule, **spec.options)
        self.sums, self.steps, self.feedback_blocks, self.diverged = {}, 0, 0, False
        self.initial = self.loss(self.train_metrics())
        begin = getattr(self.rule, "begin", None)
        if begin is not None:      # set-up before epoch 1 (History.setup_time): not timed
            with np.errstate(all="ignore"):
                begin(self.net, data.x_train)

    def train_metrics(self) -> dict:
        """tpnb.train.evaluate on the training set, keys as in History.metrics ("train_mse", ...)."""
        metrics = evaluate(self.net, self.data.x_train, self.data.y_train, self.data.task)
        return {f"train_{k}": v for k, v in metrics.items()}

    @staticmethod
    def loss(metrics: dict) -> float:
        """The training loss divergence is judged on (tpnb.train.divergence_loss)."""
        return metrics[divergence_loss(metrics)]

    def block(self, batches: list) -> tuple:
        """(training seconds, feedback-only seconds) of the steps on ``batches``; NaN once the weights
        stopped being finite. With ``spec.feedback_epoch`` the same samples then get one feedback-only
        pass (seed 002's feedback epoch, a block of it)."""
        if self.diverged:
            return float("nan"), float("nan")
        x, y = self.data.x_train, self.data.y_train
        with np.errstate(all="ignore"):
            start = time.perf_counter()
            steps, finite = train_steps(self.net, self.rule, x, y, batches, self.sums)
            seconds = time.perf_counter() - start
            self.steps += steps
            if not finite:
                self.diverged = True
                return float("nan"), float("nan")
            feedback = 0.0
            if self.spec.feedback_epoch:
                samples = x[np.concatenate(batches)]
                self.feedback_blocks += 1
                start = time.perf_counter()
                self.rule.pretrain_feedback(self.net, samples, epochs=1, batch_size=self.spec.batch,
                                            seed=100 + self.feedback_blocks)
                feedback = time.perf_counter() - start
        return seconds, feedback

    def finish(self) -> dict:
        """Training metrics after the last block; a final loss beyond DIVERGENCE_FACTOR times the initial
        one (or not finite) counts as diverged, as in tpnb.train."""
        metrics = self.train_metrics()
        final = self.loss(metrics)
        limit = DIVERGENCE_FACTOR * self.initial if self.initial > 0 else np.inf
        if not np.isfinite(final) or final > limit:
            self.diverged = True
        return metrics


def block_steps(block: int, batch: int) -> int:
    """Steps per block: ``block`` at batch >= 64, more at smaller batches (about block x 64 samples), so
    that a batch-1 block still lasts milliseconds."""
    return block * max(1, 64 // batch)


def _median(values) -> float:
    """np.median (a NaN stays NaN: a diverged run has no time), NaN for no values."""
    return float(np.median(values)) if len(values) else float("nan")


def _spread(values) -> dict:
    """Median, quartiles, range and the medians of the first and second half of per-pair ratios (None
    when there is none, NaN when a pair is NaN, e.g. a diverged run)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return {"median": None, "iqr": None, "range": None, "halves": None}
    if not np.all(np.isfinite(values)):
        nan = float("nan")
        return {"median": nan, "iqr": [nan, nan], "range": [nan, nan], "halves": [nan, nan]}
    half = (len(values) + 1) // 2
    return {"median": float(np.median(values)), "iqr": [float(q) for q in np.percentile(values, [25, 75])],
            "range": [float(values.min()), float(values.max())],
            "halves": [float(np.median(values[:half])), float(np.median(values[half:] if len(values) > 1 else values))]}


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


QUIET = 1.25      # a round counts when each of its blocks took <= QUIET x the fastest block of its kind
MAX_ROUNDS = 4    # a busy machine: stop after MAX_ROUNDS x pairs rounds with the quiet ones found so far


class Probe:
    """The machine's speed state, shared by all benchmarks of a run: a fixed block of products (backprop's
    first-layer forward product, 8 times, a few milliseconds), timed in every round. ``fastest`` is the
    fastest probe block seen so far in the run (``calibrate`` samples it for a few seconds first)."""

    def __init__(self):
        self.products = gemm.Products([("probe x@W.T", 64, 785, 256)] * 8)
        self.fastest = float("inf")

    def run(self) -> float:
        seconds = self.products.run()
        self.fastest = min(self.fastest, seconds)
        return seconds

    def calibrate(self, seconds: float = 5.0) -> float:
        """Sample the probe for ``seconds`` (spaced by short pauses, so both speed states are seen)."""
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.run()
            time.sleep(0.02)
        return self.fastest


def quiet_rounds(rounds: list, probe_fastest: float | None = None) -> list:
    """The rounds run in the machine's fast state: each block of the round (rule, baseline, each one's
    products alone, the probe) within QUIET times the fastest block of its kind, and the probe within
    QUIET times ``probe_fastest``, the fastest probe of the whole run. The shared 2-core machine has speed
    states about 2.3x apart, and other processes stall blocks many times over; the states do not slow all
    work alike (the products of a step more than its Python and elementwise work), so a ratio taken in a
    slow state differs by up to tens of percent: only rounds in the fast state are compared."""
    fastest = {name: min(sum(r[name]) for r in rounds) for name in rounds[0]} if rounds else {}
    if "probe" in fastest and probe_fastest is not None:
        fastest["probe"] = min(fastest["probe"], probe_fastest)
    return [r for r in rounds if all(sum(r[name]) <= QUIET * fastest[name] for name in fastest)]


def slow_state_specs(specs: list, rows: dict, probe_fastest: float) -> list:
    """The specs whose benchmark ran in a slow state of the machine: the median probe of its kept rounds
    slower than QUIET x ``probe_fastest``, the fastest probe of the whole run (which the first benchmarks
    had not seen yet when they ran). ``python -m benchmarks`` times them once more."""
    return [s for s in specs if s.name in rows and rows[s.name]["probe_seconds"] is not None
            and rows[s.name]["probe_seconds"] > QUIET * probe_fastest]


def time_spec(spec: Spec, data: Dataset, pairs: int, block: int = 20, warmup: int = 2,
              baseline: Spec | None = None, probe: Probe | None = None) -> dict:
    """Seconds per epoch of ``spec``, its ratio to ``baseline`` and to its own GEMM-bound, by blocks.

    Each round times, in an order that rotates from round to round, one block of ``block_steps(block,
    batch)`` training steps of the rule, the same steps of the baseline (if given), and as many steps'
    worth of each one's matrix products alone (benchmarks.gemm; skipped for a rule without a product list).
    With a ``probe`` (shared by the benchmarks of a run) every round also times the probe. The first
    ``warmup`` rounds are discarded; rounds run until ``pairs`` of them are quiet (quiet_rounds: the
    machine's fast state) or MAX_ROUNDS x pairs rounds ran. Per kept pair: ratio = rule / baseline,
    gemm_ratio = rule's products / baseline's, gemm_fraction = rule's products / rule (and
    baseline_gemm_fraction); each is reported as the median over the pairs with its spread (``*_spread``:
    quartiles, range, medians of the two halves). Seconds per epoch: the median block time, per step,
    times the steps of a full training set (len(data.x_train) / batch). With ``spec.samples`` both train
    on that many samples. The ``*_raw`` lists are the seconds of every kept block.
    """
    n_full = len(data.x_train)
    run_data = data.subset(spec.samples, 2000 if spec.samples else None)
    steps = block_steps(block, spec.batch)
    specs = {"rule": spec} if baseline is None else {"rule": spec, "baseline": baseline}
    runners = {name: Runner(s, as_dtype(run_data, s.dtype)) for name, s in specs.items()}
    timed = {name: runner.block for name, runner in runners.items()}
    for name, s in specs.items():
        shapes = gemm.rule_shapes(s.rule, s.sizes, s.batch, s.options, s.feedback_epoch)
        if shapes is not None:
            products = gemm.Products(shapes, s.dtype)
            timed[f"{name}_gemm"] = lambda batches, p=products: (p.run(len(batches)), 0.0)
    if probe is not None:
        timed["probe"] = lambda batches: (probe.run(), 0.0)
    names = list(timed)
    stream = batch_stream(len(run_data.x_train), spec.batch)
    rounds, kept, k = [], [], 0
    while len(kept) < pairs and len(rounds) < MAX_ROUNDS * pairs and not runners["rule"].diverged:
        batches = [next(stream) for _ in range(steps)]
        times = {}
        for name in names[k % len(names):] + names[:k % len(names)]:
            times[name] = timed[name](batches)
        k += 1
        if k > warmup:
            rounds.append(times)
            kept = quiet_rounds(rounds, None if probe is None else probe.fastest)
    quiet = len(kept)
    if runners["rule"].diverged or not kept:     # no quiet round at all: every round, flagged by quiet_pairs 0
        kept = rounds
    raw = {name: [sum(r[name]) for r in kept] for name in names}
    feedback_raw = [r["rule"][1] for r in kept]
    metrics = runners["rule"].finish()
    baseline_diverged = "baseline" in runners and runners["baseline"].finish() is not None and runners["baseline"].diverged
    diverged = runners["rule"].diverged
    if diverged:
        raw["rule"] = [float("nan")] * len(raw["rule"])
    per_epoch = n_full / spec.batch / steps          # blocks per full training set
    rule = np.asarray(raw["rule"])
    result = {
        "name": spec.name, "network": spec.network, "sizes": spec.sizes, "rule": spec.rule,
        "options": spec.options, "batch": spec.batch, "dtype": spec.dtype, "baseline": spec.baseline,
        "note": spec.note, "samples_timed": len(run_data.x_train), "extrapolated": len(run_data.x_train) != n_full,
        "pairs": len(kept), "quiet_pairs": quiet, "pairs_wanted": pairs, "rounds": len(rounds), "block_steps": steps,
        "warmup_pairs_discarded": warmup,
        "rounds_raw": [{name: sum(t) for name, t in r.items()} for r in rounds],
        "probe_seconds": _median(raw["probe"]) if "probe" in raw else None,
        "block_times_raw": raw["rule"], "feedback_block_times_raw": feedback_raw,
        "seconds_per_epoch": _median(rule) * per_epoch,
        "feedback_epoch_seconds": _median(feedback_raw) * per_epoch if spec.feedback_epoch else 0.0,
        "final_train_acc": metrics.get("train_acc"),
        "diverged": diverged,
        "ratio": None, "ratio_spread": None, "gemm_ratio": None, "gemm_ratio_spread": None,
        "gemm_fraction": None, "gemm_fraction_spread": None, "gemm_bound_seconds": None,
        "baseline_gemm_fraction": None,
    }
    result["train_seconds"] = result["seconds_per_epoch"] - result["feedback_epoch_seconds"]
    if "rule_gemm" in raw:
        result["gemm_block_times_raw"] = raw["rule_gemm"]
        result["gemm_bound_seconds"] = _median(raw["rule_gemm"]) * per_epoch
        result["gemm_fraction_spread"] = _spread(np.asarray(raw["rule_gemm"]) / rule)
        result["gemm_fraction"] = result["gemm_fraction_spread"]["median"]
    if "baseline" in runners:
        base = np.asarray(raw["baseline"])
        result["baseline_block_times_raw"] = raw["baseline"]
        result["ratio_spread"] = _spread(rule / base)
        result["ratio"] = result["ratio_spread"]["median"]
        if "baseline_gemm" in raw:
            result["baseline_gemm_fraction"] = _spread(np.asarray(raw["baseline_gemm"]) / base)["median"]
            if "rule_gemm" in raw:
                result["gemm_ratio_spread"] = _spread(np.asarray(raw["rule_gemm"]) / np.asarray(raw["baseline_gemm"]))
                result["gemm_ratio"] = result["gemm_ratio_spread"]["median"]
    if diverged:
        result["ratio"] = result["gemm_fraction"] = None
    if baseline_diverged or (result["ratio"] is not None and not np.isfinite(result["ratio"])):
        result["ratio"] = None
    return result
