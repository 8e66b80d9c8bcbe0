"""Properties of the trust ranking on arbitrary small communities (hypothesis): whatever the
engagement, the listing is well formed (ranks 1..n, scores in (0, 1] from 1 down, no bot or excluded
member, every listed member with the distinct engagers the listing asks), its explanation renders in
every language and its record is strict JSON (PostgreSQL's jsonb refuses NaN); it does not depend on
the order the rows arrive in, a limit cuts the full listing, and the whole community in
`compute_all` is `compute_scope`'s. Kept between recomputes, the engagement graph holds the rows as
they stand after any batch of changes, and the trust state updated in place ranks as a full
recompute does."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.store import EngagementColumns
from bot.trust import (
    KINDS,
    Edges,
    MemberFacts,
    Posts,
    Ranked,
    TrustParams,
    compute_all,
    compute_scope,
    dependents,
    explain,
)
from bot.trust.graph import CommunityEdges
from bot.trust.live import LiveTrust
from bot.trust.params import COORDINATION_SHOWN, REASONS

TODAY = 20_500
BASE = 10**17  # member ids the size of Discord's snowflakes
CHANNELS = (1, 2, 3)
PARAMS = TrustParams()


@dataclass(frozen=True)
class Community:
    rows: list[tuple[int, int, int, int, str, int]]
    facts: MemberFacts
    posts: Posts | None
    bots: frozenset[int]


@st.composite
def communities(draw: st.DrawFn) -> Community:
    """Up to 40 members, some of them bots, excluded or pinned, with join and account dates known or
    not. Each member engages a few others over some weeks (so that listings are not empty), and
    on top of that comes engagement of every kind in three channels over 200 days, self-engagement
    and engagement with members the facts do not know included, sometimes a crowd engaging one
    member on one day, with or without what members posted."""
    size = draw(st.integers(6, 40))
    ids = [BASE + i * 7919 for i in range(size)]
    member = st.sampled_from(ids)
    rows: list[tuple[int, int, int, int, str, int]] = []
    for actor in ids:
        targets = draw(st.lists(member, max_size=10, unique=True))
        weeks = draw(st.integers(1, 12))
        kind = draw(st.sampled_from(KINDS))
        channel = draw(st.sampled_from(CHANNELS))
        rows += [(channel, actor, t, TODAY - 7 * w, kind, 1) for t in targets for w in range(weeks)]
    stranger = st.integers(1, 10**6)  # a member the facts do not know
    engagement = st.tuples(
        st.sampled_from(CHANNELS),
        st.one_of(member, member, member, stranger),
        st.one_of(member, member, member, stranger),
        st.integers(TODAY - 200, TODAY),
        st.sampled_from(KINDS),
        st.integers(1, 5),
    )
    rows += draw(st.lists(engagement, max_size=100))
    if draw(st.booleans()):  # a crowd that engages one member on one day, as attacks do
        target = draw(member)
        day = draw(st.integers(TODAY - 30, TODAY))
        rows += [(1, actor, target, day, "reaction", 1) for actor in ids if actor != target]
    flags = draw(st.lists(st.sampled_from("oooobxp"), min_size=size, max_size=size))
    bots = frozenset(m for m, f in zip(ids, flags, strict=True) if f == "b")
    day_or_unknown = st.one_of(st.just(float("nan")), st.floats(TODAY - 2000, TODAY))
    joined = draw(st.lists(day_or_unknown, min_size=size, max_size=size))
    created = draw(st.lists(day_or_unknown, min_size=size, max_size=size))
    facts = MemberFacts(
        member_id=np.array(ids, np.int64),
        joined_day=np.array(joined),
        account_created_day=np.array(created),
        is_bot=np.array([m in bots for m in ids]),
        excluded=frozenset(m for m, f in zip(ids, flags, strict=True) if f == "x"),
        pinned=frozenset(m for m, f in zip(ids, flags, strict=True) if f == "p"),
    )
    posts = None
    if draw(st.booleans()):
        said = [
            (m, draw(st.sampled_from(CHANNELS)), TODAY - 7 * w, draw(st.integers(1, 20)))
            for m in ids
            for w in range(draw(st.integers(0, 4)))
        ]
        if said:
            posts = Posts(*(np.array(column, np.int64) for column in zip(*said, strict=True)))
    return Community(rows, facts, posts, bots)


def ranked(
    c: Community, rows: list[tuple[int, int, int, int, str, int]] | None = None, **kw: object
) -> list[Ranked]:
    edges = Edges.from_rows(c.rows if rows is None else rows)
    return compute_scope(edges, c.facts, PARAMS, today=TODAY, posts=c.posts, **kw)  # type: ignore[arg-type]


def same(a: list[Ranked], b: list[Ranked]) -> bool:
    return [r.member_id for r in a] == [r.member_id for r in b] and np.allclose(
        [r.score for r in a], [r.score for r in b], rtol=1e-6, atol=1e-9
    )


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(communities())
def test_the_listing_is_well_formed_and_its_record_is_strict_json(c: Community) -> None:
    listing = ranked(c)
    assert [r.rank for r in listing] == list(range(1, len(listing) + 1))
    assert len({r.member_id for r in listing}) == len(listing)
    if listing:
        assert listing[0].score == 1.0
    scores = [r.score for r in listing]
    assert all(0.0 < s <= 1.0 for s in scores) and scores == sorted(scores, reverse=True)
    for r in listing:
        assert r.member_id not in c.bots and r.member_id not in c.facts.excluded
        assert r.distinct_peers >= PARAMS.min_peers_listed
        assert 0 <= r.trusted_peers <= r.distinct_peers
        json.dumps(r.why, allow_nan=False)
        for lang in ("en", "ar", "he"):
            assert explain(r, lang=lang)


@PROPERTY
@given(communities(), st.randoms(use_true_random=False))
def test_the_order_rows_arrive_in_changes_nothing(c: Community, rnd: random.Random) -> None:
    shuffled = list(c.rows)
    rnd.shuffle(shuffled)
    assert same(ranked(c), ranked(c, shuffled))


@PROPERTY
@given(communities(), st.integers(0, 12))
def test_a_limit_cuts_the_full_listing(c: Community, limit: int) -> None:
    full = ranked(c)
    cut = ranked(c, limit=limit)
    assert same(cut, full[:limit])
    assert all(r.why["listed"] == len(full) for r in cut)


@PROPERTY
@given(communities())
def test_the_whole_community_in_compute_all_is_compute_scope(c: Community) -> None:
    edges = Edges.from_rows(c.rows)
    scopes: dict[str, set[int] | None] = {"all": None, "channel:1": {1}, "category:9": {2, 3}}
    every = compute_all(edges, c.facts, PARAMS, today=TODAY, scopes=scopes, posts=c.posts)
    assert same(every["all"], ranked(c))
    # The patterns a moderator is told about are of members the listing leaves out, named as an
    # explanation names them; a topic keeps none.
    patterns = {name: getattr(listing, "patterns", {}) for name, listing in every.items()}  # [] if empty
    assert not set(patterns["all"]) & {r.member_id for r in every["all"]}
    for member, (share, reason) in patterns["all"].items():
        assert COORDINATION_SHOWN <= share <= 1.0 and 0 <= reason < len(REASONS)
        assert member not in c.bots and member not in c.facts.excluded
    assert not patterns["channel:1"] and not patterns["category:9"]
    for name in ("channel:1", "category:9"):
        assert [r.rank for r in every[name]] == list(range(1, len(every[name]) + 1))
        assert not {r.member_id for r in every[name]} & (c.bots | c.facts.excluded)


def concat(a: Posts, b: Posts) -> Posts:
    return Posts(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in ("member", "channel", "day", "n")))


def summed(edges: Edges) -> Edges:
    """One row per (channel, actor, target, day, kind), counts summed, as `engagement_daily` keeps them."""
    keys = np.stack([edges.channel, edges.actor, edges.target, edges.day, edges.kind])
    unique, inverse = np.unique(keys, axis=1, return_inverse=True)
    channel, actor, target, day, kind = unique
    return Edges(actor, target, channel, day, kind, np.bincount(inverse.ravel(), weights=edges.n))


@PROPERTY
@given(communities(), st.data(), st.sampled_from([None, 30.0]))
def test_changes_applied_in_place_rank_as_a_full_recompute_does(
    c: Community, data: st.DataObject, window: float | None
) -> None:
    """With the default parameters, over the whole window or the 30 days `Voices` also ranks:
    counts raised, retracted to zero (unreactions) and new rows, among known members and with
    newcomers, new posts and members pinned or unpinned, applied to the kept state (`LiveTrust`)
    once the newcomers are known, list every scope as `compute_all` does on the rows and posts as
    they then stand, or ask for a rebuild."""
    params = PARAMS if window is None else replace(PARAMS, window_days=window)
    scopes: dict[str, set[int] | None] = {"all": None, "channel:1": {1}, "category:9": {2, 3}}
    before = summed(Edges.from_rows(c.rows)) if c.rows else Edges.empty()
    live = LiveTrust(before, c.facts, params, today=TODAY, scopes=scopes, posts=c.posts)
    live.rank(c.facts)
    size = len(before)
    delta = np.zeros(size)
    if size:
        for i in data.draw(st.lists(st.integers(0, size - 1), max_size=20, unique=True)):
            delta[i] = data.draw(st.sampled_from([1.0, 2.0, -before.n[i]]))
    known = sorted(set(c.facts.member_id.tolist()) | {7, 8})  # two newcomers
    fresh_rows = data.draw(
        st.lists(
            st.tuples(
                st.sampled_from(CHANNELS),
                st.sampled_from(known),
                st.sampled_from(known),
                st.integers(TODAY - 10, TODAY),
                st.integers(0, len(KINDS) - 1),
                st.integers(1, 3),
            ),
            max_size=40,
        )
    )
    fresh = summed(Edges.from_rows(fresh_rows)) if fresh_rows else Edges.empty()
    moved = delta != 0
    columns = ("actor", "target", "channel", "day", "kind")
    change = Edges(
        *(np.concatenate([getattr(before, f)[moved], getattr(fresh, f)]) for f in columns),
        np.concatenate([delta[moved], fresh.n]),
    )
    after = summed(
        Edges(
            *(np.concatenate([getattr(before, f), getattr(fresh, f)]) for f in columns),
            np.concatenate([before.n + delta, fresh.n]),
        )
    )

    def rows_of(actor: np.ndarray, target: np.ndarray) -> Edges:
        pairs = set(zip(actor.tolist(), target.tolist(), strict=True))
        keep = np.array(
            [(a, t) in pairs for a, t in zip(after.actor.tolist(), after.target.tolist(), strict=True)]
        )
        keep = keep if len(keep) else np.zeros(0, np.bool_)
        return Edges(*(getattr(after, f)[keep] for f in (*columns, "n")))

    said = data.draw(
        st.lists(
            st.tuples(st.sampled_from(known), st.sampled_from(CHANNELS), st.just(TODAY), st.integers(1, 4))
        )
    )
    new_posts = Posts(*(np.array(column, np.int64) for column in zip(*said, strict=True))) if said else None
    posts = c.posts if new_posts is None or c.posts is None else concat(c.posts, new_posts)
    # The newcomers known from now on, as members who joined today.
    facts = MemberFacts(
        member_id=np.append(c.facts.member_id, [7, 8]),
        joined_day=np.append(c.facts.joined_day, [TODAY, TODAY]),
        account_created_day=np.append(c.facts.account_created_day, [TODAY - 3.0, np.nan]),
        is_bot=np.append(c.facts.is_bot, [False, False]),
        excluded=c.facts.excluded,
        # A moderator may pin or unpin members between two recomputes.
        pinned=frozenset(
            data.draw(st.lists(st.sampled_from(sorted(c.facts.member_id.tolist())), max_size=3))
        ),
    )
    refreshed = live.refresh(change, new_posts, facts, today=TODAY, rows_of=rows_of)
    if refreshed is None:  # a change the kept state cannot express (a new channel): rebuilt instead
        return
    full = compute_all(after, facts, params, today=TODAY, scopes=scopes, posts=posts)
    assert set(refreshed) <= set(full)
    for name, expected in full.items():
        got = list(refreshed.get(name, []))
        assert same(got, expected), name
        assert [(r.rank, r.distinct_peers, r.trusted_peers) for r in got] == [
            (r.rank, r.distinct_peers, r.trusted_peers) for r in expected
        ], name
    # Whose standing depended on a member (what an exclusion shows, of the members listed), from the
    # kept state as from a full computation.
    listed = {r.member_id for r in full["all"]}
    for member in [int(m) for m in facts.member_id[:5]]:
        kept = live.dependents(member)
        computed = [
            (m, share)
            for m, share in dependents(after, facts, params, today=TODAY, member_id=member, posts=posts)
            if m in listed
        ]
        assert [m for m, _ in kept] == [m for m, _ in computed]
        assert np.allclose([share for _, share in kept], [share for _, share in computed], atol=1e-6)


KEYS = st.tuples(
    st.sampled_from((1, 2, 4)),  # 4: a thread of channel 1
    st.integers(1, 8),
    st.integers(1, 8),
    st.integers(TODAY - 5, TODAY),
    st.integers(0, len(KINDS) - 1),
)


@PROPERTY
@given(
    st.dictionaries(KEYS, st.integers(1, 9), max_size=30),
    st.lists(st.dictionaries(KEYS, st.integers(0, 9), max_size=12), max_size=5),
)
def test_the_kept_graph_holds_the_rows_as_they_stand_and_logs_each_change(
    built: dict[tuple[int, ...], int], batches: list[dict[tuple[int, ...], int]]
) -> None:
    """The kept engagement graph (`CommunityEdges`) built from some rows and brought up to date with
    batches of the current rows of the keys new events touched (new keys, raised counts, counts
    retracted to zero, keys repeated across batches) holds every row as it then stands, with
    threads folded into their channel, and what `take_changes` hands out adds up to each count's
    change since the build."""
    parents = {4: 1}

    def columns(rows: dict[tuple[int, ...], int], upto: int, after: int = 0) -> EngagementColumns:
        table = [(*key, n) for key, n in rows.items()]
        return EngagementColumns.from_rows(table or np.zeros((0, 6), np.int64), upto, after_id=after)

    graph = CommunityEdges(columns(built, 1), parents, TODAY)
    now = dict(built)
    for i, batch in enumerate(batches, start=1):
        assert graph.apply(columns(batch, i + 1, after=i))
        now.update(batch)
    edges = graph.edges()
    held: dict[tuple[int, ...], float] = {}
    for c, a, t, d, k, n in zip(
        edges.channel, edges.actor, edges.target, edges.day, edges.kind, edges.n, strict=True
    ):
        held[(int(c), int(a), int(t), int(d), int(k))] = (
            held.get((int(c), int(a), int(t), int(d), int(k)), 0) + n
        )
    expected: dict[tuple[int, ...], float] = {}
    for (c, a, t, d, k), n in now.items():
        folded = (parents.get(c, c), a, t, d, k)
        expected[folded] = expected.get(folded, 0) + n
    assert {key: n for key, n in held.items() if n} == {key: n for key, n in expected.items() if n}
    taken = graph.take_changes()
    assert taken is not None
    changes, _posts = taken
    moved: dict[tuple[int, ...], float] = {}
    for c, a, t, d, k, n in zip(
        changes.channel, changes.actor, changes.target, changes.day, changes.kind, changes.n, strict=True
    ):
        key = (int(c), int(a), int(t), int(d), int(k))
        moved[key] = moved.get(key, 0) + n
    for (c, a, t, d, k), n in built.items():
        folded = (parents.get(c, c), a, t, d, k)
        moved[folded] = moved.get(folded, 0) + n
    assert {key: n for key, n in moved.items() if n} == {key: n for key, n in expected.items() if n}
