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
import difflib
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from h200cast.distributions import EvidenceId, Spec
from h200cast.errors import InputError

STANCES: tuple[str, ...] = (
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


def _domain(lo: float, hi: float, what: str) -> Callable[[Any], Any]:
    def check(spec: Any) -> Any:
        s_lo, s_hi = spec.bounds()
        if s_lo < lo or s_hi > hi:
            bad = {k: v for k, v in spec.numbers().items() if k in ("value", "low", "mode", "high")}
            shown = ", ".join(f"{k}={v:g}" for k, v in bad.items())
            raise ValueError(f"expected {what}, got {shown}")
        return spec

    return check


def _param(lo: float, hi: float, what: str, description: str) -> Any:
    return Annotated[
        StrictSpec,
        AfterValidator(_domain(lo, hi, what)),
        Field(description=f"{description} ({what})", json_schema_extra={"x-domain": [lo, hi]}),
    ]


INF = float("inf")


def Share(d: str) -> Any:
    return _param(0.0, 1.0, "a share in [0, 1]", d)


def NonNeg(d: str) -> Any:
    return _param(0.0, INF, "a value >= 0", d)


def Positive(d: str) -> Any:
    return _param(1e-12, INF, "a value > 0", d)


def Growth(d: str) -> Any:
    return _param(-0.99, 10.0, "a yearly growth rate in [-0.99, 10]", d)


def NonPos(d: str) -> Any:
    return _param(-INF, 0.0, "a value <= 0", d)


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

    order_book_units: NonNeg("H200s ordered by Chinese buyers at the start")
    order_delivery_months: Positive("months over which buyers wanted the order book delivered")
    new_orders_units_per_month: NonNeg("new H200 orders per month once the order book is delivered")
    ai_spending_growth_per_year: Growth("growth of China's AI accelerator spending")
    price_elasticity: NonPos("elasticity of H200 demand to its price")
    reference_price_usd: Positive("price at which the order book was quoted")
    backlog_persistence: Share(
        "share of permitted but not yet ordered H200 intentions still held the next month"
    )
    blocked_persistence: Share(
        "share of H200 intentions Beijing did not permit that buyers still hold the next month"
    )
    firm_order_persistence: Share(
        "share of firm H200 orders not yet shipped that stay on order the next month"
    )
    alternatives_sensitivity: Share(
        "how far spare domestic capacity cuts the persistence of waiting intentions"
    )
    lost_to_domestic_share: Share(
        "share of unserved foreign-preferring demand that takes domestic chips when they are available"
    )
    grey_channel_share: Share("share of unserved foreign-preferring demand met by grey channels")

    @model_validator(mode="after")
    def _split(self) -> Demand:
        worst = self.lost_to_domestic_share.bounds()[1] + self.grey_channel_share.bounds()[1]
        if worst > 1.0 + 1e-12:
            raise ValueError(
                "lost_to_domestic_share and grey_channel_share split the same lost demand: "
                f"their upper bounds must add to at most 1, got {worst:g}"
            )
        return self


class Buyers(_Strict):
    """Chinese buyers: when permitted intentions become firm orders."""

    terms_final_prob_per_month: Share(
        "monthly chance that licence and purchase terms become final, once they can"
    )
    never_convert_prob: Share(
        "chance that buyers place no firm order within the horizon (terms never acceptable)"
    )
    conversion_per_month: Share(
        "share of permitted intentions that become firm orders each month once terms are final"
    )


class USRule(_Strict):
    """Washington's side: review, licences, the volume cap, the duty, the chance of tightening."""

    fee_rate: Share("Section 232 duty rate on the customs value of chips entering the US")
    customs_value_share: Share("customs value declared at US entry as a share of the China price")
    duty_collection_prob: Share("chance that the duty is actually collected")
    duty_pass_through: Share("share of the duty passed on to the price Chinese buyers pay")
    china_cap_share_of_us_volume: NonNeg("China volume allowed per unit shipped to US customers")
    us_cumulative_units_before: NonNeg(
        "US-customer volume counted under the cap before the forecast starts"
    )
    us_units_per_month: NonNeg("H200s shipped to US customers per month during the forecast")
    licence_lag_months: NonNeg("months until the interagency review ends when it does not stall")
    review_stall_prob: Share("chance that the State/Defense/Energy review stalls")
    stall_exit_prob_per_month: Share("monthly chance that a stalled review ends")
    licence_units: NonNeg("H200s in one licence for one named buyer")
    licensed_buyers: NonNeg("named buyers licensed in each round")
    licence_every_months: Positive("months between rounds of licences")
    retighten_prob_per_month: Share(
        "monthly chance that the administration stops H200 sales to China again"
    )
    congress_block_prob_per_month: Share(
        "monthly chance that Congress blocks H200 licences (AI Overwatch Act)"
    )


class Supply(_Strict):
    """What Nvidia can ship."""

    inventory_units: NonNeg("H200s (and GH200s) in stock at the start")
    production_lead_months: NonNeg("months from the start until new production for China arrives")
    production_units_per_month: NonNeg("new H200s made for China per month once production runs")
    production_stop_month: Count | None = Field(
        default=None,
        ge=0,
        description="month index (0 = start) from which production for China stops; null = never",
    )
    reallocation_per_month: Share(
        "share of China stock not covered by firm orders re-allocated to other customers each month"
    )
    writedown_share: Share("share of China stock written down when Washington closes sales")


class Money(_Strict):
    """Prices."""

    price_usd: Positive("average selling price of one H200")


class Domestic(_Strict):
    """Domestic Chinese accelerators."""

    reference_month: MonthStr = Field(description="month at which share_at_reference applies")
    share_at_reference: Share(
        "domestic share of China's new AI accelerator deployments at the reference month"
    )
    logit_speed_per_year: NonNeg("speed of the S-curve: yearly rise of the share's log-odds")
    market_units_per_month: NonNeg(
        "China's AI accelerator deployments per month at the reference month"
    )
    capacity_multiple_2026: Positive(
        "domestic output 12 months after the reference month, as a multiple of domestic deployments at it"
    )
    capacity_growth_per_year: Growth(
        "yearly growth of domestic output from 12 months after the reference month"
    )
    capacity_order_response: Share(
        "share of unmet domestic demand added to domestic capacity per year"
    )


class Beijing(_Strict):
    """What Beijing allows under every stance."""

    special_cases_share: Share(
        "share of fresh demand allowed as special cases (university R&D) under any stance"
    )


class Approvals(_Strict):
    """Batches of approved volume for named firms."""

    initial_batch_units: NonNeg("volume approved in the first batch")
    follow_on_batch_units: NonNeg("volume approved in each later batch")
    follow_on_every_months: Positive("months between later batches")
    conversion_per_month: Share(
        "share of approved-but-unused volume that turns into orders each month"
    )
    eligible_share: Share(
        "share of demand from firms eligible for approval (state-backed firms excluded)"
    )


class DomesticQuota(_Strict):
    """A quota of domestic chips to buy before each H200."""

    ratio: Positive("domestic chips to be bought per H200")
    buyer_share: Share("share of domestic chip purchases made by firms that want H200s")


class Stance(_Strict):
    """One of Beijing's stances and its levers.

    A lever set to null does not limit purchases. Special cases
    (``beijing.special_cases_share``) are allowed under every stance.
    """

    name: StanceName
    description: str
    evidence: list[EvidenceId] = Field(min_length=1)
    permitted_share: Share("share of demand Beijing lets firms buy outright") | None = None
    domestic_quota: DomesticQuota | None = None
    approvals: Approvals | None = None
    substitution_push: NonNeg("multiplier on the S-curve's speed while the stance holds")


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


class Transition(_Cited):
    """Where a stance goes next month: probabilities by stance, with their grounds."""

    to: dict[StanceName, Number] = Field(
        description="probability of each stance next month; sums to 1"
    )

    @field_validator("to")
    @classmethod
    def _sum(cls, to: dict[str, float]) -> dict[str, float]:
        return _probabilities(to, "the probabilities of a row")


class DecisionRow(_Strict):
    """Where a stance goes at a decision point (cited once, at the decision point)."""

    to: dict[StanceName, Number] = Field(
        description="probability of each stance next month; sums to 1"
    )

    @field_validator("to")
    @classmethod
    def _sum(cls, to: dict[str, float]) -> dict[str, float]:
        return _probabilities(to, "the probabilities of a row")


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
        rows = [*self.transitions.values()]
        for dp in self.decision_points:
            rows += dp.transitions.values()
        return set(self.initial) | set(self.transitions) | {t for r in rows for t in r.to}


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


# --- YAML loading, merging and overrides --------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that rejects duplicate keys instead of keeping the last."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"malformed YAML: {where}{problem}", file=path) from None
    if not isinstance(data, dict):
        raise InputError(
            f"expected a mapping of keys at the top level, got {type(data).__name__}", file=path
        )
    return data


@dataclass
class Layers:
    """A merged parameter tree and, for each key, the file (or flag) that set it."""

    tree: dict[str, Any] = field(default_factory=dict)
    origin: dict[tuple[str, ...], str] = field(default_factory=dict)

    def merge(self, data: Mapping[str, Any], source: str, at: tuple[str, ...] = ()) -> None:
        """Merge ``data`` into the tree at key path ``at``.

        Mappings merge key by key, except a parameter spec carrying ``value`` or
        ``dist``: it replaces the spec below it whole, so that a triangular never keeps
        a stray ``mode`` when a layer above makes it uniform.
        """
        node = self.tree
        for k in at:
            node = node.setdefault(k, {})
        self._merge_into(node, data, source, at)

    def _merge_into(
        self, node: dict, data: Mapping[str, Any], source: str, at: tuple[str, ...]
    ) -> None:
        for key, value in data.items():
            key = str(key)
            here = (*at, key)
            if isinstance(value, dict) and isinstance(node.get(key), dict) and not _is_spec(value):
                self._merge_into(node[key], value, source, here)
            else:
                node[key] = _plain(value)
                self._forget_below(here)
                self._record(here, value, source)

    def _record(self, here: tuple[str, ...], value: Any, source: str) -> None:
        self.set_origin(here, source)
        if isinstance(value, dict):
            for k, v in value.items():
                self._record((*here, str(k)), v, source)

    def _forget_below(self, here: tuple[str, ...]) -> None:
        n = len(here)
        for k in [k for k in self.origin if len(k) > n and k[:n] == here]:
            del self.origin[k]

    def set_origin(self, key: tuple[str, ...], source: str) -> None:
        """Record that ``source`` set ``key`` last (``origin`` is kept in order of setting)."""
        self.origin.pop(key, None)
        self.origin[key] = source

    def source_of(self, loc: Iterable[Any]) -> str | None:
        """The file (or flag) most likely to blame for a problem at ``loc``.

        That is whichever layer set ``loc``, one of its parents or one of its children
        last: a ``--set`` on ``a.b.high`` is blamed for a bad ``a.b``, and a problem
        found at a group (``path``) is blamed on the file that filled it.
        """
        loc = tuple(str(x) for x in loc)
        n = len(loc)
        for key in reversed(self.origin):
            m = min(n, len(key))
            if key[:m] == loc[:m]:
                return self.origin[key]
        return None


def _is_spec(d: Mapping[str, Any]) -> bool:
    return "value" in d or "dist" in d or "from_estimate" in d


def resolve_estimates(layers: Layers, params_dir: Path, as_of: dt.date | None = None) -> None:
    """Replace every ``{from_estimate: NAME}`` by the fitted distribution.

    Without ``as_of`` the fit stored by ``h200cast estimate`` in
    ``params/estimates/NAME.yaml`` is read (no refitting, no statsmodels import); with
    ``as_of`` the estimate is refitted on the rows published by that date.
    """
    for loc, node in list(_estimate_nodes(layers.tree)):
        key = ".".join(loc)
        name = node["from_estimate"]
        source = layers.source_of(loc)
        extra = sorted(set(node) - {"from_estimate", "note"})
        if extra:
            raise InputError(
                f"a from_estimate parameter takes only `note` besides, got {extra}",
                file=source,
                key=key,
            )
        if as_of is not None:
            from h200cast.estimate import fit

            stored, where = fit(str(name), as_of).record(), f"estimate {name} as of {as_of}"
        else:
            f = params_dir / "estimates" / f"{name}.yaml"
            if not f.is_file():
                known = ", ".join(available(params_dir, "estimates")) or "(none)"
                raise InputError(
                    f"unknown estimate; expected one of: {known} (or run `h200cast estimate`)",
                    file=source,
                    key=key,
                    value=name,
                )
            stored, where = load_yaml(f), str(f)
        if stored.get("target") != key:
            raise InputError(
                f"estimate {name!r} is fitted for {stored.get('target')!r}, not this parameter",
                file=source,
                key=key,
                value=name,
            )
        spec = dict(stored["spec"])
        if node.get("note"):
            spec["note"] = f"{spec.get('note', '')}; {node['note']}".strip("; ")
        _set_at(layers.tree, loc, spec)
        layers._forget_below(loc)
        layers._record(loc, spec, where)


def _estimate_nodes(tree: Any, at: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], dict]]:
    if isinstance(tree, dict):
        if "from_estimate" in tree:
            yield at, tree
            return
        for k, v in tree.items():
            yield from _estimate_nodes(v, (*at, str(k)))


def _set_at(tree: dict, loc: tuple[str, ...], value: Any) -> None:
    node = tree
    for k in loc[:-1]:
        node = node[k]
    node[loc[-1]] = value


def _plain(value: Any) -> Any:
    """A deep copy of YAML data as plain dicts and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """Split ``a.b.c=VALUE`` into its key path and the value read as a YAML scalar."""
    key, sep, raw = text.partition("=")
    keys = tuple(key.strip().split("."))
    if not sep or not key.strip() or any(not k for k in keys):
        raise InputError(
            "expected KEY=VALUE with a dotted KEY, e.g. money.price_usd.value=30000",
            key="--set",
            value=text,
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        raise InputError("the value is not a YAML scalar", key=key, value=raw) from None
    if isinstance(value, dict | list):
        raise InputError(
            "expected a scalar value (number, string, true/false or null)", key=key, value=raw
        )
    if isinstance(value, str) and _NUMBER.match(raw.strip()):
        value = float(value)  # YAML 1.1 reads 2.5e6 (no sign in the exponent) as a string
    return keys, value


_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


_SPEC_FIELDS = {
    "value",
    "dist",
    "low",
    "mode",
    "high",
    "mean",
    "sd",
    "unit",
    "evidence",
    "assumption",
    "note",
}


def apply_override(layers: Layers, keys: tuple[str, ...], value: Any) -> None:
    """Apply one ``--set`` to the merged tree.

    The key must already exist in the tree, except a field of a parameter spec (``mode``,
    ``value`` ...). A scalar set on a whole parameter (``--set money.price_usd=30000``)
    makes it a point value that keeps its unit and evidence.
    """
    dotted = ".".join(keys)
    node: Any = layers.tree
    for i, k in enumerate(keys[:-1]):
        if not isinstance(node, dict) or k not in node:
            raise InputError(_unknown(keys[: i + 1], node), key=dotted, file="--set")
        node = node[k]
    last = keys[-1]
    if not isinstance(node, dict):
        raise InputError(
            f"{'.'.join(keys[:-1])} is a value, not a group of keys", key=dotted, file="--set"
        )
    target = node.get(last)
    if isinstance(target, dict) and _is_spec(target):
        point = {k: target[k] for k in ("unit", "evidence", "assumption", "note") if k in target}
        point["value"] = value
        node[last] = point
        layers.set_origin(keys, "--set")
    elif last in node or (_is_spec(node) and last in _SPEC_FIELDS):
        if _is_spec(node) and last in ("low", "mode", "high", "mean", "sd") and "value" in node:
            raise InputError(
                f"{'.'.join(keys[:-1])} is a point value; set it with {'.'.join(keys[:-1])}=X",
                key=dotted,
                file="--set",
            )
        node[last] = value
        layers.set_origin(keys, "--set")
    else:
        raise InputError(_unknown(keys, node), key=dotted, file="--set")


def _unknown(keys: tuple[str, ...], node: Any) -> str:
    known = sorted(node) if isinstance(node, dict) else []
    shown = ", ".join(known[:20]) + (" ..." if len(known) > 20 else "")
    return f"unknown key {keys[-1]!r}; expected one of: {shown}"


# --- building a scenario -------------------------------------------------------------------


def default_params_dir() -> Path:
    """The ``params/`` folder of the checkout (or ``$H200CAST_PARAMS``)."""
    import os

    env = os.environ.get("H200CAST_PARAMS")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "params" / "base.yaml").is_file():
            return parent / "params"
    return Path.cwd() / "params"


Kind = Literal["stances", "paths", "switching", "estimates"]
"""The named parameter folders."""


def available(params_dir: Path, kind: Kind) -> list[str]:
    """Names of the stance, path or switching files in ``params_dir``."""
    return sorted(p.stem for p in (params_dir / kind).glob("*.yaml"))


def _one_stance_path(stance: str, start: str, why: str) -> dict[str, Any]:
    return {
        "name": stance,
        "description": f"{stance} throughout",
        "steps": [{"start": f"{start}-01", "stance": stance, "assumption": why}],
    }


def _stances_named(chain: Mapping[str, Any]) -> set[str]:
    """Stance names a switching file mentions (before validation, so tolerant of bad shapes)."""
    out = set()
    for part in (chain.get("initial"), chain.get("transitions")):
        if isinstance(part, dict):
            out |= {k for k in part if isinstance(k, str)}
    tables = [chain.get("transitions")]
    dps = chain.get("decision_points") if isinstance(chain.get("decision_points"), list) else []
    tables += [dp.get("transitions") for dp in dps if isinstance(dp, dict)]
    for rows in tables:
        if not isinstance(rows, dict):
            continue
        out |= {k for k in rows if isinstance(k, str)}
        for row in rows.values():
            if isinstance(row, dict) and isinstance(row.get("to"), dict):
                out |= {k for k in row["to"] if isinstance(k, str)}
    return out


def _named_file(params_dir: Path, kind: Kind, name: str) -> Path:
    p = params_dir / kind / f"{name}.yaml"
    if not p.is_file():
        what = {
            "stances": "stance",
            "paths": "path",
            "switching": "switching chain",
            "estimates": "estimate",
        }[kind]
        raise InputError(
            f"unknown {what}; expected one of: {', '.join(available(params_dir, kind)) or '(none)'}",
            file=p,
            key=what,
            value=name,
        )
    return p


def build_layers(
    *,
    stance: str | None = None,
    path: str | None = None,
    switching: str | None = None,
    overrides: Iterable[str] = (),
    params_dir: Path | None = None,
    base_file: Path | None = None,
    as_of: dt.date | None = None,
) -> Layers:
    """Merge base, the stance / path / switching chain, and overrides into one tree (not yet validated)."""
    if sum(x is not None for x in (stance, path, switching)) != 1:
        raise InputError(
            "give exactly one of a stance, a path or a switching chain",
            key="--stance/--path/--switching",
        )
    params_dir = Path(params_dir) if params_dir else default_params_dir()
    base_file = Path(base_file) if base_file else params_dir / "base.yaml"
    layers = Layers()
    layers.merge(load_yaml(base_file), str(base_file))
    start = layers.tree.get("calendar", {}).get("start", "2026-01")
    names: set[str] = set()
    if switching is not None:
        f = _named_file(params_dir, "switching", switching)
        data = load_yaml(f)
        layers.merge(data, str(f), ("switching",))
        names |= _stances_named(data)
        path = data.get("history_path") if isinstance(data.get("history_path"), str) else None
        if path is None:
            initial = data.get("initial") if isinstance(data.get("initial"), dict) else {}
            stance = max(initial, key=lambda k: initial[k]) if initial else "open_market"
            layers.merge(
                _one_stance_path(stance, start, "the chain's likeliest initial stance"),
                str(f),
                ("path",),
            )
            names.add(stance)
            stance = None
    if stance is not None:
        if stance not in STANCES:
            raise InputError(
                f"unknown stance; expected one of: {', '.join(STANCES)}", key="stance", value=stance
            )
        _named_file(params_dir, "stances", stance)
        layers.merge(
            _one_stance_path(stance, start, "one stance for the whole horizon"),
            "--stance",
            ("path",),
        )
        names.add(stance)
    elif path is not None:
        f = _named_file(params_dir, "paths", path)
        data = load_yaml(f)
        layers.merge(data, str(f), ("path",))
        steps = data.get("steps") if isinstance(data.get("steps"), list) else []
        names |= {
            s.get("stance")
            for s in steps
            if isinstance(s, dict) and isinstance(s.get("stance"), str)
        }
    for name in sorted(names):
        if name not in STANCES:
            continue  # reported by validation with the file named
        sf = _named_file(params_dir, "stances", name)
        data = load_yaml(sf)
        if data.get("name", name) != name:
            raise InputError(
                f"expected the name to match the file name {name!r}",
                file=sf,
                key="name",
                value=data.get("name"),
            )
        layers.merge(data, str(sf), ("stances", name))
    resolve_estimates(layers, params_dir, as_of)
    for text in overrides:
        apply_override(layers, *parse_override(text))
    return layers


def validate(layers: Layers, model: type[BaseModel] = Scenario) -> Any:
    """Validate a merged tree; errors become one :class:`InputError`."""
    try:
        return model.model_validate(layers.tree)
    except ValidationError as exc:
        raise _input_error(exc, layers) from None


def _input_error(exc: ValidationError, layers: Layers, at: tuple[str, ...] = ()) -> InputError:
    """The first of pydantic's errors as one :class:`InputError`; ``at`` is the key path validated."""
    # an unknown key is the likeliest cause of a "missing" sibling (a misspelling), so say it first
    rank = {"extra_forbidden": 0, "missing": 2}
    errors = sorted(exc.errors(include_url=False), key=lambda e: rank.get(e["type"], 1))
    first = errors[0]
    loc = [*at, *_clean(first["loc"])]
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        missing = [
            e["loc"][-1]
            for e in errors
            if e["type"] == "missing" and [*at, *_clean(e["loc"])][:-1] == loc[:-1]
        ]
        close = difflib.get_close_matches(str(loc[-1]), [str(m) for m in missing], n=1)
        msg = (
            f"unknown key; did you mean {close[0]!r}?"
            if close
            else ("unknown key (not in the schema; check the spelling or see params/schema.json)")
        )
    elif first["type"] == "missing":
        msg = "missing key"
    elif first["type"] in _MESSAGES:
        msg = _MESSAGES[first["type"]]
    value = first.get("input", ...)
    if first["type"] in ("spec_number", "located"):  # found above the bad key: ctx names it
        loc = [*loc, *first["ctx"]["key"].split(".")]
        value = first["ctx"]["value"]
    more = len(errors) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    if isinstance(value, dict | list) or first["type"] == "missing":
        value = ...
    return InputError(
        msg, file=layers.source_of(loc), key=".".join(map(str, loc)) or None, value=value
    )


def _clean(loc: Iterable[Any]) -> list[Any]:
    """An error location without pydantic's union tags."""
    return [p for p in loc if not (isinstance(p, str) and p in _TAGS)]


_TAGS = {"point", "triangular", "uniform", "lognormal", "truncnormal", "Range", "Values"}


def check_evidence(scenario: BaseModel, known: set[str], layers: Layers | None = None) -> None:
    """Fail when a parameter cites an evidence id that ``data/evidence/facts.csv`` lacks."""
    for loc, ids in cited(scenario.model_dump(mode="python")):
        bad = [i for i in ids if i not in known]
        if bad:
            raise InputError(
                "cites evidence ids not in data/evidence/facts.csv",
                file=layers.source_of(loc) if layers else None,
                key=".".join(loc),
                value=bad,
            )


def cited(tree: Any, at: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], list[str]]]:
    """(key path of an ``evidence`` list, its ids) for every evidence list in a tree."""
    if isinstance(tree, dict):
        if isinstance(tree.get("evidence"), list):
            yield (*at, "evidence"), tree["evidence"]
        for k, v in tree.items():
            yield from cited(v, (*at, str(k)))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from cited(v, (*at, str(i)))


def load_scenario(
    *,
    stance: str | None = None,
    path: str | None = None,
    switching: str | None = None,
    overrides: Iterable[str] = (),
    params_dir: Path | None = None,
    base_file: Path | None = None,
    evidence_ids: set[str] | None = None,
    as_of: dt.date | None = None,
) -> Scenario:
    """Build, validate and evidence-check a scenario from the parameter files.

    Parameters
    ----------
    stance, path, switching
        Exactly one: a stance name (``params/stances/NAME.yaml``) held throughout, a
        stance path (``params/paths/NAME.yaml``), or a Markov chain over stances
        (``params/switching/NAME.yaml``).
    overrides
        ``KEY=VALUE`` strings, applied after the files.
    params_dir
        The parameter folder; by default the checkout's ``params/``.
    base_file
        A base file other than ``params_dir/base.yaml``.
    evidence_ids
        Known evidence ids; by default read from ``data/evidence/facts.csv``.
    as_of
        Refit every ``from_estimate`` parameter on the evidence published by this date.
    """
    layers = build_layers(
        stance=stance,
        path=path,
        switching=switching,
        overrides=overrides,
        params_dir=params_dir,
        base_file=base_file,
        as_of=as_of,
    )
    scenario = validate(layers)
    if evidence_ids is None:
        from h200cast.evidence import fact_ids

        evidence_ids = fact_ids()
    check_evidence(scenario, evidence_ids, layers)
    return scenario


def check_file(file: Path, evidence_ids: set[str] | None = None) -> str:
    """Validate one parameter file on its own; return what kind of file it is."""
    file = Path(file)
    data = load_yaml(file)
    if "target" in data and "spec" in data:
        return _check_estimate_file(file, data)
    if set(data) == {"checks"}:
        from h200cast.checks import load_checks

        load_checks(file)
        return "checks"
    if "design" in data and "inputs" in data:
        from h200cast.sweep import load_spec

        load_spec(file)
        return "sweep"
    if "transitions" in data:
        kind, model = "switching", Switching
    elif "steps" in data:
        kind, model = "path", StancePath
    elif "substitution_push" in data or file.parent.name == "stances":
        kind, model = "stance", Stance
    else:
        kind, model = "base", BaseParams
    layers = Layers()
    layers.merge(data, str(file))
    if kind == "base":
        resolve_estimates(layers, file.parent)
    obj = validate(layers, model)
    if kind == "stance" and obj.name != file.stem:
        raise InputError(
            f"expected the name to match the file name {file.stem!r}",
            file=file,
            key="name",
            value=obj.name,
        )
    if evidence_ids is None:
        from h200cast.evidence import fact_ids

        evidence_ids = fact_ids()
    check_evidence(obj, evidence_ids, layers)
    return kind


def _check_estimate_file(file: Path, data: dict[str, Any]) -> str:
    """An estimate written by ``h200cast estimate``: a valid spec for a known parameter."""
    from pydantic import TypeAdapter

    from h200cast.estimate import ESTIMATES

    if data.get("name") not in ESTIMATES or file.stem != data.get("name"):
        raise InputError(
            f"expected the name of an estimate matching the file name, one of: {', '.join(ESTIMATES)}",
            file=file,
            key="name",
            value=data.get("name"),
        )
    layers = Layers()
    layers.merge({"spec": data["spec"]}, str(file))
    try:
        TypeAdapter(StrictSpec).validate_python(data["spec"])
    except ValidationError as exc:
        raise _input_error(exc, layers, ("spec",)) from None
    return "estimate"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a resolved scenario (``params/schema.json``)."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://h200cast.invalid/params/schema.json"
    return schema


def flatten(tree: Mapping[str, Any], at: tuple[str, ...] = ()) -> Iterable[tuple[str, Any]]:
    """(dotted key, leaf) pairs; a parameter spec counts as one leaf."""
    for k, v in tree.items():
        here = (*at, str(k))
        if isinstance(v, dict) and not _is_spec(v):
            yield from flatten(v, here)
        else:
            yield ".".join(here), v
