"""Reading YAML files: safe, mapping at the top, duplicate keys refused, errors in one line.

Limits are checked on the parser's event stream before anything is built, so that a
hostile or broken file is refused quickly instead of hanging or exhausting memory:

* a file over :data:`MAX_BYTES`;
* nesting deeper than :data:`MAX_DEPTH` (mappings and lists inside each other);
* more than :data:`MAX_NODES` values once aliases are expanded (a "billion laughs" file
  defines a few anchors and multiplies them through aliases);
* text that is not UTF-8, or that holds a NUL byte or other control characters.

libyaml's C parser is used where PyYAML was built with it (about 6x faster than the
pure-Python loader on ``params/base.yaml``); the results are the same. A text already
parsed in this process is not parsed again (a scenario reads a dozen files, and the
explorer reloads its scenario at every change): the cache is keyed by the text itself,
so an edited file is always read afresh, and each caller gets its own copy.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

from h200cast.errors import InputError

MAX_BYTES = 1_000_000
"""The largest YAML file read: ``params/base.yaml`` is about 25 kB."""
MAX_DEPTH = 64
"""The deepest nesting of mappings and lists accepted (the parameter files nest 4 deep)."""
MAX_NODES = 200_000
"""The most values a file may hold once its aliases are expanded."""

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_Base):  # libyaml's loader where PyYAML has it
    """A safe loader that rejects duplicate keys instead of keeping the last."""


def _construct_mapping(loader: Any, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    mapping: dict[Any, Any] = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _check_shape(text: str, path: Path) -> None:
    """Refuse nesting over :data:`MAX_DEPTH` and expansions over :data:`MAX_NODES`, from the events."""
    sizes: dict[str, int] = {}  # anchor -> values in the node it names
    stack: list[list[Any]] = []  # open collections: [values so far, anchor]
    expanded = 0

    def add(n: int) -> None:
        nonlocal expanded
        expanded += n
        if stack:
            stack[-1][0] += n
        if expanded > MAX_NODES:
            raise InputError(
                f"expands to more than {MAX_NODES:,} values (aliases of aliases?); expected a "
                "parameter file, which holds a few hundred",
                file=path,
            )

    for ev in yaml.parse(text, Loader=_Base):
        if isinstance(ev, yaml.CollectionStartEvent):
            stack.append([0, ev.anchor])
            if len(stack) > MAX_DEPTH:
                line = ev.start_mark.line + 1 if ev.start_mark else "?"
                raise InputError(
                    f"line {line}: nested more than {MAX_DEPTH} levels deep; expected a "
                    "parameter file, which nests a few levels",
                    file=path,
                )
        elif isinstance(ev, yaml.CollectionEndEvent):
            n, anchor = stack.pop()
            if anchor:
                sizes[anchor] = n + 1
            add(1)
            if stack:
                stack[-1][0] += n
        elif isinstance(ev, yaml.ScalarEvent):
            if ev.anchor:
                sizes[ev.anchor] = 1
            add(1)
        elif isinstance(ev, yaml.AliasEvent):
            add(sizes.get(ev.anchor or "", 1))


def _read(path: Path) -> str:
    """The file's text, refusing a missing or unreadable file, a folder, a huge file or non-UTF-8."""
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise InputError("is a folder; expected a YAML file", file=path)
        if size > MAX_BYTES:
            raise InputError(
                f"is {size:,} bytes; expected a YAML file of at most {MAX_BYTES:,} bytes", file=path
            )
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"is not UTF-8 text (byte {exc.start}); expected a YAML file", file=path
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from None


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping (see the module's limits)."""
    path = Path(path)
    return copy.deepcopy(_parse(_read(path), path))


@functools.lru_cache(maxsize=128)
def _parse(text: str, path: Path) -> dict[str, Any]:
    """``text`` (read from ``path``) as a mapping; the same text is parsed once per process."""
    try:
        _check_shape(text, path)
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.reader.ReaderError as exc:  # a NUL byte or another control character
        line = text.count("\n", 0, exc.position) + 1
        raise InputError(
            f"malformed YAML: line {line}: {exc.reason} {exc.character!r}; expected text", file=path
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"malformed YAML: {where}{' '.join(problem.split())}", file=path) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise InputError(f"malformed YAML: {exc}", file=path) from None
    except RecursionError:
        raise InputError(
            f"nested too deeply; expected at most {MAX_DEPTH} levels", file=path
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            f"expected a mapping of keys at the top level, got {type(data).__name__}", file=path
        )
    return data
