"""The live explorer: levers to overrides, the numbers and the chart it redraws, and the app
(``make explore``, Voila) driven in headless Chromium with the network blocked."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from support import ROOT, scenario

from h200cast.errors import InputError
from h200cast.scenario.ref import ScenarioRef
from h200cast.views import explorer

APRIL, JANUARY = "2026-04-30", "2026-01-31"


# --- levers to overrides -------------------------------------------------------------------


def test_each_lever_sets_its_dotted_key() -> None:
    sc = scenario("open_market", vintage=JANUARY)
    got = explorer.overrides(
        {
            "review_stall": 0.1,
            "licence_lag": 3.0,
            "production_stop": 5,
            "fee_rate": 0.15,
            "customs_value": 0.9,
            "price": 30000.0,
            "capacity_growth": 0.7,
        },
        sc,
    )
    assert got == {
        "us.review_stall_prob": 0.1,
        "us.licence_lag_months": 3.0,
        "supply.production_stop_month": 5,
        "us.fee_rate": 0.15,
        "us.customs_value_share": 0.9,
        "money.price_usd": 30000.0,
        "domestic.capacity_growth_per_year": 0.7,
    }
    assert explorer.overrides({"production_stop": None}, sc) == {
        "supply.production_stop_month": None
    }
    assert explorer.set_strings({"supply.production_stop_month": None, "us.fee_rate": 0.1}) == [
        "supply.production_stop_month=null",
        "us.fee_rate=0.1",
    ]


def test_conversion_sets_the_buyers_rate_and_every_approvals_rate_of_the_run() -> None:
    # under approvals the model orders at min(approvals rate, buyers' rate): both are set
    without = scenario("open_market", vintage=JANUARY)
    assert explorer.overrides({"conversion": 0.3}, without) == {"buyers.conversion_per_month": 0.3}
    under = scenario("selective_approval", vintage=JANUARY)
    assert explorer.overrides({"conversion": 0.3}, under) == {
        "buyers.conversion_per_month": 0.3,
        "stances.selective_approval.approvals.conversion_per_month": 0.3,
    }
    # the lever starts at the rate used under approvals: the smaller of the two modes
    assert explorer.central(under, explorer.BY_NAME["conversion"]) == 0.2
    assert explorer.central(without, explorer.BY_NAME["conversion"]) == 0.5
    assert "approvals tri(0.05, 0.20, 0.50)" in explorer.spec_text(
        under, explorer.BY_NAME["conversion"]
    )


def test_bad_lever_values_are_one_line_input_errors() -> None:
    sc = scenario("open_market", vintage=JANUARY)
    with pytest.raises(InputError, match="expected one of"):
        explorer.overrides({"nope": 1.0}, sc)
    with pytest.raises(InputError, match="expected a number"):
        explorer.overrides({"fee_rate": "high"}, sc)  # type: ignore[dict-item]
    with pytest.raises(InputError, match="month index"):
        explorer.overrides({"production_stop": -1}, sc)
    with pytest.raises(InputError, match="expected a number"):
        explorer.overrides({"price": None}, sc)


# --- the explorer's runs and redraws -------------------------------------------------------


@pytest.fixture(scope="module")
def january() -> explorer.Explorer:
    return explorer.Explorer(stance="selective_approval", draws=300, vintage=JANUARY)


def _row(rows: list[explorer.Row], quantity: str) -> explorer.Row:
    (row,) = [r for r in rows if r.quantity.strip() == quantity]
    return row


def test_a_zero_fee_rate_collects_no_fee(january: explorer.Explorer) -> None:
    redraw = january.set(fee_rate=0.0)
    assert not redraw.error
    assert np.all(redraw.result.paths["us_fee_usd"] == 0.0)
    fee = _row(explorer.numbers(redraw.result), "US fee collected")
    assert (fee.value, fee.p5, fee.p95) == (0.0, 0.0, 0.0)
    assert _row(explorer.numbers(january.baseline), "US fee collected").value > 0
    # shipments do not answer the fee rate (the duty is owed at US entry, not passed on here)
    assert redraw.result.paths["shipments"].sum() > 0
    january.reset()


def test_a_production_stop_at_month_0_makes_nothing(january: explorer.Explorer) -> None:
    redraw = january.set(production_stop=0)
    assert np.all(redraw.result.paths["production"] == 0.0)
    assert january.baseline.paths["production"].sum() > 0
    # what ships comes out of the stock at the start
    shipped = redraw.result.metrics["shipments_total_units"]
    assert np.all(shipped <= redraw.result.scenario.supply.inventory_units.high + 1e-6)
    january.reset()


def test_no_conversion_means_no_firm_orders_and_nothing_ships(january: explorer.Explorer) -> None:
    redraw = january.set(conversion=0.0)
    assert np.all(redraw.result.paths["firm_orders"] == 0.0)
    assert np.all(redraw.result.paths["shipments"] == 0.0)
    shortfall = explorer.numbers(redraw.result)
    demand = _row(shortfall, "demand").value
    # nothing ships, so the shortfall is the whole demand (in thousand units)
    assert _row(shortfall, "shortfall").value == pytest.approx(demand, rel=1e-9)
    assert _row(shortfall, "short of supply").value == 0.0
    january.reset()


def test_a_lever_back_at_its_start_is_the_baseline_again(january: explorer.Explorer) -> None:
    start = january.starts()
    moved = january.set(price=40000.0)
    assert moved.result is not january.baseline and not moved.cached
    assert january.choice.values() == {"price": 40000.0}
    assert "fixed" not in january.status()  # the status line names the levers moved
    assert "Selling price 40,000" in january.status()
    back = january.set(price=start["price"])
    assert back.result is january.baseline and back.cached  # kept, not re-run
    assert january.choice == january.start
    again = january.set(price=40000.0)
    assert again.cached and again.result is moved.result


def test_the_numbers_and_the_chart_data_show_baseline_and_now(january: explorer.Explorer) -> None:
    redraw = january.set(price=35000.0)
    table = explorer.numbers_table(january.baseline, redraw.result)
    assert list(table.columns) == ["quantity", "unit", "statistic", "baseline", "now", "change"]
    demand = table.set_index("quantity").loc["demand"]
    assert demand["baseline"] != demand["now"] and demand["change"].startswith("-")
    html = redraw.html
    assert html.count("data-run='baseline'") == html.count("data-run='now'") == len(table)
    data = redraw.spec["datasets"]
    assert set(data) == set(explorer.DATASETS)
    for rows in data.values():
        assert {r["run"] for r in rows} == {explorer.BASELINE, explorer.NOW}
    # the shortfall's parts add up to its total (means over the same draws)
    for run_name, r in ((explorer.BASELINE, january.baseline), (explorer.NOW, redraw.result)):
        parts = sum(x["mean"] for x in data["shortfall"] if x["run"] == run_name)
        assert parts == pytest.approx(r.stats["shortfall_total_units"]["mean"] / 1e3, rel=1e-9)
    # a redraw swaps the data of the template built once
    assert {k: v for k, v in redraw.spec.items() if k != "datasets"} == january.template
    january.reset()


def test_a_vintage_or_a_run_can_change_and_a_refused_run_keeps_the_last(
    january: explorer.Explorer,
) -> None:
    r = january.set(ref=ScenarioRef("stance", "customs_ban"))
    assert r.result.label == "customs_ban" and not r.error
    assert (
        r.result.stats["shipments_total_units"]["mean"]
        < (january.baseline.stats["shipments_total_units"]["mean"])
    )
    bad = january.set(vintage="1999-01-01")
    assert bad.error and bad.result is r.result and "cannot run that" in january.status(bad)
    january.reset()
    assert [label for label, _ in explorer.choices()][:6] == [
        f"stance: {s}" for s in explorer.STANCES
    ]
    assert JANUARY in explorer.vintages() and APRIL in explorer.vintages()


def test_a_new_vintage_keeps_unmoved_levers_at_its_own_model_values() -> None:
    ex = explorer.Explorer(stance="selective_approval", draws=200, vintage=APRIL)
    assert ex.positions()["production_stop"] == 2  # April: production stopped from March
    r = ex.set(fee_rate=0.1)
    r = ex.set(vintage=JANUARY)
    assert not r.error and r.result.vintage == JANUARY
    assert ex.choice.values() == {"fee_rate": 0.1}  # moved: stays fixed
    assert ex.positions()["production_stop"] is None  # unmoved: January's model, never
    assert r.result.scenario.supply.production_stop_month is None
    assert r.result.scenario.us.fee_rate.value == 0.1
    assert "no lever moved" not in ex.status() and "(the baseline)" not in ex.status()
    ex.reset()
    assert ex.choice == ex.start and "(the baseline)" in ex.status()


def test_outside_a_live_kernel_it_shows_the_baseline_as_svg(
    january: explorer.Explorer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import IPython.display

    shown: list[Any] = []
    monkeypatch.setattr(IPython.display, "display", lambda x: shown.append(x))
    january.show()  # tests run with H200CAST_STATIC_CHARTS=1
    assert any("static copy" in getattr(x, "data", "") for x in shown)
    chart = next(x for x in shown if hasattr(x, "to_dict"))
    assert chart.to_dict()["datasets"]["totals"][0]["run"] == explorer.BASELINE
    text = explorer.numbers_text(january.baseline)
    assert "US fee collected" in text and "now" not in text


# --- the app, in a real browser, offline -----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-headless-shell")
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        assert done.returncode == 0, (
            "no Chromium and could not install one (as root: apt-get install chromium): "
            + done.stderr[-2000:]
        )
    found = shutil.which("chromium")
    assert found, "chromium is not on PATH after installing it"
    return found


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``make explore`` on a free port (building .venv-lab first if it is missing); its address."""
    port = _free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                "make",
                "-s",
                "-C",
                str(ROOT),
                "explore",
                f"EXPLORE_PORT={port}",
                "EXPLORE_ARGS=--no-browser",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: make, Voila and its kernels
        )
    try:
        deadline = time.monotonic() + 600  # building .venv-lab from an empty cache is slow
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail(f"Voila did not start: {log.read_text()[-3000:]}")
        yield f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


class DevTools:
    """A minimal Chrome DevTools protocol client over one page's websocket (tornado's)."""

    def __init__(self, ws_url: str) -> None:
        from tornado.websocket import websocket_connect

        async def connect() -> Any:
            return await websocket_connect(ws_url, max_message_size=256 * 1024 * 1024)

        self.loop = asyncio.new_event_loop()
        # tornado makes its futures (a write's) on the current loop: this one, not whatever
        # loop, or none, an earlier test left current
        asyncio.set_event_loop(self.loop)
        self.ws = self.loop.run_until_complete(connect())
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        me = self.next_id
        self.ws.write_message(json.dumps({"id": me, "method": method, "params": params}))

        async def answer() -> dict[str, Any]:
            while True:
                raw = await self.ws.read_message()
                assert raw is not None, "Chromium closed the connection"
                msg = json.loads(raw)
                if msg.get("id") == me:
                    assert "error" not in msg, (method, msg["error"])
                    result: dict[str, Any] = msg.get("result", {})
                    return result
                if "method" in msg:
                    self.events.append(msg)

        return self.loop.run_until_complete(asyncio.wait_for(answer(), timeout))

    def js(self, expression: str) -> Any:
        got = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in got, got["exceptionDetails"]
        return got["result"].get("value")

    def wait(self, expression: str, timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.02)
        pytest.fail(f"timed out after {timeout} s waiting for {what}")

    def close(self) -> None:
        self.ws.close()
        self.loop.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    """Headless Chromium with every host name unresolvable and every proxyable request sent to
    a closed port, driven over the DevTools protocol."""
    profile = tmp_path_factory.mktemp("chromium")
    proc = subprocess.Popen(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--proxy-server=http://127.0.0.1:9",  # anything not on this machine goes nowhere
            "--proxy-bypass-list=127.0.0.1",
            "--window-size=1300,1800",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert time.monotonic() < deadline and proc.poll() is None, "Chromium did not start"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as f:
            pages = [t for t in json.load(f) if t["type"] == "page"]
        tools = DevTools(pages[0]["webSocketDebuggerUrl"])
        yield tools
        tools.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


NOW_CELLS = (
    "Array.from(document.querySelectorAll(\"table.h200cast-numbers td[data-run='now']\"))"
    ".map(td => td.dataset.quantity + ': ' + td.textContent)"
)


PICK = """(() => {
  const text = o => o.textContent.split('\\u00a0').join(' ');
  const sel = Array.from(document.querySelectorAll('.widget-dropdown select'))
    .find(s => Array.from(s.options).some(o => text(o) === LABEL));
  if (!sel) return false;
  sel.selectedIndex = Array.from(sel.options).findIndex(o => text(o) === LABEL);
  sel.dispatchEvent(new Event('change', {bubbles: true}));
  return true;
})()"""
"""Choose an option of an ipywidgets drop-down by its text (ipywidgets writes its spaces as
no-break spaces) and tell the widget, as a person's choice does."""
SELECTED = """Array.from(document.querySelectorAll('.widget-dropdown select'))
  .some(s => s.selectedIndex >= 0 && s.options[s.selectedIndex].textContent === 'LABEL')"""


def _pick(browser: DevTools, label: str) -> bool:
    return bool(browser.js(PICK.replace("LABEL", json.dumps(label))))


def _now(browser: DevTools) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in browser.js(NOW_CELLS))


def test_the_app_redraws_when_a_lever_moves_offline(app: str, browser: DevTools) -> None:
    browser.call("Network.enable")
    browser.call("Runtime.enable")
    browser.call("Page.enable")
    browser.call("Page.navigate", url=app)
    # Voila runs the notebook in a fresh kernel first: the baseline at 1,000 draws
    browser.wait(f"{NOW_CELLS}.length >= 10", 120, "the explorer's numbers")
    browser.wait(
        "document.querySelector('.vega-embed svg, .vega-embed canvas') !== null", 60, "the chart"
    )
    before = _now(browser)
    # move the fee-rate slider: press on its handle and drag it to the left, as a person would
    box = browser.wait(
        """(() => {
          const s = Array.from(document.querySelectorAll('.widget-slider'))
            .find(e => e.textContent.includes('US fee rate'));
          const h = s && s.querySelector('.noUi-handle');
          if (!h) return null;
          const r = h.getBoundingClientRect();
          return {x: r.x + r.width / 2, y: r.y + r.height / 2};
        })()""",
        10,
        "the fee-rate slider",
    )
    x, y = box["x"], box["y"]
    for kind, at in (
        ("mousePressed", x),
        ("mouseMoved", x - 60),
        ("mouseMoved", x - 120),
        ("mouseReleased", x - 120),
    ):
        browser.call(
            "Input.dispatchMouseEvent",
            type=kind,
            x=at,
            y=y,
            button="left",
            buttons=0 if kind == "mouseReleased" else 1,
            clickCount=1,
        )
    released = time.monotonic()
    browser.wait(
        f"(() => {{ const n = Object.fromEntries({NOW_CELLS}.map(l => l.split(': ')));"
        f" return n['US fee collected'] !== {json.dumps(before['US fee collected'])}; }})()",
        30,
        "the fee collected to change",
    )
    seconds = time.monotonic() - released
    after = _now(browser)
    assert after["US fee collected"] != before["US fee collected"]
    # the status line and the lever's note say what moved
    browser.wait(
        "document.body.innerText.includes('US fee rate 0.')"
        " && document.body.innerText.includes('fixed at')",
        10,
        "the status line to name the fee rate",
    )
    took = browser.js(
        "(document.body.innerText.match(/(model \\d+ ms, redraw \\d+ ms)/) || [''])[0]"
    )
    print(
        f"\nexplorer in Chromium: {seconds * 1e3:.0f} ms from releasing the slider to new "
        f"numbers ({took} in the kernel)"
    )
    # Beijing's stance, from its drop-down: demand moves too
    assert _pick(browser, "stance: open_market"), "no drop-down offers stance: open_market"
    browser.wait(
        f"(() => {{ const n = Object.fromEntries({NOW_CELLS}.map(l => l.split(': ')));"
        f" return n['demand'] !== {json.dumps(after['demand'])}; }})()",
        30,
        "demand to change with the stance",
    )
    # the January vintage: production for China never stops there (April's stops in March)
    assert _pick(browser, "2026-01-31"), "no drop-down offers the January vintage"
    browser.wait("document.body.innerText.includes('vintage 2026-01-31')", 30, "the January run")
    assert browser.js(SELECTED.replace("LABEL", "never")), "production stop is not at never"
    # nothing but the app's own address was asked for
    asked = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert asked, "no request recorded"
    outside = [
        u for u in asked if not u.startswith((app, app.replace("http", "ws"), "data:", "blob:"))
    ]
    assert not outside, outside
    failed = [e["params"] for e in browser.events if e.get("method") == "Network.loadingFailed"]
    assert not failed, failed
    errors = [e["params"] for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
    assert not errors, errors
    console = [
        " ".join(str(a.get("value", a.get("description", ""))) for a in e["params"]["args"])
        for e in browser.events
        if e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error"
    ]
    assert not console, console
