"""Engagers who engage no one else here (`lone_engagers`): a member whose posts draw a crowd of
accounts that come from elsewhere for them alone (a brigade from another subreddit) is discounted,
and says why; a regular whose answers bring newcomers who ask once and go is not; a pin lifts it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import trust
from bot.trust import Edges, MemberFacts, Posts, TrustParams, compute_scope
from tests.unit.trust_toys import interest_groups, ranked_by_member, subreddit_facts

TODAY = 20_000
DAYS = 60
CREATOR = 150  # an ordinary member whose posts the outsiders come for
HELPER = 3  # a regular who also answers newcomers' one question


def community(seed: int, outsiders: int, size: int = 200) -> tuple[Edges, Posts, MemberFacts]:
    """`size` members in six interest groups over 60 days, a third posting on a given day and a few
    groupmates answering each post; the first ten are the groups' regulars. `HELPER` also answers
    one question from each of 15 newcomers, who thank them and answer no one else. `CREATOR` posts
    twice a week in the last eight weeks, and each post draws a wave of the `outsiders` accounts
    (two of them every time, the rest once each), who reply to the creator and to each other in the
    thread; the creator answers some of them."""
    rng = np.random.default_rng(seed)
    members, rows, said = interest_groups(rng, size, today=TODAY, days=DAYS)
    newcomers = np.arange(size + 1, size + 16)
    for i, n in enumerate(newcomers.tolist()):
        day = TODAY - 3 * i - 1
        said += [(n, 1, day), (HELPER, 1, day)]
        rows += [(1, HELPER, n, day, "reply", 1), (1, n, HELPER, day, "reply", 1)]
    outside = np.arange(size + 100, size + 100 + outsiders)
    core = outside[:2]
    rest = list(outside[len(core) :].tolist())
    posts_days = [d for d in range(TODAY - 55, TODAY + 1) if d % 7 in (1, 4)]
    wave = max(1, len(rest) // len(posts_days)) if rest else 0
    for day in posts_days:
        said.append((CREATOR, 2, day))
        crowd = [int(c) for c in core if rng.random() < 0.8] + [rest.pop() for _ in range(wave) if rest]
        for b in crowd:
            rows.append((2, b, CREATOR, day, "reply", 1))
            said.append((b, 2, day))
            if rng.random() < 0.4:
                rows.append((2, CREATOR, b, day, "reply", 1))
                said.append((CREATOR, 2, day))
            if rng.random() < 0.3 and len(crowd) > 1:
                other = crowd[int(rng.integers(len(crowd)))]
                if other != b:
                    rows.append((2, b, other, day, "reply", 1))
    everyone = np.concatenate([members, newcomers, outside]).astype(np.int64)
    facts = subreddit_facts(everyone, said, first_day=TODAY - DAYS + 1.0, created_day=TODAY - 1500.0)
    member, channel, day_ = (np.array(c, np.int64) for c in zip(*said, strict=True))
    return Edges.from_rows(rows), Posts(member, channel, day_, np.ones(len(said))), facts


def placed(ranked: list[trust.Ranked], member: int) -> trust.Ranked | None:
    return next((r for r in ranked if r.member_id == member), None)


#: Every member listed (none barred for accounts acting for them either), and the crowd test off, so
#: the discount is seen alone (the crowd test also takes the creator's waves: each post draws a crowd).
OPEN = TrustParams(
    listed_min_value=0.0,
    listed_min_peers=0.0,
    listed_min_draw=0.0,
    crowd_per_post=(),
    community_max_coordinated=False,
)


def scores(
    edges: Edges, posts: Posts, facts: MemberFacts, lone: tuple[float, ...]
) -> dict[int, trust.Ranked]:
    return ranked_by_member(edges, posts, facts, replace(OPEN, lone_engagers=lone), today=TODAY)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_member_whose_engagers_come_for_them_alone_is_discounted_and_told_why(seed: int) -> None:
    edges, posts, facts = community(seed, outsiders=160)
    off, on = scores(edges, posts, facts, ()), scores(edges, posts, facts, (0.5, 0.8))
    top = max(off.values(), key=lambda r: r.score).member_id
    assert on[top].score == 1.0 and top <= 10  # a regular, engaged by members who engage others too
    creator = on[CREATOR]
    assert creator.why["coordinated_reason"] == "lone"
    share = creator.why["coordinated"]  # of the distinct engagers, those here for the creator alone
    assert 0.6 <= share <= 0.95
    excess = min(1.0, (share - 0.5) / 0.3)
    assert creator.score == pytest.approx(off[CREATOR].score * (1.0 - excess), rel=1e-3, abs=1e-6)
    assert creator.rank > off[CREATOR].rank
    assert "engage with no one else here" in trust.explain(creator, lang="en")
    # Everyone else keeps their score: the discount is the creator's alone.
    for member, r in off.items():
        if member != CREATOR and member in on:
            assert on[member].score == pytest.approx(r.score, rel=1e-9)


def test_newcomers_who_ask_once_cost_a_helper_nothing_and_a_pin_lifts_the_discount() -> None:
    edges, posts, facts = community(3, outsiders=160)
    off, on = scores(edges, posts, facts, ()), scores(edges, posts, facts, (0.5, 0.8))
    # Fifteen of the helper's engagers came once and engaged no one else: far from half of them.
    assert on[HELPER].score == pytest.approx(off[HELPER].score, rel=1e-9)
    assert on[HELPER].why["coordinated_reason"] != "lone"
    pinned = replace(facts, pinned=frozenset({CREATOR}))
    kept, lifted = scores(edges, posts, pinned, ()), scores(edges, posts, pinned, (0.5, 0.8))
    assert lifted[CREATOR].score == pytest.approx(kept[CREATOR].score, rel=1e-9)


def test_a_few_lone_engagers_change_nothing() -> None:
    """A creator whom twenty outsiders follow: under half of their engagers, so no discount."""
    edges, posts, facts = community(4, outsiders=20)
    off = compute_scope(edges, facts, replace(OPEN, lone_engagers=()), today=TODAY, posts=posts)
    on = compute_scope(edges, facts, OPEN, today=TODAY, posts=posts)
    assert [(r.member_id, r.score) for r in on] == [(r.member_id, r.score) for r in off]


ROW = st.tuples(
    st.integers(1, 12), st.integers(1, 12), st.integers(0, 20), st.sampled_from(["reply", "reaction"])
)


@settings(max_examples=40, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=80))
def test_the_lone_share_is_the_share_of_engagers_who_engage_no_one_else(
    rows: list[tuple[int, int, int, str]],
) -> None:
    """Per member, `Evidence.lone` is the share of their distinct engagers who engaged no other member
    (self-engagement left out), counted directly from the rows."""
    from bot.trust.compute import _community
    from bot.trust.prepare import prepare

    edges = Edges.from_rows([(1, a, t, TODAY - d, kind, 1) for a, t, d, kind in rows])
    ids = np.arange(1, 13, dtype=np.int64)
    facts = MemberFacts(member_id=ids, joined_day=np.full(12, TODAY - 400.0))
    prep = prepare(edges, facts, TrustParams(), TODAY, by_channel=False)
    _, evidence = _community(prep, TrustParams())
    assert evidence.lone is not None
    pairs = {(a, t) for a, t, _, _ in rows if a != t}
    for i, member in enumerate(prep.ids.tolist()):
        engagers = {a for a, t in pairs if t == member}
        alone = [a for a in engagers if {t for b, t in pairs if b == a} == {member}]
        expected = len(alone) / len(engagers) if engagers else 0.0
        assert evidence.lone[i] == pytest.approx(expected)
