"""SQL for the engagement ledger: raw events, member sightings and channels, written in batches
(`record`, or the ingest writer's own connection, `LedgerWriter`) or in bulk (`record_bulk`), and the
activity counts read back from the daily aggregates.

Events carry only metadata, never message text. Every event has a natural key, and it is written with
INSERT OR IGNORE, so a replayed or duplicated batch never counts twice. Each batch, in its own
transaction, then folds the rows it inserted (found by rowid: new rows get ids above the largest
before the batch) into every aggregate kept from the events (`engagement_daily`, `activity_daily`,
and the report aggregates of `bot.store.reports`) and advances the per-channel cursors the gap fill
reads from: a few GROUP BY statements per batch (`AFTER_INSERT`, the one place they are listed)
instead of per-row triggers, which measured twice as fast on a large ledger (migration 0016).

On PostgreSQL every batch runs the same statements in PostgreSQL's text (migrations/postgresql/0018):
there a rowid range is not "this batch's rows" when other processes commit ids inside it, so each
statement also keeps to the rows its own transaction wrote (`xmin`); the ingest thread writes through
`record` on a pool of its own (`StoreWriter`).
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.ledger import ChannelInfo, EngagementEvent, MemberSighting, iso
from bot.store.base import StoreBase
from bot.store.postgres import Dialects, connect_postgres
from bot.store.reports import PG_OWN_ROW, REPORT_FEEDS

#: Page cache of the ingest writer's connection, in KiB. The writer touches the right-hand pages of
#: the ledger's indexes and the current days of the aggregates; a cache as large as the main
#: connection's would only grow with the database (resident memory) without speeding it up.
WRITER_CACHE_KIB = 8_192

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
# Reddit ids have this bit set (bot.subreddits.ids.REDDIT_BIT; that package imports the store). Their
# events name their target themselves: a Reddit id is never looked up as a Discord message.
_REDDIT_BIT = 1 << 62
_LAST_ID = "SELECT coalesce(max(id), 0) FROM events"
_NEW_EVENTS = "SELECT count(*) FROM events NOT INDEXED WHERE id > :after"
# The author of a message the batch refers to (a reply's or reaction's target): its own event.
_MESSAGE_AUTHOR = """
    SELECT actor_id FROM events
     WHERE platform = :platform AND kind IN ('message', 'reply', 'thread') AND source_id = :source_id
     LIMIT 1
"""
# The reactions not yet retracted with the given source ids, or whose source id starts with a prefix.
# On SQLite the events' natural key (platform, kind, source_id, actor_id) finds them (a prefix as a
# range of it); the unary plus keeps the planner off the community's time index, which would scan
# every event since the message.
_STANDING = """
    SELECT r.actor_id, r.source_id, r.target_id, r.channel_id FROM events AS r
     WHERE r.platform = :platform AND r.kind = 'reaction' AND {match}
       AND {plus}r.community_id = :community AND {plus}r.created_at >= :since
       AND NOT EXISTS (SELECT 1 FROM events AS u WHERE u.platform = r.platform
                       AND u.kind = 'unreaction' AND u.source_id = r.source_id AND u.actor_id = r.actor_id
                       AND u.id > r.id)
"""
_STANDING_SOURCES = Dialects(
    _STANDING.format(match="r.source_id IN (:first, :second)", plus="+"),
    _STANDING.format(match="r.source_id IN (:first, :second)", plus=""),
)
_STANDING_PREFIX = Dialects(
    _STANDING.format(match="r.source_id >= :prefix AND r.source_id < :high", plus="+"),
    # PostgreSQL's text order follows the database's collation, where punctuation may not sort
    # byte-wise: the prefix is compared as it is.
    _STANDING.format(match="left(r.source_id, :n) = :prefix", plus=""),
)
_DAY = "CAST(julianday(created_at) - 2440587.5 AS INTEGER)"
# PostgreSQL: the rows of the batch are those above :after that this transaction wrote (`PG_OWN_ROW`;
# other processes may commit rows in the same id range meanwhile, see bot/store/reports.py).
# The aggregates, fed from the rows this batch inserted (ids above :after), in this order, each in
# SQLite's text and PostgreSQL's (conflict targets named, updated columns qualified, keys in order).
_FEED_ENGAGEMENT = Dialects(
    f"""
    INSERT INTO engagement_daily (community_id, channel_id, actor_id, target_id, day, kind, n)
    SELECT community_id, channel_id, actor_id, target_id, {_DAY},
           CASE kind WHEN 'message' THEN 'thread_reply' ELSE kind END, count(*)
      FROM events NOT INDEXED  -- the batch: a rowid range, never an index scan
     WHERE id > :after AND target_id IS NOT NULL AND target_id <> actor_id
       AND kind IN ('reply', 'reaction', 'message', 'comment')
     GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT DO UPDATE SET n = n + excluded.n
""",
    f"""
    INSERT INTO engagement_daily AS d (community_id, channel_id, actor_id, target_id, day, kind, n)
    SELECT community_id, channel_id, actor_id, target_id, microvoice_day(created_at),
           CASE kind WHEN 'message' THEN 'thread_reply' ELSE kind END, count(*)
      FROM events
     WHERE id > :after AND {PG_OWN_ROW.format(alias="")} AND target_id IS NOT NULL
       AND target_id <> actor_id AND kind IN ('reply', 'reaction', 'message', 'comment')
     GROUP BY 1, 2, 3, 4, 5, 6
     ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (community_id, channel_id, actor_id, target_id, day, kind) DO UPDATE SET n = d.n + excluded.n
""",
)
# A removed reaction takes back the engagement it added, on the day the reaction was counted, from
# the member the reaction engaged: a removal names no message author (Discord sends none), so its
# own target is unknown when the message is not in the ledger (older than the bot, or purged). Only
# a reaction recorded before the removal is taken back (one added again after it is counted).
_RETRACT_REACTIONS = Dialects(
    """
    WITH gone AS (
        SELECT u.community_id, u.channel_id, u.actor_id, r.target_id,
               CAST(julianday(r.created_at) - 2440587.5 AS INTEGER) AS day, count(*) AS k
          FROM events AS u
          JOIN events AS r
            ON r.platform = u.platform AND r.kind = 'reaction' AND r.source_id = u.source_id
           AND r.actor_id = u.actor_id AND r.id < u.id
         WHERE u.id > :after AND u.kind = 'unreaction'
           AND r.target_id IS NOT NULL AND r.target_id <> r.actor_id
         GROUP BY 1, 2, 3, 4, 5
    )
    UPDATE engagement_daily AS d SET n = max(d.n - gone.k, 0)
      FROM gone
     WHERE d.community_id = gone.community_id AND d.channel_id = gone.channel_id
       AND d.actor_id = gone.actor_id AND d.target_id = gone.target_id AND d.day = gone.day
       AND d.kind = 'reaction'
""",
    f"""
    WITH gone AS (
        SELECT u.community_id, u.channel_id, u.actor_id, r.target_id,
               microvoice_day(r.created_at) AS day, count(*) AS k
          FROM events AS u
          JOIN events AS r
            ON r.platform = u.platform AND r.kind = 'reaction' AND r.source_id = u.source_id
           AND r.actor_id = u.actor_id AND r.id < u.id
         WHERE u.id > :after AND {PG_OWN_ROW.format(alias="u.")} AND u.kind = 'unreaction'
           AND r.target_id IS NOT NULL AND r.target_id <> r.actor_id
         GROUP BY 1, 2, 3, 4, 5
    )
    UPDATE engagement_daily AS d SET n = GREATEST(d.n - gone.k, 0)
      FROM gone
     WHERE d.community_id = gone.community_id AND d.channel_id = gone.channel_id
       AND d.actor_id = gone.actor_id AND d.target_id = gone.target_id AND d.day = gone.day
       AND d.kind = 'reaction'
""",
)
_FEED_ACTIVITY = Dialects(
    f"""
    INSERT INTO activity_daily (community_id, channel_id, member_id, day, kind, n)
    SELECT community_id, channel_id, actor_id, {_DAY}, kind, count(*)
      FROM events NOT INDEXED WHERE id > :after
     GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT DO UPDATE SET n = n + excluded.n
""",
    f"""
    INSERT INTO activity_daily AS a (community_id, channel_id, member_id, day, kind, n)
    SELECT community_id, channel_id, actor_id, microvoice_day(created_at), kind, count(*)
      FROM events WHERE id > :after AND {PG_OWN_ROW.format(alias="")}
     GROUP BY 1, 2, 3, 4, 5
     ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (community_id, channel_id, member_id, day, kind) DO UPDATE SET n = a.n + excluded.n
""",
)
_ADVANCE_CURSORS = Dialects(
    """
    INSERT INTO channel_cursors (platform, community_id, channel_id, last_message_id)
    SELECT platform, community_id, channel_id, max(CAST(source_id AS INTEGER))
      FROM events NOT INDEXED WHERE id > :after AND platform = 'discord' AND kind IN ('message', 'reply')
     GROUP BY 1, 2, 3
    ON CONFLICT DO UPDATE SET last_message_id = max(last_message_id, excluded.last_message_id)
""",
    f"""
    INSERT INTO channel_cursors AS c (platform, community_id, channel_id, last_message_id)
    SELECT platform, community_id, channel_id, max(CAST(source_id AS BIGINT))
      FROM events
     WHERE id > :after AND {PG_OWN_ROW.format(alias="")} AND platform = 'discord'
       AND kind IN ('message', 'reply') AND source_id ~ '^[0-9]{{1,19}}$'
       AND (length(source_id) < 19 OR source_id <= '9223372036854775807')
     GROUP BY 1, 2, 3
     ORDER BY 1, 2, 3
    ON CONFLICT (platform, community_id, channel_id)
    DO UPDATE SET last_message_id = GREATEST(c.last_message_id, excluded.last_message_id)
""",
)
# Every aggregate fed from a batch, in this order; the report aggregates are defined with their queries.
AFTER_INSERT = (_FEED_ENGAGEMENT, _RETRACT_REACTIONS, _FEED_ACTIVITY, *REPORT_FEEDS, _ADVANCE_CURSORS)

_COUNTS_BY_KIND = """
    SELECT kind, sum(n) FROM report_channel_days
     WHERE community_id = :community_id AND day >= :since_day
     GROUP BY kind ORDER BY kind
"""
# The busiest channels: summed first (a few hundred day rows a channel at most), named after the cut.
_COUNTS_BY_CHANNEL = """
    SELECT t.channel_id, coalesce(max(c.name), ''), t.n
      FROM (SELECT channel_id, sum(n) AS n FROM report_channel_days
             WHERE community_id = :community_id AND day >= :since_day
             GROUP BY channel_id ORDER BY sum(n) DESC, channel_id LIMIT :limit) AS t
      LEFT JOIN channels AS c
        ON c.platform IN ('discord', 'reddit') AND c.community_id = :community_id
       AND c.channel_id = t.channel_id
     GROUP BY t.channel_id, t.n ORDER BY t.n DESC, t.channel_id
"""
_DISTINCT_ACTORS = """
    SELECT count(*) FROM member_last_active WHERE community_id = :community_id AND day >= :since_day
"""
_LAST_ACTIVE = """
    SELECT (SELECT day FROM member_last_active WHERE community_id = :community_id AND member_id = :member_id),
           (SELECT max(day) FROM member_last_active WHERE community_id = :community_id)
"""
_CURSORS = """
    SELECT community_id, channel_id, last_message_id FROM channel_cursors
     WHERE platform = :platform ORDER BY community_id, channel_id
"""
_KNOWN_BOTS = "SELECT DISTINCT member_id FROM members WHERE platform = :platform AND is_bot = 1"
_THREAD_OWNERS = """
    SELECT channel_id, owner_id FROM channels WHERE platform = :platform AND owner_id IS NOT NULL
"""
_ADD_BROADCAST = """
    INSERT INTO broadcast_messages (platform, community_id, message_id, created_at)
    VALUES (:platform, :community_id, :message_id, :created_at)
    ON CONFLICT DO NOTHING
"""
_BROADCASTS = """
    SELECT message_id FROM broadcast_messages WHERE platform = :platform AND created_at >= :since
"""
_FORGET_BROADCASTS = "DELETE FROM broadcast_messages WHERE platform = :platform AND created_at < :since"


def day_of(dt: datetime) -> int:
    """Days since 1970-01-01 UTC, as the aggregates count them."""
    return int(dt.timestamp() // 86_400)


def member_row(m: MemberSighting) -> dict[str, Any]:
    return dict(
        platform=m.platform,
        community_id=m.community_id,
        member_id=m.member_id,
        seen=iso(m.seen_at),
        joined=iso(m.joined_at) if m.joined_at else None,
        created=iso(m.account_created_at) if m.account_created_at else None,
        is_bot=int(m.is_bot),
    )


def channel_row(c: ChannelInfo) -> dict[str, Any]:
    return dict(
        platform=c.platform,
        community_id=c.community_id,
        channel_id=c.channel_id,
        parent_id=c.parent_id,
        type=c.type,
        name=c.name,
        owner_id=c.owner_id,
    )


def _unresolved(events: Sequence[EngagementEvent]) -> set[tuple[str, int]]:
    return {
        (e.platform, e.target_message_id)
        for e in events
        if e.target_id is None and e.target_message_id is not None and not e.target_message_id & _REDDIT_BIT
    }


def _event_rows(
    events: Sequence[EngagementEvent], authors: dict[tuple[str, int], int]
) -> list[tuple[object, ...]]:
    return [
        e.row(authors.get((e.platform, e.target_message_id)) if e.target_message_id is not None else None)
        for e in events
    ]


#: A reaction (or its removal) as the events' natural key identifies it: platform, message:emoji, actor.
ReactionKey = tuple[str, str, int]
_REACTION_KINDS = ("reaction", "unreaction")

_REACTION_ROWS = Dialects(
    """
    SELECT platform, source_id, actor_id, kind, id, created_at, id > :after FROM events
     WHERE platform = :platform AND kind IN ('reaction', 'unreaction') AND source_id = :source_id
       AND actor_id = :actor_id
""",
    f"""
    SELECT platform, source_id, actor_id, kind, id, created_at, id > :after AND {PG_OWN_ROW.format(alias="")}
      FROM events
     WHERE platform = :platform AND kind IN ('reaction', 'unreaction') AND source_id = :source_id
       AND actor_id = :actor_id
""",
)
_DELETE_EVENT = "DELETE FROM events WHERE id = :id"
# On SQLite a new row takes the largest id + 1, which the deleted rows may have held: rows written
# again are given ids above the batch's start, where the aggregates look for the batch's rows.
_INSERT_EVENT_AT = """
    INSERT OR IGNORE INTO events
        (id, platform, community_id, channel_id, actor_id, target_id, kind, source_id, is_self, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


def _rows_at(db_top: int, last: int, rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """`rows` with ids after both the largest id there is and the batch's start (SQLite)."""
    first = max(db_top, last) + 1
    return [(first + i, *row) for i, row in enumerate(rows)]


def reactions_again(
    events: Sequence[EngagementEvent], rows: Iterable[Sequence[Any]]
) -> tuple[list[int], list[EngagementEvent]]:
    """What makes a batch's reactions and their removals come out in the order they happened, where
    the events' natural key (one reaction row and one removal row per member, message and emoji)
    ignored some: a reaction added again after its removal, or removed again after that. A reaction
    no later than the removal on record, or a removal earlier than the reaction on record, is the
    same event delivered again, and stays ignored.

    `rows` are the ledger's reaction and removal rows of the batch's keys (platform, source id,
    actor, kind, id, created_at, whether this batch wrote it). Returns the ids of the rows to delete
    and the events to insert, in order; the aggregates are then fed from the batch's rows as always.
    Rows of earlier batches are counted already: a reaction and the removal that took it back
    cancel out, so deleting both changes no count; a removal of this batch is not counted yet, so
    deleting it alone leaves its reaction standing. A removal recorded before any reaction took
    nothing back (`_RETRACT_REACTIONS`), so a reaction after it counts."""
    Row = tuple[int, str, EngagementEvent | None]  # id (or order, when planned now), time, event
    state: dict[ReactionKey, dict[str, Row]] = {}
    deleted: list[int] = []
    for platform, source_id, actor_id, kind, row_id, created_at, ours in rows:
        if ours:  # this batch's rows are planned again from its events, in order
            deleted.append(int(row_id))
        else:
            state.setdefault((str(platform), str(source_id), int(actor_id)), {})[str(kind)] = (
                int(row_id),
                str(created_at),
                None,
            )
    pending: dict[int, EngagementEvent] = {}
    serial = itertools.count(1 << 62)  # rows planned now come after every row there is

    def drop(rows_of: dict[str, Row], kind: str) -> None:
        row_id, _, e = rows_of.pop(kind)
        if e is None:
            deleted.append(row_id)
        else:
            del pending[row_id]

    def add(rows_of: dict[str, Row], e: EngagementEvent, at: str) -> None:
        order = next(serial)
        rows_of[e.kind] = (order, at, e)
        pending[order] = e

    for e in events:
        if e.kind not in _REACTION_KINDS:
            continue
        at = iso(e.created_at)
        rows_of = state.setdefault((e.platform, e.source_id, e.actor_id), {})
        r, u = rows_of.get("reaction"), rows_of.get("unreaction")
        standing = r is not None and (u is None or u[0] < r[0])
        if e.kind == "reaction":
            if standing or (u is not None and at <= u[1]):
                continue  # a duplicate, or the reaction that removal removed
            if r is not None and u is not None:  # removed, and added again
                if u[2] is not None and r[2] is None:
                    drop(rows_of, "unreaction")  # not counted yet: the reaction stands again
                    continue
                drop(rows_of, "reaction")
                drop(rows_of, "unreaction")
            add(rows_of, e, at)
        elif r is not None and standing:
            if at < r[1]:
                continue  # a removal from before the reaction, delivered again
            if u is not None:  # a removal before the reaction, which took nothing back
                drop(rows_of, "unreaction")
            add(rows_of, e, at)
        elif r is None and u is None:
            add(rows_of, e, at)  # the removal of a reaction the ledger never saw
    return deleted, [pending[order] for order in sorted(pending)]


def _reaction_keys(events: Sequence[EngagementEvent], last: int) -> list[dict[str, Any]]:
    """The batch's reaction keys, as `_REACTION_ROWS` parameters."""
    keys = dict.fromkeys((e.platform, e.source_id, e.actor_id) for e in events if e.kind in _REACTION_KINDS)
    return [dict(platform=p, source_id=s, actor_id=a, after=last) for p, s, a in keys]


def write_batch(
    db: sqlite3.Connection,
    events: Sequence[EngagementEvent],
    members: Iterable[MemberSighting] = (),
    channels: Iterable[ChannelInfo] = (),
) -> int:
    """One batch in one transaction on a plain sqlite3 connection; returns how many events were new.

    Targets given as a message (`target_message_id`) are resolved from the ledger first; the events
    are inserted, members and channels upserted, then the aggregates fed from the inserted rows.
    """
    member_rows = [member_row(m) for m in members]
    channel_rows = [channel_row(c) for c in channels]
    db.execute("BEGIN IMMEDIATE")
    try:
        authors: dict[tuple[str, int], int] = {}
        for platform, message_id in _unresolved(events):
            row = db.execute(_MESSAGE_AUTHOR, dict(platform=platform, source_id=str(message_id))).fetchone()
            if row is not None:
                authors[(platform, message_id)] = int(row[0])
        last = int(db.execute(_LAST_ID).fetchone()[0])
        if events:
            db.executemany(_INSERT_EVENT, _event_rows(events, authors))
        if member_rows:
            db.executemany(_UPSERT_MEMBER, member_rows)
        if channel_rows:
            db.executemany(_UPSERT_CHANNEL, channel_rows)
        inserted = 0
        if events:
            inserted = int(db.execute(_NEW_EVENTS, dict(after=last)).fetchone()[0])
            if inserted < len(events) and (keys := _reaction_keys(events, last)):
                # Some were ignored: reactions added or removed again are recorded in order.
                rows = [row for key in keys for row in db.execute(_REACTION_ROWS, key).fetchall()]
                deleted, again = reactions_again(events, rows)
                db.executemany(_DELETE_EVENT, [dict(id=i) for i in deleted])
                top = int(db.execute(_LAST_ID).fetchone()[0])
                db.executemany(_INSERT_EVENT_AT, _rows_at(top, last, _event_rows(again, authors)))
                inserted = int(db.execute(_NEW_EVENTS, dict(after=last)).fetchone()[0])
            if inserted:
                for sql in AFTER_INSERT:
                    db.execute(sql, dict(after=last))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return inserted


class LedgerWriter:
    """The ingest writer's own connection to the database file: plain sqlite3, used by one thread.

    It never shares a queue with the bot's reads (they go through the main connection, and WAL lets
    readers and this writer proceed side by side); concurrent writers on the main connection take
    turns with it through SQLite's lock (busy timeout).
    """

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA busy_timeout = 5000")
        self.db.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")

    def write(
        self,
        events: Sequence[EngagementEvent],
        members: Iterable[MemberSighting] = (),
        channels: Iterable[ChannelInfo] = (),
    ) -> int:
        return write_batch(self.db, events, members, channels)

    def release(self) -> None:
        """Empty the page cache (the pages stay in the operating system's file cache): called once a
        backlog is written, so a flood does not leave the cache's megabytes resident."""
        self.db.execute("PRAGMA shrink_memory")

    def close(self) -> None:
        self.db.close()


class StoreWriter:
    """The ingest writer on PostgreSQL: each batch through the store's own `record`, on a small pool of
    the writer's own, driven by an event loop of the writer thread's own. (Never the bot's loop: when
    the buffer is full that loop waits for the writer, which must not wait for it in turn.)"""

    def __init__(self, store: LedgerQueries) -> None:
        self.url: str = store.db.url
        self.path = store.path
        self.kind = type(store)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.store: LedgerQueries | None = None

    def write(
        self,
        events: Sequence[EngagementEvent],
        members: Iterable[MemberSighting] = (),
        channels: Iterable[ChannelInfo] = (),
    ) -> int:
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
        if self.store is None:  # the schema is the bot's store's, already migrated
            pool = self.loop.run_until_complete(connect_postgres(self.url, max_size=2))
            self.store = self.kind(pool, self.path)
        return self.loop.run_until_complete(self.store.record(list(events), list(members), list(channels)))

    def release(self) -> None:
        """Nothing to release: PostgreSQL caches pages in its own server."""

    def close(self) -> None:
        if self.loop is None:
            return
        if self.store is not None:
            self.loop.run_until_complete(self.store.db.close())
            self.store = None
        self.loop.close()
        self.loop = None


class LedgerQueries(StoreBase):
    """Events, members and channels. Mixed into `bot.store.Store`."""

    def ledger_writer(self) -> LedgerWriter | StoreWriter:
        """The ingest thread's writer, with a connection of its own: SQLite, to the database file (not
        for an in-memory database); PostgreSQL, a small pool that runs `record` (`StoreWriter`)."""
        if self.postgresql:
            return StoreWriter(self)
        if not self.separate_reads:
            raise ValueError("a separate writer needs a database file, not :memory:")
        return LedgerWriter(self.path)

    async def record(
        self,
        events: Iterable[EngagementEvent],
        members: Iterable[MemberSighting] = (),
        channels: Iterable[ChannelInfo] = (),
    ) -> int:
        """Write one batch atomically on the main connection; returns how many events were new
        (duplicates are ignored). The same statements as `write_batch`."""
        batch = list(events)
        member_rows = [member_row(m) for m in members]
        channel_rows = [channel_row(c) for c in channels]
        async with self.transaction() as db:
            authors: dict[tuple[str, int], int] = {}
            for platform, message_id in _unresolved(batch):
                author = await self.scalar(
                    _MESSAGE_AUTHOR, dict(platform=platform, source_id=str(message_id))
                )
                if author is not None:
                    authors[(platform, message_id)] = int(author)
            last = int(await self.scalar(_LAST_ID))
            inserted = 0
            if batch:
                cur = await db.executemany(_INSERT_EVENT, _event_rows(batch, authors))
                if self.postgresql:
                    inserted = max(cur.rowcount, 0)
            if member_rows:
                await db.executemany(_UPSERT_MEMBER, member_rows)
            if channel_rows:
                await db.executemany(_UPSERT_CHANNEL, channel_rows)
            if batch and not self.postgresql:
                inserted = int(await self.scalar(_NEW_EVENTS, dict(after=last)))
            if inserted < len(batch) and (keys := _reaction_keys(batch, last)):
                # Some were ignored: reactions added or removed again are recorded in order.
                rows = [row for key in keys for row in await self.fetch_all(_REACTION_ROWS, key)]
                deleted, again = reactions_again(batch, rows)
                gone = set(deleted)
                ours = sum(1 for row in rows if row[6] and int(row[4]) in gone)
                if deleted:
                    await db.executemany(_DELETE_EVENT, [dict(id=i) for i in deleted])
                if again and self.postgresql:  # ids from a sequence: never one taken before
                    await db.executemany(_INSERT_EVENT, _event_rows(again, authors))
                    inserted += len(again) - ours
                elif again:
                    top = int(await self.scalar(_LAST_ID))
                    await db.executemany(_INSERT_EVENT_AT, _rows_at(top, last, _event_rows(again, authors)))
                if not self.postgresql:
                    inserted = int(await self.scalar(_NEW_EVENTS, dict(after=last)))
            if inserted:
                await self._after_insert(db, last)
        return inserted

    async def _after_insert(self, db: Any, last: int) -> None:
        """Fold a batch's new rows (ids above `last`) into the aggregates, in the batch's transaction:
        every `AFTER_INSERT` statement (on PostgreSQL in its text, the report feeds through
        `feed_report_aggregates`, which skips them on a database without the report tables)."""
        if self.postgresql:
            for sql in (_FEED_ENGAGEMENT, _RETRACT_REACTIONS, _FEED_ACTIVITY):
                await db.execute(sql, dict(after=last))
            await self.feed_report_aggregates(db, last)  # type: ignore[attr-defined]  # ReportQueries
            await db.execute(_ADVANCE_CURSORS, dict(after=last))
            return
        for sql in AFTER_INSERT:
            await db.execute(sql, dict(after=last))

    async def standing_reactions(
        self,
        platform: str,
        community_id: int,
        since: datetime,
        *,
        sources: Sequence[str] = (),
        prefix: str = "",
    ) -> list[tuple[int, str, int | None, int]]:
        """(actor, source id, target, channel) of the reactions not yet retracted whose source id is
        one of `sources` (at most two), or starts with `prefix` (a message's id and a colon: all of its
        reactions), made from `since` on (the message's own time: nothing reacted to it before)."""
        if len(sources) > 2:
            raise ValueError("at most two source ids")
        first, second = (*sources, None, None)[:2]
        params = dict(
            community=community_id,
            since=iso(since),
            platform=platform,
            first=first,
            second=second,
            prefix=prefix,
            n=len(prefix),
            # every id that starts with "<id>:" sorts from "<id>:" up to "<id>;" (";" follows ":")
            high=prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "",
        )
        sql = _STANDING_PREFIX if prefix else _STANDING_SOURCES
        async with self.db.execute(sql, params) as cur:
            rows = await cur.fetchall()
        return [(int(a), str(src), int(t) if t is not None else None, int(c)) for a, src, t, c in rows]

    async def message_author(self, platform: str, message_id: int) -> int | None:
        async with self.db.execute(
            _MESSAGE_AUTHOR, dict(platform=platform, source_id=str(message_id))
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else None

    async def thread_owner(self, platform: str, community_id: int, channel_id: int) -> int | None:
        params = dict(platform=platform, community_id=community_id, channel_id=channel_id)
        owner = await self.scalar(
            "SELECT owner_id FROM channels WHERE platform = :platform"
            " AND community_id = :community_id AND channel_id = :channel_id",
            params,
        )
        return int(owner) if owner is not None else None

    async def event_counts(self, community_id: int, since: datetime) -> dict[str, int]:
        """Events by kind from the UTC day of `since` on (from `report_channel_days`, not the raw ledger:
        reactions that still stand, removals taken back where the reactions were added)."""
        params = dict(community_id=community_id, since_day=day_of(since))
        async with self.db.execute(_COUNTS_BY_KIND, params) as cur:
            return {str(kind): int(n) for kind, n in await cur.fetchall() if n}

    async def ledger_counts(self, community_id: int, since: datetime) -> dict[str, int]:
        """Raw events by kind recorded from `since` on, every removal as its own row: what the ledger
        holds, as sent (`event_counts` gives the reports' view, where a removed reaction is taken back
        where it was added)."""
        rows = await self.fetch_all(
            "SELECT kind, count(*) FROM events"
            " WHERE community_id = :c AND created_at >= :since GROUP BY kind",
            dict(c=community_id, since=iso(since)),
        )
        return {str(kind): int(n) for kind, n in rows if n}

    async def channel_counts(
        self, community_id: int, since: datetime, limit: int | None = None
    ) -> list[tuple[int, str, int]]:
        """(channel, name, events) from the UTC day of `since` on, busiest first (the `limit` busiest)."""
        params = dict(community_id=community_id, since_day=day_of(since), limit=limit or 2**62)
        async with self.db.execute(_COUNTS_BY_CHANNEL, params) as cur:
            return [(int(c), str(name), int(n)) for c, name, n in await cur.fetchall() if n]

    async def distinct_actors(self, community_id: int, since: datetime) -> int:
        params = dict(community_id=community_id, since_day=day_of(since))
        return int(await self.scalar(_DISTINCT_ACTORS, params) or 0)

    async def last_active_days(self, community_id: int, member_id: int) -> tuple[int | None, int | None]:
        """The newest day (days since 1970-01-01 UTC) the member did anything recorded in the community
        (a message, reply, reaction, comment), and the newest day anyone did; None where nothing is
        kept."""
        rows = await self.fetch_all(_LAST_ACTIVE, dict(community_id=community_id, member_id=member_id))
        mine, latest = rows[0] if rows else (None, None)
        return (None if mine is None else int(mine)), (None if latest is None else int(latest))

    # -- what the listeners keep in memory, loaded once at start ------------------------------------

    async def channel_cursors(self, platform: str) -> list[tuple[int, int, int]]:
        """(community, channel, newest recorded message id) of every channel with a recorded message."""
        rows = await self.fetch_all(_CURSORS, dict(platform=platform))
        return [(int(c), int(ch), int(m)) for c, ch, m in rows]

    async def known_bots(self, platform: str) -> set[int]:
        return {int(r[0]) for r in await self.fetch_all(_KNOWN_BOTS, dict(platform=platform))}

    async def thread_owners(self, platform: str) -> dict[int, int]:
        return {int(c): int(o) for c, o in await self.fetch_all(_THREAD_OWNERS, dict(platform=platform))}

    async def add_broadcast(
        self, platform: str, community_id: int, message_id: int, created_at: datetime
    ) -> None:
        """Remember a message whose engagement credits nobody (`broadcast_messages`)."""
        params = dict(
            platform=platform, community_id=community_id, message_id=message_id, created_at=iso(created_at)
        )
        await self.write(_ADD_BROADCAST, params)

    async def broadcasts(self, platform: str, since: datetime) -> set[int]:
        """The messages remembered by `add_broadcast` sent since `since`; older ones are forgotten."""
        params = dict(platform=platform, since=iso(since))
        await self.write(_FORGET_BROADCASTS, params)
        return {int(r[0]) for r in await self.fetch_all(_BROADCASTS, params)}

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
        costs more than writing them); they may be a generator. Same INSERT OR IGNORE and the same
        aggregate statements as `record`, so the daily aggregates stay exact; members and channels are
        upserted first. Each `chunk` of events is one transaction. While loading, crash safety is
        traded for speed (meant for a fresh or backed-up database; errors still roll back a chunk):
        the rollback journal is kept in memory instead of the WAL (which would write every page
        twice), synchronous is OFF and the page cache is larger. All three are restored afterwards.
        With `defer_indexes` the secondary indexes of `events` (not its natural-key index, which
        INSERT OR IGNORE and the aggregates use) are dropped during the load and rebuilt once at the
        end, which is much faster than maintaining them row by row.
        """
        await self.record([], members, channels)
        if self.postgresql:  # no pragmas to trade: each chunk is one `INSERT ... SELECT FROM unnest`
            inserted = 0
            rows = iter(event_rows)
            while batch := list(itertools.islice(rows, chunk)):
                async with self.transaction() as db:
                    after = int(await self.scalar(_LAST_ID))
                    new = max((await db.executemany(_INSERT_EVENT, batch)).rowcount, 0)
                    if new:
                        await self._after_insert(db, after)
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
                last = int(await self.scalar(_LAST_ID))
                await db.executemany(_INSERT_EVENT, batch)
                new = int(await self.scalar(_NEW_EVENTS, dict(after=last)))
                if new:
                    await self._after_insert(db, last)
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
