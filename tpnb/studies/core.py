"""Named, versioned studies: a grid of training runs whose results are cached in a JSON file.

A study is a function ``build(quick) -> [RunSpec, ...]`` registered under a name and a version. Running
it trains every run that is missing from its results file or whose fingerprint changed, writing the
file atomically after each run (so an interrupted study resumes where it stopped). The fingerprint
hashes the run's specification, the study version and the code of every tpnb module the run uses
(comments and docstrings excluded), so changed code or settings make a cached result stale.
"""
from __future__ import annotations

import ast
import hashlib
import inspect
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from tqdm import tqdm

from .. import __version__
from ..config import quick_mode, results_dir
from ..diagnostics import Probe
from ..data import load as load_data
from ..network import MLP
from ..rules import RULES, make_rule
from ..train import History, train

PACKAGE = Path(__file__).resolve().parents[1]
CORE_SOURCES = ("network.py", "activations.py", "losses.py", "optimizers.py", "train.py")
PROBE_SOURCES = ("diagnostics.py", "rules/gnt.py", "rules/feedback.py", "rules/backprop.py")


@dataclass(frozen=True)
class RunSpec:
    """One training run: data, network, rule and schedule. ``seed`` seeds both init and shuffling.
    probe: number of training samples on which ``tpnb.diagnostics.Probe`` measures the mechanism after
    every epoch (0: no probes; the measurements are stored in the run's record under "probes")."""
    key: str
    data: dict
    sizes: tuple
    activation: str
    rule: str
    rule_options: dict = field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 64
    seed: int = 0
    init: str = "he"
    probe: int = 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sizes"] = list(self.sizes)
        return d


@dataclass(frozen=True)
class Study:
    name: str
    version: int
    build: object          # (quick: bool) -> list[RunSpec]
    description: str = ""


STUDIES: dict = {}


def study(name: str, version: int, description: str = ""):
    """Decorator registering ``build(quick) -> [RunSpec]`` as a named study."""
    def register(build):
        if name in STUDIES:
            raise ValueError(f"study {name!r} registered twice")
        STUDIES[name] = Study(name, version, build, description)
        return build
    return register


def get_study(name: str) -> Study:
    if name not in STUDIES:
        raise ValueError(f"unknown study {name!r}; known: {sorted(STUDIES)}")
    return STUDIES[name]


def _code_hash(path: Path) -> str:
    """Hash of a module's syntax tree without docstrings: comment and docstring edits keep results fresh."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()


def rule_modules(rule: str) -> list:
    """Files of the rule's module and of every tpnb.rules module it uses, directly or not."""
    todo, seen = [RULES[rule].__module__], []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.append(name)
        for value in vars(sys.modules[name]).values():
            used = value.__name__ if inspect.ismodule(value) else getattr(value, "__module__", None)
            if isinstance(used, str) and used.startswith("tpnb.rules.") and used not in seen:
                todo.append(used)
    return [Path(sys.modules[name].__file__) for name in sorted(seen)]


@lru_cache(maxsize=None)
def _sources_hash(rule: str) -> str:
    files = ([PACKAGE / f for f in CORE_SOURCES] + sorted((PACKAGE / "data").glob("*.py"))
             + rule_modules(rule))
    return hashlib.sha256("".join(_code_hash(f) for f in files).encode()).hexdigest()


@lru_cache(maxsize=None)
def _probe_hash() -> str:
    return hashlib.sha256("".join(_code_hash(PACKAGE / f) for f in PROBE_SOURCES).encode()).hexdigest()


def fingerprint(spec: RunSpec, version: int) -> str:
    payload = json.dumps({"spec": spec.to_dict(), "version": version}, sort_keys=True)
    code = _sources_hash(spec.rule) + (_probe_hash() if spec.probe else "")
    return hashlib.sha256((payload + code).encode()).hexdigest()[:16]


@lru_cache(maxsize=4)
def _dataset(data_json: str):
    options = json.loads(data_json)
    n_val = options.pop("validation", None)     # hold out the last n_val training samples
    data = load_data(**options)
    return data.validation_split(n_val) if n_val else data


def dataset_for(spec: RunSpec):
    """The run's Dataset (cached in memory across runs)."""
    return _dataset(json.dumps(spec.data, sort_keys=True))


def make_probe(spec: RunSpec, rule, data) -> Probe:
    """The run's Probe: the first ``spec.probe`` training samples; the linearity fit on the next
    max(1000, 4 (d_in + 1)) training samples and evaluated on as many test samples."""
    n_fit = max(1000, 4 * (data.x_train.shape[1] + 1))
    x_fit = data.x_train[spec.probe:spec.probe + n_fit]
    x_eval = data.x_test[:n_fit]
    if len(x_fit) <= data.x_train.shape[1] + 1:
        x_fit = x_eval = None
    return Probe(rule, data.x_train[:spec.probe], data.y_train[:spec.probe], x_fit, x_eval,
                 loss=spec.rule_options.get("loss", "mse"))


def execute(spec: RunSpec, progress: bool = False) -> dict:
    """Train one run and return its JSON-ready record."""
    data = dataset_for(spec)
    net = MLP(spec.sizes, spec.activation, seed=spec.seed, init=spec.init)
    rule = make_rule(spec.rule, **spec.rule_options)
    probe = make_probe(spec, rule, data) if spec.probe else None
    start = time.perf_counter()
    history = train(net, rule, data, epochs=spec.epochs, batch_size=spec.batch_size,
                    seed=spec.seed, progress=progress, callback=probe)
    record = {"spec": spec.to_dict(), "history": history.to_dict(),
              "wall_time": time.perf_counter() - start, "tpnb_version": __version__}
    if probe is not None:
        record["probes"] = probe.records
    return record


def results_path(name: str, quick: bool | None = None) -> Path:
    return results_dir(quick) / f"{name}.json"


def write_atomic(path: Path, payload: dict) -> None:
    """Write JSON to a temporary file beside ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(payload, fh, separators=(",", ":"))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class StudyResults:
    """The runs of one study as stored on disk, checked against the current code."""

    def __init__(self, name: str, quick: bool | None = None):
        self.study = get_study(name)
        self.quick = quick_mode() if quick is None else quick
        self.path = results_path(name, self.quick)
        self.specs = self.study.build(self.quick)
        keys = [s.key for s in self.specs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"study {name!r} has duplicate run keys")
        stored = json.loads(self.path.read_text()) if self.path.exists() else {"runs": {}}
        self.records = stored["runs"]

    def is_fresh(self, spec: RunSpec) -> bool:
        record = self.records.get(spec.key)
        return record is not None and record["fingerprint"] == fingerprint(spec, self.study.version)

    @property
    def stale(self) -> list:
        """Specs whose cached result is missing or was produced by other code or settings."""
        return [s for s in self.specs if not self.is_fresh(s)]

    def run(self, progress: bool = True) -> "StudyResults":
        """Train every stale run, saving after each one."""
        todo = self.stale
        bar = tqdm(todo, desc=self.study.name, disable=not progress or not todo)
        for spec in bar:
            bar.set_postfix_str(spec.key)
            record = execute(spec)
            record["fingerprint"] = fingerprint(spec, self.study.version)
            self.records[spec.key] = record
            write_atomic(self.path, {"study": self.study.name, "version": self.study.version,
                                     "quick": self.quick, "runs": self.records})
        return self

    def __getitem__(self, key: str) -> History:
        return History.from_dict(self.records[key]["history"])

    def probes(self, key: str) -> list:
        """The run's per-epoch mechanism measurements (empty list for runs without probes)."""
        return self.records[key].get("probes", [])

    def spec(self, key: str) -> RunSpec:
        return next(s for s in self.specs if s.key == key)

    def items(self):
        """(spec, History) for every run of the study, in the study's order."""
        return [(s, self[s.key]) for s in self.specs]


def load(name: str, quick: bool | None = None, recompute: bool = True) -> StudyResults:
    """A study's results; stale runs are recomputed (with a printed notice) unless recompute=False,
    in which case a stale study raises RuntimeError naming the stale runs."""
    results = StudyResults(name, quick)
    stale = results.stale
    if stale:
        keys = ", ".join(s.key for s in stale[:5]) + (" ..." if len(stale) > 5 else "")
        if not recompute:
            raise RuntimeError(f"study {name!r}: {len(stale)} cached runs are missing or stale ({keys})")
        print(f"study {name!r}: {len(stale)} of {len(results.specs)} runs missing or stale "
              f"({keys}); computing them now")
        results.run()
    return results
