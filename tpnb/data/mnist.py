"""MNIST handwritten digits, and the loader shared by every data set in MNIST's file layout."""
from __future__ import annotations

import numpy as np

from tpnb import checks
from tpnb.data.dataset import Dataset, one_hot
from tpnb.data.errors import DataFileError
from tpnb.data.idx import parse_idx
from tpnb.data.sources import DataFile, DataSource, load_contents

IMAGE_SHAPE = (28, 28)
N_CLASSES = 10
SPLIT_FILES = {  # split -> (images file, labels file)
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

# No authoritative SHA-256 of the decompressed MNIST files is known here, so what is verified
# is the MD5 of the official .gz files as published (the checksums torchvision uses).  A
# re-compressed copy therefore fails verification; load it with verify=False.
MNIST = DataSource(
    name="mnist",
    files=(
        DataFile("train-images-idx3-ubyte.gz", md5_stored="f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        DataFile("train-labels-idx1-ubyte.gz", md5_stored="d53e105ee54ea40749a09fcbcd1e9432"),
        DataFile("t10k-images-idx3-ubyte.gz", md5_stored="9fb629c4189551a2d022fa330f9573f3"),
        DataFile("t10k-labels-idx1-ubyte.gz", md5_stored="ec29112dd5afa0611ce80d1b7f02629c"),
    ),
    base_url="https://ossci-datasets.s3.amazonaws.com/mnist/",
)


def load_mnist(n_train: int | None = None, n_test: int | None = None, **source_kwargs) -> Dataset:
    """MNIST: x (n, 784) pixels / 255 in [0, 1], y (n, 10) one-hot; 60000 train, 10000 test.

    n_train / n_test keep the first n samples of each split.  source_kwargs go to
    tpnb.data.sources.load_contents (search_dirs, cache_dir, download, verify, timeout).
    """
    return load_mnist_layout(MNIST, n_train, n_test, **source_kwargs)


def load_mnist_layout(source: DataSource, n_train: int | None, n_test: int | None,
                      **source_kwargs) -> Dataset:
    """A Dataset from the four IDX files of SPLIT_FILES: 28x28 uint8 images, labels 0..9."""
    for name, n_keep in (("n_train", n_train), ("n_test", n_test)):
        if n_keep is not None:          # before any file is read or downloaded (the range after)
            checks.integer(name, n_keep, "a whole number (int) or None")
    contents = load_contents(source, **source_kwargs)
    arrays = {}
    for split, n_keep in (("train", n_train), ("test", n_test)):
        images_file, labels_file = SPLIT_FILES[split]
        images = parse_idx(contents[images_file], images_file)
        labels = parse_idx(contents[labels_file], labels_file)
        _check_images_labels(images, labels, images_file, labels_file)
        n = _subset_size(n_keep, len(images), f"n_{split}")
        x = images[:n].reshape(n, -1).astype(np.float64)
        x /= 255.0
        arrays[split] = (x, one_hot(labels[:n].astype(np.int64), N_CLASSES))
    return Dataset(source.name, *arrays["train"], *arrays["test"], task="classification")


def _check_images_labels(images: np.ndarray, labels: np.ndarray, images_file: str,
                         labels_file: str) -> None:
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise DataFileError(f"{images_file}: expected uint8 images of shape (n, 28, 28), got "
                            f"{images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataFileError(f"{labels_file}: expected uint8 labels of shape (n,), got "
                            f"{labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise DataFileError(f"{images_file} holds {len(images)} images but {labels_file} "
                            f"{len(labels)} labels")
    if labels.size and labels.max() >= N_CLASSES:
        raise DataFileError(f"{labels_file}: label {labels.max()} out of range 0..{N_CLASSES - 1}")


def _subset_size(n_keep: int | None, n_available: int, name: str) -> int:
    if n_keep is None:
        return n_available
    if not 0 < n_keep <= n_available:
        raise ValueError(f"{name} must be in 1..{n_available}, got {n_keep}")
    return n_keep
