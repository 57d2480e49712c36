"""Test-wide settings.

* In CI (CI=true), hypothesis explores a fixed sequence of examples so that a failure
  reproduces; locally it keeps exploring new ones.
* Notebooks run under nbval render charts as static SVG (set before any kernel starts).
"""

import os

from hypothesis import settings

from h200cast.settings import STATIC_ENV

os.environ[STATIC_ENV] = "1"

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
