"""An organic hobby marketplace Discord server (trading cards and collectibles), as the bot records it,
and its genuine voices.

Assumptions (each one a belief about such servers, not a fit to any ranking):

Records. The bot records daily engagement rows (actor, target, channel, day, kind, count) and posts per
(member, channel, day). A reply engages the replied-to author; a reaction engages the message's author;
a message in a forum thread engages the thread's opener (`thread_reply`), unless it is an explicit
reply to someone in the thread, which is recorded as a reply to that person instead; a mention engages
the mentioned member. Threads are folded into their forum channel. Records start on the history's
first day (120 to 180 days before today, drawn per seed); the server itself is about two and a half
years older, so most members joined before the records begin and their older relationships are
invisible. Discord tells the join day and the account's creation day of every member, and the day a
member left; the store sees a member first at their first message or engagement in the records.

Channels. #announcements (moderators only: news, rules, a monthly official "react to enter" giveaway
that draws reactions from a large share of the members online; winners are mentioned; nobody can
reply there), #general (chat: about two in five messages reply to a recent message, with a strong
preference for friends; a few mention a friend), #buy-sell-trade (listings by traders; buyers reply
to or mention the seller, sellers answer about half of them, about three inquiries in ten end in a
trade done in DMs; buyers also post "ISO" requests that sellers answer), #vouches (after a trade the
buyer usually posts a vouch that mentions the seller, and the seller often vouches back), #price-check
(members ask what a card is worth; experts, moderators and some traders answer by replying to the
asker; the asker thanks the first answer by a reply or a reaction about four times in five; bystanders
sometimes reply to an answer; the price bot answers some questions and is reacted to), #showcase
(collections and pulls: reactions, some replies), #news (release and market news by a few news hounds,
and the price bot's daily market report), #help-forum (a forum: a member opens a grading/authenticity
thread, experts and others post in it, crediting the opener; the opener thanks a helper by a reply),
#collection-logs (a forum: collectors keep one long-running thread each, where visitors post).

Members. Roles with heavy-tailed activity (lognormal multipliers on how often a member is online, how
much they write and how much their posts appeal): lurkers (nearly half: online rarely, mostly react,
sometimes ask a price), casual traders, active traders (most listings), price-check experts,
collectors (showcase and collection logs), chatters (#general), news hounds, moderators, former
moderators who stepped down early in the records, and one price bot (`is_bot`). Members (all but
three in five lurkers) belong to one or two friend groups (themed by what they do) and reply to and
react to friends far more than chance. Everyone online gives a few reactions a day, spread over the
day's messages by their appeal and the channel's habits (showcase and news draw most), three in ten
of them to friends' messages. Sellers' listings appeal by the square root of their vouch count
(buyers look at reputation), so busy sellers get busier.
Activity follows a weekly rhythm (weekends busier) and a product release every two to four weeks
(spikes in news, listings, showcase and price checks for three days). Arrivals come steadily and in
waves (two release waves, one after a YouTuber's shout-out, with more brand-new Discord accounts);
newcomers are keen for about ten days and ask more price checks, a third of them fade into silence
and three in ten leave within weeks; some long-time members go dormant, take breaks, leave, or come
back for a release; a share of old members is silent for the whole history. Most accounts are years
old when they join; about one in eight (one in four in the shout-out wave) is brand new.

Genuine voices (fixed on the organic records, before any ranking). A resident: not the bot, still in
the server, joined at least 28 days before today, wrote on at least four days of the last 28. Over
the last 84 days, only engagement outside #announcements by ordinary members (neither moderators nor
the bot) counts; A is the number of ordinary members active in those 84 days. A member's attention
is bounded, so how many distinct members a relied-on member reaches is assumed to grow like the
square root of A, not like A. A resident is a genuine voice when (a) at least max(10, 2.5 sqrt(A))
distinct ordinary members engaged them on two or more separate days, one of those engagements at
least a reply, a thread post, a mention or a thank-you (reactions alone never make a voice); or (b)
at least max(8, 0.6 sqrt(A)) distinct askers thanked their price-check or help-forum answers; or (c)
at least max(8, 0.6 sqrt(A)) distinct partners vouched for them after a real trade. Moderators
qualify only by the same engagement (their announcements' reactions never count). That gives about
a fifth of the residents at 300 members and about one in twenty at 3000.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import deque
from dataclasses import dataclass

import numpy as np

from bench.trust_metrics import facts_from
from bot import trust

#: Organic accounts are BASE_ID + index (Discord snowflake-sized ids); accounts attacks add start at
#: ATTACK_BASE; channel ids are CHANNEL_BASE + channel index.
BASE_ID = 310_000_000_000_000_000
ATTACK_BASE = BASE_ID + 50_000_000
CHANNEL_BASE = 320_000_000_000_000_000
#: The ranking day (days since 1970-01-01): 2024-10-04. The records end on it.
TODAY = 20_000
#: Days the genuine-voice rule looks back over, and the recent period residents must be active in.
VOICE_WINDOW = 84
RECENT = 28

CHANNELS = (
    "announcements",
    "general",
    "buy-sell-trade",
    "price-check",
    "vouches",
    "showcase",
    "news",
    "help-forum",
    "collection-logs",
)
ANN, GEN, BST, PC, VOU, SHOW, NEWS, HELP, LOGS = range(len(CHANNELS))
N_CH = len(CHANNELS)

REPLY = trust.KINDS.index("reply")
REACTION = trust.KINDS.index("reaction")
THREAD = trust.KINDS.index("thread_reply")
MENTION = trust.KINDS.index("mention")

ROLES = ("lurker", "casual", "trader", "expert", "collector", "chatter", "news", "mod", "exmod", "bot")
LURKER, CASUAL, TRADER, EXPERT, COLLECTOR, CHATTER, NEWSHOUND, MOD, EXMOD, BOT = range(len(ROLES))

#: Per role: chance of being online on a day (before the member's own multiplier and interest) ...
P_ONLINE = np.array([0.12, 0.22, 0.5, 0.55, 0.35, 0.55, 0.5, 0.75, 0.3, 0.0])
#: ... reactions given per online day ...
REACTS = np.array([2.0, 1.5, 1.5, 1.5, 3.0, 3.0, 2.0, 2.5, 1.5, 0.0])
#: ... and messages per online day per channel (ANN is drawn separately; VOU comes from trades; PC and
#: HELP are answers for answering roles and questions/threads for the others).
RATES = np.array(
    [
        # ann  gen  bst  pc   vou  show news help logs
        [0.0, 0.3, 0.08, 0.08, 0.0, 0.02, 0.0, 0.02, 0.0],  # lurker
        [0.0, 1.0, 0.5, 0.25, 0.0, 0.1, 0.0, 0.08, 0.02],  # casual
        [0.0, 1.5, 3.0, 0.3, 0.0, 0.2, 0.0, 0.05, 0.02],  # trader
        [0.0, 1.5, 0.3, 3.0, 0.0, 0.1, 0.1, 1.0, 0.05],  # expert
        [0.0, 1.0, 0.3, 0.15, 0.0, 0.6, 0.0, 0.05, 0.4],  # collector
        [0.0, 6.0, 0.1, 0.05, 0.0, 0.1, 0.0, 0.0, 0.03],  # chatter
        [0.0, 2.0, 0.2, 0.1, 0.0, 0.05, 1.2, 0.0, 0.0],  # news hound
        [0.0, 2.5, 0.1, 0.5, 0.0, 0.1, 0.1, 0.3, 0.02],  # mod
        [0.0, 2.0, 0.2, 0.5, 0.0, 0.1, 0.0, 0.2, 0.0],  # exmod
        [0.0] * N_CH,  # bot
    ]
)
#: Share of a role's #buy-sell-trade messages that are listings (the rest are inquiries and ISO posts).
LISTING_SHARE = np.array([0.05, 0.3, 0.7, 0.3, 0.4, 0.1, 0.2, 0.1, 0.3, 0.0])
ANSWERING = (TRADER, EXPERT, MOD, EXMOD)
#: How readily a message in each channel draws reactions, per unit of its appeal.
REACTIVE = np.array([0.0, 1.0, 0.7, 0.6, 0.5, 3.0, 2.0, 0.5, 1.5])
#: Monday first; the day of the week of day d is (d + 3) % 7.
WEEKDAY = np.array([0.9, 0.9, 0.95, 1.0, 1.1, 1.3, 1.25])
SERVER_AGE = 900  # days the server existed before the records began


@dataclass
class Community:
    """One organic server: the rows the ranking sees, what attacks need to draw real members in, and
    the genuine voices."""

    size: int
    seed: int
    today: int
    start: int
    edges: trust.Edges
    posts: trust.Posts
    facts: trust.MemberFacts
    genuine: frozenset[int]
    #: Per organic index: role, join/creation/leave days (absolute; leave NaN while present), appeal,
    #: friend groups, seller reputation (trades before and during the records).
    role: np.ndarray
    joined: np.ndarray
    created: np.ndarray
    left: np.ndarray
    charisma: np.ndarray
    groups: list[tuple[int, ...]]
    reputation: np.ndarray
    bot: int
    #: Per history day index: the organic members online.
    online: list[np.ndarray]
    #: Per channel and day index: organic reactions and responses (replies, thread posts, inquiries)
    #: per unit of appeal posted there, and who gave them (member indexes, with repeats).
    react_rate: np.ndarray
    reply_rate: np.ndarray
    reactors: list[list[np.ndarray]]
    repliers: list[list[np.ndarray]]
    #: Per channel and day index: the organic messages (author index, appeal) that could be reacted to.
    messages: list[list[tuple[np.ndarray, np.ndarray]]]
    #: Per day index: members who asked a price check that day.
    askers: list[np.ndarray]
    last_active: np.ndarray  # last day index each member wrote or engaged (-1: never)
    counts: dict[str, int]

    @property
    def days(self) -> int:
        return self.today - self.start + 1

    def gid(self, idx: int | np.ndarray) -> int | np.ndarray:
        return BASE_ID + idx

    def known_facts(self) -> dict[int, tuple[float, float, float]]:
        """Organic account id -> (joined day, account creation day, left day)."""
        return {
            BASE_ID + i: (float(self.joined[i]), float(self.created[i]), float(self.left[i]))
            for i in range(len(self.role))
        }


class _Builder:
    """The simulation: member setup, then one pass per day over the channels."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seed = seed
        self.rng = np.random.default_rng([seed, size, 6])
        self.r = random.Random(int(self.rng.integers(2**62)))
        self.H = int(self.rng.integers(120, 181))
        self.start = TODAY - self.H + 1
        # event log (organic indexes, day indexes)
        self.ea: list[int] = []
        self.et: list[int] = []
        self.ec: list[int] = []
        self.ed: list[int] = []
        self.ek: list[int] = []
        self.pm: list[int] = []
        self.pc: list[int] = []
        self.pd: list[int] = []
        self.acks: list[tuple[int, int, int]] = []  # (asker, answerer, day)
        self.vouches: list[tuple[int, int, int]] = []  # (voucher, partner, day) after a real trade
        self.pending: dict[int, list[tuple[int, int]]] = {}

    # -- members -------------------------------------------------------------------------------------

    def _members(self) -> None:
        n, rng, H = self.size, self.rng, self.H
        counts = {
            MOD: max(3, round(0.006 * n)),
            EXMOD: max(1, round(0.002 * n)),
            EXPERT: max(4, round(0.012 * n)),
            NEWSHOUND: max(2, round(0.01 * n)),
            TRADER: round(0.07 * n),
            COLLECTOR: round(0.08 * n),
            CHATTER: round(0.12 * n),
            CASUAL: round(0.25 * n),
        }
        roles = np.concatenate([np.full(c, r) for r, c in counts.items()])
        roles = np.concatenate([roles, np.full(n - 1 - len(roles), LURKER)])
        rng.shuffle(roles)
        self.role = np.concatenate([roles, [BOT]]).astype(np.int64)
        self.bot = n - 1
        role = self.role
        # arrivals: before the records, or steadily and in three waves during them
        pre = rng.random(n) < 0.55
        pre |= np.isin(role, (MOD, EXMOD, BOT)) | ((role == EXPERT) & (rng.random(n) < 0.85))
        join_t = np.empty(n, np.int64)
        old_span = np.where(np.isin(role, (MOD, EXMOD)), SERVER_AGE - 300, SERVER_AGE)
        join_t[pre] = -1 - np.floor(old_span[pre] * rng.random(pre.sum()) ** 1.6).astype(np.int64)
        join_t[pre & np.isin(role, (MOD, EXMOD))] -= 300
        self.release = self._releases()
        shout = int(rng.integers(H // 3, 2 * H // 3))
        waves = [self.release[0], shout, self.release[len(self.release) // 2]]
        new = np.flatnonzero(~pre)
        which = rng.integers(-2, 3, len(new))  # < 0: steady (two fifths)
        steady = rng.integers(0, H, len(new))
        burst = np.array([waves[max(0, w)] for w in which]) + np.floor(rng.exponential(1.5, len(new)))
        join_t[new] = np.where(which < 0, steady, np.minimum(burst, H - 1)).astype(np.int64)
        self.join_t = join_t
        in_shout = np.zeros(n, bool)
        in_shout[new] = which == 1
        fresh = rng.random(n) < np.where(in_shout, 0.25, 0.12)
        gap = np.where(
            fresh, rng.uniform(0, 7, n), np.minimum(900 * np.exp(0.8 * rng.standard_normal(n)), 3000)
        )
        self.joined = (self.start + join_t).astype(np.float64)
        self.created = np.floor(self.joined - gap)
        # leaving, fading, breaks, returns: interest per member and day
        t = np.arange(H)
        interest = np.ones((n, H), np.float32)
        leave_t = np.full(n, H, np.int64)
        for i in range(n):
            if role[i] in (MOD, BOT):
                continue
            row = interest[i]
            if pre[i]:
                if role[i] == EXMOD:
                    row[int(rng.integers(5, 26)) :] = 0.0
                    continue
                u = rng.random()
                if u < 0.15 and role[i] in (LURKER, CASUAL, CHATTER, COLLECTOR):
                    row[:] = 0.0  # silent through the whole history
                    continue
                if u < 0.23:  # away until a release brings them back
                    back = self.release[int(rng.integers(0, len(self.release)))]
                    row[:back] = 0.0
                if rng.random() < 0.1:
                    leave_t[i] = int(rng.integers(0, H))
                if rng.random() < (0.1 if role[i] == EXPERT else 0.2):
                    row[int(rng.integers(0, H)) :] *= 0.05
            else:
                j = join_t[i]
                row[j : j + 10] *= 1.8
                if rng.random() < 0.3:
                    leave_t[i] = j + int(25 * math.exp(0.8 * rng.standard_normal())) + 1
                if rng.random() < 0.35:
                    row[j + int(20 * math.exp(0.7 * rng.standard_normal())) + 1 :] *= 0.05
            if rng.random() < 0.15:
                b = int(rng.integers(0, H))
                row[b : b + int(rng.integers(14, 41))] = 0.0
        self.interest = interest
        self.leave_t = np.minimum(leave_t, H)
        self.left = np.where(self.leave_t < H, self.start + self.leave_t, np.nan).astype(np.float64)
        self.present = (join_t[:, None] <= t[None, :]) & (t[None, :] < self.leave_t[:, None])
        self.newbie = (t[None, :] - join_t[:, None] < 14) & (t[None, :] >= join_t[:, None])
        # per-member multipliers
        self.p_online = np.minimum(P_ONLINE[role] * np.exp(0.6 * rng.standard_normal(n)), 0.97)
        self.msg_mult = np.exp(0.7 * rng.standard_normal(n))
        self.react = REACTS[role] * np.exp(0.6 * rng.standard_normal(n))
        self.charisma = np.exp(0.7 * rng.standard_normal(n))
        self.quality = np.exp(0.6 * rng.standard_normal(n))
        self.expertise = np.where(
            role == EXPERT,
            np.exp(0.5 * rng.standard_normal(n)),
            np.select([role == MOD, role == EXMOD, role == TRADER], [0.4, 0.5, 0.15], 0.0),
        )
        self.reputation = np.where(
            pre & np.isin(role, (TRADER, CASUAL, COLLECTOR)),
            np.floor(np.exp(1.6 + rng.standard_normal(n))) * np.where(role == TRADER, 1.0, 0.3),
            0.0,
        )
        # friend groups, themed: trading, collecting, chat
        n_groups = max(8, n // 15)
        theme = rng.integers(0, 3, n_groups)
        pref = {TRADER: 0, CASUAL: 0, COLLECTOR: 1, EXPERT: 1, CHATTER: 2, NEWSHOUND: 2, MOD: 2, EXMOD: 2}
        by_theme = [np.flatnonzero(theme == k) for k in range(3)]
        groups: list[tuple[int, ...]] = []
        for i in range(n):
            if role[i] == BOT or (role[i] == LURKER and rng.random() < 0.6):
                groups.append(())
                continue
            k = pref.get(int(role[i]), int(rng.integers(0, 3)))
            pool = by_theme[k] if rng.random() < 0.6 and len(by_theme[k]) else np.arange(n_groups)
            g = [int(rng.choice(pool))]
            if rng.random() < 0.3:
                g.append(int(rng.integers(0, n_groups)))
            groups.append(tuple(sorted(set(g))))
        self.groups = groups
        self.char_list: list[float] = self.charisma.tolist()

    def _releases(self) -> list[int]:
        out = [int(self.rng.integers(5, 21))]
        while out[-1] < self.H - 14:
            out.append(out[-1] + int(self.rng.integers(14, 29)))
        return [d for d in out if d < self.H]

    # -- recording -----------------------------------------------------------------------------------

    def _edge(self, a: int, b: int, c: int, t: int, k: int) -> None:
        if a != b:
            self.ea.append(a)
            self.et.append(b)
            self.ec.append(c)
            self.ed.append(t)
            self.ek.append(k)

    def _post(self, m: int, c: int, t: int) -> None:
        self.pm.append(m)
        self.pc.append(c)
        self.pd.append(t)

    def _msg(self, m: int, c: int, appeal: float) -> None:
        self.m_author.append(m)
        self.m_ch.append(c)
        self.m_app.append(appeal)
        for g in self.groups[m]:
            self.by_group.setdefault(g, []).append(len(self.m_author) - 1)

    def _friend_msg(self, m: int) -> int | None:
        g = self.groups[m]
        if not g:
            return None
        lst = self.by_group.get(g[0] if len(g) == 1 else self.r.choice(g))
        return self.r.choice(lst) if lst else None

    def _pick(self, who: np.ndarray, weight: np.ndarray, exclude: int = -1) -> int | None:
        """One of `who` by `weight` (not `exclude`)."""
        if len(who) == 0:
            return None
        for _ in range(4):
            k = self.r.choices(range(len(who)), cum_weights=None, weights=weight)[0] if len(who) > 1 else 0
            if who[k] != exclude:
                return int(who[k])
        return None

    def _responders(self, online: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
        if n == 0 or len(online) == 0:
            return np.zeros(0, np.int64)
        return online[self.rng.choice(len(online), size=n, p=w)]

    # -- a day ---------------------------------------------------------------------------------------

    def _day(self, t: int) -> None:
        rng, r = self.rng, self.r
        d = self.start + t
        wf = WEEKDAY[(d + 3) % 7]
        ev = self.ev[t]
        p = self.p_online * self.interest[:, t] * wf * ev
        p[~self.present[:, t]] = 0.0
        online = np.flatnonzero(rng.random(self.size) < np.minimum(p, 0.97))
        online = online[online != self.bot]
        self.online.append(online)
        self.online_mask = np.zeros(self.size, bool)
        self.online_mask[online] = True
        role = self.role[online]
        lam = RATES[role] * self.msg_mult[online, None] * self.evc[None, :, t]
        newbie = self.newbie[online, t]
        lam[:, PC] *= np.where(newbie & ~np.isin(role, ANSWERING), 2.0, 1.0)
        cnt = rng.poisson(lam)
        self.m_author: list[int] = []
        self.m_ch: list[int] = []
        self.m_app: list[float] = []
        self.by_group: dict[int, list[int]] = {}
        resp = np.zeros(N_CH)  # responses drawn per channel
        mass = np.zeros(N_CH)  # appeal that could draw responses
        rep_pool: list[list[int]] = [[] for _ in range(N_CH)]
        w_on = self.react[online] + 0.5
        w_on = w_on / w_on.sum() if len(online) else w_on

        # #announcements: about two a week, more on release days, the monthly giveaway
        mods = np.flatnonzero((self.role == MOD) & self.present[:, t])
        n_ann = rng.poisson(2 / 7 + (0.8 if t in self.release_set else 0.0))
        giveaway = t % 30 == 10
        ann_authors = [int(rng.choice(mods)) for _ in range(n_ann + int(giveaway))]
        for j, m in enumerate(ann_authors):
            self._post(m, ANN, t)
            share = 0.5 if giveaway and j == len(ann_authors) - 1 else 0.15
            fans = online[
                (rng.random(len(online)) < share * np.minimum(self.react[online] / 2, 1.5)) & (online != m)
            ]
            for f in fans:
                self._edge(int(f), m, ANN, t, REACTION)
            if giveaway and j == len(ann_authors) - 1 and len(fans):
                for wnr in rng.choice(fans, size=min(3, len(fans)), replace=False):
                    self._edge(m, int(wnr), ANN, t, MENTION)

        # #news: news hounds, the price bot's market report
        for a in np.repeat(online, cnt[:, NEWS]):
            a = int(a)
            self._post(a, NEWS, t)
            app = self.charisma[a] * 1.2
            self._msg(a, NEWS, app)
            mass[NEWS] += app
            k = rng.poisson(0.7 * app)
            resp[NEWS] += k
            for b in self._responders(online, w_on, k):
                self._post(int(b), NEWS, t)
                self._edge(int(b), a, NEWS, t, REPLY)
                rep_pool[NEWS].append(int(b))
        self._post(self.bot, NEWS, t)
        self._msg(self.bot, NEWS, 0.6)

        # #showcase and #collection-logs
        for c, base in ((SHOW, 0.4), (LOGS, 0.5)):
            authors = np.repeat(online, cnt[:, c])
            for a in authors:
                a = int(a)
                self._post(a, c, t)
                if c == LOGS and self.role[a] != COLLECTOR and self.log_open:
                    # a visit to someone else's log thread
                    owners = np.array(self.log_open_list)
                    owner = self._pick(owners, self.charisma[owners] * self.quality[owners], a)
                    if owner is not None:
                        self._edge(a, owner, LOGS, t, THREAD)
                    continue
                if c == LOGS and a not in self.log_open:
                    self.log_open.add(a)
                    self.log_open_list.append(a)
                app = self.charisma[a] * self.quality[a] * (1.5 if c == SHOW else 1.0)
                self._msg(a, c, app)
                mass[c] += app
                k = rng.poisson(base * app)
                resp[c] += k
                for b in self._responders(online, w_on, k):
                    b = int(b)
                    if r.random() < 0.4:  # friends come first
                        f = self._friend_of(a, online)
                        b = f if f is not None else b
                    if b == a:
                        continue
                    self._post(b, c, t)
                    self._edge(b, a, c, t, THREAD if c == LOGS else REPLY)
                    rep_pool[c].append(b)
                    if r.random() < 0.35:
                        self._post(a, c, t)
                        self._edge(a, b, c, t, REPLY)

        # #buy-sell-trade: listings, inquiries, ISO posts; trades lead to vouches
        bst_authors = np.repeat(online, cnt[:, BST])
        rng.shuffle(bst_authors)
        listing = rng.random(len(bst_authors)) < LISTING_SHARE[self.role[bst_authors]]
        for a in bst_authors[listing]:
            a = int(a)
            self._post(a, BST, t)
            app = float((1 + self.reputation[a]) ** 0.5 * math.exp(0.4 * r.gauss(0, 1)))
            self._msg(a, BST, app)
            self.listings.append((a, app, t))
        self.listings = [x for x in self.listings if x[2] >= t - 2]
        open_w = [app * 0.5 ** (t - lt) for _, app, lt in self.listings]
        mass[BST] += sum(open_w)
        open_cum = list(itertools.accumulate(open_w))
        sellers_today = [x[0] for x in self.listings if x[2] == t]
        for b in bst_authors[~listing]:
            b = int(b)
            self._post(b, BST, t)
            self._msg(b, BST, 0.3)
            if r.random() < 0.15 or not self.listings:  # ISO: a seller may answer
                if sellers_today and r.random() < 0.5:
                    s = r.choice(sellers_today)
                    if s != b:
                        self._post(s, BST, t)
                        self._edge(s, b, BST, t, REPLY)
                continue
            s, _, _ = r.choices(self.listings, cum_weights=open_cum)[0]
            if s == b:
                continue
            resp[BST] += 1
            rep_pool[BST].append(b)
            self._inquiry(b, s, t)

        # #price-check: questions answered by experts (and the bot), thanks, bystanders
        pc_cnt = cnt[:, PC]
        answering = np.isin(role, ANSWERING)
        ans_who = online[answering & (pc_cnt > 0)]
        ans_w = self.expertise[ans_who] * pc_cnt[answering & (pc_cnt > 0)] + 1e-9
        askers = np.repeat(online[~answering], pc_cnt[~answering])
        self.askers.append(np.unique(askers))
        pc_people = np.concatenate([ans_who, askers])
        for q in askers:
            q = int(q)
            self._post(q, PC, t)
            self._msg(q, PC, 0.3)
            u = r.random()
            n_ans = 0 if u < 0.1 else (1 if u < 0.7 else 2)
            answerers: list[int] = []
            for _ in range(n_ans):
                x = self._pick(ans_who, ans_w, q)
                if x is not None and x not in answerers:
                    answerers.append(x)
            if (not answerers and r.random() < 0.8) or r.random() < 0.25:
                answerers.append(self.bot)
            for j, x in enumerate(answerers):
                self._post(x, PC, t)
                self._edge(x, q, PC, t, REPLY)
                app = 0.6 * float(self.expertise[x]) + 0.2 if x != self.bot else 0.4
                self._msg(x, PC, app)
                mass[PC] += app
                if x == self.bot:
                    if r.random() < 0.3:
                        self._edge(q, x, PC, t, REACTION)
                    continue
                p_reply, p_react = (0.5, 0.6) if j == 0 else (0.3, 0.3)
                if r.random() < p_reply:
                    self._post(q, PC, t)
                    self._edge(q, x, PC, t, REPLY)
                    self.acks.append((q, x, t))
                elif r.random() < p_react:
                    self._edge(q, x, PC, t, REACTION)
                    self.acks.append((q, x, t))
                if r.random() < 0.12 and len(pc_people) > 1:
                    y = int(pc_people[r.randrange(len(pc_people))])
                    if y not in (x, q):
                        self._post(y, PC, t)
                        self._edge(y, x, PC, t, REPLY)
                        resp[PC] += 1
                        rep_pool[PC].append(y)

        # #help-forum: threads opened by askers, helpers post in them
        help_cnt = cnt[:, HELP]
        h_ans = online[answering & (help_cnt > 0)]
        h_w = self.expertise[h_ans] * help_cnt[answering & (help_cnt > 0)] + 1e-9
        for o in np.repeat(online[~answering], help_cnt[~answering]):
            o = int(o)
            self._post(o, HELP, t)
            app = 1.0
            self._msg(o, HELP, 0.5)
            mass[HELP] += app
            k = rng.poisson(1.8)
            helpers: list[int] = []
            for _ in range(k):
                if len(h_ans) and r.random() < 0.7:
                    x = self._pick(h_ans, h_w, o)
                else:
                    x = int(online[r.randrange(len(online))])
                if x is None or x == o:
                    continue
                self._post(x, HELP, t)
                self._edge(x, o, HELP, t, THREAD)
                helpers.append(x)
                resp[HELP] += 1
                rep_pool[HELP].append(x)
            if helpers and r.random() < 0.6:
                x = helpers[0]
                self._post(o, HELP, t)
                self._edge(o, x, HELP, t, REPLY)
                self.acks.append((o, x, t))
            if r.random() < 0.3:
                self._post(o, HELP, t)

        # #general: chat, replies to recent messages (friends first), a few mentions
        gen_authors = np.repeat(online, cnt[:, GEN])
        rng.shuffle(gen_authors)
        recent = self.gen_recent
        char = self.char_list
        gen_by_group: dict[int, list[int]] = {}
        for a in gen_authors:
            a = int(a)
            self._post(a, GEN, t)
            app = float(self.charisma[a])
            self._msg(a, GEN, app)
            mass[GEN] += app
            u = r.random()
            if u < 0.4 and recent:
                target = None
                g = self.groups[a]
                if g and r.random() < 0.5:
                    lst = gen_by_group.get(r.choice(g))
                    if lst:
                        target = r.choice(lst)
                if target is None:
                    target = r.choices(recent, weights=[char[x] for x in recent])[0]
                if target != a:
                    self._edge(a, target, GEN, t, REPLY)
                    resp[GEN] += 1
                    rep_pool[GEN].append(a)
            elif u < 0.44:
                f = self._friend_of(a, online)
                if f is not None and f != a:
                    self._edge(a, f, GEN, t, MENTION)
            recent.append(a)
            for g in self.groups[a]:
                gen_by_group.setdefault(g, []).append(a)

        # #vouches due today
        for v, s in self.pending.pop(t, []):
            if self.present[v, t]:
                self._post(v, VOU, t)
                self._edge(v, s, VOU, t, MENTION)
                self._msg(v, VOU, 0.25)
                self.vouches.append((v, s, t))

        # reactions over everything posted today (announcements done above)
        author = np.array(self.m_author, np.int64)
        ch = np.array(self.m_ch, np.int64)
        app = np.array(self.m_app)
        w = app * REACTIVE[ch]
        n_react = rng.poisson(self.react[online] * wf * ev)
        reactors = np.repeat(online, n_react)
        react_ch = np.zeros(0, np.int64)
        if len(reactors) and w.sum() > 0:
            target = rng.choice(len(author), size=len(reactors), p=w / w.sum())
            for k in np.flatnonzero(rng.random(len(reactors)) < 0.3):
                f = self._friend_msg(int(reactors[k]))
                if f is not None:
                    target[k] = f
            ok = author[target] != reactors
            react_ch = ch[target][ok]
            for a, b, c in zip(reactors[ok], author[target][ok], react_ch, strict=True):
                self._edge(int(a), int(b), int(c), t, REACTION)
            reactors = reactors[ok]
        mass_all = np.bincount(ch, weights=app, minlength=N_CH) if len(ch) else np.zeros(N_CH)
        n_by_ch = np.bincount(react_ch, minlength=N_CH)
        self.react_rate[:, t] = np.where(mass_all > 0, n_by_ch / np.maximum(mass_all, 1e-9), 0.0)
        self.reply_rate[:, t] = np.where(mass > 0, resp / np.maximum(mass, 1e-9), 0.0)
        for c in range(N_CH):
            self.reactors[c].append(reactors[react_ch == c] if len(react_ch) else np.zeros(0, np.int64))
            self.repliers[c].append(np.array(rep_pool[c], np.int64))
            if c == ANN:
                self.messages[c].append((np.array(ann_authors, np.int64), np.ones(len(ann_authors))))
            else:
                sel = ch == c
                self.messages[c].append((author[sel], app[sel]))

    def _friend_of(self, a: int, online: np.ndarray) -> int | None:
        """A friend of `a` who is online today, if one turns up in a few tries."""
        g = self.groups[a]
        if not g:
            return None
        members = self.group_members[self.r.choice(g)]
        for _ in range(3):
            f = members[self.r.randrange(len(members))]
            if f != a and self.online_mask[f]:
                return f
        return None

    def _inquiry(self, b: int, s: int, t: int) -> None:
        r = self.r
        self._edge(b, s, BST, t, REPLY if r.random() < 0.6 else MENTION)
        if r.random() < 0.55:
            self._post(s, BST, t)
            self._edge(s, b, BST, t, REPLY)
        if r.random() < 0.3:
            self.reputation[s] += 1
            if r.random() < 0.75:
                self.pending.setdefault(t + r.randrange(4), []).append((b, s))
            if r.random() < 0.4:
                self.pending.setdefault(t + r.randrange(4), []).append((s, b))

    # -- the whole history ---------------------------------------------------------------------------

    def build(self) -> Community:
        self._members()
        H = self.H
        self.release_set = set(self.release)
        self.ev = np.ones(H)
        self.evc = np.ones((N_CH, H))
        for rd in self.release:
            for off, f in ((-1, 1.0), (0, 1.35), (1, 1.2), (2, 1.1)):
                x = rd + off
                if 0 <= x < H:
                    self.ev[x] *= f
            for off, boost in ((0, 2.0), (1, 1.5), (2, 1.2)):
                x = rd + off
                if 0 <= x < H:
                    self.evc[[BST, SHOW], x] *= boost
                    self.evc[PC, x] *= 1 + (boost - 1) / 2
            for off in (-1, 0):
                if 0 <= rd + off < H:
                    self.evc[NEWS, rd + off] *= 3.0
        self.group_members: dict[int, list[int]] = {}
        for i, g in enumerate(self.groups):
            for x in g:
                self.group_members.setdefault(x, []).append(i)
        self.online: list[np.ndarray] = []
        self.askers: list[np.ndarray] = []
        self.react_rate = np.zeros((N_CH, H))
        self.reply_rate = np.zeros((N_CH, H))
        self.reactors: list[list[np.ndarray]] = [[] for _ in range(N_CH)]
        self.repliers: list[list[np.ndarray]] = [[] for _ in range(N_CH)]
        self.messages: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(N_CH)]
        self.listings: list[tuple[int, float, int]] = []
        self.gen_recent: deque[int] = deque(maxlen=40)
        self.log_open: set[int] = set()
        self.log_open_list: list[int] = []
        for t in range(H):
            self._day(t)
        return self._finish()

    def _finish(self) -> Community:
        n, start = self.size, self.start
        a = np.array(self.ea, np.int64)
        b = np.array(self.et, np.int64)
        c = np.array(self.ec, np.int64)
        d = np.array(self.ed, np.int64)
        k = np.array(self.ek, np.int64)
        keys = np.stack([a, b, c, d, k], axis=1)
        uniq, cnt = np.unique(keys, axis=0, return_counts=True)
        edges = trust.Edges(
            BASE_ID + uniq[:, 0],
            BASE_ID + uniq[:, 1],
            CHANNEL_BASE + uniq[:, 2],
            start + uniq[:, 3],
            uniq[:, 4],
            cnt.astype(np.float64),
        )
        pkeys = np.stack([np.array(self.pm), np.array(self.pc), np.array(self.pd)], axis=1).astype(np.int64)
        puniq, pcnt = np.unique(pkeys, axis=0, return_counts=True)
        posts = trust.Posts(BASE_ID + puniq[:, 0], CHANNEL_BASE + puniq[:, 1], start + puniq[:, 2], pcnt)
        known = {
            BASE_ID + i: (float(self.joined[i]), float(self.created[i]), float(self.left[i]))
            for i in range(n)
        }
        facts = facts_from(edges, posts, known, frozenset({BASE_ID + self.bot}))
        last = np.full(n, -1, np.int64)
        np.maximum.at(last, a, d)
        np.maximum.at(last, puniq[:, 0], puniq[:, 2])
        genuine = self._genuine(a, b, c, d, k, puniq)
        return Community(
            size=n,
            seed=self.seed,
            today=TODAY,
            start=start,
            edges=edges,
            posts=posts,
            facts=facts,
            genuine=frozenset(int(BASE_ID + g) for g in genuine),
            role=self.role,
            joined=self.joined,
            created=self.created,
            left=self.left,
            charisma=self.charisma,
            groups=self.groups,
            reputation=self.reputation,
            bot=self.bot,
            online=self.online,
            react_rate=self.react_rate,
            reply_rate=self.reply_rate,
            reactors=self.reactors,
            repliers=self.repliers,
            messages=self.messages,
            askers=self.askers,
            last_active=last,
            counts=self.voice_counts,
        )

    def _genuine(
        self, a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, k: np.ndarray, puniq: np.ndarray
    ) -> np.ndarray:
        """The rule in the module docstring (organic indexes)."""
        n, H = self.size, self.H
        ordinary = ~np.isin(self.role, (MOD, BOT))
        lo = H - VOICE_WINDOW
        sel = (d >= lo) & (c != ANN) & ordinary[a] & (a != b)
        substantive = np.isin(k, (REPLY, THREAD, MENTION))
        rows = np.stack([a[sel], b[sel], d[sel], substantive[sel].astype(np.int64)], axis=1)
        acks = np.array([x for x in self.acks if x[2] >= lo and ordinary[x[0]]], np.int64).reshape(-1, 3)
        rows = np.concatenate([rows, np.column_stack([acks, np.ones(len(acks), np.int64)])])
        # per pair: distinct days and whether anything substantive
        pair_day = np.unique(rows[:, :3], axis=0)
        pairs, days = np.unique(pair_day[:, :2], axis=0, return_counts=True)
        subst_pairs = np.unique(rows[rows[:, 3] == 1][:, :2], axis=0)
        key = pairs[:, 0] * n + pairs[:, 1]
        has_sub = np.isin(key, subst_pairs[:, 0] * n + subst_pairs[:, 1])
        ok = (days >= 2) & has_sub
        broad = np.bincount(pairs[ok, 1], minlength=n)
        thanked = np.bincount(np.unique(acks[:, :2], axis=0)[:, 1], minlength=n) if len(acks) else np.zeros(n)
        vv = np.array([x for x in self.vouches if x[2] >= lo and ordinary[x[0]]], np.int64).reshape(-1, 3)
        vouched = np.bincount(np.unique(vv[:, :2], axis=0)[:, 1], minlength=n) if len(vv) else np.zeros(n)
        active = np.unique(np.concatenate([a[sel], puniq[puniq[:, 2] >= lo, 0]]))
        n_active = int(ordinary[active].sum())
        recent_days = puniq[puniq[:, 2] >= H - RECENT]
        days_recent = np.bincount(recent_days[:, 0], minlength=n)
        resident = (
            (self.role != BOT) & np.isnan(self.left) & (self.joined <= TODAY - RECENT) & (days_recent >= 4)
        )
        t_broad = max(10, math.ceil(2.5 * math.sqrt(n_active)))
        t_ask = max(8, math.ceil(0.6 * math.sqrt(n_active)))
        self.voice_stats = (resident, broad, thanked, vouched)
        voice = resident & ((broad >= t_broad) | (thanked >= t_ask) | (vouched >= t_ask))
        self.voice_counts = {
            "active": n_active,
            "residents": int(resident.sum()),
            "broad": int((resident & (broad >= t_broad)).sum()),
            "experts": int((resident & (thanked >= t_ask)).sum()),
            "traders": int((resident & (vouched >= t_ask)).sum()),
        }
        return np.flatnonzero(voice)


def build_community(size: int, seed: int) -> Community:
    """The organic server of `size` accounts (the bot included) for `seed`; deterministic."""
    return _Builder(size, seed).build()
