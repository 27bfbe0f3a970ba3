"""Run-time settings read from the environment."""
from __future__ import annotations

import os
from pathlib import Path

QUICK_ENV = "TPNB_QUICK"          # "1": every study shrinks to a few seconds (CI, nbval)
RESULTS_ENV = "TPNB_RESULTS_DIR"  # where study results live (default: results/ beside the package)


def quick_mode() -> bool:
    """True when TPNB_QUICK is set to anything but "", "0" or "false"."""
    return os.environ.get(QUICK_ENV, "").strip().lower() not in ("", "0", "false", "no")


def results_dir(quick: bool | None = None) -> Path:
    """Folder of the study results: results/ for the full studies, results/quick/ for quick mode."""
    root = Path(os.environ.get(RESULTS_ENV, Path(__file__).resolve().parents[1] / "results"))
    return root / "quick" if (quick_mode() if quick is None else quick) else root
