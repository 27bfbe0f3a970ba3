"""Difference target propagation and the DRL / direct-feedback variants of seed 002.

All variants share the forward part (seed 002, section 2 and appendix B.1):
- output target u'_L = u_L - beta dL/du_L with L the batch-mean loss, as the authors' code takes it: each
  sample's target moves by beta / B times its error e = dl/du_L (MSE: u + beta/B (y - u); cross-entropy:
  u + beta/B (y - softmax u)), so that small beta keeps the targets in the Gauss-Newton regime;
- hidden targets with the difference correction
    layer-wise feedback (DTP, DTPDRL): h'_i = h_i + g_i(h'_{i+1}) - g_i(h_{i+1}),  h'_{L} := u'_L;
    direct feedback (DDTP-*):          h'_i = h_i + g_i(u'_L) - g_i(u_L);
- forward weights by the gradient of mean_b 1/2 |h'_i - h_i|^2 (output layer: |u'_L - u_L|^2), targets
  held fixed, fed to the forward optimiser (every layer is trained by its target, including the last
  hidden one, as in seed 002 and unlike Lee et al. 2015);
- within a step, the targets are computed with the feedback weights from before that batch's feedback
  update (the authors' order), then the feedback and the forward weights are updated.

Feedback parameterisations (seed 002, B.1; the seed text lost its formulas, this is our reading of the
method names and of the paper's figures, with a bias column in every Q as in Lee et al.):
- DTP, DTPDRL:   g_i(h_{i+1}) = phi(Q_i [h_{i+1}; 1]), phi = ``feedback_activation`` (default tanh, the
                 seeds' choice; Q_i is (n_i, n_{i+1} + 1)).
- DDTP-linear,
  DDTP-control:  g_i(u_L) = Q_i [u_L; 1], direct linear connections from the output (Q_i (n_i, n_L + 1);
                 under the difference correction the bias cancels and DRL never changes it).
- DDTP-RHL:      g_i(u_L) = Q_i [tanh(R u_L + b); 1] with a fixed random hidden feedback layer
                 R (rhl_width, n_L) ~ N(0, 1/n_L), b ~ N(0, 0.1^2) shared by all i, trained Q_i.
- "inverse" (not a trained method; for checking Lemma 1 / Theorem 2): the exact inverse of the forward
                 layer, g_i(h_{i+1}) = W_{i+1}^{-1} (f^{-1}(h_{i+1}) - b_{i+1}); needs square weight
                 matrices and an invertible activation (leaky_relu, x_plus_relu, identity).

Feedback losses (noise eps ~ N(0, I), one sample per step, batch means):
- "layerwise" (DTP, Lee et al. 2015): 1/2 |g_i(f_{i+1}(h_i + sigma eps)) - (h_i + sigma eps)|^2.
- "drl" (difference reconstruction loss, DTPDRL and DDTP-*): the corrupted h_i + sigma eps is sent
  forward to the output, u~ = f_{i->L}(h_i + sigma eps), and back through the same difference-corrected
  feedback path that propagates the targets, giving r_i(u~); loss 1/(2 sigma^2) |r_i(u~) - (h_i + sigma eps)|^2.
  Its residual is O(sigma) (the difference correction removes the reconstruction offset), so the
  1/sigma^2 of seed 002 eq. (10) keeps its gradient O(1).
  Only Q_i is trained by layer i's loss. The paper's second (output-noise) regulariser is replaced by
  weight decay on Q, as the paper does in practice (``feedback_weight_decay``).
- "control" (DDTP-control): the same loop through the output without the difference correction,
  1/2 |g_i(u~) - (h_i + sigma eps)|^2 (its residual is O(1), so no 1/sigma^2, as in the layer-wise loss).

Schedule: each ``step`` first makes ``feedback_iterations`` feedback updates on the batch (the forward
weights fixed), then one forward update with the new feedback. Pre-training: the first ``pretrain_steps``
calls to ``step`` update only the feedback weights; ``pretrain_feedback(net, x, epochs, batch_size)`` does
the same on a whole array in one call. Seed 002's schedule (6 epochs of feedback pre-training, then one
epoch of pure feedback training between training epochs) is ``pretrain_epochs=6, feedback_epochs=1``: the
shared training loop calls ``begin`` before epoch 1 and ``end_epoch`` after each epoch, which run those
feedback-only passes over the training inputs in batches of ``feedback_batch_size``.
"""
from __future__ import annotations

import numpy as np

from .. import checks
from ..activations import get_activation
from ..network import MLP
from ..optimizers import OPTIMIZERS, make_optimizer
from . import options
from .angles import angle_diagnostics
from .direction_rule import DirectionRule, step_diagnostics
from .gnt import gnt_targets
from .local_losses import hidden_activations, local_gradients, outputs_from_layers
from .protocol import Directions, layer_values
from .targets import output_error, output_target

PARAMETERIZATIONS = ("layerwise", "direct_linear", "direct_rhl", "inverse")
RECONSTRUCTIONS = ("layerwise", "drl", "control", "none")


class DifferenceTP(DirectionRule):
    """The DTP family; each variant below fixes ``parameterization`` and ``reconstruction``.

    Options (ValueError naming the option when out of range):
    beta (> 0): output target step.  loss: "mse" or "cross_entropy".
    optimizer + optimizer_options (lr, momentum, ...): the forward optimiser.
    feedback_optimizer ("sgd" or "adam"), feedback_lr (> 0), feedback_options (dict, e.g. momentum):
        the feedback optimiser (its own, as in seed 002).
    sigma (> 0): noise std of the reconstruction losses.  feedback_weight_decay (>= 0).
    feedback_iterations (>= 0): feedback updates per step.  pretrain_steps (>= 0): feedback-only steps.
    pretrain_epochs, feedback_epochs (>= 0): feedback-only passes over the training inputs before training
        and after every epoch (batches of feedback_batch_size >= 1).
    feedback_activation: phi of the layer-wise feedback (default "tanh").
    feedback_init_scale (> 0): Q entries Xavier-normal times scale, N(0, 2 scale^2 / (fan_in + fan_out)), as
        the authors' code initialises every feedback weight; biases 0.  rhl_width (>= 1).
    seed: generator of the feedback initialisation and of the noise.
    angles: record angles (degrees) between each layer's forward update and the BP gradient
        (``angle_bp_<l>``); gnt_angles: and with the GNT update (``angle_gnt_<l>``, costs a GNT step).
    """

    name = "difference_tp"
    parameterization = "layerwise"
    reconstruction = "layerwise"

    def __init_subclass__(cls, *, name: str, parameterization: str, reconstruction: str, **kwargs):
        """A variant of the family: its registered name and what it fixes."""
        super().__init_subclass__(**kwargs)
        cls.name = name
        cls.parameterization = options.choice("parameterization", parameterization, PARAMETERIZATIONS)
        cls.reconstruction = options.choice("reconstruction", reconstruction, RECONSTRUCTIONS)

    def __init__(self, *, beta: float = 0.1, loss: str = "mse", optimizer: str = "sgd",
                 feedback_optimizer: str = "sgd", feedback_lr: float = 0.01, feedback_options: dict | None = None,
                 sigma: float = 0.1, feedback_weight_decay: float = 0.0, feedback_iterations: int = 1,
                 pretrain_steps: int = 0, pretrain_epochs: int = 0, feedback_epochs: int = 0,
                 feedback_batch_size: int = 128, feedback_activation: str = "tanh", feedback_init_scale: float = 1.0,
                 rhl_width: int = 1024, seed: int = 0, angles: bool = True, gnt_angles: bool = False,
                 parameterization: str | None = None, reconstruction: str | None = None,
                 **optimizer_options):
        super().__init__(loss, optimizer, angles, optimizer_options)
        if parameterization is not None:
            self.parameterization = options.choice("parameterization", parameterization, PARAMETERIZATIONS)
        if reconstruction is not None:
            self.reconstruction = options.choice("reconstruction", reconstruction, RECONSTRUCTIONS)
        if self.parameterization == "inverse":
            self.reconstruction = "none"
        elif self.reconstruction == "none":
            raise ValueError("reconstruction 'none' is only for parameterization 'inverse'")
        if self.parameterization == "layerwise" and self.reconstruction == "control":
            raise ValueError("reconstruction 'control' needs direct feedback (parameterization direct_*)")
        if self.parameterization.startswith("direct") and self.reconstruction == "layerwise":
            raise ValueError("reconstruction 'layerwise' needs parameterization 'layerwise'")
        self.beta = options.positive("beta", beta)
        if feedback_options is not None and not isinstance(feedback_options, dict):
            raise checks.ArgumentTypeError(f"feedback_options must be a dict of feedback optimizer options "
                                           f"(or None), got {feedback_options!r}")
        feedback_options = dict(feedback_options or {})
        if "lr" in feedback_options:
            raise ValueError("give the feedback learning rate as feedback_lr, not in feedback_options")
        if isinstance(feedback_optimizer, str) and feedback_optimizer in OPTIMIZERS:
            allowed = [k for k in checks.keyword_names(OPTIMIZERS[feedback_optimizer].__init__) if k != "lr"]
            checks.known_options(f"feedback_options of rule {self.name!r} (feedback optimizer "
                                 f"{feedback_optimizer!r})", feedback_options, allowed)
        feedback_lr = options.positive("feedback_lr", feedback_lr)
        self._feedback_spec = (feedback_optimizer, dict(lr=feedback_lr, **feedback_options))
        self.feedback_optimizer = make_optimizer(feedback_optimizer, lr=feedback_lr, **feedback_options)
        self.sigma = options.positive("sigma", sigma)
        self.feedback_weight_decay = options.positive("feedback_weight_decay", feedback_weight_decay,
                                                      allow_zero=True)
        self.feedback_iterations = options.count("feedback_iterations", feedback_iterations)
        self.pretrain_steps = options.count("pretrain_steps", pretrain_steps)
        self.pretrain_epochs = options.count("pretrain_epochs", pretrain_epochs)
        self.feedback_epochs = options.count("feedback_epochs", feedback_epochs)
        self.feedback_batch_size = options.count("feedback_batch_size", feedback_batch_size, 1)
        self.feedback_activation = get_activation(feedback_activation)
        self.feedback_init_scale = options.positive("feedback_init_scale", feedback_init_scale)
        self.rhl_width = options.count("rhl_width", rhl_width, 1)
        self.seed = options.seed(seed)
        self.gnt_angles = options.flag("gnt_angles", gnt_angles)
        self.rng = np.random.default_rng([self.seed, 1])
        self.Q = None          # feedback weights, one per hidden layer
        self.R = self.b = None  # DDTP-RHL's fixed random feedback layer
        self.steps_done = 0

    def __repr__(self):
        return (f"{type(self).__name__}(beta={self.beta}, loss={self.loss.name!r}, optimizer={self.optimizer!r}, "
                f"feedback_optimizer={self.feedback_optimizer!r}, sigma={self.sigma}, "
                f"feedback_weight_decay={self.feedback_weight_decay}, "
                f"feedback_iterations={self.feedback_iterations}, pretrain_steps={self.pretrain_steps})")

    # ------------------------------------------------------------------------------- feedback weights

    def _feedback_shapes(self, net: MLP) -> list:
        n_out, hidden = net.sizes[-1], net.sizes[1:-1]
        if self.parameterization == "layerwise":
            return [(n, net.sizes[i + 2] + 1) for i, n in enumerate(hidden)]
        if self.parameterization == "direct_linear":
            return [(n, n_out + 1) for n in hidden]
        if self.parameterization == "direct_rhl":
            return [(n, self.rhl_width + 1) for n in hidden]
        return []

    def init_feedback(self, net: MLP) -> list:
        """Draw the feedback weights for ``net`` (Q_i Xavier-normal, N(0, 2 scale^2 / (fan_in + fan_out));
        bias 0)."""
        rng = np.random.default_rng([self.seed, 0])
        self.Q = []
        for shape in self._feedback_shapes(net):
            q = np.zeros(shape)
            fan_out, fan_in = shape[0], shape[1] - 1
            std = self.feedback_init_scale * np.sqrt(2.0 / (fan_in + fan_out))
            q[:, :-1] = rng.normal(0.0, std, (fan_out, fan_in))
            self.Q.append(q)
        if self.parameterization == "direct_rhl":
            n_out = net.sizes[-1]
            self.R = rng.normal(0.0, 1.0 / np.sqrt(n_out), (self.rhl_width, n_out))
            self.b = rng.normal(0.0, 0.1, self.rhl_width)
        optimizer, settings = self._feedback_spec
        self.feedback_optimizer = make_optimizer(optimizer, **settings)  # a fresh state for fresh weights
        return self.Q

    def _check_feedback(self, net: MLP) -> None:
        if self.parameterization == "inverse":
            for w in net.weights[1:]:
                if w.shape[0] != w.shape[1] - 1:
                    raise ValueError(f"parameterization 'inverse' needs square weight matrices, got {w.shape[:1]}"
                                     f" x {w.shape[1] - 1}")
            if not all(f.invertible for f in net.activations):
                raise ValueError(f"parameterization 'inverse' needs invertible activations, "
                                 f"got {[f.name for f in net.activations]}")
            return
        if self.Q is None:
            self.init_feedback(net)
        if [q.shape for q in self.Q] != self._feedback_shapes(net):
            raise ValueError(f"shape mismatch: feedback weights {[q.shape for q in self.Q]}, network needs "
                             f"{self._feedback_shapes(net)}")

    def _features(self, a: np.ndarray) -> np.ndarray:
        """The input of Q: [a; 1] (layer-wise and linear) or [tanh(R a + b); 1] (RHL)."""
        if self.parameterization == "direct_rhl":                       # tanh written beside the 1s
            z = a @ self.R.T
            z += self.b
            out = np.empty((len(z), z.shape[1] + 1), dtype=z.dtype)
            np.tanh(z, out=out[:, :-1])
        else:
            out = np.empty((a.shape[0], a.shape[1] + 1), dtype=a.dtype)
            out[:, :-1] = a
        out[:, -1] = 1.0
        return out

    def g(self, net: MLP, i: int, a: np.ndarray) -> np.ndarray:
        """Feedback mapping g_i applied to a (h_{i+1} or u_L for layer-wise, u_L for direct)."""
        if self.parameterization == "inverse":
            w = net.weights[i + 1]
            z = a if i + 1 == net.depth - 1 else net.activations[i + 1].inverse(a)
            return np.linalg.solve(w[:, :-1], (z - w[:, -1]).T).T
        z = self._features(a) @ self.Q[i].T
        return self.feedback_activation(z) if self.parameterization == "layerwise" else z

    # ------------------------------------------------------------------------------------- targets

    @staticmethod
    def _activations(net: MLP, fp) -> list:
        """acts[i] = h_i for i = 0..L-2 and acts[L-1] = u_L."""
        return hidden_activations(fp) + [fp.output]

    def targets(self, net: MLP, fp, u_target: np.ndarray, clean: np.ndarray | None = None) -> list:
        """Hidden targets h'_i, i = 0..L-2, from the output target through the feedback path. clean: the
        features F(u_L) of the output (direct feedback; computed when not given)."""
        self._check_feedback(net)
        acts = self._activations(net, fp)
        n_hidden = net.depth - 1
        targets = [None] * n_hidden
        if self.parameterization.startswith("direct"):
            # g_i(a) = F(a) Q_i^T is linear in the features F(a) = [a; 1] or [tanh(R a + b); 1], so
            # g_i(u'_L) - g_i(u_L) = (F(u'_L) - F(u_L)) Q_i^T: one product per layer
            d_features = self._features(u_target)
            d_features -= self._features(fp.output) if clean is None else clean
            for i in range(n_hidden):
                targets[i] = d_features @ self.Q[i].T
                targets[i] += acts[i]                  # h'_i = h_i + g_i(u'_L) - g_i(u_L)
            return targets
        upper = u_target
        for i in range(n_hidden - 1, -1, -1):
            targets[i] = acts[i] + self.g(net, i, upper) - self.g(net, i, acts[i + 1])
            upper = targets[i]
        return targets

    # ------------------------------------------------------------------------------------- feedback

    def _noise(self, hidden: list) -> list:
        """sigma eps_i, eps_i ~ N(0, I) of the shape of every h_i: one draw of the generator for all layers
        (the same numbers as one draw per layer, in layer order)."""
        sizes = [h.size for h in hidden]
        eps = self.rng.standard_normal(sum(sizes))
        return [self.sigma * e.reshape(h.shape) for e, h in zip(np.split(eps, np.cumsum(sizes)[:-1]), hidden)]

    def feedback_gradients(self, net: MLP, fp, clean: np.ndarray | None = None):
        """Gradients of every layer's reconstruction loss w.r.t. its Q_i (one noise sample) and the losses.
        clean: the features F(u_L) of the output (direct feedback; computed when not given)."""
        acts = self._activations(net, fp)
        batch = fp.output.shape[0]
        noise = self._noise(acts[:-1])                                   # sigma eps_i
        noisy = [h + e for h, e in zip(acts[:-1], noise)]                # h_i + sigma eps_i
        if self.reconstruction == "layerwise":
            residuals, grads = self._layerwise_reconstruction(net, noisy)
        elif self.parameterization == "layerwise":
            residuals, grads = self._layerwise_drl(net, acts, noisy)
        else:
            residuals, grads = self._direct_reconstruction(net, fp, noise, noisy, clean)
        scale = batch * (self.sigma ** 2 if self.reconstruction == "drl" else 1.0)
        losses = []
        for i, (r, grad) in enumerate(zip(residuals, grads)):
            grad /= scale
            if self.feedback_weight_decay:
                grad += self.feedback_weight_decay * self.Q[i]
            losses.append(0.5 * float(np.sum(r * r)) / scale)
        return grads, losses

    def _layerwise_reconstruction(self, net: MLP, noisy: list):
        """DTP's loss 1/2 |g_i(f_{i+1}(h_i + sigma eps)) - (h_i + sigma eps)|^2: residuals and sum_b gradients."""
        residuals, grads = [], []
        phi = self.feedback_activation
        for i, h in enumerate(noisy):
            w = net.weights[i + 1]
            nxt = h @ w[:, :-1].T + w[:, -1]                             # f_{i+1}(h_i + sigma eps)
            if i + 1 < net.depth - 1:
                nxt = net.activations[i + 1](nxt)
            features = self._features(nxt)
            z = features @ self.Q[i].T
            g = phi(z)                                                   # g_i(f_{i+1}(...)) = phi(z)
            r = g - h
            residuals.append(r)
            grads.append((r * phi.derivative_from(z, g)).T @ features)   # (r phi'(z))^T [nxt; 1]
        return residuals, grads

    def _layerwise_drl(self, net: MLP, acts: list, noisy: list):
        """DTPDRL's difference reconstruction loss: residuals r_i = h_i + g_i(a~_{i+1}) - g_i(h_{i+1}) -
        (h_i + sigma eps) and the sum_b gradients, where a~_{i+1} arrives at layer i+1 when u~_i =
        f_{i->L}(h_i + sigma eps) is sent down the difference-corrected path
            a~_j = h_j + g_j(a~_{j+1}) - g_j(h_{j+1}),  a~_{L-1} = u~_i.
        Every path passing layer j shares its product: at layer j the rows of the paths of layers i <= j
        are stacked (the last block, i = j, is the one layer j's loss needs); the clean g_j(h_{j+1}) is
        computed once for all of them."""
        phi, batch, n_hidden = self.feedback_activation, acts[0].shape[0], net.depth - 1
        residuals, grads = [None] * n_hidden, [None] * n_hidden
        stack = outputs_from_layers(net, noisy)      # u~_0, ..., u~_{L-2}, row blocks
        for j in range(n_hidden - 1, -1, -1):
            clean_features = self._features(acts[j + 1])
            clean_z = clean_features @ self.Q[j].T
            clean_g = phi(clean_z)                                       # g_j(h_{j+1})
            features = self._features(stack)                             # [a~_{j+1}; 1] of paths 0..j
            z = features @ self.Q[j].T
            g = phi(z)                                                   # g_j(a~_{j+1})
            r = acts[j] + g[-batch:] - clean_g - noisy[j]                # r_j (the path of layer j)
            residuals[j] = r
            grads[j] = ((r * phi.derivative_from(z[-batch:], g[-batch:])).T @ features[-batch:]
                        - (r * phi.derivative_from(clean_z, clean_g)).T @ clean_features)
            if j > 0:                                                    # paths i < j step down to layer j
                down = g[:-batch].reshape(j, batch, -1) + acts[j]
                down -= clean_g                                          # a~_j = h_j + g_j(a~_{j+1}) - g_j(h_{j+1})
                stack = down.reshape(j * batch, -1)
        return residuals, grads

    def _direct_reconstruction(self, net: MLP, fp, noise: list, noisy: list, clean: np.ndarray | None):
        """DDTP's losses, with g_i(a) = F(a) Q_i^T linear in the features F(a) = [a; 1] or [tanh(R a + b); 1]
        (the features of every noisy output computed once, in one stack):
        - drl: r_i = h_i + g_i(u~_i) - g_i(u_L) - (h_i + sigma eps) = (F(u~_i) - F(u_L)) Q_i^T - sigma eps,
          gradient r_i^T (F(u~_i) - F(u_L));
        - control: r_i = g_i(u~_i) - (h_i + sigma eps), gradient r_i^T F(u~_i)."""
        batch = fp.output.shape[0]
        noisy_features = self._features(outputs_from_layers(net, noisy))   # F(u~_i), all i
        if self.reconstruction == "drl":                                  # F(u~_i) - F(u_L), in place
            blocks = noisy_features.reshape(len(noisy), batch, -1)
            blocks -= self._features(fp.output) if clean is None else clean
        residuals, grads = [], []
        for i, (e, h) in enumerate(zip(noise, noisy)):
            features = noisy_features[i * batch:(i + 1) * batch]
            r = features @ self.Q[i].T
            r -= e if self.reconstruction == "drl" else h
            residuals.append(r)
            grads.append(r.T @ features)
        return residuals, grads

    def train_feedback(self, net: MLP, fp, iterations: int, clean: np.ndarray | None = None) -> list:
        """``iterations`` feedback updates at the forward pass ``fp``; returns the last losses. clean: the
        features F(u_L) of fp's output (direct feedback; computed here when not given)."""
        losses = []
        if self.parameterization == "inverse":
            return losses
        self._check_feedback(net)
        if clean is None and iterations and self.parameterization.startswith("direct"):
            clean = self._features(fp.output)
        for _ in range(iterations):
            grads, losses = self.feedback_gradients(net, fp, clean)
            self.feedback_optimizer.update(self.Q, grads)
        return losses

    def pretrain_feedback(self, net: MLP, x: np.ndarray, *, epochs: int = 1, batch_size: int = 32,
                          seed: int = 0) -> list:
        """Feedback-only training on x (forward weights fixed): ``epochs`` shuffled passes in batches.
        Returns the mean reconstruction loss per layer of the last epoch."""
        options.count("epochs", epochs)
        options.count("batch_size", batch_size, 1)
        options.seed(seed)
        x = checks.finite_array("inputs x", net.check_input(x))
        self._check_feedback(net)
        last = []
        for epoch in range(epochs):
            order = np.random.default_rng([seed, epoch]).permutation(len(x))
            sums = None
            for k in range(0, len(x), batch_size):
                losses = self.train_feedback(net, net.forward(x[order[k:k + batch_size]]), 1)
                sums = losses if sums is None else [s + v for s, v in zip(sums, losses)]
            last = [s / -(-len(x) // batch_size) for s in (sums or [])]
        return last

    def _feedback_passes(self, net: MLP, x_train: np.ndarray, epochs: int, seed: int) -> None:
        if epochs and self.parameterization != "inverse":
            self.pretrain_feedback(net, x_train, epochs=epochs, batch_size=self.feedback_batch_size, seed=seed)

    def begin(self, net: MLP, x_train: np.ndarray) -> None:
        """Training-loop hook: ``pretrain_epochs`` feedback-only passes before the first epoch."""
        self._feedback_passes(net, x_train, self.pretrain_epochs, self.seed)

    def end_epoch(self, net: MLP, x_train: np.ndarray, epoch: int) -> None:
        """Training-loop hook: ``feedback_epochs`` feedback-only passes after each training epoch."""
        self._feedback_passes(net, x_train, self.feedback_epochs, self.seed + 1000 * epoch)

    # ------------------------------------------------------------------------------------- the step

    def directions(self, net: MLP, x: np.ndarray, y: np.ndarray, fp=None, clean=None) -> Directions:
        """Forward-weight local-loss gradients with the current feedback (no update), at the forward pass
        ``fp`` (computed if not given); clean: F(u_L) of fp's output (direct feedback; computed if not given)."""
        fp = net.forward(x) if fp is None else fp
        e = output_error(self.loss, fp.output, y, net.output_activation)
        u_target = self.output_targets(fp, y, e)
        targets = self.targets(net, fp, u_target, clean)
        return Directions(local_gradients(net, fp, targets, u_target), targets, fp, e)

    def output_targets(self, fp, y: np.ndarray, e: np.ndarray) -> np.ndarray:
        """u'_L = u_L - beta dL/du_L of the batch-mean loss: u_L - (beta / B) e per sample, (B, n_L)."""
        return output_target("gradient", self.beta / len(e), fp.output, y, e)

    def step(self, net: MLP, x: np.ndarray, y: np.ndarray) -> dict:
        """(After the ``pretrain_steps``) the targets, then ``feedback_iterations`` feedback updates, then one
        forward update."""
        x, y = checks.training_batch(net, x, y)      # before the feedback weights are drawn
        self._check_feedback(net)
        fp = net.forward(x)
        # the features F(u_L) of the output, shared by the feedback updates and the targets (direct feedback)
        clean = self._features(fp.output) if self.parameterization.startswith("direct") else None
        self.steps_done += 1
        training = self.steps_done > self.pretrain_steps
        d = self.directions(net, x, y, fp, clean) if training else None   # the feedback from before this batch
        diagnostics = layer_values("rec_loss", self.train_feedback(net, fp, self.feedback_iterations, clean))
        if not training:
            return diagnostics
        diagnostics.update(step_diagnostics(net, d, self.angles))
        if self.gnt_angles:
            u_target = self.output_targets(fp, y, d.error)
            gnt = local_gradients(net, fp, gnt_targets(net, fp, u_target), u_target)
            diagnostics.update(angle_diagnostics(d.grads, gnt, prefix="angle_gnt"))
        self.optimizer.update(net.weights, d.grads)
        return diagnostics


class DTP(DifferenceTP, name="dtp", parameterization="layerwise", reconstruction="layerwise"):
    """DTP (Lee et al. 2015): layer-wise feedback g_i = tanh(Q_i [h_{i+1}; 1]), layer-wise reconstruction."""


class DTPDRL(DifferenceTP, name="dtpdrl", parameterization="layerwise", reconstruction="drl"):
    """DTPDRL (seed 002): DTP's layer-wise feedback trained with the difference reconstruction loss."""


class DDTPLinear(DifferenceTP, name="ddtp_linear", parameterization="direct_linear", reconstruction="drl"):
    """DDTP-linear (seed 002): direct linear feedback g_i(u_L) = Q_i [u_L; 1] trained with DRL."""


class DDTPRHL(DifferenceTP, name="ddtp_rhl", parameterization="direct_rhl", reconstruction="drl"):
    """DDTP-RHL (seed 002): g_i(u_L) = Q_i [tanh(R u_L + b); 1], R, b fixed random, trained with DRL."""


class DDTPControl(DifferenceTP, name="ddtp_control", parameterization="direct_linear", reconstruction="control"):
    """DDTP-control (seed 002): DDTP-linear's feedback, reconstruction through the output without the
    difference correction."""


class InverseTP(DifferenceTP, name="inverse_tp", parameterization="inverse", reconstruction="none"):
    """TP with the exact inverses of the forward layers (seed 002, Condition 1): no feedback training.
    Needs square weight matrices and an invertible activation. For checking Lemma 1 and Theorem 2."""
