"""Parameter specs by hand: quantiles at known points, bounds, central values, their fields."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from h200cast.scenario.distributions import (
    Lognormal,
    Point,
    Spec,
    Triangular,
    TruncNormal,
    Uniform,
    norm_cdf,
    norm_ppf,
)

spec = TypeAdapter(Spec).validate_python
Z95 = 1.6448536269514722


def make(**data: object):
    return spec({"unit": "x", "assumption": "test", **data})


def test_triangular_quantiles_by_hand() -> None:
    # low 0, mode 2, high 4 (symmetric): F(2) = 0.5. u = 0.125: sqrt(0.125 x 4 x 2) = 1;
    # u = 0.875: 4 - sqrt(0.125 x 4 x 2) = 3; the ends are the bounds.
    s = make(dist="triangular", low=0, mode=2, high=4)
    np.testing.assert_allclose(s.ppf(np.array([0.0, 0.125, 0.5, 0.875, 1.0])), [0, 1, 2, 3, 4])
    # skewed: low 0, mode 1, high 4, F(mode) = 0.25; u = 0.25 is the mode from both sides
    t = make(dist="triangular", low=0, mode=1, high=4)
    assert t.ppf(np.array([0.25]))[0] == pytest.approx(1.0)
    # u = 0.0625: sqrt(0.0625 x 4 x 1) = 0.5; u = 0.8125: 4 - sqrt(0.1875 x 4 x 3) = 2.5
    np.testing.assert_allclose(t.ppf(np.array([0.0625, 0.8125])), [0.5, 2.5])
    assert (t.bounds(), t.central()) == ((0.0, 4.0), 1.0)


def test_a_degenerate_triangular_is_its_point() -> None:
    s = make(dist="triangular", low=3, mode=3, high=3)
    out = s.ppf(np.array([0.0, 0.3, 1.0]))
    assert out.shape == (3,)
    np.testing.assert_array_equal(out, [3, 3, 3])
    assert s.bounds() == (3, 3)


def test_uniform_by_hand() -> None:
    s = make(dist="uniform", low=-2, high=6)
    np.testing.assert_allclose(s.ppf(np.array([0.0, 0.25, 1.0])), [-2, 0, 6])
    assert s.bounds() == (-2.0, 6.0)
    assert s.central() == 2.0
    assert isinstance(s, Uniform)
    # low == high is allowed: a point
    assert make(dist="uniform", low=1, high=1).ppf(np.array([0.7]))[0] == 1


def test_lognormal_percentiles_are_low_and_high() -> None:
    # P5 = 10 and P95 = 1,000: the median is sqrt(10 x 1,000) = 100, mu = ln 100,
    # sigma = ln 100 / (2 x 1.645).
    s = make(dist="lognormal", low=10, high=1000)
    np.testing.assert_allclose(s.ppf(np.array([0.05, 0.5, 0.95])), [10, 100, 1000], rtol=1e-8)
    assert s.central() == pytest.approx(100)
    mu, sigma = s._mu_sigma()
    assert mu == pytest.approx(math.log(100))
    assert sigma == pytest.approx(math.log(100) / (2 * Z95))
    assert s.bounds() == (0.0, math.inf)
    assert isinstance(s, Lognormal)


def test_truncnormal_stays_in_its_bounds_and_maps_the_ends_to_them() -> None:
    # mean 0, sd 1 on [-1, 1]: symmetric, so the median is 0; u = 0 and 1 give -1 and 1;
    # u = 0.25 is the normal quantile of 0.5 x (F(-1) + F(1)) - 0.25 x (F(1) - F(-1)).
    s = make(dist="truncnormal", mean=0, sd=1, low=-1, high=1)
    assert s.central() == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(s.ppf(np.array([0.0, 1.0])), [-1, 1], rtol=1e-9)
    fa, fb = s._cdf_bounds()
    assert (fa, fb) == pytest.approx((0.15865525393145707, 0.8413447460685429))
    x = s.ppf(np.linspace(0, 1, 101))
    assert (x >= -1).all() and (x <= 1).all()
    assert np.all(np.diff(x) > 0)
    assert s.bounds() == (-1.0, 1.0)
    # off-centre: mean 2, sd 1 on [0, 10]: the median is above the mean (the right tail is
    # longer) but within a hair of it, since F(0) = 0.0228 cuts little
    t = make(dist="truncnormal", mean=2, sd=1, low=0, high=10)
    want = 2 + norm_ppf(np.array([0.5 * (norm_cdf(-2.0) + 1.0)]))[0]
    assert t.central() == pytest.approx(want, rel=1e-9)
    assert t.central() > 2
    assert isinstance(t, TruncNormal)


def test_ppf_clips_a_quantile_at_the_bounds() -> None:
    # u = 1 would give +inf from norm_ppf; the clip gives the upper bound.
    s = make(dist="truncnormal", mean=0.5, sd=0.1, low=0.0, high=1.0)
    out = s.ppf(np.array([0.0, 1.0]))
    np.testing.assert_array_equal(out, [0.0, 1.0])


def test_point_spec() -> None:
    s = make(value=2.5)
    assert isinstance(s, Point)
    assert s.bounds() == (2.5, 2.5)
    assert s.central() == 2.5
    assert s.ppf(np.zeros((2, 3))).shape == (2, 3)


def test_numbers_are_the_numeric_fields_only() -> None:
    s = make(dist="triangular", low=1, mode=2, high=5, note="n")
    assert s.numbers() == {"low": 1.0, "mode": 2.0, "high": 5.0}
    assert make(value=3).numbers() == {"value": 3.0}


def test_norm_cdf_and_ppf_at_known_points() -> None:
    assert norm_cdf(0.0) == 0.5
    assert norm_cdf(Z95) == pytest.approx(0.95, abs=1e-12)
    assert norm_cdf(-Z95) == pytest.approx(0.05, abs=1e-12)
    # central region, both tails, and their borders at 0.02425 and 0.97575 (values: scipy)
    p = np.array([0.5, 0.95, 0.05, 0.001, 0.999, 0.02425, 0.97575, 0.3])
    z = norm_ppf(p)
    assert z[0] == 0.0
    assert z[1] == pytest.approx(Z95, rel=1e-8)
    assert z[2] == pytest.approx(-Z95, rel=1e-8)
    assert z[3] == pytest.approx(-3.090232306167813, rel=1e-8)
    assert z[4] == pytest.approx(3.090232306167813, rel=1e-8)
    assert z[5] == pytest.approx(-1.972961051311885, rel=1e-8)
    assert z[6] == pytest.approx(1.972961051311885, rel=1e-8)
    assert z[7] == pytest.approx(-0.5244005127080409, rel=1e-8)
    # out of (0, 1): infinite with the side's sign, never NaN
    out = norm_ppf(np.array([0.0, 1.0, -0.5, 1.5]))
    np.testing.assert_array_equal(out, [-np.inf, np.inf, -np.inf, np.inf])
    assert norm_ppf(0.5).shape == ()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"dist": "triangular", "low": 3, "mode": 2, "high": 5}, "low <= mode <= high"),
        ({"dist": "uniform", "low": 2, "high": 1}, "low <= high"),
        ({"dist": "lognormal", "low": 3, "high": 3}, "low < high"),
        ({"dist": "truncnormal", "mean": 0, "sd": 1, "low": 1, "high": 1}, "low < high"),
        ({"dist": "gamma", "low": 1}, "expected `value: x` or `dist:`"),
    ],
)
def test_bad_specs_say_what_was_expected(data: dict, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        make(**data)


def test_a_spec_with_an_assumption_or_evidence_is_cited() -> None:
    assert make(value=1).assumption == "test"
    assert spec({"value": 1, "unit": "x", "evidence": ["L001"]}).evidence == ["L001"]
    with pytest.raises(ValidationError, match="evidence"):
        spec({"value": 1, "unit": "x", "assumption": "   "})
    assert isinstance(
        spec(
            {
                "dist": "triangular",
                "low": 0,
                "mode": 0,
                "high": 1,
                "unit": "x",
                "evidence": ["S001"],
            }
        ),
        Triangular,
    )


def test_a_spec_object_is_told_apart_by_its_dist_attribute() -> None:
    # Validating a spec that is already an object (not a dict) reads its `dist` attribute;
    # a Point has none and is a point.
    for s in (
        make(value=2.0),
        make(dist="uniform", low=0, high=1),
        make(dist="lognormal", low=1, high=2),
    ):
        again = spec(s)
        assert type(again) is type(s)
        assert again == s


def test_norm_ppf_at_0_and_1_is_infinite_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = norm_ppf(np.array([0.0, 1.0, 0.5]))
    np.testing.assert_array_equal(out, [-np.inf, np.inf, 0.0])
