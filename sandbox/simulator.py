"""Reproducible community simulator with ground truth, for the trust-ranking benchmark and Discord sandbox.

Why this exists: ranking "trusted micro-voices" can only be evaluated against a community whose truth is
known. `simulate()` produces a realistic guild (categories, topic text channels, one forum, threads) with
heavy-tailed member activity, preferential attachment, reciprocity and a mix of manipulators whose tricks
fool naive baselines (message count, reactions received, distinct repliers), while labels are kept apart in
`SimCommunity.labels` so a ranking can never read them from the event stream.

Everything is generated as columnar numpy arrays with vectorized code (no Python object per event), so
50,000 members over 60 days (~2M distinct actor->target pairs) builds in well under a minute, and a
200-member week builds in milliseconds. Output is a pure function of the arguments: the same seed gives
identical arrays (`numpy.random.default_rng(seed)` drives every draw, in a fixed order).

Internally every event has a provisional uid (its position in the concatenated chunks); times are
milliseconds relative to `start`. Only at the end are events sorted by time and given Discord snowflake ids,
and references (reply/reaction targets) remapped from uids to message ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta

import numpy as np

KIND_MESSAGE, KIND_REPLY, KIND_REACTION, KIND_UNREACTION, KIND_THREAD, KIND_JOIN = 0, 1, 2, 3, 4, 5
KIND_NAMES = ("message", "reply", "reaction", "unreaction", "thread", "join")

EMOJIS: tuple[str, ...] = (
    "👍", "❤️", "😂", "🔥", "🙏", "🎉", "👀", "💯", "✅", "😮",
    "🤔", "👏", "😢", "🚀", "⭐", "💡", "😍", "🙌", "👌", "🤝",
)  # fmt: skip
_STAR = EMOJIS.index("⭐")

DISCORD_EPOCH_MS = 1420070400000

# Discord channel types used by the simulator.
CHANNEL_TEXT, CHANNEL_CATEGORY, CHANNEL_PUBLIC_THREAD, CHANNEL_FORUM = 0, 4, 11, 15

ROLES: tuple[str, ...] = (
    "expert", "ordinary", "lurker", "spammer", "self_reactor", "reaction_ring",
    "alt_ring", "alt_owner", "reply_farmer", "brand_staff", "bot",
    "dormant_booster", "boosted", "broadcaster", "pod", "sockpuppet", "sock_owner",
)  # fmt: skip
MANIPULATOR_ROLES: frozenset[str] = frozenset(
    {
        "spammer",
        "self_reactor",
        "reaction_ring",
        "alt_ring",
        "alt_owner",
        "reply_farmer",
        "brand_staff",
        "bot",
        "dormant_booster",
        "boosted",
        "broadcaster",
        "pod",
        "sockpuppet",
        "sock_owner",
    }
)
#: The attacks, by the roles that take part in each (brand staff and bots are part of normal
#: community life, not attacks, though no ranking may list them either).
ATTACKS: dict[str, tuple[str, ...]] = {
    "spam": ("spammer",),
    "self-boosting": ("self_reactor",),
    "reaction ring": ("reaction_ring",),
    "alt accounts": ("alt_ring", "alt_owner"),
    "reply farming": ("reply_farmer",),
    "dormant-seed boosting": ("dormant_booster", "boosted"),
    "broadcasting for replies": ("broadcaster",),
    "engagement pod": ("pod",),
    "aged sockpuppets": ("sockpuppet", "sock_owner"),
}
(
    _EXPERT, _ORDINARY, _LURKER, _SPAMMER, _SELF, _RING, _ALT, _OWNER, _FARMER, _BRAND, _BOT,
    _BOOSTER, _BOOSTED, _BCAST, _POD, _SOCK, _SOCK_OWNER,
) = range(len(ROLES))  # fmt: skip
#: Snowflake low bits of the messages sockpuppets write (`_add_sockpuppets`): above any per-millisecond
#: sequence of the generator's own messages, below the member and channel ranges.
_SOCK_MSG_SEQ = 0x100000

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)

_SEC = 1_000
_MIN = 60 * _SEC
_HOUR = 60 * _MIN
_DAY = 24 * _HOUR
_BIG = 1 << 40  # group stride for composite (group, time) sort keys; far larger than any period in ms
_MEMBER_SEQ = 0x200000  # snowflake low bits for member ids: disjoint from per-millisecond message sequences
_CHANNEL_SEQ = 0x300000
_GUILD_SEQ = 0x3FFFFF

_TOPIC_NAMES = (
    "general", "help", "showcase", "python", "gardening", "photography", "cooking", "gaming", "music",
    "fitness", "books", "film", "travel", "diy", "finance", "science", "art", "writing", "tech-news",
    "homelab", "3d-printing", "cycling", "coffee", "languages", "pets", "astronomy", "history", "design",
    "careers", "running", "chess", "woodworking", "keyboards", "linux", "retro", "baking", "climbing",
)  # fmt: skip
_CATEGORY_NAMES = ("community", "hobbies", "tech", "lifestyle", "creative", "learning", "outdoors", "misc")
_NAME_A = (
    "quiet", "brave", "lucky", "sunny", "rusty", "mellow", "swift", "cosmic", "tiny", "fuzzy", "silver",
    "crimson", "amber", "jolly", "sleepy", "clever", "wild", "gentle", "noisy", "pixel", "neon", "velvet",
)  # fmt: skip
_NAME_B = (
    "fox", "otter", "panda", "falcon", "moth", "tiger", "koala", "heron", "lynx", "badger", "raven", "gecko",
    "walrus", "bison", "finch", "mole", "yak", "cobra", "llama", "squid", "orca", "ferret", "newt", "crane",
)  # fmt: skip


def snowflake(ts_ms: int | np.ndarray, seq: int | np.ndarray = 0) -> int | np.ndarray:
    """Discord-style snowflake: the id encodes its creation time, so ids sort like timestamps.

    The low 22 bits carry `seq` (worker/process/increment in real Discord), which keeps ids unique when
    several objects share a millisecond.
    """
    if isinstance(ts_ms, np.ndarray) or isinstance(seq, np.ndarray):
        ts = np.asarray(ts_ms, dtype=np.int64)
        sq = np.asarray(seq, dtype=np.int64)
        return ((ts - DISCORD_EPOCH_MS) << 22) | (sq & 0x3FFFFF)
    return ((int(ts_ms) - DISCORD_EPOCH_MS) << 22) | (int(seq) & 0x3FFFFF)


def snowflake_time_ms(sf: int | np.ndarray) -> int | np.ndarray:
    """Unix milliseconds encoded in a snowflake (inverse of `snowflake` for the time part)."""
    if isinstance(sf, np.ndarray):
        return (sf.astype(np.int64) >> 22) + DISCORD_EPOCH_MS
    return (int(sf) >> 22) + DISCORD_EPOCH_MS


def _ms_to_dt(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(ms))


def _dt_to_ms(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return round(dt.timestamp() * 1000)


# --------------------------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class SimMember:
    """A guild member as a Discord sandbox would create it (no role information: labels live elsewhere)."""

    id: int
    name: str
    account_created_at: datetime
    joined_at: datetime
    is_bot: bool
    topics: tuple[int, ...]  # channel ids of the member's favourite topic channels


@dataclass(frozen=True)
class SimChannel:
    """A category (4), text (0), forum (15) or public thread (11) channel; threads point to their parent."""

    id: int
    name: str
    type: int
    parent_id: int | None


@dataclass(frozen=True)
class SimAction:
    """One event in a form convenient for replaying into a Discord sandbox, in time order."""

    at: datetime
    kind: str
    actor_id: int
    channel_id: int  # 0 for joins (a join has no channel)
    message_id: int  # new message/thread id, or the reacted message id (0 for joins)
    target_message_id: int | None
    target_member_id: int | None
    emoji: str | None


@dataclass(eq=False)
class SimEvents:
    """Columnar event stream sorted by `ts_ms`; columnar so 10M events stay cheap to build and scan.

    `channel` is the channel the event happens in: the thread id for messages inside threads, the parent
    channel for a THREAD (creation) event, 0 for joins. For reactions `message_id == target_message_id`.
    """

    ts_ms: np.ndarray  # int64 unix ms
    kind: np.ndarray  # int8, KIND_*
    actor: np.ndarray  # int64 member id
    channel: np.ndarray  # int64 channel id (0 = none)
    message_id: np.ndarray  # int64 snowflake (0 = none)
    target_message_id: np.ndarray  # int64 (0 = none)
    target_member: np.ndarray  # int64 author of the target message (0 = none)
    emoji: np.ndarray  # int16 index into EMOJIS (-1 = none)

    def __len__(self) -> int:
        return int(self.ts_ms.shape[0])

    def select(self, mask: np.ndarray) -> SimEvents:
        """Subset by boolean mask or index array (e.g. one kind, one channel), keeping the columnar form."""
        return SimEvents(
            ts_ms=self.ts_ms[mask],
            kind=self.kind[mask],
            actor=self.actor[mask],
            channel=self.channel[mask],
            message_id=self.message_id[mask],
            target_message_id=self.target_message_id[mask],
            target_member=self.target_member[mask],
            emoji=self.emoji[mask],
        )


_EVENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(SimEvents))


@dataclass(eq=False)
class SimCommunity:
    """A simulated guild: members, channels (incl. threads), the event stream and ground-truth labels."""

    seed: int
    guild_id: int
    start: datetime
    end: datetime
    members: list[SimMember]
    channels: list[SimChannel]
    events: SimEvents
    labels: dict[str, frozenset[int]]
    manipulation: float = 0.5
    _member_by_id: dict[int, SimMember] = field(default_factory=dict, init=False, repr=False)
    _channel_by_id: dict[int, SimChannel] = field(default_factory=dict, init=False, repr=False)
    _label_by_id: dict[int, str] = field(default_factory=dict, init=False, repr=False)

    def member(self, id: int) -> SimMember:
        """Member by id (dict built lazily: large communities rarely need it)."""
        if not self._member_by_id:
            self._member_by_id.update((m.id, m) for m in self.members)
        return self._member_by_id[int(id)]

    def channel(self, id: int) -> SimChannel:
        """Channel (category, text, forum or thread) by id."""
        if not self._channel_by_id:
            self._channel_by_id.update((c.id, c) for c in self.channels)
        return self._channel_by_id[int(id)]

    def label_of(self, member_id: int) -> str:
        """Ground-truth role of a member (each member has exactly one)."""
        if not self._label_by_id:
            for role, ids in self.labels.items():
                self._label_by_id.update(dict.fromkeys(ids, role))
        return self._label_by_id[int(member_id)]

    def bot_ids(self) -> np.ndarray:
        """Sorted ids of bot accounts (what a ledger would learn from `member.bot`)."""
        return np.array(sorted(m.id for m in self.members if m.is_bot), dtype=np.int64)

    def _human_mask(self) -> np.ndarray:
        return ~np.isin(self.events.actor, self.bot_ids())

    def expected_counts(self) -> dict[str, int]:
        """Events per kind name by non-bot actors: exactly what a ledger that drops bot events records."""
        counts = np.bincount(self.events.kind[self._human_mask()], minlength=len(KIND_NAMES))
        return {name: int(counts[k]) for k, name in enumerate(KIND_NAMES)}

    def expected_counts_by_channel(self) -> dict[int, int]:
        """Non-bot events per channel id (threads are their own channels; joins have no channel)."""
        ch = self.events.channel[self._human_mask()]
        ch = ch[ch != 0]
        ids, counts = np.unique(ch, return_counts=True)
        return {int(i): int(c) for i, c in zip(ids, counts, strict=True)}

    def interaction_pairs(self, *, include_bots: bool = False) -> np.ndarray:
        """Distinct (actor, target_member) pairs from replies and reactions, self-pairs excluded.

        This is the edge set a trust graph is built from; returned as an (n, 2) int64 array sorted by actor.
        """
        ev = self.events
        mask = ((ev.kind == KIND_REPLY) | (ev.kind == KIND_REACTION)) & (ev.actor != ev.target_member)
        if not include_bots:
            bots = self.bot_ids()
            mask &= ~np.isin(ev.actor, bots) & ~np.isin(ev.target_member, bots)
        src, dst = ev.actor[mask], ev.target_member[mask]
        ids = np.sort(np.array([m.id for m in self.members], dtype=np.int64))  # dense index -> one int64 key
        key = np.sort(np.searchsorted(ids, src) * len(ids) + np.searchsorted(ids, dst))
        key = key[np.concatenate(([True], key[1:] != key[:-1]))] if len(key) else key
        return (
            np.stack([ids[key // len(ids)], ids[key % len(ids)]], axis=1)
            if len(ids)
            else np.zeros((0, 2), np.int64)
        )

    def iter_actions(self) -> Iterator[SimAction]:
        """Yield events as `SimAction`s in time order, e.g. to drive a Discord sandbox step by step."""
        ev = self.events
        for i in range(len(ev)):
            tmid = int(ev.target_message_id[i])
            tmem = int(ev.target_member[i])
            emo = int(ev.emoji[i])
            yield SimAction(
                at=_ms_to_dt(int(ev.ts_ms[i])),
                kind=KIND_NAMES[int(ev.kind[i])],
                actor_id=int(ev.actor[i]),
                channel_id=int(ev.channel[i]),
                message_id=int(ev.message_id[i]),
                target_message_id=tmid or None,
                target_member_id=tmem or None,
                emoji=EMOJIS[emo] if emo >= 0 else None,
            )


@dataclass(frozen=True)
class SimConfig:
    """Tunable rates (per member per day unless noted). Defaults give ~2M distinct pairs at 50k/60 days."""

    activity_alpha: float = 1.4  # Pareto tail exponent of member activity (lower = heavier tail)
    activity_cap: float = 100.0  # cap on the Pareto activity multiplier (keeps one member from dominating)
    post_rate: float = 0.1  # top-level posts/day at activity 1
    reply_rate: float = 0.2  # organic replies/day at activity 1
    react_rate: float = 0.2  # organic reactions/day at activity 1
    lurker_fraction: float = 0.3  # of the non-special members
    join_rate_per_day: float = 0.004  # fraction of regular members joining per simulated day (capped 25%)
    expert_attraction: float = 15.0  # multiplier on experts' reply/reaction attractiveness
    topic_focus: float = 0.85  # probability an ordinary action happens in one of the member's topics
    topic_zipf: float = 0.6  # channel popularity ~ 1/rank**topic_zipf
    reply_window_h: float = 36.0  # organic replies target posts from the last N hours
    react_window_h: float = 48.0
    thread_prob: float = 0.03  # a text-channel post starts a thread
    forum_thread_prob: float = 0.3  # a forum post starts a new thread (else it goes into a recent one)
    in_thread_prob: float = 0.15  # a text-channel post goes into the channel's latest thread
    unreact_prob: float = 0.03
    multi_emoji_prob: float = 0.12  # an organic reactor adds a second emoji
    chatty_fraction: float = 0.02  # ordinary members who chat all day (high message counts, ordinary pull)


# ------------------------------------------------------------------------------------------ generation


@dataclass
class _Chunk:
    """Columns of a batch of events before sorting; `target` holds provisional uids (-1 = none)."""

    t: np.ndarray  # int64 ms relative to start
    kind: np.ndarray  # int8
    actor: np.ndarray  # int32 member index
    chan: np.ndarray  # int32 channel index (-1 = none)
    topic: np.ndarray  # int32 topic index (-1 = none)
    target: np.ndarray  # int64 uid (-1 = none)
    emoji: np.ndarray  # int16 (-1 = none)

    def __len__(self) -> int:
        return int(self.t.shape[0])


_CHUNK_FIELDS = ("t", "kind", "actor", "chan", "topic", "target", "emoji")


def _chunk(
    t: np.ndarray,
    kind: int | np.ndarray,
    actor: np.ndarray,
    chan: np.ndarray | int = -1,
    topic: np.ndarray | int = -1,
    target: np.ndarray | int = -1,
    emoji: np.ndarray | int = -1,
) -> _Chunk:
    n = len(t)

    def col(v: np.ndarray | int, dtype: type) -> np.ndarray:
        return np.full(n, v, dtype=dtype) if np.isscalar(v) else np.asarray(v, dtype=dtype)

    return _Chunk(
        t=np.asarray(t, dtype=np.int64),
        kind=col(kind, np.int8),
        actor=np.asarray(actor, dtype=np.int32),
        chan=col(chan, np.int32),
        topic=col(topic, np.int32),
        target=col(target, np.int64),
        emoji=col(emoji, np.int16),
    )


class _WindowSampler:
    """Weighted sampling of an item from (group, time-window) slices, fully vectorized.

    Items are sorted by the composite key group*_BIG + t; a query (g, t, window) maps to the contiguous
    slice of items in group g with time in [t - window, t) and draws one with probability proportional to
    its weight, by inverting the cumulative weight over that slice. This is what lets replies and reactions
    favour attractive authors (preferential attachment) while only targeting strictly earlier messages.
    """

    def __init__(self, group: np.ndarray, t: np.ndarray) -> None:
        key = group.astype(np.int64) * _BIG + t
        self.order = _stable_argsort(_compact(group, t))
        self.key = key[self.order]

    def cumweights(self, weight: np.ndarray) -> np.ndarray:
        return np.concatenate(([0.0], np.cumsum(weight[self.order], dtype=np.float64)))

    def sample(
        self, group: np.ndarray, t: np.ndarray, window: int, cw: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Index (into the original item arrays) of a sampled item per query, or -1 if the slice is empty.

        Queries are processed in key order: numpy's binary search is several times faster on sorted needles
        (cache locality), which matters with millions of queries.
        """
        n = len(t)
        r = rng.random(n)
        qkey = group.astype(np.int64) * _BIG + t
        qo = _stable_argsort(_compact(group, t))
        qkey = qkey[qo]
        hi = np.searchsorted(self.key, qkey, side="left")
        lo = np.searchsorted(self.key, qkey - window, side="left")
        wlo, whi = cw[lo], cw[hi]
        ok = whi > wlo
        u = wlo + r[qo] * (whi - wlo)
        j = np.searchsorted(cw, u, side="right") - 1
        j = np.minimum(np.maximum(j, lo), np.maximum(hi - 1, 0))
        picked = np.full(n, -1, dtype=np.int64)
        if len(self.order):
            picked[ok] = self.order[j[ok]]
        out = np.empty(n, dtype=np.int64)
        out[qo] = picked
        return out


def _stable_argsort(key: np.ndarray) -> np.ndarray:
    """`np.argsort(key, kind="stable")` for integer keys, several times faster on millions of them:
    each key is packed with its position into one int64 (all distinct, so their order is the stable
    order) and those are sorted by numpy's vectorized sort. Falls back when the packing does not fit."""
    n = len(key)
    if n < 2 or key.dtype.kind not in "iu":
        return np.argsort(key, kind="stable")
    lo, hi = int(key.min()), int(key.max())
    bits = (n - 1).bit_length()
    if hi - lo >= 1 << (63 - bits):
        return np.argsort(key, kind="stable")
    packed = ((key.astype(np.int64) - lo) << bits) | np.arange(n, dtype=np.int64)
    packed.sort()
    return packed & ((1 << bits) - 1)


def _first_index_of_run(sorted_values: np.ndarray) -> np.ndarray:
    """For a sorted array: the index where each element's run of equal values starts
    (`np.searchsorted(a, a, side="left")` in linear time)."""
    n = len(sorted_values)
    starts = np.ones(n, dtype=np.bool_)
    starts[1:] = sorted_values[1:] != sorted_values[:-1]
    return np.maximum.accumulate(np.where(starts, np.arange(n), 0))


def _compact(group: np.ndarray, t: np.ndarray) -> np.ndarray:
    """A key ordered like `group * _BIG + t` but with a stride of the times' own span, so that it
    packs with a position into an int64 (`_stable_argsort`)."""
    if not len(t):
        return t.astype(np.int64)
    lo = int(t.min())
    return group.astype(np.int64) * (int(t.max()) - lo + 1) + (t - lo)


def _rint(x: float) -> int:
    """Round half up (Python's round() is banker's rounding, which makes 0.5 scale to 0)."""
    return int(np.floor(x + 0.5))


def _lookup(table: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """table[idx] where idx >= 0, else -1 (safe when the table is empty)."""
    out = np.full(len(idx), -1, dtype=np.int64)
    ok = idx >= 0
    out[ok] = table[idx[ok]]
    return out


def _expand(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows with `sizes[i]` slots each: (row index per slot, slot position within its row)."""
    rows = np.repeat(np.arange(len(sizes)), sizes)
    starts = np.cumsum(sizes) - sizes
    pos = np.arange(len(rows)) - np.repeat(starts, sizes)
    return rows, pos


class _Generator:
    """Builds one community. Stages run in a fixed order so draws (and hence output) are reproducible."""

    def __init__(
        self,
        seed: int,
        n: int,
        days: float,
        start: datetime,
        manipulation: float,
        topics: int | None,
        cfg: SimConfig,
    ) -> None:
        if n < 20:
            raise ValueError("simulate() needs at least 20 members")
        if n >= 1 << 20:
            raise ValueError("simulate() supports fewer than 1,048,576 members")
        if days <= 0:
            raise ValueError("days must be positive")
        if not 0.0 <= manipulation <= 1.0:
            raise ValueError("manipulation must be within [0, 1]")
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.n = n
        self.m = float(manipulation)
        self.cfg = cfg
        self.start_ms = _dt_to_ms(start)
        self.period = round(days * _DAY)
        self.days = self.period / _DAY
        self.n_topics = topics if topics is not None else int(np.clip(round(np.log2(n)), 6, 32))
        if self.n_topics < 2:
            raise ValueError("topics must be at least 2")
        self.chunks: list[_Chunk] = []
        self.n_events = 0
        # Diurnal activity curve (local time): quiet at night, peaks at lunch and in the evening.
        grid = np.linspace(0.0, 1.0, 1441)
        hours = grid[:-1] * 24 + 1 / 120
        dens = 0.15 + np.exp(-(((hours - 20.5) / 3.0) ** 2)) + 0.55 * np.exp(-(((hours - 13) / 2.5) ** 2))
        self.diurnal_cdf = np.concatenate(([0.0], np.cumsum(dens) / dens.sum()))
        self.diurnal_grid = grid

    # ------------------------------------------------------------------------------------ utilities

    def add(self, chunk: _Chunk) -> np.ndarray:
        """Append events; return their uids."""
        uids = np.arange(self.n_events, self.n_events + len(chunk), dtype=np.int64)
        self.chunks.append(chunk)
        self.n_events += len(chunk)
        return uids

    def all_events(self) -> _Chunk:
        return _Chunk(*(np.concatenate([getattr(c, f) for c in self.chunks]) for f in _CHUNK_FIELDS))

    def sample_times(self, actor: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Uniform times in [lo, period), reshaped by the diurnal curve in each member's local time.

        Returns (t, valid); warping can move a time before `lo` on the first day, those are invalid.
        """
        n = len(actor)
        shift = self.tz_ms[actor] + self.start_ms  # absolute local time, so any `start` works
        t = lo + self.rng.random(n) * (self.period - lo)
        local = t + shift
        day = np.floor(local / _DAY)
        frac = local / _DAY - day
        warped = np.interp(frac, self.diurnal_cdf, self.diurnal_grid)
        out = np.floor((day + warped) * _DAY - shift).astype(np.int64)
        return out, (out >= lo) & (out < self.period)

    def delay(self, n: int, mean_ms: float, min_ms: int = 2 * _SEC) -> np.ndarray:
        return (min_ms + self.rng.exponential(mean_ms, n)).astype(np.int64)

    def emojis(self, n: int) -> np.ndarray:
        w = 1.0 / np.arange(1, len(EMOJIS) + 1) ** 1.1
        return self.rng.choice(len(EMOJIS), size=n, p=w / w.sum()).astype(np.int16)

    def pick_topics(self, actor: np.ndarray) -> np.ndarray:
        """Mostly one of the actor's own topics (topic focus), otherwise by channel popularity."""
        n = len(actor)
        rng = self.rng
        own = rng.random(n) < self.focus[actor]
        k = np.floor(rng.random(n) * self.n_my_topics[actor]).astype(np.int64)
        mine = self.my_topics[actor, k]
        other = rng.choice(self.n_topics, size=n, p=self.topic_pop)
        return np.where(own, mine, other).astype(np.int32)

    # ---------------------------------------------------------------------------------------- stages

    def build(self) -> SimCommunity:
        self.make_roles()
        self.make_members()
        self.make_channels()
        self.make_posts()
        self.make_organic_replies()
        self.make_farmer_replies()
        self.make_reply_backs()
        self.make_ring_and_alt_replies()
        self.make_reactions()
        self.make_joins()
        return self.finish()

    def make_roles(self) -> None:
        """Decide role counts (scaled by manipulation) and assign them to randomly permuted member slots."""
        n, m, rng = self.n, self.m, self.rng
        n_bots = int(np.clip(_rint(1.5 + n * 0.0005), 1, 50))
        n_brand = int(np.clip(_rint(1.5 + n * 0.0008), 1, 60))
        n_experts = max(20, _rint(0.015 * n)) if n >= 500 else max(2, _rint(0.03 * n))
        some = 1 if m > 0 else 0  # any manipulation at all means at least one of each group
        n_spam = _rint(m * max(min(4.0, n / 50), 0.002 * n))
        n_self = _rint(m * max(min(2.0, n / 100), 0.0015 * n))
        n_pairs = _rint(m * max(min(2.0, n / 100), 0.0006 * n))
        n_rings = max(some, _rint(m * 0.0008 * n))
        n_alt_rings = max(some, _rint(m * 0.0005 * n))
        n_boosts = max(some, _rint(m * 0.0005 * n))
        n_bcast = max(some, _rint(m * max(min(2.0, n / 100), 0.0006 * n)))
        n_pods = max(some, _rint(m * 0.0002 * n))
        ring_sizes = rng.integers(5, 6 + _rint(20 * m), size=n_rings)
        alt_sizes = 5 + np.rint(35 * m * rng.uniform(0.55, 1.0, size=n_alt_rings)).astype(np.int64)
        alt_sizes = np.minimum(alt_sizes, 40)
        # Dormant boosters: long-standing, silent accounts, 6-40 per beneficiary in a small community
        # and more in a large one (as many as it takes to compete with its most sought-out members).
        # Pods grow with the community too.
        grow = max(1.0, np.sqrt(n / 1000))
        boost_sizes = np.rint(grow**1.6 * (6 + 34 * m * rng.uniform(0.4, 1.0, size=n_boosts)))
        boost_sizes = boost_sizes.astype(np.int64)
        pod_sizes = np.minimum(np.rint(grow * rng.integers(5, 6 + _rint(25 * m), size=n_pods)), 40)
        pod_sizes = pod_sizes.astype(np.int64)
        fixed = n_bots + n_brand + n_experts + n_spam + n_self + 2 * n_pairs + n_bcast
        # Small communities: shrink the groups first (largest first, never below 5; boosters and pods
        # before rings and alt rings), then drop whole groups, so at least 60% of members stay
        # regular. Alt rings and boosters have a leader each.
        groups = [boost_sizes, pod_sizes, ring_sizes, alt_sizes]
        leaders = (1, 0, 0, 1)

        def special_groups() -> int:
            return sum(int(g.sum()) + lead * len(g) for g, lead in zip(groups, leaders, strict=True))

        budget = int(0.4 * n) - fixed
        while special_groups() > max(budget, 0):
            big = [int(g.max()) if len(g) else 0 for g in groups]
            shrinkable = [k for k in range(len(groups)) if big[k] > 5]
            if shrinkable:
                first = [k for k in shrinkable if k < 2] or shrinkable
                k = max(first, key=lambda i: big[i])
                groups[k][np.argmax(groups[k])] -= 1
            elif any(len(g) for g in groups):
                k = int(np.argmax([len(g) for g in groups]))
                groups[k] = groups[k][:-1]
            else:
                break
        boost_sizes, pod_sizes, ring_sizes, alt_sizes = groups
        special = fixed + special_groups()
        if special > n - 5:
            raise ValueError(f"too few members ({n}) for the requested manipulation")
        rest = n - special
        n_lurk = _rint(self.cfg.lurker_fraction * rest)
        order = [
            (_BOT, n_bots), (_BRAND, n_brand), (_EXPERT, n_experts), (_SPAMMER, n_spam), (_SELF, n_self),
            (_FARMER, 2 * n_pairs), (_RING, int(ring_sizes.sum())), (_ALT, int(alt_sizes.sum())),
            (_OWNER, len(alt_sizes)), (_BOOSTER, int(boost_sizes.sum())), (_BOOSTED, len(boost_sizes)),
            (_BCAST, n_bcast), (_POD, int(pod_sizes.sum())), (_LURKER, n_lurk), (_ORDINARY, rest - n_lurk),
        ]  # fmt: skip
        slots = rng.permutation(n)
        role = np.empty(n, dtype=np.int8)
        pos = 0
        self.by_role: dict[int, np.ndarray] = {}
        for r, c in order:
            idx = slots[pos : pos + c]
            role[idx] = r
            self.by_role[r] = idx  # random (slot) order: used to group rings/pairs
            pos += c
        self.role = role
        # Groups: reaction rings, alt rings (with owners), booster groups (with beneficiaries), pods.
        self.ring_members = self.by_role[_RING]
        self.ring_sizes = ring_sizes.astype(np.int64)
        self.ring_starts = np.cumsum(self.ring_sizes) - self.ring_sizes
        self.ring_of = np.full(n, -1, dtype=np.int64)
        self.ring_of[self.ring_members] = np.repeat(np.arange(len(ring_sizes)), ring_sizes)
        self.pod_members = self.by_role[_POD]
        self.pod_sizes = pod_sizes.astype(np.int64)
        self.pod_starts = np.cumsum(self.pod_sizes) - self.pod_sizes
        self.pod_of = np.full(n, -1, dtype=np.int64)
        self.pod_of[self.pod_members] = np.repeat(np.arange(len(pod_sizes)), pod_sizes)
        self.boosters = self.by_role[_BOOSTER]
        self.boost_sizes = boost_sizes.astype(np.int64)
        self.boost_group_of = np.full(n, -1, dtype=np.int64)
        self.boost_group_of[self.boosters] = np.repeat(np.arange(len(boost_sizes)), boost_sizes)
        self.boosted = self.by_role[_BOOSTED]  # beneficiary of booster group k
        self.alt_members = self.by_role[_ALT]
        self.alt_sizes = alt_sizes.astype(np.int64)
        self.alt_starts = np.cumsum(self.alt_sizes) - self.alt_sizes
        self.alt_ring_of = np.full(n, -1, dtype=np.int64)
        self.alt_ring_of[self.alt_members] = np.repeat(np.arange(len(alt_sizes)), alt_sizes)
        self.alt_owner = self.by_role[_OWNER]  # owner of alt ring k

    def make_members(self) -> None:
        """Join/creation times, time zones, topic preferences, activity rates and attractiveness."""
        n, rng, cfg, m, role = self.n, self.rng, self.cfg, self.m, self.role
        period = self.period
        # --- join and account-creation times (ms relative to start) ---
        guild_age = 3 * 365 * _DAY
        joined = -_DAY - ((guild_age - _DAY) * rng.random(n) ** 1.6).astype(np.int64)
        regular = np.isin(role, (_ORDINARY, _LURKER))
        p_join = min(0.25, cfg.join_rate_per_day * self.days)
        newcomer = regular & (rng.random(n) < p_join)
        joined[newcomer] = (rng.random(int(newcomer.sum())) * 0.95 * period).astype(np.int64)
        est = np.isin(role, (_EXPERT, _OWNER, _BOT, _BRAND))  # established: joined months ago
        joined[est] = np.minimum(
            joined[est], -120 * _DAY - (rng.random(int(est.sum())) * 400 * _DAY).astype(np.int64)
        )
        # Reaction rings mix established members with recent joiners (some during the period).
        ring = self.ring_members
        mix = rng.random(len(ring))
        joined[ring] = np.where(
            mix < 0.5,
            np.minimum(joined[ring], -60 * _DAY),
            np.where(
                mix < 0.8,
                -(rng.random(len(ring)) * 30 * _DAY).astype(np.int64) - _HOUR,
                (rng.random(len(ring)) * 0.5 * period).astype(np.int64),
            ),
        )
        # Pods are long-standing members; beneficiaries of boosting have been around a while.
        pods = self.pod_members
        joined[pods] = np.minimum(
            joined[pods], -60 * _DAY - (rng.random(len(pods)) * 300 * _DAY).astype(np.int64)
        )
        boosted = self.boosted
        joined[boosted] = np.minimum(joined[boosted], -30 * _DAY)
        # Dormant boosters: joined long ago on old accounts (bought or farmed for exactly this), silent
        # since, and waking up together late in the period, within a day or two of each other.
        boosters = self.boosters
        joined[boosters] = -60 * _DAY - (rng.random(len(boosters)) * 840 * _DAY).astype(np.int64)
        created = joined - (rng.random(n) * 4 * 365 * _DAY).astype(np.int64) - _DAY
        fresh = rng.random(n) < 0.1  # some real members join with brand-new accounts
        fresh[boosters] = False
        created[fresh] = joined[fresh] - (rng.random(int(fresh.sum())) * 7 * _DAY).astype(np.int64) - _HOUR
        group_wake = period * rng.uniform(0.55, 0.8, size=len(self.boost_sizes))
        spread = rng.random(len(boosters)) * min(2 * _DAY, 0.1 * period)
        wake = group_wake[self.boost_group_of[boosters]] + spread
        # Alts: created and joined within the last few days of the period, in a burst.
        alt_window = int(min(3 * _DAY, 0.3 * period))
        self.alt_window_start = period - alt_window
        alts = self.alt_members
        created[alts] = self.alt_window_start + (rng.random(len(alts)) * 0.45 * alt_window).astype(np.int64)
        join_delay = _MIN + rng.random(len(alts)) * min(3 * _HOUR, 0.4 * alt_window)
        joined[alts] = created[alts] + join_delay.astype(np.int64)
        min_created = DISCORD_EPOCH_MS + 30 * _DAY - self.start_ms
        created = np.maximum(created, min_created)
        joined = np.maximum(joined, created + _MIN)
        self.joined = joined
        self.created = created
        self.active_lo = np.maximum(joined, 0) + _SEC  # nothing happens before a member has joined
        self.active_lo[boosters] = wake.astype(np.int64)  # dormant until they wake up
        self.tz_ms = (rng.normal(0.0, 4.0, n).clip(-10, 12) * _HOUR).astype(np.int64)

        # --- activity (Pareto, heavy-tailed) ---
        a = np.minimum((1.0 - rng.random(n)) ** (-1.0 / cfg.activity_alpha), cfg.activity_cap)
        post = cfg.post_rate * a
        reply = cfg.reply_rate * a**0.6 * rng.lognormal(0.0, 0.5, n)  # replying is spread wider than posting
        react = cfg.react_rate * a**0.8 * rng.lognormal(0.0, 0.6, n)
        # Attractiveness: how much others want to reply to / react to this member (preferential attachment).
        # Popular ordinary members exist, but their pull stays below the experts' (capped tails).
        rattr = np.minimum(rng.lognormal(0.0, 0.8, n), 4.0)
        xattr = np.minimum(rattr * rng.lognormal(0.0, 0.5, n), 5.0)
        resp = rng.beta(2.0, 8.0, n)  # probability of replying back when replied to

        def setv(arr: np.ndarray, r: int, v: np.ndarray | float) -> None:
            idx = self.by_role[r]
            arr[idx] = v if np.isscalar(v) else np.asarray(v)[: len(idx)]

        def u(r: int, lo: float, hi: float) -> np.ndarray:
            return rng.uniform(lo, hi, len(self.by_role[r]))

        max_post = float(post[role == _ORDINARY].max()) if (role == _ORDINARY).any() else 1.0
        # "Regulars": a few ordinary members chat all day (small talk, not expertise), which is what a
        # message-count ranking rewards even in a community without manipulators.
        ords = self.by_role[_ORDINARY]
        n_chatty = (
            min(len(ords), max(1, _rint(cfg.chatty_fraction * len(ords)))) if cfg.chatty_fraction > 0 else 0
        )
        chatty = rng.choice(ords, size=n_chatty, replace=False)
        post[chatty] = rng.uniform(4.0, 12.0, len(chatty))
        reply[chatty] = rng.uniform(2.0, 6.0, len(chatty))
        # lurkers: react occasionally, rarely post
        setv(post, _LURKER, post[self.by_role[_LURKER]] * 0.05)
        setv(reply, _LURKER, reply[self.by_role[_LURKER]] * 0.08)
        setv(react, _LURKER, cfg.react_rate * 0.6 * rng.lognormal(0.0, 0.7, len(self.by_role[_LURKER])))
        setv(resp, _LURKER, 0.05)
        # experts: moderate posting, very attractive, helpful repliers
        setv(post, _EXPERT, u(_EXPERT, 1.5, 3.5))
        setv(reply, _EXPERT, u(_EXPERT, 1.5, 4.0))
        setv(react, _EXPERT, u(_EXPERT, 0.5, 2.0))
        setv(rattr, _EXPERT, cfg.expert_attraction * u(_EXPERT, 1.0, 1.6))
        setv(xattr, _EXPERT, 0.4 * cfg.expert_attraction * u(_EXPERT, 0.6, 1.4))
        setv(resp, _EXPERT, u(_EXPERT, 0.25, 0.5))
        # spammers: by far the most messages, nobody wants to engage
        spam_hi = max(60.0, 4.0 * max_post)
        setv(post, _SPAMMER, u(_SPAMMER, 0.6, 1.0) * spam_hi * (0.5 + m))
        setv(reply, _SPAMMER, 0.2)
        setv(react, _SPAMMER, 0.1)
        setv(rattr, _SPAMMER, u(_SPAMMER, 0.01, 0.04))
        setv(xattr, _SPAMMER, u(_SPAMMER, 0.01, 0.05))
        setv(resp, _SPAMMER, 0.0)
        # self-reactors: post a lot, react to themselves a lot
        setv(post, _SELF, u(_SELF, 6.0, 16.0) * (0.5 + m))
        setv(reply, _SELF, u(_SELF, 0.2, 1.0))
        setv(rattr, _SELF, u(_SELF, 0.03, 0.15))
        setv(xattr, _SELF, u(_SELF, 0.05, 0.3))
        # reaction rings: steady posters with little organic pull, little organic engagement
        setv(post, _RING, u(_RING, 1.5, 4.0))
        setv(reply, _RING, u(_RING, 0.1, 0.4))
        setv(react, _RING, u(_RING, 0.1, 0.5))
        setv(rattr, _RING, u(_RING, 0.05, 0.3))
        setv(xattr, _RING, u(_RING, 0.05, 0.3))
        setv(resp, _RING, 0.1)
        # alts: post a little (inside the alt window only), otherwise engage only within their ring
        setv(post, _ALT, u(_ALT, 1.0, 4.0))
        setv(reply, _ALT, 0.0)
        setv(react, _ALT, 0.0)
        setv(rattr, _ALT, 0.02)
        setv(xattr, _ALT, 0.02)
        setv(resp, _ALT, 0.0)
        # alt owners: look ordinary, but not popular (that's why they farm)
        own = self.by_role[_OWNER]
        post[own] = np.maximum(post[own], rng.uniform(1.0, 2.5, len(own)))
        reply[own] = np.minimum(reply[own], cfg.reply_rate)
        rattr[own] = np.minimum(rattr[own], 0.3)
        xattr[own] = np.minimum(xattr[own], 0.5)
        # dormant boosters: once awake, a little ordinary-looking activity besides the boosting
        setv(post, _BOOSTER, u(_BOOSTER, 0.1, 0.5))
        setv(reply, _BOOSTER, u(_BOOSTER, 0.05, 0.3))
        setv(react, _BOOSTER, u(_BOOSTER, 0.1, 0.6))
        setv(rattr, _BOOSTER, u(_BOOSTER, 0.05, 0.3))
        setv(xattr, _BOOSTER, u(_BOOSTER, 0.05, 0.3))
        setv(resp, _BOOSTER, 0.1)
        # their beneficiary: an unremarkable member who posts steadily
        bst = self.by_role[_BOOSTED]
        post[bst] = np.maximum(post[bst], rng.uniform(1.0, 2.5, len(bst)))
        rattr[bst] = np.minimum(rattr[bst], 0.5)
        xattr[bst] = np.minimum(xattr[bst], 0.5)
        # broadcasters: reply to everyone, hoping to be answered (and they are, out of politeness)
        setv(post, _BCAST, u(_BCAST, 0.5, 2.0))
        setv(reply, _BCAST, u(_BCAST, 6.0, 15.0) * (0.5 + m))
        setv(react, _BCAST, u(_BCAST, 0.2, 1.0))
        setv(rattr, _BCAST, u(_BCAST, 0.1, 0.4))
        setv(xattr, _BCAST, u(_BCAST, 0.1, 0.4))
        setv(resp, _BCAST, 0.3)
        # pods: ordinary members who post steadily and engage with every post of every pod-mate
        setv(post, _POD, u(_POD, 1.0, 3.0))
        setv(reply, _POD, u(_POD, 0.1, 0.5))
        setv(react, _POD, u(_POD, 0.1, 0.6))
        setv(rattr, _POD, np.minimum(rattr[self.by_role[_POD]], 0.6))
        setv(xattr, _POD, np.minimum(xattr[self.by_role[_POD]], 0.6))
        setv(resp, _POD, 0.2)
        # reply farmers: huge reply volume, low value
        setv(post, _FARMER, u(_FARMER, 0.5, 2.0))
        setv(reply, _FARMER, u(_FARMER, 15.0, 30.0) * (0.5 + m))
        setv(react, _FARMER, u(_FARMER, 0.2, 1.0))
        setv(rattr, _FARMER, u(_FARMER, 0.05, 0.15))
        setv(xattr, _FARMER, u(_FARMER, 0.05, 0.15))
        setv(resp, _FARMER, 0.05)
        # brand staff: announcements and support replies; moderately engaging
        setv(post, _BRAND, u(_BRAND, 0.5, 2.0))
        setv(reply, _BRAND, u(_BRAND, 0.2, 0.8))
        setv(react, _BRAND, u(_BRAND, 0.1, 0.5))
        setv(rattr, _BRAND, u(_BRAND, 0.2, 0.6))
        setv(xattr, _BRAND, u(_BRAND, 1.0, 3.0))
        setv(resp, _BRAND, 0.3)
        # bots: lots of automated posts that get reacted to, rarely replied to
        setv(post, _BOT, u(_BOT, 8.0, 30.0))
        setv(reply, _BOT, 0.0)
        setv(react, _BOT, 0.0)
        setv(rattr, _BOT, 0.05)
        setv(xattr, _BOT, u(_BOT, 0.5, 1.5))
        setv(resp, _BOT, 0.0)
        self.post_rate, self.reply_rate, self.react_rate = post, reply, react
        self.reply_attr, self.react_attr, self.resp = rattr, xattr, resp
        # Diminishing returns on volume: past a few posts a day, people skim (per-post pull ~ 1/sqrt(rate)).
        self.volume_discount = np.minimum(1.0, np.sqrt(4.0 / np.maximum(post, 1e-9)))
        # "People who reply to everyone": the most prolific genuine repliers answer even low-value replies.
        genuine = np.isin(role, (_ORDINARY, _EXPERT))
        cut = np.quantile(reply[genuine], 0.97)
        self.hyper = genuine & (reply >= cut)
        # Spammers' friends: a few ordinary members who occasionally react to their posts.
        ords = self.by_role[_ORDINARY]
        spam = self.by_role[_SPAMMER]
        nf = rng.integers(1, 4, size=len(spam))
        self.spam_friend_src = np.repeat(spam, nf)
        self.spam_friend = rng.choice(ords, size=int(nf.sum())) if len(ords) else np.zeros(0, np.int64)

    def make_channels(self) -> None:
        """Categories, topic text channels (the second one a forum), and member topic preferences."""
        rng, n, T = self.rng, self.n, self.n_topics
        n_cat = max(1, -(-T // 5))
        self.n_cat = n_cat
        self.topic_chan = n_cat + np.arange(T)  # channel index of topic k
        self.forum_topic = 1  # the forum is a popular Q&A place, where expertise shows
        names = [
            _TOPIC_NAMES[k % len(_TOPIC_NAMES)] + ("" if k < len(_TOPIC_NAMES) else f"-{k}") for k in range(T)
        ]
        names[1] = "questions"
        self.topic_names = names
        self.cat_names = [
            _CATEGORY_NAMES[k % len(_CATEGORY_NAMES)] + ("" if k < len(_CATEGORY_NAMES) else f"-{k}")
            for k in range(n_cat)
        ]
        self.topic_cat = np.arange(T) % n_cat
        pop = 1.0 / np.arange(1, T + 1) ** self.cfg.topic_zipf
        self.topic_pop = pop / pop.sum()
        # Member topics: 1-3 distinct topics by popularity (Gumbel top-k); experts 1-2 non-general topics.
        keys = np.log(self.topic_pop)[None, :] + rng.gumbel(size=(n, T))
        top3 = np.argsort(-keys, axis=1)[:, :3].astype(np.int32)
        ntop = np.minimum(rng.choice([1, 2, 3], size=n, p=[0.35, 0.4, 0.25]), T)
        ex = self.by_role[_EXPERT]
        # Experts specialise (never "general") and are spread over topics: each topic has its go-to people.
        ex_keys = 0.5 * np.log(self.topic_pop)[None, :] + rng.gumbel(size=(len(ex), T))
        ex_keys[:, 0] = -np.inf
        primary = rng.permutation(np.resize(rng.permutation(np.arange(1, T)), len(ex)))
        ex_keys[np.arange(len(ex)), primary] = np.inf
        top3[ex] = np.argsort(-ex_keys, axis=1)[:, :3]
        ntop[ex] = np.minimum(rng.integers(1, 3, size=len(ex)), T - 1)
        # Alts live in their owner's topics.
        for k, owner in enumerate(self.alt_owner):
            mem = self.alt_members[self.alt_starts[k] : self.alt_starts[k] + self.alt_sizes[k]]
            top3[mem] = top3[owner]
            ntop[mem] = ntop[owner]
        # Boosters show up where their beneficiary is.
        top3[self.boosters] = top3[self.boosted[self.boost_group_of[self.boosters]]]
        ntop[self.boosters] = ntop[self.boosted[self.boost_group_of[self.boosters]]]
        # Bots post in general plus one other text channel (never the forum: bots don't open threads).
        bots = self.by_role[_BOT]
        top3[bots, 0] = 0
        if T >= 3:
            other = np.array([k for k in range(1, T) if k != self.forum_topic])
            top3[bots, 1] = rng.choice(other, size=len(bots))
        ntop[bots] = min(2, T - 1)
        self.my_topics = top3
        self.n_my_topics = ntop
        focus = np.full(n, self.cfg.topic_focus)
        focus[ex] = 0.95
        focus[self.by_role[_SPAMMER]] = 0.3
        focus[self.by_role[_FARMER]] = 0.2
        focus[self.by_role[_BCAST]] = 0.4
        focus[bots] = 1.0
        focus[self.alt_members] = 1.0
        self.focus = focus

    def make_posts(self) -> None:
        """Top-level messages and thread starters; forum posts and some text posts land inside threads."""
        rng, cfg, period = self.rng, self.cfg, self.period
        lo = self.active_lo
        span = np.maximum(period - lo, 0) / _DAY
        counts = rng.poisson(self.post_rate * span)
        actor = np.repeat(np.arange(self.n, dtype=np.int32), counts)
        los = lo[actor]
        # Alt owners keep posting while their alts are active, so the alts have something to boost.
        own = self.alt_owner
        extra = rng.poisson(2.0 + 3.0 * self.m, size=len(own)) + 1
        own_rep = np.repeat(own, extra).astype(np.int32)
        actor = np.concatenate([actor, own_rep])
        los = np.concatenate([los, np.maximum(lo[own_rep], self.alt_window_start - _DAY)])
        t, ok = self.sample_times(actor, los)
        actor, t = actor[ok], t[ok] + rng.integers(0, _SEC, size=int(ok.sum()))
        ok = t < period
        actor, t = actor[ok], t[ok]
        n = len(t)
        topic = self.pick_topics(actor)
        forum = topic == self.forum_topic
        p_thread = np.where(self.role[actor] == _EXPERT, 2 * cfg.thread_prob, cfg.thread_prob)
        starts = np.where(forum, rng.random(n) < cfg.forum_thread_prob, rng.random(n) < p_thread)
        starts &= self.role[actor] != _BOT
        thread_of = np.full(n, -1, dtype=np.int64)  # post index of the thread a message lives in
        st = np.flatnonzero(starts)
        sampler = _WindowSampler(topic[st], t[st])
        # Forum messages go into one of the forum's threads from the last week (else open a new one).
        fm = np.flatnonzero(forum & ~starts)
        base = topic[fm].astype(np.int64) * _BIG
        hi = np.searchsorted(sampler.key, base + t[fm], side="left")
        lo_ = np.searchsorted(sampler.key, base + t[fm] - 7 * _DAY, side="left")
        have = hi > lo_
        pick = lo_ + np.floor(rng.random(len(fm)) * (hi - lo_)).astype(np.int64)
        thread_of[fm[have]] = st[sampler.order[pick[have]]]
        starts[fm[~have]] = True
        # Some text-channel messages continue the channel's latest thread (if it is under 3 days old).
        tm = np.flatnonzero(~forum & ~starts & (rng.random(n) < cfg.in_thread_prob))
        base = topic[tm].astype(np.int64) * _BIG
        j = np.searchsorted(sampler.key, base + t[tm], side="left") - 1
        okj = j >= 0
        okj[okj] = sampler.key[j[okj]] >= base[okj] + t[tm][okj] - 3 * _DAY
        thread_of[tm[okj]] = st[sampler.order[j[okj]]]
        # Allocate thread channels in creation order.
        st = np.flatnonzero(starts)
        st = st[_stable_argsort(t[st])]
        thread_chan = np.full(n, -1, dtype=np.int32)
        n_base = self.n_cat + self.n_topics
        thread_chan[st] = n_base + np.arange(len(st))
        kind = np.where(starts, KIND_THREAD, KIND_MESSAGE).astype(np.int8)
        chan = self.topic_chan[topic].astype(np.int32)
        inside = thread_of >= 0
        chan[inside] = thread_chan[thread_of[inside]]
        uids = self.add(_chunk(t, kind, actor, chan, topic))
        self.thread_post_uid = uids[st]  # thread k's starter event uid
        self.thread_topic = topic[st]
        # Replies to a thread starter happen inside the thread.
        rchan = chan.copy()
        rchan[st] = thread_chan[st]
        self.posts = {"uid": uids, "t": t, "actor": actor, "topic": topic, "rchan": rchan, "kind": kind}
        self.post_sampler = _WindowSampler(topic, t)

    def _reply_chunk(self, actor: np.ndarray, t: np.ndarray, tgt_uid: np.ndarray) -> _Chunk:
        """Replies land in the target's reply channel (thread or text channel) and topic."""
        return _chunk(t, KIND_REPLY, actor, self.uid_rchan[tgt_uid], self.uid_topic[tgt_uid], tgt_uid)

    def _index_messages(self) -> None:
        """Per-uid lookups (author, time, reply channel, topic) over all message-like events so far."""
        ev = self.all_events()
        self.uid_actor, self.uid_t, self.uid_topic = ev.actor, ev.t, ev.topic
        rchan = ev.chan.copy()
        p = self.posts
        rchan[p["uid"]] = p["rchan"]
        self.uid_rchan = rchan
        self.uid_target = ev.target

    def _organic_targets(
        self, actor: np.ndarray, t: np.ndarray, weight: np.ndarray, window: int, w0: float
    ) -> np.ndarray:
        """Target post index per (actor, time) in a chosen topic; -1 where none, self, or not worth it.

        The sampled post is accepted with probability w / (w + w0): in a quiet channel people still ignore
        spam rather than reply to whatever happens to be there.
        """
        topic = self.pick_topics(actor)
        cw = self.post_sampler.cumweights(weight)
        idx = self.post_sampler.sample(topic, t, window, cw, self.rng)
        ok = idx >= 0
        ok[ok] = self.posts["actor"][idx[ok]] != actor[ok]
        w = np.zeros(len(idx))
        w[ok] = weight[idx[ok]]
        ok &= self.rng.random(len(idx)) * (w + w0) < w
        return np.where(ok, idx, -1)

    def make_organic_replies(self) -> None:
        """Members reply within their topics to recent posts, weighted by author attractiveness."""
        rng = self.rng
        self._index_messages()
        role = self.role
        rate = self.reply_rate.copy()
        rate[np.isin(role, (_FARMER, _BCAST, _ALT, _BOT))] = 0.0
        counts = rng.poisson(rate * np.maximum(self.period - self.active_lo, 0) / _DAY)
        actor = np.repeat(np.arange(self.n, dtype=np.int32), counts)
        t, ok = self.sample_times(actor, self.active_lo[actor])
        actor, t = actor[ok], t[ok]
        p = self.posts
        a = p["actor"]
        w = self.reply_attr[a] * self.volume_discount[a] * np.where(p["kind"] == KIND_THREAD, 1.5, 1.0)
        idx = self._organic_targets(actor, t, w, int(self.cfg.reply_window_h * _HOUR), 0.3)
        ok = idx >= 0
        tgt = p["uid"][idx[ok]]
        self.organic_reply_uids = self.add(self._reply_chunk(actor[ok], t[ok], tgt))
        self._index_messages()

    def make_farmer_replies(self) -> None:
        """Reply farmers and broadcasters spray replies at everyone; farmers also run long reply chains
        with their partner."""
        rng = self.rng
        farmers = self.by_role[_FARMER]
        self.farmer_reply_uids = np.zeros(0, dtype=np.int64)
        sprayers = np.concatenate([farmers, self.by_role[_BCAST]])
        if not len(sprayers):
            return
        span = np.maximum(self.period - self.active_lo[sprayers], 0) / _DAY
        counts = rng.poisson(self.reply_rate[sprayers] * span)
        actor = np.repeat(sprayers, counts).astype(np.int32)
        t, ok = self.sample_times(actor, self.active_lo[actor])
        actor, t = actor[ok], t[ok]
        p = self.posts
        idx = self._organic_targets(actor, t, np.ones(len(p["t"])), 12 * _HOUR, 0.0)  # anyone will do
        ok = idx >= 0
        self.farmer_reply_uids = self.add(self._reply_chunk(actor[ok], t[ok], p["uid"][idx[ok]]))
        if not len(farmers):
            self._index_messages()
            return
        # Chains: A posts, then A and B alternate replying to the previous message.
        a = farmers[0::2]
        b = farmers[1::2]
        lo = np.maximum(self.active_lo[a], self.active_lo[b])
        nch = rng.poisson((1.0 + 3.0 * self.m) * np.maximum(self.period - lo, 0) / _DAY)
        pair = np.repeat(np.arange(len(a)), nch)
        t0, ok = self.sample_times(a[pair], lo[pair])
        pair, t0 = pair[ok], t0[ok]
        length = rng.integers(4, 17, size=len(pair))
        row, pos = _expand(length)
        gaps = self.delay(len(row), 3 * _MIN, 5 * _SEC)
        gaps[pos == 0] = 0
        cum = np.cumsum(gaps)
        starts = np.cumsum(length) - length
        tt = t0[row] + cum - cum[starts][row]
        swap = rng.random(len(pair)) < 0.5
        first = np.where(swap, b[pair], a[pair])
        second = np.where(swap, a[pair], b[pair])
        who = np.where(pos % 2 == 0, first[row], second[row]).astype(np.int32)
        chain_topic = self.pick_topics(first.astype(np.int32))
        chain_topic[chain_topic == self.forum_topic] = 0  # forum posts must be threads: use general
        keep = tt < self.period  # times increase along a chain, so this keeps a prefix of each chain
        tt, who, pos, row = tt[keep], who[keep], pos[keep], row[keep]
        topic = chain_topic[row]
        chan = self.topic_chan[topic].astype(np.int32)
        kind = np.where(pos == 0, KIND_MESSAGE, KIND_REPLY).astype(np.int8)
        base = self.n_events
        target = np.where(pos == 0, -1, base + np.arange(len(tt)) - 1)
        self.add(_chunk(tt, kind, who, chan, topic, target))
        self._index_messages()

    def make_reply_backs(self) -> None:
        """Reciprocity: people answer replies to their posts (two rounds, so short conversations form).

        Low-value farmer replies are only answered by the hyper-active "reply to everyone" members.
        """
        rng = self.rng
        cand = np.concatenate([self.organic_reply_uids, self.farmer_reply_uids])
        for round_ in range(2):
            replier = self.uid_actor[cand]
            author = self.uid_actor[self.uid_target[cand]]
            # Good replies get answered more ("thanks, that worked!"): reply quality tracks attractiveness.
            q = self.reply_attr[replier]
            p = np.minimum(0.9, self.resp[author] * 2.0 * q / (q + 1.0)) * (0.6 if round_ else 1.0)
            farm = self.role[replier] == _FARMER
            p = np.where(farm, np.where(self.hyper[author], 0.4, 0.0), p)
            # A broadcaster's reply asks something: people answer out of politeness.
            asked = (self.role[replier] == _BCAST) & (self.resp[author] > 0)
            p = np.where(asked, np.minimum(0.9, 0.25 + self.resp[author]) * (0.6 if round_ else 1.0), p)
            hit = (rng.random(len(cand)) < p) & (author != replier)
            src = cand[hit]
            t = self.uid_t[src] + self.delay(len(src), 40 * _MIN, 10 * _SEC)
            ok = t < self.period
            src, t = src[ok], t[ok]
            who = self.uid_actor[self.uid_target[src]]
            cand = self.add(self._reply_chunk(who, t, src))
            self._index_messages()

    def make_ring_and_alt_replies(self) -> None:
        """Reaction rings reply to each other; alts reply to their owner and to each other."""
        rng, m = self.rng, self.m
        parts: list[_Chunk] = []
        p = self.posts
        # Ring replies to ring-mates' posts.
        self.ring_post_idx = np.flatnonzero(self.ring_of[p["actor"]] >= 0)
        rows, who = self._ring_fanout(self.ring_post_idx)
        hit = rng.random(len(rows)) < 0.15 + 0.25 * m
        rows, who = rows[hit], who[hit]
        post = self.ring_post_idx[rows]
        t = p["t"][post] + self.delay(len(post), 25 * _MIN, 20 * _SEC)
        ok = (t < self.period) & (t >= self.active_lo[who])
        parts.append(self._reply_chunk(who[ok], t[ok], p["uid"][post[ok]]))
        # Alts reply to their owner's posts and to each other's posts.
        alts = self.alt_members
        if len(alts):
            n_owner = rng.poisson(3.0 + 10.0 * m, size=len(alts))
            n_peer = rng.poisson(1.0 + 3.0 * m, size=len(alts))
            act, tgt = self._alt_targets(alts, n_owner, n_peer)
            parts.append(self._reply_chunk(act, self.alt_t, tgt))
        # Pods reply to many of their pod-mates' posts, within minutes.
        self.pod_post_idx = np.flatnonzero(self.pod_of[p["actor"]] >= 0)
        rows, who = self._pod_fanout(self.pod_post_idx)
        hit = rng.random(len(rows)) < 0.25 + 0.35 * m
        rows, who = rows[hit], who[hit]
        post = self.pod_post_idx[rows]
        t = p["t"][post] + self.delay(len(post), 15 * _MIN, 20 * _SEC)
        ok = (t < self.period) & (t >= self.active_lo[who])
        parts.append(self._reply_chunk(who[ok], t[ok], p["uid"][post[ok]]))
        # Woken boosters reply to their beneficiary's posts.
        if len(self.boosters):
            act, tgt, t = self._boost_targets(rng.poisson(2.0 + 6.0 * m, size=len(self.boosters)))
            parts.append(self._reply_chunk(act, t, tgt))
        for c in parts:
            self.add(c)
        self._index_messages()

    def _pod_fanout(self, post_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row into post_idx, pod-mate) for every other member of the post author's pod."""
        pod = self.pod_of[self.posts["actor"][post_idx]]
        rows, pos = _expand(self.pod_sizes[pod])
        who = self.pod_members[self.pod_starts[pod][rows] + pos]
        keep = who != self.posts["actor"][post_idx][rows]
        return rows[keep], who[keep].astype(np.int32)

    def _boost_targets(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`counts[i]` engagements by booster i with its beneficiary's posts, after it woke up:
        (actor, target uid, time)."""
        p = self.posts
        rows, _ = _expand(counts)
        act = self.boosters[rows].astype(np.int32)
        t, ok = self.sample_times(act, self.active_lo[act])
        act, t = act[ok], t[ok]
        group = self.boost_group_of[act]
        mine = np.flatnonzero(np.isin(p["actor"], self.boosted))
        sampler = _WindowSampler(self.boost_group_of_post(mine), p["t"][mine])
        cw = sampler.cumweights(np.ones(len(mine)))
        pick = sampler.sample(group, t, self.period + 30 * _DAY, cw, self.rng)
        ok = pick >= 0
        return act[ok], p["uid"][mine[pick[ok]]], t[ok]

    def boost_group_of_post(self, post_idx: np.ndarray) -> np.ndarray:
        """Booster group whose beneficiary wrote each post (posts by beneficiaries only)."""
        group = np.full(self.n, -1, dtype=np.int64)
        group[self.boosted] = np.arange(len(self.boosted))
        return group[self.posts["actor"][post_idx]]

    def _ring_fanout(self, post_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row into post_idx, ring-mate) for every other member of the post author's ring."""
        ring = self.ring_of[self.posts["actor"][post_idx]]
        rows, pos = _expand(self.ring_sizes[ring])
        who = self.ring_members[self.ring_starts[ring][rows] + pos]
        keep = who != self.posts["actor"][post_idx][rows]
        return rows[keep], who[keep].astype(np.int32)

    def _alt_targets(
        self, alts: np.ndarray, n_owner: np.ndarray, n_peer: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Actor and target uid for alt actions: earlier posts by the owner, or by ring-mates. Sets alt_t."""
        rng = self.rng
        p = self.posts
        ring = self.alt_ring_of[alts]
        owner = self.alt_owner[ring]
        rows, pos = _expand(n_owner + n_peer)
        act = alts[rows].astype(np.int32)
        to_owner = pos < n_owner[rows]
        t, ok = self.sample_times(act, self.active_lo[act])
        t = np.where(ok, t, self.active_lo[act] + (rng.random(len(t)) * (self.period - self.active_lo[act])))
        t = t.astype(np.int64)
        window = self.period + 30 * _DAY
        # Owner posts: group = owner member index.
        is_own = np.flatnonzero(np.isin(p["actor"], self.alt_owner))
        own_s = _WindowSampler(p["actor"][is_own], p["t"][is_own])
        own_cw = own_s.cumweights(np.ones(len(is_own)))
        # Alt posts: group = alt ring id.
        is_alt = np.flatnonzero(self.alt_ring_of[p["actor"]] >= 0)
        alt_s = _WindowSampler(self.alt_ring_of[p["actor"][is_alt]], p["t"][is_alt])
        alt_cw = alt_s.cumweights(np.ones(len(is_alt)))
        g_owner = owner[rows]
        g_ring = ring[rows]
        i_own = own_s.sample(g_owner, t, window, own_cw, rng)
        i_alt = alt_s.sample(g_ring, t, window, alt_cw, rng)
        tgt = np.where(to_owner, _lookup(is_own, i_own), _lookup(is_alt, i_alt))
        ok = tgt >= 0
        ok[ok] = p["actor"][tgt[ok]] != act[ok]
        self.alt_t = t[ok]
        return act[ok], p["uid"][tgt[ok]]

    def make_reactions(self) -> None:
        """Organic reactions (attractiveness x reply count: rich get richer) plus every manipulation."""
        rng, cfg, m = self.rng, self.cfg, self.m
        role = self.role
        ev = self.all_events()
        n_msg = len(ev)
        parts: list[
            tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
        ] = []  # (t, actor, target uid, emoji)
        # --- organic ---
        rate = self.react_rate.copy()
        rate[np.isin(role, (_ALT, _BOT))] = 0.0
        counts = rng.poisson(rate * np.maximum(self.period - self.active_lo, 0) / _DAY)
        actor = np.repeat(np.arange(self.n, dtype=np.int32), counts)
        t, ok = self.sample_times(actor, self.active_lo[actor])
        actor, t = actor[ok], t[ok]
        n_replies = np.bincount(ev.target[ev.target >= 0], minlength=n_msg)
        w = self.react_attr[ev.actor] * self.volume_discount[ev.actor]
        w *= (1.0 + n_replies) ** 0.7 * np.where(ev.kind == KIND_REPLY, 0.4, 1.0)  # rich get richer
        sampler = _WindowSampler(ev.topic, ev.t)
        topic = self.pick_topics(actor)
        tgt = sampler.sample(topic, t, int(cfg.react_window_h * _HOUR), sampler.cumweights(w), rng)
        ok = tgt >= 0
        ok[ok] = ev.actor[tgt[ok]] != actor[ok]
        wt = np.zeros(len(tgt))
        wt[ok] = w[tgt[ok]]
        ok &= rng.random(len(tgt)) * (wt + 0.15) < wt  # nobody reacts to spam just because it is there
        actor, t, tgt = actor[ok], t[ok], tgt[ok]
        parts.append((t, actor, tgt, self.emojis(len(t))))
        extra = rng.random(len(t)) < cfg.multi_emoji_prob
        parts.append(
            (
                t[extra] + self.delay(int(extra.sum()), 3 * _SEC),
                actor[extra],
                tgt[extra],
                self.emojis(int(extra.sum())),
            )
        )
        # --- self-reactors: several emojis on most of their own messages ---
        own = np.flatnonzero(role[ev.actor] == _SELF)
        k = rng.binomial(6, 0.25 + 0.45 * m, size=len(own))
        rows = np.repeat(own, k)
        parts.append(
            (
                ev.t[rows] + self.delay(len(rows), 30 * _SEC, _SEC),
                ev.actor[rows],
                rows,
                self.emojis(len(rows)),
            )
        )
        # --- reaction rings: react to almost everything ring-mates post, often with several emojis ---
        rp = self.ring_post_idx
        r_rows, who = self._ring_fanout(rp)
        hit = rng.random(len(r_rows)) < 0.3 + 0.5 * m
        r_rows, who = r_rows[hit], who[hit]
        k = 1 + rng.binomial(2, 0.15 + 0.4 * m, size=len(r_rows))
        rr = np.repeat(r_rows, k)
        tgt = self.posts["uid"][rp[rr]]
        parts.append(
            (ev.t[tgt] + self.delay(len(rr), 20 * _MIN), np.repeat(who, k), tgt, self.emojis(len(rr)))
        )
        # --- pods: react to nearly every post of every pod-mate, within minutes ---
        pp = self.pod_post_idx
        r_rows, who = self._pod_fanout(pp)
        hit = rng.random(len(r_rows)) < 0.6 + 0.35 * m
        r_rows, who = r_rows[hit], who[hit]
        k = 1 + rng.binomial(1, 0.3, size=len(r_rows))
        rr = np.repeat(r_rows, k)
        tgt = self.posts["uid"][pp[rr]]
        when = ev.t[tgt] + self.delay(len(rr), 10 * _MIN)
        parts.append((when, np.repeat(who, k), tgt, self.emojis(len(rr))))
        # --- woken boosters: react to their beneficiary's posts, often with several emojis ---
        if len(self.boosters):
            act, tgt, t = self._boost_targets(rng.poisson(6.0 + 18.0 * m, size=len(self.boosters)))
            parts.append((t, act, tgt, self.emojis(len(act))))
        # --- alts: react to the owner's posts and to each other ---
        alts = self.alt_members
        if len(alts):
            n_owner = rng.poisson(6.0 + 18.0 * m, size=len(alts))
            n_peer = rng.poisson(2.0 + 5.0 * m, size=len(alts))
            act, tgt = self._alt_targets(alts, n_owner, n_peer)
            parts.append((self.alt_t, act, tgt, self.emojis(len(act))))
        # --- spammers' friends: occasional pity reactions ---
        sp = np.flatnonzero(role[ev.actor] == _SPAMMER)
        if len(sp) and len(self.spam_friend):
            order = _stable_argsort(self.spam_friend_src)
            src, fr = self.spam_friend_src[order], self.spam_friend[order]
            lo = np.searchsorted(src, ev.actor[sp], side="left")
            hi = np.searchsorted(src, ev.actor[sp], side="right")
            rows, pos = _expand(hi - lo)
            who = fr[lo[rows] + pos]
            hit = rng.random(len(rows)) < 0.08
            rows, who = sp[rows[hit]], who[hit]
            parts.append((ev.t[rows] + self.delay(len(rows), 30 * _MIN), who, rows, self.emojis(len(rows))))
        # --- a starboard-style bot stars a few popular messages ---
        bots = self.by_role[_BOT]
        if len(bots):
            human = role[ev.actor] != _BOT
            pstar = np.minimum(0.2, 0.01 * n_replies) * human
            rows = np.flatnonzero(rng.random(n_msg) < pstar)
            parts.append(
                (
                    ev.t[rows] + self.delay(len(rows), 2 * _HOUR),
                    np.full(len(rows), bots[0]),
                    rows,
                    np.full(len(rows), _STAR, dtype=np.int16),
                )
            )
        t = np.concatenate([p[0] for p in parts]).astype(np.int64)
        actor = np.concatenate([p[1] for p in parts]).astype(np.int64)
        tgt = np.concatenate([p[2] for p in parts]).astype(np.int64)
        emo = np.concatenate([p[3] for p in parts]).astype(np.int64)
        ok = (t < self.period) & (t >= self.active_lo[actor])
        t, actor, tgt, emo = t[ok], actor[ok], tgt[ok], emo[ok]
        # Discord allows one reaction per (member, message, emoji): keep the earliest.
        by_t = _stable_argsort(t)
        key = ((tgt << 26) | (actor << 6) | emo)[by_t]
        order = np.argsort(key)
        key = key[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        # The earliest of each key: the smallest position in time order among its equal keys.
        earliest = np.minimum.reduceat(order, np.flatnonzero(first)) if len(key) else order
        sel = by_t[np.sort(earliest)]
        t, actor, tgt, emo = t[sel], actor[sel], tgt[sel], emo[sel]
        chan = self.uid_rchan[tgt]
        topic = self.uid_topic[tgt]
        self.add(_chunk(t, KIND_REACTION, actor, chan, topic, tgt, emo))
        # Some reactions are taken back a little later.
        rm = np.flatnonzero(rng.random(len(t)) < cfg.unreact_prob)
        tr = t[rm] + self.delay(len(rm), 20 * _MIN, 3 * _SEC)
        ok = tr < self.period
        rm, tr = rm[ok], tr[ok]
        self.add(_chunk(tr, KIND_UNREACTION, actor[rm], chan[rm], topic[rm], tgt[rm], emo[rm]))

    def make_joins(self) -> None:
        """A JOIN event for every member who joined during the period (the rest joined before start)."""
        j = np.flatnonzero(self.joined >= 0)
        self.add(_chunk(self.joined[j], KIND_JOIN, j.astype(np.int32)))

    # ------------------------------------------------------------------------------------------ output

    def finish(self) -> SimCommunity:
        """Sort by time, mint snowflake ids, resolve targets, and materialize members/channels/labels."""
        ev = self.all_events()
        n = len(ev)
        order = _stable_argsort(ev.t)
        inv = np.empty(n, dtype=np.int64)
        inv[order] = np.arange(n)
        ts = self.start_ms + ev.t[order]
        kind = ev.kind[order]
        seq = np.arange(n) - _first_index_of_run(ts)
        msg_like = (kind == KIND_MESSAGE) | (kind == KIND_REPLY) | (kind == KIND_THREAD)
        ids = np.where(msg_like, snowflake(ts, seq), 0).astype(np.int64)
        tgt = ev.target[order]
        has = tgt >= 0
        tpos = inv[tgt[has]]
        target_msg = np.zeros(n, dtype=np.int64)
        target_msg[has] = ids[tpos]
        actor_idx = ev.actor[order]
        member_ids = snowflake(self.start_ms + self.created, _MEMBER_SEQ + np.arange(self.n))
        target_member = np.zeros(n, dtype=np.int64)
        target_member[has] = member_ids[actor_idx[tpos]]
        react = (kind == KIND_REACTION) | (kind == KIND_UNREACTION)
        message_id = np.where(react, target_msg, ids)
        # Channel ids: categories and topics are minted at guild creation; threads reuse the starter's id.
        guild_ms = self.start_ms - 3 * 365 * _DAY - 10 * _DAY
        n_base = self.n_cat + self.n_topics
        base_ids = snowflake(guild_ms + np.arange(n_base) * _HOUR, _CHANNEL_SEQ + np.arange(n_base))
        thread_ids = ids[inv[self.thread_post_uid]]
        chan_ids = np.concatenate([base_ids, thread_ids, [0]])  # index -1 -> 0 (joins)
        channel = chan_ids[ev.chan[order]]
        events = SimEvents(
            ts_ms=ts.astype(np.int64),
            kind=kind.astype(np.int8),
            actor=member_ids[actor_idx].astype(np.int64),
            channel=channel.astype(np.int64),
            message_id=message_id,
            target_message_id=target_msg,
            target_member=target_member,
            emoji=ev.emoji[order].astype(np.int16),
        )
        channels: list[SimChannel] = []
        for k in range(self.n_cat):
            channels.append(SimChannel(int(base_ids[k]), self.cat_names[k], CHANNEL_CATEGORY, None))
        for k in range(self.n_topics):
            ctype = CHANNEL_FORUM if k == self.forum_topic else CHANNEL_TEXT
            parent = int(base_ids[self.topic_cat[k]])
            channels.append(SimChannel(int(base_ids[self.n_cat + k]), self.topic_names[k], ctype, parent))
        parent_ids = base_ids[self.topic_chan[self.thread_topic]]
        threads = zip(thread_ids.tolist(), parent_ids.tolist(), self.thread_topic.tolist(), strict=True)
        for k, (tid, pid, top) in enumerate(threads):
            channels.append(
                SimChannel(tid, f"{self.topic_names[top]}-thread-{k + 1}", CHANNEL_PUBLIC_THREAD, pid)
            )
        members = self._members(member_ids, base_ids)
        labels = {name: frozenset(member_ids[self.role == r].tolist()) for r, name in enumerate(ROLES)}
        start = _ms_to_dt(self.start_ms)
        return SimCommunity(
            seed=self.seed,
            guild_id=int(snowflake(guild_ms, _GUILD_SEQ)),
            start=start,
            end=_ms_to_dt(self.start_ms + self.period),
            members=members,
            channels=channels,
            events=events,
            labels=labels,
            manipulation=self.m,
        )

    def _members(self, member_ids: np.ndarray, base_ids: np.ndarray) -> list[SimMember]:
        rng = self.rng
        a = rng.integers(0, len(_NAME_A), self.n)
        b = rng.integers(0, len(_NAME_B), self.n)
        num = rng.integers(0, 1000, self.n)
        style = rng.integers(0, 3, self.n)
        seen: set[str] = set()
        out: list[SimMember] = []
        topic_ids = base_ids[self.topic_chan]
        is_bot = self.role == _BOT
        created = (self.start_ms + self.created).tolist()
        joined = (self.start_ms + self.joined).tolist()
        for i in range(self.n):
            if is_bot[i]:
                name = f"{_NAME_B[b[i]].capitalize()}Bot"
            elif style[i] == 0:
                name = f"{_NAME_A[a[i]]}{_NAME_B[b[i]]}{num[i]}"
            elif style[i] == 1:
                name = f"{_NAME_A[a[i]]}_{_NAME_B[b[i]]}"
            else:
                name = f"{_NAME_B[b[i]]}.{num[i]}"
            base, k = name, 2
            while name in seen:
                name = f"{base}{k}"
                k += 1
            seen.add(name)
            tops = tuple(int(x) for x in topic_ids[self.my_topics[i, : self.n_my_topics[i]]])
            out.append(
                SimMember(
                    id=int(member_ids[i]),
                    name=name,
                    account_created_at=_ms_to_dt(created[i]),
                    joined_at=_ms_to_dt(joined[i]),
                    is_bot=bool(is_bot[i]),
                    topics=tops,
                )
            )
        return out


def last_utc_midnight() -> datetime:
    """Where a demo's simulated history ends: the same community, with the same day boundaries,
    whatever the time of day it runs (the bot still dates the reactions it sees by its own clock)."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def simulate(
    seed: int,
    *,
    members: int = 200,
    days: float = 7.0,
    start: datetime | None = None,
    manipulation: float = 0.5,
    topics: int | None = None,
    config: SimConfig | None = None,
) -> SimCommunity:
    """Generate a reproducible community with ground-truth labels.

    `manipulation` (0..1) scales the number, size and intensity of spammers, self-reactors, reaction rings,
    alt rings and reply farmers; bots and brand staff exist at every intensity (they are part of normal
    community life, not attacks). `topics` is the number of topic channels (the last one is a forum);
    by default it grows with log2(members). `start` defaults to 2026-01-05T00:00Z so runs are reproducible.
    """
    gen = _Generator(seed, members, days, start or DEFAULT_START, manipulation, topics, config or SimConfig())
    return _add_sockpuppets(gen.build(), seed)


def _add_sockpuppets(com: SimCommunity, seed: int) -> SimCommunity:
    """Aged sockpuppets: accounts a member has kept (or bought) for months, present all along, that
    engage most of that member's posts and spread about as much engagement again over other members'
    posts, so none of them engages mostly one member, none woke up recently and none is new.

    They take the place of lurkers who never posted (their reactions are dropped), so the member count
    stays as asked and every other member's events stay exactly as generated: this stage draws from
    its own random stream. The owner is an ordinary member who posts steadily and whom fewer members
    engage than the median such poster. Groups: 5-25 accounts per owner in a small community (scaled by
    `manipulation`), more in a large one; one owner per ~3,000 members, at least one. The accounts post a
    little in the owner's channels; nobody engages them (no organic engagement was generated for them).
    """
    m = com.manipulation
    if m <= 0:
        return com
    rng = np.random.default_rng([seed, 0x50C])
    ev = com.events
    n = len(com.members)
    said = (ev.kind == KIND_MESSAGE) | (ev.kind == KIND_REPLY) | (ev.kind == KIND_THREAD)
    days = (com.end - com.start).total_seconds() / 86400
    ids = np.sort(np.array([mb.id for mb in com.members], np.int64))
    who = np.searchsorted(ids, ev.actor)  # dense index of each event's actor
    posts = np.bincount(who[said], minlength=n)
    role = {r: np.isin(ids, np.fromiter(com.labels[r], np.int64)) for r in ("ordinary", "lurker")}
    steady = role["ordinary"] & (posts >= max(3.0, days / 2))
    # Lurkers who never posted, present (on accounts as old) since long before the period.
    long_ago = com.start - timedelta(days=90)
    since = {mb.id: max(mb.joined_at, mb.account_created_at) for mb in com.members}
    aged = np.array([since[i] <= long_ago for i in ids.tolist()])
    idle = np.flatnonzero(role["lurker"] & (posts == 0) & aged)
    if not steady.any() or not len(idle):
        return com
    # Distinct members engaging each steady poster.
    engages = ((ev.kind == KIND_REPLY) | (ev.kind == KIND_REACTION)) & (ev.actor != ev.target_member)
    rows = np.flatnonzero(engages)
    target = np.searchsorted(ids, ev.target_member[rows])
    mine_rows = steady[np.minimum(target, n - 1)] & (ids[np.minimum(target, n - 1)] == ev.target_member[rows])
    key = np.unique(target[mine_rows] * n + who[rows[mine_rows]])
    engaged_by = np.bincount(key // n, minlength=n)
    candidates = np.flatnonzero(steady)
    quiet = candidates[engaged_by[candidates] <= np.median(engaged_by[candidates])]
    grow = max(1.0, np.sqrt(n / 1000))
    n_owners = min(len(quiet), max(1, _rint(m * n / 3000)))
    owners = ids[rng.choice(quiet, size=n_owners, replace=False)]
    sizes = np.rint(grow * (5 + 20 * m * rng.uniform(0.5, 1.0, size=n_owners))).astype(np.int64)
    pool = ids[rng.permutation(idle)]
    end_ms = _dt_to_ms(com.end)
    human = ~np.isin(ids, com.bot_ids())
    others = np.flatnonzero(said & human[who])
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("ts", "kind", "actor", "chan", "tmsg", "tmem")}
    inside = np.where(ev.kind == KIND_THREAD, ev.message_id, ev.channel)  # where a message is answered

    def add(
        ts: np.ndarray, kind: int, actor: np.ndarray, chan: np.ndarray, tmsg: np.ndarray, tmem: np.ndarray
    ) -> None:
        ok = ts < end_ms
        for k, v in zip(cols, (ts, np.full(len(ts), kind), actor, chan, tmsg, tmem), strict=True):
            cols[k].append(np.asarray(v)[ok].astype(np.int64))

    socks: list[int] = []
    served: dict[int, int] = {}  # sockpuppet -> owner
    for owner, size in zip(owners.tolist(), sizes.tolist(), strict=True):
        group, pool = pool[:size], pool[size:]
        if not len(group):
            break
        socks += group.tolist()
        served.update(dict.fromkeys(group.tolist(), owner))
        mine = np.flatnonzero(said & (ev.actor == owner))
        theirs = others[ev.actor[others] != owner]  # the group has not posted: idle lurkers
        for sock in group.tolist():
            react = mine[rng.random(len(mine)) < 0.35 + 0.4 * m]
            reply = mine[rng.random(len(mine)) < 0.08 + 0.15 * m]
            own_share = rng.uniform(0.3, 0.5)
            spread = min(len(theirs), rng.poisson((len(react) + len(reply)) * (1.0 - own_share) / own_share))
            camo = rng.choice(theirs, size=spread, replace=False)  # one reaction per message, as on Discord
            camo_reply = rng.random(len(camo)) < 0.25
            for idx, kind in ((react, KIND_REACTION), (reply, KIND_REPLY), (camo[~camo_reply], KIND_REACTION),
                              (camo[camo_reply], KIND_REPLY)):  # fmt: skip
                ts = ev.ts_ms[idx] + (2 * _SEC + rng.exponential(45 * _MIN, len(idx))).astype(np.int64)
                add(ts, kind, np.full(len(idx), sock), inside[idx], ev.message_id[idx], ev.actor[idx])
            # A few messages of their own, chiming in after the owner's.
            after = mine[rng.integers(0, len(mine), size=rng.poisson(0.4 * days))]
            ts = ev.ts_ms[after] + (2 * _SEC + rng.exponential(30 * _MIN, len(after))).astype(np.int64)
            none = np.zeros(len(after))
            add(ts, KIND_MESSAGE, np.full(len(after), sock), inside[after], none, none)
    if not socks:
        return com
    sock_set = np.array(socks, np.int64)
    ts = np.concatenate(cols["ts"])
    kind = np.concatenate(cols["kind"]).astype(np.int8)
    messages = (kind == KIND_MESSAGE) | (kind == KIND_REPLY)
    mid = np.where(messages, snowflake(ts, _SOCK_MSG_SEQ + np.arange(len(ts)) % 0x100000), 0)
    tmsg = np.concatenate(cols["tmsg"])
    added = SimEvents(
        ts_ms=ts,
        kind=kind,
        actor=np.concatenate(cols["actor"]),
        channel=np.concatenate(cols["chan"]),
        message_id=np.where(kind == KIND_REACTION, tmsg, mid).astype(np.int64),
        target_message_id=tmsg,
        target_member=np.concatenate(cols["tmem"]),
        emoji=np.where(kind == KIND_REACTION, rng.integers(0, len(EMOJIS), len(ts)), -1).astype(np.int16),
    )
    kept = ev.select(~np.isin(ids, sock_set)[who])  # the lurkers' own reactions and joins
    added = added.select(_stable_argsort(added.ts_ms))
    at = np.searchsorted(kept.ts_ms, added.ts_ms, side="right")  # after events of the same millisecond
    events = SimEvents(*(np.insert(getattr(kept, f), at, getattr(added, f)) for f in _EVENT_FIELDS))
    # They live in their owner's channels.
    moved = {sock: replace(com.member(sock), topics=com.member(boss).topics) for sock, boss in served.items()}
    members = [moved.get(mb.id, mb) for mb in com.members]
    labels = dict(com.labels)
    labels["lurker"] = labels["lurker"] - frozenset(socks)
    labels["ordinary"] = labels["ordinary"] - frozenset(served.values())
    labels["sockpuppet"] = frozenset(socks)
    labels["sock_owner"] = frozenset(served.values())
    return replace(com, members=members, events=events, labels=labels)  # lookups rebuilt lazily


def main(argv: list[str] | None = None) -> None:
    """Measure generation time and size, e.g. `python -m sandbox.simulator --members 50000 --days 60`."""
    import argparse
    import time

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--members", type=int, default=200)
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--manipulation", type=float, default=0.5)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    com = simulate(args.seed, members=args.members, days=args.days, manipulation=args.manipulation)
    elapsed = time.perf_counter() - t0
    ev = com.events
    nbytes = sum(getattr(ev, f).nbytes for f in ev.__dataclass_fields__)
    print(
        f"generated in {elapsed:.2f}s: {len(ev):,} events ({nbytes / 2**20:.0f} MiB), "
        f"{len(com.channels):,} channels, {len(com.interaction_pairs()):,} distinct actor->target pairs"
    )
    print("expected counts:", com.expected_counts())
    print("labels:", {role: len(ids) for role, ids in com.labels.items()})


if __name__ == "__main__":
    main()
