"""Chapter 14: does exact TP make training more interpretable? Three trained networks whose weights the chapter
reads.

Study ``interpretability``: the Fashion-MNIST subset of chapter 13 (``affine_floor.PROBLEMS["fmnist"]``:
784-256-256-10, 10k training images, 10k held-out training images as the test set, 10 epochs), batch 32,
seed 0, trained by the seed's exact TP (chapter 8's defaults), by the variant chapter 13 points to
(``input_rule="pinv", hidden_target="threshold", threshold=0.1``) and by backprop-SGD (lr 0.03), each
keeping its trained weights (``RunSpec.keep_weights``): the chapter computes every sample's theta' on them.
Quick mode: the atlas's quick data, two epochs and 32-unit hidden layers.
"""
from __future__ import annotations

from .affine_floor import MAP_VARIANTS, PROBLEMS as FLOOR_PROBLEMS, SGD
from .atlas import DEFAULTS
from .core import RunSpec, study

PROBLEM = "fmnist"
SEED = 0
QUICK_WIDTH = 32
# {method: (rule, options)}; exact TP with chapter 8's defaults (alpha, eta, cap, margin)
BASE = {k: DEFAULTS[k] for k in ("alpha", "eta", "cap", "margin")}
METHODS = {
    "seed": ("exact_tp", dict(BASE)),
    "pinv+threshold=0.1": ("exact_tp", {**BASE, **MAP_VARIANTS["pinv+threshold=0.1"]}),
    "bp_sgd": ("backprop", dict(SGD)),
}


def sizes(quick: bool) -> tuple:
    """The network's layer widths: affine_floor's Fashion-MNIST network (quick mode: narrower)."""
    p = FLOOR_PROBLEMS[PROBLEM]
    width = QUICK_WIDTH if quick else p["width"]
    return p["inputs"], width, width, p["outputs"]


def interpretability_specs(quick: bool) -> list:
    """One run per method, seed 0, weights kept. Labels: problem, method ("exact_tp" or "bp_sgd"),
    variant (a key of METHODS), seed."""
    p = FLOOR_PROBLEMS[PROBLEM]
    specs = []
    for name, (rule, options) in METHODS.items():
        method = "bp_sgd" if rule == "backprop" else "exact_tp"
        specs.append(RunSpec(key=f"{PROBLEM}|{name}|seed={SEED}", data=dict(p["quick" if quick else "data"]),
                             sizes=sizes(quick), activation="relu", rule=rule, rule_options=dict(options),
                             epochs=p["quick_epochs"] if quick else p["epochs"], batch_size=DEFAULTS["batch"],
                             seed=SEED, keep_weights=True,
                             labels=dict(problem=PROBLEM, method=method, variant=name, seed=SEED)))
    return specs


study("interpretability", 1, "chapter 14: exact TP, its pinv + threshold variant and backprop-SGD, weights kept")(
    interpretability_specs)


# what the chapter measures on the trained networks: training images in consecutive batches of the training
# batch size (each sample against its own batch's consensus), grouped into GROUP_BATCHES batches per group;
# every statistic is computed per group, so its spread over the groups is its uncertainty
BATCH = DEFAULTS["batch"]
GROUP_BATCHES = 16
GROUP_SIZE = BATCH * GROUP_BATCHES
MAX_GROUPS = 8


def analysis_groups(n_train: int) -> int:
    """How many groups of GROUP_SIZE training images the chapter measures: MAX_GROUPS, or fewer if the
    training set is smaller (quick mode); at least 1."""
    return max(1, min(MAX_GROUPS, n_train // GROUP_SIZE))
