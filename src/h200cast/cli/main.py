"""The ``h200cast`` entry point: the parser of every command group, and error handling.

Errors in the user's input print one line naming the file, the key, the bad value and
what was expected, and exit with code 2; nothing is written. Heavy imports (pandas,
pyarrow, tqdm) happen only in the commands that need them, so ``run --json`` costs
little beyond the model itself.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from h200cast import __version__
from h200cast.cli import (
    check,
    estimate,
    evidence,
    notebooks,
    params,
    report,
    run,
    scenarios,
    score,
    sweep,
)
from h200cast.errors import InputError

GROUPS = (run, estimate, params, evidence, sweep, check, scenarios, score, notebooks, report)
"""Command modules, each with ``add(subparsers)``; their commands set ``func``."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="h200cast",
        description="What-if forecasts of China's H200 demand, shortfall, US fee revenue and domestic substitution.",
    )
    parser.add_argument("--version", action="version", version=f"h200cast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    from h200cast.io.signals import sigterm_interrupts

    try:
        with sigterm_interrupts():  # a kill unwinds as Ctrl-C does: cleaned up, exit 130
            code: int = args.func(args)
        return code
    except InputError as exc:
        print(f"h200cast: error: {exc.render()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("h200cast: interrupted; nothing was written", file=sys.stderr)
        # Everything this command held was unwound on the way here (temporary folders
        # removed, workers stopped). Leave now: a finaliser that runs during a normal exit
        # can see the interrupt a second time, and Python then reports death by SIGINT
        # instead of the documented 130.
        # (Only as the program itself: a caller passing argv gets 130 back.)
        if argv is None:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        return 130
    except BrokenPipeError:  # the reader of our output went away (`h200cast run | head`)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that Python's final flush does not fail again
        return 1
    except OSError as exc:  # the system refused a write: a full disk, a read-only folder
        where = f"{exc.filename}: " if exc.filename else ""
        print(
            f"h200cast: error: {where}{exc.strerror or exc}; expected a place where h200cast can "
            "write (free space, write permission); what was being written was not kept",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
