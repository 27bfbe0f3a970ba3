"""Run the benchmarks: ``python -m benchmarks [--epochs N] [--quick] [--only NAME,...]`` from the repo root.

Prints a table and writes benchmarks/results/latest.json (atomically). BLAS runs with 2 threads: the
environment variables are set here, before numpy is first imported.
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
from benchmarks.rules import SPECS, peak_memory, time_spec  # noqa: E402
from tpnb.data import load  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
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


def verdict(spec, row, gemm_fraction) -> tuple:
    """(target text, met?) for a spec; ("", None) without a target."""
    if spec.min_gemm_fraction is not None:
        if gemm_fraction is None:
            return f">= {spec.min_gemm_fraction:.0%} GEMM-bound", None
        return f">= {spec.min_gemm_fraction:.0%} GEMM-bound", gemm_fraction >= spec.min_gemm_fraction
    if spec.max_seconds is not None:
        return f"<= {spec.max_seconds:g} s", row["seconds_per_epoch"] <= spec.max_seconds
    if spec.max_ratio is not None:
        ratio = row.get("ratio")
        return f"<= {spec.max_ratio:g}x BP", None if ratio is None else ratio <= spec.max_ratio
    return "", None


def print_table(rows: list) -> None:
    head = ("benchmark", "network", "batch", "s/epoch", "x BP", "target", "met", "peak MiB", "notes")
    lines = []
    for r in rows:
        ratio = "" if r.get("ratio") is None else f"{r['ratio']:.2f}"
        met = {True: "yes", False: "NO", None: ""}[r["met"]]
        notes = []
        if r["diverged_epoch"] is not None:
            notes.append(f"DIVERGED in epoch {r['diverged_epoch']}: time invalid")
        if r["extrapolated"]:
            notes.append(f"extrapolated from {r['samples_timed']} samples")
        if r["feedback_epoch_seconds"]:
            notes.append(f"incl. {r['feedback_epoch_seconds']:.2f} s feedback epoch")
        if r.get("gemm_fraction") is not None:
            notes.append(f"{r['gemm_fraction']:.0%} of GEMM-bound ({r['gemm_bound_seconds']:.2f} s)")
        if r.get("slow_machine"):
            notes.append(f"SLOW MACHINE PHASE (probe {min(r['probe_gflops']):.0f} GFLOP/s): re-run")
        if not r["peak_below_bnd_tensor"]:
            notes.append(f"peak >= one (B,N,D) tensor ({r['bnd_tensor_mib']:.0f} MiB)!")
        if r["note"]:
            notes.append(r["note"])
        if r["baseline"] != r["name"] and r.get("ratio") is not None:
            notes.append(f"ratio vs {r['baseline']}")
        lines.append((r["name"], r["network"], str(r["batch"]), f"{r['seconds_per_epoch']:.2f}", ratio,
                      r["target"], met, f"{r['peak_mib']:.1f}", "; ".join(notes)))
    widths = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    print(fmt(head))
    print(fmt(["-" * w for w in widths]))
    for l in lines:
        print(fmt(l))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3,
                        help="timed epochs per benchmark, median taken (default 3); one extra warm-up "
                             "epoch runs first and is discarded")
    parser.add_argument("--quick", action="store_true",
                        help="smoke check: 6000-sample subset, 1 epoch, no warm-up, figures scaled to 60k")
    parser.add_argument("--only", default="",
                        help="comma-separated benchmark names (their backprop baselines run too)")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"results file (default {RESULTS}; with --quick {QUICK_RESULTS.name})")
    args = parser.parse_args(argv)
    if args.output is None:
        args.output = QUICK_RESULTS if args.quick else RESULTS
    if args.epochs < 1:
        parser.error("--epochs must be >= 1")

    by_name = {s.name: s for s in SPECS}
    wanted = [n for n in args.only.split(",") if n] or list(by_name)
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {', '.join(by_name)}")
    names = set(wanted) | {by_name[n].baseline for n in wanted}
    specs = [s for s in SPECS if s.name in names]       # SPECS order: baselines before their rules

    epochs, warmup = (1, False) if args.quick else (args.epochs, True)
    started = time.time()
    data = load("fashion_mnist")
    if args.quick:
        data = data.subset(6000, 2000)
    n_train = 60000 if args.quick else len(data.x_train)
    info = machine_info()
    print(f"numpy {info['numpy']}, BLAS {info['blas'].get('name')} {info['blas'].get('version')}, "
          f"{info['cpu_count']} CPUs, {THREADS} BLAS threads; load average {info['load_average']}", flush=True)

    square = gemm.square_rate()
    # GEMM-bound epochs: backprop's (its target) and DDTP-linear's (how far its 8 s target is from the bound)
    bound_shapes = {"backprop": gemm.backprop_shapes, "ddtp_linear": gemm.ddtp_linear_shapes}
    bounds = {name: gemm.gemm_bound(shapes(by_name[name].sizes, by_name[name].batch), by_name[name].batch,
                                    n_train)
              for name, shapes in bound_shapes.items() if name in names}
    bound = bounds.get("backprop")
    print(("quick smoke check: 6000-sample subset, 1 epoch, figures scaled to 60k" if args.quick else
           f"seconds per epoch: median of {epochs} epochs after 1 discarded warm-up epoch; "
           "evaluation excluded (tpnb.train History.epoch_time)"), flush=True)
    print(f"GEMM float64: {square:.1f} GFLOP/s (2048^3)"
          + (f", {bound['rate_gflops']:.1f} GFLOP/s on backprop's batch-{bound['batch']} shapes; "
             f"GEMM-bound backprop epoch {bound['bound_seconds']:.2f} s" if bound else ""), flush=True)

    rows, failed = {}, {}
    for spec in specs:
        print(f"  {spec.name} ...", end=" ", flush=True)
        run_spec = spec
        if args.quick and spec.samples is not None:
            run_spec = type(spec)(**{**spec.__dict__, "samples": min(spec.samples, 1000)})
        baseline = None if spec.baseline == spec.name else by_name[spec.baseline]
        load_before, probe_before = os.getloadavg()[0], gemm.probe()
        try:
            row = time_spec(run_spec, data, epochs, warmup, baseline)
        except Exception as exc:  # one broken rule must not lose the other figures
            print(f"FAILED: {type(exc).__name__}: {exc}", flush=True)
            failed[spec.name] = f"{type(exc).__name__}: {exc}"
            continue
        row["load_average_before"] = load_before
        row["load_average_after"] = os.getloadavg()[0]
        row["probe_gflops"] = [probe_before, gemm.probe()]
        if args.quick:   # scale the subset figure to the full 60k set
            factor = n_train / len(data.x_train)
            for key in ("train_seconds", "feedback_epoch_seconds", "seconds_per_epoch"):
                row[key] *= factor
            row["extrapolated"] = True
        row["peak_mib"] = peak_memory(spec, data)
        # the tensor the rules must never form: one (batch, neurons, inputs) array of the widest layer
        row["bnd_tensor_mib"] = spec.batch * max(n * (d + 1) for d, n in zip(spec.sizes, spec.sizes[1:])) * 8 / 2 ** 20
        row["peak_below_bnd_tensor"] = spec.batch < 8 or row["peak_mib"] < row["bnd_tensor_mib"]
        main_bp = rows.get("backprop")
        row["ratio_to_main_backprop"] = (None if main_bp is None
                                         else row["seconds_per_epoch"] / main_bp["seconds_per_epoch"])
        if spec.name in bounds:
            # the bound again, right after the rule ran (the machine may be shared): keep the faster
            again = gemm.gemm_bound(bound_shapes[spec.name](spec.sizes, spec.batch), spec.batch, n_train)
            runs = [bounds[spec.name]["bound_seconds"], again["bound_seconds"]]
            bounds[spec.name] = min(bounds[spec.name], again, key=lambda b: b["bound_seconds"])
            bounds[spec.name]["bound_seconds_runs"] = runs
            row["gemm_bound_seconds"] = bounds[spec.name]["bound_seconds"]
            row["gemm_fraction"] = row["gemm_bound_seconds"] / row["seconds_per_epoch"]
        row["target"], row["met"] = verdict(spec, row, row.get("gemm_fraction"))
        if row["diverged_epoch"] is not None:
            row["met"] = None
        rows[spec.name] = row
        print(f"{row['seconds_per_epoch']:.2f} s/epoch", flush=True)

    fastest = max((max(r["probe_gflops"]) for r in rows.values()), default=0.0)
    for r in rows.values():   # a slow phase of the machine (shared host) during this benchmark
        r["slow_machine"] = min(r["probe_gflops"]) < 0.8 * fastest
    print()
    print_table(list(rows.values()))
    for name, error in failed.items():
        print(f"{name}: FAILED ({error})")
    payload = {"created_unix": started, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
               "wall_seconds": time.time() - started, "command": " ".join(sys.argv),
               "quick": args.quick, "epochs_timed": epochs, "warmup_epoch_discarded": warmup,
               "dtype": "float64 unless a row says float32", "n_train": n_train, "machine": info,
               "gemm": {"square_2048_gflops": square, "bounds": bounds,
                        "probe_fastest_gflops": fastest},
               "results": list(rows.values()), "failed": failed}
    write_atomic(args.output, payload)
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
