"""Machinery shared by the published target-propagation rules (DFA, GNT, the DTP family, GTP).

Notation (the book's, 0-based in code): layer l = 0..L-1 has input x_l (with bias column),
pre-activation u_l = x_l W_l^T and, for l < L-1, hidden activation h_l = f(u_l). The output u_{L-1}
is linear. "Hidden layer i" below means h_i, i = 0..L-2; its target is h'_i. Batches are rows.

Per-sample output targets follow seed 002, eq. (2): u'_L = u_L - beta dl/du_L, where l is the loss of
one sample (the package's losses are batch means, so dl/du_L = B * loss.gradient(u, y)). With MSE this
is u_L + beta (y - u_L); with softmax cross-entropy it is u_L + beta (y - softmax(u_L)) (seed 002, B.1).

Forward weights of every TP rule follow the gradient of the local batch-mean losses
    L_i = mean_b 1/2 |h'_i - h_i|^2  (hidden layers, post-activation),
    L_out = mean_b 1/2 |u'_L - u_L|^2 (output layer),
with the targets held fixed: dL_i/dW_i = -((h'_i - h_i) * f'(u_i))^T x_i / B.
"""
from __future__ import annotations

import numpy as np

from .. import checks
from ..losses import get_loss
from ..network import MLP, ForwardPass
from .backprop import backward


# ----------------------------------------------------------------------------------------- validation

# The checks live in tpnb.checks (one module for the whole package); these wrappers keep the rules' names
# and return the value as the rules store it.

def check_positive(name: str, value, *, allow_zero: bool = False) -> float:
    """value as float; ValueError naming ``name`` unless it is a finite number > 0 (or >= 0)."""
    return float(checks.positive_number(name, value, allow_zero=allow_zero))


def check_count(name: str, value, *, minimum: int = 0) -> int:
    """value as int; ValueError naming ``name`` unless it is a whole number >= minimum."""
    return int(checks.whole_number(name, value, minimum))


def check_seed(value) -> int:
    """value as int; ValueError unless it is a whole number >= 0."""
    return int(checks.seed(value))


# ------------------------------------------------------------------------------------ targets, losses

def output_target(loss, u: np.ndarray, y: np.ndarray, beta: float) -> np.ndarray:
    """u'_L = u_L - beta dl/du_L per sample, (B, n_L)."""
    return u - beta * len(u) * loss.gradient(u, y)


def output_error(loss, u: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample output error e = dl/du_L, (B, n_L) (MSE: u - y; cross-entropy: softmax(u) - y)."""
    return len(u) * loss.gradient(u, y)


def hidden_activations(fp: ForwardPass) -> list:
    """h_i = f(u_i) for i = 0..L-2, each (B, n_i): views of the layer inputs the forward pass recorded."""
    return [x[:, :-1] for x in fp.xs[1:]]


def target_steps(targets: list, fp: ForwardPass) -> dict:
    """Diagnostics: {target_step_<i>: mean_b |h'_i - h_i|} for hidden layers numbered 1..L-1."""
    return {f"target_step_{i + 1}": float(np.mean(np.linalg.norm(t - h, axis=1)))
            for i, (t, h) in enumerate(zip(targets, hidden_activations(fp)))}


def local_gradients(net: MLP, fp: ForwardPass, hidden_targets: list, u_target: np.ndarray) -> list:
    """Gradients of the local losses w.r.t. every W_l, each (n_l, d_l + 1).

    hidden_targets[i] is h'_i, (B, n_i), for i = 0..L-2; u_target is u'_L.
    """
    batch = fp.output.shape[0]
    grads = []
    for i, h in enumerate(hidden_activations(fp)):
        delta = -(hidden_targets[i] - h) * net.activation.derivative(fp.us[i])
        grads.append(delta.T @ fp.xs[i] / batch)
    grads.append(-(u_target - fp.output).T @ fp.xs[-1] / batch)
    return grads


def bp_gradients(net: MLP, fp: ForwardPass, e: np.ndarray) -> list:
    """Backprop gradients of mean_b l_b given per-sample output errors e = dl/du_L, (B, n_L)."""
    return backward(net, fp, e / e.shape[0])


def angle_degrees(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two arrays seen as vectors, in degrees (90 when either is zero)."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0 or not np.isfinite(na * nb):
        return 90.0
    return float(np.degrees(np.arccos(np.clip(np.sum(a * b) / (na * nb), -1.0, 1.0))))


def angle_diagnostics(grads: list, reference: list, prefix: str = "angle_bp") -> dict:
    """{prefix_<l>: angle between grads[l] and reference[l]} with layers numbered 1..L."""
    return {f"{prefix}_{l + 1}": angle_degrees(g, r) for l, (g, r) in enumerate(zip(grads, reference))}


# -------------------------------------------------------------------------------------------- Jacobians

def output_jacobians(net: MLP, fp: ForwardPass) -> list:
    """Per-sample Jacobians J_i = du_L/dh_i of the output w.r.t. every hidden activation.

    Returns a list over hidden layers i = 0..L-2 of arrays (B, n_L, n_i). Cost: about n_L backward
    passes, O(B n_L sum_l n_l n_{l+1}) time and O(B n_L n_i) memory per layer.
    """
    batch = fp.output.shape[0]
    jac = [None] * (net.depth - 1)
    if net.depth < 2:
        return jac
    j = np.broadcast_to(net.weights[-1][:, :-1], (batch,) + net.weights[-1][:, :-1].shape)
    jac[-1] = np.array(j)
    for i in range(net.depth - 3, -1, -1):
        # J_i = J_{i+1} diag(f'(u_{i+1})) W_{i+1}   (without the bias column)
        scaled = jac[i + 1] * net.activation.derivative(fp.us[i + 1])[:, None, :]
        jac[i] = scaled @ net.weights[i + 1][:, :-1]
    return jac


def damped_pinv_apply(jac: np.ndarray, v: np.ndarray, damping: float) -> np.ndarray:
    """Per sample J^+ v (damping 0, Moore-Penrose) or J^T (J J^T + damping I)^{-1} v.

    jac (B, m, n), v (B, m) -> (B, n). J^T (J J^T + lam I)^{-1} = (J^T J + lam I)^{-1} J^T, the Tikhonov
    damped pseudo-inverse of seed 002, eq. (5).
    Damping 0 goes through the smaller Gram matrix, J^+ = J^T (J J^T)^+ (m <= n) or (J^T J)^+ J^T, with a
    batched symmetric eigensolver (several times faster than an SVD of every J); directions whose singular
    value is below sqrt(1e-15) ~ 3e-8 of the largest count as zero (numpy's hermitian pinv cut-off).
    """
    m, n = jac.shape[1:]
    jac_t = np.swapaxes(jac, 1, 2)
    if damping == 0 and m > n:                                       # (J^T J)^+ (J^T v)
        jtv = np.einsum("bmn,bm->bn", jac, v)
        return np.einsum("bij,bj->bi", np.linalg.pinv(jac_t @ jac, hermitian=True), jtv)
    if damping == 0:                                                 # J^T ((J J^T)^+ v)
        coef = np.einsum("bij,bj->bi", np.linalg.pinv(jac @ jac_t, hermitian=True), v)
    else:                                                            # J^T ((J J^T + lam I)^{-1} v)
        coef = np.linalg.solve(jac @ jac_t + damping * np.eye(m), v[:, :, None])[:, :, 0]
    return np.einsum("bmn,bm->bn", jac, coef)


def outputs_from_layers(net: MLP, entries: list) -> list:
    """Output u_L for every entry: entries[i] (B_i, n_{i+1}) is an input of layer i + 1 (no bias column),
    sent through layers i + 1..L. Entries meeting at a layer share its matrix product: at layer l the rows
    of every entry that entered below are stacked, so the L - 1 partial forwards cost L - 1 products."""
    stack, rows = None, []
    for l in range(1, net.depth):
        entry = entries[l - 1]
        stack = entry if stack is None else np.concatenate([stack, entry])
        rows.append(len(entry))
        w = net.weights[l]
        stack = stack @ w[:, :-1].T + w[:, -1]
        if l < net.depth - 1:
            stack = net.activation(stack)
    return np.split(stack, np.cumsum(rows)[:-1])


__all__ = ["angle_degrees", "angle_diagnostics", "bp_gradients", "check_count", "check_positive",
           "check_seed", "damped_pinv_apply", "get_loss", "hidden_activations", "local_gradients",
           "output_error", "output_jacobians", "output_target", "outputs_from_layers", "target_steps"]
