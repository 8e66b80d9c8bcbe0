"""Properties of the trust ranking (bot.trust) on small hand-built communities. No mocks.

Every scenario starts from a small "town" of established members who engage each other a little, so
seeds exist; each test then adds the behaviour it is about. Performance is checked for sanity only
(no timing asserts); run this file directly to time a 50,000-member / 2,000,000-pair community:

    .venv/bin/python tests/unit/test_trust.py [--members 50000] [--pairs 2000000] [--repeat 3]
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import partial

import numpy as np
import pytest

from bot.trust import (
    KIND_WEIGHTS,
    KINDS,
    Edges,
    LiveTrust,
    MemberFacts,
    Posts,
    Ranked,
    TrustParams,
    compute_all,
    compute_scope,
    dependents,
    explain,
    explain_parts,
    stored_why,
)
from bot.trust.params import COORDINATION_SHOWN
from bot.trust.solver import present_long_enough

TODAY = 20_000
TOWN = tuple(range(1, 21))  # established members 1..20
Row = tuple[int, int, int, int, str, int]  # (channel, actor, target, day, kind, n)
#: The scenarios add each behaviour on a day or two of the town's eight-week history: that is the
#: arrival pattern `new_engager_burst` and `arrival_weeks` discount (tests/unit/test_trust_arrivals.py),
#: so they are off here, where each test is about another mechanism.
DEFAULT = TrustParams(new_engager_burst=False, arrival_weeks=())
#: The listing's bars off (distinct peers, confidence, draw floor, accounts acting for a member), so
#: that what a test measures shows on whoever has any engagement.
LOOSE = replace(
    DEFAULT,
    min_peers_listed=1,
    listed_min_value=0.0,
    listed_min_peers=0.0,
    listed_min_draw=0.0,
    community_max_coordinated=False,
)


def town_rows(channel: int = 1) -> list[Row]:
    """Each town member reacts to the next three, once a week for eight weeks (a sparse, seeded
    background: members whose standing the community built over time)."""
    rows: list[Row] = []
    for i, m in enumerate(TOWN):
        for step in (1, 2, 3):
            for week in range(8):
                rows.append((channel, m, TOWN[(i + step) % len(TOWN)], TODAY - 10 - 7 * week, "reaction", 1))
    return rows


def facts(
    *,
    new: Iterable[int] = (),
    extra: Iterable[int] = (),
    pinned: Iterable[int] = (),
    excluded: Iterable[int] = (),
    bots: Iterable[int] = (),
) -> MemberFacts:
    """Town members (and `extra`) joined a year ago; `new` members joined and signed up 5 days ago."""
    old = [*TOWN, *extra, *bots, *excluded]
    young = list(new)
    ids = [*old, *young]
    return MemberFacts(
        member_id=np.array(ids, dtype=np.int64),
        joined_day=np.array([TODAY - 365.0] * len(old) + [TODAY - 5.0] * len(young)),
        account_created_day=np.array([TODAY - 900.0] * len(old) + [TODAY - 5.0] * len(young)),
        is_bot=np.array([m in set(bots) for m in ids]),
        excluded=frozenset(excluded),
        pinned=frozenset(pinned),
    )


def rank(
    rows: Sequence[Row], members: MemberFacts, params: TrustParams = LOOSE, **kw: object
) -> list[Ranked]:
    return compute_scope(Edges.from_rows(rows), members, params, today=TODAY, **kw)  # type: ignore[arg-type]


def by_member(result: list[Ranked]) -> dict[int, Ranked]:
    return {r.member_id: r for r in result}


def replies_from(
    peers: Iterable[int], target: int, *, n: int = 1, day: int = TODAY - 1, ch: int = 1
) -> list[Row]:
    return [(ch, p, target, day, "reply", n) for p in peers]


# ------------------------------------------------------------------------------------------ core properties


def test_self_engagement_gives_nothing() -> None:
    base = rank(town_rows(), facts(extra=[100]))
    selfish = town_rows() + [
        (1, 100, 100, TODAY - d, kind, 50) for d in range(30) for kind in ("reaction", "reply")
    ]
    result = rank(selfish, facts(extra=[100]))
    assert 100 not in by_member(result)
    assert [(r.member_id, r.score) for r in result] == [(r.member_id, r.score) for r in base]


def test_closed_ring_of_new_accounts_gets_nothing() -> None:
    ring = list(range(200, 210))
    rows = town_rows()
    for a in ring:
        for b in ring:
            if a != b:
                rows += [(1, a, b, TODAY - 1, "reply", 10), (1, a, b, TODAY - 2, "reaction", 30)]
    members = facts(new=ring)
    result = by_member(rank(rows, members))
    # No seed among them and nobody established engages them: zero trust, so never listed, even
    # with a listing threshold of one peer (the teleport floor of a non-seed is zero).
    assert not set(ring) & set(result)
    town_only = by_member(rank(town_rows(), members))
    assert {m: r.score for m, r in result.items()} == pytest.approx(
        {m: r.score for m, r in town_only.items()}
    )
    # Without coordination evidence, the same ring with one member vouched for by the moderators
    # does receive trust: it is the absence of any anchor that keeps it at zero.
    vouched = by_member(rank(rows, facts(new=ring, pinned=[200]), replace(LOOSE, coordination=False)))
    assert set(ring) - {200} <= set(vouched)
    # With it (the default), the shape counts too: a group that engages only with itself passes no
    # trust between its members and is not listed, pinned member or not.
    assert not set(ring) & set(by_member(rank(rows, facts(new=ring, pinned=[200]))))


def test_saturation_distinct_peers_beat_volume() -> None:
    rows = [*town_rows(), (1, 1, 100, TODAY - 1, "reaction", 50)]  # 50 reactions from one peer
    rows += [(1, p, 101, TODAY - 1, "reaction", 5) for p in TOWN[1:11]]  # 5 each from 10 peers
    result = by_member(rank(rows, facts(extra=[100, 101])))
    assert result[101].score > result[100].score
    assert result[101].rank < result[100].rank


def test_saturation_fiftieth_reaction_adds_almost_nothing() -> None:
    def received(count: int) -> float:
        rows = [*town_rows(), (1, 1, 100, TODAY - 1, "reaction", count)]
        return by_member(rank(rows, facts(extra=[100])))[100].why["received_trust"]

    assert received(50) / received(49) - 1 < 1e-3
    assert received(5) / received(1) > 1.5  # while the first few still count


def test_decay_halves_at_half_life() -> None:
    # Linear regime (huge saturation scale) and no reciprocity, so received trust is proportional
    # to the decayed weight: the same replies half_life_days older are worth exactly half.
    params = replace(DEFAULT, min_peers_listed=1, saturation=1e9, reciprocity_damping=0.0)
    rows = town_rows()
    rows += replies_from(TOWN[:10], 100, n=2, day=TODAY)
    rows += replies_from(TOWN[:10], 101, n=2, day=TODAY - 30)
    result = by_member(rank(rows, facts(extra=[100, 101]), params))
    ratio = result[101].why["received_trust"] / result[100].why["received_trust"]
    assert ratio == pytest.approx(0.5, rel=1e-9)


def test_engagement_outside_the_window_is_ignored() -> None:
    rows = town_rows() + replies_from(TOWN[:10], 100, day=TODAY - 181)
    assert 100 not in by_member(rank(rows, facts(extra=[100])))


def test_scopes_topic_trust_and_absence() -> None:
    rows = town_rows(channel=8) + replies_from(TOWN[:10], 100, ch=7, n=2)
    scopes = {"all": None, "channel:7": {7}, "channel:8": {8}, "category:1": {7, 8}, "ghost": {999}}
    result = compute_all(Edges.from_rows(rows), facts(extra=[100]), LOOSE, today=TODAY, scopes=scopes)
    assert set(result) == set(scopes)
    assert 100 in by_member(result["all"])
    assert 100 in by_member(result["channel:7"])
    assert 100 in by_member(result["category:1"])
    assert 100 not in by_member(result["channel:8"])  # trusted in 7, absent in 8
    assert result["ghost"] == []
    assert by_member(result["all"])[100].top_topics == ((7, 1.0),)
    # compute_all shares preparation across scopes but gives what compute_scope gives per scope.
    for name in ("all", "channel:7", "category:1"):
        assert result[name] == rank(rows, facts(extra=[100]), channels=scopes[name])
    # Seeds are established community-wide: without the town's activity in channel 8 nobody is
    # established, and a channel cannot make its own seeds.
    assert rank([r for r in rows if r[0] == 7], facts(extra=[100])) == []


def test_top_topics_shares() -> None:
    rows = town_rows() + replies_from(TOWN[:6], 100, ch=5) + replies_from(TOWN[6:8], 100, ch=6)
    r = by_member(rank(rows, facts(extra=[100])))[100]
    assert r.top_topics == ((5, 0.75), (6, 0.25))


def test_reciprocal_pair_gains_less_than_one_way() -> None:
    # Town member 1 and member 101 reply to each other; town member 2 replies to 102 one way only,
    # with the same volume. The mutual pair is worth less (trading, rings, reply-backs).
    rows = town_rows()
    rows += [(1, 1, 101, TODAY - 1, "reply", 3), (1, 101, 1, TODAY - 1, "reply", 3)]
    rows += [(1, 2, 102, TODAY - 1, "reply", 3)]
    members = facts(extra=[101, 102])
    damped = by_member(rank(rows, members))
    assert damped[101].why["received_trust"] < damped[102].why["received_trust"]
    undamped = by_member(rank(rows, members, replace(LOOSE, reciprocity_damping=0.0)))
    assert damped[101].why["received_trust"] < undamped[101].why["received_trust"]


def test_excluded_members_and_bots_neither_ranked_nor_conferring() -> None:
    brand, bot = 300, 301
    rows = town_rows()
    rows += [(1, brand, 100, TODAY - 1, "reply", 20), (1, bot, 100, TODAY - 1, "reply", 20)]
    rows += replies_from(TOWN, brand) + replies_from(TOWN, bot)  # popular, but never ranked
    members = facts(extra=[100], excluded=[brand], bots=[bot])
    result = by_member(rank(rows, members))
    assert brand not in result and bot not in result
    assert 100 not in result  # only they engaged 100: no trust conferred
    baseline = by_member(rank(town_rows(), members))
    assert {m: r.score for m, r in result.items()} == pytest.approx({m: r.score for m, r in baseline.items()})


def test_min_peers_listed() -> None:
    rows = town_rows() + replies_from(TOWN[:4], 100) + replies_from(TOWN[4:9], 101)
    members = facts(extra=[100, 101])
    default = by_member(rank(rows, members, DEFAULT))
    assert 101 in default and 100 not in default
    assert all(r.distinct_peers >= 5 for r in default.values())
    assert 100 in by_member(rank(rows, members, replace(DEFAULT, min_peers_listed=4)))


def test_listing_holds_only_members_with_evidence_near_the_established_voices() -> None:
    voices, thin = [100, 101, 102], 103
    rows = town_rows()
    for k, v in enumerate(voices):  # 17 to 19 town members reply to each voice, every week
        rows += [r for week in range(4) for r in replies_from(TOWN[k : k + 17], v, day=TODAY - 1 - 7 * week)]
    # Five engagers, once each on days a week apart: eligible, far below the voices. (Town members
    # four apart, who do not engage each other: `closed_engagers` leaves them alone.)
    rows += [(1, p, thin, TODAY - 1 - 7 * i, "reply", 1) for i, p in enumerate(TOWN[::4])]
    members = facts(extra=[*voices, thin])
    bar_only = replace(DEFAULT, listed_min_depth=0)  # the bar alone: the listing is not filled up
    loose = by_member(rank(rows, members, replace(bar_only, listed_min_value=0.0, listed_min_peers=0.0)))
    assert set(voices) | {thin} <= set(loose)
    listed = rank(rows, members, bar_only)
    assert set(voices) <= set(by_member(listed)) and thin not in by_member(listed)
    assert len(listed) < len(loose)
    median_peers = float(np.median([r.distinct_peers for r in listed if r.member_id in voices]))
    assert all(r.distinct_peers >= 0.3 * median_peers for r in listed)


def test_a_short_listing_is_filled_up_to_ten_below_the_bar_in_the_whole_community_only() -> None:
    """The same community: the bar lists the three voices. The whole community's listing is filled
    up to ten with the best-valued members the bar left out (here the thin member, the only other
    one with five engagers), below every member the bar listed, and what a member is told it takes
    drops to the fewest engagers of a member listed; a member whose engagement comes mostly from
    accounts devoted to them does not fill it; a channel's listing keeps the bar as it is."""
    voices, thin, devoted = [100, 101, 102], 103, 104
    rows = town_rows()
    for k, v in enumerate(voices):
        rows += [r for week in range(4) for r in replies_from(TOWN[k : k + 17], v, day=TODAY - 1 - 7 * week)]
    rows += [(1, p, thin, TODAY - 1 - 7 * i, "reply", 1) for i, p in enumerate(TOWN[::4])]
    # Six members who answer nobody else, every day: accounts devoted to one member.
    fans = list(range(600, 606))
    rows += [(1, f, devoted, TODAY - d, "reply", 1) for f in fans for d in range(1, 28)]
    members = facts(extra=[*voices, thin, devoted, *fans])
    scopes = {"all": None, "channel:1": {1}}
    bar_only = replace(DEFAULT, listed_min_depth=0)
    barred = LiveTrust(Edges.from_rows(rows), members, bar_only, today=TODAY, scopes=scopes).rank(members)
    filled = LiveTrust(Edges.from_rows(rows), members, DEFAULT, today=TODAY, scopes=scopes).rank(members)
    before, after = list(barred["all"].member_id), list(filled["all"].member_id)
    assert thin not in before and devoted not in before and len(before) < 10
    # The town members have three engagers each, under the fixed five: the thin member alone fills.
    assert after == [*before, thin]
    assert barred["all"].min_peers > 5 and filled["all"].min_peers == 5
    assert list(filled["channel:1"].member_id) == list(barred["channel:1"].member_id)
    assert filled["channel:1"].min_peers == barred["channel:1"].min_peers
    assert TrustParams().listed_min_depth == 10


EXPERT = 105  # answers at length: eight posts a week, replied to by ten town members


def expert_town(other: int, other_rows: list[Row], other_posts: int) -> tuple[list[Row], Posts]:
    """The town with three voices (a post a week, each drawing 17 replies), the expert (`EXPERT`)
    and `other`, engaged by `other_rows` and posting `other_posts` times a week, as rows and posts."""
    rows = town_rows() + other_rows
    for k, v in enumerate(TOWN_VOICES):
        rows += [r for week in range(4) for r in replies_from(TOWN[k : k + 17], v, day=TODAY - 1 - 7 * week)]
    rows += [r for week in range(4) for r in replies_from(TOWN[::2], EXPERT, day=TODAY - 2 - 7 * week)]
    said = [(v, TODAY - 1 - 7 * week, 1) for v in TOWN_VOICES for week in range(4)]
    said += [(EXPERT, TODAY - 2 - 7 * week, 8) for week in range(4)]
    said += [(other, TODAY - 3 - 7 * week, other_posts) for week in range(4)]
    said += [(t, TODAY - 10 - 7 * week, 1) for t in TOWN for week in range(8)]
    member, day, n = (np.array(column) for column in zip(*said, strict=True))
    return rows, Posts(member, np.ones(len(said), np.int64), day, n.astype(np.float64))


TOWN_VOICES = [100, 101, 102]


def test_a_short_listing_is_filled_with_members_with_the_bars_breadth_whatever_their_draw() -> None:
    """The same community with posts: the voices post once a week and every post draws 17 replies.
    An expert answers at length, eight posts a week, each drawing well under half of a voice's post
    (under the value bar), but ten established members engage them: as many as the bar asks of
    anyone. They fill the short listing, below the voices. A member posting three times a week whose
    posts draw as little, from five members, does not: the fill asks them for half an average post's
    draw."""
    voices, expert, chatty = TOWN_VOICES, EXPERT, 106
    chatted = [r for week in range(4) for r in replies_from(TOWN[::4], chatty, day=TODAY - 3 - 7 * week)]
    rows, posts = expert_town(chatty, chatted, 3)
    members = facts(extra=[*voices, expert, chatty])
    loose = by_member(rank(rows, members, LOOSE, posts=posts))
    assert 0.3 <= loose[expert].why["appeal"] < 0.5 and 0.3 <= loose[chatty].why["appeal"] < 0.5
    listed = rank(rows, members, DEFAULT, posts=posts)
    assert [r.member_id for r in listed][:3] == sorted(voices, key=lambda v: -by_member(listed)[v].score)
    assert [r.member_id for r in listed][3:] == [expert]
    assert by_member(listed)[expert].score < DEFAULT.listed_min_value
    assert by_member(listed)[expert].distinct_peers == 10 and loose[chatty].distinct_peers == 5


def test_the_bars_breadth_fills_a_short_listing_despite_accounts_that_breadth_leaves_out() -> None:
    """The same community: twenty accounts that joined days ago reply to the expert as well, and to
    no one else: two thirds of its engagers, and of what it receives. The explanation names it, and
    the listing value loses it, but those accounts are no established engagers: the ten town
    members who engage the expert still give the bar's breadth, and the expert fills the short
    listing. A member whom ten town
    members engage, most of it on one day, does not: that pattern is in how the engagers arrived,
    which the count of established engagers does not leave out."""
    voices, expert, one_day = TOWN_VOICES, EXPERT, 107
    newcomers = list(range(300, 320))
    extra = [r for day in range(1, 4) for r in replies_from(newcomers, expert, day=TODAY - day)]
    extra += replies_from(TOWN[1::2], one_day, day=TODAY - 3, n=3)
    extra += [r for week in range(1, 4) for r in replies_from(TOWN[1:6:2], one_day, day=TODAY - 3 - 7 * week)]
    rows, posts = expert_town(one_day, extra, 2)
    members = facts(new=newcomers, extra=[*voices, expert, one_day])
    loose = by_member(rank(rows, members, LOOSE, posts=posts))
    assert loose[expert].why["coordinated_reason"] == "lone"
    assert loose[expert].why["coordinated"] == pytest.approx(2 / 3, abs=1e-3)
    no_lone = by_member(rank(rows, members, replace(LOOSE, lone_engagers=()), posts=posts))
    assert no_lone[expert].why["coordinated_reason"] == "new" and no_lone[expert].why["coordinated"] > 0.6
    assert loose[one_day].why["coordinated_reason"] == "day" and loose[one_day].distinct_peers == 10
    listed = by_member(rank(rows, members, DEFAULT, posts=posts))
    assert set(listed) == {*voices, expert}
    assert listed[expert].why["coordinated_reason"] == "lone"  # shown to the moderator as it is


def test_a_young_community_still_lists_its_best_placed_member() -> None:
    newcomers = list(range(200, 206))
    rows = replies_from(newcomers, 100)
    rows += [(1, a, b, TODAY - 1, "reaction", 1) for a in newcomers for b in newcomers if a != b]
    result = rank(rows, facts(new=newcomers, extra=[100], pinned=newcomers), DEFAULT)
    assert result and result[0].member_id == 100 and result[0].score == 1.0


def test_pinned_members_are_seeds() -> None:
    newcomers = list(range(200, 206))
    rows = town_rows() + replies_from(newcomers, 100)
    rows += [(1, a, b, TODAY - 1, "reaction", 1) for a in newcomers for b in TOWN[:3]]  # active voters
    assert 100 not in by_member(rank(rows, facts(new=newcomers, extra=[100])))
    pinned = by_member(rank(rows, facts(new=newcomers, extra=[100], pinned=newcomers)))
    assert 100 in pinned
    assert pinned[100].trusted_peers == len(newcomers)


def test_pinned_flag_is_explained() -> None:
    rows = town_rows() + replies_from(TOWN[1:7], 1)
    r = by_member(rank(rows, facts(pinned=[1]), DEFAULT))[1]
    assert r.why["pinned"] is True
    assert ("trust.why.pinned", {}) in explain_parts(r)


def test_unknown_tenure_falls_back_to_first_engagement() -> None:
    voters = list(range(400, 405))  # not in MemberFacts at all

    def rows_since(first_day: int) -> list[Row]:
        rows = town_rows() + replies_from(voters, 100)
        rows += [(1, v, t, first_day, "reaction", 1) for v in voters for t in TOWN[:3]]
        return rows

    # Tenure only makes a member eligible as a seed; these voters earned nothing else (nobody engaged
    # them), and five of them present for months who first engage in the same days, all for 100, are
    # what coordination evidence looks for: the rule is seen with both off.
    rank = partial(globals()["rank"], params=replace(LOOSE, earned_seeds=False, coordination=False))
    assert 100 in by_member(rank(rows_since(TODAY - 60), facts(extra=[100])))  # engaging for 60 days
    assert 100 not in by_member(rank(rows_since(TODAY - 5), facts(extra=[100])))  # first seen 5 days ago
    # The store's own first sighting counts as tenure evidence too.
    known = MemberFacts(
        member_id=np.array([*TOWN, 100, *voters]),
        joined_day=np.array([TODAY - 365.0] * 21 + [np.nan] * 5),
        first_seen_day=np.array([np.nan] * 21 + [TODAY - 90.0] * 5),
    )
    assert 100 in by_member(rank(rows_since(TODAY - 5), known))


def test_a_first_sighting_when_the_records_begin_is_no_arrival() -> None:
    """Where a platform shows no join date (Reddit), a member first seen in the first week of the
    records was there before: a subreddit read for three weeks is ranked from its regulars, while a
    member first seen two weeks in was seen arriving and does not vouch yet."""
    voters = list(range(400, 405))
    start = TODAY - 21
    rows = replies_from(TOWN[:6], 100, day=start + 1)
    rows += [(1, v, 100, start + 14, "reply", 1) for v in voters]
    rows += [
        (1, m, TOWN[(i + step) % 6], d, "reply", 1)
        for i, m in enumerate(TOWN[:6])
        for step in (1, 2)
        for d in range(start, TODAY)
    ]
    ids = [*TOWN[:6], 100, *voters]
    nan = np.full(len(ids), np.nan)
    reddit = MemberFacts(member_id=np.array(ids), joined_day=nan, records_from_day=np.full(len(ids), start))
    params = replace(LOOSE, coordination=False)
    ranked = by_member(rank(rows, reddit, params))
    assert 100 in ranked and set(TOWN[:6]) <= set(ranked)
    # Who vouches: a regular first seen as the records begin, not a member first seen on day
    # fourteen, nor one first seen on day two on an account made the day before (where the platform
    # tells an account's age, it still has to be `seed_min_tenure_days` old).
    regular, late, fresh = 1, 400, 401
    seen = np.array([start, start + 14, start + 2], np.float64)
    accounts = MemberFacts(
        member_id=np.array([regular, late, fresh]),
        account_created_day=np.array([start - 900.0, start - 900.0, start + 1.0]),
        records_from_day=np.full(3, start),
    )
    vouching = present_long_enough(np.array([regular, late, fresh]), seen, accounts, params, TODAY)
    assert vouching.tolist() == [True, False, False]
    # Without the rule nobody vouches before the records are `seed_min_tenure_days` old.
    assert rank(rows, reddit, replace(params, censored_arrival_days=0.0)) == []
    # A join date, where the platform shows one, is the arrival whatever the records say.
    joined = replace(reddit, joined_day=np.full(len(ids), TODAY - 3.0))
    assert rank(rows, joined, params) == []


def test_an_account_created_after_its_member_joined_is_not_evidence() -> None:
    """A creation date after the member was already present cannot be real (ids minted by a test
    platform): it is ignored, and tenure decides."""
    voters = list(range(400, 405))
    rows = town_rows() + replies_from(voters, 100)
    rows += [(1, v, t, TODAY - 40, "reaction", 1) for v in voters for t in TOWN[:3]]
    ids = [*TOWN, 100, *voters]
    minted = MemberFacts(
        member_id=np.array(ids),
        joined_day=np.full(len(ids), TODAY - 365.0),
        account_created_day=np.full(len(ids), TODAY - 1.0),
    )
    assert 100 in by_member(rank(rows, minted, replace(LOOSE, earned_seeds=False)))  # see above


def test_single_high_trust_peer_does_not_top_the_list() -> None:
    moderator, pumped, expert = 50, 100, 101
    newcomers = list(range(200, 204))
    rows = town_rows() + replies_from(TOWN[:15], expert)
    rows += [(1, moderator, pumped, TODAY - d, "reply", 5) for d in range(1, 30)]  # all its trust
    rows += [(1, c, pumped, TODAY - 1, "reaction", 1) for c in newcomers]  # reach 5 distinct peers
    members = facts(extra=[moderator, pumped, expert], new=newcomers, pinned=[moderator])
    # Below the confidence bar too (the default): five engagers against the expert's fifteen.
    assert pumped not in by_member(rank(rows, members, DEFAULT))
    # (Every engager of the pumped member engages no one else: `lone_engagers` would take all of its
    # value, and diversity is what is looked at here.)
    open_bar = replace(
        DEFAULT, listed_min_value=0.0, listed_min_peers=0.0, lone_engagers=(), community_max_coordinated=False
    )
    result = rank(rows, members, open_bar)
    got = by_member(result)
    assert result[0].member_id == expert
    assert got[pumped].why["diversity"] < 0.5 < got[expert].why["diversity"]


def test_alt_ring_owner_does_not_rise() -> None:
    owner, rival = 100, 101
    alts = list(range(500, 540))
    rows = town_rows() + replies_from(TOWN[:6], owner) + replies_from(TOWN[6:14], rival)
    rows += [(1, owner, t, TODAY - 2, "reaction", 1) for t in TOWN[:5]]
    members = facts(extra=[owner, rival], new=alts)
    without = by_member(rank(rows, members))
    for i, a in enumerate(alts):  # 40 fresh accounts adore the owner, who answers them
        rows += [(1, a, owner, TODAY - 1, "reply", 5), (1, owner, a, TODAY - 1, "reply", 2)]
        rows += [(1, a, alts[(i + k) % len(alts)], TODAY - 1, "reaction", 3) for k in (1, 2, 3)]
    with_alts = by_member(rank(rows, members))
    gain = with_alts[owner].why["received_trust"] / without[owner].why["received_trust"]
    assert gain < 1.05  # 40 alts buy (almost) nothing
    assert with_alts[owner].distinct_peers == without[owner].distinct_peers + len(alts)
    assert with_alts[owner].trusted_peers == without[owner].trusted_peers
    assert with_alts[owner].rank > with_alts[rival].rank
    assert not set(alts) & {r.member_id for r in rank(rows, members, DEFAULT)}


def test_reaction_ring_of_established_members_stays_below_expert() -> None:
    ring = list(range(600, 610))
    rows = town_rows() + replies_from(TOWN[:12], 100)
    for a in ring:
        rows.append((1, a, TOWN[a % len(TOWN)], TODAY - 3, "reaction", 1))
        for b in ring:
            if a != b:
                rows += [(1, a, b, TODAY - d, "reaction", 10) for d in range(1, 8)]
                rows.append((1, a, b, TODAY - 1, "reply", 5))
    result = rank(rows, facts(extra=[100, *ring]), DEFAULT)
    assert result[0].member_id == 100
    assert all(r.score < 0.5 for r in result if r.member_id in ring)


def test_spammer_with_few_engagers_stays_low() -> None:
    spammer = 100
    rows = town_rows() + replies_from(TOWN[:10], 101)
    rows += [(1, spammer, t, TODAY - d, "reply", 20) for t in TOWN for d in range(1, 30)]
    rows += [(1, p, spammer, TODAY - 1, "reaction", 1) for p in TOWN[:5]]
    result = rank(rows, facts(extra=[spammer, 101]), DEFAULT)
    got = by_member(result)
    assert result[0].member_id == 101
    assert spammer not in got or got[spammer].score < 0.5


# ------------------------------------------------------------------------------- earned seeds, coordination

SOUGHT_OUT = 101  # an expert the town has engaged with for weeks


def sought_out_rows() -> list[Row]:
    rows = town_rows()
    rows += [(1, p, SOUGHT_OUT, TODAY - 10 - 7 * w, "reply", 1) for p in TOWN[:10] for w in range(6)]
    rows += [(1, SOUGHT_OUT, p, TODAY - 12 - 7 * w, "reaction", 1) for p in TOWN[10:14] for w in range(6)]
    return rows


def test_long_joined_accounts_that_wake_up_together_do_not_carry_a_member() -> None:
    """Forty accounts that joined a year ago on old accounts, silent since, wake up in the last three
    days to reply to one member (and react to two others each, enough to qualify as seeds by tenure)."""
    boosted, boosters = 100, list(range(700, 740))
    rows = sought_out_rows()
    rows += [(1, boosted, p, TODAY - 11 - 7 * w, "reaction", 1) for p in TOWN[14:18] for w in range(6)]
    for b in boosters:
        rows += [(1, b, boosted, TODAY - d, "reply", 3) for d in (1, 2, 3)]
        rows += [(1, b, TOWN[b % 20], TODAY - 2, "reaction", 1)]
        rows += [(1, b, TOWN[(b + 7) % 20], TODAY - 1, "reaction", 1)]
    members = facts(extra=[boosted, SOUGHT_OUT, *boosters])
    # Seeds by tenure alone: the boosters are forty seeds, and their beneficiary is at the top.
    tenure_only = rank(rows, members, replace(LOOSE, earned_seeds=False, coordination=False))
    assert [r.member_id for r in tenure_only[:2]] == [boosted, SOUGHT_OUT]
    # Earned seeds: silent until three days ago, nobody engaged them, so they seed nothing; and
    # accounts quiet for months that woke up together around one member are taken off its value.
    earned = by_member(rank(rows, members))
    assert boosted not in earned and earned[SOUGHT_OUT].rank == 1
    assert not set(boosters) & set(earned)
    shown = by_member(rank(rows, members, replace(LOOSE, earned_seeds=False)))
    assert boosted not in shown  # the coordination evidence alone is enough here


def subreddit_boosting(
    joined: float | None, woke: int = 45
) -> tuple[list[Row], MemberFacts, int, list[int], list[int]]:
    """Sixteen weeks of a subreddit: the town comments on each other and on an expert every week;
    a member three of them answer every week; sixteen aged accounts first seen within three days,
    six weeks ago, that since answer that member three times a week and two town members once
    (dormant boosters, whose silence before no record shows); and eight members first seen one a
    week who answer the expert every week since. `joined`: every member's join date (None: none
    shown, as on Reddit); `woke`: how many days ago the boosters were first seen."""
    start, boosted, boosters, newcomers = TODAY - 112, 100, list(range(700, 716)), list(range(600, 608))
    rows = [
        (1, m, TOWN[(i + step) % len(TOWN)], TODAY - 3 - 7 * w, "comment", 1)
        for i, m in enumerate(TOWN)
        for step in (1, 2, 3)
        for w in range(16)
    ]
    rows += [(1, p, SOUGHT_OUT, TODAY - 4 - 7 * w, "comment", 1) for p in TOWN[:10] for w in range(16)]
    rows += [(1, p, boosted, TODAY - 5 - 7 * w, "comment", 1) for p in TOWN[:3] for w in range(16)]
    rows += [(1, boosted, p, TODAY - 6 - 7 * w, "comment", 1) for p in TOWN[3:6] for w in range(16)]
    for k, b in enumerate(boosters):
        seen = TODAY - woke + k % 3
        rows += [(1, b, boosted, day, "comment", 1) for day in range(seen, TODAY, 7)]
        rows += [
            (1, b, TOWN[(k + j) % 20], day, "comment", 1) for day in range(seen, TODAY, 7) for j in (0, 7, 13)
        ]
        rows += [(1, TOWN[(k + 3) % 20], b, day + 1, "comment", 1) for day in range(seen, TODAY - 1, 7)]
    for k, n in enumerate(newcomers):
        rows += [(1, n, SOUGHT_OUT, day, "comment", 1) for day in range(TODAY - 100 + 12 * k, TODAY, 7)]
    ids = np.array([*TOWN, SOUGHT_OUT, boosted, *boosters, *newcomers], np.int64)
    members = MemberFacts(
        member_id=ids,
        joined_day=np.full(len(ids), np.nan if joined is None else joined),
        account_created_day=np.full(len(ids), TODAY - 900.0),
        records_from_day=np.full(len(ids), float(start)),
    )
    if joined is not None:  # the boosters and newcomers joined when first seen
        first = {b: TODAY - woke + k % 3.0 for k, b in enumerate(boosters)}
        first |= {n: TODAY - 100.0 + 12 * k for k, n in enumerate(newcomers)}
        members = replace(members, joined_day=np.array([first.get(int(m), joined) for m in ids]))
    return rows, members, boosted, boosters, newcomers


def test_subreddit_accounts_first_seen_together_long_after_the_records_began_count_as_woken() -> None:
    """Reddit shows no join date: sixteen aged accounts first seen within three days, six weeks into
    a subreddit's records, look like newcomers, and a newcomer is never quiet, so the boosting
    member they answer was listed first, five times the expert the town engages every week.
    Counted as silent since the records began, they woke up together around that member, which is
    taken off its value and said in the explanation. The expert, whom newcomers found one a week,
    loses nothing to them; and where join dates are shown, the rule changes nothing."""
    rows, members, boosted, _, _ = subreddit_boosting(None)
    before = by_member(rank(rows, members, replace(LOOSE, unseen_silence_days=0.0)))
    assert before[boosted].rank == 1 and before[boosted].why["coordinated_reason"] != "woke"
    got = by_member(rank(rows, members))
    assert got[SOUGHT_OUT].rank == 1
    ratio = got[boosted].score / got[SOUGHT_OUT].score
    assert ratio < 0.25 * before[boosted].score / before[SOUGHT_OUT].score
    assert got[SOUGHT_OUT].why["coordinated"] == before[SOUGHT_OUT].why["coordinated"]
    assert got[boosted].why["coordinated_reason"] == "woke"
    assert got[boosted].why["coordinated"] > 0.5
    assert "became active together" in explain(got[boosted])
    assert TrustParams().unseen_silence_days == 30.0
    joined_rows, joined, *_ = subreddit_boosting(TODAY - 365.0)
    assert rank(joined_rows, joined) == rank(joined_rows, joined, replace(LOOSE, unseen_silence_days=0.0))


@pytest.mark.parametrize("woke", [56, 60])
def test_aged_accounts_silent_for_two_fifths_of_the_history_that_wake_up_together_count_as_woken(
    woke: int,
) -> None:
    """Sixteen accounts that joined a year ago, silent for the first seven or eight of the history's
    sixteen weeks, then answer one member every week from the same three days on, and two town
    members each (bought aged accounts that copy a member's ways for the last two months). Silent
    for under half of the history, they were not counted as woken, and the town members they
    answer rose above the expert the town engages every week; now the expert is first again, and
    the member they serve is not listed either way. (Shown with distinct engagers counted to the
    power a half and coordinated engagement taken off the value by its share as well, as then:
    counted to three quarters and left out once, as now, the town's breadth keeps the expert first
    even without the woken accounts found.)"""
    rows, members, boosted, _, _ = subreddit_boosting(TODAY - 365.0, woke)
    members = replace(members, joined_day=np.full(len(members.member_id), TODAY - 365.0))
    half = replace(TrustParams(), peers_exponent=0.5, coordinated_once=False)
    before = by_member(rank(rows, members, replace(half, woke_quiet_share=0.5)))
    got = by_member(rank(rows, members, half))
    assert before[SOUGHT_OUT].rank > 2 and got[SOUGHT_OUT].rank == 1
    assert boosted not in before and boosted not in got
    now = by_member(rank(rows, members, TrustParams()))
    assert now[SOUGHT_OUT].rank == 1 and boosted not in now


def test_seed_weight_is_earned_over_time_not_by_tenure() -> None:
    """The same member, established by tenure, seeds trust once the community engaged with them
    over several weeks; a burst in the last days earns far less."""
    newcomer = 300  # engaged only by 200, whose seed weight is what we look at
    weekly = [(1, p, 200, TODAY - 10 - 7 * w, "reply", 1) for p in TOWN[:6] for w in range(6)]
    weekly += [(1, 200, p, TODAY - 9 - 7 * w, "reaction", 1) for p in TOWN[6:9] for w in range(6)]
    burst = [(1, p, 200, TODAY - 1, "reply", 6) for p in TOWN[:6]]
    burst += [(1, 200, p, TODAY - 1, "reaction", 6) for p in TOWN[6:9]]
    members = facts(extra=[200, newcomer, *range(400, 404)])
    voters = [(1, v, newcomer, TODAY - 1, "reply", 1) for v in range(400, 404)]

    def passed_on(history: list[Row]) -> float:
        rows = town_rows() + history + voters + [(1, 200, newcomer, TODAY - 1, "reply", 1)]
        # (The four voters are engaged by nobody and engage no one else: without the evidence about
        # such accounts, which would take the newcomer off the listing, what passes through 200 is
        # what is measured.)
        alone = replace(LOOSE, unengaged_accounts=False, lone_engagers=())
        listed = by_member(rank(rows, members, alone)).get(newcomer)
        return 0.0 if listed is None else listed.why["received_trust"]

    assert passed_on(weekly) > 0 and passed_on(weekly) > 3 * passed_on(burst)


def test_an_engagement_pod_is_discounted() -> None:
    """Eight established members who reply to and react to every post of each other every week (and
    react to a town member each): without coordination evidence the pod's best-engaged member is
    second; with it, no pod member is listed, and without the listing's bars the six replies it had
    from the town are all it keeps (its group discount applies as far as what it received is the
    pod's exchange): last, at a hundredth or two of the top."""
    pod = list(range(800, 808))
    rows = sought_out_rows()
    for a in pod:
        rows += [(1, a, TOWN[(a * 3) % 20], TODAY - 10 - 7 * w, "reaction", 1) for w in range(6)]
        for b in pod:
            if a != b:
                rows += [(1, a, b, TODAY - 3 - 7 * w, "reply", 2) for w in range(6)]
                rows += [(1, a, b, TODAY - 4 - 7 * w, "reaction", 3) for w in range(6)]
    rows += [(1, p, pod[0], TODAY - 5, "reply", 1) for p in TOWN[10:16]]
    members = facts(extra=[SOUGHT_OUT, *pod])
    without = rank(rows, members, replace(LOOSE, coordination=False))
    assert [r.member_id for r in without[:2]] == [SOUGHT_OUT, pod[0]]
    assert not set(pod) & set(by_member(rank(rows, members, DEFAULT)))
    # The pod's votes come from accounts whose standing the pod itself gave them: with that evidence
    # the pod is gone even from an unbarred listing; without it, the group discount alone leaves it
    # last, at a hundredth or two of the top.
    assert not set(pod) & set(by_member(rank(rows, members)))
    group_only = replace(LOOSE, unengaged_accounts=False)
    loose = rank(rows, members, group_only)
    assert [r.member_id for r in loose if r.member_id in pod] == [pod[0]] == [loose[-1].member_id]
    assert loose[-1].score < 0.02
    whole = rank(rows, members, replace(group_only, group_discount_by_exchange=False))
    assert not set(pod) & set(by_member(whole))


def test_a_pods_quiet_members_are_part_of_it() -> None:
    """A pod of six that replies to every post of each other, and three quiet members who post
    nothing (so nobody answers them and they exchange nothing) but give nearly all their engagement
    to the pod, with a reaction to the town now and then. The exchange test finds the six; giving
    mostly to them puts the three in the group too, so their engagement is coordinated as well."""
    pod, quiet = list(range(800, 806)), [810, 811, 812]
    rows = sought_out_rows()
    for a in pod:
        rows += [(1, a, TOWN[(a * 3) % 20], TODAY - 10 - 7 * w, "reaction", 1) for w in range(6)]
        rows += [(1, a, b, TODAY - 3 - 7 * w, "reply", 2) for b in pod if b != a for w in range(6)]
    for q in quiet:
        rows += [(1, q, b, TODAY - 4 - 7 * w, "reaction", 3) for b in pod for w in range(6)]
        town = [TOWN[(q + k) % 20] for k in range(3)]
        rows += [(1, q, t, TODAY - 6 - 7 * w, "reaction", 1) for t in town for w in range(6)]
    rows += [(1, p, pod[0], TODAY - 5, "reply", 1) for p in TOWN[10:16]]
    members = facts(extra=[SOUGHT_OUT, *pod, *quiet])
    # (The three give to members who engage each other: the circle test finds them as well.)
    group_only = replace(LOOSE, unengaged_accounts=False, circle_test=False)
    alone = by_member(rank(rows, members, replace(group_only, group_by_engagement=False)))[pod[0]]
    both = by_member(rank(rows, members, group_only))[pod[0]]
    assert both.why["coordinated_reason"] == "group"
    assert both.why["coordinated"] > alone.why["coordinated"] + 0.15
    assert both.score < alone.score


def test_a_pod_that_answers_unevenly_is_found_by_its_circle() -> None:
    """Eight members who engage every post of each other, but unevenly: each replies to the members
    above it and only reacts to those below, so no pair exchanges a reply's worth each way and the
    exchange test sees no partnership. Their engagement still goes round the same closed circle
    (`circle_test`): the pod is a group, and its best-engaged member loses its place."""
    pod = list(range(800, 808))
    rows = sought_out_rows()
    for a in pod:
        rows += [(1, a, TOWN[(a * 3) % 20], TODAY - 10 - 7 * w, "reaction", 1) for w in range(6)]
        for b in pod:
            kind, n = ("reply", 2) if b > a else ("reaction", 1)
            rows += [(1, a, b, TODAY - 3 - 7 * w, kind, n) for w in range(6) if a != b]
    rows += [(1, p, pod[-1], TODAY - 5, "reply", 1) for p in TOWN[10:16]]
    members = facts(extra=[SOUGHT_OUT, *pod])
    group_only = replace(LOOSE, unengaged_accounts=False)
    exchange = by_member(rank(rows, members, replace(group_only, circle_test=False)))
    circle = by_member(rank(rows, members, group_only))
    assert circle[pod[-1]].why["coordinated_reason"] == "group"
    assert circle[pod[-1]].why["coordinated"] > exchange[pod[-1]].why["coordinated"] + 0.5
    assert circle[pod[-1]].score < 0.5 * exchange[pod[-1]].score
    # An expert's askers, who engage the expert and not each other, go round no circle.
    assert circle[SOUGHT_OUT].rank == 1 and circle[SOUGHT_OUT].why["coordinated"] < COORDINATION_SHOWN


def test_engagement_from_accounts_devoted_to_one_member_is_discounted_and_explained() -> None:
    member, devoted = 100, list(range(950, 956))
    rows = town_rows() + [(1, p, member, TODAY - 10 - 7 * w, "reply", 1) for p in TOWN[:8] for w in range(4)]
    rows += [(1, f, member, TODAY - 2 - 7 * w, "reaction", 10) for f in devoted for w in range(8)]
    # The same engagement from the town, without devoted accounts.
    rows += [(1, p, 101, TODAY - 10 - 7 * w, "reply", 1) for p in TOWN[:8] for w in range(4)]
    members = facts(extra=[member, 101, *devoted])
    # Nobody engages the six accounts either: with that evidence the member is not listed at all.
    assert member not in by_member(rank(rows, members))
    devotion = replace(LOOSE, unengaged_accounts=False)
    got = by_member(rank(rows, members, devotion))[member]
    assert got.why["coordinated_reason"] == "one" and got.why["coordinated"] > 0.5
    key, params = explain_parts(got)[2]
    assert key == "trust.why.coordinated_one" and params == {"pct": round(got.why["coordinated"] * 100)}
    assert "engage almost only with this member" in explain(got)
    plain = by_member(rank(rows, members, replace(devotion, coordination=False)))
    assert plain[member].score >= plain[101].score
    assert got.score < by_member(rank(rows, members, devotion))[101].score


def pod_that_engages_the_community_too() -> tuple[list[Row], list[int]]:
    """Six established members who reply to each other every week and give the rest of the community
    more engagement still: a reply a week to each of eight town members, who react back now and
    then. Less than half of each member's engagement is with the pod."""
    pod = list(range(800, 806))
    rows = sought_out_rows()
    for k, a in enumerate(pod):
        town = [TOWN[(3 * k + j) % 20] for j in range(8)]
        for w in range(6):
            rows += [(1, a, b, TODAY - 3 - 7 * w, "reply", 1) for b in pod if b != a]
            rows += [(1, a, t, TODAY - 4 - 7 * w, "reply", 1) for t in town]
            rows += [(1, t, a, TODAY - 5 - 7 * w, "reaction", 1) for t in town if w % 2 == 0]
    rows += [(1, p, pod[0], TODAY - 5, "reply", 1) for p in TOWN[10:16]]
    return rows, pod


def test_a_pod_that_engages_the_community_more_than_itself_is_still_a_pod() -> None:
    rows, pod = pod_that_engages_the_community_too()
    members = facts(extra=[SOUGHT_OUT, *pod])
    without = by_member(rank(rows, members, replace(LOOSE, coordination=False)))
    assert without[pod[0]].rank <= 2
    # The town's occasional reaction back is no partnership and does not hide the pod among
    # passing acquaintances: the pod's members are examined although most of their engagement
    # goes elsewhere, and their votes and their own value are discounted as a group's (what the
    # pod gives its members is left out once, `coordinated_once`: 0.77 of the top's place; taken
    # off by its share as well, 0.64).
    shown = by_member(rank(rows, members))
    assert shown[SOUGHT_OUT].rank == 1
    assert shown[pod[0]].score < 0.8 * without[pod[0]].score
    assert all(shown[p].why["coordinated_reason"] == "group" for p in pod if p in shown)


def test_devoted_engagement_is_taken_off_twice() -> None:
    """Engagement from accounts devoted to one member counts against that member: taken off once
    with the other coordinated engagement and once more from what remains (`devoted_weight`)."""
    member, devoted = 100, list(range(950, 953))
    rows = town_rows() + [(1, p, member, TODAY - 10 - 7 * w, "reply", 1) for p in TOWN[:8] for w in range(4)]
    rows += [(1, p, 101, TODAY - 10 - 7 * w, "reply", 1) for p in TOWN[:8] for w in range(4)]
    rows += [(1, f, member, TODAY - 2 - 7 * w, "reaction", 3) for f in devoted for w in range(8)]
    members = facts(extra=[member, 101, *devoted])
    devotion = replace(LOOSE, unengaged_accounts=False)  # the devoted accounts' standing aside
    once = by_member(rank(rows, members, replace(devotion, devoted_weight=1.0)))
    twice = by_member(rank(rows, members, devotion))
    assert 0.1 < twice[member].why["coordinated"] < 0.9
    assert twice[member].why["coordinated_reason"] == "one"
    # Scores are relative to the top member; 101 is untouched, so against it the ratio is the
    # second discount. (Counted once, the devoted accounts' engagement is left out of breadth only,
    # and the member they serve ranks first.)
    assert twice[101].rank == 1 and once[member].rank == 1
    share = twice[member].why["coordinated"]
    against = {k: got[member].score / got[101].score for k, got in (("once", once), ("twice", twice))}
    assert against["twice"] == pytest.approx(against["once"] * (1.0 - share), rel=0.05)
    with pytest.raises(ValueError, match="devoted_weight"):
        replace(DEFAULT, devoted_weight=0.5)


def test_a_member_fed_mostly_by_new_accounts_is_discounted_and_explained() -> None:
    """Thirty accounts made last week pour engagement into one member (and a little into each
    other, so none of them engages only that member). Their engagement counts toward nobody's
    breadth; being most of what the member receives, far beyond the share usual here, it is
    evidence against the member, and the explanation says where it came from."""
    owner, rival, alts = 100, 101, list(range(500, 530))
    rows = town_rows() + [(1, p, owner, TODAY - 10 - 7 * w, "reply", 1) for p in TOWN[:8] for w in range(4)]
    rows += [(1, p, rival, TODAY - 10 - 7 * w, "reply", 1) for p in TOWN[:8] for w in range(4)]
    for i, a in enumerate(alts):
        rows += [(1, a, owner, TODAY - 1, "reaction", 20), (1, a, owner, TODAY - 2, "reply", 4)]
        rows += [(1, a, alts[(i + k) % len(alts)], TODAY - 1, "reply", 3) for k in (1, 2)]
    others = [102, 103, 104]  # members the town engages as well: the usual share of new engagement is 0
    rows += [(1, p, o, TODAY - 10 - 7 * w, "reply", 1) for o in others for p in TOWN[8:14] for w in range(2)]
    members = facts(extra=[owner, rival, *others], new=alts)
    params = replace(LOOSE, min_peers_listed=5)  # the usual share is the median listed candidate's
    plain = by_member(rank(rows, members, replace(params, new_accounts=False)))
    got = by_member(rank(rows, members, params))
    assert plain[owner].score > 0.5 * plain[rival].score  # other evidence alone leaves a near rival
    assert got[rival].rank == 1
    assert got[owner].score < 0.2 * got[rival].score
    assert got[owner].why["coordinated_reason"] == "new" and got[owner].why["coordinated"] > 0.9
    key, shown = explain_parts(got[owner])[2]
    assert key == "trust.why.coordinated_new"
    assert shown == {"pct": round(got[owner].why["coordinated"] * 100)}
    assert "accounts that are new here" in explain(got[owner])


def steady_replies(members: Sequence[int], targets: Sequence[int], weeks: int = 6) -> list[Row]:
    """Each of `members` replies to each of `targets` once a week: engagement spread over time."""
    return [(1, p, t, TODAY - 2 - 7 * w, "reply", 1) for t in targets for p in members for w in range(weeks)]


def test_engagement_that_came_on_a_single_day_is_discounted_and_explained() -> None:
    """A member whose one post fifteen members answered on one day (a "reply to enter" giveaway, a
    post that went viral) beside members engaged week after week: most of what that member
    received came on one day, far beyond the share usual here, so it is not a standing the
    community built, and the member would otherwise top the listing. One whose one-day crowd is
    about half of what they received is discounted in part, and the explanation says so."""
    regulars, bait, half = [101, 102, 103, 104], 100, 105
    rows = town_rows() + steady_replies(TOWN[:8], regulars)
    rows += replies_from(TOWN[4:19], bait, day=TODAY - 3)
    rows += [(1, p, bait, TODAY - 2 - 7 * w, "reply", 1) for p in TOWN[:2] for w in (1, 3)]
    rows += replies_from(TOWN[9:19], half, day=TODAY - 3)
    rows += [(1, p, half, TODAY - 2 - 7 * w, "reply", 1) for p in TOWN[:3] for w in (1, 2, 3)]
    members = facts(extra=[bait, half, *regulars])
    params = replace(LOOSE, min_peers_listed=3)
    plain = by_member(rank(rows, members, replace(params, single_day=False)))
    got = by_member(rank(rows, members, params))
    assert plain[bait].rank == 1
    assert bait not in got
    # (Scores are relative to the top, which the bait was: compared with a regular's.)
    assert got[half].score / got[101].score < plain[half].score / plain[101].score
    assert got[half].why["coordinated_reason"] == "day" and 0.4 < got[half].why["coordinated"] < 0.8
    key, shown = explain_parts(got[half])[2]
    assert key == "trust.why.coordinated_day"
    assert shown == {"pct": round(got[half].why["coordinated"] * 100)}
    assert "came on a single day" in explain(got[half])
    # The regulars, engaged week after week, lose nothing.
    for r in regulars:
        assert got[r].why["coordinated_reason"] != "day"


def test_reactions_and_young_communities_make_no_single_day() -> None:
    """Reactions are left out of the single-day test (their day is when the bot saw them: after a
    downtime, or in a history replayed at once, one day for all of them), and where the usual
    member received most of their engagement on one day (a community a few days old) nothing is
    taken."""
    regulars, member = [101, 102, 103, 104], 100
    rows = town_rows() + steady_replies(TOWN[:8], [*regulars, member])
    rows += [(1, p, member, TODAY, "reaction", 5) for p in TOWN[4:19]]  # all seen today
    members = facts(extra=[member, *regulars])
    params = replace(LOOSE, min_peers_listed=3)
    off = replace(params, single_day=False)
    assert by_member(rank(rows, members, params)) == by_member(rank(rows, members, off))
    young = town_rows() + [(1, p, t, TODAY - 1, "reply", 1) for t in regulars for p in TOWN[:8]]
    young += replies_from(TOWN[4:19], member, day=TODAY)
    got = rank(young, facts(extra=[member, *regulars]), params)
    assert got == rank(young, facts(extra=[member, *regulars]), replace(params, single_day=False))
    assert member in by_member(got)


def test_a_young_community_of_new_accounts_is_not_suspect() -> None:
    """Where new accounts give the usual member most of their engagement, a crowd of them is no
    evidence against anyone."""
    people = list(range(301, 313))
    pairs = [(a, b) for a in people for b in people if (a + b) % 3 == 0 and a != b]
    rows = [(1, a, b, TODAY - d, "reply", 1) for a, b in pairs for d in (1, 2)]
    rows += [(1, a, people[0], TODAY - 1, "reply", 1) for a in people[1:]]
    pinned = people[:4]  # moderators bootstrap a young community by pinning a few members
    members = facts(new=people, pinned=pinned)
    with_evidence = rank(rows, members)
    without = rank(rows, members, replace(LOOSE, new_accounts=False))
    assert [(r.member_id, round(r.score, 9)) for r in with_evidence] == [
        (r.member_id, round(r.score, 9)) for r in without
    ]
    assert all(r.why["coordinated_reason"] != "new" for r in with_evidence)


def sockpuppet_rows(count: int) -> list[Row]:
    """A busy town (everyone also answers the next five every week), two members it engages alike
    (100 and 101), and `count` accounts present for a year, which nobody engages, that react to
    100's posts every week and spread more still over the town: none engages mostly 100, none is
    new, none woke up recently."""
    rows = town_rows()
    rows += [
        (1, m, TOWN[(i + j) % 20], TODAY - 4 - 7 * w, "reply", 1)
        for i, m in enumerate(TOWN)
        for j in range(1, 6)
        for w in range(8)
    ]
    rows += [
        (1, p, m, TODAY - 10 - 7 * w, "reply", 1) for m in (100, 101) for p in TOWN[:8] for w in range(4)
    ]
    for k, sock in enumerate(range(600, 600 + count)):
        rows += [(1, sock, 100, TODAY - 2 - 7 * w, "reaction", 3) for w in range(8)]
        spread = [TOWN[(k + j) % len(TOWN)] for j in range(4)]
        rows += [(1, sock, t, TODAY - 3 - 7 * w, "reaction", 1) for t in spread for w in range(8)]
    return rows


def test_aged_accounts_nobody_engages_are_evidence_against_the_member_they_serve() -> None:
    """Such accounts count for little in breadth already, but they are most of what their owner
    receives, where the usual member receives a little from accounts without standing: that is
    taken off the owner's value, and the explanation says where the engagement came from."""
    params = replace(LOOSE, min_peers_listed=5)
    crowd, few = sockpuppet_rows(12), sockpuppet_rows(4)
    members = facts(extra=[100, 101, *range(600, 612)])
    plain = by_member(rank(crowd, members, replace(params, unengaged_accounts=False, peers_exponent=0.0)))
    assert plain[100].score == pytest.approx(plain[101].score, rel=0.05)  # nothing else caught them
    assert plain[100].why["coordinated"] < COORDINATION_SHOWN
    # Counted as distinct peers (`peers_exponent`), present for a year and uncoordinated, they would
    # even lift their owner: the evidence is what takes them off.
    counted = by_member(rank(crowd, members, replace(params, unengaged_accounts=False)))
    assert counted[100].score >= counted[101].score
    assert by_member(rank(crowd, members, params))[100].score < 0.25  # of 101's, the top
    assert 100 not in by_member(rank(sockpuppet_rows(20), facts(extra=[100, 101, *range(600, 620)]), params))
    got = by_member(rank(few, members, params))
    assert got[101].rank == 1 and got[100].score < 0.8 * got[101].score
    assert got[100].why["coordinated_reason"] == "unengaged" and got[100].why["coordinated"] > 0.4
    key, values = explain_parts(got[100])[2]
    assert key == "trust.why.coordinated_unengaged"
    assert values == {"pct": round(got[100].why["coordinated"] * 100)}
    assert "hardly anyone else here engages with" in explain(got[100])


def test_members_nobody_engages_at_the_usual_rate_are_no_evidence() -> None:
    """Thirty year-old lurkers react to everyone in the town every week and nobody engages them: the
    usual member receives much of their engagement from such accounts, so a member who receives as
    much of it as anyone is not discounted."""
    lurkers, member = list(range(700, 730)), 100
    rows = town_rows() + [(1, p, member, TODAY - 10 - 7 * w, "reply", 1) for p in TOWN[:8] for w in range(4)]
    rows += [
        (1, q, t, TODAY - 2 - 7 * w, "reaction", 1)
        for q in lurkers
        for t in (*TOWN, member)
        for w in range(4)
    ]
    members = facts(extra=[member, *lurkers])
    with_evidence = rank(rows, members, DEFAULT)
    without = rank(rows, members, replace(DEFAULT, unengaged_accounts=False))
    assert member in by_member(with_evidence)
    assert [(r.member_id, round(r.score, 9)) for r in with_evidence] == [
        (r.member_id, round(r.score, 9)) for r in without
    ]


def test_coordination_is_shown_from_a_quarter_of_the_engagement() -> None:
    def parts(share: float, reason: str) -> list[str]:
        stored = json.loads(stored_why(9, 4, None, None, False, False, (share, reason)))
        return [key for key, _ in stored["parts"]]

    assert parts(0.24, "group") == ["trust.why.peers"]
    assert parts(0.25, "group") == ["trust.why.peers", "trust.why.coordinated_group"]
    assert parts(0.9, "woke")[1] == "trust.why.coordinated_woke"


def test_a_small_community_where_everyone_talks_with_everyone_is_not_one_suspicious_group() -> None:
    people = list(range(1, 9))
    rows = [
        (1, a, b, TODAY - d, "reply", 1) for a in people for b in people if a != b for d in range(1, 60, 7)
    ]
    ranked = rank(rows, facts(extra=[]), DEFAULT)
    assert {r.member_id for r in ranked} == set(people)
    assert all(r.why["coordinated"] == 0.0 for r in ranked)


def test_dependents_are_the_members_whose_trust_came_mostly_from_one_member() -> None:
    owner, leaning, steady = 50, 300, 301
    rows = town_rows() + [(1, p, owner, TODAY - 10 - 7 * w, "reply", 1) for p in TOWN[:8] for w in range(6)]
    rows += [(1, owner, leaning, TODAY - d, "reply", 3) for d in range(1, 40, 3)]
    rows += [(1, c, leaning, TODAY - 1, "reaction", 1) for c in (901, 902, 903, 904)]
    rows += [(1, owner, steady, TODAY - 2, "reaction", 1), *replies_from(TOWN[:10], steady)]
    members = facts(extra=[owner, leaning, steady, 901, 902, 903, 904])
    found = dependents(Edges.from_rows(rows), members, LOOSE, today=TODAY, member_id=owner)
    assert [m for m, _ in found] == [leaning] and 0.5 <= found[0][1] <= 1.0
    assert dependents(Edges.from_rows(rows), members, LOOSE, today=TODAY, member_id=999) == []


# ------------------------------------------------------------------------------------------ output & API


def _posts(counts: dict[int, int], *, ch: int = 1, day: int = TODAY - 1) -> Posts:
    members = list(counts)
    return Posts(members, [ch] * len(members), [day] * len(members), [counts[m] for m in members])


def test_volume_neutral_prolific_poster_gains_nothing_from_volume() -> None:
    """Two members drawing the same engagement from the same peers: the one who needed twenty times
    as many posts to collect it is discounted, the other is not; without post data nothing changes."""
    rows = town_rows() + replies_from(TOWN[:8], 100) + replies_from(TOWN[:8], 101)
    said = {m: 3 for m in TOWN} | {100: 2, 101: 40}
    without = by_member(rank(rows, facts(extra=[100, 101])))
    assert without[100].score == without[101].score
    with_posts = by_member(rank(rows, facts(extra=[100, 101]), posts=_posts(said)))
    assert with_posts[101].score < 0.25 * with_posts[100].score
    assert with_posts[100].why["appeal"] == 1.0 and with_posts[101].why["appeal"] < 0.25
    # With the listing's floor on what posts draw, the prolific poster is not listed at all.
    floor = replace(LOOSE, listed_min_draw=0.3)
    floored = by_member(rank(rows, facts(extra=[100, 101]), floor, posts=_posts(said)))
    assert 100 in floored and 101 not in floored
    # A gentler factor keeps the floor on what the posts draw, not on the factor.
    gentle = by_member(rank(rows, facts(extra=[100, 101]), replace(floor, appeal=0.5), posts=_posts(said)))
    assert 100 in gentle and 101 not in gentle
    assert with_posts[101].why["appeal"] ** 0.5 >= 0.3  # which the factor alone would have passed
    # Engaged with, but nothing they posted was ever recorded (a bot's messages): not a voice.
    assert 102 not in by_member(
        rank(rows + replies_from(TOWN[:8], 102), facts(extra=[100, 101, 102]), posts=_posts(said))
    )
    assert 102 in by_member(rank(rows + replies_from(TOWN[:8], 102), facts(extra=[100, 101, 102])))
    # Posting more never helps by itself: the factor is capped at 1 (no bonus for posting little).
    quiet = by_member(rank(rows, facts(extra=[100, 101]), posts=_posts(said | {100: 1})))
    assert quiet[100].why["appeal"] == 1.0
    # Scopes count only the posts made in them: spam elsewhere does not discount a topic voice.
    elsewhere = _posts(said | {101: 2})
    spam_in_2 = Posts(
        np.r_[elsewhere.member, 101],
        np.r_[elsewhere.channel, 2],
        np.r_[elsewhere.day, TODAY - 1],
        np.r_[elsewhere.n, 500],
    )
    topic = by_member(rank(rows + town_rows(2), facts(extra=[100, 101]), channels={1}, posts=spam_in_2))
    assert topic[101].why["appeal"] == 1.0
    assert compute_scope(
        Edges.from_rows(rows),
        facts(extra=[100, 101]),
        replace(LOOSE, appeal=0.0),
        today=TODAY,
        posts=_posts(said),
    ) == rank(rows, facts(extra=[100, 101]))


def test_the_draw_floor_applies_to_what_posts_draw_in_the_whole_community() -> None:
    """A spammer posts 200 messages in channel 1, where three town members react once, and five in
    channel 2, where six town members who engage nobody else there each answer one. In channel 2
    alone its posts look sought out; in the whole community they draw next to nothing, so it is not
    listed in channel 2 either. A member whose posts draw well everywhere is listed in both."""
    spammer, voice = 101, 102
    rows = town_rows() + replies_from(TOWN[:8], 100)
    rows += [(1, p, spammer, TODAY - 1, "reaction", 1) for p in TOWN[:3]]
    rows += replies_from(TOWN[10:16], spammer, ch=2)
    rows += replies_from(TOWN[:6], voice, ch=2) + replies_from(TOWN[:6], voice)
    said = _posts({m: 3 for m in TOWN} | {100: 2, spammer: 200, voice: 2})
    said = Posts(
        np.r_[said.member, spammer, voice],
        np.r_[said.channel, 2, 2],
        np.r_[said.day, TODAY - 1, TODAY - 1],
        np.r_[said.n, 5, 3],
    )
    members = facts(extra=[100, spammer, voice])
    floor = replace(LOOSE, listed_min_draw=0.3, min_peers_listed=5)
    scope_only = by_member(
        rank(rows, members, replace(floor, community_draw_floor=False), channels={2}, posts=said)
    )
    assert spammer in scope_only and scope_only[spammer].why["appeal"] >= 0.3
    both = by_member(rank(rows, members, floor, channels={2}, posts=said))
    assert spammer not in both and voice in both
    assert spammer not in by_member(rank(rows, members, floor, posts=said))


def test_posts_that_each_draw_as_much_keep_their_draw_at_any_volume() -> None:
    """Eight members answer every post of two members: one posted twice, the other twenty times.
    Each post drew the same, so what their posts draw is the same (`unsaturated_draw`); counted by
    the engagers' saturated votes, the prolific one's draw would fall with every post."""
    rows = town_rows() + replies_from(TOWN[:8], 100, n=2) + replies_from(TOWN[:8], 101, n=20)
    said = {m: 3 for m in TOWN} | {100: 2, 101: 20}
    members = facts(extra=[100, 101])
    drawn = by_member(rank(rows, members, posts=_posts(said)))
    assert drawn[101].why["appeal"] == pytest.approx(drawn[100].why["appeal"], rel=1e-9)
    saturated = by_member(rank(rows, members, replace(LOOSE, unsaturated_draw=False), posts=_posts(said)))
    assert saturated[101].why["appeal"] < 0.25 * saturated[100].why["appeal"]


def test_a_close_group_the_community_seeks_out_keeps_what_is_not_exchange() -> None:
    """Four members who answer each other every week (an insular group by its pattern) and whom
    eight town members each also reply to every week: their own group discount applies only to
    the share of what they received that is the group's exchange, so they stay listed; taken on
    all of it, none is. A pod, whose members receive little beyond their exchange, stays out
    (`test_an_engagement_pod_is_discounted`). While the group answers none of the town, it keeps
    to itself and leaves the rest unanswered (`apart_group`, off for the first part): out by
    default; answering half of the town members who reply to it, it stays listed."""
    group = [600, 601, 602, 603]
    rows = town_rows()
    answers = []
    for a in group:
        town = TOWN[(a % 4) * 4 :][:8]
        rows += [(1, a, b, TODAY - 3 - 7 * w, "reply", 2) for b in group if b != a for w in range(6)]
        rows += [(1, p, a, TODAY - 2 - 7 * w, "reply", 1) for p in town for w in range(6)]
        answers += [(1, a, p, TODAY - 2 - 7 * w, "reply", 1) for p in town[:4] for w in range(6)]
    members = facts(extra=group)
    exchange_only = replace(DEFAULT, apart_group=())
    partial = by_member(rank(rows, members, exchange_only))
    whole = by_member(rank(rows, members, replace(LOOSE, group_discount_by_exchange=False, apart_group=())))
    assert set(group) <= set(partial)
    assert not set(group) & set(whole)
    assert not set(group) & set(by_member(rank(rows, members, replace(LOOSE, apart_group=(0.3, 0.5)))))
    assert set(group) <= set(by_member(rank(rows + answers, members)))


def test_deterministic_and_independent_of_row_order() -> None:
    rows = town_rows() + replies_from(TOWN[:8], 100) + replies_from(TOWN[5:15], 101, n=2)
    members = facts(extra=[100, 101])
    first, second = rank(rows, members), rank(rows, members)
    assert first == second
    shuffled = [rows[i] for i in np.random.default_rng(7).permutation(len(rows))]
    third = rank(shuffled, members)
    assert [r.member_id for r in third] == [r.member_id for r in first]
    assert [r.score for r in third] == pytest.approx([r.score for r in first], rel=1e-9)


def test_ranked_fields_and_json_why() -> None:
    rows = town_rows() + replies_from(TOWN[:8], 100) + replies_from(TOWN[5:15], 101, n=2)
    result = rank(rows, facts(extra=[100, 101]), DEFAULT)
    assert [r.rank for r in result] == list(range(1, len(result) + 1))
    assert result[0].score == 1.0
    assert all(0 < r.score <= 1 for r in result)
    assert [r.score for r in result] == sorted((r.score for r in result), reverse=True)
    for r in result:
        json.dumps(r.why)
        assert r.trusted_peers <= r.distinct_peers
        assert r.why["converged"] is True


def test_limit_keeps_the_top() -> None:
    rows = town_rows() + replies_from(TOWN[:8], 100) + replies_from(TOWN[5:15], 101, n=2)
    full = rank(rows, facts(extra=[100, 101]))
    assert rank(rows, facts(extra=[100, 101]), limit=3) == full[:3]
    assert full[0].why["listed"] == len(full)


def test_trend_against_previous_period() -> None:
    rows = town_rows() + replies_from(TOWN[:8], 100) + replies_from(TOWN[5:15], 101, n=2)
    top = rank(rows, facts(extra=[100, 101]))[0]
    result = by_member(rank(rows, facts(extra=[100, 101]), previous={top.member_id: top.score / 1.25}))
    assert result[top.member_id].trend == pytest.approx(0.25)
    others = [r for m, r in result.items() if m != top.member_id]
    assert all(r.trend is None for r in others)
    assert ("trust.why.new", {}) in explain_parts(others[0])
    assert all(r.trend is None and not r.why["had_previous"] for r in rank(rows, facts(extra=[100, 101])))


def _ranked(**overrides: object) -> Ranked:
    fields: dict[str, object] = dict(
        member_id=7,
        score=0.8,
        rank=3,
        distinct_peers=42,
        trusted_peers=17,
        top_topics=((55, 0.6), (56, 0.3)),
        trend=0.12,
        why={"had_previous": True, "pinned": False},
    )
    fields.update(overrides)
    return Ranked(**fields)  # type: ignore[arg-type]


def test_explain_contains_the_numbers() -> None:
    names = {55: "#cooking"}
    text = explain(_ranked(), channel_name=names.__getitem__)
    assert text == (
        "Engaged with by 42 distinct members, 17 of them trusted themselves; "
        "most active in #cooking (60%); up 12% vs the previous period."
    )
    assert "down 8%" in explain(_ranked(trend=-0.08))
    assert "steady" in explain(_ranked(trend=0.001))
    assert "new in this ranking" in explain(_ranked(trend=None))
    assert explain(_ranked(trend=None, why={}, top_topics=())) == (
        "Engaged with by 42 distinct members, 17 of them trusted themselves."
    )
    assert "#55 (60%)" in explain(_ranked(), lang="he")  # no mapper: channel id; English until wired


def test_explain_parts_are_keys_and_params() -> None:
    parts = explain_parts(_ranked(), channel_name=lambda c: f"<#{c}>")
    assert parts == [
        ("trust.why.peers", {"peers": 42, "trusted": 17}),
        ("trust.why.topic", {"channel": "<#55>", "share": 60}),
        ("trust.why.trend_up", {"pct": 12}),
    ]
    assert all(key.startswith("trust.why.") for key, _ in explain_parts(_ranked(why={"pinned": True})))


def test_explain_on_computed_ranking() -> None:
    rows = town_rows() + replies_from(TOWN[:8], 100, ch=3)
    r = by_member(rank(rows, facts(extra=[100]), DEFAULT))[100]
    text = explain(r, channel_name={3: "#help"}.get)  # type: ignore[arg-type]
    assert f"Engaged with by {r.distinct_peers} distinct members, {r.trusted_peers} of them" in text
    assert "#help (100%)" in text


# ------------------------------------------------------------------------------------------ inputs


def test_defensive_inputs() -> None:
    rows = town_rows() + replies_from(TOWN[:6], 100)
    base = rank(rows, facts(extra=[100]))
    noisy = [
        *rows,
        (1, 2, 100, TODAY - 1, "reply", 0),  # fully retracted
        (1, 3, 100, TODAY - 1, "reaction", -2),
    ]
    edges = Edges.from_rows(noisy)
    odd = Edges(
        actor=np.r_[edges.actor, 4],
        target=np.r_[edges.target, 100],
        channel=np.r_[edges.channel, 1],
        day=np.r_[edges.day, TODAY - 1],
        kind=np.r_[edges.kind, 99],  # unknown kind code: no weight
        n=np.r_[edges.n, 5],
    )
    assert compute_scope(odd, facts(extra=[100]), LOOSE, today=TODAY) == base
    assert Edges.from_rows(iter([(1, 2, 3, TODAY, "like", 1)])).kind.tolist() == [-1]  # unknown name
    mixed = Edges.from_rows([(1, 2, 3, TODAY, 1, 1), (1, 2, 3, TODAY, "comment", 2)])  # codes and names
    assert mixed.kind.tolist() == [1, 3] and mixed.n.tolist() == [1.0, 2.0]
    future = rank([*town_rows(), *replies_from(TOWN[:6], 100, day=TODAY + 3)], facts(extra=[100]))
    assert future == rank([*town_rows(), *replies_from(TOWN[:6], 100, day=TODAY)], facts(extra=[100]))


def test_empty_and_seedless_inputs() -> None:
    assert compute_scope(Edges.empty(), MemberFacts(), TrustParams(), today=TODAY) == []
    newcomers = list(range(200, 210))
    rows = [(1, a, b, TODAY - 1, "reply", 3) for a in newcomers for b in newcomers if a != b]
    assert rank(rows, facts(new=newcomers)) == []  # nobody established: nothing to anchor trust


def test_mention_kind_and_custom_weights() -> None:
    rows = town_rows() + [(1, p, 100, TODAY - 1, "mention", 1) for p in TOWN[:6]]
    assert 100 in by_member(rank(rows, facts(extra=[100])))
    weights = {**KIND_WEIGHTS, "mention": 0.0}
    assert 100 not in by_member(rank(rows, facts(extra=[100]), replace(LOOSE, kind_weights=weights)))


def test_validation() -> None:
    with pytest.raises(ValueError):
        TrustParams(damping=1.0)
    with pytest.raises(ValueError):
        TrustParams(reciprocity_damping=1.0)
    with pytest.raises(ValueError):
        TrustParams(kind_weights={"like": 1.0})
    with pytest.raises(ValueError):
        Edges(actor=[1, 2], target=[3], channel=[1, 1], day=[1, 1], kind=[0, 0], n=[1, 1])
    with pytest.raises(ValueError):
        MemberFacts(member_id=np.array([1, 1]))
    with pytest.raises(ValueError):
        MemberFacts(member_id=np.array([1, 2]), joined_day=np.array([1.0]))
    params = TrustParams()
    with pytest.raises(TypeError):
        params.kind_weights["reply"] = 2.0  # type: ignore[index]
    assert replace(params, window_days=30.0).kind_weights == params.kind_weights
    assert tuple(KINDS) == ("reply", "reaction", "thread_reply", "comment", "mention")


# ------------------------------------------------------------------------------------------ performance


def power_law_community(
    *,
    members: int,
    pairs: int,
    rows_per_pair: float = 3.0,
    channels: int = 50,
    seed: int = 0,
    store_order: bool = False,
) -> tuple[Edges, MemberFacts]:
    """Random engagement with heavy-tailed activity and popularity, snowflake-sized ids.

    `store_order` sorts rows like the store's primary key (channel, actor, target, day, kind);
    otherwise rows come shuffled, the worst case for run-based shortcuts.
    """
    rng = np.random.default_rng(seed)
    ids = rng.choice(1 << 60, members, replace=False).astype(np.int64) + (1 << 60)
    activity = rng.pareto(1.1, members) + 1.0
    popularity = rng.pareto(1.0, members) + 1.0
    keys = np.zeros(0, np.int64)
    while len(keys) < pairs:
        k = int((pairs - len(keys)) * 1.3) + 1000
        a = rng.choice(members, k, p=activity / activity.sum())
        t = rng.choice(members, k, p=popularity / popularity.sum())
        keys = np.sort(np.concatenate([keys, a[a != t] * members + t[a != t]]))
        keys = keys[np.r_[True, keys[1:] != keys[:-1]]]
    keys = rng.permutation(keys)[:pairs]
    per_pair = keys.repeat(rng.geometric(1.0 / rows_per_pair, pairs))
    actor, target = np.divmod(per_pair, members)
    home = rng.integers(0, channels, members)
    size = len(per_pair)
    channel = np.where(rng.random(size) < 0.8, home[target], rng.integers(0, channels, size)) + (1 << 58)
    day = TODAY - rng.integers(0, 200, size)
    kind = rng.choice(4, size, p=[0.35, 0.45, 0.1, 0.1])
    n = rng.geometric(0.5, size)
    order = np.lexsort((kind, day, target, actor, channel)) if store_order else rng.permutation(size)
    edges = Edges(
        actor=ids[actor[order]],
        target=ids[target[order]],
        channel=channel[order],
        day=day[order],
        kind=kind[order],
        n=n[order],
    )
    joined = TODAY - rng.integers(0, 1000, members).astype(np.float64)
    joined[rng.random(members) < 0.1] = np.nan
    facts_ = MemberFacts(
        member_id=ids,
        joined_day=joined,
        account_created_day=joined - 100,
        is_bot=rng.random(members) < 0.001,
        excluded=frozenset(ids[:20].tolist()),
        pinned=frozenset(ids[20:30].tolist()),
    )
    return edges, facts_


def benchmark_scopes(edges: Edges, *, channels: int = 10, categories: int = 3) -> dict[str, set[int] | None]:
    """The whole community, the busiest channels, and a few five-channel categories."""
    ids, counts = np.unique(edges.channel, return_counts=True)
    ids = ids[np.argsort(-counts, kind="stable")].tolist()
    scopes: dict[str, set[int] | None] = {"all": None}
    scopes.update({f"channel:{c}": {c} for c in ids[:channels]})
    for k in range(categories):
        scopes[f"category:{k}"] = set(ids[channels + 5 * k : channels + 5 * (k + 1)])
    return scopes


def test_performance_sanity_power_law_graph() -> None:
    """A mid-sized random community runs end to end with well-formed output (not timed here)."""
    edges, members = power_law_community(members=3000, pairs=60_000)
    scopes = benchmark_scopes(edges, channels=3, categories=1)
    result = compute_all(edges, members, TrustParams(), today=TODAY, scopes=scopes, workers=2)
    assert set(result) == set(scopes)
    excluded = members.excluded | set(members.member_id[members.is_bot].tolist())
    for entries in result.values():
        assert entries
        assert entries[0].score == 1.0
        assert [r.rank for r in entries] == list(range(1, len(entries) + 1))
        assert all(r.distinct_peers >= 5 for r in entries)
        assert not excluded & {r.member_id for r in entries}
    sequential = compute_all(edges, members, TrustParams(), today=TODAY, scopes=scopes, workers=1)
    assert sequential == result


def _timings(run: Callable[[], object], repeat: int) -> str:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return f"min {min(times):.2f}s  median {statistics.median(times):.2f}s"


def main(argv: list[str] | None = None) -> None:
    """Time compute_all on a power-law community (shuffled rows and the store's row order)."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--members", type=int, default=50_000)
    ap.add_argument("--pairs", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--limit", type=int, default=500, help="entries kept per scope (0: all)")
    args = ap.parse_args(argv)
    limit = args.limit or None
    params = TrustParams()
    for store_order in (False, True):
        started = time.perf_counter()
        edges, members = power_law_community(members=args.members, pairs=args.pairs, store_order=store_order)
        scopes = benchmark_scopes(edges)
        order = "store order" if store_order else "shuffled"
        print(
            f"{order}: {len(edges):,} rows, {args.pairs:,} pairs, {args.members:,} members, "
            f"{len(scopes)} scopes, limit {limit} (generated in {time.perf_counter() - started:.1f}s)"
        )
        every = partial(compute_all, edges, members, params, today=TODAY, scopes=scopes, limit=limit)
        print(f"  all scopes : {_timings(every, args.repeat)}")
        whole = partial(compute_scope, edges, members, params, today=TODAY, limit=limit)
        print(f"  'all' only : {_timings(whole, args.repeat)}")


if __name__ == "__main__":
    main()


def test_a_regular_many_answer_ranks_above_a_member_fewer_answer_whose_few_posts_draw_more() -> None:
    """A regular whom sixteen town members answer every week, whose fifty posts each draw under half
    an average post, and a member whom ten answer, each of whose four posts draws a whole one: the
    count of distinct engagers, to the power three quarters, places the regular first. To the power
    a half (the earlier default), with every post below an average one discounted (`appeal_knee` 1),
    volume-neutrality put the member with the fewer engagers first."""
    rows = town_rows()
    for week in range(4):
        rows += replies_from(TOWN[:16], 100, day=TODAY - 1 - 7 * week)
        rows += replies_from(TOWN[10:], 101, day=TODAY - 1 - 7 * week)
    said = {m: 3 for m in TOWN} | {100: 50, 101: 4}
    members = facts(extra=[100, 101])
    got = by_member(rank(rows, members, DEFAULT, posts=_posts(said)))
    assert got[100].why["appeal"] < 0.5 and got[101].why["appeal"] == 1.0
    assert got[100].rank < got[101].rank
    earlier = replace(DEFAULT, peers_exponent=0.5, appeal_knee=1.0)
    half = by_member(rank(rows, members, earlier, posts=_posts(said)))
    assert half[101].rank < half[100].rank


@pytest.mark.parametrize("posts", [23, 40])
def test_posts_that_draw_most_of_an_average_post_are_not_discounted(posts: int) -> None:
    """Thirteen town members answer one member every week, twelve answer another, whose four posts
    each draw a whole average post. With 23 posts the first member's draw is over 0.7 of an average
    post: not discounted (`appeal_knee`), and the more engaged member ranks first; with every post
    below an average one discounted, the few well-drawing posts came first. With 40 posts the draw
    is under half an average post, and it still counts against the member."""
    rows = town_rows()
    for week in range(4):
        rows += replies_from(TOWN[:13], 100, day=TODAY - 1 - 7 * week)
        rows += replies_from(TOWN[8:], 101, day=TODAY - 1 - 7 * week)
    said = {m: 3 for m in TOWN} | {100: posts, 101: 4}
    members = facts(extra=[100, 101])
    got = by_member(rank(rows, members, DEFAULT, posts=_posts(said)))
    every = by_member(rank(rows, members, replace(DEFAULT, appeal_knee=1.0), posts=_posts(said)))
    assert got[101].why["appeal"] == 1.0 and got[100].distinct_peers > got[101].distinct_peers
    assert every[101].rank < every[100].rank
    if posts == 23:
        assert 0.7 < got[100].why["appeal"] < 0.8
        assert got[100].rank < got[101].rank
    else:
        assert got[100].why["appeal"] < 0.5
        assert got[101].rank < got[100].rank


def test_many_established_engagers_outweigh_a_few_highly_trusted_ones() -> None:
    """A member whom twelve established members engage is a broader voice than one whom the three
    most trusted members engage: trust beyond a seed's baseline adds nothing to an engager's count."""
    hubs = TOWN[:3]
    # Both engaged over four weeks (engagement that came on a single day is evidence of its own).
    rows = town_rows() + [(1, p, 100, TODAY - 1 - 7 * (i % 4), "reply", 1) for i, p in enumerate(TOWN[3:15])]
    rows += [(1, p, h, TODAY - 3 - 7 * w, "reply", 1) for p in TOWN[3:] for h in hubs for w in range(4)]
    rows += [(1, h, 101, TODAY - 1 - 7 * w, "reply", 1) for h in hubs for w in range(3)]
    members = facts(extra=[100, 101])
    broad = by_member(rank(rows, members))
    assert broad[100].rank < broad[101].rank
    # By trust alone (neither breadth nor the count of distinct engagers), the hubs' few win.
    by_trust = by_member(rank(rows, members, replace(LOOSE, breadth=False, peers_exponent=0.0)))
    assert by_trust[101].rank < by_trust[100].rank


def test_a_star_far_ahead_of_everyone_does_not_set_the_confidence_bar_alone() -> None:
    """Two hundred members who answer six others a week; one star whom everyone answers every week,
    and ten members whom thirty answer every week. Measured against the star alone, nobody else
    carries enough evidence; the established voices are at least the best twentieth of the
    eligible members, and the ten are listed."""
    people = list(range(1, 201))
    rows: list[Row] = []
    for w in range(8):
        day = TODAY - 3 - 7 * w
        for i, m in enumerate(people):
            rows += [(1, m, people[(i + s) % 200], day, "reply", 1) for s in (1, 2, 3, 5, 8, 13)]
        rows += [(1, m, 1, day, "reply", 1) for m in people[1:]]
        rows += [(1, people[(v * 17 + k) % 200], v, day, "reply", 1) for v in range(2, 12) for k in range(30)]
    members = MemberFacts(
        member_id=np.array(people, dtype=np.int64),
        joined_day=np.full(200, TODAY - 365.0),
        account_created_day=np.full(200, TODAY - 400.0),
    )
    # (Without filling the listing up to `listed_min_depth`, which would list ten members anyway.)
    bar_only = replace(DEFAULT, listed_min_depth=0)
    alone = rank(rows, members, replace(bar_only, established_share=0.0))
    assert [r.member_id for r in alone] == [1]
    listed = rank(rows, members, bar_only)
    assert listed[0].member_id == 1
    assert {r.member_id for r in listed[1:]} == set(range(2, 12))


def test_accounts_that_engage_nearly_everyone_count_for_little() -> None:
    """100 and 101 are each answered by four town members. 101's four also answer forty others
    each (reply farmers, accounts answering everyone for answers back); forty members who answer
    one town member each make the community's usual engager. Where the listing counts engagers,
    an account engaging more members than four fifths of the engaging accounts do counts as that
    many members' worth spread over all it engages, so 101 falls far behind 100."""
    others = list(range(200, 240))
    rows = town_rows() + replies_from(TOWN[:4], 100) + replies_from(TOWN[4:8], 101)
    rows += [(1, m, o, TODAY - 2, "reply", 1) for m in TOWN[4:8] for o in others]
    rows += [(1, o, TOWN[8 + i % 12], TODAY - 3, "reply", 1) for i, o in enumerate(others)]
    members = facts(extra=[100, 101, *others])
    plain = by_member(rank(rows, members, replace(LOOSE, wide_engagers=0.0)))
    weighed = by_member(rank(rows, members))
    assert plain[101].score > 0.5 * plain[100].score
    assert weighed[101].score < 0.5 * weighed[100].score * (plain[101].score / plain[100].score)
    assert weighed[100].rank < weighed[101].rank


def test_more_distinct_established_engagers_rank_higher_among_alike_members() -> None:
    """Two members whom town members answer alike, 100 by eight of them and 101 by four: beside
    breadth, the listing value counts the distinct engagers present for a while and uncoordinated,
    to `peers_exponent` (three quarters), so 101's score relative to 100's drops by (4 / 8) ** 0.75."""
    rows = town_rows() + replies_from(TOWN[:8], 100) + replies_from(TOWN[10:14], 101)
    members = facts(extra=[100, 101])
    flat = by_member(rank(rows, members, replace(LOOSE, peers_exponent=0.0)))
    counted = by_member(rank(rows, members))
    ratio = (counted[101].score / counted[100].score) / (flat[101].score / flat[100].score)
    assert TrustParams().peers_exponent == 0.75
    assert ratio == pytest.approx(0.5**0.75, rel=1e-6)
    # Accounts too new to vouch are not counted (their share of what 101 received is left out of
    # the new-accounts evidence here, which would discount 101 for it, and so is the share of its
    # engagers who engage no one else).
    alone = replace(LOOSE, new_accounts=False, lone_engagers=())
    before = by_member(rank(rows, members, alone))
    newcomers = replies_from(range(500, 508), 101)
    fresh = by_member(rank(rows + newcomers, facts(extra=[100, 101], new=range(500, 508)), alone))
    assert fresh[101].score == pytest.approx(before[101].score, rel=1e-6)
