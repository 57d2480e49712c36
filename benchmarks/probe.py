"""The engine against a numpy probe of the same elementwise passes over arrays of the same size.

The engine's work is numpy's: elementwise operations over arrays of draws (and of draws x
months). :func:`count` runs the engine once on arrays that count every numpy operation
applied to them (ufuncs, reductions and array functions such as ``where``): how many, and
how many elements they produced. :func:`probe_seconds` then times that many passes of one
multiply into a preallocated array, over arrays of the mean size: the floor for that much
numpy work, with no Python in between. The ratio of the engine's steady-state time to the
probe's says how far the engine is from the machine's floor for the work it does.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, ClassVar

import numpy as np


class Counted(np.ndarray):
    """An array that counts the numpy operations applied to it and keeps their results counted."""

    calls: ClassVar[int] = 0
    elements: ClassVar[int] = 0
    kinds: ClassVar[Counter[str]] = Counter()

    @classmethod
    def reset(cls) -> None:
        cls.calls, cls.elements, cls.kinds = 0, 0, Counter()

    @staticmethod
    def _plain(x: Any) -> Any:
        if isinstance(x, Counted):
            return x.view(np.ndarray)
        if isinstance(x, (list, tuple)):
            return type(x)(Counted._plain(y) for y in x)
        return x

    @staticmethod
    def _count(name: str, res: Any, inputs: Any) -> Any:
        outs = res if isinstance(res, tuple) else (res,)
        size = max(
            [getattr(x, "size", 1) for x in (*outs, *inputs) if isinstance(x, np.ndarray)] or [1]
        )
        Counted.calls += 1
        Counted.elements += int(size)
        Counted.kinds[name] += 1
        wrap = lambda r: r.view(Counted) if type(r) is np.ndarray else r  # noqa: E731
        return tuple(map(wrap, res)) if isinstance(res, tuple) else wrap(res)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kw: Any) -> Any:
        kw = {k: self._plain(v) for k, v in kw.items()}  # out=, where=
        res = getattr(ufunc, method)(*self._plain(inputs), **kw)
        return self._count(f"{ufunc.__name__}.{method}", res, inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        res = func(*self._plain(args), **{k: self._plain(v) for k, v in kwargs.items()})
        return self._count(func.__name__, res, args)


def count(scenario: Any, draws: int, seed: int = 1) -> tuple[int, int, Counter[str]]:
    """The numpy operations one engine run makes: (calls, elements produced, calls by kind)."""
    from h200cast.engine.model import sample, simulate_values

    values = {k: v.view(Counted) for k, v in sample(scenario, draws, seed).values.items()}
    Counted.reset()
    simulate_values(scenario, values, seed)
    return Counted.calls, Counted.elements, Counted.kinds


def probe_seconds(calls: int, elements: int, repeat: int = 3) -> float:
    """Best time of ``calls`` multiplies over arrays of ``elements / calls`` values each."""
    n = max(1, elements // max(calls, 1))
    a, b, c = np.random.default_rng(0).random((3, n))
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(calls):
            np.multiply(a, b, out=c)
        best = min(best, time.perf_counter() - t)
    return best
