"""The ``h200cast`` command line: one module per command group, thin over the API."""

from h200cast.cli.main import main

__all__ = ["main"]
