"""Sampling properties: Latin hypercube columns, their independence, their streams."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from support import scenario

from h200cast.engine.model import EVENTS, sample
from h200cast.engine.sampling import stream, uniforms


def strata(u: np.ndarray) -> np.ndarray:
    return np.floor(u * len(u)).astype(int)


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(seed=hs.integers(0, 2**32 - 1), n=hs.integers(1, 300), key=hs.text(min_size=1))
def test_an_lhs_column_holds_one_uniform_in_each_stratum(seed: int, n: int, key: str) -> None:
    u = uniforms(seed, key, n)
    assert u.shape == (n,)
    assert ((u > 0) & (u < 1)).all()
    assert sorted(strata(u).tolist()) == list(range(n))


def test_lhs_strata_come_in_random_order() -> None:
    # A column in stratum order (0, 1, 2, ...) is no sample: its draws would follow the
    # order of the draws. 200 strata in order by chance: 1 in 200!.
    u = uniforms(3, "money.price_usd", 200)
    assert not (np.diff(u) > 0).all()
    assert not (np.diff(u) < 0).all()
    # the first draw is anywhere, not always in the first or the last stratum
    firsts = {int(strata(uniforms(s, "k", 50))[0]) for s in range(20)}
    assert len(firsts) > 5


def test_lhs_columns_are_permuted_independently() -> None:
    # Two parameters' columns: the strata of one are no function of the other's. With 2,000
    # draws the rank correlation of independent columns has sd 1/sqrt(1999) = 0.022; equal
    # or reversed orders would give +-1.
    a = strata(uniforms(5, "a", 2000))
    b = strata(uniforms(5, "b", 2000))
    r = np.corrcoef(a, b)[0, 1]
    assert abs(r) < 0.1
    assert (a != b).mean() > 0.99


def test_within_a_stratum_the_draw_is_uniform() -> None:
    # The offset inside each stratum (n u - stratum) is uniform on (0, 1), not its centre:
    # with 5,000 draws its mean is 0.5 +- 0.004 and its spread covers (0.01, 0.99).
    u = uniforms(8, "x", 5000)
    off = u * 5000 - strata(u)
    assert off.mean() == pytest.approx(0.5, abs=0.02)
    assert off.min() < 0.01 and off.max() > 0.99
    assert off.std() == pytest.approx(np.sqrt(1 / 12), abs=0.01)


def test_random_draws_are_not_stratified_and_stay_inside() -> None:
    # Plain draws of 1,000 leave about 1/e of the strata empty (368 +- 15).
    r = uniforms(1, "k", 1000, "random")
    assert ((r > 0) & (r < 1)).all()
    empty = 1000 - len(set(strata(r).tolist()))
    assert 300 < empty < 440
    assert r.mean() == pytest.approx(0.5, abs=0.03)


def test_a_stream_is_seeded_by_the_seed_and_the_keys_checksum() -> None:
    # The stream of (seed, key) is numpy's generator seeded by [seed, crc32(key)]: stable
    # across runs and machines, and independent of Python's string hashing.
    a = stream(7, "money.price_usd").random(5)
    b = np.random.default_rng([7, zlib.crc32(b"money.price_usd")]).random(5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(stream(8, "money.price_usd").random(5), a)
    # a key outside ASCII is encoded as UTF-8
    c = np.random.default_rng([7, zlib.crc32("prix.€".encode())]).random(3)
    np.testing.assert_array_equal(stream(7, "prix.€").random(3), c)


def test_a_uniform_column_is_the_streams_permutation_plus_offsets() -> None:
    rng = np.random.default_rng([4, zlib.crc32(b"k")])
    want = (rng.permutation(10) + rng.random(10)) / 10
    np.testing.assert_array_equal(uniforms(4, "k", 10), want)
    rng = np.random.default_rng([4, zlib.crc32(b"k")])
    np.testing.assert_array_equal(uniforms(4, "k", 10, "random"), rng.random(10))


def test_sample_draws_every_parameter_and_event_from_its_own_stream() -> None:
    sc = scenario(stance="open_market")
    d = sample(sc, 64, seed=2)
    assert d.n == 64
    spec = sc.money.price_usd
    np.testing.assert_array_equal(
        d.vec("money.price_usd"), spec.ppf(uniforms(2, "money.price_usd", 64))
    )
    # a stance's levers are drawn from the stream named without the stance
    push = sc.stances["open_market"].substitution_push
    np.testing.assert_array_equal(
        d.vec("stances.open_market.substitution_push"),
        push.ppf(uniforms(2, "stance.substitution_push", 64)),
    )
    for key in EVENTS:
        np.testing.assert_array_equal(d.vec(key), uniforms(2, key, 64))
    # a point run takes each central value and the events' median
    pt = sample(sc, 64, seed=2, point=True)
    assert pt.n == 1
    assert pt.vec("money.price_usd").tolist() == [spec.central()]
    assert all(pt.vec(k).tolist() == [0.5] for k in EVENTS)
    assert d.col("money.price_usd").shape == (64, 1)


def test_sample_uses_the_scenarios_method() -> None:
    sc = scenario(stance="open_market", overrides=("sampling.method=random",))
    d = sample(sc, 50, seed=2)
    np.testing.assert_array_equal(
        d.vec("event.terms_final"), uniforms(2, "event.terms_final", 50, "random")
    )
    spec = sc.money.price_usd
    np.testing.assert_array_equal(
        d.vec("money.price_usd"), spec.ppf(uniforms(2, "money.price_usd", 50, "random"))
    )


def test_an_unknown_method_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown sampling method 'sobol'"):
        uniforms(1, "k", 5, "sobol")  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(d=hs.integers(1, 12), n=hs.integers(1, 400), seed=hs.integers(0, 2**63 - 1))
def test_the_latin_hypercube_is_scipys_bit_for_bit(d: int, n: int, seed: int) -> None:
    from scipy.stats import qmc

    from h200cast.engine.sampling import latin_hypercube

    u = latin_hypercube(d, n, seed)
    assert np.array_equal(u, qmc.LatinHypercube(d=d, seed=seed).random(n))
    # and it is one: each column holds one point in each of the n strata
    for j in range(d):
        assert sorted(strata(u[:, j]).tolist()) == list(range(n))
