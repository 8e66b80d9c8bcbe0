"""Topic listings and accounts acting for a member (`topic_max_coordinated`): in a channel, whose
engagement there came mostly from accounts devoted to them, or from a group that engages mostly each
other, is not listed, even as the topic's best-placed member; the members listed beside them stay
listed in the same order. The same bar in the whole community (`community_max_coordinated`): a
community's first day, where pods lead the listing; a pin lifts it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bench import trust_quality as bq
from bot.trust import Edges, MemberFacts, Posts, Ranked, TrustParams, compute_all
from sandbox.simulator import CHANNEL_FORUM, CHANNEL_TEXT
from tests.unit.test_trust_closed import TODAY, TOWN, weekly

BOOSTED = 300
VOICE = 301
DEVOTED = tuple(range(400, 407))  # accounts that engage the boosted member alone
UNBARRED = TrustParams(topic_max_coordinated=None)
#: The devoted accounts below engage no one else either: `lone_engagers` is left out, so that what is
#: seen is the topic bar on accounts acting for a member.
LONE_OFF = TrustParams(lone_engagers=())


def in_channel(channel: int, rows: list[tuple[int, int, int, int, str, int]]) -> list[tuple]:
    return [(channel, *row[1:]) for row in rows]


def devoted_community() -> tuple[Edges, MemberFacts]:
    """Town members react to three others each week in channel 1. In channel 2, the boosted member
    is answered every week by seven accounts that engage nobody else and by two town members; in
    channel 3, a voice by eight town members."""
    rows = []
    n = len(TOWN)
    for i, m in enumerate(TOWN):
        for step in (7, 13, 19):
            rows += weekly(m, TOWN[(i + step) % n], "reaction")
    for m in TOWN[10:18]:
        rows += in_channel(3, weekly(m, VOICE))
    for a in DEVOTED:
        rows += in_channel(2, weekly(a, BOOSTED))
    for m in TOWN[:2]:
        rows += in_channel(2, weekly(m, BOOSTED))
    for m in (BOOSTED, VOICE):
        rows += [row for t in TOWN[:6] for row in weekly(m, t, "reaction")]
    ids = [*TOWN, BOOSTED, VOICE, *DEVOTED]
    facts = MemberFacts(
        member_id=np.array(ids, np.int64),
        joined_day=np.full(len(ids), TODAY - 365.0),
        account_created_day=np.full(len(ids), TODAY - 900.0),
        is_bot=np.zeros(len(ids), np.bool_),
    )
    return Edges.from_rows(rows), facts


def channels(params: TrustParams) -> dict[str, list[Ranked]]:
    edges, facts = devoted_community()
    scopes: dict[str, set[int] | None] = {"channel:2": {2}, "channel:3": {3}, "all": None}
    return compute_all(edges, facts, params, today=TODAY, scopes=scopes)


def test_a_topic_does_not_list_a_member_engaged_there_mostly_by_devoted_accounts() -> None:
    """Without the bar, channel 2 lists the boosted member alone (the best-placed always passes the
    confidence bar), discounted and explained; with it, nobody. Channel 3's voice and the whole
    community's listing are as they were."""
    before, after = channels(replace(LONE_OFF, topic_max_coordinated=None)), channels(LONE_OFF)
    [boosted] = before["channel:2"]
    assert boosted.member_id == BOOSTED
    assert boosted.why["coordinated_reason"] == "one" and boosted.why["coordinated"] >= 0.5
    assert after["channel:2"] == []
    for scope in ("channel:3", "all"):
        assert after[scope] == before[scope], scope
    assert [r.member_id for r in after["channel:3"]] == [VOICE]
    # Under the bar's share the pattern is discounted and explained, as before, not barred.
    gentle = channels(replace(LONE_OFF, topic_max_coordinated=1.0))
    assert [r.member_id for r in gentle["channel:2"]] == [BOOSTED]
    # A member the moderators pinned is never barred.
    edges, facts = devoted_community()
    pinned = replace(facts, pinned=frozenset({BOOSTED}))
    listed = compute_all(edges, pinned, LONE_OFF, today=TODAY, scopes={"channel:2": {2}})["channel:2"]
    assert [r.member_id for r in listed] == [BOOSTED]


def test_the_simulators_ring_member_is_no_topics_best_placed_any_more() -> None:
    """The simulator's 200-member community of seed 19 as a subreddit shows it: its photography
    channel listed one member, a reaction ring's, most of whose engagement there came from the ring.
    With the bar no topic of that community lists a manipulator, and every member listed there who
    is not barred keeps their place among the others."""
    scenario = next(s for s in bq.SCENARIOS if s.members == 200 and s.seed == 19)
    com = bq.simulate(scenario.seed, members=200, days=scenario.days, manipulation=scenario.manipulation)
    seen = bq.ranking_inputs(com, "subreddit")
    edges, facts, posts = seen.edges, seen.facts, seen.posts
    topics = {c.name: c.id for c in com.channels if c.type in (CHANNEL_TEXT, CHANNEL_FORUM)}
    scopes = {name: {cid} for name, cid in topics.items()}
    manipulators = set(bq.attack_of(com))

    def listings(params: TrustParams) -> dict[str, list[Ranked]]:
        return compute_all(edges, facts, params, today=bq.today_of(com), scopes=scopes, limit=20, posts=posts)

    before, after = listings(UNBARRED), listings(TrustParams())
    first = before["photography"][0]
    assert first.member_id in manipulators
    assert first.why["coordinated_reason"] == "group" and first.why["coordinated"] >= 0.5
    for name in scopes:
        assert not {r.member_id for r in after[name]} & manipulators, name
        kept = [r.member_id for r in after[name]]
        assert kept == [r.member_id for r in before[name] if r.member_id in set(kept)], name
        barred = [r for r in before[name] if r.member_id not in set(kept)]
        assert all(
            r.why["coordinated"] >= 0.5 and r.why["coordinated_reason"] in ("woke", "one", "group", "new")
            for r in barred
        ), name


def test_a_channel_where_everyone_engages_everyone_keeps_its_listing() -> None:
    """28 long-present members in one channel, member i answered (a reply and a reaction) by the
    first 28 - i of them: the whole community is one group, and each member's engagement comes
    mostly from it. That is the community's usual share, no pattern beyond it: the channel lists
    what it lists without the bar, and so does the whole community."""
    people = list(range(1, 29))
    rows = [
        (1, peer, author, TODAY, kind, 1)
        for i, author in enumerate(people)
        for peer in people[: len(people) - i]
        if peer != author
        for kind in ("reply", "reaction")
    ]
    facts = MemberFacts(
        member_id=np.array(people, np.int64),
        joined_day=np.full(len(people), TODAY - 700.0),
        account_created_day=np.full(len(people), TODAY - 1800.0),
        is_bot=np.zeros(len(people), np.bool_),
    )
    ones = np.ones(len(people))
    posts = Posts(np.array(people), ones.astype(np.int64), np.full(len(people), TODAY), ones)
    scopes: dict[str, set[int] | None] = {"channel:1": {1}, "all": None}

    def listings(params: TrustParams) -> dict[str, list[Ranked]]:
        edges = Edges.from_rows(rows)
        return compute_all(edges, facts, params, today=TODAY, scopes=scopes, posts=posts)

    before = listings(UNBARRED)
    for name in scopes:  # the channel, and the whole community (`community_max_coordinated`)
        assert len(before[name]) >= 10 and before[name][0].member_id == 1
        first = before[name][:5]
        assert all(r.why["coordinated"] >= 0.5 and r.why["coordinated_reason"] == "group" for r in first)
    assert listings(TrustParams()) == before


def test_a_communitys_first_day_lists_no_pod_or_ring_member() -> None:
    """The simulator's 200-member community of seed 100 with one day of history, as a Discord server:
    without the bar, pod members are 1st, 2nd, 5th, 6th and 10th and a reaction ring's member 7th,
    each with most of what they received from their group; with it none is listed, and every member
    listed is one the listing without the bar held, in the same order. A pod member the moderators
    pinned is listed again."""
    com = bq.simulate(100, members=200, days=1.0, manipulation=0.6)
    seen = bq.ranking_inputs(com)
    edges, facts, posts = seen.edges, seen.facts, seen.posts
    attack = bq.attack_of(com)
    grouped = {m for m, kind in attack.items() if kind in ("engagement pod", "reaction ring")}

    def listing(params: TrustParams, members: MemberFacts = facts) -> list[Ranked]:
        scopes: dict[str, set[int] | None] = {"all": None}
        return compute_all(edges, members, params, today=bq.today_of(com), scopes=scopes, posts=posts)["all"]

    before, after = listing(TrustParams(community_max_coordinated=False)), listing(TrustParams())
    led_by = [r for r in before[:10] if r.member_id in grouped]
    assert len(led_by) >= 5 and before[0].member_id in grouped
    assert all(r.why["coordinated_reason"] == "group" and r.why["coordinated"] >= 0.5 for r in led_by)
    kept = [r.member_id for r in after]
    assert kept and not set(kept) & grouped
    assert kept == [r.member_id for r in before if r.member_id in set(kept)]
    pinned = listing(TrustParams(), replace(facts, pinned=frozenset({before[0].member_id})))
    assert before[0].member_id in {r.member_id for r in pinned}
