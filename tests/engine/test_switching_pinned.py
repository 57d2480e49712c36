"""The switching chain by hand: its cumulative rows, ties, and the decision-point steps."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace as NS

import numpy as np
from support import scenario

from h200cast.engine.sampling import stream
from h200cast.engine.switching import chain_states, scenario_weights, transition_matrices
from h200cast.scenario.calendar import months_between, ordered


def test_rows_that_do_not_sum_to_one_are_normalised() -> None:
    # Initial weights 1 : 3 are probabilities 0.25, 0.75: u = 0.2 picks stance 0, u = 0.3
    # stance 1. A row 2 : 2 from stance 1 is 0.5, 0.5: u = 0.4 goes to 0, u = 0.6 stays.
    P = np.array([[1.0, 0.0], [2.0, 2.0]])
    u = np.array([[0.2, 0.9], [0.3, 0.4], [0.3, 0.6]])
    s = chain_states(np.array([1.0, 3.0]), P, u)
    assert s.tolist() == [[0, 0], [1, 0], [1, 1]]


def test_a_uniform_on_a_cdf_step_takes_the_lower_stance() -> None:
    # The first month: probabilities 0.5, 0.5 and u = 0.5 exactly: stance 0 (u > cdf picks
    # the next stance only strictly above).
    s = chain_states(np.array([0.5, 0.5]), np.eye(2), np.array([[0.5, 0.5], [0.51, 0.5]]))
    assert s.tolist() == [[0, 0], [1, 1]]


def test_a_zero_probability_last_stance_is_never_chosen() -> None:
    s = chain_states(np.array([0.5, 0.5, 0.0]), np.eye(3), np.array([[0.999999, 0.999999]]))
    assert s.tolist() == [[1, 1]]


def _chain(start: str, points: list[tuple[str, dict[str, dict[str, float]]]]) -> NS:
    row = lambda to: NS(to=to)  # noqa: E731
    return NS(
        start=dt.date.fromisoformat(start),
        transitions={"open_market": row({"open_market": 0.5, "customs_ban": 0.5})},
        decision_points=[
            NS(month=m, transitions={k: row(v) for k, v in rows.items()}) for m, rows in points
        ],
    )


def test_decision_points_replace_the_rows_of_their_step_only() -> None:
    # Chain from 2026-03. A decision in 2026-04 (step 1) sends open_market to customs_ban
    # for sure; one in 2026-03 (step 0, the start: no step leads into it) and one in 2026-07
    # (step 4, past the 4 steps) change nothing. Stances outside the chain stay put.
    names = ("customs_ban", "open_market")
    sure = {"open_market": {"customs_ban": 1.0}}
    sw = _chain("2026-03-01", [("2026-03", sure), ("2026-04", sure), ("2026-07", sure)])
    P = transition_matrices(sw, names, 4)
    base = np.array([[1.0, 0.0], [0.5, 0.5]])
    assert P.shape == (4, 2, 2)
    np.testing.assert_array_equal(P[0], base)
    np.testing.assert_array_equal(P[1], [[1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(P[2], base)
    np.testing.assert_array_equal(P[3], base)


def test_a_decision_point_in_the_last_step_applies() -> None:
    names = ("customs_ban", "open_market")
    sw = _chain("2026-03-01", [("2026-06", {"open_market": {"open_market": 1.0}})])
    P = transition_matrices(sw, names, 4)
    np.testing.assert_array_equal(P[3], [[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(P[2], [[1.0, 0.0], [0.5, 0.5]])


def test_the_chain_draws_from_its_own_stream_and_a_point_run_takes_the_median() -> None:
    sc = scenario(switching="from_2026_01_31")
    names = ordered(list(sc.stances))
    sw, T = sc.switching, sc.calendar.horizon_months
    k0 = months_between(sc.calendar.start, sw.start.isoformat()[:7])
    steps = T - k0
    initial = np.array([sw.initial.get(n, 0.0) for n in names])
    P = transition_matrices(sw, names, steps)
    for point, u in (
        (False, stream(4, "event.switching").random((5, steps))),
        (True, np.full((1, steps), 0.5)),
    ):
        w = scenario_weights(sc, names, 4, 5, point)
        assert w.shape == (len(u), T, len(names))
        states = chain_states(initial, P, u)
        np.testing.assert_array_equal(w[:, k0:, :], np.eye(len(names))[states])


def test_a_chain_that_starts_in_the_last_month_sets_that_month_only() -> None:
    sc = scenario(switching="from_2026_01_31")
    names = ordered(list(sc.stances))
    sw = sc.switching.model_copy(update={"start": dt.date(2028, 12, 1)})
    late = sc.model_copy(update={"switching": sw})
    w = scenario_weights(late, names, 1, 50, False)
    path = scenario_weights(sc.model_copy(update={"switching": None}), names, 1, 50, False)
    np.testing.assert_array_equal(w[:, :-1], np.broadcast_to(path[:, :-1], w[:, :-1].shape))
    last = w[:, -1]
    assert set(last.ravel().tolist()) == {0.0, 1.0} and (last.sum(axis=1) == 1).all()
    assert len({int(i) for i in last.argmax(axis=1)}) > 1  # drawn from the initial mix
