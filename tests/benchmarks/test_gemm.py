"""Tests for benchmarks.gemm: the product lists behind the GEMM-bound epoch times."""
import pytest

from benchmarks.gemm import backprop_shapes, ddtp_linear_shapes, gemm_bound


def macs(shapes):
    return sum(m * k * n for _, m, k, n in shapes)


@pytest.mark.parametrize("sizes, batch", [([784, 256, 256, 10], 64), ([5, 7, 3], 4)])
def test_backprop_shapes_count_forward_gradient_and_backward_products(sizes, batch):
    layers = list(zip(sizes[:-1], sizes[1:]))
    expected = sum(2 * batch * (d + 1) * n for d, n in layers) + sum(batch * n * d for d, n in layers[1:])
    assert macs(backprop_shapes(sizes, batch)) == expected


def test_ddtp_linear_shapes_stack_the_noisy_partial_forwards():
    sizes, batch = [784] + [256] * 5 + [10], 128
    shapes = ddtp_linear_shapes(sizes, batch)
    stacked = [s for s in shapes if s[0] == "drl stacked fwd"]
    # twice (training step + feedback-only step); at layer l the rows of the l entries below
    assert [m for _, m, _, _ in stacked] == [l * batch for l in range(1, 6)] * 2
    # L - 1 partial forwards through layers i+1..L cost what sum_i (L - 1 - i) separate products cost
    separate = sum(batch * sizes[l] * sizes[l + 1] for i in range(5) for l in range(i + 1, 6))
    assert macs(stacked) == 2 * separate


def test_gemm_bound_sums_the_timed_products_over_the_steps():
    shapes = [("a", 4, 5, 6), ("b", 3, 2, 7)]
    bound = gemm_bound(shapes, batch=10, n_samples=25, min_seconds=1e-4)
    assert bound["flops_per_epoch"] == pytest.approx(2 * macs(shapes) * 2.5)
    assert bound["bound_seconds"] == pytest.approx(2.5 * sum(p["seconds"] for p in bound["products"]))
    assert bound["bound_seconds"] > 0
