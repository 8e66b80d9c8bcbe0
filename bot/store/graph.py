"""SQL that reads what the trust graph is built from: engagement between members per channel and
day, posts, members' join/creation days and the channel tree, as numpy columns.

Large reads run on worker threads over read-only connections of their own (`StoreBase.reader`), split
by channel so that SQLite (which releases the GIL) works on several cores, and arrive as one
`group_concat` string per column that numpy parses in C. Incremental reads (`engagement_changes`,
`member_days` given an earlier read) return only what changed since a watermark.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.store.base import Dialects, StoreBase

if TYPE_CHECKING:  # numpy is loaded by the first trust recompute, not at start-up
    import numpy as np


@dataclass(frozen=True)
class PostColumns:
    """What members posted (messages, replies, threads, comments, submissions) per raw channel,
    member and day, as numpy int64 columns."""

    channel: np.ndarray
    member: np.ndarray
    day: np.ndarray
    n: np.ndarray

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]]) -> PostColumns:
        import numpy as np

        table = np.array(rows, dtype=np.int64).reshape(-1, 4)
        return cls(*(table[:, i].copy() for i in range(4)))


@dataclass(frozen=True)
class EngagementColumns:
    """`engagement_daily` rows as numpy int64 columns (raw channel ids: threads are not folded), and
    `upto_id`: the rows reflect every event with `events.id <= upto_id`."""

    channel: np.ndarray
    actor: np.ndarray
    target: np.ndarray
    day: np.ndarray
    kind: np.ndarray
    n: np.ndarray
    upto_id: int
    folded: np.ndarray | None = None  # channel with threads folded into their parent, when known
    posts: PostColumns | None = None  # posts in the same snapshot (all of them, or those added)
    after_id: int = 0  # for changes: they cover the events with after_id < events.id <= upto_id

    def __len__(self) -> int:
        return len(self.actor)

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[Sequence[Any]],
        upto_id: int,
        *,
        folded: bool = False,
        posts: Sequence[Sequence[Any]] | None = None,
        after_id: int = 0,
    ) -> EngagementColumns:
        import numpy as np

        width = 7 if folded else 6
        table = np.array(rows, dtype=np.int64).reshape(-1, width)
        cols = [table[:, i].copy() for i in range(width)]
        return cls(
            *cols[:6],
            upto_id=upto_id,
            folded=cols[6] if folded else None,
            posts=None if posts is None else PostColumns.from_rows(posts),
            after_id=after_id,
        )


@dataclass(frozen=True)
class MemberDays:
    """Members of one community as columns: id, join, account creation and first sighting as days
    since 1970-01-01 UTC (NaN when unknown), whether they are bots, and when they left (NaN while
    they are in the community)."""

    member_id: np.ndarray
    joined_day: np.ndarray
    account_created_day: np.ndarray
    first_seen_day: np.ndarray
    is_bot: np.ndarray
    #: The community's member version these columns are current at (migrations/0008).
    version: int = 0
    left_day: np.ndarray | None = None  # None: nobody is known to have left

    @classmethod
    def from_row(cls, row: Sequence[Any], version: int = 0) -> MemberDays:
        """From the (count, ids, joined, created, first seen, is_bot, left) `group_concat` row."""
        import numpy as np

        count, *texts = row
        if not count:
            z = np.zeros(0)
            return cls(z.astype(np.int64), z, z, z, z.astype(np.bool_), version, z)

        def days(text: str) -> np.ndarray:
            values = np.fromstring(text, dtype=np.float64, sep=",")
            return np.where(values <= NO_DAY, np.nan, np.round(values, 5))  # to the second

        ids, bots = (np.fromstring(texts[i], dtype=np.int64, sep=",") for i in (0, 4))
        return cls(ids, days(texts[1]), days(texts[2]), days(texts[3]), bots != 0, version, days(texts[5]))


#: Stands for an unknown time in `Store.member_days` (SQLite has no NaN).
NO_DAY = -1e18
_MEMBER_DAY_COLUMNS = """
    SELECT count(*), group_concat(member_id),
           group_concat(ifnull(julianday(joined_at) - 2440587.5, :none)),
           group_concat(ifnull(julianday(account_created_at) - 2440587.5, :none)),
           group_concat(ifnull(julianday(first_seen) - 2440587.5, :none)),
           group_concat(is_bot),
           group_concat(ifnull(julianday(left_at) - 2440587.5, :none))
      FROM members WHERE community_id = :community_id AND version > :after
"""
_MEMBER_VERSION = "SELECT version, removed FROM member_versions WHERE community_id = :community_id"
_CHANNEL_ROWS = """
    SELECT channel_id, parent_id, type, name FROM channels
     WHERE community_id = :community_id AND type NOT IN (10, 11, 12)  -- not threads
"""
# `+day`: walk the primary key (channel, member, day, kind), whose order is the GROUP BY's, rather than
# the day index, which holds no `n` and sends every row to a lookup in the table: 3.5M rows read in
# 0.6 s instead of 3.8 s (the window is most of a community's rows; engagement_daily is read the same way).
_POSTS_WHERE = """
      FROM activity_daily
     WHERE community_id = :community_id AND +day >= :since_day
       AND kind IN ('message', 'reply', 'thread', 'comment', 'submission')
"""
_POSTS_RAW = (
    "SELECT channel_id, member_id, day, sum(n) AS n" + _POSTS_WHERE + " GROUP BY channel_id, member_id, day"
)
_POSTS_IN_RANGE = (
    "SELECT channel_id, member_id, day, sum(n) AS n" + _POSTS_WHERE
    + " AND channel_id >= :lo AND channel_id < :hi GROUP BY channel_id, member_id, day"
)
_POST_COLUMNS = (
    "SELECT count(*), group_concat(channel_id), group_concat(member_id), group_concat(day), group_concat(n)"
    " FROM (" + _POSTS_IN_RANGE + ") AS posts"
)
# Posts among the events after the watermark (posts are only ever added, never retracted).
_POSTS_SINCE = """
    SELECT channel_id, actor_id, CAST(julianday(created_at) - 2440587.5 AS INTEGER) AS day, count(*)
      FROM events
     WHERE id > :after_id AND id <= :upto_id AND +community_id = :community_id
       AND kind IN ('message', 'reply', 'thread', 'comment', 'submission')
     GROUP BY channel_id, actor_id, day
"""
_ENGAGEMENT_RAW = """
    SELECT channel_id, actor_id, target_id, day, {kind_code}, n FROM engagement_daily
     WHERE community_id = :community_id AND day >= :since_day AND n > 0
"""
_ENGAGEMENT_ROWS = """
    SELECT CASE WHEN ch.type IN (10, 11, 12) AND ch.parent_id IS NOT NULL
                THEN ch.parent_id ELSE e.channel_id END,
           e.actor_id, e.target_id, e.day, e.kind, e.n
      FROM engagement_daily AS e
      LEFT JOIN channels AS ch ON ch.platform IN ('discord', 'reddit')
            AND ch.community_id = e.community_id AND ch.channel_id = e.channel_id
     WHERE e.community_id = :community_id AND e.day >= :since_day AND e.n > 0
"""
# engagement_daily has no platform column; `platform IN (...)` lets the join use the channels key
# (without it SQLite scans every channel for every row).
_THREAD_PARENTS = """
    SELECT channel_id, parent_id FROM channels
     WHERE community_id = :community_id AND type IN (10, 11, 12) AND parent_id IS NOT NULL
"""
# One text column per field, joined in SQLite: millions of rows arrive as four strings that numpy
# parses in C, instead of tens of millions of Python objects. `kind` and `n` travel packed in one
# integer: kind code << 32 | n.
_ENGAGEMENT_COLUMNS = """
    SELECT count(*), group_concat(channel_id), group_concat(actor_id), group_concat(target_id),
           group_concat(day), group_concat(({kind_code} << 32) | n)
      FROM engagement_daily
     WHERE community_id = :community_id AND day >= :since_day AND n > 0
       AND channel_id >= :lo AND channel_id < :hi
"""
# The current engagement_daily rows (n may be 0) for every key the events after `after_id` touched,
# derived exactly as the triggers do (an unreaction touches the day of the reaction it retracts).
_ENGAGEMENT_TOUCHED = """
    WITH touched AS (
        SELECT DISTINCT e.channel_id AS channel_id, e.actor_id AS actor_id,
               coalesce(r.target_id, e.target_id) AS target_id,  -- a removal: the reaction's target
               CAST(julianday(CASE WHEN e.kind = 'unreaction' THEN r.created_at ELSE e.created_at END)
                    - 2440587.5 AS INTEGER) AS day,
               CASE e.kind WHEN 'message' THEN 'thread_reply' WHEN 'unreaction' THEN 'reaction'
                           ELSE e.kind END AS kind
          FROM events AS e
          LEFT JOIN events AS r
            ON e.kind = 'unreaction' AND r.platform = e.platform AND r.kind = 'reaction'
           AND r.source_id = e.source_id AND r.actor_id = e.actor_id AND r.id < e.id
         WHERE e.id > :after_id AND e.id <= :upto_id  -- a rowid range: the unary + keep SQLite
           AND +e.community_id = :community_id          -- from scanning a community index instead
           AND coalesce(r.target_id, e.target_id) IS NOT NULL
           AND coalesce(r.target_id, e.target_id) <> e.actor_id
           AND e.kind IN ('reply', 'reaction', 'message', 'comment', 'unreaction')
    )
    SELECT d.channel_id, d.actor_id, d.target_id, d.day, {kind_code}, d.n,
           CASE WHEN ch.type IN (10, 11, 12) AND ch.parent_id IS NOT NULL
                THEN ch.parent_id ELSE d.channel_id END
      FROM touched AS t
      JOIN engagement_daily AS d
        ON d.community_id = :community_id AND d.channel_id = t.channel_id AND d.actor_id = t.actor_id
       AND d.target_id = t.target_id AND d.day = t.day AND d.kind = t.kind
      LEFT JOIN channels AS ch ON ch.platform IN ('discord', 'reddit')
            AND ch.community_id = d.community_id AND ch.channel_id = d.channel_id
"""


# The id up to which a read reflects every event. SQLite has one writer, so the newest id is it. On
# PostgreSQL several processes write at once and ids commit out of order, but a community's events
# are written by the one process owning its shard, one transaction at a time: the newest id of the
# community is safe (events_by_community_id in migrations/postgresql/0001 makes it an index probe).
_WATERMARK = Dialects(
    "SELECT coalesce(max(id), 0) FROM events",
    postgresql="SELECT coalesce(max(id), 0) FROM events WHERE community_id = :community_id",
)
_LATEST_ID = str(_WATERMARK)  # the SQLite text, on the reader connections


class GraphQueries(StoreBase):
    """The trust graph's inputs as columns. Mixed into `bot.store.Store`."""

    async def engagement_rows(
        self, community_id: int, since_day: int
    ) -> list[tuple[int, int, int, int, str, int]]:
        """(channel, actor, target, day, kind, n) for the trust graph; threads folded into their parent."""
        return await self.fetch_all(_ENGAGEMENT_ROWS, dict(community_id=community_id, since_day=since_day))

    async def member_days(self, community_id: int, known: MemberDays | None = None) -> MemberDays:
        """Everyone known in a community as numpy columns, the times as days since 1970-01-01 UTC
        (NaN when unknown). Given the columns of an earlier read (`known`), only the members added
        or changed since are read and merged in (migrations/0008); everyone is read again after a
        removal. Read on a connection of its own in a worker thread, as one `group_concat` string
        per column that numpy parses: tens of thousands of members in a few milliseconds."""

        if not self.separate_reads:
            params = dict(community_id=community_id)
            async with self.snapshot():
                version, removed = ((await self.fetch_all(_MEMBER_VERSION, params)) or [(0, 0)])[0]
                after = _member_days_after(known, int(version), int(removed))
                if after is None:
                    assert known is not None
                    return known
                row = (await self.fetch_all(_MEMBER_DAY_COLUMNS, dict(params, none=NO_DAY, after=after)))[0]
            return _merged_member_days(known, after, MemberDays.from_row(row, int(version)))

        def read_apart() -> MemberDays:
            db = self.reader()
            try:
                db.execute("BEGIN")
                params = dict(community_id=community_id)
                version, removed = db.execute(_MEMBER_VERSION, params).fetchone() or (0, 0)
                after = _member_days_after(known, int(version), int(removed))
                if after is None:
                    assert known is not None
                    return known
                row = db.execute(_MEMBER_DAY_COLUMNS, dict(params, none=NO_DAY, after=after)).fetchone()
                db.execute("COMMIT")
            finally:
                db.close()
            return _merged_member_days(known, after, MemberDays.from_row(row, int(version)))

        return await asyncio.to_thread(read_apart)

    async def channel_names(self, community_id: int, channel_ids: Sequence[int]) -> dict[int, str]:
        """The recorded names of these channels of a community (those known)."""
        if not channel_ids:
            return {}
        ids = list(dict.fromkeys(channel_ids))
        marks = ", ".join(f":c{i}" for i in range(len(ids)))
        params: dict[str, Any] = dict(community_id=community_id)
        params.update({f"c{i}": c for i, c in enumerate(ids)})
        sql = (
            "SELECT channel_id, name FROM channels"
            f" WHERE community_id = :community_id AND channel_id IN ({marks})"
        )
        return {int(c): str(n) for c, n in await self.fetch_all(sql, params) if n}

    async def channel_rows(self, community_id: int) -> list[tuple[int, int | None, int, str]]:
        """(channel_id, parent_id, type, name) of the community's channels and categories; threads
        (often tens of thousands of rows) are left out."""
        return await self.fetch_all(_CHANNEL_ROWS, dict(community_id=community_id))

    async def engagement_columns(
        self, community_id: int, since_day: int, kinds: Sequence[str], *, workers: int = 2
    ) -> EngagementColumns:
        """Every `engagement_daily` row with n > 0 since `since_day`, as numpy columns (raw channels,
        threads not folded; `kind` as an index into `kinds`, -1 for others), with the `events.id`
        up to which they are complete. Runs on worker threads with connections of their own, split
        by channel so that SQLite (which releases the GIL) works on several cores."""
        if not self.separate_reads:
            params = dict(community_id=community_id, since_day=since_day)
            async with self.snapshot():
                raw = _ENGAGEMENT_RAW.format(kind_code=_kind_case("kind", kinds))
                rows = await self.fetch_all(raw, params)
                posted = await self.fetch_all(_POSTS_RAW, params)
                upto = int(await self.scalar(_WATERMARK, dict(community_id=community_id)))
            return EngagementColumns.from_rows(rows, upto, posts=posted)
        return await asyncio.to_thread(self._read_columns, community_id, since_day, kinds, workers)

    def _read_columns(
        self, community_id: int, since_day: int, kinds: Sequence[str], workers: int
    ) -> EngagementColumns:
        import numpy as np

        sql = _ENGAGEMENT_COLUMNS.format(kind_code=_kind_case("kind", kinds))
        db = self.reader()
        extra: list[sqlite3.Connection] = []
        try:
            # One snapshot for the watermark and the posts (which `engagement_changes` adds to, so
            # they must match the watermark exactly). Engagement parts may run on other connections,
            # which see this snapshot or a later one (WAL readers only move forward): rows written
            # after the watermark are applied again by `engagement_changes`, which replaces a key's
            # row rather than adding to it, so nothing is counted twice.
            db.execute("BEGIN")
            upto = int(db.execute(_LATEST_ID).fetchone()[0])
            channels = sorted(
                int(r[0])
                for r in db.execute(
                    "SELECT channel_id FROM channels WHERE community_id = ?", (community_id,)
                ).fetchall()
            )
            step = max(1, len(channels) // (workers * 2))
            bounds = [-(1 << 63), *channels[step::step], (1 << 63) - 1]
            ranges = list(itertools.pairwise(bounds))  # [lo, hi); ids are snowflakes far below 2^63 - 1

            def part(conn: sqlite3.Connection, lo: int, hi: int) -> list[np.ndarray]:
                params = dict(community_id=community_id, since_day=since_day, lo=lo, hi=hi)
                return _parse_columns(conn.execute(sql, params).fetchone(), 5)

            def posts(conn: sqlite3.Connection, lo: int, hi: int) -> list[np.ndarray]:
                params = dict(community_id=community_id, since_day=since_day, lo=lo, hi=hi)
                return _parse_columns(conn.execute(_POST_COLUMNS, params).fetchone(), 4)

            # The connections work through the posts and engagement of every channel range, taking
            # the next piece as they finish one. Posts only on connections whose snapshot is the
            # watermark's (`db`, or one that began before anything else was written).
            extra = [self.reader() for _ in range(max(0, workers - 1))]
            exact = [True]
            for conn in extra:
                conn.execute("BEGIN")
                exact.append(int(conn.execute(_LATEST_ID).fetchone()[0]) == upto)
            conns = [db, *extra]
            todo = [("posts", i) for i in range(len(ranges))] + [("edges", i) for i in range(len(ranges))]
            done: dict[tuple[str, int], list[np.ndarray]] = {}
            lock = threading.Lock()

            def work(k: int) -> None:
                while True:
                    with lock:
                        piece = next((t for t in todo if exact[k] or t[0] == "edges"), None)
                        if piece is None:
                            return
                        todo.remove(piece)
                    lo, hi = ranges[piece[1]]
                    what = posts if piece[0] == "posts" else part
                    found = what(conns[k], lo, hi)
                    with lock:
                        done[piece] = found

            with ThreadPoolExecutor(max_workers=len(conns)) as pool:
                for f in [pool.submit(work, k) for k in range(len(conns))]:
                    f.result()
            for conn in extra:
                conn.execute("COMMIT")
            parts = [done[("edges", i)] for i in range(len(ranges))]
            said = [done[("posts", i)] for i in range(len(ranges))]
            post_cols = PostColumns(*(np.concatenate(c) for c in zip(*said, strict=True)))
            db.execute("COMMIT")
        finally:
            for conn in extra:
                conn.close()
            db.close()
        channel, actor, target, day, packed = (np.concatenate(c) for c in zip(*parts, strict=True))
        return EngagementColumns(
            channel, actor, target, day, packed >> 32, packed & 0xFFFFFFFF, upto, posts=post_cols
        )

    async def engagement_changes(
        self, community_id: int, after_id: int, kinds: Sequence[str]
    ) -> EngagementColumns | None:
        """The current `engagement_daily` rows (n may be 0) of every key touched by events written
        after `after_id`, with their folded channels, and the new watermark. None when events at or
        below `after_id` have been deleted since (ids may then be reused), so a cache built up to it
        can no longer be trusted."""
        sql = _ENGAGEMENT_TOUCHED.format(kind_code=_kind_case("d.kind", kinds))
        if not self.separate_reads:
            async with self.snapshot():
                upto = int(await self.scalar(_WATERMARK, dict(community_id=community_id)))
                if upto < after_id:
                    return None
                params = dict(community_id=community_id, after_id=after_id, upto_id=upto)
                rows = await self.fetch_all(sql, params)
                posted = await self.fetch_all(_POSTS_SINCE, params)
            return EngagementColumns.from_rows(rows, upto, folded=True, posts=posted, after_id=after_id)

        def read() -> EngagementColumns | None:
            db = self.reader()
            try:
                db.execute("BEGIN")
                upto = int(db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])
                if upto < after_id:
                    return None
                params = dict(community_id=community_id, after_id=after_id, upto_id=upto)
                rows = db.execute(sql, params).fetchall()
                posted = db.execute(_POSTS_SINCE, params).fetchall()
                db.execute("COMMIT")
            finally:
                db.close()
            return EngagementColumns.from_rows(rows, upto, folded=True, posts=posted, after_id=after_id)

        return await asyncio.to_thread(read)

    async def thread_parents(self, community_id: int) -> dict[int, int]:
        """Thread id -> the channel it lives in, so a thread's engagement counts for its channel."""
        rows = await self.fetch_all(_THREAD_PARENTS, dict(community_id=community_id))
        return {int(c): int(p) for c, p in rows}


def _kind_case(column: str, kinds: Sequence[str]) -> str:
    """SQL mapping engagement kind names to their index in `kinds` (-1 for any other)."""
    if not all(k.isidentifier() for k in kinds):
        raise ValueError("engagement kinds must be plain names")
    whens = " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(kinds))
    return f"(CASE {column} {whens} ELSE -1 END)"


def _parse_columns(row: Sequence[Any], width: int) -> list[np.ndarray]:
    """(count, text, text, ...) from a group_concat query: one int64 array per text column."""
    import numpy as np

    count, *texts = row
    if not count:
        return [np.zeros(0, np.int64) for _ in range(width)]
    return [np.fromstring(t, dtype=np.int64, sep=",") for t in texts]


def _member_days_after(known: MemberDays | None, version: int, removed: int) -> int | None:
    """Read members with a version above this (-1: everyone, including members stored before
    versions were kept, at 0); None when `known` is current."""
    if known is None or removed > known.version or version < known.version:
        return -1
    return None if version == known.version else known.version


def _merged_member_days(known: MemberDays | None, after: int, changed: MemberDays) -> MemberDays:
    """`known` with the rows of `changed` (read `after` its version) replacing or added to its own;
    `changed` alone when it was a full read."""
    if known is None or after < 0:
        return changed
    import numpy as np

    columns = ("member_id", "joined_day", "account_created_day", "first_seen_day", "is_bot", "left_day")
    index = {m: i for i, m in enumerate(known.member_id.tolist())}
    at = np.array([index.get(m, -1) for m in changed.member_id.tolist()], np.int64)
    old, new = at >= 0, at < 0
    merged = []
    for name in columns:
        values, update = getattr(known, name), getattr(changed, name)
        if name == "left_day":  # columns read before departures were kept have none
            values = np.full(len(known.member_id), np.nan) if values is None else values
            update = np.full(len(changed.member_id), np.nan) if update is None else update
        values = values.copy()
        values[at[old]] = update[old]
        merged.append(np.concatenate([values, update[new]]))
    *facts, left = merged
    return MemberDays(*facts, version=changed.version, left_day=left)
