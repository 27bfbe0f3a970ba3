"""Named studies and their results cache. ``load(name)`` gives the results a chapter plots."""
from .core import STUDIES, RunSpec, Study, execute, get_study, study
from .results import ResultsFileError, StaleResultsError, StudyResults, fresh_results, load
from .runner import run_studies
from . import first_convergence  # noqa: F401  (registers the chapter-4 studies)
from . import random_direction  # noqa: F401  (registers the chapter-5 studies)
from . import atlas  # noqa: F401  (registers the chapter 8-10 studies and the verdict's)
from . import side_by_side  # noqa: F401  (registers the chapter-11 studies)
from . import gauss_newton_family  # noqa: F401  (registers chapter 6's training study)
from . import gtp_xor  # noqa: F401  (registers chapter 7's training study)
from . import gtp_protocol  # noqa: F401  (registers chapter 11's seed-003 protocol studies)
from . import dtp_protocol  # noqa: F401  (registers chapter 16's seed-002 protocol study)
from . import affine_floor  # noqa: F401  (registers the chapter-13 causal test of the affine floor)
from . import interpretability  # noqa: F401  (registers the chapter-14 study of what theta' shows)
from . import floor_variants  # noqa: F401  (registers the chapter-13 variants on full Fashion-MNIST)

__all__ = ["STUDIES", "ResultsFileError", "RunSpec", "StaleResultsError", "Study", "StudyResults", "execute",
           "fresh_results", "get_study", "load", "run_studies", "study"]
