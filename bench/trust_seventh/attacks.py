"""Manipulations of the creator-collective server, each at three strengths.

Every attack returns the rows it adds (its accounts' messages and engagement, the real members'
responses to them), the facts of the accounts it adds, and its manipulators: every account it adds
or turns, the beneficiary included. Turned members are present, recently active residents who are
not organic genuine voices (whoever buys or farms engagement lacks it). Crews grow as
sqrt(size / 400). Real members respond to the manipulators' posts the way they respond to anything
(`Community.respond`: reactions and drive-by replies by online members, plus a turned creator's own
fans and courtesy circle on his uploads, at the organic rates whatever his upload frequency).
Day t below is a day index into the history (H days, today = H - 1).

sub4sub_ring      A like-for-like ring of small creators (half turned residents, half outside creators
                  on aged accounts who joined for it) that for the last 60 days reacts to each other's
                  self-promo in rotating rounds (each post reacted to by the next 8 in the rota) and
                  leaves "great vid!" replies. Strength 2 adds friendly #general chat replies between
                  members, 3 adds weekly #collabs shout-out mentions. Crew 6 / 12 / 24.
bought_panel      A resident small creator buys engagement: a panel of aged accounts (joined 40-80 days
                  ago) reacts to his daily uploads and, for cover, to random organic messages, and
                  posts small talk. Strength 2 adds bought "fire" replies, 3 adds replies in #general,
                  clip mentions of him and cover replies to random members. Panel 8 / 20 / 45.
alt_fanart        A resident small creator's fresh alt accounts post clips and fan art mentioning him,
                  react to and reply on each other's posts; he reacts and replies gratefully. Strength
                  2 adds alt chat replying to him in #general, 3 alts posting in his weekly critique
                  threads which he thanks. Alts 3 / 6 / 12.
ping_spam         A resident small creator pings a list of members by name with every upload (every
                  3 / 2 / 1 days, in #self-promo, in #general from strength 2). Pinged members reply
                  (annoyed or curious) and react; moderators warn him. List 20 / 50 / 120.
f4f_pod           A feedback-for-feedback pod (half turned small creators, half aged outside accounts)
                  asks for critique and gives each other substantive replies and forum posts, thanking
                  each other; real experts answer them too. Strength 2 adds cursory answers to real
                  askers for cover (some thank them), 3 adds mutual self-promo reactions. Pod 4 / 8 / 16.
imported_fans     A resident streamer brings his own fan base: fans join within a few days (60% aged
                  accounts), react to his daily uploads, hype him, chat at him, post clips of him; half
                  leave after 2-4 weeks. Fans 40 / 100 / 250.
collab_farm       An account (aged, joined 70-90 days ago) posts in #collabs every day mentioning
                  several real creators to get replies back; replies to whoever answers. Strength 3
                  adds two fresh alts that react to and reply on all his posts. Mentions 4 / 10 / 20
                  a day.
sleeper_pivot     Sleepers (aged accounts, in the server before the records) answer real #help askers
                  well for months, then 45 days before today pivot to promoting a brand account that
                  joins then: brand posts, mentions and replies to the brand. The beneficiary is the
                  brand. Sleepers 1 / 2 / 4.
giveaway_bait     A resident small creator runs "reply with your channel to enter" giveaways every
                  7 / 4 / 2 days (in #general from strength 2, "tag a friend" at 3); real members
                  enter by replying and reacting.
staged_help       A self-styled expert (aged account, joined 80-100 days ago) and his fresh alts: the
                  alts ask in #help and #feedback, he answers, they thank him; real helpers sometimes
                  answer the alts too. Strength 2 adds answers to real askers, 3 alt replies in #general
                  and in his forum threads. Alts 3 / 6 / 12.
raid              A resident small creator's outside community raids the server: accounts (70% aged)
                  join on one day and flood #general with replies, reactions and mentions for him on
                  1 / 2 / 3 raid days (8, 20, 30 days before today), then 70% leave. Raiders 15 / 40 /
                  100.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench.trust_seventh.model import (
    ATTACK_BASE,
    BASE_ID,
    CLIPS,
    COLLABS,
    CREATORS,
    FEEDBACK,
    FORUM,
    GEN,
    HELP,
    MENTION,
    MOD,
    PROMO,
    REACTION,
    REPLY,
    SMALL,
    THREAD,
    Community,
    Rows,
)
from bot import trust


@dataclass
class AttackResult:
    edges: trust.Edges
    posts: trust.Posts
    #: The accounts the attack adds: join, creation and leave days.
    facts: trust.MemberFacts
    manipulators: frozenset[int]
    beneficiary: int


def crew(comm: Community, base: tuple[int, int, int], strength: int) -> int:
    """`base[strength - 1]` at 400 members, growing as sqrt(size / 400)."""
    return max(1, round(base[strength - 1] * math.sqrt(comm.size / 400)))


class Script:
    """The rows of one attack: accounts it adds, what they and turned members do, real responses."""

    def __init__(self, comm: Community, rng: np.random.Generator) -> None:
        self.comm = comm
        self.rng = rng
        self.H = comm.days
        self.rows = Rows()
        self.ids: list[int] = []
        self.join_t: dict[int, int] = {}
        self.joined: list[float] = []
        self.created: list[float] = []
        self.left: list[float] = []
        self.appeal: dict[int, float] = {}
        self.manip: set[int] = set()

    # -- accounts ------------------------------------------------------------------------------------
    def account(self, join_t: int, fresh: bool, left_t: int | None = None) -> int:
        """A new account joining on day index `join_t` (fresh: created days before; else aged)."""
        m = ATTACK_BASE + len(self.ids)
        age = int(self.rng.integers(0, 20)) if fresh else int(self.rng.integers(200, 2500))
        joined = self.comm.start + join_t
        self.ids.append(m)
        self.join_t[m] = join_t
        self.joined.append(float(joined))
        self.created.append(float(joined - age))
        self.left.append(math.nan if left_t is None or left_t >= self.H else float(self.comm.start + left_t))
        self.appeal[m] = float(self.rng.lognormal(0.0, 0.5))
        self.manip.add(m)
        return m

    def turn(self, roles: tuple[int, ...], k: int, avoid: set[int] | None = None) -> list[int]:
        """`k` present, recently active residents of `roles` (ids) who join the attack; never an organic
        genuine voice (those who buy or farm engagement are those who lack it)."""
        cands = self.comm.residents(roles)
        cands = cands[~np.isin(cands + BASE_ID, list(self.comm.genuine))]
        if avoid:
            cands = cands[~np.isin(cands + BASE_ID, list(avoid))]
        picked = self.rng.choice(cands, size=min(k, len(cands)), replace=False)
        out = [BASE_ID + int(i) for i in picked]
        for m in out:
            self.join_t[m] = -1
            self.appeal[m] = float(self.comm.appeal[m - BASE_ID])
            self.manip.add(m)
        return out

    def here(self, m: int, t: int) -> bool:
        return self.join_t[m] <= t and (m < ATTACK_BASE or self._left_t(m) > t)

    def _left_t(self, m: int) -> float:
        left = self.left[m - ATTACK_BASE]
        return math.inf if math.isnan(left) else left - self.comm.start

    def on(self, m: int, t: int, p: float) -> bool:
        return self.here(m, t) and self.rng.random() < p

    # -- actions -------------------------------------------------------------------------------------
    def say(self, m: int, ch: int, t: int, respond: bool = True, n: float = 1.0) -> None:
        """`m` posts in `ch`; real members respond to it as to anything."""
        self.rows.post(m, ch, t, n)
        if respond:
            self.comm.respond(self.rows, t, ch, m, self.appeal.get(m, 1.0), self.rng)

    def reply(self, a: int, b: int, ch: int, t: int, n: float = 1.0, kind: int = REPLY) -> None:
        self.rows.edge(a, b, ch, t, kind, n)
        self.rows.post(a, ch, t, n)

    def react(self, a: int, b: int, ch: int, t: int) -> None:
        self.rows.edge(a, b, ch, t, REACTION)

    def mention(self, a: int, b: int, ch: int, t: int) -> None:
        self.rows.edge(a, b, ch, t, MENTION)

    def real_online(self, t: int) -> np.ndarray:
        """Organic members online on day t (ids)."""
        return self.comm.online[t] + BASE_ID

    def cover_react(self, m: int, t: int, k: int) -> None:
        authors = self.comm.authors[t]
        if len(authors):
            for a in self.rng.choice(authors, size=min(k, len(authors)), replace=False):
                self.react(m, BASE_ID + int(a), GEN, t)

    def real_answers(self, asker: int, ch: int, t: int, thanks: float) -> None:
        """Real members answer an attack account's question as they would anyone's."""
        comm, rng = self.comm, self.rng
        online = comm.online[t]
        skill = (comm.fb_skill if ch in (FEEDBACK, FORUM) else comm.help_skill)[online]
        k = 1 + rng.poisson(0.5)
        if skill.sum() <= 0:
            return
        picked = rng.choice(online, size=min(k, int((skill > 0).sum())), replace=False, p=skill / skill.sum())
        for r in picked:
            r = BASE_ID + int(r)
            self.reply(r, asker, ch, t, float(rng.integers(1, 3)), THREAD if ch == FORUM else REPLY)
            if rng.random() < thanks:
                self.reply(asker, r, ch, t)

    def result(self, beneficiary: int) -> AttackResult:
        start = self.comm.start
        n = len(self.ids)
        facts = trust.MemberFacts(
            member_id=np.array(self.ids, np.int64),
            joined_day=np.array(self.joined),
            account_created_day=np.array(self.created),
            is_bot=np.zeros(n, bool),
            first_seen_day=np.full(n, math.nan),
            left_day=np.array(self.left),
        )
        return AttackResult(
            self.rows.to_edges(start), self.rows.to_posts(start), facts, frozenset(self.manip), beneficiary
        )


# -- the attacks -------------------------------------------------------------------------------------
def sub4sub_ring(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    k = crew(comm, (6, 12, 24), strength)
    ring = s.turn((SMALL,), (k + 1) // 2)
    ring += [s.account(H - 60 - int(rng.integers(0, 40)), fresh=False) for _ in range(k - len(ring))]
    for t in range(max(0, H - 60), H):
        on = [m for m in ring if s.on(m, t, 0.6)]
        pos = {m: j for j, m in enumerate(ring)}
        for m in on:
            if rng.random() < 0.5:
                s.say(m, PROMO, t)
                for r in on:
                    if r != m and (pos[r] - pos[m] + t) % len(ring) < 8 and rng.random() < 0.95:
                        s.react(r, m, PROMO, t)
                        if rng.random() < 0.35:
                            s.reply(r, m, PROMO, t)
        if strength >= 2:
            for m in on:
                s.say(m, GEN, t)
                others = [r for r in on if r != m]
                if others:
                    s.reply(m, others[int(rng.integers(len(others)))], GEN, t)
        if strength >= 3 and t % 7 == 0:
            for m in on:
                s.say(m, COLLABS, t)
                for r in rng.choice(ring, size=min(2, len(ring)), replace=False):
                    s.mention(m, int(r), COLLABS, t)
    return s.result(ring[0])


def bought_panel(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    (ben,) = s.turn((SMALL,), 1)
    k = crew(comm, (8, 20, 45), strength)
    first = H - int(rng.integers(40, 81))
    panel = [s.account(first + int(rng.integers(0, 14)), fresh=False) for _ in range(k)]
    for t in range(max(0, H - 60), H):
        upload = rng.random() < 0.8
        if upload:
            s.say(ben, PROMO, t)
        for p in panel:
            if not s.on(p, t, 0.5):
                continue
            if upload and rng.random() < 0.9:
                s.react(p, ben, PROMO, t)
                if strength >= 2 and rng.random() < 0.3:
                    s.reply(p, ben, PROMO, t)
            s.cover_react(p, t, int(rng.integers(3, 7)))
            for _ in range(rng.poisson(0.6)):
                s.say(p, GEN, t)
            if strength >= 3:
                if rng.random() < 0.3:
                    s.reply(p, ben, GEN, t)
                if rng.random() < 0.1:
                    s.say(p, CLIPS, t)
                    s.mention(p, ben, CLIPS, t)
                authors = comm.authors[t]
                if len(authors) and rng.random() < 0.5:
                    s.reply(p, BASE_ID + int(rng.choice(authors)), GEN, t)
    return s.result(ben)


def alt_fanart(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    (ben,) = s.turn((SMALL,), 1)
    k = crew(comm, (3, 6, 12), strength)
    alts = [s.account(H - int(rng.integers(30, 71)), fresh=True) for _ in range(k)]
    for t in range(max(0, H - 70), H):
        ben_on = rng.random() < 0.7
        if ben_on and t % 2 == 0:
            s.say(ben, PROMO, t)
            for a in alts:
                if s.on(a, t, 0.8):
                    s.react(a, ben, PROMO, t)
        on = [a for a in alts if s.on(a, t, 0.55)]
        for a in on:
            if rng.random() < 0.45:
                s.say(a, CLIPS, t)
                s.mention(a, ben, CLIPS, t)
                for b in on:
                    if b != a and rng.random() < 0.8:
                        s.react(b, a, CLIPS, t)
                        if rng.random() < 0.3:
                            s.reply(b, a, CLIPS, t)
                if ben_on and rng.random() < 0.9:
                    s.react(ben, a, CLIPS, t)
                    if rng.random() < 0.5:
                        s.reply(ben, a, CLIPS, t)
            if strength >= 2 and rng.random() < 0.5:
                s.say(a, GEN, t)
                s.reply(a, ben, GEN, t)
                others = [b for b in on if b != a]
                if others:
                    s.reply(a, others[int(rng.integers(len(others)))], GEN, t)
        if strength >= 3 and t % 7 == 3:
            s.say(ben, FORUM, t)
            s.real_answers(ben, FORUM, t, 0.7)
            for a in on:
                s.reply(a, ben, FORUM, t, float(rng.integers(1, 4)), THREAD)
                s.reply(ben, a, FORUM, t)
    return s.result(ben)


def ping_spam(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    (ben,) = s.turn((SMALL,), 1)
    k = crew(comm, (20, 50, 120), strength)
    pool = comm.residents((0, 1, 2, 3, 4, 5, 6)) + BASE_ID
    pinged = rng.choice(pool[pool != ben], size=min(k, len(pool) - 1), replace=False)
    every = (3, 2, 1)[strength - 1]
    mods = comm.residents((MOD,)) + BASE_ID
    for t in range(max(0, H - 60), H):
        if t % every:
            continue
        ch = GEN if strength >= 2 and t % 2 == 0 else PROMO
        s.say(ben, ch, t)
        on = comm.online_mask(t)
        for m in pinged:
            m = int(m)
            s.mention(ben, m, ch, t)
            if on[m - BASE_ID]:
                if rng.random() < 0.12:
                    s.reply(m, ben, ch, t)
                if rng.random() < 0.25:
                    s.react(m, ben, ch, t)
        if len(mods) and rng.random() < 0.2:
            s.reply(int(rng.choice(mods)), ben, ch, t)
    return s.result(ben)


def f4f_pod(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    k = crew(comm, (4, 8, 16), strength)
    pod = s.turn((SMALL,), (k + 1) // 2)
    pod += [s.account(H - int(rng.integers(60, 101)), fresh=False) for _ in range(k - len(pod))]
    pos = {m: j for j, m in enumerate(pod)}
    for t in range(max(0, H - 75), H):
        on = [m for m in pod if s.on(m, t, 0.6)]
        for m in on:
            if rng.random() < 0.3:
                ch = FORUM if rng.random() < 0.3 else FEEDBACK
                kind = THREAD if ch == FORUM else REPLY
                s.say(m, ch, t)
                for r in on:
                    if r != m and (pos[r] - pos[m]) % len(pod) <= 6 and rng.random() < 0.85:
                        s.reply(r, m, ch, t, float(rng.integers(2, 4)), kind)
                        if rng.random() < 0.9:
                            s.reply(m, r, ch, t)
                            s.react(m, r, ch, t)
                s.real_answers(m, ch, t, 0.7)
            if strength >= 2 and rng.random() < 0.4 and len(comm.askers[t]):
                asker = BASE_ID + int(rng.choice(comm.askers[t]))
                s.reply(m, asker, FEEDBACK, t)
                if rng.random() < 0.35:
                    s.reply(asker, m, FEEDBACK, t)
            if strength >= 3 and rng.random() < 0.2:
                s.say(m, PROMO, t)
                for r in on:
                    if r != m:
                        s.react(r, m, PROMO, t)
    return s.result(pod[0])


def imported_fans(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    (ben,) = s.turn((SMALL,), 1)
    k = crew(comm, (40, 100, 250), strength)
    J = H - int(rng.integers(35, 46))
    fans = []
    for _ in range(k):
        j = J + int(rng.integers(0, 4))
        leave = j + int(rng.integers(14, 31)) if rng.random() < 0.5 else None
        fans.append(s.account(j, fresh=rng.random() < 0.4, left_t=leave))
    for t in range(max(0, J - 5), H):
        upload = rng.random() < 0.7
        if upload:
            s.say(ben, PROMO, t)
        for f in fans:
            p = 0.35 * math.exp(-max(0, t - J) / 25) + 0.08
            if not s.on(f, t, p):
                continue
            if upload and rng.random() < 0.7:
                s.react(f, ben, PROMO, t)
                if rng.random() < 0.08:
                    s.reply(f, ben, PROMO, t)
            if rng.random() < 0.03:
                s.say(f, CLIPS, t)
                s.mention(f, ben, CLIPS, t)
            if rng.random() < 0.2:
                if rng.random() < 0.5:
                    s.reply(f, ben, GEN, t)
                    if rng.random() < 0.3:
                        s.reply(ben, f, GEN, t)
                else:
                    s.say(f, GEN, t)
    return s.result(ben)


def collab_farm(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    farmer = s.account(H - int(rng.integers(70, 91)), fresh=False)
    alts = [s.account(H - int(rng.integers(30, 60)), fresh=True) for _ in range(2 if strength >= 3 else 0)]
    m_day = crew(comm, (4, 10, 20), strength)
    creators = comm.residents(CREATORS) + BASE_ID
    rng.shuffle(creators)
    cursor = 0
    for t in range(s.join_t[farmer], H):
        if not s.on(farmer, t, 0.8):
            continue
        on = comm.online_mask(t)
        s.say(farmer, COLLABS, t)
        targets = [int(creators[(cursor + j) % len(creators)]) for j in range(m_day)]
        cursor += m_day
        for c in targets:
            s.mention(farmer, c, COLLABS, t)
            if on[c - BASE_ID]:
                if rng.random() < 0.35:
                    s.reply(c, farmer, COLLABS, t)
                    s.reply(farmer, c, COLLABS, t)
                if rng.random() < 0.25:
                    s.react(c, farmer, COLLABS, t)
        if t % 7 in (1, 4):
            s.say(farmer, PROMO, t)
        for a in alts:
            if s.on(a, t, 0.7):
                s.react(a, farmer, COLLABS, t)
                s.reply(a, farmer, COLLABS, t)
    return s.result(farmer)


def sleeper_pivot(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    k = crew(comm, (1, 2, 4), strength)
    sleepers = [s.account(-int(rng.integers(5, 41)), fresh=False) for _ in range(k)]
    pivot = H - 45
    brand = s.account(pivot, fresh=True)
    for t in range(H):
        late = t >= pivot
        if late and s.on(brand, t, 0.8):
            s.say(brand, PROMO, t)
            for m in sleepers:
                if rng.random() < 0.9:
                    s.react(m, brand, PROMO, t)
                if rng.random() < 0.6:
                    s.reply(m, brand, PROMO, t)
        for m in sleepers:
            if not s.on(m, t, 0.6):
                continue
            askers = comm.askers[t]
            answered = 0
            for a in askers:
                if answered < 3 and rng.random() < (0.15 if late else 0.5):
                    a = BASE_ID + int(a)
                    s.reply(m, a, HELP, t, float(rng.integers(1, 4)))
                    answered += 1
                    if rng.random() < 0.6:
                        s.reply(a, m, HELP, t)
                        if rng.random() < 0.6:
                            s.react(a, m, HELP, t)
            for _ in range(rng.poisson(1.0)):
                s.say(m, GEN, t)
            if late and rng.random() < 0.7:
                ch = GEN if rng.random() < 0.5 else PROMO
                s.say(m, ch, t)
                s.mention(m, brand, ch, t)
    return s.result(brand)


def giveaway_bait(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    (ben,) = s.turn((SMALL,), 1)
    every = (7, 4, 2)[strength - 1]
    for t in range(max(0, H - 60), H):
        if t % 3 == 0:
            s.say(ben, PROMO, t)
        if t % every:
            continue
        ch = GEN if strength >= 2 else PROMO
        s.say(ben, ch, t)
        online = s.real_online(t)
        entrants = online[(online != ben) & (rng.random(len(online)) < 0.18)]
        for e in entrants:
            e = int(e)
            s.reply(e, ben, ch, t)
            if rng.random() < 0.8:
                s.react(e, ben, ch, t)
            if strength >= 3:
                friend = int(rng.choice(online))
                s.mention(e, friend, ch, t)
        if len(entrants):
            s.mention(ben, int(rng.choice(entrants)), ch, t)
    return s.result(ben)


def staged_help(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    poser = s.account(H - int(rng.integers(80, 101)), fresh=False)
    k = crew(comm, (3, 6, 12), strength)
    alts = [s.account(s.join_t[poser] + int(rng.integers(5, 40)), fresh=True) for _ in range(k)]
    for t in range(s.join_t[poser], H):
        poser_on = s.on(poser, t, 0.75)
        for a in alts:
            if not (poser_on and s.on(a, t, 0.4) and rng.random() < 0.5):
                continue
            ch = HELP if rng.random() < 0.6 else FEEDBACK
            s.say(a, ch, t)
            s.reply(poser, a, ch, t, float(rng.integers(2, 4)))
            s.reply(a, poser, ch, t)
            s.react(a, poser, ch, t)
            for b in alts:
                if b != a and s.here(b, t) and rng.random() < 0.3:
                    s.react(b, poser, ch, t)
            if rng.random() < 0.4:
                s.real_answers(a, ch, t, 0.5)
            if strength >= 3 and rng.random() < 0.3:
                s.reply(a, poser, GEN, t)
        if poser_on:
            s.say(poser, GEN, t)
            if strength >= 2:
                for q in comm.askers[t]:
                    if rng.random() < 0.3:
                        q = BASE_ID + int(q)
                        s.reply(poser, q, HELP, t, 2.0)
                        if rng.random() < 0.45:
                            s.reply(q, poser, HELP, t)
            if strength >= 3 and t % 7 == 2:
                s.say(poser, FORUM, t)
                s.real_answers(poser, FORUM, t, 0.6)
                for a in alts:
                    if s.here(a, t) and rng.random() < 0.6:
                        s.reply(a, poser, FORUM, t, 2.0, THREAD)
    return s.result(poser)


def raid(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    s = Script(comm, rng)
    H = s.H
    (ben,) = s.turn((SMALL,), 1)
    k = crew(comm, (15, 40, 100), strength)
    days = [H - 8, H - 20, H - 30][:strength]
    first = min(days)
    raiders = []
    for _ in range(k):
        leave = H - 8 + int(rng.integers(1, 4)) if rng.random() < 0.7 else None
        raiders.append(s.account(first, fresh=rng.random() < 0.3, left_t=leave))
    for t in sorted(days):
        for _ in range(3):
            s.say(ben, GEN, t)
        s.say(ben, PROMO, t)
        for r in raiders:
            if not s.here(r, t):
                continue
            for _ in range(int(rng.integers(2, 6))):
                s.say(r, GEN, t, respond=False)
            s.reply(r, ben, GEN, t, float(rng.integers(1, 4)))
            s.react(r, ben, GEN, t)
            s.react(r, ben, PROMO, t)
            if rng.random() < 0.3:
                s.mention(r, ben, GEN, t)
    return s.result(ben)


ATTACKS: dict[str, Callable[[Community, int, np.random.Generator], AttackResult]] = {
    "sub4sub_ring": sub4sub_ring,
    "bought_panel": bought_panel,
    "alt_fanart": alt_fanart,
    "ping_spam": ping_spam,
    "f4f_pod": f4f_pod,
    "imported_fans": imported_fans,
    "collab_farm": collab_farm,
    "sleeper_pivot": sleeper_pivot,
    "giveaway_bait": giveaway_bait,
    "staged_help": staged_help,
    "raid": raid,
}
