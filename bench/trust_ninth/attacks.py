"""Manipulations a home-lab subreddit sees, each added to an organic community (`model.Community`).

Every attack is `attack(community, strength, rng) -> AttackResult`, `strength` 1 (mild) to 3
(heavy): the rows its accounts write and the organic replies they draw (in the adapter's format:
comments from author to the parent's author, every comment and submission a post), the creation
days of the accounts it adds, the manipulators (the beneficiary and the accounts acting for them)
and the beneficiary. Manipulating accounts also do what a real one does for cover: answer help
threads, comment on showcases, and draw the ordinary replies such comments draw.

- `shill_alts`: a vendor's account recommends its product in help threads; alt accounts chime in to
  agree, ask staged "what should I buy" questions it answers, and thank it.
- `karma_farm`: an aged account reposts the best showcase posts of the past; reposts reach r/all
  and draw organic and one-time commenters.
- `comment_pod`: a group of accounts that always comment on each other's posts and comments, and
  otherwise comment like members; the most active is the beneficiary.
- `brigade`: a member of a linked subreddit posts a provocative discussion that is cross-posted
  there; its members pour in for a day or two, answering them and the locals who object.
- `sock_argument`: one operator's two accounts stage arguments in discussion threads, and the
  locals join in on both sides.
- `bot_network`: fresh bot accounts reply "great build!" to every new post for karma, and reply to
  every post and comment of the store account they promote.
- `aged_wakeup`: aged accounts bought and silent in the records wake up in the last weeks to reply
  to one modestly active member.
- `mod_friend`: a moderator stickies a friend's posts and features them, and answers them
  (the moderator is an organic member and not counted as a manipulator).
- `giveaway`: a vendor runs "reply to enter" giveaways; the locals and r/all enter.
- `link_flood`: a self-promoter answers help threads with links to their own videos, with an alt or
  two to say they helped.
- `staged_help`: a member's alts ask help questions over months for them to answer, and thank them
  and follow up; the member answers real questions too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bench.trust_ninth.model import (
    CHANNELS,
    COMMENT,
    DISCUSSION,
    HELP,
    MEGA,
    NEWS,
    SHOWCASE,
    Community,
)
from bot import trust


@dataclass(frozen=True)
class AttackResult:
    """What an attack adds: rows, the added accounts' facts, who manipulates, and for whom."""

    edges: trust.Edges
    posts: trust.Posts
    facts: trust.MemberFacts
    manipulators: frozenset[int]
    beneficiary: int


@dataclass
class Ledger:
    """Rows an attack writes, in member ids and simulated days (the organic `Community`'s frame)."""

    comm: Community
    rng: np.random.Generator
    comments: list[tuple[int, int, int, int]] = field(default_factory=list)  # actor, target, channel, day
    submissions: list[tuple[int, int, int]] = field(default_factory=list)
    created: dict[int, float] = field(default_factory=dict)
    taken: set[int] = field(default_factory=set)

    # -- accounts -----------------------------------------------------------------------------------

    def accounts(self, k: int, age_days: tuple[float, float]) -> list[int]:
        """`k` new accounts, made `age_days` (low, high, log-uniform) before the history's end."""
        ids = self.comm.new_ids(self.rng, k, self.taken)
        lo, hi = (math.log(max(a, 1.0)) for a in age_days)
        for m in ids:
            self.created[m] = float(self.comm.today - math.exp(self.rng.uniform(lo, hi)))
        return ids

    def organic(self, idx: np.ndarray) -> list[int]:
        return [int(self.comm.ids[i]) for i in idx]

    # -- rows ---------------------------------------------------------------------------------------

    def comment(self, actor: int, target: int | None, channel: int, day: int) -> None:
        """One comment; it engages `target` unless that is nobody or its author."""
        if 0 <= day < self.comm.days:
            self.comments.append((actor, -1 if target is None or target == actor else target, channel, day))

    def submit(self, author: int, channel: int, day: int) -> None:
        if 0 <= day < self.comm.days:
            self.submissions.append((author, channel, day))

    # -- behaviour ----------------------------------------------------------------------------------

    def thread_author(self, ti: int) -> int:
        return int(self.comm.ids[self.comm.thread_author[ti]])

    def answer(self, actor: int, ti: int, quality: float, day: int | None = None) -> None:
        """`actor` answers organic thread `ti` top-level; the submitter thanks or follows up the more
        often the better the answer, another participant sometimes replies, and the actor sometimes
        answers back."""
        comm, rng = self.comm, self.rng
        channel = int(comm.thread_channel[ti])
        when = int(comm.thread_day[ti]) if day is None else day
        op = self.thread_author(ti)
        self.comment(actor, op, CHANNELS[channel], when)
        p = (0.2 + 0.6 * quality) if channel == HELP else 0.15 + 0.2 * quality
        if rng.random() < p:
            self.comment(op, actor, CHANNELS[channel], when + int(rng.random() < 0.3))
            if rng.random() < 0.4:
                self.comment(actor, op, CHANNELS[channel], when + int(rng.random() < 0.3))
        others = comm.participants[ti]
        if len(others) and rng.random() < 0.25 * quality + 0.05:
            m = int(comm.ids[int(rng.choice(others))])
            if m != op:
                self.comment(m, actor, CHANNELS[channel], when)

    def blend_in(
        self, actor: int, first: int, last: int, per_day: float, quality: float, help_share: float = 0.6
    ) -> None:
        """Ordinary activity for cover: about `per_day` comments a day on organic threads (help threads
        `help_share` of them) from simulated day `first` to `last`."""
        comm, rng = self.comm, self.rng
        for day in range(max(0, first), min(comm.days, last + 1)):
            for _ in range(rng.poisson(per_day)):
                chan = HELP if rng.random() < help_share else int(rng.choice([SHOWCASE, DISCUSSION, NEWS]))
                pool = comm.threads_between(day - 2, day, chan)
                if len(pool):
                    ti = int(rng.choice(pool))
                    if self.thread_author(ti) != actor:
                        self.answer(actor, ti, quality, day)

    def thread(
        self, author: int, channel: int, day: int, appeal: float, replies_back: float = 0.3
    ) -> list[int]:
        """`author` submits a thread; organic members comment on it as on an organic thread of that
        flair and appeal (top-level, engaging the author, or replying to each other), and the author
        answers some. Returns the organic commenters (member ids)."""
        comm, rng = self.comm, self.rng
        same = comm.thread_channel == channel
        typical = float(np.mean(comm.thread_size[same])) if same.any() else 4.0
        k = int(rng.poisson(max(0.5, typical * appeal)))
        people = self.organic(comm.sample_members(rng, day, channel, k))
        self.submit(author, CHANNELS[channel], day)
        said: list[int] = []
        for m in people:
            when = day + int(rng.random() < 0.35)
            if said and rng.random() < 0.3:
                self.comment(m, said[int(rng.integers(len(said)))], CHANNELS[channel], when)
            else:
                self.comment(m, author, CHANNELS[channel], when)
                if rng.random() < replies_back:
                    self.comment(author, m, CHANNELS[channel], when)
            said.append(m)
        return people

    def result(self, manipulators: set[int] | frozenset[int], beneficiary: int) -> AttackResult:
        start = self.comm.start
        rows = np.array(self.comments, np.int64).reshape(-1, 4)
        engaged = rows[rows[:, 1] >= 0]
        edges = trust.Edges(
            engaged[:, 0],
            engaged[:, 1],
            engaged[:, 2],
            start + engaged[:, 3],
            np.full(len(engaged), COMMENT),
            np.ones(len(engaged)),
        )
        subs = np.array(self.submissions, np.int64).reshape(-1, 3)
        posts = trust.Posts(
            np.concatenate([rows[:, 0], subs[:, 0]]),
            np.concatenate([rows[:, 2], subs[:, 1]]),
            start + np.concatenate([rows[:, 3], subs[:, 2]]),
            np.ones(len(rows) + len(subs)),
        )
        ids = np.array(sorted(self.created), np.int64)
        nan = np.full(len(ids), np.nan)
        facts = trust.MemberFacts(
            member_id=ids,
            joined_day=nan,
            account_created_day=np.array([self.created[int(m)] for m in ids]),
            left_day=nan.copy(),
        )
        return AttackResult(edges, posts, facts, frozenset(manipulators), beneficiary)


def _span(comm: Community, days: int) -> tuple[int, int]:
    """The last `days` simulated days (all of them in a short history)."""
    return max(0, comm.days - days), comm.days - 1


# -- the attacks ------------------------------------------------------------------------------------


def shill_alts(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """A vendor's account plugs its product in help threads, alts agree and stage questions."""
    led = Ledger(comm, rng)
    shill = led.accounts(1, (300, 1500))[0]
    alts = led.accounts((2, 4, 7)[strength - 1], (20, 900))
    first, last = _span(comm, (35, 55, 80)[strength - 1])
    led.blend_in(shill, first, last, 0.5, 0.45)
    for alt in alts:
        led.blend_in(alt, first, last, 0.15, 0.3)
    for day in range(first, last + 1):
        for _ in range(rng.poisson((0.5, 1.2, 2.5)[strength - 1])):
            pool = comm.threads_between(day - 1, day, HELP)
            if not len(pool):
                continue
            ti = int(rng.choice(pool))
            led.answer(shill, ti, 0.4, day)
            for alt in alts:
                if rng.random() < 0.45:
                    led.comment(alt, shill, CHANNELS[HELP], day + int(rng.random() < 0.3))
        if rng.random() < (0.08, 0.15, 0.3)[strength - 1]:
            asker = alts[int(rng.integers(len(alts)))]
            led.thread(asker, HELP, day, 0.7)
            led.comment(shill, asker, CHANNELS[HELP], day)
            led.comment(asker, shill, CHANNELS[HELP], day + 1)
    return led.result({shill, *alts}, shill)


def karma_farm(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """An aged account reposts old top showcase posts; the reposts reach r/all."""
    led = Ledger(comm, rng)
    farmer = led.accounts(1, (1500, 3000))[0]
    first, last = _span(comm, 30)
    reposts = (2, 5, 10)[strength - 1]
    scale = math.sqrt(len(comm.ids) / 3000)
    for day in sorted(rng.integers(first, last + 1, reposts)):
        led.thread(farmer, SHOWCASE, int(day), float(rng.uniform(3, 8)), replies_back=0.03)
        outsiders = led.accounts(int(rng.poisson(40 * scale)) + 1, (100, 3000))
        for m in outsiders:
            led.comment(m, farmer, CHANNELS[SHOWCASE], int(day) + int(rng.random() < 0.3))
    for day in range(first, last + 1):  # one-liners on popular threads
        for _ in range(rng.poisson(1.5)):
            pool = comm.threads_between(day - 1, day, SHOWCASE)
            if len(pool):
                ti = int(pool[np.argmax(comm.thread_size[pool])])
                led.answer(farmer, ti, 0.2, day)
    return led.result({farmer}, farmer)


def comment_pod(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """Accounts that always comment on each other, and otherwise comment like members."""
    led = Ledger(comm, rng)
    pod = led.accounts((4, 6, 9)[strength - 1], (200, 2500))
    lead = pod[0]
    first, last = _span(comm, (50, 70, 90)[strength - 1])
    for m in pod:
        led.blend_in(m, first, last, 0.8 if m == lead else 0.4, 0.45)
    for day in range(first, last + 1):
        for m in pod:
            if rng.random() < (0.25 if m == lead else 0.08):
                led.thread(m, SHOWCASE if rng.random() < 0.6 else DISCUSSION, day, 0.8)
                for other in pod:
                    if other != m and rng.random() < 0.85:
                        led.comment(other, m, CHANNELS[SHOWCASE], day)
                        if rng.random() < 0.4:
                            led.comment(m, other, CHANNELS[SHOWCASE], day)
        # pod members reply to each other's comments in organic threads
        for m in pod:
            for other in pod:
                if other != m and rng.random() < (0.15 if other == lead else 0.05):
                    led.comment(m, other, CHANNELS[int(rng.choice([HELP, SHOWCASE, DISCUSSION]))], day)
    return led.result(set(pod), lead)


def brigade(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """A linked subreddit's members pour into provocative threads cross-posted there."""
    led = Ledger(comm, rng)
    poster = led.accounts(1, (200, 2000))[0]
    first, last = _span(comm, 40)
    led.blend_in(poster, first, last, 0.4, 0.4, help_share=0.3)
    crowd = led.accounts((25, 60, 150)[strength - 1], (60, 3000))
    for day in sorted(rng.integers(first, last + 1, (1, 2, 3)[strength - 1])):
        day = int(day)
        locals_ = led.thread(poster, DISCUSSION, day, 2.5, replies_back=0.5)
        for m in crowd:
            if rng.random() < 0.75:
                when = day + int(rng.random() < 0.4)
                if locals_ and rng.random() < 0.35:
                    led.comment(m, locals_[int(rng.integers(len(locals_)))], CHANNELS[DISCUSSION], when)
                else:
                    led.comment(m, poster, CHANNELS[DISCUSSION], when)
                    if rng.random() < 0.3:
                        led.comment(poster, m, CHANNELS[DISCUSSION], when)
                if rng.random() < 0.2:
                    led.comment(crowd[int(rng.integers(len(crowd)))], m, CHANNELS[DISCUSSION], when)
    return led.result({poster, *crowd}, poster)


def sock_argument(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """One operator's two accounts stage arguments that the locals join."""
    led = Ledger(comm, rng)
    main, sock = led.accounts(2, (100, 2500))
    first, last = _span(comm, 60)
    led.blend_in(main, first, last, 0.5, 0.5)
    led.blend_in(sock, first, last, 0.15, 0.3)
    for day in sorted(rng.integers(first, last + 1, (3, 8, 16)[strength - 1])):
        day = int(day)
        if rng.random() < 0.5:
            led.thread(main, DISCUSSION, day, 1.2)
        else:
            pool = comm.threads_between(day - 1, day, DISCUSSION)
            if not len(pool):
                continue
            led.answer(main, int(rng.choice(pool)), 0.5, day)
        for _ in range(int(rng.integers(2, 6))):  # the staged back-and-forth
            led.comment(sock, main, CHANNELS[DISCUSSION], day)
            led.comment(main, sock, CHANNELS[DISCUSSION], day)
        for m in led.organic(comm.sample_members(rng, day, DISCUSSION, int(rng.poisson(4)))):
            target = main if rng.random() < 0.6 else sock
            led.comment(m, target, CHANNELS[DISCUSSION], day)
            if rng.random() < 0.5:
                led.comment(target, m, CHANNELS[DISCUSSION], day)
    return led.result({main, sock}, main)


def bot_network(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """Fresh bots reply to every new post for karma, and to everything of the store they promote."""
    led = Ledger(comm, rng)
    store = led.accounts(1, (150, 900))[0]
    bots = led.accounts((6, 15, 30)[strength - 1], (10, 60))
    first, last = _span(comm, 30)
    led.blend_in(store, first, last, 0.3, 0.4, help_share=0.3)
    for day in range(first, last + 1):
        fresh = comm.threads_between(day, day)
        for b in bots:
            for ti in fresh[rng.random(len(fresh)) < 0.08]:
                led.comment(b, led.thread_author(int(ti)), CHANNELS[int(comm.thread_channel[ti])], day)
        if rng.random() < 0.3:
            led.thread(store, SHOWCASE, day, 0.7)
            for b in bots:
                led.comment(b, store, CHANNELS[SHOWCASE], day)
        for b in bots:
            if rng.random() < 0.2:
                led.comment(b, store, CHANNELS[int(rng.choice([HELP, SHOWCASE]))], day)
    return led.result({store, *bots}, store)


def aged_wakeup(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """Bought aged accounts, silent in the records, wake up to reply to one member."""
    led = Ledger(comm, rng)
    member = led.accounts(1, (400, 2000))[0]
    led.blend_in(member, 0, comm.days - 1, 0.5, 0.5)
    for day in range(comm.days):
        if rng.random() < 0.04:
            led.thread(member, SHOWCASE, day, 1.0)
    aged = led.accounts((5, 10, 20)[strength - 1], (1100, 3000))
    first, last = _span(comm, 35)
    for a in aged:
        for _ in range(int(rng.integers(3, 9))):
            day = int(rng.integers(first, last + 1))
            led.comment(a, member, CHANNELS[int(rng.choice([HELP, SHOWCASE, DISCUSSION]))], day)
        led.blend_in(a, first, last, 0.08, 0.3)
    return led.result({member, *aged}, member)


def mod_friend(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """A moderator stickies a friend's posts and answers them."""
    led = Ledger(comm, rng)
    friend = led.accounts(1, (200, 2000))[0]
    mod = int(comm.ids[int(rng.choice(comm.mods))])
    first, last = _span(comm, 50)
    led.blend_in(friend, first, last, 0.4, 0.5)
    for day in sorted(rng.integers(first, last + 1, (1, 3, 6)[strength - 1])):
        day = int(day)
        channel = int(rng.choice([SHOWCASE, DISCUSSION]))
        led.thread(friend, channel, day, 6.0, replies_back=0.4)
        led.comment(mod, friend, CHANNELS[channel], day)
        led.comment(mod, friend, CHANNELS[MEGA], day)  # featured in the weekly megathread
    for day in range(first, last + 1):
        if rng.random() < 0.15 * strength:
            led.comment(mod, friend, CHANNELS[int(rng.choice([HELP, SHOWCASE, DISCUSSION]))], day)
    return led.result({friend}, friend)


def giveaway(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """A vendor's "reply to enter" giveaways: the locals and r/all answer them."""
    led = Ledger(comm, rng)
    host = led.accounts(1, (300, 1500))[0]
    first, last = _span(comm, 30)
    led.blend_in(host, first, last, 0.2, 0.4, help_share=0.3)
    scale = math.sqrt(len(comm.ids) / 3000)
    for day in sorted(rng.integers(first, last + 1, (1, 2, 3)[strength - 1])):
        day = int(day)
        here = comm.active(day)
        share = (0.15, 0.25, 0.35)[strength - 1]
        entrants = led.organic(here[rng.random(len(here)) < share * np.minimum(1, comm.rate[here] * 3)])
        entrants += led.accounts(int(rng.poisson((20, 60, 150)[strength - 1] * scale)), (30, 3000))
        led.submit(host, CHANNELS[SHOWCASE], day)
        for m in entrants:
            led.comment(m, host, CHANNELS[SHOWCASE], day + int(rng.random() < 0.5))
        for m in rng.permutation(entrants)[:3]:
            led.comment(host, int(m), CHANNELS[SHOWCASE], min(day + 5, comm.days - 1))
    return led.result({host}, host)


def link_flood(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """A self-promoter answers help threads with links to their videos; an alt or two vouch."""
    led = Ledger(comm, rng)
    promoter = led.accounts(1, (100, 1500))[0]
    alts = led.accounts((0, 1, 3)[strength - 1], (10, 400))
    first, last = _span(comm, (30, 45, 60)[strength - 1])
    for alt in alts:
        led.blend_in(alt, first, last, 0.1, 0.3)
    for day in range(first, last + 1):
        pool = comm.threads_between(day - 1, day, HELP)
        for ti in rng.permutation(pool)[: rng.poisson((3, 8, 15)[strength - 1])]:
            led.answer(promoter, int(ti), 0.3, day)
            for alt in alts:
                if rng.random() < 0.3:
                    led.comment(alt, promoter, CHANNELS[HELP], day)
    return led.result({promoter, *alts}, promoter)


def staged_help(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    """A member's alts ask questions over months for them to answer, and thank them."""
    led = Ledger(comm, rng)
    member = led.accounts(1, (400, 2500))[0]
    alts = led.accounts((2, 4, 8)[strength - 1], (5, 1200))
    led.blend_in(member, 0, comm.days - 1, 0.6, 0.55)
    for alt in alts:
        led.blend_in(alt, 0, comm.days - 1, 0.05, 0.3)
        for day in sorted(rng.integers(0, comm.days, int(rng.integers(2, 6)))):
            day = int(day)
            led.thread(alt, HELP, day, 0.5)
            led.comment(member, alt, CHANNELS[HELP], day)
            for _ in range(int(rng.integers(1, 4))):
                led.comment(alt, member, CHANNELS[HELP], day + int(rng.random() < 0.3))
    return led.result({member, *alts}, member)


ATTACKS: dict[str, Callable[[Community, int, np.random.Generator], AttackResult]] = {
    "shill_alts": shill_alts,
    "karma_farm": karma_farm,
    "comment_pod": comment_pod,
    "brigade": brigade,
    "sock_argument": sock_argument,
    "bot_network": bot_network,
    "aged_wakeup": aged_wakeup,
    "mod_friend": mod_friend,
    "giveaway": giveaway,
    "link_flood": link_flood,
    "staged_help": staged_help,
}
