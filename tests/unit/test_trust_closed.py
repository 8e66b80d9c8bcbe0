"""Engagers who engage each other far more than usual (`closed_engagers`): a ring of members who
trade part of their engagement, and spread the rest like anyone's, is discounted and explained; a
voice whose audience does not engage each other is not; and the measure itself (`engager_links`)
counts what it says, whichever order the graph was built in."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bot.trust import Edges, LiveTrust, MemberFacts, Ranked, TrustParams, compute_all, compute_scope, explain
from bot.trust.explain import explain_parts
from bot.trust.listing import engager_links
from bot.trust.solver import ScopeGraph, pairs_from_sorted
from tests.unit.test_trust_arrivals import refreshed_equals_full

TODAY = 20_000
WEEKS = 8
TOWN = tuple(range(1, 41))  # members present for a year
VOICES = (100, 101)
RING = tuple(range(200, 206))
Row = tuple[int, int, int, int, str, int]  # (channel, actor, target, day, kind, n)


def facts() -> MemberFacts:
    ids = [*TOWN, *VOICES, *RING]
    return MemberFacts(
        member_id=np.array(ids, np.int64),
        joined_day=np.full(len(ids), TODAY - 365.0),
        account_created_day=np.full(len(ids), TODAY - 900.0),
        is_bot=np.zeros(len(ids), np.bool_),
    )


def weekly(actor: int, target: int, kind: str = "reply") -> list[Row]:
    return [(1, actor, target, TODAY - 2 - 7 * week, kind, 1) for week in range(WEEKS)]


def ring_community() -> list[Row]:
    """Town members each react every week to three others far apart (7, 13 and 19 places on, so
    that those who engage the same member do not engage each other); two voices, each answered
    every week by ten town members four places apart (who do not engage each other either); and a
    ring of six members who answer each other every week, a third of their engagement (the rest:
    reactions to ten town members each, like anyone's), and are answered by five town members
    each."""
    rows: list[Row] = []
    n = len(TOWN)
    for i, m in enumerate(TOWN):
        for step in (7, 13, 19):
            rows += weekly(m, TOWN[(i + step) % n], "reaction")
    for k, v in enumerate(VOICES):
        for p in TOWN[k::4]:
            rows += weekly(p, v)
    for r, member in enumerate(RING):
        rows += [row for mate in RING if mate != member for row in weekly(member, mate)]
        rows += [row for p in TOWN[r::8] for row in weekly(p, member)]
        rows += [row for p in TOWN[r : r + 10] for row in weekly(member, p, "reaction")]
    return rows


#: Every member with three engagers listed, however far below the voices: where the ring would be.
OPEN = TrustParams(min_peers_listed=3, listed_min_value=0.0, listed_min_peers=0.0, listed_min_draw=0.0)


def rank(rows: list[Row], params: TrustParams) -> dict[int, Ranked]:
    got = compute_scope(Edges.from_rows(rows), facts(), params, today=TODAY)
    return {r.member_id: r for r in got}


def test_a_ring_whose_members_engage_each_other_is_discounted_and_explained() -> None:
    """Without the test the ring members are listed right below the voices, above every town
    member; with it (the default) none of them is in the top ten. Taken more gently, every ring
    member is listed and the explanation says why. The voices keep their scores."""
    rows = ring_community()
    off = rank(rows, replace(OPEN, closed_engagers=()))
    got = rank(rows, OPEN)
    assert sorted(off[m].rank for m in RING) == [3, 4, 5, 6, 7, 8]
    assert all(m not in got or got[m].rank > 10 for m in RING)
    for v in VOICES:
        assert got[v].score == pytest.approx(off[v].score, rel=1e-9)
        assert got[v].why["coordinated_reason"] != "closed"
    gentle = rank(rows, replace(OPEN, closed_engagers=(2.0, 20.0)))
    for m in RING:
        r = gentle[m]
        assert r.score < off[m].score
        assert r.why["coordinated_reason"] == "closed"
        # Shown as what came from engagers linked to another: the five ring-mates' share, more
        # than the third of their own engagement the group test reads.
        assert r.why["coordinated"] > 0.5
        key, params = explain_parts(r)[2]
        assert key == "trust.why.coordinated_closed"
        assert params == {"pct": round(r.why["coordinated"] * 100)}
        assert "engage each other far more than is usual here" in explain(r)
    assert TrustParams().closed_engagers == (2.0, 3.0)
    with pytest.raises(ValueError, match="closed_engagers"):
        TrustParams(closed_engagers=(3.0, 2.0))


def test_the_ring_kept_in_place_equals_a_full_recompute() -> None:
    """Built at once or kept in place while the ring forms (its rows added in two batches), the
    listing is the same: which engagers are looked at depends on the members alone."""
    rows = ring_community()
    members = facts()
    ring_rows = [r for r in rows if r[1] in RING and r[2] in RING]
    rest = [r for r in rows if r not in ring_rows]
    scopes: dict[str, set[int] | None] = {"all": None}
    live = LiveTrust(Edges.from_rows(rest), members, OPEN, today=TODAY, scopes=scopes)
    live.rank(members)
    half = len(ring_rows) // 2
    for change, after in ((ring_rows[:half], rest + ring_rows[:half]), (ring_rows[half:], rows)):
        full = refreshed_equals_full(live, change, after, members, OPEN, scopes)
    assert any(r.why["coordinated_reason"] == "closed" for r in full["all"]) or not set(RING) & {
        r.member_id for r in full["all"]
    }


def graph(pairs: list[tuple[int, int]], n: int) -> ScopeGraph:
    keys = sorted(set(pairs))
    actor = np.array([a for a, _ in keys], np.int64)
    target = np.array([t for _, t in keys], np.int64)
    return ScopeGraph(pairs_from_sorted(n, actor, target, np.ones(len(keys))), n)


def test_engager_links_counts_the_links_among_a_members_engagers() -> None:
    """Member 0 is engaged by 1, 2, 3 and 4; 1 and 2 engage each other and 3 engaged 1: engager 1
    is linked with two of the three others, 2 and 3 with one, 4 with none, so (equal weights) the
    measure is (2 + 1 + 1 + 0) / 3 / 4. Member 5, engaged by 6 and 7 who engage nobody else: 0.
    A member with a single engager: 0. What came from engagers linked to another: all but engager
    4's. With about two engagers looked at, member 0's measure is that of a few of them."""
    pairs = [(1, 0), (2, 0), (3, 0), (4, 0), (1, 2), (2, 1), (3, 1), (6, 5), (7, 5), (9, 8)]
    g = graph(pairs, 10)
    ids = np.arange(100, 100 + g.n)
    closed, linked = engager_links(g, ids, np.array([0, 5, 8]), sample=24)
    np.testing.assert_allclose(closed, [4 / 12, 0.0, 0.0])
    np.testing.assert_allclose(linked, [3 / 4, 0.0, 0.0])  # all but engager 4's engagement
    sampled = engager_links(g, ids, np.array([0]), sample=2)[0][0]
    assert 0.0 <= sampled <= 1.0
    # The same graph with one more pair added in place: the measure follows it.
    g.add(np.array([4]), np.array([3]), np.ones(1))
    closed, linked = engager_links(g, ids, np.array([0]), sample=24)
    np.testing.assert_allclose(closed, [6 / 12])
    np.testing.assert_allclose(linked, [1.0])


BOOSTERS = tuple(range(300, 306))
TARGET = 310


def booster_rows() -> tuple[list[Row], list[Row]]:
    """The town and the voices of `ring_community` in channel 1 (no ring), and a member whom six
    accounts answer every week there, besides five town members; the six answer each other every
    week in channel 2 only, and react to town members in channel 1 like anyone (a town member
    to one of them at most). A town member answers a voice in channel 2 once. Returned as (every
    row but the boosters' exchange, the exchange)."""
    rows = [r for r in ring_community() if r[1] not in RING and r[2] not in RING]
    rows.append((2, TOWN[0], VOICES[0], TODAY - 3, "reply", 1))
    rows += [row for p in TOWN[3::8] for row in weekly(p, TARGET)]
    for b, booster in enumerate(BOOSTERS):
        rows += weekly(booster, TARGET)
        rows += [row for p in TOWN[b :: len(BOOSTERS)] for row in weekly(booster, p, "reaction")]
    exchange = [
        (2, booster, mate, day, kind, n)
        for booster in BOOSTERS
        for mate in BOOSTERS
        if mate != booster
        for _, _, _, day, kind, n in weekly(booster, mate)
    ]
    return rows, exchange


def booster_facts() -> MemberFacts:
    ids = [*TOWN, *VOICES, *BOOSTERS, TARGET]
    return MemberFacts(
        member_id=np.array(ids, np.int64),
        joined_day=np.full(len(ids), TODAY - 365.0),
        account_created_day=np.full(len(ids), TODAY - 900.0),
        is_bot=np.zeros(len(ids), np.bool_),
    )


def test_in_a_channel_engagers_who_engage_each_other_elsewhere_are_closed_too() -> None:
    """Six accounts that engage each other in another channel only, and together a member in
    channel 1: in channel 1's own listing they are read as the community sees them. Without their
    exchange the member is listed right below the voices there; with it (read community-wide) the
    member is discounted as in the whole community's listing and the explanation says why."""
    rest, exchange = booster_rows()
    scopes: dict[str, set[int] | None] = {"all": None, "channel:1": {1}}
    alone = compute_all(Edges.from_rows(rest), booster_facts(), OPEN, today=TODAY, scopes=scopes)
    got = compute_all(Edges.from_rows(rest + exchange), booster_facts(), OPEN, today=TODAY, scopes=scopes)
    before = {r.member_id: r for r in alone["channel:1"]}
    assert before[TARGET].rank == 3
    for scope in ("all", "channel:1"):
        after = {r.member_id: r for r in got[scope]}
        assert TARGET not in after or after[TARGET].rank > 10, scope
    # A gentler scale shows it in the channel: discounted against the same listing without the test.
    listings = {
        closed: compute_all(
            Edges.from_rows(rest + exchange),
            booster_facts(),
            replace(OPEN, closed_engagers=closed),
            today=TODAY,
            scopes={"channel:1": {1}},
        )["channel:1"]
        for closed in ((2.0, 20.0), ())
    }
    target, untested = (next(r for r in listings[k] if r.member_id == TARGET) for k in ((2.0, 20.0), ()))
    assert target.score < untested.score
    assert target.why["coordinated_reason"] == "closed"


def test_an_exchange_in_another_channel_relists_a_channel_kept_in_place() -> None:
    """Kept in place, channel 1's listing follows an exchange between its members that happens in
    channel 2 only (its own pairs unchanged), as a full recompute does: the boosters' exchange, and
    then one more pair of it, which changes nothing else the listings read."""
    rest, exchange = booster_rows()
    first_pair = [r for r in exchange if {r[1], r[2]} == set(BOOSTERS[:2])]
    members = booster_facts()
    # A discount that follows every link, and nothing else that a pair in channel 2 changes for
    # channel 1 (seeds by tenure, no other pattern tested): only the links among its engagers.
    params = replace(
        OPEN,
        closed_engagers=(2.0, 20.0),
        earned_seeds=False,
        coordination=False,
        new_engager_burst=False,
        arrival_weeks=(),
        single_day=False,
    )
    scopes: dict[str, set[int] | None] = {"all": None, "channel:1": {1}, "channel:2": {2}}
    live = LiveTrust(Edges.from_rows(rest), members, params, today=TODAY, scopes=scopes)
    first = live.rank(members)
    assert TARGET in {r.member_id for r in first["channel:1"][:3]}
    added = rest
    for change in ([r for r in exchange if r not in first_pair], first_pair):
        added = added + change
        full = refreshed_equals_full(live, change, added, members, params, scopes)
        target = next(r for r in full["channel:1"] if r.member_id == TARGET)
        assert target.why["coordinated_reason"] == "closed"
