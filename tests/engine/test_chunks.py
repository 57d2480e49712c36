"""Blocks of draws give the rows of the whole run, bit for bit (a run made in chunks)."""

from __future__ import annotations

import numpy as np
import pytest

from h200cast.engine.metrics import values
from h200cast.engine.model import BLOCK, VARIABLES, chunk_draws, simulate, simulate_chunks
from h200cast.results.scenarios import load_scenario
from h200cast.scenario.ref import ScenarioRef

REFS = [
    ScenarioRef("stance", "open_market"),
    ScenarioRef("path", "as_reported_2026_04"),
    ScenarioRef("switching", "from_2026_04_30"),
]


@pytest.mark.parametrize("ref", REFS, ids=[r.name for r in REFS])
@pytest.mark.parametrize("chunk", [1, 333, 1000, 1200])
def test_blocks_of_draws_are_the_rows_of_the_whole_run(ref: ScenarioRef, chunk: int) -> None:
    sc = load_scenario(ref, vintage="2026-01-31")
    whole = simulate(sc, draws=1000 if chunk > 1 else 40, seed=11)
    parts = list(simulate_chunks(sc, whole.n_draws, 11, chunk))
    assert [lo for lo, _ in parts] == list(range(0, whole.n_draws, chunk))
    for name in VARIABLES:  # every series, primary and derived, bit for bit
        np.testing.assert_array_equal(
            np.concatenate([p[name] for _, p in parts]), whole[name], err_msg=name
        )
    got = [values(p) for _, p in parts]
    for name, x in values(whole).items():
        np.testing.assert_array_equal(np.concatenate([g[name] for g in got]), x, err_msg=name)


def test_a_chunk_larger_than_the_engines_block_keeps_the_rows() -> None:
    sc = load_scenario(ScenarioRef("switching", "from_2026_04_30"), vintage="2026-01-31")
    n = BLOCK + 700
    whole = simulate(sc, draws=n, seed=2)
    parts = [p for _, p in simulate_chunks(sc, n, 2, BLOCK + 300)]
    assert [p.n_draws for p in parts] == [BLOCK + 300, 400]
    for name in ("shipments", "us_fee_usd", "domestic_share"):
        np.testing.assert_array_equal(np.concatenate([p[name] for p in parts]), whole[name])


def test_chunks_hold_a_fixed_number_of_draw_months() -> None:
    assert chunk_draws(36) == 2**19 // 36 == 14_563
    assert chunk_draws(120) == 4_369
    assert chunk_draws(1000) == 1_000  # never fewer than a thousand draws


def test_a_chunk_of_a_path_keeps_one_row_of_weights_and_metrics_by_name() -> None:
    sc = load_scenario(ScenarioRef("path", "as_reported_2026_04"), vintage="2026-01-31")
    (_, part), *_ = simulate_chunks(sc, 50, 3, 20)
    assert part.stance_weights.shape[0] == 1  # one row for all draws, as in simulate
    every = values(part)
    some = values(part, ["us_fee_revenue_total_usd", "shipments_total_units"])
    assert list(some) == ["us_fee_revenue_total_usd", "shipments_total_units"]
    for name, x in some.items():
        np.testing.assert_array_equal(x, every[name])


def test_a_one_month_run_gets_all_its_cells_in_one_chunk() -> None:
    assert chunk_draws(1) == 2**19
