"""The parameter schema, and how YAML files become one validated scenario.

A scenario is built in layers, as PyPSA-Eur builds its configs: ``params/base.yaml``
holds every model input; a stance file (``params/stances/NAME.yaml``) or a stance path
(``params/paths/NAME.yaml`` with the stance files it names) adds Beijing's levers; and
``--set KEY=VALUE`` overrides come last. The layers are merged first, then the merged
tree is validated once by the pydantic models below. Any error names the file that set
the bad key, the dotted key, the value and what was expected.

In the EMA Workbench's words: the parameters under ``demand``, ``us``, ``supply``,
``money`` and ``domestic`` are uncertainties (what we do not know); a stance's levers
are what Beijing chooses; the model's metrics are the outcomes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from h200cast.scenario.distributions import EvidenceId, ParamSpec, Spec

STANCES: tuple[StanceName, ...] = (
    "customs_ban",
    "rd_exemption",
    "necessity_only",
    "domestic_quota",
    "selective_approval",
    "open_market",
)
"""Beijing's stances. ``customs_ban`` is the strictest and ``open_market`` the loosest; the four
between limit purchases in different ways and are not ordered among themselves."""

StanceName = Literal[
    "customs_ban",
    "rd_exemption",
    "necessity_only",
    "domestic_quota",
    "selective_approval",
    "open_market",
]
MonthStr = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="a month, YYYY-MM")]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A finite number: an int or a float, never true/false, text, NaN or infinity."""
Count = Annotated[int, Field(strict=True)]
"""A whole number, never true/false, text or a float."""

NOT_A_NUMBER = "expected a valid number: finite, and not text, true/false, NaN or infinity"
_MESSAGES = {
    "float_type": NOT_A_NUMBER,
    "finite_number": NOT_A_NUMBER,
    "int_type": "expected a whole number (not text, true/false or a decimal)",
}
"""Pydantic's wording of a wrong type, replaced by ours."""


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _numbers_strict(raw: Any) -> Any:
    """Reject a spec whose numbers are text, true/false, NaN or infinity (before pydantic converts)."""
    if isinstance(raw, dict):
        for k in ("value", "low", "mode", "high", "mean", "sd"):
            if k in raw and not _is_number(raw[k]):
                raise PydanticCustomError("spec_number", NOT_A_NUMBER, {"key": k, "value": raw[k]})
    return raw


StrictSpec = Annotated[Spec, BeforeValidator(_numbers_strict)]
"""A parameter spec whose numbers must be finite numbers as written (no conversion)."""


def _located(key: str, value: Any, message: str) -> PydanticCustomError:
    """An error found by a model validator, placed at the dotted ``key`` below the model."""
    return PydanticCustomError("located", message, {"key": key, "value": value})


# --- parameter domains ----------------------------------------------------------------


@dataclass(frozen=True)
class Domain:
    """Where a parameter's values must lie, as ``Annotated`` metadata on a spec field.

    ``x: Annotated[StrictSpec, NonNeg("what x is")]`` rejects a spec that can produce a
    value outside [lo, hi], describes the field in the JSON Schema as "what x is (a value
    >= 0)" and adds its bounds there as ``x-domain``.
    """

    lo: float
    hi: float
    what: str
    description: str

    def check(self, spec: ParamSpec) -> ParamSpec:
        s_lo, s_hi = spec.bounds()
        if s_lo < self.lo or s_hi > self.hi:
            bad = {k: v for k, v in spec.numbers().items() if k in ("value", "low", "mode", "high")}
            shown = ", ".join(f"{k}={v:g}" for k, v in bad.items())
            raise ValueError(f"expected {self.what}, got {shown}")
        return spec

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        js = handler(schema)
        js["description"] = f"{self.description} ({self.what})"
        js["x-domain"] = [self.lo, self.hi]
        return js


INF = float("inf")


def Share(d: str) -> Domain:
    return Domain(0.0, 1.0, "a share in [0, 1]", d)


def NonNeg(d: str) -> Domain:
    return Domain(0.0, INF, "a value >= 0", d)


def Positive(d: str) -> Domain:
    return Domain(1e-12, INF, "a value > 0", d)


def Growth(d: str) -> Domain:
    return Domain(-0.99, 10.0, "a yearly growth rate in [-0.99, 10]", d)


def NonPos(d: str) -> Domain:
    return Domain(-INF, 0.0, "a value <= 0", d)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- the schema -------------------------------------------------------------------------


class Calendar(_Strict):
    """The monthly time grid."""

    start: MonthStr = Field(description="first month of the forecast")
    horizon_months: Count = Field(ge=1, le=240, description="number of monthly steps")


class Sampling(_Strict):
    """How the Monte Carlo draws are made."""

    method: Literal["lhs", "random"] = Field(description="Latin hypercube or plain random")


class Demand(_Strict):
    """China's demand for H200s."""

    order_book_units: Annotated[StrictSpec, NonNeg("H200s ordered by Chinese buyers at the start")]
    order_delivery_months: Annotated[
        StrictSpec, Positive("months over which buyers wanted the order book delivered")
    ]
    new_orders_units_per_month: Annotated[
        StrictSpec, NonNeg("new H200 orders per month once the order book is delivered")
    ]
    ai_spending_growth_per_year: Annotated[
        StrictSpec, Growth("growth of China's AI accelerator spending")
    ]
    price_elasticity: Annotated[StrictSpec, NonPos("elasticity of H200 demand to its price")]
    reference_price_usd: Annotated[StrictSpec, Positive("price at which the order book was quoted")]
    backlog_persistence: Annotated[
        StrictSpec,
        Share("share of permitted but not yet ordered H200 intentions still held the next month"),
    ]
    blocked_persistence: Annotated[
        StrictSpec,
        Share(
            "share of H200 intentions Beijing did not permit that buyers still hold the next month"
        ),
    ]
    firm_order_persistence: Annotated[
        StrictSpec,
        Share("share of firm H200 orders not yet shipped that stay on order the next month"),
    ]
    alternatives_sensitivity: Annotated[
        StrictSpec,
        Share("how far spare domestic capacity cuts the persistence of waiting intentions"),
    ]
    lost_to_domestic_share: Annotated[
        StrictSpec,
        Share(
            "share of unserved foreign-preferring demand that takes domestic chips when they are available"
        ),
    ]
    grey_performance_ratio: Annotated[
        StrictSpec,
        Domain(
            1.0,
            INF,
            "a ratio >= 1",
            "performance of the foreign chip buyers cannot get legally over the domestic alternative",
        ),
    ]
    grey_supply_units_per_month: Annotated[
        StrictSpec, NonNeg("accelerators grey channels can deliver a month at 2025 enforcement")
    ]
    grey_enforcement: Annotated[
        StrictSpec,
        Share(
            "share of grey supply stopped by US export enforcement and Chinese customs beyond 2025's"
        ),
    ]


class Buyers(_Strict):
    """Chinese buyers: when permitted intentions become firm orders."""

    terms_final_prob_per_month: Annotated[
        StrictSpec,
        Share("monthly chance that licence and purchase terms become final, once they can"),
    ]
    never_convert_prob: Annotated[
        StrictSpec,
        Share("chance that buyers place no firm order within the horizon (terms never acceptable)"),
    ]
    conversion_per_month: Annotated[
        StrictSpec,
        Share(
            "share of permitted intentions that become firm orders each month once terms are final"
        ),
    ]


class USRule(_Strict):
    """Washington's side: review, licences, the volume cap, the duty, the chance of tightening."""

    fee_rate: Annotated[
        StrictSpec, Share("Section 232 duty rate on the customs value of chips entering the US")
    ]
    customs_value_share: Annotated[
        StrictSpec, Share("customs value declared at US entry as a share of the China price")
    ]
    duty_collection_prob: Annotated[StrictSpec, Share("chance that the duty is actually collected")]
    duty_pass_through: Annotated[
        StrictSpec, Share("share of the duty passed on to the price Chinese buyers pay")
    ]
    entry_lead_months: Annotated[
        StrictSpec,
        NonNeg("months from US entry for third-party testing to arrival at Beijing's customs"),
    ]
    china_cap_share_of_us_volume: Annotated[
        StrictSpec, NonNeg("China volume allowed per unit shipped to US customers")
    ]
    us_cumulative_units_before: Annotated[
        StrictSpec, NonNeg("US-customer volume counted under the cap before the forecast starts")
    ]
    us_units_per_month: Annotated[
        StrictSpec, NonNeg("H200s shipped to US customers per month during the forecast")
    ]
    licence_lag_months: Annotated[
        StrictSpec, NonNeg("months until the interagency review ends when it does not stall")
    ]
    review_stall_prob: Annotated[
        StrictSpec, Share("chance that the State/Defense/Energy review stalls")
    ]
    stall_exit_prob_per_month: Annotated[
        StrictSpec, Share("monthly chance that a stalled review ends")
    ]
    licence_units: Annotated[StrictSpec, NonNeg("H200s in one licence for one named buyer")]
    licensed_buyers: Annotated[StrictSpec, NonNeg("named buyers licensed in each round")]
    licence_every_months: Annotated[StrictSpec, Positive("months between rounds of licences")]
    retighten_prob_per_month: Annotated[
        StrictSpec, Share("monthly chance that the administration stops H200 sales to China again")
    ]
    congress_block_prob_per_month: Annotated[
        StrictSpec, Share("monthly chance that Congress blocks H200 licences (AI Overwatch Act)")
    ]


class Supply(_Strict):
    """What Nvidia can ship."""

    inventory_units: Annotated[StrictSpec, NonNeg("H200s (and GH200s) in stock at the start")]
    production_lead_months: Annotated[
        StrictSpec, NonNeg("months from the start until new production for China arrives")
    ]
    production_units_per_month: Annotated[
        StrictSpec, NonNeg("new H200s made for China per month once production runs")
    ]
    production_stop_month: Count | None = Field(
        default=None,
        ge=0,
        description="month index (0 = start) from which production for China stops; null = never",
    )
    reallocation_per_month: Annotated[
        StrictSpec,
        Share(
            "share of China stock not covered by firm orders re-allocated to other customers each month"
        ),
    ]
    writedown_share: Annotated[
        StrictSpec, Share("share of China stock written down when Washington closes sales")
    ]


class Money(_Strict):
    """Prices."""

    price_usd: Annotated[StrictSpec, Positive("average selling price of one H200")]


class Domestic(_Strict):
    """Domestic Chinese accelerators."""

    reference_month: MonthStr = Field(description="month at which share_at_reference applies")
    share_at_reference: Annotated[
        StrictSpec,
        Share("domestic share of China's new AI accelerator deployments at the reference month"),
    ]
    logit_speed_per_year: Annotated[
        StrictSpec, NonNeg("speed of the S-curve: yearly rise of the share's log-odds")
    ]
    market_units_per_month: Annotated[
        StrictSpec, NonNeg("China's AI accelerator deployments per month at the reference month")
    ]
    capacity_multiple_2026: Annotated[
        StrictSpec,
        Positive(
            "domestic output 12 months after the reference month, as a multiple of domestic deployments at it"
        ),
    ]
    capacity_growth_per_year: Annotated[
        StrictSpec,
        Growth("yearly growth of domestic output from 12 months after the reference month"),
    ]
    capacity_order_response: Annotated[
        StrictSpec, Share("share of unmet domestic demand added to domestic capacity per year")
    ]


class Beijing(_Strict):
    """What Beijing allows under every stance."""

    special_cases_share: Annotated[
        StrictSpec,
        Share("share of fresh demand allowed as special cases (university R&D) under any stance"),
    ]
    customs_refusal_share: Annotated[
        StrictSpec,
        Share("share of tested H200s Beijing's customs refuse under a stance that admits them"),
    ]


class Approvals(_Strict):
    """Batches of approved volume for named firms."""

    initial_batch_units: Annotated[StrictSpec, NonNeg("volume approved in the first batch")]
    follow_on_batch_units: Annotated[StrictSpec, NonNeg("volume approved in each later batch")]
    follow_on_every_months: Annotated[StrictSpec, Positive("months between later batches")]
    conversion_per_month: Annotated[
        StrictSpec, Share("share of approved-but-unused volume that turns into orders each month")
    ]
    eligible_share: Annotated[
        StrictSpec,
        Share("share of demand from firms eligible for approval (state-backed firms excluded)"),
    ]


class DomesticQuota(_Strict):
    """A quota of domestic chips to buy before each H200."""

    ratio: Annotated[StrictSpec, Positive("domestic chips to be bought per H200")]
    buyer_share: Annotated[
        StrictSpec, Share("share of domestic chip purchases made by firms that want H200s")
    ]


class Stance(_Strict):
    """One of Beijing's stances and its levers.

    A lever set to null does not limit purchases. Special cases
    (``beijing.special_cases_share``) are allowed under every stance.
    """

    name: StanceName
    description: str
    evidence: list[EvidenceId] = Field(min_length=1)
    permitted_share: (
        Annotated[StrictSpec, Share("share of demand Beijing lets firms buy outright")] | None
    ) = None
    domestic_quota: DomesticQuota | None = None
    approvals: Approvals | None = None
    substitution_push: Annotated[
        StrictSpec, NonNeg("multiplier on the S-curve's speed while the stance holds")
    ]


class _Cited(_Strict):
    """A judgement that cites evidence ids or gives its reason as an assumption."""

    evidence: list[EvidenceId] = Field(default_factory=list)
    assumption: str | None = None

    @model_validator(mode="after")
    def _cited(self) -> _Cited:
        if not self.evidence and not self.assumption:
            raise ValueError("needs `evidence: [ids]` or `assumption: <reason>`")
        return self


class PathStep(_Cited):
    """From a date on, a stance holds."""

    start: dt.date = Field(description="first day the stance holds")
    stance: StanceName


class StancePath(_Strict):
    """Stances that change at dates; the last one holds to the end."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str
    steps: list[PathStep] = Field(min_length=1)

    @field_validator("steps")
    @classmethod
    def _sorted(cls, steps: list[PathStep]) -> list[PathStep]:
        dates = [s.start for s in steps]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError(
                f"expected strictly increasing start dates, got {[str(d) for d in dates]}"
            )
        return steps


def _probabilities(row: dict[str, float], what: str) -> dict[str, float]:
    bad = {k: v for k, v in row.items() if not 0.0 <= v <= 1.0}
    if bad:
        raise ValueError(f"expected probabilities in [0, 1], got {bad}")
    total = sum(row.values())
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"expected {what} to sum to 1, got {total:.12g}")
    return row


class DecisionRow(_Strict):
    """Where a stance goes at a decision point (cited once, at the decision point)."""

    to: dict[StanceName, Number] = Field(
        description="probability of each stance next month; sums to 1"
    )

    @field_validator("to")
    @classmethod
    def _sum(cls, to: dict[str, float]) -> dict[str, float]:
        return _probabilities(to, "the probabilities of a row")


class Transition(DecisionRow, _Cited):
    """Where a stance goes next month: probabilities by stance, with their grounds."""


class DecisionPoint(_Cited):
    """A dated decision (a summit, a deadline): the step into its month uses its own rows."""

    month: MonthStr = Field(description="the month whose transition uses these rows")
    transitions: dict[StanceName, DecisionRow]


class Switching(_Strict):
    """A Markov chain over stances: Beijing's future stance as an uncertainty.

    Before ``start`` the stance path holds; from ``start`` on, each draw's stance moves
    month by month with the probabilities in ``transitions``, beginning from ``initial``.
    At a ``decision_points`` month the step into that month uses the decision's rows
    instead (for the stances it lists), so the chain is not time-homogeneous.
    """

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str
    history_path: str | None = Field(
        default=None, description="a params/paths file for the months before start"
    )
    start: dt.date = Field(description="first day the chain applies; the first day of a month")
    initial: dict[StanceName, Number] = Field(
        description="probability of each stance at start; sums to 1"
    )
    transitions: dict[StanceName, Transition]
    decision_points: list[DecisionPoint] = Field(default_factory=list)

    @field_validator("start")
    @classmethod
    def _first_of_month(cls, start: dt.date) -> dt.date:
        if start.day != 1:
            raise ValueError(f"expected the first day of a month, got {start}")
        return start

    @field_validator("initial")
    @classmethod
    def _initial(cls, initial: dict[str, float]) -> dict[str, float]:
        return _probabilities(initial, "the initial probabilities")

    @model_validator(mode="after")
    def _closed(self) -> Switching:
        reachable = {s for s, p in self.initial.items() if p > 0}
        reachable |= {t for row in self.transitions.values() for t, p in row.to.items() if p > 0}
        for dp in self.decision_points:
            reachable |= {t for row in dp.transitions.values() for t, p in row.to.items() if p > 0}
        missing = sorted(reachable - set(self.transitions))
        if missing:
            raise ValueError(f"stances the chain can reach have no transition row: {missing}")
        return self

    def stances(self) -> set[str]:
        """Every stance the chain names."""
        targets = {t for r in self.transitions.values() for t in r.to}
        for dp in self.decision_points:
            targets |= {t for r in dp.transitions.values() for t in r.to}
        return set(self.initial) | set(self.transitions) | targets


class BaseParams(_Strict):
    """Everything in ``params/base.yaml``."""

    calendar: Calendar
    sampling: Sampling
    demand: Demand
    buyers: Buyers
    us: USRule
    supply: Supply
    money: Money
    domestic: Domestic
    beijing: Beijing


class Scenario(BaseParams):
    """A whole, validated scenario: base inputs, the stances in play and the stance path."""

    stances: dict[StanceName, Stance]
    path: StancePath
    switching: Switching | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        for name, st in self.stances.items():
            if st.name != name:
                raise ValueError(f"stance file for {name!r} says name {st.name!r}")
        used = {s.stance for s in self.path.steps} | (
            self.switching.stances() if self.switching else set()
        )
        missing = sorted(used - set(self.stances))
        if missing:
            raise ValueError(f"stances with no parameters: {missing}")
        start = dt.date.fromisoformat(self.calendar.start + "-01")
        if self.switching:
            months = start.year * 12 + start.month - 1 + self.calendar.horizon_months - 1
            last = dt.date(months // 12, months % 12 + 1, 1)
            if not start <= self.switching.start <= last:
                raise _located(
                    "switching.start",
                    self.switching.start.isoformat(),
                    f"expected the first day of a month from the calendar start {start} to the "
                    f"last month of the horizon {last} ({self.calendar.horizon_months} months)",
                )
        if self.path.steps[0].start > start:
            raise _located(
                "path.steps.0.start",
                self.path.steps[0].start.isoformat(),
                f"the first step starts after the calendar start {start}: "
                "say which stance holds from the start",
            )
        return self

    def digest(self) -> str:
        """SHA-256 of the resolved parameters, for manifests and caches."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()
