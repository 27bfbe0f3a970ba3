"""The study runner's parallel speed-up: ``python -m benchmarks.runner_speedup [--repeats N] [STUDY ...]``.

Trains the same quick-mode studies from nothing (a fresh results folder each time, a fresh process, so no
cache carries over) with ``run --workers 1`` and ``--workers 2``, alternately, ``--repeats`` times, and reports
each pair's ratio of wall-clock times (workers 1 / workers 2) and their median. The machine's speed states
move whole runs, so only ratios of neighbouring runs are compared. Writes
benchmarks/results/runner_speedup.json (atomically).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tpnb.studies.core import write_atomic

STUDIES = ("atlas_map", "atlas_variants", "random_tp_teacher", "teacher_tuning", "teacher_final")
RESULTS = Path(__file__).resolve().parent / "results" / "runner_speedup.json"


def timed_run(studies, workers: int) -> float:
    """Wall-clock seconds of ``python -m tpnb.studies run STUDIES --workers N`` in quick mode, from nothing."""
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, TPNB_QUICK="1", TPNB_RESULTS_DIR=folder, OPENBLAS_NUM_THREADS="1")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tpnb.studies", "run", *studies, "--workers", str(workers),
                        "--no-progress", "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("studies", nargs="*", default=list(STUDIES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    pairs = []
    for repeat in range(args.repeats):
        order = (1, 2) if repeat % 2 == 0 else (2, 1)      # alternate which goes first
        seconds = {workers: timed_run(args.studies, workers) for workers in order}
        pairs.append(seconds)
        print(f"repeat {repeat + 1}: workers 1 {seconds[1]:.1f} s, workers 2 {seconds[2]:.1f} s, "
              f"speed-up {seconds[1] / seconds[2]:.2f}x (load {os.getloadavg()[0]:.1f})", flush=True)
    ratios = [p[1] / p[2] for p in pairs]
    print(f"median speed-up {np.median(ratios):.2f}x over {len(ratios)} pairs (range {min(ratios):.2f}-"
          f"{max(ratios):.2f})")
    payload = {"studies": args.studies, "pairs": pairs, "speedups": ratios, "median_speedup": float(np.median(ratios)),
               "date": time.strftime("%Y-%m-%d %H:%M:%S"), "cpus": os.cpu_count()}
    write_atomic(args.output, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
