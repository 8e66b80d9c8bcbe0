"""Trust-ranking quality and speed on simulated communities with ground truth.

Quality: for seeded communities from 500 to 50,000 members, Microvoice (`trust.compute_scope`, scope
'all', default parameters, with the members' posts for volume-neutrality) and three naive baselines are
ranked from the same ledger, i.e. what the engagement cog would record for the simulated events (bot
actors never recorded, reply targets resolved to the replied-to author, a plain message in a thread
engaging the thread's owner). Microvoice reads the `engagement_daily` aggregate that ledger produces
(rebuilt here in numpy exactly as the triggers maintain it; the smoke test checks the two agree) and
member facts as the store knows them; brand staff are registered brand contacts, so they are passed as
excluded, as production does. Precision@k counts ground-truth experts in the top k; manipulators are the
simulator's MANIPULATOR_ROLES.

Speed: the 50,000-member / 60-day community (~2.2M distinct interacting pairs) is loaded into a real
SQLite store as its triggers would write it (bench/ledger_db, checked against the store's own writer;
once: the database is cached in the git-ignored bench/.cache, keyed by scenario, size and schema;
each run works on a copy).
On it are timed: a naive reference (pair counts by SQL GROUP BY + a bare personalized PageRank), the
production recompute (`Voices.recompute`, every scope and window, writing the results) first with
an empty graph cache and again from the cache, 10,000 new events written through `Ingest` (whose
hook keeps the cached graph up to date) and the recompute after them; finally the cached graph is
checked against a fresh read of the database.

    .venv/bin/python -m bench.trust_quality [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from bot import allocator, trust
from bot.ingest import Ingest
from bot.ledger import ChannelInfo, EngagementEvent, MemberSighting
from bot.store import Store
from bot.trust import CommunityEdges, Voices
from sandbox.simulator import (
    ATTACKS,
    CHANNEL_FORUM,
    CHANNEL_PUBLIC_THREAD,
    CHANNEL_TEXT,
    EMOJIS,
    KIND_JOIN,
    KIND_MESSAGE,
    KIND_NAMES,
    KIND_REACTION,
    KIND_REPLY,
    KIND_THREAD,
    KIND_UNREACTION,
    MANIPULATOR_ROLES,
    SimCommunity,
    simulate,
)

DAY_MS = 86_400_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PLATFORM = "discord"
TOP = 20
TARGET_P10 = 0.9
#: Communities up to this size also have every topic channel ranked on its own (`/voices top` with a
#: channel), to count the channel listings with a manipulator in their top 20.
CHANNELS_UP_TO = 10_000
NEW_EVENTS = 10_000  # events inserted before each incremental recompute
ROUNDS = 3  # incremental recomputes measured one after another; the median is reported
STORE_KIND = {"reply": 0, "reaction": 1, "thread_reply": 2}  # engagement_daily kinds -> trust.KINDS codes


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    members: int
    days: float
    manipulation: float


def _runs(members: int, days: Sequence[float], count: int, first_seed: int) -> tuple[Scenario, ...]:
    """`count` runs of one community size: seeds from `first_seed` on, cycling through the look-back
    lengths and the attack strengths (manipulation 0.3, 0.6, 1.0: how many attackers, how large
    their groups, how intense)."""
    out = []
    for k in range(count):
        d = days[k % len(days)]
        m = STRENGTHS[(k // len(days)) % len(STRENGTHS)]
        out.append(Scenario(f"{members:,}, {d:g}d, m={m:g}", first_seed + k, members, d, m))
    return tuple(out)


STRENGTHS = (0.3, 0.6, 1.0)
#: The quality runs: at least 20 random seeds at every size (a 50,000-member run takes a minute or
#: two to simulate and rank: `--min-members` and `--max-members` run the sizes in parts).
SCENARIOS: tuple[Scenario, ...] = (
    *_runs(200, (7, 14, 30), 24, 1),
    *_runs(500, (7, 30), 24, 101),
    *_runs(2_000, (30, 45), 20, 201),
    *_runs(5_000, (30,), 20, 301),
    *_runs(10_000, (45,), 20, 401),
    *_runs(50_000, (60,), 20, 501),
)
SPEED = Scenario("50,000, 60d, m=0.5", 105, 50_000, 60, 0.5)  # the speed part's community
QUICK = (Scenario("200, 7d, m=0.6", 7, 200, 7, 0.6), Scenario("2,000, 45d, m=1", 102, 2_000, 45, 1.0))
DEPTH = 200  # how deep the rankings are read to find the best-placed manipulator of each attack
TARGET_TOP = 20  # no manipulator in the top 20


def _progress(message: str) -> None:
    print(f"  … {message}", flush=True)


def _days(dt: datetime) -> float:
    return (dt - EPOCH).total_seconds() / 86400


def today_of(com: SimCommunity) -> int:
    """The recompute's `today`: the day the simulated period ends (Voices uses the clock's day)."""
    return (com.end - EPOCH).days


# ------------------------------------------------------------------------------------------ the ledger


@dataclass(frozen=True)
class Ledger:
    """What the engagement cog records for a simulated community, as columns in time order.

    `kind` holds simulator KIND_* codes (whose names are the ledger's kind names); `target` is the
    member engaged with (0 = none): the replied-to or reacted-to author, or for a plain message in a
    thread the thread's owner. Bot actors are never recorded.
    """

    ts_ms: np.ndarray
    kind: np.ndarray
    actor: np.ndarray
    channel: np.ndarray
    target: np.ndarray
    message_id: np.ndarray
    emoji: np.ndarray

    def __len__(self) -> int:
        return len(self.ts_ms)


def thread_owners(com: SimCommunity) -> dict[int, int]:
    """Thread id -> owner (the member who opened it): the id of a THREAD event's message."""
    ev = com.events
    opened = ev.kind == KIND_THREAD
    return dict(zip(ev.message_id[opened].tolist(), ev.actor[opened].tolist(), strict=True))


def ledger(com: SimCommunity) -> Ledger:
    ev = com.events
    keep = ~np.isin(ev.actor, com.bot_ids())
    kind = ev.kind[keep]
    channel = ev.channel[keep]
    target = np.where(np.isin(kind, (KIND_REPLY, KIND_REACTION, KIND_UNREACTION)), ev.target_member[keep], 0)
    # A plain message inside a thread engages with whoever opened the thread.
    threads = np.array(sorted(thread_owners(com).items()), dtype=np.int64).reshape(-1, 2)
    plain = np.flatnonzero(kind == KIND_MESSAGE)
    pos = np.searchsorted(threads[:, 0], channel[plain])
    pos = np.minimum(pos, max(len(threads) - 1, 0))
    inside = (threads[pos, 0] == channel[plain]) if len(threads) else np.zeros(len(plain), np.bool_)
    target[plain[inside]] = threads[pos[inside], 1]
    return Ledger(
        ts_ms=ev.ts_ms[keep],
        kind=kind,
        actor=ev.actor[keep],
        channel=channel,
        target=target.astype(np.int64),
        message_id=ev.message_id[keep],
        emoji=ev.emoji[keep],
    )


def _group(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by several int columns: (index of one representative row per group, group per row)."""
    order = np.lexsort(columns[::-1])
    start = np.zeros(len(order), np.bool_)
    if len(order):
        start[0] = True
        for col in columns:
            c = col[order]
            start[1:] |= c[1:] != c[:-1]
    group = np.empty(len(order), np.int64)
    group[order] = np.cumsum(start) - 1
    return order[start], group


def engagement_daily(led: Ledger) -> tuple[np.ndarray, ...]:
    """The `engagement_daily` rows the store's triggers derive from the ledger (unfolded channels).

    Returns columns (channel, actor, target, day, kind code in STORE_KIND order, n), n > 0 only.
    A reply, reaction or plain message with a target other than the actor counts once on its day; an
    unreaction takes one back from the reaction it retracts, on the day that reaction was counted.
    """
    day = led.ts_ms // DAY_MS
    engages = (led.target != 0) & (led.target != led.actor)
    code = np.full(len(led), -1, np.int64)
    code[led.kind == KIND_REPLY] = STORE_KIND["reply"]
    code[led.kind == KIND_REACTION] = STORE_KIND["reaction"]
    code[led.kind == KIND_MESSAGE] = STORE_KIND["thread_reply"]
    add = np.flatnonzero(engages & (code >= 0))
    delta = np.ones(len(add), np.int64)
    rows = add
    unreact = np.flatnonzero(engages & (led.kind == KIND_UNREACTION))
    if len(unreact):
        # The retracted reaction: same actor, message and emoji (the ledger's natural key).
        react = np.flatnonzero(led.kind == KIND_REACTION)
        both = np.concatenate([react, unreact])
        _, group = _group(led.actor[both], led.message_id[both], led.emoji[both].astype(np.int64))
        first_react = np.full(int(group.max()) + 1, -1, np.int64)
        first_react[group[: len(react)][::-1]] = react[::-1]
        matched = first_react[group[len(react) :]]
        ok = matched >= 0
        unreact, matched = unreact[ok], matched[ok]
        rows = np.concatenate([add, unreact])
        delta = np.concatenate([delta, -np.ones(len(unreact), np.int64)])
        day = day.copy()
        day_of = np.concatenate([day[add], day[matched]])
    else:
        day_of = day[add]
    kind = np.where(led.kind[rows] == KIND_UNREACTION, STORE_KIND["reaction"], code[rows])
    cols = (led.channel[rows], led.actor[rows], led.target[rows], day_of, kind)
    heads, group = _group(*cols)
    n = np.bincount(group, weights=delta, minlength=len(heads)).astype(np.int64)
    keep = n > 0
    return (*(c[heads][keep] for c in cols), n[keep])


def fold_threads(com: SimCommunity, channel: np.ndarray) -> np.ndarray:
    """Thread channels folded into their parent, as the store's engagement query does."""
    parent = {c.id: c.parent_id for c in com.channels if c.type == CHANNEL_PUBLIC_THREAD and c.parent_id}
    if not parent:
        return channel
    ids = np.fromiter(parent, np.int64, len(parent))
    parents = np.fromiter(parent.values(), np.int64, len(parent))
    order = np.argsort(ids)
    ids, parents = ids[order], parents[order]
    pos = np.minimum(np.searchsorted(ids, channel), len(ids) - 1)
    return np.where(ids[pos] == channel, parents[pos], channel)


def edges_of(com: SimCommunity, led: Ledger) -> trust.Edges:
    channel, actor, target, day, kind, n = engagement_daily(led)
    return trust.Edges(actor, target, fold_threads(com, channel), day, kind, n)


def posts_of(com: SimCommunity, led: Ledger) -> trust.Posts:
    """What each member posted (messages, replies, threads) per channel and day, threads folded:
    the posting kinds of the `activity_daily` aggregate the store keeps."""
    said = np.isin(led.kind, (KIND_MESSAGE, KIND_REPLY, KIND_THREAD))
    day = led.ts_ms[said] // DAY_MS
    channel = fold_threads(com, led.channel[said])
    return trust.Posts(led.actor[said], channel, day, np.ones(int(said.sum())))


def member_facts(com: SimCommunity) -> trust.MemberFacts:
    ms = com.members
    return trust.MemberFacts(
        member_id=np.array([m.id for m in ms], dtype=np.int64),
        joined_day=np.array([_days(m.joined_at) for m in ms]),
        account_created_day=np.array([_days(m.account_created_at) for m in ms]),
        is_bot=np.array([m.is_bot for m in ms], dtype=np.bool_),
        excluded=com.labels["brand_staff"],
    )


#: The views a community is ranked in: as a Discord server records it, and as a subreddit would
#: (`subreddit_view`).
VIEWS = ("discord", "subreddit")


def subreddit_view(com: SimCommunity, led: Ledger) -> tuple[Ledger, trust.MemberFacts]:
    """The community as a subreddit shows it: posts and comments only (Reddit shows no voter, so no
    reaction is recorded) and no join dates, but accounts' ages; the records of every member begin
    on the first simulated day (the day the subreddit was bound). What the Reddit adapter records."""
    said = ~np.isin(led.kind, (KIND_REACTION, KIND_UNREACTION))
    shown = Ledger(**{name: getattr(led, name)[said] for name in Ledger.__dataclass_fields__})
    facts = member_facts(com)
    unknown = np.full(len(facts.member_id), np.nan)
    start = float(led.ts_ms.min() // DAY_MS) if len(led) else np.nan
    facts = replace(facts, joined_day=unknown, records_from_day=np.full(len(unknown), start))
    return shown, facts


# ------------------------------------------------------------------------------------------- rankings


def _top(ids: np.ndarray, values: np.ndarray, k: int = DEPTH) -> list[int]:
    """Highest values first (ties by id), positive values only."""
    keep = values > 0
    ids, values = ids[keep], values[keep]
    order = np.lexsort((ids, -values))
    return ids[order[:k]].tolist()


def plain_trustrank(com: SimCommunity, edges: trust.Edges, facts: trust.MemberFacts) -> list[int]:
    """`plain_ranking` of a simulated community."""
    return plain_ranking(today_of(com), edges, facts)


def plain_ranking(today: int, edges: trust.Edges, facts: trust.MemberFacts) -> list[int]:
    """TrustRank as usually published: PageRank over the engagement weights (kind-weighted and decayed
    as Microvoice weighs them) with teleport to trusted seeds, here every member established by tenure
    (joined and account at least 30 days before) who engaged someone; ranked by trust."""
    params = trust.TrustParams()
    age = np.clip(today - edges.day, 0, None)
    kind_weight = params.kind_weight_vector()[np.clip(edges.kind, 0, len(trust.KINDS))]
    weight = kind_weight * edges.n * np.exp2(-age / params.half_life_days)
    rows = (weight > 0) & (age <= params.window_days) & (edges.actor != edges.target)
    actor, target, weight = edges.actor[rows], edges.target[rows], weight[rows]
    gone = np.concatenate([facts.member_id[facts.is_bot], np.fromiter(facts.excluded, np.int64)])
    keep = ~(np.isin(actor, gone) | np.isin(target, gone))
    actor, target, weight = actor[keep], target[keep], weight[keep]
    ids, dense = np.unique(np.concatenate([actor, target]), return_inverse=True)
    a, t = dense[: len(actor)], dense[len(actor) :]
    n = len(ids)
    out = np.bincount(a, weights=weight, minlength=n)
    m = sp.csr_array((weight / out[a], (t, a)), shape=(n, n))
    order = np.argsort(facts.member_id)
    at = order[np.minimum(np.searchsorted(facts.member_id, ids, sorter=order), len(order) - 1)]
    known = facts.member_id[at] == ids
    joined = np.where(known, facts.joined_day[at], np.nan)
    created = np.where(known, facts.account_created_day[at], np.nan)
    seeds = (today - joined >= 30) & (today - created >= 30) & (out > 0)
    records = np.where(known, facts.records_from_day[at], np.nan)
    if not np.isnan(records).all():
        # Seen as a subreddit (no join or account dates): established by first activity in the
        # records, where first seen as the records begin counts as there before (as Microvoice does).
        first = np.full(n, np.inf)
        np.minimum.at(first, np.concatenate([a, t]), np.concatenate([edges.day[rows][keep]] * 2))
        before = np.isnan(joined) & (first <= records + params.censored_arrival_days)
        seeds = ((today - first >= 30) | before) & ~(today - created < 30) & (out > 0)
    if not seeds.any():
        return []
    s = seeds / seeds.sum()
    x = s.copy()
    for _ in range(200):
        y = 0.85 * (m @ x)
        y += (1.0 - y.sum()) * s
        change = float(np.abs(y - x).sum())
        x = y
        if change < 1e-10:
            break
    return _top(ids, x)


def baselines(led: Ledger) -> dict[str, list[int]]:
    """Naive rankings over the same ledger (which already lacks bot actors)."""
    out: dict[str, list[int]] = {}
    posted = np.isin(led.kind, (KIND_MESSAGE, KIND_REPLY, KIND_THREAD))
    ids, counts = np.unique(led.actor[posted], return_counts=True)
    out["message count"] = _top(ids, counts)
    reacts = led.kind == KIND_REACTION
    unreacts = led.kind == KIND_UNREACTION
    ids = np.unique(led.target[reacts | unreacts])
    got = np.zeros(len(ids))
    np.add.at(got, np.searchsorted(ids, led.target[reacts]), 1.0)
    np.add.at(got, np.searchsorted(ids, led.target[unreacts]), -1.0)
    out["reactions received"] = _top(ids, got)
    return out


def microvoice(
    com: SimCommunity,
    edges: trust.Edges,
    facts: trust.MemberFacts,
    posts: trust.Posts | None = None,
    params: trust.TrustParams | None = None,
) -> list[int]:
    ranked = trust.compute_scope(
        edges, facts, params or trust.TrustParams(), today=today_of(com), limit=DEPTH, posts=posts
    )
    return [r.member_id for r in ranked]


def genuine_engagers(com: SimCommunity, led: Ledger) -> dict[int, int]:
    """Member -> how many distinct genuine members (no manipulator, brand contact or bot) engaged
    with them (replies, reactions, messages in their threads)."""
    manipulators = set().union(*(com.labels[r] for r in MANIPULATOR_ROLES))
    bad = np.fromiter(manipulators, np.int64, len(manipulators))
    engages = (led.target != 0) & (led.target != led.actor) & (led.kind != KIND_UNREACTION)
    engages &= ~np.isin(led.actor, bad)
    heads, _ = _group(led.target[engages], led.actor[engages])  # one row per distinct pair
    ids, counts = np.unique(led.target[engages][heads], return_counts=True)
    return dict(zip(ids.tolist(), counts.tolist(), strict=True))


def genuine_voices(com: SimCommunity, led: Ledger) -> frozenset[int]:
    """The members a good ranking should list first: the experts, and every other member who is no
    manipulator and whom at least as many distinct genuine members engage with as with the median
    expert (`genuine_engagers`)."""
    manipulators = set().union(*(com.labels[r] for r in MANIPULATOR_ROLES))
    return voices_by_rule(genuine_engagers(com, led), frozenset(com.labels["expert"]), manipulators)


def voices_by_rule(
    peers: Mapping[int, int], experts: frozenset[int], manipulators: Collection[int]
) -> frozenset[int]:
    """The genuine-voice rule on distinct genuine engagers per member (`peers`): the experts, and
    every member who is no manipulator and whom at least as many engage as the median expert."""
    engaged = [peers.get(e, 0) for e in experts]
    bar = float(np.median(engaged)) if experts else np.inf
    others = {m for m, c in peers.items() if c >= bar and m not in manipulators}
    if experts and len(experts | others) < 10:
        # Precision is then over all of them, so every expert must be placed: a member whom more
        # distinct genuine members engage than the least engaged expert is a voice as well.
        bar = min(engaged)
        others = {m for m, c in peers.items() if c >= bar and m not in manipulators}
    return frozenset(experts | others)


def attack_of(com: SimCommunity) -> dict[int, str]:
    """Member -> the attack it takes part in (brand staff and bots: their own entries)."""
    out = {m: "brand contact" for m in com.labels["brand_staff"]}
    out.update({m: "bot" for m in com.labels["bot"]})
    for attack, roles in ATTACKS.items():
        for role in roles:
            out.update(dict.fromkeys(com.labels[role], attack))
    return out


METHODS = ("Microvoice", "message count", "reactions received", "plain TrustRank")
#: `--control`: Microvoice on the same community with every manipulator's account excluded (as a
#: moderator's exclusion removes it). What the ranking loses there, it loses on genuine members alone:
#: its own measure disagreeing with the genuine-voice rule, not an attack taking a place.
CONTROL = "Microvoice, no manipulators"


@dataclass(frozen=True)
class Quality:
    scenario: str
    method: str
    p10: float  # precision@10 against the genuine voices (over as many as there are, if fewer than 10)
    p20: float
    manipulators: int  # manipulators in the top 20
    leaked: dict[str, int]  # attack -> how many of its manipulators are in the top 20
    best: dict[str, int]  # attack -> rank of its best-placed manipulator (only those within DEPTH)
    voices: int = 0  # genuine voices in the community
    members: int = 0
    misplaced: tuple[str, ...] = ()  # with `--why`, a run below the target: its seed, who took which places
    channels: int = 0  # topic channels ranked on their own (Microvoice, up to CHANNELS_UP_TO members)
    channels_leaked: int = 0  # ... of which with a manipulator in their top 20
    channel_best: int = 0  # the best rank a manipulator reached in any of them (0: none in a top 20)


def score(
    com: SimCommunity, scenario: str, method: str, top: Sequence[int], voices: frozenset[int] | None = None
) -> Quality:
    if voices is None:
        voices = frozenset(com.labels["expert"])
    attack = attack_of(com)
    leaked = Counter(attack[m] for m in top[:TOP] if m in attack)
    best: dict[str, int] = {}
    for rank, m in enumerate(top[:DEPTH], start=1):
        if m in attack:
            best.setdefault(attack[m], rank)
    k10, k20 = max(1, min(10, len(voices))), max(1, min(20, len(voices)))
    return Quality(
        scenario=scenario,
        method=method,
        p10=sum(m in voices for m in top[:k10]) / k10,
        p20=sum(m in voices for m in top[:k20]) / k20,
        manipulators=sum(leaked.values()),
        leaked=dict(sorted(leaked.items())),
        best=dict(sorted(best.items())),
        voices=len(voices),
        members=len(com.members),
    )


@dataclass(frozen=True)
class Inputs:
    """What the ranking is given of a simulated community, as `view` shows it (`ranking_inputs`)."""

    led: Ledger
    edges: trust.Edges
    facts: trust.MemberFacts
    posts: trust.Posts


def ranking_inputs(com: SimCommunity, view: str = "discord") -> Inputs:
    """The community's ledger, engagement rows, member facts and posts as `view` shows it (`VIEWS`:
    with "subreddit", `subreddit_view`)."""
    led = ledger(com)
    if view == "subreddit":
        led, facts = subreddit_view(com, led)
    else:
        facts = member_facts(com)
    return Inputs(led, edges_of(com, led), facts, posts_of(com, led))


def evaluate(
    com: SimCommunity,
    scenario: str,
    *,
    with_baselines: bool = True,
    params: trust.TrustParams | None = None,
    control: bool = False,
    why: bool = False,
    view: str = "discord",
) -> list[Quality]:
    """Microvoice (first), with `control` the CONTROL ranking, and the baselines on one community,
    as `view` shows it (`VIEWS`: with "subreddit", `subreddit_view`, and the genuine voices are
    those of what it shows; "reactions received" has nothing to rank there and is left out).
    With `why`, a run below the target says who took which places (`misplaced`)."""
    seen = ranking_inputs(com, view)
    led, edges, facts, posts = seen.led, seen.edges, seen.facts, seen.posts
    voices = genuine_voices(com, led)
    top = microvoice(com, edges, facts, posts, params)
    rows = [score(com, scenario, "Microvoice", top, voices)]
    if len(com.members) <= CHANNELS_UP_TO:
        rows[0] = replace(rows[0], **channel_listings(com, edges, facts, posts, params))
    if why and rows[0].p10 < TARGET_P10:
        lines = misplaced(com, led, edges, facts, posts, params or trust.TrustParams(), top, voices)
        rows[0] = replace(rows[0], misplaced=(f"seed {com.seed}", *lines))
    if control:
        manipulators = frozenset().union(*(com.labels[r] for r in MANIPULATOR_ROLES))
        clean = replace(facts, excluded=facts.excluded | manipulators)
        rows.append(score(com, scenario, CONTROL, microvoice(com, edges, clean, posts, params), voices))
    if with_baselines:
        naive = baselines(led)
        if view == "subreddit":
            del naive["reactions received"]
        rows += [score(com, scenario, name, top, voices) for name, top in naive.items()]
        rows.append(score(com, scenario, "plain TrustRank", plain_trustrank(com, edges, facts), voices))
    return rows


def misplaced(
    com: SimCommunity,
    led: Ledger,
    edges: trust.Edges,
    facts: trust.MemberFacts,
    posts: trust.Posts,
    params: trust.TrustParams,
    top: Sequence[int],
    voices: frozenset[int],
) -> list[str]:
    """The members placed among the first k (the places precision is measured over) who are no
    genuine voice, and the voices who are not there, with what the ranking saw of them: distinct
    genuine engagers, posts, the draw of volume-neutrality, diversity and the share of coordinated
    engagement, and where a voice would stand without the confidence bar and the draw floor."""
    k = max(1, min(10, len(voices)))
    engagers = genuine_engagers(com, led)
    said = np.isin(led.kind, (KIND_MESSAGE, KIND_REPLY, KIND_THREAD))
    authors, counts = np.unique(led.actor[said], return_counts=True)
    wrote = dict(zip(authors.tolist(), counts.tolist(), strict=True))
    loose = replace(params, listed_min_value=0.0, listed_min_peers=0.0, listed_min_draw=0.0)
    unbarred = trust.compute_scope(edges, facts, loose, today=today_of(com), limit=DEPTH, posts=posts)
    place = {r.member_id: r for r in unbarred}

    def seen(m: int) -> str:
        text = f"{com.label_of(m)}, {engagers.get(m, 0)} genuine engagers, {wrote.get(m, 0)} posts"
        r = place.get(m)
        if r is not None:
            w = r.why
            text += f", draw {w['appeal']:.2f}, diversity {w['diversity']:.2f}"
            text += f", coordinated {w['coordinated']:.2f}"
        return text

    lines = [f"#{top.index(m) + 1} {seen(m)}" for m in top[:k] if m not in voices]
    for v in sorted(voices - set(top[:k]), key=lambda v: -engagers.get(v, 0)):
        where = f"#{top.index(v) + 1}" if v in top else "not listed"
        if v not in top and v in place:
            where += f" (#{place[v].rank} without the bars)"
        lines.append(f"missed, {where}: {seen(v)}")
    return lines


def passed(q: Quality) -> bool:
    return q.p10 >= TARGET_P10 and q.manipulators == 0


def size_of(q: Quality) -> str:
    return f"{q.members:,}"


def channel_listings(
    com: SimCommunity,
    edges: trust.Edges,
    facts: trust.MemberFacts,
    posts: trust.Posts,
    params: trust.TrustParams | None,
) -> dict[str, int]:
    """Every topic channel ranked on its own, as `/voices top` with a channel ranks it: how many, how
    many with a manipulator (brand contacts and bots included) in their top 20, and the best rank one
    reached there (0: none)."""
    topics = [c.id for c in com.channels if c.type in (CHANNEL_TEXT, CHANNEL_FORUM)]
    ranked = trust.compute_all(
        edges,
        facts,
        params or trust.TrustParams(),
        today=today_of(com),
        scopes={f"channel:{c}": {c} for c in topics},
        limit=TOP,
        posts=posts,
    )
    attack = attack_of(com)
    ranks = [[r.rank for r in listing if r.member_id in attack] for listing in ranked.values()]
    return {
        "channels": len(ranks),
        "channels_leaked": sum(bool(found) for found in ranks),
        "channel_best": min((min(found) for found in ranks if found), default=0),
    }


def channel_table(results: Sequence[Quality]) -> list[str]:
    """Per community size: the topic channels ranked on their own, and those whose top 20 held a
    manipulator."""
    lines = [f"  {'members':<9}{'runs':>5}{'channel listings':>18}{'with a manipulator in the top 20':>34}"]
    groups: dict[str, list[Quality]] = {}
    for q in results:
        if q.method == "Microvoice" and q.channels:
            groups.setdefault(size_of(q), []).append(q)
    for size, rows in groups.items():
        leaked = sum(q.channels_leaked for q in rows)
        best = min((q.channel_best for q in rows if q.channel_best), default=0)
        shown = f"{leaked}" + (f" (best rank {best})" if leaked else "")
        lines.append(f"  {size:<9}{len(rows):>5}{sum(q.channels for q in rows):>18}{shown:>34}")
    return lines


def sweep_table(results: Sequence[Quality]) -> list[str]:
    """Per community size and method: runs, passes, precision@10 and manipulators in the top 20."""
    lines = [
        f"  {'members':<9}{'method':<29}{'runs':>5}{'PASS':>6}{'min P@10':>10}{'mean P@10':>11}"
        f"{'max manip@20':>14}{'runs with manip@20':>20}"
    ]
    groups: dict[tuple[str, str], list[Quality]] = {}
    for q in results:
        groups.setdefault((size_of(q), q.method), []).append(q)
    for (size, method), rows in groups.items():
        p10 = [q.p10 for q in rows]
        lines.append(
            f"  {size:<9}{method:<29}{len(rows):>5}{sum(map(passed, rows)):>6}{min(p10):>10.2f}"
            f"{sum(p10) / len(p10):>11.2f}{max(q.manipulators for q in rows):>14}"
            f"{sum(q.manipulators > 0 for q in rows):>20}"
        )
    return lines


def attack_table(results: Sequence[Quality]) -> list[str]:
    """Per attack and method: the best rank any of its manipulators reached over all runs (the worst
    case), and in how many runs one was in the top 20."""
    methods = [m for m in METHODS if any(q.method == m for q in results)]
    attacks = [*ATTACKS, "brand contact", "bot"]
    w = 22
    lines = [f"  {'best rank reached by':<26}" + "".join(f"{m:>{w}}" for m in methods)]
    for attack in attacks:
        cells = []
        for method in methods:
            rows = [q for q in results if q.method == method]
            ranks = [q.best[attack] for q in rows if attack in q.best]
            top = sum(q.leaked.get(attack, 0) > 0 for q in rows)
            shown = f"{min(ranks)}" if ranks else f">{DEPTH}"
            cells.append(f"{shown} ({top}/{len(rows)} in top 20)")
        lines.append(f"  {attack:<26}" + "".join(f"{c:>{w}}" for c in cells))
    return lines


def quality_table(results: Sequence[Quality]) -> list[str]:
    lines = [
        f"  {'scenario':<20}{'method':<29}{'P@10':>6}{'P@20':>7}{'manip@20':>10}"
        "  attacks in top 20",
    ]
    for q in results:
        roles = ", ".join(f"{r}×{n}" for r, n in q.leaked.items()) or "-"
        verdict = ""
        if q.method == "Microvoice":
            verdict = "  PASS" if passed(q) else "  FAIL"
        lines.append(
            f"  {q.scenario:<20}{q.method:<29}{q.p10:>6.2f}{q.p20:>7.2f}{q.manipulators:>10}"
            f"  {roles}{verdict}"
        )
    return lines


# ---------------------------------------------------------------------------------------------- speed


def event_rows(
    com: SimCommunity, led: Ledger, start: int = 0, stop: int | None = None, *, chunk: int = 100_000
) -> Iterator[tuple[object, ...]]:
    """The ledger as `EngagementEvent.row()` tuples, built a chunk at a time."""
    stop = len(led) if stop is None else stop
    kinds = KIND_NAMES
    for lo in range(start, stop, chunk):
        hi = min(lo + chunk, stop)
        stamps = np.datetime_as_string(led.ts_ms[lo:hi].astype("datetime64[ms]"), unit="ms").tolist()
        columns = zip(
            led.kind[lo:hi].tolist(),
            led.channel[lo:hi].tolist(),
            led.actor[lo:hi].tolist(),
            led.target[lo:hi].tolist(),
            led.message_id[lo:hi].tolist(),
            led.emoji[lo:hi].tolist(),
            (led.ts_ms[lo:hi] // 1000).tolist(),
            stamps,
            strict=True,
        )
        for kind, channel, actor, target, message, emoji, secs, stamp in columns:
            if kind in (KIND_REACTION, KIND_UNREACTION):
                source = f"{message}:{EMOJIS[emoji]}"
            elif kind == KIND_JOIN:
                source = f"{actor}:{secs}"
            else:
                source = str(message)
            yield (
                PLATFORM,
                com.guild_id,
                channel,
                actor,
                target or None,
                kinds[kind],
                source,
                int(target == actor),
                stamp + "+00:00",
            )


def sightings(com: SimCommunity, led: Ledger) -> list[MemberSighting]:
    """Every member as the store learns them: first seen at their first recorded event (else the start)."""
    first: dict[int, int] = {}
    actors, stamps = led.actor.tolist(), led.ts_ms.tolist()
    for actor, ts in zip(reversed(actors), reversed(stamps), strict=True):
        first[actor] = ts
    start_ms = round(com.start.timestamp() * 1000)
    return [
        MemberSighting(
            PLATFORM,
            com.guild_id,
            m.id,
            datetime.fromtimestamp(first.get(m.id, max(start_ms, 0)) / 1000, UTC),
            joined_at=m.joined_at,
            account_created_at=m.account_created_at,
            is_bot=m.is_bot,
        )
        for m in com.members
    ]


def channel_infos(com: SimCommunity) -> list[ChannelInfo]:
    owners = thread_owners(com)
    return [
        ChannelInfo(PLATFORM, com.guild_id, c.id, c.parent_id, c.type, c.name, owners.get(c.id))
        for c in com.channels
    ]


CACHE_VERSION = 3  # bump when the way the speed database is built changes


def cache_key(sc: Scenario, held: int) -> str:
    return (
        f"trust-speed-v{CACHE_VERSION}-seed{sc.seed}-members{sc.members}-days{sc.days:g}"
        f"-m{sc.manipulation:g}-events{held}"
    )


async def speed_database(
    sc: Scenario, com: SimCommunity, led: Ledger, held: int
) -> tuple[Path, float | None]:
    """The speed scenario's first `held` events in a SQLite store, as its triggers would have written
    them (bench/ledger_db: a set-based load, checked against `Store.record_bulk` first).

    The database is kept in bench/.cache (git-ignored), keyed by scenario, size and schema, and each
    run works on a copy. Returns (path, load seconds or None when it came from the cache).
    """
    from bench import ledger_db  # it builds on this module's ledger

    path = ledger_db.cache_path(cache_key(sc, held))
    if path.exists():
        return path, None
    _progress(f"loading {held:,} events into SQLite, once (cached in {ledger_db.CACHE_DIR})")
    timings = await ledger_db.build(path, com, led, stops=[held])
    return path, timings["check"] + timings["load"]


def reference_pagerank(pairs: np.ndarray, damping: float = 0.85, tol: float = 1e-9) -> tuple[np.ndarray, int]:
    """Bare personalized PageRank over (actor, target, count) rows: uniform teleport over all nodes,
    dangling mass spread uniformly, iterated until the L1 change drops below `tol`."""
    ids, dense = np.unique(pairs[:, :2], return_inverse=True)
    dense = dense.reshape(-1, 2)
    n = len(ids)
    w = pairs[:, 2].astype(np.float64)
    out = np.bincount(dense[:, 0], weights=w, minlength=n)
    m = sp.csr_array((w / out[dense[:, 0]], (dense[:, 1], dense[:, 0])), shape=(n, n))
    dangling = out == 0
    teleport = np.full(n, 1.0 / n)
    x = teleport.copy()
    for step in range(1, 1001):
        y = damping * (m @ x)
        y += (damping * x[dangling].sum() + 1.0 - damping) * teleport
        change = float(np.abs(y - x).sum())
        x = y
        if change < tol:
            return x, step
    return x, 1000


@dataclass(frozen=True)
class Speed:
    events: int
    load_seconds: float | None  # None: the database came from bench/.cache
    engagement_rows: int
    pairs: int
    query_seconds: float
    pagerank_seconds: float
    pagerank_iterations: int
    cold_seconds: float  # first recompute: reads the graph from the database, builds the ranking state
    warm_seconds: float  # the ranking state rebuilt from the in-memory graph (as on a new day)
    scopes: int
    ranked: int
    new_events: int
    insert_seconds: float  # Ingest writes, including the after-write hook that updates the graph
    incremental_seconds: float  # the median of the rounds
    in_place: bool  # every incremental recompute updated the kept ranking state (not rebuilt)
    consistent: bool  # the graph kept up to date equals one read afresh from the database
    same_ranking: bool  # the incremental ranking equals a full recompute of the same data
    rounds: tuple[float, ...] = ()  # each incremental recompute, in order


async def measure_speed(
    sc: Scenario,
    com: SimCommunity,
    led: Ledger,
    *,
    new_events: int = NEW_EVENTS,
    rounds: int = ROUNDS,
    cache: bool = True,
) -> Speed:
    """On a store holding all but the last `rounds * new_events` events: time the naive reference,
    the first (cold) and a second (warm) `Voices.recompute`; then, `rounds` times, write the next
    `new_events` through `Ingest` (whose after-write hook updates the cached graph, as in
    production) and time the incremental recompute. The median round is reported (these machines
    are noisy; every round is printed)."""
    held = max(0, len(led) - rounds * new_events)
    brands = sorted(com.labels["brand_staff"])

    async def brand_contacts(_: int) -> list[int]:
        return brands

    with tempfile.TemporaryDirectory(prefix="microvoice-bench-") as tmp:
        db = Path(tmp) / "bench.sqlite3"
        if cache:
            source, load = await speed_database(sc, com, led, held)
            shutil.copyfile(source, db)
        else:
            store = await Store.open(db)
            t0 = time.perf_counter()
            await store.record_bulk(
                event_rows(com, led, 0, held), sightings(com, led), channel_infos(com), defer_indexes=True
            )
            load = time.perf_counter() - t0
            await store.close()
        store = await Store.open(db)
        try:
            loaded = int(await store.scalar("SELECT count(*) FROM events"))
            rows = int(await store.scalar("SELECT count(*) FROM engagement_daily WHERE n > 0"))
            _progress(f"{loaded:,} events, {rows:,} engagement_daily rows")

            t0 = time.perf_counter()
            pairs = np.array(await store.pair_event_counts(), dtype=np.int64).reshape(-1, 3)
            query = time.perf_counter() - t0
            t0 = time.perf_counter()
            _, iterations = reference_pagerank(pairs)
            pagerank = time.perf_counter() - t0
            _progress(f"reference: {len(pairs):,} pairs, query {query:.1f}s, PageRank {pagerank:.2f}s")

            voices = Voices(store, clock=lambda: com.end, excluded=brand_contacts)
            t0 = time.perf_counter()
            full = await voices.recompute(com.guild_id)
            cold = time.perf_counter() - t0
            voices.forget_state(com.guild_id)  # keep the graph, rebuild the ranking state from it
            t0 = time.perf_counter()
            await voices.recompute(com.guild_id)
            warm = time.perf_counter() - t0
            _progress(
                f"full recompute: first (reads the graph) {cold:.1f}s, from the in-memory graph {warm:.1f}s"
            )

            ingest = Ingest(store, batch_size=500, on_written=voices.absorb)
            insert, fresh, times, in_place = 0.0, 0, [], True
            for start in range(held, len(led), new_events):
                t0 = time.perf_counter()
                written = 0
                for r in event_rows(com, led, start, min(start + new_events, len(led))):
                    ingest.add(
                        EngagementEvent(
                            r[0], r[1], r[2], r[3], r[5], r[6], datetime.fromisoformat(r[8]), r[4]
                        )
                    )  # type: ignore[arg-type]
                    written += 1
                    if ingest.pending >= ingest.batch_size:
                        await ingest.flush()
                await ingest.flush()
                insert += time.perf_counter() - t0
                fresh = max(fresh, written)
                t0 = time.perf_counter()
                after = await voices.recompute(com.guild_id)
                times.append(time.perf_counter() - t0)
                in_place = in_place and after.in_place
                stages = ", ".join(f"{k} {v:.2f}s" for k, v in after.stages.items())
                _progress(f"recompute after {written:,} new events {times[-1]:.2f}s ({stages})")
            incremental = statistics.median(times) if times else 0.0
            consistent = await graph_matches_database(store, voices, com.guild_id)
            kept = await stored_ranking(store, com.guild_id)
            voices.forget_state(com.guild_id)
            await voices.recompute(com.guild_id)
            same = rankings_match(kept, await stored_ranking(store, com.guild_id))
        finally:
            await store.close()
    return Speed(
        events=loaded,
        load_seconds=load,
        engagement_rows=rows,
        pairs=len(pairs),
        query_seconds=query,
        pagerank_seconds=pagerank,
        pagerank_iterations=iterations,
        cold_seconds=cold,
        warm_seconds=warm,
        scopes=full.scopes,
        ranked=full.ranked,
        new_events=fresh,
        insert_seconds=insert / max(1, len(times)),
        incremental_seconds=incremental,
        in_place=in_place and bool(times),
        consistent=consistent,
        same_ranking=same,
        rounds=tuple(times),
    )


async def stored_ranking(store: Store, community_id: int) -> list[tuple[Any, ...]]:
    return await store.fetch_all(
        """SELECT scope, rank, member_id, distinct_peers, trusted_peers, score FROM trust_scores
           WHERE community_id = :c ORDER BY scope, rank""",
        dict(c=community_id),
    )


def rankings_match(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    """Same members in the same places with the same counts, scores equal to 1e-6."""
    return len(a) == len(b) and all(
        x[:5] == y[:5] and abs(x[5] - y[5]) <= 1e-6 for x, y in zip(a, b, strict=True)
    )


async def graph_matches_database(store: Store, voices: Voices, community_id: int) -> bool:
    """Is the graph kept up to date by the ingest hook the same as one read afresh?"""
    kept = voices.cached_graph(community_id)
    if kept is None:
        return False
    fresh = CommunityEdges(
        await store.engagement_columns(community_id, 0, trust.KINDS),
        await store.thread_parents(community_id),
        kept.built_day,
    )

    def rows(edges: trust.Edges) -> np.ndarray:
        cols = np.stack(
            [edges.channel, edges.actor, edges.target, edges.day, edges.kind, edges.n.astype(np.int64)]
        )
        cols = cols[:, cols[5] > 0]
        return cols[:, np.lexsort(cols[::-1])]

    def said(posts: trust.Posts) -> np.ndarray:
        cols = np.stack([posts.member, posts.channel, posts.day])
        heads, group = _group(*cols)
        return np.vstack([cols[:, heads], np.bincount(group, weights=posts.n).astype(np.int64)])

    return np.array_equal(rows(kept.edges()), rows(fresh.edges())) and np.array_equal(
        said(kept.posts()), said(fresh.posts())
    )


def speed_table(s: Speed) -> list[str]:
    reference = s.query_seconds + s.pagerank_seconds
    w = 66

    def row(step: str, seconds: float | None, target: str = "") -> str:
        shown = "-" if seconds is None else f"{seconds:.2f}"
        return f"  {step:<{w}}{shown:>8}  {target}".rstrip()

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    load = "load (cached in bench/.cache)" if s.load_seconds is None else "load (bench/ledger_db, checked)"
    share = s.incremental_seconds / s.cold_seconds if s.cold_seconds else float("inf")
    of_rebuild = s.incremental_seconds / s.warm_seconds if s.warm_seconds else float("inf")
    return [
        f"  {'step':<{w}}{'seconds':>8}  target",
        row(f"{load}: {s.events:,} events, {s.engagement_rows:,} daily rows", s.load_seconds),
        row(f"(a1) reference: pair counts by SQL GROUP BY, {s.pairs:,} pairs", s.query_seconds),
        row(f"(a2) reference: bare PageRank, {s.pagerank_iterations} iterations", s.pagerank_seconds),
        row("(a) reference total", reference),
        row(
            f"(b) full recompute (reads the ledger's daily rows), {s.scopes} scopes",
            s.cold_seconds,
            f"per scope {s.cold_seconds / s.scopes:.3f} s <= (a):"
            f" {verdict(s.cold_seconds / s.scopes <= reference)}",
        ),
        row(
            "(b') full recompute from the in-memory graph (as on a new day)",
            s.warm_seconds,
            f"per scope {s.warm_seconds / s.scopes:.3f} s <= (a):"
            f" {verdict(s.warm_seconds / s.scopes <= reference)}",
        ),
        row(
            f"write {s.new_events:,} new events via Ingest (+ graph update hook), per round", s.insert_seconds
        ),
        row(
            f"(c) incremental recompute after {s.new_events:,} new events"
            + (f", median of {len(s.rounds)}" if len(s.rounds) > 1 else "")
            + ("" if s.in_place else " (NOT in place)"),
            s.incremental_seconds,
            f"< 10% of (b): {verdict(share < 0.1 and s.in_place)} ({share:.1%}; {of_rebuild:.0%} of (b'))",
        ),
        f"  incremental rounds: {', '.join(f'{t:.2f}s' for t in s.rounds)}",
        f"  graph kept up to date by the ingest hook equals a fresh read: {'yes' if s.consistent else 'NO'}",
        f"  incremental ranking equals a full recompute of the data: {'yes' if s.same_ranking else 'NO'}",
    ]


# ----------------------------------------------------------------------------------------------- main


def _quality_run(
    sc: Scenario,
    params: dict[str, Any] | None = None,
    control: bool = False,
    why: bool = False,
    view: str = "discord",
) -> tuple[list[Quality], float]:
    t0 = time.perf_counter()
    com = simulate(sc.seed, members=sc.members, days=sc.days, manipulation=sc.manipulation)
    chosen = trust.TrustParams(**params) if params else None
    rows = evaluate(com, sc.name, params=chosen, control=control, why=why, view=view)
    return rows, time.perf_counter() - t0


def quality(
    scenarios: Sequence[Scenario],
    *,
    jobs: int = 1,
    params: dict[str, Any] | None = None,
    control: bool = False,
    why: bool = False,
    view: str = "discord",
) -> list[Quality]:
    """Every scenario's rows, in scenario order; `jobs` processes run them side by side. `params`
    are `TrustParams` fields to change from the defaults; `control` adds the CONTROL ranking, `why`
    the members who took a failing run's places; `view` is how the communities are seen (`VIEWS`)."""
    results: list[Quality] = []
    n = len(scenarios)
    if jobs <= 1:
        done = (_quality_run(sc, params, control, why, view) for sc in scenarios)
    else:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
        done = pool.map(_quality_run, scenarios, [params] * n, [control] * n, [why] * n, [view] * n)
    try:
        for sc, (rows, seconds) in zip(scenarios, done, strict=True):
            _progress(f"{sc.name} (seed {sc.seed}): simulated and ranked in {seconds:.1f}s")
            results += rows
    finally:
        if jobs > 1:
            pool.shutdown()
    return results


async def demo_top(
    seed: int = 7, members: int = 200, days: float = 7.0, top: int = 10
) -> list[tuple[int, str]]:
    """The top of `make demo`'s ranking ('all' scope), computed the way the bot computes it: the
    demo's community recorded in a store, ranked by `Voices.recompute`, with the brand's staff
    excluded as the demo's brand contacts are. (member, role) pairs."""
    com = simulate(seed, members=members, days=days)
    led = ledger(com)

    async def brand_contacts(_community_id: int) -> frozenset[int]:
        return frozenset(com.labels["brand_staff"])

    with tempfile.TemporaryDirectory(prefix="microvoice-demo-bench-") as tmp:
        store = await Store.open(Path(tmp) / "demo.sqlite3")
        try:
            await store.record_bulk(event_rows(com, led), sightings(com, led), channel_infos(com))
            voices = Voices(store, clock=lambda: com.end, excluded=brand_contacts)
            await voices.recompute(com.guild_id)
            page = await voices.top(com.guild_id, "all", per_page=top)
        finally:
            await store.close()
    return [(e.member_id, com.label_of(e.member_id)) for e in page.entries]


def main(argv: Sequence[str] | None = None) -> None:
    allocator.tune()  # as the bot does at start (bot/allocator.py)
    ap = argparse.ArgumentParser(description="Trust-ranking quality and speed benchmark.")
    ap.add_argument("--quick", action="store_true", help="two small quality scenarios, no speed part")
    ap.add_argument("--no-speed", action="store_true", help="quality only")
    ap.add_argument("--max-members", type=int, default=None, help="only quality runs up to this size")
    ap.add_argument("--min-members", type=int, default=None, help="only quality runs from this size")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="quality runs side by side")
    ap.add_argument(
        "--seeds", type=int, default=None, help="only the first N seeds of each size (default: all, >= 20)"
    )
    ap.add_argument(
        "--seed-offset",
        type=int,
        default=0,
        help="add N to every community's random seed: held-out communities (the defaults were chosen on N=0)",
    )
    ap.add_argument(
        "--control",
        action="store_true",
        help="also rank every community without its manipulators (what the ranking loses on genuine members)",
    )
    ap.add_argument(
        "--why", action="store_true", help="for every run below the target, who took the voices' places"
    )
    ap.add_argument(
        "--subreddit",
        action="store_true",
        help="rank every community as a subreddit shows it: comments and posts only (no reactions),"
        " no join dates, records from the first day (quality only)",
    )
    args = ap.parse_args(argv)
    view = "subreddit" if args.subreddit else "discord"
    started = time.perf_counter()
    scenarios = QUICK if args.quick else SCENARIOS
    if args.seed_offset:
        scenarios = tuple(replace(sc, seed=sc.seed + args.seed_offset) for sc in scenarios)
        print(f"\n(held-out communities: every random seed shifted by {args.seed_offset})")
    if args.max_members is not None:
        scenarios = tuple(sc for sc in scenarios if sc.members <= args.max_members)
    if args.min_members is not None:
        scenarios = tuple(sc for sc in scenarios if sc.members >= args.min_members)
    if args.seeds is not None:
        kept: dict[int, int] = {}
        chosen = []
        for sc in scenarios:
            kept[sc.members] = kept.get(sc.members, 0) + 1
            if kept[sc.members] <= args.seeds:
                chosen.append(sc)
        scenarios = tuple(chosen)
        print(
            f"\n(the first {args.seeds} seeds of each size; the whole sweep, at least 20 seeds a size:"
            " `python -m bench.trust_quality --no-speed`, its last run in docs/trust.md)"
        )
    sizes = sorted({sc.members for sc in scenarios})
    print(
        f"\nTrust quality: {len(scenarios)} simulated communities of {sizes[0]:,} to {sizes[-1]:,} members "
        f"with every attack, at strengths {', '.join(map(str, STRENGTHS))}\n"
        f"(targets in every run: P@10 ≥ {TARGET_P10} against the genuine voices, "
        f"0 manipulators in the top {TOP})"
    )
    if args.subreddit:
        print(
            "Seen as subreddits: comments and posts only (Reddit shows no voter), accounts' ages but no"
            " join dates, every member's records beginning on the first day"
        )
    results = quality(scenarios, jobs=args.jobs, control=args.control, why=args.why, view=view)
    if args.quick:
        for line in quality_table(results):
            print(line)
    print("\nPer community size (P@10 against the genuine voices; manipulators in the top 20)")
    for line in sweep_table(results):
        print(line)
    if args.why:
        print(f"\nRuns below P@10 {TARGET_P10}: who took the voices' places (k = the places measured)")
        for q in results:
            if q.misplaced:
                head, *lines = q.misplaced
                print(f"  {q.scenario}, {head}: P@k {q.p10:.2f}, k = {max(1, min(10, q.voices))}")
                print("\n".join(f"    {line}" for line in lines))
    channels = channel_table(results)
    if len(channels) > 1:
        print(f"\nTopic channels ranked on their own (communities up to {CHANNELS_UP_TO:,} members)")
        for line in channels:
            print(line)
    print(f"\nPer attack: best rank any of its manipulators reached, over all {len(scenarios)} runs")
    for line in attack_table(results):
        print(line)
    mv = [q for q in results if q.method == "Microvoice"]
    print(f"  Microvoice: {sum(map(passed, mv))}/{len(mv)} runs PASS")
    if args.subreddit:
        print(f"  (trust benchmark took {time.perf_counter() - started:.1f}s)")
        return
    shown = asyncio.run(demo_top(top=DEPTH))
    listed = [(k, role) for k, (_, role) in enumerate(shown, start=1) if role in MANIPULATOR_ROLES]
    print(
        "\n`make demo`'s top 10 (seed 7, 200 members, 7 days), as the bot ranks it: "
        + ", ".join(f"#{k} {role}" for k, (_, role) in enumerate(shown[:10], start=1))
        + f"\n  its listing holds {len(shown)} members; manipulators listed: "
        + (", ".join(f"#{k} {role}" for k, role in listed) or "none")
    )

    if not (args.quick or args.no_speed):
        print(f"\nTrust recompute speed ({SPEED.name} community in a SQLite store)")
        com = simulate(SPEED.seed, members=SPEED.members, days=SPEED.days, manipulation=SPEED.manipulation)
        speed = asyncio.run(measure_speed(SPEED, com, ledger(com)))
        for line in speed_table(speed):
            print(line)
    print(f"  (trust benchmark took {time.perf_counter() - started:.1f}s)")


if __name__ == "__main__":
    main()
