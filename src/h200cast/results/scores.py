"""Proper scores of a forecast's draws against what was observed after it (issue 11, point 4).

Pure functions over numpy arrays, the core of a scorecard; reading runs and observations
and printing are the CLI's and the report's. Every score here is negatively oriented
(lower is better) except the PIT, which is a calibration diagnostic, not a score.

* :func:`crps_sample`: the continuous ranked probability score of a sample,
  ``E|X - y| - E|X - X'| / 2``, exact for the empirical distribution of the draws
  (optionally the "fair" variant, unbiased for the distribution the draws come from).
* :func:`pit`: the randomized probability integral transform, uniform for a calibrated
  forecast even where the draws have atoms (a quantity that is zero by construction).
* :func:`brier` and :func:`log_score`: dated binary events (any H200 shipped by a date,
  the fee collected, production restarted), with the forecast probability the share of
  draws in which the event happens (:func:`event_probability`).
* :func:`interval` and :func:`covered`: central intervals named in one vocabulary
  (:func:`interval_names`, statsforecast's ``lo-90``/``hi-90``) and whether the
  observation fell inside, with the point-mass rule (see :func:`covered`).
* :func:`score_quantity` (a :class:`ScoreRow`), :func:`pit_histogram` and
  :func:`coverage_table`: one row per quantity and period, and the summaries.
* :func:`no_change` and :func:`guidance`: baselines as point masses, scored by the same
  functions (the CRPS of a point mass ``x`` is ``|x - y|``). The third baseline, the
  previous vintage, needs no function: its draws are scored as they are, with
  ``forecast="previous-vintage"``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from h200cast import intervals

LEVELS: tuple[int, ...] = (50, 80, 90)
"""The central interval levels scored, in percent."""

LOG_SCORE_EPS = 1e-6
"""Default clipping of the probability in :func:`log_score` (a cap of about 13.8 nats)."""

BASELINES: tuple[str, ...] = ("guidance", "no-change", "previous-vintage")
"""The forecasts scored beside the model, by the names :class:`ScoreRow` carries."""

_CHUNK = 1 << 20  # elements per block when comparing many observations with shared draws


# --- the sample --------------------------------------------------------------------------


def _draws(draws: ArrayLike, *, batch: bool = True) -> NDArray[np.float64]:
    """The draws as a float array sorted along its last axis, checked.

    One sample of shape ``(n,)``, or (when ``batch``) one sample per observation,
    ``(m, n)``; ``n >= 1`` and every draw finite.
    """
    x = np.asarray(draws, dtype=np.float64)
    if x.ndim not in ((1, 2) if batch else (1,)):
        raise ValueError(
            f"expected draws of shape (n,){' or (m, n)' if batch else ''}, got shape {x.shape}"
        )
    if x.shape[-1] == 0:
        raise ValueError("expected at least one draw, got none")
    if not np.isfinite(x).all():
        raise ValueError(f"expected finite draws, got {int((~np.isfinite(x)).sum())} not finite")
    return np.sort(x, axis=-1)


def _observations(y: ArrayLike, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """The observations as a float array of shape () or (m,), matched with the draws."""
    yy = np.asarray(y, dtype=np.float64)
    if yy.ndim > 1:
        raise ValueError(f"expected one observation or a vector of them, got shape {yy.shape}")
    if x.ndim == 2 and yy.shape != x.shape[:1]:
        raise ValueError(
            f"expected {x.shape[0]} observations for draws of shape {x.shape}, got shape {yy.shape}"
        )
    if not np.isfinite(yy).all():
        raise ValueError("expected finite observations")
    return yy


def _result(v: NDArray[np.float64]) -> Any:
    """A 0-d array as a Python float; anything else as it is."""
    return float(v) if v.ndim == 0 else v


# --- CRPS --------------------------------------------------------------------------------


@overload
def crps_sample(draws: ArrayLike, y: float, *, fair: bool = False) -> float: ...
@overload
def crps_sample(
    draws: ArrayLike, y: Sequence[float] | NDArray[Any], *, fair: bool = False
) -> NDArray[np.float64]: ...
def crps_sample(draws: ArrayLike, y: ArrayLike, *, fair: bool = False) -> Any:
    """The CRPS of a sample of draws against an observation (lower is better).

    ``CRPS(F, y) = E|X - y| - E|X - X'| / 2`` with ``X, X'`` independent draws from the
    empirical distribution ``F`` of the sample; it equals ``integral (F(x) - 1{x >= y})^2 dx``
    and is in the units of the quantity. The spread term is computed exactly from the
    sorted draws in O(n log n): with gaps ``d_k = x_(k+1) - x_(k)``,
    ``sum_{i,j} |x_i - x_j| = 2 sum_k k (n - k) d_k``, so ties (a point mass) contribute
    exactly zero.

    Parameters
    ----------
    draws : array_like
        Shape ``(n,)``: one sample, shared by every observation; or ``(m, n)``: one
        sample per observation (then ``y`` has shape ``(m,)``). Finite, ``n >= 1``.
    y : float or array_like
        One observation, or a vector of ``m`` observations.
    fair : bool, default False
        The "fair" (unbiased) variant: the spread term averages over the ``n (n - 1)``
        distinct pairs instead of all ``n^2``, so that its expectation is the CRPS of the
        distribution the draws come from rather than of their empirical distribution. It
        can be slightly negative. With a single draw the spread is taken as zero (a
        point forecast has none).

    Returns
    -------
    float or ndarray
        A float for a single observation, else an array of shape ``(m,)``. The default
        variant is clipped at zero against rounding (it is non-negative in exact
        arithmetic).

    Raises
    ------
    ValueError
        Empty or non-finite draws or observations, or mismatched shapes.

    Examples
    --------
    >>> crps_sample([0.0, 1.0], 0.5)
    0.25
    >>> crps_sample([3.0, 3.0, 3.0], 5.0)  # a point mass: |x - y|
    2.0
    """
    x = _draws(draws)
    yy = _observations(y, x)
    n = x.shape[-1]
    if x.ndim == 2:
        mae = np.abs(x - yy[:, None]).mean(axis=-1)
    else:
        flat = np.atleast_1d(yy)
        step = max(1, _CHUNK // n)
        mae = np.concatenate(
            [
                np.abs(x[None, :] - flat[i : i + step, None]).mean(axis=-1)
                for i in range(0, flat.size, step)
            ]
        ).reshape(yy.shape)
    k = np.arange(1, n, dtype=np.float64)
    pairs = 2.0 * (np.diff(x, axis=-1) * (k * (n - k))).sum(axis=-1)
    if fair:
        spread = pairs / (n * (n - 1)) if n > 1 else np.zeros_like(pairs)
        out = mae - 0.5 * spread
    else:
        out = np.maximum(mae - 0.5 * pairs / (n * n), 0.0)
    return _result(np.asarray(out, dtype=np.float64))


# --- PIT ---------------------------------------------------------------------------------


def _generator(rng: np.random.Generator | int) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"expected a numpy Generator or an integer seed, got {type(rng).__name__}")


@overload
def pit(draws: ArrayLike, y: float, rng: np.random.Generator | int) -> float: ...
@overload
def pit(
    draws: ArrayLike, y: Sequence[float] | NDArray[Any], rng: np.random.Generator | int
) -> NDArray[np.float64]: ...
def pit(draws: ArrayLike, y: ArrayLike, rng: np.random.Generator | int) -> Any:
    """The randomized probability integral transform of an observation.

    ``PIT = P(X < y) + U P(X = y)`` under the empirical distribution of the draws, with
    ``U ~ Uniform(0, 1)``. Randomizing over the atom at ``y`` makes the PIT of a calibrated
    forecast uniform even for discrete or mixed quantities: a forecast that is a point
    mass at the observed value (all draws 0, observed 0) gives ``U``, not 1, so it
    neither looks like an under-forecast nor inflates the top bin of a PIT histogram.

    Parameters
    ----------
    draws : array_like
        Shape ``(n,)`` shared by every observation, or ``(m, n)`` one sample per
        observation. Finite, ``n >= 1``.
    y : float or array_like
        One observation, or a vector of ``m``.
    rng : numpy.random.Generator or int
        The source of ``U`` (an int is a seed). One uniform is drawn per observation,
        whether or not it falls on an atom, so the stream consumed does not depend on
        the data and a seeded run reproduces.

    Returns
    -------
    float or ndarray
        In ``[0, 1]``: a float for a single observation, else shape ``(m,)``.

    Examples
    --------
    >>> pit([0.0, 1.0, 2.0, 3.0], 1.5, rng=0)  # no ties at y: P(X < y)
    0.5
    """
    gen = _generator(rng)
    x = _draws(draws)
    yy = _observations(y, x)
    n = x.shape[-1]
    if x.ndim == 2:
        below = (x < yy[:, None]).sum(axis=-1)
        at = (x == yy[:, None]).sum(axis=-1)
    else:
        below = np.searchsorted(x, yy, side="left")
        at = np.searchsorted(x, yy, side="right") - below
    u = gen.uniform(size=yy.shape)
    return _result(np.asarray((below + u * at) / n, dtype=np.float64))


def pit_histogram(pits: Iterable[float | None], bins: int = 10) -> NDArray[np.int64]:
    """Counts of PIT values in ``bins`` equal bins of ``[0, 1]`` (the last one closed).

    ``None`` entries (rows that could not be scored, :attr:`ScoreRow.pit`) are skipped.
    A calibrated forecast gives roughly equal counts; a U shape means intervals too
    narrow, a hump too wide, a slope a bias.

    Raises
    ------
    ValueError
        A PIT outside ``[0, 1]`` or not finite, or ``bins < 1``.
    """
    if bins < 1:
        raise ValueError(f"expected at least one bin, got {bins}")
    v = np.asarray([p for p in pits if p is not None], dtype=np.float64)
    if not (np.isfinite(v) & (v >= 0.0) & (v <= 1.0)).all():
        raise ValueError("expected PIT values in [0, 1]")
    counts, _ = np.histogram(v, bins=bins, range=(0.0, 1.0))
    return counts.astype(np.int64)


# --- dated events ------------------------------------------------------------------------


def event_probability(happens: ArrayLike) -> float:
    """The forecast probability of an event: the share of draws in which it happens.

    Parameters
    ----------
    happens : array_like of bool
        One flag per draw (e.g. ``cumulative_shipments[:, month] > 0``).
    """
    h = np.asarray(happens)
    if h.ndim != 1 or h.size == 0:
        raise ValueError(f"expected one flag per draw, shape (n,) with n >= 1, got {h.shape}")
    if h.dtype != np.bool_:
        if not np.isin(h, (0, 1)).all():
            raise ValueError("expected flags (True/False or 1/0) per draw")
        h = h.astype(bool)
    return float(h.mean())


def _check_event(p: float, outcome: bool | int) -> tuple[float, float]:
    if not (math.isfinite(p) and 0.0 <= p <= 1.0):
        raise ValueError(f"expected a probability in [0, 1], got {p!r}")
    if outcome not in (0, 1):  # True and False compare equal to 1 and 0
        raise ValueError(f"expected an outcome True/False (1/0), got {outcome!r}")
    return float(p), float(outcome)


def brier(p: float, outcome: bool | int) -> float:
    """The Brier score ``(p - o)^2`` of a probability ``p`` for an event (lower is better).

    ``o`` is 1 if the event happened (by its date), else 0. Bounded in ``[0, 1]``; a
    coin flip (``p = 0.5``) scores 0.25 whatever happens.
    """
    pp, o = _check_event(p, outcome)
    return (pp - o) ** 2


def log_score(p: float, outcome: bool | int, *, eps: float = LOG_SCORE_EPS) -> float:
    """The logarithmic score ``-log P(outcome)`` in nats (lower is better).

    ``-log(p)`` if the event happened, ``-log(1 - p)`` if not. A probability taken from a
    share of draws is 0 or 1 whenever no draw (or every draw) has the event, and the
    score would then be infinite for a surprise; so ``p`` is first clipped to
    ``[eps, 1 - eps]``, capping a surprise at ``-log(eps)`` (13.8 nats at the default
    1e-6) and making a certain, correct forecast score ``-log(1 - eps)`` (about
    ``eps``) rather than 0. Report the clipping beside the score (:class:`EventRow`
    does).

    Parameters
    ----------
    p : float
        The forecast probability of the event, in ``[0, 1]``.
    outcome : bool or int
        Whether it happened.
    eps : float, default :data:`LOG_SCORE_EPS`
        The clipping, in ``(0, 0.5)``.
    """
    pp, o = _check_event(p, outcome)
    if not 0.0 < eps < 0.5:
        raise ValueError(f"expected eps in (0, 0.5), got {eps!r}")
    q = min(max(pp, eps), 1.0 - eps)
    return -math.log(q if o else 1.0 - q)


@dataclass(frozen=True)
class EventRow:
    """One dated event scored: the forecast probability, what happened and the scores."""

    event: str
    by: str  # the date the event is about ("any H200 shipped by 2026-03-31")
    p: float
    outcome: bool
    n_draws: int
    brier: float
    log_score: float
    clipped: bool  # p was 0 or 1 (or within eps of it) and clipped for the log score
    forecast: str = "model"
    note: str = ""


def score_event(
    event: str,
    by: str,
    happens: ArrayLike,
    outcome: bool,
    *,
    forecast: str = "model",
    eps: float = LOG_SCORE_EPS,
) -> EventRow:
    """Score a dated event: ``p`` the share of draws where it happens, Brier and log score."""
    h = np.asarray(happens)
    p = event_probability(h)
    clipped = not eps <= p <= 1.0 - eps
    note = (
        f"p = {p:g} from {h.size} draws clipped to [{eps:g}, {1 - eps:g}] for the log score"
        if clipped
        else ""
    )
    return EventRow(
        event,
        by,
        p,
        bool(outcome),
        int(h.size),
        brier(p, outcome),
        log_score(p, outcome, eps=eps),
        clipped,
        forecast,
        note,
    )


# --- intervals ---------------------------------------------------------------------------


def _check_level(level: float) -> None:
    intervals.check_level(level)


def interval_names(level: float) -> tuple[str, str]:
    """The names of a central interval's bounds: ``interval_names(90) == ("lo-90", "hi-90")``.

    The one vocabulary for interval columns, statsforecast's: ``lo-{level}`` and
    ``hi-{level}`` with the level in percent, written without a trailing ``.0``
    (``97.5`` gives ``lo-97.5``).
    """
    return intervals.names(level)


@dataclass(frozen=True)
class Interval:
    """A central interval of the draws at ``level`` percent."""

    level: float
    lo: float
    hi: float

    @property
    def names(self) -> tuple[str, str]:
        """``("lo-90", "hi-90")`` (:func:`interval_names`)."""
        return interval_names(self.level)

    @property
    def degenerate(self) -> bool:
        """Whether the interval is a single point (the draws have an atom covering it)."""
        return self.lo == self.hi

    def as_dict(self) -> dict[str, float]:
        """``{"lo-90": lo, "hi-90": hi}``."""
        lo, hi = self.names
        return {lo: self.lo, hi: self.hi}


def interval(draws: ArrayLike, level: float) -> Interval:
    """The central (equal-tailed) interval holding ``level`` percent of the draws.

    The ``(100 - level) / 200`` and ``(100 + level) / 200`` quantiles of the draws
    (numpy's default linear interpolation between order statistics), e.g. the 5% and 95%
    quantiles for ``level=90``.

    Parameters
    ----------
    draws : array_like
        One sample, shape ``(n,)``, finite, ``n >= 1``.
    level : float
        In percent, ``1 <= level < 100``.
    """
    _check_level(level)
    x = _draws(draws, batch=False)
    lo, hi = np.quantile(x, [(100.0 - level) / 200.0, (100.0 + level) / 200.0])
    return Interval(level, float(lo), float(hi))


def covered(draws: ArrayLike, y: float, level: float) -> tuple[bool | None, str]:
    """Whether an observation fell inside the central ``level``% interval, and why.

    The point-mass rule: when the interval is the single point ``[y, y]`` at the
    observed value, the result is ``None``, not ``True``. The interval collapses to a
    point only when an atom of the draws at that value spans both of its quantiles: at
    least ``level`` percent of the draws, and ``(100 + level) / 2`` percent when the atom
    is the least (or greatest) value, as zero is for a quantity that cannot be negative
    (all draws 0 for a quantity that is zero by construction, such as January revenue
    before any licence). Then the "hit" follows from the construction and says nothing
    about calibration: the coverage table leaves it out and counts it as excluded
    (:func:`coverage_table`), and the randomized PIT (:func:`pit`) scores the observation
    instead. A degenerate interval at another value is an honest miss
    (``False``): the forecast was sure and wrong.

    Parameters
    ----------
    draws : array_like
        One sample, shape ``(n,)``.
    y : float
        The observed value (finite).
    level : float
        In percent.

    Returns
    -------
    (bool or None, str)
        ``True`` inside ``[lo, hi]`` (bounds included), ``False`` outside, ``None`` for a
        point mass at the observed value; and a sentence saying which.
    """
    if not math.isfinite(y):
        raise ValueError(f"expected a finite observation, got {y!r}")
    iv = interval(draws, level)
    where = f"the {level:g}% interval [{iv.lo:g}, {iv.hi:g}]"
    if iv.lo == iv.hi == y:
        share = float(np.mean(np.asarray(draws, dtype=np.float64) == y))
        return None, (
            f"not scored as a hit: {where} is a point at the observed value "
            f"({share:.0%} of the draws equal {y:g}, a point mass there, e.g. zero by "
            "construction), so a hit would test nothing"
        )
    if y < iv.lo:
        return False, f"below {where}"
    if y > iv.hi:
        return False, f"above {where}"
    return True, f"inside {where}"


# --- one row per quantity and period -----------------------------------------------------


@dataclass(frozen=True)
class ScoreRow:
    """One quantity over one period, scored against its observation.

    ``crps`` and ``pit`` are ``None`` when the observation could not be scored, and
    ``note`` says why (no draws for the period, no finite observation, draws not
    finite). ``coverage`` maps each level (percent) to ``True``/``False``, or ``None``
    under the point-mass rule (:func:`covered`), which ``note`` also reports.
    """

    quantity: str
    period: str
    observed: float | None
    n_draws: int
    forecast: str = "model"  # "model" or a baseline (BASELINES)
    median: float | None = None
    crps: float | None = None
    pit: float | None = None
    intervals: Mapping[float, Interval] = field(default_factory=dict)
    coverage: Mapping[float, bool | None] = field(default_factory=dict)
    note: str = ""

    @property
    def scored(self) -> bool:
        """Whether the observation was scored at all (``crps`` is set)."""
        return self.crps is not None

    def as_record(self) -> dict[str, object]:
        """A flat dict for a table: bounds as ``lo-90``/``hi-90``, hits as ``cover-90``."""
        rec: dict[str, object] = {
            "forecast": self.forecast,
            "quantity": self.quantity,
            "period": self.period,
            "observed": self.observed,
            "n_draws": self.n_draws,
            "median": self.median,
            "crps": self.crps,
            "pit": self.pit,
        }
        for lv in sorted(set(self.intervals) | set(self.coverage)):
            if lv in self.intervals:
                rec.update(self.intervals[lv].as_dict())
            rec[f"cover-{lv:g}"] = self.coverage.get(lv)
        rec["note"] = self.note
        return rec


def unscored(
    quantity: str, period: str, observed: float | None, reason: str, *, forecast: str = "model"
) -> ScoreRow:
    """A row for an observation that cannot be scored, listed with ``reason``.

    For example ``reason="outside the forecast's months 2026-01..2026-12"``: a scorecard
    lists such observations rather than skipping them silently.
    """
    return ScoreRow(quantity, period, observed, 0, forecast=forecast, note=reason)


def score_quantity(
    quantity: str,
    period: str,
    draws: ArrayLike,
    observed: float | None,
    *,
    rng: np.random.Generator | int,
    forecast: str = "model",
    levels: Sequence[float] = LEVELS,
    fair: bool = False,
) -> ScoreRow:
    """Score one quantity's draws for one period against its observation.

    Parameters
    ----------
    quantity, period : str
        What is scored, for the row (``"revenue_usd"``, ``"2026-01..2026-03"``).
    draws : array_like
        The forecast's draws of the quantity over the period, one per draw, shape
        ``(n,)``; a baseline's point mass (:func:`no_change`, :func:`guidance`).
    observed : float or None
        The observed value; ``None`` or not finite gives an unscored row.
    rng : numpy.random.Generator or int
        For the randomized PIT (:func:`pit`).
    forecast : str, default "model"
        Which forecast the draws are (``"model"`` or one of :data:`BASELINES`).
    levels : sequence of float, default :data:`LEVELS`
        Interval levels in percent.
    fair : bool, default False
        The fair CRPS (:func:`crps_sample`).

    Returns
    -------
    ScoreRow
        Scored, or with ``crps`` and ``pit`` ``None`` and the reason in ``note``.
    """
    x = np.asarray(draws, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"expected draws of shape (n,), got shape {x.shape}")
    n = int(x.size)

    def skip(reason: str) -> ScoreRow:
        return ScoreRow(quantity, period, observed, n, forecast=forecast, note=reason)

    if observed is None or not math.isfinite(observed):
        return skip(f"not scored: the observed value is {observed!r}, not a finite number")
    if n == 0:
        return skip("not scored: no draws for this period (e.g. outside the forecast's months)")
    bad = int((~np.isfinite(x)).sum())
    if bad:
        return skip(f"not scored: {bad} of {n} draws are not finite")
    y = float(observed)
    intervals = {lv: interval(x, lv) for lv in levels}
    coverage: dict[float, bool | None] = {}
    for lv in levels:
        coverage[lv], _ = covered(x, y, lv)
    excluded = [f"{lv:g}%" for lv in levels if coverage[lv] is None]
    note = ""
    if excluded:
        share = float(np.mean(x == y))
        note = (
            f"the {'/'.join(excluded)} interval{'s' if len(excluded) > 1 else ''} not scored "
            f"as hits: a point at the observed value {y:g} ({share:.0%} of the draws equal "
            "it, a point mass there, e.g. zero by construction); the PIT is randomized over it"
        )
    return ScoreRow(
        quantity,
        period,
        y,
        n,
        forecast=forecast,
        median=float(np.median(x)),
        crps=crps_sample(x, y, fair=fair),
        pit=pit(x, y, rng),
        intervals=intervals,
        coverage=coverage,
        note=note,
    )


@dataclass(frozen=True)
class CoverageLine:
    """Empirical coverage of one forecast's intervals at one level.

    ``scored`` counts only intervals that can be a hit or a miss; ``point_masses`` the
    ones left out under the point-mass rule (:func:`covered`); ``unscored`` the rows
    with no score at all (their reasons are in the rows' notes).
    """

    forecast: str
    level: float
    scored: int
    hits: int
    point_masses: int
    unscored: int

    @property
    def nominal(self) -> float:
        """The level as a share (0.9 for 90)."""
        return self.level / 100.0

    @property
    def rate(self) -> float | None:
        """Hits over scored intervals; ``None`` when none could be scored."""
        return self.hits / self.scored if self.scored else None


def coverage_table(
    rows: Iterable[ScoreRow], levels: Sequence[float] | None = None
) -> list[CoverageLine]:
    """Coverage by forecast and level, counting only the intervals that can be scored.

    Forecasts in the order they first appear in ``rows``; ``levels`` default to those
    the rows carry (sorted), or :data:`LEVELS` if none do. A rate of 2 hits in 2 is not
    inflated by point masses at the observation: those are counted apart, in
    ``point_masses``, so the report can say how many were excluded.
    """
    rows = list(rows)
    lvs = (
        list(levels)
        if levels is not None
        else sorted({lv for r in rows for lv in r.coverage}) or list(LEVELS)
    )
    forecasts = list(dict.fromkeys(r.forecast for r in rows))
    out = []
    for fc in forecasts:
        mine = [r for r in rows if r.forecast == fc]
        for lv in lvs:
            marks = [r.coverage[lv] for r in mine if r.scored and lv in r.coverage]
            out.append(
                CoverageLine(
                    fc,
                    lv,
                    scored=sum(m is not None for m in marks),
                    hits=sum(m is True for m in marks),
                    point_masses=sum(m is None for m in marks),
                    unscored=sum(not r.scored for r in mine),
                )
            )
    return out


# --- baselines ---------------------------------------------------------------------------


def point_mass(value: float, n: int = 1) -> NDArray[np.float64]:
    """A forecast certain of ``value``: ``n`` identical draws (CRPS ``|value - y|``)."""
    if not math.isfinite(value):
        raise ValueError(f"expected a finite value, got {value!r}")
    if n < 1:
        raise ValueError(f"expected at least one draw, got {n}")
    return np.full(n, float(value))


def no_change(last_observed: float, n: int = 1) -> NDArray[np.float64]:
    """The no-change baseline: the last observed value, as a point mass.

    ``last_observed`` must be the same quantity over a comparable period (last quarter's
    revenue for this quarter's); the caller picks it.
    """
    return point_mass(last_observed, n)


def guidance(value: float, n: int = 1) -> NDArray[np.float64]:
    """Nvidia's own guidance as a point mass (e.g. 0 for China data-centre revenue)."""
    return point_mass(value, n)
