"""The convergence classes of a training run, with the criterion stated once (chapter 8).

A run's training loss curve L_0, ..., L_E (train MSE) is classified as
- "diverged": the loss or weights became NaN/inf, or L_E > L_0 (it ended worse than it started);
- "oscillating": over the second half of the epochs the loss rose in at least OSCILLATION_RISES of the
  epoch-to-epoch steps and its range there exceeds OSCILLATION_RANGE of its mean;
- "still decreasing": the loss fell by more than SETTLED of its value over the last TAIL of the epochs;
- "converged": settled (not still decreasing), and L_E within REACHED of the reference loss
  (backprop with Adam on the same network, data and epochs: what the network can reach);
- "plateaued": settled, but above that.
"""
from __future__ import annotations

import numpy as np

CLASSES = ("converged", "plateaued", "still decreasing", "oscillating", "diverged")
SETTLED = 0.01            # relative decrease over the tail below which a run has settled
TAIL = 0.2                # the tail: the last 20 % of the epochs (at least 2)
REACHED = 1.1             # converged: final loss <= 1.1 x the reference loss
OSCILLATION_RISES = 0.3   # fraction of rising epochs in the second half
OSCILLATION_RANGE = 0.05  # relative range of the loss in the second half


def classify(history, reference_loss: float, metric: str = "train_mse") -> str:
    """One of CLASSES for a History (criterion in the module docstring)."""
    loss = np.asarray(history.metrics[metric], dtype=float)
    if history.diverged or not np.all(np.isfinite(loss)) or loss[-1] > loss[0]:
        return "diverged"
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
