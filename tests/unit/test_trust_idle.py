"""Members idle for `TrustParams.idle_days` are not listed (`bot.trust.solver.members_idle`): a voice
must be around to be one, and Reddit does not say who left a subreddit."""

from __future__ import annotations

import dataclasses

import numpy as np

from bot import trust
from bot.trust import Edges, MemberFacts, Posts, TrustParams
from bot.trust.solver import members_idle
from tests.unit.trust_toys import Row, Said, interest_groups, placed, settled

TODAY = 20_300


def test_idle_is_no_activity_in_the_last_days() -> None:
    active = np.zeros((4, 60), np.float32)
    active[0, 0] = 1  # today
    active[1, 27] = 2  # 27 days ago: within four weeks
    active[2, 28] = 1  # 28 days ago: four weeks idle
    params = TrustParams(idle_days=28)
    assert members_idle(active, params).tolist() == [False, False, True, True]
    assert not members_idle(active, TrustParams(idle_days=0)).any()
    # Counted from the community's latest activity: records that stopped ten days ago change nothing.
    later = np.concatenate([np.zeros((4, 10), np.float32), active], axis=1)
    assert members_idle(later, params).tolist() == [False, False, True, True]
    assert not members_idle(np.zeros((3, 60), np.float32), params).any()


def _community() -> tuple[Edges, Posts, MemberFacts, int]:
    """Sixty members in interest groups over ninety days; the best-placed regular stopped taking
    part five weeks ago (their posts and what they gave end then; what they received stays)."""
    rng = np.random.default_rng(5)
    members, rows, said = interest_groups(rng, 60, today=TODAY, days=90)
    edges, posts, facts = settled(members, rows, said, today=TODAY)
    best = trust.compute_scope(edges, facts, TrustParams(idle_days=0), today=TODAY, posts=posts)[0].member_id
    stop = TODAY - 35
    kept_rows: list[Row] = [r for r in rows if not (r[1] == best and r[3] > stop)]
    kept_rows = [r for r in kept_rows if not (r[2] == best and r[3] > stop)]
    kept_said: list[Said] = [s for s in said if not (s[0] == best and s[2] > stop)]
    edges, posts, facts = settled(members, kept_rows, kept_said, today=TODAY)
    return edges, posts, facts, best


def test_an_idle_member_is_not_listed_and_what_they_gave_still_counts() -> None:
    edges, posts, facts, idle = _community()
    ranked = trust.compute_scope(edges, facts, TrustParams(), today=TODAY, posts=posts)
    away = trust.compute_scope(edges, facts, TrustParams(idle_days=0), today=TODAY, posts=posts)
    assert placed(away, idle) is not None  # still placed on what they received before
    assert placed(ranked, idle) is None
    # Everyone else keeps their order: the idle member's engagement still counts for them. The
    # bars are measured among the members still here (`bars_among_present`): with the best-placed
    # member gone from them, the listing runs one member further.
    others = [r.member_id for r in away if r.member_id != idle]
    listed = [r.member_id for r in ranked]
    assert listed[: len(others)] == others and len(listed) == len(others) + 1
    measured_with = trust.compute_scope(
        edges, facts, TrustParams(bars_among_present=False), today=TODAY, posts=posts
    )
    assert [r.member_id for r in measured_with] == others
    # A moderator's pin lists them all the same.
    pinned = dataclasses.replace(facts, pinned=frozenset({idle}))
    assert placed(trust.compute_scope(edges, pinned, TrustParams(), today=TODAY, posts=posts), idle)


def test_a_community_gone_quiet_keeps_its_listing() -> None:
    """Records that end five weeks before today (a subreddit read without credentials since, a bot
    offline) list the members they listed then: idleness is counted from the latest activity."""
    edges, posts, facts, idle = _community()
    shifted = TODAY + 35
    ranked = trust.compute_scope(edges, facts, TrustParams(), today=shifted, posts=posts)
    kept = trust.compute_scope(edges, facts, TrustParams(idle_days=0), today=shifted, posts=posts)
    assert len(ranked) >= 5
    assert [r.member_id for r in ranked] == [r.member_id for r in kept if r.member_id != idle]


def test_the_ranking_kept_between_recomputes_lists_whom_a_full_recompute_lists() -> None:
    """Kept in memory, the ranking leaves the idle member out as a full recompute does, and lists
    them again once a post of theirs arrives."""
    edges, posts, facts, idle = _community()
    live = trust.LiveTrust(edges, facts, TrustParams(), today=TODAY, scopes={"all": None}, posts=posts)
    listed = live.rank(facts, limit=50)["all"]
    full = trust.compute_scope(edges, facts, TrustParams(), today=TODAY, limit=50, posts=posts)
    assert [r.member_id for r in listed] == [r.member_id for r in full]
    assert placed(list(listed), idle) is None
    back = Posts(
        np.array([idle]), np.array([posts.channel[posts.member == idle][0]]), np.array([TODAY]), np.ones(1)
    )
    none = Edges.from_rows([])
    refreshed = live.refresh(none, back, facts, today=TODAY, limit=50)
    assert refreshed is not None and placed(list(refreshed["all"]), idle) is not None
