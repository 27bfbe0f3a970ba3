"""Tests for tpnb.published: the quotations are in the units the book uses (fractions, epochs per row)."""
from tpnb import published


def test_seed003_table2_rows_are_fractions_with_the_epochs_the_seed_states():
    for sizes, (accuracy, tau, eta, epochs) in published.SEED003_TABLE2.items():
        assert sizes[0] == 784 and sizes[-1] == 10
        assert 0.5 < accuracy < 1 and tau > 0 and eta > 0
        assert epochs == (60 if len(sizes) == 5 else 30)   # "The 3-hidden layer network were trained in 60"


def test_seed002_protocol_and_the_benchmark_are_in_the_books_units():
    assert 0.5 < published.FASHION_MNIST_MLP_RELU_100 < 1
    assert published.SEED002_VALIDATION < 60000 and published.SEED002_SEEDS >= 1
