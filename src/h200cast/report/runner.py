"""Execute the notebooks with papermill, in worker processes, with static charts.

Notebooks run in separate processes, never threads (kernels and papermill are not
thread-safe); with 2 cores, 2 workers is the ceiling. Calling papermill's API from a
worker saves its command-line start-up for every notebook. Under the runner, charts
render as SVG (``H200CAST_STATIC_CHARTS=1``), so outputs are static and byte-stable, and
the worker draws them once the notebook has run (``H200CAST_DEFER_CHARTS``, a folder
per kernel): one vl-convert per worker, started while its first kernel starts, instead of
one per kernel.

The workers' kernels (and those of a process that runs several notebooks itself) are
forks of one template process that has imported and warmed up what every kernel needs
(:mod:`h200cast.report.kernels`): a kernel is ready in milliseconds instead of paying
about a second of CPU for its interpreter and imports.

On POSIX each kernel talks over IPC sockets in its own temporary directory. Over TCP,
kernels started at the same moment in different workers pick "free" ports that the
other may already hold (jupyter_client's port cache is per process): one kernel then
fails to bind and the notebook dies after a 60 s start-up timeout.

Once the last cell has run and its outputs are in, the kernel is killed rather than
asked to exit: the polite shutdown (SIGINT, then a shutdown request) now and then loses
the request and waits 2.5 s for SIGTERM, which added 3.3 s to about one run in eight.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from h200cast import settings
from h200cast.engine.executors import process_pool, worker_count
from h200cast.io.signals import interrupt


@dataclass(frozen=True)
class Job:
    """One notebook execution."""

    notebook: Path
    output: Path
    parameters: dict[str, Any]
    clean: bool = False  # strip per-run metadata (for notebooks committed in place)
    html: Path | None = None  # also write the executed notebook as HTML, code hidden
    env: tuple[tuple[str, str], ...] = ()  # environment variables for the kernel
    shown: dict[str, Any] | None = None  # the parameters the saved notebook records, if not these
    title: str = ""  # the HTML page's title (default: the notebook's first heading)


@dataclass(frozen=True)
class Outcome:
    """How a job went."""

    job: Job
    ok: bool
    seconds: float
    error: str = ""


STANCE_PAGE = "stance_page"
"""The notebook the report runs once per stance or path (its page)."""


def notebook_paths(names: Sequence[str] = (), folder: Path | None = None) -> list[Path]:
    """The analyses (``NN_name.ipynb``) then the stance page, or the notebooks named."""
    from h200cast.errors import InputError

    folder = folder or settings.notebooks_dir()
    found = [*sorted(folder.glob("[0-9][0-9]_*.ipynb")), folder / f"{STANCE_PAGE}.ipynb"]
    if not names:
        return found
    by_name = {p.stem: p for p in found} | {p.name: p for p in found}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise InputError(
            f"unknown notebook; expected one of: {', '.join(p.stem for p in found)}",
            key="notebook",
            value=missing[0],
        )
    return [by_name[n] for n in names]


def clean(nb: Any) -> Any:
    """Drop what changes from run to run without changing results: papermill's timings and paths."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    return nb


INJECTED = "injected-parameters"
"""The tag, and now also the cell id, of the cell papermill adds with the parameters."""


def settled(nb: Any, shown: dict[str, Any] | None = None) -> Any:
    """The executed notebook as it should be kept: the same bytes for the same inputs.

    Papermill gives its parameters cell a random id, and records the parameters as
    passed, which for a report page include the temporary folder it was built in. The
    cell gets a fixed id, and with ``shown`` its source and the recorded parameters
    become ``shown`` (e.g. the output folder relative to the page).
    """
    from papermill.translators import translate_parameters

    for cell in nb.cells:
        if INJECTED in cell.metadata.get("tags", []):
            cell["id"] = INJECTED
            if shown is not None:
                cell.source = translate_parameters("python3", "python", shown, "Parameters")
    if shown is not None and "papermill" in nb.metadata:
        nb.metadata.papermill["parameters"] = dict(shown)
    return nb


def execute(job: Job) -> Outcome:
    """Run one notebook (in the calling process); errors are caught and reported."""
    import papermill as pm

    log_start = os.lseek(2, 0, os.SEEK_END) if _WORKER_LOG else 0
    work = tempfile.TemporaryDirectory(prefix="h200k-")  # the kernel's sockets, its charts
    charts = Path(work.name) / "charts"
    charts.mkdir()
    # the kernel inherits them: static charts, which it leaves to this process to draw
    env = {settings.STATIC_ENV: "1", settings.DEFER_ENV: str(charts), **dict(job.env)}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    start = time.perf_counter()
    try:
        from h200cast.report import kernels
        from h200cast.views.charts import draw_deferred

        with work:
            try:
                nb = pm.execute_notebook(
                    str(job.notebook),
                    str(job.output),
                    parameters=job.parameters or None,
                    # not the whole notebook again at every cell's start and end (about
                    # 24 times a page, each serialised whole): once when it has run, or failed
                    request_save_on_cell_execute=False,
                    cwd=str(job.notebook.parent),
                    progress_bar=False,
                    log_output=False,
                    kernel_name="python3",
                    config=kernel_config(Path(work.name)),
                    shutdown_kernel="immediate",
                    **kernels.papermill_arguments(),  # forked from a warm template
                )
            except Exception:  # what it saved before the failing cell, as its kernel did
                draw_deferred(None, charts)
                raise
            draw_deferred(nb, charts)
        import nbformat

        nb = settled(clean(nb) if job.clean else nb, job.shown)
        nbformat.write(nb, str(job.output))
        if job.html is not None:
            files = job.parameters.get("output_dir")
            data = os.path.relpath(files, job.html.parent) if files else ""
            job.html.write_text(to_html(nb, job.title, data), encoding="utf-8")
        return Outcome(job, True, time.perf_counter() - start)
    except Exception as exc:  # a failing notebook must not stop the others
        error = _short_error(exc)
        if _WORKER_LOG:  # what the kernel itself printed, e.g. why it died
            size = os.lseek(2, 0, os.SEEK_END) - log_start
            tail = os.pread(2, size, log_start)[-1500:].decode(errors="replace").strip()
            error += f"\nkernel log (last lines):\n{tail}" if tail else ""
        return Outcome(job, False, time.perf_counter() - start, error)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def kernel_config(sockets: Path) -> Any:
    """Kernel-manager settings: IPC sockets under ``sockets`` on POSIX, TCP elsewhere.

    The socket names are unique because the directory is; nothing is shared between
    concurrent kernels, so nothing can collide.
    """
    from traitlets.config import Config

    if os.name != "posix":
        return Config()
    return Config({"KernelManager": {"transport": "ipc", "ip": str(sockets / "kernel")}})


def heading(nb: Any) -> str:
    """The notebook's first Markdown heading (its title), or ``""``.

    ``nb`` is a notebook as nbformat reads it, or as its JSON (a cell's source a list of
    lines), which needs neither nbformat's import nor its validation.
    """
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            source = cell["source"]
            for line in ("".join(source) if isinstance(source, list) else source).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return ""


def to_html(nb: Any, title: str = "", data: str = "") -> str:
    """An executed notebook as a reader's page: outputs and prose, no code, no prompts.

    ``title`` is the page's title (default: the notebook's first heading); ``data`` is the
    folder, relative to the page, of the tables its charts draw: each chart that
    :func:`h200cast.views.notebook.figure` showed gets a link to its CSV there.
    """
    resources = {"metadata": {"name": title or heading(nb) or "h200cast"}, "h200cast_files": data}
    body, _ = _exporter().from_notebook_node(nb, resources)
    return body


@functools.cache
def _exporter() -> Any:
    """The page exporter, made once per process: it compiles its Jinja templates when first
    used (about 0.06 s), which every later page then reuses, as ``jupyter nbconvert`` does
    for the notebooks it converts."""
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="lab",
        extra_template_paths=[str(Path(__file__).parent / "templates")],
        template_file="page.html.j2",  # lab, without scripts from other hosts
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def _short_error(exc: Exception) -> str:
    name = getattr(exc, "ename", type(exc).__name__)
    value = getattr(exc, "evalue", str(exc))
    return f"{name}: {value}".strip()[:2000]


_WORKER_LOG = False
"""In a worker process: whether its standard error (and its kernels') goes to a log file."""


def _worker_started(template: str | None = None) -> None:
    """Set up a worker process.

    Its standard error, which its kernels inherit, goes to a log file instead of the
    terminal: kernel start-up warnings and crash tracebacks would otherwise interleave
    with the progress bar and the summary. A failed notebook's error carries the log's
    tail instead. SIGTERM unwinds the running notebook, whose client kills its kernel.
    """
    global _WORKER_LOG
    if os.name == "posix":  # an unlinked file: read through the descriptor, gone with the worker
        fd, path = tempfile.mkstemp(prefix="h200cast-worker-", suffix=".log")
        os.unlink(path)
        os.dup2(fd, 2)
        os.close(fd)
        _WORKER_LOG = True
    signal.signal(signal.SIGTERM, interrupt)
    import threading

    from h200cast.report import kernels
    from h200cast.views import charts

    kernels.connect(template)  # the pool's template (Running), which forks its kernels

    # the kernels leave their charts to this process (settings.deferred_charts): it starts
    # vl-convert once, while its first kernel starts, not once per notebook
    threading.Thread(target=charts.warm, name="h200cast-warm-vl-convert", daemon=True).start()


def execute_many(
    jobs: Sequence[Job], workers: int | None = None, progress: bool = True
) -> list[Outcome]:
    """Run jobs in up to ``workers`` processes (default: the number of cores), in job order."""
    with Running(jobs, workers) as running:
        return running.collect(progress)


class Running:
    """Jobs started in worker processes at once and collected later, in job order.

    The caller works while they run (the report makes its own runs and charts meanwhile).
    With one worker the jobs run in this process, in :meth:`collect`. Leaving the ``with``
    block on an exception (an interrupt, a failed run) runs nothing more and stops the
    running notebooks, each of which shuts its kernel down first.
    """

    def __init__(self, jobs: Sequence[Job], workers: int | None = None) -> None:
        self.jobs = list(jobs)
        self.workers = worker_count(workers, len(self.jobs))
        self.pool: Any = None
        self.futures: dict[Any, int] = {}
        self.template = contextlib.ExitStack()
        if self.workers > 1:
            from h200cast.report import kernels

            # one warm template for every worker: it starts first, warms while they do
            with self.template.pop_all() as template:  # kept only once the pool runs
                address = template.enter_context(kernels.forking())
                self.pool = process_pool(
                    self.workers, initializer=functools.partial(_worker_started, address)
                )
                self.futures = {
                    self.pool.submit(execute, job): i for i, job in enumerate(self.jobs)
                }
                self.template = template.pop_all()

    def __enter__(self) -> Running:
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        with self.template:  # stopped once the workers are
            self._stop(kind)

    def _stop(self, kind: Any) -> None:
        if self.pool is None:
            return
        if kind is None:
            self.pool.shutdown()
            return
        processes = list((self.pool._processes or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()  # each shuts its kernel down first (see _worker_started)
        for process in processes:  # so nothing writes into the build once we return
            process.join(timeout=15)
            if process.is_alive():
                process.kill()

    def collect(self, progress: bool = True) -> list[Outcome]:
        """Wait for every job (running each here with one worker); their outcomes in job order."""
        from tqdm import tqdm

        bar = tqdm(total=len(self.jobs), desc="notebooks", unit="nb", disable=not progress)
        outcomes: list[Outcome | None] = [None] * len(self.jobs)
        if self.pool is None:
            from h200cast.report import kernels

            # several notebooks here: their kernels forked from a warm template
            with kernels.forking() if len(self.jobs) > 1 else contextlib.nullcontext():
                for i, job in enumerate(self.jobs):
                    outcomes[i] = execute(job)
                    bar.update()
        else:
            from concurrent.futures import as_completed

            for fut in as_completed(self.futures):
                outcomes[self.futures[fut]] = fut.result()
                bar.update()
        bar.close()
        return [o for o in outcomes if o is not None]
