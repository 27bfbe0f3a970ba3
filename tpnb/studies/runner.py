"""Train the missing and stale runs of studies: in this process, on N local worker processes, or on a
Dask distributed cluster, through one ``concurrent.futures`` code path.

Runs are independent, so they are sent to the executor as soon as their study can be built (every study
it depends on is complete and fresh), taking the ready studies in turn so that each starts early; each finished run is written to its results file at once, in this
process only (atomically), so an interrupted run loses only the runs still in flight and the next call
resumes. Local workers use one BLAS thread each: with two cores, two workers keep both busy, and every
committed run is computed with the same thread count. Each distinct canary (tpnb.studies.freshness) is a task
of its own, run once on a worker before the runs that need it, which get its signature with them.
"""
from __future__ import annotations

import concurrent.futures as cf
import itertools
import multiprocessing
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field

from tqdm import tqdm

from .core import get_study
from .results import ResultsFileError, StaleResultsError, StudyResults, signing, signing_key, train_signed

ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass
class RunReport:
    """What a call of run_studies did: runs trained per study, and the runs that raised."""
    trained: dict = field(default_factory=dict)     # study -> number of runs trained
    failed: list = field(default_factory=list)      # (study, key, error message)
    set_aside: list = field(default_factory=list)   # damaged results files moved out of the way


def with_dependencies(names) -> list:
    """``names`` and every study they depend on, each after its dependencies."""
    order = []

    def visit(name, path=()):
        if name in path:
            raise ValueError(f"studies depend on each other in a cycle: {' -> '.join(path + (name,))}")
        if name not in order:
            for dep in get_study(name).depends:
                visit(dep, path + (name,))
            order.append(name)

    for name in names:
        visit(name)
    return order


@contextmanager
def executor_for(workers: int, scheduler: str | None):
    """A concurrent.futures executor: None (run in this process) for workers == 0 and no scheduler,
    local processes with one BLAS thread each, or a Dask cluster's executor at ``scheduler``."""
    if scheduler is not None:
        from distributed import Client
        with Client(scheduler) as client:
            yield client.get_executor()
        return
    if workers == 0:
        yield None
        return
    saved = {k: os.environ.get(k) for k in ONE_THREAD}
    os.environ.update(ONE_THREAD)             # spawned workers inherit the environment at start
    try:
        with cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            yield pool
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _open(name: str, quick: bool, report: RunReport) -> StudyResults:
    try:
        return StudyResults(name, quick)
    except ResultsFileError as err:
        from .core import results_path
        path = results_path(name, quick)
        aside = path.with_name(path.name + ".damaged")
        os.replace(path, aside)
        report.set_aside.append(str(aside))
        print(f"{err.args[0].split(';')[0]}; set aside as {aside}, rebuilding", file=sys.stderr)
        return StudyResults(name, quick)


def run_studies(names, *, quick: bool | None = None, workers: int = 0, scheduler: str | None = None,
                progress: bool = True) -> RunReport:
    """Train every missing or stale run of ``names`` (and of the studies they depend on).

    workers: 0 trains in this process; N >= 1 starts N local worker processes (one BLAS thread each).
    scheduler: address of a running Dask distributed scheduler (its workers need tpnb and the data).
    A run that raises is reported in the returned RunReport and the others go on; a run that diverges is
    a result (History.diverged_epoch), not an error."""
    from ..config import quick_mode
    quick = quick_mode() if quick is None else quick
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 0:
        raise ValueError(f"workers must be a whole number >= 0, got {workers!r}")
    order = with_dependencies(names)
    report = RunReport()
    bar = tqdm(total=0, desc="runs", disable=not progress, unit="run")
    with executor_for(workers, scheduler) as pool:
        waiting, open_studies, futures = list(order), {}, {}
        # with workers, each distinct signing (a canary and a data summary: results.signing) is a task of its
        # own, run once on a worker; the runs that need it are submitted with it when it is done. This
        # process loads no data: runs with the same canary settings and data share a signing.
        signings, signing_futures, needing = {}, {}, {}

        def submit_run(name, version, spec):
            if pool is None:
                futures[_Deferred(spec, version)] = (name, spec)
                return
            key = signing_key(spec)
            if key in signings:
                futures[pool.submit(train_signed, spec, version, signings[key])] = (name, spec)
                return
            if key not in needing:
                needing[key] = []
                signing_futures[pool.submit(signing, spec)] = key
            needing[key].append((name, version, spec))

        def submit_ready():
            batches = []
            for name in list(waiting):
                if any(dep in waiting or dep in open_studies for dep in get_study(name).depends):
                    continue
                waiting.remove(name)
                try:
                    results = _open(name, quick, report)
                except StaleResultsError as err:      # a dependency failed to complete
                    report.failed.append((name, "", str(err)))
                    continue
                todo = results.stale
                report.trained[name] = 0
                if not todo:
                    continue
                results.begin_regeneration()
                open_studies[name] = [results, len(todo)]
                bar.total += len(todo)
                bar.refresh()
                batches.append([(name, results.study.version, spec) for spec in todo])
            # round robin over the ready studies: each starts (and keeps its previous results shown) early
            for name, version, spec in (item for group in itertools.zip_longest(*batches) for item in group
                                        if item is not None):
                submit_run(name, version, spec)

        def signing_done(future):
            key = signing_futures.pop(future)
            try:
                signings[key] = future.result()
            except Exception as err:                  # noqa: BLE001 - its runs are reported, the others go on
                for name, _, spec in needing.pop(key):
                    report.failed.append((name, spec.key, f"signing: {type(err).__name__}: {err}"))
                    finished(name)
                return
            for name, version, spec in needing.pop(key):
                submit_run(name, version, spec)

        def finished(name):
            bar.update(1)
            open_studies[name][1] -= 1
            if open_studies[name][1] == 0:
                del open_studies[name]
                submit_ready()

        submit_ready()
        try:
            while futures or signing_futures:
                if pool is None:
                    done = [next(iter(futures))]
                else:
                    done, _ = cf.wait(list(futures) + list(signing_futures), return_when=cf.FIRST_COMPLETED)
                for future in done:
                    if future in signing_futures:
                        signing_done(future)
                        continue
                    name, spec = futures.pop(future)
                    bar.set_postfix_str(f"{name}: {spec.key}"[:60])
                    try:
                        record = future.result()
                    except Exception as err:          # noqa: BLE001 - reported, the other runs go on
                        report.failed.append((name, spec.key, f"{type(err).__name__}: {err}"))
                    else:
                        open_studies[name][0].store(spec, record)
                        report.trained[name] += 1
                    finished(name)
        except BaseException:
            for future in list(futures) + list(signing_futures):
                if pool is not None:
                    future.cancel()
            raise
        finally:
            bar.close()
    return report


class _Deferred:
    """A future-like wrapper that trains its run when its result is asked for (workers == 0)."""

    def __init__(self, spec, version: int):
        self.spec, self.version = spec, version

    def result(self):
        return train_signed(self.spec, self.version)


__all__ = ["RunReport", "executor_for", "run_studies", "with_dependencies"]
