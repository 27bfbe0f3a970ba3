"""Settings shared by every test: the Hypothesis profiles of the property tests.

"ci" (the default) is deterministic: derandomize=True draws the same examples on every run and machine (they
depend only on the code: Hypothesis also mixes in constants it finds in the imported tpnb modules), so a
failure is reproducible and a green run stays green. No deadline (a shared 2-core CI machine has no stable
timing); a failing example is printed with the blob that replays it (@reproduce_failure). Nothing is written
into the repository: no example database, and Hypothesis's other cache (the constants it extracts from the
source) goes to a directory under the system temp dir unless HYPOTHESIS_STORAGE_DIRECTORY says otherwise.
Choose another profile with HYPOTHESIS_PROFILE, e.g. HYPOTHESIS_PROFILE=thorough for ten times the examples,
drawn afresh on each run.
"""
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

set_hypothesis_home_dir(os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY")
                        or Path(tempfile.gettempdir()) / "tpnb-hypothesis")
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=50, print_blob=True,
                          database=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", parent=settings.get_profile("ci"), derandomize=False, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
