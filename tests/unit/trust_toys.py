"""Small communities the trust tests build on: members in interest groups who post and answer each
other day by day, and the member facts a subreddit shows (no join dates)."""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np

from bot.trust import Edges, MemberFacts, Posts, Ranked, TrustParams, compute_scope

Row = tuple[int, int, int, int, str, int]  # channel, actor, target, day, kind, n
Said = tuple[int, int, int]  # member, channel, day
#: Called at the end of each day with the day, the members there, and the rows and posts so far.
EachDay = Callable[[int, np.ndarray, list[Row], list[Said]], None]


def interest_groups(
    rng: np.random.Generator,
    size: int,
    *,
    today: int,
    days: int,
    reactions: bool = False,
    answering: Collection[int] = (),
    each_day: EachDay | None = None,
    groups: np.ndarray | None = None,
) -> tuple[np.ndarray, list[Row], list[Said]]:
    """`size` members (ids 1..size) in six interest groups over `days` days to `today`: six in ten
    come by on a given day; a regular (the first ten) posts on most of those days and an ordinary
    member on three in ten, in their group's channel (10 + group), and a few groupmates there answer
    each post (half of them with a reaction instead, with `reactions`); members in `answering` answer
    four in five of those back. `groups`: each member's group, drawn here when not given. Returns
    the members, the engagement rows and the posts."""
    members = np.arange(1, size + 1)
    groups = rng.integers(0, 6, size) if groups is None else groups
    rows: list[Row] = []
    said: list[Said] = []
    for day in range(today - days + 1, today + 1):
        here = members[rng.random(size) < 0.6]
        for m in here.tolist():
            regular = m <= 10
            if rng.random() > (0.8 if regular else 0.3):
                continue
            channel = 10 + int(groups[m - 1])
            said.append((m, channel, day))
            mates = here[groups[here - 1] == groups[m - 1]]
            k = min(len(mates), int(rng.poisson(4 if regular else 1.5)))
            for r in rng.choice(mates, k, replace=False).tolist():
                if r != m:
                    kind = ("reaction" if rng.random() < 0.5 else "reply") if reactions else "reply"
                    rows.append((channel, r, m, day, kind, 1))
                    if m in answering and rng.random() < 0.8:
                        rows.append((channel, m, r, day, "reply", 1))
        if each_day is not None:
            each_day(day, here, rows, said)
    return members, rows, said


def subreddit_facts(
    everyone: np.ndarray, said: list[Said], *, first_day: float, created_day: float
) -> MemberFacts:
    """As on Reddit: no join dates; the records begin on `first_day`, and an account (made on
    `created_day`) is first seen on its first day in them (on that day if it posted nothing)."""
    first: dict[int, float] = {}
    for m, _, day in said:
        first[m] = min(first.get(m, np.inf), float(day))
    seen = np.array([first.get(int(m), first_day) for m in everyone])
    return MemberFacts(
        member_id=everyone.astype(np.int64),
        joined_day=np.full(len(everyone), np.nan),
        account_created_day=np.full(len(everyone), created_day),
        first_seen_day=seen,
        records_from_day=np.full(len(everyone), first_day),
    )


def ranked_by_member(
    edges: Edges, posts: Posts, facts: MemberFacts, params: TrustParams, *, today: int
) -> dict[int, Ranked]:
    """The whole community's listing with `params`, by member id."""
    return {r.member_id: r for r in compute_scope(edges, facts, params, today=today, posts=posts)}


def settled(
    members: np.ndarray, rows: list[Row], said: list[Said], *, today: int
) -> tuple[Edges, Posts, MemberFacts]:
    """`interest_groups`' output as the ranking takes it, every member joined 300 days before
    `today` on an account 100 days older."""
    member, channel, day = (np.array(c, np.int64) for c in zip(*said, strict=True))
    joined = np.full(len(members), today - 300.0)
    facts = MemberFacts(
        member_id=members.astype(np.int64), joined_day=joined, account_created_day=joined - 100
    )
    return Edges.from_rows(rows), Posts(member, channel, day, np.ones(len(said))), facts


def placed(ranked: list[Ranked], member: int) -> Ranked | None:
    """`member`'s entry in a listing (None: not listed)."""
    return next((r for r in ranked if r.member_id == member), None)
