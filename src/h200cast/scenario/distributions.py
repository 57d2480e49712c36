"""Parameter values: a point or a distribution, each with its evidence.

A parameter is written in YAML as a point (``value: 0.25``) or as one of four
distributions (``dist: triangular | uniform | lognormal | truncnormal``). Each spec
maps uniform numbers in (0, 1) to values through its quantile function, so that a
Latin hypercube of uniforms becomes a Latin hypercube of parameters, and names its
central value (the mode of a triangular, the median otherwise) for ``--point`` runs.

The normal quantile is computed here in numpy (Acklam's rational approximation,
relative error below 1.2e-9, far inside what Monte Carlo sampling can resolve) so
that a run does not pay scipy's import time (about 0.5 s here);
``tests/scenario/test_distributions.py`` checks it against scipy.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

EvidenceId = Annotated[
    str, Field(pattern=r"^[LS]\d{3}$", description="an id in data/evidence/facts.csv")
]


class _Spec(BaseModel):
    """Fields every parameter carries: unit, evidence, assumption."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: str = Field(description="unit of the value, e.g. units, USD, share, months")
    evidence: list[EvidenceId] = Field(
        default_factory=list, description="ids of the facts behind the value"
    )
    assumption: str | None = Field(
        default=None,
        description="one-line reason for any part of the value not read off the evidence",
    )
    note: str | None = Field(default=None, description="how the value follows from the evidence")

    @model_validator(mode="after")
    def _cited(self) -> _Spec:
        if not self.evidence and not (self.assumption and self.assumption.strip()):
            raise ValueError("needs `evidence: [ids]` or `assumption: <reason>`")
        return self

    def bounds(self) -> tuple[float, float]:
        """Smallest and largest value the spec can produce."""
        raise NotImplementedError

    def central(self) -> float:
        """The value a ``--point`` run uses."""
        raise NotImplementedError

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function: uniforms in (0, 1) to values."""
        raise NotImplementedError

    def numbers(self) -> dict[str, float]:
        """The numeric fields that define the spec, by name (for domain checks)."""
        return {
            k: v for k, v in self.model_dump().items() if isinstance(v, float | int) and k != "unit"
        }


class Point(_Spec):
    """A fixed value."""

    value: float

    def bounds(self) -> tuple[float, float]:
        return (self.value, self.value)

    def central(self) -> float:
        return self.value

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value)


class Triangular(_Spec):
    """Triangular distribution on [low, high] with its peak at mode."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(
                f"expected low <= mode <= high, got low={self.low}, mode={self.mode}, high={self.high}"
            )
        return self

    def bounds(self) -> tuple[float, float]:
        return (self.low, self.high)

    def central(self) -> float:
        return self.mode

    def ppf(self, u: np.ndarray) -> np.ndarray:
        a, c, b = self.low, self.mode, self.high
        if b == a:
            return np.full(np.shape(u), a)
        fc = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
        return np.where(u < fc, left, right)


class Uniform(_Spec):
    """Uniform distribution on [low, high]."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if not self.low <= self.high:
            raise ValueError(f"expected low <= high, got low={self.low}, high={self.high}")
        return self

    def bounds(self) -> tuple[float, float]:
        return (self.low, self.high)

    def central(self) -> float:
        return 0.5 * (self.low + self.high)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + u * (self.high - self.low)


_Z95 = 1.6448536269514722  # standard normal 95th percentile


class Lognormal(_Spec):
    """Lognormal distribution given by its 5th (low) and 95th (high) percentiles."""

    dist: Literal["lognormal"]
    low: float = Field(gt=0, description="5th percentile")
    high: float = Field(gt=0, description="95th percentile")

    @model_validator(mode="after")
    def _order(self) -> Lognormal:
        if not self.low < self.high:
            raise ValueError(f"expected low < high, got low={self.low}, high={self.high}")
        return self

    def _mu_sigma(self) -> tuple[float, float]:
        lo, hi = math.log(self.low), math.log(self.high)
        return 0.5 * (lo + hi), (hi - lo) / (2 * _Z95)

    def bounds(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def central(self) -> float:
        return math.sqrt(self.low * self.high)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        mu, sigma = self._mu_sigma()
        return np.exp(mu + sigma * norm_ppf(u))


class TruncNormal(_Spec):
    """Normal distribution with mean and sd, truncated to [low, high]."""

    dist: Literal["truncnormal"]
    mean: float
    sd: float = Field(gt=0)
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> TruncNormal:
        if not self.low < self.high:
            raise ValueError(f"expected low < high, got low={self.low}, high={self.high}")
        return self

    def bounds(self) -> tuple[float, float]:
        return (self.low, self.high)

    def _cdf_bounds(self) -> tuple[float, float]:
        return norm_cdf((self.low - self.mean) / self.sd), norm_cdf(
            (self.high - self.mean) / self.sd
        )

    def central(self) -> float:
        return float(self.ppf(np.array([0.5]))[0])

    def ppf(self, u: np.ndarray) -> np.ndarray:
        fa, fb = self._cdf_bounds()
        x = self.mean + self.sd * norm_ppf(fa + np.asarray(u) * (fb - fa))
        return np.clip(x, self.low, self.high)


def _kind(spec: Any) -> str:
    if isinstance(spec, dict):
        return spec.get("dist", "point")
    return getattr(spec, "dist", "point")


ParamSpec = _Spec
"""Base class of every parameter spec (for ``isinstance`` checks)."""

Spec = Annotated[
    Annotated[Point, Tag("point")]
    | Annotated[Triangular, Tag("triangular")]
    | Annotated[Uniform, Tag("uniform")]
    | Annotated[Lognormal, Tag("lognormal")]
    | Annotated[TruncNormal, Tag("truncnormal")],
    Discriminator(
        _kind,
        custom_error_type="invalid_dist",
        custom_error_message="expected `value: x` or `dist:` one of triangular, uniform, lognormal, truncnormal",
    ),
]
"""A parameter: a point value or a distribution, told apart by its ``dist`` key."""


# --- normal distribution in numpy -----------------------------------------------------

_A = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
_B = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
)
_C = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)


def norm_cdf(x: float) -> float:
    """Standard normal CDF of a scalar."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def norm_ppf(p: np.ndarray) -> np.ndarray:
    """Standard normal quantile, vectorised; p outside (0, 1) gives -inf/inf."""
    p = np.asarray(p, dtype=float)
    q = np.minimum(p, 1.0 - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        # central region
        r = p - 0.5
        s = r * r
        central = (
            (((((_A[0] * s + _A[1]) * s + _A[2]) * s + _A[3]) * s + _A[4]) * s + _A[5])
            * r
            / (((((_B[0] * s + _B[1]) * s + _B[2]) * s + _B[3]) * s + _B[4]) * s + 1.0)
        )
        # tails, computed on min(p, 1-p) and given the sign of p - 0.5
        t = np.sqrt(-2.0 * np.log(q))
        tail = (((((_C[0] * t + _C[1]) * t + _C[2]) * t + _C[3]) * t + _C[4]) * t + _C[5]) / (
            (((_D[0] * t + _D[1]) * t + _D[2]) * t + _D[3]) * t + 1.0
        )
        tail = np.where(p < 0.5, tail, -tail)
        x = np.where(q < 0.02425, tail, central)
    x = np.where(p <= 0.0, -np.inf, x)
    return np.where(p >= 1.0, np.inf, x)
