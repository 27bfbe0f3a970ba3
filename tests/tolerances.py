"""Tolerances that follow from a computation's conditioning, not from one CPU's rounding.

Two implementations of the same formula (a matrix product against a loop, a vectorised rule against its
per-sample reference, BLAS calls of different shapes or kernels) sum in different orders, so they agree only
up to rounding. How large that rounding is depends on the *terms* that are summed, not on the result: a sum
of terms of size 1e6 that cancels to 1 carries an error of about eps * 1e6. So every comparison here is

    |actual - expected| <= factor * eps * scale      (elementwise)

with ``scale`` the size of the terms whose rounding reaches the compared value:

- one product or sum: ``abs_matmul(a, b)`` = |a| @ |b|, the componentwise bound of a dot product
  (|fl(a @ b) - a @ b| <= n u |a| @ |b| for inner dimension n, u = eps / 2);
- a forward pass: ``forward_error_scale``, that bound carried through the layers; backprop's gradients:
  ``backward_error_scale``, the same backwards;
- a whole learning step (many intermediate sums, divisions by small denominators): ``sensitivity``, how far
  the step moves when every input is perturbed by a small relative amount. By backward stability each
  implementation computes the exact step of inputs perturbed by a few eps relative, so their difference is
  bounded by this sensitivity times eps; a near-zero denominator (a large, ill-conditioned weight) shows up
  as a large sensitivity, and only there does the tolerance grow. Perturbations cannot show a cancellation
  that holds for every input (a formula rearranged algebraically in one implementation, a residual that is
  zero by construction in one and a rounding residue in the other): the tests that compare such
  implementations multiply by the condition of those terms too (tests/rules/test_exact_tp.py,
  tests/rules/test_random_direction_tp.py).

``factor`` counts the rounding steps (e.g. the inner dimension of the products) with a safety margin; each
use states which terms cancel. An angle between two arrays that agree up to rounding is not 0 but up to
``parallel_angle_degrees``: arccos is ill-conditioned at 1.
"""
from __future__ import annotations

import numpy as np

from tpnb import precision

EPS = float(np.finfo(np.float64).eps)


def eps_of(*arrays) -> float:
    """Machine epsilon of the least precise floating dtype among ``arrays`` (float64 if none is float)."""
    eps = [float(np.finfo(a.dtype).eps) for a in map(np.asarray, arrays) if np.issubdtype(a.dtype, np.floating)]
    return max(eps, default=EPS)


def abs_matmul(a, b) -> np.ndarray:
    """|a| @ |b|: the size of the terms of every entry of a @ b."""
    return np.abs(a) @ np.abs(b)


def assert_close_conditioned(actual, expected, scale, factor: float, err_msg: str = "", eps: float | None = None):
    """Assert |actual - expected| <= factor * eps * scale elementwise (scale broadcasts against the arrays).

    ``scale`` is the size of the terms whose rounding reaches each entry (see the module docstring); it must be
    finite and >= 0. ``eps`` defaults to the epsilon of the less precise of actual and expected.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"shape mismatch: {actual.shape} vs {expected.shape}. {err_msg}")
    scale = np.broadcast_to(np.asarray(scale, dtype=float), actual.shape)
    if not (np.all(np.isfinite(scale)) and np.all(scale >= 0)):
        raise AssertionError(f"the tolerance scale must be finite and >= 0. {err_msg}")
    if not (np.all(np.isfinite(actual)) and np.all(np.isfinite(expected))):
        raise AssertionError(f"non-finite values: actual {actual!r}, expected {expected!r}. {err_msg}")
    eps = eps_of(actual, expected) if eps is None else eps
    tol = factor * eps * scale
    err = np.abs(actual.astype(float) - expected.astype(float))
    bad = err > tol
    if np.any(bad):
        i = np.unravel_index(np.argmax(np.where(bad, err - tol, -np.inf)), err.shape) if err.ndim else ()
        raise AssertionError(
            f"{int(bad.sum())} of {bad.size} entries differ by more than {factor:g} eps x scale; worst at "
            f"{tuple(int(k) for k in i)}: actual {actual[i]!r}, expected {expected[i]!r}, |diff| {err[i]:.3g}, "
            f"scale {scale[i]:.3g} (allowed {tol[i]:.3g}; |diff| / (eps scale) = "
            f"{err[i] / (eps * scale[i]) if scale[i] > 0 else np.inf:.3g}). {err_msg}")


def lipschitz(activation) -> float:
    """An upper bound of |f'| for an activation (max of its derivative on [-20, 20] and at +-1e6)."""
    grid = np.concatenate([np.linspace(-20.0, 20.0, 4001), [-1e6, 1e6]])
    return float(np.max(np.abs(activation.derivative(grid))))


def forward_error_scale(net, x: np.ndarray, weights=None) -> np.ndarray:
    """Scale S of the rounding error of the network output, (batch, n_L): |fl(net(x)) - net(x)| <= c eps S with
    c about the largest fan-in + 2.

    Layer l adds the rounding of its own products, |W_l| @ |x_l| (bias entry included), and carries the error of
    its input, |W_l| (without bias column) times Lip(f) times the error of the layer below:
    S_1 = |W_1| |x_1|,  S_l = |W_l| |x_l| + Lip(f) S_{l-1} |W_l[:, :-1]|^T.
    """
    weights = net.weights if weights is None else weights
    fp = net.forward(x, weights=weights)
    lip = max([lipschitz(f) for f in net.activations], default=1.0)
    return precision.forward_error_scale(weights, fp.xs, lip)


def backward_error_scale(net, fp, delta) -> list:
    """Per layer, the size of the terms of backprop's gradient dL/dW_l = delta_l^T x_l from delta = dL/du_L
    (B, n_L), a list of (n_l, d_l + 1) arrays: the backward recursion with absolute values,
    |delta_{l-1}| = (|delta_l| |W_l[:, :-1]|) |f'(u_{l-1})|, scale_l = |delta_l|^T |x_l|. Two ways of computing
    such a gradient (a chain of products in another order, a feedback matrix that equals the chain) differ
    by about (depth x width) eps times this."""
    d = np.abs(delta)
    scales = [None] * net.depth
    for l in range(net.depth - 1, -1, -1):
        scales[l] = abs_matmul(d.T, fp.xs[l])
        if l > 0:
            d = abs_matmul(d, net.weights[l][:, :-1]) * np.abs(net.activation.derivative(fp.us[l - 1]))
    return scales


def parallel_angle_degrees(size: int) -> float:
    """The largest angle (degrees) that an angle diagnostic, arccos(<a, b> / (|a| |b|)), may report for two
    arrays of ``size`` entries that are parallel up to rounding: their cosine carries c eps with
    c = 4 (size + 8), and near 1 arccos turns that into sqrt(2 c eps) radians (about 1e-5 degrees, not 0)."""
    return float(np.degrees(np.sqrt(2 * 4 * (size + 8) * EPS)))


def _perturbed(arrays, rel: float, rng):
    return [a * (1.0 + rel * rng.standard_normal(a.shape)) for a in arrays]


def sensitivity(step, arrays, rel: float = 1e-7, trials: int = 3, seed: int = 0):
    """How far the outputs of ``step`` move per unit relative perturbation of its inputs.

    step(list of arrays) -> list of arrays. Each trial multiplies every input entry by 1 + rel * N(0, 1) and
    records |step(perturbed) - step(arrays)| / rel; returns (step(arrays), the elementwise maximum over the
    trials). rel = 1e-7 is far above rounding (the measured change is not rounding noise) and small enough for
    the step to be linear in it unless the step is ill-conditioned beyond 1e7, where the tolerance it gives is
    large anyway. Multiplied by eps, the result bounds (up to a factor for the number of rounding steps)
    the difference between two implementations of ``step`` that round differently.
    """
    rng = np.random.default_rng(seed)
    base = step(list(arrays))
    worst = [np.zeros(np.shape(b)) for b in base]
    for _ in range(trials):
        moved = step(_perturbed(arrays, rel, rng))
        worst = [np.maximum(w, np.abs(np.asarray(m, dtype=float) - b) / rel) for w, m, b in zip(worst, moved, base)]
    return base, worst
