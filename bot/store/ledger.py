"""SQL for the engagement ledger: raw events, member sightings and channels, written in batches
(`record`) or in bulk (`record_bulk`), and the activity counts read back from them.

Events carry only metadata, never message text. Every event has a natural key, and it is written with
INSERT OR IGNORE, so a replayed or duplicated batch never counts twice; the database's triggers keep
the daily aggregates (`engagement_daily`, `activity_daily`) exact as events arrive, and each batch
feeds the report aggregates with the rows it inserted (`bot.store.reports`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bot.ledger import ChannelInfo, EngagementEvent, MemberSighting, iso
from bot.store.base import StoreBase

_INSERT_EVENT = """
    INSERT OR IGNORE INTO events
        (platform, community_id, channel_id, actor_id, target_id, kind, source_id, is_self, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_UPSERT_MEMBER = """
    INSERT INTO members (platform, community_id, member_id, first_seen, joined_at, account_created_at, is_bot)
    VALUES (:platform, :community_id, :member_id, :seen, :joined, :created, :is_bot)
    ON CONFLICT (platform, community_id, member_id) DO UPDATE SET
        first_seen = CASE WHEN excluded.first_seen < members.first_seen
                          THEN excluded.first_seen ELSE members.first_seen END,
        joined_at = coalesce(excluded.joined_at, members.joined_at),
        account_created_at = coalesce(members.account_created_at, excluded.account_created_at),
        is_bot = CASE WHEN excluded.is_bot > members.is_bot THEN excluded.is_bot ELSE members.is_bot END,
        left_at = NULL
"""
_UPSERT_CHANNEL = """
    INSERT INTO channels (platform, community_id, channel_id, parent_id, type, name, owner_id)
    VALUES (:platform, :community_id, :channel_id, :parent_id, :type, :name, :owner_id)
    ON CONFLICT (platform, community_id, channel_id) DO UPDATE SET
        parent_id = excluded.parent_id, type = excluded.type, name = excluded.name,
        owner_id = coalesce(excluded.owner_id, channels.owner_id)
"""
_MESSAGE_AUTHOR = """
    SELECT actor_id FROM events
     WHERE platform = :platform AND kind IN ('message', 'reply', 'thread') AND source_id = :source_id
     LIMIT 1
"""
_THREAD_OWNER = """
    SELECT owner_id FROM channels
     WHERE platform = :platform AND community_id = :community_id AND channel_id = :channel_id
"""
_COUNTS_BY_KIND = """
    SELECT kind, count(*) FROM events
     WHERE community_id = :community_id AND created_at >= :since
     GROUP BY kind ORDER BY kind
"""
_COUNTS_BY_CHANNEL = """
    SELECT e.channel_id, max(coalesce(c.name, '')), count(*) FROM events AS e
      LEFT JOIN channels AS c
        ON c.platform = e.platform AND c.community_id = e.community_id AND c.channel_id = e.channel_id
     WHERE e.community_id = :community_id AND e.created_at >= :since
     GROUP BY e.channel_id ORDER BY count(*) DESC, e.channel_id
"""
_DISTINCT_ACTORS = """
    SELECT count(DISTINCT actor_id) FROM events WHERE community_id = :community_id AND created_at >= :since
"""


class LedgerQueries(StoreBase):
    """Events, members and channels. Mixed into `bot.store.Store`."""

    async def record(
        self,
        events: Iterable[EngagementEvent],
        members: Iterable[MemberSighting] = (),
        channels: Iterable[ChannelInfo] = (),
    ) -> int:
        """Write one batch atomically; returns how many events were new (duplicates are ignored)."""
        event_rows = [e.row() for e in events]
        member_rows = [
            dict(
                platform=m.platform,
                community_id=m.community_id,
                member_id=m.member_id,
                seen=iso(m.seen_at),
                joined=iso(m.joined_at) if m.joined_at else None,
                created=iso(m.account_created_at) if m.account_created_at else None,
                is_bot=int(m.is_bot),
            )
            for m in members
        ]
        channel_rows = [
            dict(
                platform=c.platform,
                community_id=c.community_id,
                channel_id=c.channel_id,
                parent_id=c.parent_id,
                type=c.type,
                name=c.name,
                owner_id=c.owner_id,
            )
            for c in channels
        ]
        inserted = 0
        async with self.transaction() as db:
            if event_rows:
                # The rows the INSERT itself added (both backends leave the triggers' rows out), so the
                # count is right with other processes writing at the same time; the report aggregates
                # count this batch's new rows, the ones after the newest id before it.
                after = await self.scalar("SELECT coalesce(max(id), 0) FROM events")
                cur = await db.executemany(_INSERT_EVENT, event_rows)
                inserted = max(cur.rowcount, 0)
                if inserted:
                    await self.feed_report_aggregates(db, after)  # type: ignore[attr-defined]  # ReportQueries
            if member_rows:
                await db.executemany(_UPSERT_MEMBER, member_rows)
            if channel_rows:
                await db.executemany(_UPSERT_CHANNEL, channel_rows)
        return inserted

    async def message_author(self, platform: str, message_id: int) -> int | None:
        async with self.db.execute(
            _MESSAGE_AUTHOR, dict(platform=platform, source_id=str(message_id))
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else None

    async def thread_owner(self, platform: str, community_id: int, channel_id: int) -> int | None:
        params = dict(platform=platform, community_id=community_id, channel_id=channel_id)
        async with self.db.execute(_THREAD_OWNER, params) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row and row[0] is not None else None

    async def event_counts(self, community_id: int, since: datetime) -> dict[str, int]:
        params = dict(community_id=community_id, since=iso(since))
        async with self.db.execute(_COUNTS_BY_KIND, params) as cur:
            return {str(kind): int(n) for kind, n in await cur.fetchall()}

    async def channel_counts(self, community_id: int, since: datetime) -> list[tuple[int, str, int]]:
        params = dict(community_id=community_id, since=iso(since))
        async with self.db.execute(_COUNTS_BY_CHANNEL, params) as cur:
            return [(int(c), str(name), int(n)) for c, name, n in await cur.fetchall()]

    async def distinct_actors(self, community_id: int, since: datetime) -> int:
        params = dict(community_id=community_id, since=iso(since))
        return int(await self.scalar(_DISTINCT_ACTORS, params) or 0)

    # -- bulk load and reference queries (imports, benchmarks) -------------------------------------

    async def record_bulk(
        self,
        event_rows: Iterable[Sequence[Any]],
        members: Iterable[MemberSighting] = (),
        channels: Iterable[ChannelInfo] = (),
        *,
        chunk: int = 200_000,
        defer_indexes: bool = False,
    ) -> int:
        """Load many events fast; returns how many were new. For imports and benchmarks.

        `event_rows` are tuples in `EngagementEvent.row()` order (building millions of event objects
        costs more than writing them); they may be a generator. Same INSERT OR IGNORE as `record`, so
        the triggers keep `engagement_daily` and `activity_daily` exact; members and channels are
        upserted first. Each `chunk` of events is one transaction. While loading, crash safety is
        traded for speed (meant for a fresh or backed-up database; errors still roll back a chunk):
        the rollback journal is kept in memory instead of the WAL (which would write every page
        twice), synchronous is OFF and the page cache is larger. All three are restored afterwards.
        With `defer_indexes` the secondary indexes of `events` (not its natural-key index, which
        INSERT OR IGNORE and the triggers use) are dropped during the load and rebuilt once at the
        end, which is much faster than maintaining them row by row.
        """
        await self.record([], members, channels)
        if self.postgresql:  # no pragmas to trade: each chunk is one `INSERT ... SELECT FROM unnest`
            inserted = 0
            rows = iter(event_rows)
            while batch := list(itertools.islice(rows, chunk)):
                async with self.transaction() as db:
                    after = await self.scalar("SELECT coalesce(max(id), 0) FROM events")
                    new = max((await db.executemany(_INSERT_EVENT, batch)).rowcount, 0)
                    if new:
                        await self.feed_report_aggregates(db, after)  # type: ignore[attr-defined]
                    inserted += new
            return inserted
        deferred: list[tuple[str, str]] = []
        if defer_indexes:
            deferred = [
                (str(name), str(sql))
                for name, sql in await self.fetch_all(
                    "SELECT name, sql FROM sqlite_master"
                    " WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL"
                )
            ]
            for name, _ in deferred:
                await self.db.execute(f'DROP INDEX "{name}"')
        cache = await self.scalar("PRAGMA cache_size")
        sync = await self.scalar("PRAGMA synchronous")
        journal = await self.scalar("PRAGMA journal_mode")
        await self.db.execute("PRAGMA journal_mode = MEMORY")
        await self.db.execute("PRAGMA synchronous = OFF")
        await self.db.execute("PRAGMA cache_size = -524288")  # 512 MiB

        async def write(batch: list[Sequence[Any]]) -> int:
            async with self.transaction() as db:
                after = await self.scalar("SELECT coalesce(max(id), 0) FROM events")
                cur = await db.executemany(_INSERT_EVENT, batch)
                new = max(cur.rowcount, 0)
                if new:
                    await self.feed_report_aggregates(db, after)  # type: ignore[attr-defined]  # ReportQueries
            return new

        inserted = 0
        batch: list[Sequence[Any]] = []
        try:
            for row in event_rows:
                batch.append(row)
                if len(batch) >= chunk:
                    inserted += await write(batch)
                    batch = []
            if batch:
                inserted += await write(batch)
        finally:
            for _, sql in deferred:
                await self.db.execute(sql)
            await self.db.execute(f"PRAGMA journal_mode = {journal}")
            await self.db.execute(f"PRAGMA synchronous = {int(sync)}")
            await self.db.execute(f"PRAGMA cache_size = {int(cache)}")
        return inserted

    async def pair_event_counts(self) -> list[tuple[int, int, int]]:
        """(actor, target, events) over the raw ledger, self-engagement excluded: the naive reference
        a trust graph could be built from (no decay, kinds, channels or retractions)."""
        return await self.fetch_all(
            "SELECT actor_id, target_id, count(*) FROM events"
            " WHERE target_id IS NOT NULL AND target_id <> actor_id GROUP BY actor_id, target_id"
        )
