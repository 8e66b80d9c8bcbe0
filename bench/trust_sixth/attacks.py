"""Manipulations of the marketplace server, each at three strengths, with crews that grow with the
server (about as the square root of its size: a tenfold server needs about three times the crew to
stand out the same way).

Each attack returns the rows it adds (its own accounts' activity, the turned members' extra activity,
and the real members it draws in), the facts of the accounts it adds (Discord join, creation and
leave days), and its manipulators: every account it adds or turns, the beneficiary included. Real
members respond to a manipulator's post exactly as they respond to an organic post of the same
appeal in that channel on that day (`Script.message`: the organic reactions and responses per unit
of appeal, from the members who gave them); a listing's appeal grows with the vouches it shows and
a post's with the reactions it already has, because buyers look at reputation and people pile on.
Real buyers who trade with a manipulating seller vouch for them as they would for anyone. Every
short message an attack adds (a reply, a vouch, an "interested") may draw a reaction from real
members, as short organic messages do. Turned members keep their organic activity; the attack's rows
come on top of it.

- `fake_vouches`: a seller buys aged accounts that join over ten weeks, chat a little for cover and
  post vouches mentioning him (he vouches some back); he lists more the more he invests (strength);
  real buyers, drawn by the reputation, trade and vouch too.
- `vouch_ring`: real traders mention each other in #vouches without trading, react to and praise each
  other's listings ("legit, trade with him"), and list more.
- `listing_bump`: a seller posts several listings a day and alts (half fresh, half aged) reply
  "interested" / "still available?" and mention him; he answers them; busy listings draw buyers.
- `pricecheck_sock`: a member plays expert: aged alts ask in #price-check and #help-forum, he
  answers, they thank him and agree with him; he also answers real askers, who thank him less often
  than they thank real experts.
- `scam_cycle`: a scammer cycles through short-lived accounts (fresh, or bought aged ones at the top
  strength): each lists cheap items for one to two weeks, gets vouches from that cycle's alts and a
  few early real buyers, is banned and reported ("scam alert @x"); the current one is still running.
- `hype_farm`: a collector's farm of aged accounts, which joined over months and otherwise only react
  to a few random posts a week, reacts the same day to everything the collector posts, and replies
  now and then; real members pile on to posts that already show many reactions.
- `react_raffle`: a member runs frequent "react to enter" raffles; real members online enter,
  some reply "entered", winners are mentioned and thank him and post a vouch for the prize. No alts.
- `guess_contest`: engagement bait with substantive replies: a member opens "guess the grade /
  the value, closest wins a pack" threads in #help-forum; real members online post their guess in the
  thread (crediting him), the winner is named and thanks him, and half the winners vouch for the
  prize. No alts.
- `exmod_return`: a former moderator who stepped down early in the records returns for the last
  five weeks; his alts from his moderator days (joined the server years ago, silent in the records)
  wake up within a week and engage him; real old friends welcome him back.
- `brigade`: a trader in a dispute calls in members of a partner server; they join within two days,
  defend him, mention him, vouch for him, and half of them leave within a week; the drama draws real
  replies.
- `vouch_service`: a rep-selling service: aged accounts that joined over four months each vouch for
  several paying traders (the beneficiary and other real members) and, for cover, for a few real top
  sellers; the clients list more and draw real buyers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench.trust_sixth.model import (
    ANN,
    ATTACK_BASE,
    BASE_ID,
    BST,
    CASUAL,
    CHANNEL_BASE,
    COLLECTOR,
    EXMOD,
    GEN,
    HELP,
    LOGS,
    MENTION,
    NEWS,
    PC,
    REACTION,
    REPLY,
    SHOW,
    THREAD,
    TRADER,
    VOU,
    Community,
)
from bot import trust


@dataclass(frozen=True)
class AttackResult:
    edges: trust.Edges
    posts: trust.Posts
    #: The accounts the attack adds: join, creation and leave days.
    facts: trust.MemberFacts
    manipulators: frozenset[int]
    beneficiary: int


def crew(comm: Community, base: tuple[int, int, int], strength: int, power: float = 0.5) -> int:
    """A crew of `base[strength - 1]` at 300 members, growing as (size / 300) ** power."""
    return max(1, round(base[strength - 1] * (comm.size / 300) ** power))


class Script:
    """The rows of one attack: accounts it adds, what they and turned members do, real responses.
    Members are global ids; days are day indexes of the history (0 = its first day)."""

    def __init__(self, comm: Community, rng: np.random.Generator) -> None:
        self.comm = comm
        self.rng = rng
        self.H = comm.days
        self.rows: list[tuple[int, int, int, int, int]] = []
        self.post_rows: list[tuple[int, int, int]] = []
        self.new: dict[int, tuple[float, float, float]] = {}
        self.vouches: dict[int, int] = {}  # vouches shown per member (for listing appeal)

    # -- accounts ----------------------------------------------------------------------------------

    def account(self, join_t: float, age_days: float, leave_t: float | None = None) -> int:
        """A new account joining on day index `join_t` (may be before the records), created
        `age_days` before it, leaving on `leave_t` (None: stays)."""
        mid = ATTACK_BASE + len(self.new)
        joined = float(self.comm.start + math.floor(join_t))
        left = (
            math.nan if leave_t is None or leave_t >= self.H else float(self.comm.start + math.floor(leave_t))
        )
        self.new[mid] = (joined, math.floor(joined - age_days), left)
        return mid

    def organic(self, idx: int | np.integer) -> int:
        return int(BASE_ID + idx)

    def pick_member(
        self, roles: tuple[int, ...], k: int = 1, exclude: frozenset[int] = frozenset()
    ) -> list[int]:
        """`k` organic members of `roles` (global ids) to turn: present, active in the last two weeks,
        in the server for two months or more, not genuine voices; the conditions are relaxed in turn
        when too few fit."""
        c = self.comm
        idx = np.arange(len(c.role))
        base = np.isin(c.role, roles) & np.isnan(c.left) & (idx != c.bot)
        conds = [
            base & (c.last_active >= self.H - 14) & (c.joined <= c.today - 60),
            base & (c.last_active >= self.H - 28),
            np.isnan(c.left) & (idx != c.bot) & (c.last_active >= self.H - 28),
        ]
        for cond in conds:
            ids = [int(BASE_ID + i) for i in np.flatnonzero(cond)]
            ids = [m for m in ids if m not in c.genuine and m not in exclude]
            if len(ids) >= k:
                chosen = self.rng.choice(len(ids), size=k, replace=False)
                return [ids[j] for j in sorted(chosen)]
        raise RuntimeError("no member to turn")

    # -- rows --------------------------------------------------------------------------------------

    def engage(self, a: int, b: int, c: int, t: int, kind: int) -> None:
        if a != b and 0 <= t < self.H:
            self.rows.append((a, b, c, t, kind))

    def post(self, m: int, c: int, t: int, n: int = 1) -> None:
        if 0 <= t < self.H:
            for _ in range(n):
                self.post_rows.append((m, c, t))

    def say(self, a: int, b: int, c: int, t: int, kind: int, appeal: float = 0.3) -> None:
        """A message by `a` that engages `b` (a reply, thread post or mention); like any short
        message, it may draw a reaction or two from real members."""
        if 0 <= t < self.H:
            self.post(a, c, t)
            self.engage(a, b, c, t, kind)
            self._drawn(a, c, t, appeal, react=True)

    def vouch(self, a: int, b: int, t: int) -> None:
        if 0 <= t < self.H:
            self.say(a, b, VOU, t, MENTION)
            self.vouches[b] = self.vouches.get(b, 0) + 1

    def _drawn(self, author: int, c: int, t: int, mean_per_appeal: float, react: bool) -> np.ndarray:
        """Real members who react to (`react`) or answer a post of `author` in channel `c` on day
        `t`, as many as organic posts there drew per unit of appeal that day, from the members who
        gave those (member indexes; never the author)."""
        comm, rng = self.comm, self.rng
        rate = comm.react_rate if react else comm.reply_rate
        k = int(rng.poisson(mean_per_appeal * rate[c, t]))
        if k == 0:
            return np.zeros(0, np.int64)
        pool = (comm.reactors if react else comm.repliers)[c][t]
        if len(pool) == 0:
            pool = comm.online[t]
        if len(pool) == 0:
            return pool
        chosen = pool[rng.integers(0, len(pool), k)]
        chosen = chosen[BASE_ID + chosen != author]
        if react:
            for m in chosen:
                self.engage(self.organic(m), author, c, t, REACTION)
        return chosen

    def message(
        self, author: int, c: int, t: int, appeal: float, respond: bool = True
    ) -> list[tuple[int, int]]:
        """A post by `author` and the real members' response to it, as to any organic post of that
        appeal there that day: reactions, and replies (thread posts in forums; replies or mentions to
        listings, over three days). Returns the real members who responded with a message, and the
        day."""
        if not 0 <= t < self.H:
            return []
        self.post(author, c, t)
        if not respond:
            return []
        self._drawn(author, c, t, appeal, react=True)
        out: list[tuple[int, int]] = []
        # a listing stays up and draws buyers for three days, like an organic one; other posts, on the day
        spread = ((t, 1.0), (t + 1, 0.5), (t + 2, 0.25)) if c == BST else ((t, 1.0),)
        for day, share in spread:
            if day >= self.H:
                continue
            for m in self._drawn(author, c, day, appeal * share, react=False):
                who = self.organic(m)
                if c == BST:
                    kind = REPLY if self.rng.random() < 0.6 else MENTION
                else:
                    kind = THREAD if c in (LOGS, HELP) else REPLY
                self.say(who, author, c, day, kind)
                out.append((who, day))
        return out

    def listing(self, seller: int, t: int, boost: float = 1.0, trade: float = 0.3) -> list[tuple[int, int]]:
        """A listing whose appeal grows with the vouches the seller shows; real inquirers, the
        seller's answers, real trades and the vouches that follow. Returns the inquirers."""
        rep = self.vouches.get(seller, 0) + self.base_rep(seller)
        appeal = boost * (1 + rep) ** 0.5 * math.exp(0.4 * self.rng.standard_normal())
        buyers = self.message(seller, BST, t, appeal)
        for b, day in buyers:
            if self.rng.random() < 0.55:
                self.say(seller, b, BST, day, REPLY)
            if self.rng.random() < trade:
                if self.rng.random() < 0.75:
                    self.vouch(b, seller, day + int(self.rng.integers(0, 4)))
                if self.rng.random() < 0.4:
                    self.vouch(seller, b, day + int(self.rng.integers(0, 4)))
        return buyers

    def base_rep(self, m: int) -> float:
        idx = m - BASE_ID
        return float(self.comm.reputation[idx]) if 0 <= idx < len(self.comm.role) else 0.0

    def cover(self, m: int, t: int, n: int) -> None:
        """`n` reactions by `m` to organic posts of day `t` (by appeal; announcements included), as an
        account keeping up appearances does."""
        if not 0 <= t < self.H:
            return
        for _ in range(n):
            c = int(self.rng.choice([GEN, GEN, SHOW, BST, NEWS, ANN]))
            authors, app = self.comm.messages[c][t]
            if len(authors) == 0:
                c = GEN
                authors, app = self.comm.messages[GEN][t]
            if len(authors) == 0:
                continue
            j = int(self.rng.choice(len(authors), p=app / app.sum()))
            self.engage(m, self.organic(authors[j]), c, t, REACTION)

    def enter(
        self, host: int, shares: tuple[tuple[int, float], ...], act: Callable[[int, int], None]
    ) -> list[int]:
        """Real members online on each (day, share) who enter a contest of `host`'s, each once, as
        they come: `act(member, day)` records how they enter. Returns the entrants."""
        entrants: list[int] = []
        for day, share in shares:
            if day >= self.H:
                continue
            online = self.comm.online[day]
            for m in online[self.rng.random(len(online)) < share]:
                who = self.organic(m)
                if who == host or who in entrants:
                    continue
                entrants.append(who)
                act(who, day)
        return entrants

    def chat(self, m: int, t: int) -> None:
        """A plain #general message by `m` that real members treat like any other."""
        self.message(m, GEN, t, 0.6)

    def result(self, manipulators: set[int], beneficiary: int) -> AttackResult:
        start = self.comm.start
        if self.rows:
            arr = np.array(self.rows, np.int64)
            edges = trust.Edges(
                arr[:, 0],
                arr[:, 1],
                CHANNEL_BASE + arr[:, 2],
                start + arr[:, 3],
                arr[:, 4],
                np.ones(len(arr)),
            )
        else:
            edges = trust.Edges.empty()
        parr = np.array(self.post_rows, np.int64).reshape(-1, 3)
        posts = trust.Posts(parr[:, 0], CHANNEL_BASE + parr[:, 1], start + parr[:, 2], np.ones(len(parr)))
        ids = np.array(sorted(self.new), np.int64)
        table = np.array([self.new[int(m)] for m in ids], np.float64).reshape(-1, 3)
        facts = trust.MemberFacts(
            member_id=ids, joined_day=table[:, 0], account_created_day=table[:, 1], left_day=table[:, 2]
        )
        return AttackResult(edges, posts, facts, frozenset(manipulators), beneficiary)


def _days(rng: np.random.Generator, lo: int, hi: int, k: int) -> list[int]:
    """`k` distinct days in [lo, hi), sorted (fewer if the span is short)."""
    lo = max(lo, 0)
    if hi <= lo:
        return []
    return sorted(int(x) for x in rng.choice(np.arange(lo, hi), size=min(k, hi - lo), replace=False))


def fake_vouches(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    (ben,) = s.pick_member((TRADER, CASUAL))
    t0 = H - 70
    alts = [
        s.account(t0 + int(rng.integers(0, 50)), float(rng.integers(200, 1500)))
        for _ in range(crew(comm, (4, 10, 24), strength))
    ]
    for a in alts:
        join = int(s.new[a][0]) - comm.start
        for t in _days(rng, join, H, int(rng.integers(2, 6))):
            s.chat(a, t)
            s.cover(a, t, int(rng.integers(1, 4)))
        n_v = 1 + (strength >= 2) + int(strength >= 3 and rng.random() < 0.5)
        for t in _days(rng, join + 1, H, n_v):
            s.vouch(a, ben, t)
            if rng.random() < 0.3:
                s.vouch(ben, a, t + int(rng.integers(0, 3)))
    for t in range(t0, H):
        if rng.random() < (0.5, 0.7, 0.9)[strength - 1]:
            for _ in range(int(rng.integers(1, strength + 2))):
                s.listing(ben, t)
    return s.result({ben, *alts}, ben)


def vouch_ring(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    ring = s.pick_member((TRADER, CASUAL), crew(comm, (4, 7, 12), strength, power=0.35))
    t0 = H - 60
    for m in ring:
        t = t0 + int(rng.integers(0, 5))
        while t < H:
            for other in rng.choice([x for x in ring if x != m], size=min(2, len(ring) - 1), replace=False):
                s.vouch(m, int(other), t)
            t += int(rng.integers(3, 6))
    for t in range(t0, H):
        for m in ring:
            if rng.random() < 0.5:
                s.listing(m, t)
                for other in ring:
                    if other != m and rng.random() < 0.8:
                        s.engage(other, m, BST, t, REACTION)
                    if other != m and rng.random() < 0.3:
                        s.say(other, m, BST, t, REPLY)
    return s.result(set(ring), ring[0])


def listing_bump(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    (ben,) = s.pick_member((TRADER, CASUAL))
    t0 = H - 45
    alts = []
    for _ in range(crew(comm, (2, 5, 10), strength)):
        age = float(rng.integers(0, 21)) if rng.random() < 0.5 else float(rng.integers(200, 1000))
        alts.append(s.account(t0 + int(rng.integers(0, 10)), age))
    joined = {a: int(s.new[a][0]) - comm.start for a in alts}
    for t in range(t0, H):
        if rng.random() < 0.85:
            present = [a for a in alts if joined[a] <= t]
            for _ in range(int(rng.integers(1, 4))):
                k = int(rng.integers(1, min(len(present), 3) + 1)) if present else 0
                helpers = [present[j] for j in rng.choice(len(present), size=k, replace=False)] if k else []
                for a in helpers:
                    s.say(a, ben, BST, t, REPLY if rng.random() < 0.7 else MENTION)
                    if rng.random() < 0.5:
                        s.engage(a, ben, BST, t, REACTION)
                    if rng.random() < 0.5:
                        s.say(ben, a, BST, t, REPLY)
                s.listing(ben, t, boost=1 + 0.3 * len(helpers))
        for a in alts:
            if joined[a] <= t and rng.random() < 0.3:
                s.cover(a, t, int(rng.integers(1, 3)))
    return s.result({ben, *alts}, ben)


def pricecheck_sock(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    (owner,) = s.pick_member((CASUAL, COLLECTOR, TRADER))
    t0 = H - 80
    alts = [
        s.account(t0 + int(rng.integers(0, 30)), float(rng.integers(100, 900)))
        for _ in range(crew(comm, (3, 6, 12), strength))
    ]
    joined = {a: int(s.new[a][0]) - comm.start for a in alts}
    q = (0.25, 0.35, 0.45)[strength - 1]
    for t in range(t0 + 20, H):
        present = [a for a in alts if joined[a] <= t]
        for a in present:
            if rng.random() < q:  # the staged question
                s.post(a, PC, t)
                s.say(owner, a, PC, t, REPLY)
                if rng.random() < 0.7:
                    s.say(a, owner, PC, t, REPLY)
                else:
                    s.engage(a, owner, PC, t, REACTION)
                others = [x for x in present if x != a]
                if others and rng.random() < 0.3:
                    s.say(others[int(rng.integers(0, len(others)))], owner, PC, t, REPLY)
                s.message(owner, PC, t, 0.6)
            if rng.random() < q / 4:  # a staged help thread
                s.post(a, HELP, t)
                s.say(owner, a, HELP, t, THREAD)
                s.say(a, owner, HELP, t, REPLY)
            if rng.random() < 0.2:
                s.cover(a, t, 1)
        askers = comm.askers[t]
        if rng.random() < 0.7 and len(askers):
            for x in rng.choice(askers, size=min(len(askers), int(rng.integers(1, 4))), replace=False):
                asker = s.organic(x)
                if asker == owner:
                    continue
                s.say(owner, asker, PC, t, REPLY)
                s.message(owner, PC, t, 0.5, respond=rng.random() < 0.5)
                if rng.random() < 0.35:
                    s.say(asker, owner, PC, t, REPLY)
                elif rng.random() < 0.3:
                    s.engage(asker, owner, PC, t, REACTION)
    return s.result({owner, *alts}, owner)


def scam_cycle(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    cycles = (2, 4, 7)[strength - 1]
    n_alts = crew(comm, (2, 3, 4), strength, power=0.3)
    spans: list[tuple[int, int]] = []
    end = H
    for _ in range(cycles):
        length = int(rng.integers(9, 16))
        spans.append((end - length, end))
        end = end - length - int(rng.integers(1, 5))
    spans.reverse()
    manip: set[int] = set()
    current = -1
    for j, (a0, a1) in enumerate(spans):
        last = j == len(spans) - 1
        bought = strength == 3 and rng.random() < 0.5
        age = float(rng.integers(300, 1500)) if bought else float(rng.integers(0, 6))
        scammer = s.account(a0, age, None if last else a1)
        alts = [
            s.account(a0 + int(rng.integers(0, 2)), float(rng.integers(0, 6)), None if last else a1)
            for _ in range(n_alts)
        ]
        manip.update([scammer, *alts])
        current = scammer
        for a in alts:
            for t in _days(rng, a0 + 1, a0 + 4, int(rng.integers(1, 3))):
                s.vouch(a, scammer, t)
                s.say(a, scammer, BST, t, REPLY)
        victims: list[int] = []
        for t in range(a0, min(a1, H)):
            for _ in range(int(rng.integers(2, 5))):
                buyers = s.message(scammer, BST, t, 2.5 * (1 + s.vouches.get(scammer, 0)) ** 0.3)
                for b, day in buyers:
                    if rng.random() < 0.7:
                        s.say(scammer, b, BST, day, REPLY)
                    if rng.random() < 0.15:  # a small first deal, delivered to build trust
                        s.vouch(b, scammer, day + int(rng.integers(1, 3)))
                    victims.append(b)
        if not last and victims:
            for v in rng.choice(victims, size=min(len(victims), int(rng.integers(2, 7))), replace=False):
                s.say(int(v), scammer, GEN, a1 + int(rng.integers(0, 2)), MENTION)
    return s.result(manip, current)


def hype_farm(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    (ben,) = s.pick_member((COLLECTOR, CASUAL))
    farm = [
        s.account(float(rng.integers(-60, H - 20)), float(rng.integers(400, 2500)))
        for _ in range(crew(comm, (10, 25, 60), strength))
    ]
    joined = {a: int(s.new[a][0]) - comm.start for a in farm}
    for a in farm:
        for t in range(max(joined[a], 0), H):
            if rng.random() < 1 / 7:
                s.cover(a, t, int(rng.integers(1, 4)))
    t0 = H - 60
    for t in range(t0, H):
        plan = []
        if rng.random() < 0.6:
            plan += [SHOW] * int(rng.integers(1, 3))
        if rng.random() < 0.4:
            plan.append(LOGS)
        plan += [GEN] * int(rng.integers(0, 4))
        for c in plan:
            fans = [a for a in farm if joined[a] <= t and rng.random() < 0.9]
            for a in fans:
                s.engage(a, ben, c, t, REACTION)
                if rng.random() < 0.05:
                    s.say(a, ben, c, t, THREAD if c == LOGS else REPLY)
            base = float(comm.charisma[ben - BASE_ID]) * (1.5 if c == SHOW else 1.0)
            s.message(ben, c, t, base * (1 + 0.4 * math.log1p(len(fans) / 5)))
    return s.result({ben, *farm}, ben)


def react_raffle(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    (ben,) = s.pick_member((CASUAL, COLLECTOR, TRADER))
    per_week = (1, 2, 4)[strength - 1]
    enter = (0.15, 0.22, 0.3)[strength - 1]
    t0 = H - 56
    raffle_days = sorted({int(x) for x in rng.integers(t0, H, per_week * 8)})
    for t in raffle_days:
        c = GEN if rng.random() < 0.5 else SHOW
        s.post(ben, c, t)

        def react_to_enter(who: int, day: int, c: int = c) -> None:
            s.engage(who, ben, c, day, REACTION)
            if rng.random() < 0.1:
                s.say(who, ben, c, day, REPLY)

        entrants = s.enter(ben, ((t, enter), (t + 1, enter / 2)), react_to_enter)
        if entrants and t + 2 < H:
            winner = entrants[int(rng.integers(0, len(entrants)))]
            s.say(ben, winner, c, t + 2, MENTION)
            s.message(ben, c, t + 2, 0.5)
            if t + 3 < H:
                s.say(winner, ben, c, t + 3, REPLY)
            if rng.random() < 0.7:
                s.vouch(winner, ben, t + int(rng.integers(4, 8)))
    return s.result({ben}, ben)


def guess_contest(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    (ben,) = s.pick_member((CASUAL, COLLECTOR, TRADER))
    per_week = (1, 2, 3)[strength - 1]
    enter = (0.06, 0.1, 0.15)[strength - 1]
    t0 = H - 56
    for t in sorted({int(x) for x in rng.integers(t0, H, per_week * 8)}):
        s.message(ben, HELP, t, 1.0)  # "guess the grade of this slab, closest wins a pack"
        shares = ((t, enter), (t + 1, enter / 2), (t + 2, enter / 4))
        entrants = s.enter(ben, shares, lambda who, day: s.say(who, ben, HELP, day, THREAD))
        if entrants and t + 3 < H:
            winner = entrants[int(rng.integers(0, len(entrants)))]
            s.say(ben, winner, HELP, t + 3, REPLY)
            s.say(winner, ben, HELP, t + 3, REPLY)
            if rng.random() < 0.5:
                s.vouch(winner, ben, t + int(rng.integers(5, 9)))
    return s.result({ben}, ben)


def exmod_return(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    exmods = [int(i) for i in np.flatnonzero(comm.role == EXMOD) if np.isnan(comm.left[i])]
    ben = s.organic(exmods[int(rng.integers(0, len(exmods)))])
    idx = ben - BASE_ID
    tr = H - 35 + int(rng.integers(-3, 4))
    alts = []
    for _ in range(crew(comm, (3, 6, 12), strength)):
        join = -float(rng.integers(300, 900))
        alts.append(s.account(join, float(rng.integers(100, 600))))
    wake = {a: tr + int(rng.integers(0, 7)) for a in alts}
    charm = float(comm.charisma[idx]) * 1.3
    # old friends welcome him back
    friends = {int(f) for g in comm.groups[idx] for f in np.flatnonzero([g in x for x in comm.groups])}
    for f in sorted(friends - {idx}):
        if comm.last_active[f] >= tr - 14 and np.isnan(comm.left[f]) and rng.random() < 0.6:
            s.say(
                s.organic(f), ben, GEN, tr + int(rng.integers(0, 4)), REPLY if rng.random() < 0.6 else MENTION
            )
    logs_open = False
    for t in range(tr, H):
        if rng.random() > 0.85:
            continue
        posts: list[int] = [GEN] * int(rng.integers(2, 6))
        if rng.random() < 0.3:
            posts.append(BST)
        if rng.random() < 0.3:
            posts.append(LOGS)
            logs_open = True
        for c in posts:
            if c == BST:
                s.listing(ben, t)
            else:
                s.message(ben, c, t, charm)
            for a in alts:
                if wake[a] <= t and rng.random() < 0.6:
                    s.engage(a, ben, c, t, REACTION)
                    if rng.random() < 0.35:
                        s.say(a, ben, c, t, THREAD if c == LOGS else REPLY)
        askers = comm.askers[t]
        if len(askers) and rng.random() < 0.6:
            asker = s.organic(askers[int(rng.integers(0, len(askers)))])
            s.say(ben, asker, PC, t, REPLY)
            s.message(ben, PC, t, 0.6)
            if rng.random() < 0.5:
                s.say(asker, ben, PC, t, REPLY)
    for a in alts:
        for t in _days(rng, wake[a], H, 2):
            s.vouch(a, ben, t)
        for t in range(wake[a], H):
            if rng.random() < 0.3:
                s.cover(a, t, int(rng.integers(1, 3)))
            if rng.random() < 0.1:
                other = alts[int(rng.integers(0, len(alts)))]
                s.say(a, other, GEN, t, REPLY)
        if logs_open and rng.random() < 0.5:
            s.say(a, ben, LOGS, int(rng.integers(max(wake[a], tr), H)), THREAD)
    return s.result({ben, *alts}, ben)


def brigade(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    (ben,) = s.pick_member((TRADER,))
    tb = H - int(rng.integers(8, 15))
    crowd = []
    for _ in range(crew(comm, (10, 25, 60), strength)):
        age = float(rng.integers(0, 10)) if rng.random() < 0.15 else float(rng.integers(60, 2500))
        j = tb + int(rng.integers(0, 2))
        leave = j + int(rng.integers(3, 8)) if rng.random() < 0.5 else None
        crowd.append(s.account(j, age, leave))
    for t in range(tb, min(tb + 6, H)):
        for _ in range(int(rng.integers(2, 5))):
            responders = s.message(ben, GEN, t, 2.0)
            for a in crowd:
                if s.new[a][0] - comm.start <= t and rng.random() < 0.5:
                    s.engage(a, ben, GEN, t, REACTION)
            for real, _ in responders[:3]:  # brigaders argue with his critics
                for a in crowd:
                    if rng.random() < 0.05:
                        s.say(a, real, GEN, t, REPLY)
    for a in crowd:
        j = int(s.new[a][0]) - comm.start
        end = int(s.new[a][2]) - comm.start if not math.isnan(s.new[a][2]) else min(j + 5, H)
        for t in range(j, min(end, j + 5, H)):
            if rng.random() < 0.7:
                for _ in range(int(rng.integers(1, 3))):
                    s.say(a, ben, GEN, t, REPLY)
                if rng.random() < 0.5:
                    s.say(a, ben, GEN, t, MENTION)
        if rng.random() < 0.5:
            s.vouch(a, ben, j + int(rng.integers(0, 3)))
    return s.result({ben, *crowd}, ben)


def vouch_service(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    clients = s.pick_member((TRADER, CASUAL), 1 + (1, 2, 4)[strength - 1])
    ben = clients[0]
    top = np.argsort(-comm.reputation)[:10]
    top = [s.organic(i) for i in top if np.isnan(comm.left[i]) and i != comm.bot]
    service = [
        s.account(float(rng.integers(H - 120, H - 20)), float(rng.integers(700, 2500)))
        for _ in range(crew(comm, (5, 12, 30), strength))
    ]
    for a in service:
        j = int(s.new[a][0]) - comm.start
        for c in clients:
            if rng.random() < 0.6:
                for t in _days(rng, j, H, 1 + int(rng.random() < 0.3)):
                    s.vouch(a, c, t)
        for c in rng.choice(top, size=min(len(top), int(rng.integers(1, 4))), replace=False):
            s.vouch(a, int(c), int(rng.integers(j, H)))
        for t in _days(rng, j, H, int(rng.integers(2, 7))):
            s.cover(a, t, int(rng.integers(1, 3)))
    for t in range(H - 60, H):
        for c in clients:
            if rng.random() < 0.5:
                s.listing(c, t)
    return s.result({*clients, *service}, ben)


ATTACKS: dict[str, Callable[[Community, int, np.random.Generator], AttackResult]] = {
    "fake_vouches": fake_vouches,
    "vouch_ring": vouch_ring,
    "listing_bump": listing_bump,
    "pricecheck_sock": pricecheck_sock,
    "scam_cycle": scam_cycle,
    "hype_farm": hype_farm,
    "react_raffle": react_raffle,
    "guess_contest": guess_contest,
    "exmod_return": exmod_return,
    "brigade": brigade,
    "vouch_service": vouch_service,
}
