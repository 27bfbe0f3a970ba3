"""Fashion-MNIST: Zalando's 28x28 grey-scale clothing images in MNIST's file layout."""
from __future__ import annotations

from pathlib import Path

from tpnb.data.dataset import Dataset
from tpnb.data.mnist import load_mnist_layout
from tpnb.data.sources import DataFile, DataSource

# SHA-256 of the decompressed files, computed from the Debian package dataset-fashion-mnist
# (0.0~git20200523.55506a9-1); the official .gz downloads decompress to the same bytes.
FASHION_MNIST = DataSource(
    name="fashion_mnist",
    files=(
        DataFile("train-images-idx3-ubyte.gz",
                 sha256_raw="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        DataFile("train-labels-idx1-ubyte.gz",
                 sha256_raw="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        DataFile("t10k-images-idx3-ubyte.gz",
                 sha256_raw="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        DataFile("t10k-labels-idx1-ubyte.gz",
                 sha256_raw="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    ),
    base_url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    system_dirs=(Path("/usr/share/datasets/fashion-mnist"),),
    install_hint="apt-get install dataset-fashion-mnist",
)


def load_fashion_mnist(n_train: int | None = None, n_test: int | None = None,
                       **source_kwargs) -> Dataset:
    """Fashion-MNIST: x (n, 784) pixels / 255 in [0, 1], y (n, 10) one-hot; 60000 / 10000.

    n_train / n_test keep the first n samples of each split (the files are in random class
    order).  source_kwargs go to tpnb.data.sources.load_contents.
    """
    return load_mnist_layout(FASHION_MNIST, n_train, n_test, **source_kwargs)
