"""Posts that each draw a crowd (`crowd_per_post`): a member who posts a poll now and then that half
of the server reacts to is discounted, and says why; the community's voices, whose posts each draw
their part, are not. And the count behind it, distinct (engager, day) pairs per member
(`EngagerDays`), kept up to date in place as a full count would give it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import trust
from bot.trust import Edges, MemberFacts, Posts, TrustParams, compute_scope
from bot.trust.prepare import RECENT_DAYS, EngagerDays
from tests.unit.trust_toys import Row, Said, interest_groups, placed, settled

TODAY = 20_000
DAYS = 60
POLLER = 150


def poller_of(size: int) -> int:
    """The poll poster: an ordinary member (not one of the first ten, the regulars)."""
    return POLLER if size > POLLER else size - 5


def community(seed: int, polls: int, size: int = 200) -> tuple[Edges, Posts, MemberFacts]:
    """`size` members in six interest groups over 60 days: a third post on a given day, and a few
    groupmates react or reply to each post. The first ten are the groups' regulars, who post most
    days and are answered more. `POLLER` (an ordinary member) posts `polls` polls in the last six
    weeks, each drawing a reaction from half the members around that day."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 6, size)
    poll_days = set(rng.choice(np.arange(TODAY - 41, TODAY + 1), polls, replace=False).tolist())

    def polls_on(day: int, here: np.ndarray, rows: list[Row], said: list[Said]) -> None:
        if day in poll_days:
            poller = poller_of(size)
            said.append((poller, 1, day))
            for voter in here[rng.random(len(here)) < 0.5].tolist():
                if voter != poller:
                    rows.append((1, voter, poller, day, "reaction", 1))

    members, rows, said = interest_groups(
        rng, size, today=TODAY, days=DAYS, reactions=True, each_day=polls_on, groups=groups
    )
    return settled(members, rows, said, today=TODAY)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_poll_poster_is_discounted_and_told_why(seed: int) -> None:
    edges, posts, facts = community(seed, polls=12)
    without = compute_scope(edges, facts, replace(TrustParams(), crowd_per_post=()), today=TODAY, posts=posts)
    poller = placed(without, POLLER)
    assert poller is not None and poller.rank <= 3  # half the server reacted to each poll
    ranked = compute_scope(edges, facts, TrustParams(), today=TODAY, posts=posts)
    poller = placed(ranked, POLLER)
    assert poller is None or poller.rank > 10
    # The regulars take the places, in the same order as without the test.
    regulars = [r.member_id for r in ranked[:10]]
    assert sum(m <= 10 for m in regulars) >= 8
    assert [m for m in regulars if m <= 10] == [r.member_id for r in without if r.member_id <= 10][
        : len([m for m in regulars if m <= 10])
    ]
    if poller is not None:
        assert poller.why["coordinated_reason"] == "crowd"
        text = trust.explain(poller)
        assert "crowds drawn to a few posts" in text


def test_the_explanation_names_the_crowd_in_every_language() -> None:
    edges, posts, facts = community(1, polls=3)  # discounted, not all the way: still listed
    ranked = compute_scope(
        edges, facts, replace(TrustParams(), listed_min_value=0.0), today=TODAY, posts=posts
    )
    poller = placed(ranked, POLLER)
    assert poller is not None and poller.why["coordinated_reason"] == "crowd", poller and poller.why
    assert poller.why["coordinated"] >= trust.params.COORDINATION_SHOWN
    for lang in ("en", "ar", "he"):
        text = trust.explain(poller, lang=lang)
        assert f"{round(poller.why['coordinated'] * 100)}%" in text, (lang, text)


def test_a_pinned_poll_poster_keeps_the_place() -> None:
    edges, posts, facts = community(1, polls=12)
    pinned = replace(facts, pinned=frozenset({POLLER}))
    ranked = compute_scope(edges, pinned, TrustParams(), today=TODAY, posts=posts)
    poller = placed(ranked, POLLER)
    assert poller is not None and poller.rank <= 3


def test_a_community_without_polls_lists_the_same_members() -> None:
    edges, posts, facts = community(4, polls=0)
    on = compute_scope(edges, facts, TrustParams(), today=TODAY, posts=posts)
    off = compute_scope(edges, facts, replace(TrustParams(), crowd_per_post=()), today=TODAY, posts=posts)
    assert [r.member_id for r in on] == [r.member_id for r in off]


def fresh(rows: list[tuple[int, int, int, int]], size: int) -> np.ndarray:
    """The distinct (engager, day) pairs per member, counted from scratch: rows (actor, target,
    age, count), counts summed per (actor, target, age)."""
    totals: dict[tuple[int, int, int], int] = {}
    for a, t, age, n in rows:
        totals[(a, t, age)] = totals.get((a, t, age), 0) + n
    out = np.zeros(size)
    for (_a, t, age), n in totals.items():
        if n > 0:
            out[t] += 0.5 ** (age / 30.0)
    return out


def build(rows: list[tuple[int, int, int, int]], size: int, days: int = 181) -> EngagerDays:
    kept = [r for r in rows if r[3] > 0]
    a, t, age, n = (
        (np.array(c, np.int64) for c in zip(*kept, strict=True)) if kept else [np.zeros(0, np.int64)] * 4
    )
    return EngagerDays.of(a, t, age, n.astype(np.float64), size, days, 30.0)


row = st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 20), st.integers(1, 3)).filter(
    lambda r: r[0] != r[1]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(row, min_size=1, max_size=40), st.lists(row, max_size=20), st.data())
def test_engager_days_follow_changes_as_a_fresh_count(start: list, more: list, data: st.DataObject) -> None:
    """Increments, new pairs and retractions (to zero or part of the way), on recent and older
    days: the state updated in place counts what a fresh count of the rows afterwards counts."""
    size = 6
    kept = build(start, size)
    assert np.allclose(kept.values(), fresh(start, size))
    # Retract part of some of the rows there were.
    totals: dict[tuple[int, int, int], int] = {}
    for a, t, age, n in start:
        totals[(a, t, age)] = totals.get((a, t, age), 0) + n
    back = [(a, t, age, -data.draw(st.integers(0, n))) for (a, t, age), n in totals.items()]
    changes = [r for r in more + back if r[3] != 0]
    after = start + changes
    recent = [r for r in changes if r[2] < RECENT_DAYS]
    if recent:
        a, t, age, n = (np.array(c, np.int64) for c in zip(*recent, strict=True))
        assert kept.add(a, t, age, n.astype(np.float64))
    older = [r for r in changes if r[2] >= RECENT_DAYS]
    if older:
        # Per (engager, member, day): whether it had engagement before and after the change.
        now: dict[tuple[int, int, int], int] = {}
        for a, t, age, n in after:
            now[(a, t, age)] = now.get((a, t, age), 0) + n
        delta: dict[tuple[int, int, int], int] = {}
        for a, t, age, n in older:
            delta[(a, t, age)] = delta.get((a, t, age), 0) + n
        keys = sorted(delta)
        kept.settle_older(
            np.array([k[1] for k in keys]),
            np.array([k[2] for k in keys]),
            np.array([now[k] - delta[k] > 0 for k in keys]),
            np.array([now[k] > 0 for k in keys]),
        )
    assert np.allclose(kept.values(), fresh(after, size))
    grown = kept.resized(size + 3)
    assert np.allclose(grown.values()[:size], kept.values()) and not grown.values()[size:].any()


def test_a_retraction_below_zero_asks_for_a_rebuild() -> None:
    kept = build([(1, 2, 0, 1)], 4)
    assert not kept.add(np.array([1]), np.array([2]), np.array([0]), np.array([-2.0]))
    assert not kept.add(np.array([3]), np.array([2]), np.array([1]), np.array([-1.0]))
