"""Bad subset sizes for the file loaders: named before any file is looked for, read or downloaded."""
import pytest

from tpnb.data import load_cifar10, load_fashion_mnist, load_mnist

pytestmark = pytest.mark.usefixtures("no_network")


@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist, load_cifar10])
@pytest.mark.parametrize("kwargs, error, message", [
    (dict(n_train=2.5), TypeError, r"n_train must be a whole number \(int\) or None, got 2.5 of type float"),
    (dict(n_test="10"), TypeError, "n_test must be a whole number .*got '10' of type str"),
    (dict(n_train=True), TypeError, "n_train must be a whole number .*got True of type bool"),
])
def test_subset_sizes_are_checked_before_the_files(loader, kwargs, error, message, tmp_path):
    # no file exists anywhere: a check made after looking for them would raise FileNotFoundError instead
    with pytest.raises(error, match=message):
        loader(**kwargs, search_dirs=[], cache_dir=tmp_path, download=False)
    assert not any(tmp_path.iterdir())
