"""From parameter files to one validated scenario: find the files, merge, validate, check citations.

A scenario is built in layers, as PyPSA-Eur builds its configs: ``params/base.yaml``
holds every model input; a stance file (``params/stances/NAME.yaml``) or a stance path
(``params/paths/NAME.yaml`` with the stance files it names) adds Beijing's levers; and
``--set KEY=VALUE`` overrides come last. The layers are merged first, then the merged
tree is validated once by the models in :mod:`h200cast.scenario.schema`. Any error names
the file that set the bad key, the dotted key, the value and what was expected.

This layer knows nothing of the evidence files or of the statsmodels fits: the known
evidence ids and the as-of refit are handed in by the caller (see :mod:`h200cast.api`).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from h200cast import settings
from h200cast.errors import InputError
from h200cast.io.yamlfile import load_yaml
from h200cast.scenario.layers import (
    Layers,
    Refit,
    apply_override,
    parse_override,
    resolve_estimates,
)
from h200cast.scenario.schema import (
    _MESSAGES,
    STANCES,
    BaseParams,
    Scenario,
    Stance,
    StancePath,
    StrictSpec,
    Switching,
)
from h200cast.scenario.vintage import Vintage, estimates_dir, vintage_file

Kind = Literal["stances", "paths", "switching", "estimates"]
"""The named parameter folders."""


def available(params_dir: Path, kind: Kind) -> list[str]:
    """Names of the stance, path or switching files in ``params_dir``."""
    return sorted(p.stem for p in (params_dir / kind).glob("*.yaml"))


def _one_stance_path(stance: str, start: str, why: str) -> dict[str, Any]:
    return {
        "name": stance,
        "description": f"{stance} throughout",
        "steps": [{"start": f"{start}-01", "stance": stance, "assumption": why}],
    }


def _stances_named(chain: Mapping[str, Any]) -> set[str]:
    """Stance names a switching file mentions (before validation, so tolerant of bad shapes)."""
    out = set()
    for part in (chain.get("initial"), chain.get("transitions")):
        if isinstance(part, dict):
            out |= {k for k in part if isinstance(k, str)}
    tables = [chain.get("transitions")]
    points = chain.get("decision_points")
    dps: list[Any] = points if isinstance(points, list) else []
    tables += [dp.get("transitions") for dp in dps if isinstance(dp, dict)]
    for rows in tables:
        if not isinstance(rows, dict):
            continue
        out |= {k for k in rows if isinstance(k, str)}
        for row in rows.values():
            if isinstance(row, dict) and isinstance(row.get("to"), dict):
                out |= {k for k in row["to"] if isinstance(k, str)}
    return out


def _named_file(params_dir: Path, kind: Kind, name: str) -> Path:
    p = params_dir / kind / f"{name}.yaml"
    if not p.is_file():
        what = {
            "stances": "stance",
            "paths": "path",
            "switching": "switching chain",
            "estimates": "estimate",
        }[kind]
        raise InputError(
            f"unknown {what}; expected one of: {', '.join(available(params_dir, kind)) or '(none)'}",
            file=p,
            key=what,
            value=name,
        )
    return p


def load_vintage(params_dir: Path, name: str | dt.date | None = None) -> tuple[Vintage, Path]:
    """Read and validate a vintage (the latest when ``name`` is None): the model and its file."""
    f = vintage_file(params_dir, name)
    layers = Layers()
    layers.merge(load_yaml(f), str(f))
    v: Vintage = validate(layers, Vintage)
    if v.name != f.parent.name:
        raise InputError(
            f"expected the date to match the folder name {f.parent.name!r}",
            file=f,
            key="date",
            value=v.name,
        )
    if v.previous is not None and v.previous >= v.date:
        raise InputError(
            "expected an earlier vintage", file=f, key="previous", value=v.previous.isoformat()
        )
    _named_file(params_dir, "paths", v.history_path)
    _named_file(params_dir, "switching", v.switching)
    return v, f


def _history(params_dir: Path, v: Vintage) -> dict[str, Any]:
    return load_yaml(_named_file(params_dir, "paths", v.history_path))


def at_origin(path: dict[str, Any], history: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """A stance path whose months before ``origin`` are the observed ``history``.

    The history's steps that start before the origin come first; from the origin on,
    ``path`` holds: the step of ``path`` in effect on the origin's first day, re-dated
    to it, and every later step. What the user chose is the future; the past is data.
    """
    first = dt.date.fromisoformat(f"{origin}-01")

    def day(step: Any) -> dt.date | None:
        raw = step.get("start") if isinstance(step, dict) else None
        if isinstance(raw, dt.date):
            return raw
        try:
            return dt.date.fromisoformat(str(raw))
        except ValueError:
            return None  # reported by validation, with the file named

    steps = [s for s in path.get("steps") or [] if isinstance(s, dict)]
    before = [
        s for s in history.get("steps") or [] if isinstance(s, dict) and (day(s) or first) < first
    ]
    in_effect = [s for s in steps if (day(s) or first) <= first]
    later = [s for s in steps if (day(s) or first) > first]
    head = [{**in_effect[-1], "start": first}] if in_effect else []
    return {
        **path,
        "description": f"{path.get('description', '')} (before {origin}: {history.get('name')}, as observed)",
        "steps": [*before, *head, *later],
    }


def build_layers(
    *,
    stance: str | None = None,
    path: str | None = None,
    switching: str | None = None,
    overrides: Iterable[str] = (),
    params_dir: Path | None = None,
    base_file: Path | None = None,
    as_of: dt.date | None = None,
    refit: Refit | None = None,
    vintage: str | dt.date | None = None,
) -> Layers:
    """Merge base, the vintage, the stance / path / switching chain, and overrides into one tree.

    The tree is not yet validated. ``vintage`` names a vintage (the latest when None):
    its ``parameters`` replace entries of the base, its estimates are read, and before
    its origin every stance or path follows its history path (see :func:`at_origin`).
    """
    if sum(x is not None for x in (stance, path, switching)) != 1:
        raise InputError(
            "give exactly one of a stance, a path or a switching chain",
            key="--stance/--path/--switching",
        )
    params_dir = Path(params_dir) if params_dir else settings.params_dir()
    base_file = Path(base_file) if base_file else params_dir / "base.yaml"
    base = load_yaml(base_file)
    v, vfile = load_vintage(params_dir, vintage)
    layers = Layers()
    layers.merge(base, str(base_file))
    if v.parameters:  # the base stays valid on its own, even where the vintage replaces it
        alone = Layers()
        alone.merge(base, str(base_file))
        resolve_estimates(alone, estimates_dir(params_dir, v))
        validate(alone, BaseParams)
        layers.merge(v.parameters, str(vfile))
    start = layers.tree.get("calendar", {}).get("start", "2026-01")
    names: set[str] = set()
    if switching is not None:
        f = _named_file(params_dir, "switching", switching)
        data = load_yaml(f)
        layers.merge(data, str(f), ("switching",))
        names |= _stances_named(data)
        path = data.get("history_path") if isinstance(data.get("history_path"), str) else None
        if path is None:
            initial = data.get("initial") if isinstance(data.get("initial"), dict) else {}
            stance = max(initial, key=lambda k: initial[k]) if initial else "open_market"
            layers.merge(
                _one_stance_path(stance, start, "the chain's likeliest initial stance"),
                str(f),
                ("path",),
            )
            names.add(stance)
            stance = None
    if stance is not None:
        if stance not in STANCES:
            raise InputError(
                f"unknown stance; expected one of: {', '.join(STANCES)}", key="stance", value=stance
            )
        _named_file(params_dir, "stances", stance)
        one = _one_stance_path(stance, start, "one stance for the whole horizon")
        if v.origin > start:
            one = _one_stance_path(stance, v.origin, "held from the forecast origin")
            one["description"] = f"{stance} from {v.origin}"
            one = at_origin(one, _history(params_dir, v), v.origin)
        layers.merge(one, "--stance", ("path",))
        names |= {s["stance"] for s in one["steps"]}
    elif path is not None:
        f = _named_file(params_dir, "paths", path)
        data = load_yaml(f)
        if v.origin > start and path != v.history_path:
            alone = Layers()  # the whole file stays valid, not only its steps after the origin
            alone.merge(data, str(f), ("path",))
            _validate_at(alone, StancePath, ("path",))
            data = at_origin(data, _history(params_dir, v), v.origin)
        layers.merge(data, str(f), ("path",))
        raw_steps = data.get("steps")
        steps = raw_steps if isinstance(raw_steps, list) else []
        names |= {
            s["stance"] for s in steps if isinstance(s, dict) and isinstance(s.get("stance"), str)
        }
    for name in sorted(names):
        if name not in STANCES:
            continue  # reported by validation with the file named
        sf = _named_file(params_dir, "stances", name)
        data = load_yaml(sf)
        if data.get("name", name) != name:
            raise InputError(
                f"expected the name to match the file name {name!r}",
                file=sf,
                key="name",
                value=data.get("name"),
            )
        layers.merge(data, str(sf), ("stances", name))
    resolve_estimates(layers, estimates_dir(params_dir, v), as_of, refit)
    for text in overrides:
        apply_override(layers, *parse_override(text))
    return layers


def _validate_at(layers: Layers, model: type[BaseModel], at: tuple[str, ...]) -> Any:
    """Validate the subtree of ``layers`` at ``at`` with ``model``; errors name the full key."""
    node: Any = layers.tree
    for k in at:
        node = node[k]
    try:
        return model.model_validate(node)
    except ValidationError as exc:
        raise _input_error(exc, layers, at) from None


def validate(layers: Layers, model: type[BaseModel] = Scenario) -> Any:
    """Validate a merged tree; errors become one :class:`InputError`."""
    try:
        return model.model_validate(layers.tree)
    except ValidationError as exc:
        raise _input_error(exc, layers) from None


def _input_error(exc: ValidationError, layers: Layers, at: tuple[str, ...] = ()) -> InputError:
    """The first of pydantic's errors as one :class:`InputError`; ``at`` is the key path validated."""
    # an unknown key is the likeliest cause of a "missing" sibling (a misspelling), so say it first
    rank = {"extra_forbidden": 0, "missing": 2}
    errors = sorted(exc.errors(include_url=False), key=lambda e: rank.get(e["type"], 1))
    first = errors[0]
    loc = [*at, *_clean(first["loc"])]
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        missing = [
            e["loc"][-1]
            for e in errors
            if e["type"] == "missing" and [*at, *_clean(e["loc"])][:-1] == loc[:-1]
        ]
        close = difflib.get_close_matches(str(loc[-1]), [str(m) for m in missing], n=1)
        msg = (
            f"unknown key; did you mean {close[0]!r}?"
            if close
            else ("unknown key (not in the schema; check the spelling or see params/schema.json)")
        )
    elif first["type"] == "missing":
        msg = "missing key"
    elif first["type"] in _MESSAGES:
        msg = _MESSAGES[first["type"]]
    value = first.get("input", ...)
    if first["type"] in ("spec_number", "located"):  # found above the bad key: ctx names it
        loc = [*loc, *first["ctx"]["key"].split(".")]
        value = first["ctx"]["value"]
    more = len(errors) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    if isinstance(value, dict | list) or first["type"] == "missing":
        value = ...
    return InputError(
        msg, file=layers.source_of(loc), key=".".join(map(str, loc)) or None, value=value
    )


def _clean(loc: Iterable[Any]) -> list[Any]:
    """An error location without pydantic's union tags."""
    return [p for p in loc if not (isinstance(p, str) and p in _TAGS)]


_TAGS = {"point", "triangular", "uniform", "lognormal", "truncnormal", "Range", "Values"}


def check_evidence(
    scenario: BaseModel, known: set[str], layers: Layers | None = None, at: tuple[str, ...] = ()
) -> None:
    """Fail when a parameter cites an evidence id that ``data/evidence/facts.csv`` lacks.

    ``at`` is where ``scenario`` sits in ``layers`` (a part validated on its own).
    """
    for loc, ids in cited(scenario.model_dump(mode="python")):
        bad = [i for i in ids if i not in known]
        if bad:
            full = (*at, *loc)
            raise InputError(
                "cites evidence ids not in data/evidence/facts.csv",
                file=layers.source_of(full) if layers else None,
                key=".".join(full),
                value=bad,
            )


def cited(tree: Any, at: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], list[str]]]:
    """(key path of an ``evidence`` list, its ids) for every evidence list in a tree."""
    if isinstance(tree, dict):
        if isinstance(tree.get("evidence"), list):
            yield (*at, "evidence"), tree["evidence"]
        for k, v in tree.items():
            yield from cited(v, (*at, str(k)))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from cited(v, (*at, str(i)))


def load_scenario(
    *,
    stance: str | None = None,
    path: str | None = None,
    switching: str | None = None,
    overrides: Iterable[str] = (),
    params_dir: Path | None = None,
    base_file: Path | None = None,
    evidence_ids: set[str] | None,
    as_of: dt.date | None = None,
    refit: Refit | None = None,
    vintage: str | dt.date | None = None,
) -> Scenario:
    """Build, validate and evidence-check a scenario from the parameter files.

    Parameters
    ----------
    stance, path, switching
        Exactly one: a stance name (``params/stances/NAME.yaml``) held throughout, a
        stance path (``params/paths/NAME.yaml``), or a Markov chain over stances
        (``params/switching/NAME.yaml``).
    overrides
        ``KEY=VALUE`` strings, applied after the files.
    params_dir
        The parameter folder; by default the checkout's ``params/``.
    base_file
        A base file other than ``params_dir/base.yaml``.
    evidence_ids
        The known evidence ids; every cited id must be one. ``None`` skips the check
        (for callers that check citations themselves).
    as_of, refit
        Refit every ``from_estimate`` parameter on the evidence published by ``as_of``,
        with ``refit`` (see :data:`h200cast.scenario.layers.Refit`).
    vintage
        The vintage (a date, ``YYYY-MM-DD``); the latest when None.
    """
    layers = build_layers(
        stance=stance,
        path=path,
        switching=switching,
        overrides=overrides,
        params_dir=params_dir,
        base_file=base_file,
        as_of=as_of,
        refit=refit,
        vintage=vintage,
    )
    scenario: Scenario = validate(layers)
    if evidence_ids is not None:
        check_evidence(scenario, evidence_ids, layers)
        if path is not None:  # steps before a vintage's origin are replaced, yet must cite well
            f = _named_file(
                Path(params_dir) if params_dir else settings.params_dir(), "paths", path
            )
            alone = Layers()
            alone.merge(load_yaml(f), str(f), ("path",))
            check_evidence(
                _validate_at(alone, StancePath, ("path",)), evidence_ids, alone, ("path",)
            )
    return scenario


FileKind = Literal["base", "stance", "path", "switching"]


def file_kind(file: Path, data: Mapping[str, Any]) -> FileKind:
    """What kind of scenario file ``data`` (read from ``file``) is, judged by its keys."""
    if "transitions" in data:
        return "switching"
    if "steps" in data:
        return "path"
    if "substitution_push" in data or file.parent.name == "stances":
        return "stance"
    return "base"


def check_file(file: Path, data: dict[str, Any], evidence_ids: set[str]) -> FileKind:
    """Validate one scenario file (base, stance, path or switching chain) on its own."""
    file = Path(file)
    kind = file_kind(file, data)
    models: dict[FileKind, type[BaseModel]] = {
        "switching": Switching,
        "path": StancePath,
        "stance": Stance,
        "base": BaseParams,
    }
    model = models[kind]
    layers = Layers()
    layers.merge(data, str(file))
    if kind == "base":
        resolve_estimates(layers, _estimates_for(file))
    obj = validate(layers, model)
    if kind == "stance" and obj.name != file.stem:
        raise InputError(
            f"expected the name to match the file name {file.stem!r}",
            file=file,
            key="name",
            value=obj.name,
        )
    check_evidence(obj, evidence_ids, layers)
    return kind


def _estimates_for(base_file: Path) -> Path:
    """Where a base file's ``from_estimate`` entries are read: the latest vintage of its
    folder, or of the checkout's ``params/`` for a copy kept elsewhere."""
    for folder in (base_file.parent, settings.params_dir()):
        if (folder / "vintages").is_dir():
            return estimates_dir(folder, load_vintage(folder)[0])
    return settings.params_dir() / "vintages"  # none anywhere: the estimate is reported unknown


def check_estimate_file(file: Path, data: dict[str, Any], names: Iterable[str]) -> None:
    """An estimate written by ``h200cast estimate``: a valid spec for one of ``names``."""
    from pydantic import TypeAdapter

    names = list(names)
    if data.get("name") not in names or file.stem != data.get("name"):
        raise InputError(
            f"expected the name of an estimate matching the file name, one of: {', '.join(names)}",
            file=file,
            key="name",
            value=data.get("name"),
        )
    layers = Layers()
    layers.merge({"spec": data["spec"]}, str(file))
    try:
        TypeAdapter(StrictSpec).validate_python(data["spec"])
    except ValidationError as exc:
        raise _input_error(exc, layers, ("spec",)) from None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a resolved scenario (``params/schema.json``)."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://h200cast.invalid/params/schema.json"
    return schema
