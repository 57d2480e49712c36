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

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from h200cast import __version__, settings
from h200cast.errors import InputError
from h200cast.explore.cache import source_digest
from h200cast.io import manifest, parquet
from h200cast.io.atomic import atomic_dir, check_out_dir, is_output_dir, remove_stale_temporaries
from h200cast.io.signals import sigterm_interrupts
from h200cast.report.pages import Chart, Group, Link, add_nav, render, retitle, save_chart
from h200cast.results.result import Result, run
from h200cast.results.scenarios import load_scenario
from h200cast.results.store import summary_csv
from h200cast.scenario.load import available
from h200cast.scenario.ref import RefKind, ScenarioRef
from h200cast.scenario.schema import STANCES

if TYPE_CHECKING:
    from h200cast.report.sweeps import SweepPage

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
    title: str = ""  # the HTML page's title

    @property
    def folder(self) -> str:
        return f"runs/{self.name}" if self.kind == "run" else "analyses"

    @property
    def stem(self) -> str:
        return "page" if self.kind == "run" else self.name

    @property
    def href(self) -> str:
        """The page's HTML file, relative to the report's folder."""
        return f"{self.folder}/{self.stem}.html"

    @property
    def text(self) -> str:
        """Its name in the navigation bar: the run, or the analysis without its number."""
        if self.kind == "run":
            return self.name
        words = re.sub(r"^\d+_", "", self.name).replace("_", " ")
        return words[:1].upper() + words[1:]


def runs_requested(
    stances: Sequence[str] | None,
    paths: Sequence[str] | None,
    params_dir: Path,
    history_path: str | None = None,
    switching: Sequence[str] | None = None,
    own_chain: str | None = None,
) -> list[tuple[RefKind, str]]:
    """(kind, name) of each run: every stance and the vintage's history path unless some are
    named, then the switching chains named (none by default; an empty list: ``own_chain``,
    the vintage's)."""
    if stances is None and paths is None:
        stances = list(STANCES)
        paths = [history_path] if history_path else available(params_dir, "paths")
    if switching is not None and not switching:
        switching = [own_chain] if own_chain else available(params_dir, "switching")
    out: list[tuple[RefKind, str]] = [("stance", s) for s in (stances or [])]
    out += [("path", p) for p in (paths or [])]
    out += [("switching", c) for c in (switching or [])]
    if not out:
        raise InputError(
            "nothing to run: name at least one stance, path or switching chain",
            key="--stances/--paths/--switching",
        )
    return out


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
    digests: Sequence[str],
    runs: Sequence[tuple[RefKind, str]],
    analyses: Sequence[str],
    draws: int,
    seed: int,
    vintage: str = "",
) -> list[Page]:
    """The notebook jobs of a report, each with the key that decides whether it can be reused.

    ``digests`` are the digests of the runs' scenarios, in the order of ``runs``.
    """
    from h200cast.report.runner import STANCE_PAGE, heading, notebook_paths
    from h200cast.views.notebook import KIND_WORDS

    src = source_digest()  # the parameters folder itself enters through each scenario's digest
    png = settings.png_charts()  # a page built without PNG files is no page with them
    pages = []
    page_nb = notebook_paths([STANCE_PAGE])[0]
    for (kind, name), digest in zip(runs, digests, strict=True):
        params: dict[str, Any] = {kind: name, "draws": draws, "seed": seed, "vintage": vintage}
        pages.append(
            Page(
                "run",
                name,
                page_nb,
                params,
                _key(page_nb.read_bytes().hex(), params, digest, __version__, src, png),
                f"h200cast: {name} ({KIND_WORDS[kind]})",
            )
        )
    every = sorted(digests)
    chosen = (
        notebook_paths(list(analyses)) if analyses else []
    )  # no names would mean every notebook
    chains = [name for kind, name in runs if kind == "switching"]
    for nb in chosen:
        raw = nb.read_bytes()
        params = {"draws": draws, "seed": seed, "vintage": vintage}
        if chains:  # the analyses take the first chain as the run their parameters select
            params["switching"] = chains[0]
        pages.append(
            Page(
                "analysis",
                nb.stem,
                nb,
                params,
                _key(raw.hex(), params, every, __version__, src, png),
                f"h200cast: {heading(json.loads(raw)) or nb.stem}",
            )
        )
    return pages


def _previous(out: Path) -> tuple[Path | None, dict[str, Any]]:
    """The previous complete report at ``out`` (followed through a link) and its manifest."""
    prev = out.resolve() if out.exists() else None
    if prev is None or not (prev / "manifest.json").is_file():
        return None, {}
    try:
        record = json.loads((prev / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # unreadable, not UTF-8 or not JSON: nothing to reuse
        return None, {}
    if not isinstance(record, dict) or record.get("package") != "h200cast":
        return None, {}
    return prev, record


@dataclass
class PageOutcome:
    page: Page
    ok: bool
    seconds: float
    cached: bool
    error: str = ""


@contextlib.contextmanager
def pages_started(
    pages: Sequence[Page],
    tmp: Path,
    previous: Path | None,
    old: dict[str, Any],
    force: bool,
    jobs: int | None,
    params_dir: Path | None = None,
) -> Iterator[PagesStarted]:
    """Reuse unchanged pages from the previous report and start the rest in workers; then
    (:meth:`PagesStarted.wait`) wait for them, each converted to HTML.

    With ``params_dir``, the notebooks read their parameters from it, as the report does.

    The report makes its own runs and charts between the two, while the workers run the
    notebooks; leaving the block on an exception stops the running notebooks.
    """
    from h200cast.report.runner import Job, Running

    pages_before = old.get("pages")
    listed: list[Any] = pages_before if isinstance(pages_before, list) else []
    reused = {
        p["key"]: p
        for p in listed
        if isinstance(p, dict) and p.get("ok") and isinstance(p.get("key"), str)
    }
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
                    clean=True,  # no timings: the same inputs give the same page
                    html=dest / f"{page.stem}.html",
                    env=(("H200CAST_PARAMS", str(params_dir.resolve())),) if params_dir else (),
                    shown={**page.parameters, "output_dir": f"{page.stem}_files"},
                    title=page.title,
                ),
            )
        )

    with Running([job for _, job in todo], jobs) as running:

        def wait(progress: bool) -> list[PageOutcome]:
            done = running.collect(progress) if todo else []
            for (i, _), o in zip(todo, done, strict=True):
                outcomes[i] = PageOutcome(pages[i], o.ok, o.seconds, False, o.error)
            return [outcomes[i] for i in range(len(pages))]

        yield PagesStarted(len(todo), wait)


@dataclass(frozen=True)
class PagesStarted:
    """Pages being made: how many run (the rest were reused), and the wait for all of them."""

    running: int
    wait: Callable[[bool], list[PageOutcome]]


def page_files(folder: Path, stem: str) -> dict[str, str]:
    """SHA-256 of each file of a page (``STEM.ipynb``, ``STEM.html``, ``STEM_files/*``),
    by path relative to ``folder``."""
    found = [folder / f"{stem}.ipynb", folder / f"{stem}.html"]
    extra = folder / f"{stem}_files"
    if extra.is_dir():
        found += sorted(f for f in extra.rglob("*") if f.is_file())
    return {
        f.relative_to(folder).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in found
        if f.is_file()
    }


def _copy_page(previous: Path, tmp: Path, hit: dict[str, Any], page: Page) -> bool:
    """Copy a previous page into the new report, only if every file is as its manifest says.

    A page whose files are missing, changed or damaged since they were written (or that
    an older manifest lists without hashes) is run again instead.
    """
    files = hit.get("files")
    if (
        hit.get("folder") != page.folder
        or hit.get("stem") != page.stem
        or not isinstance(files, dict)
    ):
        return False
    src = previous / page.folder
    try:
        if page_files(src, page.stem) != files or not files:
            return False
        _copy_files(src, tmp / page.folder, files)
    except OSError:
        return False
    return True


def _copy_files(src: Path, dest: Path, files: Iterable[str]) -> None:
    """Copy each of ``files`` (paths relative to ``src``) to the same path under ``dest``."""
    for rel in files:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, dest / rel)


WHATIF_DRAWS = 200
"""Draws per point of the what-if grid (common to every point of a run)."""


def write_charts(results: Sequence[Result], tmp: Path) -> dict[str, Chart]:
    """Headline charts as SVG files (and PNG where asked) with their tables (CSV); the charts
    for the index."""
    from h200cast.views import figures

    inline = {
        "stance_comparison": save_chart(
            tmp, "charts", "stance_comparison", figures.stance_comparison(results)
        ),
        "shortfall_by_run": save_chart(
            tmp, "charts", "shortfall_by_run", figures.shortfall_by_run(results)
        ),
    }
    return inline


def write_what_if(
    results: Sequence[Result],
    tmp: Path,
    vintage: Any,
    previous: Path | None,
    old: dict[str, Any],
    force: bool,
) -> dict[str, str]:
    """``whatif.html``, copied from the previous report when its inputs are the same (the grid
    is the slowest part of a cached build) and its file is the one the previous manifest
    recorded, else computed; returns its key and whether it was copied."""
    key = _key(
        "whatif",
        [r.scenario.digest() for r in results],
        vintage.name if vintage else None,
        WHATIF_DRAWS,
        __version__,
        source_digest(),
    )
    found = old.get("whatif")
    before: dict[str, Any] = found if isinstance(found, dict) else {}
    target = tmp / "whatif.html"
    if not force and previous is not None and before.get("key") == key:
        src = previous / "whatif.html"
        try:
            if hashlib.sha256(src.read_bytes()).hexdigest() == before.get("sha256"):
                shutil.copy2(src, target)  # its navigation bar is replaced with this report's
                return {"key": key, "cached": "yes"}
        except OSError:
            pass  # missing or unreadable: computed again below
    target.write_text(what_if_page(results, vintage), encoding="utf-8")
    return {"key": key, "cached": "no"}


def what_if_page(results: Sequence[Result], vintage: Any = None) -> str:
    """The kernel-free what-if over the levers, from a grid computed here for the stance and path runs."""
    from h200cast.explore.whatif import grid, levers_for
    from h200cast.views import whatif

    runs = [(r.label, r.scenario) for r in results if r.ref.kind != "switching"]
    if not runs:
        raise InputError("the what-if needs a stance or path run", key="--stances/--paths")
    observed = vintage is not None and vintage.origin > runs[0][1].calendar.start
    rows = grid(runs, draws=WHATIF_DRAWS, vintage=vintage if observed else None)
    figure = whatif.chart(
        rows,
        levers_for(runs[0][1]),
        [label for label, _ in runs],
        whatif.caption_lines(WHATIF_DRAWS, vintage.name if vintage else None, observed),
    )
    intro = (
        "Choose Beijing's stance or path and the levers below: the bars show the model's "
        "answer for that combination, precomputed for every combination (no kernel, no "
        "network). The address keeps your choice, so a what-if can be linked to."
    )
    return whatif.page(figure, "What if: H200 sales to China under the levers", intro)


def write_results(results: Sequence[Result], tmp: Path) -> None:
    """``summary.csv`` and ``results.parquet`` (every metric of every draw of every run)."""
    import numpy as np
    import pyarrow as pa

    (tmp / "summary.csv").write_text(summary_csv(results), encoding="utf-8")
    tables = []
    for r in results:
        cols = {
            "run": pa.array([r.label] * r.draws).dictionary_encode(),
            "draw": pa.array(np.arange(r.draws, dtype=np.int32)),
        }
        cols.update({k: pa.array(v) for k, v in r.metrics.items()})
        tables.append(pa.table(cols))
    parquet.write(pa.concat_tables(tables, promote_options="default"), tmp / "results.parquet")


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
    vintage: str | None = None,
    switching: Sequence[str] | None = None,
    sweeps: Sequence[Path] = (),
) -> int:
    """Build the report; return 0 when every page ran, 1 when some failed (the report is complete anyway).

    ``stances`` and ``paths`` default to every stance and the vintage's reported path;
    ``switching`` names chains to run beside them (``None``: none; an empty list: the
    vintage's own chain). Each of ``sweeps`` (a finished ``h200cast sweep`` folder) gets a
    page with its Sobol indices and PRIM box.

    Without ``out`` the report goes to ``reports/report-<UTC time>/`` and ``reports/latest``
    is pointed at it once it is complete; pages are reused from ``reports/latest``.
    """
    from tqdm import tqdm

    started_at = time.perf_counter()
    params_dir = Path(params_dir) if params_dir else settings.params_dir()
    root = settings.params_dir().parent  # the checkout: its reports/ and its git commit
    from h200cast.scenario.load import load_vintage

    v, _ = load_vintage(params_dir, vintage)
    todo = runs_requested(stances, paths, params_dir, v.history_path, switching, v.switching)
    scenarios = _load_requested(todo, analyses, params_dir, v.name)
    _check_draws(scenarios, draws)  # before any progress bar or run
    swept = _load_sweeps(sweeps)
    reports_dir = Path(reports_dir) if reports_dir else root / "reports"
    latest = reports_dir / "latest"
    target = Path(out) if out else reports_dir / f"report-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    check_out_dir(target)  # refuse a folder that is not ours before any work
    if not out:
        check_latest(latest)
    remove_stale_temporaries(target.parent)  # left by builds that were killed
    previous, old = _previous(Path(out) if out and Path(out).exists() else latest)

    # the pages need only each run's scenario: they start first, and the report makes its
    # own runs, charts, what-if grid and track record while the workers run the notebooks
    digests = [sc.digest() for sc in scenarios]
    pages = plan_pages(digests, todo, analyses, draws, seed, v.name)
    # the front (index, charts, results, track record, sources, what-if) is copied from
    # the previous report when its inputs are the same and every page is reused
    front_key = _front_key(todo, digests, analyses, draws, seed, v.name, params_dir, root, swept)
    with (
        sigterm_interrupts(),
        atomic_dir(target) as tmp,
        pages_started(pages, tmp, previous, old, force, jobs, params_dir) as started,
    ):
        front = None
        if not force and started.running == 0:
            front = _copy_front(previous, tmp, old, front_key)
        if front is not None:
            outcomes = started.wait(not quiet)
            groups = nav_groups(outcomes, swept)
            add_navigation(tmp, outcomes, groups)
            runs, table = old["runs"], front["table"]
            when = (old.get("vintage"), old.get("origin"))
            record = _manifest(runs, when, outcomes, draws, seed, root, tmp, swept)
            record["whatif"] = old["whatif"]
            what_if_cached = True
            _write_sweeps(swept, tmp, groups)
        else:
            _warm_charts()  # in the background, while the runs are made
            results = [
                run(
                    ScenarioRef(kind, name),
                    draws=draws,
                    seed=seed,
                    params_dir=params_dir,
                    vintage=v.name,
                )
                for kind, name in tqdm(
                    todo, desc="model", unit="run", disable=quiet, file=sys.stderr
                )
            ]
            cards = track_record(v, params_dir, seed)
            inline = write_charts(results, tmp)
            what_if = write_what_if(results, tmp, v, previous, old, force)
            write_results(results, tmp)
            track_charts = write_track_record_files(cards, tmp)
            outcomes = started.wait(not quiet)
            groups = nav_groups(outcomes, swept)
            add_navigation(tmp, outcomes, groups)
            inline.update(write_track_record(cards, v, tmp, track_charts, groups))
            write_sources(results, tmp, groups)
            _write_sweeps(swept, tmp, groups)
            first = results[0] if results else None
            record = _manifest(
                _runs_record(todo, results),
                (first.vintage, first.origin) if first else (None, None),
                outcomes,
                draws,
                seed,
                root,
                tmp,
                swept,
            )
            final = hashlib.sha256((tmp / WHAT_IF).read_bytes()).hexdigest()  # with its nav bar
            record["whatif"] = {"key": what_if["key"], "sha256": final}
            what_if_cached = what_if["cached"] == "yes"
            (tmp / INDEX).write_text(
                index_html(results, outcomes, inline, record, v, cards, groups, swept),
                encoding="utf-8",
            )
            from h200cast.views.tables import comparison_table

            table = comparison_table({r.label: r.stats for r in results}, TABLE_HEADLINE)
        record["front"] = {"key": front_key, "files": front_files(tmp), "table": table}
        record["build"] = _build_record(outcomes, time.perf_counter() - started_at)
        record["build"]["whatif_cached"] = what_if_cached
        record["build"]["front_cached"] = front is not None
        manifest.write(tmp, record)
    if not out:
        _point_latest(latest, target)
        _prune(reports_dir, KEEP, target)
    _print_summary(
        table, len(todo), outcomes, target, draws, seed, time.perf_counter() - started_at
    )
    return 1 if any(not o.ok for o in outcomes) else 0


def front_files(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of the front (:data:`FRONT`) in ``folder``, by relative path."""
    out = {}
    for name in FRONT:
        path = folder / name
        files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
        for f in files:
            if f.is_file():
                out[f.relative_to(folder).as_posix()] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def _front_key(
    todo: Sequence[tuple[RefKind, str]],
    digests: Sequence[str],
    analyses: Sequence[str],
    draws: int,
    seed: int,
    vintage: str,
    params_dir: Path,
    root: Path,
    sweeps: Sequence[SweepPage] = (),
) -> str:
    """What the front depends on: the runs and their scenarios, the analyses and sweeps listed
    on it, draws and seed, the vintage, every parameter file (the track record reads every
    vintage's), the package's source and data, and the commit the index names."""
    return _key(
        "front",
        [list(r) for r in todo],
        list(digests),
        list(analyses),
        draws,
        seed,
        vintage,
        _folder_digest(params_dir),
        [(s.name, _folder_digest(s.folder)) for s in sweeps],
        WHATIF_DRAWS,
        TRACK_RECORD_DRAWS,
        __version__,
        source_digest(),
        git_commit(root),
        settings.png_charts(),
    )


def _folder_digest(folder: Path) -> str:
    """SHA-256 of every file under ``folder``: their relative paths and contents."""
    h = hashlib.sha256()
    for f in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        h.update(f.relative_to(folder).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _write_sweeps(swept: Sequence[SweepPage], tmp: Path, groups: Sequence[Group]) -> None:
    """Each sweep's page (the sweep code is imported only when there are some)."""
    if not swept:
        return
    from h200cast.report.sweeps import write_sweep

    for page in swept:
        write_sweep(page, tmp, groups)


def _copy_front(
    previous: Path | None, tmp: Path, old: dict[str, Any], key: str
) -> dict[str, Any] | None:
    """Copy the previous report's front into ``tmp`` when it was made from the same inputs
    (``key``) and every file is as its manifest says; its manifest record, else None."""
    found = old.get("front")
    if previous is None or not isinstance(found, dict) or found.get("key") != key:
        return None
    files = found.get("files")
    runs, what_if = old.get("runs"), old.get("whatif")
    if not (files and isinstance(files, dict) and isinstance(runs, list)):
        return None
    if not (isinstance(what_if, dict) and isinstance(found.get("table"), str)):
        return None
    try:
        if front_files(previous) != files:
            return None
        _copy_files(previous, tmp, files)
    except OSError:
        return None
    return found


def _warm_charts() -> None:
    """Start vl-convert (about 0.8 s) and the chart code in a background thread.

    Only a build that draws its front needs them: in one that copies it, the thread's
    imports would hold the interpreter lock against the copying.
    """
    import threading

    from h200cast.views import charts

    threading.Thread(target=charts.warm, name="h200cast-warm-vl-convert", daemon=True).start()


def _load_sweeps(folders: Sequence[Path]) -> list[SweepPage]:
    """The sweep pages asked for; the sweep code (and its imports) only when there are some."""
    if not folders:
        return []
    from h200cast.report.sweeps import load_sweeps

    return list(load_sweeps(folders))


def _check_draws(scenarios: Sequence[Any], draws: int) -> None:
    """Refuse ``--draws`` beyond the machine's memory for the longest horizon requested."""
    from h200cast.engine.limits import check_draws

    check_draws(draws, max(sc.calendar.horizon_months for sc in scenarios))


def _load_requested(
    todo: Sequence[tuple[RefKind, str]], analyses: Sequence[str], params_dir: Path, vintage: str
) -> list[Any]:
    """Each run's scenario at the vintage, failing early, naming the bad stance, path or
    notebook, before any work."""
    scenarios = [
        load_scenario(ScenarioRef(kind, name), params_dir=params_dir, vintage=vintage)
        for kind, name in todo
    ]
    if analyses:
        from h200cast.report.runner import notebook_paths

        notebook_paths(list(analyses))
    return scenarios


def _print_summary(
    table: str,
    runs: int,
    outcomes: Sequence[PageOutcome],
    target: Path,
    draws: int,
    seed: int,
    seconds: float,
) -> None:
    """The comparison table, what was written, and every page that failed (on stderr)."""
    failed = [o for o in outcomes if not o.ok]
    print(f"h200cast {__version__}: {runs} runs, {draws} draws each, seed {seed}; P50 [P5-P95]")
    print(table)
    cached = sum(o.cached for o in outcomes)
    print(
        f"\nwrote {target}/index.html ({len(outcomes)} pages, {cached} reused, {len(failed)} failed) "
        f"in {seconds:.1f} s"
    )
    for o in failed:
        print(f"FAILED {o.page.kind} {o.page.name}: {o.error}", file=sys.stderr)


KEEP = 5
"""How many reports ``reports/`` keeps: the newest that h200cast wrote there."""
REPORT_NAME = re.compile(r"report-\d{8}T\d{6}Z")
"""The name of a report folder that ``make report`` writes (``report-<UTC time>``)."""


def ours(folder: Path) -> bool:
    """Whether ``folder`` is a report h200cast wrote: a real folder, its name
    ``report-<UTC time>``, and a manifest of h200cast's that lists its pages."""
    if folder.is_symlink() or not folder.is_dir() or not REPORT_NAME.fullmatch(folder.name):
        return False
    try:
        record = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("package") == "h200cast" and "pages" in record


def _prune(reports_dir: Path, keep: int, built: Path) -> list[Path]:
    """Remove the reports beyond the newest ``keep`` that h200cast wrote in ``reports_dir``.

    Only folders that :func:`ours` proves are h200cast's are counted or removed; the
    report just ``built`` and the one ``latest`` points at are never removed, and at most
    as many folders are removed as there are beyond ``keep``.
    """
    latest = (reports_dir / "latest").resolve()
    found = sorted(f for f in reports_dir.glob("report-*") if ours(f))
    keep_also = {built.resolve(), latest}
    removable = [f for f in found[: max(len(found) - keep, 0)] if f.resolve() not in keep_also]
    for old in removable:
        shutil.rmtree(old, ignore_errors=True)
    return removable


def check_latest(latest: Path) -> None:
    """Fail, before any work, when ``reports/latest`` is something h200cast must not replace."""
    if latest.is_symlink() or not latest.exists():
        return
    if not is_output_dir(latest):
        raise InputError(
            "is not a link or a report of h200cast; expected reports/latest to be h200cast's "
            "(move it away to build the default report)",
            key="reports/latest",
            value=str(latest),
        )


def _point_latest(latest: Path, target: Path) -> None:
    """Point ``latest`` at ``target`` atomically (a relative link, replaced in one rename)."""
    tmp = latest.parent / f".latest-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target.name)
    if latest.exists() and not latest.is_symlink() and is_output_dir(latest):
        shutil.rmtree(latest)  # a plain report folder from an earlier version
    os.replace(tmp, latest)


def _manifest(
    runs: list[dict[str, Any]],
    when: tuple[Any, Any],
    outcomes: Sequence[PageOutcome],
    draws: int,
    seed: int,
    root: Path,
    tmp: Path,
    sweeps: Sequence[SweepPage] = (),
) -> dict[str, Any]:
    """What the report holds (its runs, ``when``: the vintage and origin, its pages); the
    same for two builds of the same inputs (``build``, added after, is not)."""
    vintage, origin = when
    return manifest.header(
        git_commit=git_commit(root),
        draws=draws,
        seed=seed,
        vintage=vintage,
        origin=origin,
        runs=runs,
        pages=[
            {
                "kind": o.page.kind,
                "name": o.page.name,
                "folder": o.page.folder,
                "stem": o.page.stem,
                "key": o.page.key,
                "ok": o.ok,
                "error": o.error,
                "files": page_files(tmp / o.page.folder, o.page.stem) if o.ok else {},
            }
            for o in outcomes
        ],
        failed=[o.page.name for o in outcomes if not o.ok],
        sweeps=[{"name": s.name, "page": s.href, "spec_sha256": s.spec.digest()} for s in sweeps],
    )


def _runs_record(
    todo: Sequence[tuple[RefKind, str]], results: Sequence[Result]
) -> list[dict[str, Any]]:
    """Each run's kind, name, parameters' digest and conditioning, for the manifest."""
    return [
        {
            "kind": k,
            "name": n,
            "params_sha256": r.scenario.digest(),
            **(
                {"conditioning": _conditioning_summary(r)}
                if r.conditioning and r.conditioning.simulated
                else {}
            ),
        }
        for (k, n), r in zip(todo, results, strict=True)
    ]


def _build_record(outcomes: Sequence[PageOutcome], seconds: float) -> dict[str, Any]:
    """How this build went: when, how long, each page's time and whether it was reused; the
    one part of the manifest that differs between two builds of the same inputs."""
    return {
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "pages": [
            {"name": o.page.name, "cached": o.cached, "seconds": round(o.seconds, 1)}
            for o in outcomes
        ],
    }


def _conditioning_summary(r: Result) -> dict[str, Any]:
    c = r.conditioning
    assert c is not None
    return {
        "simulated_draws": c.simulated,
        "consistent_draws": c.consistent,
        "kept_draws": c.kept,
        "effective_sample_size": c.ess,
        "acceptance": round(c.acceptance, 6),
    }


# --- the track record ---------------------------------------------------------------------------

TRACK_RECORD_DRAWS = 2000


def track_record(v: Any, params_dir: Path, seed: int) -> list[Any]:
    """The scorecards of every vintage up to ``v``, with the observations public by ``v``'s date."""
    from h200cast.results.scorecard import score_vintage
    from h200cast.scenario.vintage import available

    return [
        score_vintage(
            n, draws=TRACK_RECORD_DRAWS, seed=seed, params_dir=params_dir, known_by=v.date
        )
        for n in available(params_dir)
        if n <= v.name
    ]


TRACK_RECORD_FILES = ("scores.csv", "events.csv", "coverage.csv", "not_scored.csv", "scorecard.txt")
"""The track record's tables, in the order its page lists them."""


def write_track_record_files(cards: Sequence[Any], tmp: Path) -> dict[str, Chart]:
    """The track record's tables (``trackrecord/*.csv``) and charts; the charts."""
    from h200cast.results import scorecard as sc
    from h200cast.views import figures
    from h200cast.views.tables import scorecard_text

    folder = tmp / "trackrecord"
    folder.mkdir()
    files = {
        "scores.csv": sc.rows_csv(cards),
        "events.csv": sc.events_csv(cards),
        "coverage.csv": sc.coverage_csv(cards),
        "not_scored.csv": sc.not_scored_csv(cards),
        "scorecard.txt": scorecard_text(cards),
    }
    assert tuple(files) == TRACK_RECORD_FILES
    for name, body in files.items():
        (folder / name).write_text(body, encoding="utf-8")
    shown: dict[str, Chart] = {}
    scored = [c for c in cards if any(r.scored for r in c.rows)]
    if scored:
        shown["pit"] = save_chart(
            tmp, "trackrecord", "pit_histogram", figures.pit_histogram(scored)
        )
        shown["crps"] = save_chart(
            tmp, "trackrecord", "crps", figures.crps_against_baselines(scored)
        )
    return shown


def write_track_record(
    cards: Sequence[Any], v: Any, tmp: Path, shown: dict[str, Chart], groups: Sequence[Group] = ()
) -> dict[str, Chart]:
    """``trackrecord.html`` over the files :func:`write_track_record_files` wrote; its charts
    for the index."""
    page = render(
        "trackrecord.html.j2",
        TRACK_RECORD,
        groups,
        v=v,
        cards=cards,
        inline=shown,
        files=list(TRACK_RECORD_FILES),
    )
    (tmp / TRACK_RECORD).write_text(page, encoding="utf-8")
    return {f"track_{k}": x for k, x in shown.items()}


# --- index.html ---------------------------------------------------------------------------------


def index_html(
    results: Sequence[Result],
    outcomes: Sequence[PageOutcome],
    inline: dict[str, Chart],
    manifest: dict[str, Any],
    vintage: Any = None,
    cards: Sequence[Any] = (),
    groups: Sequence[Group] = (),
    sweeps: Sequence[SweepPage] = (),
) -> str:
    """The report's front page, self-contained (charts are inline SVG), from ``index.html.j2``."""
    from h200cast.engine.metrics import BY_NAME
    from h200cast.views.summary import headline
    from h200cast.views.tables import scale

    pages = {(o.page.kind, o.page.name): o for o in outcomes}
    columns = [
        {"metric": m, "label": LABELS[m], "unit": scale(BY_NAME[m].unit, [0])[0]} for m in HEADLINE
    ]
    rows = []
    for r in results:
        o = pages.get(("run", r.label))
        cells = [
            scale(BY_NAME[m].unit, [r.stats[m]["p5"], r.stats[m]["p50"], r.stats[m]["p95"]])[1]
            for m in HEADLINE
        ]
        cond = r.conditioning.line() if r.conditioning and r.conditioning.simulated else ""
        rows.append(
            {
                "label": r.label,
                "ok": bool(o and o.ok),
                "href": o.page.href if o else "",
                "cells": cells,
                "conditioning": cond,
            }
        )
    return render(
        "index.html.j2",
        INDEX,
        groups,
        v=vintage,
        known=observed_against_forecast(cards, vintage),
        summary=headline(results),
        m=manifest,
        columns=columns,
        rows=rows,
        inline=inline,
        analyses=[o for o in outcomes if o.page.kind == "analysis"],
        sweeps=sweeps,
        failures=[o for o in outcomes if not o.ok],
        cited=len(sources(results)),
    )


INDEX, TRACK_RECORD, WHAT_IF, SOURCES = (
    "index.html",
    "trackrecord.html",
    "whatif.html",
    "sources.html",
)
"""The report's pages at its top level."""

FRONT = (
    INDEX,
    "charts",
    "summary.csv",
    "results.parquet",
    TRACK_RECORD,
    "trackrecord",
    SOURCES,
    WHAT_IF,
)
"""The part of a report made in the report's own process, from its runs: the front page, its
charts, the results, the track record, the sources and the what-if (files and folders)."""


def nav_groups(outcomes: Sequence[PageOutcome], sweeps: Sequence[SweepPage] = ()) -> list[Group]:
    """The navigation bar's entries: the front page, each run and analysis that was built,
    each sweep, the track record, the what-if and the sources."""
    built = [o.page for o in outcomes if o.ok]
    runs = tuple(Link(p.href, p.text) for p in built if p.kind == "run")
    analyses = tuple(Link(p.href, p.text) for p in built if p.kind == "analysis")
    analyses += tuple(Link(s.href, s.text) for s in sweeps)
    groups = [
        Group("", (Link(INDEX, "Overview"),)),
        Group("Runs", runs),
        Group("Analyses", analyses),
        Group(
            "",
            (
                Link(TRACK_RECORD, "Track record"),
                Link(WHAT_IF, "What-if"),
                Link(SOURCES, "Sources"),
            ),
        ),
    ]
    return [g for g in groups if g.links]


def add_navigation(tmp: Path, outcomes: Sequence[PageOutcome], groups: Sequence[Group]) -> None:
    """The navigation bar in the pages other tools wrote: each notebook page, the what-if."""
    for o in outcomes:
        if o.ok and (tmp / o.page.href).is_file():
            add_nav(tmp / o.page.href, groups, o.page.href)
    what_if = tmp / WHAT_IF
    if what_if.is_file():
        title = retitle(what_if.read_text(encoding="utf-8"), "h200cast: what-if")
        what_if.write_text(title, encoding="utf-8")
        add_nav(what_if, groups, WHAT_IF)


def write_sources(results: Sequence[Result], tmp: Path, groups: Sequence[Group]) -> None:
    """``sources.html``: every evidence id the runs cite, with its source (an anchor each)."""
    page = render("sources.html.j2", SOURCES, groups, facts=sources(results))
    (tmp / SOURCES).write_text(page, encoding="utf-8")


def observed_against_forecast(cards: Sequence[Any], v: Any) -> list[dict[str, Any]]:
    """The months already known at ``v``, each with what the earlier vintages forecast for them."""
    from h200cast.engine.model import VARIABLES
    from h200cast.views.tables import scale

    out = []
    for c in cards:
        if v is None or c.vintage.name == v.name:
            continue
        for r in c.rows:
            if r.forecast != "model" or not r.scored:
                continue
            iv = r.intervals.get(90)
            unit = VARIABLES[r.quantity][0]
            label, (obs, med, lo, hi) = scale(
                unit, [r.observed, r.median, iv.lo if iv else 0.0, iv.hi if iv else 0.0]
            )
            out.append(
                {
                    "vintage": c.vintage.name,
                    "quantity": r.quantity,
                    "period": r.period,
                    "observed": obs,
                    "median": med,
                    "lo": lo,
                    "hi": hi,
                    "unit": label,
                    "pit": f"{r.pit:.2f}",
                }
            )
    return out


def sources(results: Sequence[Result]) -> list[dict[str, Any]]:
    """The facts cited by the runs, each with its source page, for the sources table."""
    from h200cast.estimation.evidence import cached
    from h200cast.scenario.load import cited

    ev = cached()
    ids = sorted(
        {i for r in results for _, xs in cited(r.scenario.model_dump(mode="python")) for i in xs}
    )
    out = []
    for i in ids:
        f = ev.facts[i]
        s = ev.sources[f.source_id]
        value = (
            f"{f.value:g}"
            if f.value is not None
            else (f"{f.low:g}-{f.high:g}" if f.low is not None else "")
        )
        out.append(
            {
                "id": i,
                "date": str(f.date),
                "quantity": f.quantity,
                "value": value,
                "unit": f.unit,
                "publisher": s.publisher,
                "title": s.title,
                "url": s.url,
                "link": s.url.startswith("http"),
            }
        )
    return out
