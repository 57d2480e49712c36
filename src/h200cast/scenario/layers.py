"""Merging parameter layers and applying ``--set`` overrides, remembering who set each key.

A scenario's tree is built from base, stance (or path, or switching chain) and
overrides, in that order. :class:`Layers` keeps, for every key, the file or flag that
set it last, so that a validation error can name the file to fix.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from h200cast.errors import InputError
from h200cast.io.yamlfile import load_yaml

Refit = Callable[[str, dt.date], dict[str, Any]]
"""Refits the estimate NAME on the evidence published by a date; returns its stored record."""


@dataclass
class Layers:
    """A merged parameter tree and, for each key, the file (or flag) that set it."""

    tree: dict[str, Any] = field(default_factory=dict)
    origin: dict[tuple[str, ...], str] = field(default_factory=dict)

    def merge(self, data: Mapping[str, Any], source: str, at: tuple[str, ...] = ()) -> None:
        """Merge ``data`` into the tree at key path ``at``.

        Mappings merge key by key, except a parameter spec carrying ``value`` or
        ``dist``: it replaces the spec below it whole, so that a triangular never keeps
        a stray ``mode`` when a layer above makes it uniform.
        """
        node = self.tree
        for k in at:
            node = node.setdefault(k, {})
        self._merge_into(node, data, source, at)

    def _merge_into(
        self, node: dict, data: Mapping[str, Any], source: str, at: tuple[str, ...]
    ) -> None:
        for key, value in data.items():
            key = str(key)
            here = (*at, key)
            if isinstance(value, dict) and isinstance(node.get(key), dict) and not _is_spec(value):
                self._merge_into(node[key], value, source, here)
            else:
                node[key] = _plain(value)
                self._forget_below(here)
                self._record(here, value, source)

    def _record(self, here: tuple[str, ...], value: Any, source: str) -> None:
        self.set_origin(here, source)
        if isinstance(value, dict):
            for k, v in value.items():
                self._record((*here, str(k)), v, source)

    def _forget_below(self, here: tuple[str, ...]) -> None:
        n = len(here)
        for k in [k for k in self.origin if len(k) > n and k[:n] == here]:
            del self.origin[k]

    def set_origin(self, key: tuple[str, ...], source: str) -> None:
        """Record that ``source`` set ``key`` last (``origin`` is kept in order of setting)."""
        self.origin.pop(key, None)
        self.origin[key] = source

    def source_of(self, loc: Iterable[Any]) -> str | None:
        """The file (or flag) most likely to blame for a problem at ``loc``.

        That is whichever layer set ``loc``, one of its parents or one of its children
        last: a ``--set`` on ``a.b.high`` is blamed for a bad ``a.b``, and a problem
        found at a group (``path``) is blamed on the file that filled it.
        """
        loc = tuple(str(x) for x in loc)
        n = len(loc)
        for key in reversed(self.origin):
            m = min(n, len(key))
            if key[:m] == loc[:m]:
                return self.origin[key]
        return None


def set_text(value: Any) -> str:
    """A value as ``--set KEY=VALUE`` reads it (YAML): ``None`` is ``null``, not ``None``.

    Strings pass as they are; dates as ISO dates; numbers, booleans and lists as JSON, which
    YAML reads back as the same values (numpy scalars as their Python values).
    """
    import json

    if isinstance(value, str):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(value.item() if hasattr(value, "item") else value)


def _is_spec(d: Mapping[str, Any]) -> bool:
    return "value" in d or "dist" in d or "from_estimate" in d


def resolve_estimates(
    layers: Layers,
    estimates: Path,
    as_of: dt.date | None = None,
    refit: Refit | None = None,
) -> None:
    """Replace every ``{from_estimate: NAME}`` by the fitted distribution.

    Without ``as_of`` the fit stored by ``h200cast estimate`` in ``estimates/NAME.yaml``
    (a vintage's, ``params/vintages/DATE/estimates/``) is read (no refitting, no statsmodels import); with
    ``as_of`` the estimate is refitted on the rows published by that date by ``refit``,
    which the caller hands in (this layer does not import the estimation code).
    """
    if as_of is not None and refit is None:
        raise ValueError("an as-of scenario needs a refit function")
    for loc, node in list(_estimate_nodes(layers.tree)):
        key = ".".join(loc)
        name = node["from_estimate"]
        source = layers.source_of(loc)
        extra = sorted(set(node) - {"from_estimate", "note"})
        if extra:
            raise InputError(
                f"a from_estimate parameter takes only `note` besides, got {extra}",
                file=source,
                key=key,
            )
        if as_of is not None and refit is not None:
            stored, where = refit(str(name), as_of), f"estimate {name} as of {as_of}"
        else:
            f = Path(estimates) / f"{name}.yaml"
            if not f.is_file():
                known = ", ".join(sorted(x.stem for x in f.parent.glob("*.yaml"))) or "(none)"
                raise InputError(
                    f"unknown estimate; expected one of: {known} (or run `h200cast estimate`)",
                    file=source,
                    key=key,
                    value=name,
                )
            stored, where = load_yaml(f), str(f)
        if stored.get("target") != key:
            raise InputError(
                f"estimate {name!r} is fitted for {stored.get('target')!r}, not this parameter",
                file=source,
                key=key,
                value=name,
            )
        spec = dict(stored["spec"])
        if node.get("note"):
            spec["note"] = f"{spec.get('note', '')}; {node['note']}".strip("; ")
        _set_at(layers.tree, loc, spec)
        layers._forget_below(loc)
        layers._record(loc, spec, where)


def _estimate_nodes(tree: Any, at: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], dict]]:
    if isinstance(tree, dict):
        if "from_estimate" in tree:
            yield at, tree
            return
        for k, v in tree.items():
            yield from _estimate_nodes(v, (*at, str(k)))


def _set_at(tree: dict, loc: tuple[str, ...], value: Any) -> None:
    node = tree
    for k in loc[:-1]:
        node = node[k]
    node[loc[-1]] = value


def _plain(value: Any) -> Any:
    """A deep copy of YAML data as plain dicts and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """Split ``a.b.c=VALUE`` into its key path and the value read as a YAML scalar."""
    key, sep, raw = text.partition("=")
    keys = tuple(key.strip().split("."))
    if not sep or not key.strip() or any(not k for k in keys):
        raise InputError(
            "expected KEY=VALUE with a dotted KEY, e.g. money.price_usd.value=30000",
            key="--set",
            value=text,
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        raise InputError("the value is not a YAML scalar", key=key, value=raw) from None
    if isinstance(value, dict | list):
        raise InputError(
            "expected a scalar value (number, string, true/false or null)", key=key, value=raw
        )
    if isinstance(value, str) and _NUMBER.match(raw.strip()):
        value = float(value)  # YAML 1.1 reads 2.5e6 (no sign in the exponent) as a string
    return keys, value


_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


_SPEC_FIELDS = {
    "value",
    "dist",
    "low",
    "mode",
    "high",
    "mean",
    "sd",
    "unit",
    "evidence",
    "assumption",
    "note",
}


def apply_override(layers: Layers, keys: tuple[str, ...], value: Any) -> None:
    """Apply one ``--set`` to the merged tree.

    The key must already exist in the tree, except a field of a parameter spec (``mode``,
    ``value`` ...). A scalar set on a whole parameter (``--set money.price_usd=30000``)
    makes it a point value that keeps its unit and evidence.
    """
    dotted = ".".join(keys)
    node: Any = layers.tree
    for i, k in enumerate(keys[:-1]):
        if not isinstance(node, dict) or k not in node:
            raise InputError(_unknown(keys[: i + 1], node), key=dotted, file="--set")
        node = node[k]
    last = keys[-1]
    if not isinstance(node, dict):
        raise InputError(
            f"{'.'.join(keys[:-1])} is a value, not a group of keys", key=dotted, file="--set"
        )
    target = node.get(last)
    if isinstance(target, dict) and _is_spec(target):
        point = {k: target[k] for k in ("unit", "evidence", "assumption", "note") if k in target}
        point["value"] = value
        node[last] = point
        layers.set_origin(keys, "--set")
    elif last in node or (_is_spec(node) and last in _SPEC_FIELDS):
        if _is_spec(node) and last in ("low", "mode", "high", "mean", "sd") and "value" in node:
            raise InputError(
                f"{'.'.join(keys[:-1])} is a point value; set it with {'.'.join(keys[:-1])}=X",
                key=dotted,
                file="--set",
            )
        node[last] = value
        layers.set_origin(keys, "--set")
    else:
        raise InputError(_unknown(keys, node), key=dotted, file="--set")


def _unknown(keys: tuple[str, ...], node: Any) -> str:
    known = sorted(node) if isinstance(node, dict) else []
    shown = ", ".join(known[:20]) + (" ..." if len(known) > 20 else "")
    return f"unknown key {keys[-1]!r}; expected one of: {shown}"


def flatten(tree: Mapping[str, Any], at: tuple[str, ...] = ()) -> Iterable[tuple[str, Any]]:
    """(dotted key, leaf) pairs; a parameter spec counts as one leaf."""
    for k, v in tree.items():
        here = (*at, str(k))
        if isinstance(v, dict) and not _is_spec(v):
            yield from flatten(v, here)
        else:
            yield ".".join(here), v
