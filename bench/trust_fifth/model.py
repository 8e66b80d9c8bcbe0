"""An organic niche subreddit, as the Reddit adapter records it, with its genuine voices.

The subreddit is a hobby-and-help community (think home espresso or mechanical keyboards). What the
model assumes about it:

- Members (`size` residents) have roles. About half are lurkers who comment a few times in months and
  come mostly to ask a question; a third are casual commenters; a tenth are regulars who are there
  most days and talk in discussions; about 3% are experts who answer questions in Help threads and
  the weekly questions thread and write guides; about 2.5% are creators whose showcase posts draw
  many top-level comments; a few are moderators who post news and discussions. Activity, talkativeness
  and how much a member's posts and comments draw are log-normal within a role (heavy tails).
- Flairs are the topics: Help, Showcase, Discussion, News, Humor, Guide, the weekly questions thread
  (a moderator's distinguished megathread, not recorded itself, so its top-level questions engage
  nobody while answers to them engage the asker), and unflaired posts. Every member has a personal
  flair mix; experts are drawn to questions, creators to showcases, moderators to news.
- A member visits on a day with a personal probability, higher on weekends (a hobby subreddit). A
  visitor comments on that day's and the previous day's submissions, chosen by talkativeness, role
  and flair taste; a submission's top-level comments are Poisson around its flair's base times its
  author's appeal times a log-normal draw per post.
- Comment trees: the submitter answers top-level comments (askers thank their answerers, creators
  reply to praise), the author of a comment answers a reply with a personal probability (so
  back-and-forth chains form, shorter the deeper they go), and third parties join under comments
  that draw (an expert's answer draws "this is right, also ..."), sometimes friends the commenter
  knows. Replies come the same day or the next.
- Members arrive and leave: 70% were there before the records began; the others arrive over the
  history, many of them newcomers who ask one question on their first day and go. Departures are
  not shown by Reddit (`left_day` stays NaN); a member who left simply stops appearing.
- Reddit account ages are mostly years (log-normal, median three to four years); some newcomers made
  an account to ask (days old).
- Every month or two a showcase or humor post reaches r/all: dozens of drive-by visitors
  comment on it within two days, mostly top-level, some replying to each other, the author answers a
  few, and the visitors never come back.
- A subreddit bot (a flair reminder) comments under every Help post; it is machinery (`is_bot`), its
  comments engage nobody and comments answering it engage nobody.

Genuine voices, decided from the organic records before any ranking: residents (not drive-by visitors,
not the bot) who posted or commented in the last 28 days, and either

- engaged repeatedly: distinct residents who replied to them on two or more different days number at
  least max(6, 4% of the residents who replied to anyone), or
- answered many askers: distinct resident askers (authors of Help submissions or of weekly-thread
  questions) who replied to an answer of theirs in their own question number at least max(5, 4% of
  the askers who replied to any answer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from bot import trust

TODAY = 20_000
#: Member ids are BASE_ID + a dense index (organic members first, then any attack's accounts).
BASE_ID = 1_000_000
#: Channel ids are CHANNEL_BASE + the flair's index.
CHANNEL_BASE = 70_000
FLAIRS: tuple[str, ...] = ("Help", "Showcase", "Discussion", "News", "Humor", "Guide", "Weekly", "none")
HELP, SHOWCASE, DISCUSSION, NEWS, HUMOR, GUIDE, WEEKLY, NOFLAIR = range(len(FLAIRS))
N_FLAIRS = len(FLAIRS)
COMMENT = trust.KINDS.index("comment")

ROLES: tuple[str, ...] = ("lurker", "casual", "regular", "expert", "creator", "moderator", "visitor", "bot")
LURKER, CASUAL, REGULAR, EXPERT, CREATOR, MODERATOR, VISITOR, BOT = range(len(ROLES))
RESIDENT_ROLES = (LURKER, CASUAL, REGULAR, EXPERT, CREATOR, MODERATOR)
RESIDENT_SHARES = np.array([0.52, 0.32, 0.10, 0.03, 0.025, 0.005])

# Per resident role: median visit probability per day, talkativeness, submissions per visit day,
# appeal of submissions, chance to answer a top-level comment on one's own post, chance to answer a
# reply, how much one's comments draw third-party replies.
VISIT = np.array([0.05, 0.18, 0.55, 0.6, 0.4, 0.65])
TALK = np.array([0.4, 1.0, 2.5, 2.0, 1.2, 1.5])
SUBMIT = np.array([0.06, 0.06, 0.08, 0.05, 0.35, 0.04])
APPEAL = np.array([0.8, 0.9, 1.1, 1.3, 2.0, 1.0])
#: Indexed by every role (visitors and the bot too).
P_OP = np.array([0.45, 0.45, 0.5, 0.65, 0.55, 0.45, 0.1, 0.0])
P_BACK = np.array([0.2, 0.3, 0.45, 0.55, 0.4, 0.4, 0.05, 0.0])
REPLY_APPEAL = np.array([0.6, 0.9, 1.3, 1.5, 1.2, 1.2, 0.5, 0.0])

#: What each role submits (rows: resident roles; columns: flairs).
SUBMIX = np.array(
    [
        [0.70, 0.10, 0.05, 0.00, 0.05, 0.00, 0.0, 0.10],
        [0.42, 0.15, 0.15, 0.03, 0.15, 0.00, 0.0, 0.10],
        [0.12, 0.20, 0.33, 0.15, 0.12, 0.03, 0.0, 0.05],
        [0.05, 0.10, 0.30, 0.10, 0.00, 0.45, 0.0, 0.00],
        [0.00, 0.80, 0.08, 0.00, 0.10, 0.02, 0.0, 0.00],
        [0.00, 0.00, 0.45, 0.50, 0.00, 0.05, 0.0, 0.00],
    ]
)
#: Mean top-level comments of a submission per flair, before the author's appeal.
BASE_TOP = np.array([2.5, 5.0, 6.0, 4.0, 5.0, 7.0, 0.0, 2.0])
#: Third-party replies a comment draws per flair, before the commenter's reply appeal.
THIRD = np.array([0.18, 0.12, 0.45, 0.3, 0.3, 0.25, 0.12, 0.2])
#: How much each resident role comments in each flair.
ROLE_FLAIR = np.array(
    [
        [0.6, 1.0, 1.0, 1.0, 1.0, 0.6, 0.6, 1.0],
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        [1.5, 1.0, 1.5, 1.0, 1.0, 1.0, 1.5, 1.0],
        [6.0, 0.8, 1.2, 1.0, 0.4, 2.0, 6.0, 1.0],
        [0.6, 2.0, 1.0, 0.8, 1.0, 1.0, 0.5, 1.0],
        [1.0, 1.0, 1.3, 1.5, 1.0, 1.0, 1.0, 1.0],
    ]
)
#: A hobby subreddit is busier at weekends (index 0 = Monday).
WEEKDAY = np.array([0.95, 0.95, 0.95, 0.95, 0.95, 1.15, 1.15])
MAX_DEPTH = 8
#: A reply comes the next day with this probability.
NEXT_DAY = 0.2
#: A third-party reply is a friend of the commenter (when one visits that day) with this probability.
FRIEND_SHARE = 0.3
#: Recent activity a genuine voice needs (days).
RECENT_DAYS = 28
#: The share of the community's engagers (or acknowledging askers) a genuine voice needs.
VOICE_SHARE = 0.04


def weekday(day: int) -> int:
    """0 = Monday (day 0, 1970-01-01, was a Thursday)."""
    return (day + 3) % 7


class Log:
    """Comments and submissions as written, by dense member index; `target` -1 engages nobody."""

    def __init__(self) -> None:
        self.author: list[int] = []
        self.target: list[int] = []
        self.flair: list[int] = []
        self.day: list[int] = []
        self.sub_author: list[int] = []
        self.sub_flair: list[int] = []
        self.sub_day: list[int] = []
        self.sub_top: list[int] = []  # top-level comments it drew
        self.sub_first: list[int] = []  # its first top-level commenter (-1: none)
        #: (asker, answerer): the asker replied to the answerer's comment in the asker's question.
        self.acks: list[tuple[int, int]] = []

    def comment(self, author: int, target: int, flair: int, day: int) -> None:
        self.author.append(author)
        self.target.append(target if target != author else -1)
        self.flair.append(flair)
        self.day.append(day)

    def submission(self, author: int, flair: int, day: int) -> int:
        self.sub_author.append(author)
        self.sub_flair.append(flair)
        self.sub_day.append(day)
        self.sub_top.append(0)
        self.sub_first.append(-1)
        return len(self.sub_author) - 1


@dataclass
class Sim:
    """The subreddit's members and who visits when: generates threads and conversations.

    Arrays are indexed by dense member index. Accounts an attack adds get indexes after the organic
    ones (`with_accounts`); they never visit on their own, the attack writes what they do.
    """

    start: int
    today: int
    role: np.ndarray
    talk: np.ndarray
    aff: np.ndarray  # member x flair taste (mean 1)
    p_op: np.ndarray
    p_back: np.ndarray
    reply_appeal: np.ndarray
    left: np.ndarray  # the day a member stops taking part (inf: still here)
    visit: np.ndarray  # member x day, bool (resident visits)
    friends: list[np.ndarray]
    pool_ids: list[np.ndarray] = field(default_factory=list)
    pool_cum: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.pool_ids:
            return
        resident = np.isin(self.role, RESIDENT_ROLES)
        for di in range(self.visit.shape[1]):
            ids = np.flatnonzero(self.visit[:, di] & resident)
            w = self.talk[ids, None] * self.aff[ids] * ROLE_FLAIR[self.role[ids]]
            self.pool_ids.append(ids)
            self.pool_cum.append(np.cumsum(w, axis=0))

    @property
    def days(self) -> int:
        return self.visit.shape[1]

    def with_accounts(
        self, n: int, *, p_op: float, p_back: float, reply_appeal: float, role: int = VISITOR
    ) -> tuple[Sim, list[int]]:
        """A copy that knows `n` more accounts (indexes returned); the organic data are shared."""
        m = len(self.role)
        extra = np.arange(m, m + n)
        sim = Sim(
            start=self.start,
            today=self.today,
            role=np.concatenate([self.role, np.full(n, role)]),
            talk=np.concatenate([self.talk, np.zeros(n)]),
            aff=np.concatenate([self.aff, np.ones((n, N_FLAIRS))]),
            p_op=np.concatenate([self.p_op, np.full(n, p_op)]),
            p_back=np.concatenate([self.p_back, np.full(n, p_back)]),
            reply_appeal=np.concatenate([self.reply_appeal, np.full(n, reply_appeal)]),
            left=np.concatenate([self.left, np.full(n, np.inf)]),
            visit=self.visit,
            friends=[*self.friends, *[np.zeros(0, np.int64)] * n],
            pool_ids=self.pool_ids,
            pool_cum=self.pool_cum,
        )
        return sim, [int(x) for x in extra]

    def clip_day(self, day: int) -> int:
        return min(day, self.today - 1)

    def sample(self, rng: np.random.Generator, day: int, flair: int, k: int, exclude: int = -1) -> list[int]:
        """Up to `k` distinct members visiting on `day`, by their taste for `flair`."""
        di = day - self.start
        if k <= 0 or not 0 <= di < self.days:
            return []
        ids, cum = self.pool_ids[di], self.pool_cum[di]
        if len(ids) == 0:
            return []
        col = cum[:, flair]
        picks = np.searchsorted(col, rng.random(2 * k + 4) * col[-1], side="right")
        out: list[int] = []
        seen: set[int] = set()
        for p in picks:
            who = int(ids[min(p, len(ids) - 1)])
            if who != exclude and who not in seen:
                seen.add(who)
                out.append(who)
                if len(out) == k:
                    break
        return out

    def thread(
        self,
        rng: np.random.Generator,
        log: Log,
        op: int,
        day: int,
        flair: int,
        n_top: int,
        *,
        sub: int = -1,
        third: float = 1.0,
    ) -> list[int]:
        """Top-level comments on `op`'s submission (two days of visitors) and their conversations;
        returns the top-level commenters."""
        if n_top <= 0:
            return []
        today_share = 0.75 if day + 1 < self.today else 1.0
        n_first = int(rng.binomial(n_top, today_share))
        first = self.sample(rng, day, flair, n_first, exclude=op)
        later = self.sample(rng, day + 1, flair, n_top - n_first, exclude=op)
        seen = set(first)
        timed = [(c, day) for c in first] + [(c, day + 1) for c in later if c not in seen]
        for c, d in timed:
            self.conversation(rng, log, c, op, d, flair, op=op, third=third)
        top = [c for c, _ in timed]
        if sub >= 0:
            log.sub_top[sub] += len(top)
            if top and log.sub_first[sub] < 0:
                log.sub_first[sub] = top[0]
        return top

    def conversation(
        self,
        rng: np.random.Generator,
        log: Log,
        author: int,
        parent: int,
        day: int,
        flair: int,
        *,
        op: int,
        depth: int = 1,
        third: float = 1.0,
        back: float = 1.0,
    ) -> None:
        """`author` comments answering `parent` (the submission's author `op` at depth 1), and
        whatever answers follow: the parent answering back, third parties joining in. `third` and
        `back` scale the third-party replies and answers back this conversation draws."""
        question = flair in (HELP, WEEKLY)
        stack = [(author, parent, self.clip_day(day), depth)]
        while stack:
            u, v, d, dep = stack.pop()
            log.comment(u, v, flair, d)
            if question and v >= 0 and u == op and v != op:
                log.acks.append((op, v))
            if dep >= MAX_DEPTH:
                continue
            nd = self.clip_day(d + (rng.random() < NEXT_DAY))
            if v >= 0 and v != u and self.left[v] > d:
                p = self.p_op[v] if v == op else self.p_back[v]
                if v == op and question and self.role[v] in RESIDENT_ROLES:
                    p = max(p, 0.6)
                if rng.random() < min(1.0, p * back * 0.8 ** (dep - 1)):
                    stack.append((v, u, nd, dep + 1))
            boost = 2.0 if question and self.role[u] == EXPERT else 1.0
            lam = THIRD[flair] * self.reply_appeal[u] * boost * third * 0.6 ** (dep - 1)
            for _ in range(int(rng.poisson(lam))):
                w = self.third_party(rng, u, nd, flair)
                if w >= 0:
                    stack.append((w, u, nd, dep + 1))

    def third_party(self, rng: np.random.Generator, author: int, day: int, flair: int) -> int:
        """Who replies to `author`'s comment: sometimes a friend visiting that day, else anyone."""
        di = day - self.start
        friends = self.friends[author]
        if len(friends) and rng.random() < FRIEND_SHARE:
            here = friends[self.visit[friends, di]]
            if len(here):
                return int(here[rng.integers(len(here))])
        got = self.sample(rng, day, flair, 1, exclude=author)
        return got[0] if got else -1


@dataclass(frozen=True)
class Community:
    """One organic subreddit: the rows the ranking sees, the simulation behind them, its voices."""

    size: int
    seed: int
    today: int
    start: int
    edges: trust.Edges
    posts: trust.Posts
    facts: trust.MemberFacts
    genuine: frozenset[int]
    sim: Sim
    log: Log
    #: Per dense index (organic accounts): role and Reddit account creation day.
    role: np.ndarray
    account_created: np.ndarray
    bot: int  # the bot's dense index

    def last_seen(self) -> np.ndarray:
        """The last day each organic account wrote anything (-1: never)."""
        last = np.full(len(self.role), -1, np.int64)
        np.maximum.at(last, np.asarray(self.log.author, np.int64), np.asarray(self.log.day, np.int64))
        np.maximum.at(last, np.asarray(self.log.sub_author, np.int64), np.asarray(self.log.sub_day, np.int64))
        return last


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int) -> np.ndarray:
    return np.asarray(median) * np.exp(sigma * rng.standard_normal(n))


def log_rows(log: Log) -> tuple[trust.Edges, trust.Posts]:
    """The ledger rows of a log: comment engagement (daily counts) and every post written."""
    author = np.asarray(log.author, np.int64)
    target = np.asarray(log.target, np.int64)
    flair = np.asarray(log.flair, np.int64)
    day = np.asarray(log.day, np.int64)
    engaged = (target >= 0) & (target != author)
    keys = np.stack([author[engaged], target[engaged], flair[engaged], day[engaged]], axis=1)
    if len(keys):
        uniq, counts = np.unique(keys, axis=0, return_counts=True)
    else:
        uniq, counts = np.zeros((0, 4), np.int64), np.zeros(0, np.int64)
    edges = trust.Edges(
        actor=BASE_ID + uniq[:, 0],
        target=BASE_ID + uniq[:, 1],
        channel=CHANNEL_BASE + uniq[:, 2],
        day=uniq[:, 3],
        kind=np.full(len(uniq), COMMENT),
        n=counts.astype(np.float64),
    )
    p_keys = np.stack(
        [
            np.concatenate([author, np.asarray(log.sub_author, np.int64)]),
            np.concatenate([flair, np.asarray(log.sub_flair, np.int64)]),
            np.concatenate([day, np.asarray(log.sub_day, np.int64)]),
        ],
        axis=1,
    )
    if len(p_keys):
        p_uniq, p_counts = np.unique(p_keys, axis=0, return_counts=True)
    else:
        p_uniq, p_counts = np.zeros((0, 3), np.int64), np.zeros(0, np.int64)
    posts = trust.Posts(
        member=BASE_ID + p_uniq[:, 0],
        channel=CHANNEL_BASE + p_uniq[:, 1],
        day=p_uniq[:, 2],
        n=p_counts.astype(np.float64),
    )
    return edges, posts


def facts_for(
    ids: np.ndarray, posts: trust.Posts, created: dict[int, float], bots: frozenset[int], start: int
) -> trust.MemberFacts:
    """MemberFacts for the members `ids`, first seen at their first post (Reddit: no join date)."""
    ids = np.unique(ids)
    first = np.full(len(ids), np.nan)
    if len(posts):
        members, inv = np.unique(posts.member, return_inverse=True)
        mins = np.full(len(members), np.inf)
        np.minimum.at(mins, inv.ravel(), posts.day.astype(np.float64))
        pos = np.searchsorted(members, ids)
        pos = np.clip(pos, 0, len(members) - 1)
        hit = members[pos] == ids
        first[hit] = mins[pos[hit]]
    return trust.MemberFacts(
        member_id=ids,
        joined_day=np.full(len(ids), np.nan),
        account_created_day=np.array([created.get(int(m), np.nan) for m in ids]),
        is_bot=np.array([int(m) in bots for m in ids]),
        first_seen_day=first,
        records_from_day=np.full(len(ids), float(start)),
    )


def genuine_voices(log: Log, role: np.ndarray, today: int) -> frozenset[int]:
    """The rule in the module docstring, on the organic log (member ids)."""
    author = np.asarray(log.author, np.int64)
    target = np.asarray(log.target, np.int64)
    day = np.asarray(log.day, np.int64)
    resident = np.isin(role, RESIDENT_ROLES)
    m = len(role)
    ok = (target >= 0) & (target != author) & resident[author]
    pairs = np.unique(np.stack([author[ok], target[ok], day[ok]], axis=1), axis=0)
    engagers = len(np.unique(pairs[:, 0])) if len(pairs) else 0
    threshold = max(6, math.ceil(VOICE_SHARE * engagers))
    pair_days = np.unique(pairs[:, :2], axis=0, return_counts=True)
    repeated = pair_days[0][pair_days[1] >= 2]
    repeat_engagers = np.bincount(repeated[:, 1], minlength=m) if len(repeated) else np.zeros(m, np.int64)
    acks = np.array(sorted(set(log.acks)), np.int64).reshape(-1, 2)
    acks = acks[resident[acks[:, 0]]] if len(acks) else acks
    askers = np.bincount(acks[:, 1], minlength=m) if len(acks) else np.zeros(m, np.int64)
    ask_threshold = max(5, math.ceil(VOICE_SHARE * len(np.unique(acks[:, 0]))))
    last = np.full(m, -1, np.int64)
    np.maximum.at(last, author, day)
    np.maximum.at(last, np.asarray(log.sub_author, np.int64), np.asarray(log.sub_day, np.int64))
    recent = last >= today - RECENT_DAYS
    voice = resident & recent & ((repeat_engagers >= threshold) | (askers >= ask_threshold))
    return frozenset(int(BASE_ID + i) for i in np.flatnonzero(voice))


def build_community(size: int, seed: int) -> Community:
    """The organic subreddit of `size` residents (deterministic for `size`, `seed`)."""
    rng = np.random.default_rng([seed, size, 5])
    history = int(rng.integers(90, 151))
    today = TODAY
    start = today - history
    days = np.arange(start, today)
    scale = (size / 300) ** 0.3

    # Surges to r/all: how many, and how many drive-by visitors each brings.
    n_surges = int(rng.poisson(history / 45 * scale))
    surge_sizes = np.clip(_lognormal(rng, 30.0 * scale, 0.6, n_surges), 12, 250).astype(int)
    n_visitors = int(surge_sizes.sum())
    m = size + n_visitors + 1
    bot = m - 1

    role = np.empty(m, np.int64)
    role[:size] = rng.choice(len(RESIDENT_ROLES), size=size, p=RESIDENT_SHARES)
    n_mods = max(2, round(0.005 * size))
    mods = np.flatnonzero(role[:size] == MODERATOR)
    if len(mods) < n_mods:
        role[rng.choice(np.flatnonzero(role[:size] == CASUAL), n_mods - len(mods), replace=False)] = MODERATOR
    role[size:bot] = VISITOR
    role[bot] = BOT
    res = role[:size]

    # Arrivals and departures.
    at_start = rng.random(size) < 0.7
    at_start |= res == MODERATOR
    at_start |= (res == EXPERT) & (rng.random(size) < 0.9)
    arrive = np.where(at_start, start, rng.integers(start + 1, today, size))
    newcomer = ~at_start & np.isin(res, (LURKER, CASUAL))
    stay = np.where(np.isin(res, (REGULAR, EXPERT, CREATOR, MODERATOR)), 600.0, 400.0)
    stay = np.where(newcomer & (rng.random(size) < 0.6), 45.0, stay)
    left = np.full(m, np.inf)
    leave = arrive + rng.exponential(stay)
    left[:size] = np.where(leave < today, np.floor(leave), np.inf)

    created = np.full(m, np.nan)
    old = start - np.maximum(60, _lognormal(rng, 4 * 365.0, 0.7, size))
    late = arrive - np.maximum(30, _lognormal(rng, 3 * 365.0, 0.8, size))
    fresh = arrive - rng.uniform(0, 14, size)
    created[:size] = np.where(at_start, old, np.where(rng.random(size) < 0.15, fresh, late))

    # Personal traits.
    talk = np.zeros(m)
    talk[:size] = _lognormal(rng, TALK[res], 0.6, size)
    p_visit = np.clip(_lognormal(rng, VISIT[res], 0.5, size), 0.005, 0.95)
    submit = _lognormal(rng, SUBMIT[res], 0.5, size)
    appeal = _lognormal(rng, APPEAL[res], 0.5, size)
    aff = np.ones((m, N_FLAIRS))
    aff[:size] = rng.dirichlet(np.full(N_FLAIRS, 1.5), size) * N_FLAIRS
    p_op = P_OP[role].copy()
    p_back = np.clip(_lognormal(rng, P_BACK[role], 0.3, m), 0.0, 0.9)
    reply_appeal = _lognormal(rng, REPLY_APPEAL[role], 0.5, m)

    # Who visits when (residents only; visitors come with their surge).
    week = WEEKDAY[(days + 3) % 7]
    present = (days[None, :] >= arrive[:, None]) & (days[None, :] < left[:size, None])
    visit = np.zeros((m, history), bool)
    visit[:size] = present & (rng.random((size, history)) < p_visit[:, None] * week[None, :])
    first_question = newcomer & (rng.random(size) < 0.6)
    visit[np.flatnonzero(first_question), arrive[first_question] - start] = True

    # Friendships among the core and between the core and casual commenters.
    core = np.flatnonzero(np.isin(res, (REGULAR, EXPERT, CREATOR, MODERATOR)))
    casual = np.flatnonzero(res == CASUAL)
    is_core = np.isin(res, (REGULAR, EXPERT, CREATOR, MODERATOR))
    friends: list[np.ndarray] = [np.zeros(0, np.int64)] * m
    for i in range(size):
        k_core = rng.poisson(4 if is_core[i] else (1 if res[i] == CASUAL else 0))
        k_casual = rng.poisson(2) if is_core[i] else 0
        picks = []
        if k_core and len(core):
            picks.append(rng.choice(core, min(k_core, len(core)), replace=False))
        if k_casual and len(casual):
            picks.append(rng.choice(casual, min(k_casual, len(casual)), replace=False))
        if picks:
            f = np.unique(np.concatenate(picks))
            friends[i] = f[f != i]

    sim = Sim(start, today, role, talk, aff, p_op, p_back, reply_appeal, left, visit, friends)
    log = Log()

    for di, day in enumerate(days):
        here = sim.pool_ids[di]
        # Newcomers' first questions.
        for i in np.flatnonzero(first_question & (arrive == day)):
            sub = log.submission(int(i), HELP, int(day))
            log.comment(bot, -1, HELP, int(day))
            k = int(rng.poisson(BASE_TOP[HELP] * appeal[i] * 1.2))
            sim.thread(rng, log, int(i), int(day), HELP, k, sub=sub)
        # Submissions.
        n_subs = rng.poisson(submit[here]) if len(here) else np.zeros(0, np.int64)
        for i, n in zip(here, n_subs, strict=True):
            for _ in range(int(n)):
                flair = int(rng.choice(N_FLAIRS, p=SUBMIX[role[i]]))
                sub = log.submission(int(i), flair, int(day))
                if flair == HELP:
                    log.comment(bot, -1, HELP, int(day))
                    if rng.random() < 0.1:
                        log.comment(int(i), -1, HELP, int(day))  # answering the bot engages nobody
                mean = BASE_TOP[flair] * appeal[i] * math.exp(0.9 * rng.standard_normal() - 0.4)
                sim.thread(rng, log, int(i), int(day), flair, int(rng.poisson(mean)), sub=sub)
        # The weekly questions thread: a distinguished megathread, so its questions engage nobody.
        askers = here[np.isin(role[here], (LURKER, CASUAL)) & (rng.random(len(here)) < 0.04)]
        for a in askers:
            log.comment(int(a), -1, WEEKLY, int(day))
            for answerer in sim.sample(rng, int(day), WEEKLY, int(rng.poisson(1.2)), exclude=int(a)):
                sim.conversation(rng, log, answerer, int(a), int(day), WEEKLY, op=int(a))

    # Surges: a showcase or humor post reaches r/all.
    sub_flair = np.asarray(log.sub_flair)
    sub_top = np.asarray(log.sub_top, np.float64)
    candidates = np.flatnonzero(np.isin(sub_flair, (SHOWCASE, HUMOR)) & (sub_top > 0))
    visitor = size
    for n_v in surge_sizes:
        if len(candidates) == 0:
            break
        w = sub_top[candidates] ** 2
        s = int(candidates[rng.choice(len(candidates), p=w / w.sum())])
        op, day, flair = log.sub_author[s], log.sub_day[s], log.sub_flair[s]
        thread_authors = [op]
        for _ in range(int(n_v)):
            v = visitor
            visitor += 1
            d = sim.clip_day(day + (rng.random() < 0.4))
            created[v] = d - max(1.0, float(_lognormal(rng, 3 * 365.0, 0.9, 1)[0]))
            parent = op if rng.random() < 0.8 else thread_authors[rng.integers(len(thread_authors))]
            sim.conversation(rng, log, v, parent, d, flair, op=op, third=0.5, back=0.5)
            thread_authors.append(v)
        extra = int(rng.poisson(sub_top[s] * 0.5 + 2))
        sim.thread(rng, log, op, day, flair, extra, sub=s)
    created[bot] = start - 2000.0

    edges, posts = log_rows(log)
    created_by_id = {BASE_ID + i: float(created[i]) for i in range(m)}
    appearing = np.unique(np.concatenate([posts.member, edges.actor, edges.target]))
    facts = facts_for(appearing, posts, created_by_id, frozenset({BASE_ID + bot}), start)
    return Community(
        size=size,
        seed=seed,
        today=today,
        start=start,
        edges=edges,
        posts=posts,
        facts=facts,
        genuine=genuine_voices(log, role, today),
        sim=sim,
        log=log,
        role=role,
        account_created=created,
        bot=bot,
    )
