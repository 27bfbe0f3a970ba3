"""Tests for tpnb.train: the shared training loop and its History record."""
import json

import numpy as np
import pytest

from tpnb.data.dataset import Dataset
from tpnb.network import MLP
from tpnb.rules import make_rule, per_sample_weights
from tpnb.data import teacher_student
from tpnb.train import DIVERGENCE_FACTOR, History, divergence_epoch, evaluate, train
from tolerances import assert_close_conditioned

REGRESSION_KEYS = {"train_mse", "test_mse"}
CLASSIFICATION_KEYS = REGRESSION_KEYS | {"train_ce", "test_ce", "train_acc", "test_acc"}


def regression_data(n_train=24, n_test=10, d=3, k=2, seed=0):
    rng = np.random.default_rng(seed)
    teacher = rng.normal(size=(d, k))
    x_train, x_test = rng.normal(size=(n_train, d)), rng.normal(size=(n_test, d))
    return Dataset("toy-regression", x_train, np.tanh(x_train @ teacher), x_test, np.tanh(x_test @ teacher),
                   "regression")


def classification_data(n_train=30, n_test=12, d=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 3.0, size=(classes, d))
    labels_train, labels_test = rng.integers(0, classes, n_train), rng.integers(0, classes, n_test)
    x_train = centres[labels_train] + rng.normal(size=(n_train, d))
    x_test = centres[labels_test] + rng.normal(size=(n_test, d))
    return Dataset("toy-blobs", x_train, np.eye(classes)[labels_train], x_test, np.eye(classes)[labels_test],
                   "classification")


def net_for(data, hidden=(6,), seed=0, activation="relu"):
    return MLP([data.n_inputs, *hidden, data.n_outputs], activation, seed=seed)


RULE_SPECS = [
    ("exact_tp", dict(alpha=0.5, eta=0.3)),
    ("exact_tp", dict(a=0.01, eta=1.0, dx_mode="exact")),
    ("backprop", dict(loss="mse", optimizer="sgd", lr=0.05, momentum=0.5)),
    ("backprop", dict(loss="cross_entropy", optimizer="adam", lr=0.01)),
]


def run(rule_name, options, data, *, epochs=3, batch_size=5, seed=0, net_seed=0):
    net = net_for(data, seed=net_seed)
    history = train(net, make_rule(rule_name, **options), data, epochs=epochs, batch_size=batch_size, seed=seed)
    return net, history


@pytest.mark.parametrize("rule_name, options", RULE_SPECS)
@pytest.mark.parametrize("epochs", [0, 1, 4])
def test_history_lengths(rule_name, options, epochs):
    data = classification_data()
    net, history = run(rule_name, options, data, epochs=epochs)
    assert set(history.metrics) == CLASSIFICATION_KEYS
    for key, values in history.metrics.items():
        assert len(values) == epochs + 1, key
    assert len(history.epoch_time) == len(history.diagnostics) == epochs + 1
    assert history.epochs == epochs
    assert history.epoch_time[0] == 0.0 and history.diagnostics[0] == {}
    assert not history.diverged and history.diverged_epoch is None
    assert history.final("test_mse") == history.metrics["test_mse"][-1]


def test_initial_entry_is_the_untrained_network():
    data = regression_data()
    net = net_for(data)
    expected = evaluate(net.copy(), data.x_test, data.y_test, "regression")["mse"]
    history = train(net, make_rule("exact_tp"), data, epochs=2, batch_size=4)
    assert history.metrics["test_mse"][0] == expected
    assert history.metrics["test_mse"][-1] == evaluate(net, data.x_test, data.y_test, "regression")["mse"]


def test_evaluate_matches_direct_computation():
    data = classification_data()
    net = net_for(data, seed=3)
    metrics = evaluate(net, data.x_test, data.y_test, "classification", chunk=5)  # several chunks
    out = net(data.x_test)
    assert metrics["mse"] == pytest.approx(0.5 * np.sum((out - data.y_test) ** 2) / len(out), rel=1e-12)
    assert metrics["acc"] == np.mean(out.argmax(1) == data.y_test.argmax(1))
    assert set(evaluate(net, data.x_test, data.y_test, "regression")) == {"mse"}


@pytest.mark.parametrize("rule_name, options", RULE_SPECS)
def test_same_seeds_are_bit_identical(rule_name, options):
    data = classification_data()
    net_a, hist_a = run(rule_name, options, data, seed=7)
    net_b, hist_b = run(rule_name, options, data, seed=7)
    assert hist_a.metrics == hist_b.metrics  # exact float equality
    assert hist_a.diagnostics == hist_b.diagnostics
    for wa, wb in zip(net_a.weights, net_b.weights):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("rule_name, options", RULE_SPECS)
def test_different_shuffle_seed_gives_different_weights(rule_name, options):
    data = classification_data()
    net_a, _ = run(rule_name, options, data, seed=1)
    net_b, _ = run(rule_name, options, data, seed=2)
    assert any(not np.array_equal(wa, wb) for wa, wb in zip(net_a.weights, net_b.weights))


def test_full_batch_does_not_depend_on_shuffle_seed_much():
    """With one batch per epoch the shuffle only permutes the rows of the batch mean, so two shuffle seeds give
    the same run up to rounding. Each epoch's mean over the batch of the per-sample updates theta'_b - theta is
    summed in another order: it differs by at most about (batch + fan-in) eps times the size of its terms, the
    weights and those per-sample updates. The later epochs carry each epoch's difference on, amplified by at
    most the training's sensitivity to its weights (measured: how far the final weights move per unit change of
    the initial ones). The tolerance is that sensitivity times the term sizes summed over the epochs, about
    3e-13 here; a shuffle that changed the update (not only its rounding) moves the weights by ~0.1."""
    data = regression_data()
    epochs, batch, options = 3, len(data.x_train), dict(eta=0.5)
    net_a, _ = run("exact_tp", options, data, epochs=epochs, batch_size=batch, seed=1)
    net_b, _ = run("exact_tp", options, data, epochs=epochs, batch_size=batch, seed=2)

    rule, net, terms = make_rule("exact_tp", **options), net_for(data), 0.0
    for _ in range(epochs):                 # the size of each epoch's terms, along run a's trajectory
        thetas = [per_sample_weights(rule, net, xb, yb) for xb, yb in zip(data.x_train, data.y_train)]
        terms += max(np.abs(w).max() + max(np.abs(t[l] - w).max() for t in thetas) for l, w in enumerate(net.weights))
        train(net, rule, data, epochs=1, batch_size=batch, seed=1)

    def trained(weights):
        moved = net_for(data)
        moved.weights = [w.copy() for w in weights]
        train(moved, make_rule("exact_tp", **options), data, epochs=epochs, batch_size=batch, seed=1)
        return moved.weights

    start, rng, amplification = net_for(data).weights, np.random.default_rng(0), 1.0
    final = trained(start)
    for _ in range(3):                      # perturbations of 1e-7: far above rounding, small enough to be linear
        kick = [1e-7 * rng.choice([-1.0, 1.0], size=w.shape) for w in start]
        moved = trained([w + k for w, k in zip(start, kick)])
        amplification = max(amplification, max(np.abs(m - f).max() for m, f in zip(moved, final)) / 1e-7)
    for wa, wb in zip(net_a.weights, net_b.weights):
        assert_close_conditioned(wa, wb, amplification * terms, 4.0 * (batch + max(net.sizes) + 8))


def test_diverging_backprop_run_is_recorded_not_raised():
    data = regression_data()
    net = net_for(data, hidden=(8, 8))
    history = train(net, make_rule("backprop", loss="mse", optimizer="sgd", lr=1e6), data,
                    epochs=20, batch_size=4, seed=0)
    assert history.diverged
    assert 1 <= history.diverged_epoch <= 20
    assert history.epochs == history.diverged_epoch  # stopped at the diverged epoch
    for values in history.metrics.values():
        assert len(values) == history.diverged_epoch + 1
    assert np.isfinite(history.metrics["train_mse"][0])
    last_finite = np.isfinite(history.metrics["train_mse"][-1]) and all(np.all(np.isfinite(w)) for w in net.weights)
    blown_up = history.metrics["train_mse"][-1] > DIVERGENCE_FACTOR * history.metrics["train_mse"][0]
    assert not last_finite or blown_up


def test_diverged_history_round_trips():
    data = regression_data()
    history = train(net_for(data), make_rule("backprop", lr=1e6), data, epochs=10, batch_size=4)
    assert history.diverged
    again = History.from_dict(history.to_dict())
    assert again.diverged_epoch == history.diverged_epoch


def test_loop_trains_on_easy_problem():
    """A sanity check that the loop trains: backprop lowers the training loss on a toy problem."""
    data = regression_data(seed=3)
    _, history = run("backprop", dict(loss="mse", optimizer="sgd", lr=0.1), data, epochs=15, batch_size=4)
    assert history.metrics["train_mse"][-1] < history.metrics["train_mse"][0]


@pytest.mark.parametrize("epochs", [-1, 1.5, -0.5])
def test_bad_epochs_raise(epochs):
    data = regression_data()
    with pytest.raises(ValueError, match="epochs"):
        train(net_for(data), make_rule("exact_tp"), data, epochs=epochs, batch_size=4)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5])
def test_bad_batch_size_raises(batch_size):
    data = regression_data()
    with pytest.raises(ValueError, match="batch_size"):
        train(net_for(data), make_rule("exact_tp"), data, epochs=1, batch_size=batch_size)


def test_input_shape_mismatch_raises():
    data = regression_data(d=3)
    net = MLP([5, 4, data.n_outputs], seed=0)
    with pytest.raises(ValueError, match="shape mismatch"):
        train(net, make_rule("exact_tp"), data, epochs=1, batch_size=4)


def test_output_shape_mismatch_raises():
    data = regression_data(k=2)
    net = MLP([data.n_inputs, 4, 3], seed=0)
    with pytest.raises(ValueError, match="shape mismatch") as info:
        train(net, make_rule("exact_tp"), data, epochs=1, batch_size=4)
    assert "3" in str(info.value) and "2" in str(info.value)


def test_bad_call_leaves_network_untouched():
    data = regression_data()
    net = net_for(data)
    before = [w.copy() for w in net.weights]
    with pytest.raises(ValueError):
        train(net, make_rule("exact_tp"), data, epochs=1, batch_size=0)
    for w, b in zip(net.weights, before):
        np.testing.assert_array_equal(w, b)


@pytest.mark.parametrize("rule_name, options", RULE_SPECS)
def test_classification_metrics(rule_name, options):
    data = classification_data()
    _, history = run(rule_name, options, data, epochs=3)
    for split in ("train", "test"):
        accs = history.metrics[f"{split}_acc"]
        assert all(0.0 <= a <= 1.0 for a in accs)
        assert all(np.isfinite(c) and c >= 0 for c in history.metrics[f"{split}_ce"])
        # accuracies are multiples of 1/n
        n = len(getattr(data, f"x_{split}"))
        assert all(abs(a * n - round(a * n)) < 1e-9 for a in accs)


def test_regression_metrics_have_no_accuracy():
    data = regression_data()
    _, history = run("exact_tp", dict(eta=0.5), data, epochs=2)
    assert set(history.metrics) == REGRESSION_KEYS


@pytest.mark.parametrize("rule_name, options", RULE_SPECS)
def test_history_round_trip(rule_name, options):
    data = classification_data()
    _, history = run(rule_name, options, data, epochs=2)
    again = History.from_dict(history.to_dict())
    assert again == history
    assert again.to_dict() == history.to_dict()
    # the record is plain data: it survives JSON
    again_json = History.from_dict(json.loads(json.dumps(history.to_dict())))
    assert again_json.metrics == history.metrics
    assert again_json.diagnostics == history.diagnostics
    assert again_json.diverged_epoch == history.diverged_epoch


def test_diagnostics_are_epoch_means_of_the_rule_diagnostics():
    data = regression_data(n_train=10)
    net = net_for(data)
    rule = make_rule("exact_tp", eta=0.5)
    history = train(net, rule, data, epochs=1, batch_size=10)  # one step per epoch
    replay = net_for(data)
    order = np.random.default_rng([0, 1]).permutation(10)
    expected = make_rule("exact_tp", eta=0.5).step(replay, data.x_train[order], data.y_train[order])
    assert history.diagnostics[1].keys() == expected.keys()
    for key, value in expected.items():
        assert history.diagnostics[1][key] == pytest.approx(value, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("rule_name, options", RULE_SPECS)
def test_batch_larger_than_dataset(rule_name, options):
    data = classification_data(n_train=7)
    net, history = run(rule_name, options, data, epochs=2, batch_size=100)
    assert history.epochs == 2 and not history.diverged
    assert all(np.all(np.isfinite(w)) for w in net.weights)
    # one step per epoch, on the whole training set
    reference = net_for(data)
    rule = make_rule(rule_name, **options)
    for epoch in (1, 2):
        order = np.random.default_rng([0, epoch]).permutation(7)
        rule.step(reference, data.x_train[order], data.y_train[order])
    for w, r in zip(net.weights, reference.weights):
        np.testing.assert_array_equal(w, r)


def test_training_modifies_net_in_place():
    data = regression_data()
    net = net_for(data)
    before = [w.copy() for w in net.weights]
    weights_ids = [id(w) for w in net.weights]
    train(net, make_rule("exact_tp", eta=0.5), data, epochs=1, batch_size=6)
    assert [id(w) for w in net.weights] == weights_ids
    assert any(not np.array_equal(w, b) for w, b in zip(net.weights, before))


def test_callback_sees_every_recorded_epoch():
    data = Dataset("cb", *_callback_data(), "regression")
    net = MLP([3, 4, 2], "relu", seed=0)
    seen = []
    history = train(net, make_rule("backprop", lr=0.05), data, epochs=3, batch_size=8,
                    callback=lambda epoch, n, h: seen.append((epoch, len(h.epoch_time), n is net)))
    assert seen == [(0, 1, True), (1, 2, True), (2, 3, True), (3, 4, True)]
    assert history.epochs == 3


def _callback_data():
    rng = np.random.default_rng(5)
    x, xt = rng.normal(size=(32, 3)), rng.normal(size=(8, 3))
    return x, x[:, :2] * 2.0, xt, xt[:, :2] * 2.0


def test_rule_hooks_run_before_training_and_after_every_epoch():
    from tpnb.data import Dataset
    calls = []

    class Hooked:
        name = "hooked"

        def begin(self, net, x_train):
            calls.append(("begin", len(x_train)))

        def end_epoch(self, net, x_train, epoch):
            calls.append(("end", epoch))

        def step(self, net, x, y):
            return {}

    rng = np.random.default_rng(0)
    data = Dataset("toy", rng.normal(size=(20, 3)), rng.normal(size=(20, 2)), rng.normal(size=(5, 3)),
                   rng.normal(size=(5, 2)), "regression")
    history = train(MLP([3, 4, 2], seed=0), Hooked(), data, epochs=3, batch_size=8)
    assert calls == [("begin", 20), ("end", 1), ("end", 2), ("end", 3)]
    assert history.setup_time >= 0.0
    assert History.from_dict(history.to_dict()).setup_time == history.setup_time


# ------------------------------------------------------------------ divergence (issue 11, item 4)

@pytest.mark.parametrize("rule_name, options, epoch", [("exact_tp", dict(eta=4.0), 13),
                                                       ("backprop", dict(optimizer="adam", lr=1e3), 1)])
def test_a_loss_beyond_the_factor_is_divergence_and_stops_the_run(rule_name, options, epoch):
    """The issue's two runs: exact TP at eta = 4 grew without bound, Adam at lr = 1e3 sat at ~1e13;
    both stayed finite, so "NaN/inf only" called them converging."""
    data = teacher_student(n_train=200, n_test=50, n_inputs=5, hidden=(8,), n_outputs=1, seed=0)
    seen = []
    history = train(MLP([5, 16, 1], seed=0), make_rule(rule_name, **options), data, epochs=20, batch_size=16,
                    callback=lambda e, net, h: seen.append(e))
    loss = history.metrics["train_mse"]
    assert history.diverged_epoch == epoch == history.epochs == len(loss) - 1
    assert np.all(np.isfinite(loss)) and loss[-1] > DIVERGENCE_FACTOR * loss[0] >= max(loss[:-1])
    assert seen == list(range(epoch))        # no callback on the diverged epoch
    assert divergence_epoch(history.metrics) == epoch


@pytest.mark.parametrize("curve, expected", [
    ([1.0, 0.5, 999.0, 1000.0], None),           # at the factor is not beyond it
    ([1.0, 0.5, 1000.1, 0.1], 2),
    ([2.0, 1.0, np.nan], 2),
    ([2.0, np.inf, 1.0], 1),
    ([0.0, 5.0, 1e9], None),                     # an untrained exact fit: only NaN/inf counts
    ([0.0, 5.0, np.nan], 2),
    ([3.0], None),
])
def test_divergence_epoch_of_a_regression_curve(curve, expected):
    assert divergence_epoch({"train_mse": curve}) == expected


def test_classification_divergence_is_judged_on_the_cross_entropy():
    # a cross-entropy run sharpening its logits: the MSE grows 1e4 times, the cross-entropy falls
    sharpening = {"train_mse": [1.0, 50.0, 1e4], "train_ce": [2.3, 0.5, 0.1]}
    assert divergence_epoch(sharpening) is None
    blown_up = {"train_mse": [1.0, 1e6, 1e9], "train_ce": [2.3, 100.0, 1e4]}
    assert divergence_epoch(blown_up) == 2
    assert divergence_epoch({"train_mse": [1.0, np.nan], "train_ce": [2.3, 0.1]}) == 1


def test_non_finite_untrained_network_is_refused_before_training():
    data = regression_data()
    net = net_for(data)
    net.weights[0][0, 0] = np.nan
    rule = make_rule("dtp")
    with pytest.raises(ValueError, match="the untrained network's training loss is already nan"):
        train(net, rule, data, epochs=1, batch_size=4)
    assert rule.Q is None                     # nothing ran, not even the rule's setup


# ------------------------------------------------------------------ bad arguments (issue 11, item 6)

@pytest.mark.parametrize("kwargs, error, message", [
    (dict(batch_size=8.0), TypeError, r"batch_size must be a whole number \(int\) >= 1, got 8.0 of type float"),
    (dict(batch_size=None), TypeError, "batch_size must be a whole number .*got None of type NoneType"),
    (dict(batch_size="8"), TypeError, "batch_size must be a whole number .*got '8' of type str"),
    (dict(batch_size=True), TypeError, "batch_size must be a whole number .*got True of type bool"),
    (dict(epochs=2.0), TypeError, "epochs must be a whole number .*got 2.0 of type float"),
    (dict(epochs=None), TypeError, "epochs must be a whole number .*got None"),
    (dict(epochs="3"), TypeError, "epochs must be a whole number .*got '3'"),
    (dict(seed=-1), ValueError, "seed must be a whole number >= 0, got -1"),
    (dict(callback="print"), TypeError, "callback must be callable or None, got 'print'"),
])
def test_bad_loop_arguments_name_the_argument_and_the_value(kwargs, error, message):
    data = regression_data()
    net = net_for(data)
    before = [w.copy() for w in net.weights]
    with pytest.raises(error, match=message):
        train(net, make_rule("exact_tp"), data, **{"epochs": 1, "batch_size": 4, **kwargs})
    for w, b in zip(net.weights, before):
        np.testing.assert_array_equal(w, b)


def test_the_rule_and_the_data_must_be_what_train_expects():
    data = regression_data()
    with pytest.raises(TypeError, match="rule must have a step"):
        train(net_for(data), "exact_tp", data, epochs=1, batch_size=4)
    with pytest.raises(TypeError, match="data must be a tpnb.data.Dataset, got tuple"):
        train(net_for(data), make_rule("exact_tp"), (data.x_train, data.y_train), epochs=1, batch_size=4)


@pytest.mark.parametrize("split", ["train", "test"])
def test_an_empty_split_is_refused_when_the_data_is_made(split):
    data = regression_data()
    arrays = {f"{kind}_{s}": getattr(data, f"{kind}_{s}") for kind in ("x", "y") for s in ("train", "test")}
    arrays[f"x_{split}"], arrays[f"y_{split}"] = arrays[f"x_{split}"][:0], arrays[f"y_{split}"][:0]
    with pytest.raises(ValueError, match=f"toy {split}: the split holds no samples"):
        Dataset("toy", arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], "regression")


# --- validation split, early stopping, resuming ------------------------------------------------------

RESUMABLE = [("backprop", dict(optimizer="adam", lr=0.01)), ("dtpdrl", dict(loss="mse")),
             ("exact_tp", dict(alpha=0.5, eta=0.5)), ("gtp", dict(tau=0.5, steps=2, lr=0.02))]


def test_a_validation_split_is_evaluated_beside_the_test_split():
    data = classification_data(n_train=40).with_validation(10)
    assert data.splits == ("train", "val", "test") and len(data.x_train) == 30
    history = train(net_for(data), make_rule("backprop", lr=0.1), data, epochs=2, batch_size=5)
    assert len(history.metrics["val_acc"]) == len(history.metrics["test_acc"]) == 3
    assert history.at_best() == history.metrics["test_acc"][history.best_epoch()]


def test_best_epoch_is_the_first_best_validation_epoch():
    h = History(metrics={"val_acc": [0.1, 0.5, 0.7, 0.7, 0.6], "val_ce": [3.0, 2.0, 1.0, 1.5, 0.5]})
    assert h.best_epoch() == 2 and h.best_epoch("val_ce") == 4


def test_early_stopping_stops_after_patience_epochs_without_a_better_validation_accuracy():
    data = classification_data(n_train=60).with_validation(20)
    full = train(net_for(data), make_rule("backprop", lr=0.02), data, epochs=12, batch_size=5)
    stopped = train(net_for(data), make_rule("backprop", lr=0.02), data, epochs=12, batch_size=5, patience=2)
    acc = full.metrics["val_acc"]
    assert not full.diverged
    expected = next((e for e in range(1, 13) if e - (1 + int(np.argmax(acc[1:e + 1]))) >= 2), None)
    assert expected is not None and stopped.stopped_epoch == expected
    n = len(stopped.metrics["val_acc"])
    assert stopped.metrics["val_acc"] == acc[:n]                    # the same run, cut short


def test_early_stopping_needs_a_validation_split():
    data = classification_data()
    with pytest.raises(ValueError, match="validation split"):
        train(net_for(data), make_rule("backprop"), data, epochs=1, batch_size=5, patience=3)


@pytest.mark.parametrize("rule_name,options", RESUMABLE)
def test_a_run_resumed_from_a_pickled_checkpoint_is_bit_identical(rule_name, options):
    import pickle
    data = classification_data()
    whole_net = net_for(data, hidden=(6, 5))
    whole = train(whole_net, make_rule(rule_name, **options), data, epochs=4, batch_size=5, seed=3)
    assert not whole.diverged
    saved = {}
    net = net_for(data, hidden=(6, 5))
    train(net, make_rule(rule_name, **options), data, epochs=4, batch_size=5, seed=3,
          checkpoint=lambda epoch, net, rule, history: saved.setdefault(epoch, pickle.dumps((net, rule, history))))
    assert sorted(saved) == [1, 2, 3]                                # not after the last epoch
    net, rule, history = pickle.loads(saved[2])
    resumed = train(net, rule, data, epochs=4, batch_size=5, seed=3, resume=history)
    assert resumed.metrics == whole.metrics
    for a, b in zip(net.weights, whole_net.weights):
        np.testing.assert_array_equal(a, b)


def test_a_seeded_validation_split_is_a_random_one_and_keeps_every_sample_once():
    data = classification_data(n_train=50)
    held = data.with_validation(12, seed=4)
    assert len(held.x_val) == 12 and len(held.x_train) == 38
    rows = {tuple(r) for r in np.concatenate([held.x_train, held.x_val])}
    assert rows == {tuple(r) for r in data.x_train}
    assert not np.array_equal(held.x_val, data.x_train[-12:])
    np.testing.assert_array_equal(held.x_val, data.with_validation(12, seed=4).x_val)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e200, -1e30, 0.0])
@pytest.mark.parametrize("where", [(0, 0, 0), (1, 2, -1), (2, -1, 3)])
def test_weights_finite_agrees_with_isfinite(dtype, value, where):
    """The dot-product test of the training loop says what np.isfinite says, also for finite weights whose
    squares overflow (1e200 in float64, 1e30 in float32) and for a weight too large for float32 (inf)."""
    from tpnb.train import weights_finite
    net = MLP([4, 5, 6, 3], seed=1, dtype=dtype)
    layer, row, col = where
    with np.errstate(over="ignore"):
        net.weights[layer][row, col] = value
    assert weights_finite(net) == all(np.isfinite(w).all() for w in net.weights)
