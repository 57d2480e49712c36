"""JupyterLab: charts that load nothing from the network, money that never reads as maths,
and working copies (``make lab``) that git ignores and ``make test`` never reads."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from support import ROOT

from h200cast import notebook, settings
from h200cast.report.runner import STANCE_PAGE, to_html
from h200cast.settings import notebooks_dir

FEE = (
    "Under **customs_ban**, the US fee brings in **$5.6 billion (P5-P95 $0.8-$10.9)** over the "
    "horizon, $3.8 billion (P5-P95 $0.8-$6.3) of it in 2026."
)
UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")
NBVAL = ["--nbval-lax", "--nbval-current-env", "--ignore=tests", "."]  # over the whole checkout


def _in_a_jupyter_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.STATIC_ENV, raising=False)
    monkeypatch.setenv("JPY_SESSION_NAME", "/work/03_fee_revenue.ipynb")


def test_setup_picks_svg_in_batch_and_the_offline_widget_in_a_jupyter_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import altair as alt

    chosen: list[tuple[str, dict]] = []
    monkeypatch.setattr(alt.renderers, "enable", lambda name, **kw: chosen.append((name, kw)))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv(settings.STATIC_ENV, raising=False)
    notebook.setup()
    _in_a_jupyter_server(monkeypatch)
    find_spec, installed = importlib.util.find_spec, [True]

    def find(name: str, *args: object) -> object:
        return (object() if installed[0] else None) if name == "anywidget" else find_spec(name)

    monkeypatch.setattr(importlib.util, "find_spec", find)
    notebook.setup()  # with anywidget (the lab extra)
    installed[0] = False
    with pytest.warns(UserWarning, match="anywidget"):
        notebook.setup()  # without anywidget: static, never a renderer that needs a CDN
    assert chosen == [("h200cast_svg", {}), ("jupyter", {"offline": True}), ("h200cast_svg", {})]


def test_the_static_renderer_draws_as_altairs_svg_renderer_and_once_per_chart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import altair as alt
    import pandas as pd
    import vl_convert as vlc

    from h200cast.views import charts

    chart = (
        alt.Chart(pd.DataFrame({"x": [1, 2, 3], "y": [2.0, 1.0, 3.5]}))
        .mark_line(clip=True)
        .encode(x="x:Q", y="y:Q")
    )
    calls: list[object] = []
    real = vlc.vegalite_to_svg
    monkeypatch.setattr(vlc, "vegalite_to_svg", lambda *a, **k: calls.append(a) or real(*a, **k))
    charts._svg.cache_clear()
    drawn = charts.save(chart, tmp_path, "c")  # saved, then shown: one drawing
    shown = charts.svg_renderer(chart.to_dict())["image/svg+xml"]
    assert drawn == shown == (tmp_path / "c.svg").read_text() and len(calls) == 1
    assert shown.startswith("<svg") and "clip" in shown
    # the same drawing Altair's own svg renderer makes of the chart, ids apart (its count,
    # ours are named from the spec: charts.stable_ids)
    with alt.renderers.enable("svg"):
        bundle = chart._repr_mimebundle_()
    theirs = (bundle[0] if isinstance(bundle, tuple) else bundle)["image/svg+xml"]
    assert "clip" in theirs and "clip" not in re.sub(r"clipPath|clip-path", "", shown)
    ids = r'(id="|url\(#)[^")]+'
    assert re.sub(ids, r"\1ID", theirs) == re.sub(ids, r"\1ID", shown)
    assert not (tmp_path / "c.png").exists()  # PNG only when asked for
    monkeypatch.setenv(settings.PNG_ENV, "1")
    charts.save(chart, tmp_path, "d")
    assert (tmp_path / "d.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_drawing_is_the_same_whatever_the_process_drew_before() -> None:
    """vl-convert counts the ids of clip paths and gradients over its process; charts.svg
    names them from the spec instead, so the report's workers (which draw every page's
    charts in one process) give each chart the bytes a fresh process gives it."""
    import altair as alt
    import pandas as pd

    from h200cast.views import charts

    df = pd.DataFrame({"x": [1, 2, 3], "y": [2.0, 1.0, 3.5], "v": [0.1, 0.5, 0.9]})
    clipped = alt.Chart(df).mark_line(clip=True).encode(x="x:Q", y="y:Q").to_dict()
    gradient = alt.Chart(df).mark_rect().encode(x="x:O", y="y:O", color="v:Q").to_dict()
    fresh = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys\nfrom h200cast.views import charts\n"
            "print(charts.svg(json.loads(sys.stdin.read())), end='')",
        ],
        input=json.dumps(clipped),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    charts._svg.cache_clear()
    first = charts.svg(clipped)
    shaded = charts.svg(gradient)
    charts._svg.cache_clear()  # drawn again, after other drawings: vl-convert's count moved on
    assert charts.svg(clipped) == first == fresh
    ids = lambda svg: set(re.findall(r'id="([^"]+)"', svg))  # noqa: E731
    assert ids(first) and ids(shaded) and not ids(first) & ids(shaded)  # one page shows both
    refs = set(re.findall(r"url\(#([^)]+)\)", first + shaded))
    assert refs and refs <= ids(first) | ids(shaded)  # every reference still resolves


def _offline_widget_js(monkeypatch: pytest.MonkeyPatch) -> str:
    """The JavaScript that Altair's chart widget hands JupyterLab once setup() has run.

    With anywidget (the `lab` extra, e.g. ``.venv-lab/bin/python -m pytest``), the widget's
    own, from a chart rendered as in a Lab kernel. ``.venv`` leaves anywidget out (it and
    ipywidgets would add their imports to every batch kernel's ``import altair``), so there
    it is built as ``JupyterChart.enable_offline`` builds it: Altair's widget script, its
    CDN imports dropped, bundled by vl-convert from the copies vl-convert ships.
    """
    import altair as alt

    if importlib.util.find_spec("anywidget") is not None:
        import pandas as pd

        _in_a_jupyter_server(monkeypatch)
        before = alt.renderers.active
        try:
            notebook.setup()
            chart = alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_point().encode(x="x:Q")
            bundle = chart._repr_mimebundle_()
            data = bundle[0] if isinstance(bundle, tuple) else bundle
            assert "application/vnd.jupyter.widget-view+json" in data
            assert "text/html" not in data
            return alt.JupyterChart._esm
        finally:
            alt.renderers.enable(before)
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    lines = (Path(alt.__file__).parent / "jupyter" / "js" / "index.js").read_text().split("\n")
    while lines and (not lines[0].strip() or lines[0].startswith(("import", "//"))):
        lines.pop(0)
    return vlc.javascript_bundle("\n".join(lines), vl_version=vl_version_for_vl_convert())


def test_interactive_charts_load_nothing_from_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    # What a chart sends JupyterLab: a widget whose JavaScript (Vega, Vega-Lite, vega-embed)
    # is all there. Altair's default HTML renderer instead loads Vega from a CDN, and fails
    # offline ("Error loading script"); so does the widget's script unless bundled.
    esm = _offline_widget_js(monkeypatch)
    assert len(esm) > 100_000  # Vega and the rest bundled, not a few lines that import them
    assert not re.search(r"""\bimport\s*\(|\bfrom\s*["']https?:|\bimport\s*["']https?:""", esm)
    for host in ("esm.sh", "cdn.jsdelivr", "unpkg.com"):
        assert host not in esm, host


def test_say_shows_money_as_plain_dollars(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    notebook.say("")
    notebook.say(FEE)
    (md,) = [s.data for s in shown]
    assert md == notebook.prose(FEE)
    # JupyterLab: its Markdown parser sees no unescaped dollar, and MathJax, which it runs
    # over the rendered page afterwards, skips the block
    assert not UNESCAPED_DOLLAR.search(md)
    assert re.match(r'<div class="[^"]*\bmathjax_ignore\b', md)
    assert notebook.prose(r"already \$1").count("\\$") == 1  # escaped once only


def _rendered_markdown(html: str) -> list[str]:
    return re.findall(
        r'<div class="[^"]*\bjp-RenderedMarkdown\b[^"]*"[^>]*>(.*?)</div>\s*</div>', html, re.S
    )


def test_the_report_shows_money_and_bold_in_prose() -> None:
    # The report's converter (nbconvert's HTML exporter, as the stance pages use) on a
    # fee sentence as `say` emits it: bold amounts, plain dollars, no literal ** or \$.
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("notebook.say(notebook.fee_answer(result))")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", {"text/markdown": notebook.prose(FEE), "text/plain": "<Markdown>"}
        )
    ]
    nb.cells = [cell]
    (prose,) = _rendered_markdown(to_html(nb))
    assert "<strong>$5.6 billion (P5-P95 $0.8-$10.9)</strong>" in prose
    assert "$3.8 billion (P5-P95 $0.8-$6.3)" in prose
    assert "**" not in prose and "\\$" not in prose


def test_committed_prose_has_no_maths_and_renders_its_bold() -> None:
    for path in sorted(notebooks_dir().glob("*.ipynb")):
        outputs = [o for c in nbformat.read(path, 4).cells for o in c.get("outputs", [])]
        for md in (o.get("data", {}).get("text/markdown") for o in outputs):
            if md:
                assert not UNESCAPED_DOLLAR.search(md), (path.name, md)
                assert "mathjax_ignore" in md, (path.name, md)
    page = nbformat.read(notebooks_dir() / f"{STANCE_PAGE}.ipynb", 4)
    prose = "".join(_rendered_markdown(to_html(page)))
    assert "duty collected at US entry is <strong>$" in prose
    assert "**" not in prose and "\\$" not in prose


def test_make_lab_copies_notebooks_once_and_keeps_edited_copies(tmp_path: Path) -> None:
    work = tmp_path / "work"

    def copies() -> str:
        done = subprocess.run(
            ["make", "-s", "-C", str(ROOT), "lab-copies", f"LAB_DIR={work}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    copies()
    assert sorted(p.name for p in work.iterdir()) == sorted(
        p.name for p in notebooks_dir().glob("*.ipynb")
    )
    edited = work / "03_fee_revenue.ipynb"
    edited.write_text("my edits", encoding="utf-8")
    os.utime(edited, (0, 0))  # as if notebooks/ had been refreshed since
    (work / "01_demand.ipynb").unlink()
    said = copies()
    assert edited.read_text(encoding="utf-8") == "my edits"
    assert "kept your" in said and "03_fee_revenue.ipynb" in said
    assert (work / "01_demand.ipynb").read_bytes() == (
        notebooks_dir() / "01_demand.ipynb"
    ).read_bytes()


def test_working_copies_are_ignored_by_git_and_never_collected() -> None:
    # make lab's copies (work/) and Lab's checkpoints, wherever Lab runs: git ignores
    # them, and neither pytest/nbval nor ruff (both in `make test`) reads them, even over
    # the whole checkout.
    name = f"zz_probe_{os.getpid()}"
    probes = [
        ROOT / "work" / f"{name}.ipynb",
        ROOT / "notebooks" / ".ipynb_checkpoints" / f"{name}-checkpoint.ipynb",
    ]
    made = [p.parent for p in probes if not p.parent.exists()]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import  os")]  # fails ruff; would run under nbval
    try:
        for p in probes:
            p.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, p)
        rel = [str(p.relative_to(ROOT)) for p in probes]
        ignored = subprocess.run(
            ["git", "-C", str(ROOT), "check-ignore", *rel], capture_output=True, text=True
        )
        assert ignored.stdout.split() == rel, ignored.stdout + ignored.stderr
        collected = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
                *NBVAL,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "notebooks/01_demand.ipynb::" in collected.stdout, collected.stdout[-2000:]
        assert name not in collected.stdout
        linted = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--show-files", "."],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "notebooks/01_demand.ipynb" in linted.stdout
        assert name not in linted.stdout
    finally:
        for p in probes:
            p.unlink(missing_ok=True)
        for folder in made:
            folder.rmdir()
