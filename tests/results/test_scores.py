"""The scoring core (results/scores.py): hand-computed CRPS, PIT, event scores and intervals,
the point-mass rule, and properties checked with hypothesis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs
from scipy import integrate

from h200cast.results.scores import (
    LEVELS,
    LOG_SCORE_EPS,
    Interval,
    brier,
    coverage_table,
    covered,
    crps_sample,
    event_probability,
    guidance,
    interval,
    interval_names,
    log_score,
    no_change,
    pit,
    pit_histogram,
    point_mass,
    score_event,
    score_quantity,
    unscored,
)

finite = hs.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
samples = hs.lists(finite, min_size=1, max_size=60)


def crps_by_integration(draws: list[float], y: float) -> float:
    """integral of (F(x) - 1{x >= y})^2 dx with F the empirical CDF, by scipy's quad."""
    x = np.sort(np.asarray(draws, dtype=float))
    lo, hi = min(x[0], y) - 1.0, max(x[-1], y) + 1.0

    def integrand(t: float) -> float:
        return (np.searchsorted(x, t, side="right") / x.size - float(t >= y)) ** 2

    points = sorted({*x.tolist(), y})
    value, _ = integrate.quad(integrand, lo, hi, points=points, limit=200, epsabs=1e-12)
    return float(value)


def crps_pairwise(draws: list[float], y: float, fair: bool) -> float:
    """The O(n^2) definition: mean |x_i - y| - sum_{i,j} |x_i - x_j| / (2 n^2 or 2 n (n-1))."""
    x = np.asarray(draws, dtype=float)
    n = x.size
    pairs = np.abs(x[:, None] - x[None, :]).sum()
    return float(np.abs(x - y).mean() - pairs / (2 * (n * (n - 1) if fair else n * n)))


# --- CRPS: hand-computed -----------------------------------------------------------------


def test_crps_two_draws_hand_computed() -> None:
    # E|X - 0.5| = 0.5, E|X - X'| = (0 + 1 + 1 + 0) / 4 = 0.5: 0.5 - 0.25
    assert crps_sample([0.0, 1.0], 0.5) == pytest.approx(0.25, abs=1e-15)
    # fair: E|X - X'| over distinct pairs = 1: 0.5 - 0.5
    assert crps_sample([0.0, 1.0], 0.5, fair=True) == pytest.approx(0.0, abs=1e-15)


def test_crps_three_draws_hand_computed() -> None:
    # F = 1/3 on [0, 1), 2/3 on [1, 2): at y = 0, (2/3)^2 + (1/3)^2 = 5/9; at y = 1,
    # (1/3)^2 + (1/3)^2 = 2/9; at y = 3, (1/3)^2 + (2/3)^2 + 1 = 14/9
    for y, want in ((0.0, 5 / 9), (1.0, 2 / 9), (3.0, 14 / 9)):
        assert crps_sample([2.0, 0.0, 1.0], y) == pytest.approx(want, rel=1e-14)


def test_crps_point_mass_is_absolute_error() -> None:
    assert crps_sample([3.0, 3.0, 3.0], 5.0) == 2.0
    assert crps_sample([3.0, 3.0, 3.0], 3.0) == 0.0  # a point mass at y
    assert crps_sample(np.zeros(1000), 0.0) == 0.0
    assert crps_sample([7.0], 2.5, fair=True) == 4.5  # one draw: no spread


def test_crps_matches_numerical_integration() -> None:
    draws = [0.3, -1.2, 2.5, 0.3, 4.0, 1.1, -0.4]
    for y in (-3.0, -0.4, 0.3, 0.9, 2.5, 6.0):
        assert crps_sample(draws, y) == pytest.approx(crps_by_integration(draws, y), abs=1e-9)


def test_crps_fair_matches_pairwise_definition() -> None:
    rng = np.random.default_rng(3)
    draws = rng.gamma(2.0, 3.0, size=25).tolist()
    for y in (0.0, 5.0, 40.0):
        assert crps_sample(draws, y, fair=True) == pytest.approx(
            crps_pairwise(draws, y, fair=True), rel=1e-12
        )
        assert crps_sample(draws, y) == pytest.approx(crps_pairwise(draws, y, False), rel=1e-12)


def test_crps_vectorised_over_observations() -> None:
    rng = np.random.default_rng(4)
    shared = rng.normal(size=1000)
    ys = rng.normal(size=3000)  # more than one block of the shared-sample comparison
    got = crps_sample(shared, ys)
    assert got.shape == (3000,)
    for i in (0, 1047, 1048, 2999):
        assert got[i] == pytest.approx(crps_sample(shared, float(ys[i])), rel=1e-12)
    per_obs = rng.normal(size=(4, 50))
    ys4 = np.array([0.0, 1.0, -2.0, 0.5])
    got4 = crps_sample(per_obs, ys4, fair=True)
    want = [crps_sample(per_obs[i], float(ys4[i]), fair=True) for i in range(4)]
    np.testing.assert_allclose(got4, want, rtol=1e-12)


@pytest.mark.parametrize(
    ("draws", "y"),
    [([], 0.0), ([1.0, np.nan], 0.0), ([1.0], np.inf), (np.zeros((2, 3)), [0.0, 1.0, 2.0])],
)
def test_crps_refuses_bad_input(draws: object, y: object) -> None:
    with pytest.raises(ValueError, match="expected"):
        crps_sample(draws, y)


# --- CRPS: properties ----------------------------------------------------------------------


@given(samples, finite)
def test_crps_is_non_negative(draws: list[float], y: float) -> None:
    assert crps_sample(draws, y) >= 0.0


@given(finite, hs.integers(1, 50), finite)
def test_crps_of_a_point_mass_is_the_absolute_error(c: float, n: int, y: float) -> None:
    for fair in (False, True):
        assert crps_sample([c] * n, y, fair=fair) == pytest.approx(abs(c - y), rel=1e-12, abs=1e-9)


@given(hs.lists(hs.floats(-1e3, 1e3), min_size=1, max_size=30), hs.floats(-1e3, 1e3), finite)
def test_crps_is_smallest_at_the_centre_of_a_symmetric_sample(
    half: list[float], centre: float, y: float
) -> None:
    draws = centre + np.concatenate([np.asarray(half), -np.asarray(half)])
    at_centre = crps_sample(draws, centre)
    assert at_centre <= crps_sample(draws, y) + 1e-9 * max(1.0, abs(y), abs(centre))
    assert at_centre <= crps_sample(draws, float(np.median(draws))) + 1e-9 * max(1.0, abs(centre))


# --- PIT -----------------------------------------------------------------------------------


def test_pit_without_ties_is_the_share_below() -> None:
    draws = [3.0, 0.0, 2.0, 1.0]
    assert pit(draws, 1.5, rng=0) == 0.5
    assert pit(draws, -1.0, rng=0) == 0.0
    assert pit(draws, 4.0, rng=0) == 1.0


def test_pit_randomizes_over_ties() -> None:
    # P(X < 1) = 1/4, P(X = 1) = 2/4
    u = np.random.default_rng(7).uniform()
    assert pit([0.0, 1.0, 1.0, 2.0], 1.0, rng=7) == pytest.approx(0.25 + 0.5 * u, rel=1e-15)


def test_pit_of_a_point_mass_at_the_observation_is_uniform_not_one() -> None:
    u = np.random.default_rng(11).uniform()
    assert pit(np.zeros(500), 0.0, rng=np.random.default_rng(11)) == u
    values = pit(np.zeros(500), np.zeros(2000), rng=12)
    assert 0.45 < values.mean() < 0.55 and values.min() < 0.05 and values.max() > 0.95


def test_pit_vectorised_and_seeded() -> None:
    draws = np.array([0.0, 0.0, 1.0, 2.0, 2.0])
    ys = np.array([0.0, 0.5, 2.0, 3.0])
    u = np.random.default_rng(5).uniform(size=4)
    want = (np.array([0, 2, 3, 5]) + u * np.array([2, 0, 2, 0])) / 5
    np.testing.assert_allclose(pit(draws, ys, rng=5), want, rtol=1e-15)
    per_obs = np.stack([draws, draws + 1.0])
    u2 = np.random.default_rng(6).uniform(size=2)
    np.testing.assert_allclose(
        pit(per_obs, np.array([0.0, 1.0]), rng=6), [u2[0] * 2 / 5, u2[1] * 2 / 5], rtol=1e-15
    )
    with pytest.raises(TypeError, match="Generator"):
        pit(draws, 0.0, rng=True)


@given(samples, finite, hs.integers(0, 2**32 - 1))
def test_pit_is_in_the_unit_interval(draws: list[float], y: float, seed: int) -> None:
    assert 0.0 <= pit(draws, y, rng=seed) <= 1.0


def test_pit_of_observations_from_the_forecast_distribution_is_roughly_uniform() -> None:
    """A statistical check with a fixed seed and a wide tolerance (+-20% per decile)."""
    rng = np.random.default_rng(20260111)
    m = 5000

    def mixture(size: int) -> np.ndarray:  # 40% zero by construction, the rest continuous
        return np.where(rng.uniform(size=size) < 0.4, 0.0, rng.gamma(2.0, 10.0, size=size))

    for draw in (lambda size: rng.gamma(2.0, 10.0, size=size), mixture):
        draws, ys = draw(4000), draw(m)
        counts = pit_histogram(pit(draws, ys, rng=rng).tolist())
        assert counts.sum() == m
        assert np.all(np.abs(counts - m / 10) < 0.2 * m / 10), counts
    # without the randomization the atom at zero piles into one decile
    plain = np.searchsorted(np.sort(draws), ys, side="right") / draws.size
    assert pit_histogram(plain.tolist()).max() > 0.35 * m


def test_pit_histogram_counts() -> None:
    counts = pit_histogram([0.0, 0.05, 0.15, None, 0.99, 1.0])
    assert counts.tolist() == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert pit_histogram([0.2, 0.7], bins=2).tolist() == [1, 1]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        pit_histogram([1.5])


# --- dated events --------------------------------------------------------------------------


def test_event_probability_is_the_share_of_draws() -> None:
    assert event_probability([True, False, False, True]) == 0.5
    assert event_probability(np.array([1, 0, 0, 0])) == 0.25
    with pytest.raises(ValueError, match="flags"):
        event_probability([0.5, 1.0])


def test_brier_hand_computed() -> None:
    assert brier(0.5, True) == 0.25 and brier(0.5, False) == 0.25
    assert brier(0.8, True) == pytest.approx(0.04)
    assert brier(0.8, False) == pytest.approx(0.64)
    assert brier(1.0, True) == 0.0 and brier(0.0, True) == 1.0
    with pytest.raises(ValueError, match="probability"):
        brier(1.2, True)
    with pytest.raises(ValueError, match="outcome"):
        brier(0.5, 2)


def test_log_score_hand_computed_and_clipped() -> None:
    assert log_score(0.5, True) == pytest.approx(math.log(2))
    assert log_score(0.8, True) == pytest.approx(-math.log(0.8))
    assert log_score(0.8, False) == pytest.approx(-math.log(0.2))
    # a share of 0 draws for an event that happened: capped at -log(eps), not infinite
    assert log_score(0.0, True) == pytest.approx(-math.log(LOG_SCORE_EPS))
    assert log_score(1.0, True) == pytest.approx(-math.log(1 - LOG_SCORE_EPS))
    assert log_score(0.0, True, eps=0.01) == pytest.approx(-math.log(0.01))
    with pytest.raises(ValueError, match="eps"):
        log_score(0.5, True, eps=0.0)


def test_score_event_reports_the_clipping() -> None:
    row = score_event("any H200 shipped", "2026-03-31", np.zeros(200, dtype=bool), True)
    assert (row.p, row.brier, row.n_draws, row.clipped) == (0.0, 1.0, 200, True)
    assert "clipped" in row.note
    fine = score_event("fee collected", "2026-06-30", [True, True, False, True], False)
    assert fine.p == 0.75 and not fine.clipped and fine.note == ""
    assert fine.log_score == pytest.approx(-math.log(0.25))


# --- intervals and the point-mass rule ---------------------------------------------------


def test_interval_names_are_one_vocabulary() -> None:
    assert interval_names(90) == ("lo-90", "hi-90")
    assert interval_names(90.0) == ("lo-90", "hi-90")
    assert interval_names(97.5) == ("lo-97.5", "hi-97.5")
    with pytest.raises(ValueError, match=r"90, not 0\.9"):
        interval_names(0.9)


def test_interval_is_central() -> None:
    iv = interval(np.arange(101.0), 90)
    assert iv == Interval(90, 5.0, 95.0)
    assert iv.as_dict() == {"lo-90": 5.0, "hi-90": 95.0}
    assert interval(np.arange(101.0), 50).as_dict() == {"lo-50": 25.0, "hi-50": 75.0}
    assert interval([0.0] * 9, 80).degenerate


def test_covered_hand_computed() -> None:
    draws = np.arange(101.0)
    assert covered(draws, 50.0, 50) == (True, "inside the 50% interval [25, 75]")
    assert covered(draws, 95.0, 90)[0] is True  # bounds included
    assert covered(draws, 2.0, 90) == (False, "below the 90% interval [5, 95]")
    assert covered(draws, 99.0, 80) == (False, "above the 80% interval [10, 90]")


def test_point_mass_at_the_observation_is_not_a_hit() -> None:
    # January revenue, zero by construction: every draw 0, observed 0
    hit, why = covered(np.zeros(1000), 0.0, 90)
    assert hit is None
    assert "point mass" in why and "[0, 0]" in why
    # production with an atom at 2 units, its least value, holding 96% of the draws:
    # the 90% interval (5% and 95% quantiles) is [2, 2]; observed 2
    production = np.r_[np.full(960, 2.0), np.arange(3.0, 43.0)]
    assert interval(production, 90).as_dict() == {"lo-90": 2.0, "hi-90": 2.0}
    assert covered(production, 2.0, 90)[0] is None
    # at 95% of the draws the 95% quantile interpolates past the atom: a real interval
    atom95 = np.r_[np.full(950, 2.0), np.arange(3.0, 53.0)]
    assert interval(atom95, 90).hi > 2.0 and covered(atom95, 2.0, 90)[0] is True
    # the same point mass away from the observation is an honest miss
    assert covered(np.zeros(1000), 1.0, 90)[0] is False
    # an atom that does not fill the interval: [0, hi] with hi > 0 is a real hit
    partial = np.r_[np.zeros(30), np.linspace(1.0, 10.0, 70)]
    iv = interval(partial, 50)
    assert iv.lo == 0.0 < iv.hi
    assert covered(partial, 0.0, 50)[0] is True


@given(
    hs.lists(hs.integers(0, 3), min_size=1, max_size=40),
    hs.integers(0, 3),
    hs.sampled_from(LEVELS),
)
def test_covered_is_none_exactly_for_a_point_at_the_observation(
    draws: list[int], y: int, level: int
) -> None:
    hit, _ = covered(np.asarray(draws, dtype=float), float(y), level)
    iv = interval(np.asarray(draws, dtype=float), level)
    assert (hit is None) == (iv.lo == iv.hi == y)
    if hit is not None:
        assert hit == (iv.lo <= y <= iv.hi)


@given(finite, hs.integers(1, 30), finite, hs.sampled_from(LEVELS))
def test_covered_for_a_point_mass(c: float, n: int, y: float, level: int) -> None:
    hit, _ = covered([c] * n, y, level)
    assert hit is (None if y == c else False)


# --- rows, tables and baselines ------------------------------------------------------------


def test_score_quantity_zero_by_construction() -> None:
    row = score_quantity("revenue_usd", "2026-01", np.zeros(400), 0.0, rng=1)
    assert row.crps == 0.0 and row.median == 0.0 and row.n_draws == 400
    assert row.pit == np.random.default_rng(1).uniform()
    assert dict(row.coverage) == {50: None, 80: None, 90: None}
    assert "50%/80%/90% intervals not scored as hits" in row.note
    assert "point mass" in row.note


def test_score_quantity_scores_like_the_parts() -> None:
    draws = np.arange(101.0)
    row = score_quantity("shipments", "2026-02..2026-04", draws, 50.0, rng=2)
    assert row.crps == crps_sample(draws, 50.0)
    assert row.pit == pytest.approx((50 + np.random.default_rng(2).uniform()) / 101)
    assert dict(row.coverage) == {50: True, 80: True, 90: True} and row.note == ""
    rec = row.as_record()
    assert (rec["lo-90"], rec["hi-90"], rec["cover-90"]) == (5.0, 95.0, True)
    assert list(rec)[-1] == "note"
    assert score_quantity("x", "p", draws, 3.0, rng=2, fair=True).crps == crps_sample(
        draws, 3.0, fair=True
    )


@pytest.mark.parametrize(
    ("draws", "observed", "reason"),
    [
        (np.arange(5.0), None, "not a finite number"),
        (np.arange(5.0), math.nan, "not a finite number"),
        (np.array([]), 1.0, "no draws"),
        (np.array([1.0, np.inf, np.nan]), 1.0, "2 of 3 draws are not finite"),
    ],
)
def test_score_quantity_says_why_it_cannot_score(
    draws: np.ndarray, observed: float | None, reason: str
) -> None:
    row = score_quantity("q", "2026-01", draws, observed, rng=0)
    assert not row.scored and row.crps is None and row.pit is None
    assert reason in row.note


def test_coverage_table_counts_only_scorable_intervals() -> None:
    """The outside measurement's case: two degenerate hits are not 2 of 3 covered."""
    rng = np.random.default_rng(9)
    rows = [
        score_quantity("revenue_usd", "2026-01", np.zeros(500), 0.0, rng=rng),
        score_quantity(
            "production", "2026-02", np.r_[np.full(960, 2.0), np.arange(3.0, 43.0)], 2.0, rng=rng
        ),
        score_quantity("shipments", "2026-03", np.arange(101.0), 99.5, rng=rng),
        unscored("shipments", "2027-06", 10.0, "outside the forecast's months 2026-01..2026-12"),
        score_quantity("revenue_usd", "2026-01", guidance(0.0), 0.0, rng=rng, forecast="guidance"),
        score_quantity(
            "shipments", "2026-03", no_change(60.0), 99.5, rng=rng, forecast="no-change"
        ),
    ]
    table = {(line.forecast, line.level): line for line in coverage_table(rows)}
    assert len(table) == 9
    model90 = table["model", 90]
    assert (model90.scored, model90.hits, model90.point_masses, model90.unscored) == (1, 0, 2, 1)
    assert model90.rate == 0.0 and model90.nominal == 0.9
    assert table["guidance", 50].rate is None and table["guidance", 50].point_masses == 1
    assert (table["no-change", 80].scored, table["no-change", 80].hits) == (1, 0)
    assert rows[3].note.startswith("outside")
    assert coverage_table([], levels=[90]) == []


def test_baselines_are_point_masses_scored_like_the_model() -> None:
    assert no_change(5.0).tolist() == [5.0]
    assert guidance(0.0, n=3).tolist() == [0.0, 0.0, 0.0]
    assert crps_sample(no_change(5.0), 3.0) == 2.0
    assert crps_sample(guidance(0.0), 2.5e9) == 2.5e9
    row = score_quantity("revenue_usd", "2026-Q1", guidance(0.0), 1e9, rng=0, forecast="guidance")
    assert row.crps == 1e9 and row.pit == 1.0 and set(row.coverage.values()) == {False}
    with pytest.raises(ValueError, match="finite"):
        point_mass(math.nan)
    with pytest.raises(ValueError, match="at least one"):
        point_mass(1.0, n=0)
