"""``h200cast evidence check | show``: validate the evidence files, print facts with sources."""

from __future__ import annotations

import argparse
from typing import Any

from h200cast.errors import InputError


def add(sub: Any) -> None:
    """Register ``evidence`` and its subcommands."""
    ev = sub.add_parser("evidence", help="check the evidence files or show facts")
    esub = ev.add_subparsers(dest="evidence_command", required=True)
    esub.add_parser(
        "check", help="validate data/evidence/ and the observations in data/observations/"
    ).set_defaults(func=cmd_check)
    es = esub.add_parser("show", help="print facts with their sources")
    es.add_argument("ids", nargs="+", metavar="ID")
    es.set_defaults(func=cmd_show)


def cmd_check(args: argparse.Namespace) -> int:
    """Validate both evidence files."""
    from h200cast.estimation.evidence import load
    from h200cast.results.scoring import load_observations, load_states

    ev = load()
    observed, states = load_observations(), load_states()  # they cite the evidence
    print(
        f"ok  {len(ev.facts)} facts, {len(ev.sources)} sources; "
        f"{len(observed)} observations, {len(states)} states"
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print each fact named, its note and its source."""
    from h200cast.estimation.evidence import cached

    ev = cached()
    for fid in args.ids:
        if fid not in ev.facts:
            raise InputError(
                "unknown evidence id", file="data/evidence/facts.csv", key="id", value=fid
            )
        f = ev.facts[fid]
        s = ev.sources[f.source_id]
        num = (
            f"{f.value:g}"
            if f.value is not None
            else (f"{f.low:g}-{f.high:g}" if f.low is not None and f.high is not None else "-")
        )
        period = f" (period {f.period})" if f.period else ""
        print(f"{f.id}  {f.published}{period}  {f.topic}/{f.quantity} = {num} {f.unit}  ({f.kind})")
        print(f"      {f.note}")
        print(f"      source {s.source_id}: {s.publisher}, {s.title} <{s.url}>")
    return 0
