"""The ``h200cast`` command line.

Errors in the user's input print one line naming the file, the key, the bad value and
what was expected, and exit with code 2; nothing is written. Heavy imports (pandas,
pyarrow, tqdm) happen only in the commands that need them, so ``run --json`` costs
little beyond the model itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from h200cast import __version__
from h200cast.errors import InputError

DEFAULT_DRAWS = 1000
DEFAULT_SEED = 20260131


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


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


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
        help="write paths.parquet, summary.csv, scenario.yaml, manifest.json into DIR (a new or "
        "empty folder, or an earlier output of h200cast, which is replaced)",
    )

    r.add_argument(
        "--as-of",
        type=_date,
        metavar="DATE",
        help="refit estimated parameters on evidence published by DATE (YYYY-MM-DD)",
    )

    es_ = sub.add_parser(
        "estimate",
        help="refit the estimated parameters, print the fits and store them in params/estimates/",
        description="Refit each estimated parameter on data/history/, print the fit, and write it "
        "with a record of the data used to params/estimates/NAME.yaml (or --out DIR). With "
        "--as-of the refit uses only rows published by DATE and is a view of the past: it is "
        "printed, and written only with --out DIR, never over the stored estimates.",
    )
    es_.add_argument("names", nargs="*", metavar="NAME", help="estimates to fit (default: all)")
    es_.add_argument(
        "--as-of",
        type=_date,
        metavar="DATE",
        help="use only rows published by DATE; prints the fits, writes them only with --out",
    )
    wr = es_.add_mutually_exclusive_group()
    wr.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write NAME.yaml into DIR instead of params/estimates/",
    )
    wr.add_argument("--dry-run", action="store_true", help="print the fits, write nothing")
    wr.add_argument(
        "--check",
        action="store_true",
        help="write nothing; fail when params/estimates/ differs from a refit",
    )
    wr.add_argument(
        "--write",
        action="store_true",
        help="store the fits in params/estimates/ (the default; kept for older scripts)",
    )

    bt = sub.add_parser(
        "backtest",
        help="refit estimates up to cutoffs, score the later observations, write backtest.csv",
    )
    bt.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where to write backtest.csv, observations.csv (with --forecast) and manifest.json "
        "(default: reports/backtest/ in the checkout; replaced whole)",
    )
    bt.add_argument(
        "--forecast",
        type=Path,
        metavar="DIR",
        help="also score data/observations/ against a saved run (h200cast run --out DIR)",
    )
    bt.add_argument(
        "--observations",
        type=Path,
        metavar="FILE",
        help="observations file (default data/observations/observations.csv)",
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

    sw = sub.add_parser(
        "sweep", help="evaluate a parameter sweep; Sobol indices and scenario discovery"
    )
    sw.add_argument("spec", metavar="SPEC", help="a file, or a name in params/sweeps/")
    sw.add_argument(
        "--out", type=Path, metavar="DIR", help="results folder (default: sweeps/NAME/)"
    )
    sw.add_argument(
        "--jobs",
        type=_positive_int,
        default=None,
        help="local worker processes (default: one per core; 1: in-process)",
    )
    sw.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786",
    )
    sw.add_argument(
        "--resume", action="store_true", help="keep the finished chunks of an interrupted sweep"
    )
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.add_argument("--params-dir", type=Path, default=None)

    ck = sub.add_parser(
        "check", help="run the model checks in params/checks.yaml; exit 1 when any fails"
    )
    ck.add_argument(
        "file",
        nargs="?",
        type=Path,
        metavar="FILE",
        help="checks file (default params/checks.yaml)",
    )

    scn = sub.add_parser(
        "scenarios",
        help="bear / base / bull scenarios with their probabilities, and signposts to watch",
    )
    scn.add_argument(
        "--switching", default="from_2026_01_31", help="switching chain (default from_2026_01_31)"
    )
    scn.add_argument("--draws", type=_positive_int, default=20000)
    scn.add_argument("--seed", type=_seed, default=20260131)
    scn.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    scn.add_argument("--json", action="store_true", help="print JSON instead of tables")

    nbp = sub.add_parser("notebooks", help="execute the notebooks at their defaults (papermill)")
    nbp.add_argument("names", nargs="*", metavar="NAME", help="notebooks to run (default: all)")
    nbp.add_argument(
        "--refresh",
        action="store_true",
        help="write the executed notebooks back in place (what nbval checks against)",
    )
    nbp.add_argument(
        "--jobs", type=_positive_int, default=None, help="worker processes (default: cores)"
    )
    nbp.add_argument("--quiet", action="store_true", help="no progress bar")

    rep = sub.add_parser("report", help="build the offline HTML report for every stance and path")
    rep.add_argument(
        "--stances", nargs="*", metavar="NAME", default=None, help="stances (default: all six)"
    )
    rep.add_argument(
        "--paths", nargs="*", metavar="NAME", default=None, help="stance paths (default: all)"
    )
    rep.add_argument("--draws", type=_positive_int, default=DEFAULT_DRAWS)
    rep.add_argument("--seed", type=_seed, default=DEFAULT_SEED)
    rep.add_argument(
        "--jobs",
        type=_positive_int,
        default=None,
        help="notebook worker processes (default: cores)",
    )
    rep.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="where to write (default: reports/report-<time>/, then reports/latest points at it)",
    )
    rep.add_argument("--force", action="store_true", help="run every notebook, reusing nothing")
    rep.add_argument("--quiet", action="store_true", help="no progress bars")
    rep.add_argument(
        "--analyses",
        nargs="*",
        metavar="NOTEBOOK",
        default=None,
        help="cross-stance notebooks to include (default: 04, 05 and 06)",
    )
    rep.add_argument(
        "--params-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="parameters folder for the model and every page (default: params/)",
    )
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
    except BrokenPipeError:  # the reader of our output went away (`h200cast run | head`)
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that Python's final flush does not fail again
        return 1


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
    if args.command == "estimate":
        return _cmd_estimate(args)
    if args.command == "notebooks":
        return _cmd_notebooks(args)
    if args.command == "sweep":
        return _cmd_sweep(args)
    if args.command == "check":
        return _cmd_check(args)
    if args.command == "backtest":
        return _cmd_backtest(args)
    if args.command == "scenarios":
        return _cmd_scenarios(args)
    raise AssertionError(args.command)  # pragma: no cover


def _cmd_run(args: argparse.Namespace) -> int:
    from h200cast.atomic import check_out_dir
    from h200cast.results import run
    from h200cast.tables import metrics_table, stance_table

    if args.out:
        check_out_dir(args.out)  # before the model runs, so that a bad --out fails at once
    res = run(
        stance=args.stance,
        path=args.path,
        switching=args.switching,
        overrides=args.overrides,
        draws=args.draws,
        seed=args.seed,
        point=args.point,
        params_dir=args.params_dir,
        as_of=args.as_of,
    )
    if res.later_evidence:
        shown = ", ".join(res.later_evidence[:3]) + (", ..." if len(res.later_evidence) > 3 else "")
        print(
            f"h200cast: note: as of {args.as_of}, {len(res.later_evidence)} hand-set parameters still cite "
            f"later evidence ({shown}); see params_citing_later_evidence in --json",
            file=sys.stderr,
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
    from h200cast.report import ANALYSES, build_report

    return build_report(
        jobs=args.jobs,
        force=args.force,
        analyses=ANALYSES if args.analyses is None else args.analyses,
        stances=args.stances,
        paths=args.paths,
        draws=args.draws,
        seed=args.seed,
        out=args.out,
        quiet=args.quiet,
        params_dir=args.params_dir,
    )


def _cmd_estimate(args: argparse.Namespace) -> int:
    from h200cast.atomic import atomic_write_text
    from h200cast.estimate import ESTIMATES, estimates_dir, fit, to_yaml
    from h200cast.tables import fit_text

    if args.write and args.as_of:
        raise InputError(
            "an estimate stored in params/ must use all the evidence; drop --as-of to write, "
            "or write the as-of fits elsewhere with --out DIR",
            key="--as-of",
            value=args.as_of.isoformat(),
        )
    if args.out:
        _check_folder(args.out)
    names = args.names or list(ESTIMATES)
    fits, skipped = [], []
    for n in names:
        try:
            fits.append(fit(n, args.as_of))
        except InputError as err:
            # As of an early date some estimates have too little history; fit the others.
            if not (args.as_of and not args.names):
                raise
            skipped.append(err)
    if not fits:
        raise skipped[0]
    for err in skipped:
        print(f"h200cast: skipped, {err.render()}", file=sys.stderr)
    if args.check:
        return _check_estimates(fits)
    for f in fits:
        print(fit_text(f))
        print()
    if args.dry_run:
        return 0
    if args.as_of and not args.out:
        print(
            f"not written: a refit as of {args.as_of} is a view of the past; params/estimates/ "
            "keeps the fits on all the evidence (give --out DIR to save these)"
        )
        return 0
    folder = args.out or estimates_dir()
    for f in fits:
        target = folder / f"{f.name}.yaml"
        atomic_write_text(target, to_yaml(f), key="--out" if args.out else None)
        print(f"wrote {target}")
    return 0


def _check_folder(folder: Path) -> None:
    """Fail unless ``folder`` (from --out) is a folder or can become one."""
    if folder.exists() and not folder.is_dir():
        raise InputError("expected a folder to write into", key="--out", value=str(folder))


def _check_estimates(fits) -> int:
    import math

    from h200cast.estimate import estimates_dir
    from h200cast.params import load_yaml

    for f in fits:
        target = estimates_dir() / f"{f.name}.yaml"
        stored = load_yaml(target)
        for k, v in f.spec.items():
            old = stored.get("spec", {}).get(k)
            same = (
                math.isclose(old, v, rel_tol=1e-4, abs_tol=1e-9)
                if isinstance(v, float)
                else old == v
            )
            if not same:
                raise InputError(
                    f"stale: a refit gives {k}={v!r}; run `h200cast estimate`",
                    file=target,
                    key=f"spec.{k}",
                    value=old,
                )
        print(f"ok  {target}")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from h200cast import sweep
    from h200cast.atomic import atomic_write_text
    from h200cast.tables import render

    spec = sweep.load_spec(args.spec, args.params_dir)
    out = args.out or Path("sweeps") / spec.name
    m = sweep.run_sweep(
        spec,
        out,
        jobs=args.jobs,
        scheduler=args.scheduler,
        resume=args.resume,
        quiet=args.quiet,
        params_dir=args.params_dir,
    )
    print(
        f"sweep {spec.name}: {m['points']} points x {len(spec.run_names())} runs = {m['rows']} rows "
        f"({m['chunks']} chunks, {m['chunks_reused']} reused) in {m['seconds']} s on {m['scheduler']}; "
        f"wrote {out}/results.parquet"
    )
    if spec.sensitivity:
        s = sweep.sensitivity(spec, args.params_dir)
        df = s.frame()
        atomic_write_text(out / "sobol.csv", df.to_csv(index=False, lineterminator="\n"))
        print(
            f"\nSobol indices ({s.evaluations} model runs; {int(100 * s.confidence)}% bootstrap intervals):"
        )
        rows = [
            [
                r.output,
                "",
                r.input,
                f"{r.first:.3f} [{r.first_low:.3f}, {r.first_high:.3f}]",
                f"{r.total:.3f} [{r.total_low:.3f}, {r.total_high:.3f}]",
            ]
            for r in df.itertuples()
        ]
        print(render(rows, ["output", "", "input", "first order", "total"]))
    if spec.discovery:
        box, trajectory = sweep.discover(spec, out)
        d = spec.discovery
        what = f"{d.output} {'<' if d.below is not None else '>'} {d.below if d.below is not None else d.above:g}"
        atomic_write_text(
            out / "discovery.json",
            json.dumps(
                {
                    "outcome": what,
                    "rules": box.rules(),
                    "coverage": box.coverage,
                    "density": box.density,
                    "mass": box.mass,
                    "trajectory": [
                        {
                            "coverage": b.coverage,
                            "density": b.density,
                            "mass": b.mass,
                            "rules": b.rules(),
                        }
                        for b in trajectory
                    ],
                },
                indent=2,
            )
            + "\n",
        )
        print(
            f"\nScenario discovery (PRIM) for {what}: coverage {box.coverage:.2f}, density {box.density:.2f}, "
            f"{box.mass:.1%} of the points"
        )
        for rule in box.rules() or [
            "(no restriction: the outcome is spread over the whole design)"
        ]:
            print(f"  {rule}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from h200cast.checks import default_file, load_checks, results_table, run_checks

    file = args.file or default_file()
    results = run_checks(load_checks(file))
    print(results_table(results))
    failed = sum(not r.passed for r in results)
    print(f"\n{len(results) - failed} of {len(results)} checks passed ({file})")
    return 1 if failed else 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from h200cast import scenarios
    from h200cast.model import simulate
    from h200cast.params import load_scenario

    sc = load_scenario(switching=args.switching, overrides=args.overrides)
    p = simulate(sc, draws=args.draws, seed=args.seed)
    scen, signs = scenarios.scenario_table(p), scenarios.signpost_table(p)
    if args.json:
        doc = {
            "switching": args.switching,
            "draws": args.draws,
            "seed": args.seed,
            "scenarios": scen,
            "signposts": signs,
        }
        print(json.dumps(doc, indent=2, allow_nan=False, default=str).replace("NaN", "null"))
    else:
        print(f"{args.switching}: {args.draws:,} draws, seed {args.seed}\n")
        print(scenarios.render(scen, signs))
    return 0


def _cmd_notebooks(args: argparse.Namespace) -> int:
    import tempfile

    from h200cast.runner import Job, execute_many, notebook_paths

    paths = notebook_paths(args.names)
    with tempfile.TemporaryDirectory(prefix="h200cast-nb-") as tmp:
        jobs = [
            Job(p, p if args.refresh else Path(tmp) / p.name, {}, clean=args.refresh) for p in paths
        ]
        outcomes = execute_many(jobs, args.jobs, progress=not args.quiet)
    failed = 0
    for o in outcomes:
        status = "ok" if o.ok else "FAILED"
        print(
            f"{status:6}  {o.seconds:5.1f} s  {o.job.notebook.name}"
            + (f"\n        {o.error}" if o.error else "")
        )
        failed += not o.ok
    return 1 if failed else 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    from h200cast import backtest
    from h200cast.atomic import atomic_dir, check_out_dir
    from h200cast.params import default_params_dir
    from h200cast.tables import backtest_text

    out = args.out or default_params_dir().parent / "reports" / "backtest"
    check_out_dir(out)
    # read the observations before the (slower) backtests, so that a bad row fails at once
    observations = backtest.load_observations(args.observations) if args.forecast else []
    bt = backtest.run_all()
    scores = bt.scores
    print("Backtests (pseudo-out-of-sample: cutoffs are on the period a figure describes)")
    print(backtest_text(scores, backtest.coverage(scores)))
    for line in bt.skipped:
        print(f"skipped: {line}")
    observed = []
    if args.forecast:
        observed = backtest.score_observations(args.forecast, observations)
        print(f"\nObservations scored against {args.forecast}:")
        print(
            backtest_text(observed, backtest.coverage(observed))
            if observed
            else "(no observations in range)"
        )
    files = ["backtest.csv", *(["observations.csv"] if args.forecast else []), "manifest.json"]
    manifest = {
        "package": "h200cast",
        "version": __version__,
        "command": "backtest",
        "forecast": str(args.forecast) if args.forecast else None,
        "observations": len(observed),
        "skipped": bt.skipped,
        "files": files,
    }
    with atomic_dir(out) as tmp:
        (tmp / "backtest.csv").write_text(backtest.to_csv(scores), encoding="utf-8")
        if args.forecast:
            (tmp / "observations.csv").write_text(backtest.to_csv(observed), encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}/ ({', '.join(files)})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
