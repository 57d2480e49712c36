"""The ``h200cast`` command line.

Errors in the user's input print one line naming the file, the key, the bad value and
what was expected, and exit with code 2; nothing is written. Heavy imports (pandas,
pyarrow, tqdm) happen only in the commands that need them, so ``run --json`` costs
little beyond the model itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from h200cast import __version__
from h200cast.errors import InputError

DEFAULT_DRAWS = 1000
DEFAULT_SEED = 20260131
HEADLINE = (
    "demand_total_units",
    "shipments_total_units",
    "shortfall_total_units",
    "us_fee_revenue_total_usd",
    "domestic_share_end",
)


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {n}")
    return n


def _seed(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a seed >= 0, got {n}")
    return n


def _scenario_args(p: argparse.ArgumentParser) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="h200cast",
        description="What-if forecasts of China's H200 demand, shortfall, US fee revenue and domestic substitution.",
    )
    parser.add_argument("--version", action="version", version=f"h200cast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run the model for one stance or stance path")
    _scenario_args(r)
    r.add_argument(
        "--draws",
        type=_positive_int,
        default=DEFAULT_DRAWS,
        help=f"Monte Carlo draws (default {DEFAULT_DRAWS})",
    )
    r.add_argument(
        "--seed", type=_seed, default=DEFAULT_SEED, help=f"seed (default {DEFAULT_SEED})"
    )
    r.add_argument(
        "--point", action="store_true", help="one run with every parameter at its central value"
    )
    r.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    r.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write paths.parquet, summary.csv, scenario.yaml, manifest.json",
    )

    pr = sub.add_parser("params", help="check or show parameters")
    psub = pr.add_subparsers(dest="params_command", required=True)
    pc = psub.add_parser("check", help="validate parameter files")
    pc.add_argument("files", nargs="+", type=Path, metavar="FILE")
    ps = psub.add_parser("show", help="print the merged, resolved parameters with their evidence")
    _scenario_args(ps)
    ps.add_argument(
        "--json", action="store_true", help="nested JSON; its key paths are what --set takes"
    )
    sc = psub.add_parser("schema", help="print the JSON Schema, or write/check params/schema.json")
    mode = sc.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write params/schema.json")
    mode.add_argument("--check", action="store_true", help="fail when params/schema.json is stale")

    ev = sub.add_parser("evidence", help="check the evidence files or show facts")
    esub = ev.add_subparsers(dest="evidence_command", required=True)
    esub.add_parser("check", help="validate data/evidence/facts.csv and sources.csv")
    es = esub.add_parser("show", help="print facts with their sources")
    es.add_argument("ids", nargs="+", metavar="ID")

    rep = sub.add_parser("report", help="run every stance and path and write a summary")
    rep.add_argument(
        "--stances", nargs="*", metavar="NAME", default=None, help="stances (default: all)"
    )
    rep.add_argument(
        "--paths", nargs="*", metavar="NAME", default=None, help="stance paths (default: all)"
    )
    rep.add_argument("--draws", type=_positive_int, default=DEFAULT_DRAWS)
    rep.add_argument("--seed", type=_seed, default=DEFAULT_SEED)
    rep.add_argument("--out", type=Path, default=Path("reports/latest"), metavar="DIR")
    rep.add_argument("--quiet", action="store_true", help="no progress bar")
    rep.add_argument("--params-dir", type=Path, default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except InputError as exc:
        print(f"h200cast: error: {exc.render()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("h200cast: interrupted; nothing was written", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        return _cmd_run(args)
    if args.command == "params":
        return {"check": _cmd_params_check, "show": _cmd_params_show, "schema": _cmd_params_schema}[
            args.params_command
        ](args)
    if args.command == "evidence":
        return {"check": _cmd_evidence_check, "show": _cmd_evidence_show}[args.evidence_command](
            args
        )
    if args.command == "report":
        return _cmd_report(args)
    raise AssertionError(args.command)  # pragma: no cover


def _cmd_run(args: argparse.Namespace) -> int:
    from h200cast.results import run
    from h200cast.tables import metrics_table, stance_table

    res = run(
        stance=args.stance,
        path=args.path,
        switching=args.switching,
        overrides=args.overrides,
        draws=args.draws,
        seed=args.seed,
        point=args.point,
        params_dir=args.params_dir,
    )
    if args.out:
        res.write(args.out)
    if args.json:
        print(json.dumps(res.to_json(), indent=2))
    else:
        what = (
            f"stance {res.stance}"
            if res.stance
            else f"path {res.path}"
            if res.path
            else f"switching chain {res.switching}"
        )
        draws = (
            "point estimate (central values)"
            if res.point
            else f"{res.draws} draws, seed {res.seed}"
        )
        print(
            f"h200cast {__version__}: {what}, {draws}, {res.scenario.calendar.horizon_months} months "
            f"from {res.scenario.calendar.start}"
        )
        print(metrics_table(res.summary))
        if res.switching:
            print("\nshare of draws in each stance:")
            print(stance_table(res.stance_shares()))
        if args.out:
            print(f"\nwrote {args.out}/ (paths.parquet, summary.csv, scenario.yaml, manifest.json)")
    return 0


def _cmd_params_check(args: argparse.Namespace) -> int:
    from h200cast.params import check_file

    for f in args.files:
        kind = check_file(f)
        print(f"ok  {f}  ({kind})")
    return 0


def _cmd_params_show(args: argparse.Namespace) -> int:
    from h200cast.evidence import cached
    from h200cast.params import load_scenario

    sc = load_scenario(
        stance=args.stance,
        path=args.path,
        switching=args.switching,
        overrides=args.overrides,
        params_dir=args.params_dir,
    )
    tree = sc.model_dump(mode="json", exclude_none=True)
    if args.json:
        print(json.dumps(tree, indent=2))
        return 0
    print(_params_text(sc, cached()))
    return 0


def _params_text(sc, ev) -> str:
    from h200cast.model import specs
    from h200cast.tables import render

    rows, cited = [], set()
    for key, spec in specs(sc):
        dist = getattr(spec, "dist", None)
        if dist is None:
            shape = f"{spec.value:g}"
        else:
            fields = {
                k: v
                for k, v in spec.numbers().items()
                if k in ("low", "mode", "high", "mean", "sd")
            }
            shape = f"{dist}(" + ", ".join(f"{k}={v:g}" for k, v in fields.items()) + ")"
        why = " ".join(spec.evidence)
        if spec.assumption:
            why = (why + "; " if why else "") + f"assumption: {spec.assumption}"
        cited.update(spec.evidence)
        rows.append([key, shape, f"{spec.central():g}", spec.unit, why])
    steps = [
        f"{s.start} {s.stance} [{' '.join(s.evidence) or s.assumption}]" for s in sc.path.steps
    ]
    lines = [
        f"path {sc.path.name}: " + " -> ".join(steps),
        "",
        render(rows, ["key", "value or distribution", "central", "unit", "evidence / assumption"]),
        "",
        "sources of the cited evidence:",
    ]
    for sid in sorted({ev.facts[i].source_id for i in cited if i in ev.facts}):
        s = ev.sources[sid]
        lines.append(f"  {sid}  {s.publisher}, {s.date}: {s.title} <{s.url}>")
    return "\n".join(lines)


def _cmd_params_schema(args: argparse.Namespace) -> int:
    from h200cast.atomic import atomic_write_text
    from h200cast.params import default_params_dir, json_schema

    text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    target = default_params_dir() / "schema.json"
    if args.write:
        atomic_write_text(target, text)
        print(f"wrote {target}")
    elif args.check:
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if current != text:
            raise InputError(
                "stale: the schema generated from the models differs; run `h200cast params schema --write`",
                file=target,
            )
        print(f"ok  {target}")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_evidence_check(args: argparse.Namespace) -> int:
    from h200cast.evidence import load

    ev = load()
    print(f"ok  {len(ev.facts)} facts, {len(ev.sources)} sources")
    return 0


def _cmd_evidence_show(args: argparse.Namespace) -> int:
    from h200cast.evidence import cached

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
        print(f"{f.id}  {f.date}  {f.topic}/{f.quantity} = {num} {f.unit}  ({f.kind})")
        print(f"      {f.note}")
        print(f"      source {s.source_id}: {s.publisher}, {s.title} <{s.url}>")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from h200cast.report import build_summary

    return build_summary(
        stances=args.stances,
        paths=args.paths,
        draws=args.draws,
        seed=args.seed,
        out=args.out,
        quiet=args.quiet,
        params_dir=args.params_dir,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
