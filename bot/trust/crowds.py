"""Members written to only on the days their posts drew a crowd (`TrustParams.crowd_days`).

A member who runs "reply to enter" giveaways, or asks the server to answer a post for a prize or a
shout-out, is written to by many members on the few days of those posts, and by most of them never
otherwise. A voice is written to on many days by members who come back, and the day one of their
posts draws a crowd is a small part of it.

Per member and channel and day (a *cell*, over the kinds a member writes to another: replies, thread
posts, comments; reactions are no reply), the distinct members who wrote to them, per post they made
there that day. A cell is a crowd when it holds at least `crowd_day_engagers` writers and that many
per post is `crowd_day_ratio` times the community's usual: the median, over members with
`min_peers_listed` distinct engagers, of their cells' 90th percentile. A member's *share* is the
part of the distinct members who wrote to them whose every such engagement with them fell in the
member's crowd cells, and not all in the largest one: a crowd that came once (a milestone, a post
that went around the server) is the single-day test's (`TrustParams.single_day`); a crowd that
keeps coming back is this one's.

`CrowdDays` keeps the distinct (cell, writer) pairs and the posts per cell, so that a ranking
updated in place can follow new engagement and posts: the usual is measured again at every
ranking, and only the members touched since are counted again unless it moved. `prepare` builds
the state in a worker thread while it groups the rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from bot.trust.ids import run_heads, sorted_unique
from bot.trust.params import KINDS, TrustParams

#: The kinds a member writes to another (the cells count them).
WRITTEN = tuple(KINDS.index(k) for k in ("reply", "thread_reply", "comment"))
#: The percentile of a member's cells that sets their typical cell.
_TYPICAL = 0.9
#: Posts are summed per cell with their count packed below the cell: a count above this (posts by
#: one member in one channel on one day) counts as this.
_POST_BITS = 20


def _bits(count: int) -> int:
    return max(1, (max(1, count) - 1).bit_length())


def _inserted(keys: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each of `new` (ascending, distinct) is in `keys` (ascending): its position, whether it is
    there, and `keys` with the missing ones inserted."""
    at = np.searchsorted(keys, new)
    found = at < len(keys)
    found[found] = keys[at[found]] == new[found]
    return at, found, keys if found.all() else np.insert(keys, at[~found], new[~found])


def written(kind: np.ndarray) -> np.ndarray:
    """Whether each row is of a written kind."""
    out = kind == WRITTEN[0]
    for k in WRITTEN[1:]:
        out |= kind == k
    return out


def _cell_sums(cell: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct cells, ascending, and the counts summed per cell (one sort: each count packed below
    its cell, at most 2 ** _POST_BITS - 1)."""
    if len(cell) == 0:
        return cell.astype(np.int64), np.zeros(0)
    top = (1 << _POST_BITS) - 1
    packed = np.sort((cell << _POST_BITS) | np.clip(np.rint(n), 0, top).astype(np.int64))
    cells = packed >> _POST_BITS
    heads = run_heads(cells)
    return cells[heads], np.add.reduceat((packed & top).astype(np.float64), heads)


@dataclass
class CrowdDays:
    """The distinct (cell, writer) pairs (`keys`, ascending: the cell (member, channel code, age in
    days) packed above the writer's dense id), the posts per cell (`post_keys`, ascending, with
    `post_n`), each member's typical cell (`typical`: the 90th percentile of their cells' writers
    per post, 0 without a cell) and share (`share`, counted by `shares`). The written kinds are
    never retracted (a deleted message stays counted; an erasure rebuilds), so a pair, once there,
    stays."""

    keys: np.ndarray
    post_keys: np.ndarray
    post_n: np.ndarray
    capacity: int
    channels: int
    days: int
    engagers: int
    ratio: float
    typical: np.ndarray
    share: np.ndarray
    #: The community's usual cell the shares were last counted against (NaN: never counted).
    usual: float = math.nan
    #: Members whose pairs or posts changed since the shares were last counted (None: everyone).
    touched: list[np.ndarray] | None = None
    #: Every member's cells with their typical ones counted, as built (None once shares are counted).
    built: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @staticmethod
    def fits(capacity: int, channels: int, days: int) -> bool:
        """Whether (member, channel, age, writer), and (member, channel, age) above a post count,
        pack into 63 bits."""
        cell = _bits(capacity) + _bits(channels) + _bits(days)
        return cell + max(_bits(capacity), _POST_BITS) <= 63

    @classmethod
    def of(
        cls,
        actor: np.ndarray,
        target: np.ndarray,
        channel: np.ndarray,
        age: np.ndarray,
        posts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        *,
        capacity: int,
        channels: int,
        params: TrustParams,
    ) -> CrowdDays | None:
        """From the rows of the written kinds with a positive count (dense actor and target,
        channel code, age in days) and `posts` (dense member, channel code, age, count; members and
        channels this state does not know left out). None when the ids would not pack."""
        days = math.floor(params.window_days) + 1
        if not cls.fits(capacity, channels, days):
            return None
        state = cls(
            keys=np.zeros(0, np.int64),
            post_keys=np.zeros(0, np.int64),
            post_n=np.zeros(0),
            capacity=capacity,
            channels=channels,
            days=days,
            engagers=params.crowd_day_engagers,
            ratio=params.crowd_day_ratio,
            typical=np.zeros(capacity),
            share=np.zeros(capacity),
        )
        state.keys = sorted_unique((state._cell(target, channel, age) << state._actor_bits) | actor)
        member, p_channel, p_age, p_n = posts
        state.post_keys, state.post_n = _cell_sums(state._cell(member, p_channel, p_age), p_n)
        state.built = state._cells(state.keys)
        state._typical(None, state.built)
        return state

    # -- packing ------------------------------------------------------------------------------------

    @property
    def _actor_bits(self) -> int:
        return _bits(self.capacity)

    @property
    def _member_shift(self) -> int:
        """Where the member starts in a cell."""
        return _bits(self.channels) + _bits(self.days)

    def _cell(self, member: np.ndarray, channel: np.ndarray, age: np.ndarray) -> np.ndarray:
        cell = member.astype(np.int64) << self._member_shift
        return cell | (channel.astype(np.int64) << _bits(self.days)) | age.astype(np.int64)

    def resized(self, capacity: int) -> CrowdDays:
        """The same state with room for `capacity` members (the writers' ids repacked)."""
        if not self.fits(capacity, self.channels, self.days):
            raise ValueError("crowd days: ids do not pack into 63 bits")
        old_bits = self._actor_bits
        typical, share = np.zeros(capacity), np.zeros(capacity)
        typical[: len(self.typical)] = self.typical
        share[: len(self.share)] = self.share
        touched = None if self.touched is None else list(self.touched)
        out = replace(self, capacity=capacity, typical=typical, share=share, touched=touched)
        out.keys = ((self.keys >> old_bits) << out._actor_bits) | (self.keys & ((1 << old_bits) - 1))
        return out

    # -- updating -----------------------------------------------------------------------------------

    def add(
        self,
        actor: np.ndarray,
        target: np.ndarray,
        channel: np.ndarray,
        age: np.ndarray,
        count: np.ndarray,
    ) -> bool:
        """Changes of daily counts of the written kinds (dense ids, channel codes, age in days, the
        change). False for a retraction, which this state cannot follow (the caller rebuilds)."""
        if len(actor) == 0:
            return True
        if bool((count < 0).any()):
            return False
        packed = (self._cell(target, channel, age) << self._actor_bits) | actor.astype(np.int64)
        _, _, self.keys = _inserted(self.keys, sorted_unique(packed[count > 0]))
        self._touch(target)
        return True

    def add_posts(self, member: np.ndarray, channel: np.ndarray, age: np.ndarray, n: np.ndarray) -> None:
        """Posts (dense members, channel codes, age in days, count)."""
        if len(member) == 0:
            return
        new, delta = _cell_sums(self._cell(member, channel, age), n)
        at, found, self.post_keys = _inserted(self.post_keys, new)
        posted = self.post_n.copy()
        np.add.at(posted, at[found], delta[found])
        self.post_n = posted if found.all() else np.insert(posted, at[~found], delta[~found])
        self._touch(member)

    def _touch(self, members: np.ndarray) -> None:
        if self.touched is not None:
            self.touched.append(members.astype(np.int64))

    # -- shares -------------------------------------------------------------------------------------

    def shares(self, engaged: np.ndarray) -> np.ndarray:
        """Each member's share (see the module), against the usual cell of the members `engaged`
        marks (per dense member: whether they have `min_peers_listed` distinct engagers). Only the
        members touched since the last count are counted again, unless the usual moved."""
        if self.touched is None:  # everyone
            touched = None
            keys = self.keys
            cells = self.built if self.built is not None else self._cells(keys)
            if self.built is None:
                self._typical(None, cells)
        else:
            touched = sorted_unique(np.concatenate(self.touched)) if self.touched else np.zeros(0, np.int64)
            keys = self._keys_of(touched)
            cells = self._cells(keys)
            self._typical(touched, cells)
        self.touched, self.built = [], None
        counted = engaged[: self.capacity] & (self.typical > 0)
        usual = float(np.median(self.typical[counted])) if counted.any() else math.inf
        if usual != self.usual or touched is None:
            self.usual = usual
            self.share[:] = 0.0
            if touched is not None:
                keys = self.keys
                cells = self._cells(keys)
        else:
            self.share[touched] = 0.0
        self._settle(cells, keys)
        return self.share

    def _keys_of(self, members: np.ndarray) -> np.ndarray:
        """The pairs of `members` (ascending)."""
        shift = self._member_shift + self._actor_bits
        lo = np.searchsorted(self.keys, members << shift)
        sizes = np.searchsorted(self.keys, (members + 1) << shift) - lo
        return self.keys[np.repeat(lo - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))]

    def _cells(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The cells of `keys`, their distinct writers and writers per post."""
        cell_of = keys >> self._actor_bits
        heads = run_heads(cell_of)
        cells = cell_of[heads]
        writers = np.diff(np.append(heads, len(cell_of))).astype(np.float64)
        posted = np.zeros(len(cells))
        if len(self.post_keys) and len(cells):
            at = np.minimum(np.searchsorted(self.post_keys, cells), len(self.post_keys) - 1)
            posted = np.where(self.post_keys[at] == cells, self.post_n[at], 0.0)
        return cells, writers, writers / np.maximum(posted, 1.0)

    def _typical(self, members: np.ndarray | None, cells: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        """The typical cell of `members` (None: everyone), from all of their `cells`."""
        if members is None:
            self.typical[:] = 0.0
        else:
            self.typical[members] = 0.0
        cell, _writers, per_post = cells
        if len(cell) == 0:
            return
        owner = cell >> self._member_shift
        order = np.lexsort((per_post, owner))  # cells come grouped by member
        owner, per_post = owner[order], per_post[order]
        heads = run_heads(owner)
        sizes = np.diff(np.append(heads, len(owner)))
        self.typical[owner[heads]] = per_post[heads + np.ceil(_TYPICAL * sizes).astype(np.int64) - 1]

    def _settle(self, cells: tuple[np.ndarray, np.ndarray, np.ndarray], keys: np.ndarray) -> None:
        """The shares of the members with a crowd among `cells` (all of their cells and pairs given,
        their shares cleared)."""
        cell, writers, per_post = cells
        crowd = (writers >= self.engagers) & (per_post >= self.ratio * self.usual)
        if not crowd.any():
            return
        # Only members with a crowd cell can have a share: their (member, writer) pairs, each
        # confined when every one of its cells is a crowd, and not all of them the member's largest
        # crowd (one day's crowd is the single-day test's: a milestone, a post that went around).
        bits = self._actor_bits
        crowds = cell[crowd]
        by_owner = crowds >> self._member_shift
        first = np.lexsort((-writers[crowd], by_owner))
        first = first[run_heads(by_owner[first])]
        largest = np.full(self.capacity, -1, np.int64)
        largest[by_owner[first]] = crowds[first]
        cell_of = keys >> bits
        owner = cell_of >> self._member_shift
        mine = largest[owner] >= 0
        flag = np.repeat(crowd, np.diff(np.append(run_heads(cell_of), len(cell_of))))[mine]
        in_largest = cell_of[mine] == largest[owner[mine]]
        pair = (owner[mine] << bits) | (keys[mine] & ((1 << bits) - 1))
        order = np.argsort(pair, kind="stable")
        pair, flag, in_largest = pair[order], flag[order], in_largest[order]
        heads = run_heads(pair)
        confined = np.minimum.reduceat(flag.astype(np.int8), heads)
        confined &= 1 - np.minimum.reduceat(in_largest.astype(np.int8), heads)
        member = pair[heads] >> bits
        total = np.bincount(member, minlength=self.capacity)
        kept = np.bincount(member, weights=confined, minlength=self.capacity)
        has = total > 0
        self.share[has] = kept[has] / total[has]


def crowd_days(
    actor: np.ndarray,
    target: np.ndarray,
    channel: np.ndarray,
    age: np.ndarray,
    kind: np.ndarray,
    posts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None,
    *,
    capacity: int,
    channels: int,
    params: TrustParams,
) -> CrowdDays | None:
    """The state of rows of every kind with a positive count (dense actor and target, channel code,
    age in days, kind; those of the written kinds are taken) and `posts` (dense member, channel
    code, age, count; members and channels the state does not know left out). None when the test
    is off, there are no posts, or the ids would not pack."""
    if not params.crowd_days or posts is None:
        return None
    mine = written(kind)
    rows = actor[mine], target[mine], channel[mine], age[mine]
    return CrowdDays.of(*rows, posts, capacity=capacity, channels=channels, params=params)
