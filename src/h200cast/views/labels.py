"""Human labels for the model's parameters: what a dotted key means, and in what unit.

Charts and tables that show parameters (tornado charts, Sobol indices, PRIM boxes) use
these words instead of the dotted keys that ``--set`` takes; the key stays in the data
(a ``key`` column). A stance's levers (``stances.NAME.LEVER``) share one label per lever,
with the stance named after it. A test requires a label for every sampled parameter of
every stance, path, chain and vintage.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    """What a parameter is, in words, and its unit as a reader reads it."""

    text: str
    unit: str

    def __str__(self) -> str:
        return f"{self.text} ({self.unit})" if self.unit else self.text


PARAMETERS: dict[str, Label] = {
    # demand
    "demand.order_book_units": Label("January 2026 order book", "units"),
    "demand.order_delivery_months": Label("months over which the book is delivered", "months"),
    "demand.new_orders_units_per_month": Label("new orders a month", "units/month"),
    "demand.ai_spending_growth_per_year": Label("growth of China's AI spending", "per year"),
    "demand.price_elasticity": Label("price elasticity of demand", "dimensionless"),
    "demand.reference_price_usd": Label("price the book was quoted at", "USD/chip"),
    "demand.backlog_persistence": Label("permitted demand still waiting a month on", "share/month"),
    "demand.blocked_persistence": Label("blocked demand still waiting a month on", "share/month"),
    "demand.firm_order_persistence": Label("firm orders kept a month on", "share/month"),
    "demand.alternatives_sensitivity": Label(
        "waiting buyers lost to spare domestic capacity", "share"
    ),
    "demand.lost_to_domestic_share": Label("denied buyers who switch to domestic chips", "share"),
    "demand.grey_performance_ratio": Label(
        "H200 performance over the domestic alternative", "multiple"
    ),
    "demand.grey_supply_units_per_month": Label("grey-market supply", "units/month"),
    "demand.grey_enforcement": Label("grey supply stopped by enforcement", "share"),
    # buyers
    "buyers.terms_final_prob_per_month": Label(
        "chance Beijing's terms for buyers become final", "per month"
    ),
    "buyers.never_convert_prob": Label("chance buyers never place firm orders", "probability"),
    "buyers.conversion_per_month": Label("permitted demand turned into firm orders", "share/month"),
    # the US
    "us.fee_rate": Label("US duty rate", "share of customs value"),
    "us.customs_value_share": Label("customs value", "share of the China price"),
    "us.duty_collection_prob": Label("chance the duty is collected", "probability"),
    "us.duty_pass_through": Label("duty passed on to buyers", "share"),
    "us.entry_lead_months": Label("US entry ahead of delivery to China", "months"),
    "us.china_cap_share_of_us_volume": Label("China cap", "units per US-customer unit"),
    "us.us_cumulative_units_before": Label("US-customer units before the rule", "units"),
    "us.us_units_per_month": Label("H200s shipped to US customers", "units/month"),
    "us.licence_lag_months": Label("US licence review, if on time", "months"),
    "us.review_stall_prob": Label("chance the licence review stalls", "probability"),
    "us.stall_exit_prob_per_month": Label("chance a stalled review ends", "per month"),
    "us.licence_units": Label("H200s per licence", "units"),
    "us.licensed_buyers": Label("buyers licensed per round", "buyers"),
    "us.licence_every_months": Label("months between licence rounds", "months"),
    "us.retighten_prob_per_month": Label("chance the administration re-tightens", "per month"),
    "us.congress_block_prob_per_month": Label("chance Congress blocks sales", "per month"),
    # supply
    "supply.inventory_units": Label("Nvidia's H200 stock for China", "units"),
    "supply.production_lead_months": Label("lead time of new production", "months"),
    "supply.production_units_per_month": Label("new H200 production", "units/month"),
    "supply.reallocation_per_month": Label("unsold stock sold elsewhere", "share/month"),
    "supply.writedown_share": Label("stock written down when the US closes", "share"),
    # money
    "money.price_usd": Label("H200 selling price", "USD/chip"),
    # domestic chips
    "domestic.share_at_reference": Label("domestic share in mid-2025", "share"),
    "domestic.logit_speed_per_year": Label("speed of the domestic S-curve", "log-odds/year"),
    "domestic.market_units_per_month": Label("China's accelerator market", "units/month"),
    "domestic.capacity_multiple_2026": Label("domestic capacity in 2026", "x mid-2025 deployments"),
    "domestic.capacity_growth_per_year": Label("growth of domestic capacity", "per year"),
    "domestic.capacity_order_response": Label(
        "capacity added for unmet domestic demand", "share/year"
    ),
    # Beijing
    "beijing.special_cases_share": Label("special cases Beijing lets through", "share of demand"),
    "beijing.customs_refusal_share": Label("chips refused at Beijing's customs", "share"),
}
"""Dotted key -> label, for every parameter outside the stances' levers."""

LEVERS: dict[str, Label] = {
    "permitted_share": Label("demand Beijing permits", "share"),
    "substitution_push": Label("push to domestic chips", "x the S-curve's speed"),
    "approvals.initial_batch_units": Label("first approved batch", "units"),
    "approvals.follow_on_batch_units": Label("later approved batches", "units each"),
    "approvals.follow_on_every_months": Label("months between approved batches", "months"),
    "approvals.conversion_per_month": Label("approved demand turned into orders", "share/month"),
    "approvals.eligible_share": Label("demand eligible for approval", "share"),
    "domestic_quota.ratio": Label("domestic chips required per H200", "ratio"),
    "domestic_quota.buyer_share": Label("domestic purchases by quota buyers", "share"),
}
"""A stance's lever (``stances.NAME.LEVER``) -> label; the stance is named after it."""


def label(key: str) -> Label | None:
    """The label of a dotted parameter key, or ``None`` when the table has none."""
    if key in PARAMETERS:
        return PARAMETERS[key]
    parts = key.split(".")
    if parts[0] == "stances" and len(parts) > 2 and ".".join(parts[2:]) in LEVERS:
        lever = LEVERS[".".join(parts[2:])]
        return Label(f"{lever.text} under {parts[1]}", lever.unit)
    return None


def text(key: str) -> str:
    """A parameter as a reader reads it, e.g. ``H200 selling price (USD/chip)``; a key the
    table does not know is shown as it is."""
    found = label(key)
    return str(found) if found else key
