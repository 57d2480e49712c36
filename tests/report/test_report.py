"""The batch report: contents, links, offline rendering in Chromium, faults and caching."""

from __future__ import annotations

import contextlib
import html.parser
import json
import os
import shutil
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from h200cast import settings
from h200cast.cli import main
from h200cast.engine.metrics import METRICS
from h200cast.errors import InputError
from h200cast.report import build as report
from h200cast.report import runner


@contextlib.contextmanager
def _no_pages(*args: object, **kwargs: object) -> Iterator[report.PagesStarted]:
    """``pages_started`` that starts no notebook and waits for none."""
    yield report.PagesStarted(0, lambda progress: [])


SMALL = [
    "--stances",
    "customs_ban",
    "open_market",
    "--paths",
    "as_reported_2026_01",
    "--switching",  # the vintage's own chain
    "--draws",
    "200",
    "--analyses",
    "05_stance_comparison",
    "--quiet",
]
RUNS = ("customs_ban", "open_market", "as_reported_2026_01", "from_2026_04_30")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """SMALL with a finished CI sweep (Sobol indices and a PRIM box) for its analyses page."""
    sweep = tmp_path_factory.mktemp("sweep") / "ci"
    assert main(["sweep", "ci", "--out", str(sweep), "--jobs", "1", "--quiet"]) == 0
    return [*SMALL, "--sweep", str(sweep)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, small: list[str]) -> Path:
    out = tmp_path_factory.mktemp("report") / "rep"
    assert main(["report", *small, "--out", str(out)]) == 0
    return out


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("a", "iframe", "link") and (a.get("href") or a.get("src")):
            self.hrefs.append(a.get("href") or a.get("src") or "")
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"] or "")


def _links(page: Path) -> _Links:
    p = _Links()
    p.feed(page.read_text(encoding="utf-8"))
    return p


def test_report_holds_every_output(built: Path) -> None:
    for name in (
        "index.html",
        "whatif.html",
        "summary.csv",
        "results.parquet",
        "manifest.json",
        "charts/stance_comparison.svg",
        "charts/shortfall_by_run.svg",
        "charts/stance_comparison.csv",
        "charts/shortfall_by_run.csv",
        "sources.html",
        "sweep-ci.html",
        "sweeps/ci/sobol.csv",
        "sweeps/ci/discovery.json",
        "sweeps/ci/prim_box.svg",
        "sweeps/ci/prim_box.csv",
        "sweeps/ci/sobol_overview.csv",
        "analyses/05_stance_comparison.html",
        "analyses/05_stance_comparison.ipynb",
    ):
        assert (built / name).is_file(), name
    for run in RUNS:
        assert (built / "runs" / run / "page.html").is_file()
        assert (built / "runs" / run / "page.ipynb").is_file()
        assert any((built / "runs" / run / "page_files").glob("*.svg"))
    assert not list(built.rglob("*.png"))  # PNG only with H200CAST_PNG_CHARTS=1: no page shows one
    assert len((built / "summary.csv").read_text().splitlines()) == 1 + 4 * len(METRICS)
    table = pq.read_table(built / "results.parquet")
    assert table.num_rows == 4 * 200 and "us_fee_revenue_total_usd" in table.column_names
    m = json.loads((built / "manifest.json").read_text())
    assert m["version"] and m["draws"] == 200 and m["seed"] == 20260131 and m["failed"] == []
    assert m["build"]["seconds"] > 0 and all(len(r["params_sha256"]) == 64 for r in m["runs"])
    for page in m["pages"]:  # every file of every page, with its hash, for reuse checks
        assert page["files"] and all(len(h) == 64 for h in page["files"].values())
    assert m["git_commit"] is None or len(m["git_commit"]) >= 40


def test_index_links_resolve_and_nothing_comes_from_another_host(built: Path) -> None:
    pages = sorted(built.rglob("*.html"))
    # index, what-if, four run pages, one analysis, track record, sources, a sweep
    assert len(pages) == 2 + 4 + 1 + 1 + 1 + 1
    for page in pages:
        links = _links(page)
        text = page.read_text(encoding="utf-8")
        assert not [s for s in links.scripts if "://" in s], (
            f"{page.relative_to(built)} loads scripts from another host"
        )
        assert "import(" not in text or "://" not in text.split("import(", 1)[1][:300], (
            f"{page.relative_to(built)} imports a module from another host"
        )
        if page.parent != built:
            continue  # notebook pages: outputs only, their links are checked by nbconvert
        for href in links.hrefs:
            if "://" in href or href.startswith("#"):
                continue  # source pages of the evidence are meant to be external
            assert (page.parent / href.split("#")[0]).exists(), (
                f"{page.name} links to missing {href}"
            )
    index = (built / "index.html").read_text()
    assert (
        index.count("<svg") >= 2
        and "runs/customs_ban/page.html" in index
        and "whatif.html" in index
    )
    for words in ("Headline comparison", "Sources", "Manifest", 'href="sources.html"'):
        assert words in index
    assert 'id="L191"' in (built / "sources.html").read_text()
    for anchor in ("summary", "comparison", "charts", "whatif", "analyses", "sources", "manifest"):
        assert f'id="{anchor}"' in index, anchor
    said = index.split('id="summary"', 1)[1].split("</section>", 1)[0]
    assert said.count("<li id=") == 4 and said.count("P5-P95") >= 4
    assert "from January 2026 to December 2028" in said and "December 2028" in said
    whatif = (built / "whatif.html").read_text()
    assert "vegaEmbed" in whatif and "US fee rate" in whatif and "selling price" in whatif
    assert len(whatif.encode()) < 3_000_000  # the grid and Vega, inlined


def test_second_build_reuses_pages_and_force_does_not(
    built: Path, small: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    built = shutil.copytree(built, tmp_path / "rep", symlinks=True)  # the others read `built`
    before = _files(built)
    assert main(["report", *small, "--out", str(built)]) == 0
    second = json.loads((built / "manifest.json").read_text())
    assert all(p["cached"] for p in second["build"]["pages"]) and len(second["pages"]) == 5
    assert second["build"]["whatif_cached"]  # the what-if grid is not computed again
    # nor the runs, charts and track record: the front is copied, and is what it was
    assert second["build"]["front_cached"]
    assert {f: _files(built)[f] for f in second["front"]["files"]} == {
        f: before[f] for f in second["front"]["files"]
    }
    assert {"index.html", "results.parquet", "charts/stance_comparison.svg"} <= set(
        second["front"]["files"]
    )
    assert (built / "runs" / "customs_ban" / "page.html").is_file()
    m1 = json.loads(before["manifest.json"])
    assert {k: v for k, v in m1.items() if k != "build"} == {
        k: v for k, v in second.items() if k != "build"
    }
    assert main(["report", *small, "--out", str(built), "--force"]) == 0
    third = json.loads((built / "manifest.json").read_text())
    assert not any(p["cached"] for p in third["build"]["pages"])
    assert not third["build"]["whatif_cached"] and not third["build"]["front_cached"]
    # two builds of the same inputs are the same bytes, but for the manifest's build record
    after = _files(built)
    assert sorted(before) == sorted(after)
    assert [f for f in before if f != "manifest.json" and before[f] != after[f]] == []
    m1, m3 = json.loads(before["manifest.json"]), json.loads(after["manifest.json"])
    assert {k: v for k, v in m1.items() if k != "build"} == {
        k: v for k, v in m3.items() if k != "build"
    }
    # a changed input (draws) changes every key: nothing reused
    changed = [
        "--stances",
        "customs_ban",
        "open_market",
        "--paths",
        "as_reported_2026_01",
        "--draws",
        "150",
        "--analyses",
        "--quiet",
        "--out",
        str(built),
    ]
    assert main(["report", *changed]) == 0
    fourth = json.loads((built / "manifest.json").read_text())
    assert not any(p["cached"] for p in fourth["build"]["pages"])
    capsys.readouterr()


def _files(folder: Path) -> dict[str, bytes]:
    return {
        f.relative_to(folder).as_posix(): f.read_bytes() for f in folder.rglob("*") if f.is_file()
    }


def test_a_damaged_cached_page_is_run_again(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    small = ["--stances", "customs_ban", "open_market", "--paths", "--analyses", "--draws", "100"]
    assert main(["report", *small, "--quiet", "--out", str(out)]) == 0
    page = out / "runs" / "customs_ban" / "page.html"
    page.write_text(page.read_text()[:1000])  # truncated, as by a full disk or an editor
    assert main(["report", *small, "--quiet", "--out", str(out)]) == 0
    m = json.loads((out / "manifest.json").read_text())
    cached = {p["name"]: p["cached"] for p in m["build"]["pages"]}
    assert cached == {"customs_ban": False, "open_market": True}
    assert len(page.read_text()) > 1000


def test_a_damaged_front_is_made_again(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    small = ["--stances", "open_market", "--paths", "--analyses", "--draws", "100"]
    assert main(["report", *small, "--quiet", "--out", str(out)]) == 0
    chart = out / "charts" / "stance_comparison.svg"
    good = chart.read_bytes()
    chart.write_bytes(good[:500])  # truncated, as by a full disk or an editor
    assert main(["report", *small, "--quiet", "--out", str(out)]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert all(p["cached"] for p in m["build"]["pages"])  # the pages were fine
    assert not m["build"]["front_cached"] and chart.read_bytes() == good
    # and a front whose inputs changed (a parameter file the track record reads) is made again
    params = tmp_path / "params"
    shutil.copytree(settings.params_dir(), params)
    assert main(["report", *small, "--quiet", "--out", str(out), "--params-dir", str(params)]) == 0
    with (params / "checks.yaml").open("a") as f:
        f.write("\n# a comment changes no scenario, but it is an input\n")
    assert main(["report", *small, "--quiet", "--out", str(out), "--params-dir", str(params)]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert not m["build"]["front_cached"]


def _fake_report(folder: Path, ours: bool = True) -> Path:
    folder.mkdir(parents=True)
    if ours:
        (folder / "manifest.json").write_text(json.dumps({"package": "h200cast", "pages": []}))
    else:
        (folder / "mine.txt").write_text("a user's file")
    return folder


def test_pruning_removes_only_old_reports_that_h200cast_wrote(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    old = [_fake_report(reports / f"report-2026010{i}T000000Z") for i in range(1, 8)]
    users = [
        _fake_report(reports / "report-mine", ours=False),
        _fake_report(reports / "report-20250101T000000Z", ours=False),  # our name, not ours
        _fake_report(reports / "report-zzz"),  # a manifest, but not our name
    ]
    (reports / "latest").symlink_to(old[0].name)  # someone pointed latest at an old one
    removed = report._prune(reports, 3, built=old[1])
    assert sorted(p.name for p in removed) == [old[2].name, old[3].name]
    for kept in [old[0], old[1], *old[4:], *users]:
        assert kept.is_dir(), kept
    assert (reports / "report-mine" / "mine.txt").read_text() == "a user's file"


def test_a_killed_builds_temporary_folder_is_removed_by_the_next(tmp_path: Path) -> None:
    from h200cast.io.atomic import remove_stale_temporaries

    dead = tmp_path / ".report-x.tmp-999999999-abc"  # no such process
    running = tmp_path / f".report-y.tmp-{os.getpid()}-def"
    user = tmp_path / ".notes.tmp-mine"
    for d in (dead, running, user):
        d.mkdir()
        (d / "f").write_text("x")
    assert remove_stale_temporaries(tmp_path) == [dead]
    assert not dead.exists() and running.is_dir() and user.is_dir()


def test_a_folder_named_latest_that_is_not_ours_is_refused(tmp_path: Path) -> None:
    latest = tmp_path / "latest"
    _fake_report(latest, ours=False)
    with pytest.raises(InputError, match="reports/latest"):
        report.check_latest(latest)
    assert (latest / "mine.txt").is_file()


def test_a_failing_notebook_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = runner.execute

    def flaky(job: runner.Job) -> runner.Outcome:
        if job.parameters.get("stance") == "customs_ban":
            return runner.Outcome(job, False, 0.1, "RuntimeError: boom")
        return real(job)

    monkeypatch.setattr(runner, "execute", flaky)  # --jobs 1 runs in this process
    out = tmp_path / "rep"
    rc = main(
        [
            "report",
            "--stances",
            "customs_ban",
            "open_market",
            "--paths",
            "--analyses",
            "--draws",
            "100",
            "--jobs",
            "1",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert rc == 1
    index = (out / "index.html").read_text()
    assert "Runs that failed" in index and "boom" in index and "(page failed)" in index
    assert (out / "runs" / "open_market" / "page.html").is_file()
    assert json.loads((out / "manifest.json").read_text())["failed"] == ["customs_ban"]
    assert "FAILED run customs_ban" in capsys.readouterr().err


def test_an_interrupted_build_leaves_the_previous_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "rep"
    out.mkdir()
    (out / "index.html").write_text("previous report")
    (out / "manifest.json").write_text('{"package": "h200cast"}')

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "pages_started", _no_pages)  # no notebooks needed here
    monkeypatch.setattr(report, "write_results", interrupted)
    with pytest.raises(KeyboardInterrupt):
        report.build_report(
            stances=["open_market"], paths=[], analyses=(), draws=50, out=out, quiet=True
        )
    assert (out / "index.html").read_text() == "previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # no half-built folder left behind


def test_latest_points_at_the_newest_complete_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        report, "pages_started", _no_pages
    )  # the link is the point, not the notebooks
    reports = tmp_path / "reports"
    kw = {
        "stances": ["open_market"],
        "paths": [],
        "analyses": (),
        "draws": 50,
        "quiet": True,
        "reports_dir": reports,
    }
    assert report.build_report(**kw) == 0
    first = (reports / "latest").resolve()
    assert (reports / "latest").is_symlink() and (first / "index.html").is_file()
    import time

    time.sleep(1.1)  # report folders are named by the second
    assert report.build_report(**kw) == 0
    second = (reports / "latest").resolve()
    assert (
        second != first and (second / "index.html").is_file() and (first / "index.html").is_file()
    )


def test_unknown_analysis_exits_2_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "run", lambda *a, **k: pytest.fail("the model ran"))
    cmd = ["report", "--stances", "open_market", "--paths", "--analyses", "nosuch"]
    assert main([*cmd, "--out", str(tmp_path / "r")]) == 2
    assert "unknown notebook" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_the_default_runs_are_as_before_and_switching_adds_chains() -> None:
    # The vintages' default reports keep their runs (the January one reproduces the report
    # before vintages byte for byte); a chain joins them only when asked for.
    from h200cast.scenario.load import load_vintage

    params = settings.params_dir()
    for name in ("2026-01-31", "2026-04-30"):
        v, _ = load_vintage(params, name)
        default = report.runs_requested(None, None, params, v.history_path, None, v.switching)
        assert default == [("stance", s) for s in report.STANCES] + [("path", v.history_path)]
        own = report.runs_requested(None, None, params, v.history_path, [], v.switching)
        assert own == [*default, ("switching", v.switching)]
    named = report.runs_requested([], [], params, None, ["from_2026_01_31"], "from_2026_04_30")
    assert named == [("switching", "from_2026_01_31")]


def test_a_chain_is_compared_in_the_analyses(built: Path) -> None:
    # notebook 05 takes the report's chain as the run its parameters select
    table = (built / "analyses" / "05_stance_comparison_files" / "stance_table.csv").read_text()
    runs = {line.split(",")[0] for line in table.splitlines()[1:]}
    assert runs == {*report.STANCES, "as_reported_2026_04", "from_2026_04_30"}
    page = (built / "runs" / "from_2026_04_30" / "page.html").read_text()
    assert "<title>h200cast: from_2026_04_30 (switching chain)</title>" in page


def test_unknown_stance_exits_2_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--stances", "nonesuch", "--out", str(tmp_path / "r")]) == 2
    assert "unknown stance" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


# --- in a real browser, offline -------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no network: every host name fails to resolve
    "--virtual-time-budget=10000",
    "--window-size=1300,1600",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    """A headless Chromium: ``$H200CAST_CHROMIUM``, else Debian's ``chromium-headless-shell``
    (what ``.ci/run`` installs) or ``chromium``; installed here when missing and the machine
    lets us (root with apt-get). Never a skip: without one the test fails saying how to get it."""
    chosen = os.environ.get("H200CAST_CHROMIUM")
    if chosen:
        assert shutil.which(chosen), f"$H200CAST_CHROMIUM={chosen!r} is not an executable"
        return str(shutil.which(chosen))
    found = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    if found:
        return found
    how = "install one: sudo apt-get install chromium-headless-shell (or set $H200CAST_CHROMIUM)"
    assert os.geteuid() == 0 and shutil.which("apt-get"), f"no headless Chromium; {how}"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "chromium-headless-shell"],
    ):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        assert done.returncode == 0, f"could not install Chromium ({how}): {done.stderr[-2000:]}"
    found = shutil.which("chromium-headless-shell")
    assert found, f"chromium-headless-shell is not on PATH after installing it; {how}"
    return found


def _browse(
    chromium: str, page: Path, tmp: Path, *extra: str, fragment: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp / 'profile'}",
            *extra,
            page.as_uri() + fragment,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _not_blank(png: Path) -> float:
    """Share of non-zero bytes in the PNG's filtered pixel data (a blank page gives almost none)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    i, idat = 8, b""
    while i < len(data):
        n = int.from_bytes(data[i : i + 4], "big")
        if data[i + 4 : i + 8] == b"IDAT":
            idat += data[i + 8 : i + 8 + n]
        i += 12 + n
    raw = zlib.decompress(idat)
    return sum(b != 0 for b in raw[::7]) / len(raw[::7])


def test_report_renders_offline_in_chromium(built: Path, chromium: str, tmp_path: Path) -> None:
    dom = _browse(chromium, built / "index.html", tmp_path, "--dump-dom").stdout
    assert dom.count("<svg") >= 2, "the headline charts did not render"
    shot = tmp_path / "index.png"
    _browse(chromium, built / "index.html", tmp_path, f"--screenshot={shot}")
    assert shot.is_file() and _not_blank(shot) > 0.01
    # the what-if chart is drawn by Vega in the browser, with its controls, from inlined scripts only
    dom = _browse(chromium, built / "whatif.html", tmp_path, "--dump-dom").stdout
    assert "<canvas" in dom or "<svg" in dom, "the what-if chart did not render"
    assert "<select" in dom and dom.count('type="radio"') >= 10, "the controls are missing"
    shot = tmp_path / "whatif.png"
    _browse(chromium, built / "whatif.html", tmp_path, f"--screenshot={shot}")
    assert _not_blank(shot) > 0.005
    # the stance pages open too, with their charts
    page = _browse(
        chromium, built / "runs" / "customs_ban" / "page.html", tmp_path, "--dump-dom"
    ).stdout
    assert (
        page.count("data:image/svg+xml") >= 3 and "customs_ban" in page
    )  # nbconvert embeds SVG as images


AUDIT = r"""
(() => {
  const width = document.documentElement.clientWidth;
  const charts = [...document.querySelectorAll(
    'svg.marks, .jp-RenderedSVG img, .jp-RenderedImage img, .vega-embed canvas')];
  return {
    title: document.title,
    width,
    scrollWidth: document.documentElement.scrollWidth,
    charts: charts.map(c => {
      const r = c.getBoundingClientRect();
      const drawn = c.tagName === 'IMG' ? c.complete && c.naturalWidth > 0
        : c.tagName === 'CANVAS' ? c.width > 0 : c.querySelectorAll('path, rect, line').length > 0;
      const box = c.closest('figure.chart, .jp-OutputArea-child');  // a notebook's: link after it
      const link = box && (box.querySelector('figcaption a[href$=".csv"]')
        || box.nextElementSibling?.matches('p.h2c-data') && box.nextElementSibling.querySelector('a[href$=".csv"]'));
      return {tag: c.tagName, left: r.left, right: r.right, width: r.width, height: r.height, drawn,
              data: !!link};
    }),
    links: [...document.querySelectorAll('a[href], iframe[src], img[src]')]
      .map(a => a.href || a.src).filter(u => !u.startsWith('data:')),
    nav: [...document.querySelectorAll('nav.h2c-nav a')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  };
})()
"""
"""What a test needs of a page once Chromium has drawn it: its title, its charts (drawn,
where, and whether a CSV link sits under each), its links, its navigation bar and its ids."""

LOCAL = ("file", "data", "blob", "about")
"""The URL schemes a page of the report may load from: nothing leaves the machine."""


def test_no_title_can_break_the_bundled_vega_page(
    chromium: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a string in the spec could end the page's script (</script>) or open a comment that
    # the script never closes (<!--<script>): vl-convert's own page breaks on both
    from h200cast.views import bundle

    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "cache"))
    titles = [
        "a </script><script>document.title='PWNED'</script> b",
        "x <!--<script> y",
        "<!--<script>--> ok </SCRIPT>",
    ]
    for i, title in enumerate(titles):
        spec = {
            "title": title,
            "data": {"values": [{"x": 1, "y": 2}, {"x": 2, "y": 3}]},
            "mark": "bar",
            "encoding": {
                "x": {"field": "x", "type": "ordinal"},
                "y": {"field": "y", "type": "quantitative"},
            },
        }
        page = tmp_path / f"hostile{i}.html"
        page.write_text(bundle.page(spec), encoding="utf-8")
        dom = _browse(chromium, page, tmp_path, "--dump-dom").stdout
        assert 'class="marks"' in dom, f"no chart drawn for the title {title!r}"
        assert "<title>PWNED" not in dom and "html.escape" not in dom


def test_every_page_works_offline_at_1280_px(built: Path, chromium: str, tmp_path: Path) -> None:
    # Point 5 of issue 12, for the report's pages: with the network blocked, no console
    # error and no request off the machine; every chart drawn, inside a 1,280 px window,
    # with its data (CSV) under it; every link, the navigation bar's included, leads to a
    # file of the report (or, from the sources page only, to a source's address).
    from urllib.parse import unquote, urlsplit

    from cdp import Chromium

    root = built.resolve()
    pages = sorted(root.rglob("*.html"))
    seen: dict[Path, dict] = {}
    with Chromium(chromium, tmp_path / "profile", width=1280, height=1600) as browser:
        for page in pages:
            visit = browser.visit(page, settle=1.0 if page.name == "whatif.html" else 0.3)
            name = page.relative_to(root).as_posix()
            assert not visit.errors, f"{name}: {visit.errors}"
            far = [u for u in visit.requests if urlsplit(u).scheme not in LOCAL]
            assert not far, f"{name} asked the network for {far}"
            seen[page] = found = browser.evaluate(visit, AUDIT)
            assert found["title"].startswith("h200cast") and "Notebook" not in found["title"], name
            assert found["scrollWidth"] <= found["width"], f"{name} scrolls sideways"
            assert found["charts"] or name == "sources.html", f"{name} draws no chart"
            for c in found["charts"]:
                assert c["drawn"] and c["width"] > 50 and c["height"] > 50, (name, c)
                assert c["left"] >= 0 and c["right"] <= found["width"] + 0.5, f"{name}: clipped {c}"
                if name != "whatif.html":  # the what-if is rebuilt elsewhere (issue 12, point 3)
                    assert c["data"], f"{name}: a chart without its CSV: {c}"
        if shots := os.environ.get("H200CAST_SCREENSHOTS"):  # e.g. for a README or a review
            front = browser.visit(root / "index.html")
            browser.screenshot(front, Path(shots) / "index-1280.png", full_page=True)
    ids = {p: set(found["ids"]) for p, found in seen.items()}
    nav = {p: [Path(unquote(urlsplit(u).path)) for u in found["nav"]] for p, found in seen.items()}
    expected = {root / "index.html", root / "trackrecord.html", root / "whatif.html"}
    expected |= {root / "sources.html", root / "sweep-ci.html"}
    expected |= {root / "runs" / r / "page.html" for r in RUNS}
    expected |= {root / "analyses" / "05_stance_comparison.html"}
    for page, targets in nav.items():
        assert set(targets) == expected, f"{page.name}: the navigation bar differs"
    for page, found in seen.items():
        for url in found["links"]:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https"):
                assert page.name == "sources.html", f"{page.name} links off the report: {url}"
                continue
            assert parts.scheme == "file", (page.name, url)
            target = Path(unquote(parts.path))
            assert target.is_file() and target.is_relative_to(root), f"{page.name}: {url}"
            if parts.fragment and target in ids:
                assert parts.fragment in ids[target], f"{page.name}: no #{parts.fragment} there"


def test_pages_read_the_parameters_folder_the_report_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `report --params-dir DIR` must run its notebooks on DIR too, not on the checkout's
    # params/ (the index and the pages would then disagree).
    params = tmp_path / "params"
    shutil.copytree(settings.params_dir(), params)
    seen: list[runner.Job] = []

    class Fake(runner.Running):  # started, not run: the jobs are what the test looks at
        def __init__(self, jobs: list[runner.Job], workers: object = None) -> None:
            seen.extend(jobs)
            self.jobs, self.pool, self.template = list(jobs), None, contextlib.ExitStack()

        def collect(self, progress: bool = True) -> list[runner.Outcome]:
            return [runner.Outcome(j, True, 0.0) for j in self.jobs]

    monkeypatch.setattr(runner, "Running", Fake)
    code = report.build_report(
        stances=["open_market"],
        paths=[],
        analyses=("05_stance_comparison",),
        draws=50,
        out=tmp_path / "rep",
        quiet=True,
        params_dir=params,
    )
    assert code == 0 and len(seen) == 2
    assert all(dict(j.env) == {"H200CAST_PARAMS": str(params.resolve())} for j in seen)
    # the manifest still names the checkout's commit, not the (git-less) folder's
    manifest = json.loads((tmp_path / "rep" / "manifest.json").read_text())
    assert manifest["git_commit"] == report.git_commit(settings.checkout())


def test_a_kernel_gets_the_job_environment(tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from h200cast import settings\nprint(settings.params_dir())")
    ]
    nbformat.write(nb, tmp_path / "probe.ipynb")
    job = runner.Job(
        tmp_path / "probe.ipynb",
        tmp_path / "out.ipynb",
        {},
        env=(("H200CAST_PARAMS", str(tmp_path / "elsewhere")),),
    )
    before = os.environ.get("H200CAST_PARAMS")
    (o,) = runner.execute_many([job], 1, progress=False)
    assert o.ok, o.error
    printed = nbformat.read(tmp_path / "out.ipynb", 4).cells[0].outputs[0]["text"].strip()
    assert printed == str(tmp_path / "elsewhere")
    assert os.environ.get("H200CAST_PARAMS") == before  # the caller's environment is restored


def test_a_notebook_whose_kernel_dies_leaves_its_output_file_as_it_was(tmp_path: Path) -> None:
    # papermill wrote the whole notebook at every cell's start and end: a kernel that died
    # in the third cell left its first two in the output, which for `h200cast notebooks
    # --refresh` is the committed notebook itself
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("print(x)"),
        nbformat.v4.new_code_cell("import os\nos._exit(1)"),
    ]
    nbformat.write(nb, tmp_path / "dies.ipynb")
    out = tmp_path / "out.ipynb"
    out.write_text("the notebook as it was", encoding="utf-8")
    o = runner.execute(runner.Job(tmp_path / "dies.ipynb", out, {}))
    assert not o.ok and "Dead" in o.error
    assert out.read_text(encoding="utf-8") == "the notebook as it was"


def test_a_failing_cell_is_written_with_its_error(tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('before')"), nbformat.v4.new_code_cell("1 / 0")]
    nbformat.write(nb, tmp_path / "fails.ipynb")
    o = runner.execute(runner.Job(tmp_path / "fails.ipynb", tmp_path / "out.ipynb", {}))
    assert not o.ok and "ZeroDivisionError" in o.error
    cells = [c for c in nbformat.read(tmp_path / "out.ipynb", 4).cells if c.cell_type == "code"]
    assert cells[0].outputs[0]["text"] == "before\n"
    assert cells[1].outputs[0]["ename"] == "ZeroDivisionError"


def test_a_notebooks_title_is_its_first_heading_from_its_json_as_from_nbformat() -> None:
    # the report reads the analyses' titles from their JSON (no nbformat import, no
    # validation): a source saved as a list of lines must give what nbformat's string gives
    import nbformat

    for nb in runner.notebook_paths():
        raw = json.loads(nb.read_bytes())
        assert runner.heading(raw) == runner.heading(nbformat.read(nb, 4))
        assert runner.heading(raw)  # every notebook has a title
    first = {"cell_type": "markdown", "source": ["Some text\n", "## Second line heading\n"]}
    code = {"cell_type": "code", "source": "# a comment, not a heading"}
    assert runner.heading({"cells": [code, first]}) == "Second line heading"
    assert runner.heading({"cells": [code]}) == ""


def test_pages_converted_in_one_process_are_as_each_alone(tmp_path: Path) -> None:
    # the exporter is made once per process; a page must not carry anything of the last
    import nbformat

    def page(text: str) -> Any:
        nb = nbformat.v4.new_notebook()
        nb.cells = [
            nbformat.v4.new_markdown_cell(f"# {text}", id="heading"),
            nbformat.v4.new_code_cell("1", id="code"),
        ]
        nb.cells[1].outputs = [nbformat.v4.new_output("stream", text=text)]
        return nb

    runner._exporter.cache_clear()
    alone = runner.to_html(page("quokka"), "Quokka", "quokka_files")
    runner._exporter.cache_clear()
    runner.to_html(page("zebra"), "Zebra", "zebra_files")
    assert runner.to_html(page("quokka"), "Quokka", "quokka_files") == alone
    assert "quokka" in alone and "zebra" not in alone.lower()


def test_cached_pages_follow_the_data_and_the_libraries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Notebook 04 plots data/history directly: an edited history file must not reuse a page.
    data = tmp_path / "data"
    shutil.copytree(settings.data_dir(), data)
    monkeypatch.setenv("H200CAST_DATA", str(data))
    first = report.source_digest()
    assert report.source_digest() == first
    share = data / "history" / "domestic_share.csv"
    share.write_text(share.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert report.source_digest() != first


def test_sigterm_mid_build_keeps_the_previous_report_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    # A real signal, not a monkeypatched exception: the build must unwind, stop its
    # workers (and their kernels) before removing its temporary folder, and exit 130.
    import signal
    import sys
    import time

    out = tmp_path / "rep"
    cmd = [sys.executable, "-m", "h200cast", "report", "--stances", "open_market", "--paths"]
    cmd += ["--draws", "100", "--jobs", "2", "--quiet", "--out", str(out)]
    assert main([*cmd[3:], "--analyses"]) == 0  # the previous report: one stance page
    before = _templates()
    previous = (out / "index.html").read_text()
    proc = subprocess.Popen(
        [*cmd, "--force", "--analyses", "05_stance_comparison", "06_sensitivity"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".rep.tmp-*/analyses")) and time.monotonic() < deadline:
        time.sleep(0.1)  # wait until notebooks are running in the temporary folder
    assert proc.poll() is None, proc.communicate()
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err, err
    assert (out / "index.html").read_text() == previous
    time.sleep(0.5)  # anything still alive would write into the build folder now
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]
    # no kernel template, nor a kernel forked from one, outlives the build
    deadline = time.monotonic() + 5
    while _templates() - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _templates() - before


def _templates() -> set[int]:
    """The processes running a kernel template or forked from one (they keep its command line)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"h200cast.report.kernels" in (entry / "cmdline").read_bytes():
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


def test_a_folder_of_other_files_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    monkeypatch.setattr(report, "run", lambda *a, **k: pytest.fail("the model ran"))
    assert main(["report", "--stances", "open_market", "--paths", "--out", str(out)]) == 2
    assert "--out" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_every_what_if_control_moves_the_chart(built: Path, chromium: str, tmp_path: Path) -> None:
    """Each control, set through the page's address as a click would set it, changes the picture."""
    page = built / "whatif.html"

    def shot(fragment: str, name: str) -> bytes:
        png = tmp_path / f"{name}.png"
        _browse(chromium, page, tmp_path, f"--screenshot={png}", fragment=fragment)
        return png.read_bytes()

    base = shot("", "base")
    assert (
        shot("", "again") == base
    )  # the same page twice is the same picture: a difference means something
    moved = {
        "run": "#run=open_market",  # the first run is customs_ban
        "orders per month": "#conv=0.9",
        "review stall": "#stall=0.6",
        "fee rate": "#fee=0.1",
        "price": "#price=35000",
    }
    for what, fragment in moved.items():
        assert shot(fragment, what.replace(" ", "_")) != base, f"moving {what} changed nothing"
    # at the latest vintage the production stop is observed, so it is shown but not a choice
    text = page.read_text()
    assert "Nvidia stops making H200s for China (observed)" in text
