"""Keeping to a group and leaving the rest unanswered (`apart_group`): accounts that trade engagement
among themselves and never answer the many members their posts draw (a repost ring) are discounted,
and say why; a group of friends who answer the members engaging them is not; a pin lifts it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import trust
from bot.trust import Edges, MemberFacts, Posts, TrustParams
from tests.unit.trust_toys import Row, Said, interest_groups, ranked_by_member, subreddit_facts

TODAY = 20_000
DAYS = 60
RING = (301, 302, 303, 304)  # accounts that arrived together and post what others made
FRIENDS = (11, 12, 13, 14)  # members who talk among themselves and answer who engages them


def community(seed: int, answer: float, size: int = 200) -> tuple[Edges, Posts, MemberFacts]:
    """`size` members in six interest groups over 60 days, a third posting on a given day and a few
    groupmates answering each post; the first ten are the groups' regulars. In the last seven weeks
    `RING` post every other day in a showcase channel; each post draws replies from members of
    every group, and the ring's other accounts comment on it too. They answer a member who replied
    with probability `answer`. `FRIENDS` talk among themselves every day and answer most of the
    members who reply to them."""
    rng = np.random.default_rng(seed)

    def friends_talk(day: int, _here: np.ndarray, rows: list[Row], said: list[Said]) -> None:
        for f in FRIENDS:
            for other in FRIENDS:
                if other != f and rng.random() < 0.5:
                    rows.append((20, f, other, day, "reply", 1))
                    said.append((f, 20, day))

    members, rows, said = interest_groups(
        rng, size, today=TODAY, days=DAYS, answering=FRIENDS, each_day=friends_talk
    )
    for day in range(TODAY - 48, TODAY + 1):
        for acc in RING:
            if (day + acc) % 2:
                continue
            said.append((acc, 2, day))
            for r in rng.choice(members, int(rng.poisson(4)), replace=False).tolist():
                rows.append((2, r, acc, day, "reply", 1))
                if rng.random() < answer:
                    rows.append((2, acc, r, day, "reply", 1))
                    said.append((acc, 2, day))
            for other in RING:
                if other != acc and rng.random() < 0.6:
                    rows.append((2, other, acc, day, "reply", 1))
                    said.append((other, 2, day))
    everyone = np.concatenate([members, np.array(RING)]).astype(np.int64)
    facts = subreddit_facts(everyone, said, first_day=TODAY - DAYS + 1.0, created_day=TODAY - 1500.0)
    member, channel, day_ = (np.array(c, np.int64) for c in zip(*said, strict=True))
    return Edges.from_rows(rows), Posts(member, channel, day_, np.ones(len(said))), facts


def community_evidence(edges: Edges, posts: Posts, facts: MemberFacts) -> tuple[np.ndarray, trust.Evidence]:
    """The community-wide evidence, indexed by member id (ids here are small)."""
    from bot.trust.compute import _community
    from bot.trust.prepare import prepare

    prep = prepare(edges, facts, OPEN, TODAY, by_channel=False, posts=posts)
    _, evidence = _community(prep, OPEN)
    size = int(prep.ids.max()) + 1
    by_id = {}
    for name in ("keep", "apart", "unanswered"):
        values = np.full(size, np.nan)
        values[prep.ids] = getattr(evidence, name)[: len(prep.ids)]
        by_id[name] = values
    return prep.ids, replace(evidence, **by_id)


#: Every member listed (none barred for accounts acting for them either), so the discount is seen alone.
OPEN = TrustParams(
    listed_min_value=0.0, listed_min_peers=0.0, listed_min_draw=0.0, community_max_coordinated=False
)


def scores(
    edges: Edges, posts: Posts, facts: MemberFacts, apart: tuple[float, ...]
) -> dict[int, trust.Ranked]:
    return ranked_by_member(edges, posts, facts, replace(OPEN, apart_group=apart), today=TODAY)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_ring_that_answers_no_one_it_draws_is_discounted_and_told_why(seed: int) -> None:
    edges, posts, facts = community(seed, answer=0.0)
    off, on = scores(edges, posts, facts, ()), scores(edges, posts, facts, (0.3, 0.5))
    # Without the test the ring is at the top: every post draws four members, every day.
    assert min(off[m].rank for m in RING) <= 3
    for m in RING:
        ring = on.get(m)
        assert ring is None or ring.rank > 20
        if ring is not None:
            assert ring.why["coordinated_reason"] == "apart"
            assert ring.why["coordinated"] >= 0.6  # what they received from members left unanswered
            assert "leaves unanswered" in trust.explain(ring, lang="en")
    # The friends keep to a group too (the group test sees them), but answer the members who engage
    # them: their value is unchanged (scores are relative to the top, which the ring no longer is).
    _, evidence = community_evidence(edges, posts, facts)
    ref = next(r.member_id for r in sorted(off.values(), key=lambda r: r.rank) if r.member_id not in RING)
    for m in FRIENDS:
        assert evidence.keep[m] < 1.0 and evidence.apart[m] < 0.1  # the discount starts at 0.3
        assert on[m].score / on[ref].score == pytest.approx(off[m].score / off[ref].score, rel=1e-9)
        assert on[m].why["coordinated_reason"] != "apart"


def test_a_ring_that_answers_its_commenters_and_a_pinned_one_keep_their_place() -> None:
    edges, posts, facts = community(3, answer=0.7)
    off, on = scores(edges, posts, facts, ()), scores(edges, posts, facts, (0.3, 0.5))
    for m in RING:
        assert on[m].why["coordinated_reason"] != "apart"
        assert on[m].rank <= off[m].rank + 2
    edges, posts, facts = community(3, answer=0.0)
    pinned = replace(facts, pinned=frozenset(RING))
    kept, lifted = scores(edges, posts, pinned, ()), scores(edges, posts, pinned, (0.3, 0.5))
    for m in RING:
        assert lifted[m].score == pytest.approx(kept[m].score, rel=1e-9)


PAIR = st.tuples(st.integers(1, 12), st.integers(1, 12)).filter(lambda p: p[0] != p[1])


@settings(max_examples=40, deadline=None)
@given(st.sets(PAIR, min_size=1, max_size=60))
def test_the_unanswered_share_is_the_share_of_engagers_never_engaged_in_turn(
    pairs: set[tuple[int, int]],
) -> None:
    """With one reply per pair on one day (every engagement weighs the same), `Evidence.unanswered`
    is the share of a member's engagers whom the member never engaged, counted from the rows; and
    `Evidence.apart` is at most that share."""
    from bot.trust.compute import _community
    from bot.trust.prepare import prepare

    edges = Edges.from_rows([(1, a, t, TODAY, "reply", 1) for a, t in sorted(pairs)])
    ids = np.arange(1, 13, dtype=np.int64)
    facts = MemberFacts(member_id=ids, joined_day=np.full(12, TODAY - 400.0))
    prep = prepare(edges, facts, TrustParams(), TODAY, by_channel=False)
    _, evidence = _community(prep, TrustParams())
    assert evidence.unanswered is not None and evidence.apart is not None
    for i, member in enumerate(prep.ids.tolist()):
        engagers = {a for a, t in pairs if t == member}
        left = [a for a in engagers if (member, a) not in pairs]
        expected = len(left) / len(engagers) if engagers else 0.0
        assert evidence.unanswered[i] == pytest.approx(expected)
        assert 0.0 <= evidence.apart[i] <= evidence.unanswered[i] + 1e-12
