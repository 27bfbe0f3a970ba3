"""python -m tpnb.studies list [NAME...] | status [NAME...] | run NAME... [--workers N] [--scheduler ADDRESS]

  list     the named studies, their versions and what they depend on
  status   per study: fresh, or which runs are missing or stale and why (never trains); exit code 0 only
           when every named study is complete and fresh. --quiet: only the studies that are not;
           --allow-previous: a study being regenerated that still has its previous complete results
           counts as fine (what the book build needs: it shows those results and says so)
  run      trains the missing and stale runs of the named studies (and of the studies they depend on);
           `run all` runs every study. TPNB_QUICK=1 selects the quick-mode studies (results/quick/).
"""
from __future__ import annotations

import argparse
import sys

from . import STUDIES
from .core import get_study
from .results import ResultsFileError, StaleResultsError, StudyResults
from .runner import run_studies


class UsageError(Exception):
    pass


def _names(names, command):
    if names == ["all"]:
        return list(STUDIES)
    if not names:
        if command == "run":
            raise UsageError("name the studies to run, or `all` for every study (hours of training); known: "
                             + ", ".join(STUDIES))
        return list(STUDIES)
    unknown = [n for n in names if n not in STUDIES]
    if unknown:
        raise UsageError(f"unknown study {unknown[0]!r}; known: {', '.join(STUDIES)}")
    return names


def status_line(name: str, allow_previous: bool = False) -> tuple:
    """(fine?, one line describing the study's results); never raises for a broken study. Fine: fresh, or
    (allow_previous) being regenerated with its previous complete results kept, or in its first generation
    (a results file that was never complete, or none while a study it depends on is in its first)."""
    try:
        results = StudyResults(name)
    except StaleResultsError:
        deps = get_study(name).depends
        waiting = [d for d in deps if not status_line(d)[0]]
        # fine to build around when what it waits for is: it shows its previous complete results, or it
        # has none yet (its first generation waits, and no chapter can show it until it is complete)
        fine = all(status_line(d, True)[0] for d in deps)
        if not fine:
            extra = ""
        elif _has_complete_results(name):
            extra = "; its previous complete results are shown"
        else:
            extra = "; its first generation waits for them"
        return allow_previous and fine, f"{name}: waiting for {', '.join(waiting or deps)}{extra}"
    except ResultsFileError as err:
        return False, f"{name}: damaged results file: {err}"
    except Exception as err:                        # noqa: BLE001 - status reports every study
        return False, f"{name}: cannot be built: {type(err).__name__}: {err}"
    verdicts = results.verdicts()
    bad = [v for v in verdicts if not v.fresh]
    if not bad:
        rounding = sum(v.detail == "within rounding" for v in verdicts)
        note = f" ({rounding} agree within rounding, not bit for bit)" if rounding else ""
        return True, f"{name}: fresh, {len(verdicts)} runs in {results.path}{note}"
    counts = {}
    for v in bad:
        counts[v.reason] = counts.get(v.reason, 0) + 1
    why = ", ".join(f"{n} {reason}" for reason, n in counts.items())
    keys = "; ".join(f"{v.spec.key} ({v.reason}{': ' + v.detail if v.detail else ''})" for v in bad[:5])
    more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
    if "previous" in results.stored:
        regenerating = " (regeneration under way; its previous complete results are shown)"
    elif results.path.exists() and not results.stored.get("complete"):
        regenerating = " (first generation under way: no chapter can show it until it is complete)"
    else:
        regenerating = ""
    return allow_previous and bool(regenerating), (f"{name}: STALE{regenerating}, {len(bad)} of {len(verdicts)} runs ({why}): {keys}{more}")


def _has_complete_results(name: str) -> bool:
    try:
        stored = StudyResults.unbuilt(name).stored
    except ResultsFileError:
        return False
    return bool(stored.get("complete") or "previous" in stored)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tpnb.studies", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["list", "status", "run"])
    parser.add_argument("names", nargs="*", help="study names, or 'all'")
    parser.add_argument("--workers", type=int, default=1,
                        help="local worker processes, one BLAS thread each (default 1; 0: this process)")
    parser.add_argument("--scheduler", default=None, help="address of a Dask distributed scheduler")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--quiet", action="store_true", help="status: print only the studies not fresh")
    parser.add_argument("--allow-previous", action="store_true",
                        help="status: a study being regenerated with its previous complete results is fine")
    args = parser.parse_args(argv)
    try:
        names = _names(args.names, args.command)
        if args.command == "list":
            for name in names:
                s = STUDIES[name]
                deps = f" [after {', '.join(s.depends)}]" if s.depends else ""
                print(f"{name} (v{s.version}){deps}: {s.description}")
            return 0
        if args.command == "status":
            ok = True
            for name in names:
                fine, line = status_line(name, args.allow_previous)
                ok &= fine
                if not (args.quiet and line.startswith(f"{name}: fresh")):
                    print(line, file=sys.stdout if fine else sys.stderr)
            if not ok:
                print(f"error: stale or missing results; `python -m tpnb.studies run NAME... --workers 2` "
                      f"regenerates them (the book never trains)", file=sys.stderr)
            return 0 if ok else 1
        if args.workers < 0:
            raise UsageError(f"--workers must be >= 0, got {args.workers}")
        report = run_studies(names, workers=args.workers, scheduler=args.scheduler,
                             progress=not args.no_progress)
        for name, n in report.trained.items():
            print(f"{name}: {n} runs trained")
        for name, key, message in report.failed:
            print(f"error: {name} {key}: {message}", file=sys.stderr)
        return 1 if report.failed else 0
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (ResultsFileError, StaleResultsError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: finished runs are saved; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
