"""The front page's numbers: test accuracy per epoch of exact TP and backprop, mean and std over seeds."""
import numpy as np
import pytest

from tpnb.studies import answer
from tpnb.studies.core import RunSpec

DATA = dict(name="xor", n_train=64, n_test=32, noise=0.1, seed=0)


@pytest.fixture
def results(trained_study):
    specs = [RunSpec(key=f"{method}|seed={s}", data=DATA, sizes=(2, 8, 2), activation="relu", rule=rule,
                     rule_options=options, epochs=2, batch_size=16, seed=s,
                     labels=dict(network="2-8-2", method=method, seed=s))
             for method, rule, options in (("exact_tp", "exact_tp", dict(alpha=0.5)),
                                           ("bp_sgd", "backprop", dict(lr=0.1)))
             for s in (0, 1)]
    return trained_study("test_answer", specs)


def test_accuracy_curves_average_the_seeds_epoch_by_epoch(results):
    curves = answer.accuracy_curves(results, network="2-8-2")
    assert set(curves) == set(answer.METHODS)
    for method, (mean, std) in curves.items():
        per_seed = np.array([results[f"{method}|seed={s}"].metrics["test_acc"] for s in (0, 1)])
        assert mean.shape == std.shape == (3,)
        np.testing.assert_allclose(mean, per_seed.mean(axis=0))
        np.testing.assert_allclose(std, per_seed.std(axis=0))


def test_rows_summarise_the_final_accuracy_over_the_seeds(results):
    table = answer.rows(results, network="2-8-2")
    for method, row in table.items():
        finals = [results[f"{method}|seed={s}"].final("test_acc") for s in (0, 1)]
        assert row["runs"] == 2 and row["epochs"] == 2 and row["diverged"] == 0
        assert row["acc"] == pytest.approx(np.mean(finals)) and row["std"] == pytest.approx(np.std(finals))
