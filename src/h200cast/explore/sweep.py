"""Parameter sweeps: many parameter sets, evaluated in vectorised chunks.

A sweep spec (``params/sweeps/NAME.yaml``) says which inputs vary (ranges or lists), the
design (grid, Latin hypercube or Sobol points, as ``scipy.stats.qmc`` makes them), the stances or
paths, draws per point, and the outputs to keep. Points are evaluated in chunks. Each
chunk is one call of the vectorised model over (points x draws) and is written to its own
file, so an interrupted sweep resumes without recomputing finished chunks. Chunks run
in-process, in a local process pool (``--jobs``), or on an existing Dask cluster
(``--scheduler tcp://HOST:PORT``); the results are the same either way.

The inputs not swept are held at their central values (``others: central``, a point run
per design point), or sampled once with ``draws_per_point`` draws shared by every point
(``others: sampled``: common random numbers, so differences between points are not
sampling noise).

A spec's ``expect:`` block lists what the finished sweep must show (a statistic of an
output over one run's points and draws, or the coverage, density or mass of the PRIM
box). :func:`evaluate_expectations` checks them; ``h200cast sweep`` writes the outcome to
``expectations.json`` and exits 1 when one fails, so that a sweep can fail a CI job.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from h200cast import settings
from h200cast.engine.executors import process_pool, worker_count
from h200cast.engine.metrics import BY_NAME
from h200cast.engine.sampling import latin_hypercube
from h200cast.errors import InputError
from h200cast.io import manifest, parquet
from h200cast.io.atomic import atomic_write_text, writing
from h200cast.io.yamlfile import load_yaml
from h200cast.scenario.layers import Layers
from h200cast.scenario.load import validate
from h200cast.scenario.ref import ScenarioRef
from h200cast.scenario.schema import StanceName

if TYPE_CHECKING:
    from h200cast.explore.discovery import Box
    from h200cast.explore.sensitivity import SobolIndices


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Strict):
    """A continuous input range."""

    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Range:
        if not self.low < self.high:
            raise ValueError(f"expected low < high, got low={self.low}, high={self.high}")
        return self


class Values(_Strict):
    """A list of values to try."""

    values: list[float] = Field(min_length=1)


def _input_kind(v: Any) -> str:
    return "Values" if isinstance(v, Values) or (isinstance(v, dict) and "values" in v) else "Range"


Input = Annotated[
    Annotated[Range, Tag("Range")] | Annotated[Values, Tag("Values")], Discriminator(_input_kind)
]
"""A swept input: ``{low, high}`` or ``{values: [...]}``."""


class Design(_Strict):
    """How the points are laid out."""

    method: Literal["grid", "lhs", "sobol"]
    points: int = Field(
        ge=1, le=10_000_000, description="points (lhs, sobol) or steps per range axis (grid)"
    )
    seed: int = Field(default=0, ge=0)


class Runs(_Strict):
    """The stances and paths each point is evaluated under."""

    stances: list[StanceName] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some(self) -> Runs:
        if not self.stances and not self.paths:
            raise ValueError("name at least one stance or path")
        return self


Metric = str


class Sensitivity(_Strict):
    """Global sensitivity: Sobol first-order and total indices with bootstrap intervals."""

    base_samples: int = Field(
        ge=16, le=1_048_576, description="Saltelli base samples (a power of 2)"
    )
    bootstrap: int = Field(default=200, ge=0, le=10_000)
    confidence: float = Field(default=0.9, gt=0, lt=1)
    outputs: list[Metric] = Field(min_length=1)
    run: str | None = Field(
        default=None, description="the stance or path to analyse (default: the first)"
    )

    @field_validator("base_samples")
    @classmethod
    def _power_of_2(cls, n: int) -> int:
        if n & (n - 1):
            raise ValueError(f"base_samples must be a power of 2 (1024, 2048, ...), not {n}")
        return n


class Discovery(_Strict):
    """Scenario discovery: which input combinations lead to an outcome of interest (PRIM)."""

    output: Metric
    below: float | None = None
    above: float | None = None
    run: str | None = None
    min_mass: float = Field(
        default=0.05, gt=0, lt=1, description="smallest share of points a box may keep"
    )
    alpha: float = Field(default=0.05, gt=0, lt=0.5, description="share of the box peeled per step")
    min_coverage: float = Field(default=0.5, gt=0, le=1)

    @model_validator(mode="after")
    def _threshold(self) -> Discovery:
        if (self.below is None) == (self.above is None):
            raise ValueError("give exactly one of `below` or `above`")
        return self


Stat = Literal["p5", "p50", "p95", "mean", "min", "max"]
"""A statistic of an output over all the points and draws of one run."""

BoxProperty = Literal["coverage", "density", "mass"]
"""What an expectation may ask of the PRIM box of a ``discovery:`` block."""


class Expectation(_Strict):
    """What a finished sweep must show: a statistic of an output under one run, or a
    property of the PRIM box, ``below`` or ``above`` a number (strictly)."""

    output: Metric | None = Field(default=None, description="a metric the sweep keeps")
    run: str | None = Field(
        default=None, description="the stance or path (optional when the sweep has one)"
    )
    stat: Stat | None = Field(
        default=None, description="p5, p50, p95, mean, min or max over the run's points and draws"
    )
    discovery: BoxProperty | None = Field(
        default=None, description="coverage, density or mass of the PRIM box"
    )
    below: float | None = None
    above: float | None = None
    note: str | None = Field(default=None, description="why it should hold")

    @field_validator("output")
    @classmethod
    def _metric(cls, v: str | None) -> str | None:
        if v is not None and v not in BY_NAME:
            raise ValueError(f"unknown metric; expected one of: {', '.join(sorted(BY_NAME))}")
        return v

    @model_validator(mode="after")
    def _shape(self) -> Expectation:
        if (self.output is None) == (self.discovery is None):
            raise ValueError(
                "give exactly one of `output` (a metric the sweep keeps, with `stat`) or "
                "`discovery` (coverage, density or mass of the PRIM box)"
            )
        if self.output is not None and self.stat is None:
            raise ValueError("give `stat` (p5, p50, p95, mean, min or max) of the output")
        if self.discovery is not None and (self.stat is not None or self.run is not None):
            raise ValueError(
                "a `discovery` expectation takes no `stat` or `run`: it is about the box of "
                "the spec's `discovery:` block"
            )
        if (self.below is None) == (self.above is None):
            raise ValueError("give exactly one of `below` or `above`")
        return self

    def limit_text(self) -> str:
        """``< 1e+09`` or ``> 0.5``."""
        return f"< {self.below:g}" if self.below is not None else f"> {self.above:g}"

    def holds(self, observed: float) -> bool:
        """Whether an observed value meets the limit (never for NaN)."""
        if self.below is not None:
            return bool(observed < self.below)
        return bool(observed > self.above) if self.above is not None else False


class SweepSpec(_Strict):
    """A whole sweep."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str
    design: Design
    inputs: dict[str, Input] = Field(min_length=1)
    runs: Runs
    outputs: list[Metric] = Field(min_length=1)
    others: Literal["central", "sampled"] = "central"
    draws_per_point: int = Field(default=1, ge=1, le=100_000)
    chunk_rows: int = Field(default=50_000, ge=1)
    vintage: str | None = Field(
        default=None,
        description="the vintage to run at, YYYY-MM-DD (default: the latest, or --vintage)",
    )
    sensitivity: Sensitivity | None = None
    discovery: Discovery | None = None
    expect: list[Expectation] = Field(
        default_factory=list, description="what the results must show; exit 1 otherwise"
    )

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        used = [
            *self.outputs,
            *(self.sensitivity.outputs if self.sensitivity else []),
            *([self.discovery.output] if self.discovery else []),
        ]
        unknown = sorted({m for m in used if m not in BY_NAME})
        if unknown:
            raise ValueError(
                f"unknown outputs {unknown}; expected metric names such as {sorted(BY_NAME)[:4]} ..."
            )
        if self.others == "central" and self.draws_per_point != 1:
            raise ValueError(
                "with `others: central` every point is one run: draws_per_point must be 1"
            )
        if self.sensitivity and any(isinstance(v, Values) for v in self.inputs.values()):
            raise ValueError("Sobol indices need ranges for every input, not lists of values")
        return self

    def digest(self) -> str:
        """SHA-256 of the spec, so that a resumed sweep only reuses chunks of the same spec."""
        return hashlib.sha256(
            json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        ).hexdigest()

    def run_names(self) -> list[tuple[str, str]]:
        """(kind, name) of each run."""
        return [("stance", s) for s in self.runs.stances] + [("path", p) for p in self.runs.paths]


def spec_path(name_or_file: str | Path, params_dir: Path | None = None) -> Path:
    """A sweep file: a path, or a name in ``params/sweeps/``."""
    p = Path(name_or_file)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    return Path(params_dir or settings.params_dir()) / "sweeps" / f"{name_or_file}.yaml"


def load_spec(
    name_or_file: str | Path, params_dir: Path | None = None, vintage: str | None = None
) -> SweepSpec:
    """Read and validate a sweep spec; errors name the file, the key and what was expected.

    The vintage is ``vintage`` (``--vintage``), else the spec's, else the default one; it
    is written into the returned spec, so that its digest (and every cached chunk) knows it.
    """
    f = spec_path(name_or_file, params_dir)
    layers = Layers()
    layers.merge(load_yaml(f), str(f))
    spec = validate(layers, SweepSpec)
    from h200cast.engine.model import specs
    from h200cast.results.scenarios import load_scenario
    from h200cast.scenario.vintage import vintage_file

    try:
        chosen = vintage_file(Path(params_dir or settings.params_dir()), vintage or spec.vintage)
    except InputError as exc:
        raise InputError(
            exc.message,
            file=None if vintage else f,
            key=exc.key if vintage else "vintage",
            value=exc.value,
        ) from None
    spec = spec.model_copy(update={"vintage": chosen.parent.name})
    for kind, name in spec.run_names():
        sc = load_scenario(**{kind: name}, params_dir=params_dir, vintage=spec.vintage)
        known = dict(specs(sc))
        for key in spec.inputs:
            if key not in known:
                raise InputError(
                    f"not a parameter of {name}; expected a dotted key from `h200cast params show --json`",
                    file=f,
                    key=f"inputs.{key}",
                )
    check_expectations(spec, f)
    return spec


def check_expectations(spec: SweepSpec, file: str | Path | None = None) -> None:
    """Fail unless each expectation names an output the sweep keeps, a run of the sweep (or
    the sweep has one run), and, for the PRIM box, a spec with a ``discovery:`` block."""
    runs = [n for _, n in spec.run_names()]
    for i, e in enumerate(spec.expect):
        at = f"expect.{i}"
        if e.output is not None and e.output not in spec.outputs:
            raise InputError(
                f"not among the sweep's outputs; expected one of: {', '.join(spec.outputs)}",
                file=file,
                key=f"{at}.output",
                value=e.output,
            )
        if e.run is not None and e.run not in runs:
            raise InputError(
                f"not a run of this sweep; expected one of: {', '.join(runs)}",
                file=file,
                key=f"{at}.run",
                value=e.run,
            )
        if e.output is not None and e.run is None and len(runs) > 1:
            raise InputError(
                f"the sweep has several runs; expected `run:` naming one of: {', '.join(runs)}",
                file=file,
                key=f"{at}.run",
            )
        if e.discovery is not None and spec.discovery is None:
            raise InputError(
                "the spec has no `discovery:` block, so there is no PRIM box to expect of; "
                "expected a `discovery:` block, or an `output` expectation",
                file=file,
                key=f"{at}.discovery",
                value=e.discovery,
            )


# --- designs ------------------------------------------------------------------------------------------


def design_points(spec: SweepSpec) -> np.ndarray:
    """The design: one row per point, one column per input (in ``spec.inputs`` order)."""
    keys = list(spec.inputs)
    d = len(keys)
    if spec.design.method == "grid":
        axes = []
        for key in keys:
            v = spec.inputs[key]
            axes.append(
                np.array(v.values)
                if isinstance(v, Values)
                else np.linspace(v.low, v.high, spec.design.points)
            )
        return np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, d)
    n = spec.design.points
    if spec.design.method == "lhs":
        u = latin_hypercube(d, n, spec.design.seed)
    else:
        from scipy.stats import qmc

        sampler = qmc.Sobol(d=d, scramble=True, seed=spec.design.seed)
        m = int(np.ceil(np.log2(n)))
        u = sampler.random_base2(m)[:n]
    cols = []
    for j, key in enumerate(keys):
        v = spec.inputs[key]
        if isinstance(v, Values):
            idx = np.minimum((u[:, j] * len(v.values)).astype(int), len(v.values) - 1)
            cols.append(np.asarray(v.values)[idx])
        else:
            cols.append(v.low + u[:, j] * (v.high - v.low))
    return np.column_stack(cols)


# --- evaluation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """A slice of the design for one run: what a worker needs, nothing more (picklable)."""

    index: int
    kind: str
    name: str
    first_point: int
    points: np.ndarray  # (n, d)
    keys: tuple[str, ...]
    outputs: tuple[str, ...]
    others: str
    draws_per_point: int
    seed: int
    params_dir: str | None
    vintage: str | None = None
    digest: str = ""  # the sweep's inputs_digest: what the worker's cached setup is keyed on


def evaluate_chunk(chunk: Chunk) -> dict[str, np.ndarray]:
    """Evaluate one chunk: a column per input and per output, one row per point and draw."""
    from h200cast.engine.metrics import values as metric_values
    from h200cast.engine.model import sample, simulate_values

    sc, observed = _run_setup(chunk.kind, chunk.name, chunk.params_dir, chunk.vintage, chunk.digest)
    dpp, n = chunk.draws_per_point, len(chunk.points)
    base = sample(sc, dpp, chunk.seed, point=chunk.others == "central").values
    vals = {k: np.tile(v, n) for k, v in base.items()}
    for j, key in enumerate(chunk.keys):
        vals[key] = np.repeat(chunk.points[:, j], dpp)
    paths = simulate_values(sc, vals, chunk.seed)  # stances and paths: one weight row for all
    out = metric_values(paths, chunk.outputs)  # the outputs asked for, not every metric
    cols: dict[str, np.ndarray] = {
        "point": np.repeat(
            np.arange(chunk.first_point, chunk.first_point + n, dtype=np.int64), dpp
        ),
        "draw": np.tile(np.arange(dpp, dtype=np.int32), n),
        "reproduces_observed": _reproduces_observed(observed, paths),
    }
    cols.update({k: vals[k] for k in chunk.keys})
    cols.update({m: out[m] for m in chunk.outputs})
    return cols


@functools.lru_cache(maxsize=16)
def _run_setup(
    kind: str, name: str, params_dir: str | None, vintage: str | None, digest: str
) -> tuple[Any, tuple[Any, ...]]:
    """A run's scenario and the months its vintage observed, loaded once per worker and sweep.

    Loading them took about half of a 12,500-row chunk's time. ``digest`` (the sweep's
    :func:`inputs_digest`: its spec, every parameter file and the source) is part of the
    key, so that a long-lived worker (a Dask cluster's) never keeps them across a change.
    """
    from h200cast.results.conditioning import constraints
    from h200cast.results.scenarios import load_scenario
    from h200cast.scenario import calendar
    from h200cast.scenario.load import load_vintage

    folder = Path(params_dir) if params_dir else None
    sc = load_scenario(ScenarioRef.of(**{kind: name}), params_dir=folder, vintage=vintage)
    v, _ = load_vintage(folder or settings.params_dir(), vintage)
    months = calendar.month_labels(sc.calendar.start, sc.calendar.horizon_months)
    return sc, tuple(constraints(v, sc, months))


def _reproduces_observed(observed: Sequence[Any], paths: Any) -> np.ndarray:
    """Whether each row reproduces the months the vintage observed (all True when it observed none).

    A sweep explores what each input does, so it keeps every row; this column says which
    rows are consistent with what happened, for analyses that should use only those.
    """
    ok = np.ones(paths.n_draws, dtype=bool)
    for c in observed:
        ok &= c.holds(paths)
    return ok


def plan(spec: SweepSpec, params_dir: Path | None = None, digest: str | None = None) -> list[Chunk]:
    """The chunks of a sweep, in a fixed order; ``digest`` is its :func:`inputs_digest`."""
    digest = digest or inputs_digest(spec, params_dir)
    points = design_points(spec)
    per = max(1, spec.chunk_rows // spec.draws_per_point)
    chunks: list[Chunk] = []
    for kind, name in spec.run_names():
        for start in range(0, len(points), per):
            chunks.append(
                Chunk(
                    len(chunks),
                    kind,
                    name,
                    start,
                    points[start : start + per],
                    tuple(spec.inputs),
                    tuple(spec.outputs),
                    spec.others,
                    spec.draws_per_point,
                    spec.design.seed,
                    str(params_dir) if params_dir else None,
                    spec.vintage,
                    digest,
                )
            )
    return chunks


def inputs_digest(spec: SweepSpec, params_dir: Path | None = None) -> str:
    """What a finished chunk depends on: the spec, every parameter file and the package's source."""
    from h200cast.explore.cache import NUMERIC_LIBS, source_digest

    h = hashlib.sha256(spec.digest().encode())
    h.update(source_digest(NUMERIC_LIBS).encode())
    folder = Path(params_dir or settings.params_dir())
    for f in sorted(folder.rglob("*.yaml")):
        h.update(str(f.relative_to(folder)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _chunk_file(out: Path, chunk: Chunk) -> Path:
    return out / "chunks" / f"{chunk.index:05d}-{chunk.name}.parquet"


def _read_chunk(out: Path, chunk: Chunk) -> Any:
    """A chunk's table, as its worker wrote it."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(_chunk_file(out, chunk)).read()


def _write_chunk(out: Path, chunk: Chunk, cols: dict[str, np.ndarray]) -> None:
    import pyarrow as pa

    names = ["run", *cols]
    arrays = [parquet.category(chunk.name, len(cols["point"]))]
    table = pa.Table.from_arrays([*arrays, *map(parquet.column, cols.values())], names=names)
    target = _chunk_file(out, chunk)
    parquet.write(table, target, atomic=True)  # a chunk file exists only once it is complete


def run_sweep(
    spec: SweepSpec,
    out: Path,
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    quiet: bool = False,
    params_dir: Path | None = None,
) -> dict[str, Any]:
    """Evaluate every chunk not already done, then gather ``results.parquet`` and ``manifest.json``."""
    start = time.perf_counter()
    out = Path(out)
    check_size(spec)
    check_sweep_out(out)
    client = connect(scheduler)  # before anything is written: a bad address leaves no trace
    # local workers start now, so that they boot while the design is computed (scipy's
    # import alone takes longer than evaluating 50,000 points)
    workers = 1 if client is not None else worker_count(jobs, len(plan_sizes(spec)))
    pool = _start_pool(workers) if workers > 1 else None
    try:
        # a full disk or a read-only --out: one line, exit 2; whole chunks stay for --resume
        with writing(out, "--out", kept="finished chunks are kept for --resume"):
            return _run_chunks(
                spec, out, start, jobs, scheduler, client, resume, quiet, params_dir, pool
            )
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _run_chunks(
    spec: SweepSpec,
    out: Path,
    start: float,
    jobs: int | None,
    scheduler: str | None,
    client: Any,
    resume: bool,
    quiet: bool,
    params_dir: Path | None,
    pool: Any = None,
) -> dict[str, Any]:
    """:func:`run_sweep` once its inputs are checked: the chunks, ``results.parquet``, the manifest."""
    from tqdm import tqdm

    (out / "chunks").mkdir(parents=True, exist_ok=True)
    stamp = out / "spec.json"
    digest = inputs_digest(spec, params_dir)
    previous = _stamp(stamp)
    if not resume or previous.get("digest") != digest:
        for f in (out / "chunks").glob("*"):
            f.unlink()  # a new sweep, or changed spec, parameters or model: nothing can be reused
    atomic_write_text(  # whole or absent: a truncated stamp would not be a sweep of ours
        stamp,
        json.dumps({"digest": digest, "spec": spec.model_dump(mode="json")}, indent=2),
        key="--out",
    )
    chunks = plan(spec, params_dir, digest)
    todo = [c for c in chunks if not _chunk_ok(_chunk_file(out, c))]
    bar = tqdm(
        total=len(chunks),
        initial=len(chunks) - len(todo),
        desc=f"sweep {spec.name}",
        unit="chunk",
        disable=quiet,
    )
    # each chunk is read as it is done, while the workers make the rest, and appended to
    # results.parquet in the plan's order as soon as those before it are in (ParquetFile: a
    # single file, without read_table's import of pyarrow.dataset and pandas)
    ready: dict[int, Any] = {}
    running = {c.index for c in todo}
    left = iter(chunks)
    following = next(left, None)
    with parquet.Appender(out / "results.parquet") as append:

        def append_ready() -> None:
            nonlocal following
            while following is not None and (
                following.index in ready or following.index not in running
            ):
                table = ready.pop(following.index, None)
                append(table if table is not None else _read_chunk(out, following))
                following = next(left, None)

        for c in _evaluate(todo, jobs, client, out, pool):
            ready[c.index] = _read_chunk(out, c)
            append_ready()
            bar.update()
        append_ready()
    bar.close()
    record = manifest.header(
        spec=spec.name,
        spec_sha256=spec.digest(),
        rows=append.rows,
        points=size(spec),
        chunks=len(chunks),
        chunks_reused=len(chunks) - len(todo),
        seconds=round(time.perf_counter() - start, 2),
        scheduler=scheduler or _local(jobs, len(todo)),
    )
    manifest.write(out, record)
    return record


def _local(jobs: int | None, chunks: int) -> str:
    """How chunks run without a scheduler (as ``_evaluate`` decides)."""
    n = worker_count(jobs, chunks)
    return f"local pool ({n})" if n > 1 else "in-process"


def connect(scheduler: str | None) -> Any:
    """A Dask client for ``--scheduler`` (``tcp://HOST:PORT``), or None for local workers.

    The address is checked and the scheduler reached before any work, so that a bad one
    fails at once, naming the option, with nothing written.
    """
    if scheduler is None:
        return None
    if not re.fullmatch(r"(tcp|tls|inproc|ucx|ws|wss)://[^\s/:]+(:\d{1,5})?", scheduler.strip()):
        raise InputError(
            "expected the address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786",
            key="--scheduler",
            value=scheduler,
        )
    from distributed import Client

    try:
        return Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise InputError(
            f"cannot reach the Dask scheduler ({exc}); expected the address of a running "
            "scheduler, tcp://HOST:PORT",
            key="--scheduler",
            value=scheduler,
        ) from None


def _evaluate(
    chunks: Sequence[Chunk], jobs: int | None, client: Any, out: Path, pool: Any = None
) -> Iterator[Chunk]:
    """Evaluate and write each chunk, yielding it once its file is written: in-process, in a
    local pool (``pool``: each worker writes its own chunks) or on a Dask cluster (whose
    workers may be elsewhere: the columns come back and are written here)."""
    if client is not None:
        from distributed import as_completed as dask_completed

        with client:
            futures = {client.submit(evaluate_chunk, c, pure=False): c for c in chunks}
            for fut in dask_completed(futures):
                _write_chunk(out, futures[fut], fut.result())
                yield futures[fut]
        return
    if pool is not None and len(chunks) > 1:
        from concurrent.futures import as_completed as pool_completed

        running = {pool.submit(evaluate_and_write, c, out): c for c in chunks}
        for done in pool_completed(running):
            done.result()
            yield running[done]
        return
    for c in chunks:
        evaluate_and_write(c, out)
        yield c


def evaluate_and_write(chunk: Chunk, out: Path) -> int:
    """Evaluate one chunk and write its file (what a local worker does); its rows."""
    cols = evaluate_chunk(chunk)
    _write_chunk(out, chunk, cols)
    return len(cols["point"])


def _start_pool(workers: int) -> Any:
    """A local pool whose ``workers`` start at once (a pool starts its workers on demand)."""
    pool = process_pool(workers, fork=True)
    for _ in range(workers):
        pool.submit(_warm_worker)
    return pool


def _warm_worker() -> None:
    """What a local worker imports once, as it starts, instead of in its first chunk."""
    import pyarrow.parquet  # noqa: F401

    import h200cast.engine.model
    import h200cast.results.conditioning
    import h200cast.results.scenarios  # noqa: F401


def plan_sizes(spec: SweepSpec) -> list[int]:
    """The number of points in each chunk of :func:`plan`, from the spec alone."""
    per = max(1, spec.chunk_rows // spec.draws_per_point)
    n = size(spec)
    return [min(per, n - lo) for _ in spec.run_names() for lo in range(0, n, per)]


MAX_ROWS = 50_000_000
"""The most result rows (points x runs x draws per point) a sweep may have: about 4 GB of
results at ten outputs; more is refused before any work."""


def size(spec: SweepSpec) -> int:
    """Points of the design, computed from the spec without building it."""
    if spec.design.method != "grid":
        return spec.design.points
    n = 1
    for v in spec.inputs.values():
        n *= len(v.values) if isinstance(v, Values) else spec.design.points
    return n


def check_size(spec: SweepSpec) -> None:
    """Refuse a sweep whose results would not fit in memory, before any work."""
    points = size(spec)
    rows = points * len(spec.run_names()) * spec.draws_per_point
    if rows > MAX_ROWS:
        raise InputError(
            f"{points:,} points x {len(spec.run_names())} runs x {spec.draws_per_point} draws per "
            f"point is {rows:,} result rows; expected at most {MAX_ROWS:,} (fewer grid steps or "
            "points, or an lhs/sobol design)",
            key="design.points",
            value=spec.design.points,
        )


def _stamp(stamp: Path) -> dict[str, Any]:
    """The ``spec.json`` of an earlier run of this sweep; {} when absent or damaged (start afresh)."""
    try:
        record = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _chunk_ok(file: Path) -> bool:
    """Whether a finished chunk's file is whole: a damaged one is computed again on --resume."""
    import pyarrow.parquet as pq

    if not file.is_file():
        return False
    try:
        pq.read_metadata(file)
    except Exception:  # any read error: the file is not a whole parquet file
        return False
    return True


CHUNK_NAME = re.compile(r"\d{5}-[a-z0-9_]+\.parquet(\.tmp)?")
"""How chunk files are named (``_chunk_file``)."""


def is_sweep_dir(folder: Path) -> bool:
    """Whether ``folder`` holds a sweep h200cast wrote: finished (its manifest) or interrupted
    (its ``spec.json`` stamp and ``chunks/``)."""
    from h200cast.io.atomic import is_output_dir

    if is_output_dir(folder):
        return True
    try:
        stamp = json.loads((folder / "spec.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(stamp, dict)
        and {"digest", "spec"} <= set(stamp)
        and (folder / "chunks").is_dir()
    )


def check_sweep_out(out: Path) -> None:
    """Fail unless ``out`` is new, empty, or a sweep h200cast wrote (which is then replaced)."""
    try:
        if not out.exists():
            return
        if not out.is_dir():
            raise InputError(
                "is not a folder; expected a folder to write the sweep into (new, empty or an "
                "earlier sweep of h200cast)",
                key="--out",
                value=str(out),
            )
        if any(out.iterdir()) and not is_sweep_dir(out):
            raise InputError(
                "is a folder of other files (no sweep of h200cast in it); expected a new or empty "
                "folder, or an earlier sweep, which is replaced",
                key="--out",
                value=str(out),
            )
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror})", key="--out", value=str(out)) from None


# --- analyses of a sweep ------------------------------------------------------------------------------


def run_label(spec: SweepSpec, run: str | None) -> tuple[str, str]:
    """(kind, name) of the run an analysis uses: the one named, or the sweep's first."""
    runs = spec.run_names()
    if run is None:
        return runs[0]
    for kind, name in runs:
        if name == run:
            return kind, name
    raise InputError(
        f"not a run of this sweep; expected one of: {', '.join(n for _, n in runs)}",
        key="run",
        value=run,
    )


def sensitivity(spec: SweepSpec, params_dir: Path | None = None) -> SobolIndices:
    """Sobol indices of the spec's sensitivity outputs over its input ranges."""
    from h200cast.explore.sensitivity import model_sobol

    s = spec.sensitivity
    assert s is not None  # analyse() asks only for a spec with a sensitivity block
    kind, name = run_label(spec, s.run)
    # with a sensitivity block every input is a Range (SweepSpec._consistent)
    ranges = {k: (v.low, v.high) for k, v in spec.inputs.items() if isinstance(v, Range)}
    return model_sobol(
        **{kind: name},
        ranges=ranges,
        outputs=s.outputs,
        base_samples=s.base_samples,
        bootstrap=s.bootstrap,
        confidence=s.confidence,
        seed=spec.design.seed,
        params_dir=params_dir,
        vintage=spec.vintage,
    )


def discover(spec: SweepSpec, out: Path) -> tuple[Box, list[Box]]:
    """PRIM on the sweep's results: which inputs lead to the spec's outcome of interest."""
    import pyarrow.parquet as pq

    from h200cast.explore.discovery import prim

    dsc = spec.discovery
    assert dsc is not None  # analyse() asks only for a spec with a discovery block
    _, name = run_label(spec, dsc.run)
    table = pq.read_table(out / "results.parquet").to_pandas()
    table = table[table["run"] == name]
    if dsc.output not in table:
        raise InputError(
            "the discovery output must be among the sweep's outputs",
            key="discovery.output",
            value=dsc.output,
        )
    y = table[dsc.output] < dsc.below if dsc.below is not None else table[dsc.output] > dsc.above
    if not y.any():
        limit = f"below {dsc.below:g}" if dsc.below is not None else f"above {dsc.above:g}"
        raise InputError(
            f"no point of the sweep has {dsc.output} {limit}: nothing to discover; widen the inputs "
            "or move the threshold",
            key="discovery",
            value=f"{dsc.output} {limit}",
        )
    keys = list(spec.inputs)
    return prim(
        table[keys].to_numpy(),
        y.to_numpy(),
        keys,
        alpha=dsc.alpha,
        min_mass=dsc.min_mass,
        min_coverage=dsc.min_coverage,
    )


def outcome_text(d: Discovery) -> str:
    """The outcome a discovery asks about, e.g. ``us_fee_revenue_2026_usd < 3e+09``."""
    return f"{d.output} {'<' if d.below is not None else '>'} {d.below if d.below is not None else d.above:g}"


def discovery_record(d: Discovery, box: Any, trajectory: Sequence[Any], run: str) -> dict[str, Any]:
    """What ``discovery.json`` holds: the run, the outcome, the chosen box and PRIM's peeling
    trajectory."""

    def one(b: Any) -> dict[str, Any]:
        return {"coverage": b.coverage, "density": b.density, "mass": b.mass, "rules": b.rules()}

    chosen = one(box)
    return {
        "run": run,
        "outcome": outcome_text(d),
        "rules": chosen.pop("rules"),
        **chosen,
        "trajectory": [one(b) for b in trajectory],
    }


# --- expectations -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectationResult:
    """The outcome of one expectation of a spec's ``expect:`` block."""

    index: int
    expectation: Expectation
    run: str | None  # the run the statistic (or the PRIM box) describes
    observed: float
    passed: bool

    @property
    def key(self) -> str:
        """Where the expectation is in the spec: ``expect.INDEX``."""
        return f"expect.{self.index}"

    def text(self) -> str:
        """E.g. ``p50 of us_fee_revenue_2026_usd under customs_ban < 1e+09``."""
        e = self.expectation
        what = f"{e.stat} of {e.output}" if e.output is not None else f"PRIM box {e.discovery}"
        under = f" under {self.run}" if self.run is not None else ""
        return f"{what}{under} {e.limit_text()}"

    def record(self) -> dict[str, Any]:
        """One entry of ``expectations.json``."""
        given = self.expectation.model_dump(mode="json", exclude_none=True)
        return {
            "key": self.key,
            "expectation": self.text(),
            **given,
            "run": self.run,
            "observed": self.observed if np.isfinite(self.observed) else None,
            "passed": self.passed,
        }


def statistic(x: np.ndarray, stat: Stat) -> float:
    """A statistic of all the values of an output (NaN when there are none)."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return float("nan")
    if stat == "mean":
        return float(np.mean(x))
    if stat == "min":
        return float(np.min(x))
    if stat == "max":
        return float(np.max(x))
    return float(np.percentile(x, float(stat[1:])))


def evaluate_expectations(
    spec: SweepSpec, results: Any, box: Any = None
) -> list[ExpectationResult]:
    """Check the spec's expectations against a results table (``results.parquet`` as a data
    frame: a ``run`` column and a column per output) and the PRIM box, if any.

    Pure: nothing is read or written. An expectation fails when the observed value is not
    strictly beyond its limit, or is NaN (no rows for the run, or a NaN output).
    """
    done = []
    for i, e in enumerate(spec.expect):
        if e.output is not None:
            _, run = run_label(spec, e.run)
            observed = statistic(
                results.loc[results["run"] == run, e.output].to_numpy(dtype=float),
                e.stat or "p50",  # Expectation._shape requires a stat with an output
            )
        else:
            if box is None or spec.discovery is None:
                raise InputError(
                    "there is no PRIM box to expect of; expected a spec with a `discovery:` block",
                    key=f"expect.{i}.discovery",
                    value=e.discovery,
                )
            _, run = run_label(spec, spec.discovery.run)
            observed = float(getattr(box, e.discovery or "coverage"))
        done.append(ExpectationResult(i, e, run, observed, e.holds(observed)))
    return done


def expectations_record(spec: SweepSpec, results: Sequence[ExpectationResult]) -> dict[str, Any]:
    """What ``expectations.json`` holds: the spec, whether all hold, and each outcome."""
    failed = [r.key for r in results if not r.passed]
    return {
        "spec": spec.name,
        "passed": not failed,
        "failed": failed,
        "expectations": [r.record() for r in results],
    }


@dataclass
class Analyses:
    """A finished sweep's Sobol indices, PRIM box and expectations, as written beside its
    results, and the run each describes."""

    sobol: Any = None  # explore.sensitivity.SobolResult, when the spec has a sensitivity block
    sobol_run: str | None = None
    box: Any = None  # explore.discovery.Box, when the spec has a discovery block
    discovery_run: str | None = None
    trajectory: list[Any] = field(default_factory=list)
    expectations: list[ExpectationResult] = field(default_factory=list)

    @property
    def failed(self) -> list[ExpectationResult]:
        """The expectations that do not hold."""
        return [r for r in self.expectations if not r.passed]


def analyse(spec: SweepSpec, out: Path, params_dir: Path | None = None) -> Analyses:
    """Compute the spec's Sobol indices and PRIM box, check its expectations, and write
    ``sobol.csv``, ``discovery.json`` (each naming its run) and ``expectations.json``."""
    import pyarrow.parquet as pq

    res = Analyses()
    if spec.sensitivity:
        res.sobol = sensitivity(spec, params_dir)
        _, res.sobol_run = run_label(spec, spec.sensitivity.run)
        frame = res.sobol.frame()
        frame.insert(0, "run", res.sobol_run)
        atomic_write_text(
            out / "sobol.csv", frame.to_csv(index=False, lineterminator="\n"), key="--out"
        )
    if spec.discovery:
        res.box, res.trajectory = discover(spec, out)
        _, res.discovery_run = run_label(spec, spec.discovery.run)
        record = discovery_record(spec.discovery, res.box, res.trajectory, res.discovery_run)
        atomic_write_text(out / "discovery.json", json.dumps(record, indent=2) + "\n", key="--out")
    used = sorted({e.output for e in spec.expect if e.output is not None})
    table = (
        pq.read_table(out / "results.parquet", columns=["run", *used]).to_pandas() if used else None
    )
    res.expectations = evaluate_expectations(spec, table, res.box)
    record = expectations_record(spec, res.expectations)
    atomic_write_text(out / "expectations.json", json.dumps(record, indent=2) + "\n", key="--out")
    return res


def load_analyses(folder: Path) -> tuple[SweepSpec, Analyses]:
    """A finished sweep's spec and the analyses written beside its results, read back.

    ``folder`` is an ``h200cast sweep`` output folder: its ``manifest.json`` and
    ``spec.json``, and ``sobol.csv``, ``discovery.json`` and ``expectations.json`` as its
    spec's blocks asked. Nothing is computed again. A folder that is not a finished sweep,
    or whose files are missing or damaged, is an :class:`InputError` naming it.
    """
    import pandas as pd

    from h200cast.explore.discovery import Box
    from h200cast.explore.sensitivity import SobolIndices
    from h200cast.io.atomic import is_output_dir

    folder = Path(folder)

    def bad(what: str) -> InputError:
        return InputError(
            f"{what}; expected the folder of a finished `h200cast sweep` (its manifest.json, "
            "spec.json and the sobol.csv or discovery.json its spec asked for)",
            key="--sweep",
            value=str(folder),
        )

    if not folder.is_dir():
        raise bad("is not a folder")
    if not is_output_dir(folder) or not is_sweep_dir(folder):
        raise bad("is not a finished sweep of h200cast")
    try:
        stamp = json.loads((folder / "spec.json").read_text(encoding="utf-8"))
        spec = SweepSpec.model_validate(stamp["spec"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise bad(f"spec.json cannot be read ({type(exc).__name__})") from None
    if not spec.sensitivity and not spec.discovery:
        raise bad("its spec has neither a sensitivity: nor a discovery: block: nothing to draw")
    res = Analyses()
    try:
        if spec.sensitivity:
            s = spec.sensitivity
            frame = pd.read_csv(folder / "sobol.csv")
            _, res.sobol_run = run_label(spec, s.run)
            res.sobol = SobolIndices.from_frame(
                frame[frame["run"] == res.sobol_run],
                list(spec.inputs),
                s.outputs,
                s.confidence,
                s.base_samples * (len(spec.inputs) + 2),
            )
        if spec.discovery:
            record = json.loads((folder / "discovery.json").read_text(encoding="utf-8"))
            res.discovery_run = record["run"]
            res.box = Box.from_record(record)
            res.trajectory = [Box.from_record(b) for b in record["trajectory"]]
        if (folder / "expectations.json").is_file():
            done = json.loads((folder / "expectations.json").read_text(encoding="utf-8"))
            res.expectations = [
                ExpectationResult(
                    i,
                    spec.expect[i],
                    e.get("run"),
                    float("nan") if e.get("observed") is None else float(e["observed"]),
                    bool(e["passed"]),
                )
                for i, e in enumerate(done["expectations"])
            ]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise bad(f"its analyses cannot be read ({type(exc).__name__}: {exc})") from None
    return spec, res
