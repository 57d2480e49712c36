"""Uniform draws for Monte Carlo sampling, one independent stream per parameter.

Each parameter draws its uniforms from its own stream, seeded by the run's seed and
the parameter's name. This gives three properties the suite relies on:

* the same seed gives the same numbers, byte for byte;
* adding or removing a parameter leaves every other parameter's draws unchanged;
* two stances share the draws of every input they have in common (common random
  numbers), so stance comparisons see the same world with a different policy.

With ``method="lhs"`` each stream is a Latin hypercube column: one uniform in each
of the n equal strata, in random order; the columns are permuted independently,
which is what makes the whole a Latin hypercube sample.
"""

from __future__ import annotations

import zlib
from typing import Literal

import numpy as np

Method = Literal["lhs", "random"]


def stream(seed: int, key: str) -> np.random.Generator:
    """A generator seeded by ``seed`` and the name ``key``."""
    return np.random.default_rng([int(seed), zlib.crc32(key.encode("utf-8"))])


def uniforms(seed: int, key: str, n: int, method: Method = "lhs") -> np.ndarray:
    """``n`` uniforms in (0, 1) for the parameter named ``key``.

    Parameters
    ----------
    seed
        The run's seed.
    key
        The parameter's stable name (its dotted key, with any stance name removed).
    n
        Number of draws.
    method
        ``"lhs"`` for a Latin hypercube column, ``"random"`` for plain draws.
    """
    rng = stream(seed, key)
    if method == "lhs":
        u = (rng.permutation(n) + rng.random(n)) / n
    elif method == "random":
        u = rng.random(n)
    else:  # pragma: no cover - guarded by the schema
        raise ValueError(f"unknown sampling method {method!r}")
    # keep strictly inside (0, 1) so quantile functions stay finite
    return np.clip(u, 1e-12, 1.0 - 1e-12)
