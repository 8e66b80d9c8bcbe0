"""Manipulations real servers see, added on top of an organic community at three strengths.

Every attack returns extra rows only (engagement, posts, facts of new accounts): the organic rows
stay as they are. Organic members can appear in the extra rows, either as knowing participants
(counted as manipulators) or as unwitting members who respond to what the manipulation shows them
(not counted). The beneficiary is always among the manipulators.

* `shoutout_pact` - a few established members agree to promote one of them: they give shoutouts
  that mention the beneficiary in chat, react to and comment on the beneficiary's showcase posts,
  and their own friends follow the shoutouts to the beneficiary's posts.
* `paid_waves` - real people paid on an outside marketplace join in three waves a fortnight apart
  on aged accounts, chat a little with everyone for cover and mostly hype the beneficiary.
* `follower_import` - a streamer joins and brings followers from another platform: a rush of
  arrivals (many fresh accounts) who react to every "going live" post and fade between streams.
* `bought_history` - accounts that had a genuine, ordinary history in this server are bought; after
  a short silence while they change hands they engage the beneficiary.
* `slow_burn` - a crew joins early and behaves like helpful regulars for months (answering
  questions, chatting), then in the last two weeks all of it goes into pushing one of them.
* `reaction_polls` - engagement bait: the beneficiary posts polls and "react if you..." posts that a
  large share of the members active that week react to once, as votes, not as recognition.
* `offsite_exchange` - reaction-for-reaction arranged on another server: accounts that never post
  here react to the beneficiary's posts (the beneficiary pays back elsewhere), with a little cover.
* `staged_help` - friends ask the beneficiary staged questions in the help forum and thank the
  answers, so the beneficiary looks like the knowledgeable helper.
* `election_canvass` - a "member of the month" campaign: canvassers get members to post
  nominations that mention and reply to the beneficiary in an events channel within ten days.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench.trust_fourth.model import (
    FIRST_CHANNEL,
    FIRST_ID,
    MENTION,
    REACTION,
    REPLY,
    THREAD,
    Community,
    Recorder,
)
from bot import trust


@dataclass(frozen=True)
class AttackResult:
    """The extra rows of one manipulation and who took part in it."""

    edges: trust.Edges
    posts: trust.Posts
    facts: trust.MemberFacts  # facts of new accounts only
    manipulators: frozenset[int]
    beneficiary: int


class Stage:
    """What an attack writes: engagement, posts and new accounts, plus the organic community."""

    def __init__(self, comm: Community, rng: np.random.Generator) -> None:
        self.comm = comm
        self.rng = rng
        self.rand = random.Random(int(rng.integers(1 << 62)))
        self.rec = Recorder()
        self.new: list[tuple[int, float, float]] = []
        self.next_id = FIRST_ID + comm.size
        self.today = comm.today
        self.start = comm.start
        self.general = comm.channel("general")
        self.help = comm.channel("help")
        self.showcase = comm.channel("showcase")
        self.recent = comm.recent_posts(60)
        self.present_now = comm.present(comm.today - 1) & np.isinf(comm.leave)

    def account(self, joined: float, age_days: float) -> int:
        """A new account that joined on `joined`, created `age_days` before."""
        mid = self.next_id
        self.next_id += 1
        self.new.append((mid, float(np.floor(joined)), float(np.floor(joined - age_days))))
        return mid

    def aged(self) -> float:
        """Age of a bought or long-held account at joining: one to six years."""
        return float(self.rng.uniform(365, 6 * 365))

    def pick(
        self, k: int, roles: tuple[str, ...] = ("casual",), exclude: set[int] | None = None
    ) -> list[int]:
        """`k` organic members (ids) of these roles who are here, settled, posting, not genuine voices."""
        exclude = exclude or set()
        comm = self.comm
        ok = self.present_now & (comm.joined <= self.today - 30) & (comm.recent_posts(30) > 0)
        pools = [roles, ("casual", "regular", "lurker")]
        chosen: list[int] = []
        for pool in pools:
            cand = [
                int(comm.ids[i])
                for i in np.flatnonzero(ok)
                if comm.roles[i] in pool and int(comm.ids[i]) not in comm.genuine
            ]
            cand = [c for c in cand if c not in exclude and c not in chosen]
            self.rand.shuffle(cand)
            chosen.extend(cand[: k - len(chosen)])
            if len(chosen) >= k:
                break
        return chosen

    def askers(self, day: int) -> list[int]:
        """Organic members who asked something in #help on `day` (they posted there)."""
        posts = self.comm.posts
        mask = (posts.day == day) & (posts.channel == self.help)
        return sorted({int(m) for m in posts.member[mask]})

    def friends_of(self, member_id: int) -> list[int]:
        comm = self.comm
        return [
            int(comm.ids[f]) for f in comm.friends[comm.index(member_id)] if self.present_now[f] and f >= 0
        ]

    def organic(self, k: int, day: int | None = None, by_posts: bool = True) -> list[int]:
        """`k` organic members present (on `day`), weighted by how much they posted recently."""
        comm = self.comm
        here = comm.present(day if day is not None else self.today - 1)
        w = (self.recent + 0.2 if by_posts else np.ones(comm.size)) * here
        if w.sum() == 0:
            return []
        idx = self.rng.choice(comm.size, size=k, p=w / w.sum())
        return [int(comm.ids[i]) for i in idx]

    def edge(self, actor: int, target: int, channel: int, day: int, kind: int, n: float = 1.0) -> None:
        if day < self.today:
            self.rec.edge(actor, target, channel, day, kind, n)

    def post(self, member: int, channel: int, day: int, n: float = 1.0) -> None:
        if day < self.today:
            self.rec.post(member, channel, day, n)

    def chat_cover(self, actor: int, day: int, answered_back: float = 0.3) -> None:
        """An ordinary message in chat: a reply to someone, who may answer, and a reaction."""
        target = self.organic(1, day)[0]
        if target == actor:
            return
        self.edge(actor, target, self.general, day, REPLY)
        self.post(actor, self.general, day)
        if self.rand.random() < answered_back:
            self.edge(target, actor, self.general, day, REPLY)
            self.post(target, self.general, day)
        if self.rand.random() < 0.5:
            self.edge(actor, self.organic(1, day)[0], self.general, day, REACTION)

    def result(self, manipulators: set[int], beneficiary: int) -> AttackResult:
        if self.new:
            arr = np.array(self.new)
            facts = trust.MemberFacts(
                member_id=arr[:, 0].astype(np.int64), joined_day=arr[:, 1], account_created_day=arr[:, 2]
            )
        else:
            facts = trust.MemberFacts(
                member_id=np.zeros(0, dtype=np.int64), joined_day=np.zeros(0), account_created_day=np.zeros(0)
            )
        return AttackResult(
            self.rec.build_edges(), self.rec.build_posts(), facts, frozenset(manipulators), beneficiary
        )


def _days(stage: Stage, first: int) -> range:
    return range(max(first, stage.start), stage.today)


def shoutout_pact(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """Established members promote one of them with shoutouts, comments and their friends' reactions."""
    st = Stage(comm, rng)
    k = (3, 5, 8)[strength - 1]
    crew = st.pick(k + 1)
    ben, partners = crew[0], crew[1:]
    fans = {p: st.friends_of(p) for p in partners}
    for day in _days(st, st.today - 42):
        showcase_day = st.rand.random() < 3 / 7
        if showcase_day:
            st.post(ben, st.showcase, day, 1 + st.rand.randrange(2))
        for p in partners:
            shoutout = st.rand.random() < 2 / 7
            if shoutout:
                st.post(p, st.general, day)
                st.edge(p, ben, st.general, day, MENTION)
            if showcase_day:
                if st.rand.random() < 0.7:
                    st.edge(p, ben, st.showcase, day, REACTION)
                if st.rand.random() < 0.5:
                    st.edge(p, ben, st.showcase, day, THREAD)
                    st.post(p, st.showcase, day)
                    if st.rand.random() < 0.6:
                        st.edge(ben, p, st.showcase, day, REPLY)
                        st.post(ben, st.showcase, day)
                if shoutout or st.rand.random() < 0.3:
                    for f in fans[p]:  # the partner's friends follow the shoutout
                        if f != ben and st.rand.random() < 0.35:
                            st.edge(f, ben, st.showcase, day, REACTION)
                            if st.rand.random() < 0.15:
                                st.edge(f, ben, st.showcase, day, THREAD)
                                st.post(f, st.showcase, day)
            if st.rand.random() < 0.3 / 7:  # the beneficiary returns a shoutout now and then
                st.edge(ben, p, st.general, day, MENTION)
                st.post(ben, st.general, day)
            if st.rand.random() < 0.15:
                q = st.rand.choice(partners)
                if q != p:
                    st.edge(p, q, st.general, day, REACTION)
    return st.result(set(crew), ben)


def paid_waves(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """Paid outsiders on aged accounts join in three waves and mostly hype the beneficiary."""
    st = Stage(comm, rng)
    k = (8, 20, 40)[strength - 1]
    ben = st.pick(1)[0]
    crew: set[int] = {ben}
    ben_days = [d for d in _days(st, st.today - 35) if st.rand.random() < 0.6]
    for d in ben_days:
        st.post(ben, st.general, d, 1 + st.rand.randrange(4))
    ben_set = set(ben_days)
    for i in range(k):
        wave = (35, 21, 7)[i % 3]
        joined = st.today - wave + int(rng.integers(-2, 3))
        acc = st.account(joined, st.aged())
        crew.add(acc)
        for day in _days(st, joined):
            if st.rand.random() >= 0.45:
                continue
            st.post(acc, st.general, day, 1 + st.rand.randrange(2))
            if st.rand.random() < 0.6:
                hype_day = day if day in ben_set else max([d for d in ben_days if d <= day], default=day)
                st.edge(acc, ben, st.general, day, REACTION, 1 + st.rand.randrange(3))
                if hype_day == day:
                    st.edge(acc, ben, st.general, day, REPLY)
                    if st.rand.random() < 0.3:
                        st.edge(ben, acc, st.general, day, REPLY)
                        st.post(ben, st.general, day)
            if st.rand.random() < 0.4:
                st.chat_cover(acc, day)
    return st.result(crew, ben)


def follower_import(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """A streamer joins and brings followers from another platform, who react to every stream post."""
    st = Stage(comm, rng)
    k = (25, 60, 150)[strength - 1]
    arrival = st.today - 40
    ben = st.account(arrival, 4 * 365)
    crew = {ben}
    streams = [d for d in _days(st, arrival) if (d - arrival) % 7 in (0, 2, 4)]
    for d in _days(st, arrival):
        if d in streams:
            st.post(ben, st.general, d)
        if st.rand.random() < 0.5:
            for _ in range(1 + st.rand.randrange(3)):
                st.chat_cover(ben, d, answered_back=0.4)
    for i in range(k):
        if i < 0.6 * k:
            joined = arrival + int(rng.integers(0, 3))
        else:
            joined = int(st.rand.choice(streams)) + int(rng.integers(0, 2))
        fresh = st.rand.random() < 0.4
        acc = st.account(joined, st.rand.uniform(0, 30) if fresh else st.aged())
        crew.add(acc)
        chatty = st.rand.random() < 0.25
        for d in _days(st, joined):
            if d in streams:
                p = 0.7 * np.exp(-(d - joined) / 15) + 0.15
                if st.rand.random() < p:
                    st.edge(acc, ben, st.general, d, REACTION)
                    if st.rand.random() < 0.3:
                        st.edge(acc, ben, st.general, d, REPLY)
                        st.post(acc, st.general, d)
            if chatty and st.rand.random() < 0.2:
                st.chat_cover(acc, d)
    return st.result(crew, ben)


def bought_history(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """Accounts with ordinary history here are bought; after a short silence they boost the beneficiary."""
    st = Stage(comm, rng)
    k = (4, 8, 15)[strength - 1]
    ben = st.pick(1)[0]
    crew = {ben}
    for d in _days(st, st.today - 25):
        if st.rand.random() < 0.5:
            st.post(ben, st.general, d, 1 + st.rand.randrange(3))
    for _ in range(k):
        joined = (
            st.start - st.rand.uniform(10, 300)
            if st.rand.random() < 0.6
            else st.start + st.rand.uniform(0, 20)
        )
        acc = st.account(joined, st.aged())
        crew.add(acc)
        sale = st.today - 28 - st.rand.randrange(11)
        resume = sale + 7 + st.rand.randrange(14)
        for d in _days(st, int(joined) + 1):
            if d < sale:  # the previous owner's ordinary life here
                if st.rand.random() < 0.3:
                    st.chat_cover(acc, d, answered_back=0.35)
                    for x in st.organic(st.rand.randrange(3), d):
                        st.edge(x, acc, st.general, d, REACTION)
            elif d >= resume and st.rand.random() < 0.6:
                st.edge(acc, ben, st.general, d, REACTION, 1 + st.rand.randrange(2))
                st.post(acc, st.general, d)
                if st.rand.random() < 0.6:
                    st.edge(acc, ben, st.general, d, REPLY)
                if st.rand.random() < 0.2:
                    st.edge(acc, ben, st.showcase, d, THREAD)
                    st.post(acc, st.showcase, d)
    return st.result(crew, ben)


def slow_burn(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """A crew behaves like helpful regulars for months, then pushes one of them for two weeks."""
    st = Stage(comm, rng)
    k = (3, 5, 8)[strength - 1]
    ben = st.account(st.start + st.rand.uniform(0, 10), st.aged())
    crew = [st.account(st.start + st.rand.uniform(0, 10), st.aged()) for _ in range(k)]
    push = st.today - 14
    joined = {m: int(j) for m, j, _ in st.new}
    for m in [ben, *crew]:
        for d in _days(st, joined[m] + 1):
            if d >= push and m != ben:
                continue
            if st.rand.random() >= 0.6:
                continue
            askers = st.askers(d)
            answers = st.rand.randrange(2 + strength)  # stronger crews play busier regulars
            for asker in st.rand.sample(askers, min(len(askers), answers)):  # answers in #help
                if asker == m:
                    continue
                st.edge(m, asker, st.help, d, THREAD)
                st.post(m, st.help, d)
                if st.rand.random() < 0.5:
                    st.edge(asker, m, st.help, d, REPLY)
                    st.post(asker, st.help, d)
                    st.edge(asker, m, st.help, d, REACTION)
            for _ in range(st.rand.randrange(1 + strength)):
                st.chat_cover(m, d, answered_back=0.4)
            if m != ben and st.rand.random() < 0.25:
                st.edge(m, ben, st.general, d, REACTION)
                st.edge(m, ben, st.general, d, REPLY)
                st.post(m, st.general, d)
            if m == ben and st.rand.random() < 0.2:
                st.edge(ben, st.rand.choice(crew), st.general, d, REPLY)
                st.post(ben, st.general, d)
    for d in _days(st, push):
        st.post(ben, st.showcase, d, 1 + st.rand.randrange(2))
        st.post(ben, st.general, d, 1 + st.rand.randrange(3))
        if st.rand.random() < 0.5:
            st.chat_cover(ben, d, answered_back=0.4)
        for m in crew:
            if st.rand.random() < 0.9:
                st.edge(m, ben, st.showcase, d, REACTION, 1 + st.rand.randrange(3))
                st.edge(m, ben, st.general, d, REPLY, 1 + st.rand.randrange(2))
                st.post(m, st.general, d, 2)
                if st.rand.random() < 0.4:
                    st.edge(m, ben, st.general, d, MENTION)
                if st.rand.random() < 0.3:
                    st.edge(ben, m, st.general, d, REPLY)
                    st.post(ben, st.general, d)
    return st.result({ben, *crew}, ben)


def reaction_polls(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """Engagement bait: polls and react-if posts that a large share of the server reacts to once."""
    st = Stage(comm, rng)
    polls = (4, 10, 20)[strength - 1]
    reach = (0.2, 0.35, 0.5)[strength - 1]  # share of the week's active members who vote
    ben = st.pick(1)[0]
    window = list(_days(st, st.today - 56))
    weight = np.array([1.0 if r in ("lurker", "casual") else 0.5 for r in comm.roles])
    edges = comm.edges
    for d in sorted(st.rand.sample(window, min(polls, len(window)))):
        st.post(ben, st.general, d)
        around = np.zeros(comm.size, dtype=bool)  # who engaged anyone in the poll's week
        around[edges.actor[(edges.day >= d) & (edges.day < d + 7)] - FIRST_ID] = True
        here = comm.present(d) * around * weight
        if here.sum() == 0:
            continue
        n = int(reach * np.count_nonzero(here))
        voters = rng.choice(comm.size, size=n, replace=False, p=here / here.sum())
        for v in voters:
            vid = int(comm.ids[v])
            if vid == ben:
                continue
            st.edge(vid, ben, st.general, d, REACTION)
            if st.rand.random() < 0.08:
                st.edge(vid, ben, st.general, d, REPLY)
                st.post(vid, st.general, d)
    return st.result({ben}, ben)


def offsite_exchange(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """Accounts from an outside exchange react to the beneficiary's posts and never post themselves."""
    st = Stage(comm, rng)
    k = (10, 25, 50)[strength - 1]
    ben = st.pick(1)[0]
    ben_days = set(comm.post_days(ben, st.today - 90))
    for d in _days(st, st.today - 60):
        if st.rand.random() < 2 / 7:
            st.post(ben, st.showcase, d)
            ben_days.add(d)
    received = np.zeros(comm.size)
    np.add.at(received, comm.edges.target - FIRST_ID, comm.edges.n * (comm.edges.kind == REACTION))
    popular = received * comm.present(st.today - 1)
    crew = {ben}
    for _ in range(k):
        joined = int(st.rand.uniform(max(st.start, st.today - 90), st.today - 20))
        acc = st.account(joined, st.rand.uniform(365, 4 * 365))
        crew.add(acc)
        for d in _days(st, joined):
            if d in ben_days and st.rand.random() < 0.6:
                st.edge(acc, ben, st.showcase, d, REACTION, 1 + st.rand.randrange(2))
            if st.rand.random() < 2 / 7:  # cover: a reaction to someone popular
                target = int(comm.ids[rng.choice(comm.size, p=popular / popular.sum())])
                st.edge(acc, target, st.general, d, REACTION)
    return st.result(crew, ben)


def staged_help(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """Friends ask the beneficiary staged questions in #help and thank the answers."""
    st = Stage(comm, rng)
    k = (3, 6, 10)[strength - 1]
    ben = st.pick(1)[0]
    friends = [f for f in st.friends_of(ben) if f not in comm.genuine][:k]
    crew = friends + st.pick(k - len(friends), exclude={ben, *friends})
    for d in _days(st, st.today - 56):
        for a in crew:
            if st.rand.random() < 1.5 / 7:
                st.post(a, st.help, d)
                st.edge(ben, a, st.help, d, THREAD)
                st.post(ben, st.help, d, 1 + st.rand.randrange(3))
                st.edge(a, ben, st.help, d, REPLY)
                st.post(a, st.help, d)
                st.edge(a, ben, st.help, d, REACTION)
                for b in crew:
                    if b != a and st.rand.random() < 0.5:
                        st.edge(b, ben, st.help, d, REACTION)
                for x in st.organic(st.rand.randrange(3), d, by_posts=False):
                    if x != ben:
                        st.edge(x, ben, st.help, d, REACTION)
            if st.rand.random() < 0.3 / 7:
                st.edge(a, ben, st.general, d, MENTION)
                st.post(a, st.general, d)
        askers = st.askers(d)
        if askers and st.rand.random() < 0.5:  # some genuine help too
            asker = st.rand.choice(askers)
            if asker != ben:
                st.edge(ben, asker, st.help, d, THREAD)
                st.post(ben, st.help, d)
                if st.rand.random() < 0.4:
                    st.edge(asker, ben, st.help, d, REPLY)
                    st.post(asker, st.help, d)
    return st.result({ben, *crew}, ben)


def election_canvass(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """A campaign: canvassers get members to post nominations of the beneficiary in an events channel."""
    st = Stage(comm, rng)
    k = (2, 4, 6)[strength - 1]
    persuaded_n = (8, 20, 40)[strength - 1]
    events = FIRST_CHANNEL + len(comm.channels)
    ben = st.pick(1)[0]
    friends = [f for f in st.friends_of(ben) if f not in comm.genuine][:k]
    canvassers = friends + st.pick(k - len(friends), exclude={ben, *friends})
    crew = {ben, *canvassers}
    start = st.today - 10
    st.post(ben, events, start, 2)
    reachable = {f for c in canvassers for f in st.friends_of(c)} - crew
    pool = sorted(reachable) + [m for m in st.organic(persuaded_n * 2) if m not in crew]
    persuaded = list(dict.fromkeys(pool))[:persuaded_n]
    for d in _days(st, start):
        for c in canvassers:
            if st.rand.random() < 0.8:
                st.edge(c, ben, events, d, MENTION)
                st.edge(c, ben, events, d, REPLY)
                st.edge(c, ben, events, d, REACTION)
                st.post(c, events, d)
    for m in persuaded:
        d = start + st.rand.randrange(10)
        st.post(m, events, d)
        st.edge(m, ben, events, d, MENTION)
        st.edge(m, ben, events, d, REPLY)
        st.edge(m, ben, events, d, REACTION)
        if st.rand.random() < 0.8:
            st.edge(ben, m, events, d, REPLY)
            st.post(ben, events, d)
    return st.result(crew, ben)


ATTACKS: dict[str, Callable[[Community, int, np.random.Generator], AttackResult]] = {
    "shoutout_pact": shoutout_pact,
    "paid_waves": paid_waves,
    "follower_import": follower_import,
    "bought_history": bought_history,
    "slow_burn": slow_burn,
    "reaction_polls": reaction_polls,
    "offsite_exchange": offsite_exchange,
    "staged_help": staged_help,
    "election_canvass": election_canvass,
}
