"""Kernels forked from a warm template instead of started from nothing.

A fresh kernel spends about a second of CPU before it runs a cell of ours: the
interpreter, ipykernel and its debugger, and the imports every page makes (numpy,
pandas, Altair, h200cast), then its first table and chart, which compile pandas'
formatters and Altair's schema validators. A report paid that once a page. Here a worker
starts one template process (:func:`serve`, ``python -m h200cast.report.kernels``) that
does all of it once, while the worker starts; each kernel is then a fork of it, ready in
milliseconds, given the arguments, environment and working folder that jupyter_client
would have given a fresh one.

The template imports modules and draws one throwaway chart; it reads no h200cast setting
and fills no cache of ours (every setting is read when used, not when imported), so a
forked kernel computes what a fresh kernel does, to the byte. It forks only while it runs
a single thread. The kernel is the template's child, not the worker's: a pidfd tells the
worker when it has ended, and the template reaps it. Kernels start the usual way where
``fork`` or ``pidfd_open`` do not exist, when ``H200CAST_FORK_KERNELS=0``, or if the
template has died.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import importlib.util
import json
import os
import select
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any, cast

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

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


# --- the worker's side --------------------------------------------------------------------------


class Template:
    """A template process that forks a kernel for each request (:func:`serve` runs in it;
    ``command`` starts another program in its place, for tests)."""

    def __init__(self, command: list[str] | None = None) -> None:
        self.process = subprocess.Popen(
            command or [sys.executable, "-m", "h200cast.report.kernels"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
            # debugpy's warning that frozen modules may hide breakpoints, printed as it is
            # imported, once here instead of in every kernel's log
            env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
        )
        self.lock = threading.Lock()
        self.state = "starting"  # then "ready", or "gone" once it failed or closed

    def fork(self, argv: list[str], env: dict[str, str], cwd: str) -> int | None:
        """Fork a kernel with these arguments, environment and folder: its pid, or None when the
        template cannot (it failed to start, or has died)."""
        pipe_in, pipe_out = self.process.stdin, self.process.stdout
        assert pipe_in is not None and pipe_out is not None
        with self.lock:
            if self.state == "starting":  # its first line says it has warmed up
                ready = pipe_out.readline().strip() == b"ready"
                self.state = "ready" if ready else "gone"
            if self.state != "ready":
                return None
            try:
                pipe_in.write(json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode() + b"\n")
                pipe_in.flush()
                answer = pipe_out.readline().strip()
            except (OSError, ValueError):
                answer = b""
            if not answer.isdigit():
                self.state = "gone" if not answer else self.state
                return None
            return int(answer)

    def close(self) -> None:
        """Stop the template: it exits once its requests end (and its kernels once it has)."""
        with self.lock:
            self.state = "gone"
            if self.process.stdin is not None and not self.process.stdin.closed:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_TEMPLATE: Template | None = None


def start_template() -> Template | None:
    """This process's template, started now if kernels can be forked here (else None).

    It is stopped when this process exits; :func:`stop_template` stops it sooner.
    """
    global _TEMPLATE
    if _TEMPLATE is None and available():
        _TEMPLATE = Template()
        atexit.unregister(stop_template)  # once, however often one starts
        atexit.register(stop_template)
    return _TEMPLATE


def stop_template() -> None:
    """Stop this process's template, if it has one."""
    global _TEMPLATE
    if _TEMPLATE is not None:
        _TEMPLATE.close()
        _TEMPLATE = None


@contextlib.contextmanager
def forking() -> Iterator[Template | None]:
    """Kernels forked from this process's template while the block runs: the one it has, or
    one started now and stopped after (None where kernels cannot be forked)."""
    if _TEMPLATE is not None:
        yield _TEMPLATE
        return
    started = start_template()
    try:
        yield started
    finally:
        if started is not None:
            stop_template()


def template() -> Template | None:
    """This process's template, or None (kernels then start the usual way)."""
    return _TEMPLATE


class Forked:
    """A forked kernel, seen as the ``Popen`` that jupyter_client's provisioner expects.

    It is the template's child, not ours: a pidfd says when it has ended (its exit status
    stays with the template, which reaps it), and signals go to it by pid.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.fd: int | None = os.pidfd_open(pid)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """None while the kernel runs, then 0."""
        if self.returncode is None and self.fd is not None:
            readable, _, _ = select.select([self.fd], [], [], 0)
            if readable:
                self._ended()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the kernel to end (``subprocess.TimeoutExpired`` after ``timeout`` seconds)."""
        if self.returncode is None and self.fd is not None:
            readable, _, _ = select.select([self.fd], [], [], timeout)
            if readable:
                self._ended()
        if self.returncode is None:
            raise subprocess.TimeoutExpired(LAUNCHER, timeout or 0.0)
        return self.returncode

    def _ended(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self.returncode = 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None and self.fd is not None:
            signal.pidfd_send_signal(self.fd, signum)  # never another process that took its pid

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def __del__(self) -> None:
        if self.fd is not None:
            os.close(self.fd)


class ForkProvisioner(LocalProvisioner):
    """Start the kernel as a fork of this process's template when it can, else the usual way."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        t = template()
        pid = None
        if t is not None and cmd[:3] == [sys.executable, "-m", LAUNCHER]:
            env = dict(kwargs.get("env") or os.environ)
            pid = t.fork(cmd, env, str(kwargs.get("cwd") or os.getcwd()))
        try:
            forked = Forked(pid) if pid is not None else None
        except OSError:  # it has ended already
            forked = None
        if forked is None:
            return await super().launch_kernel(cmd, **kwargs)
        self.process = cast("subprocess.Popen[bytes]", forked)  # what it uses of one
        self.pid = pid
        self.pgid = None  # its own session; a signal goes to it, not to a group (see Forked)
        self.cwd = kwargs.get("cwd", os.getcwd())
        return self.connection_info


class ForkKernelManager(AsyncKernelManager):
    """jupyter_client's kernel manager, whose kernels come from the template."""

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self.provisioner is None and self.kernel_spec is not None:  # kept on restarts
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ForkProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
            )
        return await super()._async_pre_start_kernel(**kw)


def papermill_arguments() -> dict[str, Any]:
    """What papermill needs for kernels forked from this process's template (none without one)."""
    if template() is None:
        return {}
    return {"kernel_manager_class": f"{__name__}.ForkKernelManager"}


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


def serve() -> None:
    """The template: warm up, say ``ready``, then fork a kernel for each request line.

    A request is a JSON object (``argv``, ``env``, ``cwd``); the answer is the kernel's pid,
    or ``no`` when it cannot fork safely. It ends when its standard input does.
    """
    path = sys.path[1:]  # without the folder `-m` put first, as ipykernel_launcher does
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker stops it (see Template.close)
    warm()
    signal.signal(signal.SIGCHLD, _reap)
    out = sys.stdout.buffer
    out.write(b"ready\n")
    out.flush()
    for line in sys.stdin.buffer:
        request = json.loads(line)
        pid = os.fork() if threading.active_count() == 1 else -1
        if pid == 0:
            _become_kernel(request, path)
        out.write(f"{pid}\n".encode() if pid > 0 else b"no\n")
        out.flush()


def _reap(signum: int, frame: Any) -> None:
    """Collect every kernel that has ended (the template's children)."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def _become_kernel(request: dict[str, Any], path: list[str]) -> None:
    """In the forked child: become the kernel jupyter_client asked for; never returns."""
    code = 1
    try:
        os.setsid()  # as jupyter_client starts a kernel: its own session
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # not the template's requests
        os.dup2(2, 1)  # not its answers: the worker's log, as a kernel's stderr
        os.close(null)
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
    serve()
