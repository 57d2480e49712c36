"""Test-wide settings.

* In CI (CI=true), hypothesis explores a fixed sequence of examples so that a failure
  reproduces; locally it keeps exploring new ones.
* Notebooks run under nbval render charts as static SVG (set before any kernel starts).
* What the suite caches between runs (the what-if page's Vega bundle) goes to a folder of
  the session's, not to the user's ``~/.cache``.
"""

import atexit
import os
import shutil
import tempfile

from hypothesis import settings

from h200cast.settings import CACHE_ENV, STATIC_ENV

os.environ[STATIC_ENV] = "1"
if not os.environ.get(CACHE_ENV):
    os.environ[CACHE_ENV] = tempfile.mkdtemp(prefix="h200cast-test-cache-")
    atexit.register(shutil.rmtree, os.environ[CACHE_ENV], True)

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
