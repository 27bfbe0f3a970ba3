"""When is a cached run still the run the current code would train? Freshness follows behaviour.

A run's result stays valid while three things are unchanged:

- its **settings**: everything in the RunSpec that changes what is computed (data options, sizes,
  activation, rule and options, epochs, batch size, seed, init, probe), the study version, the training
  loop's divergence factor and the explicit versions below; labels (``key``, ``labels``) are not settings, so renaming a run keeps it;
- its **data**: a summary of the loaded arrays (shapes and fixed random projections), so a loader
  that changes what it returns stales the runs that use it and no other;
- its **behaviour signature**: what a short deterministic *canary* run produces — the same rule,
  options, activation, init, depth, loss, batch-size regime and probe as the run, on a tiny fixed
  problem (4 inputs, hidden layers of 5 units, 3 outputs, 24 training samples, 2 epochs). The canary
  records every metric, diagnostic and probe value and fixed random projections of the final weights.

A pure refactor leaves the canary's numbers bit-identical, so nothing goes stale; a change to what a rule,
the network, an optimiser, a loss, the training loop or the probes compute changes the canary of every
run that uses it, and of no other. Two signatures match when their value names agree and their values
agree bit for bit, or within ``RTOL`` relative to each value group's scale: BLAS kernels differ per CPU
and thread count and change the last bits of every sum, and a result computed on one processor must stay
fresh on another. ``RTOL`` = 1e-8 is far above that rounding (other
kernels and thread counts move canary numbers by at most 3e-10 of their scale, in the ill-conditioned
variance of random-direction TP's factors, and by about 1e-14 elsewhere; tests/studies/
test_studies_freshness.py) and below any change a figure or a glued number could show.

What a tiny canary cannot see (code paths that depend on the data's size, e.g. evaluation chunks) is
covered by explicit versions: ``EXECUTION_VERSION`` here, and a rule class's ``version`` attribute.
Bump one when such a change alters results.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np

EXECUTION_VERSION = 1        # bump when execute()/evaluation change results in a way canaries cannot see
DATA_RTOL = 1e-12            # the same for data summaries: plain sums of the arrays, no amplification
RTOL = 1e-8                  # relative agreement (to each value group's scale) for matching signatures
CANARY_INPUTS, CANARY_HIDDEN, CANARY_OUTPUTS = 4, 5, 3
CANARY_TRAIN, CANARY_TEST, CANARY_EPOCHS, CANARY_BATCH = 24, 8, 2, 8
CANARY_PROBE = 4             # probe samples of a canary whose run probes
PROJECTIONS = 2              # fixed random projections per array


def _digest(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


SETTINGS = ("data", "sizes", "activation", "rule", "rule_options", "epochs", "batch_size", "seed", "init",
            "probe")
# settings added to RunSpec after results were committed: hashed only where they differ from their default,
# so that the runs from before them keep their fingerprints
LATER_SETTINGS = ("output_activation", "patience", "probe_directions", "keep_weights")


def settings_hash(spec, study_version: int) -> str:
    """Hash of what the run computes (not its labels), its study version and the explicit versions."""
    from ..rules import RULES
    from ..train import DIVERGENCE_FACTOR
    payload = {name: getattr(spec, name) for name in SETTINGS}
    payload["sizes"] = list(payload["sizes"])
    defaults = {f.name: f.default for f in fields(spec)}
    payload.update({name: getattr(spec, name) for name in LATER_SETTINGS      # only where not the default
                    if getattr(spec, name) != defaults[name]})
    payload.update(study_version=study_version, execution=EXECUTION_VERSION,
                   rule_version=getattr(RULES.get(spec.rule), "version", 1), divergence=DIVERGENCE_FACTOR)
    return _digest(payload)


@dataclass(frozen=True)
class Signature:
    """Named groups of numbers: {group name: list of floats}. NaN and inf are kept (a diverged canary)."""
    groups: dict

    def to_dict(self) -> dict:
        return {name: [_json_float(v) for v in values] for name, values in self.groups.items()}

    @classmethod
    def from_dict(cls, d: dict) -> "Signature":
        return cls({name: [float(v) for v in values] for name, values in d.items()})

    def differences(self, other: "Signature", rtol: float = RTOL) -> list:
        """Names of the groups that do not match (missing, different length, or values apart by more
        than RTOL of the group's scale); empty when the signatures match."""
        names = sorted(set(self.groups) | set(other.groups))
        return [name for name in names
                if not _close(_conditioned(name, self.groups.get(name)), _conditioned(name, other.groups.get(name)),
                              rtol)]

    def matches(self, other: "Signature", rtol: float = RTOL) -> bool:
        return not self.differences(other, rtol)


def _json_float(v: float):
    return v if np.isfinite(v) else str(v)       # JSON has no NaN/inf literals


def _conditioned(name: str, values):
    """Angles (degrees) are compared through their cosines: near 0 degrees, arccos turns a rounding
    difference delta of the cosine into sqrt(2 delta), so the angle itself is ill-conditioned."""
    if values is None or "angle" not in name:
        return values
    return list(np.cos(np.radians(np.asarray(values, dtype=float))))


def _close(a, b, rtol: float) -> bool:
    if a is None or b is None or len(a) != len(b):
        return False
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if np.array_equal(a, b, equal_nan=True):
        return True
    if not np.array_equal(np.isfinite(a), np.isfinite(b)) or not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    finite = np.isfinite(a)
    if not np.array_equal(a[~finite], b[~finite], equal_nan=True):
        return False
    scale = max(np.max(np.abs(a[finite]), initial=0.0), np.max(np.abs(b[finite]), initial=0.0))
    return bool(np.all(np.abs(a[finite] - b[finite]) <= rtol * scale))


def _projections(array: np.ndarray, name: str) -> list:
    """Sum, sum of squares and PROJECTIONS fixed random bilinear projections u^T A v of a 2-D array."""
    a = np.asarray(array, dtype=np.float64)
    a = a.reshape(len(a), -1) if a.ndim != 2 else a
    rng = np.random.default_rng(list(a.shape) + [len(name)])
    values = [float(a.sum()), float(np.square(a).sum())]
    for _ in range(PROJECTIONS):
        u, v = rng.standard_normal(a.shape[0]), rng.standard_normal(a.shape[1])
        values.append(float(u @ a @ v))
    return values


def data_summary(data) -> Signature:
    """Shapes and projections of every array of a Dataset, and its task."""
    groups = {"task": [float(data.task == "classification")]}
    for split in ("x_train", "y_train", "x_test", "y_test"):
        array = getattr(data, split)
        groups[f"{split}.shape"] = [float(s) for s in array.shape]
        groups[split] = _projections(array, split)
    return Signature(groups)


# --- the canary ----------------------------------------------------------------------------------------

def canary_config(spec, task: str) -> dict:
    """What the canary of ``spec`` runs: every setting that selects code, on the tiny problem."""
    depth = len(spec.sizes) - 1
    config = dict(rule=spec.rule, rule_options=spec.rule_options, activation=spec.activation, init=spec.init,
                  depth=depth, task=task, batch_size=1 if spec.batch_size == 1 else CANARY_BATCH,
                  probe=CANARY_PROBE if spec.probe else 0, seed=0)
    if spec.output_activation != "identity":
        config["output_activation"] = spec.output_activation
    if spec.probe_directions and spec.probe:
        config["probe_directions"] = True
    return config


def canary_id(config: dict) -> str:
    return _digest(config)


def _canary_data(task: str):
    from ..data import Dataset
    rng = np.random.default_rng(20261201)
    n = CANARY_TRAIN + CANARY_TEST
    x = rng.standard_normal((n, CANARY_INPUTS))
    if task == "classification":
        y = np.eye(CANARY_OUTPUTS)[rng.integers(0, CANARY_OUTPUTS, n)]
    else:
        y = rng.standard_normal((n, CANARY_OUTPUTS))
    return Dataset("canary", x[:CANARY_TRAIN], y[:CANARY_TRAIN], x[CANARY_TRAIN:], y[CANARY_TRAIN:], task)


def run_canary(config: dict) -> Signature:
    """Train the canary described by ``config`` (see canary_config) and collect its numbers."""
    from ..rules import make_rule
    from ..train import train
    from .core import make_probe, RunSpec
    data = _canary_data(config["task"])
    sizes = (CANARY_INPUTS,) + (CANARY_HIDDEN,) * (config["depth"] - 1) + (CANARY_OUTPUTS,)
    spec = RunSpec(key="canary", data={}, sizes=sizes, activation=config["activation"], rule=config["rule"], rule_options=config["rule_options"], epochs=CANARY_EPOCHS,
                   batch_size=config["batch_size"], seed=config["seed"], init=config["init"],
                   probe=config["probe"], output_activation=config.get("output_activation", "identity"),
                   probe_directions=config.get("probe_directions", False))
    net = spec.make_network()
    rule = make_rule(spec.rule, **spec.rule_options)
    probe = make_probe(spec, rule, data) if spec.probe else None
    history = train(net, rule, data, epochs=spec.epochs, batch_size=spec.batch_size, seed=spec.seed,
                    callback=probe)
    groups = {f"metric.{k}": [float(v) for v in vs] for k, vs in history.metrics.items()}
    groups["diverged_epoch"] = [-1.0 if history.diverged_epoch is None else float(history.diverged_epoch)]
    for epoch, diagnostics in enumerate(history.diagnostics):
        for k, v in diagnostics.items():
            groups.setdefault(f"diagnostic.{k}", []).append(float(v))
    for record in (probe.records if probe is not None else []):
        for k, v in record.items():
            groups.setdefault(f"probe.{k}", []).append(float(v))
    for l, w in enumerate(net.weights):
        groups[f"weights.{l}"] = _projections(w, f"w{l}")
    return Signature(groups)


@lru_cache(maxsize=None)
def _canary_cached(config_json: str) -> Signature:
    with np.errstate(all="ignore"):
        return run_canary(json.loads(config_json))


def canary(config: dict) -> Signature:
    """The canary's signature for ``config``, computed once per process."""
    return _canary_cached(json.dumps(config, sort_keys=True))


__all__ = ["DATA_RTOL", "EXECUTION_VERSION", "RTOL", "Signature", "canary", "canary_config", "canary_id", "data_summary",
           "run_canary", "settings_hash"]
