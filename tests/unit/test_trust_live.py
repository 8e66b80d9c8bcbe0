"""The ranking state kept between recomputes (bot.trust.live) gives what a full recompute gives.

A random community with channels in categories, members of every tenure, posts, a bot and an
excluded member is ranked once; then a batch of changes (more engagement on existing days, new
pairs, retractions down to zero, members never seen before, new posts) is applied in place and
compared, scope by scope, with `compute_all` on the rows as they now stand.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping

import numpy as np
import pytest

from bot import trust
from bot.store import EngagementColumns
from bot.trust import (
    KINDS,
    CommunityEdges,
    Edges,
    LiveTrust,
    MemberFacts,
    Posts,
    Ranked,
    TrustParams,
    compute_all,
    dependents,
    stored_rows,
)

TODAY = 20_000
CHANNELS = (11, 12, 13, 21, 22, 31)
SCOPES: dict[str, set[int] | None] = {
    "all": None,
    **{f"channel:{c}": {c} for c in CHANNELS},
    "category:1": {11, 12, 13},
    "category:2": {21, 22},
    "category:9": {99},  # no engagement there: left out
}
BOT, EXCLUDED = 7, 8
EDGE_FIELDS = ("actor", "target", "channel", "day", "kind", "n")


def community(seed: int, members: int = 240, rows: int = 6000) -> tuple[Edges, Posts, MemberFacts]:
    rng = np.random.default_rng(seed)
    ids = np.arange(1, members + 1, dtype=np.int64) * 1_000_003  # sparse, snowflake-like ids
    popularity = rng.pareto(1.5, members) + 0.1
    p = popularity / popularity.sum()
    actor = rng.choice(ids, rows)
    target = rng.choice(ids, rows, p=p)
    keep = actor != target
    edges = Edges(
        actor=actor[keep],
        target=target[keep],
        channel=rng.choice(CHANNELS, rows)[keep],
        day=TODAY - rng.integers(0, 60, rows)[keep],
        kind=rng.integers(0, 3, rows)[keep],
        n=rng.integers(1, 4, rows)[keep].astype(np.float64),
    )
    edges = dedupe(edges)
    said = rng.integers(0, len(ids), 3000)
    posts = Posts(ids[said], rng.choice(CHANNELS, 3000), TODAY - rng.integers(0, 60, 3000), np.ones(3000))
    joined = TODAY - rng.choice([3.0, 10.0, 45.0, 400.0], members)
    facts = MemberFacts(
        member_id=ids,
        joined_day=joined,
        account_created_day=joined - 100,
        first_seen_day=joined,
        is_bot=ids == ids[BOT],
        excluded=frozenset({int(ids[EXCLUDED])}),
    )
    return edges, posts, facts


def dedupe(edges: Edges) -> Edges:
    """One row per (channel, actor, target, day, kind), counts summed (as engagement_daily keeps them)."""
    keys = np.stack([edges.channel, edges.actor, edges.target, edges.day, edges.kind])
    unique, inverse = np.unique(keys, axis=1, return_inverse=True)
    n = np.bincount(inverse.ravel(), weights=edges.n)
    channel, actor, target, day, kind = unique
    return Edges(actor, target, channel, day, kind, n)


def changed(edges: Edges, seed: int, newcomers: np.ndarray) -> tuple[Edges, Edges]:
    """(the change rows, the rows as they stand afterwards): increments, retractions to zero, new
    pairs among known members and with newcomers."""
    rng = np.random.default_rng(seed)
    size = len(edges)
    delta = np.zeros(size)
    bump = rng.choice(size, 200, replace=False)
    delta[bump] = rng.integers(1, 3, 200)
    # Fully retracted: unreactions (a reply, a thread post or a comment is never taken back).
    reactions = np.flatnonzero(edges.kind == KINDS.index("reaction"))
    gone = rng.choice(np.setdiff1d(reactions, bump), 60, replace=False)
    delta[gone] = -edges.n[gone]
    known = np.unique(edges.actor)
    fresh_actor = np.concatenate([rng.choice(known, 150), newcomers, rng.choice(known, len(newcomers))])
    fresh_target = np.concatenate([rng.choice(known, 150), rng.choice(known, len(newcomers)), newcomers])
    ok = fresh_actor != fresh_target
    count = int(ok.sum())
    fresh = Edges(
        actor=fresh_actor[ok],
        target=fresh_target[ok],
        channel=rng.choice(CHANNELS, count),
        day=np.full(count, TODAY - 1),
        kind=rng.integers(0, 3, count),
        n=np.ones(count),
    )
    fresh = dedupe(fresh)
    moved = delta != 0
    change = Edges(
        actor=np.concatenate([edges.actor[moved], fresh.actor]),
        target=np.concatenate([edges.target[moved], fresh.target]),
        channel=np.concatenate([edges.channel[moved], fresh.channel]),
        day=np.concatenate([edges.day[moved], fresh.day]),
        kind=np.concatenate([edges.kind[moved], fresh.kind]),
        n=np.concatenate([delta[moved], fresh.n]),
    )
    after = dedupe(
        Edges(
            actor=np.concatenate([edges.actor, fresh.actor]),
            target=np.concatenate([edges.target, fresh.target]),
            channel=np.concatenate([edges.channel, fresh.channel]),
            day=np.concatenate([edges.day, fresh.day]),
            kind=np.concatenate([edges.kind, fresh.kind]),
            n=np.concatenate([edges.n + delta, fresh.n]),
        )
    )
    return change, after


def rows_of(edges: Edges) -> Callable[[np.ndarray, np.ndarray], Edges]:
    """The current rows of given pairs, as the kept graph gives them (`CommunityEdges.pair_rows`)."""

    def read(actor: np.ndarray, target: np.ndarray) -> Edges:
        pairs = set(zip(actor.tolist(), target.tolist(), strict=True))
        keep = np.array(
            [(a, t) in pairs for a, t in zip(edges.actor.tolist(), edges.target.tolist(), strict=True)]
        )
        keep = keep if len(keep) else np.zeros(0, np.bool_)
        return Edges(
            edges.actor[keep],
            edges.target[keep],
            edges.channel[keep],
            edges.day[keep],
            edges.kind[keep],
            edges.n[keep],
        )

    return read


def with_members(facts: MemberFacts, extra: np.ndarray, **kw: object) -> MemberFacts:
    return MemberFacts(
        member_id=np.concatenate([facts.member_id, extra]),
        joined_day=np.concatenate([facts.joined_day, np.full(len(extra), TODAY - 1.0)]),
        account_created_day=np.concatenate([facts.account_created_day, np.full(len(extra), TODAY - 1.0)]),
        first_seen_day=np.concatenate([facts.first_seen_day, np.full(len(extra), TODAY - 1.0)]),
        is_bot=np.concatenate([facts.is_bot, np.zeros(len(extra), bool)]),
        excluded=kw.get("excluded", facts.excluded),  # type: ignore[arg-type]
        pinned=kw.get("pinned", facts.pinned),  # type: ignore[arg-type]
    )


def concat_edges(a: Edges, b: Edges) -> Edges:
    columns = ("actor", "target", "channel", "day", "kind", "n")
    return dedupe(Edges(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in columns)))


def concat(a: Posts, b: Posts) -> Posts:
    return Posts(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in ("member", "channel", "day", "n")))


def assert_same(live: Mapping[str, list[Ranked]], full: Mapping[str, list[Ranked]]) -> None:
    full = {name: ranked for name, ranked in full.items() if name != "category:9"}
    assert set(live) == set(full)
    for name, expected in full.items():
        got = live[name]
        assert [r.member_id for r in got] == [r.member_id for r in expected], name
        for a, b in zip(got, expected, strict=True):
            assert (a.rank, a.distinct_peers, a.trusted_peers, a.top_topics) == (
                b.rank,
                b.distinct_peers,
                b.trusted_peers,
                b.top_topics,
            ), name
            assert a.score == pytest.approx(b.score, rel=1e-6, abs=1e-9), name
            assert (a.trend is None) == (b.trend is None)


PARAMS = TrustParams(seed_min_tenure_days=20, min_peers_listed=3, listed_min_value=0.0, listed_min_peers=0.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_changes_applied_in_place_equal_a_full_recompute(seed: int) -> None:
    edges, posts, facts = community(seed)
    live = LiveTrust(edges, facts, PARAMS, today=TODAY, scopes=SCOPES, posts=posts)
    first = live.rank(facts, limit=100)
    assert_same(first, compute_all(edges, facts, PARAMS, today=TODAY, scopes=SCOPES, limit=100, posts=posts))
    assert "category:9" not in first and sum(map(len, first.values())) > 100

    newcomers = np.array([9_000_000_001, 9_000_000_002, 9_000_000_003], np.int64)
    change, after = changed(edges, seed + 100, newcomers)
    more_posts = Posts(
        np.concatenate([newcomers, edges.actor[:50]]),
        np.full(53, CHANNELS[0]),
        np.full(53, TODAY - 1),
        np.ones(53),
    )
    now_facts = with_members(facts, newcomers)
    previous = {"all": {int(r.member_id): r.score for r in first["all"][:20]}}
    refreshed = live.refresh(
        change, more_posts, now_facts, today=TODAY, previous=previous, limit=100, rows_of=rows_of(after)
    )
    assert refreshed is not None
    full = compute_all(
        after,
        now_facts,
        PARAMS,
        today=TODAY,
        scopes=SCOPES,
        previous=previous,
        limit=100,
        posts=concat(posts, more_posts),
    )
    assert_same(refreshed, full)
    assert any(r.trend is not None for r in refreshed["all"])


def test_nothing_new_reuses_every_scope_and_pins_reseed() -> None:
    edges, posts, facts = community(4)
    live = LiveTrust(edges, facts, PARAMS, today=TODAY, scopes=SCOPES, posts=posts)
    first = live.rank(facts, limit=50)
    solved = {name: scope.solved for name, scope in live.scopes.items()}
    again = live.refresh(Edges.empty(), None, facts, today=TODAY, limit=50)
    assert again == first
    assert all(live.scopes[name].solved is solved[name] for name in solved)  # nothing re-solved

    # A pin changes the seeds: every scope is solved again, as a full recompute with the pin.
    member = first["all"][-1].member_id
    pinned = with_members(facts, np.zeros(0, np.int64), pinned=frozenset({member}))
    repinned = live.refresh(Edges.empty(), None, pinned, today=TODAY, limit=50)
    assert repinned is not None
    assert_same(
        repinned, compute_all(edges, pinned, PARAMS, today=TODAY, scopes=SCOPES, limit=50, posts=posts)
    )
    assert trust.explain_parts(next(r for r in repinned["all"] if r.member_id == member))[-1][0] == (
        "trust.why.pinned"
    )


def test_members_who_left_are_not_listed_and_what_they_gave_still_counts() -> None:
    edges, posts, facts = community(5)
    live = LiveTrust(edges, facts, PARAMS, today=TODAY, scopes=SCOPES, posts=posts)
    first = live.rank(facts, limit=100)
    top = first["all"][0].member_id
    in_channel = {name for name, ranked in first.items() if any(r.member_id == top for r in ranked)}
    assert len(in_channel) > 1
    left_day = np.where(facts.member_id == top, TODAY - 2.5, np.nan)
    left = dataclasses.replace(facts, left_day=left_day)

    gone = live.refresh(Edges.empty(), None, left, today=TODAY, limit=100)
    assert gone is not None
    assert_same(gone, compute_all(edges, left, PARAMS, today=TODAY, scopes=SCOPES, limit=100, posts=posts))
    assert all(r.member_id != top for ranked in gone.values() for r in ranked)
    # The others keep their order: the graph, with what the member gave, is the same.
    before = [r.member_id for r in first["all"] if r.member_id != top]
    assert [r.member_id for r in gone["all"]][:30] == before[:30]

    # Back in the community (the store forgets the departure): listed as before.
    back = live.refresh(Edges.empty(), None, facts, today=TODAY, limit=100)
    assert back == first
    # A departure dated later than today has not happened yet.
    later = dataclasses.replace(facts, left_day=np.where(facts.member_id == top, TODAY + 1.0, np.nan))
    assert live.refresh(Edges.empty(), None, later, today=TODAY, limit=100) == first


def test_what_cannot_be_applied_in_place_asks_for_a_rebuild() -> None:
    edges, posts, facts = community(5)

    def fresh(spare: int | None = None) -> LiveTrust:
        state = LiveTrust(edges, facts, PARAMS, today=TODAY, scopes=SCOPES, posts=posts, spare=spare)
        state.rank(facts)
        return state

    one = Edges(
        edges.actor[:1], edges.target[:1], edges.channel[:1], edges.day[:1], edges.kind[:1], np.ones(1)
    )
    # another day: decay moved every weight
    assert fresh().refresh(one, None, facts, today=TODAY + 1) is None
    # a channel the state has no column for
    elsewhere = Edges(one.actor, one.target, np.array([77]), one.day, one.kind, one.n)
    assert fresh().refresh(elsewhere, None, facts, today=TODAY) is None
    # someone newly excluded, or newly known to be a bot
    excluded = with_members(facts, np.zeros(0, np.int64), excluded=facts.excluded | {int(edges.actor[0])})
    assert fresh().refresh(one, None, excluded, today=TODAY) is None
    # no spare slot left for a member never seen before (the pair's rows, as the store gives them
    # for a change to a day that old)
    newcomer = Edges(np.array([9_000_000_009]), one.target, one.channel, one.day, one.kind, one.n)
    rows = rows_of(concat_edges(edges, newcomer))
    assert fresh(spare=0).refresh(newcomer, None, facts, today=TODAY, rows_of=rows) is None
    assert fresh(spare=1).refresh(newcomer, None, facts, today=TODAY, rows_of=rows) is not None


def test_the_first_pair_of_a_channel_where_only_a_bot_was_engaged_is_applied_in_place() -> None:
    """A new server: its members have only reacted to the bot's welcome message, so the kept state
    holds the channel but no pair. The first reply between two members is applied in place and
    ranks as a full recompute does (the received totals of a graph built without pairs are kept as
    floats, as the in-place update adds to them)."""
    bot, a, b = 1_000, 2_000, 3_000
    facts = MemberFacts(
        member_id=np.array([bot, a, b], np.int64),
        joined_day=np.full(3, TODAY - 100.0),
        account_created_day=np.full(3, TODAY - 400.0),
        is_bot=np.array([True, False, False]),
    )
    welcome = [(11, a, bot, TODAY, "reaction", 1), (11, b, bot, TODAY, "reaction", 1)]
    state = LiveTrust(Edges.from_rows(welcome), facts, PARAMS, today=TODAY, scopes={"all": None})
    state.rank(facts)
    first = (11, a, b, TODAY, "reply", 1)
    reply, after = Edges.from_rows([first]), Edges.from_rows([*welcome, first])
    refreshed = state.refresh(reply, None, facts, today=TODAY)
    assert refreshed is not None
    assert_same(refreshed, compute_all(after, facts, PARAMS, today=TODAY, scopes={"all": None}))


def columns(rows: list[tuple[int, int, int, int, int, int]], upto: int, after: int = 0) -> EngagementColumns:
    """Rows (channel, actor, target, day, kind code, n) as the store hands them to the kept graph."""
    channel, actor, target, day, kind, n = (np.array(c, np.int64) for c in zip(*rows, strict=True))
    return EngagementColumns(
        channel=channel, actor=actor, target=target, day=day, kind=kind, n=n, upto_id=upto, after_id=after
    )


def test_graph_change_log_holds_the_change_of_each_count() -> None:
    graph = CommunityEdges(columns([(1, 10, 20, TODAY, 1, 2), (1, 10, 30, TODAY, 0, 1)], upto=5), {}, TODAY)
    assert graph.take_changes() is not None  # nothing yet: empty
    # the first row's count went 2 -> 3, the second was retracted 1 -> 0, a new row appeared
    assert graph.apply(
        columns([(1, 10, 20, TODAY, 1, 3), (1, 10, 30, TODAY, 0, 0), (1, 20, 10, TODAY, 0, 4)], 9, 5)
    )
    taken = graph.take_changes()
    assert taken is not None
    rows, _ = taken
    got = sorted(zip(rows.actor.tolist(), rows.target.tolist(), rows.n.tolist(), strict=True))
    assert got == [(10, 20, 1.0), (10, 30, -1.0), (20, 10, 4.0)]
    again = graph.take_changes()
    assert again is not None and len(again[0]) == 0


def test_graph_gives_the_current_rows_of_given_pairs() -> None:
    """`pair_rows` (what a kept ranking state reads when a retraction empties a pair's first day)
    returns every current row of exactly those pairs, threads folded into their channel, rows added
    since the build included, and no row of a pair that was not asked for (the reverse pair, or
    the same actor with another target)."""

    built = [
        (1, 10, 20, TODAY - 9, 1, 1),
        (77, 10, 20, TODAY - 3, 0, 2),
        (1, 20, 10, TODAY, 0, 1),
        (1, 10, 30, TODAY, 0, 1),
    ]
    graph = CommunityEdges(columns(built, upto=5), {77: 1}, TODAY)  # thread 77 lives in channel 1
    assert graph.apply(columns([(1, 10, 20, TODAY - 9, 1, 0), (1, 10, 20, TODAY, 0, 1)], 9, 5))
    got = graph.pair_rows(np.array([10]), np.array([20]))
    rows = sorted(zip(got.channel.tolist(), got.day.tolist(), got.kind.tolist(), got.n.tolist(), strict=True))
    assert rows == [(1, TODAY - 9, 1, 0.0), (1, TODAY - 3, 0, 2.0), (1, TODAY, 0, 1.0)]
    assert set(zip(got.actor.tolist(), got.target.tolist(), strict=True)) == {(10, 20)}
    assert len(graph.pair_rows(np.array([30]), np.array([10]))) == 0


def test_stored_rows_are_the_json_of_each_entrys_explanation() -> None:
    """`stored_rows` formats the stored `why` straight from the listing's columns; it must be the JSON
    of what `explain_parts` says about each entry (trends up, down, flat and new, pins, topics)."""
    edges, posts, facts = community(5)
    first = LiveTrust(edges, facts, PARAMS, today=TODAY, scopes=SCOPES, posts=posts).rank(facts, limit=60)
    listing = first["all"]
    members = [r.member_id for r in listing]
    scores = [r.score for r in listing]
    previous = {"all": {members[0]: scores[0] / 1.3, members[1]: scores[1] * 1.4, members[2]: scores[2]}}
    pinned = with_members(facts, np.zeros(0, np.int64), pinned=frozenset({members[3]}))
    state = LiveTrust(edges, pinned, PARAMS, today=TODAY, scopes=SCOPES, posts=posts)
    ranked = state.rank(pinned, previous=previous, limit=60)
    keys = set()
    for name, listing in ranked.items():
        rows = stored_rows(listing)
        assert len(rows) == len(listing)
        for row, r in zip(rows, listing, strict=True):
            expected = {
                "parts": [[key, params] for key, params in trust.explain_parts(r, raw_channels=True)],
            }
            assert row[:5] == (r.member_id, r.rank, r.score, r.distinct_peers, r.trusted_peers), name
            assert json.loads(row[5]) == expected, name
            assert row[5] == json.dumps(expected, separators=(",", ":")), name
            keys.update(key for key, _ in expected["parts"])
    assert {"trust.why.trend_up", "trust.why.trend_down", "trust.why.trend_flat", "trust.why.new"} <= keys
    assert {"trust.why.pinned", "trust.why.topic", "trust.why.peers"} <= keys


def test_a_wave_of_newcomers_in_one_topic_equals_a_full_recompute() -> None:
    """More members new to a topic than its graph kept spare slots for: the graph grows in place."""
    edges, posts, facts = community(6)
    live = LiveTrust(edges, facts, PARAMS, today=TODAY, scopes=SCOPES, posts=posts)
    live.rank(facts, limit=100)
    rng = np.random.default_rng(6)
    newcomers = np.arange(200, dtype=np.int64) + 8_000_000_000
    hosts = rng.choice(np.unique(edges.target), len(newcomers))
    wave = dedupe(
        Edges(
            actor=np.concatenate([newcomers, hosts]),
            target=np.concatenate([hosts, newcomers]),
            channel=np.full(2 * len(newcomers), CHANNELS[0]),
            day=np.full(2 * len(newcomers), TODAY),
            kind=np.zeros(2 * len(newcomers), np.int64),
            n=np.ones(2 * len(newcomers)),
        )
    )
    now_facts = with_members(facts, newcomers)
    graph = live.scopes[f"channel:{CHANNELS[0]}"].graph
    slots = graph.n
    refreshed = live.refresh(wave, None, now_facts, today=TODAY, limit=100)
    assert refreshed is not None and graph.n > slots  # grew
    after = dedupe(Edges(*(np.concatenate([getattr(edges, f), getattr(wave, f)]) for f in EDGE_FIELDS)))
    assert_same(
        refreshed, compute_all(after, now_facts, PARAMS, today=TODAY, scopes=SCOPES, limit=100, posts=posts)
    )


def test_successive_rounds_in_place_equal_a_full_recompute() -> None:
    """Several refreshes in a row: pairs added by one round (kept apart from the built ones) get
    more engagement or are retracted in the next, and every round still equals a full recompute."""
    edges, posts, facts = community(7)
    live = LiveTrust(edges, facts, PARAMS, today=TODAY, scopes=SCOPES, posts=posts)
    live.rank(facts, limit=100)
    for round_ in range(3):
        change, edges = changed(edges, 700 + round_, np.zeros(0, np.int64))
        refreshed = live.refresh(change, None, facts, today=TODAY, limit=100, rows_of=rows_of(edges))
        assert refreshed is not None
        assert_same(
            refreshed, compute_all(edges, facts, PARAMS, today=TODAY, scopes=SCOPES, limit=100, posts=posts)
        )
    assert any(g.extra_pairs for g in live._graphs.values())


def test_dependents_from_the_kept_state_match_a_full_computation() -> None:
    edges, posts, facts = community(1)
    live = LiveTrust(edges, facts, PARAMS, today=TODAY, scopes=SCOPES, posts=posts)
    listed = {r.member_id for r in live.rank(facts)["all"]}
    found = 0
    for member in facts.member_id[:80].tolist():
        full = dependents(edges, facts, PARAMS, today=TODAY, member_id=member, posts=posts, min_share=0.2)
        kept = live.dependents(member, min_share=0.2)
        assert [m for m, _ in kept] == [m for m, _ in full if m in listed]
        assert [s for _, s in kept] == pytest.approx([s for m, s in full if m in listed])
        found += len(kept)
    assert found > 0


def test_a_retraction_to_zero_leaves_no_trace_in_the_coordination_evidence() -> None:
    """Pairs retracted to zero stay in a graph updated in place; the evidence must see them as
    absent, like a full recompute does: here the third of three accounts that woke up together
    around one member takes its engagement back, and with it the "together" group."""
    edges, posts, facts = community(2)
    ids = facts.member_id
    target, woken = int(ids[30]), [int(ids[k]) for k in (40, 41, 42)]
    quiet_since = np.isin(facts.member_id, woken)
    facts = MemberFacts(
        member_id=ids,
        joined_day=np.where(quiet_since, TODAY - 400.0, facts.joined_day),
        account_created_day=np.where(quiet_since, TODAY - 500.0, facts.account_created_day),
        first_seen_day=np.where(quiet_since, TODAY - 400.0, facts.first_seen_day),
        is_bot=facts.is_bot,
        excluded=facts.excluded,
    )
    silent = ~(np.isin(edges.actor, woken) | np.isin(edges.target, woken))
    edges = Edges(*(getattr(edges, f)[silent] for f in EDGE_FIELDS))
    silent_posts = ~np.isin(posts.member, woken)
    posts = Posts(*(getattr(posts, f)[silent_posts] for f in ("member", "channel", "day", "n")))
    burst = Edges(
        actor=np.array(woken), target=np.full(3, target), channel=np.full(3, CHANNELS[0]),
        day=np.full(3, TODAY - 1), kind=np.full(3, KINDS.index("reaction")), n=np.full(3, 4.0),
    )  # fmt: skip
    edges = Edges(*(np.concatenate([getattr(edges, f), getattr(burst, f)]) for f in EDGE_FIELDS))
    live = LiveTrust(edges, facts, PARAMS, today=TODAY, scopes=SCOPES, posts=posts)
    live.rank(facts, limit=100)
    retract = Edges(
        actor=np.array([woken[2]]), target=np.array([target]), channel=np.array([CHANNELS[0]]),
        day=np.array([TODAY - 1]), kind=np.array([KINDS.index("reaction")]), n=np.array([-4.0]),
    )  # fmt: skip
    refreshed = live.refresh(retract, None, facts, today=TODAY, limit=100)
    assert refreshed is not None
    after = Edges(*(getattr(edges, f)[:-1] for f in EDGE_FIELDS))
    full = compute_all(after, facts, PARAMS, today=TODAY, scopes=SCOPES, limit=100, posts=posts)
    assert_same(refreshed, full)


def test_common_partners_are_counted_alike_as_bit_rows_and_as_a_sparse_product() -> None:
    import scipy.sparse as sp

    from bot.trust import evidence

    rng = np.random.default_rng(5)
    c = 300
    a, b = rng.integers(0, c, 4000), rng.integers(0, c, 4000)
    keep = a != b
    links = sp.csr_array((np.ones(int(keep.sum()), np.float32), (a[keep], b[keep])), shape=(c, c))
    links = links.maximum(links.T).tocsr()
    links.sum_duplicates()
    links.data[:] = 1.0
    dense = links.toarray()
    want = (dense @ dense) * dense  # partners shared by the two ends of each link
    got = evidence._common_partners(links).toarray()
    assert np.array_equal(got, want)
    product = (links @ links).multiply(links).toarray()
    assert np.array_equal(product, want)


def test_pairs_of_finds_the_built_and_the_added_pairs_of_the_chosen_actors_in_order() -> None:
    from bot.trust.solver import ScopeGraph, pairs_from_sorted

    rng = np.random.default_rng(9)
    n = 40
    keys = np.unique(rng.integers(0, n, 300) * n + rng.integers(0, n, 300))
    actor, target = keys // n, keys % n
    g = ScopeGraph(pairs_from_sorted(n, actor, target, np.ones(len(keys))), n)
    g.add(np.array([3, 7, 3]), np.array([39, 38, 37]), np.ones(3))  # some pairs new, appended
    chosen = np.zeros(g.n, np.bool_)
    chosen[[0, 3, 7, 21]] = True
    assert np.array_equal(g.pairs_of(chosen), np.flatnonzero(chosen[g.actor]))
