"""An organic niche Discord server, simulated day by day, and the members it genuinely relies on.

Assumptions about how such a server behaves:

* **Roles.** Most members are *lurkers* (about 46%): they open the server now and then, read, and
  mostly react; they write a message every month or so. *Casual* members (30%) chat a little on the
  days they come by. *Regulars* (13%) are there most days and carry the conversation in the chat
  channels. *Experts* (5%) are the genuinely knowledgeable members: they post less than regulars but
  answer most of the questions in the help forum, and their answers are thanked. *Creators* (4%) post
  their work in the showcase channel, which draws many reactions and some feedback. *Moderators*
  (about 0.6%, at least three) are there nearly every day, post announcements and chat. Within a role
  activity is heavy-tailed (log-normal per member), and so is how much others respond to a member's
  posts ("appeal") and how readily they react. A quarter of lurkers and casual members are dormant:
  they joined, looked around and hardly ever come back (a tenth of their role's visits). The larger
  the server, the smaller the share of its members around on a given day (visits scale with
  size ** -0.25).
* **Channels and cultures.** `#general` is chat: messages draw replies, replies are often answered
  back and conversations run for a few turns; people mention their friends. `#help` is a forum: a
  question opens a thread, answers are messages in that thread (crediting the asker, who opened it),
  and the asker thanks a good answer with a reply and a reaction; bystanders react to good answers.
  `#showcase` draws many reactions and a little feedback in threads. `#memes` is reactions and
  one-liners. `#announcements` is for moderators and only reacted to. A few topic channels (more in
  larger servers) are chat with their own reply rates and weekend habits. Members have their own mix
  of channels (a Dirichlet draw around their role's mix).
* **Time.** Activity follows the week (more at the weekend in chat, less in help), drifts slowly
  (a server grows or fades over its history), and jumps for a few days around events (a game
  update, a release). A member who just joined is more active for a few weeks (honeymoon), some
  members take a break of one to four weeks, and interest fades slowly with tenure.
* **Arrivals and departures.** About a third of the members predate the history (founders, more
  likely moderators and experts); the others arrive over it, with one or two waves when the server is
  listed or shared somewhere. Many arrivals are tourists who leave within days or weeks; others leave
  at some point. Accounts are usually years older than their arrival here; a few are fresh.
* **Friendships.** Each member has a few friends (regulars and moderators many), mostly among
  members who favour the same channels. Friends are more likely to reply to and react to each other,
  and are who a member mentions.
* **Popularity.** Responses to a post scale with the author's appeal and grow a little with
  tenure (people get known). Replies come from the members online that day who read that channel,
  weighted by how chatty they are; answers in `#help` come weighted by skill; reactions come mostly
  from members who like reacting (lurkers included).

Every message a member writes (initiatives, replies, answers in threads, thanks) is a post.

**Genuine voices** (decided before any ranking was looked at; computed on the organic data only):
members still in the server who posted in the last 45 days and who, over the last 90 days, are
either an expert who answered questions of at least 5 distinct askers, or a creator whose showcase
posts at least 12 distinct members engaged, or among the max(10, 3% of N) members engaged by the most
distinct non-moderator members (at least 8; each engager counted when it engaged them at least twice
by reply, mention, reaction, or a message in a thread they opened outside `#help`).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from bot import trust

TODAY = 20_000
FIRST_ID = 10_000
FIRST_CHANNEL = 1000
KIND = {name: i for i, name in enumerate(trust.KINDS)}
REPLY, REACTION, THREAD, MENTION = KIND["reply"], KIND["reaction"], KIND["thread_reply"], KIND["mention"]

ROLES = ("lurker", "casual", "regular", "expert", "creator", "moderator")
STYLES = ("chat", "forum", "showcase", "memes", "announce")


@dataclass(frozen=True)
class RoleProfile:
    """How a role behaves: all rates are per day online, before the member's own multiplier."""

    share: float  # share of the server (moderators are counted separately)
    online: float  # probability to open the server on an ordinary day
    initiatives: float  # new messages per online day
    chat: float  # propensity to reply to what others wrote
    react: float  # propensity to react
    skill: float  # propensity (and competence) to answer questions in #help
    appeal: float  # how much others respond to their posts
    friends: float  # mean number of friends
    founder: float  # probability to be there before the history starts
    mix: tuple[float, ...]  # channel-style mix: chat, forum, showcase, memes, announce


PROFILES: dict[str, RoleProfile] = {
    "lurker": RoleProfile(0.46, 0.10, 0.04, 0.06, 1.0, 0.0, 0.6, 1.0, 0.25, (1.0, 0.8, 0.3, 1.2, 0.0)),
    "casual": RoleProfile(0.30, 0.18, 0.45, 0.5, 0.8, 0.1, 0.9, 3.0, 0.3, (1.5, 0.6, 0.3, 0.8, 0.0)),
    "regular": RoleProfile(0.13, 0.65, 2.2, 1.5, 1.0, 0.4, 1.0, 8.0, 0.5, (2.0, 0.5, 0.3, 0.7, 0.0)),
    "expert": RoleProfile(0.05, 0.50, 0.7, 0.8, 0.6, 3.0, 1.5, 5.0, 0.6, (1.0, 1.6, 0.4, 0.2, 0.0)),
    "creator": RoleProfile(0.04, 0.35, 0.6, 0.6, 0.8, 0.3, 2.0, 5.0, 0.45, (1.0, 0.3, 1.8, 0.4, 0.0)),
    "moderator": RoleProfile(0.0, 0.85, 1.3, 1.0, 0.8, 1.0, 1.1, 10.0, 0.95, (1.6, 0.6, 0.3, 0.4, 0.25)),
}


@dataclass(frozen=True)
class Culture:
    """A channel's culture: responses per message before the author's appeal."""

    name: str
    style: str
    replies: float  # direct responses per message (answers in a forum)
    back: float  # probability the author answers a reply back
    reactions: float  # reactions per message
    mention: float  # probability a message mentions a friend
    weekend: float  # activity multiplier at the weekend


BASE_CHANNELS = (
    Culture("general", "chat", 0.9, 0.5, 0.6, 0.06, 1.3),
    Culture("help", "forum", 1.3, 0.6, 0.4, 0.04, 0.8),
    Culture("showcase", "showcase", 0.5, 0.7, 4.0, 0.02, 1.1),
    Culture("memes", "memes", 0.25, 0.3, 3.0, 0.03, 1.4),
    Culture("announcements", "announce", 0.0, 0.0, 8.0, 0.0, 1.0),
)


@dataclass
class Community:
    """An organic server: member facts, what happened in it, and who its genuine voices are."""

    size: int
    seed: int
    start: int  # first day of the history
    today: int
    ids: np.ndarray
    roles: list[str]
    joined: np.ndarray  # day joined (float)
    created: np.ndarray  # account creation day (float)
    leave: np.ndarray  # day left (inf if still here)
    friends: list[list[int]]  # member indexes
    channels: list[Culture]
    channel_ids: np.ndarray
    appeal: np.ndarray
    edges: trust.Edges
    posts: trust.Posts
    facts: trust.MemberFacts
    genuine: frozenset[int] = field(default_factory=frozenset)

    def channel(self, name: str) -> int:
        """Channel id of the channel named `name`."""
        for culture, cid in zip(self.channels, self.channel_ids, strict=True):
            if culture.name == name:
                return int(cid)
        raise KeyError(name)

    def index(self, member_id: int) -> int:
        return int(member_id) - FIRST_ID

    def present(self, day: float) -> np.ndarray:
        """Mask of the members in the server on `day`."""
        return (self.joined <= day) & (self.leave > day)

    def recent_posts(self, days: int = 60) -> np.ndarray:
        """Posts per member (by index) over the last `days` days."""
        mask = self.posts.day >= self.today - days
        out = np.zeros(self.size)
        np.add.at(out, self.posts.member[mask] - FIRST_ID, self.posts.n[mask])
        return out

    def post_days(self, member_id: int, since: int) -> list[int]:
        """Days since `since` on which the member posted anything."""
        mask = (self.posts.member == member_id) & (self.posts.day >= since)
        return sorted({int(d) for d in self.posts.day[mask]})


class Recorder:
    """Collects engagement and posts event by event and aggregates them per day."""

    def __init__(self) -> None:
        self.edges: Counter[tuple[int, int, int, int, int]] = Counter()
        self.posts: Counter[tuple[int, int, int]] = Counter()

    def edge(self, actor: int, target: int, channel: int, day: int, kind: int, n: float = 1.0) -> None:
        if actor != target:
            self.edges[(actor, target, channel, day, kind)] += n

    def post(self, member: int, channel: int, day: int, n: float = 1.0) -> None:
        self.posts[(member, channel, day)] += n

    def build_edges(self) -> trust.Edges:
        return edges_from(list(self.edges.items()))

    def build_posts(self) -> trust.Posts:
        return posts_from(list(self.posts.items()))


def edges_from(items: list[tuple[tuple[int, int, int, int, int], float]]) -> trust.Edges:
    """Edges from ((actor, target, channel, day, kind), n) pairs."""
    if not items:
        empty = np.zeros(0, dtype=np.int64)
        return trust.Edges(empty, empty, empty, empty, empty, np.zeros(0))
    keys = np.array([k for k, _ in items], dtype=np.int64)
    n = np.array([v for _, v in items], dtype=np.float64)
    return trust.Edges(keys[:, 0], keys[:, 1], keys[:, 2], keys[:, 3], keys[:, 4], n)


def posts_from(items: list[tuple[tuple[int, int, int], float]]) -> trust.Posts:
    """Posts from ((member, channel, day), n) pairs."""
    if not items:
        empty = np.zeros(0, dtype=np.int64)
        return trust.Posts(empty, empty, empty, np.zeros(0))
    keys = np.array([k for k, _ in items], dtype=np.int64)
    n = np.array([v for _, v in items], dtype=np.float64)
    return trust.Posts(keys[:, 0], keys[:, 1], keys[:, 2], n)


def _cultures(size: int, rng: np.random.Generator) -> list[Culture]:
    topics = 2 + size // 400
    out = list(BASE_CHANNELS)
    for i in range(topics):
        out.append(
            Culture(
                f"topic-{i + 1}",
                "chat",
                float(rng.uniform(0.5, 1.3)),
                float(rng.uniform(0.3, 0.6)),
                float(rng.uniform(0.4, 1.2)),
                0.04,
                float(rng.uniform(0.8, 1.5)),
            )
        )
    return out


def _roles(size: int, rng: np.random.Generator) -> list[str]:
    mods = max(3, round(size * 0.006))
    names = [r for r in ROLES if r != "moderator"]
    shares = np.array([PROFILES[r].share for r in names])
    drawn = rng.choice(len(names), size=size - mods, p=shares / shares.sum())
    roles = ["moderator"] * mods + [names[i] for i in drawn]
    order = rng.permutation(size)
    return [roles[i] for i in order]


def _arrivals(
    roles: list[str], start: int, today: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Join day, account creation day and leave day of every member."""
    size = len(roles)
    history = today - start
    joined = np.empty(size)
    leave = np.full(size, np.inf)
    # Arrival intensity over the history: steady, growing or fading, with one or two waves.
    days = np.arange(history, dtype=float)
    intensity = np.exp(rng.uniform(-1.0, 1.0) * days / history)
    for _ in range(rng.integers(1, 3)):
        at = rng.integers(5, history - 5)
        intensity += rng.uniform(2.0, 6.0) * np.exp(-np.abs(days - at) / 2.0) * intensity.mean()
    intensity /= intensity.sum()
    for i, role in enumerate(roles):
        if rng.random() < PROFILES[role].founder:
            joined[i] = start - rng.uniform(1, 500)
            if role not in ("moderator",) and rng.random() < 0.10:
                leave[i] = start + rng.uniform(0, history)
        else:
            joined[i] = start + rng.choice(history, p=intensity) + rng.random()
            if role in ("lurker", "casual") and rng.random() < 0.35:  # tourists
                leave[i] = joined[i] + rng.exponential(10.0) + 1.0
            elif role != "moderator" and rng.random() < 0.12:
                leave[i] = joined[i] + rng.uniform(7, history)
    created = joined - np.exp(rng.normal(math.log(900), 0.8, size))
    fresh = rng.random(size) < 0.08
    created[fresh] = joined[fresh] - rng.uniform(0, 10, int(fresh.sum()))
    return np.floor(joined), np.floor(created), np.floor(leave)


def _friends(roles: list[str], top_channel: np.ndarray, rng: np.random.Generator) -> list[list[int]]:
    size = len(roles)
    sociability = np.array([PROFILES[r].friends for r in roles]) * rng.lognormal(0, 0.5, size)
    sets: list[set[int]] = [set() for _ in range(size)]
    for i in range(size):
        k = rng.poisson(sociability[i] / 2)
        if k == 0:
            continue
        weight = sociability * np.where(top_channel == top_channel[i], 3.0, 1.0)
        weight[i] = 0
        for j in rng.choice(size, size=min(k, size - 1), replace=False, p=weight / weight.sum()):
            sets[i].add(int(j))
            sets[int(j)].add(i)
    return [sorted(s) for s in sets]


def _genuine(
    ids: np.ndarray,
    roles: list[str],
    leave: np.ndarray,
    edges: trust.Edges,
    posts: trust.Posts,
    help_channel: int,
    showcase_channel: int,
    today: int,
) -> frozenset[int]:
    size = len(ids)
    recent_poster = np.zeros(size, dtype=bool)
    recent_poster[posts.member[posts.day >= today - 45] - FIRST_ID] = True
    alive = (leave > today) & recent_poster
    win = edges.day >= today - 90
    actor, target, channel, kind, n = (
        edges.actor[win],
        edges.target[win],
        edges.channel[win],
        edges.kind[win],
        edges.n[win],
    )
    answered: dict[int, set[int]] = {}
    showcase: dict[int, set[int]] = {}
    pair_count: Counter[tuple[int, int]] = Counter()
    mods = {int(ids[i]) for i, r in enumerate(roles) if r == "moderator"}
    for a, t, c, k, x in zip(
        actor.tolist(), target.tolist(), channel.tolist(), kind.tolist(), n.tolist(), strict=True
    ):
        if k == THREAD and c == help_channel:
            answered.setdefault(a, set()).add(t)
            continue
        if c == showcase_channel:
            showcase.setdefault(t, set()).add(a)
        if a not in mods:
            pair_count[(a, t)] += x
    engagers = Counter(t for (a, t), x in pair_count.items() if x >= 2)
    top_k = max(10, round(0.03 * size))
    ranked = sorted(engagers.items(), key=lambda kv: (-kv[1], kv[0]))
    out: set[int] = set()
    for member, count in ranked[:top_k]:
        if count >= 8 and alive[member - FIRST_ID]:
            out.add(member)
    for i, role in enumerate(roles):
        mid = int(ids[i])
        if not alive[i]:
            continue
        if role == "expert" and len(answered.get(mid, ())) >= 5:
            out.add(mid)
        if role == "creator" and len(showcase.get(mid, ())) >= 12:
            out.add(mid)
    return frozenset(out)


def build_community(size: int, seed: int, today: int = TODAY, *, departures: bool = True) -> Community:
    """Simulate an organic server of `size` members; deterministic for (size, seed). `departures`:
    the member facts say who left by `today` and when, as the Server Members intent tells the bot
    (GUILD_MEMBER_REMOVE); without it they do not."""
    rng = np.random.default_rng([seed, size, 4])
    rand = random.Random(seed * 1_000_003 + size)
    history = int(rng.integers(60, 151))
    start = today - history
    roles = _roles(size, rng)
    profiles = [PROFILES[r] for r in roles]
    cultures = _cultures(size, rng)
    n_ch = len(cultures)
    channel_ids = np.arange(FIRST_CHANNEL, FIRST_CHANNEL + n_ch, dtype=np.int64)
    ids = np.arange(FIRST_ID, FIRST_ID + size, dtype=np.int64)
    joined, created, leave = _arrivals(roles, start, today, rng)

    # Channel mix: the role's style mix spread over channels of that style, then a Dirichlet draw.
    style_of = [STYLES.index(c.style) for c in cultures]
    style_count = Counter(style_of)
    pref = np.empty((size, n_ch))
    for i, p in enumerate(profiles):
        base = np.array([p.mix[s] / style_count[s] for s in style_of]) + 1e-3
        pref[i] = rng.dirichlet(base * 4.0 / base.sum() * n_ch)
    pref[:, [j for j, s in enumerate(style_of) if STYLES[s] == "announce"]] *= np.array(
        [r == "moderator" for r in roles], dtype=float
    )[:, None]
    pref /= pref.sum(axis=1, keepdims=True)
    cum_pref = np.cumsum(pref, axis=1)
    reads = pref + 0.005  # everyone glances at every channel now and then

    # Larger servers have a smaller share of members around on a given day.
    online = np.array([p.online for p in profiles]) * rng.lognormal(0, 0.3, size) * (300 / size) ** 0.25
    dormant = (rng.random(size) < 0.25) & np.array([r in ("lurker", "casual") for r in roles])
    online[dormant] *= 0.1  # joined, looked around, hardly ever came back
    rate = np.array([p.initiatives for p in profiles]) * rng.lognormal(0, 0.6, size)
    chat = np.array([p.chat for p in profiles]) * rng.lognormal(0, 0.5, size)
    react = np.array([p.react for p in profiles]) * rng.lognormal(0, 0.9, size)
    skill = np.array([p.skill for p in profiles]) * rng.lognormal(0, 0.4, size)
    appeal = np.array([p.appeal for p in profiles]) * rng.lognormal(0, 0.45, size)
    fade = rng.uniform(0.0, 0.4, size)  # share of interest lost over 200 days of tenure
    friends = _friends(roles, pref.argmax(axis=1), rng)
    friend_sets = [set(f) for f in friends]
    breaks = np.full((size, 2), -1.0)
    has_break = rng.random(size) < 0.3
    breaks[has_break, 0] = start + rng.uniform(0, history, int(has_break.sum()))
    breaks[has_break, 1] = breaks[has_break, 0] + rng.uniform(7, 30, int(has_break.sum()))

    # Server level: slow drift, an OU wobble, and event bursts.
    level = np.exp(np.linspace(0, rng.uniform(-0.35, 0.35), history))
    wobble = 0.0
    for t in range(history):
        wobble = 0.85 * wobble + rng.normal(0, 0.08)
        level[t] *= math.exp(wobble)
    for _ in range(rng.integers(2, 5)):
        at = int(rng.integers(0, history))
        level[at : at + 3] *= rng.uniform(1.4, 2.0)
    weekday_factor = (0.95, 1.0, 1.0, 1.0, 1.05, 1.2, 1.15)

    rec = Recorder()
    id_list = ids.tolist()
    ch_list = channel_ids.tolist()
    for t in range(history):
        day = start + t
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
        weekend = weekday >= 5
        present = (joined <= day) & (leave > day)
        on_break = (breaks[:, 0] <= day) & (day < breaks[:, 1])
        tenure = np.maximum(day - joined, 0)
        honeymoon = 1.0 + 1.5 * np.exp(-tenure / 15.0) * (joined >= start)
        interest = honeymoon * (1.0 - fade * np.minimum(tenure / 200.0, 1.0))
        p_on = np.clip(online * level[t] * weekday_factor[weekday] * np.sqrt(interest), 0, 0.97)
        is_on = present & ~on_break & (rng.random(size) < p_on)
        on = np.flatnonzero(is_on)
        if on.size == 0:
            continue
        counts = rng.poisson(rate[on] * interest[on])
        authors = np.repeat(on, counts)
        chans = (cum_pref[authors] < rng.random(authors.size)[:, None]).sum(axis=1)
        chans = np.minimum(chans, n_ch - 1)
        fame = appeal * (1.0 + 0.5 * np.minimum(tenure / 60.0, 1.0))
        for c, culture in enumerate(cultures):
            mine = authors[chans == c]
            if mine.size == 0:
                continue
            wk = culture.weekend if weekend else 1.0
            keep = rng.random(mine.size) < min(1.0, wk)
            if wk > 1.0:
                extra = mine[rng.random(mine.size) < wk - 1.0]
                mine = np.concatenate([mine[keep], extra])
            else:
                mine = mine[keep]
            if mine.size == 0:
                continue
            rng.shuffle(mine)
            cid = ch_list[c]
            pop = on.tolist()
            w_chat = np.cumsum(reads[on, c] * chat[on]).tolist()
            w_react = np.cumsum(reads[on, c] * react[on]).tolist()
            w_skill = np.cumsum(reads[on, c] * skill[on] ** 2).tolist()
            n_replies = rng.poisson(culture.replies * fame[mine] * (1.3 if culture.style == "forum" else 1.0))
            n_reacts = rng.poisson(culture.reactions * fame[mine])
            for a, nr, nx in zip(mine.tolist(), n_replies.tolist(), n_reacts.tolist(), strict=True):
                aid = id_list[a]
                rec.post(aid, cid, day)
                online_friends = [f for f in friends[a] if is_on[f]]
                if culture.style == "forum":
                    # A question opens a thread; answers come from the skilled.
                    answerers = set(rand.choices(pop, cum_weights=w_skill, k=nr)) if nr else set()
                    answerers.discard(a)
                    for r in answerers:
                        rid = id_list[r]
                        rec.edge(rid, aid, cid, day, THREAD)
                        rec.post(rid, cid, day)
                        good = min(0.9, 0.35 + 0.15 * skill[r])
                        if rand.random() < good:
                            rec.edge(aid, rid, cid, day, REPLY)
                            rec.post(aid, cid, day)
                        if rand.random() < good:
                            rec.edge(aid, rid, cid, day, REACTION)
                        for x in set(
                            rand.choices(pop, cum_weights=w_react, k=int(rand.random() * 2 * skill[r]))
                        ):
                            if x not in (a, r):
                                rec.edge(id_list[x], rid, cid, day, REACTION)
                elif culture.style != "announce" and nr:
                    responders: set[int] = set()
                    for _ in range(nr):
                        if online_friends and rand.random() < 0.35:
                            responders.add(rand.choice(online_friends))
                        else:
                            responders.add(rand.choices(pop, cum_weights=w_chat)[0])
                    responders.discard(a)
                    kind = THREAD if culture.style == "showcase" else REPLY
                    for r in responders:
                        rid = id_list[r]
                        rec.edge(rid, aid, cid, day, kind)
                        rec.post(rid, cid, day)
                        p_back = culture.back * (1.5 if r in friend_sets[a] else 1.0)
                        speaker, listener = aid, rid
                        while rand.random() < p_back:  # the conversation goes on
                            speaker, listener = listener, speaker
                            rec.edge(speaker, listener, cid, day, REPLY)
                            rec.post(speaker, cid, day)
                            p_back *= 0.55
                reactors = set(rand.choices(pop, cum_weights=w_react, k=nx)) if nx else set()
                for f in online_friends:
                    if rand.random() < 0.25:
                        reactors.add(f)
                reactors.discard(a)
                for x in reactors:
                    rec.edge(id_list[x], aid, cid, day, REACTION)
                if friends[a] and rand.random() < culture.mention:
                    rec.edge(aid, id_list[rand.choice(friends[a])], cid, day, MENTION)
    edges = rec.build_edges()
    posts = rec.build_posts()
    left = np.where(leave <= today, leave, np.nan) if departures else None
    facts = trust.MemberFacts(
        member_id=ids, joined_day=joined.astype(float), account_created_day=created, left_day=left
    )
    comm = Community(
        size=size,
        seed=seed,
        start=start,
        today=today,
        ids=ids,
        roles=roles,
        joined=joined,
        created=created,
        leave=leave,
        friends=friends,
        channels=cultures,
        channel_ids=channel_ids,
        appeal=appeal,
        edges=edges,
        posts=posts,
        facts=facts,
    )
    comm.genuine = _genuine(
        ids, roles, leave, edges, posts, comm.channel("help"), comm.channel("showcase"), today
    )
    return comm
