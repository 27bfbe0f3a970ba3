"""Output Jacobians J_i = du_L/dh_i and their damped pseudo-inverses: the Gauss-Newton machinery of GNT
(seed 002, Condition 2) and of chapter 6."""
from __future__ import annotations

import numpy as np

from ..network import MLP, ForwardPass


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
        scaled = jac[i + 1] * net.activations[i + 1].derivative(fp.us[i + 1])[:, None, :]
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
