"""Run the benchmarks: ``python -m benchmarks [--pairs N] [--block S] [--quick] [--only NAME,...]`` from the repo root.

Prints a table and writes benchmarks/results/latest.json (atomically). BLAS runs with 2 threads: the
environment variables are set here, before numpy is first imported. Every rule is timed in pairs of
short blocks against its baseline and against the two's matrix products alone (benchmarks.rules).
"""
import os

THREADS = "2"
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = THREADS   # must precede the first numpy import (BLAS reads them at load time)

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks import gemm  # noqa: E402
from benchmarks.rules import QUIET, SPECS, Probe, peak_memory, slow_state_specs, time_spec  # noqa: E402
from tpnb.data import load  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
PAIRS, QUICK_PAIRS, WARMUP, BLOCK = 20, 6, 2, 5   # two full runs agreed within 5% on every ratio (README)
QUICK_RESULTS = RESULTS.with_name("quick.json")   # --quick never overwrites the full figures


def blas_info() -> dict:
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        return {"name": blas.get("name"), "version": blas.get("version"),
                "config": blas.get("openblas configuration")}
    except TypeError:  # numpy < 1.26 has no mode="dicts"
        return {"name": "unknown (see numpy.show_config())"}


def machine_info() -> dict:
    return {"cpu_count": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor(),
            "python": platform.python_version(), "numpy": np.__version__, "blas": blas_info(),
            "threads_env": {v: os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                           "MKL_NUM_THREADS")},
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None}


def write_atomic(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".latest-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=1, default=float)
        os.chmod(tmp, 0o644)   # mkstemp makes it private
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def verdict(spec, row) -> tuple:
    """(target text, met?) for a spec; ("", None) without a target."""
    if spec.min_gemm_fraction is not None:
        fraction = row.get("gemm_fraction")
        return (f">= {spec.min_gemm_fraction:.0%} GEMM-bound",
                None if fraction is None else fraction >= spec.min_gemm_fraction)
    if spec.max_seconds is not None:
        seconds = row["seconds_per_epoch"]
        return f"<= {spec.max_seconds:g} s", None if not np.isfinite(seconds) else seconds <= spec.max_seconds
    if spec.max_ratio is not None:
        ratio = row.get("ratio")
        return f"<= {spec.max_ratio:g}x BP", None if ratio is None else ratio <= spec.max_ratio
    return "", None


def _fmt(value, digits=2, suffix="") -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:.{digits}f}{suffix}"


def print_table(rows: list) -> None:
    head = ("benchmark", "network", "batch", "s/epoch", "x BP", "IQR", "GEMM x BP", "% bound", "target", "met",
            "load", "peak MiB", "notes")
    lines = []
    for r in rows:
        spread = r.get("ratio_spread") or {}
        iqr = "" if not spread.get("iqr") or r.get("ratio") is None else f"{spread['iqr'][0]:.2f}-{spread['iqr'][1]:.2f}"
        fraction = r.get("gemm_fraction")
        met = {True: "yes", False: "NO", None: ""}[r["met"]]
        notes = []
        if r["diverged"]:
            notes.append("DIVERGED: time invalid")
        if r["quiet_pairs"] < r["pairs_wanted"] and not r["diverged"]:
            notes.append(f"BUSY MACHINE: {r['quiet_pairs']} quiet pairs in {r['rounds']} rounds"
                         + ("" if r["quiet_pairs"] else " (figures from every round)"))
        if r["extrapolated"]:
            notes.append(f"extrapolated from {r['samples_timed']} samples")
        if r["feedback_epoch_seconds"]:
            notes.append(f"incl. {r['feedback_epoch_seconds']:.2f} s feedback epoch")
        if r.get("gemm_bound_seconds") is not None:
            notes.append(f"GEMM-bound {r['gemm_bound_seconds']:.2f} s")
        if r.get("baseline_gemm_fraction") is not None and r["baseline"] != r["name"]:
            notes.append(f"{r['baseline']} at {r['baseline_gemm_fraction']:.0%} of its bound")
        if r.get("slow_state"):
            notes.append(f"SLOW STATE (probe {r['probe_seconds'] * 1e3:.2f} ms, fastest {r['probe_fastest'] * 1e3:.2f}):"
                         " not comparable")
        elif r.get("slow_machine"):
            notes.append(f"slow probes around it ({min(r['probe_gflops']):.0f} GFLOP/s)")
        if not r["peak_below_bnd_tensor"]:
            notes.append(f"peak >= one (B,N,D) tensor ({r['bnd_tensor_mib']:.0f} MiB)!")
        if r["note"]:
            notes.append(r["note"])
        if r["baseline"] != r["name"] and r.get("ratio") is not None:
            notes.append(f"ratio vs {r['baseline']}")
        load = f"{r['load_average_before']:.1f}-{r['load_average_after']:.1f}"
        lines.append((r["name"], r["network"], str(r["batch"]), _fmt(r["seconds_per_epoch"]), _fmt(r.get("ratio")),
                      iqr, _fmt(r.get("gemm_ratio")), _fmt(None if fraction is None else 100 * fraction, 0, "%"),
                      r["target"], met, load, f"{r['peak_mib']:.1f}", "; ".join(notes)))
    widths = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    print(fmt(head))
    print(fmt(["-" * w for w in widths]))
    for l in lines:
        print(fmt(l))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=None,
                        help=f"block pairs per benchmark, medians taken (default {PAIRS}; --quick {QUICK_PAIRS}); "
                             f"{WARMUP} more run first and are discarded")
    parser.add_argument("--block", type=int, default=BLOCK,
                        help=f"training steps per block (default {BLOCK}; x 64 / batch below batch 64)")
    parser.add_argument("--epochs", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke check: 6000-sample subset, {QUICK_PAIRS} pairs, figures scaled to 60k")
    parser.add_argument("--only", default="",
                        help="comma-separated benchmark names (their backprop baselines run too)")
    parser.add_argument("--breakdown", action="store_true",
                        help="where the step time of backprop, exact TP and GTP goes outside their products "
                             "(benchmarks.breakdown.PHASES; with --only, those of them), instead of the table")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"results file (default {RESULTS}; with --quick {QUICK_RESULTS.name})")
    args = parser.parse_args(argv)
    if args.epochs is not None:
        parser.error("--epochs is gone: rules are timed in block pairs now; use --pairs N (see benchmarks/README.md)")
    if args.output is None:
        args.output = QUICK_RESULTS if args.quick else RESULTS
    pairs = args.pairs if args.pairs is not None else (QUICK_PAIRS if args.quick else PAIRS)
    if pairs < 1 or args.block < 1:
        parser.error("--pairs and --block must be >= 1")

    if args.breakdown:
        from benchmarks.breakdown import PHASES, print_breakdown
        wanted = [n for n in args.only.split(",") if n] or sorted(PHASES)
        unknown = [n for n in wanted if n not in PHASES]
        if unknown:
            parser.error(f"--breakdown lists phases of {sorted(PHASES)}, not of {unknown}")
        data = load("fashion_mnist")
        print_breakdown(wanted, data.subset(6000, 2000) if args.quick else data, rounds=6 if args.quick else 30)
        return 0

    by_name = {s.name: s for s in SPECS}
    wanted = [n for n in args.only.split(",") if n] or list(by_name)
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {', '.join(by_name)}")
    names = set(wanted) | {by_name[n].baseline for n in wanted}
    specs = [s for s in SPECS if s.name in names]       # SPECS order: baselines before their rules

    warmup = 1 if args.quick else WARMUP
    started = time.time()
    data = load("fashion_mnist")
    if args.quick:
        data = data.subset(6000, 2000)
    n_train = 60000 if args.quick else len(data.x_train)
    info = machine_info()
    print(f"numpy {info['numpy']}, BLAS {info['blas'].get('name')} {info['blas'].get('version')}, "
          f"{info['cpu_count']} CPUs, {THREADS} BLAS threads; load average {info['load_average']}", flush=True)
    square = gemm.square_rate()
    print(f"GEMM float64: {square:.1f} GFLOP/s (2048^3). "
          + ("quick smoke check: 6000-sample subset, figures scaled to 60k. " if args.quick else "")
          + f"{pairs} block pairs of {args.block} steps per benchmark (after {warmup} discarded): rule, "
          "baseline and both one's matrix products alone, back to back; medians over the pairs", flush=True)

    probe = Probe()
    probe.calibrate(2.0 if args.quick else 5.0)
    rows, failed, rerun = {}, {}, set()
    todo = list(specs)
    while todo:
        spec = todo.pop(0)
        print(f"  {spec.name} ...", end=" ", flush=True)
        run_spec = spec
        if args.quick and spec.samples is not None:
            run_spec = type(spec)(**{**spec.__dict__, "samples": min(spec.samples, 1000)})
        baseline = None if spec.baseline == spec.name else by_name[spec.baseline]
        load_before, probe_before = os.getloadavg()[0], gemm.probe()
        try:
            row = time_spec(run_spec, data, pairs, args.block, warmup, baseline, probe)
        except Exception as exc:  # one broken rule must not lose the other figures
            print(f"FAILED: {type(exc).__name__}: {exc}", flush=True)
            failed[spec.name] = f"{type(exc).__name__}: {exc}"
            continue
        row["load_average_before"] = load_before
        row["load_average_after"] = os.getloadavg()[0]
        row["probe_gflops"] = [probe_before, gemm.probe()]
        if args.quick:   # scale the subset figure to the full 60k set
            factor = n_train / len(data.x_train)
            for key in ("train_seconds", "feedback_epoch_seconds", "seconds_per_epoch", "gemm_bound_seconds"):
                if row[key] is not None:
                    row[key] *= factor
            row["extrapolated"] = True
        row["peak_mib"] = peak_memory(spec, data)
        # the tensor the rules must never form: one (batch, neurons, inputs) array of the widest layer
        row["bnd_tensor_mib"] = spec.batch * max(n * (d + 1) for d, n in zip(spec.sizes, spec.sizes[1:])) * 8 / 2 ** 20
        row["peak_below_bnd_tensor"] = spec.batch < 8 or row["peak_mib"] < row["bnd_tensor_mib"]
        main_bp = rows.get("backprop")
        row["ratio_to_main_backprop"] = (None if main_bp is None
                                         else row["seconds_per_epoch"] / main_bp["seconds_per_epoch"])
        row["target"], row["met"] = verdict(spec, row)
        if row["diverged"]:
            row["met"] = None
        row["rerun"] = spec.name in rerun
        if row["rerun"] and not row["quiet_pairs"]:
            row = rows[spec.name]                     # the rerun found no fast-state round either: keep the first
        rows[spec.name] = row
        if not todo and not args.quick and not rerun:
            # benchmarks timed in a slow state (their median probe slower than QUIET x the run's fastest,
            # which the first benchmarks had not seen yet): once more, against the run's fastest probe
            todo = slow_state_specs(specs, rows, probe.fastest)
            rerun = {s.name for s in todo}
            if todo:
                print(f"  again, in the fast state (probe {probe.fastest * 1e3:.2f} ms): "
                      + ", ".join(s.name for s in todo), flush=True)
        ratio = "" if row["ratio"] is None else f", {row['ratio']:.2f}x {spec.baseline}"
        fraction = "" if row["gemm_fraction"] is None else f", {row['gemm_fraction']:.0%} of its GEMM-bound"
        print(f"{row['seconds_per_epoch']:.2f} s/epoch{ratio}{fraction} (load {row['load_average_after']:.1f})",
              flush=True)

    fastest = max((max(r["probe_gflops"]) for r in rows.values()), default=0.0)
    for r in rows.values():   # a slow phase of the machine (shared host) during this benchmark
        r["slow_machine"] = min(r["probe_gflops"]) < 0.8 * fastest
        r["probe_fastest"] = probe.fastest
        r["slow_state"] = r["probe_seconds"] is not None and r["probe_seconds"] > QUIET * probe.fastest
    print()
    print_table(list(rows.values()))
    for name, error in failed.items():
        print(f"{name}: FAILED ({error})")
    payload = {"created_unix": started, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
               "wall_seconds": time.time() - started, "command": " ".join(sys.argv),
               "quick": args.quick, "pairs": pairs, "block": args.block, "warmup_pairs_discarded": warmup,
               "dtype": "float64 unless a row says float32", "n_train": n_train, "machine": info,
               "gemm": {"square_2048_gflops": square, "probe_fastest_gflops": fastest,
                        "probe_block_fastest_seconds": probe.fastest},
               "results": list(rows.values()), "failed": failed}
    write_atomic(args.output, payload)
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
