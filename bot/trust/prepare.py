"""Preparation shared by every scope of one ranking: daily rows to weighted, grouped pairs.

`prepare` weighs each daily engagement row (kind weight x count x decay; rows that do not count are
dropped: outside the window, zero-weight kinds, self-engagement, bots and excluded members in either
direction), maps member and channel ids to dense codes, groups the rows by (actor, target, channel)
once (carrying, for the new-engager test, each pair's first day along: `FirstContacts`), picks the
seeds and counts decayed posts per member. Each scope then takes its pairs
(`scope_pairs`, linear in its rows), its received engagement per channel (`received_by_channel`)
and its posts (`posts_in_scope`) from that. Guarantees: the result does not depend on the order of
the input rows, and every scope sees the same dense ids. Pure numpy/scipy.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from bot.trust.crowds import CrowdDays, crowd_days
from bot.trust.ids import IdIndex, run_heads, sorted_unique
from bot.trust.params import KINDS, Edges, MemberFacts, Posts, TrustParams
from bot.trust.solver import Pairs, members_away, members_gone, pairs_from_sorted, seed_weights


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
    gone: np.ndarray  # bool per dense member: left the community (`MemberFacts.left_day`), not listed
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
    # Distinct (engager, day) pairs each member received (`EngagerDays`; None: `crowd_per_post` off).
    engager_days: EngagerDays | None = None
    # Members written to only on the days their posts drew a crowd (`CrowdDays`; None: the test is off).
    crowd_days: CrowdDays | None = None
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


def summed_by_key(key: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, ascending, and the counts summed per key (rounded to whole counts)."""
    if len(key) == 0:
        return key.astype(np.int64), np.zeros(0, np.int64)
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    heads = run_heads(ordered)
    return ordered[heads], np.rint(np.add.reduceat(n[order], heads)).astype(np.int64)


#: Where `prepare` builds the crowd test's state beside its own work (one thread per process: each
#: ranking's state is built once, and rankings of several windows already run side by side).
_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crowd-days")

#: `EngagerDays` keeps engagement newer than this many days per (engager, member, day), so that a
#: ranking updated in place can follow it (older days are summed per member once).
RECENT_DAYS = 7


@dataclass
class EngagerDays:
    """Per member: the distinct (engager, day) pairs that engaged them, each weighing as its day's
    engagement decays (`crowd_per_post`). Days at least `RECENT_DAYS` old are one sum per member
    (`older`); newer ones are kept per (engager, member, age) with their count (`key` ascending:
    (actor * capacity + target) * RECENT_DAYS + age), so `add` can follow changes to them."""

    older: np.ndarray  # float64 per member
    key: np.ndarray  # int64, ascending
    count: np.ndarray  # int64 per key; a pair-day retracted to zero stays with 0
    capacity: int
    decay: np.ndarray  # weight per age in days

    @classmethod
    def of(
        cls,
        actor: np.ndarray,
        target: np.ndarray,
        age: np.ndarray,
        n: np.ndarray,
        size: int,
        days: int,
        half_life: float,
    ) -> EngagerDays:
        """From rows with a positive count (dense actor and target, age in days, count)."""
        decay = np.exp2(-np.arange(days) / half_life)
        recent = age < RECENT_DAYS
        old = ~recent
        # (target, age, actor) packed in bits: one sort finds the distinct triples, shifts unpack them.
        actor_bits, age_bits = max(1, (size - 1).bit_length()), max(1, (days - 1).bit_length())
        packed = target[old].astype(np.int64) << (age_bits + actor_bits)
        packed |= age[old].astype(np.int64) << actor_bits
        packed |= actor[old]
        cell = sorted_unique(packed) >> actor_bits
        old_target, old_age = cell >> age_bits, cell & ((1 << age_bits) - 1)
        older = np.bincount(old_target, weights=decay[old_age], minlength=size).astype(np.float64)
        key, count = summed_by_key(
            (actor[recent].astype(np.int64) * size + target[recent]) * RECENT_DAYS + age[recent], n[recent]
        )
        return cls(older, key, count, size, decay)

    def values(self) -> np.ndarray:
        """Per member: the decayed distinct (engager, day) pairs."""
        live = self.count > 0
        member_age = self.key[live] % (self.capacity * RECENT_DAYS)
        target, age = np.divmod(member_age, RECENT_DAYS)
        recent = np.bincount(target, weights=self.decay[age], minlength=self.capacity)
        return self.older + recent

    def resized(self, size: int) -> EngagerDays:
        """The same with room for `size` members (the order of the keys is kept)."""
        pair, age = np.divmod(self.key, RECENT_DAYS)
        actor, target = np.divmod(pair, self.capacity)
        key = (actor * size + target) * RECENT_DAYS + age
        older = np.zeros(size)
        older[: len(self.older)] = self.older
        return EngagerDays(older, key, self.count.copy(), size, self.decay)

    def add(self, actor: np.ndarray, target: np.ndarray, age: np.ndarray, n: np.ndarray) -> bool:
        """Apply changes of daily counts newer than `RECENT_DAYS` (retractions negative), in place.
        False where a change would leave a count below zero (the caller rebuilds). Changes to older
        days go through `settle_older`."""
        if len(actor) == 0:
            return True
        key, delta = summed_by_key((actor.astype(np.int64) * self.capacity + target) * RECENT_DAYS + age, n)
        where = np.searchsorted(self.key, key)
        found = where < len(self.key)
        found[found] = self.key[where[found]] == key[found]
        if bool((delta[~found] < 0).any()) or bool((self.count[where[found]] + delta[found] < 0).any()):
            return False
        self.count[where[found]] += delta[found]
        new = ~found  # inserted in key order
        if new.any():
            self.key = np.insert(self.key, where[new], key[new])
            self.count = np.insert(self.count, where[new], delta[new])
        return True

    def settle_older(
        self, target: np.ndarray, age: np.ndarray, before: np.ndarray, after: np.ndarray
    ) -> None:
        """Per (engager, member, day) at least `RECENT_DAYS` old whose count changed: the member,
        the age, and whether the pair engaged on that day before and after the change."""
        change = after.astype(np.float64) - before.astype(np.float64)
        np.add.at(self.older, target, self.decay[age] * change)


@dataclass
class DatedDays:
    """Engagement received per (member, age in days) of the kinds whose day the platform states
    (every kind but reactions, whose day is when the bot saw them), sparse (most members are
    engaged on few days), with the decay the ranking weighs each age by."""

    counts: sp.csr_array  # (members, days) float32
    decay: np.ndarray  # weight per age in days

    @classmethod
    def dense(cls, counts: np.ndarray, size: int, days: int, half_life: float) -> DatedDays:
        """From the counts per (member, age in days) as one flat array, row-major."""
        at = np.flatnonzero(counts)  # row-major: the rows' entries come in order, already sorted
        indptr = np.searchsorted(at, np.arange(size + 1, dtype=np.int64) * days)
        matrix = sp.csr_array((counts[at].astype(np.float32), at % days, indptr), shape=(size, days))
        return cls(matrix, 0.5 ** (np.arange(days) / half_life))

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
    """Per pair (actor, target) that engaged in the window, community-wide: the age in days of the
    first engagement (`first`; -1: none, e.g. retracted), which is what the new-engager test needs.
    Sorted by `key = actor * capacity + target`. `first_n` (the count on that day) and `total` (all
    of the pair's counts) are kept when the pairs must be updated in place (`add`); a retraction
    that empties a pair's first day while the pair has later engagement cannot be followed from
    these counts (its next day is not kept): `add` names those pairs, and `settle` takes their
    counts afresh from their rows."""

    key: np.ndarray  # int64, ascending
    first: np.ndarray  # int32 age in days; -1: the pair has no engagement (left after a retraction)
    capacity: int  # members the keys have room for
    first_n: np.ndarray | None = None  # int32 count on the first day
    total: np.ndarray | None = None  # int32 count on every day

    @classmethod
    def of(
        cls,
        actor: np.ndarray,
        target: np.ndarray,
        first: np.ndarray,
        size: int,
        first_n: np.ndarray | None = None,
        total: np.ndarray | None = None,
    ) -> FirstContacts:
        """From pairs sorted by actor, then target (each pair once)."""
        key = actor.astype(np.int64) * size + target

        def counts(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values.astype(np.int32)

        return cls(key, first.astype(np.int32), size, counts(first_n), counts(total))

    @property
    def updatable(self) -> bool:
        return self.first_n is not None and self.total is not None

    def resized(self, size: int) -> FirstContacts:
        """The same with room for `size` members (the order of the keys is kept)."""
        actor, target = np.divmod(self.key, self.capacity)
        copy = None if self.first_n is None else self.first_n.copy()
        total = None if self.total is None else self.total.copy()
        return FirstContacts(actor * size + target, self.first.copy(), size, copy, total)

    def add(self, actor: np.ndarray, target: np.ndarray, age: np.ndarray, n: np.ndarray) -> np.ndarray | None:
        """Apply changes of daily counts (retractions negative), in place. Returns the keys of the
        pairs whose first day a retraction emptied while they have later engagement: their next day
        is not kept, so their first day is unknown (-1) until `settle` gives it. None when the pairs
        cannot follow the changes at all: not kept for updates, or counts that do not add up (the
        caller rebuilds)."""
        none = np.zeros(0, np.int64)
        if len(actor) == 0:
            return none
        if self.first_n is None or self.total is None:
            return None
        # One net change per (pair, day), each pair's days oldest first.
        key = actor.astype(np.int64) * self.capacity + target
        age = age.astype(np.int64)
        order = np.lexsort((-age, key))
        key, age, n = key[order], age[order], np.rint(n[order]).astype(np.int64)
        start = np.ones(len(key), np.bool_)
        start[1:] = (key[1:] != key[:-1]) | (age[1:] != age[:-1])
        heads = np.flatnonzero(start)
        key, age, n = key[heads], age[heads], np.add.reduceat(n, heads)
        moved = n != 0
        key, age, n = key[moved], age[moved], n[moved]
        if len(key) == 0:
            return none
        start = np.ones(len(key), np.bool_)
        start[1:] = key[1:] != key[:-1]
        heads = np.flatnonzero(start)
        group = np.cumsum(start) - 1
        pairs = key[heads]
        at = np.searchsorted(self.key, pairs)
        found = at < len(self.key)
        found[found] = self.key[at[found]] == pairs[found]
        old_first = np.full(len(pairs), -1, np.int64)
        old_n = np.zeros(len(pairs), np.int64)
        old_total = np.zeros(len(pairs), np.int64)
        old_first[found] = self.first[at[found]]
        old_n[found] = self.first_n[at[found]]
        old_total[found] = self.total[at[found]]
        # Days older than the first held nothing: they can only gain, and the oldest that gains is
        # the new first day.
        older = age > old_first[group]
        if bool((older & (n < 0)).any()):
            return None
        gained = older & (n > 0)
        new_first = np.maximum.reduceat(np.where(gained, age, -1), heads)
        on_new = gained & (age == new_first[group])
        on_old = age == old_first[group]
        total = old_total + np.add.reduceat(n, heads)
        first_n = np.where(
            new_first >= 0,
            np.add.reduceat(np.where(on_new, n, 0), heads),
            old_n + np.add.reduceat(np.where(on_old, n, 0), heads),
        )
        first = np.where(new_first >= 0, new_first, old_first)
        if bool((total < 0).any() or (first_n < 0).any()):
            return None
        emptied = (first >= 0) & (first_n == 0)
        unsettled = emptied & (total > 0)  # the pair's next day is not kept
        first = np.where(emptied, -1, first)
        # Pairs already kept are updated; new pairs are inserted in key order.
        hit = at[found]
        self.first[hit], self.first_n[hit], self.total[hit] = first[found], first_n[found], total[found]
        new = ~found & (first >= 0)
        if new.any():
            where = at[new]
            self.key = np.insert(self.key, where, pairs[new])
            self.first = np.insert(self.first, where, first[new].astype(np.int32))
            self.first_n = np.insert(self.first_n, where, first_n[new])
            self.total = np.insert(self.total, where, total[new])
        return pairs[unsettled]

    def settle(self, key: np.ndarray, first: np.ndarray, first_n: np.ndarray, total: np.ndarray) -> bool:
        """Give pairs kept here their first day, its count and their total count, counted afresh
        (after `add` left their first day unknown). False when a pair is not kept here."""
        if self.first_n is None or self.total is None:
            return False
        at = np.searchsorted(self.key, key)
        if bool((at >= len(self.key)).any()) or not np.array_equal(
            self.key[np.minimum(at, len(self.key) - 1)], key
        ):
            return False
        self.first[at] = first
        self.first_n[at] = first_n
        self.total[at] = total
        return True

    def arrivals(
        self,
        size: int,
        min_engagers: int = 1,
        arrived_age: np.ndarray | None = None,
        active: np.ndarray | None = None,
        windows: tuple[int, ...] = (BURST_DAYS,),
        returned_silence: int = 0,
    ) -> Arrivals:
        """Per member (the first `size` dense ids) and per window of `windows` days: the share of
        their distinct engagers whose first engagement with them falls in their busiest window (0
        for members with fewer than `min_engagers` engagers), and the share of them that window
        would hold anyway (`Arrivals`).

        What a window would hold anyway: engagers arriving evenly over the member's days here (the
        history's at most) put `BURST_DAYS / days here` of them in one week, at most all of them (a
        member here for a fortnight has all of their engagers arrive within a fortnight). Longer
        windows (whole weeks: their days a multiple of 7) start at a week's boundary counted back
        from today, leave the member's own first week out of the days here, and with `active`
        (counts per (member, age in days) of engagement given and posts) would also hold the share
        of the member's own activity that falls in them: a member who became active then meets
        their engagers then.

        The days looked at lie in windows starting `BURST_SKIP_DAYS` or more after the oldest
        engagement of the history and, when `arrived_age` gives the age in days of each member's
        arrival (NaN unknown, inf before the records), after the member's own first `BURST_DAYS`
        here: members meet a newcomer then, and a welcome is no crowd brought in. With `active` and
        `returned_silence` days, a member whose activity before such a silence is a stray few
        (`returned_age`) arrived when they came back."""
        size = max(size, 0)
        zeros, ones = np.zeros(size), np.ones(size)
        row = self.key % self.capacity
        first = self.first.astype(np.int64)
        present = first >= 0
        if not len(row) or not present.any():
            return Arrivals(zeros, tuple((days, zeros, ones) for days in windows))
        if int(row.max()) >= size:  # members beyond `size` are not asked about
            within = row < size
            row, first, present = row[within], first[within], present[within]
        engagers = np.bincount(row, weights=None if present.all() else present, minlength=size)
        engagers = engagers.astype(np.float64)
        span = int(first.max()) + 1  # the oldest engagement's age + 1: the history's days
        zone = span - BURST_SKIP_DAYS  # ages 0 .. zone - 1 lie in windows that are looked at
        looked = tuple(days for days in windows if days <= zone)
        out = {days: (np.zeros(size), ones) for days in windows if days > zone}
        if not looked:
            return Arrivals(engagers, tuple((days, *out[days]) for days in windows))
        # Ages up to `last` are looked at, per member.
        last = np.full(size, zone - 1, np.float64)
        here = np.full(size, float(span))
        if arrived_age is not None:
            arrived = np.nan_to_num(np.asarray(arrived_age[:size], np.float64), nan=np.inf, posinf=np.inf)
            last = np.minimum(last, np.floor(arrived) - BURST_DAYS)
            here = np.minimum(here, np.maximum(arrived, 1.0))
        # Only members with enough engagers are measured (`asked`, in order; `at` maps a member to
        # its place there): a share for the others is 0, and most members have few engagers.
        enough = engagers >= max(1, min_engagers)
        asked = np.flatnonzero(enough)
        weekly = None  # the activity of the members asked per week counted back from today
        if active is not None and len(asked):
            weekly = np.add.reduceat(active[asked], np.arange(0, active.shape[1], 7), axis=1)
        if weekly is not None and returned_silence > 0:
            back = returned_age(active, asked, returned_silence, weekly)
            last[asked] = np.minimum(last[asked], back - BURST_DAYS)
            here[asked] = np.minimum(here[asked], np.maximum(back, 1.0))
        at = np.cumsum(enough) - 1
        k = len(asked)
        keep = enough[row]
        row, first = row[keep], first[keep]
        # Arrivals per (member, age + 1), accumulated: cum[:, j] = arrivals at ages below j. Those
        # at ages not looked at, and pairs without engagement, go to column 0, which every window's
        # difference of two accumulated columns cancels.
        column = np.where(first <= last[row], first + 1, 0)
        hist = np.bincount(at[row] * (zone + 1) + column, minlength=k * (zone + 1))
        cum = np.cumsum(hist.astype(np.int32).reshape(k, zone + 1), axis=1, dtype=np.int32)
        places = np.arange(k)
        weeks = [days for days in looked if days > BURST_DAYS]
        if weeks:
            # Whole weeks counted back from today: the accumulated arrivals at their boundaries,
            # and the member's activity in each week, accumulated, as a share of all of it.
            bounds = np.arange(0, zone + 1, 7)
            by_week = cum[:, bounds]
            if weekly is not None:
                # The member's activity per week, accumulated, as a share of all of it.
                total = weekly.sum(axis=1, dtype=np.float64)
                own_by_week = np.zeros((k, len(bounds)))
                np.cumsum(weekly[:, : len(bounds) - 1], axis=1, out=own_by_week[:, 1:])
                own_by_week /= np.where(total > 0, total, 1.0)[:, None]
        for days in looked:
            share, expected = np.zeros(size), np.minimum(1.0, days / here)
            if days <= BURST_DAYS:
                share[asked] = (cum[:, days:] - cum[:, :-days]).max(axis=1) / engagers[asked]
            else:
                span_weeks = days // 7
                arrivals = by_week[:, span_weeks:] - by_week[:, :-span_weeks]
                first_week = arrivals.argmax(axis=1)
                share[asked] = arrivals[places, first_week] / engagers[asked]
                expected = np.minimum(1.0, days / np.maximum(here - BURST_DAYS, 1.0))
                if weekly is not None:  # (None too where no member has enough engagers to be asked)
                    own = own_by_week[places, first_week + span_weeks] - own_by_week[places, first_week]
                    expected[asked] = np.maximum(expected[asked], own)
            out[days] = (share, expected)
        return Arrivals(engagers, tuple((days, *out[days]) for days in windows))


#: `returned_age`: activity before a member's silence of at most this share of all of theirs is a
#: stray few (a reaction or two), not a presence.
_STRAY_SHARE = 0.05


def returned_age(
    active: np.ndarray, rows: np.ndarray, silence: int, weekly: np.ndarray | None = None
) -> np.ndarray:
    """Per member of `rows` (rows of `active`: counts per age in days): the age of the most recent
    day of activity that follows a silence of at least `silence` days, where the member was active
    before that silence, but at most `_STRAY_SHARE` of all their activity; inf where there is none
    (the member arrived when first seen). `weekly`: the same rows' activity per week counted back
    from today, to look day by day only at members with as many silent whole weeks as such a
    silence holds, activity after them and a stray share of it before them."""
    out = np.full(len(rows), np.inf)
    days = active.shape[1]
    if days <= silence or not len(rows):
        return out
    look = np.arange(len(rows))
    need = (silence - 6) // 7  # whole weeks inside any silence of that many days
    if weekly is not None and need >= 1 and weekly.shape[1] > need + 1:
        done = np.cumsum(weekly, axis=1)
        silent = weekly == 0
        run = silent[:, : weekly.shape[1] - need + 1].copy()
        for shift in range(1, need):
            run &= silent[:, shift : weekly.shape[1] - need + 1 + shift]
        newer = (done - weekly)[:, : run.shape[1]] > 0  # activity in the weeks after the run
        older = done[:, -1:] - done[:, need - 1 :]  # ... and a stray share before it
        few = (older > 0) & (older <= _STRAY_SHARE * done[:, -1:])
        look = np.flatnonzero((run & newer & few).any(axis=1))
        if not len(look):
            return out
    counts = active[rows[look]]
    done = np.cumsum(counts, axis=1, dtype=np.float64)  # activity at ages 0 .. j
    total = done[:, -1:]
    head = done[:, : days - silence]
    back = (
        (counts[:, : days - silence] > 0)
        & (done[:, silence:] == head)  # nothing at ages j + 1 .. j + silence
        & (head < total)  # activity before the silence ...
        & (head >= (1.0 - _STRAY_SHARE) * total)  # ... of at most a stray share
    )
    found = back.any(axis=1)
    out[look[found]] = np.argmax(back[found], axis=1)
    return out


@dataclass(frozen=True)
class Arrivals:
    """`FirstContacts.arrivals`: per member, their distinct engagers, and per window (its days,
    the share of the engagers that arrived in the member's busiest window, the share it would hold
    anyway)."""

    engagers: np.ndarray
    windows: tuple[tuple[int, np.ndarray, np.ndarray], ...]


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
) -> tuple[np.ndarray, sp.csc_array, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Decayed post counts per member: in total, and per (member, channel code) for topic scopes;
    and the posts in known channels as (dense member, channel code, age in days, count). The posts
    are also counted into `active` (per member and age in days), when given."""
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
    dense = (idx[known], codes[known], age[use][known], posts.n[use][known])
    return total, by_channel, dense


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
    updatable: bool = False,
) -> Prepared:
    """Everything the scopes share: dense ids, seeds, and the rows grouped by (actor, target, channel).
    `updatable`: keep what updates in place need (`FirstContacts.add`)."""
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
    # Rows touching a bot or an excluded member count for an extra last member, then cut off.
    days = history_days(params)
    lengths = None if heads is None else np.diff(np.append(heads, len(row_age)))

    def cell(member: np.ndarray) -> np.ndarray:
        """Per row: (member, age in days) as one index, the member taken from the row's run."""
        base = np.where(dropped, n, member) * days
        return (base if lengths is None else np.repeat(base, lengths)) + row_age

    def grid(counts: np.ndarray) -> np.ndarray:
        """The first n members' counts per (member, age in days), float32 (exact below 2**24)."""
        return counts[: n * days].astype(np.float32).reshape(n, days)

    cells = (n + 1) * days
    actor_cell = cell(a_idx)
    active = grid(np.bincount(actor_cell, weights=row_n, minlength=cells))
    target_cell = cell(t_idx)
    dated = None
    if params.single_day:
        # The same for the kinds whose day the platform states (every kind but reactions, whose day
        # is when the bot saw them), for the single-day test: one count, reactions in its upper half.
        reaction = col(edges.kind) == KINDS.index("reaction")
        both = np.bincount(target_cell + reaction * cells, weights=row_n, minlength=2 * cells)
        timed = both[: n * days]
        received = grid(timed + both[cells : cells + n * days])
        dated = DatedDays.dense(timed, n, days, params.half_life_days)
    else:
        received = grid(np.bincount(target_cell, weights=row_n, minlength=cells))

    engager_days = None
    if params.crowd_per_post and posts is not None:
        # Distinct (engager, day) pairs per member, for the crowd test (`crowd_per_post`).
        row_actor, row_target = actor_cell // days, target_cell // days
        kept = row_target < n  # not a row touching a bot or an excluded member
        engager_days = EngagerDays.of(
            row_actor[kept], row_target[kept], row_age[kept], row_n[kept], n, days, params.half_life_days
        )

    # Channels come in long runs (the store's order): deduplicating the runs first is far cheaper.
    changes = np.ones(len(channel), np.bool_)
    np.not_equal(channel[1:], channel[:-1], out=changes[1:])
    channel_ids = sorted_unique(channel[changes])
    channel_index = IdIndex(channel_ids)
    c_idx = channel_index.lookup(channel)
    n_ch = max(1, len(channel_ids))
    ch_bits = max(1, (n_ch - 1).bit_length())

    posts_total, posts_channel, building = None, None, None
    if posts is not None:
        posts_total, posts_channel, dense_posts = _posts_per_member(
            posts, ids, channel_index, n_ch, params, today, active
        )
        if params.appeal <= 0:
            posts_total, posts_channel = None, None
        if params.crowd_days:
            # Members written to only on the days their posts drew a crowd (`crowd_days`): built in a
            # worker thread while the rows are grouped below (both are numpy work that releases the
            # GIL, and nothing below changes these arrays).
            row_channel = c_idx if lengths is None else np.repeat(c_idx, lengths)
            row_actor, row_target = actor_cell // days, target_cell // days
            kept = (row_actor < n) & (row_target < n)  # not a row touching a bot or an excluded member
            building = _BACKGROUND.submit(
                crowd_days,
                row_actor[kept],
                row_target[kept],
                row_channel[kept],
                row_age[kept],
                col(edges.kind)[kept],
                dense_posts,
                capacity=n,
                channels=n_ch,
                params=params,
            )

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
    a_idx, column = a_idx.astype(index_type), column.astype(index_type)
    contacts = None
    if params.first_contacts:
        # The same grouping, keeping each run's first day apart while summing the weights, gives
        # every pair's first contact for the new-engager tests at little extra cost.
        g_actor, packed, g_weight, contacts = _group_with_contacts(
            weight, a_idx, column, n, n_cols, ch_bits, _RunDays.of(row_age, row_n, heads, lengths, updatable)
        )
    else:
        grouped = sp.csr_array((weight, (a_idx, column)), shape=(n + 1, n_cols))
        grouped.sum_duplicates()
        end = grouped.indptr[n]
        g_actor = np.repeat(np.arange(n, dtype=np.int64), np.diff(grouped.indptr[: n + 1]))
        packed = grouped.indices[:end].astype(np.int64)
        g_weight = grouped.data[:end]
    g_target, g_channel = packed >> ch_bits, packed & ((1 << ch_bits) - 1)
    all_pairs = pairs_from_sorted(n, g_actor, g_target, g_weight)

    crowds = None if building is None else building.result()
    engaged_from = first_active(active, today)
    out_peers = np.diff(all_pairs.indptr)
    seed_weight = seed_weights(ids, engaged_from, out_peers, excluded, pinned, members, params, today)
    gone = members_away(
        members_gone(ids, members, today), active, pinned, params, posts_count=posts_total is not None
    )
    return Prepared(
        members=members,
        today=today,
        active=active,
        received=received,
        dated=dated,
        contacts=contacts,
        engager_days=engager_days,
        crowd_days=crowds,
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
        gone=gone,
        excluded=excluded,
        engaged_from=engaged_from,
        all_pairs=all_pairs,
        channel_order=_channel_order(g_channel, n_ch) if by_channel else None,
    )


@dataclass(frozen=True)
class _RunDays:
    """Per run of rows of one (channel, actor, target) (`prepare`): the age of its oldest day and,
    when the pairs are to be updated in place, the count on that day and in all."""

    first: np.ndarray
    first_n: np.ndarray | None
    total: np.ndarray | None

    @classmethod
    def of(
        cls,
        age: np.ndarray,
        n: np.ndarray,
        heads: np.ndarray | None,
        lengths: np.ndarray | None,
        updatable: bool,
    ) -> _RunDays:
        count = np.rint(n).astype(np.int64)
        if heads is None or lengths is None:  # every row is its own run
            return cls(age, count if updatable else None, count if updatable else None)
        small = age.astype(np.int16) if len(age) and int(age.max()) < 1 << 15 else age
        first = np.maximum.reduceat(small, heads)
        if not updatable:
            return cls(first, None, None)
        on_first = np.add.reduceat(np.where(age == np.repeat(first, lengths), count, 0), heads)
        return cls(first, on_first, np.add.reduceat(count, heads))


#: `_group_with_contacts` keeps the rows of a (actor, target, channel) apart by telling the COO
#: conversion they are already summed; should that ever sum them anyway, it sorts by itself.
_COO_KEEPS_DUPLICATES = True


def _group_with_contacts(
    weight: np.ndarray,
    actor: np.ndarray,
    column: np.ndarray,
    n: int,
    n_cols: int,
    ch_bits: int,
    runs: _RunDays,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, FirstContacts]:
    """`prepare`'s grouping by (actor, column), with the first contact of every pair: grouped actor,
    packed column and summed weight per (actor, target, channel), and the `FirstContacts`."""
    # Each entry carries its run and the run's first day (exact in a float64: ages < 2**20 and runs
    # < 2**32), so the sort that groups the entries brings both along.
    count = len(weight)
    if count >= 1 << 32 or (count and int(runs.first.max()) >= 1 << 20):  # pragma: no cover - limits
        raise ValueError("too many rows or too long a window for the first-contact grouping")
    data = (runs.first.astype(np.int64) << 32 | np.arange(count, dtype=np.int64)).astype(np.float64)
    grouped = None
    if _COO_KEEPS_DUPLICATES:
        coo = sp.coo_array((data, (actor, column)), shape=(n + 1, n_cols))
        coo.has_canonical_format = True  # duplicates are combined below: weights summed, days not
        grouped = coo.tocsr()
        if grouped.nnz != count:
            grouped = None
    if grouped is None:
        order = np.argsort(actor.astype(np.uint16) if n < 1 << 16 else actor, kind="stable")
        indptr = np.zeros(n + 2, np.int64)
        np.cumsum(np.bincount(actor, minlength=n + 1), out=indptr[1:])
        grouped = sp.csr_array((data[order], column[order], indptr), shape=(n + 1, n_cols))
    grouped.has_sorted_indices = False
    grouped.sort_indices()
    end = int(grouped.indptr[n])
    per_actor = np.diff(grouped.indptr[: n + 1])
    e_column = grouped.indices[:end].astype(np.int64)
    e_data = grouped.data[:end].astype(np.int64)
    run = e_data & 0xFFFFFFFF
    pair_start = np.zeros(end, np.bool_)
    pair_start[grouped.indptr[:n][per_actor > 0]] = True
    e_target = e_column >> ch_bits
    pair_start[1:] |= e_target[1:] != e_target[:-1]
    start = pair_start.copy()
    start[1:] |= e_column[1:] != e_column[:-1]
    heads = np.flatnonzero(start)
    pair_heads = np.flatnonzero(pair_start)
    g_actor = np.repeat(np.arange(n, dtype=np.int64), per_actor)
    if end == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0), FirstContacts.of(empty, empty, empty, n, empty, empty)
    g_weight = np.add.reduceat(weight[run], heads)
    e_first = e_data >> 32
    first = np.maximum.reduceat(e_first, pair_heads)
    first_n = total = None
    if runs.first_n is not None and runs.total is not None:
        pair = np.cumsum(pair_start) - 1
        first_n = np.add.reduceat(np.where(e_first == first[pair], runs.first_n[run], 0), pair_heads)
        total = np.add.reduceat(runs.total[run], pair_heads)
    contacts = FirstContacts.of(g_actor[pair_heads], e_target[pair_heads], first, n, first_n, total)
    return g_actor[heads], e_column[heads], g_weight, contacts


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
        # Back to (actor, target, channel) order, so each pair's rows are adjacent: each channel's
        # part is in that order already, and a stable (merge) sort merges such runs in a pass or two.
        picked.sort(kind="stable")
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
