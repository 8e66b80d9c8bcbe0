"""The organic community of the third, independent model (a Discord-like server), built without
reference to the simulator or to the second model.

Assumptions: roles (lurkers who only react, casuals, regulars, helpers, experts,
moderators, meme-makers), heavy-tailed visit and post rates, three time-zone clusters with
evening peaks (4-hour UTC blocks), weekly rhythm, newcomers throughout with an intro post and
welcomes, churn (leavers, dormant spells), friend circles, channels with different cultures
(announcements, general, help Q&A in threads, memes, intros, topic channels, off-topic),
engagement drawn from whoever is online in the post's block, weighted by channel affinity,
engagement propensity and friendship, replies answered back sometimes, questions answered
mostly by helpers/experts and thanked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bot import trust

TODAY = 20_000
REPLY, REACTION, THREAD_REPLY = 0, 1, 2  # trust.KINDS codes: reply, reaction, thread_reply
CH_NAMES_BASE = ["announcements", "general", "help", "memes", "intros", "offtopic"]
# channel culture: reactions per post, replies per post, thread share (replies become thread msgs)
CULTURE = {
    "announcements": (5.0, 0.4, 0.0),
    "general": (0.9, 0.7, 0.05),
    "help": (0.4, 1.3, 0.6),
    "memes": (2.5, 0.25, 0.0),
    "intros": (1.5, 0.8, 0.0),
    "offtopic": (0.8, 0.7, 0.1),
    "topic": (1.2, 1.0, 0.3),
}
BLOCKS = 6  # 4-hour UTC blocks
# local-hours activity profile (per 4h local block 0-4,4-8,...,20-24)
LOCAL = np.array([0.35, 0.05, 0.35, 0.6, 0.9, 1.0])
TZ_OFFSET = np.array([-6, 1, 8])  # hours
TZ_P = np.array([0.5, 0.35, 0.15])
ROLE_NAMES = ["lurker", "casual", "regular", "helper", "expert", "mod", "memer"]
LURKER, CASUAL, REGULAR, HELPER, EXPERT, MOD, MEMER = range(7)


def online_matrix() -> np.ndarray:
    """online[tz, utc_block]"""
    m = np.zeros((3, BLOCKS))
    for tz, off in enumerate(TZ_OFFSET):
        for b in range(BLOCKS):
            # UTC hour of the block's middle -> local
            local_h = (b * 4 + 2 + off) % 24
            m[tz, b] = LOCAL[int(local_h // 4)]
    return m


ONLINE = online_matrix()


def channel_id(i: int) -> int:
    return 1000 + i


@dataclass
class Rows:
    actor: list = field(default_factory=list)
    target: list = field(default_factory=list)
    channel: list = field(default_factory=list)
    day: list = field(default_factory=list)
    kind: list = field(default_factory=list)

    def add(self, a, t, c, d, k):
        a = np.atleast_1d(np.asarray(a, np.int64))
        n = len(a)
        if n == 0:
            return

        def bc(x):
            return np.broadcast_to(np.asarray(x, np.int64), (n,)).copy()

        self.actor.append(a)
        self.target.append(bc(t))
        self.channel.append(bc(c))
        self.day.append(bc(d))
        self.kind.append(bc(k))

    def arrays(self):
        if not self.actor:
            z = np.zeros(0, np.int64)
            return z, z, z, z, z
        return tuple(np.concatenate(x) for x in (self.actor, self.target, self.channel, self.day, self.kind))


@dataclass
class PostRows:
    member: list = field(default_factory=list)
    channel: list = field(default_factory=list)
    day: list = field(default_factory=list)

    def add(self, m, c, d):
        m = np.atleast_1d(np.asarray(m, np.int64))
        n = len(m)
        if n == 0:
            return
        self.member.append(m)
        self.channel.append(np.broadcast_to(np.asarray(c, np.int64), (n,)).copy())
        self.day.append(np.broadcast_to(np.asarray(d, np.int64), (n,)).copy())

    def arrays(self):
        if not self.member:
            z = np.zeros(0, np.int64)
            return z, z, z
        return tuple(np.concatenate(x) for x in (self.member, self.channel, self.day))


class Community:
    """An organic community. Member ids are 0..N-1 internally (offset by ID0 in the ranking)."""

    ID0 = 10_000

    def __init__(self, n: int, days: int, seed: int):
        self.n, self.days, self.seed = n, days, seed
        self.rng = np.random.default_rng(seed)
        self.start = TODAY - days + 1
        n_topics = 2 if n < 500 else (4 if n < 2000 else 6)
        self.ch_names = CH_NAMES_BASE + [f"topic{i}" for i in range(n_topics)]
        self.C = len(self.ch_names)
        self.culture = np.array([CULTURE["topic" if c.startswith("topic") else c] for c in self.ch_names])
        self._members()
        self.rows = Rows()
        self.posts = PostRows()
        self.active_by_day: list[np.ndarray] = []
        self.block_w_by_day: list = []
        self._simulate()

    # ------------------------------------------------------------------ members
    def _members(self):
        rng, n, C = self.rng, self.n, self.C
        n_exp = max(3, n // 100)
        n_help = max(3, n // 50)
        n_mod = max(3, round(np.sqrt(n) / 4))
        n_memer = max(2, n // 60)
        n_reg = int(0.11 * n)
        n_cas = int(0.32 * n)
        counts = [0, n_cas, n_reg, n_help, n_exp, n_mod, n_memer]
        counts[0] = n - sum(counts)
        role = np.repeat(np.arange(7), counts)
        rng.shuffle(role)
        self.role = role
        self.tz = rng.choice(3, n, p=TZ_P)
        # visit probability per day
        a_b = {
            LURKER: (1, 4),
            CASUAL: (2, 4),
            REGULAR: (6, 2),
            HELPER: (8, 2),
            EXPERT: (5, 2),
            MOD: (9, 1),
            MEMER: (4, 3),
        }
        self.p_visit = np.array([rng.beta(*a_b[r]) for r in role])
        # posts per visit: heavy tailed
        base = {LURKER: 0.03, CASUAL: 0.6, REGULAR: 2.0, HELPER: 2.5, EXPERT: 1.5, MOD: 2.0, MEMER: 1.5}
        self.rate = np.array([base[r] for r in role]) * rng.lognormal(0, 0.9, n)
        # engagement propensity (how often they engage when online)
        eb = {LURKER: 0.7, CASUAL: 1.0, REGULAR: 2.0, HELPER: 2.0, EXPERT: 1.2, MOD: 2.0, MEMER: 1.2}
        self.prop = np.array([eb[r] for r in role]) * rng.lognormal(0, 0.7, n)
        # reply share when engaging (lurkers never reply)
        self.reply_share = np.where(role == LURKER, 0.0, rng.beta(3, 3, n))
        ab = {LURKER: 0.5, CASUAL: 0.8, REGULAR: 1.1, HELPER: 1.1, EXPERT: 3.0, MOD: 1.0, MEMER: 1.0}
        self.appeal = np.array([ab[r] for r in role]) * rng.lognormal(0, 0.45, n)
        # channel preferences (posting and reading)
        pref = rng.dirichlet(np.full(C, 0.6), n) + 0.02
        ci = {c: i for i, c in enumerate(self.ch_names)}
        topics = [i for i, c in enumerate(self.ch_names) if c.startswith("topic")]
        pref[:, ci["announcements"]] = 0.0
        pref[:, ci["intros"]] = 0.01
        pref[:, ci["help"]] *= 0.6
        pref[:, ci["general"]] += 0.3
        pref[:, ci["memes"]] += 0.15
        self.expert_topic = np.full(n, -1)
        for m in np.flatnonzero(role == EXPERT):
            t = rng.choice(topics)
            self.expert_topic[m] = t
            pref[m] *= 0.3
            pref[m, t] += 1.5
            pref[m, ci["help"]] += 0.4
        for m in np.flatnonzero(role == HELPER):
            pref[m, ci["help"]] += 1.2
        for m in np.flatnonzero(role == MEMER):
            pref[m, ci["memes"]] += 1.5
        self.post_pref = pref / pref.sum(1, keepdims=True)
        # reading affinity: smoother than posting
        read = pref + 0.15
        read[:, ci["announcements"]] = 0.6
        read[:, ci["intros"]] = 0.15
        self.read_pref = read / read.sum(1, keepdims=True) * C
        # memer appeal only in memes, expert appeal mostly in their topic/help
        self.appeal_ch = np.ones((n, C))
        self.appeal_ch[role == MEMER] = 0.6
        self.appeal_ch[role == MEMER, ci["memes"]] = 4.0
        self.ci = ci
        # joins, accounts, churn
        start, days = self.start, self.days
        founding = rng.random(n) < 0.6
        join = np.where(founding, start - rng.integers(1, 720, n), start + rng.integers(0, days, n))
        # experts/mods/helpers are mostly founding
        core = np.isin(role, [EXPERT, MOD, HELPER])
        join = np.where(core & (rng.random(n) < 0.85), start - rng.integers(30, 720, n), join)
        self.join = join
        self.created = join - rng.exponential(400, n).astype(int) - rng.integers(0, 3, n)
        life = rng.exponential(days * 2.5, n)
        leaves = (rng.random(n) < 0.35) & ~np.isin(role, [MOD])
        self.leave = np.where(leaves, np.maximum(join, start) + life.astype(int) + 3, 10**9)
        # dormant spell: 20% take a 2-5 week break
        self.break_start = np.where(rng.random(n) < 0.2, start + rng.integers(0, days, n), 10**9)
        self.break_end = self.break_start + rng.integers(14, 36, n)
        # friend circles among non-lurkers
        self.friends = [np.zeros(0, np.int64) for _ in range(n)]
        social = np.flatnonzero(role != LURKER)
        rng.shuffle(social)
        i = 0
        while i < len(social):
            k = int(rng.integers(3, 9))
            grp = social[i : i + k]
            for m in grp:
                self.friends[m] = np.setdiff1d(grp, [m])
            i += k
        # some cross-circle friendships
        for m in social:
            if rng.random() < 0.3:
                extra = rng.choice(social, int(rng.integers(1, 3)))
                self.friends[m] = np.unique(np.concatenate([self.friends[m], extra[extra != m]]))
        self.friend_rate = np.where(role == LURKER, 0.0, rng.lognormal(-0.7, 0.5, n))
        self.experts = np.flatnonzero(role == EXPERT)
        self.mods = np.flatnonzero(role == MOD)
        self.helpers = np.flatnonzero(role == HELPER)

    # ------------------------------------------------------------------ simulation
    def weekday_factor(self, d):
        return [0.95, 0.95, 0.95, 0.95, 1.05, 1.25, 1.25][(d + 3) % 7]  # day 0 = Thursday

    def present(self, d):
        return (self.join <= d) & (self.leave > d) & ~((self.break_start <= d) & (d < self.break_end))

    def _simulate(self):
        rng = self.rng
        for d in range(self.start, TODAY + 1):
            pres = self.present(d)
            # newcomers in their first week are more active
            newbie = (d - self.join < 7) & (self.join >= self.start)
            pv = np.where(newbie, np.maximum(self.p_visit, 0.6), self.p_visit) * self.weekday_factor(d)
            active = np.flatnonzero(pres & (rng.random(self.n) < np.minimum(pv, 1)))
            self.active_by_day.append(active)
            # engager weights per (channel, block) over active members
            on = ONLINE[self.tz[active]]  # (A, B)
            w = (
                self.prop[active][:, None, None] * self.read_pref[active][:, :, None] * on[:, None, :]
            )  # (A, C, B)
            self.block_w_by_day.append((active, w))
            # intros: joiners today
            joiners = np.flatnonzero(self.join == d)
            for m in joiners:
                self._post(d, m, self.ci["intros"], n_posts=1)
            # ordinary posts
            npost = rng.poisson(self.rate[active] * (1.8 * newbie[active] + 1))
            for m, k in zip(active[npost > 0], npost[npost > 0], strict=False):
                chs = rng.choice(self.C, k, p=self.post_pref[m])
                for c in np.unique(chs):
                    self._post(d, m, c, n_posts=int((chs == c).sum()))
            # announcements by mods: ~3 per week total
            if rng.random() < 3 / 7:
                m = rng.choice(self.mods)
                if pres[m]:
                    self._post(d, m, self.ci["announcements"], 1)

    def _sample(self, d, c, b, k, exclude):
        active, w = self.block_w_by_day[d - self.start]
        if k <= 0 or len(active) == 0:
            return np.zeros(0, np.int64)
        ww = w[:, c, b]
        cum = np.cumsum(ww)
        if cum[-1] <= 0:
            return np.zeros(0, np.int64)
        pick = active[
            np.searchsorted(cum, self.rng.random(k) * cum[-1], side="right").clip(0, len(active) - 1)
        ]
        return pick[pick != exclude]

    def _post(self, d, m, c, n_posts=1, appeal_mult=1.0, rows=None, posts=None, block=None):
        """m posts n_posts messages in channel c on day d; the community responds."""
        rng = self.rng
        rows = rows if rows is not None else self.rows
        posts = posts if posts is not None else self.posts
        posts.add(np.full(n_posts, m), channel_id(c), d)
        name = self.ch_names[c]
        react, reply, thread = self.culture[c]
        # audience size effect (sublinear)
        active, _ = self.block_w_by_day[d - self.start]
        aud = (max(len(active), 5) / 60.0) ** 0.4
        for _ in range(n_posts):
            b = (
                block
                if block is not None
                else rng.choice(BLOCKS, p=ONLINE[self.tz[m]] / ONLINE[self.tz[m]].sum())
            )
            onl = ONLINE[:, b].mean()
            ap = self.appeal[m] * self.appeal_ch[m, c] * appeal_mult * aud * (0.4 + onl)
            n_eng = rng.poisson(ap * (react + reply))
            eng = self._sample(d, c, b, n_eng, m)
            if name == "help":  # question: helpers/experts answer
                self._answer(d, m, c, rows, posts)
            if name == "intros":  # welcomes
                self._welcome(d, m, c, rows)
            # friends
            fr = self.friends[m]
            if len(fr) and self.friend_rate[m] > 0:
                kf = rng.poisson(self.friend_rate[m] * 1.5)
                if kf:
                    ff = rng.choice(fr, kf)
                    pres = self.present(d)
                    ff = ff[pres[ff]]
                    eng = np.concatenate([eng, ff])
            if len(eng) == 0:
                continue
            is_reply = rng.random(len(eng)) < self.reply_share[eng] * (reply / (react + reply)) * 2.0
            kinds = np.where(is_reply, np.where(rng.random(len(eng)) < thread, THREAD_REPLY, REPLY), REACTION)
            rows.add(eng, m, channel_id(c), d, kinds)
            # author replies back to some repliers (a message: counted as a post too)
            rep = eng[kinds != REACTION]
            if len(rep) and self.role[m] != LURKER:
                back = rep[rng.random(len(rep)) < 0.35]
                if len(back):
                    rows.add(np.full(len(back), m), back, channel_id(c), d, REPLY)
                    posts.add(np.full(len(back), m), channel_id(c), d)
            if len(rep):  # replies are posts by the repliers
                posts.add(rep, channel_id(c), d)

    def _answer(self, d, asker, c, rows, posts):
        rng = self.rng
        active, _ = self.block_w_by_day[d - self.start]
        cand = active[np.isin(self.role[active], [HELPER, EXPERT, REGULAR, MOD])]
        cand = cand[cand != asker]
        if len(cand) == 0:
            return
        w = np.where(np.isin(self.role[cand], [HELPER, EXPERT]), 12.0, 1.0) * self.read_pref[cand, c]
        k = min(len(cand), 1 + rng.poisson(0.6))
        ans = rng.choice(cand, k, replace=False, p=w / w.sum())
        rows.add(ans, asker, channel_id(c), d, THREAD_REPLY)
        posts.add(ans, channel_id(c), d)
        thank = ans[rng.random(k) < 0.65]
        if len(thank):
            kinds = np.where(rng.random(len(thank)) < 0.5, REPLY, REACTION)
            rows.add(np.full(len(thank), asker), thank, channel_id(c), d, kinds)

    def _welcome(self, d, newb, c, rows):
        rng = self.rng
        active, _ = self.block_w_by_day[d - self.start]
        cand = active[np.isin(self.role[active], [MOD, REGULAR, HELPER])]
        cand = cand[cand != newb]
        if len(cand) == 0:
            return
        k = min(len(cand), rng.poisson(1.5))
        if k == 0:
            return
        wel = rng.choice(cand, k, replace=False)
        rows.add(wel, newb, channel_id(c), d, REPLY)
        back = wel[rng.random(k) < 0.5]
        rows.add(np.full(len(back), newb), back, channel_id(c), d, REACTION)

    # ------------------------------------------------------------------ helpers for attacks
    def respond(self, d, m, c, n_posts=1, appeal=None, rows=None, posts=None, block=None):
        """Organic community response to n_posts of member/account m (who need not be a member of
        the organic model; appeal given explicitly then) in channel c on day d."""
        if m < self.n:
            mult = 1.0 if appeal is None else appeal / (self.appeal[m] * self.appeal_ch[m, c])
            self._post(d, m, c, n_posts, mult, rows, posts, block)
        else:
            # an account outside the organic model posts with a casual's parameters
            self._post_foreign(d, m, c, n_posts, appeal if appeal is not None else 0.7, rows, posts, block)

    def _post_foreign(self, d, m, c, n_posts, appeal, rows, posts, block):
        rng = self.rng
        posts.add(np.full(n_posts, m), channel_id(c), d)
        react, reply, _thread = self.culture[c]
        active, _ = self.block_w_by_day[d - self.start]
        aud = (max(len(active), 5) / 60.0) ** 0.4
        for _ in range(n_posts):
            b = block if block is not None else int(rng.integers(BLOCKS))
            n_eng = rng.poisson(appeal * aud * (0.4 + ONLINE[:, b].mean()) * (react + reply))
            eng = self._sample(d, c, b, n_eng, m)
            if len(eng) == 0:
                continue
            is_reply = rng.random(len(eng)) < self.reply_share[eng] * (reply / (react + reply)) * 2.0
            kinds = np.where(is_reply, REPLY, REACTION)
            rows.add(eng, m, channel_id(c), d, kinds)
            posts.add(eng[is_reply], channel_id(c), d)

    def reply_back(self, d, actors, targets, c, prob, rows):
        """Organic members (targets) answer engagement from actors back with probability prob."""
        actors = np.asarray(actors)
        targets = np.asarray(targets)
        ok = targets < self.n
        ok[ok] &= self.role[targets[ok]] != LURKER
        ok &= self.rng.random(len(targets)) < prob
        if ok.any():
            rows.add(targets[ok], actors[ok], channel_id(c), d, REPLY)

    def random_members(self, k, roles=None, established_at=None, exclude=()):
        pool = np.arange(self.n)
        if roles is not None:
            pool = pool[np.isin(self.role[pool], roles)]
        if established_at is not None:
            pool = pool[(self.join[pool] <= established_at - 30) & (self.leave[pool] > TODAY)]
        pool = np.setdiff1d(pool, np.asarray(list(exclude), np.int64))
        return self.rng.choice(pool, min(k, len(pool)), replace=False)


# ---------------------------------------------------------------------- assembly for the ranking
def aggregate(rows: Rows, id0: int):
    a, t, c, d, k = rows.arrays()
    ok = a != t
    a, t, c, d, k = a[ok], t[ok], c[ok], d[ok], k[ok]
    key = np.stack([a, t, c, d, k], 1)
    u, cnt = np.unique(key, axis=0, return_counts=True)
    return trust.Edges(
        actor=u[:, 0] + id0,
        target=u[:, 1] + id0,
        channel=u[:, 2],
        day=u[:, 3],
        kind=u[:, 4],
        n=cnt.astype(float),
    )


def aggregate_posts(p: PostRows, id0: int):
    m, c, d = p.arrays()
    key = np.stack([m, c, d], 1)
    u, cnt = np.unique(key, axis=0, return_counts=True)
    return trust.Posts(member=u[:, 0] + id0, channel=u[:, 1], day=u[:, 2], n=cnt.astype(float))


def organic_voices(comm: Community, manip: set[int] = frozenset()):
    """Genuine voices from ORGANIC engagement only: experts plus non-manipulators whom at least as
    many distinct (non-manipulator) members engage as the median expert; if fewer than 10, the bar
    drops to the least-engaged expert. Ids are internal (0..N-1)."""
    a, t, *_ = comm.rows.arrays()
    ok = (a != t) & ~np.isin(a, list(manip))
    pairs = np.unique(np.stack([t[ok], a[ok]], 1), axis=0)
    who, cnt = np.unique(pairs[:, 0], return_counts=True)
    peers = dict(zip(who.tolist(), cnt.tolist(), strict=False))
    ex = [peers.get(int(e), 0) for e in comm.experts]
    bar = float(np.median(ex))
    v = set(comm.experts.tolist()) | {m for m, k in peers.items() if k >= bar and m not in manip}
    if len(v) < 10:
        bar = float(min(ex))
        v = set(comm.experts.tolist()) | {m for m, k in peers.items() if k >= bar and m not in manip}
    return v, bar, peers
