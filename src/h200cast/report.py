"""The batch report: every stance and path, one offline HTML report.

``h200cast report`` runs the model for each stance and path, executes the stance page
notebook once per run and the cross-stance analyses once (papermill, in worker
processes), converts each executed notebook to HTML with its code hidden, and writes:

* ``index.html``: the headline comparison (table with P5/P50/P95, charts as inline SVG),
  links to every page, the runs that failed, the sources of every evidence id used, and
  the manifest;
* ``whatif.html``: a chart with sliders (fee rate, selling price) that works in the
  browser with no kernel, Vega inlined;
* ``summary.csv``, ``results.parquet`` (every metric of every draw of every run),
  ``charts/*.png|svg``, ``manifest.json``; ``runs/NAME/page.ipynb|html`` and
  ``analyses/NAME.ipynb|html``.

The report is built in a temporary folder and moved into place only when complete;
``reports/latest`` then points at it. A notebook job whose inputs are unchanged
(notebook, parameters, resolved parameters, package version and source, seed, draws)
is copied from the previous report instead of run again; ``--force`` runs everything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from h200cast import __version__
from h200cast.atomic import atomic_dir, check_out_dir
from h200cast.errors import InputError
from h200cast.params import STANCES, available, default_params_dir, load_scenario
from h200cast.results import Result, run, summary_csv
from h200cast.runner import sigterm_interrupts

HEADLINE = (
    "demand_total_units",
    "shipments_total_units",
    "shortfall_total_units",
    "shortfall_beijing_units",
    "shortfall_buyers_units",
    "shortfall_us_rule_units",
    "shortfall_supply_units",
    "us_fee_revenue_total_usd",
    "us_fee_revenue_2026_usd",
    "us_fee_upper_total_usd",
    "compute_gap_total_units",
    "domestic_share_end",
    "months_to_domestic_share_50",
)
TABLE_HEADLINE = (
    "demand_total_units",
    "shipments_total_units",
    "shortfall_total_units",
    "us_fee_revenue_total_usd",
    "domestic_share_end",
    "months_to_domestic_share_50",
)
ANALYSES = ("04_domestic_substitution", "05_stance_comparison", "06_sensitivity", "07_scenarios")
LABELS = {
    "demand_total_units": "demand",
    "shipments_total_units": "shipped",
    "shortfall_total_units": "shortfall",
    "shortfall_beijing_units": "of which: Beijing",
    "shortfall_buyers_units": "buyers",
    "shortfall_us_rule_units": "US rule",
    "shortfall_supply_units": "supply",
    "us_fee_revenue_total_usd": "US duty collected, total",
    "us_fee_revenue_2026_usd": "US duty collected, 2026",
    "us_fee_upper_total_usd": "upper bound (25% of sales)",
    "compute_gap_total_units": "compute gap",
    "domestic_share_end": "domestic share at the end",
    "months_to_domestic_share_50": "months to 50% domestic",
}


@dataclass(frozen=True)
class Page:
    """A notebook the report executes: a stance page or a cross-stance analysis."""

    kind: str  # "run" or "analysis"
    name: str  # run label or notebook stem
    notebook: Path
    parameters: dict[str, Any]
    key: str  # cache key

    @property
    def folder(self) -> str:
        return f"runs/{self.name}" if self.kind == "run" else "analyses"

    @property
    def stem(self) -> str:
        return "page" if self.kind == "run" else self.name


def runs_requested(
    stances: Sequence[str] | None, paths: Sequence[str] | None, params_dir: Path
) -> list[tuple[str, str]]:
    """(kind, name) of each run: all stances and paths unless some are named."""
    if stances is None and paths is None:
        stances, paths = list(STANCES), available(params_dir, "paths")
    out = [("stance", s) for s in (stances or [])] + [("path", p) for p in (paths or [])]
    if not out:
        raise InputError(
            "nothing to run: name at least one stance or path", key="--stances/--paths"
        )
    return out


def source_digest() -> str:
    """SHA-256 of what a page depends on besides its notebook and parameters.

    The package's source and templates, the data the notebooks read (``data/``: history,
    evidence, observations), and the versions of the libraries that draw and convert the
    pages: a change to any of them invalidates cached pages.
    """
    from importlib.metadata import version

    from h200cast.evidence import default_data_dir

    h = hashlib.sha256()
    package = Path(__file__).parent
    data = default_data_dir()
    files = [*package.glob("*.py"), *package.glob("templates/*")]
    for f in sorted(files) + sorted(p for p in data.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(data if f.is_relative_to(data) else package)).encode())
        h.update(f.read_bytes())
    for lib in ("altair", "vl-convert-python", "nbconvert", "papermill", "pandas", "numpy"):
        h.update(f"{lib}={version(lib)}".encode())
    return h.hexdigest()


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def git_commit(root: Path) -> str | None:
    """The checkout's commit (with ``-dirty`` when it has uncommitted changes), if there is one."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if head.returncode:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def plan_pages(
    results: Sequence[Result],
    runs: Sequence[tuple[str, str]],
    analyses: Sequence[str],
    draws: int,
    seed: int,
) -> list[Page]:
    """The notebook jobs of a report, each with the key that decides whether it can be reused."""
    from h200cast.runner import STANCE_PAGE, notebook_paths

    src = source_digest()  # the parameters folder itself enters through each scenario's digest
    pages = []
    page_nb = notebook_paths([STANCE_PAGE])[0]
    for (kind, name), r in zip(runs, results, strict=True):
        params = {kind: name, "draws": draws, "seed": seed}
        pages.append(
            Page(
                "run",
                r.label,
                page_nb,
                params,
                _key(page_nb.read_bytes().hex(), params, r.scenario.digest(), __version__, src),
            )
        )
    every = sorted(r.scenario.digest() for r in results)
    chosen = (
        notebook_paths(list(analyses)) if analyses else []
    )  # no names would mean every notebook
    for nb in chosen:
        params = {"draws": draws, "seed": seed}
        pages.append(
            Page(
                "analysis",
                nb.stem,
                nb,
                params,
                _key(nb.read_bytes().hex(), params, every, __version__, src),
            )
        )
    return pages


def _previous(out: Path) -> tuple[Path | None, dict[str, Any]]:
    """The previous complete report at ``out`` (followed through a link) and its manifest."""
    prev = out.resolve() if out.exists() else None
    if prev is None or not (prev / "manifest.json").is_file():
        return None, {}
    try:
        return prev, json.loads((prev / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None, {}


@dataclass
class PageOutcome:
    page: Page
    ok: bool
    seconds: float
    cached: bool
    error: str = ""


def run_pages(
    pages: Sequence[Page],
    tmp: Path,
    previous: Path | None,
    old: dict[str, Any],
    force: bool,
    jobs: int | None,
    quiet: bool,
    params_dir: Path | None = None,
) -> list[PageOutcome]:
    """Reuse unchanged pages from the previous report, execute the rest, convert all to HTML.

    With ``params_dir``, the notebooks read their parameters from it, as the report does.
    """
    from h200cast.runner import Job, execute_many

    reused = {p["key"]: p for p in old.get("pages", []) if p.get("ok")}
    outcomes: dict[int, PageOutcome] = {}
    todo: list[tuple[int, Job]] = []
    for i, page in enumerate(pages):
        dest = tmp / page.folder
        dest.mkdir(parents=True, exist_ok=True)
        hit = reused.get(page.key)
        if not force and previous is not None and hit and _copy_page(previous, tmp, hit, page):
            outcomes[i] = PageOutcome(page, True, 0.0, True)
            continue
        params = {**page.parameters, "output_dir": str(dest / f"{page.stem}_files")}
        todo.append(
            (
                i,
                Job(
                    page.notebook,
                    dest / f"{page.stem}.ipynb",
                    params,
                    html=dest / f"{page.stem}.html",
                    env=(("H200CAST_PARAMS", str(params_dir.resolve())),) if params_dir else (),
                ),
            )
        )
    done = execute_many([job for _, job in todo], jobs, progress=not quiet) if todo else []
    for (i, _), o in zip(todo, done, strict=True):
        outcomes[i] = PageOutcome(pages[i], o.ok, o.seconds, False, o.error)
    return [outcomes[i] for i in range(len(pages))]


def _copy_page(previous: Path, tmp: Path, hit: dict[str, Any], page: Page) -> bool:
    src = previous / hit["folder"]
    files = [src / f"{hit['stem']}.ipynb", src / f"{hit['stem']}.html"]
    if not all(f.is_file() for f in files):
        return False
    dest = tmp / page.folder
    for f in files:
        shutil.copy2(f, dest / f.name)
    extra = src / f"{hit['stem']}_files"
    if extra.is_dir():
        shutil.copytree(extra, dest / extra.name, dirs_exist_ok=True)
    return True


def write_charts(results: Sequence[Result], tmp: Path) -> dict[str, str]:
    """Headline charts as PNG and SVG files; returns their inline SVG for the index."""
    import vl_convert as vlc

    from h200cast import figures

    (tmp / "charts").mkdir(exist_ok=True)
    built = {
        "stance_comparison": figures.stance_comparison(results)[0],
        "shortfall_by_run": figures.shortfall_by_run(results)[0],
    }
    inline = {}
    for name, chart in built.items():
        spec = chart.to_json()
        svg = vlc.vegalite_to_svg(spec)
        (tmp / "charts" / f"{name}.svg").write_text(svg, encoding="utf-8")
        (tmp / "charts" / f"{name}.png").write_bytes(vlc.vegalite_to_png(spec, scale=2))
        inline[name] = svg
    what_if = figures.fee_sliders(results)[0]
    (tmp / "whatif.html").write_text(
        vlc.vegalite_to_html(what_if.to_json(), bundle=True), encoding="utf-8"
    )
    return inline


def write_results(results: Sequence[Result], tmp: Path) -> None:
    """``summary.csv`` and ``results.parquet`` (every metric of every draw of every run)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp / "summary.csv").write_text(summary_csv(results), encoding="utf-8")
    tables = []
    for r in results:
        cols = {
            "run": pa.array([r.label] * r.draws).dictionary_encode(),
            "draw": pa.array(np.arange(r.draws, dtype=np.int32)),
        }
        cols.update({k: pa.array(v) for k, v in r.values.items()})
        tables.append(pa.table(cols))
    pq.write_table(
        pa.concat_tables(tables, promote_options="default"),
        tmp / "results.parquet",
        compression="zstd",
    )


def build_report(
    *,
    stances: Sequence[str] | None = None,
    paths: Sequence[str] | None = None,
    draws: int = 1000,
    seed: int = 20260131,
    jobs: int | None = None,
    out: Path | None = None,
    force: bool = False,
    quiet: bool = False,
    params_dir: Path | None = None,
    analyses: Sequence[str] = ANALYSES,
    reports_dir: Path | None = None,
) -> int:
    """Build the report; return 0 when every page ran, 1 when some failed (the report is complete anyway).

    Without ``out`` the report goes to ``reports/report-<UTC time>/`` and ``reports/latest``
    is pointed at it once it is complete; pages are reused from ``reports/latest``.
    """
    from tqdm import tqdm

    from h200cast.tables import comparison_table

    started = time.perf_counter()
    params_dir = Path(params_dir) if params_dir else default_params_dir()
    root = default_params_dir().parent  # the checkout: its reports/ and its git commit
    todo = runs_requested(stances, paths, params_dir)
    for kind, name in todo:  # fail early, naming the bad stance or path, before any work
        load_scenario(**{kind: name}, params_dir=params_dir)
    if analyses:  # and a bad notebook name
        from h200cast.runner import notebook_paths

        notebook_paths(list(analyses))
    reports_dir = Path(reports_dir) if reports_dir else root / "reports"
    latest = reports_dir / "latest"
    target = Path(out) if out else reports_dir / f"report-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    check_out_dir(target)  # refuse a folder that is not ours before any work
    previous, old = _previous(Path(out) if out and Path(out).exists() else latest)

    results = [
        run(**{kind: name}, draws=draws, seed=seed, params_dir=params_dir)
        for kind, name in tqdm(todo, desc="model", unit="run", disable=quiet, file=sys.stderr)
    ]
    pages = plan_pages(results, todo, analyses, draws, seed)
    with sigterm_interrupts(), atomic_dir(target) as tmp:
        outcomes = run_pages(pages, tmp, previous, old, force, jobs, quiet, params_dir)
        inline = write_charts(results, tmp)
        write_results(results, tmp)
        manifest = _manifest(
            results, todo, outcomes, draws, seed, root, time.perf_counter() - started
        )
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        (tmp / "index.html").write_text(
            index_html(results, outcomes, inline, manifest), encoding="utf-8"
        )
    if not out:
        _point_latest(latest, target)
        _prune(reports_dir, keep=KEEP)
    failed = [o for o in outcomes if not o.ok]
    print(
        f"h200cast {__version__}: {len(results)} runs, {draws} draws each, seed {seed}; P50 [P5-P95]"
    )
    print(comparison_table({r.label: r.summary for r in results}, TABLE_HEADLINE))
    cached = sum(o.cached for o in outcomes)
    print(
        f"\nwrote {target}/index.html ({len(outcomes)} pages, {cached} reused, {len(failed)} failed) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    for o in failed:
        print(f"FAILED {o.page.kind} {o.page.name}: {o.error}", file=sys.stderr)
    return 1 if failed else 0


KEEP = 5
"""How many reports ``reports/`` keeps (the newest; older ones are removed)."""


def _prune(reports_dir: Path, keep: int) -> None:
    """Remove all but the newest ``keep`` reports (``latest`` always points at the newest)."""
    for old in sorted(reports_dir.glob("report-*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def _point_latest(latest: Path, target: Path) -> None:
    """Point ``latest`` at ``target`` atomically (a relative link, replaced in one rename)."""
    tmp = latest.parent / f".latest-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target.name)
    if latest.exists() and not latest.is_symlink():  # an old plain folder from an earlier version
        shutil.rmtree(latest)
    os.replace(tmp, latest)


def _manifest(
    results: Sequence[Result],
    todo: Sequence[tuple[str, str]],
    outcomes: Sequence[PageOutcome],
    draws: int,
    seed: int,
    root: Path,
    seconds: float,
) -> dict[str, Any]:
    return {
        "package": "h200cast",
        "version": __version__,
        "git_commit": git_commit(root),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "draws": draws,
        "seed": seed,
        "runs": [
            {"kind": k, "name": n, "params_sha256": r.scenario.digest()}
            for (k, n), r in zip(todo, results, strict=True)
        ],
        "pages": [
            {
                "kind": o.page.kind,
                "name": o.page.name,
                "folder": o.page.folder,
                "stem": o.page.stem,
                "key": o.page.key,
                "ok": o.ok,
                "cached": o.cached,
                "seconds": round(o.seconds, 1),
                "error": o.error,
            }
            for o in outcomes
        ],
        "failed": [o.page.name for o in outcomes if not o.ok],
    }


# --- index.html ---------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1250px;
       color: #222; line-height: 1.45; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.88rem; margin: 0.8rem 0; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 0.3rem 0.6rem; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
td.l, th.l { text-align: left; }
.fail { color: #b00020; font-weight: 600; } .muted { color: #666; font-size: 0.85rem; }
.chart { margin: 1rem 0; overflow-x: auto; } iframe { border: 1px solid #ddd; width: 100%; height: 560px; }
code { background: #f4f4f4; padding: 0 0.2rem; }
"""


def _fmt(metric: str, stats: dict[str, float]) -> str:
    from h200cast.metrics import BY_NAME
    from h200cast.tables import scale

    _, (p5, p50, p95) = scale(BY_NAME[metric].unit, [stats["p5"], stats["p50"], stats["p95"]])
    return f"<b>{p50}</b><br><span class='muted'>{p5} to {p95}</span>"


def index_html(
    results: Sequence[Result],
    outcomes: Sequence[PageOutcome],
    inline: dict[str, str],
    manifest: dict[str, Any],
) -> str:
    """The report's front page, self-contained (charts are inline SVG)."""
    from h200cast.metrics import BY_NAME
    from h200cast.tables import scale

    e = html.escape
    pages = {(o.page.kind, o.page.name): o for o in outcomes}
    head = "".join(
        f"<th title='{e(m)}'>{e(LABELS[m])}<br><span class='muted'>{e(scale(BY_NAME[m].unit, [0])[0])}</span></th>"
        for m in HEADLINE
    )
    rows = []
    for r in results:
        o = pages.get(("run", r.label))
        link = (
            f"<a href='runs/{e(r.label)}/page.html'>{e(r.label)}</a>"
            if o and o.ok
            else f"{e(r.label)} <span class='fail'>(page failed)</span>"
        )
        cells = "".join(f"<td>{_fmt(m, r.summary[m])}</td>" for m in HEADLINE)
        rows.append(f"<tr><td>{link}</td>{cells}</tr>")
    analyses = "".join(
        f"<li><a href='analyses/{e(o.page.name)}.html'>{e(o.page.name)}</a></li>"
        if o.ok
        else f"<li class='fail'>{e(o.page.name)} failed</li>"
        for o in outcomes
        if o.page.kind == "analysis"
    )
    failures = [o for o in outcomes if not o.ok]
    fail_html = (
        (
            "<h2>Runs that failed</h2><table><tr><th class='l'>page</th><th class='l'>error</th></tr>"
            + "".join(
                f"<tr><td class='fail'>{e(o.page.kind)} {e(o.page.name)}</td>"
                f"<td class='l'><code>{e(o.error)}</code></td></tr>"
                for o in failures
            )
            + "</table>"
        )
        if failures
        else ""
    )
    m = manifest
    runs_meta = "".join(
        f"<tr><td>{e(x['name'])}</td><td class='l'><code>{e(x['params_sha256'][:16])}</code></td>"
        "</tr>"
        for x in m["runs"]
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>h200cast report</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>
<body>
<h1>h200cast: H200 sales to China under Beijing's stances</h1>
<p class="muted">h200cast {e(m["version"])}, commit {e(str(m["git_commit"]))}, {m["draws"]} draws per run, seed
{m["seed"]}, built {e(m["created_utc"])} in {m["seconds"]} s. Every number is the median (bold) and the 5th to 95th
percentile of the Monte Carlo draws.</p>

<h2>Headline comparison</h2>
<table><tr><th class="l">stance or path</th>{head}</tr>{"".join(rows)}</table>
<p class="muted">The shortfall is demand that never ships within the horizon, split into what Beijing blocks, what
the US rule (licences, the 50% cap, re-tightening) blocks and what supply cannot meet. Months to 50%: 37 means not
within 36 months. Each stance's page has its charts; the data are in <a href="summary.csv">summary.csv</a> and
<a href="results.parquet">results.parquet</a>.</p>
<div class="chart">{inline["stance_comparison"]}</div>
<div class="chart">{inline["shortfall_by_run"]}</div>

<h2>What if: fee rate and selling price</h2>
<p>Move the sliders: the chart applies a fee rate and a selling price to each run's modelled shipments (median draw,
over the horizon). It runs in the browser with no kernel; shipments are held as modelled, so the price slider does not
re-run the price response of demand. <a href="whatif.html">Open it on its own page.</a></p>
<iframe src="whatif.html" title="what-if chart"></iframe>

<h2>Analyses</h2><ul>{analyses}</ul>
{fail_html}
<h2>Sources</h2>
<p class="muted">Every evidence id that a parameter, a stance path or a switching chain of these runs cites.</p>
{sources_html(results)}
<h2>Manifest</h2>
<table><tr><th class="l">run</th><th class="l">SHA-256 of the resolved parameters</th></tr>{runs_meta}</table>
<p class="muted">Full manifest: <a href="manifest.json">manifest.json</a> (pages reused from the previous report are
marked <code>cached</code>).</p>
</body></html>
"""


def sources_html(results: Sequence[Result]) -> str:
    """A table of the facts cited by the runs, each linked to its source page."""
    from h200cast.evidence import cached
    from h200cast.params import cited

    ev = cached()
    ids = sorted(
        {i for r in results for _, xs in cited(r.scenario.model_dump(mode="python")) for i in xs}
    )
    e = html.escape
    rows = []
    for i in ids:
        f = ev.facts[i]
        s = ev.sources[f.source_id]
        value = (
            f"{f.value:g}"
            if f.value is not None
            else (f"{f.low:g}-{f.high:g}" if f.low is not None else "")
        )
        title = f"<a href='{e(s.url)}'>{e(s.title)}</a>" if s.url.startswith("http") else e(s.title)
        rows.append(
            f"<tr><td><code>{e(i)}</code></td><td class='l'>{e(str(f.date))}</td>"
            f"<td class='l'>{e(f.quantity)}</td><td>{e(value)} {e(f.unit)}</td>"
            f"<td class='l'>{e(s.publisher)}: {title}</td></tr>"
        )
    return (
        "<table><tr><th class='l'>id</th><th class='l'>date</th><th class='l'>quantity</th><th>value</th>"
        f"<th class='l'>source</th></tr>{''.join(rows)}</table>"
    )
