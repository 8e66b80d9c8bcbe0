"""Trusted micro-voices: who receives genuine engagement from many distinct, trusted peers.

Pure computation (numpy + scipy only; no Discord, Reddit or SQL). The input is the daily engagement
aggregate the store keeps (`engagement_daily`: who engaged with whom, in which channel, on which day,
how, how often) plus a few member facts. The output is a ranked, explainable list per scope (the whole
community, one channel, or a category's channels).

The algorithm is a seeded, personalized PageRank ("TrustRank"): trust enters the graph only at
established members (the seeds) and flows along engagement, so accounts nobody established engages
with stay at zero no matter how much they engage with each other. Volume is made nearly worthless by
per-pair saturation, rings are slowed down by reciprocity damping that *leaks* instead of being
renormalized away, and the listing additionally requires trust to arrive from several distinct
peers. docs/trust.md explains every parameter and the attacks each one answers.

Everything is vectorized: one pass groups the daily rows by (actor, target, channel), each scope then
aggregates its pairs linearly, and the power iteration is a sparse matrix-vector product per step.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, overload

import numpy as np
import scipy.sparse as sp

__all__ = [
    "KINDS",
    "KIND_WEIGHTS",
    "Edges",
    "Listing",
    "MemberFacts",
    "Posts",
    "Ranked",
    "TrustParams",
    "compute_all",
    "compute_scope",
    "dependents",
    "explain",
    "explain_parts",
]

#: Engagement kinds as stored in `engagement_daily.kind`; `Edges.kind` holds indexes into this tuple.
KINDS: tuple[str, ...] = ("reply", "reaction", "thread_reply", "comment", "mention")

#: How much one engagement of each kind is worth before decay and saturation. A reply (or a Reddit
#: comment reply) costs effort and answers a specific message of that person, so it is the unit. A
#: message in a thread only credits whoever opened the thread, whoever it actually addresses: busy
#: threads credit their opener for everyone's chatter, and in help forums the opener is usually the
#: one asking. Half a reply. A reaction is one click: real but cheap, and the currency of
#: reaction-for-reaction trading. A mention names someone as relevant but is unsolicited by them
#: and trivially mass-produced.
KIND_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"reply": 1.0, "comment": 1.0, "thread_reply": 0.5, "reaction": 0.3, "mention": 0.5}
)


@dataclass(frozen=True)
class TrustParams:
    """Tunable knobs; the defaults are argued for in docs/trust.md."""

    #: Engagement loses half its weight every `half_life_days`: trust reflects the recent months, and
    #: a member cannot live forever off one popular period.
    half_life_days: float = 30.0
    #: Rows older than this are ignored entirely (at 6 half-lives they weigh < 2%); it also bounds who
    #: counts as a "distinct peer" to people who engaged recently.
    window_days: float = 180.0
    #: Probability of following an engagement edge rather than returning to the seeds.
    damping: float = 0.85
    #: Power iteration stops when the L1 change of the trust vector drops below `tol` ...
    tol: float = 1e-9
    #: ... or after `max_iter` steps (the error then is at most damping**max_iter, ~1e-7).
    max_iter: int = 100
    #: Per-pair saturation scale: pair weight = 1 - exp(-x / saturation), x = decayed, kind-weighted
    #: count. 1 reaction -> 0.26, 1 reply -> 0.63, 3 replies or 10 reactions -> 0.95, 50 reactions ->
    #: 1.0: a peer's vote is bounded, and the first engagements carry nearly all of it.
    saturation: float = 1.0
    #: Fraction of A->B removed when B engaged A at least as much (reply-backs, trading, rings). The
    #: removed part is not renormalized away; it leaks back to the seeds. Must be in [0, 1).
    reciprocity_damping: float = 0.8
    #: Seeds (who receives teleport trust) need this much tenure in the community ...
    seed_min_tenure_days: float = 30.0
    #: ... and to have engaged with at least this many distinct members in the window.
    seed_min_peers: int = 3
    #: Teleport weight of a moderator-pinned seed relative to an ordinary established seed.
    pinned_seed_weight: float = 1.0
    #: Earned seeds: an established member's teleport weight is the share of the periods (weeks; days
    #: in a young community) since they arrived in which they were active, times the share in which
    #: others engaged with them, times min(1, distinct engagers / `seed_full_engagers`). Tenure and
    #: account age only make a member eligible; the community's engagement over time earns the
    #: weight, which never exceeds one (a few seeds cannot outweigh many).
    earned_seeds: bool = True
    seed_full_engagers: int = 5
    #: Coordination evidence: accounts whose engagement goes mostly to one member, or mostly to
    #: partners who engage them back and mostly engage each other, and accounts that were quiet for a
    #: long time and became active together around the same member, are discounted (see
    #: docs/trust.md). False turns all of it off.
    coordination: bool = True
    #: Nobody is listed with fewer distinct (non-excluded) engagers in the scope.
    min_peers_listed: int = 5
    #: Listing value = received trust x (1 - exp(-effective_peers / diversity_scale)): trust arriving
    #: through one or two peers is discounted, trust spread over many peers is not.
    diversity_scale: float = 3.0
    #: How many channels `Ranked.top_topics` keeps.
    max_topics: int = 3
    #: Volume-neutrality (only when `Posts` are given): listing value x min(1, (y / y_scope) ** appeal)
    #: where y is the engagement a member received per post and y_scope the scope's average. Someone
    #: whose posts draw less than an average post is discounted in proportion (appeal = 1), so posting
    #: ten times as much to collect incidental replies does not multiply one's standing. 0 disables.
    appeal: float = 1.0
    #: "Trend vs the previous period" compares with the ranking as it stood this many days earlier.
    trend_period_days: int = 7
    #: Weight per engagement kind (see KIND_WEIGHTS); unknown kinds weigh nothing.
    kind_weights: Mapping[str, float] = field(default_factory=lambda: dict(KIND_WEIGHTS))

    def __post_init__(self) -> None:
        checks = (
            (self.half_life_days > 0, "half_life_days must be > 0"),
            (self.window_days > 0, "window_days must be > 0"),
            (0 < self.damping < 1, "damping must be in (0, 1)"),
            (self.tol > 0, "tol must be > 0"),
            (self.max_iter >= 1, "max_iter must be >= 1"),
            (self.saturation > 0, "saturation must be > 0"),
            (0 <= self.reciprocity_damping < 1, "reciprocity_damping must be in [0, 1)"),
            (self.seed_min_tenure_days >= 0, "seed_min_tenure_days must be >= 0"),
            (self.seed_min_peers >= 0, "seed_min_peers must be >= 0"),
            (self.pinned_seed_weight > 0, "pinned_seed_weight must be > 0"),
            (self.seed_full_engagers >= 1, "seed_full_engagers must be >= 1"),
            (self.min_peers_listed >= 1, "min_peers_listed must be >= 1"),
            (self.diversity_scale > 0, "diversity_scale must be > 0"),
            (self.max_topics >= 0, "max_topics must be >= 0"),
            (self.appeal >= 0, "appeal must be >= 0"),
            (self.trend_period_days >= 1, "trend_period_days must be >= 1"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        weights = dict(self.kind_weights)
        unknown = set(weights) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown engagement kinds: {sorted(unknown)}")
        if any(not math.isfinite(w) or w < 0 for w in weights.values()):
            raise ValueError("kind weights must be finite and >= 0")
        object.__setattr__(self, "kind_weights", MappingProxyType(weights))

    def kind_weight_vector(self) -> np.ndarray:
        """Weights indexed by kind code, plus a trailing 0 for out-of-range codes."""
        return np.array([float(self.kind_weights.get(k, 0.0)) for k in KINDS] + [0.0])


def _column(values: Any, dtype: type | np.dtype) -> np.ndarray:
    arr = np.asarray(values, dtype=dtype)
    if arr.ndim != 1:
        raise ValueError("columns must be one-dimensional")
    return arr


@dataclass(frozen=True)
class Edges:
    """Daily engagement aggregates as equal-length columns (one row per engagement_daily row).

    `kind` holds indexes into KINDS (use `Edges.from_rows` to convert kind names), `day` is days since
    1970-01-01 UTC, `n` the number of engagements that day (rows with n <= 0, e.g. fully retracted
    reactions, are ignored).
    """

    actor: np.ndarray
    target: np.ndarray
    channel: np.ndarray
    day: np.ndarray
    kind: np.ndarray
    n: np.ndarray

    def __post_init__(self) -> None:
        cols = {
            "actor": _column(self.actor, np.int64),
            "target": _column(self.target, np.int64),
            "channel": _column(self.channel, np.int64),
            "day": _column(self.day, np.int64),
            "kind": _column(self.kind, np.int64),
            "n": _column(self.n, np.float64),
        }
        if len({len(c) for c in cols.values()}) > 1:
            raise ValueError("Edges columns must have equal lengths")
        for name, col in cols.items():
            object.__setattr__(self, name, col)

    def __len__(self) -> int:
        return len(self.actor)

    @classmethod
    def empty(cls) -> Edges:
        z = np.zeros(0, np.int64)
        return cls(z, z, z, z, z, z.astype(np.float64))

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, int, int, int, str | int, int | float]]) -> Edges:
        """Build from `(channel_id, actor_id, target_id, day, kind, n)` rows, kind as a name or code.

        Unknown kind names map to -1 and carry no weight, like unknown codes. Rows of uniform types
        (what a database cursor returns) are parsed by numpy in one pass, a few times faster than
        transposing them in Python.
        """
        data = rows if isinstance(rows, list) else list(rows)
        if not data:
            return cls.empty()
        by_name = isinstance(data[0][4], str)
        layout = [("channel", "i8"), ("actor", "i8"), ("target", "i8"), ("day", "i8")]
        layout += [("kind", "U16" if by_name else "i8"), ("n", "f8")]
        try:
            table = np.array(data, dtype=layout)
        except (TypeError, ValueError, OverflowError):  # mixed kind types or odd values: slow path
            channel, actor, target, day, kind, n = zip(*data, strict=True)
            names = {name: code for code, name in enumerate(KINDS)}
            codes = [names.get(k, -1) if isinstance(k, str) else int(k) for k in kind]
            return cls(actor=actor, target=target, channel=channel, day=day, kind=codes, n=n)
        if by_name:
            codes = np.full(len(table), -1, np.int64)
            for code, name in enumerate(KINDS):
                codes[table["kind"] == name] = code
        else:
            codes = table["kind"]
        return cls(
            actor=table["actor"],
            target=table["target"],
            channel=table["channel"],
            day=table["day"],
            kind=codes,
            n=table["n"],
        )


@dataclass(frozen=True)
class Posts:
    """What members said, as counts per (member, channel, day): messages, replies, threads, Reddit
    comments and submissions (the store's `activity_daily` for those kinds), threads folded into
    their channel like the edges. `n` may be fractional (e.g. already decayed, with `day` = today).

    Used for volume-neutrality: how much engagement a member *received per post*, compared with the
    scope's average. See `TrustParams.appeal`.
    """

    member: np.ndarray
    channel: np.ndarray
    day: np.ndarray
    n: np.ndarray

    def __post_init__(self) -> None:
        cols = {
            "member": _column(self.member, np.int64),
            "channel": _column(self.channel, np.int64),
            "day": _column(self.day, np.int64),
            "n": _column(self.n, np.float64),
        }
        if len({len(c) for c in cols.values()}) > 1:
            raise ValueError("Posts columns must have equal lengths")
        for name, col in cols.items():
            object.__setattr__(self, name, col)

    def __len__(self) -> int:
        return len(self.member)


@dataclass(frozen=True)
class MemberFacts:
    """What the store knows about members. Days are days since 1970-01-01 UTC, NaN when unknown.

    `excluded` (brand contacts, moderator-excluded members) and bots are never ranked, and their
    engagement, in either direction, is removed from the graph: a bot or a brand account must not
    be able to confer trust, and engaging with one must not dilute a member's vote.
    `pinned` members are seeds whatever their tenure (moderators vouch for them).
    Members that appear in the edges but not here are treated as unknown (no tenure facts, not bots).
    """

    member_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    joined_day: np.ndarray | None = None
    account_created_day: np.ndarray | None = None
    is_bot: np.ndarray | None = None
    first_seen_day: np.ndarray | None = None
    excluded: frozenset[int] = frozenset()
    pinned: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        ids = _column(self.member_id, np.int64)
        size = len(ids)

        def fill(values: Any, dtype: type, default: float | bool) -> np.ndarray:
            if values is None:
                return np.full(size, default, dtype=dtype)
            col = _column(values, dtype)
            if len(col) != size:
                raise ValueError("MemberFacts columns must have the length of member_id")
            return col

        object.__setattr__(self, "member_id", ids)
        object.__setattr__(self, "joined_day", fill(self.joined_day, np.float64, np.nan))
        object.__setattr__(self, "account_created_day", fill(self.account_created_day, np.float64, np.nan))
        object.__setattr__(self, "first_seen_day", fill(self.first_seen_day, np.float64, np.nan))
        object.__setattr__(self, "is_bot", fill(self.is_bot, np.bool_, False))
        object.__setattr__(self, "excluded", frozenset(int(x) for x in self.excluded))
        object.__setattr__(self, "pinned", frozenset(int(x) for x in self.pinned))
        if size > 1:
            ordered = np.sort(ids)
            if np.any(ordered[1:] == ordered[:-1]):
                raise ValueError("MemberFacts.member_id must be unique")


@dataclass(frozen=True)
class Ranked:
    """One listed member of one scope.

    `score` is the listing value normalized so the scope's top member has 1.0. `distinct_peers`
    counts distinct non-excluded members who engaged with them in the scope and window;
    `trusted_peers` how many of those are seeds or hold at least average trust themselves.
    `top_topics` are (channel_id, share of received engagement) pairs, largest first. `trend` is the
    relative change of `score` against the previous period (None when there is no previous score).
    `why` is a JSON-serializable record of the numbers behind the rank (see `explain_parts`).
    """

    member_id: int
    score: float
    rank: int
    distinct_peers: int
    trusted_peers: int
    top_topics: tuple[tuple[int, float], ...]
    trend: float | None
    why: dict[str, Any]


class Listing(Sequence[Ranked]):
    """A scope's listed members, best first, kept as columns.

    Indexing or iterating yields `Ranked` entries (built on first use); `member_id`, `score`,
    `peers`, `trusted`, `topics`, `trend` (NaN: no previous score) and `pinned` are the columns the
    stored ranking is written from without building an entry per member.
    """

    def __init__(
        self,
        columns: Mapping[str, np.ndarray],
        topics: list[tuple[tuple[int, float], ...]],
        *,
        had_previous: bool,
        listed: int,
        scope_members: int,
        iterations: int,
        converged: bool,
    ) -> None:
        self.member_id: np.ndarray = columns["member_id"]
        self.score: np.ndarray = columns["score"]
        self.peers: np.ndarray = columns["peers"]
        self.trusted: np.ndarray = columns["trusted"]
        self.trend: np.ndarray = columns["trend"]
        self.pinned: np.ndarray = columns["pinned"]
        self.coordinated: np.ndarray = columns["coordinated"]
        self.reason: np.ndarray = columns["reason"]
        self.topics = topics
        self.had_previous = had_previous
        self._columns = columns
        self._facts = dict(
            listed=listed, scope_members=scope_members, iterations=iterations, converged=converged
        )
        self._entries: list[Ranked] | None = None

    @classmethod
    def empty(cls) -> Listing:
        names = ("member_id", "score", "peers", "trusted", "effective", "received", "diversity", "appeal")
        none = {
            name: np.zeros(0) for name in (*names, "trust", "seed", "pinned", "trend", "coordinated")
        }
        none["reason"] = np.zeros(0, np.int8)
        return cls(none, [], had_previous=False, listed=0, scope_members=0, iterations=0, converged=True)

    def __len__(self) -> int:
        return len(self.member_id)

    @overload
    def __getitem__(self, index: int) -> Ranked: ...

    @overload
    def __getitem__(self, index: slice) -> list[Ranked]: ...

    def __getitem__(self, index: int | slice) -> Ranked | list[Ranked]:
        return self.entries()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Listing):
            return self is other or self.entries() == other.entries()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def entries(self) -> list[Ranked]:
        """The listing as `Ranked` entries, each with its `why` record."""
        if self._entries is None:
            c = self._columns
            columns = zip(
                c["member_id"].tolist(),
                c["score"].tolist(),
                c["peers"].tolist(),
                c["trusted"].tolist(),
                c["effective"].round(3).tolist(),
                c["received"].tolist(),
                c["diversity"].round(4).tolist(),
                c["appeal"].round(4).tolist(),
                c["trust"].tolist(),
                c["seed"].tolist(),
                c["pinned"].tolist(),
                self.topics,
                c["trend"].tolist(),
                c["coordinated"].round(4).tolist(),
                c["reason"].tolist(),
                strict=True,
            )
            entries = []
            for rank, row in enumerate(columns, start=1):
                member, score, peers, trusted, eff, got, div, app, x, seed, pin, top, trend, co, why_co = row
                why: dict[str, Any] = {
                    "peers": peers,
                    "trusted_peers": trusted,
                    "effective_peers": eff,
                    "received_trust": got,
                    "diversity": div,
                    "appeal": app,
                    "trust": x,
                    "seed": seed,
                    "pinned": pin,
                    "top_topics": [list(t) for t in top],
                    "trend": None if math.isnan(trend) else trend,
                    "coordinated": co,
                    "coordinated_reason": REASONS[why_co],
                    "had_previous": self.had_previous,
                    "rank": rank,
                    **self._facts,
                }
                entries.append(Ranked(member, score, rank, peers, trusted, top, why["trend"], why))
            self._entries = entries
        return self._entries


# --------------------------------------------------------------------------------------------------
# Dense ids: a vectorized open-addressing hash table. Member ids are 64-bit snowflakes, so they must
# be mapped to 0..n-1; np.searchsorted over millions of rows is several times slower than one or two
# hashed gathers, and np.unique on millions of int64 is slower still.

_FIB = np.int64(0x9E3779B97F4A7C15 - (1 << 64))  # Fibonacci hashing multiplier, as int64


class _IdIndex:
    """Maps unique int64 ids to a value (default: their position), vectorized.

    Linear probing at load factor <= 1/8; values must be >= -2 (-1 means absent).
    """

    def __init__(self, ids: np.ndarray, values: np.ndarray | None = None) -> None:
        size_bits = max(4, math.ceil(math.log2(max(1, len(ids)) * 8)))
        self._shift = 64 - size_bits
        self._mask = (1 << size_bits) - 1
        self._keys = np.zeros(1 << size_bits, np.int64)
        self._vals = np.full(1 << size_bits, -1, np.int64)
        home = self._hash(ids)
        where = np.full(1 << size_bits, -1, np.int64)  # which id occupies each slot
        pending = np.arange(len(ids), dtype=np.int64)
        probe = 0
        while pending.size:
            slot = (home[pending] + probe) & self._mask
            free = where[slot] < 0
            cand, cslot = pending[free], slot[free]
            where[cslot] = cand  # with duplicate slots one write wins; losers probe on
            won = where[cslot] == cand
            placed = np.zeros(len(ids), np.bool_)
            placed[cand[won]] = True
            pending = pending[~placed[pending]]
            probe += 1
        occupied = where >= 0
        self._keys[occupied] = ids[where[occupied]]
        values = np.arange(len(ids), dtype=np.int64) if values is None else values
        self._vals[occupied] = values[where[occupied]]
        self._occupied = occupied

    def _hash(self, ids: np.ndarray) -> np.ndarray:
        # int64 products wrap around; the arithmetic shift's sign bits are masked off again.
        return ((ids * _FIB) >> self._shift) & self._mask

    def lookup(self, query: np.ndarray) -> np.ndarray:
        """Position of each query id, -1 when absent."""
        if len(query) > 65536:
            # Rows in the store's primary-key order repeat actors (and channels) in runs: looking up
            # one value per run is much cheaper. A sample decides, so random order pays nothing.
            sample = query[:65536]
            if np.count_nonzero(sample[1:] != sample[:-1]) < 32768:
                change = np.empty(len(query), np.bool_)
                change[0] = True
                np.not_equal(query[1:], query[:-1], out=change[1:])
                heads = np.flatnonzero(change)
                return self._lookup(query[heads])[np.cumsum(change) - 1]
        return self._lookup(query)

    def _lookup(self, query: np.ndarray) -> np.ndarray:
        home = self._hash(query)
        out = self._vals[home]  # -1 in empty slots
        collided = np.flatnonzero(self._keys[home] != query)
        if collided.size:
            # An empty home slot means absent (its value is already -1); an occupied one means another
            # id got there first, so probe on. At load <= 1/8 this touches few rows.
            out[collided] = -1
            pending = collided[self._occupied[home[collided]]]
            probe = 1
            while pending.size:
                slot = (home[pending] + probe) & self._mask
                used = self._occupied[slot]
                hit = used & (self._keys[slot] == query[pending])
                out[pending[hit]] = self._vals[slot[hit]]
                pending = pending[used & ~hit]
                probe += 1
        return out


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique via np.sort: np.unique is far slower on large int64 arrays in current numpy."""
    if len(values) == 0:
        return values
    ordered = np.sort(values)
    keep = np.empty(len(ordered), np.bool_)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


# --------------------------------------------------------------------------------------------------
# Preparation shared by all scopes.


@dataclass(frozen=True)
class _Prepared:
    ids: np.ndarray  # dense index -> member id
    channel_ids: np.ndarray  # channel code -> channel id
    channel_index: _IdIndex
    # Engagement grouped by (actor, target, channel): sorted by actor, then target, then channel.
    g_actor: np.ndarray
    g_target: np.ndarray
    g_channel: np.ndarray
    g_weight: np.ndarray
    seed_weight: np.ndarray  # teleport weight per dense member (0 = not a seed)
    pinned: np.ndarray  # bool per dense member
    excluded: np.ndarray  # bool per dense member: bots and excluded members (their rows are dropped)
    engaged_from: np.ndarray  # first day each dense member engaged or posted in the window (inf: never)
    all_pairs: _Pairs  # the community-wide pair aggregation (also needed for seed selection)
    channel_order: tuple[np.ndarray, np.ndarray] | None  # grouped rows by channel; offsets per channel
    posts_total: np.ndarray | None = None  # decayed posts per dense member (None: no Posts given)
    posts_channel: sp.csc_array | None = None  # the same per (member, channel code)
    # Counts per (dense member, age in days) of engagement given or posts written (`active`), and
    # of engagement received from others (`received`); see `_standing`.
    active: np.ndarray | None = None
    received: np.ndarray | None = None
    members: MemberFacts = field(default_factory=MemberFacts)
    today: int = 0


@dataclass(frozen=True)
class _Pairs:
    """Pairs of one scope: canonical CSR order (by actor, then target), weights summed over rows."""

    actor: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    indptr: np.ndarray


def _pairs_from_sorted(n: int, actor: np.ndarray, target: np.ndarray, weight: np.ndarray) -> _Pairs:
    """Sum adjacent rows of the same (actor, target); input must be sorted by actor then target."""
    if len(actor):
        start = np.empty(len(actor), np.bool_)
        start[0] = True
        np.not_equal(actor[1:], actor[:-1], out=start[1:])
        start[1:] |= target[1:] != target[:-1]
        heads = np.flatnonzero(start)
        if len(heads) < len(actor):
            weight = np.add.reduceat(weight, heads)
            actor, target = actor[heads], target[heads]
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(actor, minlength=n), out=indptr[1:])
    return _Pairs(actor=actor, target=target, weight=weight, indptr=indptr)


def _runs(*columns: np.ndarray) -> np.ndarray | None:
    """Start positions of runs of equal consecutive rows, or None when runs would not pay off."""
    size = len(columns[0])
    if size < 2:
        return None
    start = np.empty(size, np.bool_)
    start[0] = True
    np.not_equal(columns[0][1:], columns[0][:-1], out=start[1:])
    for col in columns[1:]:
        start[1:] |= col[1:] != col[:-1]
    heads = np.flatnonzero(start)
    return heads if len(heads) < 0.8 * size else None


def _history_days(params: TrustParams) -> int:
    """Columns of the per-day activity arrays: ages 0 (today) to the window's last day."""
    return math.floor(params.window_days) + 1


def _per_day(member: np.ndarray, age: np.ndarray, n: np.ndarray, size: int, days: int) -> np.ndarray:
    """Counts per (member, age in days) as a dense float32 array (exact for counts below 2**24)."""
    key = member.astype(np.int64) * days + age
    return np.bincount(key, weights=n, minlength=size * days).astype(np.float32).reshape(size, days)


def _first_active(active: np.ndarray, today: int) -> np.ndarray:
    """The first day each member engaged anyone or posted in the window (inf: never), from the
    activity per (member, age in days)."""
    some = active > 0
    oldest = active.shape[1] - 1 - np.argmax(some[:, ::-1], axis=1)
    return np.where(some.any(axis=1), today - oldest, np.inf).astype(np.float64)


def _posts_per_member(
    posts: Posts,
    ids: np.ndarray,
    channel_index: _IdIndex,
    n_ch: int,
    params: TrustParams,
    today: int,
    active: np.ndarray | None = None,
) -> tuple[np.ndarray, sp.csc_array]:
    """Decayed post counts per member: in total, and per (member, channel code) for topic scopes.
    The posts are also counted into `active` (per member and age in days), when given."""
    n = len(ids)
    age = np.clip(today - posts.day, 0, None)
    idx = _IdIndex(ids).lookup(posts.member) if len(posts) else np.zeros(0, np.int64)
    use = (posts.n > 0) & (age <= math.floor(params.window_days)) & (idx >= 0)
    if active is not None:
        active += _per_day(idx[use], age[use], posts.n[use], n, active.shape[1])
    weight = posts.n[use] * np.exp2(-age[use] / params.half_life_days)
    idx = idx[use]
    total = np.bincount(idx, weights=weight, minlength=n).astype(np.float64)
    codes = channel_index.lookup(posts.channel[use]) if len(idx) else np.zeros(0, np.int64)
    known = codes >= 0
    by_channel = sp.csc_array((weight[known], (idx[known], codes[known])), shape=(n, max(1, n_ch)))
    by_channel.sum_duplicates()
    return total, by_channel


def _weighed(
    edges: Edges, params: TrustParams, today: int, *, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows that count and their weights: (row positions, weight, age in days).

    A row counts when `counts` says so (a positive count; for changes, a non-zero change), its kind
    carries weight, it lies inside the window, and it is not self-engagement (the store drops that
    too, but a self-reaction must give nothing). Weight = kind weight x n x 0.5 ** (age /
    half-life), as one lookup in a small table; a future day (clock skew) counts as today.
    """
    window = math.floor(params.window_days)
    kind_w = params.kind_weight_vector()
    kind = np.where((edges.kind >= 0) & (edges.kind < len(KINDS)), edges.kind, len(KINDS))
    age = np.clip(today - edges.day, 0, None)
    rows = np.flatnonzero(counts & (kind_w[kind] > 0) & (age <= window) & (edges.actor != edges.target))
    age = age[rows]
    table = np.outer(kind_w, np.exp2(-np.arange(window + 1) / params.half_life_days)).ravel()
    return rows, table[kind[rows] * (window + 1) + age] * edges.n[rows], age


def _since(ids: np.ndarray, engaged_from: np.ndarray, members: MemberFacts) -> tuple[np.ndarray, np.ndarray]:
    """Per dense member: the day they arrived (the earliest of the join date, the store's first
    sighting and the first engagement in the data; NaN when unknown) and their account's creation
    day (NaN when unknown or impossible)."""
    row = _IdIndex(members.member_id).lookup(ids) if len(members.member_id) else np.full(len(ids), -1)
    known = row >= 0

    def fact(column: np.ndarray) -> np.ndarray:
        out = np.full(len(ids), np.nan)
        out[known] = column[row[known]]
        return out

    since = np.fmin(np.fmin(engaged_from, fact(members.first_seen_day)), fact(members.joined_day))
    created = fact(members.account_created_day)
    # An account cannot be younger than the member's presence in the community: a creation date more
    # than a day after the member was already here is not a real one (e.g. ids minted by a test
    # platform) and says nothing about the account's age.
    created[created > since + 1.0] = np.nan
    return since, created


def _seed_weight(
    ids: np.ndarray,
    engaged_from: np.ndarray,
    out_peers: np.ndarray,
    excluded: np.ndarray,
    pinned: np.ndarray,
    members: MemberFacts,
    params: TrustParams,
    today: int,
    earned: np.ndarray | None = None,
    tenure: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Teleport weight per dense member: `earned` (default 1) for established members,
    `pinned_seed_weight` if pinned.

    Established means long enough in the community (by join date or first activity, whichever is
    earlier), on an account at least as old (when known and possible: a creation date after the
    member was already present is ignored), and having engaged with at least
    `seed_min_peers` distinct members in the window. First activity is the earlier of the first
    engagement in the data (`engaged_from`: tenure evidence for members whose join date is unknown,
    as on Reddit, or who left and rejoined) and the store's own first sighting
    (`MemberFacts.first_seen_day`, which covers history older than the window). Being established
    only makes a member eligible: `earned` (see `_standing`) is what the community's engagement
    over time gave them.
    """
    since, created = tenure if tenure is not None else _since(ids, engaged_from, members)
    account_age = np.where(np.isnan(created), np.inf, today - created)
    established = (
        (today - since >= params.seed_min_tenure_days)
        & (account_age >= params.seed_min_tenure_days)
        & (out_peers >= params.seed_min_peers)
        & ~excluded
    )
    weight = np.where(established, 1.0 if earned is None else earned, 0.0)
    weight[pinned] = params.pinned_seed_weight
    return weight


# --------------------------------------------------------------------------------------------------
# Earned standing and coordination evidence, community-wide, once per ranking run.

#: Why engagement a member received counts less, in `Listing.reason` and the explanation: accounts
#: that were quiet for a long time and became active together around them; accounts whose engagement
#: goes mostly to them alone; a group whose members mostly engage each other.
REASONS: tuple[str, ...] = ("woke", "one", "group")
#: Pseudo-count (one reply's weight) added to an account's total engagement before taking shares of
#: it: an account that engaged once with one member is no evidence of concentration.
_PRIOR = 1.0
#: Accounts that became active within this many consecutive periods of each other are "together";
#: it takes at least `_TOGETHER_ACCOUNTS` of them.
_TOGETHER_PERIODS = 2
_TOGETHER_ACCOUNTS = 3


def _ramp(share: np.ndarray) -> np.ndarray:
    """0 up to one half, rising to 1 at all of it: "mostly" as a degree."""
    return np.clip(2.0 * share - 1.0, 0.0, 1.0)


@dataclass(frozen=True)
class _Standing:
    """Per dense member: how much standing the community gave them over time (`earned`, in [0, 1]),
    and for members who were present but silent for at least half of the time we can see, the
    period (counted back from today, 0 = the current one) in which they first became active
    (`woke`; -1 for everyone else). `periods` is how many periods the history holds."""

    earned: np.ndarray
    woke: np.ndarray
    periods: int


def _standing(
    active: np.ndarray,
    received: np.ndarray,
    since: np.ndarray,
    in_peers: np.ndarray,
    params: TrustParams,
    today: int,
) -> _Standing:
    """Earned standing from the activity per day (`active`: engagement given or posts written;
    `received`: engagement received from others; rows = dense members, columns = age in days).

    The history (from its oldest active day to today) is cut into periods: weeks once it holds eight
    of them, shorter periods (down to days) while it is younger, so "over time" means something in a
    community of any age. For each member, counting the periods since they arrived (or since the
    history starts): `presence` is the share in which they were active, `spread` the share in which
    others engaged with them, `breadth` min(1, distinct engagers / seed_full_engagers), and
    `earned` their product. A long-joined account that was silent until last week has neither
    presence nor spread, whatever its join date says.
    """
    n = active.shape[0]
    seen = np.flatnonzero(active.any(axis=0) | received.any(axis=0))
    span = int(seen[-1]) + 1 if len(seen) else 1
    length = int(np.clip(span // 8, 1, 7))
    periods = -(-span // length)

    def binned(counts: np.ndarray) -> np.ndarray:
        flags = counts[:, :span] > 0
        if periods * length > span:
            flags = np.pad(flags, ((0, 0), (0, periods * length - span)))
        return flags.reshape(n, periods, length).any(axis=2)

    act, got = binned(active), binned(received)
    here = np.where(np.isnan(since), span - 1, np.clip(today - np.nan_to_num(since), 0, span - 1))
    available = here.astype(np.int64) // length + 1
    # Active in half of the periods is full presence: standing is not a reward for activity itself.
    presence = np.minimum(1.0, 2.0 * act.sum(axis=1) / available)
    spread = np.minimum(1.0, 2.0 * got.sum(axis=1) / available)
    breadth = np.minimum(1.0, in_peers / params.seed_full_engagers)
    # The oldest period with activity; silent before it for at least half of the available periods.
    any_act = act.any(axis=1)
    oldest = np.where(any_act, periods - 1 - np.argmax(act[:, ::-1], axis=1), -1)
    quiet = any_act & (available >= 3) & (available - 1 - oldest >= 0.5 * available)
    return _Standing(presence * spread * breadth, np.where(quiet, oldest, -1), periods)


#: Partners per account considered for insular groups (its strongest exchanges): a bound on the
#: work, far above the size of a group whose members all engage each other.
_GROUP_PARTNERS = 48


def _insular(
    actor: np.ndarray, target: np.ndarray, matched: np.ndarray, candidate: np.ndarray, m: int
) -> np.ndarray:
    """Per member: the exchange (`matched` engagement per mutual pair) they have with partners who
    share their other partners, each partner weighted by the share of the member's other partners
    it is linked with too. Only `candidate` members (whose engagement is mostly exchange) and their
    `_GROUP_PARTNERS` strongest exchanges take part; 0 for everyone else."""
    both = candidate[actor] & candidate[target]
    a, t, v = actor[both], target[both], matched[both]
    if len(a) == 0:
        return np.zeros(m)
    order = np.lexsort((-v, a))
    a, t, v = a[order], t[order], v[order]
    start = np.searchsorted(a, a, side="left")
    strongest = (np.arange(len(a)) - start) < _GROUP_PARTNERS
    a, t, v = a[strongest], t[strongest], v[strongest]
    links = sp.csr_array((np.ones(len(a), np.float32), (a, t)), shape=(m, m))
    links = links.maximum(links.T).tocsr()
    links.data[:] = 1.0
    shared = (links @ links).multiply(links).tocsr()  # per link: partners the two have in common
    degree = np.diff(links.indptr).astype(np.float64)
    exchange = sp.csr_array((v, (a, t)), shape=(m, m))
    closeness = np.asarray(exchange.multiply(shared).sum(axis=1)).ravel()
    return np.divide(closeness, degree - 1.0, out=np.zeros(m), where=degree > 1)


@dataclass(frozen=True)
class _Evidence:
    """What a ranking run uses beyond the engagement pairs, per dense member (community-wide).

    `seed_weight` is the teleport weight; `keep` the share of a member's votes that passes trust on
    (1 - how strongly their engagement pattern looks coordinated; the rest returns to the seeds);
    `coordinated` the share of the engagement a member received that comes from coordinated
    accounts (it does not count toward how much their posts draw), `woke` the share from accounts
    that became active together (discounted from the listing value), `reason` the index in REASONS of
    the largest of the three patterns. The last four are None when coordination evidence is off.
    """

    seed_weight: np.ndarray
    keep: np.ndarray | None = None
    coordinated: np.ndarray | None = None
    woke: np.ndarray | None = None
    reason: np.ndarray | None = None


def _evidence(
    g: _ScopeGraph,
    size: int,
    *,
    ids: np.ndarray,
    engaged_from: np.ndarray,
    excluded: np.ndarray,
    pinned: np.ndarray,
    members: MemberFacts,
    active: np.ndarray | None,
    received: np.ndarray | None,
    posts: np.ndarray | None,
    params: TrustParams,
    today: int,
) -> _Evidence:
    """Seeds and coordination evidence from the community-wide graph `g` (its transition prepared
    with `params`) and the activity per day; arrays of `size` (the dense id space)."""
    out_peers = g.scatter(g.out_deg, size)
    use_standing = params.earned_seeds and active is not None and received is not None
    if not (use_standing or params.coordination):
        return _Evidence(_seed_weight(ids, engaged_from, out_peers, excluded, pinned, members, params, today))
    tenure = _since(ids, engaged_from, members)
    since = tenure[0]
    standing = None
    if active is not None and received is not None:
        standing = _standing(active, received, since, g.scatter(g.in_deg, size), params, today)
    earned = standing.earned if use_standing and standing is not None else None
    if not params.coordination:
        facts = (ids, engaged_from, out_peers, excluded, pinned, members, params, today)
        return _Evidence(_seed_weight(*facts, earned, tenure))
    # Per local member of the graph: how their own engagement is spread.
    m = g.n
    w = g.weight
    actor, target = g.actor, g.target
    total = np.bincount(actor, weights=w, minlength=m) + _PRIOR
    top = g.largest_per_actor(w)
    one = _ramp(top / total)  # mostly to one member
    # Insular groups (pods, rings): an account whose engagement is mostly exchange (met by as much
    # engagement back) with partners who exchange with each other too. An expert's engagement is
    # also mostly exchange, with askers who answer back, but those askers do not engage each other.
    mutual = np.flatnonzero(g.reverse >= 0)
    matched = np.minimum(w[mutual], w[g.reverse[mutual]])
    exchange = np.bincount(actor[mutual], weights=matched, minlength=m) / total
    insular = _insular(actor[mutual], target[mutual], matched, exchange >= 0.5, m) / total
    # "Far more than with anyone else" needs someone else: measured beyond what is usual in this
    # community (its median member), so a small community where everyone talks with everyone is
    # not one suspicious group. From a quarter of the rest (0) to three quarters of it (1).
    engaging = g.out_deg > 0
    usual = float(np.median(insular[engaging])) if engaging.any() else 0.0
    beyond = np.clip((insular - usual) / (1.0 - usual), 0.0, 1.0) if usual < 1.0 - 1e-9 else np.zeros(m)
    group = np.clip(2.0 * beyond - 0.5, 0.0, 1.0)
    suspicion = 1.0 - (1.0 - one) * (1.0 - group)
    got = np.bincount(target, weights=w, minlength=m)
    safe = np.where(got > 0, got, 1.0)
    shares = [
        np.zeros(m),
        np.bincount(target, weights=w * one[actor], minlength=m) / safe,
        np.bincount(target, weights=w * group[actor], minlength=m) / safe,
    ]
    flagged = np.bincount(target, weights=w * suspicion[actor], minlength=m) / safe
    if standing is not None:
        # Accounts silent for a long time that became active within a short span of each other and
        # engage the same member: the largest such group's share of what the member received.
        woke = g.gather(standing.woke, -1)
        q = np.flatnonzero(woke[actor] >= 0)
        key = target[q].astype(np.int64) * standing.periods + woke[actor[q]]
        cells = m * standing.periods
        mass = np.bincount(key, weights=w[q], minlength=cells).reshape(m, standing.periods)
        count = np.bincount(key, minlength=cells).reshape(m, standing.periods)
        span_mass, span_count = mass.copy(), count.copy()
        for shift in range(1, _TOGETHER_PERIODS):
            span_mass[:, :-shift] += mass[:, shift:]
            span_count[:, :-shift] += count[:, shift:]
        together = np.where(span_count >= _TOGETHER_ACCOUNTS, span_mass, 0.0).max(axis=1)
        shares[0] = np.minimum(1.0, together / safe)
    coordinated = 1.0 - (1.0 - flagged) * (1.0 - shares[0])
    keep_local = 1.0 - suspicion

    def community(values: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(size, fill)
        out[g.members] = values[: len(g.members)]
        return out

    keep = community(keep_local, 1.0)
    if earned is not None and posts is not None:
        # Standing is being sought out, not volume: like the listing (`_appeal`), a member whose posts
        # draw less attention than an average post earns proportionally less.
        said = g.gather(posts)
        appeal = _appeal(g.pull(g.scale() * keep_local), said, said, params, _posted(posts))
        if appeal is not None:
            earned = earned * community(appeal, 0.0)
    facts = (ids, engaged_from, out_peers, excluded, pinned, members, params, today)
    seed = _seed_weight(*facts, earned, tenure)
    seed = np.where(pinned, seed, seed * keep)
    return _Evidence(
        seed_weight=seed,
        keep=keep,
        coordinated=community(coordinated, 0.0),
        woke=community(shares[0], 0.0),
        reason=community(np.argmax(np.stack(shares), axis=0).astype(np.float64), 0.0).astype(np.int8),
    )


def _prepare(
    edges: Edges,
    members: MemberFacts,
    params: TrustParams,
    today: int,
    *,
    by_channel: bool,
    posts: Posts | None = None,
) -> _Prepared:
    """Everything the scopes share: dense ids, seeds, and the rows grouped by (actor, target, channel)."""
    n_known = len(members.member_id)
    usable, weight, age = _weighed(edges, params, today, counts=edges.n > 0)
    rows = None if len(weight) == len(edges) else usable

    def col(values: np.ndarray) -> np.ndarray:
        return values if rows is None else values[rows]

    actor, target, channel = col(edges.actor), col(edges.target), col(edges.channel)
    row_age, row_n = age, col(edges.n)

    # Rows of the same (channel, actor, target) on different days or kinds are adjacent when they come
    # in the store's primary-key order: summing those runs first shrinks every later step.
    heads = _runs(channel, actor, target)
    if heads is not None:
        weight = np.add.reduceat(weight, heads)
        actor, target, channel = actor[heads], target[heads], channel[heads]

    # Dense ids: members from the facts first, then ids only seen in the edges. Bots and excluded
    # members look up as -2, so one comparison later drops every row that touches them.
    excluded_ids = np.fromiter(members.excluded, np.int64, len(members.excluded))
    ids = members.member_id
    excluded_known = members.is_bot | np.isin(ids, excluded_ids)
    facts_index = _IdIndex(ids, np.where(excluded_known, -2, np.arange(n_known)))
    a_idx = facts_index.lookup(actor)
    t_idx = facts_index.lookup(target)
    miss_a, miss_t = a_idx == -1, t_idx == -1
    if miss_a.any() or miss_t.any():
        extra = _sorted_unique(np.concatenate([actor[miss_a], target[miss_t]]))
        extra_values = np.where(np.isin(extra, excluded_ids), -2, np.arange(n_known, n_known + len(extra)))
        extra_index = _IdIndex(extra, extra_values)
        a_idx[miss_a] = extra_index.lookup(actor[miss_a])
        t_idx[miss_t] = extra_index.lookup(target[miss_t])
        ids = np.concatenate([ids, extra])
    n = len(ids)
    excluded = np.zeros(n, np.bool_)
    excluded[:n_known] = excluded_known
    excluded[n_known:] = np.isin(ids[n_known:], excluded_ids)
    pinned = np.zeros(n, np.bool_)
    if members.pinned:
        pinned = np.isin(ids, np.fromiter(members.pinned, np.int64)) & ~excluded
    dropped = (a_idx < 0) | (t_idx < 0)
    any_dropped = bool(dropped.any())

    # Who was active, and who was engaged with, on which day (per row, before runs were summed).
    days = _history_days(params)
    run = None if heads is None else np.repeat(np.arange(len(a_idx)), np.diff(np.append(heads, len(row_age))))
    kept = ~dropped if run is None else ~dropped[run]
    ra = a_idx if run is None else a_idx[run]
    rt = t_idx if run is None else t_idx[run]
    active = _per_day(ra[kept], row_age[kept], row_n[kept], n, days)
    received = _per_day(rt[kept], row_age[kept], row_n[kept], n, days)


    channel_ids = _sorted_unique(channel)
    channel_index = _IdIndex(channel_ids)
    c_idx = channel_index.lookup(channel)
    n_ch = max(1, len(channel_ids))
    ch_bits = max(1, (n_ch - 1).bit_length())

    # One sparse sum groups the rows by (actor, target, channel); the column (target << ch_bits) |
    # channel keeps a pair's channels adjacent so every scope aggregates linearly, and unpacks with
    # shifts instead of integer division. Rows touching an excluded member go to an extra last row,
    # which is then cut off.
    n_cols = n << ch_bits
    index_type = np.int32 if max(n_cols, n + 1) < 1 << 31 else np.int64
    column = (t_idx << ch_bits) | c_idx
    if any_dropped:
        a_idx = np.where(dropped, n, a_idx)
        column[dropped] = 0
    grouped = sp.csr_array(
        (weight, (a_idx.astype(index_type), column.astype(index_type))), shape=(n + 1, n_cols)
    )
    grouped.sum_duplicates()
    end = grouped.indptr[n]
    g_actor = np.repeat(np.arange(n, dtype=np.int64), np.diff(grouped.indptr[: n + 1]))
    packed = grouped.indices[:end].astype(np.int64)
    g_target, g_channel = packed >> ch_bits, packed & ((1 << ch_bits) - 1)
    g_weight = grouped.data[:end]
    all_pairs = _pairs_from_sorted(n, g_actor, g_target, g_weight)

    posts_total, posts_channel = None, None
    if posts is not None:
        counted = _posts_per_member(posts, ids, channel_index, len(channel_ids), params, today, active)
        if params.appeal > 0:
            posts_total, posts_channel = counted
    engaged_from = _first_active(active, today)
    out_peers = np.diff(all_pairs.indptr)
    seed_weight = _seed_weight(ids, engaged_from, out_peers, excluded, pinned, members, params, today)
    return _Prepared(
        members=members,
        today=today,
        active=active,
        received=received,
        posts_total=posts_total,
        posts_channel=posts_channel,
        ids=ids,
        channel_ids=channel_ids,
        channel_index=channel_index,
        g_actor=g_actor,
        g_target=g_target,
        g_channel=g_channel,
        g_weight=g_weight,
        seed_weight=seed_weight,
        pinned=pinned,
        excluded=excluded,
        engaged_from=engaged_from,
        all_pairs=all_pairs,
        channel_order=_channel_order(g_channel, n_ch) if by_channel else None,
    )


# --------------------------------------------------------------------------------------------------
# One scope.


@dataclass(frozen=True)
class _ScopeRows:
    """The grouped (actor, target, channel) rows of one scope, in the grouped order."""

    actor: np.ndarray
    target: np.ndarray
    channel: np.ndarray
    weight: np.ndarray


def _channel_order(g_channel: np.ndarray, n_ch: int) -> tuple[np.ndarray, np.ndarray]:
    """Grouped rows by channel (stable, so each channel's rows stay sorted) and per-channel offsets."""
    codes = g_channel.astype(np.uint16) if n_ch <= 1 << 16 else g_channel  # uint16 sorts by radix
    order = np.argsort(codes, kind="stable")
    offsets = np.zeros(n_ch + 1, np.int64)
    np.cumsum(np.bincount(g_channel, minlength=n_ch), out=offsets[1:])
    return order, offsets


def _channel_codes(prep: _Prepared, channels: Collection[int] | None) -> np.ndarray | None:
    """Sorted channel codes of a scope (None: the whole community); unknown channels are left out."""
    if channels is None:
        return None
    wanted = _sorted_unique(np.fromiter((int(c) for c in channels), np.int64))
    codes = prep.channel_index.lookup(wanted) if len(wanted) else wanted
    return codes[codes >= 0]


def _scope_pairs(prep: _Prepared, codes: np.ndarray | None) -> _Pairs:
    """Pairs of the scope (channel codes from `_channel_codes`), weights summed over its channels."""
    n = len(prep.ids)
    if codes is None:
        return prep.all_pairs
    if prep.channel_order is None:  # pragma: no cover - _prepare is told whether scopes need it
        raise RuntimeError("prepared without the channel index")
    order, offsets = prep.channel_order
    parts = [order[offsets[c] : offsets[c + 1]] for c in codes.tolist()]
    picked = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    if len(parts) > 1:
        picked.sort()  # back to (actor, target, channel) order, so each pair's rows are adjacent
    return _pairs_from_sorted(n, prep.g_actor[picked], prep.g_target[picked], prep.g_weight[picked])


def _reverse_positions(pairs: _Pairs, n: int) -> tuple[np.ndarray, sp.csr_array]:
    """For each pair a->b, the position of b->a in `pairs` (-1 when b never engaged a); and the
    transposed pattern (rows = targets) whose data are positions in `pairs`, for the power iteration.

    Done with sparse algebra (linear merges in C) rather than a per-pair search: the transposed
    matrix carries 1-based positions; multiplying it by the all-ones matrix of the scope keeps only
    mutual pairs, and adding that to the all-ones matrix puts every value back in `pairs` order.
    """
    m = len(pairs.actor)
    ones = sp.csr_array((np.ones(m), pairs.target, pairs.indptr), shape=(n, n))
    positions = sp.csr_array((np.arange(1.0, m + 1.0), pairs.target, pairs.indptr), shape=(n, n))
    by_target = positions.T.tocsr()
    aligned = (ones + by_target.multiply(ones)).tocsr()
    aligned.sort_indices()
    if aligned.nnz != m:  # pragma: no cover - the mutual pattern is a subset by construction
        raise RuntimeError("reciprocity alignment failed")
    by_target.data -= 1.0
    return aligned.data.astype(np.int64) - 2, by_target


_PAIR_SHIFT = 32  # pair key = actor << 32 | target (dense ids are < 2**31)
_INDEX = np.int32  # dense ids and pair positions kept per pair (< 2**31: half the memory of int64)


class _ScopeGraph:
    """The engagement pairs of one scope, ready for the power iteration, and updatable in place.

    The pairs built at once are kept in CSR order (by actor, then target) with their transposed
    matrix; pairs that appear later are appended after them ("extra" pairs, a small second matrix)
    instead of re-sorting millions of rows. Once `transition` has run, a change of some pairs'
    weights (`add`) updates the transition shares, the transposed matrix and the degree counts of
    only the pairs it affects, and `x` keeps the last trust vector so the next power iteration
    starts from it.

    Members are numbered locally: a topic's graph often involves a fifth of the community, and
    every vector of the iteration and the listing is as long as this numbering (`n`, including
    spare slots for members who appear later). `members` maps local to community-wide dense ids;
    `add` takes community-wide ids, every per-member array here is local (`gather`, `scatter`).
    """

    def __init__(self, pairs: _Pairs, n: int) -> None:
        present = np.diff(pairs.indptr) > 0
        present[pairs.target] = True
        members = np.flatnonzero(present)
        used = len(members)
        self.n = used + max(64, used // 16)
        self._used = used
        self._members = np.full(self.n, -1, np.int64)
        self._members[:used] = members
        self._local = np.full(len(pairs.indptr) - 1, -1, _INDEX)  # community-wide -> local
        self._local[members] = np.arange(used)
        indptr = np.concatenate([pairs.indptr[members], np.full(self.n - used + 1, pairs.indptr[-1])])
        pairs = _Pairs(self._local[pairs.actor], self._local[pairs.target], pairs.weight, indptr)
        n = self.n
        self.base = len(pairs.actor)
        reverse, by_target = _reverse_positions(pairs, n)
        # Pair columns live in buffers with room for pairs added later; the attributes are views.
        room = self.base + max(1024, self.base // 16)
        self._buffers: dict[str, np.ndarray] = {}
        for name, values, dtype in (
            ("actor", pairs.actor, _INDEX),
            ("target", pairs.target, _INDEX),
            ("weight", pairs.weight, np.float64),
            ("reverse", reverse, _INDEX),
            ("vote", None, np.float64),
        ):
            buffer = np.zeros(room, dtype)
            if values is not None:
                buffer[: self.base] = values
            self._buffers[name] = buffer
        self._size = 0
        self._resize(self.base)
        self._keys = (pairs.actor.astype(np.int64) << _PAIR_SHIFT) | pairs.target  # ascending: CSR order
        # Pairs added after the build: their keys sorted, and their positions in that order.
        self._extra_keys = np.zeros(0, np.int64)
        self._extra_pos = np.zeros(0, np.int64)
        self.x: np.ndarray | None = None
        # The votes of the base pairs transposed (rows = targets), placed through `_slot`.
        positions = by_target.data.astype(np.int64)
        self._base_t = sp.csr_array(
            (np.zeros(len(positions)), by_target.indices, by_target.indptr), shape=(n, n)
        )
        # ... their squares (for the listing's effective number of peers), and whether each is
        # present (weight > 0; for counting trusted peers), with the same structure.
        self._base_t2 = sp.csr_array(
            (np.zeros(len(positions)), by_target.indices, by_target.indptr), shape=(n, n)
        )
        self._base_p = sp.csr_array(
            (np.zeros(len(positions), np.float32), by_target.indices, by_target.indptr), shape=(n, n)
        )
        self._slot = np.empty(self.base, _INDEX)
        self._slot[positions] = np.arange(len(positions))
        # The same for pairs added later, over the targets they reach only (built on demand).
        self._extra_t: _ExtraVotes | None = None
        self._mutual: _Mutual | None = None  # pairs whose reverse pair exists (built on demand)
        # Valid once `transition` ran with `_params`; `add` keeps them up to date from then on.
        self._params: TrustParams | None = None
        self._row_total = np.zeros(0)
        self.in_deg = np.zeros(0, np.int64)  # distinct engagers (pairs with weight > 0) per member
        self.out_deg = np.zeros(0, np.int64)  # distinct members engaged per member
        self.got = np.zeros(0)  # engagement weight received per member

    def __len__(self) -> int:
        return self._size

    @property
    def members(self) -> np.ndarray:
        """Community-wide dense id of each local member in use."""
        return self._members[: self._used]

    def gather(self, values: np.ndarray, fill: Any = 0) -> np.ndarray:
        """A community-wide per-member array as a local one (`fill` in the spare slots)."""
        out = np.full(self.n, fill, values.dtype)
        out[: self._used] = values[self._members[: self._used]]
        return out

    def scatter(self, values: np.ndarray, size: int) -> np.ndarray:
        """A local per-member array as a community-wide one of `size` (zero elsewhere)."""
        out = np.zeros(size, values.dtype)
        out[self._members[: self._used]] = values[: self._used]
        return out

    def largest_per_actor(self, values: np.ndarray) -> np.ndarray:
        """Per local member, the largest of `values` (one per pair) over the pairs they are the actor
        of (0 without any); the built pairs are in actor order, so that is one segmented pass."""
        out = np.zeros(self.n)
        base = self.base
        if base:
            actor = self.actor[:base]
            heads = np.flatnonzero(np.r_[True, actor[1:] != actor[:-1]])
            out[actor[heads]] = np.maximum.reduceat(values[:base], heads)
        if len(self.actor) > base:
            np.maximum.at(out, self.actor[base:], values[base:])
        return np.maximum(out, 0.0)

    def local_of(self, member: int) -> int:
        """The local id of a community-wide dense id (-1 when not in this graph)."""
        return int(self._local[member]) if 0 <= member < len(self._local) else -1

    def _localize(self, members: np.ndarray) -> np.ndarray:
        """Local ids of community-wide dense ids, giving members new to this graph a spare slot."""
        local = self._local[members].astype(np.int64)
        missing = local < 0
        if missing.any():
            fresh = np.unique(members[missing])
            if self._used + len(fresh) > self.n:
                self._grow(self._used + len(fresh))
            slots = np.arange(self._used, self._used + len(fresh))
            self._members[slots] = fresh
            self._local[fresh] = slots
            self._used += len(fresh)
            local[missing] = self._local[members[missing]]
        return local

    def _grow(self, needed: int) -> None:
        """More local slots: every per-member array and the matrices' shape grow (rare: the spare
        slots of a scope ran out)."""
        old, n = self.n, max(needed, self.n + self.n // 4)
        self.n = n
        self._members = np.concatenate([self._members, np.full(n - old, -1, np.int64)])
        for name in ("_row_total", "got", "in_deg", "out_deg", "x"):
            values = getattr(self, name)
            if values is not None and len(values) == old:
                setattr(self, name, np.concatenate([values, np.zeros(n - old, values.dtype)]))
        for name in ("_base_t", "_base_t2", "_base_p"):
            m = getattr(self, name)
            indptr = np.concatenate([m.indptr, np.full(n - old, m.indptr[-1], m.indptr.dtype)])
            setattr(self, name, sp.csr_array((m.data, m.indices, indptr), shape=(n, n)))
        self._extra_t = None

    def _resize(self, size: int) -> None:
        """Make the pair columns `size` long (new pairs start zeroed), growing the buffers if needed."""
        if size > len(self._buffers["actor"]):
            room = size + max(1024, size // 4)
            for name, old in self._buffers.items():
                grown = np.zeros(room, old.dtype)
                grown[: self._size] = old[: self._size]
                self._buffers[name] = grown
        self._size = size
        views = {name: buffer[:size] for name, buffer in self._buffers.items()}
        self.actor, self.target, self.weight = views["actor"], views["target"], views["weight"]
        self.reverse, self.vote = views["reverse"], views["vote"]

    @property
    def extra_pairs(self) -> int:
        return len(self.actor) - self.base

    def _find(self, keys: np.ndarray) -> np.ndarray:
        """Positions of pair keys, -1 when absent."""
        found = np.full(len(keys), -1, np.int64)
        if self.base:
            pos = np.minimum(np.searchsorted(self._keys, keys), self.base - 1)
            hit = self._keys[pos] == keys
            found[hit] = pos[hit]
        if len(self._extra_keys):
            missing = np.flatnonzero(found < 0)
            extra = self._extra_keys
            pos = np.minimum(np.searchsorted(extra, keys[missing]), len(extra) - 1)
            hit = extra[pos] == keys[missing]
            found[missing[hit]] = self._extra_pos[pos[hit]]
        return found

    def add(self, actor: np.ndarray, target: np.ndarray, delta: np.ndarray) -> None:
        """Add `delta` to the weight of each (actor, target) pair (community-wide dense ids),
        creating new pairs."""
        if len(actor) == 0:
            return
        actor, target = self._localize(actor), self._localize(target)
        keys, inverse = np.unique((actor << _PAIR_SHIFT) | target, return_inverse=True)
        delta = np.bincount(inverse.ravel(), weights=delta, minlength=len(keys))
        pos = self._find(keys)
        new = pos < 0
        if new.any():
            fresh = keys[new]
            start = len(self.actor)
            pos[new] = np.arange(start, start + len(fresh))
            merged = np.concatenate([self._extra_keys, fresh])
            order = np.argsort(merged, kind="stable")
            self._extra_keys = merged[order]
            self._extra_pos = np.concatenate([self._extra_pos, pos[new]])[order]
            f_actor, f_target = fresh >> _PAIR_SHIFT, fresh & ((1 << _PAIR_SHIFT) - 1)
            back = self._find((f_target << _PAIR_SHIFT) | f_actor)
            self._resize(start + len(fresh))
            self.actor[start:], self.target[start:], self.reverse[start:] = f_actor, f_target, back
            mutual = back >= 0
            self.reverse[back[mutual]] = pos[new][mutual]
            became = np.concatenate([pos[new][mutual], back[mutual]])  # both directions: now mutual
            if self._mutual is not None and len(became) and not self._mutual.extend(self, became):
                self._mutual = None
            self._extra_t = None  # rebuilt with the new pairs when next needed
        before = self.weight[pos]
        self.weight[pos] += delta
        # Retractions can leave rounding dust where a weight should be exactly zero (and a weight is
        # never negative: a retraction cannot take back more than was counted).
        dust = pos[self.weight[pos] < 1e-12]
        self.weight[dust] = 0.0
        if self._params is None:
            self._extra_t = None
        else:
            self._update(pos, before)

    def _update(self, pos: np.ndarray, before: np.ndarray) -> None:
        """Bring the cached votes and counts up to date after the weights at `pos` changed.

        Only the changed pairs and their reverses (whose reciprocity ratio moved) are touched: the
        actor's row total is a separate vector, applied at multiplication time."""
        assert self._params is not None
        n = self.n
        after = self.weight[pos]
        was, now = before > 0, after > 0
        self.in_deg += np.bincount(self.target[pos], weights=now.astype(np.int64) - was, minlength=n).astype(
            np.int64
        )
        self.out_deg += np.bincount(self.actor[pos], weights=now.astype(np.int64) - was, minlength=n).astype(
            np.int64
        )
        self.got += np.bincount(self.target[pos], weights=after - before, minlength=n)
        old_sat = -np.expm1(-before / self._params.saturation)
        new_sat = -np.expm1(-after / self._params.saturation)
        self._row_total += np.bincount(self.actor[pos], weights=new_sat - old_sat, minlength=n)
        actors = self.actor[pos]
        dust = actors[np.abs(self._row_total[actors]) < 1e-12]
        self._row_total[dust] = 0.0  # retracted rows: rounding dust, not a total
        back = self.reverse[pos]
        touched = _sorted_unique(np.concatenate([back[back >= 0], pos]))
        self.vote[touched] = self._votes(touched)
        built = touched[touched < self.base]
        votes = self.vote[built]
        slots = self._slot[built]
        self._base_t.data[slots] = votes
        self._base_t2.data[slots] = votes * votes
        self._base_p.data[slots] = votes > 0
        extra = self._extra_t
        if extra is not None:  # the pairs added later, where built
            later = touched[touched >= self.base]
            votes, slots = self.vote[later], extra.slot[later - self.base]
            extra.votes.data[slots] = votes
            extra.squared.data[slots] = votes * votes
            extra.present.data[slots] = votes > 0

    def _votes(self, q: np.ndarray) -> np.ndarray:
        """Unnormalized votes of the pairs at positions `q` (see `transition`)."""
        assert self._params is not None
        vote = -np.expm1(-self.weight[q] / self._params.saturation)
        rho = self._params.reciprocity_damping
        w = self.weight
        back = self.reverse[q]
        mutual = (back >= 0) & (w[q] > 0)
        if rho > 0 and mutual.any():
            ratio = w[back[mutual]] / w[q[mutual]]
            vote[mutual] *= 1.0 - rho * np.minimum(ratio, 1.0)
        return vote

    def transition(self, params: TrustParams) -> None:
        """Prepare the transition: the share of an actor's trust passed to a target is
        vote_ab / total_a (rows sum to <= 1), kept as the votes and the actors' totals (`scale`).

        Saturation makes a pair's weight concave and bounded in its volume: vote = 1 - exp(-w / s).
        Reciprocity damping removes a fraction rho * min(1, w_ba / w_ab) of a->b: engagement that
        merely answers engagement received (reply-backs, trading, rings) is weak evidence, while
        unsolicited engagement keeps full weight. The row is normalized by the *undamped* saturated
        total, so the damped part is not handed to the actor's other targets: it leaks back to the
        seeds, which is what stops a ring from recirculating its own trust.
        """
        if self._params != params:
            n, w = self.n, self.weight
            present = w > 0
            self._params = params
            sat = -np.expm1(-w / params.saturation)
            self._row_total = np.bincount(self.actor, weights=sat, minlength=n)
            self.vote[:] = self._votes(np.arange(len(w)))
            self._extra_t = None
            self._base_t.data[self._slot] = self.vote[: self.base]
            np.square(self._base_t.data, out=self._base_t2.data)
            self._base_p.data[:] = self._base_t.data > 0
            self.in_deg = np.bincount(self.target, weights=present, minlength=n).astype(np.int64)
            self.out_deg = np.bincount(self.actor, weights=present, minlength=n).astype(np.int64)
            self.got = np.bincount(self.target, weights=w, minlength=n)

    def scale(self) -> np.ndarray:
        """1 / an actor's saturated total (0 for members who engaged nobody): share = vote * scale."""
        total = self._row_total
        return np.divide(1.0, total, out=np.zeros(len(total)), where=total > 0)

    def _extra(self) -> _ExtraVotes | None:
        if not self.extra_pairs:
            return None
        if self._extra_t is None:
            b = self.base
            rows, row_of = np.unique(self.target[b:], return_inverse=True)
            row_of = row_of.ravel()
            actor = self.actor[b:]
            order = np.lexsort((actor, row_of))  # CSR order: by target row, then actor
            slot = np.empty(len(order), np.int64)
            slot[order] = np.arange(len(order))
            indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of, minlength=len(rows)))])
            indices = actor[order]
            vote = self.vote[b:][order]
            shape = (len(rows), self.n)
            self._extra_t = _ExtraVotes(
                rows,
                slot,
                sp.csr_array((vote, indices, indptr), shape=shape),
                sp.csr_array((vote * vote, indices, indptr), shape=shape),
                sp.csr_array(((vote > 0).astype(np.float32), indices, indptr), shape=shape),
            )
        return self._extra_t

    def pull(self, v: np.ndarray, *, squared: bool = False) -> np.ndarray:
        """V^T v: per member, the sum over the pairs engaging them of vote * v[actor] (of vote^2 *
        v[actor] when `squared`). With v = scale * x this is P^T x."""
        y = (self._base_t2 if squared else self._base_t) @ v
        extra = self._extra()
        if extra is not None:
            y[extra.rows] += (extra.squared if squared else extra.votes) @ v
        return y

    def count_in(self, members: np.ndarray, counted: np.ndarray) -> np.ndarray:
        """Per member in `members`: how many of the actors engaging them (pairs with weight > 0)
        are `counted` (a 0/1 vector)."""
        flags = counted.astype(np.float32)  # sums of 0/1 in float32 are exact below 2**24
        got = self._base_p @ flags
        extra = self._extra()
        if extra is not None:
            got[extra.rows] += extra.present @ flags
        return got[members].astype(np.float64)

    def mutual(self) -> _Mutual:
        """The pairs whose reverse pair exists: positions, actors, targets, and for each the index
        of its reverse pair in the same arrays."""
        if self._mutual is None:
            at = np.flatnonzero(self.reverse >= 0)
            index = np.full(len(self.reverse), -1, np.int64)
            index[at] = np.arange(len(at))
            self._mutual = _Mutual(at, self.actor[at], self.target[at], index[self.reverse[at]])
        return self._mutual


@dataclass(frozen=True)
class _ExtraVotes:
    """Votes of the pairs added after a graph was built, transposed, over the targets they reach."""

    rows: np.ndarray  # dense ids of those targets (the matrices' rows)
    slot: np.ndarray  # where each added pair (position - base) sits in the matrices' data
    votes: sp.csr_array
    squared: sp.csr_array
    present: sp.csr_array  # 1 where the weight is > 0 (float32)


class _Mutual:
    """The pairs of a graph whose reverse pair exists: positions, actors, targets, and for each the
    index of its reverse pair in the same arrays. Kept in buffers with room for pairs that become
    mutual later."""

    def __init__(self, at: np.ndarray, actor: np.ndarray, target: np.ndarray, reverse: np.ndarray) -> None:
        self._size = len(at)
        room = self._size + max(1024, self._size // 8)
        self._columns = []
        for values in (at, actor, target, reverse):
            buffer = np.zeros(room, _INDEX)
            buffer[: self._size] = values
            self._columns.append(buffer)
        self._views()

    def _views(self) -> None:
        self.at, self.actor, self.target, self.reverse = (c[: self._size] for c in self._columns)

    def __len__(self) -> int:
        return self._size

    def extend(self, g: _ScopeGraph, positions: np.ndarray) -> bool:
        """Add the pairs at `positions`, which just became mutual together with their reverses (all
        of them in `positions`); False if one is missing (then the caller rebuilds)."""
        positions = np.unique(positions)
        reverse = g.reverse[positions]
        where = np.searchsorted(positions, reverse)
        if not np.array_equal(positions[np.minimum(where, len(positions) - 1)], reverse):
            return False
        start, end = self._size, self._size + len(positions)
        if end > len(self._columns[0]):
            room = end + max(1024, end // 4)
            grown = [np.zeros(room, _INDEX) for _ in self._columns]
            for new, old in zip(grown, self._columns, strict=True):
                new[:start] = old[:start]
            self._columns = grown
        for column, values in zip(
            self._columns, (positions, g.actor[positions], g.target[positions], start + where), strict=True
        ):
            column[start:end] = values
        self._size = end
        self._views()
        return True


def _power_iteration(
    pull: Callable[[np.ndarray], np.ndarray],
    scale: np.ndarray,
    seeds: np.ndarray,
    params: TrustParams,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, int, bool]:
    """Stationary trust: x = d * P^T x + (1 - d * |P^T x|) * s, s the normalized seed vector.

    Whatever is not passed along an edge (teleport, dangling members, leaked reciprocity) returns to
    the seeds, never uniformly to everyone: that is what keeps a seedless ring at zero. P^T x is
    computed as V^T (scale * x) (`pull`, e.g. `_ScopeGraph.pull`). `start` (the previous solution, after
    the graph changed a little) only shortens the iteration: the fixed point is unique, and the
    stopping rule is the same.
    """
    s = seeds / seeds.sum()
    x = s.copy() if start is None or len(start) != len(s) else start.copy()
    d = params.damping
    for step in range(1, params.max_iter + 1):
        y = pull(x * scale)
        y *= d
        y += (1.0 - y.sum()) * s
        change = float(np.abs(y - x).sum())
        x = y
        if change < params.tol:
            return x, step, True
    return x, params.max_iter, False


def _received(prep: _Prepared) -> sp.csr_array:
    """Decayed, kind-weighted engagement received per (member, channel code)."""
    n, n_ch = len(prep.ids), max(1, len(prep.channel_ids))
    recv = sp.csr_array((prep.g_weight, (prep.g_target, prep.g_channel)), shape=(n, n_ch))
    recv.sum_duplicates()
    return recv


def _top_topics(
    recv: sp.csr_array | np.ndarray,
    channel_ids: np.ndarray,
    codes: np.ndarray | None,
    listed: np.ndarray,
    max_topics: int,
) -> list[tuple[tuple[int, float], ...]]:
    """Largest channel shares of each listed member's received (decayed, kind-weighted) engagement
    inside the scope's channels (`codes`; None: all). `recv` is per (member, channel code), sparse or
    dense."""
    if max_topics == 0 or len(listed) == 0:
        return [()] * len(listed)
    columns = np.arange(recv.shape[1]) if codes is None else codes
    if isinstance(recv, np.ndarray):
        sub = recv[listed] if codes is None else recv[np.ix_(listed, codes)]
        top = np.argsort(-sub, axis=1, kind="stable")[:, :max_topics]  # ties: lower channel code first
        best = np.take_along_axis(sub, top, axis=1)
        totals = sub.sum(axis=1, keepdims=True)
        shares = np.round(np.divide(best, totals, out=np.zeros_like(best), where=totals > 0), 4)
        channels = channel_ids[columns[top]].tolist()
        counts = np.count_nonzero(best > 0, axis=1).tolist()  # largest first: the positive ones lead
        return [
            tuple(zip(cs[:k], ss[:k], strict=True))
            for cs, ss, k in zip(channels, shares.tolist(), counts, strict=True)
        ]
    sums = recv[listed]
    sums = sp.csr_array(sums if codes is None else sums[:, codes])
    sums.eliminate_zeros()
    sums.sort_indices()
    member_row = np.repeat(np.arange(len(listed)), np.diff(sums.indptr))
    totals = np.bincount(member_row, weights=sums.data, minlength=len(listed))
    order = np.lexsort((sums.indices, -sums.data, member_row))  # per member: largest first, ties by channel
    place = np.arange(len(order)) - sums.indptr[member_row[order]]
    best = order[place < max_topics]
    shares = np.round(sums.data[best] / totals[member_row[best]], 4)
    result: list[list[tuple[int, float]]] = [[] for _ in range(len(listed))]
    channels = channel_ids[columns[sums.indices[best]]]
    for row, channel, share in zip(
        member_row[best].tolist(), channels.tolist(), shares.tolist(), strict=True
    ):
        result[row].append((channel, share))
    return [tuple(r) for r in result]


def _said(
    posts_total: np.ndarray | None, posts_channel: sp.csc_array | None, codes: np.ndarray | None
) -> np.ndarray | None:
    """Decayed posts per member inside the scope's channels (`codes`; None: all), from the posts per
    member in total and per (member, channel code); None when posts are not known."""
    if posts_total is None or posts_channel is None:
        return None
    if codes is None:
        return posts_total
    if len(codes) == 0:
        return np.zeros(len(posts_total))
    return np.asarray(posts_channel[:, codes].sum(axis=1)).ravel()


def _posted(said: np.ndarray) -> float:
    """All posts of a scope for its average per-post draw, each member's counted up to the 90th
    percentile of the members' posts: a few prolific posters (spammers) must not make the average
    post theirs, which would set the yardstick they are measured by."""
    posting = said[said > 0]
    if len(posting) == 0:
        return 0.0
    return float(np.minimum(posting, np.quantile(posting, 0.9)).sum())


def _appeal(
    got: np.ndarray,
    said: np.ndarray | None,
    posts_total: np.ndarray | None,
    params: TrustParams,
    said_total: float | None = None,
) -> np.ndarray | None:
    """Volume-neutrality factor min(1, (received per post / the scope's average) ** appeal).

    Engagement scales with exposure: post ten times as much and you collect more replies and more
    distinct repliers by chance alone. What marks a voice people seek out is how much each of their
    posts draws, not how many they post, so a member whose posts draw less than an average post in
    the scope is discounted in proportion. Never a bonus (capped at 1); a member with posts elsewhere
    but none in the scope is not affected, one with no recorded post at all gets 0 (see below).
    `got` is the engagement each member received in the scope, `said` their posts there, and
    `said_total` all posts there (default: the sum of `said`).
    """
    if said is None or posts_total is None or params.appeal <= 0:
        return None
    total = float(said.sum()) if said_total is None else said_total
    if total <= 0:
        return None
    average = float(got.sum()) / total
    if average <= 0:
        return None
    per_post = np.divide(got, said, out=np.full(len(got), np.inf), where=said > 0)
    # Engagement with someone who posted nothing we recorded in the whole window is engagement with
    # content we never saw: a bot's or webhook's messages (never recorded) or posts older than the
    # window. Neither makes a current voice.
    per_post[posts_total <= 0] = 0.0
    return np.minimum(1.0, (per_post / average) ** params.appeal)


@dataclass
class _Solved:
    """A scope's power iteration: what the listing needs from it."""

    scale: np.ndarray  # 1 / each actor's saturated total, as in `_ScopeGraph.scale`
    x: np.ndarray
    iterations: int
    converged: bool


def _solve(
    g: _ScopeGraph,
    seed_weight: np.ndarray,
    params: TrustParams,
    *,
    warm: bool,
    keep: np.ndarray | None = None,
) -> _Solved | None:
    """Trust of a scope's graph; None when no seed votes in it (then there is no trust to hand out:
    ranking the scope anyway, as plain PageRank, would reward whoever generates most engagement).
    `keep` (community-wide, see `_Evidence`) scales each member's votes; the rest leaks to the seeds."""
    g.transition(params)
    seeds = np.where(g.out_deg > 0, g.gather(seed_weight), 0.0)  # seeds who vote in this scope
    if seeds.sum() <= 0:
        return None
    scale = g.scale()
    if keep is not None:
        scale *= g.gather(keep, 1.0)
    x, iterations, converged = _power_iteration(g.pull, scale, seeds, params, g.x if warm else None)
    g.x = x
    return _Solved(scale, x, iterations, converged)


def _listing(
    g: _ScopeGraph,
    solved: _Solved,
    *,
    ids: np.ndarray,
    evidence: _Evidence,
    pinned: np.ndarray,
    params: TrustParams,
    codes: np.ndarray | None,
    channel_ids: np.ndarray,
    recv: sp.csr_array | np.ndarray,
    posts_total: np.ndarray | None,
    said: np.ndarray | None,
    previous: Mapping[int, float] | None,
    limit: int | None,
) -> Listing:
    """Listing value, eligibility, order and explanation of every member of a solved scope.

    `codes` are the scope's channel codes (None: all), `channel_ids` the channel of each code,
    `recv` the received engagement per (member, channel code) for the topics, `posts_total` and
    `said` the decayed posts per member in total and inside the scope (None: unknown) for
    volume-neutrality."""
    n = g.n
    scale, x = solved.scale, solved.x
    # Community-wide per-member inputs, renumbered as the graph's members.
    said_total = None if said is None else _posted(said)
    ids, seed_weight, pinned = g.gather(ids, -1), g.gather(evidence.seed_weight), g.gather(pinned, False)
    posts_total = None if posts_total is None else g.gather(posts_total)
    said = None if said is None else g.gather(said)
    # Trust each peer passes on, minus what the member itself had just passed to that peer: your own
    # trust coming straight back (a conversation partner, an alt you feed) is not recognition.
    # Summed with sparse products over all pairs (what each peer passes on, d * x_a * share_ab, and
    # its square), then corrected on the mutual pairs only, where the member's own trust comes back.
    d = params.damping
    xs = x * scale
    if posts_total is not None:  # what each member passes on, and the attention it gives (see below)
        both = g.pull(np.column_stack([xs, scale]))
        received, attention = both[:, 0] * d, both[:, 1]
    else:
        received, attention = g.pull(xs) * d, g.got
    squares = g.pull(xs * xs, squared=True) * (d * d)
    plain = received.copy()
    mutual = g.mutual()
    if len(mutual):
        a = mutual.actor
        xa = x[a]
        share = g.vote[mutual.at] * scale[a]
        passed = d * xa * share
        own = passed[mutual.reverse]  # what the target passed straight back to the actor
        kept = d * np.maximum(xa - own, 0.0) * share
        received -= np.bincount(mutual.target, weights=passed - kept, minlength=n)
        squares -= np.bincount(mutual.target, weights=passed * passed - kept * kept, minlength=n)
        # What cancels out entirely must come out as zero, not as rounding dust.
        received[received <= plain * 1e-9] = 0.0
        squares[received <= 0] = 0.0
    effective = np.divide(received * received, squares, out=np.zeros(n), where=squares > 0)
    diversity = -np.expm1(-effective / params.diversity_scale)
    value = received * diversity
    # What a member's posts draw: the attention each engager gives them, i.e. its share of the
    # engager's (saturated) engagement, so an account that engages with everyone adds little to
    # anyone's draw; and with the engager's coordination discount (`keep`), so engagement from
    # coordinated accounts adds little either.
    got = attention
    own = g.gather(evidence.keep, 1.0) if evidence.keep is not None else 1.0
    coordinated = np.zeros(n)
    reason = np.zeros(n, np.int8)
    if evidence.coordinated is not None and evidence.woke is not None and evidence.reason is not None:
        # Engagement from coordinated accounts does not count toward what a member's posts draw, and
        # trust that arrived from accounts that became active together is taken off.
        coordinated, reason = g.gather(evidence.coordinated), g.gather(evidence.reason)
        got = got * (1.0 - g.gather(evidence.woke))
        value = value * (1.0 - coordinated) * own
    appeal = _appeal(got, said, posts_total, params, said_total)
    if appeal is not None:
        value = value * appeal

    in_deg, out_deg = g.in_deg, g.out_deg
    active = int(np.count_nonzero((in_deg > 0) | (out_deg > 0)))
    eligible = (in_deg >= params.min_peers_listed) & (value > 0)
    listed = np.flatnonzero(eligible)
    n_listed = len(listed)
    if n_listed == 0 or limit == 0:
        return Listing.empty()
    # Order by value, then member id. Values closer than a millionth of the top one are ties: the
    # trust vector is only that precise (the iteration stops at an L1 change of `tol`), and the
    # order of equals must not depend on rounding (nor on whether they were updated in place).
    rank_key = np.round(value[listed] * (1e6 / value[listed].max()))
    if limit is not None and limit < n_listed:  # sort only what can make the cut (ties kept)
        cut = np.partition(rank_key, n_listed - limit)[n_listed - limit]
        keep = rank_key >= cut
        listed, rank_key = listed[keep], rank_key[keep]
    order = np.lexsort((ids[listed], -rank_key))
    listed = listed[order][:limit]
    # Trusted peers: engagers who are seeds or hold at least the average trust, for the listed only.
    trusted = ((seed_weight >= 0.5) | (x >= 1.0 / max(active, 1))).astype(np.float64)
    trusted_in = g.count_in(listed, trusted)
    member = ids[listed]
    if previous:
        before = np.array([previous.get(m, np.nan) for m in member.tolist()], np.float64)
        before[before <= 0] = np.nan
    else:
        before = np.full(len(listed), np.nan)
    score = np.minimum(value[listed] / value[listed[0]], 1.0)  # ties at the top: 1 too
    columns = {
        "member_id": member,
        "score": score,
        "peers": in_deg[listed],
        "trusted": trusted_in.round().astype(np.int64),
        "effective": effective[listed],
        "received": received[listed],
        "diversity": diversity[listed],
        "appeal": appeal[listed] if appeal is not None else np.ones(len(listed)),
        "trust": x[listed],
        "seed": seed_weight[listed] > 0,
        "pinned": pinned[listed],
        "trend": score / before - 1.0,
        "coordinated": coordinated[listed],
        "reason": reason[listed],
    }
    return Listing(
        columns,
        _top_topics(recv, channel_ids, codes, g.members[listed], params.max_topics),
        had_previous=previous is not None,
        listed=n_listed,
        scope_members=active,
        iterations=solved.iterations,
        converged=solved.converged,
    )


def _compute(
    prep: _Prepared,
    params: TrustParams,
    channels: Collection[int] | None,
    previous: Mapping[int, float] | None,
    limit: int | None = None,
    recv: sp.csr_array | None = None,
    community: tuple[_ScopeGraph, _Evidence] | None = None,
) -> Listing:
    """One scope's listing; `community` is the community-wide graph and the evidence derived from
    it (`_community`), computed once for all scopes."""
    n = len(prep.ids)
    if n == 0 or (limit is not None and limit <= 0):
        return Listing.empty()
    g_all, evidence = community if community is not None else _community(prep, params)
    codes = _channel_codes(prep, channels)
    if codes is None:
        g = g_all
    else:
        pairs = _scope_pairs(prep, codes)
        if len(pairs.actor) == 0:
            return Listing.empty()
        g = _ScopeGraph(pairs, n)
    if len(g) == 0:
        return Listing.empty()
    solved = _solve(g, evidence.seed_weight, params, warm=False, keep=evidence.keep)
    if solved is None:
        return Listing.empty()
    return _listing(
        g,
        solved,
        ids=prep.ids,
        evidence=evidence,
        pinned=prep.pinned,
        params=params,
        codes=codes,
        channel_ids=prep.channel_ids,
        recv=recv if recv is not None else _received(prep),
        posts_total=prep.posts_total,
        said=_said(prep.posts_total, prep.posts_channel, codes),
        previous=previous,
        limit=limit,
    )


def _community(prep: _Prepared, params: TrustParams) -> tuple[_ScopeGraph, _Evidence]:
    """The community-wide graph (the 'all' scope's) and the evidence derived from it."""
    g = _ScopeGraph(prep.all_pairs, len(prep.ids))
    g.transition(params)
    evidence = _evidence(
        g,
        len(prep.ids),
        ids=prep.ids,
        engaged_from=prep.engaged_from,
        excluded=prep.excluded,
        pinned=prep.pinned,
        members=prep.members,
        active=prep.active,
        received=prep.received,
        posts=prep.posts_total,
        params=params,
        today=prep.today,
    )
    return g, evidence


def compute_scope(
    edges: Edges,
    members: MemberFacts,
    params: TrustParams,
    *,
    today: int,
    channels: Collection[int] | None = None,
    previous: Mapping[int, float] | None = None,
    limit: int | None = None,
    posts: Posts | None = None,
) -> list[Ranked]:
    """Rank one scope: the whole community (`channels=None`) or only edges in `channels`.

    Seeds are chosen community-wide (being established is a property of membership, not of a
    channel), but only seeds who engaged inside the scope hand out trust there. `previous` maps
    member id to the `score` of the previous period, for `Ranked.trend`. `limit` keeps only the top
    `limit` entries (building thousands of explained entries nobody reads costs time).
    """
    prep = _prepare(edges, members, params, today, by_channel=channels is not None, posts=posts)
    if len(prep.ids) == 0:
        return []
    return _compute(prep, params, channels, previous, limit).entries()


def compute_all(
    edges: Edges,
    members: MemberFacts,
    params: TrustParams,
    *,
    today: int,
    scopes: Mapping[str, Collection[int] | None],
    previous: Mapping[str, Mapping[int, float]] | None = None,
    limit: int | None = None,
    workers: int | None = None,
    posts: Posts | None = None,
) -> dict[str, list[Ranked]]:
    """Rank several scopes, e.g. `{'all': None, 'channel:123': {123}, 'category:9': {10, 11}}`.

    The daily rows are grouped once and shared; scopes then run in a small thread pool (the sparse
    products release the GIL). `workers=1` runs them sequentially.
    """
    by_channel = any(c is not None for c in scopes.values())
    prep = _prepare(edges, members, params, today, by_channel=by_channel, posts=posts)
    previous = previous or {}
    names = list(scopes)
    workers = workers or min(len(names), os.cpu_count() or 1, 4)
    recv = _received(prep)
    if len(prep.ids) == 0:
        return {name: [] for name in names}
    community = _community(prep, params)
    if workers <= 1 or len(names) <= 1:
        return {
            name: _compute(prep, params, scopes[name], previous.get(name), limit, recv, community).entries()
            for name in names
        }
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            name: pool.submit(
                _compute, prep, params, scopes[name], previous.get(name), limit, recv, community
            )
            for name in names
        }
        return {name: futures[name].result().entries() for name in names}


def _dependents(
    g: _ScopeGraph, solved: _Solved, member: int, params: TrustParams, min_share: float
) -> tuple[np.ndarray, np.ndarray]:
    """Local ids of the members of `g` who received at least `min_share` of their trust from
    `member` (a local id), and those shares, largest first."""
    d = params.damping
    x, scale = solved.x, solved.scale
    rows = np.flatnonzero((g.actor == member) & (g.vote > 0))
    if len(rows) == 0 or x[member] <= 0:
        return np.zeros(0, np.int64), np.zeros(0)
    received = g.pull(x * scale) * d  # everything passed on to each member
    target = g.target[rows].astype(np.int64)
    passed = d * x[member] * scale[member] * g.vote[rows]
    share = np.divide(passed, received[target], out=np.zeros(len(rows)), where=received[target] > 0)
    keep = share >= min_share
    order = np.argsort(-share[keep], kind="stable")
    return target[keep][order], np.minimum(share[keep][order], 1.0)


def dependents(
    edges: Edges,
    members: MemberFacts,
    params: TrustParams,
    *,
    today: int,
    member_id: int,
    posts: Posts | None = None,
    min_share: float = 0.5,
) -> list[tuple[int, float]]:
    """Whose standing depends mostly on one member: the members who received at least `min_share`
    of their trust (community-wide) from `member_id`, with that share, largest first. What a
    moderator excluding `member_id` should look at next (an alt owner's alts, a ring's mates, the
    beneficiary of a bought account)."""
    prep = _prepare(edges, members, params, today, by_channel=False, posts=posts)
    at = np.flatnonzero(prep.ids == member_id)
    if len(at) == 0 or prep.excluded[at[0]]:
        return []
    g, evidence = _community(prep, params)
    solved = _solve(g, evidence.seed_weight, params, warm=False, keep=evidence.keep)
    local = g.local_of(int(at[0]))
    if solved is None or local < 0:
        return []
    who, share = _dependents(g, solved, local, params, min_share)
    ids = g.gather(prep.ids, -1)
    return list(zip(ids[who].tolist(), share.tolist(), strict=True))


# --------------------------------------------------------------------------------------------------
# Explanations. `explain_parts` yields (message key, params) for the i18n layer; `explain` renders the
# built-in English text (other languages fall back to it until the catalogs carry these keys).

EXPLAIN_EN: Mapping[str, str] = MappingProxyType(
    {
        "trust.why.peers": "Engaged with by {peers} distinct members, {trusted} of them trusted themselves",
        "trust.why.topic": "most active in {channel} ({share}%)",
        "trust.why.trend_up": "up {pct}% vs the previous period",
        "trust.why.trend_down": "down {pct}% vs the previous period",
        "trust.why.trend_flat": "steady vs the previous period",
        "trust.why.new": "new in this ranking",
        "trust.why.pinned": "pinned as a trusted member by the moderators",
        "trust.why.coordinated_woke": "{pct}% of this engagement comes from accounts that were quiet "
        "for a long time and became active together",
        "trust.why.coordinated_one": "{pct}% of this engagement comes from accounts that engage almost "
        "only with this member",
        "trust.why.coordinated_group": "{pct}% of this engagement comes from a group whose members "
        "mostly engage with each other",
    }
)

#: The explanation says where a member's engagement came from when at least this share of it came
#: from coordinated accounts (see `Ranked.why['coordinated']`).
COORDINATION_SHOWN = 0.25


def coordination_part(share: float, reason: int | str) -> tuple[str, dict[str, Any]] | None:
    """The explanation part for a share of engagement from coordinated accounts (None below
    COORDINATION_SHOWN); `reason` is an index in REASONS or its name."""
    if not share >= COORDINATION_SHOWN:
        return None
    name = reason if isinstance(reason, str) else REASONS[int(reason)]
    return (f"trust.why.coordinated_{name}", {"pct": round(share * 100)})


def explain_parts(
    r: Ranked, *, channel_name: Callable[[int], str] | None = None, raw_channels: bool = False
) -> list[tuple[str, dict[str, Any]]]:
    """The explanation as (message key, params) pairs, in display order. With `raw_channels` a
    topic carries `channel_id` (for storing) instead of a displayable `channel` name."""
    parts: list[tuple[str, dict[str, Any]]] = [
        ("trust.why.peers", {"peers": r.distinct_peers, "trusted": r.trusted_peers})
    ]
    if r.top_topics:
        channel, share = r.top_topics[0]
        if raw_channels:
            parts.append(("trust.why.topic", {"channel_id": int(channel), "share": round(share * 100)}))
        else:
            name = channel_name(channel) if channel_name else f"#{channel}"
            parts.append(("trust.why.topic", {"channel": name, "share": round(share * 100)}))
    coordinated = coordination_part(r.why.get("coordinated", 0.0), r.why.get("coordinated_reason", "woke"))
    if coordinated is not None:
        parts.append(coordinated)
    if r.trend is not None:
        pct = round(abs(r.trend) * 100)
        if pct == 0:
            parts.append(("trust.why.trend_flat", {}))
        else:
            parts.append(("trust.why.trend_up" if r.trend > 0 else "trust.why.trend_down", {"pct": pct}))
    elif r.why.get("had_previous"):
        parts.append(("trust.why.new", {}))
    if r.why.get("pinned"):
        parts.append(("trust.why.pinned", {}))
    return parts


def explain(r: Ranked, *, lang: str = "en", channel_name: Callable[[int], str] | None = None) -> str:
    """Plain-language explanation, e.g. "Engaged with by 42 distinct members, 17 of them trusted
    themselves; most active in #cooking (60%); up 12% vs the previous period."

    `lang` is accepted for the i18n wiring to come; only English text is built in for now.
    """
    del lang  # catalogs will provide translations of the keys returned by explain_parts
    texts = [EXPLAIN_EN[key].format(**params) for key, params in explain_parts(r, channel_name=channel_name)]
    return "; ".join(texts) + "."
