"""pyproject.toml and environment.yml must pin the same packages the same way."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _split(requirement: str) -> tuple:
    name, spec = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", requirement.strip()).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_pyproject_and_environment_pin_the_same_versions():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_reqs = project["dependencies"] + [r for group in project["optional-dependencies"].values()
                                          for r in group]
    conda_deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    conda_reqs = [d for d in conda_deps if isinstance(d, str) and not d.startswith(("python", "pip"))]
    # packages conda-forge does not have are installed by conda through pip (a "pip:" list)
    conda_reqs += [r for d in conda_deps if isinstance(d, dict) for r in d.get("pip", [])]
    assert dict(map(_split, pip_reqs)) == dict(map(_split, conda_reqs))


def test_jupyter_book_is_pinned_below_2():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    book = dict(map(_split, project["optional-dependencies"]["book"]))
    assert book["jupyter-book"] == ">=1.0.4,<2"
