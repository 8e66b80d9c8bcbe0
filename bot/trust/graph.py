"""The engagement graph: one community's daily engagement rows, kept in memory between recomputes.

Reading millions of `engagement_daily` rows is the most expensive part of a recompute, and almost all
of them are the same as last time. `CommunityEdges` holds the rows as numpy columns (threads folded
into their channel, as the ranking expects) and is brought up to date with `apply`, which takes the
*current* database rows of only the keys that new events touched (`Store.engagement_changes`): a
key's row is replaced, never added to, so applying the same change twice, or a change the snapshot
already contained, counts nothing twice, and retractions (unreactions) come out exactly as the
store's triggers computed them.

Rows are located by a 64-bit hash of their key (raw channel, actor, target, day, kind), sorted once
and searched with `np.searchsorted`; every hit is verified field by field. Rows added since the build
are found through a small dict. Pure numpy; the caller runs it in a worker thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bot.trust.params import Edges, Posts

if TYPE_CHECKING:  # the store hands its columns in; the ranking never imports the store at run time
    from bot.store import EngagementColumns

_MULTIPLIERS = tuple(
    np.int64(m - (1 << 64) if m >= 1 << 63 else m)
    for m in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)
)


def _key_hash(
    channel: np.ndarray, actor: np.ndarray, target: np.ndarray, day: np.ndarray, kind: np.ndarray
) -> np.ndarray:
    with np.errstate(over="ignore"):
        h = channel * _MULTIPLIERS[0]
        h = (h ^ actor) * _MULTIPLIERS[1]
        h = (h ^ target) * _MULTIPLIERS[2]
        h = (h ^ (day << 8 | (kind & 0xFF))) * _MULTIPLIERS[3]
        return h ^ (h >> 29)


def fold_threads(channel: np.ndarray, parents: dict[int, int]) -> np.ndarray:
    """Thread ids replaced by the channel they live in."""
    if not parents or len(channel) == 0:
        return channel.copy()
    ids = np.fromiter(parents, np.int64, len(parents))
    to = np.fromiter(parents.values(), np.int64, len(parents))
    order = np.argsort(ids)
    ids, to = ids[order], to[order]
    pos = np.minimum(np.searchsorted(ids, channel), len(ids) - 1)
    return np.where(ids[pos] == channel, to[pos], channel)


class CommunityEdges:
    """Engagement rows of one community with spare capacity for rows added by `apply`."""

    def __init__(self, cols: EngagementColumns, parents: dict[int, int], built_day: int) -> None:
        self.built_day = built_day
        self.upto_id = cols.upto_id
        self.parents = dict(parents)
        size = len(cols)
        self._size = size
        capacity = size + max(1024, size // 8)

        def room(values: np.ndarray, dtype: type) -> np.ndarray:
            out = np.empty(capacity, dtype)
            out[:size] = values
            return out

        self._raw_channel = room(cols.channel, np.int64)
        self._channel = room(fold_threads(cols.channel, parents), np.int64)
        self._actor = room(cols.actor, np.int64)
        self._target = room(cols.target, np.int64)
        self._day = room(cols.day, np.int64)
        self._kind = room(cols.kind, np.int64)
        self._n = room(cols.n, np.float64)
        posts = cols.posts
        self._posts: list[np.ndarray] = (
            [fold_threads(posts.channel, parents), posts.member, posts.day, posts.n.astype(np.float64)]
            if posts is not None
            else [np.zeros(0, np.int64)] * 3 + [np.zeros(0, np.float64)]
        )
        self._built = size  # rows [0, _built) are covered by the hash index
        self._index: tuple[np.ndarray, np.ndarray] | None = None
        self._added: dict[tuple[int, int, int, int, int], int] = {}
        # What `apply` changed since the last `take_changes`, for trust state kept up to date in place.
        self._changes: list[tuple[np.ndarray, ...]] = []
        self._new_posts: list[tuple[np.ndarray, ...]] = []
        self._logged = 0
        self.changes_lost = False  # the log outgrew its bound: whoever consumes it must rebuild

    def __len__(self) -> int:
        return self._size

    def edges(self) -> Edges:
        """The rows as `Edges` (views, no copy; do not `apply` while a computation uses them)."""
        s = self._size
        return Edges(
            self._actor[:s], self._target[:s], self._channel[:s], self._day[:s], self._kind[:s], self._n[:s]
        )

    def pair_rows(self, actor: np.ndarray, target: np.ndarray) -> Edges:
        """The current rows of the given (actor id, target id) pairs (threads folded): one pass over
        the rows, for the rare update that needs a pair's whole history."""
        s = self._size
        wanted = set(zip(actor.tolist(), target.tolist(), strict=True))
        near = np.isin(self._actor[:s], actor) & np.isin(self._target[:s], target)
        rows = np.array(
            [
                i
                for i in np.flatnonzero(near).tolist()
                if (int(self._actor[i]), int(self._target[i])) in wanted
            ],
            np.int64,
        )
        return Edges(
            self._actor[rows],
            self._target[rows],
            self._channel[rows],
            self._day[rows],
            self._kind[rows],
            self._n[rows],
        )

    def posts(self) -> Posts:
        """What members posted (threads folded), for volume-neutrality."""
        channel, member, day, n = self._posts
        return Posts(member, channel, day, n)

    def _hash_index(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self._index is None:
            b = self._built
            h = _key_hash(
                self._raw_channel[:b], self._actor[:b], self._target[:b], self._day[:b], self._kind[:b]
            )
            order = np.argsort(h, kind="stable")
            ordered = h[order]
            if len(ordered) > 1 and bool(np.any(ordered[1:] == ordered[:-1])):
                return None  # two keys share a hash (~1e-7 per million rows): the caller rebuilds
            self._index = (ordered, order)
        return self._index

    def apply(self, changes: EngagementColumns) -> bool:
        """Bring the rows up to `changes.upto_id`. `changes` holds the current row of every touched
        key (and, when known, their channels with threads folded; else the known thread parents
        fold them). Returns False when the rows cannot be updated in place and must be rebuilt."""
        if changes.upto_id < self.upto_id:
            return False
        # Posts are added, not replaced: they must follow on exactly (or have been applied already).
        add_posts = changes.after_id == self.upto_id
        if not add_posts and changes.upto_id != self.upto_id:
            return False
        if len(changes):
            index = self._hash_index()
            if index is None:
                return False
            ordered, order = index
            folded = (
                changes.folded if changes.folded is not None else fold_threads(changes.channel, self.parents)
            )
            h = _key_hash(changes.channel, changes.actor, changes.target, changes.day, changes.kind)
            pos = np.minimum(np.searchsorted(ordered, h), max(len(ordered) - 1, 0))
            found = np.zeros(len(h), np.bool_)
            rows = np.zeros(len(h), np.int64)
            if len(ordered):
                rows = order[pos]
                found = (
                    (ordered[pos] == h)
                    & (self._raw_channel[rows] == changes.channel)
                    & (self._actor[rows] == changes.actor)
                    & (self._target[rows] == changes.target)
                    & (self._day[rows] == changes.day)
                    & (self._kind[rows] == changes.kind)
                )
            before = np.zeros(len(h), np.float64)
            before[found] = self._n[rows[found]]
            self._n[rows[found]] = changes.n[found]
            for i in np.flatnonzero(~found).tolist():
                key = (
                    int(changes.channel[i]),
                    int(changes.actor[i]),
                    int(changes.target[i]),
                    int(changes.day[i]),
                    int(changes.kind[i]),
                )
                row = self._added.get(key)
                if row is None:
                    row = self._append(key, int(folded[i]))
                    self._added[key] = row
                else:
                    before[i] = self._n[row]
                self._n[row] = changes.n[i]
            delta = changes.n - before
            moved = delta != 0
            if moved.any():
                self._log(
                    self._changes,
                    folded[moved],
                    changes.actor[moved],
                    changes.target[moved],
                    changes.day[moved],
                    changes.kind[moved],
                    delta[moved],
                )
        if add_posts and changes.posts is not None and len(changes.posts.member):
            p = changes.posts
            added = (fold_threads(p.channel, self.parents), p.member, p.day, p.n.astype(np.float64))
            self._posts = [np.concatenate([old, new]) for old, new in zip(self._posts, added, strict=True)]
            self._log(self._new_posts, *added)
        self.upto_id = changes.upto_id
        return True

    def _log(self, into: list[tuple[np.ndarray, ...]], *columns: np.ndarray) -> None:
        if self.changes_lost:
            return
        self._logged += len(columns[0])
        if self._logged > max(100_000, self._size // 4):
            self._changes.clear()
            self._new_posts.clear()
            self.changes_lost = True
            return
        into.append(tuple(np.array(c) for c in columns))

    def take_changes(self) -> tuple[Edges, Posts] | None:
        """What `apply` changed since the previous call (or since the build): edge rows whose `n` is
        the *change* of the daily count (threads folded), and the posts added. None when the log
        outgrew its bound and was dropped. Either way the log starts afresh."""
        lost = self.changes_lost
        edges = [np.concatenate(c) for c in zip(*self._changes, strict=True)] if self._changes else None
        posts = [np.concatenate(c) for c in zip(*self._new_posts, strict=True)] if self._new_posts else None
        self._changes, self._new_posts, self._logged, self.changes_lost = [], [], 0, False
        if lost:
            return None
        if edges is None:
            rows = Edges.empty()
        else:
            channel, actor, target, day, kind, delta = edges
            rows = Edges(actor, target, channel, day, kind, delta)
        if posts is None:
            z = np.zeros(0, np.int64)
            said = Posts(z, z, z, z.astype(np.float64))
        else:
            channel, member, day, n = posts
            said = Posts(member, channel, day, n)
        return rows, said

    def _append(self, key: tuple[int, int, int, int, int], folded: int) -> int:
        row = self._size
        if row == len(self._n):
            grow = max(1024, row // 4)
            for name in ("_raw_channel", "_channel", "_actor", "_target", "_day", "_kind", "_n"):
                old = getattr(self, name)
                new = np.empty(len(old) + grow, old.dtype)
                new[:row] = old[:row]
                setattr(self, name, new)
        raw, actor, target, day, kind = key
        self._raw_channel[row], self._channel[row] = raw, folded
        self._actor[row], self._target[row], self._day[row], self._kind[row] = actor, target, day, kind
        self._size = row + 1
        return row
