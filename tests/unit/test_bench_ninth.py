"""The ninth community model (a home-lab subreddit): the organic community's shape, the attacks'
rows, determinism, and that the rows are what the Reddit adapter records."""

from __future__ import annotations

import numpy as np
import pytest

from bench.trust_ninth.attacks import ATTACKS
from bench.trust_ninth.model import CHANNELS, COMMENT, Community, build_community
from bench.trust_ninth.runner import combine
from bot import trust


@pytest.fixture(scope="module")
def comm() -> Community:
    return build_community(300, 1)


def _assert_reddit_rows(edges: trust.Edges, posts: trust.Posts) -> None:
    assert set(np.unique(edges.kind)) <= {COMMENT}
    assert not np.any(edges.actor == edges.target)
    assert set(np.unique(edges.channel)) <= set(CHANNELS)
    # every comment is a post of its author that day in that channel
    have = set(zip(posts.member.tolist(), posts.channel.tolist(), posts.day.tolist(), strict=True))
    need = set(zip(edges.actor.tolist(), edges.channel.tolist(), edges.day.tolist(), strict=True))
    assert need <= have


def test_organic_shape(comm: Community) -> None:
    data = combine(comm, None)
    known = set(data.facts.member_id.tolist())
    assert set(data.edges.actor.tolist()) | set(data.edges.target.tolist()) <= known
    assert set(data.posts.member.tolist()) <= set(comm.ids.tolist())
    assert comm.counts["commenters"] == 300
    assert comm.genuine and comm.genuine <= set(comm.ids.tolist())
    assert 60 <= comm.days <= 150
    assert comm.start <= data.edges.day.min() and data.edges.day.max() <= comm.today
    assert np.all(np.isnan(data.facts.joined_day))
    assert np.all(data.facts.records_from_day == comm.start)
    assert not data.facts.is_bot.any()  # AutoModerator is left out of the rows
    _assert_reddit_rows(data.edges, data.posts)


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_rows(comm: Community, name: str) -> None:
    result = ATTACKS[name](comm, 2, np.random.default_rng(7))
    assert result.beneficiary in result.manipulators
    assert not result.manipulators & set(comm.ids.tolist())  # no organic member manipulates
    assert result.manipulators <= set(result.facts.member_id.tolist())
    touched = set(result.edges.actor.tolist()) | set(result.edges.target.tolist())
    assert result.beneficiary in touched
    _assert_reddit_rows(result.edges, result.posts)
    data = combine(comm, result)
    assert comm.start <= data.edges.day.min() and data.edges.day.max() <= comm.today
    _assert_reddit_rows(data.edges, data.posts)


def test_deterministic() -> None:
    a, b = build_community(300, 3), build_community(300, 3)
    assert a.genuine == b.genuine
    assert np.array_equal(a.edges.actor, b.edges.actor) and np.array_equal(a.edges.n, b.edges.n)
    ra = ATTACKS["comment_pod"](a, 1, np.random.default_rng(1))
    rb = ATTACKS["comment_pod"](b, 1, np.random.default_rng(1))
    assert ra.manipulators == rb.manipulators
    assert np.array_equal(ra.edges.target, rb.edges.target)
