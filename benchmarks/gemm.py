"""This machine's float64 GEMM rate, and the GEMM-bound time of a backprop and a DDTP-linear epoch.

A backprop step on an MLP with sizes [d_0, ..., d_L] at batch B does, per layer l (bias column included,
the products of ``tpnb.rules.backprop.gradients`` and ``tpnb.network.MLP.forward``):
    forward          u_l = x_l @ W_l.T           B * (d_{l-1} + 1) * d_l multiply-adds
    weight gradient  delta_l.T @ x_l             the same count
    backward         delta_l @ W_l[:, :-1]       B * d_l * d_{l-1}   (every layer but the first)
The GEMM-bound epoch time is the time of exactly these products, each timed on its own shapes (the
batch-sized shapes are the fair bound: small products run below the big-square peak) as a contiguous
(m, k) @ (k, n) product. Everything else a step does (activations, the optimiser, noise draws) is not
in the bound.
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


def backprop_shapes(sizes, batch: int) -> list:
    """(label, m, k, n) of every matrix product (m, k) @ (k, n) of one backprop step at ``batch``."""
    shapes = []
    for l, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes.append(("fwd x@W.T", batch, d_in + 1, d_out))
        shapes.append(("grad d.T@x", d_out, batch, d_in + 1))
        if l > 0:
            shapes.append(("bwd d@W", batch, d_out, d_in))
    return shapes


def ddtp_linear_shapes(sizes, batch: int) -> list:
    """(label, m, k, n) of the products of one DDTP-linear training step plus one step of its feedback-only
    epoch (tpnb.rules.dtp, direct linear feedback, DRL, one feedback update per step):
    forward pass; DRL's noisy partial forwards, stacked (at layer l the rows of the l entries below);
    per hidden layer the feedback products g(u~), g(u) and the two Q-gradient products; the targets'
    g(u'), g(u); the local-loss weight gradients. The feedback-only step repeats forward + feedback."""
    n_out, depth = sizes[-1], len(sizes) - 1
    forward = [("fwd x@W.T", batch, d_in + 1, d_out) for d_in, d_out in zip(sizes[:-1], sizes[1:])]
    feedback = [("drl stacked fwd", l * batch, sizes[l], sizes[l + 1]) for l in range(1, depth)]
    for n in sizes[1:-1]:
        feedback += [("g(u) Q", batch, n_out + 1, n)] * 2 + [("Q grad r.T@g", n, batch, n_out + 1)] * 2
    targets = [("target g(u') Q", batch, n_out + 1, n) for n in sizes[1:-1] for _ in range(2)]
    grads = [("grad d.T@x", d_out, batch, d_in + 1) for d_in, d_out in zip(sizes[:-1], sizes[1:])]
    return forward + feedback + targets + grads + forward + feedback


def gemm_bound(shapes, batch: int, n_samples: int, min_seconds: float = 0.05) -> dict:
    """GEMM-bound seconds of one epoch (n_samples at ``batch``): every product of ``shapes`` timed on its
    own (fastest of 7 rounds), summed over a step, times the number of steps."""
    rng = np.random.default_rng(0)
    per_step, flops_per_step, detail = 0.0, 0, []
    for label, m, k, n in shapes:
        a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
        fn = lambda a=a, b=b: a @ b  # noqa: E731
        start = time.perf_counter()
        fn()
        once = max(time.perf_counter() - start, 1e-7)
        seconds = _best_seconds(fn, repeats=max(1, int(min_seconds / once)))
        per_step += seconds
        flops_per_step += 2 * m * k * n
        detail.append({"product": f"{label} {m}x{k}x{n}", "flops": 2 * m * k * n, "seconds": seconds,
                       "gflops": 2 * m * k * n / seconds / 1e9})
    steps = n_samples / batch        # fractional: the last, smaller batch counts by its size
    return {"batch": batch, "n_samples": n_samples, "flops_per_epoch": flops_per_step * steps,
            "rate_gflops": flops_per_step / per_step / 1e9, "bound_seconds": per_step * steps,
            "products": detail}


def probe(batch: int = 64, d_in: int = 785, n_out: int = 256) -> float:
    """GFLOP/s of backprop's first-layer forward product, fastest of 5 rounds (~0.1 s in all): a
    machine-speed probe taken around every benchmark, so a slow phase of a shared machine shows."""
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((batch, d_in)), rng.standard_normal((n_out, d_in))
    return 2.0 * batch * d_in * n_out / _best_seconds(lambda: x @ w.T, repeats=40, rounds=5) / 1e9
