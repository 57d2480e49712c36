"""The engine's tests are hand-computed on model 2's inputs as set on 2026-01-31.

That vintage observes no month (its forecast starts in January) and stops no production,
so each mechanism is seen from the first month, as the cases were worked out. The
latest vintage, whose months to April are observed, is tested in tests/results/.
"""

import pytest

from h200cast.settings import VINTAGE_ENV


@pytest.fixture(autouse=True)
def _january_vintage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VINTAGE_ENV, "2026-01-31")
