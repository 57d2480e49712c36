"""The what-if page's Vega bundle: made once per vl-convert version, kept, checked, and the
same page as vl-convert's own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from h200cast import settings
from h200cast.views import bundle

SPEC: dict[str, Any] = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "description": "a </script> in a title, <!--<script> too, é, and numbers: 1e-05 1e20",
    "data": {"values": [{"x": 1e-05, "y": 1e20, "z": 0.1, "w": 3.0, "n": None}]},
    "mark": "point",
    "encoding": {"x": {"field": "x", "type": "quantitative"}},
}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def _split(doc: str) -> tuple[str, Any, str]:
    """A page as (before the spec, the spec, after it)."""
    head, _, rest = doc.partition(bundle.SPEC_AT)
    spec, end = json.JSONDecoder().raw_decode(rest)
    return head, spec, rest[end:]


def test_the_page_is_vl_converts_with_the_spec_in_place(cache: Path) -> None:
    import vl_convert as vlc

    ours = bundle.page(SPEC)
    theirs = vlc.vegalite_to_html(SPEC, bundle=True)
    head, spec, tail = _split(ours)
    assert (head, spec, tail) == _split(theirs)
    assert spec == SPEC
    # no "<" in the spec's text, so that no string ends the script or opens a comment in
    # it; vl-convert leaves them as written, and its own page breaks
    rest = ours.split(bundle.SPEC_AT, 1)[1]
    assert "<" not in rest[: json.JSONDecoder().raw_decode(rest)[1]]
    assert ours.count("</script>") == theirs.count("</script>") - 1
    assert theirs.count("<!--<script>") == ours.count("<!--<script>") + 1
    assert bundle.page(json.dumps(SPEC)) == ours  # a spec's JSON text gives the same page


def test_the_template_is_made_once_then_read(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = bundle.page(SPEC)
    file = bundle.cache_file()
    assert file.parent == cache
    assert file.read_text(encoding="utf-8").startswith("sha256 ")

    def never(spec: Any) -> str:
        raise AssertionError("bundled again, with a template in the cache")

    monkeypatch.setattr(bundle, "_direct", never)
    assert bundle.page(SPEC) == first


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t[: len(t) // 2],  # truncated
        lambda t: t.replace("vegaEmbed", "vegaEmbeD", 1),  # edited, placeholder intact
        lambda t: "",  # empty
        lambda t: t.partition("\n")[2],  # no digest line
    ],
)
def test_a_damaged_template_is_made_again(cache: Path, damage: Any) -> None:
    good = bundle.page(SPEC)
    file = bundle.cache_file()
    kept = file.read_text(encoding="utf-8")
    file.write_text(damage(kept), encoding="utf-8")
    assert bundle.page(SPEC) == good
    assert file.read_text(encoding="utf-8") == kept


def test_an_unwritable_cache_costs_time_not_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(settings.CACHE_ENV, str(blocker / "cache"))
    doc = bundle.page(SPEC)
    assert _split(doc)[1] == SPEC
    assert blocker.read_text(encoding="utf-8") == "not a folder"
    assert list(tmp_path.iterdir()) == [blocker]


def test_a_page_without_the_placeholder_is_made_the_slow_way(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Any] = []

    def changed_layout(spec: Any) -> str:  # a vl-convert whose page no longer says `const spec =`
        made.append(spec)
        return f"<html><script>embed({json.dumps(spec)})</script></html>"

    monkeypatch.setattr(bundle, "_direct", changed_layout)
    assert bundle.page(SPEC) == changed_layout(SPEC)
    assert made[0] == bundle.PLACEHOLDER and SPEC in made
    assert not bundle.cache_file().exists()  # nothing kept that is not a template


def test_a_new_template_replaces_other_versions_and_nothing_else(cache: Path) -> None:
    cache.mkdir(parents=True)
    old = cache / f"{bundle.PREFIX}0.1.0{bundle.SUFFIX}"
    other = cache / "notes.txt"
    alike = cache / f"{bundle.PREFIX}mine{bundle.SUFFIX}"  # a user's file named like ours
    old.write_text("sha256 " + "0" * 64 + "\nan older vl-convert's template", encoding="utf-8")
    other.write_text("not ours", encoding="utf-8")
    alike.write_text("my own page", encoding="utf-8")
    bundle.page(SPEC)
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [bundle.cache_file().name, "notes.txt", alike.name]
    )
    assert alike.read_text(encoding="utf-8") == "my own page"


def test_without_a_home_folder_the_page_is_made_the_slow_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv(settings.CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert _split(bundle.page(SPEC))[1] == SPEC


def test_the_cache_folder_follows_its_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(settings.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert settings.cache_dir() == tmp_path / "xdg" / "h200cast"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert settings.cache_dir() == tmp_path / "home" / ".cache" / "h200cast"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # ignored, as the XDG spec says
    assert settings.cache_dir() == tmp_path / "home" / ".cache" / "h200cast"
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "mine"))
    assert settings.cache_dir() == tmp_path / "mine"
