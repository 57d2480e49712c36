"""A Vega-Lite spec as a self-contained HTML page, Vega bundled in, the bundle cached on disk.

``vl_convert.vegalite_to_html(..., bundle=True)`` bundles Vega, Vega-Lite and vega-embed
into the page, which costs about 1.3 s (1.6 s of CPU) the first time in each process: a
third of the what-if page, and the largest single step of a report's own process. The
bundle depends only on the installed vl-convert, so its page is made once per version
(with a placeholder spec) and kept in :func:`h200cast.settings.cache_dir`; a page is then
that template with the spec, as compact JSON, in place of the placeholder. It is
vl-convert's page but for how the spec's JSON spells a number (``1e-05`` for its
``0.00001``: the same value) and ``<``, written ``\u003c`` so that no string in the spec
can end the script or open a comment (``</script>``, ``<!--<script>``), which breaks
vl-convert's own page. The spec must be JSON: a NaN is refused (Altair's ``to_dict`` never
makes one), where vl-convert writes ``null``.

The cached file starts with the SHA-256 of the template it holds, which is checked before
it is used, against damage (a truncated or edited file is made again), not against a
deliberate change. Where the cache cannot be found or written (no home folder, read-only,
full), the page is made the slow way, and nothing fails. Making a template removes those
of other vl-convert versions from the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from h200cast.errors import InputError
from h200cast.io.atomic import atomic_write_text

PLACEHOLDER = {"description": "h200cast-bundle-placeholder-7d1c2b"}
"""The spec the cached template is made with: its JSON occurs once, where a spec goes."""

SPEC_AT = "const spec = "
"""What precedes the spec in vl-convert's page."""


def page(spec: Any) -> str:
    """The page ``vl_convert.vegalite_to_html(spec, bundle=True)`` makes, from the cached
    template (see the module's note for how the two may differ).

    ``spec`` is a Vega-Lite spec: a mapping, or its JSON text.
    """
    parsed = json.loads(spec) if isinstance(spec, str) else spec
    template = _template()
    if template is None:  # vl-convert's page changed its layout: the slow way, unchanged
        return _direct(parsed)
    return template.replace(_spec_json(PLACEHOLDER), _spec_json(parsed), 1)


def _spec_json(spec: Any) -> str:
    """A spec as its page's script holds it: compact JSON, not escaped to ASCII (as
    vl-convert writes it), with every ``<`` written ``\\u003c`` (the same string to
    JSON), so that none can end the script or start a comment in it."""
    text = json.dumps(spec, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c")


def _direct(spec: Any) -> str:
    import vl_convert as vlc

    doc: str = vlc.vegalite_to_html(spec, bundle=True)
    return doc


PREFIX = "vl-convert-"
SUFFIX = "-page.html"


def cache_file() -> Path:
    """Where this vl-convert's template is kept."""
    from importlib.metadata import version

    from h200cast import settings

    return settings.cache_dir() / f"{PREFIX}{version('vl-convert-python')}{SUFFIX}"


def _template() -> str | None:
    """The page of :data:`PLACEHOLDER`, from the cache or made (and cached); None when
    vl-convert's page does not hold the placeholder once, after :data:`SPEC_AT`."""
    try:
        file: Path | None = cache_file()
    except (RuntimeError, ImportError):  # no home folder; vl-convert not installed as a package
        file = None
    head, text = "", ""
    if file is not None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            head, _, text = file.read_text(encoding="utf-8").partition("\n")
    if head == _head(text) and _is_template(text):
        return text
    made = _direct(PLACEHOLDER)
    if not _is_template(made):
        return None
    if file is not None:
        with contextlib.suppress(InputError, OSError):  # unwritable: the next one bundles again
            atomic_write_text(file, _head(made) + "\n" + made)
            for old in file.parent.glob(f"{PREFIX}*{SUFFIX}"):
                if old != file and _ours(old):  # another version's: never read again
                    old.unlink()
    return made


def _ours(file: Path) -> bool:
    """Whether ``file`` is a template this module wrote (its first line a digest line), so
    that a file of the same name in a folder chosen with ``H200CAST_CACHE`` is left alone."""
    with file.open("rb") as fh:
        first = fh.readline(80)
    return re.fullmatch(rb"sha256 [0-9a-f]{64}\n", first) is not None


def _head(text: str) -> str:
    """The cached file's first line: the digest of the template that follows it."""
    return "sha256 " + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _is_template(text: str) -> bool:
    """Whether ``text`` holds the placeholder once, where vl-convert puts the spec."""
    marker = _spec_json(PLACEHOLDER)
    return text.count(marker) == 1 and SPEC_AT + marker in text
