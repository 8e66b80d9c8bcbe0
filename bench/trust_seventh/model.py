"""An organic creator-collective Discord server as the Discord bot records it, and its genuine voices.

The server
----------
A community of small content creators (streamers, YouTubers, artists with 1k-100k followers) and
their audiences. The server is about 700 days old; the bot's records start 90-180 days before
"today" (the history). Join days, account creation days and leave days are known for everyone the
records show (Discord reports them); a member only ever engaged with (never posting or engaging) is
first seen NaN, as the store would have it.

Channels: #announcements (moderators), #general (chat), #self-promo (creators post links to their
uploads), #feedback (creators ask for critique of thumbnails, clips, titles), #collabs (partners
wanted), #clips (clips and fan art about creators, mentioning them), #help (OBS, editing, algorithm
questions), #critique-forum (a forum channel: each post in a thread credits the thread's opener,
kind thread_reply), #stream-notifs (a notification bot, `is_bot`, posts "X is live" mentioning the
creator; fans react to the bot's post) and #event-vc (the text channel beside voice chat, busy on the
weekly Friday community stream night).

Roles (shares of the N accounts the records can show; heavy-tailed activity inside each role, a
log-normal factor on how often a member is online, how much they chat and react):
  fan      ~42%  audience members; mostly react, follow 1-3 creators (preferentially the popular
                 ones), occasionally post a clip or fan art mentioning a creator, rarely ask for help.
                 About 7% of N arrive in one wave after a popular creator's shout-out: they follow that
                 creator only, react almost only to them, fade, and more than half leave within weeks.
  casual   ~26%  chat in #general, react, ask some help questions, post some clips.
  small    18%   small creators: upload every few days to #self-promo, stream (half of them), ask for
                 feedback, open critique threads, look for collabs, react to each other's self-promo
                 out of courtesy (each has a circle of 3-12 creator friends who react to their uploads).
  mid      4%    established mid-size creators: upload, and give substantive feedback (high skill).
  helper   2.5%  technical helpers: answer #help questions (OBS, encoding, audio), some feedback.
  mod      0.8%  moderators (at least 2): announcements, lots of chat, some help answers.
  star     2 + N/2000  popular creators whose fans flood their uploads with reactions; they get clips
                 and fan art mentioning them, congratulations at a milestone (one star, one day).
  bot      1     the stream-notification bot.
Rhythm: weekends busier; the Friday stream night fills #event-vc; one community collab weekend
(collab posts x5, feedback asks x2); about 20% of members (10% of mids and helpers, no mods or
stars) arrive during the history, 8% of arrivals on accounts created days before joining; 10% of
the others leave at some day of the history; a quarter go dormant for 2-8 weeks at some point.
Responses: an asker (feedback, help, critique thread) is answered by 1-3 members chosen by skill
among those online; they thank a good answer (a reply back, often a reaction) with a probability
rising with the answerer's skill. A post's reactions and drive-by replies come from online members
(weighted by how reactive and chatty they are) in numbers rising with the post's appeal and with
how many are online; uploads also get reactions from the creator's online fans and courtesy circle.
General chat replies prefer earlier messages by charismatic members and by members of one's own
friend clique, so friends talk on many days.

Genuine voices (fixed from the organic records before any ranking)
------------------------------------------------------------------
A genuine voice is a present resident (not the bot, not left, joined at least 30 days before today,
posted in the last 28 days) who, within the last 90 days, either
  * is relied on broadly: at least max(12, 0.5% of residents) distinct members each engaged them
    substantively on two or more separate days. Substantive means a reply, a forum thread post or a
    mention outside #self-promo and #stream-notifs: reactions never count, and replies under uploads
    in #self-promo are courtesy ("congrats!", "great vid") that creators trade, not reliance; or
  * is an expert: at least max(6, 0.25% of residents) distinct askers thanked their answers in
    #feedback, #help or the critique forum.
A popular creator counts only by these rules: fan reactions to their uploads do not make them a
voice, but fans making clips and fan art about them (mentions) on separate days and talking to them
in chat do, since the community demonstrably gathers around them. In this model most fans only
react and post a clip now and then, so a star often misses the rule: being popular is not being
relied on. The thresholds are near-absolute ("many" people is a dozen whatever the server's size,
growing slowly past ~2,400 residents), so the genuine set grows with the server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from bench.trust_metrics import aggregate_edges, aggregate_posts, facts_from
from bot import trust

BASE_ID = 330_000_000_000_000_000
ATTACK_BASE = BASE_ID + 50_000_000
CHANNEL_BASE = 340_000_000_000_000_000

TODAY = 20_000
SERVER_AGE = 700
VOICE_WINDOW = 90
RECENT = 28
MIN_TENURE = 30

CHANNELS = (
    "announcements",
    "general",
    "self-promo",
    "feedback",
    "collabs",
    "clips",
    "help",
    "critique-forum",
    "stream-notifs",
    "event-vc",
)
ANN, GEN, PROMO, FEEDBACK, COLLABS, CLIPS, HELP, FORUM, NOTIFS, VC = range(len(CHANNELS))
N_CH = len(CHANNELS)

REPLY = trust.KINDS.index("reply")
REACTION = trust.KINDS.index("reaction")
THREAD = trust.KINDS.index("thread_reply")
MENTION = trust.KINDS.index("mention")

ROLES = ("fan", "casual", "small", "mid", "helper", "mod", "star", "bot")
FAN, CASUAL, SMALL, MID, HELPER, MOD, STAR, BOT = range(len(ROLES))
CREATORS = (SMALL, MID, STAR)

#: Per role: base chance to be online on a day, general chat messages per online day, reaction
#: weight, uploads per online day, feedback skill, help skill, feedback asks, help asks, clips,
#: collab posts and critique threads per online day, Friday stream-night attendance.
P_ONLINE = np.array([0.10, 0.20, 0.35, 0.45, 0.50, 0.75, 0.40, 0.0])
CHAT = np.array([0.3, 1.5, 1.2, 1.5, 1.5, 3.0, 1.0, 0.0])
REACT = np.array([2.0, 1.5, 1.5, 1.0, 1.0, 1.5, 0.5, 0.0])
UPLOAD = np.array([0.0, 0.0, 0.18, 0.25, 0.0, 0.0, 0.35, 0.0])
FB_SKILL = np.array([0.0, 0.05, 0.2, 1.0, 0.3, 0.3, 0.4, 0.0])
HELP_SKILL = np.array([0.0, 0.05, 0.1, 0.3, 1.0, 0.5, 0.1, 0.0])
ASK_FB = np.array([0.0, 0.01, 0.06, 0.01, 0.0, 0.0, 0.0, 0.0])
ASK_HELP = np.array([0.005, 0.02, 0.03, 0.005, 0.0, 0.0, 0.0, 0.0])
CLIP = np.array([0.015, 0.02, 0.005, 0.0, 0.005, 0.0, 0.0, 0.0])
COLLAB = np.array([0.0, 0.0, 0.03, 0.03, 0.0, 0.0, 0.01, 0.0])
FORUM_OPEN = np.array([0.0, 0.0, 0.025, 0.005, 0.0, 0.0, 0.0, 0.0])
VC_ATTEND = np.array([0.1, 0.3, 0.4, 0.4, 0.3, 0.8, 0.3, 0.0])
ARRIVE = np.array([0.22, 0.2, 0.2, 0.1, 0.1, 0.0, 0.0, 0.0])
#: Monday .. Sunday (day index 0 is a Monday).
WEEKDAY = np.array([0.9, 0.9, 0.95, 1.0, 1.15, 1.3, 1.25])
#: Per channel: reactions and drive-by replies per post per unit of appeal (at 50 members online).
REACT_RATE = np.array([0.0, 0.25, 0.5, 0.2, 0.3, 1.2, 0.15, 0.3, 0.0, 0.2])
REPLY_RATE = np.array([0.0, 0.25, 0.05, 0.0, 0.1, 0.12, 0.0, 0.0, 0.0, 0.1])


class Rows:
    """Engagement and post rows as lists (member ids or organic indexes, day indexes)."""

    def __init__(self) -> None:
        self.ea: list[int] = []
        self.et: list[int] = []
        self.ec: list[int] = []
        self.ed: list[int] = []
        self.ek: list[int] = []
        self.en: list[float] = []
        self.pm: list[int] = []
        self.pc: list[int] = []
        self.pd: list[int] = []
        self.pn: list[float] = []

    def edge(self, a: int, b: int, ch: int, t: int, k: int, n: float = 1.0) -> None:
        if a != b:
            self.ea.append(a)
            self.et.append(b)
            self.ec.append(ch)
            self.ed.append(t)
            self.ek.append(k)
            self.en.append(n)

    def edges(self, a: np.ndarray, b: np.ndarray, ch: int, t: int, k: int) -> None:
        keep = a != b
        a, b = a[keep], b[keep]
        self.ea.extend(a.tolist())
        self.et.extend(b.tolist())
        self.ec.extend([ch] * len(a))
        self.ed.extend([t] * len(a))
        self.ek.extend([k] * len(a))
        self.en.extend([1.0] * len(a))

    def post(self, m: int, ch: int, t: int, n: float = 1.0) -> None:
        self.pm.append(m)
        self.pc.append(ch)
        self.pd.append(t)
        self.pn.append(n)

    def posts(self, m: np.ndarray, ch: int, t: int) -> None:
        self.pm.extend(m.tolist())
        self.pc.extend([ch] * len(m))
        self.pd.extend([t] * len(m))
        self.pn.extend([1.0] * len(m))

    def add(self, other: Rows) -> None:
        for name in ("ea", "et", "ec", "ed", "ek", "en", "pm", "pc", "pd", "pn"):
            getattr(self, name).extend(getattr(other, name))

    def to_edges(self, start: int, offset: int = 0) -> trust.Edges:
        """As Edges: ids shifted by `offset`, channels by CHANNEL_BASE, days by `start` (not summed)."""
        return trust.Edges(
            np.array(self.ea, np.int64) + offset,
            np.array(self.et, np.int64) + offset,
            np.array(self.ec, np.int64) + CHANNEL_BASE,
            np.array(self.ed, np.int64) + start,
            np.array(self.ek, np.int64),
            np.array(self.en, np.float64),
        )

    def to_posts(self, start: int, offset: int = 0) -> trust.Posts:
        return trust.Posts(
            np.array(self.pm, np.int64) + offset,
            np.array(self.pc, np.int64) + CHANNEL_BASE,
            np.array(self.pd, np.int64) + start,
            np.array(self.pn, np.float64),
        )


@dataclass
class Community:
    """One organic server: the rows the ranking sees, what attacks need to draw real members in, and
    the genuine voices. Per-member arrays are by organic index (id = BASE_ID + index); days in
    `joined`, `created`, `left` are absolute (left NaN while present); per-day lists by day index."""

    size: int
    seed: int
    today: int
    start: int
    edges: trust.Edges
    posts: trust.Posts
    facts: trust.MemberFacts
    genuine: frozenset[int]
    role: np.ndarray
    joined: np.ndarray
    created: np.ndarray
    left: np.ndarray
    appeal: np.ndarray
    react_w: np.ndarray
    chat_w: np.ndarray
    fb_skill: np.ndarray
    help_skill: np.ndarray
    fans_of: list[np.ndarray]
    circle: list[np.ndarray]
    bot: int
    online: list[np.ndarray]
    #: Per day index: authors of organic messages (any channel but the bot's) that could be reacted to.
    authors: list[np.ndarray]
    #: Per day index: organic members who asked in #feedback or #help that day.
    askers: list[np.ndarray]
    last_active: np.ndarray
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def days(self) -> int:
        return self.today - self.start + 1

    def gid(self, idx: int) -> int:
        return BASE_ID + int(idx)

    def known_facts(self) -> dict[int, tuple[float, float, float]]:
        """Organic account id -> (joined day, account creation day, left day)."""
        return {
            BASE_ID + i: (float(self.joined[i]), float(self.created[i]), float(self.left[i]))
            for i in range(len(self.role))
        }

    def residents(self, roles: tuple[int, ...], recent: int = 30) -> np.ndarray:
        """Organic indexes of present members of `roles` active in the last `recent` days."""
        ok = (
            np.isin(self.role, roles)
            & np.isnan(self.left)
            & (self.last_active >= self.days - recent)
            & (self.joined <= self.today - MIN_TENURE)
        )
        return np.flatnonzero(ok)

    def online_mask(self, t: int) -> np.ndarray:
        mask = np.zeros(len(self.role), bool)
        mask[self.online[t]] = True
        return mask

    def respond(
        self, rows: Rows, t: int, ch: int, author: int, appeal: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Real members' response to one post by `author` (a member id) on day `t`: reactions and
        drive-by replies from online organic members, plus the author's online fans and courtesy
        circle when the author is an organic creator posting an upload. Written into `rows` (ids);
        returns the organic indexes that reacted and replied."""
        online = self.online[t]
        react, reply = _respond(
            online,
            self.react_w,
            self.chat_w,
            self.online_mask(t),
            self.fans_of,
            self.circle,
            ch,
            author - BASE_ID if author < ATTACK_BASE else -1,
            appeal,
            rng,
        )
        rows.edges(react + BASE_ID, np.full(len(react), author), ch, t, REACTION)
        rows.edges(reply + BASE_ID, np.full(len(reply), author), ch, t, REPLY)
        rows.posts(reply[reply + BASE_ID != author] + BASE_ID, ch, t)
        return react, reply


def _respond(
    online: np.ndarray,
    react_w: np.ndarray,
    chat_w: np.ndarray,
    on_mask: np.ndarray,
    fans_of: list[np.ndarray],
    circle: list[np.ndarray],
    ch: int,
    author: int,
    appeal: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Organic reactors and repliers to one post (organic `author` index, or -1 for an outside account)."""
    if len(online) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    scale = math.sqrt(len(online) / 50)
    n_react = rng.poisson(REACT_RATE[ch] * appeal * scale)
    w = react_w[online]
    react = rng.choice(online, size=n_react, p=w / w.sum()) if n_react and w.sum() > 0 else online[:0]
    n_reply = rng.poisson(REPLY_RATE[ch] * appeal * scale)
    cw = chat_w[online]
    reply = rng.choice(online, size=n_reply, p=cw / cw.sum()) if n_reply and cw.sum() > 0 else online[:0]
    if author >= 0 and ch in (PROMO, CLIPS):
        fans = fans_of[author]
        fans = fans[on_mask[fans]]
        share = 0.45 if ch == PROMO else 0.1
        fans = fans[rng.random(len(fans)) < share]
        extra = [fans]
        if ch == PROMO:
            friends = circle[author]
            friends = friends[on_mask[friends]]
            extra.append(friends[rng.random(len(friends)) < 0.5])
        back = np.concatenate(extra)
        react = np.concatenate([react, back])
        fan_replies = back[rng.random(len(back)) < 0.05]
        reply = np.concatenate([reply, fan_replies])
    react = np.unique(react)
    return react[react != author], reply[reply != author]


class _Builder:
    """The simulation: member setup, then one pass per day over the channels."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seed = seed
        self.rng = np.random.default_rng([seed, size, 7])
        self.H = int(self.rng.integers(90, 181))
        self.start = TODAY - self.H + 1
        self.rows = Rows()
        self.acks: list[tuple[int, int, int]] = []  # (asker, answerer, day index)

    # -- members -------------------------------------------------------------------------------------
    def members(self) -> None:
        rng, N, H = self.rng, self.size, self.H
        n_star = 2 + N // 2000
        n_mod = max(2, round(0.008 * N))
        n_help = max(3, round(0.025 * N))
        n_mid = max(4, round(0.04 * N))
        n_small = round(0.18 * N)
        rest = N - 1 - n_star - n_mod - n_help - n_mid - n_small
        n_casual = round(rest * 0.38)
        n_fan = rest - n_casual
        role = np.array(
            [STAR] * n_star
            + [MOD] * n_mod
            + [HELPER] * n_help
            + [MID] * n_mid
            + [SMALL] * n_small
            + [CASUAL] * n_casual
            + [FAN] * n_fan
        )
        rng.shuffle(role)
        role = np.append(role, BOT)
        self.role = role
        self.bot = N - 1
        ln = lambda s: rng.lognormal(0.0, s, N)  # noqa: E731
        # joins, leaves (day indexes; negative = before the records)
        arrive = rng.random(N) < ARRIVE[role]
        join_t = np.where(arrive, rng.integers(0, H, N), -rng.integers(1, SERVER_AGE, N))
        stars = np.flatnonzero(role == STAR)
        self.wave_star = int(rng.choice(stars))
        self.wave_day = int(rng.integers(H // 4, 3 * H // 4))
        fans = np.flatnonzero(role == FAN)
        wave = rng.choice(fans, size=min(len(fans), round(0.07 * N)), replace=False)
        self.wave = np.zeros(N, bool)
        self.wave[wave] = True
        join_t[wave] = self.wave_day + rng.integers(0, 4, len(wave))
        join_t[self.bot] = -SERVER_AGE
        age = np.maximum(1, rng.lognormal(math.log(600), 0.9, N)).astype(int)
        fresh = (join_t >= 0) & (rng.random(N) < 0.08)
        age[fresh] = rng.integers(0, 10, int(fresh.sum()))
        left_t = np.full(N, np.inf)
        leaves = (rng.random(N) < 0.10) & ~np.isin(role, (MOD, STAR, BOT)) & ~self.wave
        lo = np.maximum(join_t + 5, 0)
        ok = leaves & (lo < H - 1)
        left_t[ok] = lo[ok] + (rng.random(int(ok.sum())) * (H - 1 - lo[ok])).astype(int)
        wl = wave[rng.random(len(wave)) < 0.55]
        left_t[wl] = join_t[wl] + rng.integers(10, 46, len(wl))
        left_t[left_t >= H] = np.inf
        self.join_t, self.left_t = join_t, left_t
        self.joined = (self.start + join_t).astype(float)
        self.created = self.joined - age
        self.created[self.bot] = self.start - 1000
        self.left = np.where(np.isinf(left_t), np.nan, self.start + left_t)
        dormant = rng.random(N) < 0.25
        d0 = rng.integers(0, H, N)
        self.d0 = np.where(dormant, d0, H + 1)
        self.d1 = np.where(dormant, d0 + rng.integers(14, 60, N), H + 1)
        # traits
        self.p_online = np.clip(P_ONLINE[role] * ln(0.6), 0.02, 0.95)
        self.p_online[self.wave] = 0.3
        self.chat_w = CHAT[role] * ln(0.7)
        self.react_w = REACT[role] * ln(0.5)
        self.react_w[self.wave] = 0.3
        boost = np.select([role == STAR, role == MID, role == MOD], [2.5, 1.4, 1.2], 1.0)
        self.appeal = ln(0.5) * boost
        self.fb_skill = FB_SKILL[role] * ln(0.5)
        self.help_skill = HELP_SKILL[role] * ln(0.5)
        self.streamer = np.isin(role, CREATORS) & ((role == STAR) | (rng.random(N) < 0.5))
        self.clique = rng.integers(0, max(3, N // 20), N)
        # fandom: who follows whom
        creators = np.flatnonzero(np.isin(role, CREATORS))
        pop = np.select([role == STAR, role == MID], [40.0, 5.0], 1.0)[creators] * rng.lognormal(
            0, 0.8, len(creators)
        )
        pop /= pop.sum()
        fan_lists: list[list[int]] = [[] for _ in range(N)]
        for i in range(N - 1):
            if self.wave[i]:
                fan_lists[self.wave_star].append(i)
                continue
            k = rng.poisson(0.7) if role[i] in CREATORS else 1 + rng.poisson(1.0)
            if k:
                for c in rng.choice(creators, size=min(k, len(creators)), replace=False, p=pop):
                    if c != i:
                        fan_lists[int(c)].append(i)
        self.fans_of = [np.array(f, np.int64) for f in fan_lists]
        self.fan_pick = [[] for _ in range(N)]  # creators each member follows
        for c, fl in enumerate(fan_lists):
            for f in fl:
                self.fan_pick[f].append(c)
        circ: list[set[int]] = [set() for _ in range(N)]
        for c in creators:
            k = int(rng.integers(0, 4)) if role[c] == STAR else int(rng.integers(3, 13))
            for d in rng.choice(creators, size=min(k, len(creators)), replace=False):
                if d != c:
                    circ[c].add(int(d))
                    circ[int(d)].add(int(c))
        self.circle = [np.array(sorted(s), np.int64) for s in circ]
        self.collab_weekend = int(rng.integers(1, max(2, H // 7 - 1))) * 7 + 5
        self.milestone_star = int(rng.choice(stars))
        self.milestone_day = int(rng.integers(H // 3, H - 7))

    # -- helpers -------------------------------------------------------------------------------------
    def _pick(self, cands: np.ndarray, w: np.ndarray, k: int, exclude: int) -> np.ndarray:
        keep = (cands != exclude) & (w > 0)
        cands, w = cands[keep], w[keep]
        if len(cands) == 0 or k <= 0:
            return cands[:0]
        return self.rng.choice(cands, size=min(k, len(cands)), replace=False, p=w / w.sum())

    def _react(self, t: int, ch: int, author: int, appeal: float) -> None:
        react, reply = _respond(
            self.online,
            self.react_w,
            self.chat_w,
            self.on,
            self.fans_of,
            self.circle,
            ch,
            author,
            appeal,
            self.rng,
        )
        self.rows.edges(react, np.full(len(react), author), ch, t, REACTION)
        self.rows.edges(reply, np.full(len(reply), author), ch, t, REPLY)
        self.rows.posts(reply, ch, t)
        # the creator thanks some repliers
        if ch in (PROMO, CLIPS):
            for r in reply[self.rng.random(len(reply)) < 0.4]:
                self.rows.edge(author, int(r), ch, t, REPLY)
                self.rows.post(author, ch, t)

    def _answer(self, t: int, ch: int, asker: int, skill: np.ndarray, k: int) -> None:
        """Answers to one ask (feedback, help, or a critique thread), thanks back, reactions."""
        rng, rows = self.rng, self.rows
        online = self.online
        responders = self._pick(online, skill[online] * self.p_online[online], k, asker)
        kind = THREAD if ch == FORUM else REPLY
        for r in responders:
            r = int(r)
            n = int(rng.integers(1, 4))
            rows.edge(r, asker, ch, t, kind, n)
            rows.post(r, ch, t, n)
            quality = min(1.0, float(skill[r]))
            if rng.random() < 0.3 + 0.55 * quality:
                rows.edge(asker, r, ch, t, REPLY)
                rows.post(asker, ch, t)
                if rng.random() < 0.6:
                    rows.edge(asker, r, ch, t, REACTION)
                self.acks.append((asker, r, t))
            n_r = rng.poisson(0.3 * quality * math.sqrt(len(online) / 50))
            if n_r:
                w = self.react_w[online]
                for a in rng.choice(online, size=n_r, p=w / w.sum()):
                    rows.edge(int(a), r, ch, t, REACTION)

    # -- a day ---------------------------------------------------------------------------------------
    def day(self, t: int) -> None:
        rng, rows, N = self.rng, self.rows, self.size
        wd = t % 7
        weekend = wd >= 5
        collab = self.collab_weekend <= t <= self.collab_weekend + 1
        present = (self.join_t <= t) & (self.left_t > t)
        awake = ~((self.d0 <= t) & (t < self.d1))
        p = self.p_online * WEEKDAY[wd]
        since = t - self.join_t
        p = np.where(self.wave, p * (0.15 + np.exp(-np.maximum(since, 0) / 20.0)), p)
        if collab:
            p = np.where(np.isin(self.role, CREATORS), p * 1.3, p)
        on = present & awake & (rng.random(N) < np.clip(p, 0, 0.97))
        on[self.bot] = False
        self.on = on
        online = np.flatnonzero(on)
        self.online = online
        self.online_days.append(online)
        role = self.role
        scale = math.sqrt(max(1, len(online)) / 50)
        authors_today: list[np.ndarray] = []
        askers_today: list[int] = []

        # #general
        n_msg = rng.poisson(self.chat_w[online] * (1.2 if weekend else 1.0))
        authors = np.repeat(online, n_msg)
        rng.shuffle(authors)
        rows.posts(authors, GEN, t)
        authors_today.append(authors)
        if len(authors) > 1:
            by_clique: dict[int, list[int]] = {}
            for j, a in enumerate(authors.tolist()):
                is_reply = rng.random() < 0.45
                if is_reply and j > 0:
                    friends = by_clique.get(int(self.clique[a]))
                    if friends and rng.random() < 0.45:
                        b = friends[int(rng.integers(len(friends)))]
                    else:
                        c1 = int(authors[int(rng.integers(j))])
                        c2 = int(authors[int(rng.integers(j))])
                        b = c1 if self.appeal[c1] >= self.appeal[c2] else c2
                    rows.edge(a, b, GEN, t, REPLY)
                by_clique.setdefault(int(self.clique[a]), []).append(a)
            lam = REACT_RATE[GEN] * self.appeal[authors] * scale
            cnt = rng.poisson(lam)
            if cnt.sum():
                w = self.react_w[online]
                reactors = rng.choice(online, size=int(cnt.sum()), p=w / w.sum())
                rows.edges(reactors, np.repeat(authors, cnt), GEN, t, REACTION)

        # #self-promo uploads and stream notifications
        up = online[rng.random(len(online)) < UPLOAD[role[online]]]
        rows.posts(up, PROMO, t)
        authors_today.append(up)
        for c in up:
            self._react(t, PROMO, int(c), float(self.appeal[c]))
        live = online[self.streamer[online] & (rng.random(len(online)) < 0.2)]
        for c in live:
            rows.post(self.bot, NOTIFS, t)
            rows.edge(self.bot, int(c), NOTIFS, t, MENTION)
            fans = self.fans_of[c]
            fans = fans[on[fans] & (rng.random(len(fans)) < 0.3)]
            rows.edges(fans, np.full(len(fans), self.bot), NOTIFS, t, REACTION)

        # #feedback
        ask = online[rng.random(len(online)) < ASK_FB[role[online]] * (2.0 if collab else 1.0)]
        for a in ask:
            a = int(a)
            rows.post(a, FEEDBACK, t)
            askers_today.append(a)
            self._answer(t, FEEDBACK, a, self.fb_skill, 1 + rng.poisson(1.0))
        # critique forum threads
        opens = online[rng.random(len(online)) < FORUM_OPEN[role[online]]]
        for a in opens:
            a = int(a)
            rows.post(a, FORUM, t)
            self._answer(t, FORUM, a, self.fb_skill, 1 + rng.poisson(1.5))
            for b in self._pick(online, self.chat_w[online], rng.poisson(1.0), a):
                rows.edge(int(b), a, FORUM, t, THREAD)
                rows.post(int(b), FORUM, t)
        # #help
        ask = online[rng.random(len(online)) < ASK_HELP[role[online]]]
        for a in ask:
            a = int(a)
            rows.post(a, HELP, t)
            askers_today.append(a)
            self._answer(t, HELP, a, self.help_skill, 1 + rng.poisson(0.5))
        # #collabs
        cre = online[np.isin(role[online], CREATORS)]
        posters = online[rng.random(len(online)) < COLLAB[role[online]] * (5.0 if collab else 1.0)]
        for a in posters:
            a = int(a)
            rows.post(a, COLLABS, t)
            w = np.where(np.isin(cre, self.circle[a]), 3.0, 1.0) * self.p_online[cre]
            for r in self._pick(cre, w, rng.poisson(1.5), a):
                r = int(r)
                rows.edge(r, a, COLLABS, t, REPLY)
                rows.post(r, COLLABS, t)
                if rng.random() < 0.5:
                    rows.edge(a, r, COLLABS, t, MENTION)
                    rows.post(a, COLLABS, t)
                if rng.random() < 0.5:
                    rows.edge(a, r, COLLABS, t, REPLY)
                    rows.post(a, COLLABS, t)
            self._react(t, COLLABS, a, float(self.appeal[a]))
        # #clips and fan art
        clippers = online[rng.random(len(online)) < CLIP[role[online]]]
        for a in clippers:
            a = int(a)
            follows = self.fan_pick[a]
            if not follows:
                continue
            s = int(follows[int(rng.integers(len(follows)))])
            rows.post(a, CLIPS, t)
            rows.edge(a, s, CLIPS, t, MENTION)
            authors_today.append(np.array([a]))
            self._react(t, CLIPS, a, 1.0)
            if on[s]:
                if rng.random() < 0.6:
                    rows.edge(s, a, CLIPS, t, REACTION)
                if rng.random() < 0.25:
                    rows.edge(s, a, CLIPS, t, REPLY)
                    rows.post(s, CLIPS, t)
            fans = self.fans_of[s]
            fans = fans[on[fans] & (rng.random(len(fans)) < 0.15)]
            rows.edges(fans, np.full(len(fans), a), CLIPS, t, REACTION)
        # #announcements
        mods = online[(role[online] == MOD) & (rng.random(len(online)) < 0.12)]
        for m in mods:
            m = int(m)
            rows.post(m, ANN, t)
            w = self.react_w[online]
            n_r = rng.poisson(0.05 * len(online))
            rows.edges(rng.choice(online, size=n_r, p=w / w.sum()), np.full(n_r, m), ANN, t, REACTION)
            if rng.random() < 0.3:
                winner = int(rng.choice(online))
                rows.edge(m, winner, ANN, t, MENTION)
        # Friday stream night / collab weekend voice chat
        if wd == 4 or collab:
            att = online[rng.random(len(online)) < VC_ATTEND[role[online]]]
            msgs = np.repeat(att, rng.poisson(2.5, len(att)))
            rng.shuffle(msgs)
            rows.posts(msgs, VC, t)
            for j in range(1, len(msgs)):
                if rng.random() < 0.5:
                    rows.edge(int(msgs[j]), int(msgs[int(rng.integers(j))]), VC, t, REPLY)
            if len(msgs):
                cnt = rng.poisson(0.2 * scale, len(msgs))
                w = self.react_w[att]
                if cnt.sum() and w.sum() > 0:
                    rows.edges(
                        rng.choice(att, size=int(cnt.sum()), p=w / w.sum()),
                        np.repeat(msgs, cnt),
                        VC,
                        t,
                        REACTION,
                    )
        # a star's milestone
        if t == self.milestone_day:
            s = self.milestone_star
            congr = online[rng.random(len(online)) < 0.12]
            rows.edges(congr, np.full(len(congr), s), GEN, t, REPLY)
            rows.posts(congr[congr != s], GEN, t)
            re = online[rng.random(len(online)) < 0.35]
            rows.edges(re, np.full(len(re), s), GEN, t, REACTION)
            for r in congr[rng.random(len(congr)) < 0.3]:
                rows.edge(s, int(r), GEN, t, REPLY)
                rows.post(s, GEN, t)
        self.authors_days.append(np.concatenate(authors_today) if authors_today else online[:0])
        self.askers_days.append(np.array(askers_today, np.int64))

    # -- the whole history ---------------------------------------------------------------------------
    def build(self) -> Community:
        self.members()
        self.online_days: list[np.ndarray] = []
        self.authors_days: list[np.ndarray] = []
        self.askers_days: list[np.ndarray] = []
        for t in range(self.H):
            self.day(t)
        raw_e = self.rows.to_edges(self.start, BASE_ID)
        raw_p = self.rows.to_posts(self.start, BASE_ID)
        edges = aggregate_edges([raw_e])
        posts = aggregate_posts([raw_p])
        N = self.size
        last = np.full(N, -1)
        np.maximum.at(last, np.array(self.rows.pm, np.int64), np.array(self.rows.pd, np.int64))
        np.maximum.at(last, np.array(self.rows.ea, np.int64), np.array(self.rows.ed, np.int64))
        last_post = np.full(N, -1)
        np.maximum.at(last_post, np.array(self.rows.pm, np.int64), np.array(self.rows.pd, np.int64))
        genuine, counts = self.genuine(last_post)
        comm = Community(
            size=N,
            seed=self.seed,
            today=TODAY,
            start=self.start,
            edges=edges,
            posts=posts,
            facts=trust.MemberFacts(),
            genuine=genuine,
            role=self.role,
            joined=self.joined,
            created=self.created,
            left=self.left,
            appeal=self.appeal,
            react_w=self.react_w,
            chat_w=self.chat_w,
            fb_skill=self.fb_skill,
            help_skill=self.help_skill,
            fans_of=self.fans_of,
            circle=self.circle,
            bot=self.bot,
            online=self.online_days,
            authors=self.authors_days,
            askers=self.askers_days,
            last_active=last,
            counts=counts,
        )
        comm.facts = facts_from(edges, posts, comm.known_facts(), frozenset({BASE_ID + self.bot}))
        return comm

    def genuine(self, last_post: np.ndarray) -> tuple[frozenset[int], dict[str, int]]:
        """The genuine voices by the rule in the module docstring."""
        H, N = self.H, self.size
        r = self.rows
        a = np.array(r.ea, np.int64)
        b = np.array(r.et, np.int64)
        c = np.array(r.ec, np.int64)
        d = np.array(r.ed, np.int64)
        k = np.array(r.ek, np.int64)
        sub = (
            np.isin(k, (REPLY, THREAD, MENTION))
            & ~np.isin(c, (PROMO, NOTIFS))
            & (d >= H - VOICE_WINDOW)
            & (a != self.bot)
        )
        triples = np.unique(np.stack([a[sub], b[sub], d[sub]], axis=1), axis=0)
        pairs, n_days = np.unique(triples[:, :2], axis=0, return_counts=True)
        steady = pairs[n_days >= 2]
        broad_n = np.bincount(steady[:, 1], minlength=N)
        ack = np.array([(x, y) for x, y, t in self.acks if t >= H - VOICE_WINDOW], np.int64).reshape(-1, 2)
        ack = np.unique(ack, axis=0)
        expert_n = np.bincount(ack[:, 1], minlength=N) if len(ack) else np.zeros(N, int)
        resident = (
            np.isinf(self.left_t)
            & (self.join_t <= H - 1 - MIN_TENURE)
            & (last_post >= H - RECENT)
            & (self.role != BOT)
        )
        n_res = int(resident.sum())
        broad = resident & (broad_n >= max(12, round(0.005 * n_res)))
        expert = resident & (expert_n >= max(6, round(0.0025 * n_res)))
        ids = frozenset(int(BASE_ID + i) for i in np.flatnonzero(broad | expert))
        counts = {
            "residents": n_res,
            "broad": int(broad.sum()),
            "experts": int(expert.sum()),
            "both": int((broad & expert).sum()),
        }
        for name, code in (("stars", STAR), ("mids", MID), ("helpers", HELPER), ("mods", MOD)):
            counts["genuine_" + name] = int(((broad | expert) & (self.role == code)).sum())
        return ids, counts


def build_community(size: int, seed: int) -> Community:
    """The organic server of `size` accounts for `seed` (deterministic)."""
    return _Builder(size, seed).build()
