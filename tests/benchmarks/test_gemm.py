"""Tests for benchmarks.gemm: the product lists behind the GEMM-bound figures."""
import numpy as np
import pytest

from benchmarks.gemm import (Products, backprop_shapes, ddtp_linear_shapes, exact_tp_shapes, gemm_bound, macs,
                             rule_shapes)


@pytest.mark.parametrize("sizes, batch", [([784, 256, 256, 10], 64), ([5, 7, 3], 4)])
def test_backprop_shapes_count_forward_gradient_and_backward_products(sizes, batch):
    layers = list(zip(sizes[:-1], sizes[1:]))
    expected = sum(2 * batch * (d + 1) * n for d, n in layers) + sum(batch * n * d for d, n in layers[1:])
    assert macs(backprop_shapes(sizes, batch)) == expected


def test_exact_tp_is_backprop_plus_a_forward_through_the_layers_above_the_first():
    sizes, batch = [784, 256, 256, 10], 64
    extra = sum(batch * (d + 1) * n for d, n in zip(sizes[1:-1], sizes[2:]))
    assert macs(exact_tp_shapes(sizes, batch)) == macs(backprop_shapes(sizes, batch)) + extra
    assert macs(exact_tp_shapes(sizes, batch)) / macs(backprop_shapes(sizes, batch)) == pytest.approx(1.113, abs=1e-3)
    assert exact_tp_shapes(sizes, batch, input_rule="pinv") is None


def test_ddtp_linear_shapes_stack_the_noisy_partial_forwards():
    sizes, batch = [784] + [256] * 5 + [10], 128
    shapes = ddtp_linear_shapes(sizes, batch)
    stacked = [s for s in shapes if s[0] == "drl stacked fwd"]
    # twice (training step + feedback-only step); at layer l the rows of the l entries below
    assert [m for _, m, _, _ in stacked] == [l * batch for l in range(1, 6)] * 2
    # L - 1 partial forwards through layers i+1..L cost what sum_i (L - 1 - i) separate products cost
    separate = sum(batch * sizes[l] * sizes[l + 1] for i in range(5) for l in range(i + 1, 6))
    assert macs(stacked) == 2 * separate
    assert len(shapes) == 53      # the BLAS calls of one step + one feedback-only step (counted with a shim)


@pytest.mark.parametrize("rule, options, calls", [
    ("dfa", dict(angles=False), 8), ("dfa", dict(angles=True), 13), ("gtp", dict(steps=10, angles=False), 15),
    ("dtp", dict(angles=False), 37), ("dtpdrl", dict(angles=False), 42), ("ddtp_rhl", dict(angles=False), 45),
    ("random_direction_tp", dict(directions=16), 41), ("gnt", dict(angles=False), 326)])
def test_product_lists_have_the_counted_number_of_products(rule, options, calls):
    """Counts of a real step's BLAS calls (an LD_PRELOAD shim on cblas_*gemm/gemv/syrk), per benchmark net."""
    sizes, batch = {"dfa": ([784, 256, 256, 10], 64), "gtp": ([784, 100, 10], 64),
                    "random_direction_tp": ([784, 256, 256, 10], 64), "gnt": ([784, 64, 64, 10], 64)}.get(
        rule, ([784] + [256] * 5 + [10], 128))
    shapes = rule_shapes(rule, sizes, batch, options)
    assert sum(s[4] if len(s) > 4 else 1 for s in shapes) == calls


def test_products_run_the_list_on_preallocated_operands():
    products = Products([("a", 4, 5, 6), ("b", 3, 2, 7, 5)], dtype="float32")
    assert products.run(3) > 0
    a, b, out = products.calls[1]
    assert a.shape == (5, 3, 2) and b.shape == (5, 2, 7) and out.dtype == np.float32
    np.testing.assert_allclose(out, a @ b, rtol=1e-6)
    assert macs(products.shapes) == 4 * 5 * 6 + 5 * 3 * 2 * 7


def test_outer_products_run_as_the_rules_compute_them():
    """One sample's weight gradient, (n, 1) @ (1, d): a broadcast multiply (as outer_sum), the same numbers."""
    products = Products([("grad d.T@x", 7, 1, 5)])
    products.run(1)
    a, b, out = products.calls[0]
    np.testing.assert_array_equal(out, a @ b)


def test_gemm_bound_sums_the_timed_products_over_the_steps():
    shapes = [("a", 4, 5, 6), ("b", 3, 2, 7)]
    bound = gemm_bound(shapes, batch=10, n_samples=25, min_seconds=1e-4)
    assert bound["flops_per_epoch"] == pytest.approx(2 * macs(shapes) * 2.5)
    assert bound["bound_seconds"] == pytest.approx(2.5 * sum(p["seconds"] for p in bound["products"]))
    assert bound["bound_seconds"] > 0


@pytest.mark.parametrize("rule, step_calls, epoch_calls", [("dtp", 37, 58), ("dtpdrl", 42, 73), ("ddtp_linear", 32, 53),
                                                             ("ddtp_rhl", 45, 78)])
def test_a_feedback_epoch_adds_the_forward_and_the_feedback_part(rule, step_calls, epoch_calls):
    """Counted with the shim: a training step, then one step of the feedback-only epoch."""
    sizes, batch = [784] + [256] * 5 + [10], 128
    assert len(rule_shapes(rule, sizes, batch, dict(angles=False))) == step_calls
    assert len(rule_shapes(rule, sizes, batch, dict(angles=False), feedback_epoch=True)) == epoch_calls


def test_ddtp_rhl_computes_the_random_layer_once_per_distinct_output():
    """The clean output, the target and the stacked noisy outputs of the layers below the last (the last
    hidden layer's feedback comes straight from the output): three products with R per step."""
    sizes, batch = [784] + [256] * 5 + [10], 128
    shapes = rule_shapes("ddtp_rhl", sizes, batch, dict(angles=False))
    r_layer = [s for s in shapes if s[0] == "rhl u@R.T"]
    assert [m for _, m, _, _ in r_layer] == [batch, batch, 4 * batch]
    # Q products: 1025 wide for the 4 layers through the random layer, 11 wide for the last hidden layer
    q_products = [s for s in shapes if "Q" in s[0]]
    assert sorted({s[2] if s[0].endswith("Q.T") else s[3] for s in q_products}) == [11, 1025]
