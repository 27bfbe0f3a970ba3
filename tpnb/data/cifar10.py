"""CIFAR-10: 32x32 colour images in 10 classes, read from the official python archive.

The cache holds the official cifar-10-python.tar.gz; the batches are read from it on every
load, so the archive's published MD5 is verified every time.
"""
from __future__ import annotations

import io
import pickle
import tarfile

import numpy as np

from tpnb import checks
from tpnb.data.dataset import Dataset, one_hot
from tpnb.data.errors import DataFileError
from tpnb.data.sources import DataFile, DataSource, load_contents

N_FEATURES = 3 * 32 * 32  # per row: 1024 red, then 1024 green, then 1024 blue pixels
N_CLASSES = 10
ARCHIVE = "cifar-10-python.tar.gz"
TRAIN_BATCHES = tuple(f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6))
TEST_BATCHES = ("cifar-10-batches-py/test_batch",)

CIFAR10 = DataSource(
    name="cifar10",
    files=(DataFile(ARCHIVE, md5_stored="c58f30108f718f92721af3b95e74349a"),),
    base_url="https://www.cs.toronto.edu/~kriz/",
)

# The only globals a batch pickle may name: numpy's array reconstruction (old and new module
# paths, protocols 2 to 5) and _codecs.encode, which protocol 2 uses for bytes.
ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),
}


class BatchUnpickler(pickle.Unpickler):
    """An Unpickler that refuses every global outside ALLOWED_GLOBALS."""

    def find_class(self, module, name):
        if (module, name) not in ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")
        return super().find_class(module, name)


def load_cifar10(n_train: int | None = None, n_test: int | None = None,
                 **source_kwargs) -> Dataset:
    """CIFAR-10: x (n, 3072) pixels / 255 in [0, 1], y (n, 10) one-hot; 50000 train, 10000 test.

    n_train / n_test keep the first n samples of each split.  source_kwargs go to
    tpnb.data.sources.load_contents (search_dirs, cache_dir, download, verify, timeout).
    """
    for name, n_keep in (("n_train", n_train), ("n_test", n_test)):
        if n_keep is not None:          # before any file is read or downloaded (the range after)
            checks.integer(name, n_keep, "a whole number (int) or None")
    archive = load_contents(CIFAR10, **source_kwargs)[ARCHIVE]
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
            train = _read_batches(tar, TRAIN_BATCHES)
            test = _read_batches(tar, TEST_BATCHES)
    except tarfile.TarError as err:
        raise DataFileError(f"{ARCHIVE}: corrupt tar archive ({err})") from err
    splits = []
    for (pixels, labels), n_keep, name in ((train, n_train, "n_train"), (test, n_test, "n_test")):
        n = len(pixels) if n_keep is None else n_keep
        if not 0 < n <= len(pixels):
            raise ValueError(f"{name} must be in 1..{len(pixels)}, got {n_keep}")
        x = pixels[:n].astype(np.float64)
        x /= 255.0
        splits += [x, one_hot(labels[:n], N_CLASSES)]
    return Dataset("cifar10", *splits, task="classification")


def read_batch(content: bytes, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Decode one pickled batch: (n, 3072) uint8 pixels and (n,) int64 labels in 0..9."""
    try:
        batch = BatchUnpickler(io.BytesIO(content), encoding="bytes").load()
    except Exception as err:  # a corrupt pickle can raise almost anything
        raise DataFileError(
            f"{source}: corrupt or disallowed pickle ({type(err).__name__}: {err})") from err
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DataFileError(f"{source}: expected a dict with b'data' and b'labels'")
    pixels, labels = batch[b"data"], np.asarray(batch[b"labels"])
    if not (isinstance(pixels, np.ndarray) and pixels.dtype == np.uint8
            and pixels.ndim == 2 and pixels.shape[1] == N_FEATURES):
        raise DataFileError(f"{source}: expected uint8 data of shape (n, {N_FEATURES}), got "
                            f"{getattr(pixels, 'dtype', type(pixels).__name__)} "
                            f"{getattr(pixels, 'shape', '')}")
    if not (labels.ndim == 1 and len(labels) == len(pixels)
            and np.issubdtype(labels.dtype, np.integer)):
        raise DataFileError(f"{source}: expected {len(pixels)} integer labels, got "
                            f"{labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
        raise DataFileError(f"{source}: labels span [{labels.min()}, {labels.max()}], "
                            f"expected 0..{N_CLASSES - 1}")
    return pixels, labels.astype(np.int64)


def _read_batches(tar: tarfile.TarFile, members: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    pixels, labels = [], []
    for member in members:
        try:
            stream = tar.extractfile(member)
        except KeyError:
            stream = None
        if stream is None:
            raise DataFileError(f"{ARCHIVE}: missing batch file {member}")
        batch_pixels, batch_labels = read_batch(stream.read(), f"{ARCHIVE}:{member}")
        pixels.append(batch_pixels)
        labels.append(batch_labels)
    return np.concatenate(pixels), np.concatenate(labels)
