"""CIFAR-10: batches read from the archive through a restricted unpickler."""
import dataclasses
import gzip
import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from tpnb.data import ChecksumError, DataFileError, load_cifar10
from tpnb.data import cifar10
from tpnb.data.cifar10 import ARCHIVE, TEST_BATCHES, TRAIN_BATCHES, read_batch
from tpnb.data.sources import DataFile

OFFICIAL = cifar10.CIFAR10
N_PER_BATCH = 3


def batch_pickle(seed, protocol=2, labels=None):
    """A pickled batch shaped like the real ones: bytes keys, uint8 data, a list of labels."""
    rng = np.random.default_rng(seed)
    labels = list(rng.integers(0, 10, N_PER_BATCH)) if labels is None else labels
    batch = {b"batch_label": b"fake", b"labels": [int(v) for v in labels],
             b"data": rng.integers(0, 256, (N_PER_BATCH, 3072), dtype=np.uint8)}
    return pickle.dumps(batch, protocol=protocol)


def write_archive(folder, members, monkeypatch):
    """tar.gz of {member name: bytes} at folder/ARCHIVE; the loader expects its md5."""
    folder.mkdir(exist_ok=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    stored = gzip.compress(buffer.getvalue())
    (folder / ARCHIVE).write_bytes(stored)
    checked = DataFile(ARCHIVE, md5_stored=hashlib.md5(stored).hexdigest())
    monkeypatch.setattr(cifar10, "CIFAR10", dataclasses.replace(OFFICIAL, files=(checked,)))
    return dict(search_dirs=[folder], cache_dir=folder.parent / "cache", download=False)


def all_batches(protocol=2):
    return {name: batch_pickle(i, protocol) for i, name in enumerate(TRAIN_BATCHES + TEST_BATCHES)}


pytestmark = pytest.mark.usefixtures("no_network")


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_batches_concatenate_in_order_and_scale(tmp_path, monkeypatch, protocol):
    members = all_batches(protocol)
    data = load_cifar10(**write_archive(tmp_path / "c10", members, monkeypatch))
    assert data.name == "cifar10" and data.task == "classification"
    assert data.x_train.shape == (5 * N_PER_BATCH, 3072) and data.x_test.shape == (N_PER_BATCH, 3072)
    first = read_batch(members[TRAIN_BATCHES[0]], "first")
    np.testing.assert_array_equal(data.x_train[:N_PER_BATCH], first[0] / 255.0)
    np.testing.assert_array_equal(data.y_train[:N_PER_BATCH].argmax(1), first[1])
    last = read_batch(members[TRAIN_BATCHES[-1]], "last")
    np.testing.assert_array_equal(data.x_train[-N_PER_BATCH:], last[0] / 255.0)


def test_subset_keeps_first_samples(tmp_path, monkeypatch):
    kwargs = write_archive(tmp_path / "c10", all_batches(), monkeypatch)
    data = load_cifar10(n_train=4, n_test=1, **kwargs)
    assert data.x_train.shape == (4, 3072) and data.y_test.shape == (1, 10)
    with pytest.raises(ValueError, match="n_test must be in 1..3"):
        load_cifar10(n_test=4, **kwargs)


def test_truncated_pickle_raises(tmp_path, monkeypatch):
    members = all_batches()
    members[TEST_BATCHES[0]] = members[TEST_BATCHES[0]][:-100]
    with pytest.raises(DataFileError, match="test_batch: corrupt or disallowed pickle"):
        load_cifar10(**write_archive(tmp_path / "c10", members, monkeypatch))


class RunsCode:
    def __reduce__(self):
        return (os.getcwd, ())


def test_pickle_naming_other_globals_is_refused():
    content = pickle.dumps({b"data": RunsCode(), b"labels": []})
    with pytest.raises(DataFileError, match="refusing to load global .*getcwd"):
        read_batch(content, "evil")


@pytest.mark.parametrize("batch, problem", [
    ([1, 2], "expected a dict"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}, "expected 2 integer labels"),
    ({b"data": np.zeros((2, 100), np.uint8), b"labels": [1, 2]}, r"shape \(n, 3072\)"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1, 10]}, r"labels span \[1, 10\]"),
])
def test_malformed_batch_raises_naming_problem(batch, problem):
    with pytest.raises(ValueError, match=problem):
        read_batch(pickle.dumps(batch, protocol=2), "batch")


def test_missing_batch_raises(tmp_path, monkeypatch):
    members = all_batches()
    del members[TRAIN_BATCHES[2]]
    with pytest.raises(DataFileError, match="missing batch file cifar-10-batches-py/data_batch_3"):
        load_cifar10(**write_archive(tmp_path / "c10", members, monkeypatch))


def test_archive_that_is_not_a_tar_raises(tmp_path, monkeypatch):
    kwargs = write_archive(tmp_path / "c10", {}, monkeypatch)
    stored = gzip.compress(b"not a tar archive" * 100)
    (tmp_path / "c10" / ARCHIVE).write_bytes(stored)
    with pytest.raises(DataFileError, match="corrupt tar archive"):
        load_cifar10(**kwargs, verify=False)


def test_archive_not_matching_the_official_md5_is_refused(tmp_path, monkeypatch):
    kwargs = write_archive(tmp_path / "c10", all_batches(), monkeypatch)
    monkeypatch.setattr(cifar10, "CIFAR10", OFFICIAL)
    with pytest.raises(ChecksumError, match="expected c58f30108f718f92721af3b95e74349a"):
        load_cifar10(**kwargs)


def test_missing_archive_names_the_download(tmp_path):
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    with pytest.raises(FileNotFoundError, match=url):
        load_cifar10(search_dirs=[], cache_dir=tmp_path / "cache", download=False)


def test_pickles_naming_numpy_1_module_paths_load():
    """The real batches were written under numpy 1.x, whose globals live in numpy.core."""
    content = batch_pickle(0, protocol=2)
    assert b"cnumpy._core.multiarray\n" in content
    legacy = content.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    np.testing.assert_array_equal(read_batch(legacy, "legacy")[0], read_batch(content, "new")[0])
