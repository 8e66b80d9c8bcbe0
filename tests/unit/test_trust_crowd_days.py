"""Members written to only on the days their posts drew a crowd (`crowd_days`): a member who runs
"reply to enter" giveaways, whose entrants write once on each giveaway's day and otherwise not, is
discounted and says why; the community's regulars, whom members write to on many days, are not; a
moderator's pin lifts it. And the state behind it (`CrowdDays`), kept up to date in place as a
fresh count of the same rows would give it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import trust
from bot.trust import Edges, MemberFacts, Posts, TrustParams, compute_scope
from bot.trust.crowds import CrowdDays, crowd_days
from tests.unit.trust_toys import Row, Said, interest_groups, placed, settled

TODAY = 20_000
DAYS = 60
HOST = 150
GENERAL = 1
OFF = replace(TrustParams(), crowd_days=())


def community(seed: int, every: int, size: int = 300) -> tuple[Edges, Posts, MemberFacts]:
    """`size` members in six interest groups over 60 days (`interest_groups`: the first ten are the
    regulars). `HOST`, an ordinary member, chats in #general most days and every `every` days (0:
    never) posts a giveaway there that a fifth of the members around reply to once ("reply to
    enter"), most of them with a reaction too; the host names a winner."""
    rng = np.random.default_rng(seed)

    def giveaways(day: int, here: np.ndarray, rows: list[Row], said: list[Said]) -> None:
        if rng.random() < 0.7:
            said.append((HOST, GENERAL, day))
            for friend in rng.choice(here, 2, replace=False).tolist():
                if friend != HOST:
                    rows.append((GENERAL, friend, HOST, day, "reply", 1))
        if every and (TODAY - day) % every == 0:
            said.append((HOST, GENERAL, day))
            entrants = here[(rng.random(len(here)) < 0.2) & (here != HOST)].tolist()
            for entrant in entrants:
                rows.append((GENERAL, entrant, HOST, day, "reply", 1))
                if rng.random() < 0.8:
                    rows.append((GENERAL, entrant, HOST, day, "reaction", 1))
            if entrants:
                rows.append((GENERAL, HOST, int(rng.choice(entrants)), day, "mention", 1))

    members, rows, said = interest_groups(rng, size, today=TODAY, days=DAYS, each_day=giveaways)
    return settled(members, rows, said, today=TODAY)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_giveaway_host_is_discounted_and_told_why(seed: int) -> None:
    edges, posts, facts = community(seed, every=4)
    without = compute_scope(edges, facts, OFF, today=TODAY, posts=posts)
    host = placed(without, HOST)
    assert host is not None and host.rank <= 3  # a fifth of the server writes on every giveaway
    ranked = compute_scope(edges, facts, TrustParams(), today=TODAY, posts=posts)
    host = placed(ranked, HOST)
    assert host is None or host.rank > 10
    assert sum(r.member_id <= 10 for r in ranked[:10]) >= 8  # the regulars take the places
    explained = compute_scope(
        edges, facts, replace(TrustParams(), crowd_days=(0.0, 2.0)), today=TODAY, posts=posts
    )  # discounted half as steeply: still listed
    host = placed(explained, HOST)
    assert host is not None and host.why["coordinated_reason"] == "drawn", host and host.why
    for lang in ("en", "ar", "he"):
        assert f"{round(host.why['coordinated'] * 100)}%" in trust.explain(host, lang=lang)
    assert "only on days when one of their posts drew a crowd" in trust.explain(host)


def test_a_pinned_host_keeps_the_place() -> None:
    edges, posts, facts = community(1, every=4)
    pinned = replace(facts, pinned=frozenset({HOST}))
    host = placed(compute_scope(edges, pinned, TrustParams(), today=TODAY, posts=posts), HOST)
    assert host is not None and host.rank <= 3


def test_a_community_without_giveaways_lists_the_same_members() -> None:
    edges, posts, facts = community(4, every=0)
    on = compute_scope(edges, facts, TrustParams(), today=TODAY, posts=posts)
    off = compute_scope(edges, facts, OFF, today=TODAY, posts=posts)
    assert [r.member_id for r in on] == [r.member_id for r in off]


def test_the_regulars_are_written_to_on_many_days() -> None:
    """What the test reads: the host's writers came on crowd days only; the regulars' did not."""
    edges, posts, _ = community(2, every=4)
    ids = np.unique(np.concatenate([edges.actor, edges.target, posts.member]))
    channels = np.unique(np.concatenate([edges.channel, posts.channel]))
    dense = np.searchsorted
    state = crowd_days(
        dense(ids, edges.actor),
        dense(ids, edges.target),
        dense(channels, edges.channel),
        TODAY - edges.day,
        edges.kind,
        (dense(ids, posts.member), dense(channels, posts.channel), TODAY - posts.day, posts.n),
        capacity=len(ids),
        channels=len(channels),
        params=TrustParams(),
    )
    assert state is not None
    pairs = np.unique(dense(ids, edges.target) * len(ids) + dense(ids, edges.actor))
    share = state.shares(np.bincount(pairs // len(ids), minlength=len(ids)) >= 5)
    assert share[dense(ids, HOST)] >= 0.5
    assert share[dense(ids, np.arange(1, 11))].max() < 0.2


Pair = tuple[int, int, int, int]  # writer, member, channel, age
pair = st.tuples(st.integers(0, 11), st.integers(0, 3), st.integers(0, 1), st.integers(0, 4)).filter(
    lambda r: r[0] != r[1]
)
post = st.tuples(st.integers(0, 3), st.integers(0, 1), st.integers(0, 4), st.integers(1, 3))
PARAMS = replace(TrustParams(), crowd_day_engagers=2, crowd_day_ratio=1.0)  # crowds in a few rows


def columns(rows: list, width: int) -> list[np.ndarray]:
    return (
        [np.array(col, np.int64) for col in zip(*rows, strict=True)]
        if rows
        else [np.zeros(0, np.int64)] * width
    )


def fresh(pairs: list[Pair], posts: list[tuple[int, int, int, int]], capacity: int = 12) -> CrowdDays:
    a, t, c, age = columns(pairs, 4)
    state = CrowdDays.of(a, t, c, age, tuple(columns(posts, 4)), capacity=capacity, channels=2, params=PARAMS)
    assert state is not None
    return state


@settings(max_examples=80, deadline=None)
@given(
    st.lists(pair, min_size=1, max_size=40),
    st.lists(post, max_size=10),
    st.lists(pair, max_size=20),
    st.lists(post, max_size=5),
    st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_shares_follow_changes_as_a_fresh_count(
    start: list[Pair], said: list, more: list[Pair], more_said: list, engaged: list[bool]
) -> None:
    """New writers (some already there) and more posts: the state updated in place gives the
    shares a state counted afresh from the rows afterwards gives, also once it has room for more
    members."""
    mask = np.array(engaged)
    state = fresh(start, said)
    state.shares(mask)
    w, m, ch, g = columns(more, 4)
    assert state.add(w, m, ch, g, np.ones(len(w)))
    state.add_posts(*columns(more_said, 4))
    expected = fresh(start + more, said + more_said).shares(mask)
    assert np.allclose(state.shares(mask), expected)
    grown = state.resized(20)
    assert np.allclose(grown.shares(np.pad(mask, (0, 8)))[:12], expected)
    assert np.allclose(fresh(start + more, said + more_said, 20).shares(np.pad(mask, (0, 8)))[:12], expected)


def test_a_retraction_asks_for_a_rebuild() -> None:
    """Replies, thread posts and comments are never taken back (a deleted message stays counted):
    a change that would take one back is no change this state can follow."""
    state = fresh([(1, 2, 0, 0)], [])
    one = np.array([1]), np.array([2]), np.array([0]), np.array([0])
    assert state.add(*one, np.array([1.0]))
    assert not state.add(*one, np.array([-1.0]))


@pytest.mark.parametrize("split", [3, 9])
def test_the_ranking_kept_between_recomputes_follows_new_giveaways(split: int) -> None:
    """The last days' engagement and posts applied in place to the state ranked before them list
    the members a full recompute of all the rows lists, in the same order and with the same
    explanations, the host discounted in both."""
    from tests.unit.test_trust_live import rows_of

    edges, posts, facts = community(2, every=4)
    recent, older = edges.day > TODAY - split, edges.day <= TODAY - split
    said = posts.day > TODAY - split

    def part(mask: np.ndarray) -> Edges:
        return Edges(*(getattr(edges, c)[mask] for c in ("actor", "target", "channel", "day", "kind", "n")))

    def said_part(mask: np.ndarray) -> Posts:
        return Posts(posts.member[mask], posts.channel[mask], posts.day[mask], posts.n[mask])

    scopes = {"all": None, f"channel:{GENERAL}": {GENERAL}}
    live = trust.LiveTrust(
        part(older), facts, TrustParams(), today=TODAY, scopes=scopes, posts=said_part(~said)
    )
    live.rank(facts, limit=50)
    refreshed = live.refresh(
        part(recent), said_part(said), facts, today=TODAY, limit=50, rows_of=rows_of(edges)
    )
    assert refreshed is not None
    full = trust.compute_all(edges, facts, TrustParams(), today=TODAY, scopes=scopes, limit=50, posts=posts)
    for name, expected in full.items():
        got = list(refreshed[name])
        assert [r.member_id for r in got] == [r.member_id for r in expected], name
        assert [r.why.get("coordinated_reason") for r in got] == [
            r.why.get("coordinated_reason") for r in expected
        ]
    assert placed(full["all"], HOST) is None or placed(full["all"], HOST).rank > 10
