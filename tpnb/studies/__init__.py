"""Named studies and their results cache. ``load(name)`` gives the results a chapter plots."""
from .core import STUDIES, RunSpec, Study, StudyResults, execute, fingerprint, get_study, load, study
from . import first_convergence  # noqa: F401  (registers the chapter-4 studies)
from . import random_direction  # noqa: F401  (registers the chapter-5 studies)

__all__ = ["STUDIES", "RunSpec", "Study", "StudyResults", "execute", "fingerprint", "get_study",
           "load", "study"]
