"""A small random network and batch shared by the rule tests."""
import numpy as np

from tpnb.network import MLP


def random_problem(sizes, activation="tanh", seed=0, batch=8, loss="mse", base_seed=0):
    """(net, x, y): an MLP with random biases, Gaussian inputs, and targets that are one-hot rows
    (loss="cross_entropy") or Gaussian (loss="mse")."""
    net = MLP(list(sizes), activation, seed=seed)
    rng = np.random.default_rng(base_seed + seed)
    for w in net.weights:
        w[:, -1] = rng.normal(0.0, 0.3, size=w.shape[0])
    x = rng.normal(size=(batch, sizes[0]))
    y = (np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)] if loss == "cross_entropy"
         else rng.normal(size=(batch, sizes[-1])))
    return net, x, y
