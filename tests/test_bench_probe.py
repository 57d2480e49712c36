"""The benchmark's numpy probe counts what the engine asks of numpy, and leaves its numbers alone."""

from __future__ import annotations

import sys

import numpy as np
from support import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

from probe import Counted, count, counted_run, matched_seconds, passes, probe_seconds

from h200cast.engine.model import sample, simulate_values
from h200cast.results.scenarios import load_scenario
from h200cast.scenario.ref import ScenarioRef


def test_it_counts_each_operation_and_the_elements_it_makes() -> None:
    a = np.arange(10.0).view(Counted)
    Counted.reset()
    b = np.where(a > 3, a * 2.0, 0.0) + 1.0  # >, *, where, +: four passes of 10 values
    assert isinstance(b, Counted) and Counted.calls == 4 and Counted.elements == 40
    assert np.array_equal(
        b.view(np.ndarray), np.where(np.arange(10.0) > 3, np.arange(10.0) * 2, 0) + 1
    )
    out = np.empty(10)
    np.multiply(a, a, out=out)  # into a plain array given as out=
    assert Counted.calls == 5 and out[3] == 9.0


def test_the_engine_counted_gives_the_engines_numbers() -> None:
    sc = load_scenario(ScenarioRef("stance", "selective_approval"), vintage="2026-01-31")
    plain = simulate_values(sc, sample(sc, 300, 1).values, 1)
    counted = simulate_values(
        sc, {k: v.view(Counted) for k, v in sample(sc, 300, 1).values.items()}, 1
    )
    for name in ("shipments", "us_fee_usd", "domestic_share"):
        np.testing.assert_array_equal(np.asarray(counted[name]), plain[name])
    calls, elements, kinds = count(sc, 300)
    assert calls > 1000 and elements > 300 * 36 * 10 and kinds["multiply.__call__"] > 0
    assert probe_seconds(10, 1000, repeat=1) > 0


def test_the_matched_probe_counts_copies_at_their_size_and_no_views() -> None:
    a = np.arange(12.0).view(Counted)
    Counted.reset()
    wide = np.broadcast_to(a, (3, 12))  # a view: no pass
    b = wide * 2.0  # a pass of 36 values
    b[0] = 0.0  # a copy (a fill) of 12 values
    c = b.copy()  # a copy of 36
    np.copyto(c, b)  # and another
    assert Counted.by_size == {("pass", 36): 1, ("copy", 12): 1, ("copy", 36): 2}
    assert isinstance(c, Counted) and np.array_equal(c.view(np.ndarray)[0], np.zeros(12))


def test_the_matched_probe_sees_the_engines_copies_into_draw_order() -> None:
    sc = load_scenario(ScenarioRef("stance", "selective_approval"), vintage="2026-01-31")
    draws, months = 300, sc.calendar.horizon_months
    by_size, counted = counted_run(sc, draws)
    # each stored series is copied into draw order once: a copy of draws x months values
    # (before, the probe did not see them; and it counted every broadcast as a pass)
    assert by_size["copy", draws * months] >= 13
    assert by_size == passes(sc, draws)
    calls, _, kinds = count(sc, draws)
    assert kinds["broadcast_to"] > 0
    assert sum(by_size.values()) > calls - kinds["broadcast_to"]  # the copies it missed
    # with its arrays counted, the engine gives its numbers, and numpy is put back
    import h200cast.engine.model as model

    assert model.np is np
    plain = simulate_values(sc, sample(sc, draws, 1).values, 1)
    for name in ("shipments", "inventory", "approvals_unused", "domestic_share"):
        np.testing.assert_array_equal(np.asarray(counted[name]), plain[name])
    assert matched_seconds({("pass", 100): 3, ("copy", 100): 2}, repeat=1) > 0
