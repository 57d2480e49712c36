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
import uuid
from typing import Any, cast

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

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


class ForkKernelManager(AsyncKernelManager):
    """jupyter_client's kernel manager, whose kernels come from the template."""

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self.provisioner is None and self.kernel_spec is not None:  # kept on restarts
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ForkProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
            )
        return await super()._async_pre_start_kernel(**kw)
