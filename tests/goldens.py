"""Comparing fresh output with committed goldens, portably.

Floating-point results can differ in their last bits between CPUs (numpy picks SIMD
kernels at run time: AVX-512, AVX2 or the baseline, NEON on arm64), so a chart made on
one machine can differ from the same chart made on another only in digits such as
``h69.99999999999997`` against ``h70.00000000000009``. Byte-identical output is the promise
on one machine (same inputs and seed; ``test_notebooks.py`` keeps it); a comparison with
goldens made elsewhere uses this module instead.

A text (an SVG, a printed table, markdown) is split into its numbers and the text between
them. The text must be the same; each pair of numbers must agree within ``REL`` relative
or ``ABS`` absolute (``math.isclose``). In SVG that covers path data, attributes and
labels alike: coordinates are pixels, so 1e-6 is far below anything visible and far above
last-bit noise (about 1e-13 here), while any real change to a chart moves some number by
much more.
"""

from __future__ import annotations

import math
import re
from typing import Any

REL = 1e-6
"""Relative tolerance for each number in an output."""
ABS = 1e-6
"""Absolute tolerance, for numbers near zero (a coordinate printed as 0 or -1.4e-14)."""

NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
"""A decimal number as Python, Vega and pandas print them (sign, point, exponent)."""


def split_numbers(text: str) -> tuple[list[str], list[float]]:
    """The text between the numbers (one more part than numbers) and the numbers."""
    parts = NUMBER.split(text)
    return parts, [float(m) for m in NUMBER.findall(text)]


def close(a: float, b: float, rel: float = REL, abs_: float = ABS) -> bool:
    """``a`` and ``b`` agree within the stated tolerance (NaN agrees with NaN)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def _excerpt(text: str, at: int) -> str:
    return repr(text[max(0, at - 30) : at + 30])


def text_differences(
    expected: str, actual: str, rel: float = REL, abs_: float = ABS, limit: int = 3
) -> list[str]:
    """How ``actual`` differs from ``expected`` beyond the tolerance (empty if it does not)."""
    if expected == actual:
        return []
    e_parts, e_nums = split_numbers(expected)
    a_parts, a_nums = split_numbers(actual)
    if e_parts != a_parts:  # the text between the numbers differs (or their count)
        j = next(
            (j for j, (x, y) in enumerate(zip(e_parts, a_parts, strict=False)) if x != y),
            min(len(e_parts), len(a_parts)) - 1,
        )
        return [
            f"the text after {j} numbers differs: {e_parts[j][:60]!r} != {a_parts[j][:60]!r}"
            + ("" if len(e_nums) == len(a_nums) else f" ({len(e_nums)} numbers != {len(a_nums)})")
        ]
    out = []
    for i, (m, y) in enumerate(zip(NUMBER.finditer(expected), a_nums, strict=True)):
        if not close(float(m.group()), y, rel, abs_):
            out.append(f"number {i} ({_excerpt(expected, m.start())}): {m.group()} != {y!r}")
            if len(out) == limit:
                break
    return out


def differences(
    expected: Any, actual: Any, where: str = "", rel: float = REL, abs_: float = ABS
) -> list[str]:
    """How ``actual`` differs from ``expected`` beyond the tolerance, for nested JSON-like values.

    Dicts need the same keys, lists the same length, strings are compared by
    :func:`text_differences`, numbers by :func:`close`, anything else exactly.
    """
    here = where or "the value"
    if isinstance(expected, str) and isinstance(actual, str):
        return [f"{here}: {d}" for d in text_differences(expected, actual, rel, abs_)]
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            return [f"{here}: keys {sorted(expected)} != {sorted(actual)}"]
        return [
            d
            for k in expected
            for d in differences(expected[k], actual[k], f"{where}[{k!r}]", rel, abs_)
        ]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{here}: {len(expected)} items != {len(actual)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(expected, actual, strict=True))
            for d in differences(x, y, f"{where}[{i}]", rel, abs_)
        ]
    numbers = (int, float)
    if (
        isinstance(expected, numbers)
        and isinstance(actual, numbers)
        and not isinstance(expected, bool)
        and not isinstance(actual, bool)
    ):
        return [] if close(expected, actual, rel, abs_) else [f"{here}: {expected!r} != {actual!r}"]
    same = type(expected) is type(actual) and expected == actual
    return [] if same else [f"{here}: {expected!r} != {actual!r}"]


def tolerance_used(expected: str, actual: str, rel: float = REL, abs_: float = ABS) -> float:
    """The largest difference between paired numbers of two texts, as a share of the tolerance.

    At most 1 where :func:`text_differences` finds nothing; ``inf`` if the numbers do not pair.
    """
    _, e = split_numbers(expected)
    _, a = split_numbers(actual)
    if len(e) != len(a):
        return math.inf
    return max(
        (
            abs(x - y) / max(rel * max(abs(x), abs(y)), abs_)
            for x, y in zip(e, a, strict=True)
            if x != y
        ),
        default=0.0,
    )
