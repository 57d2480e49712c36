"""The engine against a numpy probe of the same elementwise passes over arrays of the same size.

The engine's work is numpy's: elementwise operations over arrays of draws (and of draws x
months). :func:`count` runs the engine once on arrays that count every numpy operation
applied to them (ufuncs, reductions and array functions such as ``where``): how many, and
how many elements they produced. :func:`probe_seconds` then times that many passes of one
multiply into a preallocated array, over arrays of the mean size: the floor for that much
numpy work, with no Python in between. The ratio of the engine's steady-state time to the
probe's says how far the engine is from the machine's floor for the work it does.

That first probe both counts work that is none and misses work that is done: a view
(``broadcast_to``, ``empty_like``) counts as a pass over every element it shows, and the
copies into arrays that are not counted (the stored series the loop writes, their copy
into draw order at the end, a slice assigned) count not at all. :func:`passes` counts
every pass at its own size, as a computing pass (a ufunc, a reduction, ``where``) or a
copy (an assignment, ``copyto``, ``ascontiguousarray``, ``concatenate``, a fill), and no
view; :func:`matched_seconds` times each as one multiply or one copy of that size.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, ClassVar

import numpy as np

VIEWS = frozenset({"broadcast_to", "empty_like", "transpose", "reshape", "ravel", "squeeze"})
"""Array functions that make a view or an empty array: no elementwise work."""
COPIES = frozenset(
    {
        "copyto",
        "ascontiguousarray",
        "concatenate",
        "stack",
        "copy",
        "setitem",
        "zeros_like",
        "ones_like",
        "full_like",
    }
)
"""Operations whose work is a copy (or a fill): probed as one copy of their size."""


class Counted(np.ndarray):
    """An array that counts the numpy operations applied to it and keeps their results counted."""

    calls: ClassVar[int] = 0
    elements: ClassVar[int] = 0
    kinds: ClassVar[Counter[str]] = Counter()
    by_size: ClassVar[Counter[tuple[str, int]]] = Counter()  # ("pass" or "copy", size) -> passes

    @classmethod
    def reset(cls) -> None:
        cls.calls, cls.elements, cls.kinds, cls.by_size = 0, 0, Counter(), Counter()

    def __setitem__(self, key: Any, value: Any) -> None:
        target = self.view(np.ndarray)
        target[key] = self._plain(value)
        Counted.by_size["copy", int(np.asarray(target[key]).size)] += 1

    def copy(self, order: Any = "C") -> Any:
        Counted.by_size["copy", int(self.size)] += 1
        return self.view(np.ndarray).copy(order).view(Counted)

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
        base = name.split(".")[0]
        if base not in VIEWS:
            Counted.by_size["copy" if base in COPIES else "pass", int(size)] += 1
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

    drawn = sample(scenario, draws, seed).values
    values: dict[str, np.ndarray] = {k: v.view(Counted) for k, v in drawn.items()}
    Counted.reset()
    simulate_values(scenario, values, seed)
    return Counted.calls, Counted.elements, Counted.kinds


class _CountedArrays:
    """numpy for the engine's module while :func:`passes` runs: the arrays it makes empty
    (its stored series, its scratch rows) are counted, so that what is written into them
    (an assignment, their copy into draw order) is too."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def empty(self, *args: Any, **kwargs: Any) -> Any:
        return self._real.empty(*args, **kwargs).view(Counted)

    def zeros(self, *args: Any, **kwargs: Any) -> Any:
        return _filled(self._real.zeros(*args, **kwargs))

    def ones(self, *args: Any, **kwargs: Any) -> Any:
        return _filled(self._real.ones(*args, **kwargs))

    def ascontiguousarray(self, a: Any, *args: Any, **kwargs: Any) -> Any:
        # not dispatched to Counted by numpy (only its like= is): the copy into draw order
        plain = Counted._plain(a)
        out = self._real.ascontiguousarray(plain, *args, **kwargs)
        if not (isinstance(plain, np.ndarray) and np.shares_memory(out, plain)):
            Counted.by_size["copy", int(out.size)] += 1
        return out.view(Counted)


def _filled(out: np.ndarray) -> Any:
    """A new array the engine fills (``zeros``, ``ones``): one copy pass of its size, counted."""
    Counted.by_size["copy", int(out.size)] += 1
    return out.view(Counted)


def passes(scenario: Any, draws: int, seed: int = 1) -> Counter[tuple[str, int]]:
    """Every elementwise pass one engine run makes: ``("pass" or "copy", size) -> count``."""
    return counted_run(scenario, draws, seed)[0]


def counted_run(scenario: Any, draws: int, seed: int = 1) -> tuple[Counter[tuple[str, int]], Any]:
    """:func:`passes`, and the paths of the run it counted (the engine's numbers, counted)."""
    import h200cast.engine.model as model

    drawn = model.sample(scenario, draws, seed).values
    values: dict[str, np.ndarray] = {k: v.view(Counted) for k, v in drawn.items()}
    Counted.reset()
    real, model.np = model.np, _CountedArrays(model.np)  # type: ignore[assignment]
    try:
        paths = model.simulate_values(scenario, values, seed)
    finally:
        model.np = real
    return Counted.by_size.copy(), paths


def matched_seconds(by_size: Counter[tuple[str, int]], repeat: int = 3) -> float:
    """Best time of the passes of :func:`passes`, each a multiply (a computing pass) or a copy
    into a preallocated array of its own size."""
    rng = np.random.default_rng(0)
    arrays = {n: rng.random((3, n)) for n in {n for _, n in by_size}}
    best = float("inf")
    for _ in range(repeat):
        total = 0.0
        for (kind, n), times in by_size.items():
            a, b, c = arrays[n]
            t = time.perf_counter()
            if kind == "copy":
                for _ in range(times):
                    np.copyto(c, a)
            else:
                for _ in range(times):
                    np.multiply(a, b, out=c)
            total += time.perf_counter() - t
        best = min(best, total)
    return best


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
