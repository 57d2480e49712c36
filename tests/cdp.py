"""Headless Chromium over the DevTools protocol, through a pipe, with the network cut off.

The browser talks CDP over file descriptors 3 and 4 (``--remote-debugging-pipe``), so no
port is opened. Host names do not resolve (``--host-resolver-rules``), and every request
a page makes, every console message and every uncaught exception is recorded, so a test
can require that nothing left the machine and nothing failed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OFFLINE = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no network: every host name fails to resolve
]


@dataclass
class Visit:
    """What one page did while it loaded: its requests, console errors and exceptions."""

    url: str
    session: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Chromium:
    """A headless Chromium driven over a CDP pipe; use as a context manager."""

    def __init__(self, binary: str, profile: Path, width: int = 1280, height: int = 1600) -> None:
        to_browser, self._out = os.pipe()
        self._in, from_browser = os.pipe()
        # high numbers first, so that moving them onto 3 and 4 cannot clobber one another
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser, from_browser)]

        def onto_3_and_4() -> None:
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.proc = subprocess.Popen(
            [
                binary,
                *OFFLINE,
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            preexec_fn=onto_3_and_4,
            pass_fds=(3, 4),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for fd in (to_browser, from_browser, *high):
            os.close(fd)
        self.width, self.height = width, height
        self._buffer = b""
        self._next = 0
        self._visits: dict[str, Visit] = {}

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the browser (and kill it if it does not go)."""
        with contextlib.suppress(OSError, TimeoutError, EOFError):
            self.call("Browser.close", timeout=10)
        for fd in (self._in, self._out):
            with contextlib.suppress(OSError):
                os.close(fd)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    # --- the protocol -----------------------------------------------------------------------

    def _send(self, method: str, params: dict[str, Any] | None, session: str | None) -> int:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._out, json.dumps(msg).encode() + b"\0")
        return self._next

    def _receive(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise EOFError("Chromium closed its pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        found: dict[str, Any] = json.loads(message)
        self._record(found)
        return found

    def _record(self, m: dict[str, Any]) -> None:
        visit = self._visits.get(m.get("sessionId", ""))
        if visit is None or "method" not in m:
            return
        p = m.get("params", {})
        if m["method"] == "Network.requestWillBeSent":
            visit.requests.append(p["request"]["url"])
        elif m["method"] == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            visit.errors.append(
                f"exception: {d.get('exception', {}).get('description') or d['text']}"
            )
        elif m["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            visit.errors.append(
                "console: " + " ".join(str(a.get("value", a.get("description"))) for a in p["args"])
            )
        elif m["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
            visit.errors.append(f"log: {p['entry']['text']} ({p['entry'].get('url', '')})")
        elif m["method"] == "Network.loadingFailed" and not p.get("canceled"):
            visit.errors.append(f"failed to load: {p.get('errorText')}")

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float = 60,
    ) -> dict[str, Any]:
        """Send a command and return its result (events that arrive meanwhile are recorded)."""
        wanted = self._send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            m = self._receive(deadline)
            if m.get("id") == wanted:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                result: dict[str, Any] = m.get("result", {})
                return result

    def _wait_for(self, method: str, session: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            m = self._receive(deadline)
            if m.get("method") == method and m.get("sessionId") == session:
                return

    # --- pages ------------------------------------------------------------------------------

    def visit(self, page: Path | str, settle: float = 0.5, timeout: float = 60) -> Visit:
        """Open ``page`` in a new tab, wait for its load event and ``settle`` seconds more."""
        url = page.as_uri() if isinstance(page, Path) else page
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        visit = self._visits[session] = Visit(url, session)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=session)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
            session,
        )
        self.call("Page.navigate", {"url": url}, session)
        self._wait_for("Page.loadEventFired", session, timeout)
        loaded = f"document.readyState === 'complete' && location.href === {json.dumps(url)}"
        deadline = time.monotonic() + timeout
        while not self.evaluate(visit, loaded):  # not the first tab's about:blank
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not load")
            time.sleep(0.05)
        end = time.monotonic() + settle
        while time.monotonic() < end:  # let scripts draw (Vega) and report their errors
            try:
                self._receive(end)
            except TimeoutError:
                break
        return visit

    def evaluate(self, visit: Visit, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        found = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            visit.session,
        )
        if "exceptionDetails" in found:
            raise RuntimeError(f"{expression[:80]}: {found['exceptionDetails']}")
        return found["result"].get("value")

    def screenshot(self, visit: Visit, out: Path, full_page: bool = False) -> Path:
        """A PNG of the page as the window shows it (or the whole page)."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            size = self.call("Page.getLayoutMetrics", session=visit.session)["cssContentSize"]
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": size["height"],
                "scale": 1,
            }
        data = self.call("Page.captureScreenshot", params, visit.session)["data"]
        out.write_bytes(base64.b64decode(data))
        return out
