"""The one training loop every rule shares: a comparison differs only in the rule."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from .data.dataset import Dataset
from .losses import CrossEntropy, MSE, accuracy
from .network import MLP

_MSE, _CE = MSE(), CrossEntropy()


def evaluate(net: MLP, x: np.ndarray, y: np.ndarray, task: str, chunk: int = 10000) -> dict:
    """Loss metrics of ``net`` on (x, y): mse (and cross-entropy, accuracy for classification)."""
    out = np.concatenate([net(x[i:i + chunk]) for i in range(0, len(x), chunk)])
    metrics = {"mse": _MSE(out, y)}
    if task == "classification":
        metrics["ce"] = _CE(out, y)
        metrics["acc"] = accuracy(out, y)
    return metrics


@dataclass
class History:
    """Per-epoch record of one run. Lists are indexed by epoch; entry 0 is before training.

    metrics: "train_mse", "test_mse" (+ "train_ce", "test_ce", "train_acc", "test_acc" for
    classification). epoch_time: seconds of training per epoch (evaluation excluded; entry 0 is 0).
    diagnostics: the rule's per-step diagnostics averaged over each epoch (entry 0 is empty).
    diverged_epoch: the epoch during which the loss or weights became NaN/inf (None: did not diverge).
    setup_time: seconds the rule's ``begin`` hook took before epoch 1 (e.g. feedback pre-training).
    """
    metrics: dict = field(default_factory=dict)
    epoch_time: list = field(default_factory=list)
    diagnostics: list = field(default_factory=list)
    diverged_epoch: int | None = None
    setup_time: float = 0.0

    @property
    def diverged(self) -> bool:
        return self.diverged_epoch is not None

    @property
    def epochs(self) -> int:
        """Epochs trained (including a diverged one)."""
        return len(self.epoch_time) - 1

    def final(self, key: str) -> float:
        return self.metrics[key][-1]

    def record(self, net: MLP, data: Dataset, seconds: float, diagnostics: dict) -> None:
        for split in ("train", "test"):
            x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
            for name, value in evaluate(net, x, y, data.task).items():
                self.metrics.setdefault(f"{split}_{name}", []).append(value)
        self.epoch_time.append(seconds)
        self.diagnostics.append(diagnostics)

    def to_dict(self) -> dict:
        return {"metrics": self.metrics, "epoch_time": self.epoch_time, "diagnostics": self.diagnostics,
                "diverged_epoch": self.diverged_epoch, "setup_time": self.setup_time}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        return cls(d["metrics"], d["epoch_time"], d["diagnostics"], d["diverged_epoch"], d.get("setup_time", 0.0))


def _finite(net: MLP) -> bool:
    return all(np.isfinite(np.sum(w)) for w in net.weights)


def train(net: MLP, rule, data: Dataset, *, epochs: int, batch_size: int, seed: int = 0,
          progress: bool = False, callback=None) -> History:
    """Train ``net`` in place with ``rule`` for ``epochs`` passes over ``data.x_train``.

    Each epoch shuffles the training set with a generator seeded by (seed, epoch), so the same seed
    gives bit-identical runs. A NaN/inf in the weights or the training loss stops the run and is
    recorded in ``History.diverged_epoch``; it is not an error. ``callback(epoch, net, history)``, if
    given, runs after every recorded epoch (epoch 0 included), e.g. to measure the weights.

    Rule hooks (optional methods): ``rule.begin(net, x_train)`` runs once before epoch 1 (its time is
    ``History.setup_time``); ``rule.end_epoch(net, x_train, epoch)`` runs after each epoch's last step
    and counts in that epoch's time (e.g. seed 002's feedback-only epochs).
    """
    if epochs < 0 or int(epochs) != epochs:
        raise ValueError(f"epochs must be a whole number >= 0, got {epochs}")
    if batch_size < 1 or int(batch_size) != batch_size:
        raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size}")
    net.check_input(data.x_train)
    if data.n_outputs != net.sizes[-1]:
        raise ValueError(f"shape mismatch: network has {net.sizes[-1]} outputs, "
                         f"data has {data.n_outputs} target columns")
    history = History()
    history.record(net, data, 0.0, {})
    if callback is not None:
        callback(0, net, history)
    begin, end_epoch = getattr(rule, "begin", None), getattr(rule, "end_epoch", None)
    if begin is not None and epochs > 0:
        start = time.perf_counter()
        begin(net, data.x_train)
        history.setup_time = time.perf_counter() - start
    n = len(data.x_train)
    bar = tqdm(range(1, epochs + 1), desc=getattr(rule, "name", "train"), disable=not progress,
               leave=False)
    with np.errstate(all="ignore"):
        for epoch in bar:
            order = np.random.default_rng([seed, epoch]).permutation(n)
            sums, steps, finite = {}, 0, True
            start = time.perf_counter()
            for i in range(0, n, batch_size):
                idx = order[i:i + batch_size]
                diagnostics = rule.step(net, data.x_train[idx], data.y_train[idx])
                for key, value in diagnostics.items():
                    sums[key] = sums.get(key, 0.0) + value
                steps += 1
                if not _finite(net):
                    finite = False
                    break
            if finite and end_epoch is not None:
                end_epoch(net, data.x_train, epoch)
            seconds = time.perf_counter() - start
            history.record(net, data, seconds, {k: v / steps for k, v in sums.items()})
            if not finite or not np.isfinite(history.metrics["train_mse"][-1]):
                history.diverged_epoch = epoch
                break
            if callback is not None:
                callback(epoch, net, history)
            bar.set_postfix(test_mse=f"{history.metrics['test_mse'][-1]:.4g}")
    return history
