"""The one training loop every rule shares: a comparison differs only in the rule.

Divergence. A run has diverged when the weights or the training loss stop being finite, or when the training
loss exceeds DIVERGENCE_FACTOR = 1e3 times its value before training (``divergence_epoch``; the training loop
stops there and the convergence classes of tpnb.studies.convergence use the same function). Why 1e3, from
the 870 committed runs in results/*.json:

- no run that ended below its initial loss rose above 14 times it on the way (exact TP, eta = 4, batch 8,
  teacher-student), so the factor leaves a margin of 70 before it would cut short a run that recovers;
- most runs that pass 1e3 go on to 1e17 - 1e299 or NaN, and a loss 1e3 times an untrained network's (for
  the MSE: outputs some 30 times further from the targets) has lost all that training gave;
- between the two lie a few erratic large-step runs (at most 937 times) that stay finite: they are not
  diverged (the convergence classes call them "worsened" when they end above their start).

The loss is the task's own: cross-entropy for classification, MSE for regression. A network trained with
cross-entropy sharpens its logits as long as it trains, and their MSE to the one-hot targets grows on the
way (backprop with Adam, 784-256-256-10 on 10k Fashion-MNIST images: 300 times its initial value after 40
healthy epochs), so an MSE criterion would stop long healthy runs. In every committed classification run
the MSE and the cross-entropy criteria flag the same runs at the same epoch.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from . import checks
from .data.dataset import Dataset
from .losses import CrossEntropy, MSE, accuracy
from .network import MLP

_MSE, _CE = MSE(), CrossEntropy()

DIVERGENCE_FACTOR = 1e3


def divergence_loss(metrics: dict) -> str:
    """The training loss divergence is judged on: "train_ce" for classification (it is recorded only
    there), else "train_mse"."""
    return "train_ce" if "train_ce" in metrics else "train_mse"


def divergence_epoch(metrics: dict) -> int | None:
    """The first epoch >= 1 at which a run's per-epoch metrics count as diverged, or None.

    Diverged: the training MSE or the divergence loss (``divergence_loss``) is NaN/inf, or that loss
    exceeds DIVERGENCE_FACTOR times its epoch-0 value (when that value is 0, i.e. the untrained network
    fits exactly, only NaN/inf counts). The training loop stops at this epoch; the convergence classes of
    tpnb.studies.convergence use this same function.
    """
    mse, loss = metrics["train_mse"], metrics[divergence_loss(metrics)]
    limit = DIVERGENCE_FACTOR * loss[0] if loss[0] > 0 else np.inf
    for epoch in range(1, len(loss)):
        if not (np.isfinite(mse[epoch]) and np.isfinite(loss[epoch])) or loss[epoch] > limit:
            return epoch
    return None


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
    classification; "val_..." too when the data has a validation split). epoch_time: seconds of training per epoch (evaluation excluded; entry 0 is 0).
    diagnostics: the rule's per-step diagnostics averaged over each epoch (entry 0 is empty).
    diverged_epoch: the epoch at which the run diverged (None: it did not): the weights or the training loss
    became NaN/inf, or the training loss exceeded DIVERGENCE_FACTOR (1e3) times its epoch-0 value
    (``divergence_epoch``: cross-entropy for classification, MSE for regression). Training stops there;
    the lists end with that epoch.
    setup_time: seconds the rule's ``begin`` hook took before epoch 1 (e.g. feedback pre-training).
    stopped_epoch: the epoch after which early stopping ended the run (None: it did not stop early).
    """
    metrics: dict = field(default_factory=dict)
    epoch_time: list = field(default_factory=list)
    diagnostics: list = field(default_factory=list)
    diverged_epoch: int | None = None
    setup_time: float = 0.0
    stopped_epoch: int | None = None

    @property
    def diverged(self) -> bool:
        return self.diverged_epoch is not None

    @property
    def epochs(self) -> int:
        """Epochs trained (including a diverged one)."""
        return len(self.epoch_time) - 1

    def final(self, key: str) -> float:
        return self.metrics[key][-1]

    def best_epoch(self, monitor: str = "val_acc") -> int:
        """The epoch >= 1 with the best ``monitor`` (the highest accuracy, the lowest loss; the first
        of equals); 0 when no epoch was trained."""
        values = np.asarray(self.metrics[monitor][1:], dtype=float)
        if len(values) == 0:
            return 0
        sign = 1.0 if monitor.endswith("acc") else -1.0
        return 1 + int(np.argmax(np.where(np.isfinite(values), sign * values, -np.inf)))

    def at_best(self, key: str = "test_acc", monitor: str = "val_acc") -> float:
        """``key`` at the epoch of the best ``monitor`` (seed 002's protocol: test accuracy at the epoch
        of best validation accuracy)."""
        return self.metrics[key][self.best_epoch(monitor)]

    def record(self, net: MLP, data: Dataset, seconds: float, diagnostics: dict) -> None:
        for split in data.splits:
            x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
            for name, value in evaluate(net, x, y, data.task).items():
                self.metrics.setdefault(f"{split}_{name}", []).append(value)
        self.epoch_time.append(seconds)
        self.diagnostics.append(diagnostics)

    def to_dict(self) -> dict:
        d = {"metrics": self.metrics, "epoch_time": self.epoch_time, "diagnostics": self.diagnostics,
             "diverged_epoch": self.diverged_epoch, "setup_time": self.setup_time}
        if self.stopped_epoch is not None:
            d["stopped_epoch"] = self.stopped_epoch
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        return cls(d["metrics"], d["epoch_time"], d["diagnostics"], d["diverged_epoch"], d.get("setup_time", 0.0),
                   d.get("stopped_epoch"))


def weights_finite(net: MLP) -> bool:
    """True when no weight is NaN or inf. One BLAS dot w.w per layer (half the time of a sum): a NaN or inf
    weight makes it NaN or inf; only when it is not finite is the exact test run (finite weights whose squares
    overflow, |w| > 1e154, pass it)."""
    with np.errstate(over="ignore", invalid="ignore"):
        for w in net.weights:
            flat = w.ravel()
            if not np.isfinite(np.dot(flat, flat)) and not np.isfinite(w).all():
                return False
    return True


def train_steps(net: MLP, rule, x: np.ndarray, y: np.ndarray, batches, sums: dict) -> tuple:
    """The training loop's inner part: ``rule.step`` on (x[idx], y[idx]) for every index array ``idx`` of
    ``batches``, each step's diagnostics added into ``sums``; stops after a step that leaves a weight
    non-finite. Returns (steps taken, weights still finite). The benchmarks time blocks of steps with it."""
    steps = 0
    for idx in batches:
        diagnostics = rule.step(net, x[idx], y[idx])
        for key, value in diagnostics.items():
            sums[key] = sums.get(key, 0.0) + value
        steps += 1
        if not weights_finite(net):
            return steps, False
    return steps, True


def stalled(history: History, patience: int, monitor: str = "val_acc") -> bool:
    """True when the last ``patience`` epochs brought no better ``monitor`` than the best before them."""
    return history.epochs - history.best_epoch(monitor) >= patience


def train(net: MLP, rule, data: Dataset, *, epochs: int, batch_size: int, seed: int = 0,
          progress: bool = False, callback=None, patience: int | None = None, resume: History | None = None,
          checkpoint=None) -> History:
    """Train ``net`` in place with ``rule`` for ``epochs`` passes over ``data.x_train``.

    Each epoch shuffles the training set with a generator seeded by (seed, epoch), so the same seed
    gives bit-identical runs. Divergence stops the run and is recorded in ``History.diverged_epoch``; it
    is not an error. A run diverges when the weights or the training loss become NaN/inf, or when the
    training loss (cross-entropy for classification, MSE for regression) exceeds DIVERGENCE_FACTOR = 1e3
    times its value before training (``divergence_epoch``). ``callback(epoch, net, history)``, if given,
    runs after every recorded epoch (epoch 0 included, the diverged one not), e.g. to measure the weights.

    Early stopping: with ``patience`` (a whole number >= 1; the data must have a validation split) the run
    stops once ``patience`` epochs in a row brought no better validation accuracy (``History.stopped_epoch``;
    report ``History.at_best()``: the test accuracy at the best validation epoch).

    Resuming: ``resume``, the History of the same run interrupted after its last recorded epoch (with
    ``net`` and ``rule`` restored to their state then, e.g. from a pickle), continues that run: the epochs
    after it are bit-identical to an uninterrupted run. ``checkpoint(epoch, net, rule, history)``, if given,
    runs after every epoch that did not end the run, e.g. to pickle that state.

    epochs (whole number >= 0), batch_size (>= 1) and seed (>= 0) must be ints; ``data`` a Dataset whose
    inputs and targets fit ``net``. Bad arguments raise a ValueError or TypeError before anything changes,
    as does an untrained network whose training loss is already NaN/inf.

    Rule hooks (optional methods): ``rule.begin(net, x_train)`` runs once before epoch 1 (its time is
    ``History.setup_time``); ``rule.end_epoch(net, x_train, epoch)`` runs after each epoch's last step
    and counts in that epoch's time (e.g. seed 002's feedback-only epochs).
    """
    checks.whole_number("epochs", epochs, 0)
    checks.whole_number("batch_size", batch_size, 1)
    checks.seed(seed)
    if not isinstance(net, MLP):
        raise checks.ArgumentTypeError(f"net must be a tpnb MLP, got {type(net).__name__}")
    if not isinstance(data, Dataset):
        raise checks.ArgumentTypeError(f"data must be a tpnb.data.Dataset, got {type(data).__name__}")
    if not callable(getattr(rule, "step", None)):
        raise checks.ArgumentTypeError(f"rule must have a step(net, x, y) method, got {rule!r}")
    for name, hook in (("callback", callback), ("checkpoint", checkpoint)):
        if hook is not None and not callable(hook):
            raise checks.ArgumentTypeError(f"{name} must be callable or None, got {hook!r}")
    if patience is not None:
        checks.whole_number("patience", patience, 1)
        if data.x_val is None:
            raise ValueError(f"patience={patience}: early stopping needs data with a validation split "
                             f"(Dataset.with_validation)")
    if resume is not None and not isinstance(resume, History):
        raise checks.ArgumentTypeError(f"resume must be a History or None, got {type(resume).__name__}")
    net.check_input(data.x_train)
    if data.n_outputs != net.sizes[-1]:
        raise ValueError(f"shape mismatch: network has {net.sizes[-1]} outputs, "
                         f"data has {data.n_outputs} target columns")
    begin, end_epoch = getattr(rule, "begin", None), getattr(rule, "end_epoch", None)
    if resume is None:
        history = History()
        history.record(net, data, 0.0, {})
        initial = history.metrics[divergence_loss(history.metrics)][0]
        if not (np.isfinite(initial) and np.isfinite(history.metrics["train_mse"][0])):
            raise ValueError(f"the untrained network's training loss is already {initial}: its outputs are "
                             f"not finite (check net.weights and the scale of the data)")
        if callback is not None:
            callback(0, net, history)
        if begin is not None and epochs > 0:
            start = time.perf_counter()
            begin(net, data.x_train)
            history.setup_time = time.perf_counter() - start
    else:
        history = resume
    n = len(data.x_train)
    bar = tqdm(range(history.epochs + 1, epochs + 1), desc=getattr(rule, "name", "train"),
               disable=not progress, leave=False)
    with np.errstate(all="ignore"):
        for epoch in bar:
            order = np.random.default_rng([seed, epoch]).permutation(n)
            batches = (order[i:i + batch_size] for i in range(0, n, batch_size))
            sums = {}
            start = time.perf_counter()
            steps, finite = train_steps(net, rule, data.x_train, data.y_train, batches, sums)
            if finite and end_epoch is not None:
                end_epoch(net, data.x_train, epoch)
            seconds = time.perf_counter() - start
            history.record(net, data, seconds, {k: v / steps for k, v in sums.items()})
            if not finite or divergence_epoch(history.metrics) == epoch:
                history.diverged_epoch = epoch
                break
            if callback is not None:
                callback(epoch, net, history)
            if patience is not None and stalled(history, patience):
                history.stopped_epoch = epoch
                break
            if checkpoint is not None and epoch < epochs:
                checkpoint(epoch, net, rule, history)
            bar.set_postfix(test_mse=f"{history.metrics['test_mse'][-1]:.4g}")
    return history
