"""The one container every loader returns and every rule trains on."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tpnb import checks

TASKS = ("regression", "classification")


@dataclass(frozen=True)
class Dataset:
    """A train/test split held in memory as float64, with an optional validation split.

    x_train: (n_train, d) inputs.  y_train: (n_train, k) targets; for classification the
    one-hot encoding of the labels (k = number of classes), for regression the real targets.
    x_test, y_test: the same for the test split.  task: "regression" or "classification".
    x_val, y_val: a validation split held out of the training set (``with_validation``), evaluated
    beside the test split every epoch (for early stopping); None when there is none.

    Checked on construction (ValueError or TypeError naming the split and the problem): 2-D arrays of
    finite real numbers, at least one sample in each split, matching rows and columns; for
    classification every target row one-hot (0/1 with exactly one 1) over at least 2 classes.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: str
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; expected one of {TASKS}")
        if (self.x_val is None) != (self.y_val is None):
            raise ValueError(f"{self.name}: x_val and y_val must be given together")
        for split in self.splits:
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            check_xy(x, y, what=f"{self.name} {split}")
            if len(x) == 0:
                raise ValueError(f"{self.name} {split}: the split holds no samples; each split needs at least one")
            if self.task == "classification":
                checks.one_hot_targets(f"{self.name} {split}: targets", y)
        if self.x_train.shape[1] != self.x_test.shape[1]:
            raise ValueError(
                f"{self.name}: train inputs have {self.x_train.shape[1]} features, "
                f"test inputs {self.x_test.shape[1]}")
        if self.y_train.shape[1] != self.y_test.shape[1]:
            raise ValueError(
                f"{self.name}: train targets have {self.y_train.shape[1]} columns, "
                f"test targets {self.y_test.shape[1]}")

    @property
    def splits(self) -> tuple:
        """The splits held: ("train", "test") or ("train", "val", "test")."""
        return ("train", "test") if self.x_val is None else ("train", "val", "test")

    @property
    def n_inputs(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.y_train.shape[1]

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> "Dataset":
        """The first n_train / n_test samples of each split (loaders shuffle where order matters);
        None keeps the whole split, and a number must be a whole number >= 1."""
        for name, n in (("n_train", n_train), ("n_test", n_test)):
            if n is not None:
                checks.whole_number(name, n, 1)
        return Dataset(self.name, self.x_train[:n_train], self.y_train[:n_train],
                       self.x_test[:n_test], self.y_test[:n_test], self.task)

    def _check_n_val(self, n_val) -> None:
        checks.integer("n_val", n_val)
        if not 0 < n_val < len(self.x_train):
            raise ValueError(f"n_val must be in (0, {len(self.x_train)}), got {n_val}")

    def validation_split(self, n_val: int) -> "Dataset":
        """Hold out the last n_val training samples as the 'test' split (for tuning, never the test set)."""
        self._check_n_val(n_val)
        return Dataset(f"{self.name}-validation", self.x_train[:-n_val], self.y_train[:-n_val],
                       self.x_train[-n_val:], self.y_train[-n_val:], self.task)

    def with_validation(self, n_val: int, seed: int | None = None) -> "Dataset":
        """Hold out n_val training samples as the validation split (the test split is kept): the last n_val,
        or with ``seed`` a random n_val of them (seed 002's random 55 000 / 5 000 split); the others keep
        their order."""
        self._check_n_val(n_val)
        n = len(self.x_train)
        if seed is None:
            held = np.arange(n - n_val, n)
        else:
            held = np.sort(np.random.default_rng(checks.seed(seed)).permutation(n)[:n_val])
        kept = np.setdiff1d(np.arange(n), held)
        return Dataset(self.name, self.x_train[kept], self.y_train[kept], self.x_test, self.y_test,
                       self.task, self.x_train[held], self.y_train[held])


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(n,) integer labels in [0, n_classes) -> (n, n_classes) float64 one-hot rows."""
    labels = np.asarray(labels)
    checks.whole_number("n_classes", n_classes, 1)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"label out of range: labels span [{labels.min()}, {labels.max()}], "
            f"expected [0, {n_classes - 1}]")
    out = np.zeros((labels.size, n_classes))
    out[np.arange(labels.size), labels] = 1.0
    return out


def check_xy(x: np.ndarray, y: np.ndarray, what: str = "data") -> None:
    """Raise ValueError naming the problem if x (n, d) and y (n, k) are not a usable batch."""
    for name, arr in (("inputs", x), ("targets", y)):
        if not isinstance(arr, np.ndarray) or arr.ndim != 2:
            raise ValueError(f"{what}: {name} must be a 2-D array, got "
                             f"{getattr(arr, 'shape', type(arr).__name__)}")
        checks.real_array(f"{what}: {name}", arr)
        checks.finite_array(f"{what}: {name}", arr)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{what}: shape mismatch, {x.shape[0]} inputs but {y.shape[0]} targets")
