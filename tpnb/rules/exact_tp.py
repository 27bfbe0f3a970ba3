"""Exact target propagation (seed 000): per sample, new weights that make the network output its target.

For one sample (x, y) the rule walks the layers top-down. At layer l with input x (bias entry 1),
weights W (rows w_n) and pre-activation target u' (dv = u' - u):

- each neuron proposes dw_n = a dv_n x and the input change
  dx_n = dv_n (1 - alpha) / |w_n + a dv_n x|^2 (w_n + a dv_n x),   alpha = a |x|^2,
  so that <x + dx_n, w_n + dw_n> = u'_n;
- the proposals are averaged over the layer's neurons, ix = x + mean_n dx_n, the bias entry is reset
  to 1 and ix is projected into the image of the previous activation (and capped): the input target x';
- the new weights are the orthogonal projection of each w_n onto {w : <x', w> = u'_n}:
  w'_n = w_n + (u'_n - <w_n, x'>) / |x'|^2 x',  so W' x' = u' exactly;
- the previous layer's pre-activation target u'_{l-1} satisfies f(u'_{l-1}) = x' exactly.
Layer 1 cannot change its input: x' = x and w'_n = w_n + dv_n / |x|^2 x.

Property E: theta'(x, y) = (W'_1, ..., W'_L) maps x to u'_L exactly. The batch rule moves the weights
towards the batch mean of theta': theta <- theta + eta (mean_b theta'_b - theta).

Two variants beyond the seed (chapter 10), both still computing new weights in closed form:
- input_rule="pinv": the layer's neurons are solved jointly: dx = (1 - alpha) W^+ dv, the minimum-norm
  input change with W dx = (1 - alpha) dv (W without its bias column), instead of the mean of the N
  per-neuron proposals (which moves x by only about 1/N of what each neuron asks for).
- weight_rule="joint": instead of averaging the per-sample projections (Cimmino), the minimum-norm change
  of W that puts every sample of the batch on its target at once (block Kaczmarz / affine projection):
  dW = R^T (X' X'^T)^{-1} X' with R = U' - X' W^T (B <= d + 1; for larger batches the least-squares
  change dW = R^T X' (X'^T X')^{-1}). With B = 1 it is the seed's per-sample projection.
Chapter 13 adds hidden_target: other pre-activation targets for hidden ReLU layers (tpnb.rules.hidden_targets,
e.g. an inactive unit turns on only when asked past a threshold); the layer above is fitted to
x' = relu(u'), so property E holds with each of them.
"""
from __future__ import annotations

import numpy as np

from .. import checks
from ..activations import Activation, ReLU
from ..network import MLP, with_bias
from ..unit_switching import requested_switches
from . import options
from .hidden_targets import HIDDEN_TARGETS, relu_target
from .protocol import layer_key
from .target_steps import target_step
from .targets import check_output_target, output_target

DX_MODES = ("full", "exact")
INPUT_RULES = ("mean", "pinv")
WEIGHT_RULES = ("mean", "joint")
ZERO_TOL = 1e-10   # |w + a dv x|^2 below this fraction of |w|^2 + |a dv x|^2 counts as zero
RIDGE = 1e-12      # relative Tikhonov term of the pinv / joint solves (only guards rank deficiency)


def ridge_solve_rows(rhs: np.ndarray, a: np.ndarray) -> np.ndarray:
    """rhs @ (a a^T + lam I)^{-1} @ a, the row form of (a^+)^T applied to rhs, (k, m) x (m, n) -> (k, n).

    Uses the m x m Gram matrix when m <= n and the n x n one otherwise; lam = RIDGE * trace / size.
    """
    m, n = a.shape
    if m <= n:
        gram = a @ a.T
        gram[np.diag_indices(m)] += RIDGE * np.trace(gram) / m + np.finfo(float).tiny
        return np.linalg.solve(gram, rhs.T).T @ a
    gram = a.T @ a
    gram[np.diag_indices(n)] += RIDGE * np.trace(gram) / n + np.finfo(float).tiny
    return np.linalg.solve(gram, (rhs @ a).T).T


class ExactTP:
    """Exact TP with every open decision of the seed as an option.

    a, alpha: the split of the change between weights and input; give at most one. alpha = a |x|^2
        is the scale-free form (alpha = 1: all change to the weights, dx = 0; alpha = 0: all to the
        input). Default alpha = 0.5. ``a`` must be >= 0, ``alpha`` in [0, 1].
    eta: step towards the batch mean of the per-sample weights (eta = 1: the seed's plain average).
    cap: upper clip of hidden input targets (None: no cap). margin: the ReLU target rule's -m >= 0.
    dx_mode: "full" (the seed: dx along w + a dv x, its bias entry discarded) or "exact" (dx restricted
        to the changeable coordinates, so each neuron's proposal is exact before averaging).
    output_target: "label" (u'_L = y), "step" (u_L + beta (y - u_L)) or "softmax_step"
        (u_L + beta (y - softmax(u_L))).
    input_rule: "mean" (the seed) or "pinv";  weight_rule: "mean" (the seed) or "joint" (module docstring).
    diagnostics: record per-step target steps, clipping and batch spread (off: faster, no diagnostics).
    hidden_target: the pre-activation target rule of hidden ReLU layers (tpnb.rules.hidden_targets):
        "seed" (the seed's, any activation), "threshold" (an inactive unit turns on only when asked past
        ``threshold`` t >= 0), "mask" (only active units change) or "preactivation" (u' = u + c - x).
    count_switches: also record switch_on_<l> / switch_off_<l>, the fractions of hidden layer l's
        (sample, unit) pairs whose target turns them on / off (tpnb.unit_switching.requested_switches).
    """

    name = "exact_tp"

    def __init__(self, *, a: float | None = None, alpha: float | None = None, eta: float = 1.0,
                 cap: float | None = 2.0, margin: float = 0.0, dx_mode: str = "full",
                 output_target: str = "label", beta: float = 1.0, input_rule: str = "mean",
                 weight_rule: str = "mean", diagnostics: bool = True, hidden_target: str = "seed",
                 threshold: float = 0.0, count_switches: bool = False):
        if a is not None and alpha is not None:
            raise ValueError("give either a or alpha, not both")
        self.a = None if a is None else options.positive("a", a, allow_zero=True)
        self.alpha = None if a is not None else options.fraction("alpha", 0.5 if alpha is None else alpha)
        self.eta = options.positive("eta", eta)
        self.cap = options.positive("cap", cap, allow_none=True)
        self.margin = options.positive("margin", margin, allow_zero=True)
        self.diagnostics = options.flag("diagnostics", diagnostics)
        self.dx_mode = options.choice("dx_mode", dx_mode, DX_MODES)
        self.output_target, self.beta = check_output_target(output_target, beta)
        self.input_rule = options.choice("input_rule", input_rule, INPUT_RULES)
        self.weight_rule = options.choice("weight_rule", weight_rule, WEIGHT_RULES)
        self.hidden_target = options.choice("hidden_target", hidden_target, HIDDEN_TARGETS)
        self.threshold = options.positive("threshold", threshold, allow_zero=True)
        if self.threshold and self.hidden_target != "threshold":
            raise ValueError(f"threshold={threshold!r} applies only to hidden_target='threshold', "
                             f"got hidden_target={hidden_target!r}")
        self.count_switches = options.flag("count_switches", count_switches)

    def __repr__(self) -> str:
        split = f"a={self.a}" if self.a is not None else f"alpha={self.alpha}"
        return (f"ExactTP({split}, eta={self.eta}, cap={self.cap}, margin={self.margin}, "
                f"dx_mode={self.dx_mode!r}, output_target={self.output_target!r}, beta={self.beta}, "
                f"input_rule={self.input_rule!r}, weight_rule={self.weight_rule!r}"
                + ("" if self.hidden_target == "seed" else
                   f", hidden_target={self.hidden_target!r}, threshold={self.threshold}") + ")")

    def hidden_relu_target(self, f: Activation, u: np.ndarray, ix: np.ndarray) -> np.ndarray:
        """u'_{l-1} of a non-seed ``hidden_target`` rule from the unprojected request ix, (B, n) each;
        f is the hidden layer's activation, which must be ReLU."""
        if not isinstance(f, ReLU):
            raise ValueError(f"hidden_target={self.hidden_target!r} needs ReLU hidden layers, got {f!r}")
        return relu_target(self.hidden_target, u, ix, self.cap, self.margin, self.threshold)

    def output_targets(self, u_out: np.ndarray, y: np.ndarray, f_out: Activation | None = None) -> np.ndarray:
        """u'_L for a batch, (batch, n_L), through the network's output activation f_out if it has one."""
        return output_target(self.output_target, self.beta, u_out, y, f_out=f_out)

    def input_target(self, net: MLP, w: np.ndarray, x: np.ndarray, u: np.ndarray, dv: np.ndarray,
                     f: Activation | None = None):
        """x' for every sample of a batch at one layer (all arrays rows = samples), projected into the image
        of f, the activation of the hidden layer whose output x is (default: net.activation, the network's
        one hidden activation).

        w (N, D+1), x (B, D+1), u and dv (B, N). Returns the projected input target without the
        bias column, (B, D), and the unprojected average ix, (B, D).
        """
        f = net.activation if f is None else f
        n_neurons = w.shape[0]
        sq_x = np.einsum("bi,bi->b", x, x)                              # |x|^2, (B,)
        alpha = np.full_like(sq_x, self.alpha) if self.a is None else self.a * sq_x
        if self.input_rule == "pinv":
            # all neurons jointly: dx = (1 - alpha) W^+ dv, minimum norm with W dx = (1 - alpha) dv
            ix = x[:, :-1] + ridge_solve_rows(dv * (1.0 - alpha)[:, None], w[:, :-1])
            return f.project(ix, self.cap), ix
        a = (alpha / sq_x)[:, None]                                      # (B, 1)
        # |w_n + a dv_n x|^2 = |w_n|^2 + 2 a dv_n <w_n, x> + a^2 dv_n^2 |x|^2, over the changed coordinates
        if self.dx_mode == "full":
            sq_w, w_dot_x, sq_xc = np.einsum("ni,ni->n", w, w), u, sq_x
        else:
            sq_w = np.einsum("ni,ni->n", w[:, :-1], w[:, :-1])
            w_dot_x, sq_xc = u - w[:, -1], sq_x - 1.0
        scale = sq_w + (a * dv) ** 2 * sq_xc[:, None]
        den = scale + 2 * a * dv * w_dot_x                                   # (B, N)
        num = dv * (1.0 - alpha)[:, None]
        # a (numerically) zero |w_n + a dv_n x|^2: that neuron proposes dx_n = 0
        coef = np.divide(num, den, out=np.zeros_like(num), where=den > ZERO_TOL * scale)
        # mean_n dx_n = (coef @ W + (sum_n coef_n a dv_n) x) / N, restricted to the changeable coordinates
        mean_dx = (coef @ w[:, :-1] + (a[:, 0] * np.einsum("bn,bn->b", coef, dv))[:, None] * x[:, :-1])
        ix = x[:, :-1] + mean_dx / n_neurons
        return f.project(ix, self.cap), ix

    def mean_update(self, net: MLP, x: np.ndarray, y: np.ndarray):
        """mean_b theta'_b - theta for a batch (weight_rule "joint": the joint change), as a list of
        (N_l, D_l + 1) arrays, and diagnostics. x (B, d_in), y (B, n_out)."""
        return self._updates(net, x, y, 1.0)

    def _updates(self, net: MLP, x: np.ndarray, y: np.ndarray, eta: float):
        """eta times the update of every layer, and diagnostics (empty unless ``self.diagnostics``).

        No (B, N, D) tensor is formed: the batch mean of w'_n - w_n = r_n x' / |x'|^2 is the matrix
        product R^T (X' / |X'|^2) / B, computed as (R scaled row-wise by eta / (B |x'_b|^2))^T X'.
        """
        fp = net.forward(x)
        batch = x.shape[0]
        u_target = self.output_targets(fp.output, y, net.output_activation)
        updates = [None] * net.depth
        diag = {}
        for l in range(net.depth - 1, -1, -1):
            w, x_l, u_l = net.weights[l], fp.xs[l], fp.us[l]
            if l > 0:
                x_proj, ix = self.input_target(net, w, x_l, u_l, u_target - u_l, net.activations[l - 1])
                if self.hidden_target != "seed":                           # u'_{l-1}, then x' = relu(u'_{l-1})
                    u_hidden = self.hidden_relu_target(net.activations[l - 1], fp.us[l - 1], ix)
                    x_proj = np.maximum(u_hidden, 0.0)
                x_target = with_bias(x_proj)                               # x'
                residual = u_target - x_target @ w.T                       # u' - W x'
                if self.diagnostics:
                    diag[layer_key("target_step", l + 1)] = target_step(x_proj, x_l[:, :-1])
                    diag[layer_key("clipped", l + 1)] = float(np.mean(x_proj != ix))
            else:
                x_target, residual = x_l, u_target - u_l                   # layer 1: x' = x
            if self.weight_rule == "joint":
                # minimum-norm dW with X' dW^T = R for the whole batch (least squares if B > d + 1)
                updates[l] = ridge_solve_rows(eta * residual.T, x_target)
            else:
                inv_sq = 1.0 / np.einsum("bi,bi->b", x_target, x_target)             # 1 / |x'|^2, (B,)
                # the (B, N) residual is scaled, not the (B, D + 1) input: eta / B r_b / |x'_b|^2
                updates[l] = (residual * (eta / batch * inv_sq)[:, None]).T @ x_target
                if self.diagnostics:
                    # batch agreement: spread of the per-sample updates r_b x'_b^T / |x'_b|^2 around their mean
                    mean_sq = float(np.einsum("bn,bn,b->", residual, residual, inv_sq)) / batch
                    mean_update = updates[l] / eta
                    diag[layer_key("spread", l + 1)] = float(np.sqrt(max(mean_sq - np.sum(mean_update ** 2), 0.0)))
            if self.diagnostics:
                diag[layer_key("update", l + 1)] = float(np.linalg.norm(updates[l])) / eta
            if l > 0:
                u_target = (net.activations[l - 1].target(fp.us[l - 1], x_target[:, :-1], self.margin)
                            if self.hidden_target == "seed" else u_hidden)
                if self.count_switches:
                    for kind, value in requested_switches(fp.us[l - 1], u_target).items():
                        diag[layer_key(f"switch_{kind}", l)] = value
        return updates, diag

    def step(self, net: MLP, x: np.ndarray, y: np.ndarray) -> dict:
        """theta <- theta + eta (mean_b theta'_b - theta), in place; returns diagnostics."""
        x, y = checks.training_batch(net, x, y)
        updates, diag = self._updates(net, x, y, self.eta)
        for w, dw in zip(net.weights, updates):
            w += dw
        return diag


def per_sample_weights(rule: ExactTP, net: MLP, x: np.ndarray, y: np.ndarray) -> list:
    """Reference implementation for one sample, written neuron by neuron as in the seed.

    x (d_in,), y (n_out,). Returns theta' = [W'_1, ..., W'_L]. Slow; used by the tests. The seed's averaging
    only: a rule with input_rule="pinv" or weight_rule="joint" raises (ExactTP.mean_update on a batch of one
    sample gives their theta' - theta).
    """
    for name in ("input_rule", "weight_rule"):
        if getattr(rule, name) != "mean":
            raise ValueError(f"per_sample_weights follows the seed's neuron-by-neuron rule: {name} must be "
                             f"'mean', got {getattr(rule, name)!r}")
    fp = net.forward(x[None, :])
    u_target = rule.output_targets(fp.output, y[None, :], net.output_activation)[0]
    new_weights = [None] * net.depth
    for l in range(net.depth - 1, -1, -1):
        w, x_l, u_l = net.weights[l], fp.xs[l][0], fp.us[l][0]
        dv = u_target - u_l
        if l == 0:
            new_weights[0] = w + np.outer(dv, x_l) / (x_l @ x_l)           # dw = dv / |x|^2 x
            break
        alpha = rule.alpha if rule.a is None else rule.a * (x_l @ x_l)      # alpha = a |x|^2
        a = alpha / (x_l @ x_l)
        changeable = slice(None) if rule.dx_mode == "full" else slice(0, -1)
        proposals = []
        for n in range(w.shape[0]):
            direction = np.zeros_like(x_l)
            direction[changeable] = (w[n] + a * dv[n] * x_l)[changeable]   # w + a dv x
            den = direction @ direction
            scale = w[n][changeable] @ w[n][changeable] + (a * dv[n]) ** 2 * (x_l[changeable] @ x_l[changeable])
            dx = dv[n] * (1 - alpha) / den * direction if den > ZERO_TOL * scale else np.zeros_like(x_l)
            proposals.append(dx)
        ix = x_l + np.mean(proposals, axis=0)
        x_target = np.append(net.activations[l - 1].project(ix[:-1], rule.cap), 1.0)   # x', bias reset to 1
        if rule.hidden_target != "seed":                                    # x' = relu(u'_{l-1})
            u_hidden = rule.hidden_relu_target(net.activations[l - 1], fp.us[l - 1][0], ix[:-1])
            x_target = np.append(np.maximum(u_hidden, 0.0), 1.0)
        new_w = np.empty_like(w)
        for n in range(w.shape[0]):
            # the seed's form: dw = (dv - <w, x'> + <w, x>) / |x'|^2 x'
            new_w[n] = w[n] + (dv[n] - w[n] @ x_target + w[n] @ x_l) / (x_target @ x_target) * x_target
        new_weights[l] = new_w
        u_target = (net.activations[l - 1].target(fp.us[l - 1][0], x_target[:-1], rule.margin)
                    if rule.hidden_target == "seed" else u_hidden)
    return new_weights
