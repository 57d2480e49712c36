"""jupyter_client's side of forked kernels: a kernel manager that asks the template.

:mod:`h200cast.report.kernels` runs the template and asks it for kernels; this module
plugs that into jupyter_client (papermill takes :class:`ForkKernelManager` by name), so
that the template itself never imports jupyter_client and listens at once.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import uuid
from queue import Empty
from typing import Any, cast

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from jupyter_core.utils import ensure_async
from traitlets import DottedObjectName, Type

from h200cast.report.kernels import LAUNCHER, client


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
        t = client()
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


FLUSH_SECONDS = 0.02
"""How long a client listens for more of what a new kernel says on IOPub before its first
cell. jupyter_client waits for 0.2 s of silence, idle, at every kernel's start: about 0.6 s
of a report's first build on two workers (measured in interleaved rounds)."""


class ForkKernelClient(AsyncKernelClient):
    """jupyter_client's asynchronous client, which drains a new kernel's IOPub until
    :data:`FLUSH_SECONDS` of silence instead of 0.2 s.

    What arrives later is told apart anyway: nbclient reads on IOPub only the messages
    whose parent is the cell it runs. The rest follows jupyter_client 8's
    ``_async_wait_for_ready`` for a kernel its manager started.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        """Wait until the kernel answers ``kernel_info`` with IOPub connected, then drain IOPub."""
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await ensure_async(self.shell_channel.get_msg(timeout=1))
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:  # a message on IOPub too: it is connected (else ask again)
                    await ensure_async(self.iopub_channel.get_msg(timeout=0.2))
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(reply)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        while True:
            try:
                await ensure_async(self.iopub_channel.get_msg(timeout=FLUSH_SECONDS))
            except Empty:
                return


class ForkKernelManager(AsyncKernelManager):
    """jupyter_client's kernel manager, whose kernels come from the template and whose
    clients are :class:`ForkKernelClient`."""

    client_class = DottedObjectName(f"{__name__}.ForkKernelClient")
    client_factory = Type(ForkKernelClient, klass=AsyncKernelClient)

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self.provisioner is None and self.kernel_spec is not None:  # kept on restarts
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ForkProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
            )
        return await super()._async_pre_start_kernel(**kw)
