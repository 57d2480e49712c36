"""Beijing's future stance sampled per draw: a switching chain as monthly stance weights.

A stance path (:mod:`h200cast.scenario.calendar`) gives every draw the same weights;
a switching chain replaces the months from its start with each draw's sampled stance,
drawn from its own sampling stream so that stances share common random numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from h200cast.engine.sampling import stream
from h200cast.scenario.calendar import months_between, weights
from h200cast.scenario.schema import DecisionRow, StanceName, Switching, Transition


def chain_states(initial: np.ndarray, transition: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Sample stance sequences from a Markov chain, one per row of ``u``.

    Parameters
    ----------
    initial
        Probabilities of each stance in the first month, shape (stances,).
    transition
        ``transition[i, j]``: probability of stance j next month given stance i; or, for a
        chain that is not time-homogeneous, shape (months, stances, stances) with
        ``transition[k]`` used for the step into month ``k`` (``transition[0]`` unused).
    u
        Uniforms of shape (draws, months), one per draw and month.

    Returns
    -------
    numpy.ndarray
        Stance indices, shape (draws, months).
    """

    def cdf(p: np.ndarray) -> np.ndarray:
        c = np.cumsum(p, axis=-1)
        c = c / c[..., -1:]
        c[..., -1] = 1.0  # a trailing zero-probability stance is never chosen
        return c

    c0, cp = cdf(initial), cdf(transition)
    states = np.empty(u.shape, dtype=np.int64)
    states[:, 0] = (u[:, :1] > c0[None, :]).sum(axis=1)
    for k in range(1, u.shape[1]):
        ck = cp[k] if cp.ndim == 3 else cp
        states[:, k] = (u[:, k : k + 1] > ck[states[:, k - 1]]).sum(axis=1)
    return states


def transition_matrices(sw: Switching, names: tuple[str, ...], steps: int) -> np.ndarray:
    """The chain's transition matrix for each step, shape (steps, stances, stances).

    Every step uses ``sw.transitions`` except the step into a decision point's month,
    which uses the decision's rows for the stances it lists. Stances outside the chain
    never occur; their rows are kept valid (they stay put).
    """
    col = {n: i for i, n in enumerate(names)}

    def fill(
        P: np.ndarray, rows: Mapping[StanceName, Transition] | Mapping[StanceName, DecisionRow]
    ) -> None:
        for n, row in rows.items():
            P[col[n]] = 0.0
            for m, p in row.to.items():
                P[col[n], col[m]] = p

    base = np.eye(len(names))
    fill(base, sw.transitions)
    out = np.repeat(base[None], steps, axis=0)
    start = sw.start.isoformat()[:7]
    for dp in sw.decision_points:
        k = months_between(start, dp.month)
        if 0 < k < steps:
            fill(out[k], dp.transitions)
    return out


def switching_stream(seed: int) -> np.random.Generator:
    """The stream of a switching chain's monthly uniforms."""
    return stream(seed, "event.switching")


def scenario_weights(
    scenario: Any,
    names: tuple[str, ...],
    seed: int,
    draws: int,
    point: bool,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Share of each month under each stance, shape (1 or draws, months, stances).

    A stance path gives the same weights to every draw (first axis of length 1). A
    switching chain replaces the months from its start with each draw's sampled stance;
    a ``point`` run follows the median path (u = 0.5 every month). A chain's uniforms
    come row by row (draw by draw) from the stream ``event.switching``, or from ``rng``
    when given: consecutive blocks of draws that share one ``rng`` get the rows one call
    for all of them would (see :func:`h200cast.engine.model.simulate_chunks`).
    """
    cal = scenario.calendar
    T = cal.horizon_months
    W = weights(scenario.path, cal.start, T, names)[None, :, :]
    sw = scenario.switching
    if sw is None:
        return W
    k0 = months_between(cal.start, sw.start.isoformat()[:7])
    steps = T - k0
    if steps <= 0:
        return W
    col = {n: i for i, n in enumerate(names)}
    initial = np.zeros(len(names))
    for n, p in sw.initial.items():
        initial[col[n]] = p
    transition = transition_matrices(sw, names, steps)
    n = 1 if point else draws
    if point:
        u = np.full((n, steps), 0.5)
    else:
        u = (rng if rng is not None else switching_stream(seed)).random((n, steps))
    states = chain_states(initial, transition, u)
    out = np.repeat(W, n, axis=0)
    out[:, k0:, :] = np.eye(len(names))[states]
    return out
