"""Parameter distributions against scipy's, and their central values."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as ss
from pydantic import TypeAdapter, ValidationError

from h200cast.engine.sampling import uniforms
from h200cast.scenario.distributions import Spec, norm_ppf

U = np.linspace(0.001, 0.999, 999)
spec = TypeAdapter(Spec).validate_python


def test_norm_ppf_matches_scipy() -> None:
    p = np.concatenate([U, [1e-12, 1e-6, 0.02425, 0.97575, 1 - 1e-6]])
    np.testing.assert_allclose(norm_ppf(p), ss.norm.ppf(p), rtol=2e-9, atol=2e-9)
    assert norm_ppf(np.array([0.0]))[0] == -np.inf
    assert norm_ppf(np.array([1.0]))[0] == np.inf


@pytest.mark.parametrize(
    ("data", "ref", "central"),
    [
        (
            {"dist": "triangular", "low": 1, "mode": 2, "high": 5},
            ss.triang(c=0.25, loc=1, scale=4),
            2,
        ),
        (
            {"dist": "triangular", "low": 1, "mode": 1, "high": 9},
            ss.triang(c=0.0, loc=1, scale=8),
            1,
        ),
        ({"dist": "uniform", "low": -2, "high": 6}, ss.uniform(loc=-2, scale=8), 2),
        (
            {"dist": "lognormal", "low": 10, "high": 1000},
            ss.lognorm(s=np.log(100) / (2 * 1.6448536269514722), scale=100),
            100,
        ),
        (
            {"dist": "truncnormal", "mean": 0.4, "sd": 0.2, "low": 0.0, "high": 1.0},
            ss.truncnorm(a=-2, b=3, loc=0.4, scale=0.2),
            None,
        ),
    ],
)
def test_ppf_and_central_match_scipy(data: dict, ref, central: float | None) -> None:
    s = spec({**data, "unit": "x", "assumption": "test"})
    np.testing.assert_allclose(s.ppf(U), ref.ppf(U), rtol=1e-7, atol=1e-9)
    assert s.central() == pytest.approx(central if central is not None else ref.median(), rel=1e-7)


def test_point_is_constant() -> None:
    s = spec({"value": 3.5, "unit": "x", "evidence": ["L001"]})
    assert (s.ppf(U) == 3.5).all()
    assert s.central() == 3.5


@pytest.mark.parametrize(
    "data",
    [
        {"dist": "triangular", "low": 3, "mode": 2, "high": 5},
        {"dist": "triangular", "low": 1, "mode": 6, "high": 5},
        {"dist": "uniform", "low": 2, "high": 1},
        {"dist": "lognormal", "low": 0, "high": 3},
        {"dist": "truncnormal", "mean": 0, "sd": 0, "low": 0, "high": 1},
        {"dist": "beta", "low": 0, "high": 1},
        {"value": 1, "dist": "uniform", "low": 0, "high": 1},
        {"value": "many"},
    ],
)
def test_bad_specs_are_rejected(data: dict) -> None:
    with pytest.raises(ValidationError):
        spec({**data, "unit": "x", "assumption": "test"})


def test_a_spec_needs_evidence_or_assumption() -> None:
    with pytest.raises(ValidationError, match="evidence"):
        spec({"value": 1, "unit": "x"})


def test_lhs_uniforms_are_stratified_and_seeded() -> None:
    u = uniforms(1, "k", 500)
    assert sorted(np.floor(u * 500).astype(int).tolist()) == list(range(500))
    np.testing.assert_array_equal(u, uniforms(1, "k", 500))
    assert not np.array_equal(u, uniforms(2, "k", 500))
    assert not np.array_equal(u, uniforms(1, "other", 500))
    r = uniforms(1, "k", 500, "random")
    assert ((r > 0) & (r < 1)).all() and not np.array_equal(r, u)
