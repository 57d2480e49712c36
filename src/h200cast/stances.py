"""Beijing's stances over time: from a stance path to monthly weights.

A path says which stance holds from which day. The model steps in months, so each
month gets the share of its days spent under each stance: January 2026 under the
reported path is partly ``necessity_only``, partly ``customs_ban`` and partly
``selective_approval``. A month's permitted volume is the day-weighted mix of what
each stance permits.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from h200cast.params import STANCES, StancePath


def add_months(month: str, n: int) -> str:
    """``YYYY-MM`` plus ``n`` months."""
    y, m = map(int, month.split("-"))
    k = y * 12 + (m - 1) + n
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def months_between(a: str, b: str) -> int:
    """Whole months from month ``a`` to month ``b`` (negative when b is earlier)."""
    ya, ma = map(int, a.split("-"))
    yb, mb = map(int, b.split("-"))
    return (yb - ya) * 12 + (mb - ma)


def month_labels(start: str, horizon: int) -> list[str]:
    """The ``YYYY-MM`` labels of the forecast months."""
    return [add_months(start, i) for i in range(horizon)]


def ordered(names: set[str] | list[str]) -> tuple[str, ...]:
    """Stance names in the canonical order, strictest first."""
    return tuple(s for s in STANCES if s in set(names))


def weights(path: StancePath, start: str, horizon: int, names: tuple[str, ...]) -> np.ndarray:
    """Share of each month's days under each stance, shape (months, len(names)).

    Rows sum to 1. Days before the first step count under the first step's stance
    (validation already requires the first step to start on or before the calendar).
    """
    w = np.zeros((horizon, len(names)))
    col = {n: i for i, n in enumerate(names)}
    steps = list(path.steps)
    for t, label in enumerate(month_labels(start, horizon)):
        first = dt.date.fromisoformat(label + "-01")
        nxt = dt.date.fromisoformat(add_months(label, 1) + "-01")
        days = (nxt - first).days
        for i, step in enumerate(steps):
            lo = max(step.start, first) if i else first
            hi = min(steps[i + 1].start, nxt) if i + 1 < len(steps) else nxt
            if hi > lo:
                w[t, col[step.stance]] += (hi - lo).days / days
    return w


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


def transition_matrices(sw, names: tuple[str, ...], steps: int) -> np.ndarray:
    """The chain's transition matrix for each step, shape (steps, stances, stances).

    Every step uses ``sw.transitions`` except the step into a decision point's month,
    which uses the decision's rows for the stances it lists. Stances outside the chain
    never occur; their rows are kept valid (they stay put).
    """
    col = {n: i for i, n in enumerate(names)}

    def fill(P: np.ndarray, rows) -> None:
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


def scenario_weights(
    scenario, names: tuple[str, ...], seed: int, draws: int, point: bool
) -> np.ndarray:
    """Share of each month under each stance, shape (1 or draws, months, stances).

    A stance path gives the same weights to every draw (first axis of length 1). A
    switching chain replaces the months from its start with each draw's sampled stance;
    a ``point`` run follows the median path (u = 0.5 every month).
    """
    from h200cast.sampling import stream

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
    u = np.full((n, steps), 0.5) if point else stream(seed, "event.switching").random((n, steps))
    states = chain_states(initial, transition, u)
    out = np.repeat(W, n, axis=0)
    out[:, k0:, :] = np.eye(len(names))[states]
    return out
