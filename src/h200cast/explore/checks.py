"""Declarative model checks: properties the model must have, run as ``h200cast check``.

In the style of SDEverywhere's model-check, ``params/checks.yaml`` lists checks, each a
scenario (a stance, path or switching chain with overrides, draws and seed) and one of
three kinds:

``bounds``
    A headline metric (``output``) or a monthly variable (``variable``, every month)
    stays within ``min`` / ``max``; ``stat`` picks P5, P50, P95, the mean or every draw.
``approx``
    A statistic of a metric (or of a variable in one ``month``) is within ``tolerance``
    (absolute) or ``rel_tolerance`` of ``value``.
``monotone``
    Raising an ``input`` parameter through ``values`` never lowers (``up``), never raises
    (``down``) or never changes (``flat``) a metric, draw by draw; or, with ``stances``,
    moving along a list of stances does the same. Every variant uses the same draws
    (common random numbers), so a single violating draw is a real violation, not noise.
``relation``
    The sum of ``left`` (metrics, or monthly variables) equals (``eq``), stays at or below
    (``le``) or at or above (``ge``) ``factor`` times the sum of ``right``, in every draw (and
    every month, for variables), up to ``rel_tolerance``; with ``stances`` it must hold under
    each of them.

Errors in the file name the file, the check (``checks[INDEX]`` and its name) and the key.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from h200cast import settings
from h200cast.engine.metrics import BY_NAME
from h200cast.engine.metrics import values as metric_values
from h200cast.engine.model import VARIABLES, Paths, sample, simulate, simulate_values, specs
from h200cast.engine.switching import scenario_weights
from h200cast.errors import InputError
from h200cast.io.yamlfile import load_yaml
from h200cast.scenario.calendar import month_labels, ordered
from h200cast.scenario.layers import Layers, apply_override
from h200cast.scenario.load import build_layers, check_evidence, validate
from h200cast.scenario.schema import Scenario, StanceName

RTOL = 1e-9
"""Relative slack of monotone comparisons (float rounding, not model noise)."""

Stat = Literal["p5", "p50", "p95", "mean", "all"]
Scalar = float | int | bool | str | None


def default_file() -> Path:
    """``params/checks.yaml`` of the checkout (or of ``$H200CAST_PARAMS``)."""
    return settings.params_dir() / "checks.yaml"


# --- the schema -----------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_metric(name: str | None) -> str | None:
    if name is not None and name not in BY_NAME:
        raise ValueError(f"unknown metric; expected one of: {', '.join(BY_NAME)}")
    return name


def _known_variable(name: str | None) -> str | None:
    if name is not None and name not in VARIABLES:
        raise ValueError(f"unknown variable; expected one of: {', '.join(VARIABLES)}")
    return name


class _Check(_Strict):
    """What every check has: a name, why it must hold, and the scenario it runs."""

    name: str = Field(pattern=r"^[a-z0-9_]+$", description="unique name, lower_snake_case")
    description: str = Field(min_length=1, description="why the property must hold")
    stance: StanceName | None = None
    path: str | None = None
    switching: str | None = None
    overrides: dict[str, Scalar] = Field(
        default_factory=dict, description="dotted key -> value, as `--set KEY=VALUE`"
    )
    draws: int = Field(default=500, ge=1, le=100_000)
    seed: int = Field(default=20260131, ge=0)
    point: bool = Field(default=False, description="one run at every parameter's central value")
    vintage: str | None = Field(
        default=None, description="the vintage to run at (default: the file's `vintage:`)"
    )

    def sources(self) -> dict[str, str]:
        """The scenario keys given: stance / path / switching."""
        return {
            k: v
            for k, v in (
                ("stance", self.stance),
                ("path", self.path),
                ("switching", self.switching),
            )
            if v is not None
        }

    def override_args(self, extra: Sequence[str] = ()) -> tuple[str, ...]:
        """The overrides as ``KEY=VALUE`` strings."""
        return (*(f"{k}={_yaml_scalar(v)}" for k, v in self.overrides.items()), *extra)

    def _one_source(self) -> None:
        if len(self.sources()) != 1:
            raise ValueError("give exactly one of `stance`, `path` or `switching`")


class _Measured(_Check):
    """A check on a metric (``output``) or a monthly variable (``variable``)."""

    output: str | None = None
    variable: str | None = None

    @field_validator("output")
    @classmethod
    def _metric(cls, v: str | None) -> str | None:
        return _known_metric(v)

    @field_validator("variable")
    @classmethod
    def _variable(cls, v: str | None) -> str | None:
        return _known_variable(v)

    def _one_target(self) -> None:
        self._one_source()
        if (self.output is None) == (self.variable is None):
            raise ValueError("give exactly one of `output` (a metric) or `variable`")

    @property
    def target(self) -> str:
        return self.output or self.variable or "?"


class BoundsCheck(_Measured):
    """Every value (or a statistic of the draws) within ``min`` / ``max``."""

    kind: Literal["bounds"]
    stat: Stat = "all"
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _valid(self) -> BoundsCheck:
        self._one_target()
        if self.min is None and self.max is None:
            raise ValueError("give `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"`min` ({self.min:g}) is above `max` ({self.max:g})")
        return self


class ApproxCheck(_Measured):
    """A statistic within a tolerance of a value."""

    kind: Literal["approx"]
    month: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    stat: Stat = "p50"
    value: float
    tolerance: float | None = Field(default=None, ge=0)
    rel_tolerance: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _valid(self) -> ApproxCheck:
        self._one_target()
        if (self.tolerance is None) == (self.rel_tolerance is None):
            raise ValueError("give exactly one of `tolerance` (absolute) or `rel_tolerance`")
        if self.variable is not None and self.month is None:
            raise ValueError("a `variable` needs a `month` (YYYY-MM)")
        if self.output is not None and self.month is not None:
            raise ValueError("`month` goes with `variable`; an `output` is one number per draw")
        return self

    @property
    def allowed(self) -> float:
        """The absolute tolerance."""
        if self.tolerance is not None:
            return self.tolerance
        return (self.rel_tolerance or 0.0) * abs(self.value)


class MonotoneCheck(_Check):
    """A metric moves one way (or not at all) as an input rises or along a list of stances."""

    kind: Literal["monotone"]
    output: str
    direction: Literal["up", "down", "flat"]
    input: str | None = None
    values: list[float] | None = Field(default=None, min_length=2)
    stances: list[StanceName] | None = Field(default=None, min_length=2)

    @field_validator("output")
    @classmethod
    def _metric(cls, v: str) -> str | None:
        return _known_metric(v)

    @field_validator("values")
    @classmethod
    def _increasing(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and any(b <= a for a, b in pairwise(v)):
            raise ValueError(f"expected strictly increasing values, got {v}")
        return v

    @field_validator("stances")
    @classmethod
    def _distinct(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError(f"expected each stance once, got {v}")
        return v

    @model_validator(mode="after")
    def _valid(self) -> MonotoneCheck:
        if self.stances is not None:
            if self.input is not None or self.values is not None:
                raise ValueError("give either `stances` or `input` with `values`, not both")
            if self.sources():
                raise ValueError("`stances` replaces `stance`, `path` and `switching`")
            return self
        if self.input is None or self.values is None:
            raise ValueError("give `input` (a parameter's dotted key) and `values`, or `stances`")
        self._one_source()
        return self


class RelationCheck(_Check):
    """``sum(left) op factor x sum(right)`` in every draw (and month, for variables)."""

    kind: Literal["relation"]
    left: list[str] = Field(min_length=1)
    op: Literal["eq", "le", "ge"]
    right: list[str] = Field(min_length=1)
    factor: float = 1.0
    rel_tolerance: float = Field(default=1e-9, ge=0)
    stances: list[StanceName] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _valid(self) -> RelationCheck:
        names = [*self.left, *self.right]
        if not (all(n in BY_NAME for n in names) or all(n in VARIABLES for n in names)):
            bad = [n for n in names if n not in BY_NAME and n not in VARIABLES]
            if bad:
                raise ValueError(f"unknown metric or variable: {bad}")
            raise ValueError("`left` and `right` must be all metrics or all variables")
        if self.stances is not None:
            if self.sources():
                raise ValueError("`stances` replaces `stance`, `path` and `switching`")
        else:
            self._one_source()
        return self

    @property
    def on_variables(self) -> bool:
        return all(n in VARIABLES for n in [*self.left, *self.right])


Check = Annotated[
    BoundsCheck | ApproxCheck | MonotoneCheck | RelationCheck, Field(discriminator="kind")
]
KINDS: dict[str, type[BaseModel]] = {
    "bounds": BoundsCheck,
    "approx": ApproxCheck,
    "monotone": MonotoneCheck,
    "relation": RelationCheck,
}


class ChecksFile(_Strict):
    """Everything in ``params/checks.yaml``."""

    vintage: str | None = Field(
        default=None,
        description="the vintage every check runs at unless it names one (default: the latest)",
    )
    checks: list[Check] = Field(min_length=1)


# --- loading ----------------------------------------------------------------------------------


def load_checks(file: Path | None = None) -> list[Check]:
    """Read and validate a checks file, including each check's scenario and input.

    Raises
    ------
    InputError
        Naming the file, the check (``checks[INDEX]``, with its name) and the key.
    """
    file = Path(file) if file is not None else default_file()
    _RESOLVED.clear()  # parameter files may have changed since the last load
    data = load_yaml(file)
    try:
        whole = ChecksFile.model_validate(data)
    except ValidationError as exc:
        raise _schema_error(exc, data, file) from None
    checks = [
        c if c.vintage or not whole.vintage else c.model_copy(update={"vintage": whole.vintage})
        for c in whole.checks
    ]
    seen: dict[str, int] = {}
    for i, c in enumerate(checks):
        if c.name in seen:
            raise _error(file, i, c.name, "name", f"duplicate of checks[{seen[c.name]}]", c.name)
        seen[c.name] = i
        _check_scenarios(c, file, i)
    return checks


def _schema_error(exc: ValidationError, data: Any, file: Path) -> InputError:
    rank = {"extra_forbidden": 0, "union_tag_invalid": 0, "union_tag_not_found": 0, "missing": 2}
    errors = sorted(exc.errors(include_url=False), key=lambda e: rank.get(e["type"], 1))
    e = errors[0]
    loc = [p for p in e["loc"] if p not in KINDS]  # drop the discriminated union's tag
    value = e.get("input", ...)
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc = [*loc, "kind"]
        value = value.get("kind", ...) if isinstance(value, dict) else ...
        msg = f"unknown kind; expected one of: {', '.join(KINDS)}"
    elif e["type"] == "extra_forbidden":
        kind = _at(data, loc[:2]).get("kind", "") if len(loc) > 2 else ""
        model = KINDS.get(kind) if len(loc) > 2 else ChecksFile if len(loc) == 1 else None
        fields = sorted(model.model_fields) if model else []
        msg = "unknown key" + (f"; expected one of: {', '.join(fields)}" if fields else "")
        value = ...
    elif e["type"] == "missing":
        msg, value = "missing key", ...
    if isinstance(value, dict | list):
        value = ...
    if len(loc) >= 2 and loc[0] == "checks" and isinstance(loc[1], int):
        i = loc[1]
        name = _at(data, loc[:2]).get("name")
        return _error(file, i, name, ".".join(map(str, loc[2:])), msg, value)
    return InputError(msg, file=file, key=".".join(map(str, loc)) or None, value=value)


def _at(data: Any, loc: Sequence[Any]) -> dict[str, Any]:
    """The mapping at ``loc`` in raw YAML data, or an empty one."""
    for p in loc:
        try:
            data = data[p]
        except (KeyError, IndexError, TypeError):
            return {}
    return data if isinstance(data, dict) else {}


def _error(file: Path, i: int, name: Any, key: str, message: str, value: Any = ...) -> InputError:
    """An error in check ``i``: ``FILE: checks[i].KEY: got VALUE: in check 'NAME': MESSAGE``."""
    where = f"in check {name!r}: " if isinstance(name, str) else ""
    full = f"checks[{i}]" + (f".{key}" if key else "")
    return InputError(where + message, file=file, key=full, value=value)


def _check_scenarios(c: Check, file: Path, i: int) -> None:
    """Each scenario of ``c`` resolves; its input is a sampled parameter and takes each value."""
    if isinstance(c, MonotoneCheck | RelationCheck) and c.stances is not None:
        for stance in c.stances:
            _resolve(c, file, i, {"stance": stance})
        return
    layers, sc = _resolve(c, file, i, c.sources())
    if isinstance(c, ApproxCheck) and c.month is not None:
        months = month_labels(sc.calendar.start, sc.calendar.horizon_months)
        if c.month not in months:
            raise _error(
                file,
                i,
                c.name,
                "month",
                f"expected a month from {months[0]} to {months[-1]}",
                c.month,
            )
    if isinstance(c, MonotoneCheck) and c.input is not None:
        keys = [k for k, _ in specs(sc)]
        if c.input not in keys:
            raise _error(
                file,
                i,
                c.name,
                "input",
                f"unknown parameter; expected a sampled parameter's dotted key, one of: {', '.join(keys)}",
                c.input,
            )
        for j, v in enumerate(c.values or []):
            trial = Layers(copy.deepcopy(layers.tree), dict(layers.origin))
            try:
                apply_override(trial, tuple(c.input.split(".")), v)
                validate(trial)
            except InputError as exc:
                raise _error(file, i, c.name, f"values[{j}]", exc.message, v) from None


_RESOLVED: dict[tuple[Any, ...], tuple[Layers, Scenario]] = {}
"""Resolved scenarios by (params folder, source, overrides); cleared by :func:`load_checks`."""


def _layers_and_scenario(
    source: dict[str, str], overrides: tuple[str, ...], vintage: str | None = None
) -> tuple[Layers, Scenario]:
    """Merged layers and the validated scenario (cached: many checks share a scenario)."""
    key = (str(settings.params_dir()), tuple(sorted(source.items())), overrides, vintage)
    if key not in _RESOLVED:
        from h200cast.estimation.evidence import fact_ids

        layers = build_layers(
            stance=source.get("stance"),
            path=source.get("path"),
            switching=source.get("switching"),
            overrides=overrides,
            vintage=vintage,
        )
        sc = validate(layers)
        check_evidence(sc, fact_ids(), layers)
        _RESOLVED[key] = (layers, sc)
    return _RESOLVED[key]


def _resolve(c: Check, file: Path, i: int, source: dict[str, str]) -> tuple[Layers, Scenario]:
    """The merged layers and validated scenario of a check, errors naming the checks file."""
    try:
        return _layers_and_scenario(source, c.override_args(), c.vintage)
    except InputError as exc:
        if exc.file == "--set" or exc.key in c.overrides:
            key, message = f"overrides.{exc.key}" if exc.key else "overrides", exc.message
        else:
            key = next(iter(source), "")
            where = [str(x) for x in (exc.file, exc.key) if x and x != key]
            message = exc.message + (f" ({': '.join(where)})" if where else "")
        if isinstance(c, MonotoneCheck | RelationCheck) and c.stances is not None:
            message += f" (running stance {source['stance']!r})"
        raise _error(file, i, c.name, key, message, exc.value) from None


def _yaml_scalar(v: Scalar) -> str:
    """A value as ``--set`` reads it back."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return v if isinstance(v, str) else repr(v)


# --- running ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check."""

    name: str
    kind: str
    passed: bool
    detail: str


def run_checks(checks: Sequence[Check]) -> list[CheckResult]:
    """Run every check, in order."""
    return [run_check(c) for c in checks]


def run_check(c: Check) -> CheckResult:
    """Run one check."""
    if isinstance(c, BoundsCheck):
        passed, detail = _bounds(c)
    elif isinstance(c, ApproxCheck):
        passed, detail = _approx(c)
    elif isinstance(c, RelationCheck):
        passed, detail = _relation(c)
    else:
        passed, detail = _monotone(c)
    return CheckResult(c.name, c.kind, passed, detail)


def _scenario(c: Check, **source: str) -> Scenario:
    return _layers_and_scenario(source or c.sources(), c.override_args(), c.vintage)[1]


def _simulate(c: Check, **source: str) -> Paths:
    """The check's paths: ``c.draws`` draws (or one point run) with ``c.seed``."""
    return simulate(_scenario(c, **source), draws=c.draws, seed=c.seed, point=c.point)


def _stat(x: np.ndarray, stat: str) -> np.ndarray:
    """A statistic over draws (axis 0), or every value for ``all``."""
    if stat == "all":
        return x
    if stat == "mean":
        return np.mean(x, axis=0)
    return np.percentile(x, float(stat[1:]), axis=0)


def _num(x: float) -> str:
    return f"{x:.6g}"


def _observed(c: BoundsCheck | ApproxCheck) -> tuple[np.ndarray, list[str], str]:
    """Values to test, a month label per column, and what they are (for the detail)."""
    paths = _simulate(c)
    runs = "point run" if c.point else f"{c.draws} draws"
    if c.output is not None:
        x = metric_values(paths)[c.output]
        what = f"{c.stat} of {runs}" if c.stat != "all" else f"all {runs}"
        return np.atleast_1d(_stat(x, c.stat)).reshape(-1, 1), [""], what
    assert c.variable is not None  # validated: a variable where there is no output
    arr = paths[c.variable]
    months = list(paths.months)
    if isinstance(c, ApproxCheck):
        assert c.month is not None  # validated: an approx check on a variable has a month
        col = months.index(c.month)
        x = _stat(arr[:, col], c.stat)
        return np.atleast_1d(x).reshape(-1, 1), [c.month], f"{c.stat} of {runs}, {c.month}"
    x = np.atleast_2d(_stat(arr, c.stat))
    what = f"{c.stat} of {runs} by month" if c.stat != "all" else f"all {runs}"
    return x, months, f"{what} x {len(months)} months"


def _bounds(c: BoundsCheck) -> tuple[bool, str]:
    x, months, what = _observed(c)
    lo = -np.inf if c.min is None else c.min
    hi = np.inf if c.max is None else c.max
    bad = (x < lo) | (x > hi) | np.isnan(x)
    want = (
        f"<= {_num(hi)}"
        if c.min is None
        else f">= {_num(lo)}"
        if c.max is None
        else f"[{_num(lo)}, {_num(hi)}]"
    )
    seen = (
        f"= {_num(x.flat[0])}"
        if x.size == 1
        else f"in [{_num(np.nanmin(x))}, {_num(np.nanmax(x))}]"
    )
    detail = f"{c.target}: {what} {seen}; want {want}"
    if bad.any():
        excess = np.where(np.isnan(x), np.inf, np.maximum(lo - x, x - hi))
        d, t = np.unravel_index(np.argmax(excess), x.shape)
        at = f" in {months[t]}" if months[t] else ""
        detail += f"; {int(bad.sum())} of {x.size} outside, worst {_num(x[d, t])}{at}"
    return not bad.any(), detail


def _approx(c: ApproxCheck) -> tuple[bool, str]:
    x, _, what = _observed(c)
    off = np.abs(x - c.value)
    worst = float(np.max(off))
    passed = bool(worst <= c.allowed)
    shown = _num(float(x.flat[0])) if x.size == 1 else f"[{_num(x.min())}, {_num(x.max())}]"
    tol = (
        _num(c.allowed)
        if c.tolerance is not None
        else f"{_num(c.allowed)} ({_num(c.rel_tolerance or 0.0)} rel)"
    )
    return (
        passed,
        f"{c.target}: {what} = {shown}; want {_num(c.value)} +/- {tol}, off by {_num(worst)}",
    )


def _monotone(c: MonotoneCheck) -> tuple[bool, str]:
    if c.stances is not None:
        y = np.stack([metric_values(_simulate(c, stance=s))[c.output] for s in c.stances])
        along = " -> ".join(c.stances)
    else:
        y = _variants(c)
        vals = c.values or []
        along = f"{c.input} {_num(vals[0])}..{_num(vals[-1])} ({len(vals)} values)"
    step = np.diff(y, axis=0)
    slack = RTOL * np.maximum(1.0, np.maximum(np.abs(y[:-1]), np.abs(y[1:])))
    if c.direction == "up":
        bad, verb = step < -slack, "fall"
    elif c.direction == "down":
        bad, verb = step > slack, "rise"
    else:
        bad, verb = np.abs(step) > slack, "change"
    draws = bad.any(axis=0)
    runs = "point run" if c.point else "draws"
    p50 = " -> ".join(_num(v) for v in np.percentile(y, 50, axis=1)[[0, -1]])
    detail = f"{c.output} over {along}: P50 {p50}, first to last; {int(draws.sum())} of {y.shape[1]} {runs} {verb}"
    if draws.any():
        size = np.where(bad, np.abs(step), 0.0)
        k, d = np.unravel_index(np.argmax(size), size.shape)
        detail += f" (worst: draw {d}, step {k + 1}, by {_num(float(step[k, d]))})"
    return not draws.any(), detail


def _relation(c: RelationCheck) -> tuple[bool, str]:
    sources = [{"stance": s} for s in c.stances] if c.stances is not None else [{}]
    worst, where, bad_cells, cells = 0.0, "", 0, 0
    for src in sources:
        paths = _simulate(c, **src)
        if c.on_variables:
            get = paths.__getitem__
        else:
            vals = metric_values(paths)
            get = vals.__getitem__
        lhs = sum(np.asarray(get(n), dtype=float) for n in c.left)
        rhs = c.factor * sum(np.asarray(get(n), dtype=float) for n in c.right)
        slack = c.rel_tolerance * np.maximum(1.0, np.maximum(np.abs(lhs), np.abs(rhs)))
        diff = lhs - rhs
        if c.op == "eq":
            excess = np.abs(diff) - slack
        elif c.op == "le":
            excess = diff - slack
        else:
            excess = -diff - slack
        cells += excess.size
        bad_cells += int((excess > 0).sum())
        scale = np.maximum(1.0, np.abs(rhs))
        rel = float(np.max(np.where(excess > 0, np.abs(diff) / scale, 0.0), initial=0.0))
        if rel > worst:
            worst, where = rel, src.get("stance", "")
    sym = {"eq": "=", "le": "<=", "ge": ">="}[c.op]
    rhs_text = " + ".join(c.right)
    if c.factor != 1.0:
        rhs_text = f"{_num(c.factor)} x ({rhs_text})"
    on = "draw-months" if c.on_variables else "draws"
    detail = f"{' + '.join(c.left)} {sym} {rhs_text}: {bad_cells} of {cells} {on} violate"
    if bad_cells:
        detail += f" (worst relative {_num(worst)}{' under ' + where if where else ''})"
    return bad_cells == 0, detail


def _variants(c: MonotoneCheck) -> np.ndarray:
    """The output for each value of the input, shape (values, draws), on the same draws.

    The draws are sampled once and tiled, the input's column set to each value, and
    every variant run in one vectorised model call (as :func:`h200cast.sensitivity.grid`),
    with each draw's stance weights as a sampled run would have them.
    """
    assert c.input is not None  # validated: a monotone check without stances has an input
    sc = _scenario(c)
    base = sample(sc, c.draws, c.seed, point=c.point)
    vals = list(c.values or [])
    n, D = len(vals), base.n
    tiled = {k: np.tile(v, n) for k, v in base.values.items()}
    for i, v in enumerate(vals):
        tiled[c.input][i * D : (i + 1) * D] = v
    w = scenario_weights(sc, ordered(list(sc.stances)), c.seed, D, c.point)
    if w.shape[0] > 1:
        w = np.tile(w, (n, 1, 1))
    out = metric_values(simulate_values(sc, tiled, c.seed, weights=w))[c.output]
    return out.reshape(n, D)
