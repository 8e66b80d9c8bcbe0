"""An organic home-lab subreddit ("r/homelab"-like) simulated thread by thread.

The subreddit has six link flairs, each a topic channel: help, showcase, discussion, news, meta and
the weekly megathread. A history of 60 to 150 days is simulated in six-hour slots:

- Accounts. `size` accounts ever comment organically: experts (about 1.5%: high expertise, a few
  comments a day, mostly answering help threads), regulars (about 9%: varying expertise and
  helpfulness), casual members (about 30%: a comment every week or two, most of their submissions
  are help questions) and drive-by accounts (the rest: one to three comments ever, arriving from
  r/all on a popular post, asking one question, or landing on a help thread from a search). Members
  arrive and leave over the history (many were there before the records begin); activity comes in
  weekly bursts; account ages are heavy-tailed, and some askers use fresh throwaway accounts. Two to
  four of the experts and regulars are moderators, who post stickied meta threads.
- Submissions. Each member submits at a rate per flair; a thread's appeal is heavy-tailed (showcase
  posts most). Its visibility follows a hot ranking: votes grow with appeal and early comments, and
  decay with age, so a thread that draws comments early climbs and keeps drawing them; help threads
  with few answers stay visible to those who browse "new" to answer. Popular showcase, discussion
  and news threads reach r/all, where one-time commenters pour in.
- Comments. Every comment is placed in a thread chosen by visibility and the member's taste in
  flairs, either top-level (engaging the submitter) or as a reply to a comment chosen by its quality.
  An answer on a help thread draws the asker's thanks or follow-up question more often the better it
  is; a reply draws a reply back (more in discussions, chains fading with depth); strong answers draw
  "this helped me too" replies from others.
- Machinery. AutoModerator comments on every help thread and posts the weekly megathread (stickied
  for a week). As the Reddit adapter does, its items are not recorded, and comments answering it
  (a megathread's top-level comments) are posts of their authors that engage nobody.

Rows follow `bot.subreddits.items.to_ledger`: each comment is one engagement of kind "comment" from
its author to the author of its parent (none on the submitter's own thread when they answer
themselves), in the thread's flair channel on its day; every comment and submission is a post of
its author. Facts: no join day, the account's creation day, first seen at the first post, records
from the first simulated day, no leave day (Reddit does not say who left).

Genuine voices (the set Precision@10 is measured against), decided from the organic simulation
alone: an organic account is a genuine voice when (1) its comments and submissions drew replies
from at least max(8, 2% of the organic commenters) distinct organic accounts, (2) it drew replies
in at least 60% of the weeks from its first to its last week of activity, and in at least four
weeks, and (3) it was active in the last 14 days of the history (it is still there to be relied on).
A viral post, a one-off drama, or a member who has left does not make a genuine voice; steady help
and showcase work that many different members answer does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from bench.trust_metrics import Data, aggregate_edges, aggregate_posts
from bot import trust

CHANNEL_NAMES: tuple[str, ...] = ("help", "showcase", "discussion", "news", "meta", "megathread")
HELP, SHOWCASE, DISCUSSION, NEWS, META, MEGA = range(6)
#: Channel ids of the flairs (topic ids in the ledger).
CHANNELS: tuple[int, ...] = tuple(7_300_000_000 + 17 * i for i in range(len(CHANNEL_NAMES)))
COMMENT = trust.KINDS.index("comment")
ROLES: tuple[str, ...] = ("expert", "regular", "casual", "driveby")
EXPERT, REGULAR, CASUAL, DRIVEBY = range(4)
SLOTS = 4  # six-hour slots a day
SLOT_TRAFFIC = np.array([0.14, 0.24, 0.30, 0.32])
THREAD_LIFE = 12  # slots a thread stays on the front page (three days)
STICKY_LIFE = 28  # slots a stickied megathread or meta thread stays on top
VIRAL = (SHOWCASE, DISCUSSION, NEWS)
#: Submissions per active day by role (help, showcase, discussion, news, meta, megathread).
SUBMIT = np.array(
    [
        [0.004, 0.030, 0.020, 0.012, 0.0, 0.0],
        [0.010, 0.030, 0.016, 0.008, 0.0, 0.0],
        [0.022, 0.008, 0.004, 0.002, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ]
)
#: Appeal of a thread by flair: log-normal (median, sigma); showcase posts are the most heavy-tailed.
APPEAL = {HELP: (1.0, 0.5), SHOWCASE: (0.9, 1.1), DISCUSSION: (1.0, 0.8), NEWS: (0.8, 0.9), META: (1.5, 0.4)}
ID_LOW, ID_HIGH = 10**11, 10**12


@dataclass
class Thread:
    """One submission and its comments (author indexes, -1 for AutoModerator)."""

    day: int
    slot: int
    channel: int
    author: int
    appeal: float
    sticky: bool = False
    authors: list[int] = field(default_factory=list)
    quality: list[float] = field(default_factory=list)
    replies: list[int] = field(default_factory=list)
    top_level: int = 0


@dataclass
class Community:
    """An organic subreddit as the ranking sees it (`edges`, `posts`, `facts`), the genuine voices,
    and what the attacks build on: the members (`ids`, `role`, `arrive`, `leave`, `rate`,
    `expertise`, `affinity`, `created`, `mods`) and the threads (day, flair, author, appeal,
    participants)."""

    edges: trust.Edges
    posts: trust.Posts
    facts: trust.MemberFacts
    genuine: frozenset[int]
    today: int
    start: int
    days: int
    ids: np.ndarray
    role: np.ndarray
    arrive: np.ndarray
    leave: np.ndarray
    rate: np.ndarray
    expertise: np.ndarray
    affinity: np.ndarray
    created: np.ndarray
    mods: np.ndarray
    thread_day: np.ndarray
    thread_channel: np.ndarray
    thread_author: np.ndarray  # member index, -1 for AutoModerator
    thread_appeal: np.ndarray
    thread_size: np.ndarray
    participants: list[np.ndarray]
    counts: dict[str, object]
    id_set: frozenset[int]

    def known_created(self) -> dict[int, float]:
        """Each organic account's creation day."""
        return {int(m): float(c) for m, c in zip(self.ids, self.created, strict=True)}

    def active(self, day: int) -> np.ndarray:
        """Indexes of the non-drive-by members present on simulated day `day`."""
        return np.flatnonzero((self.arrive <= day) & (day < self.leave) & (self.role != DRIVEBY))

    def sample_members(self, rng: np.random.Generator, day: int, channel: int, k: int) -> np.ndarray:
        """`k` distinct organic members present on `day`, drawn by activity and taste for `channel`
        (member indexes; fewer if fewer are present)."""
        idx = self.active(day)
        if k <= 0 or len(idx) == 0:
            return np.zeros(0, np.int64)
        w = self.rate[idx] * self.affinity[idx, channel] + 1e-9
        k = min(k, len(idx))
        return rng.choice(idx, size=k, replace=False, p=w / w.sum())

    def threads_between(self, first: int, last: int, channel: int | None = None) -> np.ndarray:
        """Indexes of member-submitted threads from simulated day `first` to `last` (in `channel`)."""
        ok = (self.thread_day >= first) & (self.thread_day <= last) & (self.thread_author >= 0)
        if channel is not None:
            ok &= self.thread_channel == channel
        return np.flatnonzero(ok)

    def new_ids(self, rng: np.random.Generator, k: int, taken: set[int] | None = None) -> list[int]:
        """`k` account ids no organic account (nor any in `taken`) has."""
        out: list[int] = []
        used = set(taken or ())
        while len(out) < k:
            m = int(rng.integers(ID_LOW, ID_HIGH))
            if m not in self.id_set and m not in used:
                used.add(m)
                out.append(m)
        if taken is not None:
            taken.update(out)
        return out


def reddit_data(
    comm: Community,
    edges: trust.Edges | None = None,
    posts: trust.Posts | None = None,
    created: dict[int, float] | None = None,
) -> Data:
    """What the ranking sees of the subreddit, with an attack's rows and its accounts' creation days if
    given: rows summed per key; for every member no join day, the account's creation day (NaN where
    unknown), first seen at their first post, records from the history's first day, not a bot, no
    leave day."""
    if edges is not None and posts is not None:
        e = aggregate_edges([comm.edges, edges])
        p = aggregate_posts([comm.posts, posts])
    else:
        e, p = comm.edges, comm.posts
    ids = np.unique(np.concatenate([p.member, e.actor, e.target]))
    first = np.full(len(ids), np.inf)
    np.minimum.at(first, np.searchsorted(ids, p.member), p.day.astype(np.float64))
    first[np.isinf(first)] = np.nan
    known = comm.known_created()
    known.update(created or {})
    made = np.array([known.get(int(m), math.nan) for m in ids], dtype=np.float64)
    facts = trust.MemberFacts(
        member_id=ids,
        account_created_day=made,
        is_bot=np.zeros(len(ids), bool),
        first_seen_day=first,
        records_from_day=np.full(len(ids), float(comm.start)),
    )
    return Data(e, p, facts)


class _Sim:
    """The organic simulation's state while it runs."""

    def __init__(self, size: int, seed: int) -> None:
        rng = self.rng = np.random.default_rng([seed, size, 9])
        self.n = n = max(size, 50)
        self.days = int(rng.integers(60, 151))
        self.start = 19_700 + int(rng.integers(0, 400))
        shares = np.array([0.015, 0.09, 0.30])
        counts = np.maximum(np.round(shares * n).astype(int), [3, 10, 30])
        role = np.full(n, DRIVEBY)
        role[: counts[0]] = EXPERT
        role[counts[0] : counts[0] + counts[1]] = REGULAR
        role[counts[0] + counts[1] : counts.sum()] = CASUAL
        self.role = role = rng.permutation(role)
        d = self.days
        # Presence: many were there before the records; tenure exponential by role.
        before = rng.random(n) < np.array([0.8, 0.65, 0.4, 0.0])[role]
        self.arrive = np.where(before, -rng.integers(1, 400, n), rng.integers(0, d, n)).astype(np.int64)
        tenure = rng.exponential(np.array([400.0, 180.0, 70.0, 1.0])[role])
        self.leave = (self.arrive + np.maximum(tenure, 7)).astype(np.int64)
        self.leave[role == DRIVEBY] = d + 1  # a drive-by is placed where it comments
        means = np.array([3.0, 0.7, 0.07, 0.0])[role]
        sig = np.array([0.5, 0.8, 0.9, 0.0])[role]
        self.rate = means * np.exp(rng.normal(0, sig, n) - sig**2 / 2)
        self.expertise = np.clip(
            np.where(
                role == EXPERT,
                rng.uniform(0.7, 0.95, n),
                np.where(role == REGULAR, rng.beta(3, 3, n), rng.beta(2, 5, n)),
            ),
            0.02,
            0.98,
        )
        self.helpful = np.clip(rng.beta(2, 2, n) + 0.3 * (role == EXPERT), 0, 1)
        aff = rng.dirichlet(np.ones(6) * 1.5, n)
        aff[:, HELP] += 1.5 * self.helpful * self.expertise
        aff[:, MEGA] += 0.15
        aff[:, META] = 0.2 * aff[:, META]
        self.affinity = aff / aff.sum(1, keepdims=True)
        self.submit = SUBMIT[role] * np.exp(rng.normal(0, 0.7, (n, 6)))
        candidates = np.flatnonzero((role == EXPERT) | (role == REGULAR))
        candidates = candidates[self.arrive[candidates] < 0]
        n_mods = min(len(candidates), 2 + n // 1500)
        self.mods = rng.choice(candidates, n_mods, replace=False)
        self.leave[self.mods] = d + 1000
        self.submit[self.mods, META] = 0.03
        # Account ages: old accounts, heavy-tailed; some askers on fresh throwaways.
        age = rng.lognormal(math.log(900), 0.9, n)
        fresh = rng.random(n) < np.array([0.0, 0.03, 0.15, 0.10])[role]
        age[fresh] = rng.uniform(0, 10, fresh.sum())
        self.age = age
        self.weekly = rng.gamma(2.0, 0.5, (n, d // 7 + 2))
        ids: set[int] = set()
        while len(ids) < n + 1:
            ids.add(int(rng.integers(ID_LOW, ID_HIGH)))
        self.ids = rng.permutation(np.array(sorted(ids), np.int64))
        self.automod = int(self.ids[n])
        self.threads: list[Thread] = []
        self.drivebys = list(rng.permutation(np.flatnonzero(role == DRIVEBY)))
        self.used_drivebys: list[int] = []
        self.first_day = np.full(n, -1)  # a drive-by's day of arrival
        self.comments = np.zeros(n, np.int64)
        # Recorded rows: comments (actor, target or -1, channel, day), submissions (author, channel, day).
        self.rows: list[tuple[int, int, int, int]] = []
        self.subs: list[tuple[int, int, int]] = []
        self.viral_score = 14.0
        self.rall_rate = 3.0 * math.sqrt(n / 3000)

    # -- helpers -------------------------------------------------------------------------------------

    def present(self, m: int, day: int) -> bool:
        if self.role[m] == DRIVEBY:
            return self.first_day[m] >= 0 and day - self.first_day[m] <= 3
        return bool(self.arrive[m] <= day < self.leave[m])

    def driveby(self, day: int) -> int:
        """An unused drive-by account (or one used before, when the pool is spent)."""
        rng = self.rng
        if self.drivebys:
            m = int(self.drivebys.pop())
            self.used_drivebys.append(m)
            self.first_day[m] = day
        elif self.used_drivebys:
            m = int(self.used_drivebys[int(rng.integers(len(self.used_drivebys)))])
        else:
            m = int(rng.integers(self.n))
        return m

    def new_thread(self, day: int, slot: int, channel: int, author: int, sticky: bool = False) -> None:
        med, sig = APPEAL.get(channel, (1.0, 0.5))
        appeal = float(med * math.exp(self.rng.normal(0, sig)))
        self.threads.append(Thread(day, slot, channel, author, appeal, sticky))
        if author >= 0:
            self.subs.append((author, channel, day))

    def visibility(self, t: Thread, day: int, slot: int) -> float:
        age = (day - t.day) * SLOTS + slot - t.slot
        if t.sticky:
            return 6.0 if age < STICKY_LIFE else 0.0
        if age >= THREAD_LIFE or age < 0:
            return 0.0
        votes = t.appeal * (1 + len(t.authors)) ** 0.6
        v = votes / (age + 1.5) ** 1.3
        if t.channel == HELP:
            v *= 1 + 2.0 / (1 + t.top_level)  # answered by those who browse "new"
        return v

    def comment(self, ti: int, m: int, day: int, parent: int | None, depth: int, queue: list) -> None:
        """Member `m` comments in thread `ti` on `day`, as a reply to comment `parent` (None: choose
        top-level or a reply by the thread's shape); queues the replies it draws."""
        rng = self.rng
        t = self.threads[ti]
        c = len(t.authors)
        if parent is None and c > 0:
            share = (0.75 if t.channel in (DISCUSSION, MEGA) else 0.45) * c / (c + 3)
            if t.author == m or rng.random() < share:
                q = np.asarray(t.quality) ** 2 * (1 + np.asarray(t.replies)) ** 0.3
                own = np.asarray(t.authors) == m
                q[own] = 0
                if q.sum() > 0:
                    parent = int(np.searchsorted(np.cumsum(q), rng.random() * q.sum()))
                    parent = min(parent, c - 1)
        if parent is None and t.author == m:
            return  # nothing to answer in one's own thread yet
        target = t.author if parent is None else t.authors[parent]
        q = float(np.clip(self.expertise[m] + rng.normal(0, 0.15), 0.02, 1.0))
        t.authors.append(m)
        t.quality.append(q)
        t.replies.append(0)
        if parent is None:
            t.top_level += 1
        else:
            t.replies[parent] += 1
        self.comments[m] += 1
        self.rows.append((m, target if target != m else -1, t.channel, day))
        me = len(t.authors) - 1
        if target < 0 or target == m or depth > 8:
            return
        if parent is None and t.channel == HELP:
            p = 0.2 + 0.6 * q  # the asker thanks or follows up
        else:
            p = (0.12 + 0.3 * self.helpful[target]) * (1.5 if t.channel == DISCUSSION else 1.0)
            p *= 0.75**depth
        if self.present(target, day) and rng.random() < p:
            queue.append((ti, target, me, depth + 1))
        if t.channel == HELP and rng.random() < 0.35 * q**2:
            queue.append((ti, -2, me, depth + 1))  # "this helped me too"

    # -- the run ------------------------------------------------------------------------------------

    def run(self) -> None:
        rng, n, d = self.rng, self.n, self.days
        regular = self.role != DRIVEBY
        for day in range(d):
            if day % 7 == 0:
                self.new_thread(day, 0, MEGA, -1, sticky=True)
            here = np.flatnonzero(regular & (self.arrive <= day) & (day < self.leave))
            sub = rng.poisson(self.submit[here])
            for i, c in zip(*np.nonzero(sub), strict=True):
                m = int(here[i])
                for _ in range(int(sub[i, c])):
                    self.new_thread(day, int(rng.integers(SLOTS)), int(c), m, sticky=c == META)
            for _ in range(rng.poisson(0.004 * n)):  # one-time askers
                self.new_thread(day, int(rng.integers(SLOTS)), HELP, self.driveby(day))
            weekly = self.weekly[here, day // 7]
            for slot in range(SLOTS):
                self.slot(day, slot, here, weekly)
        self.late_arrivals()

    def slot(self, day: int, slot: int, here: np.ndarray, weekly: np.ndarray) -> None:
        rng = self.rng
        open_ = [
            i
            for i in range(max(0, len(self.threads) - 4000), len(self.threads))
            if self.threads[i].day <= day
        ]
        vis = np.array([self.visibility(self.threads[i], day, slot) for i in open_])
        live = vis > 0
        open_arr = np.array(open_, np.int64)[live]
        vis = vis[live]
        if len(open_arr) == 0:
            return
        chan = np.array([self.threads[i].channel for i in open_arr])
        per_chan = [np.flatnonzero(chan == c) for c in range(6)]
        cums = [np.cumsum(vis[ix]) for ix in per_chan]
        totals = np.array([c[-1] if len(c) else 0.0 for c in cums])
        queue: list[tuple[int, int, int, int]] = []
        counts = rng.poisson(self.rate[here] * weekly * SLOT_TRAFFIC[slot])
        for i in np.flatnonzero(counts):
            m = int(here[i])
            w = self.affinity[m] * totals
            if w.sum() <= 0:
                continue
            for _ in range(int(counts[i])):
                c = int(np.searchsorted(np.cumsum(w), rng.random() * w.sum()))
                c = min(c, 5)
                j = int(np.searchsorted(cums[c], rng.random() * cums[c][-1]))
                ti = int(open_arr[per_chan[c][min(j, len(per_chan[c]) - 1)]])
                self.comment(ti, m, day, None, 0, queue)
        # r/all: popular threads draw one-time commenters.
        for ti in open_arr:
            t = self.threads[ti]
            if t.channel not in VIRAL or t.sticky:
                continue
            score = t.appeal * (1 + len(t.authors)) ** 0.6
            age = (day - t.day) * SLOTS + slot - t.slot
            if score > self.viral_score and age < 8:
                for _ in range(min(60, rng.poisson(self.rall_rate * (score / self.viral_score - 1)))):
                    self.comment(int(ti), self.driveby(day), day, None, 0, queue)
        self.answer(queue, day, here)

    def answer(self, queue: list[tuple[int, int, int, int]], day: int, here: np.ndarray) -> None:
        """Replies drawn by comments: the addressed member's reply back, or another's thanks."""
        rng = self.rng
        while queue:
            ti, m, parent, depth = queue.pop()
            when = day if rng.random() < 0.7 else day + 1
            if when >= self.days:
                continue
            if m == -2:
                if len(here) == 0:
                    continue
                w = self.rate[here] * self.affinity[here, HELP]
                m = int(here[np.searchsorted(np.cumsum(w), rng.random() * w.sum())])
                if rng.random() < 0.25:
                    m = self.driveby(when)  # a visitor from a search
            if m == self.threads[ti].authors[parent]:
                continue
            self.comment(ti, m, when, parent, depth, queue)

    def late_arrivals(self) -> None:
        """Accounts of the pool that never commented comment once: an asker thanks its first answerer,
        a drive-by answers a help thread it found by a search, a member comments once while here."""
        rng = self.rng
        asked: dict[int, int] = {}
        for i, t in enumerate(self.threads):
            if t.author >= 0:
                asked.setdefault(t.author, i)
        help_threads = [i for i, t in enumerate(self.threads) if t.channel == HELP and t.author >= 0]
        for m in np.flatnonzero(self.comments == 0):
            m = int(m)
            queue: list[tuple[int, int, int, int]] = []
            ti = asked.get(m)
            if ti is not None and self.threads[ti].authors:
                t = self.threads[ti]
                self.comment(ti, m, min(t.day + 1, self.days - 1), 0 if t.authors[0] != m else None, 1, queue)
                if self.comments[m]:
                    continue
            if self.role[m] == DRIVEBY:
                if self.first_day[m] < 0:
                    self.first_day[m] = int(rng.integers(self.days))
                day = int(self.first_day[m])
            else:
                lo, hi = max(0, int(self.arrive[m])), min(self.days, int(self.leave[m]))
                day = int(rng.integers(lo, hi)) if hi > lo else int(rng.integers(self.days))
            near = [
                i for i in help_threads if abs(self.threads[i].day - day) <= 2 and self.threads[i].author != m
            ]
            if not near:
                near = [i for i in help_threads if self.threads[i].author != m]
            ti = int(near[int(rng.integers(len(near)))])
            t = self.threads[ti]
            self.comment(ti, m, max(day, t.day), None, 0, queue)
            if self.comments[m] == 0:
                self.comment(ti, m, max(day, t.day), None if not t.authors else 0, 1, queue)


def _genuine(sim: _Sim, actor: np.ndarray, target: np.ndarray, cday: np.ndarray) -> frozenset[int]:
    """The genuine voices by the rule in the module docstring (member ids)."""
    n, d = sim.n, sim.days
    keep = target >= 0
    a, t, w = actor[keep], target[keep], cday[keep] // 7
    pairs = np.unique(t * n + a)
    distinct = np.bincount(pairs // n, minlength=n)
    weeks = np.zeros((n, d // 7 + 1), bool)
    weeks[t, w] = True
    act_days = [sim.rows[i][3] for i in range(len(sim.rows))]
    act_m = [sim.rows[i][0] for i in range(len(sim.rows))]
    acts = np.array(act_m + [s[0] for s in sim.subs], np.int64)
    adays = np.array(act_days + [s[2] for s in sim.subs], np.int64)
    first = np.full(n, d + 1)
    last = np.full(n, -1)
    np.minimum.at(first, acts, adays)
    np.maximum.at(last, acts, adays)
    threshold = max(8, math.ceil(0.02 * n))
    out = []
    for m in np.flatnonzero(distinct >= threshold):
        span = weeks[m, first[m] // 7 : last[m] // 7 + 1]
        if span.sum() >= 4 and span.mean() >= 0.6 and last[m] >= d - 14:
            out.append(int(sim.ids[m]))
    return frozenset(out)


def build_community(size: int, seed: int) -> Community:
    """The organic subreddit with `size` organically commenting accounts, for `seed`."""
    sim = _Sim(size, seed)
    sim.run()
    rows = np.array(sim.rows, np.int64).reshape(-1, 4)
    rows = rows[rows[:, 3] < sim.days]
    actor, target, chan, cday = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    genuine = _genuine(sim, actor, target, cday)
    ids, start, channels = sim.ids, sim.start, np.array(CHANNELS, np.int64)
    e = target >= 0
    edges = aggregate_edges(
        [
            trust.Edges(
                ids[actor[e]],
                ids[target[e]],
                channels[chan[e]],
                start + cday[e],
                np.full(int(e.sum()), COMMENT),
                np.ones(int(e.sum())),
            )
        ]
    )
    subs = np.array(sim.subs, np.int64).reshape(-1, 3)
    pm = np.concatenate([actor, subs[:, 0]])
    pc = np.concatenate([chan, subs[:, 1]])
    pd = np.concatenate([cday, subs[:, 2]])
    posts = aggregate_posts([trust.Posts(ids[pm], channels[pc], start + pd, np.ones(len(pm)))])
    n = sim.n
    first = np.full(n, sim.days, np.int64)
    np.minimum.at(first, pm, pd)
    arrive = np.where(sim.role == DRIVEBY, first, sim.arrive)
    leave = np.where(sim.role == DRIVEBY, first + 1, sim.leave)
    created = start + np.minimum(arrive, first) - sim.age
    threads = sim.threads
    sizes = np.array([len(t.authors) for t in threads])
    counts: dict[str, object] = {
        "days": sim.days,
        "commenters": int((sim.comments > 0).sum()),
        "comments": len(rows),
        "submissions": len(subs),
        "threads": len(threads),
        "engagements": int(e.sum()),
        "median_thread": float(np.median(sizes)) if len(sizes) else 0.0,
        "max_thread": int(sizes.max()) if len(sizes) else 0,
        "one_comment": int((sim.comments == 1).sum()),
        "genuine": len(genuine),
        "genuine_roles": {
            ROLES[r]: int(sum(1 for m in np.flatnonzero(sim.role == r) if int(ids[m]) in genuine))
            for r in range(4)
        },
    }
    comm = Community(
        edges=edges,
        posts=posts,
        facts=trust.MemberFacts(),
        genuine=genuine,
        today=start + sim.days - 1,
        start=start,
        days=sim.days,
        ids=ids[:n],
        role=sim.role,
        arrive=arrive,
        leave=leave,
        rate=np.where(sim.role == DRIVEBY, 0.0, sim.rate),
        expertise=sim.expertise,
        affinity=sim.affinity,
        created=created,
        mods=sim.mods,
        thread_day=np.array([t.day for t in threads], np.int64),
        thread_channel=np.array([t.channel for t in threads], np.int64),
        thread_author=np.array([t.author for t in threads], np.int64),
        thread_appeal=np.array([t.appeal for t in threads]),
        thread_size=sizes,
        participants=[np.unique(np.array(t.authors, np.int64)) for t in threads],
        counts=counts,
        id_set=frozenset(int(m) for m in ids),
    )
    comm.facts = reddit_data(comm).facts
    return comm
