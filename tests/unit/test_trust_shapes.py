"""Community shapes where the answer is plain, or plainly a judgement: a helpdesk with one helper
whom everyone asks, and a host's server where a third of the members react to the host's daily
post. The helper is the community's first voice, and the ranking says so (also when few askers
thank them). The host's posts each draw a crowd far beyond what the community's other voices' posts
draw, which is what engagement bait ("react to vote", "react to enter") looks like in the counts:
the crowd test (`crowd_per_post`) discounts the host and says why, and a moderator's pin, which
vouches for the crowd, puts the host first. The top-recipient test (`top_recipient`, off) would
drop the host as well, whom nearly every member engages more than anyone else."""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest

from bot.trust import Edges, MemberFacts, Posts, Ranked, TrustParams, compute_scope

TODAY = 20_000
DAYS = 60
SPECIAL = 1  # the helper, or the host
COLUMNS = ("actor", "target", "channel", "day", "kind", "n")


def built(
    rows: list[tuple[int, int, int, int, str, int]],
    said: list[tuple[int, int, int]],
    members: np.ndarray,
    joined: np.ndarray,
) -> tuple[Edges, Posts, MemberFacts]:
    """A shape's engagement rows, posts (member, channel, day) and members joined on `joined` days
    (accounts made 100 days before), as the ranking takes them."""
    member, channel, day = (np.array(column, np.int64) for column in zip(*said, strict=True))
    posts = Posts(member, channel, day, np.ones(len(said)))
    facts = MemberFacts(
        member_id=members.astype(np.int64),
        joined_day=joined,
        account_created_day=joined - 100,
        is_bot=np.zeros(len(members), np.bool_),
    )
    return Edges.from_rows(rows), posts, facts


def community(shape: str, seed: int, thanked: float = 0.7) -> tuple[Edges, Posts, MemberFacts]:
    """Members chat in eight interest groups (a few groupmates react to or reply to each post);
    in a helpdesk (150 members) about six members a day ask in the help channel, the helper answers
    each, and askers thank (`thanked` of them) or react (a little fewer); in a host's server (300
    members) the host posts daily, a third of the members react, a few reply, and the host answers
    now and then."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, int, int, int, str, int]] = []
    said: list[tuple[int, int, int]] = []

    def engage(channel: int, actor: int, target: int, day: int, kind: str) -> None:
        if actor != target:
            rows.append((channel, actor, target, day, kind, 1))

    size = 150 if shape == "helpdesk" else 300
    members = np.arange(1, size + 1)
    joined = TODAY - rng.uniform(0, 400, size)
    joined[SPECIAL - 1] = TODAY - 400.0
    groups = rng.integers(0, 8, size)
    for day in range(TODAY - DAYS + 1, TODAY + 1):
        here = members[joined[members - 1] <= day]
        for m in here[rng.random(len(here)) < 0.3].tolist():
            channel = 10 + int(groups[m - 1])
            said.append((m, channel, day))
            mates = here[groups[here - 1] == groups[m - 1]]
            for r in rng.choice(mates, min(len(mates), int(rng.poisson(2))), replace=False).tolist():
                engage(channel, r, m, day, "reaction" if rng.random() < 0.6 else "reply")
        if shape == "helpdesk":
            for asker in rng.choice(here, int(rng.poisson(6)), replace=False).tolist():
                said += [(asker, 1, day), (SPECIAL, 1, day)]
                engage(1, SPECIAL, asker, day, "reply")
                if rng.random() < thanked:
                    engage(1, asker, SPECIAL, day, "reply")
                if rng.random() < 0.85 * thanked:
                    engage(1, asker, SPECIAL, day, "reaction")
        else:
            said.append((SPECIAL, 1, day))
            fans = here[rng.random(len(here)) < 0.35]
            for fan in fans.tolist():
                engage(1, fan, SPECIAL, day, "reaction")
            for fan in fans[rng.random(len(fans)) < 0.1].tolist():
                engage(1, fan, SPECIAL, day, "reply")
            for fan in fans[rng.random(len(fans)) < 0.02].tolist():
                engage(1, SPECIAL, fan, day, "reply")
    return built(rows, said, members, joined)


def place(shape: str, seed: int, params: TrustParams, thanked: float = 0.7) -> int | None:
    edges, posts, facts = community(shape, seed, thanked)
    ranked = compute_scope(edges, facts, params, today=TODAY, posts=posts)
    return next((r.rank for r in ranked if r.member_id == SPECIAL), None)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_helper_comes_first(seed: int) -> None:
    assert place("helpdesk", seed, TrustParams()) == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_host_whose_every_post_draws_a_crowd_comes_first_once_pinned(seed: int) -> None:
    edges, posts, facts = community("host", seed)
    assert place("host", seed, replace(TrustParams(), crowd_per_post=(), crowd_days=())) == 1
    # Each post draws a third of the server, and the members who reply do so on those days only:
    # counted as a crowd, not as standing ...
    ranked = compute_scope(edges, facts, TrustParams(), today=TODAY, posts=posts)
    host = next((r for r in ranked if r.member_id == SPECIAL), None)
    assert host is None or host.rank > 10
    # ... until a moderator vouches for it.
    pinned = replace(facts, pinned=frozenset({SPECIAL}))
    ranked = compute_scope(edges, pinned, TrustParams(), today=TODAY, posts=posts)
    assert ranked[0].member_id == SPECIAL


def test_the_top_recipient_test_would_drop_the_host() -> None:
    """Why `top_recipient` is off: the host is nearly every member's largest recipient."""
    with_it = replace(TrustParams(), top_recipient=True)
    assert place("helpdesk", 0, with_it) == 1
    host = place("host", 0, with_it)
    assert host is None or host > 10


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_helper_whose_answers_are_seldom_thanked_is_still_listed(seed: int) -> None:
    """When only three askers in ten thank the helper, each answer draws a quarter of what a chat
    post draws, below the draw floor; the helper's engagers are still most of the community, and
    the floor spares a member whose value, the low draw counted, matches the established voices,
    and is halved for a member most of the community engages: either alone lists the helper."""
    assert place("helpdesk", seed, TrustParams(), thanked=0.3) in (1, 2, 3)
    for alone in (dict(draw_floor_below_voices=False), dict(draw_floor_reach=None)):
        assert place("helpdesk", seed, replace(TrustParams(), **alone), thanked=0.3) in (1, 2, 3)
    floor_for_all = replace(TrustParams(), draw_floor_below_voices=False, draw_floor_reach=None)
    assert place("helpdesk", seed, floor_for_all, thanked=0.3) is None


def lurking_server(seed: int) -> tuple[Edges, Posts, MemberFacts]:
    """500 members: 20 regulars post in one channel every day and answer or react to each other;
    the other 480 only react, to some regulars' posts far more than to others'."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, int, int, int, str, int]] = []
    said: list[tuple[int, int, int]] = []
    size, regulars = 500, 20
    members = np.arange(1, size + 1)
    joined = TODAY - rng.uniform(30, 400, size)
    lurkers = members[regulars:]
    pull = np.linspace(3.0, 0.3, regulars)  # lurkers' reactions per post, times four
    for day in range(TODAY - DAYS + 1, TODAY + 1):
        for p in range(1, regulars + 1):
            for _ in range(int(rng.poisson(1.5))):
                said.append((p, 1, day))
                for q in rng.choice(np.arange(1, regulars + 1), int(rng.poisson(2)), replace=False).tolist():
                    if q != p:
                        rows.append((1, q, p, day, "reply" if rng.random() < 0.5 else "reaction", 1))
                reach = min(len(lurkers), int(rng.poisson(4 * pull[p - 1])))
                rows += [
                    (1, lurker, p, day, "reaction", 1)
                    for lurker in rng.choice(lurkers, reach, replace=False).tolist()
                ]
    member, channel, day = (np.array(column, np.int64) for column in zip(*said, strict=True))
    facts = MemberFacts(
        member_id=members.astype(np.int64),
        joined_day=joined,
        account_created_day=joined - 100,
        is_bot=np.zeros(size, np.bool_),
    )
    return Edges.from_rows(rows), Posts(member, channel, day, np.ones(len(said))), facts


@pytest.mark.parametrize("seed", [0, 1])
def test_a_server_where_most_members_only_react_lists_its_regulars(seed: int) -> None:
    """The regulars answer each other far more than anyone else, as a pod does, but they are the
    community's core: the usual member for the group tests is one the community engages, not a
    member who reacts and is never engaged back. Measured against the latter the regulars were one
    suspicious group, their votes and seed weight discounted away, and nobody was listed."""
    edges, posts, facts = lurking_server(seed)
    ranked = compute_scope(edges, facts, TrustParams(), today=TODAY, posts=posts)
    assert len(ranked) >= 10 and all(r.member_id <= 20 for r in ranked)
    apart = replace(TrustParams(), group_usual_engaged=False)
    assert compute_scope(edges, facts, apart, today=TODAY, posts=posts) == []


def ranked(edges: Edges, posts: Posts, facts: MemberFacts) -> list[int]:
    return [
        r.member_id for r in compute_scope(edges, facts, TrustParams(), today=TODAY, posts=posts, limit=400)
    ]


def flooded(
    edges: Edges, posts: Posts, facts: MemberFacts, count: int, joined_day: float, *, welcomed: bool
) -> tuple[Edges, Posts, MemberFacts]:
    """The community with `count` more accounts, each posting once in the last three days (and each
    given a reaction by one of fifty members when `welcomed`)."""
    wave = np.arange(10_001, 10_001 + count, dtype=np.int64)
    if welcomed:
        welcome = Edges.from_rows(
            [(1, 2 + i % 50, int(m), TODAY - i % 3, "reaction", 1) for i, m in enumerate(wave.tolist())]
        )
        edges = Edges(*(np.concatenate([getattr(edges, c), getattr(welcome, c)]) for c in COLUMNS))
    posts = Posts(
        np.concatenate([posts.member, wave]),
        np.concatenate([posts.channel, np.full(count, 1)]),
        np.concatenate([posts.day, TODAY - np.arange(count) % 3]),
        np.concatenate([posts.n, np.ones(count)]),
    )
    joined = np.full(count, joined_day)
    facts = MemberFacts(
        member_id=np.concatenate([facts.member_id, wave]),
        joined_day=np.concatenate([facts.joined_day, joined]),
        account_created_day=np.concatenate([facts.account_created_day, joined - 100]),
        is_bot=np.zeros(len(facts.member_id) + count, np.bool_),
    )
    return edges, posts, facts


@pytest.mark.parametrize("aged", [False, True])
def test_a_wave_of_accounts_that_each_post_once_leaves_the_listing_as_it_was(aged: bool) -> None:
    """A post's draw is measured against an average post, each poster's count capped at the median
    poster's. Half as many accounts again, each posting once and doing nothing else (made for it, or
    long-joined), brought that median down to one post, every member's draw with it, and emptied
    the listing; they take no part in the community's engagement, so they no longer set it."""
    edges, posts, facts = community("host", 0)
    before = ranked(edges, posts, facts)
    joined = TODAY - (400.0 if aged else 3.0)
    after = ranked(*flooded(edges, posts, facts, len(facts.member_id) // 2, joined, welcomed=False))
    assert len(before) >= 10
    assert after == before


def test_a_wave_of_welcomed_newcomers_leaves_a_long_historys_listing_standing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Twice as many newcomers as members, each posting a greeting a member reacts to, in a history
    of three months: they joined in its last weeks, so their few posts set no median either. Before,
    the listing fell from every member to seven."""
    monkeypatch.setattr(sys.modules[__name__], "DAYS", 90)
    edges, posts, facts = community("host", 0)
    before = ranked(edges, posts, facts)
    after = ranked(*flooded(edges, posts, facts, 2 * len(facts.member_id), TODAY - 3.0, welcomed=True))
    assert len(after) >= 0.9 * len(before)
    assert len(set(after[:10]) & set(before[:10])) >= 8


REGULARS = range(1, 9)
AUDIENCE_POSTER = 151
SILENT_POSTER = 152
SILENT_DRAW = 0.7


def chatty_server(seed: int, crowd: float = 1.0, answered: float = 1.0) -> tuple[Edges, Posts, MemberFacts]:
    """150 members: most post now and then and two or three members answer each post; eight
    regulars talk all day (about eight messages a day, each answered by one member on average, any
    member), and answer others in turn. One more member posts as much as a regular and draws as
    much per post, but only ever from the same third of the members; another draws a little less
    than a regular does, from any member, and answers nobody. With `crowd` under 1, the regulars'
    messages are answered by that share of the members only, by `answered` of them on average."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, int, int, int, str, int]] = []
    said: list[tuple[int, int, int]] = []
    size = 150
    members = np.arange(1, size + 1)
    joined = TODAY - rng.uniform(60, 400, size)
    audience = members[members % 3 == 0]
    crowd_of = members[: max(len(REGULARS) + 1, int(crowd * size))]
    for day in range(TODAY - DAYS + 1, TODAY + 1):
        for m in members[len(REGULARS) :][rng.random(size - len(REGULARS)) < 0.25].tolist():
            said.append((m, 1, day))
            for r in rng.choice(members, int(rng.poisson(2.5)), replace=False).tolist():
                if r != m:
                    rows.append((1, r, m, day, "reaction" if rng.random() < 0.5 else "reply", 1))
        for p in REGULARS:
            for _ in range(int(rng.poisson(8))):
                said.append((p, 1, day))
                for r in rng.choice(crowd_of, int(rng.poisson(answered)), replace=False).tolist():
                    if r != p:
                        rows.append((1, r, p, day, "reply" if rng.random() < 0.5 else "reaction", 1))
                if rng.random() < 0.5:
                    t = int(rng.choice(members))
                    if t != p:
                        rows.append((1, p, t, day, "reply", 1))
        for _ in range(int(rng.poisson(8))):
            said.append((AUDIENCE_POSTER, 1, day))
            for r in rng.choice(audience, int(rng.poisson(1.0)), replace=False).tolist():
                rows.append((1, r, AUDIENCE_POSTER, day, "reply" if rng.random() < 0.5 else "reaction", 1))
        for _ in range(int(rng.poisson(8))):
            said.append((SILENT_POSTER, 1, day))
            for r in rng.choice(members, int(rng.poisson(SILENT_DRAW)), replace=False).tolist():
                rows.append((1, r, SILENT_POSTER, day, "reply" if rng.random() < 0.5 else "reaction", 1))
    member, channel, day = (np.array(column, np.int64) for column in zip(*said, strict=True))
    ids = np.append(members, [AUDIENCE_POSTER, SILENT_POSTER]).astype(np.int64)
    joined = np.append(joined, [TODAY - 300.0, TODAY - 300.0])
    facts = MemberFacts(
        member_id=ids,
        joined_day=joined,
        account_created_day=joined - 100,
        is_bot=np.zeros(len(ids), np.bool_),
    )
    return Edges.from_rows(rows), Posts(member, channel, day, np.ones(len(said))), facts


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_regulars_whom_most_members_engage_are_held_to_half_the_draw_floor(seed: int) -> None:
    """Each of a regular's many messages draws a sixth of an average post, under the draw floor,
    but most of the community engages them: the floor is halved for them (`draw_floor_reach`), and
    seven or eight of the eight are among the listing's first twelve (one at most before). A
    member who posts as much and draws as much per post from one third of the members only is held
    to the whole floor, which a floor halved for everyone would not do; so is one whom most members
    engage but who answers none of them (`draw_floor_engaged_back`: over months a spammer's posts
    reach most members too). (Measured against the regulars' own draw, `voices_yardstick`, their
    posts draw enough too: without it, the halved floor alone lists them.)"""
    edges, posts, facts = chatty_server(seed)

    def listing(params: TrustParams) -> list[int]:
        return [r.member_id for r in compute_scope(edges, facts, params, today=TODAY, posts=posts, limit=200)]

    now = listing(TrustParams())
    assert len(set(now[:12]) & set(REGULARS)) >= 7
    assert AUDIENCE_POSTER not in now and SILENT_POSTER not in now
    average = replace(TrustParams(), voices_yardstick=False)
    assert len(set(listing(average)[:12]) & set(REGULARS)) >= 7
    assert len(set(listing(replace(average, draw_floor_reach=None))) & set(REGULARS)) <= 1
    assert AUDIENCE_POSTER in listing(replace(TrustParams(), listed_min_draw=0.15))
    assert SILENT_POSTER in listing(replace(TrustParams(), draw_floor_engaged_back=0.0))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_member_who_answers_none_of_many_engagers_is_not_spared_the_draw_floor(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member who posts all day, whose posts each draw a little under the floor from any member of
    a chatty server, and who answers none of them: their value, the low draw counted, is the
    community's highest, which spared them the floor (`draw_floor_below_voices`) and listed them
    first. A helper answers the members who engage them; this member is held to the whole floor."""
    monkeypatch.setattr(sys.modules[__name__], "SILENT_DRAW", 1.0)
    edges, posts, facts = chatty_server(seed)

    def silent(params: TrustParams) -> Ranked | None:
        ranked = compute_scope(edges, facts, params, today=TODAY, posts=posts, limit=200)
        return next((r for r in ranked if r.member_id == SILENT_POSTER), None)

    assert silent(TrustParams()) is None
    spared = silent(replace(TrustParams(), draw_floor_engaged_back=0.0, voices_yardstick=False))
    assert spared is not None and spared.rank == 1 and spared.why["appeal"] < TrustParams().listed_min_draw


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_where_the_voices_posts_draw_less_than_an_average_post_theirs_is_the_yardstick(seed: int) -> None:
    """The chatty server's regulars are its established voices, and each of their many messages draws
    a sixth of an average post (members who post now and then draw more per post). Measured against
    an average post, every regular is under the draw floor; measured against the regulars' own draw
    (`voices_yardstick`), most are listed, with the floor halved for members most of the community
    engages turned off. The member who posts as much to a third of the members and the one who
    answers nobody stay out."""
    edges, posts, facts = chatty_server(seed)
    no_reach = replace(TrustParams(), draw_floor_reach=None)

    def listed(params: TrustParams) -> dict[int, Ranked]:
        ranked = compute_scope(edges, facts, params, today=TODAY, posts=posts, limit=200)
        return {r.member_id: r for r in ranked}

    average = listed(replace(no_reach, voices_yardstick=False))
    voices = listed(no_reach)
    assert len(set(average) & set(REGULARS)) <= 1
    regulars = [voices[m] for m in REGULARS if m in voices]
    assert len(regulars) >= 4 and all(r.rank <= 12 for r in regulars)
    assert all(r.why["appeal"] >= TrustParams().listed_min_draw for r in regulars)
    assert AUDIENCE_POSTER not in voices and SILENT_POSTER not in voices


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_floor_is_halved_for_regulars_a_fifth_of_the_community_engages(seed: int) -> None:
    """The chatty server's regulars answered by the first two fifths of the members only (two of
    them per message on average): about two fifths of the community engages each regular, and each
    message draws about a fifth of an average post, under the draw floor. The floor halved for
    members whom a fifth of the community engages lists the regulars whose messages draw half the
    floor: all eight, the first three among the first thirteen (measured against the regulars' own
    draw, `voices_yardstick`, which the floor follows for members who answer their engagers; three
    against an average post); halved only for members half of the community engages, as before, it
    lists none."""
    edges, posts, facts = chatty_server(seed, crowd=0.4, answered=2.0)

    def regulars(params: TrustParams) -> list[int]:
        ranked = compute_scope(edges, facts, params, today=TODAY, posts=posts, limit=200)
        return sorted(r.rank for r in ranked if r.member_id in REGULARS)

    now = regulars(TrustParams())
    assert len(now) == len(REGULARS) and now[2] <= 13
    assert len(regulars(replace(TrustParams(), voices_yardstick=False))) >= 3
    assert not regulars(replace(TrustParams(), draw_floor_reach=0.5))


EXPERT, PEER = 1, 2  # two experts answering the same kind of askers
POD = tuple(range(11, 19))  # eight members who engage each other on every post


def covered_server(seed: int, cover: float) -> tuple[Edges, Posts, MemberFacts]:
    """150 members chat in one channel; two experts each answer about four askers a day in the help
    channel (askers reply or react, and are answered); eight members form a pod, reacting to and
    replying to each other's every post, and react to the first expert's answers on a `cover`
    share of days: a pod engages genuine voices too, so that its own engagement looks like
    anyone's. The random stream does not depend on `cover`, so the communities differ only in
    that."""
    rng = np.random.default_rng(seed)
    size = 150
    members = np.arange(1, size + 1)
    pod = np.array(POD)
    others = np.setdiff1d(members, np.concatenate([[EXPERT, PEER], pod]))
    rows: list[tuple[int, int, int, int, str, int]] = []
    said: list[tuple[int, int, int]] = []

    def engage(channel: int, actor: int, target: int, day: int, kind: str) -> None:
        if actor != target:
            rows.append((channel, actor, target, day, kind, 1))

    joined = TODAY - rng.uniform(100, 400, size)
    for day in range(TODAY - DAYS + 1, TODAY + 1):
        for m in others[rng.random(len(others)) < 0.3].tolist():
            said.append((m, 10, day))
            for r in rng.choice(others, int(rng.poisson(2)), replace=False).tolist():
                engage(10, r, m, day, "reaction" if rng.random() < 0.6 else "reply")
        for expert in (EXPERT, PEER):
            said += [(expert, 1, day), (expert, 1, day)]
            for asker in rng.choice(others, int(rng.poisson(4)), replace=False).tolist():
                engage(1, asker, expert, day, "reply" if rng.random() < 0.5 else "reaction")
                engage(1, expert, asker, day, "reply")
        for p in POD:
            said.append((p, 11, day))
            for q in POD:
                engage(11, q, p, day, "reaction")
                engage(11, q, p, day, "reply")
            if rng.random() < cover:
                engage(1, p, EXPERT, day, "reaction")
    return built(rows, said, members, joined)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_pods_cover_engagement_costs_the_expert_it_covers_nothing(seed: int) -> None:
    """The pod's reactions to the first expert are a sixth of what the expert receives. Breadth leaves
    them out (the pod's members count as far as their engagement shows no coordination), and with
    `coordinated_once` nothing more is taken: the expert stands against the other expert as without
    the pod. Taken off again by its share, as before, the expert lost a sixth of its standing to
    accounts it never asked for. The explanation still measures the pod's share."""

    def standing(cover: float, params: TrustParams) -> tuple[float, float]:
        edges, posts, facts = covered_server(seed, cover)
        ranked = compute_scope(edges, facts, params, today=TODAY, posts=posts, limit=200)
        by_id = {r.member_id: r for r in ranked}
        return by_id[EXPERT].score / by_id[PEER].score, float(by_id[EXPERT].why["coordinated"])

    for params, kept in (
        (TrustParams(), (0.97, 1.03)),
        (replace(TrustParams(), coordinated_once=False), (0, 0.87)),
    ):
        alone, _ = standing(0.0, params)
        covered, share = standing(0.25, params)
        assert kept[0] <= covered / alone <= kept[1]
        assert 0.1 <= share < 0.25
