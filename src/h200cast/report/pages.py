"""The report's HTML around the content: templates, the house style, the navigation bar.

Every page of a report carries the same navigation bar: the front page, each run's page,
each analysis, the track record, the what-if and the sources. Pages that h200cast renders
itself include it from ``nav.html.j2``; pages written by other tools (the notebooks that
nbconvert converts, the what-if that vl-convert writes) get it inserted after their
``<body>`` tag, between two markers, so that a page copied from the previous report has
its bar replaced, not doubled.
"""

from __future__ import annotations

import functools
import html
import html.parser
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1rem auto 2rem; max-width: 1250px;
       color: #222; line-height: 1.45; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.88rem; margin: 0.8rem 0; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 0.3rem 0.6rem; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
td.l, th.l { text-align: left; }
.fail { color: #b00020; font-weight: 600; } .muted { color: #666; font-size: 0.85rem; }
.chart { margin: 1rem 0; } .chart svg, .chart img { max-width: 100%; height: auto; display: block; }
iframe { border: 1px solid #ddd; width: 100%; height: 560px; }
code { background: #f4f4f4; padding: 0 0.2rem; }
ul.summary li { margin: 0.35rem 0; }
"""
"""The style of the pages h200cast renders (charts scale down to the page's width)."""

NAV_START, NAV_END = "<!-- h200cast:nav -->", "<!-- /h200cast:nav -->"


@dataclass(frozen=True)
class Link:
    """A page of the report: where it is (relative to the report's folder) and its name."""

    href: str
    text: str


@dataclass(frozen=True)
class Group:
    """Links under one heading of the navigation bar (a heading of ``""``: none)."""

    heading: str
    links: tuple[Link, ...]


def template(name: str) -> Any:
    """A Jinja2 template of ``report/templates/``; ``e`` escapes as :func:`html.escape` does."""
    return _templates().get_template(name)


@functools.cache
def _templates() -> Any:
    """The templates' environment, made once per process: it compiles each template when
    first asked for it and keeps it (a report asks for the navigation bar on every page)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=False,  # every value is escaped explicitly with `| e`
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["e"] = html.escape
    return env


def root_of(page: str) -> str:
    """The relative way from a page (``runs/x/page.html``) back to the report's folder."""
    return "../" * page.count("/")


def nav(groups: Sequence[Group], page: str) -> str:
    """The navigation bar as seen from ``page`` (its path in the report), its own entry marked."""
    return template("nav.html.j2").render(groups=groups, here=page, root=root_of(page))


def render(name: str, page: str, groups: Sequence[Group], **values: Any) -> str:
    """A page from template ``name``, with the house style and the navigation bar for ``page``."""
    return template(name).render(style=STYLE, nav=nav(groups, page), **values)


class _Tags(html.parser.HTMLParser):
    """Where a page's first ``<title>``, ``</title>`` and ``<body>`` tags are (offsets).

    A parser, not a search: the what-if page bundles Vega, whose script holds the text
    ``<body>`` too; a parser reads a script's content as text, not as tags.
    """

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self.lines = [0]
        for line in text.splitlines(keepends=True):
            self.lines.append(self.lines[-1] + len(line))
        self.found: dict[str, tuple[int, int]] = {}  # tag -> (start, end) offsets
        self.feed(text)
        self.close()

    def _here(self) -> int:
        line, col = self.getpos()
        return self.lines[line - 1] + col

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("title", "body") and tag not in self.found:
            start = self._here()
            self.found[tag] = (start, start + len(self.get_starttag_text() or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and "/title" not in self.found:
            start = self._here()
            self.found["/title"] = (start, start + len("</title>"))


def with_nav(text: str, bar: str) -> str:
    """``text`` (a whole HTML page) with ``bar`` right after its ``<body>`` tag.

    A bar inserted before (between the markers) is replaced, so the result is the same
    however many times a page passes through here.
    """
    block = f"{NAV_START}\n{bar.strip()}\n{NAV_END}"
    start, end = text.find(NAV_START), text.find(NAV_END)
    if start >= 0 and end > start:
        return text[:start] + block + text[end + len(NAV_END) :]
    body = _Tags(text).found.get("body")
    if body is None:
        raise ValueError("not an HTML page: no <body> tag")
    return text[: body[1]] + "\n" + block + text[body[1] :]


def add_nav(file: Path, groups: Sequence[Group], page: str) -> None:
    """Insert (or replace) the navigation bar in a page written by another tool."""
    text = file.read_text(encoding="utf-8")
    file.write_text(with_nav(text, nav(groups, page)), encoding="utf-8")


def retitle(text: str, title: str) -> str:
    """``text`` (a whole HTML page) with its ``<title>`` set to ``title``."""
    found = _Tags(text).found
    if "title" not in found or "/title" not in found:
        raise ValueError("not an HTML page with a <title>")
    return text[: found["title"][1]] + html.escape(title) + text[found["/title"][0] :]


@dataclass(frozen=True)
class Chart:
    """A chart on one of the report's own pages: its SVG, shown inline, and its data."""

    svg: str
    data: str  # the CSV of the table it draws, relative to the report's folder


def save_chart(report: Path, folder: str, name: str, figure: tuple[Any, Any]) -> Chart:
    """Write a figure's chart (SVG, PNG) and table (CSV) to ``report/folder``; the chart to show.

    ``figure`` is what a :mod:`h200cast.views.figures` function returns.
    """
    from h200cast.views import notebook

    chart, table = figure
    notebook.save(report / folder, name, chart=chart, table=table)
    return Chart(
        (report / folder / f"{name}.svg").read_text(encoding="utf-8"), f"{folder}/{name}.csv"
    )
