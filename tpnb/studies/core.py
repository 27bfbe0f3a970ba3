"""Named, versioned studies: a grid of training runs whose results are cached in a JSON file.

A study is a function ``build(quick) -> [RunSpec, ...]`` registered under a name and a version, with the
studies it depends on (a final study reads its tuning study's selection). ``tpnb.studies.results`` keeps
the cached runs and decides which are fresh (``tpnb.studies.freshness``); ``tpnb.studies.runner`` trains
the missing and stale ones, locally in parallel or on a Dask cluster.
"""
from __future__ import annotations

import json
import os
import pickle
import tempfile
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from .. import __version__
from ..baselines import least_squares
from ..config import results_dir
from ..diagnostics import Probe
from ..data import load as load_data
from ..network import MLP
from ..rules import make_rule
from ..train import History, train


@dataclass(frozen=True)
class RunSpec:
    """One training run: data, network, rule and schedule. ``seed`` seeds both init and shuffling.
    probe: number of training samples on which ``tpnb.diagnostics.Probe`` measures the mechanism after
    every epoch (0: no probes; the measurements are stored in the run's record under "probes").
    key: the run's unique name in its study; labels: structured fields that notebooks select on
    (problem, method, setting, seed, ...). Neither is a setting: renaming a run keeps its result fresh.
    activation: one hidden activation name, or a tuple with one per hidden layer; output_activation:
    "identity" (linear output) or e.g. "sigmoid". patience: early stopping on the validation accuracy
    (``tpnb.train.train``; the data needs a "validation_set"), None for a fixed number of epochs.
    probe_directions: the probe also measures the rule's raw optimiser direction (diagnostics.raw_directions).
    keep_weights: the record keeps the trained weights (small networks a chapter draws, e.g. a decision
    boundary; ``StudyResults.network``).
    data: the loader's options, plus "validation": n (the last n training samples replace the test split:
    tuning) or "validation_set": n (they become a validation split beside the test split; with
    "validation_seed": s, a random n of them)."""
    key: str
    data: dict
    sizes: tuple
    activation: str | tuple
    rule: str
    rule_options: dict = field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 64
    seed: int = 0
    init: str = "he"
    probe: int = 0
    labels: dict = field(default_factory=dict)
    output_activation: str = "identity"
    patience: int | None = None
    probe_directions: bool = False
    keep_weights: bool = False

    def __post_init__(self):
        if not isinstance(self.activation, str):        # one per hidden layer, as a tuple (JSON gives a list)
            object.__setattr__(self, "activation", tuple(self.activation))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sizes"] = list(self.sizes)
        if isinstance(self.activation, tuple):
            d["activation"] = list(self.activation)
        return d

    def make_network(self, sizes=None) -> MLP:
        """The run's initial network (``sizes``: other layer widths, e.g. a canary's)."""
        return MLP(self.sizes if sizes is None else sizes, self.activation, seed=self.seed, init=self.init,
                   output_activation=self.output_activation)


@dataclass(frozen=True)
class Study:
    name: str
    version: int
    build: object          # (quick: bool) -> list[RunSpec]
    description: str = ""
    depends: tuple = ()    # names of the studies whose results build() reads


STUDIES: dict = {}


def study(name: str, version: int, description: str = "", depends: tuple = ()):
    """Decorator registering ``build(quick) -> [RunSpec]`` as a named study; ``depends``: the studies
    whose results ``build`` reads (they must be complete and fresh before this one can be built)."""
    def register(build):
        if name in STUDIES:
            raise ValueError(f"study {name!r} registered twice")
        unknown = [d for d in depends if d not in STUDIES]
        if unknown:
            raise ValueError(f"study {name!r} depends on unregistered studies {unknown}")
        STUDIES[name] = Study(name, version, build, description, tuple(depends))
        return build
    return register


def get_study(name: str) -> Study:
    if name not in STUDIES:
        raise ValueError(f"unknown study {name!r}; known: {sorted(STUDIES)}")
    return STUDIES[name]


@lru_cache(maxsize=4)
def _dataset(data_json: str):
    options = json.loads(data_json)
    n_val = options.pop("validation", None)     # hold out the last n_val training samples as the test split
    n_val_set = options.pop("validation_set", None)   # ... as a validation split beside the test split
    val_seed = options.pop("validation_seed", None)   # ... drawn at random with this seed
    data = load_data(**options)
    data = data.validation_split(n_val) if n_val else data
    return data.with_validation(n_val_set, val_seed) if n_val_set else data


def dataset_for(spec: RunSpec):
    """The run's Dataset (cached in memory across runs)."""
    return _dataset(json.dumps(spec.data, sort_keys=True))


@lru_cache(maxsize=4)
def _affine_metrics(data_json: str) -> dict:
    return least_squares(_dataset(data_json))[1]


def affine_metrics(spec: RunSpec) -> dict:
    """Metrics of the least-squares affine model (tpnb.baselines.least_squares) on the run's data, keyed like
    History.metrics; fitted once per data set and process (a chapter quoting it twice fits it once)."""
    return dict(_affine_metrics(json.dumps(spec.data, sort_keys=True)))


def make_probe(spec: RunSpec, rule, data) -> Probe:
    """The run's Probe: the first ``spec.probe`` training samples; the linearity fit on the next
    max(1000, 4 (d_in + 1)) training samples and evaluated on as many test samples."""
    n_fit = max(1000, 4 * (data.x_train.shape[1] + 1))
    x_fit = data.x_train[spec.probe:spec.probe + n_fit]
    x_eval = data.x_test[:n_fit]
    if len(x_fit) <= data.x_train.shape[1] + 1:
        x_fit = x_eval = None
    return Probe(rule, data.x_train[:spec.probe], data.y_train[:spec.probe], x_fit, x_eval,
                 loss=spec.rule_options.get("loss", "mse"), directions=spec.probe_directions)


def object_layout(obj, _seen=None):
    """What resuming a pickle of ``obj`` relies on: for every tpnb object reachable through attributes, lists,
    tuples and dict values, its class and its attribute names (nested); other values are left out (an array
    or a list of floats may fill in later, a record list grows). Two layouts are equal when today's classes
    would find in a pickled object every attribute they have, and no other."""
    seen = set() if _seen is None else _seen
    if id(obj) in seen:
        return "(seen)"
    if isinstance(obj, (list, tuple)):
        parts = tuple(part for part in (object_layout(v, seen) for v in obj) if part is not None)
        return parts or None
    if isinstance(obj, dict):
        parts = {str(k): part for k, part in ((k, object_layout(v, seen)) for k, v in obj.items()) if part is not None}
        return parts or None
    if not type(obj).__module__.startswith("tpnb") or not hasattr(obj, "__dict__"):
        return None
    seen.add(id(obj))
    return (type(obj).__qualname__,
            {name: object_layout(value, seen) for name, value in sorted(vars(obj).items())})


def read_checkpoint(path: Path, behaviour: dict | None, fresh: tuple) -> tuple | None:
    """(net, rule, probe, history, elapsed) an interrupted run left in ``path``, if today's code can carry it
    on: the checkpoint was written by code whose canary signature matches ``behaviour`` (the run's signature
    today: within rounding, as a cached result stays fresh; tpnb.studies.freshness) and its objects have the
    layout of ``fresh``, the run's (network, rule, probe, History()) as today's code makes them. None
    otherwise: no file, other behaviour or layout, or a pickle today's classes cannot load. A pure refactor
    or a speed-up that keeps the canary's numbers keeps every checkpoint."""
    from .freshness import Signature
    if not path.exists():
        return None
    try:
        with open(path, "rb") as fh:
            payload = pickle.load(fh)
    except Exception:                               # noqa: BLE001 - classes moved or renamed: start afresh
        return None
    if not isinstance(payload, dict) or set(payload) != {"state", "behaviour"}:
        return None
    if behaviour is not None and (payload["behaviour"] is None or not Signature.from_dict(payload["behaviour"])
                                  .matches(Signature.from_dict(behaviour))):
        return None
    state = payload["state"]
    if object_layout(state[:4]) != object_layout(fresh):
        return None
    return state


def execute(spec: RunSpec, progress: bool = False, checkpoint: Path | None = None,
            behaviour: dict | None = None) -> dict:
    """Train one run and return its JSON-ready record.

    checkpoint: a file that holds the run's state (network, rule, probe, history, wall time so far) after
    its last finished epoch, written atomically after every epoch with ``behaviour`` (the run's canary
    signature, ``Signature.to_dict()``) and removed when the run ends. When it exists at the start and
    ``read_checkpoint`` accepts it, the run resumes from it (bit-identical to an uninterrupted run under the
    same code); else it starts afresh and overwrites it. The caller names it after the run's settings,
    data and canary (tpnb.studies.results.train_signed)."""
    data = dataset_for(spec)
    net = spec.make_network()
    rule = make_rule(spec.rule, **spec.rule_options)
    probe = make_probe(spec, rule, data) if spec.probe else None
    restored = None if checkpoint is None else read_checkpoint(checkpoint, behaviour, (net, rule, probe, History()))
    net, rule, probe, resume, elapsed = (net, rule, probe, None, 0.0) if restored is None else restored
    start = time.perf_counter()

    def save(epoch, net, rule, history):
        write_pickle_atomic(checkpoint, {"state": (net, rule, probe, history, elapsed + time.perf_counter() - start),
                                         "behaviour": behaviour})

    history = train(net, rule, data, epochs=spec.epochs, batch_size=spec.batch_size,
                    seed=spec.seed, progress=progress, callback=probe, patience=spec.patience, resume=resume,
                    checkpoint=None if checkpoint is None else save)
    record = {"spec": spec.to_dict(), "history": history.to_dict(),
              "wall_time": elapsed + time.perf_counter() - start, "tpnb_version": __version__}
    if spec.keep_weights:
        record["weights"] = [w.tolist() for w in net.weights]
    if checkpoint is not None and checkpoint.exists():
        checkpoint.unlink()
    if probe is not None:
        record["probes"] = probe.records
    return record


def results_path(name: str, quick: bool | None = None) -> Path:
    return results_dir(quick) / f"{name}.json"


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place (readable by all)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_pickle_atomic(path: Path, payload) -> None:
    """Pickle ``payload`` into ``path`` atomically."""
    write_bytes_atomic(path, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))


def write_atomic(path: Path, payload: dict) -> None:
    """Write ``payload`` as JSON into ``path`` atomically (json.dumps: one shot through the C encoder;
    json.dump would stream through the pure-Python one, ~10x slower)."""
    write_bytes_atomic(path, json.dumps(payload, separators=(",", ":")).encode())
