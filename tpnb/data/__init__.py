"""Data sets for the experiments: real image sets read from verified files, seeded synthetic sets."""
from __future__ import annotations

from tpnb.data.cifar10 import load_cifar10
from tpnb.data.dataset import Dataset, check_xy, one_hot
from tpnb.data.errors import ChecksumError, DataFileError
from tpnb.data.fashion_mnist import load_fashion_mnist
from tpnb.data.idx import read_idx
from tpnb.data.mnist import load_mnist
from tpnb.data.synthetic import linear_regression, teacher_student, two_spirals, xor

LOADERS = {
    "fashion_mnist": load_fashion_mnist,
    "mnist": load_mnist,
    "cifar10": load_cifar10,
    "linear_regression": linear_regression,
    "teacher_student": teacher_student,
    "xor": xor,
    "two_spirals": two_spirals,
}


def load(name: str, **kwargs) -> Dataset:
    """The data set called name, built by its loader with kwargs."""
    if name not in LOADERS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(LOADERS)}")
    return LOADERS[name](**kwargs)


__all__ = [
    "Dataset", "one_hot", "check_xy", "DataFileError", "ChecksumError", "read_idx",
    "load_fashion_mnist", "load_mnist", "load_cifar10", "linear_regression",
    "teacher_student", "xor", "two_spirals", "load", "LOADERS",
]
