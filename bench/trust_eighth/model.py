"""The eighth community model: a mechanical-keyboard enthusiasts' Discord server, simulated message by
message.

Every message has an id, an author, a channel and a day; every engagement names the message it engages
(a reply the message it answers, a reaction the message it is on, a post in a forum thread the thread's
opening post, a mention the message that contains it), and the daily rows the ranking sees are those
records summed (`PostRows.edges`, `Messages.posts`).

Assumptions (the community as it is, before any ranking was looked at):

* Channels: #announcements (moderators only; members react, replies are off), #general, #help
  (soldering, firmware, lubing, "what should I buy"), #builds-showcase (photos of finished builds),
  #group-buys (vendors' reps post group-buy news; members ask about it), #buy-sell-trade, #memes,
  #build-logs (a forum channel: a thread per build; a post in a thread credits its opener), #events
  (contests and meetups posted by moderators).
* Members: `size` accounts. About 0.6% moderators (at least 2), 0.3% vendors' reps (at least 1), 3%
  experienced builders and modders who answer questions, 12% regulars, 35% casual members and the
  rest lurkers who rarely post and mostly react. Two bots (a levelling bot that congratulates members
  by mention, a group-buy tracker that posts updates); nobody's engagement targets them. Each member
  lives in one of three time zones (Americas 55%, Europe 35%, Asia-Pacific 10%) and mostly meets
  people of their own; most posting members belong to one friend group of 5 to 20 (same zone), and
  friends answer and react to each other several times more than to strangers. Interests spread over
  six topics (switches, ergonomic/split boards, vintage boards, keycaps and artisans, budget and
  prebuilt boards, firmware); a post is about one of its author's topics and draws readers of it.
* History: 90 to 180 days before `today` (20_000). The server is about a year older than the history;
  three in four members joined before it began, the rest during it (newcomers ask more in #help in
  their first weeks). Accounts are usually years older than their joining (one in twenty was made
  within a month of it). About 6% of members left during the history (mostly casual ones).
* Who is online: each day a member is online with their own probability (role-dependent, varying by
  person), times a weekly mood of theirs (people go through phases), more at weekends and on event
  days, never before joining or after leaving. Only members online on a day engage that day's posts
  (reactions trickle in over up to three days, from members present then).
* Appeal: a post draws engagement by its appeal: the author's standing in that channel (build
  quality, humour, conversational pull, a rep's brand) times a per-post draw that is heavy-tailed
  (log-normal; widest for memes and builds), and very rarely (1 in 400) a post that goes viral on the
  server (ten times the appeal). Reactions grow with the audience online (for announcements in
  proportion; for chat much less), so most messages draw nothing, builds and memes tens of reactions
  sometimes, moderators' announcements a good share of who is online.
* Conversations: a root post gets a number of repliers (more by appeal, more in #general and #help);
  each replier answers the root or the latest message, and the two go back and forth for a few
  messages (each turn continues with a channel's probability). Seven in ten responses use Discord's
  reply (the rest are plain messages, which the records cannot attribute). In #help answerers are
  drawn by expertise, and the asker thanks an answer by a reply (65%) and/or a reaction (55%).
* Build logs: a forum thread draws participants over the following weeks (more by appeal); each
  posts one or more messages in the thread (each a thread post crediting the opener), the opener posts
  updates and replies to half of them.
* Mentions: one chat message in 25 mentions a friend; one help question in 12 pings an expert;
  a third of the announcements name a member (a contest winner); the levelling bot mentions a member
  each time their message count passes 20, 40, 80, ... .

Who the genuine voices are (`genuine_voices`; fixed from the organic records before any ranking, by
what a moderator or a brand would call a trusted voice of this server): a member still here today, no
bot, on whom at least `max(10, 2.5% of the members who posted)` distinct members *rely*, at least a
third of that many of them within the last 60 days, over at least three separate weeks. A member
relies on another if they thanked an answer of theirs in #help (a reply or reaction by the asker to
the other's message in the asker's own question's conversation), or engaged them substantively
(replied to their messages or posted in their build-log thread) on at least three separate days.
Members of one friend group never count for each other (friends answering friends is friendship, not
reliance). Reactions alone, mentions and a few days' replies never make a voice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from bench.trust_metrics import aggregate_edges, aggregate_posts, facts_from
from bot import trust

TODAY = 20_000
MEMBER_BASE = 440_000_000_000_000_000
BOT_BASE = 449_000_000_000_000_000
CHANNEL_BASE = 910_000_000_000_000_000
POST_BASE = 1_200_000_000_000_000_000
#: Attack accounts and messages: `+ attack index * ATTACK_STRIDE`.
ATTACK_MEMBER_BASE = 470_000_000_000_000_000
ATTACK_POST_BASE = 1_300_000_000_000_000_000
ATTACK_STRIDE = 1_000_000_000_000

CHANNELS = (
    "announcements",
    "general",
    "help",
    "builds-showcase",
    "group-buys",
    "buy-sell-trade",
    "memes",
    "build-logs",
    "events",
)
ANN, GEN, HELP, SHOW, GB, BST, MEME, LOGS, EVENTS = range(len(CHANNELS))
CHANNEL_IDS = CHANNEL_BASE + np.arange(len(CHANNELS), dtype=np.int64)
REPLY, REACTION, THREAD, COMMENT, MENTION = (trust.KINDS.index(k) for k in trust.KINDS)

ROLES = ("moderator", "vendor", "expert", "regular", "casual", "lurker")
MOD, VENDOR, EXPERT, REGULAR, CASUAL, LURKER = range(len(ROLES))
TOPICS = 6
ZONE_SHARE = (0.55, 0.35, 0.10)
ZONE_AFFINITY = np.array([[1.0, 0.45, 0.25], [0.45, 1.0, 0.3], [0.25, 0.3, 1.0]])
#: The audience online on an ordinary day of a 400-member server (reactions scale from it).
REF_ONLINE = 45.0

# Per role: p(online a day), root posts per online day, reaction and reply propensities, help skill.
P_ONLINE = np.array([0.75, 0.35, 0.5, 0.35, 0.07, 0.03])
ROOT_RATE = np.array([2.5, 1.2, 2.0, 2.0, 0.9, 0.06])
REACT_PROP = np.array([1.2, 0.6, 1.0, 1.3, 1.0, 0.6])
REPLY_PROP = np.array([1.4, 0.8, 1.6, 1.2, 0.55, 0.12])
HELP_SKILL = np.array([1.5, 1.0, 3.0, 0.6, 0.2, 0.1])
#: Where a role's root posts go (announcements and events are posted by moderators separately).
CHANNEL_PREF = np.array(
    [
        # ann gen   help  show  gb    bst   meme  logs  events
        [0.0, 0.60, 0.06, 0.08, 0.06, 0.04, 0.14, 0.02, 0.0],  # moderator
        [0.0, 0.35, 0.02, 0.10, 0.45, 0.03, 0.03, 0.02, 0.0],  # vendor
        [0.0, 0.50, 0.03, 0.16, 0.06, 0.07, 0.10, 0.08, 0.0],  # expert
        [0.0, 0.55, 0.09, 0.11, 0.06, 0.06, 0.10, 0.03, 0.0],  # regular
        [0.0, 0.50, 0.22, 0.07, 0.06, 0.07, 0.07, 0.01, 0.0],  # casual
        [0.0, 0.40, 0.35, 0.05, 0.05, 0.08, 0.07, 0.00, 0.0],  # lurker
    ]
)


@dataclass(frozen=True)
class ChannelDyn:
    """How a channel's root posts draw engagement."""

    react: float  # expected reactions at appeal 1 and REF_ONLINE online
    sigma: float  # spread (log-normal) of a post's own draw
    audience: float  # exponent of (online / REF_ONLINE) for reactions
    reply: float  # expected distinct repliers at appeal 1
    reply_exp: float  # exponent of appeal for repliers
    cont: float  # probability a back-and-forth continues one more turn


DYN = {
    ANN: ChannelDyn(14.0, 0.5, 1.0, 0.0, 0.5, 0.0),
    GEN: ChannelDyn(0.45, 0.9, 0.35, 0.85, 0.5, 0.55),
    HELP: ChannelDyn(0.15, 0.5, 0.2, 1.1, 0.3, 0.6),
    SHOW: ChannelDyn(3.2, 1.0, 0.8, 0.8, 0.5, 0.45),
    GB: ChannelDyn(1.0, 0.8, 0.7, 0.7, 0.5, 0.5),
    BST: ChannelDyn(0.12, 0.6, 0.2, 0.6, 0.3, 0.5),
    MEME: ChannelDyn(2.0, 1.3, 0.8, 0.3, 0.5, 0.4),
    LOGS: ChannelDyn(2.0, 0.9, 0.7, 1.4, 0.7, 0.0),
    EVENTS: ChannelDyn(7.0, 0.6, 1.0, 0.5, 0.5, 0.3),
}
EXPLICIT_REPLY = 0.7


def _col(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).ravel()


@dataclass(frozen=True)
class Messages:
    """Every message posted: id, author, channel (a forum thread's posts in the forum channel), day,
    the message it replies to (-1: none, or a reply the records cannot attribute) and the root of its
    conversation or thread (itself for a root)."""

    id: np.ndarray
    author: np.ndarray
    channel: np.ndarray
    day: np.ndarray
    reply_to: np.ndarray
    root: np.ndarray

    def __post_init__(self) -> None:
        cols = {f.name: _col(getattr(self, f.name)) for f in fields(self)}
        if len({len(c) for c in cols.values()}) > 1:
            raise ValueError("Messages columns must have equal lengths")
        for name, c in cols.items():
            object.__setattr__(self, name, c)

    def __len__(self) -> int:
        return len(self.id)

    @classmethod
    def empty(cls) -> Messages:
        z = np.zeros(0, np.int64)
        return cls(z, z, z, z, z, z)

    @classmethod
    def concat(cls, parts: Sequence[Messages]) -> Messages:
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def posts(self) -> trust.Posts:
        """Messages posted per (member, channel, day), as the ranking sees them."""
        return aggregate_posts([trust.Posts(self.author, self.channel, self.day, np.ones(len(self)))])


@dataclass(frozen=True)
class PostRows:
    """Engagement at the level of messages, one row per (engaged post, engaging actor, kind, day): the
    engaged message (`post`, its `author`, `channel`, `post_day`), whom the engagement credits
    (`target`: the author, except for a mention, which names the mentioned member while `post` is the
    mentioning message itself), the actor, the engagement's day, its kind (index into trust.KINDS) and
    how many (`n`: emoji on one message, posts in one thread that day)."""

    post: np.ndarray
    author: np.ndarray
    target: np.ndarray
    channel: np.ndarray
    post_day: np.ndarray
    actor: np.ndarray
    day: np.ndarray
    kind: np.ndarray
    n: np.ndarray

    def __post_init__(self) -> None:
        cols = {f.name: _col(getattr(self, f.name)) for f in fields(self)}
        if len({len(c) for c in cols.values()}) > 1:
            raise ValueError("PostRows columns must have equal lengths")
        for name, c in cols.items():
            object.__setattr__(self, name, c)

    def __len__(self) -> int:
        return len(self.post)

    @classmethod
    def empty(cls) -> PostRows:
        z = np.zeros(0, np.int64)
        return cls(z, z, z, z, z, z, z, z, z)

    @classmethod
    def concat(cls, parts: Sequence[PostRows]) -> PostRows:
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def summed(self) -> PostRows:
        """One row per (post, target, actor, kind, day), counts summed (rows in that key's order)."""
        if not len(self):
            return self
        keys = (self.day, self.kind, self.actor, self.target, self.post)
        order = np.lexsort(keys)
        sk = [k[order] for k in keys]
        new = np.r_[True, np.any([k[1:] != k[:-1] for k in sk], axis=0)]
        first = order[new]
        total = np.add.reduceat(self.n[order], np.flatnonzero(new))
        cols = [getattr(self, f.name)[first] for f in fields(self)][:-1]
        return PostRows(*cols, total)

    def edges(self) -> trust.Edges:
        """The daily rows the ranking sees: summed per (actor, target, channel, day, kind)."""
        z = trust.Edges(self.actor, self.target, self.channel, self.day, self.kind, self.n.astype(float))
        return aggregate_edges([z])


class Log:
    """Messages and engagement as they are made (organic or an attack's), with ids from `base`.

    `engage` takes engaged posts of this log or of `known` (a Messages table, e.g. the organic one);
    their author, channel and day are looked up when the log is finished."""

    def __init__(self, base: int, known: Messages | None = None) -> None:
        self.base = base
        self.known = known
        self.count = 0
        self._msgs: list[tuple[np.ndarray, ...]] = []
        self._rows: list[tuple[np.ndarray, ...]] = []

    def post(
        self,
        author: object,
        channel: object,
        day: object,
        reply_to: object = -1,
        root: object = None,
    ) -> np.ndarray:
        a = _col(author)
        k = len(a)
        ids = self.base + self.count + np.arange(k, dtype=np.int64)
        self.count += k
        rt = np.broadcast_to(_col(reply_to), (k,)) if k else _col([])
        ro = ids if root is None else np.broadcast_to(_col(root), (k,))
        ro = np.where(ro < 0, ids, ro)
        ch = np.broadcast_to(_col(channel), (k,))
        dy = np.broadcast_to(_col(day), (k,))
        self._msgs.append((ids, a, ch.copy(), dy.copy(), rt.copy(), ro.copy()))
        return ids

    def engage(
        self, post: object, actor: object, day: object, kind: int, n: object = 1, target: object = None
    ) -> None:
        """Engagement rows: `actor` engages `post` on `day` (`target` defaults to the post's author,
        looked up later; a mention names its target)."""
        p = _col(post)
        k = len(p)
        if not k:
            return
        a = np.broadcast_to(_col(actor), (k,)).copy()
        d = np.broadcast_to(_col(day), (k,)).copy()
        cnt = np.broadcast_to(_col(n), (k,)).copy()
        t = np.full(k, -1, np.int64) if target is None else np.broadcast_to(_col(target), (k,)).copy()
        self._rows.append((p, a, d, np.full(k, kind, np.int64), cnt, t))

    def messages(self) -> Messages:
        if not self._msgs:
            return Messages.empty()
        return Messages(*(np.concatenate(c) for c in zip(*self._msgs, strict=True)))

    def finish(self) -> tuple[PostRows, Messages]:
        """The post-level rows (self-engagement dropped) and this log's messages."""
        msgs = self.messages()
        if not self._rows:
            return PostRows.empty(), msgs
        post, actor, day, kind, n, target = (np.concatenate(c) for c in zip(*self._rows, strict=True))
        table = msgs if self.known is None else Messages.concat([self.known, msgs])
        order = np.argsort(table.id)
        idx = order[np.searchsorted(table.id, post, sorter=order)]
        if np.any(table.id[idx] != post):
            raise ValueError("engagement names an unknown message")
        author, channel, post_day = table.author[idx], table.channel[idx], table.day[idx]
        target = np.where(target < 0, author, target)
        keep = (actor != target) & (n > 0)
        rows = PostRows(
            post[keep],
            author[keep],
            target[keep],
            channel[keep],
            post_day[keep],
            actor[keep],
            day[keep],
            kind[keep],
            n[keep],
        )
        return rows.summed(), msgs


@dataclass
class People:
    """The organic members (index i is member `ids[i]`) and what drives their behaviour."""

    ids: np.ndarray
    role: np.ndarray
    p_online: np.ndarray
    root_rate: np.ndarray
    react_prop: np.ndarray
    reply_prop: np.ndarray
    help_skill: np.ndarray
    quality: np.ndarray  # (N, channels): standing of their posts per channel
    chan_pref: np.ndarray  # (N, channels): where their root posts go
    reads: np.ndarray  # (N, channels): how much they read each channel
    interest: np.ndarray  # (N, TOPICS)
    zone: np.ndarray
    group: np.ndarray  # friend group (-1: none)
    joined: np.ndarray
    created: np.ndarray
    left: np.ndarray  # NaN: still here


@dataclass
class Community:
    size: int
    seed: int
    today: int
    days: int
    start: int
    edges: trust.Edges
    posts: trust.Posts
    facts: trust.MemberFacts
    genuine: frozenset[int]
    counts: dict
    people: People
    bots: frozenset[int]
    online: np.ndarray  # (N, days) bool: member index online on day start + j
    post_rows: PostRows
    post_authors: Messages
    reliance: dict[int, int] = field(default_factory=dict)  # member -> distinct members relying on them

    def known_facts(self) -> dict[int, tuple[float, float, float]]:
        p = self.people
        out = {
            int(m): (float(j), float(c), float(lf))
            for m, j, c, lf in zip(p.ids, p.joined, p.created, p.left, strict=True)
        }
        for b in self.bots:
            out[int(b)] = (float(self.start - 500), float(self.start - 900), math.nan)
        return out

    def day_index(self, day: int | np.ndarray) -> np.ndarray:
        return np.asarray(day) - self.start

    def present(self, day: int) -> np.ndarray:
        """Member indexes present on `day`."""
        p = self.people
        left = np.where(np.isnan(p.left), np.inf, p.left)
        return np.flatnonzero((p.joined <= day) & (day < left))

    def online_on(self, day: int) -> np.ndarray:
        j = int(day) - self.start
        if j < 0 or j >= self.days:
            return np.zeros(0, np.int64)
        return np.flatnonzero(self.online[:, j])


def combine_posts(comm: Community, attack: object | None) -> tuple[PostRows, Messages]:
    """Organic post-level rows and messages with an attack's (if any): the messages concatenated, the
    rows one per (post, target, actor, kind, day) with counts summed (an attack may add to what a
    member already gave a post, e.g. a second emoji)."""
    if attack is None:
        return comm.post_rows, comm.post_authors
    return (
        PostRows.concat([comm.post_rows, attack.post_rows]).summed(),
        Messages.concat([comm.post_authors, attack.messages]),
    )


# --------------------------------------------------------------------------------------------- people


def _people(size: int, rng: np.random.Generator, start: int, today: int) -> People:
    n = size
    counts = [max(2, round(0.006 * n)), max(1, round(0.003 * n)), round(0.03 * n), round(0.12 * n)]
    counts.append(round(0.35 * n))
    counts.append(n - sum(counts))
    role = np.repeat(np.arange(len(ROLES)), counts)
    rng.shuffle(role)
    ln = lambda s: rng.lognormal(0.0, s, n)  # noqa: E731
    p_online = np.clip(P_ONLINE[role] * ln(0.45), 0.005, 0.95)
    root_rate = ROOT_RATE[role] * ln(0.5)
    react_prop = REACT_PROP[role] * ln(0.6)
    reply_prop = REPLY_PROP[role] * ln(0.5)
    help_skill = HELP_SKILL[role] * ln(0.45)
    chan_pref = CHANNEL_PREF[role] * rng.gamma(2.0, 0.5, (n, len(CHANNELS)))
    chan_pref /= np.maximum(chan_pref.sum(1, keepdims=True), 1e-12)
    reads = 0.3 + 4.0 * chan_pref
    reads[:, ANN] = 1.0
    reads[:, EVENTS] = 0.6
    reads[:, HELP] += 0.6 * help_skill  # experts watch #help
    # Standing of a member's posts in each channel: conversational pull, build quality, humour, brand.
    chat = ln(0.5) * np.where(np.isin(role, (MOD, EXPERT)), 1.3, 1.0)
    build = ln(0.6) * np.where(role == EXPERT, 1.5, np.where(role == REGULAR, 1.0, 0.7))
    humour = ln(0.7)
    quality = np.empty((n, len(CHANNELS)))
    quality[:, ANN] = 1.0
    quality[:, GEN] = chat
    quality[:, HELP] = ln(0.4)
    quality[:, SHOW] = build
    quality[:, GB] = np.where(role == VENDOR, 1.6 * ln(0.3), 0.5 * chat)
    quality[:, BST] = ln(0.4)
    quality[:, MEME] = humour
    quality[:, LOGS] = build
    quality[:, EVENTS] = 1.0
    interest = rng.dirichlet(np.full(TOPICS, 0.6), n)
    zone = rng.choice(3, n, p=ZONE_SHARE)
    # Friend groups among those who post; lurkers mostly belong to none.
    group = np.full(n, -1, np.int64)
    social = np.flatnonzero((role != LURKER) | (rng.random(n) < 0.1))
    next_group = 0
    for z in range(3):
        members = social[zone[social] == z]
        members = members[rng.random(len(members)) < 0.8]
        rng.shuffle(members)
        i = 0
        while i < len(members):
            k = int(rng.integers(5, 21))
            group[members[i : i + k]] = next_group
            next_group += 1
            i += k
    # Joining, account creation, leaving.
    joined = np.where(
        rng.random(n) < 0.75,
        start - rng.integers(1, 365, n),
        start + np.floor((today - start) * rng.random(n) ** 0.8).astype(np.int64),
    ).astype(float)
    joined[np.isin(role, (MOD, EXPERT))] = np.minimum(joined[np.isin(role, (MOD, EXPERT))], start - 20)
    gap = np.where(rng.random(n) < 0.05, rng.integers(0, 30, n), np.exp(rng.normal(7.0, 0.7, n)))
    created = np.floor(joined - gap)
    leave_p = np.select([role == CASUAL, role == LURKER, role == REGULAR], [0.09, 0.07, 0.03], 0.0)
    leaving = rng.random(n) < leave_p
    left_day = np.floor(np.maximum(joined, start) + 5 + rng.random(n) * (today - np.maximum(joined, start)))
    left = np.where(leaving & (left_day <= today), left_day, np.nan)
    ids = MEMBER_BASE + np.arange(n, dtype=np.int64)
    return People(
        ids,
        role,
        p_online,
        root_rate,
        react_prop,
        reply_prop,
        help_skill,
        quality,
        chan_pref,
        reads,
        interest,
        zone,
        group,
        joined,
        created,
        left,
    )


def _online(p: People, rng: np.random.Generator, start: int, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Who is online each day (N, days) and the day's activity factor (weekends, events)."""
    n = len(p.ids)
    day = start + np.arange(days)
    factor = np.where(day % 7 >= 5, 1.2, 1.0)
    event_days = rng.random(days) < 1 / 14
    factor = factor * np.where(event_days, 1.35, 1.0)
    weeks = days // 7 + 2
    mood = np.exp(rng.normal(0.0, 0.45, (n, weeks)))
    mood = np.take_along_axis(mood, (np.arange(days)[None, :] + rng.integers(0, 7, n)[:, None]) // 7, axis=1)
    new = (day[None, :] - p.joined[:, None] >= 0) & (day[None, :] - p.joined[:, None] < 14)
    prob = p.p_online[:, None] * factor[None, :] * mood * np.where(new, 2.5, 1.0)
    left = np.where(np.isnan(p.left), np.inf, p.left)
    present = (p.joined[:, None] <= day[None, :]) & (day[None, :] < left[:, None])
    online = (rng.random((n, days)) < np.minimum(prob, 0.97)) & present
    first = (day[None, :] == p.joined[:, None]) & present  # newcomers say hello the day they join
    return online | first, event_days


# ------------------------------------------------------------------------------------------- sampling


def pick(rng: np.random.Generator, weights: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row i of `weights`, min(k[i], nonzero) distinct columns drawn by weight (an exponential
    race). Returns (row, column) pairs, rows in order and each row's columns in draw order."""
    rows = np.flatnonzero(k > 0)
    if not len(rows) or weights.shape[1] == 0:
        z = np.zeros(0, np.int64)
        return z, z
    w = weights[rows]
    kk = np.minimum(k[rows], (w > 0).sum(1))
    with np.errstate(divide="ignore"):
        keys = rng.exponential(size=w.shape) / w
    kmax = int(kk.max()) if len(kk) else 0
    if kmax == 0:
        z = np.zeros(0, np.int64)
        return z, z
    if kmax < w.shape[1]:
        part = np.argpartition(keys, kmax - 1, axis=1)[:, :kmax]
    else:
        part = np.tile(np.arange(w.shape[1]), (len(rows), 1))
    sub = np.take_along_axis(keys, part, axis=1)
    order = np.argsort(sub, axis=1)
    cols = np.take_along_axis(part, order, axis=1)
    mask = np.arange(cols.shape[1])[None, :] < kk[:, None]
    return np.repeat(rows, mask.sum(1)), cols[mask]


def audience_weights(
    p: People, authors: np.ndarray, channel: np.ndarray, topic: np.ndarray, online: np.ndarray, friends: float
) -> np.ndarray:
    """(posts, online members) weight of each online member engaging each post: how much they read
    the channel, care about the topic, share the author's time zone and friend group; never the
    author."""
    w = p.reads[online][:, channel].T * (0.3 + 3.0 * p.interest[online][:, topic].T)
    w *= ZONE_AFFINITY[p.zone[authors]][:, p.zone[online]]
    ga, go = p.group[authors], p.group[online]
    w *= 1.0 + friends * ((ga[:, None] == go[None, :]) & (ga[:, None] >= 0))
    w[authors[:, None] == online[None, :]] = 0.0
    return w


def lag_days(
    rng: np.random.Generator, day: np.ndarray, actor: np.ndarray, left: np.ndarray, today: int, spread: float
) -> np.ndarray:
    """Engagement days: the post's day, or up to three days later (probability `spread` of a later
    day), while the actor is still present and not beyond today."""
    lag = np.where(rng.random(len(day)) < spread, rng.integers(1, 4, len(day)), 0)
    out = day + lag
    bad = (out > today) | (out >= left[actor])
    return np.where(bad, day, out)


# ----------------------------------------------------------------------------------------- simulation


def _topic(rng: np.random.Generator, interest: np.ndarray) -> np.ndarray:
    g = rng.gumbel(size=interest.shape)
    return np.argmax(np.log(interest + 1e-12) + g, axis=1)


def _simulate(p: People, rng: np.random.Generator, start: int, days: int, today: int) -> tuple:
    n = len(p.ids)
    online, event_days = _online(p, rng, start, days)
    left = np.where(np.isnan(p.left), np.inf, p.left)
    # Messages as index arrays; ids = POST_BASE + index.
    m_author: list[np.ndarray] = []
    m_channel: list[np.ndarray] = []
    m_day: list[np.ndarray] = []
    m_reply: list[np.ndarray] = []
    m_root: list[np.ndarray] = []
    rows: list[tuple[np.ndarray, ...]] = []  # (post idx, actor, day, kind, n, target or -1)
    count = 0

    def add_msgs(
        author: np.ndarray, channel: np.ndarray, day: np.ndarray, reply: np.ndarray, root: np.ndarray
    ) -> np.ndarray:
        nonlocal count
        idx = count + np.arange(len(author), dtype=np.int64)
        count += len(author)
        m_author.append(_col(author))
        m_channel.append(np.broadcast_to(_col(channel), idx.shape).copy())
        m_day.append(np.broadcast_to(_col(day), idx.shape).copy())
        m_reply.append(np.broadcast_to(_col(reply), idx.shape).copy())
        root_c = np.broadcast_to(_col(root), idx.shape).copy()
        m_root.append(np.where(root_c < 0, idx, root_c))
        return idx

    def add_rows(
        post: object, actor: object, day: object, kind: int, cnt: object = 1, target: object = -1
    ) -> None:
        post = _col(post)
        k = len(post)
        if k:
            b = lambda x: np.broadcast_to(_col(x), (k,)).copy()  # noqa: E731
            rows.append((post, b(actor), b(day), np.full(k, kind, np.int64), b(cnt), b(target)))

    mods = np.flatnonzero(p.role == MOD)
    experts_w = p.help_skill**2
    for j in range(days):
        day = start + j
        on = np.flatnonzero(online[:, j])
        if len(on) < 2:
            continue
        aud = len(on) / REF_ONLINE
        newbie = (day - p.joined[on] >= 0) & (day - p.joined[on] < 21)
        # Root posts by channel.
        lam = p.root_rate[on][:, None] * p.chan_pref[on]
        lam[:, HELP] *= np.where(newbie, 3.0, 1.0)
        cnt = rng.poisson(lam)
        who, chan = np.nonzero(cnt)
        reps = cnt[who, chan]
        r_author, r_chan = np.repeat(on[who], reps), np.repeat(chan, reps)
        # Moderators' announcements and events (the first post of an event day announces the event).
        mods_on = mods[online[mods, j]]
        n_ann = rng.poisson(0.3) + (1 + rng.poisson(0.5) if event_days[j] else 0) if len(mods_on) else 0
        if n_ann:
            a = rng.choice(mods_on, n_ann)
            c = np.where(event_days[j] & (np.arange(n_ann) == 0), EVENTS, ANN)
            r_author, r_chan = np.concatenate([r_author, a]), np.concatenate([r_chan, c])
        if not len(r_author):
            continue
        k = len(r_author)
        topic = _topic(rng, p.interest[r_author])
        appeal = p.quality[r_author, r_chan] * np.exp(
            rng.normal(0.0, [DYN[c].sigma for c in r_chan], k)
            - 0.5 * np.array([DYN[c].sigma for c in r_chan]) ** 2
        )
        appeal *= np.where(rng.random(k) < 1 / 400, 10.0, 1.0)
        roots = add_msgs(r_author, r_chan, day, -1, -1)
        dyn = [DYN[c] for c in r_chan]
        react_base = np.array([d.react for d in dyn])
        aud_exp = np.array([d.audience for d in dyn])
        # Mentions in root posts: a friend in chat, an expert in #help, a winner in announcements.
        chatty = np.isin(r_chan, (GEN, MEME, BST)) & (rng.random(k) < 0.04)
        _mention_friends(rng, p, online[:, j], roots[chatty], r_author[chatty], day, add_rows)
        ping = (r_chan == HELP) & (rng.random(k) < 1 / 12)
        for post, a in zip(roots[ping], r_author[ping], strict=True):
            w = experts_w * online[:, j]
            w[a] = 0
            if w.sum() > 0:
                add_rows(post, a, day, MENTION, 1, int(rng.choice(n, p=w / w.sum())))
        winner = np.isin(r_chan, (ANN, EVENTS)) & (rng.random(k) < 1 / 3)
        for post, a in zip(roots[winner], r_author[winner], strict=True):
            w = p.quality[:, SHOW] * (left > day) * (p.joined <= day)
            w[a] = 0
            add_rows(post, a, day, MENTION, 1, int(rng.choice(n, p=w / w.sum())))

        # Conversations on root posts (forum threads apart).
        reply_base = np.array([d.reply for d in dyn])
        reply_exp = np.array([d.reply_exp for d in dyn])
        n_rep = rng.poisson(reply_base * appeal**reply_exp * aud**0.25)
        n_rep[r_chan == LOGS] = 0
        w = audience_weights(p, r_author, r_chan, topic, on, 3.0) * p.reply_prop[on][None, :]
        help_rows = r_chan == HELP
        w[help_rows] *= (0.15 + experts_w[on])[None, :]
        ri, ci = pick(rng, w, n_rep)
        c_author, c_chan, local, c_root, c_expl, thanks = _conversations(
            rng, ri, on[ci], roots, r_author, r_chan
        )
        reply_idx = count + np.arange(len(c_author), dtype=np.int64)
        target_msg = np.where(local >= 0, reply_idx[np.maximum(local, 0)], roots[np.maximum(-local - 1, 0)])
        add_msgs(c_author, c_chan, day, np.where(c_expl, target_msg, -1), c_root)
        add_rows(target_msg[c_expl], c_author[c_expl], day, REPLY)
        # Askers' thanks by reaction.
        add_rows(reply_idx[thanks], _asker(c_root[thanks], roots, r_author), day, REACTION)
        chatty = np.isin(c_chan, (GEN, MEME, BST)) & (rng.random(len(c_author)) < 0.04)
        _mention_friends(rng, p, online[:, j], reply_idx[chatty], c_author[chatty], day, add_rows)

        # Reactions on every message of the day.
        rq = p.quality[c_author, GEN] * np.exp(rng.normal(-0.32, 0.8, len(c_author)))
        lam_r = np.concatenate(
            [react_base * appeal * aud**aud_exp, np.where(c_chan == HELP, 0.25, 0.12) * rq * aud**0.3]
        )
        all_msgs = np.concatenate([roots, reply_idx])
        all_author = np.concatenate([r_author, c_author])
        all_chan = np.concatenate([r_chan, c_chan])
        all_topic = np.concatenate([topic, _topic(rng, p.interest[c_author])])
        n_react = np.minimum(rng.poisson(lam_r), len(on) - 1)
        has = n_react > 0
        if has.any():
            w = audience_weights(p, all_author[has], all_chan[has], all_topic[has], on, 1.5)
            w *= p.react_prop[on][None, :]
            ri, ci = pick(rng, w, n_react[has])
            msg = all_msgs[has][ri]
            actor = on[ci]
            spread = np.where(np.isin(all_chan[has][ri], (SHOW, MEME, ANN, EVENTS, LOGS, GB)), 0.3, 0.1)
            dday = lag_days(rng, np.full(len(msg), day), actor, left, today, spread)
            emoji = 1 + (rng.random(len(msg)) < 0.12) + (rng.random(len(msg)) < 0.03)
            add_rows(msg, actor, dday, REACTION, emoji)

        # Forum threads: participants over the following weeks.
        logs = np.flatnonzero(r_chan == LOGS)
        if len(logs):
            n_part = rng.poisson(DYN[LOGS].reply * appeal[logs] ** DYN[LOGS].reply_exp * aud**0.3)
            w = (
                audience_weights(p, r_author[logs], r_chan[logs], topic[logs], on, 3.0)
                * p.reply_prop[on][None, :]
            )
            ri, ci = pick(rng, w, n_part)
            _thread(rng, p, ri, on[ci], roots[logs], r_author[logs], day, today, left, add_msgs, add_rows)

    messages = (
        np.concatenate(m_author),
        np.concatenate(m_channel),
        np.concatenate(m_day),
        np.concatenate(m_reply),
        np.concatenate(m_root),
    )
    eng = tuple(np.concatenate(c) for c in zip(*rows, strict=True))
    return online, messages, eng


def _asker(root_idx: np.ndarray, roots: np.ndarray, r_author: np.ndarray) -> np.ndarray:
    return r_author[np.searchsorted(roots, root_idx)]


def _mention_friends(rng, p: People, on_today: np.ndarray, posts, authors, day, add_rows) -> None:
    for post, a in zip(posts, authors, strict=True):
        g = p.group[a]
        if g < 0:
            continue
        friends = np.flatnonzero((p.group == g) & on_today)
        friends = friends[friends != a]
        if len(friends):
            add_rows(post, a, day, MENTION, 1, int(rng.choice(friends)))


def _conversations(
    rng: np.random.Generator,
    ri: np.ndarray,
    repliers: np.ndarray,
    roots: np.ndarray,
    r_author: np.ndarray,
    r_chan: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reply chains on the day's roots: each replier answers the root (or the latest message), the two
    go back and forth while the channel's continuation holds. Returns per reply message its author,
    channel, what it replies to (a local index >= 0 into these messages, or -(root position + 1)),
    its root's message index, whether it is an explicit reply, and whether the asker reacted to it as
    thanks (#help)."""
    authors: list[int] = []
    reply: list[int] = []
    chans: list[int] = []
    root_of: list[int] = []
    thanks: list[bool] = []
    if not len(ri):
        z = np.zeros(0, np.int64)
        return z, z, z, z, z.astype(bool), z.astype(bool)
    u = rng.random((len(ri), 16))
    starts = np.flatnonzero(np.r_[True, ri[1:] != ri[:-1]])
    ends = np.r_[starts[1:], len(ri)]
    for s, e in zip(starts, ends, strict=True):
        r = int(ri[s])
        a0 = int(r_author[r])
        c = int(r_chan[r])
        cont = DYN[c].cont
        latest: tuple[int, int] = (-(r + 1), a0)  # (reference, its author)
        for i in range(s, e):
            who = int(repliers[i])
            uu = u[i]
            ref, ref_author = (-(r + 1), a0) if uu[0] < 0.7 or latest[1] == who else latest
            authors.append(who)
            reply.append(ref)
            chans.append(c)
            root_of.append(r)
            thanks.append(False)
            me, other = len(authors) - 1, ref_author
            turn = 1
            while turn < 15 and uu[turn] < cont * (0.85 ** (turn - 1)):
                speaker = other if turn % 2 else who
                authors.append(speaker)
                reply.append(me)
                chans.append(c)
                root_of.append(r)
                thanks.append(False)
                me = len(authors) - 1
                turn += 1
            if c == HELP and ref_author == a0 and uu[15] < 0.55:
                thanks[len(authors) - turn] = True  # the asker reacts to the first answer
            if c == HELP and ref_author == a0 and turn == 1 and uu[14] < 0.65:
                authors.append(a0)  # the asker's thanks as a reply
                reply.append(len(authors) - 2)
                chans.append(c)
                root_of.append(r)
                thanks.append(False)
            latest = (len(authors) - 1, authors[-1])
    expl = rng.random(len(authors)) < EXPLICIT_REPLY
    return (
        np.array(authors, np.int64),
        np.array(chans, np.int64),
        np.array(reply, np.int64),
        roots[np.array(root_of, np.int64)],
        expl,
        np.array(thanks, bool),
    )


def _thread(rng, p, ri, parts, opener_posts, openers, day, today, left, add_msgs, add_rows) -> None:
    """Posts in build-log threads: each participant posts one or more messages over the following
    weeks (each a thread post crediting the opener); the opener replies to half of them and posts
    updates of their own."""
    for t, (post, opener) in enumerate(zip(opener_posts, openers, strict=True)):
        updates = rng.poisson(3.0)
        if updates:
            ud = day + np.sort(rng.integers(1, 40, updates))
            ud = ud[(ud <= today) & (ud < left[opener])]
            add_msgs(np.full(len(ud), opener), LOGS, ud, -1, post)
        mine = parts[ri == t]
        if not len(mine):
            continue
        k = 1 + rng.geometric(0.5, len(mine)) - 1
        who = np.repeat(mine, k)
        d = day + np.floor(rng.exponential(5.0, len(who))).astype(np.int64)
        ok = (d <= today) & (d < left[who])
        who, d = who[ok], d[ok]
        if not len(who):
            continue
        idx = add_msgs(who, LOGS, d, -1, post)
        add_rows(np.full(len(who), post), who, d, THREAD)
        back = (rng.random(len(who)) < 0.5) & (d < left[opener])
        if back.any():
            add_msgs(np.full(int(back.sum()), opener), LOGS, d[back], idx[back], post)
            add_rows(idx[back], opener, d[back], REPLY)


# ------------------------------------------------------------------------------------------ community

LEVELER, TRACKER = BOT_BASE, BOT_BASE + 1
#: The genuine-voice rule: substantive engagement on this many separate days makes a member rely on
#: another; a voice is relied on by at least this many, and this share of the members who posted.
SEVERAL_DAYS = 3
MIN_RELYING = 10
RELYING_SHARE = 0.025


def build_community(size: int, seed: int) -> Community:
    """The organic server of `size` members, deterministic from (size, seed)."""
    rng = np.random.default_rng([seed, size, 8])
    days = int(rng.integers(90, 181))
    today = TODAY
    start = today - days + 1
    p = _people(size, rng, start, today)
    online, (ma, mc, md, mr, mroot), (post, actor, day, kind, cnt, target) = _simulate(
        p, rng, start, days, today
    )
    # Indexes to ids.
    m_ids = POST_BASE + np.arange(len(ma), dtype=np.int64)
    msgs = Messages(
        m_ids,
        p.ids[ma],
        CHANNEL_IDS[mc],
        md,
        np.where(mr >= 0, POST_BASE + mr, -1),
        POST_BASE + mroot,
    )
    author = ma[post]
    tgt = np.where(target >= 0, target, author)
    keep = (actor != tgt) & (cnt > 0)
    rows = PostRows(
        m_ids[post][keep],
        p.ids[author][keep],
        p.ids[tgt][keep],
        CHANNEL_IDS[mc[post]][keep],
        md[post][keep],
        p.ids[actor][keep],
        day[keep],
        kind[keep],
        cnt[keep],
    )
    bot_rows, bot_msgs = _bots(msgs, rng, start, today)
    post_rows = PostRows.concat([rows, bot_rows]).summed()
    messages = Messages.concat([msgs, bot_msgs])
    bots = frozenset({LEVELER, TRACKER})
    edges = post_rows.edges()
    posts = messages.posts()
    comm = Community(
        size=size,
        seed=seed,
        today=today,
        days=days,
        start=start,
        edges=edges,
        posts=posts,
        facts=trust.MemberFacts(),
        genuine=frozenset(),
        counts={},
        people=p,
        bots=bots,
        online=online,
        post_rows=post_rows,
        post_authors=messages,
    )
    comm.facts = facts_from(edges, posts, comm.known_facts(), bots)
    comm.genuine, comm.reliance = genuine_voices(comm)
    comm.counts = _counts(comm)
    return comm


def _bots(msgs: Messages, rng: np.random.Generator, start: int, today: int) -> tuple[PostRows, Messages]:
    """The levelling bot congratulates a member (by mention) each time their message count passes 20,
    40, 80, ...; the group-buy tracker posts an update most days."""
    log = Log(POST_BASE + len(msgs) + 1)
    order = np.lexsort((msgs.id, msgs.author))
    a, d = msgs.author[order], msgs.day[order]
    first = np.r_[0, np.flatnonzero(a[1:] != a[:-1]) + 1]
    nth = np.arange(len(a)) - np.repeat(first, np.diff(np.r_[first, len(a)]))
    level = (nth + 1) % 20 == 0  # message number 20 * 2^k
    q = (nth + 1) // 20
    level &= (q & (q - 1)) == 0
    who, when = a[level], d[level]
    ids = log.post(np.full(len(who), LEVELER), CHANNEL_IDS[GEN], when)
    log.engage(ids, LEVELER, when, MENTION, 1, target=who)
    gb_days = start + np.flatnonzero(rng.random(today - start + 1) < 0.7)
    log.post(np.full(len(gb_days), TRACKER), CHANNEL_IDS[GB], gb_days)
    return log.finish()


def genuine_voices(comm: Community) -> tuple[frozenset[int], dict[int, int]]:
    """The genuine voices from the organic records (module docstring): members still here, on whom at
    least max(10, 2.5% of posting members) distinct members outside their friend group rely (thanked
    an answer of theirs in #help, or replied to them / posted in their build log on three separate
    days), a third of those within the last 60 days, over at least three separate weeks. Returns them
    and, per member, how many rely on them."""
    rows, msgs = comm.post_rows, comm.post_authors
    bots = np.array(sorted(comm.bots), np.int64)
    human = ~np.isin(rows.actor, bots) & ~np.isin(rows.author, bots) & (rows.actor != rows.author)
    # Thanks: in #help, the asker (author of the conversation's root) replies or reacts to the message.
    order = np.argsort(msgs.id)
    pos = order[np.searchsorted(msgs.id, rows.post, sorter=order)]
    root = msgs.root[pos]
    rpos = order[np.searchsorted(msgs.id, root, sorter=order)]
    asker = msgs.author[rpos]
    thanked = (
        human
        & (rows.channel == CHANNEL_IDS[HELP])
        & np.isin(rows.kind, (REPLY, REACTION))
        & (rows.actor == asker)
        & (root != rows.post)
    )
    substantive = human & np.isin(rows.kind, (REPLY, THREAD))
    # Friends answering friends is friendship, not reliance: pairs of one friend group never count.
    p = comm.people
    group = dict(zip(p.ids.tolist(), p.group.tolist(), strict=True))
    ga = np.array([group.get(x, -1) for x in rows.author.tolist()], np.int64)
    gb = np.array([group.get(x, -2) for x in rows.actor.tolist()], np.int64)
    friends = (ga == gb) & (ga >= 0)
    thanked &= ~friends
    substantive &= ~friends
    # Pairs (author, actor) that rely: thanked once, or substantive on two separate days.
    pair_t = set(zip(rows.author[thanked].tolist(), rows.actor[thanked].tolist(), strict=True))
    s_author, s_actor, s_day = rows.author[substantive], rows.actor[substantive], rows.day[substantive]
    uniq = (
        np.unique(np.stack([s_author, s_actor, s_day], axis=1), axis=0) if len(s_author) else np.zeros((0, 3))
    )
    pairs, n_days = (
        np.unique(uniq[:, :2], axis=0, return_counts=True) if len(uniq) else (np.zeros((0, 2)), [])
    )
    pair_s = {(int(a), int(b)) for (a, b), k in zip(pairs, n_days, strict=True) if k >= SEVERAL_DAYS}
    relied = pair_t | pair_s
    # When each reliance happened (last qualifying day) and in which weeks a member was relied on.
    last_day: dict[tuple[int, int], int] = {}
    weeks: dict[int, set[int]] = {}
    q = thanked | substantive
    for a, b, d in zip(rows.author[q].tolist(), rows.actor[q].tolist(), rows.day[q].tolist(), strict=True):
        if (a, b) in relied:
            last_day[(a, b)] = max(last_day.get((a, b), d), d)
            weeks.setdefault(a, set()).add((d - comm.start) // 7)
    total: dict[int, int] = {}
    recent: dict[int, int] = {}
    for (a, _b), d in last_day.items():
        total[a] = total.get(a, 0) + 1
        if d > comm.today - 60:
            recent[a] = recent.get(a, 0) + 1
    posters = len(np.setdiff1d(np.unique(msgs.author), bots))
    need = max(MIN_RELYING, math.ceil(RELYING_SHARE * posters))
    gone = set(p.ids[~np.isnan(p.left)].tolist())
    chosen = {
        a
        for a, k in total.items()
        if k >= need and recent.get(a, 0) >= need / 3 and len(weeks.get(a, ())) >= 3 and a not in gone
    }
    return frozenset(chosen), total


def _counts(comm: Community) -> dict:
    rows, msgs = comm.post_rows, comm.post_authors
    per_post = np.zeros(len(msgs))
    order = np.argsort(msgs.id)
    pos = order[np.searchsorted(msgs.id, rows.post, sorter=order)]
    np.add.at(per_post, pos, rows.n)
    p = comm.people
    role_of = dict(zip(p.ids.tolist(), p.role.tolist(), strict=True))
    roles = [ROLES[role_of[g]] for g in comm.genuine]
    return {
        "members": comm.size,
        "days": comm.days,
        "posting_members": len(np.unique(msgs.author)) - 2,
        "messages": len(msgs),
        "engagements": int(rows.n.sum()),
        "share_no_engagement": float(np.mean(per_post == 0)),
        "share_1_2": float(np.mean((per_post >= 1) & (per_post <= 2))),
        "max_on_one_post": int(per_post.max()) if len(per_post) else 0,
        "posts_10plus": int(np.sum(per_post >= 10)),
        "mean_online": float(comm.online.sum(0).mean()),
        "genuine": len(comm.genuine),
        "genuine_roles": {r: roles.count(r) for r in sorted(set(roles))},
    }
