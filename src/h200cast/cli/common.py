"""What the command groups share: argument types, the scenario options, output-folder checks."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from h200cast.errors import InputError

DEFAULT_DRAWS = 1000
DEFAULT_SEED = 20260131


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {n}")
    return n


def seed(text: str) -> int:
    """An argparse type: a seed, a whole number >= 0."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a seed >= 0, got {n}")
    return n


def date(text: str) -> dt.date:
    """An argparse type: a date YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def scenario_args(p: argparse.ArgumentParser) -> None:
    """``--stance | --path | --switching``, ``--set`` and ``--params-dir``."""
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument(
        "--stance", metavar="NAME", help="a stance held throughout (params/stances/NAME.yaml)"
    )
    g.add_argument("--path", metavar="NAME", help="a stance path (params/paths/NAME.yaml)")
    g.add_argument(
        "--switching",
        metavar="NAME",
        help="Beijing's stance as a Markov chain (params/switching/NAME.yaml), sampled per draw",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override a parameter; KEY is a dotted key from `params show --json`, VALUE a YAML scalar",
    )
    p.add_argument(
        "--params-dir",
        type=Path,
        default=None,
        help="parameter folder (default: the checkout's params/)",
    )


def check_folder(folder: Path) -> None:
    """Fail unless ``folder`` (from --out) is a folder or can become one."""
    if folder.exists() and not folder.is_dir():
        raise InputError("expected a folder to write into", key="--out", value=str(folder))


def add_vintage(p: argparse.ArgumentParser) -> None:
    """``--vintage DATE``: the frozen parameter set as of DATE (default: the latest)."""
    p.add_argument(
        "--vintage",
        metavar="DATE",
        default=None,
        help="the view as of DATE, a vintage in params/vintages/ (default: the latest)",
    )


def vintage_name(args: argparse.Namespace) -> str:
    """The vintage ``--vintage`` names, checked (unknown, malformed or future: exit 2)."""
    from h200cast import settings
    from h200cast.scenario.vintage import vintage_file

    params = getattr(args, "params_dir", None) or settings.params_dir()
    return vintage_file(params, getattr(args, "vintage", None)).parent.name
