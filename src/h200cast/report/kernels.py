"""Kernels forked from a warm template instead of started from nothing.

A fresh kernel spends about a second of CPU before it runs a cell of ours: the
interpreter, ipykernel and its debugger, and the imports every page makes (numpy,
pandas, Altair, h200cast), then its first table and chart, which compile pandas'
formatters and Altair's schema validators. A report paid that once a page. Here the
process that starts a pool of notebook workers (or runs several notebooks itself) first
starts one template process (:func:`serve`, ``python -m h200cast.report.kernels``) that
does all of it once, while the workers start; each kernel is then a fork of it, ready in
milliseconds, given the arguments, environment and working folder that jupyter_client
would have given a fresh one, and the standard error of the worker that asked (its log).
Workers ask over a Unix socket (:class:`Client`); :mod:`h200cast.report.forked` is the
jupyter_client kernel manager that does the asking, kept apart so that the template
imports nothing heavy before it listens.

The template imports modules and draws one throwaway chart; it reads no h200cast setting
and fills no cache of ours (every setting is read when used, not when imported), so a
forked kernel computes what a fresh kernel does, to the byte. It forks only while it runs
a single thread. The kernel is the template's child, not the worker's: a pidfd tells the
worker when it has ended, and the template reaps it. Kernels start the usual way where
``fork`` or ``pidfd_open`` do not work, when ``H200CAST_FORK_KERNELS=0``, when the
template cannot listen or does not answer in time, and once it has died. A kernel
watches its parent, as every kernel does, so the kernels a template had forked die with
it, and their notebooks fail (a report says which pages, and builds the rest).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import importlib
import importlib.util
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from h200cast import settings

LAUNCHER = "ipykernel_launcher"
"""The module a Python kernel spec runs (``python -m ipykernel_launcher -f FILE``)."""

WARM_IMPORTS = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",  # debugpy: every kernel imports it as it starts
    "IPython.core.debugger",
    "IPython.core.history",
    "tornado.gen",
    "tornado.locks",
    "tornado.queues",
    "tornado.platform.asyncio",
    "pandas.io.formats.csvs",
    "pandas.io.formats.string",
    "h200cast.views.notebook",
    "h200cast.views.figures",
    "h200cast.estimation.backtest",
)
"""What the template imports: what a kernel imports as it starts and a page as it runs."""


def available() -> bool:
    """Whether kernels can be forked here, and the user has not turned it off."""
    return settings.fork_kernels() and _pidfds()


@functools.cache
def _pidfds() -> bool:
    """Whether this system forks and has pidfds (Linux 5.3 on; Python has the call anyway)."""
    if not hasattr(os, "fork") or not hasattr(os, "pidfd_open"):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return False
    return True


# --- the side that asks for kernels ------------------------------------------------------------


class Template:
    """A template process, started here, that forks a kernel for each request.

    :func:`serve` runs in it (``command`` starts another program in its place, for tests).
    It listens on a socket at ``address``, so that every worker of a pool asks the same
    template; ``address`` is None when it failed to start. It ends when this process
    closes it, or exits.
    """

    def __init__(self, command: list[str] | None = None) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="h200t-")
        socket_path = str(Path(self.folder.name) / "template")
        self.process = subprocess.Popen(
            command or [sys.executable, "-m", __name__, socket_path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
            # debugpy's warning that frozen modules may hide breakpoints, printed as it is
            # imported, once here instead of in every kernel's log
            env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
        )
        assert self.process.stdout is not None
        with self.process.stdout:  # its first line, before it warms up: it listens
            listening = self.process.stdout.readline().strip() == b"listening"
        self.address: str | None = socket_path if listening else None

    def close(self) -> None:
        """Stop the template (its kernels end once it has: they watch their parent)."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.folder.cleanup()


REQUEST_TIMEOUT = 30.0
"""Seconds a kernel waits for the template, which answers once it has warmed up (1.5-2 s;
longer on a loaded machine); past that, the kernel starts the usual way."""


class Client:
    """What asks the template at ``address`` for kernels (one per process that runs notebooks)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.gone = False  # set once the template did not answer: kernels then start as usual

    def fork(self, argv: list[str], env: dict[str, str], cwd: str) -> int | None:
        """Have a kernel forked with these arguments, environment and folder, and this
        process's standard error: its pid, or None when the template cannot."""
        if self.gone:
            return None
        request = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode() + b"\n"
        answer = b""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(REQUEST_TIMEOUT)
                conn.connect(self.address)
                socket.send_fds(conn, [request], [2])  # the kernel writes where we do
                with conn.makefile("rb") as reply:
                    answer = reply.readline().strip()
        except OSError:
            pass
        if not answer.isdigit():
            self.gone = self.gone or not answer  # "no" (it could not fork this time) is not gone
            return None
        return int(answer)


_CLIENT: Client | None = None
_OWN: Template | None = None


def client() -> Client | None:
    """How this process gets forked kernels, or None (they then start the usual way)."""
    return _CLIENT


def connect(address: str | None) -> None:
    """Ask the template at ``address`` for this process's kernels (None: start them as usual)."""
    global _CLIENT
    _CLIENT = Client(address) if address and available() else None


@contextlib.contextmanager
def forking() -> Iterator[str | None]:
    """Kernels forked from a warm template while the block runs: the template this process
    uses already, or one started now and stopped after. Yields its address, for workers to
    :func:`connect` to (None where kernels cannot be forked)."""
    global _OWN
    if _CLIENT is not None:
        yield _CLIENT.address
        return
    if not available():
        yield None
        return
    _OWN = Template()
    atexit.register(_OWN.close)  # should this process end inside the block
    connect(_OWN.address)
    try:
        yield _OWN.address
    finally:
        connect(None)
        atexit.unregister(_OWN.close)
        _OWN.close()
        _OWN = None


def papermill_arguments() -> dict[str, Any]:
    """What papermill needs for kernels forked from a template (none when this process has none)."""
    if client() is None:
        return {}
    return {"kernel_manager_class": "h200cast.report.forked.ForkKernelManager"}


# --- the template's side ------------------------------------------------------------------------


def warm() -> None:
    """Import and exercise once what every kernel would, touching no setting of ours."""
    for name in WARM_IMPORTS:
        importlib.import_module(name)
    import altair as alt
    import pandas as pd

    df = pd.DataFrame({"month": ["2026-01"], "units": [1.0]})
    df._repr_html_()
    alt.Chart(df).mark_line().encode(x="month:N", y="units:Q").to_dict()  # Altair's validators


def serve(address: str) -> None:
    """The template: listen at ``address``, warm up, then fork a kernel for each request.

    A request is one JSON line (``argv``, ``env``, ``cwd``) sent with the asker's standard
    error; the answer is the kernel's pid, or ``no`` when it cannot fork safely (another
    thread runs). It says ``listening`` on standard output once requests can queue, and ends
    when its standard input does.
    """
    path = sys.path[1:]  # without the folder `-m` put first, as ipykernel_launcher does
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # its starter stops it (Template.close)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(address)
    except OSError as exc:  # e.g. a path over the 107 bytes a Unix socket may have
        sys.stderr.write(f"h200cast: no kernel template ({exc}); kernels start as usual\n")
        raise SystemExit(1) from None
    listener.listen(64)
    sys.stdout.buffer.write(b"listening\n")
    sys.stdout.buffer.flush()
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)  # so that the line is all it says there: its starter waits for no more
    os.close(quiet)
    # as the gc module's documentation advises a process that forks without exec: no
    # collection while it warms up (none would free much, each would walk every object
    # imported so far), then what it made frozen, so that a kernel's collections never
    # walk it (about 0.06 s of CPU a kernel) nor write to its pages, which it shares with
    # the template until either writes; each kernel collects again (_become_kernel)
    gc.disable()
    warm()  # meanwhile, requests wait in the listener's queue
    gc.freeze()
    signal.signal(signal.SIGCHLD, _reap)
    with selectors.DefaultSelector() as events:
        events.register(listener, selectors.EVENT_READ)
        events.register(0, selectors.EVENT_READ)
        while True:
            for key, _ in events.select():
                if key.fileobj is listener:
                    _answer(listener, events, path)
                elif not os.read(0, 4096):
                    return  # whoever started it has closed it, or is gone


def _answer(listener: socket.socket, events: selectors.BaseSelector, path: list[str]) -> None:
    """Fork a kernel for the request waiting at ``listener``, and answer with its pid.

    A request cut short or malformed gets no answer (its asker starts the kernel as
    usual); one whose asker has stopped waiting gets no kernel.
    """
    conn, _ = listener.accept()
    fds: list[int] = []
    with conn:
        try:
            conn.settimeout(10.0)
            message, fds, _, _ = socket.recv_fds(conn, 1 << 16, 1)
            while message and not message.endswith(b"\n"):
                more = conn.recv(1 << 16)
                if not more:
                    break
                message += more
            request = json.loads(message)
            if len(fds) != 1 or _hung_up(conn):
                return
            pid = os.fork() if threading.active_count() == 1 else -1
            if pid == 0:
                events.close()
                listener.close()
                conn.close()
                _become_kernel(request, path, fds[0])  # never returns
            try:
                conn.sendall(f"{pid}\n".encode() if pid > 0 else b"no\n")
            except OSError:  # its asker is gone: nobody would ever run or stop this kernel
                if pid > 0:
                    os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            return
        finally:
            for fd in fds:  # the asker's standard error: the kernel has its own copy
                os.close(fd)


def _hung_up(conn: socket.socket) -> bool:
    """Whether the asker has closed its end (it waited no longer): an end of file to read."""
    timeout = conn.gettimeout()
    conn.setblocking(False)  # a socket with a timeout would wait for data first
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False  # nothing to read: it is waiting for the answer
    finally:
        conn.settimeout(timeout)


def _reap(signum: int, frame: Any) -> None:
    """Collect every kernel that has ended (the template's children)."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def _become_kernel(request: dict[str, Any], path: list[str], stderr: int) -> None:
    """In the forked child: become the kernel jupyter_client asked for; never returns."""
    code = 1
    try:
        gc.enable()  # the template's objects stay frozen: a collection walks the kernel's own
        os.setsid()  # as jupyter_client starts a kernel: its own session
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # not the template's pipe
        os.dup2(stderr, 1)  # where the worker that asked writes (its log)
        os.dup2(stderr, 2)
        os.close(null)
        os.close(stderr)
        os.environ.clear()
        os.environ.update(request["env"])
        parent = str(os.getppid())  # the template: the kernel exits when it is gone
        os.environ["JPY_PARENT_PID"] = parent
        os.chdir(request["cwd"])
        sys.path[:] = path
        launcher = importlib.util.find_spec(LAUNCHER)
        script = launcher.origin if launcher is not None and launcher.origin else LAUNCHER
        sys.argv = [script, *request["argv"][3:]]
        from ipykernel import kernelapp

        # ipykernel read JPY_PARENT_PID when the template imported it: say it again
        kernelapp.launch_new_instance(parent_handle=int(parent))
        code = 0
    finally:
        os._exit(code)


if __name__ == "__main__":
    serve(sys.argv[1])
