"""The convergence classes of a training run, with the criterion stated once (chapter 8).

A run's training loss curve L_0, ..., L_E (train MSE) is classified as
- "diverged": the training loop's own definition (tpnb.train.divergence_epoch, the one function both use):
  the loss or weights became NaN/inf, or the training loss exceeded tpnb.train.DIVERGENCE_FACTOR (1e3)
  times its initial value (cross-entropy for classification, MSE for regression);
- "worsened": not diverged, but L_E > L_0: it stayed finite and below the divergence factor and ended
  worse than it started. Such a run is not a blow-up (it is not stopped, and it may still move either way)
  but it is not any kind of convergence either, so it gets its own class rather than being called
  oscillating, creeping or plateaued;
- "oscillating": over the second half of the epochs the loss rose in at least OSCILLATION_RISES of the
  epoch-to-epoch steps and its range there exceeds OSCILLATION_RANGE of its mean;
- "still decreasing": the loss fell by more than SETTLED of its value over the last TAIL of the epochs;
- "converged": settled (not still decreasing), and L_E within REACHED of the reference loss
  (backprop with Adam on the same network, data and epochs: what the network can reach);
- "plateaued": settled, but above that.
The classes are tried in the order diverged, worsened, oscillating, still decreasing, converged/plateaued.
"""
from __future__ import annotations

import numpy as np

from ..train import divergence_epoch

CLASSES = ("converged", "plateaued", "still decreasing", "oscillating", "diverged", "worsened")
SETTLED = 0.01            # relative decrease over the tail below which a run has settled
TAIL = 0.2                # the tail: the last 20 % of the epochs (at least 2)
REACHED = 1.1             # converged: final loss <= 1.1 x the reference loss
OSCILLATION_RISES = 0.3   # fraction of rising epochs in the second half
OSCILLATION_RANGE = 0.05  # relative range of the loss in the second half


def classify(history, reference_loss: float, metric: str = "train_mse") -> str:
    """One of CLASSES for a History (criterion in the module docstring)."""
    loss = np.asarray(history.metrics[metric], dtype=float)
    if history.diverged or divergence_epoch(history.metrics) is not None or not np.all(np.isfinite(loss)):
        return "diverged"
    if loss[-1] > loss[0]:
        return "worsened"
    epochs = len(loss) - 1
    half = loss[epochs // 2:]
    steps = np.diff(half)
    if (steps.size and np.mean(steps > 0) >= OSCILLATION_RISES
            and (half.max() - half.min()) > OSCILLATION_RANGE * half.mean()):
        return "oscillating"
    tail = max(2, int(round(TAIL * epochs)))
    start = loss[max(0, epochs - tail)]
    if start - loss[-1] > SETTLED * start:
        return "still decreasing"
    return "converged" if loss[-1] <= REACHED * reference_loss else "plateaued"


__all__ = ["CLASSES", "classify"]
