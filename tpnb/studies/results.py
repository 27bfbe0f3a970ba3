"""The cached runs of one study, as stored in its results file, checked against the current code.

Results file (JSON, written atomically):
    {"study", "version", "quick", "format": 2, "complete",      # complete: every run fresh when written
     "runs":      {key: record},               # record: spec, history, wall_time, tpnb_version, settings,
                                               #         canary, data_id[, probes]
     "canaries":  {canary id: {"config", "signature"}},
     "data":      {data id: summary},
     "previous":  {key: record}}               # optional: the last complete results, kept while a
                                               # regeneration is under way (see ``load``)
A run is fresh when its settings hash, its data summary and its canary signature all match the current
code (``tpnb.studies.freshness``). The full results are only ever *read* here: ``load`` never trains
outside quick mode.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..config import quick_mode, results_dir
from ..train import History
from . import freshness
from .core import RunSpec, dataset_for, get_study, results_path, write_atomic

FORMAT = 2


class ResultsFileError(RuntimeError):
    """A results file that cannot be read; the message names the file and what to do."""


class StaleResultsError(RuntimeError):
    """A study's results are missing or stale where they may not be trained (the full book build)."""


def regenerate_command(name: str) -> str:
    return f"python -m tpnb.studies run {name} --workers 2"


def read_results_file(path: Path, name: str) -> dict:
    """The parsed results file (an empty one if it does not exist); ResultsFileError if it is damaged."""
    if not path.exists():
        return {"runs": {}, "canaries": {}, "data": {}}
    fix = f"`{regenerate_command(name)}` rebuilds it (the damaged file is set aside)"
    try:
        stored = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ResultsFileError(f"{path}: not valid JSON ({err}); {fix}") from None
    if not isinstance(stored, dict) or not isinstance(stored.get("runs"), dict):
        raise ResultsFileError(f"{path}: no 'runs' table; {fix}")
    if stored.get("format") != FORMAT:
        raise ResultsFileError(f"{path}: results format {stored.get('format')!r}, expected {FORMAT}; {fix}")
    for key, record in list(stored["runs"].items()) + list(stored.get("previous", {}).items()):
        missing = [f for f in ("spec", "history", "settings", "canary", "data_id") if f not in record]
        if missing:
            raise ResultsFileError(f"{path}: run {key!r} has no {', '.join(missing)}; {fix}")
    stored.setdefault("canaries", {})
    stored.setdefault("data", {})
    return stored


@lru_cache(maxsize=None)
def _data_summary(data_json: str) -> freshness.Signature:
    return freshness.data_summary(dataset_for(_spec_with_data(json.loads(data_json))))


def _spec_with_data(data: dict) -> RunSpec:
    return RunSpec(key="", data=data, sizes=(1, 1), activation="relu", rule="backprop")


def current_data(spec: RunSpec) -> tuple:
    """(data id, summary of the data the run would train on now)."""
    data_json = json.dumps(spec.data, sort_keys=True)
    return freshness._digest(spec.data), _data_summary(data_json)


def current_canary(spec: RunSpec) -> tuple:
    """(canary id, canary config, its signature under the current code)."""
    task = "classification" if _data_summary(json.dumps(spec.data, sort_keys=True)).groups["task"][0] \
        else "regression"
    config = freshness.canary_config(spec, task)
    return freshness.canary_id(config), config, freshness.canary(config)


@dataclass(frozen=True)
class Verdict:
    """Why a run is (not) fresh: reason is "fresh", "missing", "settings", "data" or "behaviour". A fresh
    run's detail is "within rounding" when its canary agrees within RTOL but not bit for bit (another CPU
    or BLAS, or a change of summation order: the same computation, rounded differently)."""
    spec: RunSpec
    reason: str
    detail: str = ""

    @property
    def fresh(self) -> bool:
        return self.reason == "fresh"


def spec_from_dict(d: dict) -> RunSpec:
    return RunSpec(**{**d, "sizes": tuple(d["sizes"])})


class StudyResults:
    """The runs of one study as stored on disk, checked against the current code."""

    def __init__(self, name: str, quick: bool | None = None):
        self.study = get_study(name)
        self.quick = quick_mode() if quick is None else quick
        self.path = results_path(name, self.quick)
        self.stored = read_results_file(self.path, name)
        self.specs = self.study.build(self.quick)
        keys = [s.key for s in self.specs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"study {name!r} has duplicate run keys")
        self.records = self.stored["runs"]
        self.provisional = False          # True: showing the previous complete results (see load)
        self._fresh = None                # keys of the fresh runs, once store() needed them

    # --- freshness ---------------------------------------------------------------------------------
    def verdict(self, spec: RunSpec) -> Verdict:
        record = self.records.get(spec.key)
        if record is None:
            return Verdict(spec, "missing")
        if record["settings"] != freshness.settings_hash(spec, self.study.version):
            return Verdict(spec, "settings")
        data_id, summary = current_data(spec)
        stored_data = self.stored["data"].get(record["data_id"])
        if record["data_id"] != data_id or stored_data is None \
                or not summary.matches(freshness.Signature.from_dict(stored_data), freshness.DATA_RTOL):
            return Verdict(spec, "data")
        canary_id, _, signature = current_canary(spec)
        stored = self.stored["canaries"].get(record["canary"])
        if record["canary"] != canary_id or stored is None:
            return Verdict(spec, "behaviour", "canary configuration changed")
        stored_signature = freshness.Signature.from_dict(stored["signature"])
        differences = signature.differences(stored_signature)
        if differences:
            return Verdict(spec, "behaviour", ", ".join(differences[:4]) + (" ..." if len(differences) > 4 else ""))
        return Verdict(spec, "fresh", "" if signature.matches(stored_signature, rtol=0.0) else "within rounding")

    def verdicts(self) -> list:
        return [self.verdict(s) for s in self.specs]

    def is_fresh(self, spec: RunSpec) -> bool:
        return self.verdict(spec).fresh

    @property
    def stale(self) -> list:
        """Specs whose cached result is missing or was produced by other code, data or settings."""
        return [v.spec for v in self.verdicts() if not v.fresh]

    # --- writing ------------------------------------------------------------------------------------
    def begin_regeneration(self) -> None:
        """Mark the study as being regenerated before its first new run is done: a complete study keeps its
        runs as its previous complete results (what the chapters show until it is complete again)."""
        if self.stored.get("complete") and "previous" not in self.stored:
            self.stored["previous"] = dict(self.records)
            self.stored["complete"] = False
            self.save()
        elif not self.path.exists():         # a new study: its file says its first generation is under way
            self.save()

    def store(self, spec: RunSpec, signed: dict) -> None:
        """Add a trained run (``train_signed``'s result) and write the file atomically. The first run stored
        into a complete study keeps its complete results under "previous" until it is complete again."""
        self.begin_regeneration()
        self.stored["complete"] = False
        self.records[spec.key] = signed["record"]
        self.stored["canaries"].update(signed["canaries"])
        self.stored["data"].update(signed["data"])
        self._fresh_keys().add(spec.key)
        if self._fresh_keys() >= set(self._keys()):
            self._prune()
            self.stored["complete"] = True
        self.save()

    def _fresh_keys(self) -> set:
        if self._fresh is None:
            self._fresh = {v.spec.key for v in self.verdicts() if v.fresh}
        return self._fresh

    def _keys(self) -> list:
        return [s.key for s in self.specs]

    def _prune(self) -> None:
        """The study is complete and fresh: drop the previous results and every record, canary and data
        summary no current run refers to."""
        self.stored.pop("previous", None)
        keys = set(self._keys())
        self.records = self.stored["runs"] = {k: r for k, r in self.records.items() if k in keys}
        used = {r["canary"] for r in self.records.values()}, {r["data_id"] for r in self.records.values()}
        self.stored["canaries"] = {k: v for k, v in self.stored["canaries"].items() if k in used[0]}
        self.stored["data"] = {k: v for k, v in self.stored["data"].items() if k in used[1]}

    def save(self) -> None:
        self.stored.update(study=self.study.name, version=self.study.version, quick=self.quick, format=FORMAT)
        write_atomic(self.path, self.stored)

    def run(self, progress: bool = True) -> "StudyResults":
        """Train every stale run in this process, saving after each one (see tpnb.studies.runner for
        parallel and distributed runs)."""
        from .runner import run_studies
        run_studies([self.study.name], quick=self.quick, workers=0, progress=progress)
        fresh = StudyResults(self.study.name, self.quick)
        self.stored, self.records = fresh.stored, fresh.records
        return self

    # --- reading ------------------------------------------------------------------------------------
    def __getitem__(self, key: str) -> History:
        return History.from_dict(self.records[key]["history"])

    def probes(self, key: str) -> list:
        """The run's per-epoch mechanism measurements (empty list for runs without probes)."""
        return self.records[key].get("probes", [])

    def spec(self, key: str) -> RunSpec:
        return next(s for s in self.specs if s.key == key)

    def network(self, key: str):
        """The trained network of a run that kept its weights (RunSpec.keep_weights); ValueError otherwise."""
        record = self.records[key]
        if "weights" not in record:
            raise ValueError(f"run {key!r} of {self.study.name!r} kept no weights (RunSpec.keep_weights)")
        net = self.spec(key).make_network()
        for w, stored in zip(net.weights, record["weights"]):
            w[...] = stored
        return net

    def items(self):
        """(spec, History) for every run of the study, in the study's order."""
        return [(s, self[s.key]) for s in self.specs]

    def select(self, **labels) -> list:
        """(spec, History) of the runs whose labels include every given label=value, in study order."""
        return [(s, self[s.key]) for s in self.specs
                if all(s.labels.get(k) == v for k, v in labels.items())]

    def as_previous(self) -> "StudyResults":
        """These results replaced by the previous complete ones (specs as they were then, with the labels
        of the current study's runs of the same key)."""
        previous = self.stored.get("previous", self.stored["runs"])
        labels = {s.key: s.labels for s in self.specs}
        self.records = previous
        self.specs = [spec_from_dict({**r["spec"], "labels": labels.get(k, r["spec"].get("labels", {}))})
                      for k, r in previous.items()]
        self.provisional = True
        return self

    @classmethod
    def unbuilt(cls, name: str, quick: bool | None = None) -> "StudyResults":
        """The stored runs of a study that cannot be built now (a study it depends on is not fresh)."""
        results = object.__new__(cls)
        results.study = get_study(name)
        results.quick = quick_mode() if quick is None else quick
        results.path = results_path(name, results.quick)
        results.stored = read_results_file(results.path, name)
        results.records, results.specs, results.provisional, results._fresh = results.stored["runs"], [], False, None
        return results


def checkpoint_dir() -> Path:
    """Where interrupted runs keep their state (beside the results; not committed)."""
    return results_dir() / "checkpoints"


def signing_key(spec: RunSpec) -> str:
    """What decides a run's signing without loading its data: its canary settings and its data options."""
    return freshness._digest([freshness.canary_config(spec, task=""), spec.data])


def signing(spec: RunSpec) -> tuple:
    """What signs a run: ((data id, data summary), (canary id, canary config, canary signature)). The runner
    has each distinct canary run once (as a task of its own, on a worker) and sends the signature with the
    run, so that no worker repeats a canary another one already ran."""
    return current_data(spec), current_canary(spec)


def train_signed(spec: RunSpec, study_version: int, signed_by: tuple | None = None) -> dict:
    """Train one run and sign it: the record with its settings hash, canary id and data id, and the canary
    and data-summary table entries. ``signed_by``: ``signing(spec)`` computed by the caller (else here)."""
    from .core import execute
    (data_id, summary), (canary_id, config, signature) = signing(spec) if signed_by is None else signed_by
    # the checkpoint is named after the run (settings, data, canary); it resumes while the code behaves the
    # same (core.read_checkpoint: today's canary signature, within rounding, and the objects' layout)
    settings = freshness.settings_hash(spec, study_version)
    name = freshness._digest([settings, data_id, canary_id])
    record = execute(spec, checkpoint=checkpoint_dir() / f"{name}.pkl", behaviour=signature.to_dict())
    record.update(settings=settings, canary=canary_id, data_id=data_id)
    return {"record": record, "canaries": {canary_id: {"config": config, "signature": signature.to_dict()}},
            "data": {data_id: summary.to_dict()}}


def stale_message(name: str, verdicts: list) -> str:
    bad = [v for v in verdicts if not v.fresh]
    shown = "; ".join(f"{v.spec.key} ({v.reason}{': ' + v.detail if v.detail else ''})" for v in bad[:3])
    return (f"study {name!r}: {len(bad)} of {len(verdicts)} runs missing or stale ({shown}"
            f"{' ...' if len(bad) > 3 else ''}); regenerate with `{regenerate_command(name)}`")


def fresh_results(name: str, quick: bool | None = None) -> StudyResults:
    """A study's results that must be complete and fresh (what another study's ``build`` reads);
    StaleResultsError otherwise. Never trains."""
    results = StudyResults(name, quick)
    verdicts = results.verdicts()
    if not all(v.fresh for v in verdicts):
        raise StaleResultsError(stale_message(name, verdicts))
    return results


def load(name: str, quick: bool | None = None, train: bool | None = None) -> StudyResults:
    """A study's results for a chapter.

    Fresh results are returned as they are. Missing or stale runs (and those of the studies it depends on)
    are trained only when ``train`` is true (default: in quick mode only; the full book never trains).
    Otherwise, while a regeneration is under way (the file keeps the previous complete results, or a study
    it depends on is being regenerated), the previous complete results are returned with
    ``provisional = True`` and a printed note; else StaleResultsError names the study, the stale runs and
    the command that regenerates them."""
    quick = quick_mode() if quick is None else quick
    if quick if train is None else train:
        from .runner import run_studies
        report = run_studies([name], quick=quick, workers=0, progress=False)
        if report.failed:
            raise RuntimeError(f"study {name!r}: {len(report.failed)} runs failed: {report.failed[0]}")
        if sum(report.trained.values()):
            print(f"study {name!r}: trained {sum(report.trained.values())} missing or stale runs "
                  f"({'quick mode' if quick else 'full mode'})")
        return StudyResults(name, quick)
    try:
        results = StudyResults(name, quick)
    except StaleResultsError:
        for dep in get_study(name).depends:           # raises unless each is fresh or being regenerated
            load(dep, quick, train=False)
        results = StudyResults.unbuilt(name, quick)
        if not (results.stored.get("complete") or "previous" in results.stored):
            raise
        print(f"Note: a study that {name!r} depends on is being regenerated; this page shows the previous "
              f"complete results of {name!r}. `{regenerate_command(name)}` completes it.")
        return results.as_previous()
    verdicts = results.verdicts()
    if all(v.fresh for v in verdicts):
        return results
    if "previous" in results.stored:
        done = sum(v.fresh for v in verdicts)
        print(f"Note: study {name!r} is being regenerated ({done} of {len(verdicts)} new runs done); "
              f"this page shows its previous complete results ({len(results.stored['previous'])} runs). "
              f"`{regenerate_command(name)}` completes it.")
        return results.as_previous()
    raise StaleResultsError(stale_message(name, verdicts))


__all__ = ["ResultsFileError", "StaleResultsError", "StudyResults", "Verdict", "fresh_results", "load", "read_results_file",
           "regenerate_command", "stale_message"]
