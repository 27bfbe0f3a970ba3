"""What exact TP's per-sample solutions show (chapter 14), next to what backprop's per-sample gradients show.

Every layer's per-sample change is rank one. Exact TP (tpnb.rules.exact_tp): sample b's new weights are
W'_l = W_l + c_l x'_l^T with c_l = (u'_l - W_l x'_l) / |x'_l|^2, x'_l the layer's input target (x'_1 = x, the
sample itself) and u'_l its pre-activation target. Backprop: the per-sample gradient of the sample's loss l_b
is dl_b/dW_l = delta_l x_l^T with delta_l = dl_b/du_l. A set of such changes is a ``RankOne``: coefficient
vectors (B, N_l) and input vectors (B, D_l + 1) per layer, never the (B, N_l, D_l + 1) tensor. Inner products
of two rank-one changes are products of inner products, <c x^T, d z^T>_F = (c . d)(x . z), so every
per-sample measure against the batch mean (distance, cosine) comes from B x B Gram matrices.

Then the statistics that relate a per-sample quantity to misclassified or atypical samples, and ask whether it
carries information beyond the per-sample loss: ranks, ROC AUC, Spearman and partial Spearman correlation,
and the held-out AUC gain of a logistic model of misclassification when the quantity joins the loss.
Arrays are rows = samples throughout. No loop runs over samples.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .losses import get_loss
from .network import MLP, ForwardPass, with_bias
from .rules.exact_tp import ExactTP
from .rules.targets import output_gradient


# ---------------------------------------------------------------------------------------------------------
# Per-sample targets and changes

@dataclass
class Targets:
    """One forward pass and exact TP's per-sample targets for every layer l = 1..L (list index l - 1):
    x_targets[l] = x'_l with its bias entry, (B, D_l + 1) (x'_1 = x_1, the input itself); u_targets[l] = u'_l,
    (B, N_l); forward: the recorded x_l, u_l."""
    forward: ForwardPass
    x_targets: list
    u_targets: list


def targets(rule: ExactTP, net: MLP, x: np.ndarray, y: np.ndarray) -> Targets:
    """Exact TP's per-sample input and pre-activation targets, x (B, d_in), y (B, n_out): the steps of
    ExactTP's batch update, kept per sample. weight_rule="joint" has no per-sample theta' (ValueError)."""
    if rule.weight_rule != "mean":
        raise ValueError(f"weight_rule={rule.weight_rule!r} computes one joint change per batch, not a theta' "
                         f"per sample; per-sample targets need weight_rule='mean'")
    x, y = net.check_input(x), np.asarray(y, dtype=float)
    fp = net.forward(x)
    u_target = rule.output_targets(fp.output, y, net.output_activation)          # u'_L
    x_targets, u_targets = [None] * net.depth, [None] * net.depth
    for l in range(net.depth - 1, -1, -1):
        u_targets[l] = u_target
        if l == 0:
            x_targets[0] = fp.xs[0]                                                 # x'_1 = x
            break
        f = net.activations[l - 1]
        x_proj, ix = rule.input_target(net, net.weights[l], fp.xs[l], fp.us[l], u_target - fp.us[l], f)
        if rule.hidden_target != "seed":                                            # x' = relu(u'_{l-1})
            u_hidden = rule.hidden_relu_target(f, fp.us[l - 1], ix)
            x_proj = np.maximum(u_hidden, 0.0)
        x_targets[l] = with_bias(x_proj)                                            # x'_l
        u_target = f.target(fp.us[l - 1], x_proj, rule.margin) if rule.hidden_target == "seed" else u_hidden
    return Targets(fp, x_targets, u_targets)


@dataclass
class RankOne:
    """Per-sample rank-one changes of every layer: sample b's change of W_l is outer(coef[l][b], inputs[l][b]);
    coef[l] (B, N_l), inputs[l] (B, D_l + 1)."""
    coef: list
    inputs: list

    def layers(self, layers=None) -> "RankOne":
        """The same changes restricted to the layers with these indices (0 = the first layer)."""
        keep = range(len(self.coef)) if layers is None else layers
        return RankOne([self.coef[l] for l in keep], [self.inputs[l] for l in keep])

    def sample(self, b: int) -> list:
        """Sample b's change of every layer as full matrices (for tests and figures)."""
        return [np.outer(c[b], v[b]) for c, v in zip(self.coef, self.inputs)]

    def mean(self) -> list:
        """The batch mean of the changes, one (N_l, D_l + 1) matrix per layer: C^T V / B."""
        return [c.T @ v / len(c) for c, v in zip(self.coef, self.inputs)]

    def norms(self) -> np.ndarray:
        """|change_b|_F over the layers, (B,): sqrt(sum_l |c_l|^2 |v_l|^2)."""
        return np.sqrt(paired(self, self))

    def scaled(self, factor: float) -> "RankOne":
        """The changes times ``factor`` (e.g. -1: backprop's descent direction -dl_b/dtheta)."""
        return RankOne([factor * c for c in self.coef], list(self.inputs))


def exact_tp_changes(rule: ExactTP, net: MLP, x: np.ndarray, y: np.ndarray, found: Targets | None = None) -> RankOne:
    """theta'_b - theta for every sample: c_l = (u'_l - W_l x'_l) / |x'_l|^2 with x'_l (``targets``)."""
    t = targets(rule, net, x, y) if found is None else found
    coef = []
    for w, xt, ut in zip(net.weights, t.x_targets, t.u_targets):
        residual = ut - xt @ w.T                                                    # r = u' - W x'
        coef.append(residual / np.einsum("bi,bi->b", xt, xt)[:, None])              # r / |x'|^2
    return RankOne(coef, list(t.x_targets))


def output_errors(net: MLP, fp: ForwardPass, y: np.ndarray, loss="mse") -> np.ndarray:
    """dl_b/du_L of each sample's own loss l_b (not divided by the batch size), (B, n_L)."""
    return output_gradient(get_loss(loss), fp.output, y, net.output_activation) * len(y)


def bp_gradients(net: MLP, x: np.ndarray, y: np.ndarray, loss="mse") -> RankOne:
    """Per-sample gradients dl_b/dW_l = delta_l x_l^T with delta_l = dl_b/du_l (backprop, one row a sample)."""
    fp = net.forward(x)
    delta = output_errors(net, fp, np.asarray(y, dtype=float), loss)
    coef = [None] * net.depth
    for l in range(net.depth - 1, -1, -1):
        coef[l] = delta
        if l > 0:   # delta_{l-1} = (delta_l W_l) * f'(u_{l-1})
            delta = (delta @ net.weights[l][:, :-1]) * net.activations[l - 1].derivative_from(
                fp.us[l - 1], fp.xs[l][:, :-1])
    return RankOne(coef, list(fp.xs))


def per_sample_loss(net: MLP, x: np.ndarray, y: np.ndarray, loss="mse") -> np.ndarray:
    """Each sample's loss l_b on the prediction o = net(x) (MSE: 1/2 |o - y|^2; cross-entropy:
    -log softmax(o)[class]), (B,)."""
    o, y = net(x), np.asarray(y, dtype=float)
    if get_loss(loss).name == "mse":
        return 0.5 * np.einsum("bi,bi->b", o - y, o - y)
    z = o - o.max(axis=1, keepdims=True)
    return -np.einsum("bi,bi->b", y, z - np.log(np.exp(z).sum(axis=1, keepdims=True)))


def target_steps(t: Targets) -> list:
    """|x'_l - x_l| / |x_l| of every layer l >= 2's input (the hidden activities, bias excluded), (B,) each."""
    steps = []
    for xt, xl in zip(t.x_targets[1:], t.forward.xs[1:]):
        norm = np.linalg.norm(xl[:, :-1], axis=1)
        steps.append(np.linalg.norm(xt[:, :-1] - xl[:, :-1], axis=1) / np.where(norm > 0, norm, 1.0))
    return steps


# ---------------------------------------------------------------------------------------------------------
# Per-sample measures against the batch consensus (Gram matrices, no (B, N, D) tensor)

def paired(a: RankOne, b: RankOne) -> np.ndarray:
    """<a_b, b_b>_F for every sample b, summed over the layers: sum_l (c^a_l . c^b_l)(v^a_l . v^b_l), (B,)."""
    return sum(np.einsum("bn,bn->b", ca, cb) * np.einsum("bi,bi->b", va, vb)
               for ca, va, cb, vb in zip(a.coef, a.inputs, b.coef, b.inputs))


def paired_cosine(a: RankOne, b: RankOne) -> np.ndarray:
    """cos(a_b, b_b) for every sample (0 where either change is zero), (B,)."""
    den = a.norms() * b.norms()
    return np.divide(paired(a, b), den, out=np.zeros_like(den), where=den > 0)


def batch_grams(r: RankOne, batch: int) -> np.ndarray:
    """Gram matrices K[g, i, j] = <r_i, r_j>_F within consecutive batches of ``batch`` samples, (G, batch,
    batch) with G = B // batch (trailing samples dropped): sum_l (C_l C_l^T) * (V_l V_l^T) per batch."""
    n = (len(r.coef[0]) // batch) * batch
    if n == 0:
        raise ValueError(f"batch {batch} is larger than the {len(r.coef[0])} samples")
    gram = 0.0
    for c, v in zip(r.coef, r.inputs):
        cg = c[:n].reshape(n // batch, batch, -1)
        vg = v[:n].reshape(n // batch, batch, -1)
        gram = gram + np.einsum("gin,gjn->gij", cg, cg) * np.einsum("gid,gjd->gij", vg, vg)
    return gram


def consensus(r: RankOne, batch: int) -> dict:
    """Each sample's change r_b = theta'_b - theta against its batch's mean m = mean_j r_j (consecutive
    batches of ``batch``; trailing samples dropped), (G * batch,) arrays:
    distance |r_b - m| (= |theta'_b - mean_j theta'_j|), cosine cos(r_b, m), norm |r_b|, and the mean's norm
    |m| repeated over the batch."""
    k = batch_grams(r, batch)
    sq = np.einsum("gii->gi", k)                                         # |r_b|^2
    with_mean = k.mean(axis=2)                                           # <r_b, m>
    mean_sq = k.mean(axis=(1, 2))[:, None]                               # |m|^2
    distance = np.sqrt(np.maximum(sq - 2 * with_mean + mean_sq, 0.0))
    den = np.sqrt(sq * mean_sq)
    cosine = np.divide(with_mean, den, out=np.zeros_like(den), where=den > 0)
    mean_norm = np.broadcast_to(np.sqrt(mean_sq), sq.shape)
    return {"distance": distance.ravel(), "cosine": cosine.ravel(), "norm": np.sqrt(sq).ravel(),
            "mean_norm": mean_norm.ravel().copy()}


# ---------------------------------------------------------------------------------------------------------
# Statistics

def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of a 1-D array, ties given their average rank (as scipy.stats.rankdata), (n,) float."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or np.isnan(values).any():
        raise ValueError("ranks: a 1-D array without NaN is needed")
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(values)]
    out = np.empty(len(values))
    out[order] = ((starts + ends - 1) / 2 + 1)[np.cumsum(new) - 1]
    return out


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC of ``score`` for the boolean ``positive``: the probability that a random positive scores
    above a random negative (ties count 1/2; Mann-Whitney U / (n1 n0)); NaN without both classes."""
    positive = np.asarray(positive, dtype=bool)
    n1, n0 = int(positive.sum()), int((~positive).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = ranks(score)
    return float((r[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / den) if den > 0 else float("nan")


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two 1-D arrays (Pearson's of their ranks); NaN if either is constant."""
    return _pearson(ranks(a), ranks(b))


def partial_spearman(a: np.ndarray, b: np.ndarray, control: np.ndarray) -> float:
    """Rank correlation of a and b with ``control``'s linear share of the ranks removed:
    (r_ab - r_ac r_bc) / sqrt((1 - r_ac^2)(1 - r_bc^2)); NaN when a or b is a monotone function of control."""
    r_ab, r_ac, r_bc = spearman(a, b), spearman(a, control), spearman(b, control)
    den = (1 - r_ac ** 2) * (1 - r_bc ** 2)
    return float((r_ab - r_ac * r_bc) / np.sqrt(den)) if den > 1e-12 else float("nan")


def uniform_scores(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Within-group ranks scaled into (0, 1): rank / (n_g + 1), (n,) (one scale for every group)."""
    values, groups = np.asarray(values, dtype=float), np.asarray(groups)
    out = np.empty(len(values))
    for g in np.unique(groups):                    # a loop over the few groups, not the samples
        at = groups == g
        out[at] = ranks(values[at]) / (at.sum() + 1)
    return out


def fit_logistic(features: np.ndarray, positive: np.ndarray, ridge: float = 1e-3, steps: int = 50) -> np.ndarray:
    """Coefficients (intercept first) of a logistic model of ``positive`` on ``features`` (n, k), by Newton's
    method on the log-likelihood with a ridge penalty ridge/2 |beta|^2 on the slopes (keeps separable data
    finite), (k + 1,)."""
    design = np.column_stack([np.ones(len(features)), features])
    target = np.asarray(positive, dtype=float)
    beta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], ridge)
    penalty[0] = 0.0
    for _ in range(steps):
        p = 0.5 * (1.0 + np.tanh(0.5 * (design @ beta)))          # the logistic function, without overflow
        grad = design.T @ (p - target) + penalty * beta
        hess = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty) + 1e-12 * np.eye(len(beta))
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta


def held_out_auc(features: np.ndarray, positive: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Leave-one-group-out AUC of a logistic model of ``positive`` on ``features`` (n, k): for each group, the
    model fitted on the other groups scores the group's samples, (G,) in the order of np.unique(groups)."""
    features = np.asarray(features, dtype=float).reshape(len(positive), -1)
    positive, groups = np.asarray(positive, dtype=bool), np.asarray(groups)
    out = []
    for g in np.unique(groups):
        held = groups == g
        beta = fit_logistic(features[~held], positive[~held])
        out.append(auc(features[held] @ beta[1:], positive[held]))
    return np.array(out)


def added_auc(base: np.ndarray, extra: np.ndarray, positive: np.ndarray, groups: np.ndarray) -> tuple:
    """Whether ``extra`` tells more about ``positive`` than ``base`` does: held-out AUCs (G,) of the logistic
    model on base alone and on base and extra, each feature as within-group uniform scores."""
    b = uniform_scores(base, groups)
    both = np.column_stack([b, uniform_scores(extra, groups)])
    return held_out_auc(b, positive, groups), held_out_auc(both, positive, groups)


def atypicality(x: np.ndarray, labels: np.ndarray, class_means: np.ndarray) -> np.ndarray:
    """|x_b - mean image of x_b's class|, (B,): how far an image lies from its class's average
    (class_means (K, d), e.g. from the training set)."""
    return np.linalg.norm(x - class_means[labels], axis=1)


def class_means(x: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean input of every class, (K, d): one-hot^T x / counts."""
    onehot = np.eye(n_classes)[labels]
    counts = onehot.sum(axis=0)
    return (onehot.T @ x) / np.where(counts > 0, counts, 1.0)[:, None]


# ---------------------------------------------------------------------------------------------------------
# The chapter's per-sample quantities and their statistics

# {name: what it is}; every one is "larger = more unusual" (disagreement = 1 - cosine with the batch's mean)
QUANTITIES = {
    "loss": "per-sample loss l_b (backprop, free)",
    "bp_norm": "|dl_b/dtheta| (backprop)",
    "bp_disagreement": "1 - cos(dl_b/dtheta, batch gradient) (backprop)",
    "tp_distance": "|theta'_b - mean theta'| (exact TP)",
    "tp_disagreement": "1 - cos(theta'_b - theta, mean theta' - theta) (exact TP)",
    "tp_step": "|x' - x| / |x| of the last hidden layer (exact TP)",
}


def sample_measures(rule: ExactTP, net: MLP, x: np.ndarray, y: np.ndarray, batch: int = 32, loss="mse") -> dict:
    """Per-sample quantities of exact TP (``rule``) and backprop on one network, each sample measured against
    its own batch (consecutive batches of ``batch``; trailing samples dropped), (n,) arrays: the QUANTITIES,
    plus wrong (misclassified: argmax of the output is not the label's), tp_cosine and bp_cosine (the
    cosines of the disagreements) and layer1_alignment, cos(W'_1 - W_1, -dl_b/dW_1) = cos(c, -delta_1)."""
    n = (len(x) // batch) * batch
    x, y = net.check_input(x)[:n], np.asarray(y, dtype=float)[:n]
    t = targets(rule, net, x, y)
    tp, bp = exact_tp_changes(rule, net, x, y, t), bp_gradients(net, x, y, loss)
    tp_c, bp_c = consensus(tp, batch), consensus(bp, batch)
    return {"loss": per_sample_loss(net, x, y, loss), "bp_norm": bp_c["norm"],
            "bp_disagreement": 1 - bp_c["cosine"], "tp_distance": tp_c["distance"],
            "tp_disagreement": 1 - tp_c["cosine"], "tp_step": target_steps(t)[-1],
            "tp_cosine": tp_c["cosine"], "bp_cosine": bp_c["cosine"],
            "layer1_alignment": paired_cosine(tp.layers([0]), bp.layers([0]).scaled(-1.0)),
            "wrong": net(x).argmax(axis=1) != y.argmax(axis=1)}


def group_statistics(value: np.ndarray, measures: dict, atypical: np.ndarray, groups: np.ndarray) -> dict:
    """How one per-sample quantity relates to misclassified and atypical samples, per group of samples,
    (G,) arrays: auc (ROC AUC for measures["wrong"]), auc_gain (held-out AUC of a logistic model on the loss
    and the quantity minus that on the loss alone), rho_loss (Spearman with the loss), rho_atypical
    (Spearman with ``atypical``) and partial_atypical (the same with the loss's share removed)."""
    wrong, loss = measures["wrong"], measures["loss"]
    alone, both = added_auc(loss, value, wrong, groups)
    out = {k: [] for k in ("auc", "rho_loss", "rho_atypical", "partial_atypical")}
    for g in np.unique(groups):                     # a loop over the few groups
        at = groups == g
        out["auc"].append(auc(value[at], wrong[at]))
        out["rho_loss"].append(spearman(value[at], loss[at]))
        out["rho_atypical"].append(spearman(value[at], atypical[at]))
        out["partial_atypical"].append(partial_spearman(value[at], atypical[at], loss[at]))
    return {"auc_gain": both - alone, **{k: np.array(v) for k, v in out.items()}}
