"""What the community models share (`bench.trust_metrics`): rows summed per key, members' facts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.trust_metrics import (
    Data,
    aggregate_edges,
    aggregate_posts,
    best_rank,
    facts_from,
    precision_at_10,
    rank_alone,
    rank_microvoice,
    without,
)
from bot import trust


def _by_rows(cols: list[np.ndarray], n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, inv = np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)
    total = np.zeros(len(rows))
    np.add.at(total, inv.ravel(), n)
    return rows, total


@pytest.mark.parametrize(
    "ids",
    [
        (10_000, 10_050),  # narrow: every column coded by its offset
        (310_000_000_000_000_000, 310_000_000_050_000_000),  # snowflake-sized: the widest are ranked
        (0, 2**62),  # every column wide: rows sorted as rows
    ],
)
def test_edges_are_summed_per_key_in_key_order(ids: tuple[int, int]) -> None:
    rng = np.random.default_rng(7)
    size = 20_000
    lo, hi = ids
    pick = rng.integers(lo, hi, 60, dtype=np.int64) if hi - lo > 60 else np.arange(lo, hi)
    wide = hi - lo > 2**40
    parts = []
    for _ in range(2):
        channel = rng.integers(lo, hi, size, dtype=np.int64) if wide else rng.integers(0, 9, size)
        day = rng.integers(lo, hi, size, dtype=np.int64) if wide else rng.integers(20_000, 20_180, size)
        parts.append(
            trust.Edges(
                rng.integers(lo, hi, size, dtype=np.int64) if wide else rng.choice(pick, size),
                rng.integers(lo, hi, size, dtype=np.int64) if wide else rng.choice(pick, size),
                channel,
                day,
                rng.integers(0, len(trust.KINDS), size),
                rng.integers(1, 4, size).astype(np.float64),
            )
        )
    got = aggregate_edges(parts)
    cols = [
        np.concatenate([getattr(p, c) for p in parts]) for c in ("actor", "target", "channel", "day", "kind")
    ]
    rows, total = _by_rows(cols, np.concatenate([p.n for p in parts]))
    for i, col in enumerate(("actor", "target", "channel", "day", "kind")):
        assert np.array_equal(getattr(got, col), rows[:, i]), col
    assert np.array_equal(got.n, total)
    assert math.isclose(float(got.n.sum()), float(sum(p.n.sum() for p in parts)))


def test_posts_are_summed_per_key() -> None:
    a = trust.Posts(np.array([5, 5, 7]), np.array([1, 1, 1]), np.array([3, 3, 4]), np.array([1.0, 2.0, 1.0]))
    b = trust.Posts(np.array([7, 5]), np.array([1, 2]), np.array([4, 3]), np.array([1.0, 1.0]))
    got = aggregate_posts([a, b])
    assert got.member.tolist() == [5, 5, 7]
    assert got.channel.tolist() == [1, 2, 1]
    assert got.n.tolist() == [3.0, 1.0, 2.0]
    empty = aggregate_posts(
        [trust.Posts(np.array([], np.int64), np.array([], np.int64), np.array([], np.int64), np.array([]))]
    )
    assert len(empty.member) == 0


def test_facts_from_the_rows_and_what_discord_states() -> None:
    edges = trust.Edges(
        np.array([1, 2]),
        np.array([2, 3]),
        np.array([0, 0]),
        np.array([10, 12]),
        np.array([0, 1]),
        np.array([1.0, 1.0]),
    )
    posts = trust.Posts(np.array([2, 4]), np.array([0, 0]), np.array([11, 9]), np.array([1.0, 1.0]))
    facts = facts_from(edges, posts, {1: (5.0, 1.0, math.nan), 3: (6.0, 2.0, 12.0)}, frozenset({4}))
    assert facts.member_id.tolist() == [1, 2, 3, 4]
    assert facts.first_seen_day[:2].tolist() == [10.0, 11.0]  # first engagement given, first post
    assert math.isnan(facts.first_seen_day[2])  # only ever engaged
    assert facts.joined_day[0] == 5.0 and math.isnan(facts.joined_day[1])
    assert facts.left_day[2] == 12.0
    assert facts.is_bot.tolist() == [False, False, False, True]


def _boosted_community() -> tuple[Data, int, frozenset[int], int]:
    """Forty regulars engaging each other for sixty days, and member 100 whom twelve accounts reply to
    every day of the last three weeks (and nobody else engages them)."""
    rng = np.random.default_rng(11)
    today = 20_060
    regulars = np.arange(1, 41)
    actor, target, day = [], [], []
    for d in range(20_000, today):
        a = rng.choice(regulars, 60)
        t = rng.choice(np.append(regulars, 100), 60)
        ok = a != t
        actor += a[ok].tolist()
        target += t[ok].tolist()
        day += [d] * int(ok.sum())
    alts = frozenset(range(200, 212))
    for d in range(today - 21, today):
        for alt in sorted(alts):
            actor.append(alt)
            target.append(100)
            day.append(d)
    n = len(actor)
    edges = aggregate_edges(
        [
            trust.Edges(
                np.array(actor),
                np.array(target),
                np.zeros(n, np.int64),
                np.array(day),
                np.zeros(n, np.int64),
                np.ones(n),
            )
        ]
    )
    posts = aggregate_posts(
        [
            trust.Posts(
                np.array(actor + [100] * 30),
                np.zeros(n + 30, np.int64),
                np.array(day + [today - 1] * 30),
                np.ones(n + 30),
            )
        ]
    )
    joined = {m: (20_000.0, 15_000.0, math.nan) for m in [*regulars.tolist(), 100]}
    joined.update({m: (float(today - 22), float(today - 400), math.nan) for m in alts})
    return Data(edges, posts, facts_from(edges, posts, joined, frozenset())), 100, alts | {100}, today


def test_without_leaves_out_every_row_of_the_members_and_nothing_else() -> None:
    data, _, manipulators, _ = _boosted_community()
    alts = manipulators - {100}
    kept = without(data, alts)
    gone = np.array(sorted(alts))
    touched = np.isin(data.edges.actor, gone) | np.isin(data.edges.target, gone)
    assert touched.any()
    assert not (np.isin(kept.edges.actor, gone) | np.isin(kept.edges.target, gone)).any()
    assert len(kept.edges.actor) == int((~touched).sum())
    assert kept.edges.n.sum() == data.edges.n[~touched].sum()
    assert not np.isin(kept.posts.member, gone).any()
    assert kept.posts.n.sum() == data.posts.n[~np.isin(data.posts.member, gone)].sum()
    assert kept.facts is data.facts


def test_a_member_alone_is_ranked_without_the_accounts_acting_for_them() -> None:
    data, member, manipulators, today = _boosted_community()
    order, _ = rank_microvoice(data, today)
    # With no one else to take away, alone is where the member is.
    assert rank_alone(data, today, member, {member}) == best_rank(order, frozenset({member}))
    # The twelve accounts replying every day give the member away: not listed with them, while the
    # regulars' engagement alone (as much as any regular's) places them.
    assert best_rank(order, frozenset({member})) is None
    alone_order, _ = rank_microvoice(without(data, manipulators - {member}), today)
    alone = rank_alone(data, today, member, manipulators)
    assert alone is not None and alone == best_rank(alone_order, frozenset({member}))


def test_precision_is_over_ten_places_or_as_many_as_there_are_voices() -> None:
    voices = frozenset(range(1, 14))  # thirteen genuine voices: ten places
    assert precision_at_10([1, 2, 3], voices) == pytest.approx(0.3)  # a short listing: empty places miss
    assert precision_at_10([1, 2, 99, *range(3, 20)], voices) == pytest.approx(0.9)
    few = frozenset({1, 2, 3, 4})  # four voices: four places
    assert precision_at_10([1, 2, 3, 4, 99], few) == 1.0
    assert precision_at_10([99, 1, 2, 3, 4], few) == pytest.approx(0.75)
    assert precision_at_10([], few) == 0.0
