"""Kernels forked from a warm template (h200cast.report.kernels): the same kernel as a
fresh start, the usual start whenever the template cannot fork, and no process left over."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from h200cast.report import forked, kernels
from h200cast.report.runner import Job, execute, execute_many

pytestmark = pytest.mark.skipif(not kernels.available(), reason="needs fork and pidfd_open")

PROBE = (
    "import os, sys, warnings\n"
    "print(os.getcwd())\n"
    "print(os.environ.get('H200CAST_PROBE'), os.environ.get('H200CAST_DEFER_CHARTS') is not None)\n"
    "print(sys.argv, __name__)\n"
    "print(sys.path)\n"
    "print('vl_convert' in sys.modules)\n"
    "from ipykernel.kernelapp import IPKernelApp\n"
    "print(IPKernelApp.instance().parent_handle == os.getppid())  # it ends with its parent\n"
    "import gc\n"
    "print('collects garbage', gc.isenabled())\n"
    "warnings.warn('a warning the notebook shows')\n"
)


def _probe(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(PROBE),
        nbformat.v4.new_code_cell("print(os.getppid())"),
        nbformat.v4.new_code_cell("1 / 0"),
    ]
    path = folder / "probe.ipynb"
    nbformat.write(nb, str(path))
    return path


def _code(path: Path) -> list[Any]:
    """The code cells of an executed notebook (papermill puts a note on a failure first)."""
    return [c for c in nbformat.read(path, 4).cells if c.cell_type == "code"]


def _run(folder: Path, tag: str) -> list[tuple[list[Any], int]]:
    """The probe run twice in this process (so that it starts a template when it can):
    each run's outputs of the first and last cells, and its kernel's parent's pid."""
    source = _probe(folder)
    jobs = [
        Job(source, folder / f"{tag}{i}.ipynb", {}, env=(("H200CAST_PROBE", "seen"),))
        for i in range(2)
    ]
    outcomes = execute_many(jobs, workers=1, progress=False)
    assert all(not o.ok and "ZeroDivisionError" in o.error for o in outcomes)
    found = []
    for job in jobs:
        cells = _code(job.output)
        shown = json.loads(  # but for the kernel's own pid, and its connection file's name
            re.sub(
                r"ipykernel_\d+|tmp\w+\.json",
                "-",
                json.dumps([cells[0].outputs, cells[2].outputs]),
            )
        )
        found.append((shown, int(cells[1].outputs[0]["text"])))
    return found


def test_a_forked_kernel_shows_what_a_freshly_started_one_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forked = _run(tmp_path, "forked")
    monkeypatch.setenv("H200CAST_FORK_KERNELS", "0")
    fresh = _run(tmp_path, "fresh")
    # the same outputs, the warning and the traceback included, in the notebook's folder,
    # with the job's environment, and neither imports vl-convert
    assert [shown for shown, _ in forked] == [shown for shown, _ in fresh]
    text = "".join(o.get("text", "") for o in forked[0][0][0])
    lines = text.splitlines()
    assert lines[:2] == [str(tmp_path), "seen True"] and lines[2].endswith("__main__")
    assert lines[4:6] == ["False", "True"]  # no vl_convert; the parent it watches
    # the template collects nothing while it warms up; each kernel does again
    assert lines[6] == "collects garbage True"
    assert "a warning the notebook shows" in json.dumps(forked[0][0])
    assert "ZeroDivisionError" in json.dumps(forked[0][0][1])
    # a fresh kernel is this process's child; a forked one is the template's
    assert {parent for _, parent in fresh} == {os.getpid()}
    assert all(parent != os.getpid() for _, parent in forked)
    assert len({parent for _, parent in forked}) == 1  # one template for both


def test_kernels_start_the_usual_way_when_the_template_cannot_fork(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _probe(tmp_path)
    broken = kernels.Template([sys.executable, "-c", "print('not a template')"])
    assert broken.address is None  # it never said it listens
    broken.close()
    kernels.connect(str(tmp_path / "no-template-here"))
    try:
        for i in range(2):  # the second finds it gone at once
            done = execute(Job(source, tmp_path / f"out{i}.ipynb", {}))
            assert "ZeroDivisionError" in done.error
            cells = _code(tmp_path / f"out{i}.ipynb")
            assert int(cells[1].outputs[0]["text"]) == os.getpid()
        client = kernels.client()
        assert client is not None and client.gone
    finally:
        kernels.connect(None)


def test_no_template_when_forking_is_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("H200CAST_FORK_KERNELS", "0")
    assert not kernels.available()
    with kernels.forking() as address:
        assert address is None and kernels.client() is None
        assert kernels.papermill_arguments() == {}


def test_no_template_where_the_system_has_no_pidfds(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(pid: int, flags: int = 0) -> int:  # as on Linux before 5.3
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(os, "pidfd_open", missing)
    kernels._pidfds.cache_clear()
    try:
        assert not kernels.available()
        with kernels.forking() as address:
            assert address is None
    finally:
        monkeypatch.undo()
        kernels._pidfds.cache_clear()
    assert kernels.available()  # with pidfds again


def test_the_workers_of_a_pool_share_one_template_and_keep_their_logs(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import os\nprint(os.getppid())"),
        nbformat.v4.new_code_cell("os.write(2, b'said on the kernel side\\n')\nraise SystemError"),
    ]
    source = tmp_path / "worker.ipynb"
    nbformat.write(nb, str(source))
    jobs = [Job(source, tmp_path / f"out{i}.ipynb", {}) for i in range(4)]
    outcomes = execute_many(jobs, workers=2, progress=False)
    # what the kernel wrote to its standard error is in its worker's log, which the
    # failure quotes: the template hands each kernel the standard error of who asked
    assert all("SystemError" in o.error for o in outcomes)
    assert all("said on the kernel side" in o.error for o in outcomes)
    parents = {int(_code(j.output)[0].outputs[0]["text"]) for j in jobs}
    assert len(parents) == 1 and parents != {os.getpid()}  # one template for both workers
    assert not Path(f"/proc/{parents.pop()}").exists()  # gone with the pool


def _children(pid: int) -> list[str]:
    """The states (R, S, Z, ...) of ``pid``'s children."""
    states = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[1]) == pid:
                states.append(fields[0])
    return states


def test_the_template_reaps_its_kernels_and_ends_when_stopped(tmp_path: Path) -> None:
    source = _probe(tmp_path)
    with kernels.forking() as address:
        assert address is not None
        t = kernels._OWN
        assert t is not None
        for i in range(3):
            done = execute(Job(source, tmp_path / f"out{i}.ipynb", {}))
            assert "ZeroDivisionError" in done.error
            parent = int(_code(tmp_path / f"out{i}.ipynb")[1].outputs[0]["text"])
            assert parent == t.process.pid
        deadline = time.monotonic() + 5
        while _children(t.process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _children(t.process.pid) == []  # every kernel ended and was reaped
    assert t.process.returncode == 0 and kernels.client() is None
    assert not Path(address).exists()  # its socket's folder is removed


def _parent_of_a_run(folder: Path, name: str) -> int:
    """Run the probe once here; the pid of its kernel's parent."""
    done = execute(Job(_probe(folder), folder / name, {}))
    assert "ZeroDivisionError" in done.error
    return int(_code(folder / name)[1].outputs[0]["text"])


def test_malformed_requests_get_no_answer_and_leave_the_template_as_it_was(
    tmp_path: Path,
) -> None:
    with kernels.forking() as address:
        t = kernels._OWN
        assert t is not None and address is not None
        assert _parent_of_a_run(tmp_path, "first.ipynb") == t.process.pid  # warm, and serving
        fds = len(os.listdir(f"/proc/{t.process.pid}/fd"))
        for junk in (b"not json\n", b'{"argv": [1]', b"\xff\n"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(10)
                conn.connect(address)
                socket.send_fds(conn, [junk], [2])
                if not junk.endswith(b"\n"):
                    conn.shutdown(socket.SHUT_WR)  # cut short
                assert conn.recv(16) == b""  # closed without an answer
        assert len(os.listdir(f"/proc/{t.process.pid}/fd")) == fds  # nothing kept open
        assert _parent_of_a_run(tmp_path, "after.ipynb") == t.process.pid


def test_a_request_whose_asker_gave_up_gets_no_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with kernels.forking() as address:
        t = kernels._OWN
        assert t is not None and address is not None
        monkeypatch.setattr(kernels, "REQUEST_TIMEOUT", 0.5)
        os.kill(t.process.pid, signal.SIGSTOP)  # a template that does not answer in time
        try:
            asker = kernels.Client(address)
            argv = [sys.executable, "-m", "ipykernel_launcher", "-f", str(tmp_path / "k.json")]
            assert asker.fork(argv, dict(os.environ), str(tmp_path)) is None
            assert asker.gone  # its kernels start the usual way from now on
        finally:
            os.kill(t.process.pid, signal.SIGCONT)
        monkeypatch.undo()
        # requests are answered in turn: once this one is, the stale one has been read,
        # and it forked nothing (a kernel it forked would live on as the template's child)
        assert _parent_of_a_run(tmp_path, "next.ipynb") == t.process.pid
        deadline = time.monotonic() + 5
        while _children(t.process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _children(t.process.pid) == [] and t.process.poll() is None


def test_a_template_that_cannot_listen_says_so_in_a_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / ("x" * 120)  # a Unix socket's path may have 107 bytes
    deep.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    t = kernels.Template()
    t.close()
    err = capfd.readouterr().err
    assert t.address is None and t.process.returncode == 1
    assert "h200cast: no kernel template" in err and "Traceback" not in err


def test_a_forked_process_handle_polls_waits_and_kills() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        handle = forked.Forked(child.pid)
        assert handle.poll() is None
        with pytest.raises(subprocess.TimeoutExpired):
            handle.wait(timeout=0.05)
        handle.kill()
        assert handle.wait(timeout=10) == 0 and handle.poll() == 0
        assert handle.fd is None  # its pidfd is closed once it has ended
        handle.kill()  # a signal to an ended kernel goes nowhere
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -9


class _Channel:
    """A channel that hands out scripted messages (None: nothing came within the timeout)."""

    def __init__(self, script: list[dict[str, Any] | None]) -> None:
        self.script = list(script)
        self.timeouts: list[float] = []

    async def get_msg(self, timeout: float) -> dict[str, Any]:
        self.timeouts.append(timeout)
        msg = self.script.pop(0) if self.script else None
        if msg is None:
            raise queue.Empty
        return msg


def _client(
    monkeypatch: pytest.MonkeyPatch, shell: _Channel, iopub: _Channel, alive: bool = True
) -> forked.ForkKernelClient:
    monkeypatch.setattr(forked.ForkKernelClient, "shell_channel", property(lambda s: shell))
    monkeypatch.setattr(forked.ForkKernelClient, "iopub_channel", property(lambda s: iopub))
    c = forked.ForkKernelClient()
    asked: list[str] = []
    monkeypatch.setattr(c, "kernel_info", lambda: asked.append("kernel_info"))
    monkeypatch.setattr(c, "_handle_kernel_info_reply", lambda msg: asked.append("handled"))

    async def is_alive() -> bool:
        return alive

    monkeypatch.setattr(c, "_async_is_alive", is_alive)
    c.asked = asked  # type: ignore[attr-defined]
    return c


def _in_a_loop(coroutine: Any) -> Any:
    """Run a coroutine in a loop of its own: asyncio.run would leave this thread without a
    current loop, which later tests (tornado's websocket client) rely on."""
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def test_a_new_kernel_is_ready_once_it_answers_and_its_iopub_falls_briefly_quiet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reply, status = {"msg_type": "kernel_info_reply"}, {"msg_type": "status"}
    # the first reply comes before IOPub is connected: ask again; then drain two messages
    shell = _Channel([reply, reply])
    iopub = _Channel([None, status, status, status, None])
    c = _client(monkeypatch, shell, iopub)
    _in_a_loop(c.wait_for_ready(timeout=5))
    assert c.asked == ["kernel_info", "kernel_info", "handled"]  # type: ignore[attr-defined]
    # connected checks wait up to 0.2 s; the drain stops after a short silence
    assert iopub.timeouts == [0.2, 0.2] + [forked.FLUSH_SECONDS] * 3
    assert forked.FLUSH_SECONDS < 0.2


def test_a_kernel_that_dies_before_it_answers_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    c = _client(monkeypatch, _Channel([None]), _Channel([]), alive=False)
    with pytest.raises(RuntimeError, match="died before replying"):
        _in_a_loop(c.wait_for_ready(timeout=5))
