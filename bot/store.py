"""The only place that speaks SQL. aiosqlite over one SQLite file in WAL mode, foreign keys on.

Schema lives in `migrations/NNNN_*.sql`, applied in order at open, each file atomically together
with `PRAGMA user_version`, so a fresh database and one at any older version both reach the latest.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import sqlite3
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite
import numpy as np

from bot.ledger import ChannelInfo, EngagementEvent, MemberSighting, iso
from bot.store_activations import ActivationQueries
from bot.store_giveaways import GiveawayQueries
from bot.store_partners import PartnerQueries
from bot.store_reports import ReportQueries

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(Exception):
    """A migration file is misnamed, out of sequence, or failed to apply (nothing of it was kept)."""


@dataclass(frozen=True)
class Migration:
    version: int
    path: Path


def discover_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file name must look like 0001_name.sql: {path.name}")
        found.append(Migration(int(match.group(1)), path))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migrations must be numbered 1..n without gaps; found {migration.path.name}"
            )
    return found


@dataclass(frozen=True)
class CommunitySettings:
    community_id: int
    locale: str = "en"
    mod_role_id: int | None = None
    report_channel_id: int | None = None
    retention_days: int = 180
    max_sponsored_per_week: int = 2
    min_gap_hours: int = 24
    k_anonymity: int = 5


SETTING_COLUMNS = (
    "locale",
    "mod_role_id",
    "report_channel_id",
    "retention_days",
    "max_sponsored_per_week",
    "min_gap_hours",
    "k_anonymity",
)

_INSERT_EVENT = """
    INSERT OR IGNORE INTO events
        (platform, community_id, channel_id, actor_id, target_id, kind, source_id, is_self, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_UPSERT_MEMBER = """
    INSERT INTO members (platform, community_id, member_id, first_seen, joined_at, account_created_at, is_bot)
    VALUES (:platform, :community_id, :member_id, :seen, :joined, :created, :is_bot)
    ON CONFLICT (platform, community_id, member_id) DO UPDATE SET
        first_seen = min(first_seen, excluded.first_seen),
        joined_at = coalesce(excluded.joined_at, joined_at),
        account_created_at = coalesce(account_created_at, excluded.account_created_at),
        is_bot = max(is_bot, excluded.is_bot),
        left_at = NULL
"""
_UPSERT_CHANNEL = """
    INSERT INTO channels (platform, community_id, channel_id, parent_id, type, name, owner_id)
    VALUES (:platform, :community_id, :channel_id, :parent_id, :type, :name, :owner_id)
    ON CONFLICT (platform, community_id, channel_id) DO UPDATE SET
        parent_id = excluded.parent_id, type = excluded.type, name = excluded.name,
        owner_id = coalesce(excluded.owner_id, owner_id)
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
    SELECT e.channel_id, coalesce(c.name, ''), count(*) FROM events AS e
      LEFT JOIN channels AS c
        ON c.platform = e.platform AND c.community_id = e.community_id AND c.channel_id = e.channel_id
     WHERE e.community_id = :community_id AND e.created_at >= :since
     GROUP BY e.channel_id ORDER BY count(*) DESC, e.channel_id
"""
_DISTINCT_ACTORS = """
    SELECT count(DISTINCT actor_id) FROM events WHERE community_id = :community_id AND created_at >= :since
"""
_GET_SETTINGS = """
    SELECT community_id, locale, mod_role_id, report_channel_id, retention_days,
           max_sponsored_per_week, min_gap_hours, k_anonymity
      FROM guild_settings WHERE community_id = :community_id
"""


class Store(PartnerQueries, ActivationQueries, GiveawayQueries, ReportQueries):
    """Async facade over the database. Open with `await Store.open(path)`; close with `await close()`."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    async def open(cls, path: Path | str, *, migrations: Path = MIGRATIONS_DIR) -> Store:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA busy_timeout = 5000")
            # A page cache that holds the hot part of the ledger's indexes: SQLite's default (2 MB)
            # makes every trigger upsert on a large database a disk read.
            await db.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
            store = cls(db, path)
            await store.migrate(discover_migrations(migrations))
        except BaseException:
            await db.close()
            raise
        return store

    async def close(self) -> None:
        await self.db.close()

    # -- schema -----------------------------------------------------------------------------------

    async def schema_version(self) -> int:
        async with self.db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self, migrations: Sequence[Migration]) -> list[int]:
        """Apply every migration newer than the database, each in its own transaction."""
        current = await self.schema_version()
        applied: list[int] = []
        for migration in migrations:
            if migration.version <= current:
                continue
            script = migration.path.read_text(encoding="utf-8")
            try:
                await self.db.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\n;PRAGMA user_version = {migration.version};\nCOMMIT;"
                )
            except Exception as exc:
                if self.db.in_transaction:
                    await self.db.rollback()
                raise MigrationError(f"{migration.path.name} failed: {exc}") from exc
            log.info("applied migration %s", migration.path.name)
            applied.append(migration.version)
        return applied

    async def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        """One value from a read-only query; for tests, diagnostics and the demo summary."""
        async with self.db.execute(sql, params) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    # -- ledger -----------------------------------------------------------------------------------

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
        async with self.transaction() as db:
            # Triggers also write rows, so count new events by rowid rather than by changes().
            last_id = await self.scalar("SELECT coalesce(max(id), 0) FROM events")
            if event_rows:
                await db.executemany(_INSERT_EVENT, event_rows)
            if member_rows:
                await db.executemany(_UPSERT_MEMBER, member_rows)
            if channel_rows:
                await db.executemany(_UPSERT_CHANNEL, channel_rows)
            inserted = await self.scalar("SELECT count(*) FROM events WHERE id > ?", (last_id,))
            if inserted:
                await self.feed_report_aggregates(db, last_id)
        return int(inserted)

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

    # -- settings ---------------------------------------------------------------------------------

    async def get_settings(self, community_id: int, *, default_locale: str = "en") -> CommunitySettings:
        async with self.db.execute(_GET_SETTINGS, dict(community_id=community_id)) as cur:
            row = await cur.fetchone()
        if row is None:
            return CommunitySettings(community_id=community_id, locale=default_locale)
        return CommunitySettings(*row)

    async def update_settings(
        self, community_id: int, changes: dict[str, object], *, by: int, now: datetime
    ) -> None:
        """Upsert only the given columns; unknown keys are a programming error."""
        unknown = set(changes) - set(SETTING_COLUMNS)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        columns = sorted(changes)
        params: dict[str, object] = dict(changes, community_id=community_id, by=by, now=iso(now))
        names = ", ".join(f'"{c}"' for c in columns)
        values = ", ".join(f":{c}" for c in columns)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns)
        sql = f"""
            INSERT INTO guild_settings (community_id, updated_at, updated_by{", " + names if columns else ""})
            VALUES (:community_id, :now, :by{", " + values if columns else ""})
            ON CONFLICT (community_id) DO UPDATE SET
                updated_at = excluded.updated_at, updated_by = excluded.updated_by
                {", " + updates if columns else ""}
        """
        await self.write(sql, params)

    # -- installation state -----------------------------------------------------------------------

    async def get_state(self, key: str) -> str | None:
        value = await self.scalar("SELECT value FROM bot_state WHERE key = :key", dict(key=key))
        return None if value is None else str(value)

    async def set_state(self, key: str, value: str) -> None:
        await self.write(
            "INSERT INTO bot_state (key, value) VALUES (:key, :value)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            dict(key=key, value=value),
        )

    # -- trust ------------------------------------------------------------------------------------

    async def fetch_all(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        async with self.db.execute(sql, params) as cur:
            return [tuple(r) for r in await cur.fetchall()]

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

        if not self._separate_reads:
            params = dict(community_id=community_id)
            version, removed = ((await self.fetch_all(_MEMBER_VERSION, params)) or [(0, 0)])[0]
            after = _member_days_after(known, int(version), int(removed))
            if after is None:
                assert known is not None
                return known
            row = (await self.fetch_all(_MEMBER_DAY_COLUMNS, dict(params, none=NO_DAY, after=after)))[0]
            return _merged_member_days(known, after, MemberDays.from_row(row, int(version)))

        def read_apart() -> MemberDays:
            db = self._reader()
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

    async def channel_rows(self, community_id: int) -> list[tuple[int, int | None, int, str]]:
        """(channel_id, parent_id, type, name) of the community's channels and categories; threads
        (often tens of thousands of rows) are left out."""
        return await self.fetch_all(_CHANNEL_ROWS, dict(community_id=community_id))

    async def trust_overrides(self, community_id: int) -> dict[int, str]:
        rows = await self.fetch_all(
            "SELECT member_id, mode FROM trust_overrides WHERE community_id = :c", dict(c=community_id)
        )
        return {int(m): str(mode) for m, mode in rows}

    async def set_trust_override(
        self, community_id: int, member_id: int, mode: str | None, *, by: int, now: datetime
    ) -> None:
        params = dict(c=community_id, m=member_id, mode=mode, by=by, now=iso(now))
        if mode is None:
            await self.write("DELETE FROM trust_overrides WHERE community_id = :c AND member_id = :m", params)
        else:
            await self.write(_SET_OVERRIDE, params)

    async def communities_with_engagement(self) -> list[int]:
        return [int(r[0]) for r in await self.fetch_all("SELECT DISTINCT community_id FROM engagement_daily")]

    async def snapshot_scores(self, community_id: int, day: int, *, keep_from_day: int) -> bool:
        """Keep the stored ranking as this day's snapshot (the first call of a day with a stored
        ranking wins) and drop snapshots older than `keep_from_day`: the baseline of "trend vs the
        previous period". True when this day's snapshot exists now."""
        params = dict(c=community_id, day=day, oldest=keep_from_day)
        async with self.transaction() as db:
            await db.execute(
                """INSERT OR IGNORE INTO trust_snapshots (community_id, day, scope, member_id, score)
                   SELECT community_id, :day, scope, member_id, score FROM trust_scores
                    WHERE community_id = :c
                      AND NOT EXISTS (
                          SELECT 1 FROM trust_snapshots WHERE community_id = :c AND day = :day)""",
                params,
            )
            await db.execute("DELETE FROM trust_snapshots WHERE community_id = :c AND day < :oldest", params)
            cursor = await db.execute(
                "SELECT 1 FROM trust_snapshots WHERE community_id = :c AND day = :day LIMIT 1", params
            )
            return await cursor.fetchone() is not None

    async def previous_scores(self, community_id: int, *, at_most_day: int) -> dict[str, dict[int, float]]:
        """Scores per scope from the newest snapshot taken on or before `at_most_day` (empty if none)."""
        rows = await self.fetch_all(
            """SELECT scope, member_id, score FROM trust_snapshots
                WHERE community_id = :c AND day = (
                      SELECT max(day) FROM trust_snapshots WHERE community_id = :c AND day <= :d)""",
            dict(c=community_id, d=at_most_day),
        )
        out: dict[str, dict[int, float]] = {}
        for scope, member, score in rows:
            out.setdefault(str(scope), {})[int(member)] = float(score)
        return out

    async def replace_trust_scores(
        self,
        community_id: int,
        results: dict[str, list[tuple[int, int, float, int, int, str]]],
        now: datetime,
    ) -> None:
        """Swap in a new ranking atomically: readers see the old one or the new one, never a mix."""
        stamp = iso(now)
        scores = [
            (community_id, scope, m, rank, score, peers, trusted, stamp, why)
            for scope, rows in results.items()
            for m, rank, score, peers, trusted, why in rows
        ]
        runs = [(community_id, scope, stamp, len(rows)) for scope, rows in results.items()]
        async with self.transaction() as db:
            await db.execute("DELETE FROM trust_scores WHERE community_id = :c", dict(c=community_id))
            await db.execute("DELETE FROM trust_runs WHERE community_id = :c", dict(c=community_id))
            await db.executemany(_INSERT_SCORE, scores)
            await db.executemany(
                "INSERT INTO trust_runs (community_id, scope, computed_at, ranked) VALUES (?, ?, ?, ?)", runs
            )

    async def touch_trust_runs(self, community_id: int, now: datetime) -> None:
        """Mark the stored ranking as current (a recompute found nothing to change)."""
        await self.write(
            "UPDATE trust_runs SET computed_at = :at WHERE community_id = :c",
            dict(c=community_id, at=iso(now)),
        )

    async def trust_page(
        self, community_id: int, scope: str, *, offset: int, limit: int
    ) -> tuple[list[tuple[int, int, float, int, int, str]], int, str | None]:
        """One page of a stored ranking, its total size and when it was computed."""
        rows = await self.fetch_all(
            _TRUST_PAGE, dict(c=community_id, scope=scope, offset=offset, limit=limit)
        )
        run = await self.fetch_all(
            "SELECT ranked, computed_at FROM trust_runs WHERE community_id = :c AND scope = :scope",
            dict(c=community_id, scope=scope),
        )
        total, computed = (int(run[0][0]), str(run[0][1])) if run else (0, None)
        return rows, total, computed

    async def trust_standing(
        self, community_id: int, member_id: int
    ) -> list[tuple[str, int, float, int, int, str]]:
        """Every scope in which a member is ranked: (scope, rank, score, peers, trusted, why)."""
        return await self.fetch_all(_TRUST_STANDING, dict(c=community_id, m=member_id))

    # -- trust graph: bulk columns on separate read connections ------------------------------------

    def _reader(self) -> sqlite3.Connection:
        """A read-only connection of our own to the same WAL file (readers never block writers)."""
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        db.execute("PRAGMA busy_timeout = 5000")
        return db

    @property
    def _separate_reads(self) -> bool:
        return str(self.path) != ":memory:"

    async def engagement_columns(
        self, community_id: int, since_day: int, kinds: Sequence[str], *, workers: int = 2
    ) -> EngagementColumns:
        """Every `engagement_daily` row with n > 0 since `since_day`, as numpy columns (raw channels,
        threads not folded; `kind` as an index into `kinds`, -1 for others), with the `events.id`
        up to which they are complete. Runs on worker threads with connections of their own, split
        by channel so that SQLite (which releases the GIL) works on several cores."""
        if not self._separate_reads:
            params = dict(community_id=community_id, since_day=since_day)
            rows = await self.fetch_all(_ENGAGEMENT_RAW.format(kind_code=_kind_case("kind", kinds)), params)
            posted = await self.fetch_all(_POSTS_RAW, params)
            upto = int(await self.scalar("SELECT coalesce(max(id), 0) FROM events"))
            return EngagementColumns.from_rows(rows, upto, posts=posted)
        return await asyncio.to_thread(self._read_columns, community_id, since_day, kinds, workers)

    def _read_columns(
        self, community_id: int, since_day: int, kinds: Sequence[str], workers: int
    ) -> EngagementColumns:
        sql = _ENGAGEMENT_COLUMNS.format(kind_code=_kind_case("kind", kinds))
        db = self._reader()
        extra: list[sqlite3.Connection] = []
        try:
            # One snapshot for the watermark and the posts (which `engagement_changes` adds to, so
            # they must match the watermark exactly). Engagement parts may run on other connections,
            # which see this snapshot or a later one (WAL readers only move forward): rows written
            # after the watermark are applied again by `engagement_changes`, which replaces a key's
            # row rather than adding to it, so nothing is counted twice.
            db.execute("BEGIN")
            upto = int(db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])
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

            def posts() -> list[np.ndarray]:
                params = dict(community_id=community_id, since_day=since_day)
                return _parse_columns(db.execute(_POST_COLUMNS, params).fetchone(), 4)

            extra = [self._reader() for _ in range(max(0, workers - 1))]
            conns = [*extra, db]
            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                posted = pool.submit(posts)
                futures = [
                    pool.submit(part, conns[i % len(conns)], lo, hi) for i, (lo, hi) in enumerate(ranges)
                ]
                parts = [f.result() for f in futures]
                post_cols = PostColumns(*posted.result())
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
        if not self._separate_reads:
            upto = int(await self.scalar("SELECT coalesce(max(id), 0) FROM events"))
            if upto < after_id:
                return None
            params = dict(community_id=community_id, after_id=after_id, upto_id=upto)
            rows = await self.fetch_all(sql, params)
            posted = await self.fetch_all(_POSTS_SINCE, params)
            return EngagementColumns.from_rows(rows, upto, folded=True, posts=posted, after_id=after_id)

        def read() -> EngagementColumns | None:
            db = self._reader()
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
                last_id = await self.scalar("SELECT coalesce(max(id), 0) FROM events")
                await db.executemany(_INSERT_EVENT, batch)
                new = await self.scalar("SELECT count(*) FROM events WHERE id > ?", (last_id,))
                if new:
                    await self.feed_report_aggregates(db, last_id)
            return int(new)

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


def _kind_case(column: str, kinds: Sequence[str]) -> str:
    """SQL mapping engagement kind names to their index in `kinds` (-1 for any other)."""
    if not all(k.isidentifier() for k in kinds):
        raise ValueError("engagement kinds must be plain names")
    whens = " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(kinds))
    return f"(CASE {column} {whens} ELSE -1 END)"


def _parse_columns(row: Sequence[Any], width: int) -> list[np.ndarray]:
    """(count, text, text, ...) from a group_concat query: one int64 array per text column."""
    count, *texts = row
    if not count:
        return [np.zeros(0, np.int64) for _ in range(width)]
    return [np.fromstring(t, dtype=np.int64, sep=",") for t in texts]


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


_POSTS_WHERE = """
      FROM activity_daily
     WHERE community_id = :community_id AND day >= :since_day
       AND kind IN ('message', 'reply', 'thread', 'comment', 'submission')
"""
_POSTS_RAW = (
    "SELECT channel_id, member_id, day, sum(n) AS n" + _POSTS_WHERE + " GROUP BY channel_id, member_id, day"
)
_POST_COLUMNS = (
    "SELECT count(*), group_concat(channel_id), group_concat(member_id), group_concat(day), group_concat(n)"
    " FROM (" + _POSTS_RAW + ")"
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
        SELECT DISTINCT e.channel_id AS channel_id, e.actor_id AS actor_id, e.target_id AS target_id,
               CAST(julianday(CASE WHEN e.kind = 'unreaction' THEN r.created_at ELSE e.created_at END)
                    - 2440587.5 AS INTEGER) AS day,
               CASE e.kind WHEN 'message' THEN 'thread_reply' WHEN 'unreaction' THEN 'reaction'
                           ELSE e.kind END AS kind
          FROM events AS e
          LEFT JOIN events AS r
            ON e.kind = 'unreaction' AND r.platform = e.platform AND r.kind = 'reaction'
           AND r.source_id = e.source_id AND r.actor_id = e.actor_id
         WHERE e.id > :after_id AND e.id <= :upto_id  -- a rowid range: the unary + keep SQLite
           AND +e.community_id = :community_id          -- from scanning a community index instead
           AND +e.target_id IS NOT NULL AND e.target_id <> e.actor_id
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


@dataclass(frozen=True)
class MemberDays:
    """Members of one community as columns: id, join, account creation and first sighting as days
    since 1970-01-01 UTC (NaN when unknown), and whether they are bots."""

    member_id: np.ndarray
    joined_day: np.ndarray
    account_created_day: np.ndarray
    first_seen_day: np.ndarray
    is_bot: np.ndarray
    #: The community's member version these columns are current at (migrations/0008).
    version: int = 0

    @classmethod
    def from_row(cls, row: Sequence[Any], version: int = 0) -> MemberDays:
        """From the (count, ids, joined, created, first seen, is_bot) `group_concat` row."""
        count, *texts = row
        if not count:
            z = np.zeros(0)
            return cls(z.astype(np.int64), z, z, z, z.astype(np.bool_), version)

        def days(text: str) -> np.ndarray:
            values = np.fromstring(text, dtype=np.float64, sep=",")
            return np.where(values <= NO_DAY, np.nan, np.round(values, 5))  # to the second

        ids, bots = (np.fromstring(texts[i], dtype=np.int64, sep=",") for i in (0, 4))
        return cls(ids, days(texts[1]), days(texts[2]), days(texts[3]), bots != 0, version)


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
    columns = ("member_id", "joined_day", "account_created_day", "first_seen_day", "is_bot")
    index = {m: i for i, m in enumerate(known.member_id.tolist())}
    at = np.array([index.get(m, -1) for m in changed.member_id.tolist()], np.int64)
    old, new = at >= 0, at < 0
    merged = []
    for name in columns:
        values = getattr(known, name).copy()
        update = getattr(changed, name)
        values[at[old]] = update[old]
        merged.append(np.concatenate([values, update[new]]))
    return MemberDays(*merged, version=changed.version)


#: Page cache of the main connection, in KiB (SQLite's default is 2 MB).
PAGE_CACHE_KIB = 65_536
#: Stands for an unknown time in `Store.member_days` (SQLite has no NaN).
NO_DAY = -1e18
_MEMBER_DAY_COLUMNS = """
    SELECT count(*), group_concat(member_id),
           group_concat(ifnull(julianday(joined_at) - 2440587.5, :none)),
           group_concat(ifnull(julianday(account_created_at) - 2440587.5, :none)),
           group_concat(ifnull(julianday(first_seen) - 2440587.5, :none)),
           group_concat(is_bot)
      FROM members WHERE community_id = :community_id AND version > :after
"""
_MEMBER_VERSION = "SELECT version, removed FROM member_versions WHERE community_id = :community_id"
_CHANNEL_ROWS = """
    SELECT channel_id, parent_id, type, name FROM channels
     WHERE community_id = :community_id AND type NOT IN (10, 11, 12)  -- not threads
"""
_SET_OVERRIDE = """
    INSERT INTO trust_overrides (community_id, member_id, mode, set_by, set_at)
    VALUES (:c, :m, :mode, :by, :now)
    ON CONFLICT (community_id, member_id) DO UPDATE SET mode = excluded.mode, set_by = excluded.set_by,
        set_at = excluded.set_at
"""
_INSERT_SCORE = """
    INSERT INTO trust_scores
        (community_id, scope, member_id, rank, score, distinct_peers, trusted_peers, computed_at, why)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_TRUST_PAGE = """
    SELECT member_id, rank, score, distinct_peers, trusted_peers, why FROM trust_scores
     WHERE community_id = :c AND scope = :scope ORDER BY rank LIMIT :limit OFFSET :offset
"""
_TRUST_STANDING = """
    SELECT scope, rank, score, distinct_peers, trusted_peers, why FROM trust_scores
     WHERE community_id = :c AND member_id = :m ORDER BY scope = 'all' DESC, rank
"""
