"""This machine's float64 GEMM rate, and the GEMM-bound time of a backprop epoch.

A backprop step on an MLP with sizes [d_0, ..., d_L] at batch B does, per layer l (bias column included,
exactly the products of ``tpnb.rules.backprop.gradients`` and ``tpnb.network.MLP.forward``):
    forward          u_l = x_l @ W_l.T           B * (d_{l-1} + 1) * d_l multiply-adds
    weight gradient  delta_l.T @ x_l             the same count
    backward         delta_l @ W_l[:, :-1]       B * d_l * d_{l-1}   (every layer but the first)
The GEMM-bound epoch time is the time of exactly these products, each timed on its own shapes (the
batch-64 shapes are the fair bound: small products run below the big-square peak).
"""
from __future__ import annotations

import time

import numpy as np


def _best_seconds(fn, repeats: int, rounds: int = 7) -> float:
    """Fastest over ``rounds`` of the mean time of ``repeats`` calls of fn (after one warm-up call).
    The fastest, not the median: this is a bound, and on a shared machine the slow rounds are noise."""
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        times.append((time.perf_counter() - start) / repeats)
    return float(min(times))


def square_rate(n: int = 2048, rounds: int = 5) -> float:
    """GFLOP/s of an (n, n) @ (n, n) float64 product (the machine's large-GEMM peak)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    seconds = _best_seconds(lambda: a @ b, repeats=1, rounds=rounds)
    return 2.0 * n ** 3 / seconds / 1e9


def backprop_products(sizes, batch: int) -> list:
    """(label, multiply-adds, thunk) for every matrix product of one backprop step at ``batch``."""
    rng = np.random.default_rng(0)
    products = []
    for l, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        x = rng.standard_normal((batch, d_in + 1))
        w = rng.standard_normal((d_out, d_in + 1))
        delta = rng.standard_normal((batch, d_out))
        products.append((f"fwd x@W.T {batch}x{d_in + 1}x{d_out}", batch * (d_in + 1) * d_out,
                         lambda x=x, w=w: x @ w.T))
        products.append((f"grad d.T@x {d_out}x{batch}x{d_in + 1}", batch * (d_in + 1) * d_out,
                         lambda x=x, delta=delta: delta.T @ x))
        if l > 0:
            products.append((f"bwd d@W {batch}x{d_out}x{d_in}", batch * d_out * d_in,
                             lambda w=w, delta=delta: delta @ w[:, :-1]))
    return products


def backprop_bound(sizes, batch: int, n_samples: int, min_seconds: float = 0.05) -> dict:
    """GEMM-bound seconds of one backprop epoch (n_samples at ``batch``) from the timed products."""
    per_step, macs_per_step, detail = 0.0, 0, []
    for label, macs, fn in backprop_products(sizes, batch):
        start = time.perf_counter()
        fn()
        once = max(time.perf_counter() - start, 1e-7)
        seconds = _best_seconds(fn, repeats=max(1, int(min_seconds / once)))
        per_step += seconds
        macs_per_step += macs
        detail.append({"product": label, "macs": macs, "seconds": seconds,
                       "gflops": 2.0 * macs / seconds / 1e9})
    steps = n_samples / batch        # fractional: the last, smaller batch counts by its size
    return {"sizes": list(sizes), "batch": batch, "n_samples": n_samples,
            "flops_per_epoch": 2.0 * macs_per_step * steps,
            "rate_gflops": 2.0 * macs_per_step / per_step / 1e9,
            "bound_seconds": per_step * steps, "products": detail}


def probe(batch: int = 64, d_in: int = 785, n_out: int = 256) -> float:
    """GFLOP/s of backprop's first-layer forward product, fastest of 5 rounds (~0.1 s in all): a
    machine-speed probe taken around every benchmark, so a slow phase of a shared machine shows."""
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((batch, d_in)), rng.standard_normal((n_out, d_in))
    return 2.0 * batch * d_in * n_out / _best_seconds(lambda: x @ w.T, repeats=40, rounds=5) / 1e9
