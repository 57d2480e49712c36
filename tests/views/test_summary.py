"""The front page's summary: the four quantities in words, from the results."""

from __future__ import annotations

from h200cast.api import run
from h200cast.views import notebook, summary


def test_each_quantity_is_one_sentence_with_its_band_and_months() -> None:
    runs = [run(stance=s, draws=100) for s in ("customs_ban", "open_market")]
    said = summary.headline(runs)
    assert [s.metric for s in said] == [q.metric for q in summary.QUANTITIES]
    for s, q in zip(said, summary.QUANTITIES, strict=True):
        assert s.text.count(". ") == 0 and s.text.endswith("."), s.text  # one sentence
        assert "P5-P95" in s.text
        months = "from January 2026 to December 2028" if q.total else "at the end of December 2028"
        assert months in s.text, s.text
        order = sorted(runs, key=lambda r: (r.stats[q.metric]["p50"], r.stats[q.metric]["mean"]))
        for r in (order[0], order[-1]):  # the lowest and the highest, with their bands
            assert notebook.band(r, q.metric) in s.text and r.label in s.text
    demand = said[0].text
    assert notebook.describe(runs[0], "demand_total_units") in demand  # computed, not written
    assert "the lowest median" in demand and "the highest" in demand


def test_equal_medians_are_told_apart_by_their_means() -> None:
    runs = [run(stance=s, draws=100) for s in ("customs_ban", "open_market")]
    fee = summary.sentence(runs, summary.QUANTITIES[2]).text
    assert "a median of $0.0 billion under every run" in fee  # nothing collected at the median
    low, high = sorted(r.stats["us_fee_revenue_total_usd"]["mean"] for r in runs)
    assert f"${low / 1e9:.2f} billion to ${high / 1e9:.2f} billion" in fee
    one = summary.headline(runs[:1])[0].text
    assert one.endswith("under customs_ban.") and "lowest" not in one
