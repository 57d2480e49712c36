"""The scenario model (version 2): Beijing, buyers, Washington, Nvidia and one market balance.

Every output is an array of shape (draws, months). One loop over months advances the
states that carry over, each step vectorised over all draws; there is no loop over draws.

The H200 side is a chain of pools. Fresh intentions to buy arrive each month; Beijing's
stance decides what share of them (or which buyer population) is *permitted*; permitted
intentions wait until buyers turn them into *firm orders* (never before the licence terms
are final, and in some worlds never); firm orders ship when Washington's licences and
its 50% cap allow and Nvidia has stock. Intentions Beijing did not permit wait apart and
never re-enter unless the stance loosens. Every pool leaks at a rate set by its cause
and by the domestic capacity on offer; what leaks does not come back.

The market side is one balance per month, counted in cards shipped (as IDC counts):
China's accelerator demand = domestic deployments + legal Nvidia shipments + grey
channel + the compute gap. The domestic share is domestic deployments over actual
deployments, so a ban that stops the H200 raises it, and the compute gap shows what
domestic capacity cannot serve.

The loop stores only the primary series; the rest is derived on first use by the same
formula functions (``_DERIVED``). ``docs/model.md`` gives the equations with units and
sources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from h200cast.engine.limits import CHUNK_CELLS
from h200cast.engine.memory import reuse_freed_memory
from h200cast.engine.sampling import uniforms
from h200cast.engine.switching import scenario_weights, switching_stream
from h200cast.scenario import calendar
from h200cast.scenario.distributions import ParamSpec
from h200cast.scenario.schema import Scenario, StanceName

reuse_freed_memory()  # each block reuses the last one's memory (engine.memory)

VARIABLES: dict[str, tuple[str, str]] = {
    "new_demand": (
        "units",
        "fresh H200 intentions arising in the month: order-book release plus new orders",
    ),
    "demand": (
        "units",
        "H200 intentions and orders outstanding in the month (fresh plus carried over)",
    ),
    "permitted": (
        "units",
        "intentions Beijing's stance admits in the month (fresh share plus re-admitted)",
    ),
    "firm_orders": ("units", "permitted intentions that buyers turn into firm orders in the month"),
    "us_allowed": (
        "units",
        "what the US side allows: licensed volume within the 50% cap, while open",
    ),
    "supply_available": ("units", "inventory plus new production available to ship"),
    "shipments": ("units", "H200s shipped to China (through US entry, then Beijing's customs)"),
    "sent_to_china": (
        "units",
        "tested H200s arriving at Beijing's customs in the month (shipped or refused)",
    ),
    "refused_at_customs": (
        "units",
        "tested H200s Beijing's customs refuse in the month; back to stock, orders kept",
    ),
    "us_entries": (
        "units",
        "China-bound H200s entering the US for testing in the month (entry_lead_months early)",
    ),
    "shortfall": ("units", "outstanding H200 intentions and orders not shipped in the month"),
    "shortfall_beijing": ("units", "part of the shortfall Beijing did not permit"),
    "shortfall_buyers": ("units", "part of the shortfall permitted but not firmly ordered"),
    "shortfall_us_rule": ("units", "part of the shortfall firmly ordered but held by the US side"),
    "shortfall_supply": (
        "units",
        "part of the shortfall firmly ordered but short of Nvidia's stock",
    ),
    "backlog": ("units", "intentions and firm orders still waiting at the end of the month"),
    "intentions_waiting": ("units", "permitted intentions not yet ordered, end of month"),
    "blocked_waiting": (
        "units",
        "intentions Beijing did not permit that buyers still hold, end of month",
    ),
    "firm_backlog": ("units", "firm orders not yet shipped, end of month"),
    "left_beijing": ("units", "blocked intentions that buyers give up in the month"),
    "left_buyers": ("units", "permitted intentions that buyers give up in the month"),
    "left_us_rule": ("units", "firm orders cancelled in the month while the US side binds"),
    "left_supply": ("units", "firm orders cancelled in the month while supply binds"),
    "lost_to_domestic": ("units", "domestic deployments that serve foreign-preferring demand"),
    "grey_channel": ("units", "accelerators deployed through grey channels"),
    "demand_book": ("units", "part of fresh intentions that is the order book's release"),
    "demand_new_orders": ("units", "part of fresh intentions that is new orders after the book"),
    "demand_taken_by_domestic": (
        "units",
        "new orders that domestic chips take over as their preferred share grows",
    ),
    "production": ("units", "new H200s made for China (a decision that follows firm orders)"),
    "stock_released": ("units", "China stock re-allocated to other customers or written down"),
    "reallocated": ("units", "China stock re-allocated to other customers"),
    "written_down": ("units", "China stock written down after Washington closes sales"),
    "inventory": ("units", "H200s in stock for China at the end of the month"),
    "approvals_unused": (
        "units",
        "volume Beijing approved that buyers have not ordered, end of month",
    ),
    "licensed_unused": ("units", "US-licensed volume not yet shipped, end of month"),
    "revenue_usd": ("USD", "Nvidia's revenue from H200 sales to China (at the buyers' price)"),
    "customs_value_usd": (
        "USD",
        "declared value at US entry of the China-bound H200s entering in the month",
    ),
    "us_fee_usd": ("USD", "Section 232 duty actually collected, by month of US entry"),
    "us_fee_upper_usd": (
        "USD",
        "upper bound: 25% of the China sale value of the chips entering in the month",
    ),
    "nvidia_net_usd": (
        "USD",
        "Nvidia's revenue after the duty (negative in a month whose duty at entry leads its sales)",
    ),
    "market_units": ("units", "China's AI accelerator demand before H200 pull-forward"),
    "accelerator_demand": ("units", "China's accelerator demand in the market balance"),
    "domestic_share_desired": (
        "share",
        "share of demand preferring domestic chips (S-curve with push)",
    ),
    "domestic_wanted": (
        "units",
        "demand for domestic chips: preferring them plus switching to them",
    ),
    "domestic_capacity": ("units", "domestic accelerator output"),
    "domestic_units": ("units", "domestic accelerators deployed"),
    "compute_gap": ("units", "accelerator demand nothing serves (capacity short)"),
    "domestic_share": ("share", "domestic share of actual deployments (cards shipped)"),
    "us_open": ("share", "1 while Washington allows sales, 0 after it re-tightens"),
    "terms_final": ("share", "1 once licence and purchase terms are final for buyers"),
}
"""Monthly outputs: name -> (unit, meaning)."""
STOCKS = frozenset(
    {
        "backlog",
        "inventory",
        "approvals_unused",
        "intentions_waiting",
        "blocked_waiting",
        "firm_backlog",
        "licensed_unused",
    }
)
"""Variables that are levels at the end of a month, not flows within it."""


# --- sampling ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draws:
    """Sampled parameter values, one array of shape (draws,) per dotted key."""

    n: int
    values: dict[str, np.ndarray]

    def col(self, key: str) -> np.ndarray:
        """The values of ``key`` as a column of shape (draws, 1)."""
        return self.values[key][:, None]

    def vec(self, key: str) -> np.ndarray:
        """The values of ``key``, shape (draws,)."""
        return self.values[key]


def specs(scenario: Scenario) -> Iterator[tuple[str, ParamSpec]]:
    """Every sampled parameter of a scenario with its dotted key."""

    def walk(obj: Any, at: str) -> Iterator[tuple[str, ParamSpec]]:
        if isinstance(obj, ParamSpec):
            yield at, obj
        elif hasattr(obj, "__pydantic_fields__"):
            for name in type(obj).model_fields:
                yield from walk(getattr(obj, name), f"{at}.{name}" if at else name)
        elif isinstance(obj, dict):
            for k, v in obj.items():
                yield from walk(v, f"{at}.{k}")

    yield from walk(scenario, "")


def stream_key(key: str) -> str:
    """The sampling stream of a parameter: stances share streams by lever name."""
    parts = key.split(".")
    if parts[0] == "stances" and len(parts) > 2:
        return ".".join(["stance", *parts[2:]])
    return key


EVENTS = (
    "event.us_retighten",
    "event.congress_block",
    "event.review_stall",
    "event.review_exit",
    "event.terms_final",
    "event.duty_collected",
)
"""Per-draw random events that are not parameters; sampled like parameters (own streams)."""


def sample(scenario: Scenario, draws: int, seed: int, point: bool = False) -> Draws:
    """Draw every parameter (or take its central value when ``point``)."""
    method = scenario.sampling.method
    n = 1 if point else int(draws)
    values: dict[str, np.ndarray] = {}
    for key, spec in specs(scenario):
        if point:
            values[key] = np.array([spec.central()])
        else:
            values[key] = spec.ppf(uniforms(seed, stream_key(key), n, method))
    for key in EVENTS:
        values[key] = np.array([0.5]) if point else uniforms(seed, key, n, method)
    return Draws(n, values)


# --- formulas shared by the loop (one month) and the derived series (all months) ----------
# ``v`` returns a parameter's draws shaped to broadcast with ``t``: d.vec with a month
# index (a float) inside the loop, d.col with a (1, months) row of indices afterwards.

Getter = Callable[[str], np.ndarray]


@dataclass(frozen=True)
class Clock:
    """Calendar offsets the formulas need, in months."""

    from_reference: int  # from domestic.reference_month to the first forecast month
    production_stop: int | None


def _grow(rate_per_year: np.ndarray, months: Any) -> np.ndarray:
    """``(1 + rate) ** (months / 12)``."""
    return np.exp(np.log1p(rate_per_year) / 12.0 * months)


def _ramp(t: Any, start: np.ndarray) -> np.ndarray:
    """Share of month ``t`` (the interval [t, t+1)) that lies after time ``start``, in months."""
    return np.clip(t + 1.0 - start, 0.0, 1.0)


def _geometric_month(u: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The month index of a first event with monthly hazard ``h`` (inf when ``h`` = 0)."""
    h = np.minimum(h, 1.0 - 1e-12)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(h > 0, np.floor(np.log1p(-u) / np.log1p(-h)), np.inf)


def market_units(v: Getter, t: Any, k: Clock) -> np.ndarray:
    """China's AI accelerator demand per month, growing with AI spending."""
    return v("domestic.market_units_per_month") * _grow(
        v("demand.ai_spending_growth_per_year"), t + k.from_reference
    )


def capacity_base(v: Getter, t: Any, k: Clock) -> np.ndarray:
    """Domestic output per month before it responds to unmet orders.

    At the reference month it equals domestic deployments then (share x market); it
    moves geometrically to ``capacity_multiple_2026`` times that over the next 12 months,
    and grows at ``capacity_growth_per_year`` after that.
    """
    e = t + k.from_reference  # months since the reference month
    base = v("domestic.share_at_reference") * v("domestic.market_units_per_month")
    first_year = np.exp(np.log(v("domestic.capacity_multiple_2026")) * (np.minimum(e, 12.0) / 12.0))
    return (
        base * first_year * _grow(v("domestic.capacity_growth_per_year"), np.maximum(e - 12.0, 0.0))
    )


def unit_duty_share(v: Getter) -> np.ndarray:
    """Duty per unit as a share of the China price: rate x customs value share."""
    return v("us.fee_rate") * v("us.customs_value_share")


def buyer_price(v: Getter) -> np.ndarray:
    """The price Chinese buyers pay: Nvidia's price plus the passed-through duty."""
    return v("money.price_usd") * (1.0 + v("us.duty_pass_through") * unit_duty_share(v))


def elasticity_factor(v: Getter) -> np.ndarray:
    """Demand relative to demand at the reference price, at the buyers' price."""
    return (buyer_price(v) / v("demand.reference_price_usd")) ** v("demand.price_elasticity")


def book_release(v: Getter, t: Any) -> np.ndarray:
    """The order book spread evenly over the delivery months (before the price response)."""
    deliver = v("demand.order_delivery_months")
    return v("demand.order_book_units") / deliver * np.clip(deliver - t, 0.0, 1.0)


def new_orders_base(v: Getter, t: Any) -> np.ndarray:
    """New intentions after the book is delivered, growing with AI spending (before substitution and price)."""
    deliver = v("demand.order_delivery_months")
    return (
        v("demand.new_orders_units_per_month")
        * _grow(v("demand.ai_spending_growth_per_year"), t - deliver)
        * _ramp(t, deliver)
    )


def production_capacity(v: Getter, t: Any, k: Clock) -> np.ndarray:
    """The most Nvidia can make for China in month ``t``: from the lead time on, until any stop."""
    made = v("supply.production_units_per_month") * _ramp(t, v("supply.production_lead_months"))
    if k.production_stop is not None:
        made = made * (np.asarray(t) < k.production_stop)
    return made


def us_close_month(v: Getter) -> np.ndarray:
    """The month Washington closes sales: the earlier of two hazards (administration, Congress)."""
    a = _geometric_month(v("event.us_retighten"), v("us.retighten_prob_per_month"))
    c = _geometric_month(v("event.congress_block"), v("us.congress_block_prob_per_month"))
    return np.minimum(a, c)


def us_open(v: Getter, t: Any) -> np.ndarray:
    """1 until Washington re-tightens, then 0."""
    return (t < us_close_month(v)).astype(float)


def review_end(v: Getter) -> np.ndarray:
    """When the interagency review ends, in months from the start.

    On time after ``licence_lag_months``; with chance ``review_stall_prob`` it stalls and
    ends only after a further geometric number of months (hazard ``stall_exit_prob_per_month``).
    """
    stalled = v("event.review_stall") < v("us.review_stall_prob")
    extra = _geometric_month(v("event.review_exit"), v("us.stall_exit_prob_per_month")) + 1.0
    return v("us.licence_lag_months") + np.where(stalled, extra, 0.0)


def licences_issued(v: Getter, t: Any) -> np.ndarray:
    """Licensed volume issued in month ``t``: rounds of licences for named buyers.

    Round ``k`` (1, 2, ...) is issued at time ``end + (k - 1) x licence_every_months``, in
    the month that contains that time; each round licenses ``licensed_buyers x licence_units``.
    """
    end = review_end(v)
    every = v("us.licence_every_months")
    lot = v("us.licensed_buyers") * v("us.licence_units")
    return lot * (_rounds_by(t, end, every) - _rounds_by(t - 1.0, end, every))


def licences_by(v: Getter, t: Any) -> np.ndarray:
    """Licensed volume issued by the end of month ``t``: the rounds of :func:`licences_issued`
    issued by then, computed at ``t`` alone (a check of one month need not build them all)."""
    rounds = _rounds_by(t, review_end(v), v("us.licence_every_months"))
    return v("us.licensed_buyers") * v("us.licence_units") * rounds


def _rounds_by(m: Any, end: np.ndarray, every: np.ndarray) -> np.ndarray:
    """Rounds of licences issued by the end of month ``m``: the first at time ``end``, then one
    every ``every`` months."""
    with np.errstate(invalid="ignore"):
        # none before ``end``: the time since it is raised to +0.0 there (a maximum, not a
        # where, which numpy runs several times as slowly over a block's months)
        return np.ceil(np.maximum(m + 1.0 - end, 0.0) / every)


def us_cap_cumulative(v: Getter, t: Any) -> np.ndarray:
    """China's cumulative volume allowed by the end of month ``t``: a share of US-customer volume."""
    return v("us.china_cap_share_of_us_volume") * (
        v("us.us_cumulative_units_before") + v("us.us_units_per_month") * (t + 1.0)
    )


def terms_final_month(v: Getter) -> np.ndarray:
    """When the terms become final for buyers; inf (never) with chance ``never_convert_prob``."""
    u = v("event.terms_final")
    q = v("buyers.never_convert_prob")
    rest = np.clip((u - q) / np.maximum(1.0 - q, 1e-12), 0.0, 1.0 - 1e-12)
    return np.where(u < q, np.inf, _geometric_month(rest, v("buyers.terms_final_prob_per_month")))


def duty_collected(v: Getter) -> np.ndarray:
    """1 in draws where the duty is collected, else 0."""
    return (v("event.duty_collected") < v("us.duty_collection_prob")).astype(float)


def switch_share(v: Getter, push: np.ndarray) -> np.ndarray:
    """Share of unserved foreign-preferring demand that takes domestic chips: ``1 - (1 - lam)^push``."""
    with np.errstate(divide="ignore"):
        return 1.0 - np.exp(push * np.log1p(-v("demand.lost_to_domestic_share")))


def grey_propensity(v: Getter) -> np.ndarray:
    """Share of unserved foreign-preferring buyers who would buy grey: ``1 - 1/R``.

    ``R`` is the performance of the foreign chip they cannot get legally over the domestic
    alternative's; a buyer who takes the domestic chip gives up ``1 - 1/R`` of it.
    """
    return 1.0 - 1.0 / v("demand.grey_performance_ratio")


def grey_capacity(v: Getter) -> np.ndarray:
    """What grey channels can deliver a month: 2025's flow less what enforcement stops."""
    return (1.0 - v("demand.grey_enforcement")) * v("demand.grey_supply_units_per_month")


def grey_channel(v: Getter, unserved: np.ndarray) -> np.ndarray:
    """Grey deployments: the buyers the performance gap sends grey, within grey capacity."""
    return np.minimum(grey_propensity(v) * unserved, grey_capacity(v))


def at_entry(x: np.ndarray, lead: np.ndarray) -> np.ndarray:
    """Re-date a (draws, months) series of arrivals at Beijing's customs to US entry.

    Chips arriving evenly within month ``m`` entered the US ``lead`` months earlier, so
    the chips entered by the end of month ``j`` are those arriving by time ``j + 1 + lead``
    (cumulative arrivals, linear within a month). Entries before the first month fall in
    it; arrivals after the horizon are not modelled, so their entries are not counted.
    """
    D, T = x.shape
    zero = np.zeros((D, 1))
    ext = np.concatenate([x, zero], axis=1)
    cum = np.concatenate([zero, np.cumsum(x, axis=1)], axis=1)  # arrivals before time k
    tau = np.minimum(np.arange(1.0, T + 1.0)[None, :] + lead, float(T))
    tau = np.broadcast_to(tau, (D, T))
    k = np.floor(tau).astype(int)
    by = np.take_along_axis(cum, k, axis=1) + (tau - k) * np.take_along_axis(ext, k, axis=1)
    return np.diff(by, axis=1, prepend=0.0)


def _cumsum_down(x: np.ndarray) -> np.ndarray:
    """``np.cumsum(x, axis=0)`` of a (months, draws) table, the same bits, one add per row.

    numpy accumulates down axis 0 one element at a time, striding through memory: for a
    block's table that took 20 times as long as these 35 vectorised adds (11% of a run).
    """
    out = np.empty_like(x)
    out[0] = x[0]
    for i in range(1, len(x)):
        np.add(out[i - 1], x[i], out=out[i])
    return out


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 1e-9, 1 - 1e-9)
    return np.log(x / (1 - x))


@dataclass
class Balance:
    """One month of the market balance (or all months, as arrays)."""

    demand: np.ndarray
    grey: np.ndarray
    wanted: np.ndarray
    domestic: np.ndarray
    gap: np.ndarray
    share: np.ndarray
    foreign_served_by_domestic: np.ndarray


def market_balance(
    v: Getter,
    market: np.ndarray,
    desired: np.ndarray,
    shipped: np.ndarray,
    capacity: np.ndarray,
    push: np.ndarray,
) -> Balance:
    """China's accelerator demand = domestic + legal Nvidia + grey + compute gap (cards shipped).

    Demand is the market, or the H200 shipments if they exceed it (buyers pulling cards
    forward). Foreign-preferring demand is at least what the H200 serves; of what it leaves
    unserved, the performance gap sends a share grey within what grey supply can deliver
    after enforcement (:func:`grey_channel`), a share of the rest switches to domestic chips
    (the switch share, raised by the stance push), and domestic deployments are capped by
    capacity.
    """
    demand = np.maximum(market, shipped)
    foreign = np.maximum((1.0 - desired) * demand, shipped)
    unserved = foreign - shipped
    grey = grey_channel(v, unserved)
    switching = switch_share(v, push) * (unserved - grey)
    wanted = demand - foreign + switching
    domestic = np.minimum(capacity, wanted)
    gap = demand - shipped - grey - domestic
    deployed = domestic + shipped + grey
    fallback = np.broadcast_to(desired, deployed.shape).astype(float)
    share = np.divide(domestic, deployed, out=fallback, where=deployed > 0)
    return Balance(
        demand, grey, wanted, domestic, gap, share, np.maximum(domestic - (demand - foreign), 0.0)
    )


# --- outputs --------------------------------------------------------------------------------


@dataclass
class Paths:
    """Monthly model output: arrays of shape (draws, months) by variable name (see VARIABLES)."""

    months: list[str]
    stance_names: tuple[str, ...]
    stance_weights: (
        np.ndarray
    )  # (1 or draws, months, stances): share of each month under each stance
    draws: Draws
    clock: Clock
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.arrays:
            if name not in _DERIVED:
                raise KeyError(f"unknown variable {name!r}; known: {', '.join(VARIABLES)}")
            self.arrays[name] = _DERIVED[name](self)
        return self.arrays[name]

    @property
    def stance_share(self) -> np.ndarray:
        """Share of draws (day-weighted) under each stance in each month, shape (months, stances)."""
        return self.stance_weights.mean(axis=0)

    def stance_of_draw(self) -> np.ndarray:
        """Each draw's main stance in each month (most days), shape (draws, months), as names."""
        idx = self.stance_weights.argmax(axis=2)
        return np.broadcast_to(np.array(self.stance_names)[idx], (self.n_draws, self.n_months))

    @property
    def n_draws(self) -> int:
        return self.draws.n

    @property
    def n_months(self) -> int:
        return len(self.months)

    def t(self) -> np.ndarray:
        """Month indices as a row, shape (1, months)."""
        return np.arange(self.n_months, dtype=float)[None, :]

    def full(self, f: Callable[..., np.ndarray], *args: Any) -> np.ndarray:
        """A formula over all draws and months, shape (draws, months)."""
        return np.broadcast_to(
            f(self.draws.col, self.t(), *args), (self.n_draws, self.n_months)
        ).copy()

    def push(self) -> np.ndarray:
        """Day-weighted substitution push of each draw and month, shape (draws, months)."""
        p = np.stack(
            [self.draws.vec(f"stances.{n}.substitution_push") for n in self.stance_names], axis=1
        )  # (D, S)
        return np.einsum(
            "dts,ds->dt",
            np.broadcast_to(
                self.stance_weights, (self.n_draws, self.n_months, len(self.stance_names))
            ),
            p,
        )

    def take(self, index: np.ndarray) -> Paths:
        """The paths of the draws at ``index`` only (a subset, in that order).

        Only the primary series are carried; every derived one is recomputed from them
        on first use, as for a fresh run.
        """
        primary = {k: x[index] for k, x in self.arrays.items() if k not in _DERIVED}
        w = self.stance_weights if self.stance_weights.shape[0] == 1 else self.stance_weights[index]
        d = Draws(len(index), {k: x[index] for k, x in self.draws.values.items()})
        return Paths(self.months, self.stance_names, w, d, self.clock, primary)

    @staticmethod
    def concat(parts: list[Paths]) -> Paths:
        """The draws of several runs of one scenario as one set, in order."""
        first = parts[0]
        if len(parts) == 1:
            return first
        ws = [p.stance_weights for p in parts]
        if all(w.shape[0] == 1 for w in ws):
            w = ws[0]
        else:
            w = np.concatenate(
                [
                    np.broadcast_to(w, (p.n_draws, *w.shape[1:]))
                    for w, p in zip(ws, parts, strict=True)
                ]
            )
        keys = [k for k in first.arrays if k not in _DERIVED]
        arrays = {k: np.concatenate([p.arrays[k] for p in parts]) for k in keys}
        values = {k: np.concatenate([p.draws.values[k] for p in parts]) for k in first.draws.values}
        n = sum(p.n_draws for p in parts)
        return Paths(first.months, first.stance_names, w, Draws(n, values), first.clock, arrays)

    def balance(self) -> Balance:
        if "_balance" not in self.__dict__:
            self.__dict__["_balance"] = market_balance(
                self.draws.col,
                self["market_units"],
                self["domestic_share_desired"],
                self["shipments"],
                self["domestic_capacity"],
                self.push(),
            )
        return self.__dict__["_balance"]


def _prev(p: Paths, name: str, first: np.ndarray | float = 0.0) -> np.ndarray:
    """Last month's value of a stock (``first`` before the start)."""
    x = p[name]
    head = np.broadcast_to(np.asarray(first, dtype=float), (p.n_draws, 1))
    return np.concatenate([head, x[:, :-1]], axis=1)


def _us_binds(p: Paths) -> np.ndarray:
    return p["us_allowed"] < p["supply_available"]


def _left_firm(p: Paths) -> np.ndarray:
    return np.maximum(
        _prev(p, "firm_backlog") + p["firm_orders"] - p["shipments"] - p["firm_backlog"], 0.0
    )


_DERIVED: dict[str, Callable[[Paths], np.ndarray]] = {
    "backlog": lambda p: p["intentions_waiting"] + p["blocked_waiting"] + p["firm_backlog"],
    "demand": lambda p: p["new_demand"] + _prev(p, "backlog"),
    "shortfall": lambda p: p["demand"] - p["shipments"],
    "left_beijing": lambda p: np.maximum(
        _prev(p, "blocked_waiting") + p["new_demand"] - p["permitted"] - p["blocked_waiting"], 0.0
    ),
    "refused_at_customs": lambda p: np.maximum(p["sent_to_china"] - p["shipments"], 0.0),
    "us_entries": lambda p: at_entry(p["sent_to_china"], p.draws.col("us.entry_lead_months")),
    "left_buyers": lambda p: np.maximum(
        _prev(p, "intentions_waiting")
        + p["permitted"]
        - p["firm_orders"]
        - p["intentions_waiting"],
        0.0,
    ),
    "left_us_rule": lambda p: np.where(_us_binds(p), _left_firm(p), 0.0),
    "left_supply": lambda p: np.where(_us_binds(p), 0.0, _left_firm(p)),
    # each month's shortfall is what waits at its end plus what left in it, by cause
    "shortfall_beijing": lambda p: p["blocked_waiting"] + p["left_beijing"],
    "shortfall_buyers": lambda p: p["intentions_waiting"] + p["left_buyers"],
    "shortfall_us_rule": lambda p: (
        np.where(_us_binds(p), p["firm_backlog"], 0.0) + p["left_us_rule"]
    ),
    "shortfall_supply": lambda p: np.where(_us_binds(p), 0.0, p["firm_backlog"]) + p["left_supply"],
    "demand_book": lambda p: elasticity_factor(p.draws.col) * p.full(book_release),
    "demand_new_orders": lambda p: p["new_demand"] - p["demand_book"],
    "demand_taken_by_domestic": lambda p: (
        elasticity_factor(p.draws.col) * p.full(new_orders_base) - p["demand_new_orders"]
    ),
    "supply_available": lambda p: (
        _prev(p, "inventory", p.draws.col("supply.inventory_units")) + p["production"]
    ),
    "stock_released": lambda p: np.maximum(
        p["supply_available"] - p["shipments"] - p["inventory"], 0.0
    ),
    "licensed_unused": lambda p: (
        p["us_open"]
        * np.maximum(
            np.cumsum(p.full(licences_issued), axis=1) - np.cumsum(p["shipments"], axis=1), 0.0
        )
    ),
    "reallocated": lambda p: p["stock_released"] - p["written_down"],
    "written_down": lambda p: (
        p["stock_released"] * (1.0 - p["us_open"]) * p.draws.col("supply.writedown_share")
    ),
    "approvals_unused": lambda p: np.zeros((p.n_draws, p.n_months)),
    "revenue_usd": lambda p: p["shipments"] * buyer_price(p.draws.col),
    "customs_value_usd": lambda p: (
        p["us_entries"] * p.draws.col("money.price_usd") * p.draws.col("us.customs_value_share")
    ),
    "us_fee_usd": lambda p: (
        p["customs_value_usd"] * p.draws.col("us.fee_rate") * duty_collected(p.draws.col)
    ),
    # 25% of the China sale value of the chips entering the US (refused ones included), dated
    # like the duty: the bound on what the duty could be if levied on the full sale value
    "us_fee_upper_usd": lambda p: 0.25 * p["us_entries"] * buyer_price(p.draws.col),
    "nvidia_net_usd": lambda p: p["revenue_usd"] - p["us_fee_usd"],
    "market_units": lambda p: p.full(market_units, p.clock),
    "accelerator_demand": lambda p: p.balance().demand,
    "grey_channel": lambda p: p.balance().grey,
    "domestic_wanted": lambda p: p.balance().wanted,
    "domestic_units": lambda p: p.balance().domestic,
    "compute_gap": lambda p: p.balance().gap,
    "domestic_share": lambda p: p.balance().share,
    "lost_to_domestic": lambda p: p.balance().foreign_served_by_domestic,
    "us_open": lambda p: p.full(us_open),
    "terms_final": lambda p: (
        (p.t() >= terms_final_month(p.draws.col)).astype(float) * np.ones((p.n_draws, 1))
    ),
}


# --- the engine ------------------------------------------------------------------------------


def simulate(scenario: Scenario, draws: int = 1000, seed: int = 0, point: bool = False) -> Paths:
    """Run the model for one scenario.

    Parameters
    ----------
    scenario
        A validated scenario (see :func:`h200cast.params.load_scenario`).
    draws
        Number of Monte Carlo draws (ignored when ``point``).
    seed
        Seed of every sampling stream.
    point
        One deterministic draw with every parameter at its central value.

    Returns
    -------
    Paths
        Monthly series by name, each of shape (draws, months).
    """
    return _simulate(scenario, sample(scenario, draws, seed, point), seed, point)


CHUNK_LEAST = 1_000
"""The fewest draws in a chunk (the engine's fixed cost per call is about 10 ms)."""


def chunk_draws(months: int) -> int:
    """Draws per chunk of a chunked run over ``months`` months: :data:`CHUNK_CELLS` in all."""
    return max(CHUNK_LEAST, CHUNK_CELLS // max(months, 1))


def simulate_chunks(
    scenario: Scenario, draws: int, seed: int, chunk: int
) -> Iterator[tuple[int, Paths]]:
    """The run :func:`simulate` makes, as consecutive blocks of at most ``chunk`` draws.

    Yields ``(first draw, paths of the block)``. Every draw is the one :func:`simulate`
    gives with the same ``draws`` and ``seed``, bit for bit: the parameters are sampled
    for all draws first (a Latin hypercube column needs them all; a few hundred bytes a
    draw), a chain's monthly uniforms come from one stream in draw order, and each draw's
    path depends on its own values only. Peak memory is then set by ``chunk`` x months
    instead of by the draws.
    """
    d = sample(scenario, draws, seed)
    names = calendar.ordered(list(scenario.stances))
    rng = switching_stream(seed)
    for lo in range(0, d.n, chunk):
        hi = min(lo + chunk, d.n)
        # copies, so that a block kept by the caller does not keep every draw's values
        sub = Draws(hi - lo, {k: x[lo:hi].copy() for k, x in d.values.items()})
        w = scenario_weights(scenario, names, seed, hi - lo, False, rng=rng)
        yield lo, _simulate(scenario, sub, seed, False, weights=w)


def simulate_values(
    scenario: Scenario,
    values: dict[str, np.ndarray],
    seed: int = 0,
    weights: np.ndarray | None = None,
) -> Paths:
    """Run the model on given parameter values instead of sampled ones.

    ``values`` maps every dotted key of :func:`sample` to an array of shape (n,); each
    index is one run. Sensitivity analysis uses this to evaluate many one-at-a-time
    variants in a single vectorised call. ``weights`` (runs, months, stances) sets each
    run's stance weights; by default a switching chain follows its median path.
    """
    n = len(next(iter(values.values())))
    return _simulate(scenario, Draws(n, values), seed, point=True, weights=weights)


def _simulate(
    scenario: Scenario, d: Draws, seed: int, point: bool, weights: np.ndarray | None = None
) -> Paths:
    cal = scenario.calendar
    T = cal.horizon_months
    names = calendar.ordered(list(scenario.stances))
    W = scenario_weights(scenario, names, seed, d.n, point) if weights is None else weights
    clock = Clock(
        from_reference=calendar.months_between(scenario.domestic.reference_month, cal.start),
        production_stop=scenario.supply.production_stop_month,
    )
    months = calendar.month_labels(cal.start, T)
    paths = Paths(months, names, W, d, clock)
    # Blocks of draws: the loop's (draws,) vectors then stay in the processor's cache, which
    # is faster than one pass over all draws; each draw's path is independent of the others.
    out = {name: np.empty((T, d.n)) for name in _stored(scenario, names)}
    for lo in range(0, d.n, BLOCK):
        sl = slice(lo, min(lo + BLOCK, d.n))
        sub_d = Draws(sl.stop - lo, {k: x[sl] for k, x in d.values.items()})
        sub_w = W[sl] if W.shape[0] > 1 else W
        sub = Paths(months, names, sub_w, sub_d, clock)
        levers = [
            _StanceLevers.build(j, scenario.stances[n], f"stances.{n}", sub_d, sub_w[:, :, j])
            for j, n in enumerate(names)
        ]
        _advance(sub, levers, out, sl)
    # (draws, months) in C order: how numpy lays out and sums what is derived from them
    # then depends on these arrays alone, not on the number of draws, so that a chunk of
    # draws gives the numbers the whole run gives (see simulate_chunks)
    for name in list(out):
        paths.arrays[name] = np.ascontiguousarray(out.pop(name).T)
    return paths


BLOCK = 8192
"""Draws per block of the monthly loop.

At 8,192 draws the loop's rows (64 KB each) stay in the processor's cache, and a block's
month-by-draw tables (about 2.4 MB each at 36 months) are reused from the memory the last
block freed (:mod:`h200cast.engine.memory`). Measured in one run at 100,000 draws: 0.34 s
at 4,096 draws a block, 0.31 s at 8,192, 0.33 s at 16,384; at 32,768 the tables no longer
fit what malloc keeps, and page faults come back (16,000 a run).
"""


def _stored(scenario: Scenario, names: tuple[StanceName, ...]) -> list[str]:
    """The primary series the loop stores (approvals only when a stance has them)."""
    out = [*_STORED, "domestic_share_desired"]
    if any(scenario.stances[n].approvals is not None for n in names):
        out.append("approvals_unused")
    return out


_STORED = (
    "new_demand",
    "permitted",
    "firm_orders",
    "us_allowed",
    "shipments",
    "sent_to_china",
    "production",
    "inventory",
    "intentions_waiting",
    "blocked_waiting",
    "firm_backlog",
    "domestic_capacity",
)
"""What the loop writes every month (besides ``domestic_share_desired`` and the approvals)."""


def _advance(
    paths: Paths, levers: list[_StanceLevers], out: dict[str, np.ndarray], sl: slice
) -> None:
    """The monthly loop for one block of draws: write its primary series into ``out[:, sl]``.

    ``out`` holds one (months, all draws) array per stored series; ``paths`` and ``levers``
    are the block's.
    """
    d, k, W = paths.draws, paths.clock, paths.stance_weights
    D, T = paths.n_draws, paths.n_months
    v = d.vec
    has_pool = any(lv.batches is not None for lv in levers)
    # --- everything exogenous, as month-by-draw tables computed once (shape (months, draws))
    row = lambda key: d.vec(key)[None, :]  # noqa: E731
    tt = np.arange(T, dtype=float)[:, None]
    full = lambda x: np.broadcast_to(x, (T, D))  # noqa: E731
    push_s = np.stack([v(f"stances.{n}.substitution_push") for n in paths.stance_names], axis=1)
    push_tab = np.einsum(
        "tds,ds->td", np.broadcast_to(W, (D, T, W.shape[2])).transpose(1, 0, 2), push_s
    )
    # the S-curve's clock: months at push 1 up to the start, then the trapezoid of the push
    steps = np.concatenate([np.zeros((1, D)), 0.5 * (push_tab[1:] + push_tab[:-1])], axis=0)
    elapsed = float(k.from_reference) + _cumsum_down(steps)
    logit0 = _logit(row("domestic.share_at_reference"))
    desired_tab = _expit(logit0 + row("domestic.logit_speed_per_year") / 12.0 * elapsed)
    foreign0 = 1.0 - desired_tab[0]
    scale = np.divide(1.0 - desired_tab, foreign0, out=np.zeros((T, D)), where=foreign0 > 0)
    new_tab = elasticity_factor(row) * (book_release(row, tt) + new_orders_base(row, tt) * scale)
    market_tab = full(market_units(row, tt, k))
    capbase_tab = np.broadcast_to(
        capacity_base(row, np.arange(T + 1, dtype=float)[:, None], k), (T + 1, D)
    )
    cap_growth = capbase_tab[1:] / np.maximum(capbase_tab[:-1], 1e-300)
    # unserved foreign demand not served grey that switches to domestic chips
    to_domestic_tab = switch_share(row, push_tab)
    licence_tab = full(licences_issued(row, tt))
    capcum_tab = full(us_cap_cumulative(row, tt))
    prodcap_tab = full(production_capacity(row, tt, k))
    open_tab = full((tt < us_close_month(row)).astype(float))
    final_tab = full(tt >= terms_final_month(row))
    # Beijing's customs: a stance that admits the H200 refuses a small share of the tested
    # chips; customs_ban passes only the month's special cases and refuses the rest
    # customs_ban passes only the month's special cases; Nvidia, which sends chips into US
    # testing entry_lead_months ahead, holds back the rest if the ban held at entry
    ban = paths.stance_names.index("customs_ban") if "customs_ban" in paths.stance_names else None
    refuse = v("beijing.customs_refusal_share")
    if ban is not None:
        ban_at_arrival = np.broadcast_to(W[:, :, ban].T, (T, D))
        entry_month = np.clip(np.floor(tt - row("us.entry_lead_months")), 0, T - 1).astype(int)
        if W.shape[0] == 1:
            ban_at_entry = W[0, :, ban][entry_month]
        else:
            ban_at_entry = W[np.arange(D)[None, :], entry_month, ban]
    p_wait = v("demand.backlog_persistence")
    # buyers Beijing turned away never wait longer than buyers it admitted
    p_blocked = np.minimum(v("demand.blocked_persistence"), p_wait)
    # a firm order is never less sticky than an intention waiting for terms
    p_firm = np.maximum(v("demand.firm_order_persistence"), p_wait)
    omega = v("demand.alternatives_sensitivity")
    special = v("beijing.special_cases_share")
    conv_base = v("buyers.conversion_per_month")
    realloc = v("supply.reallocation_per_month")
    rho = v("domestic.capacity_order_response") / 12.0
    keep = 1.0 - refuse  # share of tested chips Beijing's customs let in
    grey_prop, grey_cap = grey_propensity(v), grey_capacity(v)
    # each stance's weight by month, contiguous, and which months it holds at all or fully
    wl = [np.ascontiguousarray(W[:, :, lv.col].T) for lv in levers]  # (months, 1 or draws)
    held: list[list[bool]] = (W != 0).any(axis=0).tolist()  # [month][stance]
    whole: list[list[bool]] = (W == 1).all(axis=0).tolist()
    open_all: list[bool] = np.asarray(open_tab.all(axis=1)).tolist()
    final_all: list[bool] = np.asarray(final_tab.all(axis=1)).tolist()
    # what a stance without a quota admits, and how fast its buyers order, do not change
    ones = np.ones(D)
    fixed = [
        None if lv.per_domestic is not None else np.maximum(lv.admits(ones, ones), special)
        for lv in levers
    ]
    convs = [lv.conversion(conv_base) for lv in levers]
    # approved volume granted each month to the draws under the stance, (months, draws)
    grants = [
        None if lv.batches is None else np.where(wl[lv.col] > 0, lv.batches.T, 0.0) for lv in levers
    ]
    # --- the series the loop writes: (months, block) views into ``out``; a stock's row is
    # the state at the end of its month, and the next month starts from it
    o = {name: x[:, sl] for name, x in out.items()}
    o["new_demand"][:] = new_tab
    waiting_, blocked_, firm_ = o["intentions_waiting"], o["blocked_waiting"], o["firm_backlog"]
    stock_ = o["inventory"]
    zero = np.zeros(D)
    stock0 = v("supply.inventory_units").astype(float)
    # the states that are not stored, shape (draws,)
    licensed = np.zeros(D)  # licensed volume not yet shipped
    shipped = np.zeros(D)
    extra_cap = np.zeros(D)  # capacity added in response to unmet domestic demand
    slack = np.zeros(D)  # last month's spare domestic capacity, as a share of capacity
    domestic = np.minimum(desired_tab[0] * market_tab[0], capbase_tab[0])  # last month's
    # scratch rows, reused every month (no temporaries in the loop's common path)
    t1, t2, avail, demand, foreign, unserved, wanted = np.empty((7, D))
    shares = np.empty((2, D))  # this month's admitted share and last month's
    permit_prev = None
    # the admitted share can change only when a draw's stance weights change or a quota holds
    quota = [lv.per_domestic is not None for lv in levers]
    moves = np.r_[False, (W[:, 1:] != W[:, :-1]).any(axis=(0, 2))]
    for i in range(T):
        on = [lv for lv in levers if held[i][lv.col]]
        for lv in levers:  # approvals belong to their stance: a draw that leaves it keeps none
            if lv.pool is not None and not whole[i][lv.col]:
                lv.pool = np.where(wl[lv.col][i] > 0, lv.pool, 0.0)
        desired, market, new = desired_tab[i], market_tab[i], new_tab[i]
        cap = np.add(capbase_tab[i], extra_cap, out=o["domestic_capacity"][i])
        waiting0 = waiting_[i - 1] if i else zero
        blocked0 = blocked_[i - 1] if i else zero
        firm0 = firm_[i - 1] if i else zero
        stock0 = stock_[i - 1] if i else stock0
        waiting, blocked, firm, stock = waiting_[i], blocked_[i], firm_[i], stock_[i]
        # Beijing: the share of fresh intentions each stance admits (never below special cases)
        alone = fixed[on[0].col] if len(on) == 1 and whole[i][on[0].col] else None
        if alone is not None:
            share = alone
        else:
            share = shares[i % 2]
            share[:] = 0.0
            for lv in on:
                a = fixed[lv.col]
                if a is None:
                    a = np.maximum(lv.admits(new, domestic), special)
                if not whole[i][lv.col]:
                    a = np.multiply(wl[lv.col][i], a, out=t1)
                share += a
        # a stance that loosens re-admits blocked intentions in proportion; a steady one none
        permitted = np.multiply(share, new, out=o["permitted"][i])
        fresh = permitted  # share x new, before any re-admission
        if permit_prev is not None and (moves[i] or any(quota[lv.col] for lv in on)):
            fresh = permitted.copy()
            loosen = np.clip(
                np.divide(
                    share - permit_prev, 1.0 - permit_prev, out=np.zeros(D), where=permit_prev < 1.0
                ),
                0.0,
                1.0,
            )
            readmit = loosen * blocked0
            permitted += readmit
            np.subtract(blocked0, readmit, out=blocked)
            blocked += new
        else:
            np.add(blocked0, new, out=blocked)
        permit_prev = share
        blocked -= fresh
        np.add(waiting0, permitted, out=waiting)
        # buyers: firm orders once terms are final, within any approved volume
        final = final_tab[i]
        orders = o["firm_orders"][i]
        if not on:
            orders[:] = 0.0
        for j, lv in enumerate(on):
            wj = wl[lv.col][i]
            rate = convs[lv.col] if whole[i][lv.col] else np.multiply(wj, convs[lv.col], out=t2)
            o_ = np.multiply(rate, waiting, out=orders if j == 0 else t1)
            if lv.pool is not None:
                grant = grants[lv.col]
                assert grant is not None  # built with the pool
                lv.pool += grant[i]
                np.minimum(o_, lv.pool, out=o_)
                lv.pool -= o_ if final_all[i] else np.multiply(o_, final, out=t2)
            if j:
                orders += o_
        if not final_all[i]:
            np.multiply(orders, final, out=orders)
        waiting -= orders
        np.add(firm0, orders, out=firm)
        # Washington: licences in rounds for named buyers, within the 50% cap, while open
        open_, whole_open = open_tab[i], open_all[i]
        licensed += licence_tab[i]
        if not whole_open:
            licensed *= open_
        us = o["us_allowed"][i]
        np.subtract(capcum_tab[i], shipped, out=t1)
        np.minimum(licensed, np.maximum(t1, 0.0, out=t1), out=us)
        # Nvidia: ship from stock first; make only what firm orders beyond stock need
        np.subtract(firm, stock0, out=t2)
        made = np.minimum(prodcap_tab[i], np.maximum(t2, 0.0, out=t2), out=o["production"][i])
        if not whole_open:
            us *= open_
            made *= open_
        np.add(stock0, made, out=avail)
        sent = np.minimum(firm, us, out=o["sent_to_china"][i])  # entered the US, tested, sent on
        np.minimum(sent, avail, out=sent)
        ship = np.multiply(keep, sent, out=o["shipments"][i])  # what Beijing's customs let in
        if ban is not None:
            passes = special * new
            we, wa = ban_at_entry[i], ban_at_arrival[i]
            sent[:] = (1.0 - we) * sent + we * np.minimum(sent, passes)
            np.multiply(keep, sent, out=ship)
            ship[:] = (1.0 - wa) * ship + wa * np.minimum(ship, passes)
        # a refused chip goes back to stock (for re-allocation, or a later order); its
        # order stays on the book, and neither the licence nor the cap counts it
        firm -= ship
        licensed -= ship
        shipped += ship
        np.subtract(avail, ship, out=stock)
        # stock not covered by firm orders goes to other customers; all of it once closed
        np.subtract(stock, firm, out=t1)
        stock -= np.multiply(realloc, np.maximum(t1, 0.0, out=t1), out=t1)
        if not whole_open:
            stock *= open_
        # the split of what left the stock into re-allocated and written down is derived
        # unmet intentions and orders leak by cause; spare domestic capacity speeds the leak
        alt = np.subtract(1.0, np.multiply(omega, slack, out=t1), out=t1)
        if whole_open:
            firm *= p_firm
        else:
            alt *= open_
            firm *= np.multiply(p_firm, open_, out=t2)
        waiting *= np.multiply(p_wait, alt, out=t2)
        blocked *= np.multiply(p_blocked, alt, out=t2)
        # the market balance (see market_balance): domestic deployments within capacity
        np.maximum(market, ship, out=demand)
        np.multiply(np.subtract(1.0, desired, out=foreign), demand, out=foreign)
        np.maximum(foreign, ship, out=foreign)
        np.subtract(foreign, ship, out=unserved)
        np.subtract(demand, foreign, out=wanted)
        grey = np.minimum(np.multiply(grey_prop, unserved, out=t1), grey_cap, out=t1)
        wanted += np.multiply(to_domestic_tab[i], np.subtract(unserved, grey, out=t1), out=t1)
        np.minimum(cap, wanted, out=domestic)
        np.divide(np.subtract(cap, domestic, out=slack), np.maximum(cap, 1e-300, out=t1), out=slack)
        np.subtract(wanted, cap, out=t1)
        extra_cap += np.multiply(rho, np.maximum(t1, 0.0, out=t1), out=t1)
        extra_cap *= cap_growth[i]
        if has_pool:
            pools = [lv.pool for lv in levers if lv.pool is not None]
            row_ = out["approvals_unused"][i, sl]
            np.copyto(row_, pools[0])
            for pool in pools[1:]:
                row_ += pool
    out["domestic_share_desired"][:, sl] = desired_tab


class _StanceLevers:
    """What one stance admits each month, how fast its buyers order, and its approved volume."""

    def __init__(
        self,
        col: int,
        share: np.ndarray | None,
        per_domestic: np.ndarray | None,
        approvals: dict[str, np.ndarray] | None,
        batches: np.ndarray | None,
    ) -> None:
        self.col = col
        self.share = share
        self.per_domestic = (
            per_domestic  # H200s allowed per domestic chip deployed: buyer_share / ratio
        )
        self.approvals = approvals
        self.batches = batches
        self.pool = np.zeros(batches.shape[0]) if batches is not None else None

    @classmethod
    def build(cls, col: int, stance: Any, key: str, d: Draws, w: np.ndarray) -> _StanceLevers:
        """The levers of one stance (column ``col`` of the stance weights ``w``), sampled per draw."""
        share = d.vec(f"{key}.permitted_share") if stance.permitted_share is not None else None
        per_domestic = None
        if stance.domestic_quota is not None:
            q = f"{key}.domestic_quota"
            per_domestic = d.vec(f"{q}.buyer_share") / d.vec(f"{q}.ratio")
        approvals = batches = None
        if stance.approvals is not None:
            a = f"{key}.approvals"
            approvals = {
                "conversion": d.vec(f"{a}.conversion_per_month"),
                "eligible": d.vec(f"{a}.eligible_share"),
            }
            batches = approval_batches(d, a, w)
        return cls(col, share, per_domestic, approvals, batches)

    def admits(self, new: np.ndarray, domestic: np.ndarray) -> np.ndarray:
        """Share of this month's fresh intentions the stance admits.

        A permitted share applies to fresh intentions (a buyer population), never to what
        is already waiting; a quota admits ``buyer_share / ratio`` H200s per domestic chip
        deployed last month; approvals admit the eligible (non-state) buyers.
        """
        out = np.ones_like(new)
        if self.share is not None:
            out = np.minimum(out, self.share)
        if self.per_domestic is not None:
            with np.errstate(over="ignore"):  # a tiny `new` gives inf, which the minimum drops
                quota = np.divide(
                    self.per_domestic * domestic, new, out=np.ones_like(new), where=new > 0
                )
            out = np.minimum(out, quota)
        if self.approvals is not None:
            out = np.minimum(out, self.approvals["eligible"])
        return out

    def conversion(self, base: np.ndarray) -> np.ndarray:
        """Share of waiting intentions this stance's buyers order each month (once terms are final)."""
        if self.approvals is not None:  # conditions can only slow conversion, never speed it
            return np.minimum(self.approvals["conversion"], base)
        return base


def approval_batches(d: Draws, key: str, w: np.ndarray) -> np.ndarray:
    """Approved volume granted each month, shape (draws, months).

    ``w`` is the share of each month under the stance, shape (1 or draws, months). The
    first batch comes in the first month the stance holds (per draw, when the stance is
    sampled); later batches follow every ``follow_on_every_months`` (several may fall in
    one month when the interval is under a month).
    """
    T = w.shape[1]
    t = np.arange(T, dtype=float)[None, :]
    active = w > 0
    first = np.where(active.any(axis=1), active.argmax(axis=1), np.inf)[:, None]  # (1 or draws, 1)
    with np.errstate(invalid="ignore"):
        # later rounds by each month: -1 before the first (a floor below -1 raised to it;
        # -inf for a stance never held, whose differences would be NaN)
        every = d.col(f"{key}.follow_on_every_months")
        count = np.maximum(np.floor((t - first) / every), -1.0)  # (draws, months)
    # the volumes are finite and never negative, so a product with a month's flag is the
    # volume or 0.0 (as a where, several times as slow, would give)
    batches = d.col(f"{key}.initial_batch_units") * (t == first)
    # the later rounds falling in each month from the second on (the first month is never
    # after the stance's first)
    later = np.subtract(count[:, 1:], count[:, :-1])
    batches[:, 1:] += later * d.col(f"{key}.follow_on_batch_units") * (t[:, 1:] > first)
    return batches
