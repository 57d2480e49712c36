"""The scenario model: monthly H200 demand, shipments, shortfall, money and substitution.

Every output is an array of shape (draws, months). One loop over months advances
the state that carries over (the S-curve's push-weighted clock, the order backlog,
inventory, China's cumulative volume under the US cap, approved-but-unused volume),
each step vectorised over all draws; there is no loop over draws.

The loop stores only the primary series. Everything else (shortfall and its split,
backlog, market size, capacity, money) is derived from them on first use, with the
same formula functions the loop uses, so that each quantity is computed by one function
and a run that needs only a few metrics touches little memory. ``docs/model.md`` gives
the equations with units and sources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from h200cast.engine.sampling import uniforms
from h200cast.engine.switching import scenario_weights
from h200cast.scenario import calendar
from h200cast.scenario.distributions import ParamSpec
from h200cast.scenario.schema import Scenario

VARIABLES: dict[str, tuple[str, str]] = {
    "new_demand": ("units", "H200 demand arising in the month: order-book release plus new orders"),
    "demand": ("units", "demand in the month including the backlog carried over"),
    "permitted": ("units", "what Beijing permits buyers to take"),
    "us_allowed": ("units", "what the US rule allows (licences, 50% cap, re-tightening)"),
    "supply_available": ("units", "inventory plus new production available to ship"),
    "shipments": ("units", "H200s shipped to China"),
    "shortfall": ("units", "demand not shipped in the month (demand - shipments)"),
    "shortfall_beijing": ("units", "shortfall because Beijing did not permit it"),
    "shortfall_us_rule": ("units", "shortfall because the US rule did not allow it"),
    "shortfall_supply": ("units", "shortfall because Nvidia had no supply"),
    "backlog": ("units", "unmet demand still on order at the end of the month"),
    "lost_to_domestic": ("units", "unmet H200 demand that leaves the book for domestic chips"),
    "grey_channel": ("units", "unmet H200 demand that leaves the book for grey channels"),
    "demand_book": ("units", "part of new demand that is the order book's release"),
    "demand_new_orders": ("units", "part of new demand that is new orders after the book"),
    "demand_taken_by_domestic": (
        "units",
        "new orders that domestic chips take over as their share grows (negative when it falls)",
    ),
    "production": ("units", "new H200s made for China"),
    "inventory": ("units", "H200s in stock at the end of the month"),
    "approvals_unused": ("units", "approved volume not yet used, end of month"),
    "revenue_usd": ("USD", "Nvidia's revenue from H200 sales to China"),
    "us_fee_usd": ("USD", "US fee on those sales"),
    "nvidia_net_usd": ("USD", "Nvidia's revenue after the US fee"),
    "market_units": ("units", "China's AI accelerator deployments"),
    "domestic_share_desired": ("share", "domestic share on the S-curve before the capacity bound"),
    "domestic_capacity": ("units", "domestic accelerator output"),
    "domestic_units": ("units", "domestic accelerators deployed"),
    "domestic_share": ("share", "domestic share of new AI accelerator deployments"),
    "us_open": ("share", "1 while Washington still allows sales, 0 after it re-tightens"),
}
STOCKS = frozenset({"backlog", "inventory", "approvals_unused"})
"""Variables that are levels at the end of a month, not flows within it."""
"""Monthly outputs: name -> (unit, meaning)."""


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


EVENTS = ("event.us_retighten",)
"""Per-draw random events that are not parameters; sampled like parameters."""


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


def market_units(v: Getter, t: Any, k: Clock) -> np.ndarray:
    """China's AI accelerator deployments per month, growing with AI spending."""
    return v("domestic.market_units_per_month") * _grow(
        v("demand.ai_spending_growth_per_year"), t + k.from_reference
    )


def domestic_capacity(v: Getter, t: Any, k: Clock) -> np.ndarray:
    """Domestic output per month.

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


def elasticity_factor(v: Getter) -> np.ndarray:
    """Demand relative to demand at the reference price."""
    return (v("money.price_usd") / v("demand.reference_price_usd")) ** v("demand.price_elasticity")


def book_release(v: Getter, t: Any) -> np.ndarray:
    """The order book spread evenly over the delivery months (before the price response)."""
    deliver = v("demand.order_delivery_months")
    return v("demand.order_book_units") / deliver * np.clip(deliver - t, 0.0, 1.0)


def new_orders_base(v: Getter, t: Any) -> np.ndarray:
    """New orders after the book is delivered, growing with AI spending (before substitution and price)."""
    deliver = v("demand.order_delivery_months")
    return (
        v("demand.new_orders_units_per_month")
        * _grow(v("demand.ai_spending_growth_per_year"), t - deliver)
        * _ramp(t, deliver)
    )


def production(v: Getter, t: Any, k: Clock) -> np.ndarray:
    """New H200s for China: from the lead time on, until the stop month if any."""
    made = v("supply.production_units_per_month") * _ramp(t, v("supply.production_lead_months"))
    if k.production_stop is not None:
        made = made * (np.asarray(t) < k.production_stop)
    return made


def us_open(v: Getter, t: Any) -> np.ndarray:
    """1 until Washington re-tightens (a geometric month drawn per draw), then 0."""
    h = np.minimum(v("us.retighten_prob_per_month"), 1.0 - 1e-12)
    u = v("event.us_retighten")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # h -> 0 means never
        at = np.where(h > 0, np.floor(np.log1p(-u) / np.log1p(-h)), np.inf)
    return (t < at).astype(float)


def us_licensed(v: Getter, t: Any) -> np.ndarray:
    """Share of the month in which licences let shipments flow."""
    return _ramp(t, v("us.licence_lag_months")) * us_open(v, t)


def us_cap_cumulative(v: Getter, t: Any) -> np.ndarray:
    """China's cumulative volume allowed by the end of month ``t``: a share of US-customer volume."""
    return v("us.china_cap_share_of_us_volume") * (
        v("us.us_cumulative_units_before") + v("us.us_units_per_month") * (t + 1.0)
    )


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 1e-9, 1 - 1e-9)
    return np.log(x / (1 - x))


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


def _passed_beijing(p: Paths) -> np.ndarray:
    return np.minimum(p["demand"], p["permitted"])


def _passed_us(p: Paths) -> np.ndarray:
    return np.minimum(_passed_beijing(p), p["us_allowed"])


def _leaving(p: Paths) -> np.ndarray:
    """Unmet demand that leaves the book each month (the part not carried over)."""
    return p["shortfall"] * (1.0 - p.draws.col("demand.backlog_persistence"))


def _supply_available(p: Paths) -> np.ndarray:
    before = np.concatenate([p.draws.col("supply.inventory_units"), p["inventory"][:, :-1]], axis=1)
    return before + p["production"]


_DERIVED: dict[str, Callable[[Paths], np.ndarray]] = {
    "shortfall": lambda p: p["demand"] - p["shipments"],
    # the split follows the order Beijing -> US rule -> supply; the parts add to the shortfall
    "shortfall_beijing": lambda p: p["demand"] - _passed_beijing(p),
    "shortfall_us_rule": lambda p: _passed_beijing(p) - _passed_us(p),
    "shortfall_supply": lambda p: _passed_us(p) - p["shipments"],
    "backlog": lambda p: p.draws.col("demand.backlog_persistence") * p["shortfall"],
    "lost_to_domestic": lambda p: _leaving(p) * p.draws.col("demand.lost_to_domestic_share"),
    "grey_channel": lambda p: _leaving(p) * p.draws.col("demand.grey_channel_share"),
    "demand_book": lambda p: elasticity_factor(p.draws.col) * p.full(book_release),
    "demand_new_orders": lambda p: p["new_demand"] - p["demand_book"],
    "demand_taken_by_domestic": lambda p: (
        elasticity_factor(p.draws.col) * p.full(new_orders_base) - p["demand_new_orders"]
    ),
    "production": lambda p: p.full(production, p.clock),
    "supply_available": _supply_available,
    "approvals_unused": lambda p: np.zeros((p.n_draws, p.n_months)),
    "revenue_usd": lambda p: p["shipments"] * p.draws.col("money.price_usd"),
    "us_fee_usd": lambda p: p["revenue_usd"] * p.draws.col("us.fee_rate"),
    "nvidia_net_usd": lambda p: p["revenue_usd"] - p["us_fee_usd"],
    "market_units": lambda p: p.full(market_units, p.clock),
    "domestic_capacity": lambda p: p.full(domestic_capacity, p.clock),
    "domestic_units": lambda p: p["domestic_share"] * p["market_units"],
    "us_open": lambda p: p.full(us_open),
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
    if point and W.shape[0] == 1 and d.n > 1:
        W = np.repeat(W, d.n, axis=0)
    clock = Clock(
        from_reference=calendar.months_between(scenario.domestic.reference_month, cal.start),
        production_stop=scenario.supply.production_stop_month,
    )
    paths = Paths(calendar.month_labels(cal.start, T), names, W, d, clock)
    levers = [
        _StanceLevers.build(j, scenario.stances[n], f"stances.{n}", d, W[:, :, j])
        for j, n in enumerate(names)
    ]
    _advance(paths, levers)
    return paths


def _advance(paths: Paths, levers: list[_StanceLevers]) -> None:
    """The monthly loop: fill the primary series of ``paths``."""
    d, k, W = paths.draws, paths.clock, paths.stance_weights
    D, T = paths.n_draws, paths.n_months
    v = d.vec
    stored = [
        "new_demand",
        "demand",
        "permitted",
        "us_allowed",
        "shipments",
        "inventory",
        "domestic_share",
        "domestic_share_desired",
    ]
    has_pool = any(lv.batches is not None for lv in levers)
    if has_pool:
        stored.append("approvals_unused")
    out = {name: np.empty((D, T), order="F") for name in stored}

    push_s = np.stack(
        [v(f"stances.{n}.substitution_push") for n in paths.stance_names], axis=1
    )  # (D, S)
    logit0 = _logit(v("domestic.share_at_reference"))
    speed = v("domestic.logit_speed_per_year") / 12.0
    elastic = elasticity_factor(v)
    persistence = v("demand.backlog_persistence")
    special = v("beijing.special_cases_share")
    backlog = np.zeros(D)
    stock = v("supply.inventory_units").astype(float).copy()
    shipped = np.zeros(D)
    elapsed = np.full(D, float(k.from_reference))
    push_prev = None
    foreign0 = None
    for i in range(T):
        ti = float(i)
        # domestic share: S-curve on a clock that runs faster under a pushing stance
        w = W[:, i, :]  # (1 or draws, stances)
        for (
            lv
        ) in levers:  # approvals belong to their stance: a draw that leaves it keeps none of them
            if lv.pool is not None:
                lv.pool = np.where(w[:, lv.col] > 0, lv.pool, 0.0)
        push = (push_s * w).sum(axis=1)
        if push_prev is not None:
            elapsed = elapsed + 0.5 * (push_prev + push)
        push_prev = push
        desired = _expit(logit0 + speed * elapsed)
        market = market_units(v, ti, k)
        domestic = np.minimum(desired * market, domestic_capacity(v, ti, k))
        share = np.divide(domestic, market, out=desired.copy(), where=market > 0)
        # fresh demand: the book, plus new orders that shrink as the domestic share grows
        foreign = 1.0 - share
        if foreign0 is None:
            foreign0 = foreign
        scale = np.divide(foreign, foreign0, out=np.zeros(D), where=foreign0 > 0)
        new = elastic * (book_release(v, ti) + new_orders_base(v, ti) * scale)
        dem = new + backlog
        # what each party lets through
        floor = special * new
        parts = [
            (lv, lv.permit(i, dem, floor, domestic, w[:, lv.col] > 0))
            for lv in levers
            if w[:, lv.col].any()
        ]
        permit = sum(w[:, lv.col] * p for lv, p in parts)
        us = us_licensed(v, ti) * np.maximum(us_cap_cumulative(v, ti) - shipped, 0.0)
        avail = stock + production(v, ti, k)
        ship = np.minimum(np.minimum(np.minimum(dem, permit), us), avail)
        for lv, p in parts:
            lv.use(ship, w[:, lv.col], p, permit)
        backlog = persistence * (dem - ship)
        stock = avail - ship
        shipped = shipped + ship
        for name, x in (
            ("new_demand", new),
            ("demand", dem),
            ("permitted", permit),
            ("us_allowed", us),
            ("shipments", ship),
            ("inventory", stock),
            ("domestic_share", share),
            ("domestic_share_desired", desired),
        ):
            out[name][:, i] = x
        if has_pool:
            out["approvals_unused"][:, i] = sum(lv.pool for lv in levers if lv.pool is not None)
    paths.arrays.update(out)


class _StanceLevers:
    """What one stance permits each month, and its pool of approved volume."""

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
        self.granted = np.zeros(0)

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

    def permit(
        self, i: int, demand: np.ndarray, floor: np.ndarray, domestic: np.ndarray, holds: np.ndarray
    ) -> np.ndarray:
        """Volume this stance permits in month ``i``, never below the special cases ``floor``.

        ``domestic`` is the month's domestic deployments, which a quota converts into H200s;
        ``holds`` marks the draws under this stance in the month: only they receive batches.
        """
        own = demand
        if self.share is not None:
            own = np.minimum(own, self.share * demand)
        if self.per_domestic is not None:
            own = np.minimum(own, self.per_domestic * domestic)
        if self.approvals is not None:
            assert self.batches is not None  # built with the approvals
            self.pool = self.pool + np.where(holds, self.batches[:, i], 0.0)
            ap = self.approvals
            own = np.minimum(own, np.minimum(ap["conversion"] * self.pool, ap["eligible"] * demand))
            self.granted = own
        return np.maximum(own, floor)

    def use(
        self, shipped: np.ndarray, weight: np.ndarray, mine: np.ndarray, permit: np.ndarray
    ) -> None:
        """Take this stance's part of the month's shipments out of its approval pool.

        ``weight`` is the share of the month under this stance and ``mine`` what the stance
        permitted; shipments count against approvals first, and only up to what the
        approvals granted in this stance's part of the month; the rest passed as special cases.
        """
        if self.pool is None:
            return
        part = np.divide(weight * mine, permit, out=np.zeros_like(permit), where=permit > 0)
        self.pool = np.maximum(self.pool - np.minimum(shipped * part, weight * self.granted), 0.0)


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
        since = t - first
        count = np.where(since >= 0, np.floor(since / d.col(f"{key}.follow_on_every_months")), -1.0)
    rounds = np.diff(count, axis=1, prepend=-1.0)  # later rounds falling in each month
    batches = np.where(t == first, d.col(f"{key}.initial_batch_units"), 0.0)
    batches = batches + np.where(t > first, rounds * d.col(f"{key}.follow_on_batch_units"), 0.0)
    return np.broadcast_to(batches, (d.n, T)).copy()
