"""The portable comparison with goldens (``goldens.py``): last-bit noise passes, real changes fail."""

from __future__ import annotations

import math

import nbformat
import numpy as np
import pytest
from goldens import NUMBER, close, differences, split_numbers, text_differences, tolerance_used
from support import ROOT


@pytest.mark.parametrize(
    ("committed", "fresh"),
    [
        # the two differences from issue 13: 06_sensitivity.ipynb on an AMD EPYC without AVX-512
        (
            '<path d="M0.5,0.5h69.99999999999997v20h-69.99999999999997Z"/>',
            '<path d="M0.5,0.5h70.00000000000009v20h-70.00000000000009Z"/>',
        ),
        ('<rect x="32.10337413946433" y="3"/>', '<rect x="32.103374139464336" y="3"/>'),
        ("translate(0.5,-1.4210854715202004e-14)", "translate(0.5,0)"),  # near zero: absolute
        ("width -0 and 0", "width 0 and -0"),
        ("3683.8 [2163.3-7883.8]", "3683.8 [2163.3-7883.8]"),
    ],
)
def test_last_bit_differences_compare_equal(committed: str, fresh: str) -> None:
    assert text_differences(committed, fresh) == []
    assert differences({"image/svg+xml": committed}, {"image/svg+xml": fresh}) == []


@pytest.mark.parametrize(
    ("committed", "fresh", "words"),
    [
        ('<path d="M0.5,0.5h70v20"/>', '<path d="M0.5,0.5h71v20"/>', "70 != 71.0"),
        ("h70.00000000000009", "h70.0001", "70.00000000000009 != 70.0001"),  # 1.4e-6 relative
        ("x=-70", "x=70", "-70 != 70.0"),
        ("swing 5.8 $ billion", "swing 5.9 $ billion", "5.8 != 5.9"),
        ("translate(0.5,0)", "translate(0.5,2e-6)", "0 != 2e-06"),
        ('<path d="M0,0h70"/>', '<path d="M0,0v70"/>', "text after 2 numbers differs"),
        ('<path d="M0,0h70"/>', '<path d="M0,0h70h5"/>', "3 numbers != 4"),
        ("customs_ban 3.6", "open_market 3.6", "text after 0 numbers differs"),
    ],
)
def test_real_changes_do_not(committed: str, fresh: str, words: str) -> None:
    found = text_differences(committed, fresh)
    assert len(found) == 1 and words in found[0], found


def test_numbers_are_split_as_python_and_vega_print_them() -> None:
    parts, numbers = split_numbers("M-1.5e-07,2h.5v3E+2 id=clip12 #4c78a8")
    assert numbers == [-1.5e-07, 2.0, 0.5, 300.0, 12.0, 4.0, 78.0, 8.0]
    assert parts == ["M", ",", "h", "v", " id=clip", " #", "c", "a", ""]
    assert NUMBER.fullmatch("70.00000000000009") and NUMBER.fullmatch("1e-16")


def test_the_tolerance_is_stated_and_tight() -> None:
    assert close(70.0, 70.00005) is True and close(70.0, 70.0001) is False  # 1e-6 of 70: 7e-5
    assert close(70.0, math.nextafter(70.0, 100)) is True
    assert close(1e9, 1e9 + 999) is True and close(1e9, 1e9 + 1001) is False  # rel 1e-6
    assert close(0.0, 9e-7) is True and close(0.0, 2e-6) is False  # abs 1e-6 near zero
    assert close(math.nan, math.nan) is True and close(math.nan, 0.0) is False


def test_nested_outputs_say_where_they_differ() -> None:
    a = [[{"output_type": "stream", "text": "p50 5.6"}], [{"data": {"image/svg+xml": "h70"}}]]
    b = [[{"output_type": "stream", "text": "p50 5.6"}], [{"data": {"image/svg+xml": "h71"}}]]
    (d,) = differences(a, b)
    assert d.startswith("[1][0]['data']['image/svg+xml']: number 0")
    assert differences(a, a[:1]) == ["the value: 2 items != 1"]
    assert differences({"a": 1}, {"b": 1}) == ["the value: keys ['a'] != ['b']"]
    assert differences({"n": 3}, {"n": 3.0000000001}) == []  # numbers outside strings too
    assert differences({"n": True}, {"n": 1}) != []  # a bool is not a number here


def test_a_committed_chart_survives_last_bit_noise_but_not_a_moved_mark() -> None:
    nb = nbformat.read(ROOT / "notebooks" / "06_sensitivity.ipynb", 4)
    svg = next(
        o.data["image/svg+xml"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "image/svg+xml" in o.get("data", {})
    )
    parts, numbers = split_numbers(svg)
    rng = np.random.default_rng(0)
    ulps = rng.integers(-8, 9, len(numbers))  # each number moved by up to 8 units in the last place

    def rebuilt(values: list[float]) -> str:
        return parts[0] + "".join(repr(v) + p for v, p in zip(values, parts[1:], strict=True))

    noisy = [float(x + u * np.spacing(x)) for x, u in zip(numbers, ulps, strict=True)]
    assert text_differences(svg, rebuilt(noisy)) == []
    assert 0 < tolerance_used(svg, rebuilt(noisy)) < 1e-6  # noise is far inside it
    moved = list(numbers)
    moved[len(moved) // 2] += 1.0  # one coordinate one pixel away
    assert len(text_differences(svg, rebuilt(moved))) == 1
    assert tolerance_used(svg, rebuilt(moved)) > 1
