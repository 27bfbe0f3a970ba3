"""Random-direction target propagation (seed 001), as written and as the algebra says it should be.

For one layer with input batch X (B, D+1; last column the constant bias input 1), weights W (N, D+1;
rows w_n) and pre-activation targets U' (B, N), the residual is dY = U' - X W^T. Top-down, per layer:

1. draw k random directions d_1..d_k in R^{D+1} (the bias coordinate included: the weights have one);
2. weight move: w_n <- w_n + eta f_n d, with a per-neuron factor f_n from the batch;
3. recompute dY with the moved weights;
4. input move (not for layer 1, whose input is the data): x_i <- x_i + eta g_i d_x, where d_x is d
   without its bias coordinate (the bias input stays 1), with a per-sample factor g_i shared by
   the neurons of the layer;
5. the moved input is the previous layer's output target x'; its pre-activation target is
   u'_{l-1} = f^{-1}(x') (after ``project`` into the image of f), so f must be invertible.

Factors (``factor`` option), for one direction d:

- ``"as_written"`` (the seed): weight factor f_{i,n} = dy_{i,n} / <w_n, d>, averaged over the batch;
  input factor g_{i,n} = dy_{i,n} / <x_i, d_x>, averaged over the neurons.
- ``"derived"`` (the seed's factors swapped, which is what the algebra asks for): moving w_n along d
  changes <x_i, w_n> by f <x_i, d>, so f_{i,n} = dy_{i,n} / <x_i, d> removes sample i's error; moving
  x_i along d_x changes it by g <w_n, d_x>, so g_{i,n} = dy_{i,n} / <w_n, d_x>. Averaged as above.
- ``"least_squares"``: the step along d that minimises the layer's batch squared error,
  f_n = sum_i dy_{i,n} <x_i, d> / sum_i <x_i, d>^2, and per sample
  g_i = sum_n dy_{i,n} <w_n, d_x> / sum_n <w_n, d_x>^2.

With k > 1 directions:

- ``least_squares`` solves one small (ridge-regularised) least-squares problem in the span of the k
  directions: coefficients C = (A^T A + lam I)^{-1} A^T dY with the design matrix A = X D^T (B, k)
  shared by all neurons, W <- W + eta C^T D; lam = ridge * trace(A^T A) / k. The input move does the
  same with the design matrix V = W_x D_x^T (N, k) shared by all samples. Since A^T dY = (A^T A + lam) C,
  the change of the squared error, -2 eta (|A C|^2 + lam |C|^2) + eta^2 |A C|^2, is <= 0 for
  0 < eta <= 2: the step never increases the layer's batch squared error. ``ridge`` defaults to 1e-2,
  not to a tiny value: with k close to the batch size B the square design A is nearly singular, and a
  tiny ridge (1e-8) gives huge coefficients that fit the batch exactly and wreck the network (chapter 5
  shows it on Fashion-MNIST, k = 64 = B).
- ``as_written`` and ``derived`` apply the k directions one after another: for each direction the
  factors are computed from the current residual (and, as_written, the current weights or inputs),
  applied, and the residual updated, before the next direction. All k weight moves are made with the
  true layer input X first; then the k input moves, with the moved weights.

A per-sample factor whose denominator is (numerically) zero, |den| <= 1e-12 |a| |b|, contributes 0.

Diagnostics (layers numbered 1..L like the book):
``factor_var_<l>``: the variance over the batch of the per-sample weight factors, averaged over the
neurons and the k directions (the seed's batch-agreement signal; for least_squares the per-sample
factors are the derived ones, dy_i / <x_i, d>, i.e. what each sample alone would ask for);
``input_factor_var_<l>``: the variance over the neurons of the per-neuron input factors, averaged over
the batch and directions; ``sq_err_before_<l>``, ``sq_err_after_<l>``: the layer's batch-mean squared
error sum_n dy_n^2 before and after the weight move; ``decreased_<l>``: 1 when the weight move lowered
it, else 0 (its epoch mean is the fraction of steps that helped); ``sq_err_input_<l>``: after the input
move too;
``weight_step_<l>``: |Delta W|_F; ``target_step_<l>``: mean relative size |x' - x| / |x| of the move.

Activations: the moved input must be mapped back through f^{-1}. Leaky ReLU and x + relu(x) are
invertible on all of R. tanh and sigmoid are invertible on their open image: the moved input is clipped
eps inside it by ``Activation.project`` first (the clipping makes the target inexact; the book uses
leaky ReLU). ReLU is refused with a ValueError naming it.
"""
from __future__ import annotations

import numpy as np

from .. import checks
from ..activations import Activation
from ..network import MLP
from . import options
from .protocol import layer_key
from .target_steps import target_step
from .targets import check_output_target, output_target

FACTORS = ("as_written", "derived", "least_squares")
DISTRIBUTIONS = ("gaussian", "sphere", "coordinate")
ZERO = 1e-12   # relative size below which a denominator counts as zero


def _reciprocal(den: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """1 / den elementwise, 0 where |den| <= ZERO * scale (a zero denominator contributes nothing)."""
    den, scale = np.broadcast_arrays(den, scale)
    return np.divide(1.0, den, out=np.zeros(den.shape), where=np.abs(den) > ZERO * scale)


def _mean_square(r: np.ndarray) -> float:
    """mean_b sum_n r_bn^2 of a residual r (B, N)."""
    return float(np.einsum("bn,bn->", r, r)) / len(r)


def _ridge_solve(a: np.ndarray, rhs: np.ndarray, ridge: float) -> np.ndarray:
    """argmin_C |rhs - a C|^2 + lam |C|^2 with lam = ridge * trace(a^T a) / k; a (m, k), rhs (m, p).

    Returns C (k, p); all zeros when a is zero."""
    gram = a.T @ a
    k = gram.shape[0]
    scale = np.trace(gram) / k
    if scale == 0:
        return np.zeros((k, rhs.shape[1]))
    if not np.isfinite(scale):                  # overflowed or NaN inputs: let the training loop see it
        return np.full((k, rhs.shape[1]), np.nan)
    gram[np.diag_indices(k)] += ridge * scale
    try:
        return np.linalg.solve(gram, a.T @ rhs)
    except np.linalg.LinAlgError:               # only reachable through overflow
        return np.full((k, rhs.shape[1]), np.nan)


class RandomDirectionTP:
    """Random-direction TP (seed 001) with the seed's open decisions as options.

    factor: "as_written" (the seed), "derived" (the factors the algebra gives) or "least_squares".
    directions: k >= 1 random directions per layer and step.
    distribution: "gaussian" (N(0, I)), "sphere" (uniform on the unit sphere) or "coordinate" (k
        distinct random coordinate axes when k <= D+1, otherwise drawn with replacement).
    eta: scale of both moves (1: the full factor, as in the seed). Must be > 0.
    ridge: relative ridge lam / (trace(A^T A) / k) of the least-squares solves (> 0; least_squares only).
    cap: optional upper clip of hidden input targets (None: none; leaky ReLU needs none).
    output_target: "label" (u'_L = y), "step" (u_L + beta (y - u_L)) or "softmax_step".
    seed: seeds the rule's own generator (np.random.default_rng(seed)), which draws the directions;
        the same seed and the same calls give the same directions.
    """

    name = "random_direction_tp"

    def __init__(self, *, factor: str = "least_squares", directions: int = 1,
                 distribution: str = "gaussian", eta: float = 1.0, ridge: float = 1e-2,
                 cap: float | None = None, output_target: str = "label", beta: float = 1.0,
                 seed: int = 0):
        self.factor = options.choice("factor", factor, FACTORS)
        self.k = options.count("directions", directions, 1)
        self.distribution = options.choice("distribution", distribution, DISTRIBUTIONS, "direction distribution")
        self.eta = options.positive("eta", eta)
        self.ridge = options.positive("ridge", ridge)
        self.cap = options.positive("cap", cap, allow_none=True)
        self.output_target, self.beta = check_output_target(output_target, beta)
        self.seed = options.seed(seed)
        self.rng = np.random.default_rng(self.seed)

    def __repr__(self) -> str:
        return (f"RandomDirectionTP(factor={self.factor!r}, directions={self.k}, "
                f"distribution={self.distribution!r}, eta={self.eta}, ridge={self.ridge}, cap={self.cap}, "
                f"output_target={self.output_target!r}, beta={self.beta}, seed={self.seed})")

    # ------------------------------------------------------------------ pieces
    def output_targets(self, u_out: np.ndarray, y: np.ndarray, f_out: Activation | None = None) -> np.ndarray:
        """u'_L for a batch, (batch, n_L), through the network's output activation f_out if it has one."""
        return output_target(self.output_target, self.beta, u_out, y, f_out=f_out)

    def sample_directions(self, dim: int) -> np.ndarray:
        """k directions in R^dim as rows, (k, dim), from the rule's generator."""
        if self.distribution == "coordinate":
            axes = self.rng.choice(dim, size=self.k, replace=self.k > dim)
            out = np.zeros((self.k, dim))
            out[np.arange(self.k), axes] = 1.0
            return out
        d = self.rng.standard_normal((self.k, dim))
        if self.distribution == "sphere":
            d /= np.linalg.norm(d, axis=1, keepdims=True)
        return d

    def check_network(self, net: MLP) -> None:
        """Raise ValueError when a hidden activation cannot be inverted (only matters for L > 1)."""
        for f in net.activations:
            if not f.invertible:
                raise ValueError(
                    f"random_direction_tp needs invertible hidden activations to turn input targets into "
                    f"pre-activation targets; {f.name!r} is not invertible (use 'leaky_relu' or 'x_plus_relu')")

    def move_coefficients(self, moved: np.ndarray, fixed: np.ndarray, r: np.ndarray, dirs: np.ndarray):
        """The one move of the rule, in both roles: coefficients C (k, P) that move every row m_p of ``moved``
        (P, D) by sum_j c_jp d_j along the directions ``dirs`` (k, D) to shrink the residual r (Q, P) of the
        products <fixed_q, m_p> (fixed (Q, D)); one factor per moved row, from its Q per-row factors
        r_qp / <., d_j> as ``factor`` says. The move changes r by -A C, with the design A = fixed D^T (Q, k).

        Weight move: moved = W, fixed = X, r = dY (a factor per neuron, from the batch). Input move:
        moved = X, fixed = W, r = dY^T (a factor per sample, from the neurons).
        Returns (C, A, factor variance)."""
        n_rows = r.shape[0]
        a = fixed @ dirs.T                                                 # <fixed_q, d_j>, (Q, k)
        d_norm = np.linalg.norm(dirs, axis=1)
        if self.factor == "as_written":
            md = moved @ dirs.T                                            # <m_p, d_j>, (P, k)
            m_norm = np.linalg.norm(moved, axis=1)
            rm = _reciprocal(md, m_norm[:, None] * d_norm[None, :])
            var = np.mean(r.var(axis=0)[:, None] * rm ** 2)                # var_q r_q / <m_p, d_j>
        else:
            ra = _reciprocal(a, np.linalg.norm(fixed, axis=1)[:, None] * d_norm[None, :])  # 1 / <fixed_q, d_j>
            mean_f = ra.T @ r / n_rows                                     # mean_q r_qp / <fixed_q, d_j>, (k, P)
            var = np.mean(np.maximum((ra * ra).T @ (r * r) / n_rows - mean_f ** 2, 0.0))
        if self.factor == "least_squares":
            coef = self.eta * _ridge_solve(a, r, self.ridge)               # (k, P)
        elif self.factor == "derived":
            # sequential: f_j = eta mean_q r^(j-1)_q / <fixed_q, d_j> with r^(j-1) = r - sum_{j'<j} a_j' f_j',
            # i.e. f_j = eta mean_f_j - sum_{j'<j} s_jj' f_j' (forward substitution, s = eta ra^T a / Q)
            s = self.eta * (ra.T @ a) / n_rows
            coef = self.eta * mean_f
            for j in range(1, self.k):
                coef[j] -= s[j, :j] @ coef[:j]
        else:
            # sequential with the current rows: <m_p + sum_{j'<j} f_j'p d_j', d_j> in the denominator
            dd = dirs @ dirs.T
            sq_m = m_norm ** 2                                             # |current m_p|^2
            r_bar, a_bar = r.mean(axis=0), a.mean(axis=0)                  # mean_q of the residual and of a
            coef = np.zeros((self.k, moved.shape[0]))
            for j in range(self.k):
                den = md[:, j] + coef[:j].T @ dd[:j, j]
                coef[j] = self.eta * r_bar * _reciprocal(den, np.sqrt(sq_m * dd[j, j]))
                sq_m = sq_m + 2 * coef[j] * den + coef[j] ** 2 * dd[j, j]
                r_bar = r_bar - a_bar[j] * coef[j]
        return coef, a, float(var)

    def weight_move(self, w: np.ndarray, x: np.ndarray, dy: np.ndarray, dirs: np.ndarray):
        """The weight move of one layer. w (N, D+1), x (B, D+1), dy (B, N), dirs (k, D+1).

        Returns (dW (N, D+1), residual after the move (B, N), factor variance)."""
        coef, a, var = self.move_coefficients(w, x, dy, dirs)
        return coef.T @ dirs, dy - a @ coef, var                          # dW = C^T D, dY - A C

    def input_move(self, w: np.ndarray, x: np.ndarray, dy: np.ndarray, dirs: np.ndarray):
        """The input move of one layer (changeable coordinates only). w (N, D+1) already moved,
        x (B, D+1), dy (B, N) the residual after the weight move, dirs (k, D+1).

        Returns (dX (B, D), residual after the move (B, N), input factor variance)."""
        dx_dirs = dirs[:, :-1]                                             # the bias input stays 1
        coef, v, var = self.move_coefficients(x[:, :-1], w[:, :-1], dy.T, dx_dirs)
        return coef.T @ dx_dirs, dy - coef.T @ v.T, var                   # dX = C^T D_x, dY - C^T V^T

    # ------------------------------------------------------------------ the rule
    def apply(self, net: MLP, x: np.ndarray, y: np.ndarray, directions: list) -> dict:
        """One step with given directions: directions[l] is (k, D_l + 1) for layer l (0-based)."""
        x, y = checks.training_batch(net, x, y)
        self.check_network(net)
        fp = net.forward(x)
        u_target = self.output_targets(fp.output, y, net.output_activation)
        diagnostics = {}
        for l in range(net.depth - 1, -1, -1):
            w, x_l, dirs = net.weights[l], fp.xs[l], directions[l]
            if dirs.shape != (self.k, w.shape[1]):
                raise ValueError(f"shape mismatch: layer {l + 1} needs directions of shape "
                                 f"({self.k}, {w.shape[1]}), got {dirs.shape}")
            dy = u_target - x_l @ w.T
            dw, dy_after, var = self.weight_move(w, x_l, dy, dirs)
            w += dw
            m = l + 1
            before, after = _mean_square(dy), _mean_square(dy_after)
            diagnostics[layer_key("factor_var", m)] = var
            diagnostics[layer_key("sq_err_before", m)] = before
            diagnostics[layer_key("sq_err_after", m)] = after
            diagnostics[layer_key("decreased", m)] = float(after < before)
            diagnostics[layer_key("weight_step", m)] = float(np.linalg.norm(dw))
            if l == 0:
                break
            dx, dy_input, in_var = self.input_move(w, x_l, dy_after, dirs)
            hidden = x_l[:, :-1]
            f = net.activations[l - 1]
            x_target = f.project(hidden + dx, self.cap)                         # x', into the image of f
            diagnostics[layer_key("input_factor_var", m)] = in_var
            diagnostics[layer_key("sq_err_input", m)] = _mean_square(dy_input)
            diagnostics[layer_key("target_step", m)] = target_step(x_target, hidden)
            u_target = f.target(fp.us[l - 1], x_target)
        return diagnostics

    def step(self, net: MLP, x: np.ndarray, y: np.ndarray) -> dict:
        """Draw the directions top-down (layer L first) and apply one step in place; returns diagnostics."""
        x, y = checks.training_batch(net, x, y)     # before the generator draws anything
        self.check_network(net)
        directions = [None] * net.depth
        for l in range(net.depth - 1, -1, -1):
            directions[l] = self.sample_directions(net.weights[l].shape[1])
        return self.apply(net, x, y, directions)


def reference_step(rule: RandomDirectionTP, net: MLP, x: np.ndarray, y: np.ndarray, directions: list) -> dict:
    """The same step as ``rule.apply``, written sample by sample and neuron by neuron (slow; for tests).

    Updates net.weights in place and returns {"factor_var_<l>", "input_factor_var_<l>"}.
    x (B, d_in), y (B, n_out); directions as for ``apply``."""
    rule.check_network(net)
    fp = net.forward(x)
    u_target = rule.output_targets(fp.output, y, net.output_activation)
    batch = x.shape[0]
    out = {}

    def ratio(num, den, scale):                   # num / den, 0 for a (numerically) zero denominator
        return num / den if abs(den) > ZERO * scale else 0.0

    def lstsq(design, rhs):                       # min |rhs - design c|^2 + lam |c|^2 (normal equations)
        gram = design.T @ design
        lam = rule.ridge * np.trace(gram) / gram.shape[0]
        if not lam > 0:
            return np.zeros(design.shape[1])
        return np.linalg.solve(gram + lam * np.eye(gram.shape[0]), design.T @ rhs)

    def norm(v):
        return float(np.sqrt(v @ v))

    for l in range(net.depth - 1, -1, -1):
        w, xs, dirs = net.weights[l], list(fp.xs[l]), directions[l]
        n_neurons, k = w.shape[0], dirs.shape[0]
        # ---- weight move, neuron by neuron
        var_sum = 0.0
        for n in range(n_neurons):
            def residual(i):
                return u_target[i, n] - xs[i] @ w[n]

            def factors(j):                       # the per-sample factors, with the current weights
                if rule.factor == "as_written":
                    return [ratio(residual(i), w[n] @ dirs[j], norm(w[n]) * norm(dirs[j])) for i in range(batch)]
                return [ratio(residual(i), xs[i] @ dirs[j], norm(xs[i]) * norm(dirs[j])) for i in range(batch)]
            for j in range(k):                    # the factors at the start of the layer's move
                var_sum += np.var(factors(j))
            if rule.factor == "least_squares":
                design = np.array([[xs[i] @ dirs[j] for j in range(k)] for i in range(batch)])
                w[n] = w[n] + rule.eta * lstsq(design, np.array([residual(i) for i in range(batch)])) @ dirs
                continue
            for j in range(k):                    # one direction after the other
                w[n] = w[n] + rule.eta * np.mean(factors(j)) * dirs[j]
        out[layer_key("factor_var", l + 1)] = var_sum / (n_neurons * k)
        if l == 0:
            break
        # ---- input move, sample by sample (changeable coordinates only; the bias input stays 1)
        var_sum = 0.0
        hidden_targets = []
        for i in range(batch):
            xi = xs[i][:-1].copy()

            def residual(n):
                return u_target[i, n] - (xi @ w[n, :-1] + w[n, -1])

            def factors(j):
                dj = dirs[j, :-1]
                if rule.factor == "as_written":
                    return [ratio(residual(n), xi @ dj, norm(xi) * norm(dj)) for n in range(n_neurons)]
                return [ratio(residual(n), w[n, :-1] @ dj, norm(w[n, :-1]) * norm(dj)) for n in range(n_neurons)]
            var_sum += sum(np.var(factors(j)) for j in range(k))
            if rule.factor == "least_squares":
                design = np.array([[w[n, :-1] @ dirs[j, :-1] for j in range(k)] for n in range(n_neurons)])
                xi = xi + rule.eta * lstsq(design, np.array([residual(n) for n in range(n_neurons)])) @ dirs[:, :-1]
            else:
                for j in range(k):
                    xi = xi + rule.eta * np.mean(factors(j)) * dirs[j, :-1]
            hidden_targets.append(xi)
        out[layer_key("input_factor_var", l + 1)] = var_sum / (batch * k)
        x_target = net.activations[l - 1].project(np.array(hidden_targets), rule.cap)
        u_target = net.activations[l - 1].target(fp.us[l - 1], x_target)
    return out
