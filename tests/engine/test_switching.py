"""Beijing's stance as a Markov chain: sampling, validation and runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from support import ROOT, scenario
from test_model import check_invariants

from h200cast.cli import main
from h200cast.cli.params import check_file
from h200cast.engine.model import simulate
from h200cast.engine.sampling import stream
from h200cast.engine.switching import chain_states, transition_matrices
from h200cast.errors import InputError
from h200cast.scenario.schema import STANCES

CHAIN = ROOT / "params" / "switching" / "from_2026_01_31.yaml"


def test_sampled_transitions_match_the_matrix() -> None:
    # 4 stances, 20,000 draws x 25 months = 480,000 transitions. A frequency's standard
    # error is at most 0.5/sqrt(n_i) < 0.003 for the least visited state here; we allow 0.01.
    P = np.array(
        [
            [0.7, 0.2, 0.1, 0.0],
            [0.05, 0.9, 0.0, 0.05],
            [0.0, 0.3, 0.3, 0.4],
            [0.25, 0.25, 0.25, 0.25],
        ]
    )
    initial = np.array([0.1, 0.2, 0.3, 0.4])
    u = stream(42, "test").random((20_000, 25))
    s = chain_states(initial, P, u)
    first = np.bincount(s[:, 0], minlength=4) / len(s)
    np.testing.assert_allclose(first, initial, atol=0.01)
    counts = np.zeros((4, 4))
    np.add.at(counts, (s[:, :-1].ravel(), s[:, 1:].ravel()), 1)
    assert counts.sum(axis=1).min() > 30_000
    np.testing.assert_allclose(counts / counts.sum(axis=1, keepdims=True), P, atol=0.01)
    assert (
        counts[0, 3] == 0 and counts[1, 2] == 0 and counts[2, 0] == 0
    )  # impossible moves never happen


def test_median_path_is_deterministic() -> None:
    P = np.array([[0.6, 0.4], [0.5, 0.5]])
    s = chain_states(np.array([1.0, 0.0]), P, np.full((1, 4), 0.5))
    # u = 0.5 stays in state 0 (cdf 0.6 > 0.5) every month
    assert s.tolist() == [[0, 0, 0, 0]]
    s = chain_states(np.array([0.0, 1.0]), P, np.full((1, 4), 0.5))
    # from state 1, cdf row (0.5, 1.0): u = 0.5 is not > 0.5, so the chain goes to 0 and stays
    assert s.tolist() == [[1, 0, 0, 0]]


def test_committed_chain_runs_from_the_reported_january() -> None:
    sc = scenario(switching="from_2026_01_31")
    p = simulate(sc, draws=3000, seed=5)
    check_invariants(p)
    share = p.stance_share
    np.testing.assert_allclose(share.sum(axis=1), 1.0)
    col = {n: i for i, n in enumerate(p.stance_names)}
    # January follows the reported path; February is the chain's uncertain initial state
    assert share[0, col["customs_ban"]] == pytest.approx(21 / 31)
    P0 = np.zeros(len(col))
    for name, prob in sc.switching.initial.items():
        P0[col[name]] = prob
    np.testing.assert_allclose(share[1], P0, atol=0.02)
    assert share[1, col["selective_approval"]] < 1.0
    # March: one ordinary step; April: the decision point (the Trump-Xi talks) uses its own
    # rows, so the distribution moves by a different matrix; within sampling error
    M = transition_matrices(sc.switching, p.stance_names, 3)
    np.testing.assert_allclose(share[2], P0 @ M[1], atol=0.02)
    np.testing.assert_allclose(share[3], P0 @ M[1] @ M[2], atol=0.02)
    assert not np.allclose(M[2], M[1])
    # draws differ: some draws are under a ban at the horizon, some are open
    last = p.stance_weights[:, -1, :].argmax(axis=1)
    assert {col["customs_ban"], col["open_market"], col["selective_approval"]} <= set(last.tolist())


def test_same_seed_same_stances() -> None:
    sc = scenario(switching="from_2026_01_31")
    a, b, c = (simulate(sc, 500, s).stance_weights for s in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_run_json_carries_stance_shares(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--switching", "from_2026_01_31", "--draws", "400", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["switching"] == "from_2026_01_31" and obj["stance"] is None
    shares = obj["stance_shares"]
    assert len(shares) == 36 and next(iter(shares)) == "2026-01"
    for month, row in shares.items():
        assert sum(row.values()) == pytest.approx(1.0), month
        assert set(row) <= set(STANCES)
    assert set(shares["2026-02"]) == set(scenario(switching="from_2026_01_31").switching.initial)


def _write_chain(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(CHAIN.read_text())
    edit(data)
    f = tmp_path / "switching" / "bad.yaml"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(yaml.safe_dump(data))
    return f


@pytest.mark.parametrize(
    ("edit", "key", "words"),
    [
        (
            lambda d: d["transitions"]["customs_ban"]["to"].update(customs_ban=0.5),
            "transitions.customs_ban.to",
            "sum to 1",
        ),
        (
            lambda d: d["transitions"]["customs_ban"]["to"].update(martial_law=0.0),
            "transitions.customs_ban.to.martial_law",
            "customs_ban",
        ),
        (lambda d: d["initial"].update(selective_approval=0.7), "initial", "sum to 1"),
        (
            lambda d: d["transitions"].pop("rd_exemption"),
            None,
            "no transition row: ['rd_exemption']",
        ),
        (lambda d: d.update(start="2026-02-15"), "start", "first day of a month"),
        (
            lambda d: d["transitions"]["open_market"]["to"].update(
                open_market=1.2, customs_ban=-0.2
            ),
            "transitions.open_market.to",
            "[0, 1]",
        ),
    ],
)
def test_bad_chains_are_refused(tmp_path: Path, edit, key: str | None, words: str) -> None:
    f = _write_chain(tmp_path, edit)
    with pytest.raises(InputError) as err:
        check_file(f)
    msg = err.value.render()
    assert str(f) in msg and words in msg
    if key:
        assert f": {key}" in msg


def test_committed_chain_file_validates() -> None:
    assert check_file(CHAIN) == "switching"


def test_unknown_chain_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--switching", "nonesuch"]) == 2
    err = capsys.readouterr().err
    assert "unknown switching chain" in err and "from_2026_01_31" in err


def test_each_draw_is_independent_of_the_others() -> None:
    # Simulating a subset of draws alone, with the same parameter values and stance weights,
    # gives exactly the same paths: no draw's outcome depends on another draw (a batch of
    # approvals must reach only the draws under selective approval in that month).
    from h200cast.engine.model import simulate_values

    sc = scenario(switching="from_2026_01_31")
    full = simulate(sc, draws=400, seed=3)
    pick = np.array([0, 7, 55, 123, 399])
    sub = simulate_values(
        sc,
        {k: v[pick] for k, v in full.draws.values.items()},
        seed=3,
        weights=full.stance_weights[pick],
    )
    for name in ("shipments", "permitted", "approvals_unused", "domestic_share"):
        np.testing.assert_array_equal(sub[name], full[name][pick], err_msg=name)
    # and the pool only fills in months the draw is under selective approval
    col = full.stance_names.index("selective_approval")
    never = ~(full.stance_weights[:, 2:, col] > 0).any(axis=1)
    assert (
        not never.any()
        or (full["approvals_unused"][never, -1] <= full["approvals_unused"][never, 2]).all()
    )


def test_approvals_lapse_when_a_draw_leaves_selective_approval() -> None:
    # Approvals belong to their stance: in every month a draw is not under selective
    # approval it holds none. (When they survived a change of stance, less stock could
    # end with more shipped: the unused pool was saved for the return.)
    p = simulate(scenario(switching="from_2026_01_31"), draws=2000, seed=4)
    col = p.stance_names.index("selective_approval")
    away = p.stance_weights[:, :, col] == 0
    assert away.any() and (p["approvals_unused"][away] == 0).all()
    assert (p["approvals_unused"][~away] > 0).any()


@pytest.mark.parametrize(
    ("start", "ok"),
    [
        ("2020-02-01", False),  # before the calendar start (2026-01)
        ("2025-12-01", False),
        ("2026-01-01", True),  # the first month
        ("2028-12-01", True),  # the last month of the 36-month horizon
        ("2029-01-01", False),  # after it: the chain would never apply
        ("2099-02-01", False),
    ],
)
def test_chain_start_must_fall_within_the_horizon(
    tmp_path: Path, start: str, ok: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    chain = params / "switching" / CHAIN.name
    text = chain.read_text()
    assert "\nstart: 2026-02-01\n" in text
    chain.write_text(text.replace("\nstart: 2026-02-01\n", f"\nstart: {start}\n"))
    args = ["params", "show", "--switching", CHAIN.stem, "--params-dir", str(params), "--json"]
    rc = main(args)
    out, err = capsys.readouterr()
    if ok:
        assert rc == 0 and json.loads(out)["switching"]["start"] == start, err
        return
    assert rc == 2 and out == ""
    assert err.startswith(f"h200cast: error: {chain}: switching.start: got '{start}': "), err
    assert "2026-01-01" in err and "2028-12-01" in err


def test_decision_point_rows_apply_only_to_their_step() -> None:
    # Two stances. Ordinary months stay put for sure; the step into month 2 (a decision
    # point) moves everyone from stance 0 to 1. So paths are 0, 0, 1, 1, 1.
    stay = np.eye(2)
    move = np.array([[0.0, 1.0], [0.0, 1.0]])
    P = np.stack([stay, stay, move, stay, stay])
    s = chain_states(np.array([1.0, 0.0]), P, np.full((3, 5), 0.5))
    assert s.tolist() == [[0, 0, 1, 1, 1]] * 3
