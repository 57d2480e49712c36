"""Test-wide settings: in CI (CI=true), hypothesis explores a fixed sequence of examples
so that a failure reproduces; locally it keeps exploring new ones."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
