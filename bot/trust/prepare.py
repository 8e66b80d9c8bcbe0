"""Preparation shared by every scope of one ranking: daily rows to weighted, grouped pairs.

`prepare` weighs each daily engagement row (kind weight x count x decay; rows that do not count are
dropped: outside the window, zero-weight kinds, self-engagement, bots and excluded members in either
direction), maps member and channel ids to dense codes, groups the rows by (actor, target, channel)
once, picks the seeds and counts decayed posts per member. Each scope then takes its pairs
(`scope_pairs`, linear in its rows), its received engagement per channel (`received_by_channel`)
and its posts (`posts_in_scope`) from that. Guarantees: the result does not depend on the order of
the input rows, and every scope sees the same dense ids. Pure numpy/scipy.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from bot.trust.ids import IdIndex, sorted_unique
from bot.trust.params import KINDS, Edges, MemberFacts, Posts, TrustParams
from bot.trust.solver import Pairs, pairs_from_sorted, seed_weights


@dataclass(frozen=True)
class Prepared:
    """What every scope of one ranking shares (see `prepare`); per-member arrays use dense ids."""

    ids: np.ndarray  # dense index -> member id
    channel_ids: np.ndarray  # channel code -> channel id
    channel_index: IdIndex
    # Engagement grouped by (actor, target, channel): sorted by actor, then target, then channel.
    g_actor: np.ndarray
    g_target: np.ndarray
    g_channel: np.ndarray
    g_weight: np.ndarray
    seed_weight: np.ndarray  # teleport weight per dense member (0 = not a seed)
    pinned: np.ndarray  # bool per dense member
    excluded: np.ndarray  # bool per dense member: bots and excluded members (their rows are dropped)
    engaged_from: np.ndarray  # first day each dense member engaged or posted in the window (inf: never)
    all_pairs: Pairs  # the community-wide pair aggregation (also needed for seed selection)
    channel_order: tuple[np.ndarray, np.ndarray] | None  # grouped rows by channel; offsets per channel
    posts_total: np.ndarray | None = None  # decayed posts per dense member (None: no Posts given)
    posts_channel: sp.csc_array | None = None  # the same per (member, channel code)
    # Counts per (dense member, age in days) of engagement given or posts written (`active`), and
    # of engagement received from others (`received`); see `bot.trust.evidence.standing_of`.
    active: np.ndarray | None = None
    received: np.ndarray | None = None
    # Engagement received of the kinds whose day the platform states (`DatedDays`; None: the
    # single-day test is off).
    dated: DatedDays | None = None
    # Who engaged whom on which day, for the new-engager test (`FirstContacts`; None: it is off).
    contacts: FirstContacts | None = None
    members: MemberFacts = field(default_factory=MemberFacts)
    today: int = 0


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


def history_days(params: TrustParams) -> int:
    """Columns of the per-day activity arrays: ages 0 (today) to the window's last day."""
    return math.floor(params.window_days) + 1


def per_day(member: np.ndarray, age: np.ndarray, n: np.ndarray, size: int, days: int) -> np.ndarray:
    """Counts per (member, age in days) as a dense float32 array (exact for counts below 2**24)."""
    key = member.astype(np.int64) * days + age
    return np.bincount(key, weights=n, minlength=size * days).astype(np.float32).reshape(size, days)


@dataclass
class DatedDays:
    """Engagement received per (member, age in days) of the kinds whose day the platform states
    (every kind but reactions, whose day is when the bot saw them), sparse (most members are
    engaged on few days), with the decay the ranking weighs each age by."""

    counts: sp.csr_array  # (members, days) float32
    decay: np.ndarray  # weight per age in days

    @classmethod
    def of(
        cls, member: np.ndarray, age: np.ndarray, n: np.ndarray, size: int, days: int, half_life: float
    ) -> DatedDays:
        dense = np.bincount(member * days + age, weights=n, minlength=size * days)
        at = np.flatnonzero(dense)  # row-major: the rows' entries come in order, already sorted
        indptr = np.searchsorted(at, np.arange(size + 1, dtype=np.int64) * days)
        counts = sp.csr_array((dense[at].astype(np.float32), at % days, indptr), shape=(size, days))
        return cls(counts, 0.5 ** (np.arange(days) / half_life))

    def resized(self, size: int) -> DatedDays:
        """The same with room for `size` members (the new ones with nothing received)."""
        counts = self.counts.copy()
        counts.resize((size, counts.shape[1]))
        return DatedDays(counts, self.decay)

    def add(self, member: np.ndarray, age: np.ndarray, n: np.ndarray) -> None:
        """Add counts (an update in place)."""
        if len(member):
            added = sp.csr_array((n.astype(np.float32), (member, age)), shape=self.counts.shape)
            self.counts = sp.csr_array(self.counts + added)

    def busiest_share(self) -> np.ndarray:
        """Per member: the share of their decayed engagement that came on their busiest day."""
        weighted = sp.csr_array(self.counts @ sp.diags_array(self.decay.astype(np.float32)))
        total = np.asarray(weighted.sum(axis=1), np.float64).ravel()
        busiest = weighted.max(axis=1).toarray().astype(np.float64).ravel()
        return np.divide(busiest, total, out=np.zeros(len(total)), where=total > 0)


#: The new-engager test looks at weeks of this many days ...
BURST_DAYS = 7
#: ... starting at least this many days after the history's oldest engagement: before that, every
#: relationship older than the window looks new.
BURST_SKIP_DAYS = 30


@dataclass
class FirstContacts:
    """Engagement counts per (target, actor, age in days), of every kind that carries weight, sparse:
    row = target, column = actor * days + age, zeros dropped. What the new-engager test needs (the
    day each actor first engaged each target in the window) and exactly updatable in place: a
    retraction that empties a pair's first day leaves its next day as the first."""

    counts: sp.csr_array
    days: int

    @classmethod
    def of(
        cls, actor: np.ndarray, target: np.ndarray, age: np.ndarray, n: np.ndarray, size: int, days: int
    ) -> FirstContacts:
        column = actor.astype(np.int64) * days + age
        counts = sp.csr_array((n.astype(np.float32), (target, column)), shape=(size, size * days))
        counts.sum_duplicates()
        counts.eliminate_zeros()
        return cls(counts, days)

    def resized(self, size: int) -> FirstContacts:
        """The same with room for `size` members (the new ones with nothing)."""
        counts = self.counts.copy()
        counts.resize((size, size * self.days))
        return FirstContacts(counts, self.days)

    def add(self, actor: np.ndarray, target: np.ndarray, age: np.ndarray, n: np.ndarray) -> None:
        """Add counts (changes of daily counts, retractions negative; an update in place)."""
        if len(actor):
            column = actor.astype(np.int64) * self.days + age
            added = sp.csr_array((n.astype(np.float32), (target, column)), shape=self.counts.shape)
            counts = sp.csr_array(self.counts + added)
            counts.data[np.abs(counts.data) < 0.5] = 0.0  # counts are whole: retracted to zero
            counts.eliminate_zeros()
            self.counts = counts

    def burst_share(self) -> tuple[np.ndarray, np.ndarray]:
        """Per member: the share of their distinct engagers whose first engagement with them falls
        in their busiest `BURST_DAYS` days (weeks starting `BURST_SKIP_DAYS` or more after the
        oldest engagement of the history), and the number of distinct engagers."""
        counts, days = self.counts, self.days
        size = counts.shape[0]
        if counts.nnz == 0:
            return np.zeros(size), np.zeros(size)
        # Canonical form: each row's columns ascending, so a pair's entries are adjacent, oldest
        # (largest age) last.
        counts.sum_duplicates()
        row = np.repeat(np.arange(size, dtype=np.int64), np.diff(counts.indptr))
        actor, age = np.divmod(counts.indices.astype(np.int64), days)
        last = np.ones(len(row), np.bool_)
        last[:-1] = (row[1:] != row[:-1]) | (actor[1:] != actor[:-1])
        row, first = row[last], age[last]
        engagers = np.bincount(row, minlength=size).astype(np.float64)
        span = int(age.max()) + 1  # the oldest engagement's age + 1: the history's days
        zone = span - BURST_SKIP_DAYS  # ages 0 .. zone - 1 lie in weeks that are looked at
        if zone < BURST_DAYS:
            return np.zeros(size), engagers
        inside = first < zone
        # Arrivals per (member, age + 1), accumulated: cum[:, k] = arrivals at ages below k.
        key = row[inside] * (zone + 1) + first[inside] + 1
        hist = np.bincount(key, minlength=size * (zone + 1)).astype(np.int32).reshape(size, zone + 1)
        cum = np.cumsum(hist, axis=1, dtype=np.int32)
        busiest = (cum[:, BURST_DAYS:] - cum[:, :-BURST_DAYS]).max(axis=1).astype(np.float64)
        return np.divide(busiest, engagers, out=np.zeros(size), where=engagers > 0), engagers


def oldest_ages(counts: np.ndarray) -> np.ndarray:
    """Per row of counts per (member, age in days): 1 + the oldest age with a positive count (0:
    none), as int64."""
    days = counts.shape[1]
    # The largest age with activity: one multiply and a row maximum in a small integer type (a
    # reversed argmax over the strided array is four times slower).
    ages = np.arange(1, days + 1, dtype=np.uint8 if days < 255 else np.uint16)
    return ((counts > 0) * ages).max(axis=1, initial=0).astype(np.int64)


def first_active(active: np.ndarray, today: int, oldest: np.ndarray | None = None) -> np.ndarray:
    """The first day each member engaged anyone or posted in the window (inf: never), from the
    activity per (member, age in days), or from its `oldest_ages` when already known."""
    ages = (oldest_ages(active) if oldest is None else oldest).astype(np.float64)  # 0: never active
    return np.where(ages > 0, today - (ages - 1.0), np.inf)


def _posts_per_member(
    posts: Posts,
    ids: np.ndarray,
    channel_index: IdIndex,
    n_ch: int,
    params: TrustParams,
    today: int,
    active: np.ndarray | None = None,
) -> tuple[np.ndarray, sp.csc_array]:
    """Decayed post counts per member: in total, and per (member, channel code) for topic scopes.
    The posts are also counted into `active` (per member and age in days), when given."""
    n = len(ids)
    age = np.clip(today - posts.day, 0, None)
    idx = IdIndex(ids).lookup(posts.member) if len(posts) else np.zeros(0, np.int64)
    use = (posts.n > 0) & (age <= math.floor(params.window_days)) & (idx >= 0)
    if active is not None:
        active += per_day(idx[use], age[use], posts.n[use], n, active.shape[1])
    weight = posts.n[use] * np.exp2(-age[use] / params.half_life_days)
    idx = idx[use]
    total = np.bincount(idx, weights=weight, minlength=n).astype(np.float64)
    codes = channel_index.lookup(posts.channel[use]) if len(idx) else np.zeros(0, np.int64)
    known = codes >= 0
    by_channel = sp.csc_array((weight[known], (idx[known], codes[known])), shape=(n, max(1, n_ch)))
    by_channel.sum_duplicates()
    return total, by_channel


def weighted_rows(
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


def prepare(
    edges: Edges,
    members: MemberFacts,
    params: TrustParams,
    today: int,
    *,
    by_channel: bool,
    posts: Posts | None = None,
) -> Prepared:
    """Everything the scopes share: dense ids, seeds, and the rows grouped by (actor, target, channel)."""
    n_known = len(members.member_id)
    usable, weight, age = weighted_rows(edges, params, today, counts=edges.n > 0)
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
    facts_index = IdIndex(ids, np.where(excluded_known, -2, np.arange(n_known)))
    a_idx = facts_index.lookup(actor)
    t_idx = facts_index.lookup(target)
    miss_a, miss_t = a_idx == -1, t_idx == -1
    if miss_a.any() or miss_t.any():
        extra = sorted_unique(np.concatenate([actor[miss_a], target[miss_t]]))
        extra_values = np.where(np.isin(extra, excluded_ids), -2, np.arange(n_known, n_known + len(extra)))
        extra_index = IdIndex(extra, extra_values)
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
    days = history_days(params)
    run = None if heads is None else np.repeat(np.arange(len(a_idx)), np.diff(np.append(heads, len(row_age))))
    kept = ~dropped if run is None else ~dropped[run]
    ra = a_idx if run is None else a_idx[run]
    rt = t_idx if run is None else t_idx[run]
    active = per_day(ra[kept], row_age[kept], row_n[kept], n, days)
    received = per_day(rt[kept], row_age[kept], row_n[kept], n, days)
    # The same for the kinds whose day the platform states (every kind but reactions, whose day is
    # when the bot saw them), for the single-day test.
    dated = None
    if params.single_day:
        timed = kept & (col(edges.kind) != KINDS.index("reaction"))
        dated = DatedDays.of(rt[timed], row_age[timed], row_n[timed], n, days, params.half_life_days)
    contacts = None
    if params.new_engager_burst:
        contacts = FirstContacts.of(ra[kept], rt[kept], row_age[kept], row_n[kept], n, days)

    channel_ids = sorted_unique(channel)
    channel_index = IdIndex(channel_ids)
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
    all_pairs = pairs_from_sorted(n, g_actor, g_target, g_weight)

    posts_total, posts_channel = None, None
    if posts is not None:
        counted = _posts_per_member(posts, ids, channel_index, len(channel_ids), params, today, active)
        if params.appeal > 0:
            posts_total, posts_channel = counted
    engaged_from = first_active(active, today)
    out_peers = np.diff(all_pairs.indptr)
    seed_weight = seed_weights(ids, engaged_from, out_peers, excluded, pinned, members, params, today)
    return Prepared(
        members=members,
        today=today,
        active=active,
        received=received,
        dated=dated,
        contacts=contacts,
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


def _channel_order(g_channel: np.ndarray, n_ch: int) -> tuple[np.ndarray, np.ndarray]:
    """Grouped rows by channel (stable, so each channel's rows stay sorted) and per-channel offsets."""
    codes = g_channel.astype(np.uint16) if n_ch <= 1 << 16 else g_channel  # uint16 sorts by radix
    order = np.argsort(codes, kind="stable")
    offsets = np.zeros(n_ch + 1, np.int64)
    np.cumsum(np.bincount(g_channel, minlength=n_ch), out=offsets[1:])
    return order, offsets


def channel_codes(prep: Prepared, channels: Collection[int] | None) -> np.ndarray | None:
    """Sorted channel codes of a scope (None: the whole community); unknown channels are left out."""
    if channels is None:
        return None
    wanted = sorted_unique(np.fromiter((int(c) for c in channels), np.int64))
    codes = prep.channel_index.lookup(wanted) if len(wanted) else wanted
    return codes[codes >= 0]


def scope_pairs(prep: Prepared, codes: np.ndarray | None) -> Pairs:
    """Pairs of the scope (channel codes from `channel_codes`), weights summed over its channels."""
    n = len(prep.ids)
    if codes is None:
        return prep.all_pairs
    if prep.channel_order is None:  # pragma: no cover - prepare is told whether scopes need it
        raise RuntimeError("prepared without the channel index")
    order, offsets = prep.channel_order
    parts = [order[offsets[c] : offsets[c + 1]] for c in codes.tolist()]
    picked = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    if len(parts) > 1:
        picked.sort()  # back to (actor, target, channel) order, so each pair's rows are adjacent
    return pairs_from_sorted(n, prep.g_actor[picked], prep.g_target[picked], prep.g_weight[picked])


def received_by_channel(prep: Prepared) -> sp.csr_array:
    """Decayed, kind-weighted engagement received per (member, channel code)."""
    n, n_ch = len(prep.ids), max(1, len(prep.channel_ids))
    recv = sp.csr_array((prep.g_weight, (prep.g_target, prep.g_channel)), shape=(n, n_ch))
    recv.sum_duplicates()
    return recv


def posts_in_scope(
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
