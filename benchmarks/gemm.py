"""The matrix products of every benchmarked rule's step, timed alone: the GEMM-bound of a rule.

Each ``*_shapes(sizes, batch, ...)`` lists the products one training step of a rule makes, as
(label, m, k, n) for an (m, k) @ (k, n) product, or (label, m, k, n, count) for ``count`` of them stacked
in one batched np.matmul (GNT's per-sample Jacobian products). The lists follow the rules' code in
``tpnb/rules`` product by product (bias columns included); they were checked against the BLAS calls of a
real step (an LD_PRELOAD shim logging every cblas gemm/gemv/syrk), which they match call for call.
Everything else a step does (elementwise work, reductions, einsum contractions, LAPACK solves and
eigendecompositions, noise draws, the optimiser) is outside the bound.

``Products`` holds preallocated operands (and outputs) for one list and runs it: ``Products.run(steps)``
is the GEMM-bound of ``steps`` training steps, timed in blocks beside the rule (benchmarks.rules). On the
same shapes it runs what numpy runs for the rule: gemm, or gemv when one side is a vector; an outer
product (inner dimension 1, one sample's weight gradient) as the rules compute it, a broadcast multiply
(tpnb.rules.local_losses.outer_sum: np.matmul would take its slow non-BLAS loop).
"""
from __future__ import annotations

import time

import numpy as np


def _layers(sizes):
    return list(zip(sizes[:-1], sizes[1:]))


def forward_shapes(sizes, batch: int) -> list:
    """MLP.forward: u_l = x_l @ W_l.T with the bias column, every layer."""
    return [("fwd x@W.T", batch, d_in + 1, d_out) for d_in, d_out in _layers(sizes)]


def gradient_shapes(sizes, batch: int) -> list:
    """A weight gradient (or update) per layer: delta_l.T @ x_l."""
    return [("grad d.T@x", d_out, batch, d_in + 1) for d_in, d_out in _layers(sizes)]


def backward_shapes(sizes, batch: int) -> list:
    """Backprop's delta pushed down: delta_l @ W_l[:, :-1], every layer but the first."""
    return [("bwd d@W", batch, d_out, d_in) for d_in, d_out in _layers(sizes)[1:]]


def backprop_shapes(sizes, batch: int, **_) -> list:
    """(label, m, k, n) of every matrix product (m, k) @ (k, n) of one backprop step at ``batch``
    (forward, weight gradients, backward; per layer, from the top, as tpnb.rules.backprop makes them)."""
    shapes = []
    for l, (d_in, d_out) in enumerate(_layers(sizes)):
        shapes.append(("fwd x@W.T", batch, d_in + 1, d_out))
        shapes.append(("grad d.T@x", d_out, batch, d_in + 1))
        if l > 0:
            shapes.append(("bwd d@W", batch, d_out, d_in))
    return shapes


def exact_tp_shapes(sizes, batch: int, input_rule: str = "mean", weight_rule: str = "mean", **_) -> list | None:
    """Exact TP (input_rule and weight_rule "mean", the benchmarked form): the forward pass; for every layer
    but the first, the mean input change coef @ W[:, :-1] and the residual u' - x' @ W.T; the update
    R^T X' of every layer. Backprop's products plus one more forward through layers 2..L.
    None for the pinv / joint variants (their products are LAPACK solves)."""
    if input_rule != "mean" or weight_rule != "mean":
        return None
    shapes = forward_shapes(sizes, batch)
    for d_in, d_out in _layers(sizes)[1:]:
        shapes += [("input target coef@W", batch, d_out, d_in), ("residual x'@W.T", batch, d_in + 1, d_out)]
    return shapes + gradient_shapes(sizes, batch)


def dfa_shapes(sizes, batch: int, angles: bool = True, **_) -> list:
    """DFA: forward, e @ B_i per hidden layer, the weight gradients (+ a backprop backward for the angles)."""
    n_out = sizes[-1]
    shapes = forward_shapes(sizes, batch) + [("e@B", batch, n_out, n) for n in sizes[1:-1]]
    shapes += gradient_shapes(sizes, batch)
    if angles:
        shapes += gradient_shapes(sizes, batch) + backward_shapes(sizes, batch)
    return shapes


def gtp_shapes(sizes, batch: int, steps: int = 10, angles: bool = True, **_) -> list:
    """GTP on a network with a linear output (the benchmarks'): forward; below the output (the top hidden
    layer) W W^T once when steps > 1, r @ (W W^T) for each later step and the summed residuals @ W once
    (the steps run in output space); per lower hidden layer i ``steps`` Euler steps, each
    z = y @ W_{i+1}[:, :-1].T (but the first, the forward pass's u_{i+1}) and r @ W_{i+1}[:, :-1]; the
    local-loss gradients (+ a backprop backward for the angles)."""
    shapes = forward_shapes(sizes, batch)
    (n_top, n_out), *lower = reversed(_layers(sizes)[1:])
    if steps > 1:
        shapes += [("euler gram W@W.T", n_out, n_top, n_out)] + [("euler r@G", batch, n_out, n_out)] * (steps - 1)
    shapes += [("euler (sum r)@W", batch, n_out, n_top)]
    for n_i, n_up in lower:
        shapes += [("euler y@W.T", batch, n_i, n_up)] * (steps - 1) + [("euler r@W", batch, n_up, n_i)] * steps
    shapes += gradient_shapes(sizes, batch)
    if angles:
        shapes += gradient_shapes(sizes, batch) + backward_shapes(sizes, batch)
    return shapes


def gnt_shapes(sizes, batch: int, damping: float = 0.0, angles: bool = True, **_) -> list | None:
    """GNT (damping 0, n_L <= every hidden width): forward; the per-sample output Jacobians, one batched
    (B, n_L, n_{i+1}) @ W_{i+1}[:, :-1] per hidden layer below the last; per hidden layer the per-sample
    Gram J J^T and the product of its hermitian pinv (U s) @ U^T (the eigendecomposition itself and the
    einsum matrix-vector products are not GEMMs); the local-loss gradients (+ backprop's for the angles).
    None for a damped GNT or a hidden layer narrower than the output (other products)."""
    n_out, hidden = sizes[-1], sizes[1:-1]
    if damping != 0 or any(n < n_out for n in hidden):
        return None
    shapes = forward_shapes(sizes, batch)
    for i in range(len(hidden) - 2, -1, -1):
        shapes.append(("jacobian J@W", n_out, hidden[i + 1], hidden[i], batch))
    for n in hidden:
        shapes += [("gram J@J.T", n_out, n, n_out, batch), ("pinv (U s)@U.T", n_out, n_out, n_out, batch)]
    shapes += gradient_shapes(sizes, batch)
    if angles:
        shapes += gradient_shapes(sizes, batch) + backward_shapes(sizes, batch)
    return shapes


def _drl_stacked(sizes, batch: int) -> list:
    """DRL's noisy partial forwards, stacked: at layer l the rows of the l entries that entered below."""
    return [("drl stacked fwd", l * batch, sizes[l], sizes[l + 1]) for l in range(1, len(sizes) - 1)]


def dtp_shapes(sizes, batch: int, reconstruction: str = "layerwise", angles: bool = True,
               feedback_epoch: bool = False, **_) -> list:
    """DTP (layer-wise feedback g_i = tanh(Q_i [h_{i+1}; 1]); one feedback update per step).

    The clean g_i(h_{i+1}), one per hidden layer, computed once and shared by the targets and the first
    feedback update (tpnb.rules.dtp.Clean). reconstruction "layerwise" (DTP): per hidden layer the noisy h_i
    sent one layer up, g_i of it (its pre-activation kept for the tanh derivative) and the Q gradient. "drl"
    (DTPDRL): the stacked noisy forwards to the output; per hidden layer j (top down) g_j of the stacked
    difference-corrected paths of layers 0..j (rows (j + 1) x batch) and two Q gradients (at the noisy and
    at the clean input). Then the targets (one more g_i per hidden layer, of h'_{i+1}) and the local-loss
    gradients (+ backprop's for angles). feedback_epoch: add one step of the feedback-only epoch (forward,
    the clean g_i for DRL, and the feedback part again)."""
    hidden = list(range(len(sizes) - 2))                               # hidden layer i: n_i = sizes[i + 1]

    def g(i, rows=batch):                                              # g_i: [a; 1] @ Q_i.T
        return ("g [a;1]@Q.T", rows, sizes[i + 2] + 1, sizes[i + 1])

    def q_grad(i):                                                     # Q_i's gradient c.T @ [a; 1]
        return ("Q grad c.T@[a;1]", sizes[i + 1], batch, sizes[i + 2] + 1)

    if reconstruction == "layerwise":
        feedback = [s for i in hidden for s in (("noisy fwd h@W.T", batch, sizes[i + 1], sizes[i + 2]), g(i),
                                                 q_grad(i))]
    else:
        feedback = _drl_stacked(sizes, batch)
        for j in reversed(hidden):
            feedback += [g(j, (j + 1) * batch), q_grad(j), q_grad(j)]
    clean = [g(i) for i in hidden]
    shapes = forward_shapes(sizes, batch) + clean + [g(i) for i in hidden] + feedback
    shapes += gradient_shapes(sizes, batch)
    if angles:
        shapes += gradient_shapes(sizes, batch) + backward_shapes(sizes, batch)
    epoch = forward_shapes(sizes, batch) + (clean if reconstruction == "drl" else []) + feedback
    return shapes + (epoch if feedback_epoch else [])


def ddtp_shapes(sizes, batch: int, parameterization: str = "direct_linear", rhl_width: int = 1024,
                angles: bool = True, feedback_epoch: bool = False, **_) -> list:
    """DDTP (direct feedback from the output, DRL, one feedback update per step).

    direct_linear: g_i(u) = F(u) @ Q_i.T with F(u) = [u; 1], linear in the features. Per step: forward; the
    targets, one (F(u'_L) - F(u_L)) @ Q_i.T per hidden layer; the stacked noisy forwards; per hidden layer
    the residual (F(u~_i) - F(u_L)) @ Q_i.T and the Q gradient r.T @ (F(u~_i) - F(u_L)); the local-loss
    gradients (+ backprop's for the angles).
    direct_rhl (the authors' structure): g_i(u) = tanh(F_i(u) @ Q_i.T), F_i(u) = [tanh(u @ R.T + b); 1] for
    the hidden layers below the last (width rhl_width + 1) and [u; 1] for the last (width n_L + 1); the
    random layer R once per distinct output (the clean u_L, the target u'_L, the stacked noisy outputs of
    the layers below the last). Per step: forward; the clean z_i = F_i(u_L) @ Q_i.T (shared by the targets
    and the feedback update); the targets' F_i(u'_L) @ Q_i.T; the stacked noisy forwards; per hidden layer
    F_i(u~_i) @ Q_i.T and two Q gradients (at u~_i and at u_L: the outer tanh's derivative differs); the
    local-loss gradients. feedback_epoch: add one step of the feedback-only epoch (forward, the clean
    features and z_i, and the feedback part again)."""
    n_out, hidden = sizes[-1], sizes[1:-1]
    rhl = parameterization == "direct_rhl"
    widths = [rhl_width if rhl and i < len(hidden) - 1 else n_out for i in range(len(hidden))]

    def r_layer(rows):
        return [("rhl u@R.T", rows, n_out, rhl_width)] if rhl else []

    if rhl:
        clean = r_layer(batch) + [("clean z F@Q.T", batch, w + 1, n) for w, n in zip(widths, hidden)]
        targets = r_layer(batch) + [("target F@Q.T", batch, w + 1, n) for w, n in zip(widths, hidden)]
        feedback = _drl_stacked(sizes, batch) + r_layer((len(hidden) - 1) * batch)
        for w, n in zip(widths, hidden):
            feedback += [("noisy z F@Q.T", batch, w + 1, n), ("Q grad c.T@F~", n, batch, w + 1),
                         ("Q grad c.T@F", n, batch, w + 1)]
    else:
        clean = []
        targets = [("target dF@Q.T", batch, n_out + 1, n) for n in hidden]
        feedback = _drl_stacked(sizes, batch)
        for n in hidden:
            feedback += [("r dF@Q.T", batch, n_out + 1, n), ("Q grad r.T@dF", n, batch, n_out + 1)]
    step = forward_shapes(sizes, batch) + clean + targets + feedback + gradient_shapes(sizes, batch)
    if angles:
        step += gradient_shapes(sizes, batch) + backward_shapes(sizes, batch)
    return step + (forward_shapes(sizes, batch) + clean + feedback if feedback_epoch else [])


def ddtp_linear_shapes(sizes, batch: int) -> list:
    """DDTP-linear's training step plus one step of its feedback-only epoch (the README's benchmark)."""
    return ddtp_shapes(sizes, batch, angles=False, feedback_epoch=True)


def rdtp_shapes(sizes, batch: int, directions: int = 1, factor: str = "least_squares", **_) -> list | None:
    """Random-direction TP, least-squares factors, k directions per layer (top down): the forward pass;
    per layer the residual u' - x @ W.T (recomputed), the design x @ D.T, the factor mean and spread
    r.T @ dy and (r r).T @ (dy dy), the ridge solve's Gram a.T @ a and right side a.T @ dy, the move
    coef.T @ D and the residual update a @ coef; for every layer but the first the same for the input move
    (W_x D_x.T, q.T @ dy.T twice, v.T @ v, v.T @ dy.T, coef.T @ D_x, coef.T @ v.T). None for the other
    factors (sequential per-direction products)."""
    if factor != "least_squares":
        return None
    k = directions
    shapes = forward_shapes(sizes, batch)
    for l in range(len(sizes) - 2, -1, -1):
        d, n = sizes[l], sizes[l + 1]
        shapes += [("residual x@W.T", batch, d + 1, n), ("design x@D.T", batch, d + 1, k),
                   ("factor r.T@dy", k, batch, n), ("factor (rr).T@(dydy)", k, batch, n),
                   ("ridge a.T@a", k, batch, k), ("ridge a.T@dy", k, batch, n),
                   ("move coef.T@D", n, k, d + 1), ("residual a@coef", batch, k, n)]
        if l > 0:
            shapes += [("design W@D.T", n, d, k), ("factor q.T@dy.T", k, n, batch),
                       ("factor (qq).T@(dydy).T", k, n, batch), ("ridge v.T@v", k, n, k),
                       ("ridge v.T@dy.T", k, n, batch), ("move coef.T@D", batch, k, d),
                       ("residual coef.T@v.T", batch, k, n)]
    return shapes


def rule_shapes(rule: str, sizes, batch: int, options: dict, feedback_epoch: bool = False) -> list | None:
    """The products of one step of ``rule`` with ``options`` (as a benchmark spec gives them), or None
    when no list is kept for that rule or variant."""
    if rule == "backprop":
        return backprop_shapes(sizes, batch)
    if rule == "exact_tp":
        return exact_tp_shapes(sizes, batch, **options)
    if rule == "dfa":
        return dfa_shapes(sizes, batch, **options)
    if rule == "gtp":
        return gtp_shapes(sizes, batch, **options)
    if rule == "gnt":
        return gnt_shapes(sizes, batch, **options)
    if rule == "random_direction_tp":
        return rdtp_shapes(sizes, batch, **options)
    if rule in ("dtp", "dtpdrl"):
        return dtp_shapes(sizes, batch, reconstruction="layerwise" if rule == "dtp" else "drl",
                          feedback_epoch=feedback_epoch, **options)
    if rule in ("ddtp_linear", "ddtp_rhl"):
        return ddtp_shapes(sizes, batch, parameterization="direct_linear" if rule == "ddtp_linear" else "direct_rhl",
                           feedback_epoch=feedback_epoch, **options)
    return None


def macs(shapes) -> int:
    """Multiply-adds of a product list."""
    return sum(s[1] * s[2] * s[3] * (s[4] if len(s) > 4 else 1) for s in shapes)


class Products:
    """One product list on preallocated operands and outputs (``dtype``), run as a block of steps."""

    def __init__(self, shapes, dtype="float64", seed: int = 0):
        rng = np.random.default_rng(seed)
        self.shapes, self.calls = list(shapes), []
        for label, m, k, n, *count in self.shapes:
            lead = tuple(count)                       # () or (count,): a stacked, batched product
            a = rng.standard_normal(lead + (m, k)).astype(dtype)
            b = rng.standard_normal(lead + (k, n)).astype(dtype)
            self.calls.append((a, b, np.empty(lead + (m, n), dtype)))

    def run(self, steps: int = 1) -> float:
        """Seconds of ``steps`` repetitions of the whole list."""
        start = time.perf_counter()
        for _ in range(steps):
            for a, b, out in self.calls:
                if a.shape[-1] == 1:
                    np.multiply(a, b, out=out)              # an outer product: (m, 1) * (1, n)
                else:
                    np.matmul(a, b, out=out)
        return time.perf_counter() - start


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


def gemm_bound(shapes, batch: int, n_samples: int, min_seconds: float = 0.05) -> dict:
    """GEMM-bound seconds of one epoch (n_samples at ``batch``): every product of ``shapes`` timed on its
    own on preallocated operands (fastest of 7 rounds), summed over a step, times the number of steps.
    (The table's ratios come from the paired blocks of ``Products``; this per-product detail goes to
    the JSON.)"""
    per_step, flops_per_step, detail = 0.0, 0, []
    for shape in shapes:
        products = Products([shape])
        start = time.perf_counter()
        products.run()
        once = max(time.perf_counter() - start, 1e-7)
        seconds = _best_seconds(products.run, repeats=max(1, int(min_seconds / once)))
        flops = 2 * macs([shape])
        per_step += seconds
        flops_per_step += flops
        label, m, k, n, *count = shape
        detail.append({"product": f"{label} {m}x{k}x{n}" + (f" x{count[0]}" if count else ""), "flops": flops,
                       "seconds": seconds, "gflops": flops / seconds / 1e9})
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
