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


def latin_hypercube(d: int, n: int, seed: int) -> np.ndarray:
    """``n`` points of a ``d``-dimensional Latin hypercube in [0, 1), shape (n, d).

    The points ``scipy.stats.qmc.LatinHypercube(d=d, seed=seed).random(n)`` gives (its
    default: centred nowhere, strength 1, no optimisation), bit for bit, without importing
    ``scipy.stats``, which takes longer than a sweep of 100,000 points spends on its design.
    """
    rng = np.random.default_rng(seed)
    jitter = rng.uniform(size=(n, d))
    strata = np.tile(np.arange(1, n + 1), (d, 1))
    for row in strata:
        rng.shuffle(row)
    return np.asarray((strata.T - jitter) / n)
