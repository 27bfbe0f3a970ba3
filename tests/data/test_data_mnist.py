"""MNIST: the official .gz MD5s are what is verified; the loader shares Fashion-MNIST's layout."""
import dataclasses
import hashlib

import numpy as np
import pytest

from tpnb.data import ChecksumError, load_mnist
from tpnb.data import mnist
from tpnb.data.idx import write_idx
from tpnb.data.sources import DataFile

OFFICIAL = mnist.MNIST
RNG = np.random.default_rng(1)
ARRAYS = [RNG.integers(0, 256, (10, 28, 28), dtype=np.uint8), np.arange(10, dtype=np.uint8),
          RNG.integers(0, 256, (4, 28, 28), dtype=np.uint8), np.array([9, 0, 3, 3], np.uint8)]


pytestmark = pytest.mark.usefixtures("no_network")


@pytest.fixture
def fake_dir(tmp_path, monkeypatch):
    """Four fake .gz files in tmp_path/mnist, the loader expecting their stored MD5s."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    files = []
    for data_file, array in zip(OFFICIAL.files, ARRAYS):
        write_idx(folder / data_file.name, array)
        md5 = hashlib.md5((folder / data_file.name).read_bytes()).hexdigest()
        files.append(DataFile(data_file.name, md5_stored=md5))
    monkeypatch.setattr(mnist, "MNIST", dataclasses.replace(OFFICIAL, files=tuple(files)))
    return folder


def test_source_is_the_official_mirror_with_gz_md5s():
    assert OFFICIAL.base_url == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert {f.name: f.md5_stored for f in OFFICIAL.files}["train-images-idx3-ubyte.gz"] == \
        "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert all(f.sha256_raw is None for f in OFFICIAL.files)


def test_fake_files_load(fake_dir, tmp_path):
    data = load_mnist(search_dirs=[fake_dir], cache_dir=tmp_path / "cache", download=False)
    assert data.name == "mnist"
    assert data.x_train.shape == (10, 784) and data.x_test.shape == (4, 784)
    np.testing.assert_array_equal(data.x_test, ARRAYS[2].reshape(4, 784) / 255.0)
    np.testing.assert_array_equal(data.y_test.argmax(1), ARRAYS[3])


def test_found_in_cache_dir(fake_dir):
    data = load_mnist(n_train=3, search_dirs=[], cache_dir=fake_dir, download=False)
    np.testing.assert_array_equal(data.y_train.argmax(1), [0, 1, 2])


def test_recompressed_copy_fails_the_md5(fake_dir, tmp_path):
    name = "t10k-labels-idx1-ubyte.gz"
    stored = (fake_dir / name).read_bytes()
    (fake_dir / name).write_bytes(stored[:4] + b"\x01\x02\x03\x04" + stored[8:])  # new time stamp
    with pytest.raises(ChecksumError, match=f"{name}: md5 of the stored file"):
        load_mnist(search_dirs=[fake_dir], cache_dir=tmp_path / "cache", download=False)
    load_mnist(search_dirs=[fake_dir], cache_dir=tmp_path / "cache", download=False, verify=False)


def test_missing_names_cache_and_mirror(tmp_path):
    with pytest.raises(FileNotFoundError) as raised:
        load_mnist(search_dirs=[], cache_dir=tmp_path / "cache", download=False)
    assert str(tmp_path / "cache" / "train-images-idx3-ubyte.gz") in str(raised.value)
    url = "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"
    assert url in str(raised.value)
