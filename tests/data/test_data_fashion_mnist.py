"""Fashion-MNIST: the loader on small fake files, and on the Debian copy when installed."""
import dataclasses
import hashlib
import time
from pathlib import Path

import numpy as np
import pytest

from tpnb.data import ChecksumError, DataFileError, load_fashion_mnist
from tpnb.data import fashion_mnist
from tpnb.data.idx import write_idx
from tpnb.data.sources import DataFile, read_content

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
OFFICIAL = fashion_mnist.FASHION_MNIST
RNG = np.random.default_rng(0)
TRAIN_IMAGES = RNG.integers(0, 256, (12, 28, 28), dtype=np.uint8)
TRAIN_LABELS = np.arange(12, dtype=np.uint8) % 10
TEST_IMAGES = RNG.integers(0, 256, (6, 28, 28), dtype=np.uint8)
TEST_LABELS = np.arange(6, dtype=np.uint8)[::-1].copy()


def write_fake(monkeypatch, folder, train_images=TRAIN_IMAGES, train_labels=TRAIN_LABELS):
    """Write the four files into folder and make the loader expect their checksums."""
    folder.mkdir(exist_ok=True)
    files = []
    for data_file, array in zip(OFFICIAL.files,
                                [train_images, train_labels, TEST_IMAGES, TEST_LABELS]):
        write_idx(folder / data_file.name, array)
        content = read_content(folder / data_file.name).content
        files.append(DataFile(data_file.name, sha256_raw=hashlib.sha256(content).hexdigest()))
    monkeypatch.setattr(fashion_mnist, "FASHION_MNIST",
                        dataclasses.replace(OFFICIAL, files=tuple(files)))
    return dict(search_dirs=[folder], cache_dir=folder.parent / "cache", download=False)




def test_fake_files_load_as_scaled_pixels_and_one_hot_labels(tmp_path, monkeypatch, no_network):
    data = load_fashion_mnist(**write_fake(monkeypatch, tmp_path / "fm"))
    assert data.name == "fashion_mnist" and data.task == "classification"
    assert data.x_train.shape == (12, 784) and data.x_test.shape == (6, 784)
    assert data.x_train.dtype == np.float64 and data.y_train.dtype == np.float64
    np.testing.assert_array_equal(data.x_train, TRAIN_IMAGES.reshape(12, 784) / 255.0)
    np.testing.assert_array_equal(data.y_train.argmax(1), TRAIN_LABELS)
    np.testing.assert_array_equal(data.y_test.argmax(1), TEST_LABELS)
    assert data.y_train.shape[1] == 10 and np.all(data.y_train.sum(1) == 1)


def test_n_train_n_test_keep_the_first_samples(tmp_path, monkeypatch, no_network):
    kwargs = write_fake(monkeypatch, tmp_path / "fm")
    data = load_fashion_mnist(n_train=5, n_test=2, **kwargs)
    np.testing.assert_array_equal(data.x_train, TRAIN_IMAGES[:5].reshape(5, 784) / 255.0)
    np.testing.assert_array_equal(data.y_test.argmax(1), TEST_LABELS[:2])
    for bad in (0, 13):
        with pytest.raises(ValueError, match="n_train must be in 1..12"):
            load_fashion_mnist(n_train=bad, **kwargs)


def test_label_out_of_range_raises_naming_labels_file(tmp_path, monkeypatch, no_network):
    labels = TRAIN_LABELS.copy()
    labels[3] = 10
    kwargs = write_fake(monkeypatch, tmp_path / "fm", train_labels=labels)
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz: label 10 out of range 0..9"):
        load_fashion_mnist(**kwargs)


def test_image_and_label_counts_must_agree(tmp_path, monkeypatch, no_network):
    kwargs = write_fake(monkeypatch, tmp_path / "fm", train_labels=TRAIN_LABELS[:11])
    with pytest.raises(DataFileError, match="12 images but .* 11 labels"):
        load_fashion_mnist(**kwargs)


def test_images_must_be_28_by_28(tmp_path, monkeypatch, no_network):
    kwargs = write_fake(monkeypatch, tmp_path / "fm", train_images=TRAIN_IMAGES[:, :, :27])
    with pytest.raises(DataFileError, match=r"shape \(n, 28, 28\), got uint8 \(12, 28, 27\)"):
        load_fashion_mnist(**kwargs)


def test_files_not_matching_the_official_checksums_are_refused(tmp_path, monkeypatch, no_network):
    kwargs = write_fake(monkeypatch, tmp_path / "fm")
    monkeypatch.setattr(fashion_mnist, "FASHION_MNIST", OFFICIAL)
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz: sha256"):
        load_fashion_mnist(**kwargs)


def test_download_false_never_touches_network(tmp_path, no_network):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(search_dirs=[tmp_path / "empty"], cache_dir=tmp_path / "cache",
                           download=False)


@pytest.fixture(scope="module")
def debian_fashion_mnist():
    start = time.perf_counter()
    data = load_fashion_mnist(download=False, cache_dir="/nonexistent/tpnb-cache")
    print(f"full Fashion-MNIST loaded in {time.perf_counter() - start:.2f} s")
    return data


@pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason="apt-get install dataset-fashion-mnist")
def test_debian_copy_verifies_and_has_the_official_shape(debian_fashion_mnist):
    data = debian_fashion_mnist
    assert data.x_train.shape == (60000, 784) and data.x_test.shape == (10000, 784)
    assert data.y_train.shape == (60000, 10) and data.y_test.shape == (10000, 10)
    assert data.x_train.dtype == np.float64
    for x in (data.x_train, data.x_test):
        assert x.min() == 0.0 and x.max() == 1.0


@pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason="apt-get install dataset-fashion-mnist")
def test_debian_copy_is_class_balanced(debian_fashion_mnist):
    np.testing.assert_array_equal(debian_fashion_mnist.y_train.sum(0), np.full(10, 6000.0))
    np.testing.assert_array_equal(debian_fashion_mnist.y_test.sum(0), np.full(10, 1000.0))
