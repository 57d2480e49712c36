"""Hostile and broken YAML files are refused in one line, before anything is built."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from h200cast.errors import InputError
from h200cast.io import yamlfile
from h200cast.io.yamlfile import MAX_BYTES, MAX_DEPTH, MAX_NODES, load_yaml

LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def _write(tmp_path: Path, data: str | bytes, name: str = "f.yaml") -> Path:
    f = tmp_path / name
    if isinstance(data, bytes):
        f.write_bytes(data)
    else:
        f.write_text(data, encoding="utf-8")
    return f


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (LAUGHS, f"more than {MAX_NODES:,} values"),
        ("a: " + "[" * (MAX_DEPTH + 1) + "1" + "]" * (MAX_DEPTH + 1) + "\n", "nested more than"),
        ("a: " + "1" * 5000 + "\n", "malformed YAML"),
        (b"a: 1\n\x00b: 2\n", "malformed YAML"),
        (b"\xff\xfe\x00a: 1\n", "is not UTF-8 text"),
        (bytes(range(256)) * 4, "is not UTF-8 text"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
        ("- 1\n- 2\n", "expected a mapping of keys at the top level, got list"),
        ("a: [1, 2\n", "malformed YAML: line"),
    ],
    ids=["billion-laughs", "deep", "huge-int", "nul", "utf16", "binary", "dup", "list", "unclosed"],
)
def test_bad_files_are_refused_with_the_file_named(
    tmp_path: Path, data: str | bytes, message: str
) -> None:
    f = _write(tmp_path, data)
    with pytest.raises(InputError, match=message) as err:
        load_yaml(f)  # a billion laughs is refused from its events, never expanded
    assert err.value.file == str(f)
    assert "\n" not in err.value.render()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    f = _write(tmp_path, "a: 1\n" + "# padding\n" * (MAX_BYTES // 10 + 1))
    with pytest.raises(InputError, match=f"at most {MAX_BYTES:,} bytes"):
        load_yaml(f)


def test_a_folder_or_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder"):
        load_yaml(tmp_path)
    with pytest.raises(InputError, match="file not found"):
        load_yaml(tmp_path / "nope.yaml")


def test_anchors_within_the_limits_still_work(tmp_path: Path) -> None:
    f = _write(tmp_path, "base: &b {low: 1, high: 2}\ncopy: *b\nlist: [*b, *b]\n")
    data = load_yaml(f)
    assert data["copy"] == {"low": 1, "high": 2} and data["list"] == [data["base"]] * 2


def test_the_expansion_count_follows_aliases_of_aliases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 3 anchors of 3 values each, multiplied twice: 1 + 4 + 1 + (4 * 3 + 1) * ... stays small
    monkeypatch.setattr(yamlfile, "MAX_NODES", 60)
    small = "a: &a [1, 2, 3]\nb: &b [*a, *a, *a]\n"  # 2 keys + a (4) + b (1 + 3 * 4) = 19 values
    assert load_yaml(_write(tmp_path, small))["b"][2] == [1, 2, 3]
    big = small + "c: [*b, *b, *b, *b]\n"  # + 1 + c (1 + 4 * 13) = 73 > 60
    with pytest.raises(InputError, match="more than 60 values"):
        load_yaml(_write(tmp_path, big, "big.yaml"))


def test_every_committed_parameter_file_reads_the_same_with_both_parsers() -> None:
    root = Path(__file__).resolve().parents[2] / "params"
    for f in sorted(root.rglob("*.yaml")):
        assert load_yaml(f) == yaml.load(f.read_text(encoding="utf-8"), Loader=yaml.SafeLoader), f
