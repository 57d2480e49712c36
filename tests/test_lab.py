"""JupyterLab: charts that load nothing from the network."""

from __future__ import annotations

import importlib.util
import re

import pytest

from h200cast import notebook


def _in_a_jupyter_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(notebook.STATIC_ENV, raising=False)
    monkeypatch.setenv("JPY_SESSION_NAME", "/work/03_fee_revenue.ipynb")


def test_setup_picks_svg_in_batch_and_the_offline_widget_in_a_jupyter_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import altair as alt

    chosen: list[tuple[str, dict]] = []
    monkeypatch.setattr(alt.renderers, "enable", lambda name, **kw: chosen.append((name, kw)))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv(notebook.STATIC_ENV, raising=False)
    notebook.setup()
    _in_a_jupyter_server(monkeypatch)
    notebook.setup()
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "anywidget" else find_spec(n, *a)
    )
    with pytest.warns(UserWarning, match="anywidget"):
        notebook.setup()  # without anywidget: static, never a renderer that needs a CDN
    assert chosen == [("svg", {}), ("jupyter", {"offline": True}), ("svg", {})]


def test_interactive_charts_load_nothing_from_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    # What a chart sends JupyterLab: a widget view, whose JavaScript (Vega, Vega-Lite,
    # vega-embed) vl-convert bundles from its own copy. Altair's default HTML renderer
    # instead loads Vega from a CDN, and fails offline ("Error loading script").
    import altair as alt
    import pandas as pd

    _in_a_jupyter_server(monkeypatch)
    before = alt.renderers.active
    try:
        notebook.setup()
        assert alt.renderers.active == "jupyter"
        chart = alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_point().encode(x="x:Q")
        bundle = chart._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        assert "application/vnd.jupyter.widget-view+json" in data
        assert "text/html" not in data
        esm = alt.JupyterChart._esm
    finally:
        alt.renderers.enable(before)
    assert len(esm) > 100_000  # Vega and the rest bundled, not a few lines that import them
    assert not re.search(r"""\bimport\s*\(|\bfrom\s*["']https?:|\bimport\s*["']https?:""", esm)
    for host in ("esm.sh", "cdn.jsdelivr", "unpkg.com"):
        assert host not in esm, host
