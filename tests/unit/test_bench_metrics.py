"""What the community models share (`bench.trust_metrics`): rows summed per key, members' facts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.trust_metrics import aggregate_edges, aggregate_posts, facts_from
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
