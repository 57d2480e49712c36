"""``h200cast params check | show | schema``: validate files, show resolved inputs, the JSON Schema.

``params check`` dispatches on what a file holds (a scenario file, an estimate, a sweep
spec, a checks file): the dispatch lives here, so that the schema does not import the
layers that read sweeps and checks.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from h200cast.cli import common
from h200cast.errors import InputError


def add(sub: Any) -> None:
    """Register ``params`` and its subcommands."""
    pr = sub.add_parser("params", help="check or show parameters")
    psub = pr.add_subparsers(dest="params_command", required=True)
    pc = psub.add_parser(
        "check",
        help="validate parameter files, or a vintage whole",
        description="Validate each FILE on its own. With --vintage DATE (and no file), check "
        "the vintage whole: every input of its scenarios cites only facts published by DATE, "
        "its estimates equal a refit on the rows published by DATE, and its content hash is "
        "the one recorded. With files and --vintage, the files must also cite nothing later.",
    )
    pc.add_argument("files", nargs="*", type=Path, metavar="FILE")
    common.add_vintage(pc)
    pc.add_argument("--params-dir", type=Path, default=None, help=argparse.SUPPRESS)
    pc.set_defaults(func=cmd_check)
    pr_ = psub.add_parser(
        "record",
        help="record a vintage's content hash after a deliberate change, with its reason",
    )
    pr_.add_argument("--vintage", metavar="DATE", required=True)
    pr_.add_argument("--reason", required=True, help="why the frozen vintage changed")
    pr_.set_defaults(func=cmd_record)
    ps = psub.add_parser("show", help="print the merged, resolved parameters with their evidence")
    common.scenario_args(ps)
    common.add_vintage(ps)
    ps.add_argument(
        "--json", action="store_true", help="nested JSON; its key paths are what --set takes"
    )
    ps.set_defaults(func=cmd_show)
    sc = psub.add_parser("schema", help="print the JSON Schema, or write/check params/schema.json")
    mode = sc.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write params/schema.json")
    mode.add_argument("--check", action="store_true", help="fail when params/schema.json is stale")
    sc.set_defaults(func=cmd_schema)


def check_file(file: Path) -> str:
    """Validate one file of ``params/`` on its own; return what kind of file it is."""
    from h200cast.io.yamlfile import load_yaml
    from h200cast.results.scenarios import evidence_ids
    from h200cast.scenario import load

    file = Path(file)
    data = load_yaml(file)
    if "target" in data and "spec" in data:
        from h200cast.estimation.estimate import ESTIMATES

        load.check_estimate_file(file, data, ESTIMATES)
        return "estimate"
    if "checks" in data and set(data) <= {"checks", "vintage"}:
        from h200cast.explore.checks import load_checks

        load_checks(file)
        return "checks"
    if "origin" in data and "history_path" in data:
        from h200cast.scenario.layers import Layers
        from h200cast.scenario.vintage import Vintage

        layers = Layers()
        layers.merge(data, str(file))
        load.validate(layers, Vintage)
        return "vintage"
    if "design" in data and "inputs" in data:
        from h200cast.explore.sweep import load_spec

        load_spec(file)
        return "sweep"
    return load.check_file(file, data, evidence_ids())


def cmd_check(args: argparse.Namespace) -> int:
    """Validate each file named, or a vintage whole."""
    from h200cast.results import vintages

    if not args.files:
        if args.vintage is None:
            raise InputError(
                "expected a file to check, or --vintage DATE to check a vintage whole",
                key="FILE",
            )
        v, digest = vintages.check(args.vintage, args.params_dir)
        print(
            f"ok  vintage {v.name}  (origin {v.origin}; {len(vintages.refs(v))} scenarios cite "
            f"only facts published by {v.date}; estimates refit; content hash {digest[:12]} as recorded)"
        )
        return 0
    day = None
    if args.vintage is not None:
        from h200cast.scenario.vintage import parse_date

        common.vintage_name(args)
        day = parse_date(args.vintage)
    for f in args.files:
        kind = check_file(f)
        if day is not None:
            _cites_by(Path(f), day)
        print(f"ok  {f}  ({kind}{f', cites nothing after {day}' if day else ''})")
    return 0


def _cites_by(file: Path, day: Any) -> None:
    """Fail when ``file`` cites a fact published after ``day``, naming the key and the id."""
    from h200cast.estimation.evidence import cached
    from h200cast.io.yamlfile import load_yaml
    from h200cast.scenario.load import cited

    facts = cached().facts
    for loc, ids in cited(load_yaml(file)):
        late = [i for i in ids if i in facts and facts[i].date > day]
        if late:
            raise InputError(
                f"cites evidence published after the vintage {day}: "
                + ", ".join(f"{i} ({facts[i].date})" for i in late),
                file=file,
                key=".".join(loc[:-1]),
                value=late,
            )


def cmd_record(args: argparse.Namespace) -> int:
    """Record a vintage's current content hash with a reason."""
    from h200cast.results import vintages

    f, digest = vintages.record(args.vintage, args.reason)
    print(f"recorded {digest[:12]} in {f}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print the resolved parameters: a table with evidence and sources, or nested JSON."""
    from h200cast.estimation.evidence import cached
    from h200cast.results.scenarios import load_scenario
    from h200cast.views.tables import params_text

    sc = load_scenario(
        stance=args.stance,
        path=args.path,
        switching=args.switching,
        overrides=args.overrides,
        params_dir=args.params_dir,
        vintage=args.vintage,
    )
    if args.json:
        print(json.dumps(sc.model_dump(mode="json", exclude_none=True), indent=2))
        return 0
    print(params_text(sc, cached()))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Print, write or check ``params/schema.json``."""
    from h200cast import settings
    from h200cast.io.atomic import atomic_write_text
    from h200cast.scenario.load import json_schema

    text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    target = settings.params_dir() / "schema.json"
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
