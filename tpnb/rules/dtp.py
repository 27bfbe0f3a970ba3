"""Difference target propagation and the DRL / direct-feedback variants of seed 002.

All variants share the forward part (seed 002, section 2 and appendix B.1):
- output target u'_L = u_L - beta dL/du_L with L the batch-mean loss, as the authors' code takes it: each
  sample's target moves by beta / B times its error e = dl/du_L (MSE: u + beta/B (y - u); cross-entropy:
  u + beta/B (y - softmax u)), so that small beta keeps the targets in the Gauss-Newton regime;
- hidden targets with the difference correction
    layer-wise feedback (DTP, DTPDRL): h'_i = h_i + g_i(h'_{i+1}) - g_i(h_{i+1}),  h'_{L} := u'_L;
    direct feedback (DDTP-*):          h'_i = h_i + g_i(u'_L) - g_i(u_L);
- forward weights by the gradient of mean_b |h'_i - h_i|^2 (output layer: |u'_L - u_L|^2; a sum over the
  units, a mean over the batch, no 1/2), targets held fixed, fed to the forward optimiser (every layer is
  trained by its target, including the last hidden one, as in seed 002 and unlike Lee et al. 2015). This
  is the authors' scale: lib/dtp_layers.py, DTPLayer.compute_forward_gradients (lines 366-391), which
  every layer of every variant uses (the direct networks' backward, lib/direct_feedback_networks.py lines
  392-453, calls it too), forms the teaching signal as twice f'(u_i) times (h_i - h'_i) (twice (u_L -
  u'_L) at the linear output) and divides its products with the layer input by B. The factor 2 is not
  cosmetic: their Adam (its epsilon) and SGD (its lr) see the gradient at that scale;
- within a step, the targets are computed with the feedback weights from before that batch's feedback
  update (the authors' order), then the feedback and the forward weights are updated.

Feedback parameterisations (seed 002, B.1; the seed text lost its formulas, this is our reading of the
method names and of the paper's figures, with a bias column in every Q as in Lee et al.):
- DTP, DTPDRL:   g_i(h_{i+1}) = phi(Q_i [h_{i+1}; 1]), phi = ``feedback_activation`` (default tanh, the
                 seeds' choice; Q_i is (n_i, n_{i+1} + 1)).
- DDTP-linear,
  DDTP-control:  g_i(u_L) = Q_i [u_L; 1], direct linear connections from the output (Q_i (n_i, n_L + 1);
                 under the difference correction the bias cancels and DRL never changes it).
- DDTP-RHL:      g_i(u_L) = phi(Q_i [tanh(R u_L + b); 1]) for the hidden layers below the last, through a
                 fixed random hidden feedback layer shared by all of them, and g_{L-2}(u_L) = phi(Q_{L-2} [u_L; 1])
                 for the last hidden layer, a direct connection from the output; phi = ``feedback_activation``
                 (default tanh); R (rhl_width, n_L) and b (rhl_width,) ~ U(-1/sqrt(n_L), 1/sqrt(n_L)), trained Q_i.
                 As the authors' code builds it (github.com/meulemansalex/theoretical_framework_for_target_propagation,
                 commit b6ee350): lib/direct_feedback_networks.py, DDTPRHLNetwork.set_layers (lines 104-140) gives the
                 last hidden layer a feedback input of n_out units instead of the hidden feedback dimension, and
                 propagate_backward (lines 240-269) and compute_feedback_gradients (lines 276-312) feed that layer the
                 output itself and every other layer the hidden feedback layer's tanh activation (the
                 ``hidden_fb_activation`` of final_configs/fashion_mnist_DDTPRHL.py); lib/direct_feedback_layers.py,
                 DDTPRHLLayer.propagate_backward (lines 135-144) applies the layer's feedback activation after
                 Q_i and its bias, and every hidden layer gets ``fb_activation`` (set_layers, lines 116-126), tanh in
                 that config, the last hidden layer included: its "simple linear mapping" (their comment) is linear
                 up to that outer phi, and exactly linear with feedback_activation="identity". The random layer is
                 a torch nn.Linear(n_out, size_hidden_fb) (DDTPRHLNetwork.__init__, lines 96-98) that nothing
                 re-initialises and no optimiser trains (get_feedback_parameter_list, lines 142-155): PyTorch's
                 default Linear initialisation (torch 1.5, their environment.yml), weight and bias both uniform
                 in +-1/sqrt(fan_in), fan_in = n_out. Q_i Xavier-normal with bias 0 (DDTPRHLLayer.__init__, lines
                 120-133).
- "inverse" (not a trained method; for checking Lemma 1 / Theorem 2): the exact inverse of the forward
                 layer, g_i(h_{i+1}) = W_{i+1}^{-1} (f^{-1}(h_{i+1}) - b_{i+1}); needs square weight
                 matrices and an invertible activation (leaky_relu, x_plus_relu, identity).

Feedback losses (noise eps ~ N(0, I), one sample per step), at the authors' scale: c_i times F.mse_loss,
the mean of the squared residual over all B n_i entries of layer i's batch (no 1/2), so that
dL_i/dQ_i = 2 c_i / (B n_i) sum_b (dr_{i,b}/dQ_i)^T r_{i,b}:
- "layerwise" (DTP, Lee et al. 2015): r_i = g_i(f_{i+1}(h_i + sigma eps)) - (h_i + sigma eps),
  c_i = 1 / max(sigma, 0.02)^2 (lib/dtp_layers.py, DTPLayer.compute_feedback_gradients, lines 406-425: the
  noise is sigma eps, only the loss's 1/sigma^2 is floored at sigma = 0.02).
- "drl" (difference reconstruction loss, DTPDRL and DDTP-*): the corrupted h_i + sigma eps is sent
  forward to the output, u~ = f_{i->L}(h_i + sigma eps), and back through the same difference-corrected
  feedback path that propagates the targets, giving r_i(u~); residual r_i(u~) - (h_i + sigma eps),
  c_i = 1 / sigma^2, no floor (lib/dtpdrl_layers.py, DTPDRLLayer.compute_feedback_gradients, lines 29-61;
  lib/direct_feedback_layers.py, DDTPRHLLayer.compute_feedback_gradients, lines 173-212, and
  DDTPMLPLayer.compute_feedback_gradients, lines 339-370, DDTP-linear's single linear layer). Its residual
  is O(sigma) (the difference correction removes the reconstruction offset), so the 1/sigma^2 of seed 002
  eq. (10) keeps its gradient O(1).
  Only Q_i is trained by layer i's loss. The paper's second (output-noise) regulariser is replaced by
  weight decay on Q, as the paper does in practice (``feedback_weight_decay``).
- "control" (DDTP-control): the same loop through the output without the difference correction,
  r_i = g_i(u~) - (h_i + sigma eps), c_i = 1 (lib/direct_feedback_layers.py, DDTPControlLayer, lines 403-419:
  its residual is O(1), so no 1/sigma^2).
Weight decay: the authors pass feedback_wd as torch.optim.Adam's (or SGD's) weight_decay (lib/utils.py,
choose_feedback_optimizer, lines 185-230, over every Q_i with its bias: get_feedback_parameter_list), which
adds wd Q_i to the loss gradient before the moments are updated: the feedback optimiser here is fed
dL_i/dQ_i + wd Q_i, the same quantity, so wd and the optimiser's epsilon meet the loss gradient at the
authors' scale and their feedback_wd values mean what they meant there. (On a linear network the DRL
minimum with weight decay is then Q_i = J_i^T (J_i J_i^T + (n_i wd / 2) I)^{-1}.) The ``rec_loss_<l>``
diagnostics are the values of these losses.

Schedule: each ``step`` first makes ``feedback_iterations`` feedback updates on the batch (the forward
weights fixed), then one forward update with the new feedback. Pre-training: the first ``pretrain_steps``
calls to ``step`` update only the feedback weights; ``pretrain_feedback(net, x, epochs, batch_size)`` does
the same on a whole array in one call. Seed 002's schedule (6 epochs of feedback pre-training, then one
epoch of pure feedback training between training epochs) is ``pretrain_epochs=6, feedback_epochs=1``: the
shared training loop calls ``begin`` before epoch 1 and ``end_epoch`` after each epoch, which run those
feedback-only passes over the training inputs in batches of ``feedback_batch_size``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import checks
from ..activations import Identity, Tanh, get_activation
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


def tanh_into(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """tanh(z) = 2 / (1 + exp(-2 z)) - 1, written into ``out`` (which may be z; a new array when None).
    Five vectorised passes, about twice as fast as np.tanh where that is scalar libm (AVX2 machines); the
    result is within a few ulp of 1 of np.tanh in absolute terms, which is the accuracy the difference
    targets h + g(u') - g(u) see (|tanh| <= 1). exp overflows to inf for z < -354, giving exactly -1."""
    with np.errstate(over="ignore"):
        out = np.multiply(z, -2.0, out=out)
        np.exp(out, out=out)
    out += 1.0
    np.divide(2.0, out, out=out)
    out -= 1.0
    return out


def activate(f, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """f(z) (into ``out`` when given, which may be z); tanh through ``tanh_into``."""
    if isinstance(f, Tanh):
        return tanh_into(z, out)
    return f(z) if out is None else f.write(z, out)


def with_ones(a: np.ndarray) -> np.ndarray:
    """[a; 1]: a with a column of 1s beside it, (B, n + 1)."""
    out = np.empty((a.shape[0], a.shape[1] + 1), dtype=a.dtype)
    out[:, :-1] = a
    out[:, -1] = 1.0
    return out


class Clean(NamedTuple):
    """The feedback of the clean forward pass, shared by the targets and the step's first feedback update
    (both use the feedback weights the batch found). features[i]: the input of Q_i at the clean values
    ([h_{i+1}; 1] layer-wise, F_i(u_L) direct); z[i] = features[i] Q_i^T and g[i] = phi(z[i]) = g_i(clean)
    (None for DDTP's linear feedback, whose targets and losses need only the features)."""
    features: list
    z: list | None
    g: list | None


class DifferenceTP(DirectionRule):
    """The DTP family; each variant below fixes ``parameterization`` and ``reconstruction``.

    Options (ValueError naming the option when out of range):
    beta (> 0): output target step.  loss: "mse" or "cross_entropy".
    optimizer + optimizer_options (lr, momentum, ...): the forward optimiser.
    feedback_optimizer ("sgd" or "adam"), feedback_lr (> 0), feedback_options (dict, e.g. momentum):
        the feedback optimiser (its own, as in seed 002).
    sigma (> 0): noise std of the reconstruction losses (DTP's loss factor 1 / sigma^2 floored at sigma = 0.02).
    feedback_weight_decay (>= 0): wd Q_i added to the gradient of the reconstruction loss (at the authors'
        scale, see the module docstring) before the feedback optimiser, as torch's weight_decay adds it.
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
        if self.parameterization == "direct_rhl":              # the last hidden layer: direct from u_L
            return [(n, self.rhl_width + 1) for n in hidden[:-1]] + [(hidden[-1], n_out + 1)]
        return []

    def init_feedback(self, net: MLP) -> list:
        """Draw the feedback weights for ``net`` (Q_i Xavier-normal, N(0, 2 scale^2 / (fan_in + fan_out));
        bias 0) and, for DDTP-RHL, the fixed random layer (R, b ~ U(-1/sqrt(n_L), 1/sqrt(n_L)), torch's
        nn.Linear default, as the authors' code leaves it)."""
        rng = np.random.default_rng([self.seed, 0])
        self.Q = []
        for shape in self._feedback_shapes(net):
            q = np.zeros(shape)
            fan_out, fan_in = shape[0], shape[1] - 1
            std = self.feedback_init_scale * np.sqrt(2.0 / (fan_in + fan_out))
            q[:, :-1] = rng.normal(0.0, std, (fan_out, fan_in))
            self.Q.append(q)
        if self.parameterization == "direct_rhl":
            bound = 1.0 / np.sqrt(net.sizes[-1])             # fan_in = n_L
            self.R = rng.uniform(-bound, bound, (self.rhl_width, net.sizes[-1]))
            self.b = rng.uniform(-bound, bound, self.rhl_width)
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

    # ------------------------------------------------------------------------------- feedback mappings

    def _linear_direct(self) -> bool:
        """Whether the direct feedback g_i(u) = phi(F_i(u) Q_i^T) is linear in its features (DDTP-linear and
        -control always; DDTP-RHL with feedback_activation "identity")."""
        return self.parameterization == "direct_linear" or isinstance(self.feedback_activation, Identity)

    def _rhl(self, a: np.ndarray) -> np.ndarray:
        """DDTP-RHL's random-layer features [tanh(R a + b); 1] of rows a (B, n_L), tanh written beside the 1s."""
        out = np.empty((a.shape[0], self.rhl_width + 1), dtype=a.dtype)
        z = np.matmul(a, self.R.T, out=out[:, :-1])
        z += self.b
        tanh_into(z, z)
        out[:, -1] = 1.0
        return out

    def _direct_features(self, a: np.ndarray, n_hidden: int) -> list:
        """F_i(a) for every hidden layer i: [a; 1] (DDTP-linear; DDTP-RHL's last hidden layer) or
        [tanh(R a + b); 1] (DDTP-RHL's other layers), each distinct matrix computed once and shared."""
        linear = with_ones(a)
        if self.parameterization != "direct_rhl":
            return [linear] * n_hidden
        return [self._rhl(a)] * (n_hidden - 1) + [linear]

    def g(self, net: MLP, i: int, a: np.ndarray) -> np.ndarray:
        """Feedback mapping g_i applied to a (h_{i+1} or u_L for layer-wise, u_L for direct)."""
        if self.parameterization == "inverse":
            w = net.weights[i + 1]
            z = a if i + 1 == net.depth - 1 else net.activations[i + 1].inverse(a)
            return np.linalg.solve(w[:, :-1], (z - w[:, -1]).T).T
        if self.parameterization == "layerwise":
            features = with_ones(a)                                      # [h_{i+1}; 1]
        else:
            features = self._direct_features(a, len(self.Q))[i]          # F_i(u_L)
        z = features @ self.Q[i].T
        if self.parameterization.startswith("direct") and self._linear_direct():
            return z
        return activate(self.feedback_activation, z, z)

    def clean(self, net: MLP, fp, features: list | None = None) -> Clean | None:
        """The feedback of fp's clean values with the current Q (see ``Clean``); features: their Q inputs,
        when already computed (they do not depend on Q)."""
        if self.parameterization == "inverse":
            return None
        self._check_feedback(net)
        n_hidden = net.depth - 1
        if features is None:
            if self.parameterization == "layerwise":                 # [h_{i+1}; 1]: the forward pass's own
                features = fp.xs[2:] + [with_ones(fp.output)]         # layer inputs, and [u_L; 1] on top
            else:
                features = self._direct_features(fp.output, n_hidden)
        if self.parameterization.startswith("direct") and self._linear_direct():
            return Clean(features, None, None)
        z = [f @ q.T for f, q in zip(features, self.Q)]
        return Clean(features, z, [activate(self.feedback_activation, v) for v in z])

    # ------------------------------------------------------------------------------------- targets

    @staticmethod
    def _activations(net: MLP, fp) -> list:
        """acts[i] = h_i for i = 0..L-2 and acts[L-1] = u_L."""
        return hidden_activations(fp) + [fp.output]

    def targets(self, net: MLP, fp, u_target: np.ndarray, clean: Clean | None = None) -> list:
        """Hidden targets h'_i, i = 0..L-2, from the output target through the feedback path. clean: the
        feedback at fp's clean values (``clean``; computed when not given)."""
        self._check_feedback(net)
        acts = self._activations(net, fp)
        n_hidden = net.depth - 1
        targets = [None] * n_hidden
        if self.parameterization == "inverse":
            upper = u_target
            for i in range(n_hidden - 1, -1, -1):
                targets[i] = acts[i] + self.g(net, i, upper) - self.g(net, i, acts[i + 1])
                upper = targets[i]
            return targets
        clean = self.clean(net, fp) if clean is None else clean
        phi = self.feedback_activation
        if self.parameterization.startswith("direct"):
            features = self._direct_features(u_target, n_hidden)        # F_i(u'_L)
            if self._linear_direct():
                # g_i(a) = F_i(a) Q_i^T is linear in the features, so g_i(u'_L) - g_i(u_L) =
                # (F_i(u'_L) - F_i(u_L)) Q_i^T: one product per layer (each distinct F differenced once)
                differenced = set()
                for i, f in enumerate(features):
                    if id(f) not in differenced:
                        f -= clean.features[i]
                        differenced.add(id(f))
                for i in range(n_hidden):
                    targets[i] = features[i] @ self.Q[i].T
                    targets[i] += acts[i]                           # h'_i = h_i + g_i(u'_L) - g_i(u_L)
                return targets
            for i in range(n_hidden):                               # h'_i = h_i + phi(F_i(u'_L) Q_i^T) - g_i(u_L)
                targets[i] = activate(phi, features[i] @ self.Q[i].T)
                targets[i] -= clean.g[i]
                targets[i] += acts[i]
            return targets
        upper = u_target
        for i in range(n_hidden - 1, -1, -1):                       # h'_i = h_i + g_i(h'_{i+1}) - g_i(h_{i+1})
            targets[i] = activate(phi, with_ones(upper) @ self.Q[i].T)
            targets[i] -= clean.g[i]
            targets[i] += acts[i]
            upper = targets[i]
        return targets

    # ------------------------------------------------------------------------------------- feedback

    def _noise(self, hidden: list) -> list:
        """sigma eps_i, eps_i ~ N(0, I) of the shape of every h_i: one draw of the generator for all layers
        (the same numbers as one draw per layer, in layer order), scaled in place."""
        sizes = [h.size for h in hidden]
        eps = self.rng.standard_normal(sum(sizes))
        eps *= self.sigma
        return [e.reshape(h.shape) for e, h in zip(np.split(eps, np.cumsum(sizes)[:-1]), hidden)]

    @staticmethod
    def _noisy_outputs(net: MLP, acts: list, noise: list) -> np.ndarray:
        """[u~_i; 1] for every hidden layer i, stacked in row blocks i = 0, 1, ..., L-2: the corrupted
        h_i + sigma eps_i sent forward to the output, u~_i = f_{i->L}(h_i + sigma eps_i). Paths meeting at a
        layer share its product: at layer l the rows of the l paths that entered below are stacked, the
        activation is written straight into the next layer's stack and the path of layer l,
        h_l + sigma eps_l, beside it (the L - 1 partial forwards cost L - 1 products)."""
        stack = acts[0] + noise[0]                                   # h_0 + sigma eps_0
        batch = len(stack)
        for l in range(1, net.depth):
            w, rows = net.weights[l], len(stack)
            last = l == net.depth - 1
            out = np.empty((rows + (0 if last else batch), w.shape[0] + last), dtype=stack.dtype)
            u = np.matmul(stack, w[:, :-1].T, out=out[:rows, :w.shape[0]])
            u += w[:, -1]                                            # u_l = W_l [x; 1] for the stacked rows
            if last:
                out[:, -1] = 1.0
                return out
            activate(net.activations[l], u, u)
            np.add(acts[l], noise[l], out=out[rows:])                 # the path of layer l joins
            stack = out

    def feedback_gradients(self, net: MLP, fp, clean: Clean | None = None):
        """Gradients of every layer's reconstruction loss L_i = c mean |r_i|^2 w.r.t. its Q_i (one noise sample),
        plus feedback_weight_decay Q_i, and the losses L_i. clean: the feedback at fp's clean values with the
        current Q (DRL; computed when not given)."""
        acts = self._activations(net, fp)
        noise = self._noise(acts[:-1])                                   # sigma eps_i
        if self.reconstruction == "drl" and clean is None:
            clean = self.clean(net, fp)
        if self.reconstruction == "layerwise":
            residuals, grads = self._layerwise_reconstruction(net, acts, noise)
        elif self.parameterization == "layerwise":
            residuals, grads = self._layerwise_drl(net, acts, noise, clean)
        else:
            residuals, grads = self._direct_reconstruction(net, acts, noise, clean)
        c = self.loss_factor()
        losses = []
        for i, (r, grad) in enumerate(zip(residuals, grads)):
            # L_i = c mean_{b,k} r_{i,bk}^2 over the B n_i entries (F.mse_loss), dL_i/dQ_i = 2 c / (B n_i) sum_b ...
            grad *= 2.0 * c / r.size
            if self.feedback_weight_decay:                       # torch's weight_decay: + wd Q_i, before the moments
                grad += self.feedback_weight_decay * self.Q[i]
            losses.append(c * float(np.sum(r * r)) / r.size)
        return grads, losses

    def loss_factor(self) -> float:
        """c of the reconstruction loss c mean |r|^2: 1 / max(sigma, 0.02)^2 (DTP, the authors' floor), 1 / sigma^2
        (DRL), 1 (control)."""
        if self.reconstruction == "layerwise":
            return 1.0 / max(self.sigma, 0.02) ** 2
        return 1.0 / self.sigma ** 2 if self.reconstruction == "drl" else 1.0

    def _layerwise_reconstruction(self, net: MLP, acts: list, noise: list):
        """DTP's residuals r_i = g_i(f_{i+1}(h_i + sigma eps)) - (h_i + sigma eps) and the sum_b gradients
        sum_b (dr_i/dQ_i)^T r_i (``feedback_gradients`` scales them to the loss c mean |r_i|^2)."""
        residuals, grads = [], []
        phi = self.feedback_activation
        for i in range(net.depth - 1):
            h = acts[i] + noise[i]                                       # h_i + sigma eps_i
            w = net.weights[i + 1]
            features = np.empty((len(h), w.shape[0] + 1))                # [f_{i+1}(h_i + sigma eps); 1]
            nxt = np.matmul(h, w[:, :-1].T, out=features[:, :-1])
            nxt += w[:, -1]
            if i + 1 < net.depth - 1:
                activate(net.activations[i + 1], nxt, nxt)
            features[:, -1] = 1.0
            z = features @ self.Q[i].T
            g = activate(phi, z)                                         # g_i(f_{i+1}(...)) = phi(z)
            c = phi.derivative_from(z, g)
            r = np.subtract(g, h, out=g)
            residuals.append(r)
            c *= r
            grads.append(c.T @ features)                                 # (r phi'(z))^T [nxt; 1]
        return residuals, grads

    def _layerwise_drl(self, net: MLP, acts: list, noise: list, clean: Clean):
        """DTPDRL's difference reconstruction loss: residuals r_i = h_i + g_i(a~_{i+1}) - g_i(h_{i+1}) -
        (h_i + sigma eps) = g_i(a~_{i+1}) - g_i(h_{i+1}) - sigma eps and the sum_b gradients, where a~_{i+1}
        arrives at layer i+1 when u~_i = f_{i->L}(h_i + sigma eps) is sent down the difference-corrected path
            a~_j = h_j + g_j(a~_{j+1}) - g_j(h_{j+1}),  a~_{L-1} = u~_i.
        Every path passing layer j shares its product: at layer j the rows [a~_{j+1}; 1] of the paths of
        layers i <= j are stacked (the last block, i = j, is the one layer j's loss needs); the clean
        g_j(h_{j+1}) is the step's (``clean``)."""
        phi, batch, n_hidden = self.feedback_activation, acts[0].shape[0], net.depth - 1
        residuals, grads = [None] * n_hidden, [None] * n_hidden
        stack = self._noisy_outputs(net, acts, noise)                   # [u~_i; 1], paths 0..L-2
        for j in range(n_hidden - 1, -1, -1):
            z = stack @ self.Q[j].T
            g = activate(phi, z)                                         # g_j(a~_{j+1}) of paths 0..j
            g_j = g[-batch:]
            r = np.subtract(g_j, clean.g[j])
            r -= noise[j]                                                # r_j (the path of layer j)
            residuals[j] = r
            above = phi.derivative_from(z[-batch:], g_j)
            above *= r
            below = phi.derivative_from(clean.z[j], clean.g[j])
            below *= r
            grads[j] = above.T @ stack[-batch:] - below.T @ clean.features[j]
            if j > 0:                                                    # paths i < j step down to layer j
                down = np.empty((j, batch, acts[j].shape[1] + 1))
                np.add(g[:-batch].reshape(j, batch, -1), acts[j] - clean.g[j], out=down[:, :, :-1])
                down[:, :, -1] = 1.0                                     # a~_j = h_j + g_j(a~_{j+1}) - g_j(h_{j+1})
                stack = down.reshape(j * batch, -1)
        return residuals, grads

    def _direct_reconstruction(self, net: MLP, acts: list, noise: list, clean: Clean | None):
        """DDTP's losses with g_i(a) = phi(F_i(a) Q_i^T) (the features of every noisy output computed once, in
        one stack; DDTP-RHL's random layer on the rows of the layers that use it):
        - drl, linear feedback: r_i = h_i + g_i(u~_i) - g_i(u_L) - (h_i + sigma eps) = (F_i(u~_i) - F_i(u_L))
          Q_i^T - sigma eps, gradient r_i^T (F_i(u~_i) - F_i(u_L));
        - drl, phi: r_i = phi(z~_i) - phi(z_i) - sigma eps with z~_i = F_i(u~_i) Q_i^T and the clean z_i,
          gradient (r_i phi'(z~_i))^T F_i(u~_i) - (r_i phi'(z_i))^T F_i(u_L);
        - control: r_i = g_i(u~_i) - (h_i + sigma eps), gradient (r_i phi'(z~_i))^T F_i(u~_i) (phi' = 1 when
          linear)."""
        batch, n_hidden, phi = acts[0].shape[0], net.depth - 1, self.feedback_activation
        linear, drl = self._linear_direct(), self.reconstruction == "drl"
        outputs = self._noisy_outputs(net, acts, noise)                 # [u~_i; 1], row blocks i
        features = [outputs[i * batch:(i + 1) * batch] for i in range(n_hidden)]
        if self.parameterization == "direct_rhl":                      # layers 0..L-3: [tanh(R u~_i + b); 1]
            rhl = self._rhl(outputs[:(n_hidden - 1) * batch, :-1])
            features[:-1] = [rhl[i * batch:(i + 1) * batch] for i in range(n_hidden - 1)]
        residuals, grads = [], []
        for i in range(n_hidden):
            f = features[i]
            if linear:
                if drl:
                    f -= clean.features[i]                               # F_i(u~_i) - F_i(u_L), in place
                r = f @ self.Q[i].T
                r -= noise[i] if drl else acts[i] + noise[i]
                residuals.append(r)
                grads.append(r.T @ f)
                continue
            z = f @ self.Q[i].T
            g = activate(phi, z)                                         # g_i(u~_i)
            r = g - clean.g[i] if drl else g - acts[i]
            r -= noise[i]
            residuals.append(r)
            above = phi.derivative_from(z, g)
            above *= r
            grad = above.T @ f
            if drl:
                below = phi.derivative_from(clean.z[i], clean.g[i])
                below *= r
                grad -= below.T @ clean.features[i]
            grads.append(grad)
        return residuals, grads

    def train_feedback(self, net: MLP, fp, iterations: int, clean: Clean | None = None) -> list:
        """``iterations`` feedback updates at the forward pass ``fp``; returns the last losses. clean: the
        feedback at fp's clean values with the current Q (used by the first update; computed when not
        given and needed)."""
        losses = []
        if self.parameterization == "inverse":
            return losses
        self._check_feedback(net)
        for k in range(iterations):
            if k and clean is not None:                              # Q moved: its products at the clean values
                clean = self.clean(net, fp, clean.features)
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
        """Forward-weight local-loss gradients (of mean_b |h'_l - h_l|^2, the authors' scale) with the current
        feedback (no update), at the forward pass ``fp`` (computed if not given); clean: the feedback at fp's
        clean values (``clean``; computed if not given)."""
        fp = net.forward(x) if fp is None else fp
        e = output_error(self.loss, fp.output, y, net.output_activation)
        u_target = self.output_targets(fp, y, e)
        targets = self.targets(net, fp, u_target, clean)
        grads = local_gradients(net, fp, targets, u_target)          # d/dW_l of mean_b 1/2 |h'_l - h_l|^2
        for grad in grads:                                           # the authors' 2 f'(u_l) (h_l - h'_l): the
            grad *= 2.0                                              # gradient of mean_b |h'_l - h_l|^2 (exact)
        return Directions(grads, targets, fp, e)

    def output_targets(self, fp, y: np.ndarray, e: np.ndarray) -> np.ndarray:
        """u'_L = u_L - beta dL/du_L of the batch-mean loss: u_L - (beta / B) e per sample, (B, n_L)."""
        return output_target("gradient", self.beta / len(e), fp.output, y, e)

    def step(self, net: MLP, x: np.ndarray, y: np.ndarray) -> dict:
        """(After the ``pretrain_steps``) the targets, then ``feedback_iterations`` feedback updates, then one
        forward update."""
        x, y = checks.training_batch(net, x, y)      # before the feedback weights are drawn
        self._check_feedback(net)
        fp = net.forward(x)
        self.steps_done += 1
        training = self.steps_done > self.pretrain_steps
        # the feedback at the clean values, shared by the targets and the first feedback update
        clean = self.clean(net, fp) if training or self.reconstruction == "drl" else None
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
    """DDTP-RHL (seed 002): g_i(u_L) = phi(Q_i [tanh(R u_L + b); 1]) (the last hidden layer: phi(Q_i [u_L; 1])),
    R, b fixed random, trained with DRL."""


class DDTPControl(DifferenceTP, name="ddtp_control", parameterization="direct_linear", reconstruction="control"):
    """DDTP-control (seed 002): DDTP-linear's feedback, reconstruction through the output without the
    difference correction."""


class InverseTP(DifferenceTP, name="inverse_tp", parameterization="inverse", reconstruction="none"):
    """TP with the exact inverses of the forward layers (seed 002, Condition 1): no feedback training.
    Needs square weight matrices and an invertible activation. For checking Lemma 1 and Theorem 2."""
