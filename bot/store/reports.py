"""Report queries and the report aggregates (migrations/0014). Mixed into `bot.store.Store`.

`REPORT_FEEDS` are the statements that write the aggregates, on the rows a ledger batch inserted (ids
above `:after`), inside its transaction, so only events that were actually inserted are counted
(replays are ignored by INSERT OR IGNORE before they get here). On SQLite every ledger batch
(`Store.record`, `Store.record_bulk`, the ingest writer's own connection) runs them with the batch's
other aggregates (`bot.store.ledger.AFTER_INSERT`); on PostgreSQL the batch calls
`feed_report_aggregates`, their PostgreSQL text. `report_member_days` holds member ids and is purged
with the raw events (`purge_report_member_days`, called by the retention purge) and pseudonymised by
an erasure.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.ledger import iso
from bot.store.base import Dialects, StoreBase

if TYPE_CHECKING:  # numpy is loaded by the first report, not at start-up
    import numpy as np

# SQLite's seconds since the epoch of an ISO text timestamp, and PostgreSQL's (the same truncation).
_EPOCH = (
    "CAST(strftime('%s', {column}) AS INTEGER)",
    "CAST(floor(extract(epoch FROM CAST({column} AS timestamptz))) AS BIGINT)",
)
# The batch: on SQLite a rowid range, never an index scan. On PostgreSQL other processes may commit
# rows in the same id range meanwhile, so it is also the rows this transaction wrote (`xmin`, the
# inserting transaction's id, against this one's, both as 32-bit transaction ids); keys are upserted
# in order, so two processes updating the same counters never wait on each other in a cycle.
#: PostgreSQL: an `events` row (of the table or of `alias.`) that this transaction wrote.
PG_OWN_ROW = "CAST(CAST({alias}xmin AS text) AS BIGINT) = txid_current() % 4294967296"
_BATCH = (
    "FROM events NOT INDEXED WHERE id > :after",
    f"FROM events WHERE id > :after AND {PG_OWN_ROW.format(alias='')}",
)


def _feed(sqlite: str, key: str) -> Dialects:
    """An upsert of one aggregate from the batch's rows, in both dialects. PostgreSQL names the
    conflict target and qualifies the updated column; SQLite takes the bare forms."""
    table = sqlite.split()[2]
    upsert = f"ORDER BY {key}\n    ON CONFLICT ({_KEYS[table]}) DO UPDATE SET n = {table}.n + excluded.n"
    postgresql = (
        sqlite.replace(_EPOCH[0].format(column="created_at"), _EPOCH[1].format(column="created_at"))
        .replace(_BATCH[0], _BATCH[1])
        .replace("ON CONFLICT DO UPDATE SET n = n + excluded.n", upsert)
    )
    return Dialects(sqlite, postgresql)


_KEYS = {
    "report_hourly": "community_id, hour, kind",
    "report_channel_days": "community_id, day, channel_id, kind",
    "report_member_days": "community_id, day, channel_id, member_id",
}
_FEED_HOURLY = _feed(
    """
    INSERT INTO report_hourly (community_id, hour, kind, n)
    SELECT community_id, CAST(strftime('%s', created_at) AS INTEGER) / 3600, kind, count(*)
      FROM events NOT INDEXED WHERE id > :after AND kind <> 'unreaction'
     GROUP BY 1, 2, 3
    ON CONFLICT DO UPDATE SET n = n + excluded.n
""",
    "1, 2, 3",
)
_FEED_CHANNEL_DAYS = _feed(
    """
    INSERT INTO report_channel_days (community_id, day, channel_id, kind, n)
    SELECT community_id, CAST(strftime('%s', created_at) AS INTEGER) / 86400, channel_id, kind, count(*)
      FROM events NOT INDEXED WHERE id > :after AND kind <> 'unreaction'
     GROUP BY 1, 2, 3, 4
    ON CONFLICT DO UPDATE SET n = n + excluded.n
""",
    "1, 2, 3, 4",
)
_FEED_MEMBER_DAYS = _feed(
    """
    INSERT INTO report_member_days (community_id, day, channel_id, member_id, n)
    SELECT community_id, CAST(strftime('%s', created_at) AS INTEGER) / 86400, channel_id, actor_id, count(*)
      FROM events NOT INDEXED WHERE id > :after AND kind NOT IN ('join', 'unreaction')
     GROUP BY 1, 2, 3, 4
    ON CONFLICT DO UPDATE SET n = n + excluded.n
""",
    "1, 2, 3, 4",
)
# A removed reaction is taken back from the hour and the day of the reaction it removes (as the
# engagement aggregate does, bot/store/ledger.py), never counted on the day of its removal: a purge
# of an old message's reactions must not turn this week's reactions negative. (Rows written before
# this rule hold removals as kind 'unreaction', which the reports still subtract.)
_RETRACTED = """
    WITH gone AS (
        SELECT u.community_id, {epoch} / {unit} AS at, {channel} count(*) AS k
          FROM events AS u{not_indexed}
          JOIN events AS r
            ON r.platform = u.platform AND r.kind = 'reaction' AND r.source_id = u.source_id
           AND r.actor_id = u.actor_id AND r.id < u.id
         WHERE u.id > :after AND u.kind = 'unreaction'{own}
         GROUP BY {groups}
    )
    UPDATE {table} AS d SET n = {greatest}(d.n - gone.k, 0)
      FROM gone
     WHERE d.community_id = gone.community_id AND d.{at} = gone.at AND d.kind = 'reaction'{same_channel}
"""


def _retract(table: str, at: str, unit: int, by_channel: bool) -> Dialects:
    def text(dialect: int) -> str:
        return _RETRACTED.format(
            epoch=_EPOCH[dialect].format(column="r.created_at"),
            unit=unit,
            channel="u.channel_id," if by_channel else "",
            own="" if dialect == 0 else f" AND {PG_OWN_ROW.format(alias='u.')}",
            # SQLite: the batch's rows by rowid; an index would have it scan the whole ledger
            not_indexed=" NOT INDEXED" if dialect == 0 else "",
            groups="1, 2, 3" if by_channel else "1, 2",
            table=table,
            greatest="max" if dialect == 0 else "GREATEST",
            at=at,
            same_channel=" AND d.channel_id = gone.channel_id" if by_channel else "",
        )

    return Dialects(text(0), text(1))


_RETRACT_HOURLY = _retract("report_hourly", "hour", 3600, by_channel=False)
_RETRACT_CHANNEL_DAYS = _retract("report_channel_days", "day", 86400, by_channel=True)
#: The two above, for loaders that write the aggregates their own way (bench/ledger_db.py).
REPORT_RETRACTS = (_RETRACT_HOURLY, _RETRACT_CHANNEL_DAYS)
# Each member's newest active day (`/microvoice status`: members active lately, migrations/0017).
_FEED_LAST_ACTIVE = Dialects(
    """
    INSERT INTO member_last_active (community_id, member_id, day)
    SELECT community_id, actor_id, max(CAST(strftime('%s', created_at) AS INTEGER) / 86400)
      FROM events NOT INDEXED WHERE id > :after
     GROUP BY 1, 2
    ON CONFLICT DO UPDATE SET day = max(day, excluded.day)
""",
    f"""
    INSERT INTO member_last_active (community_id, member_id, day)
    SELECT community_id, actor_id, max({_EPOCH[1].format(column="created_at")} / 86400)
      {_BATCH[1]}
     GROUP BY 1, 2
     ORDER BY 1, 2
    ON CONFLICT (community_id, member_id)
    DO UPDATE SET day = GREATEST(member_last_active.day, excluded.day)
""",
)
_HAS_REPORT_TABLES = Dialects(
    "SELECT 1 FROM sqlite_master WHERE name = 'report_member_days'",
    "SELECT 1 WHERE to_regclass('report_member_days') IS NOT NULL",
)
# The aggregates' share of each ledger batch on SQLite, run after its insert with the largest id before
# it (:after) by every batch's `AFTER_INSERT` (bot/store/ledger.py). PostgreSQL batches call
# `feed_report_aggregates`, which runs the same feeds in PostgreSQL's text.
REPORT_FEEDS = (
    _FEED_HOURLY,
    _FEED_CHANNEL_DAYS,
    _RETRACT_HOURLY,  # after the counts: a reaction and its removal may share a batch
    _RETRACT_CHANNEL_DAYS,
    _FEED_MEMBER_DAYS,
    _FEED_LAST_ACTIVE,
)
_MEMBER_DAY_COLUMNS = """
    SELECT count(*), group_concat(day), group_concat(channel_id), group_concat(member_id)
      FROM report_member_days
     WHERE community_id = :c AND day >= :lo AND day < :hi
"""
_KINDS_BY_DAY = """
    SELECT hour / 24 AS day, kind, sum(n) FROM report_hourly
     WHERE community_id = :c AND hour >= :lo AND hour < :hi
     GROUP BY day, kind ORDER BY day, kind
"""
_CHANNEL_COUNTS = """
    SELECT channel_id, sum(n) FROM report_channel_days
     WHERE community_id = :c AND day >= :lo AND day < :hi
       AND kind IN ('message', 'reply', 'reaction', 'thread', 'comment', 'submission')
     GROUP BY channel_id
"""
_HOURLY_EVENTS = """
    SELECT hour, sum(n) FROM report_hourly
     WHERE community_id = :c AND hour >= :lo AND hour < :hi
       AND kind IN ('message', 'reply', 'reaction', 'thread', 'comment', 'submission')
     GROUP BY hour
"""
# A thread's topic is its parent channel; every other channel is its own topic.
_TOPICS = """
    SELECT c.channel_id,
           CASE WHEN c.type IN (10, 11, 12) AND c.parent_id IS NOT NULL
                THEN c.parent_id ELSE c.channel_id END,
           CASE WHEN c.type IN (10, 11, 12) AND c.parent_id IS NOT NULL
                THEN coalesce(p.name, '') ELSE c.name END
      FROM channels AS c
      LEFT JOIN channels AS p
        ON p.platform = c.platform AND p.community_id = c.community_id AND p.channel_id = c.parent_id
     WHERE c.community_id = :c
"""
_FIRST_SEEN = """
    SELECT member_id, {epoch} / 86400 FROM members
     WHERE community_id = :c AND first_seen >= :since AND is_bot = 0
"""
_FIRST_SEEN = Dialects(*(_FIRST_SEEN.format(epoch=e.format(column="first_seen")) for e in _EPOCH))
_VOICES = "SELECT scope, count(*) FROM trust_scores WHERE community_id = :c GROUP BY scope"
_VOICES_SNAPSHOT = """
    SELECT scope, count(*) FROM trust_snapshots
     WHERE community_id = :c AND day = (
           SELECT max(day) FROM trust_snapshots WHERE community_id = :c AND day <= :d)
     GROUP BY scope
"""
_PARTICIPANTS = """
    SELECT member_id FROM giveaway_entries WHERE activation_id = :a
    UNION SELECT author_id FROM qa_questions WHERE activation_id = :a AND hidden_at IS NULL
    UNION SELECT v.member_id FROM qa_votes AS v JOIN qa_questions AS q ON q.id = v.question_id
           WHERE q.activation_id = :a AND q.hidden_at IS NULL
    UNION SELECT claimed_by FROM activation_codes WHERE activation_id = :a AND claimed_by IS NOT NULL
"""
# A takeover's participants: members active in its channel (or a thread of it) during its window. Whole
# days inside the window come from the member-days; the part-days at its edges from the events of those
# hours only (read by time, at most two days). Not the taker, not a bot, not a brand's contact.
_TAKEOVER_CHANNELS = """
    (channel_id = :ch OR channel_id IN (
        SELECT channel_id FROM channels
         WHERE community_id = :c AND parent_id = :ch AND type IN (10, 11, 12)))
"""
_TAKEOVER_PARTICIPANTS = f"""
    SELECT engaged.member_id FROM (
        SELECT member_id FROM report_member_days
         WHERE community_id = :c AND day >= :first_day AND day < :after_day AND {_TAKEOVER_CHANNELS}
        UNION
        SELECT actor_id FROM events
         WHERE community_id = :c AND kind NOT IN ('join', 'unreaction')
           AND ((created_at >= :lo AND created_at < :lo_until)
                OR (created_at >= :hi_from AND created_at < :hi))
           AND {_TAKEOVER_CHANNELS}
    ) AS engaged
     WHERE engaged.member_id <> :taker
       AND NOT EXISTS (SELECT 1 FROM members AS m
                        WHERE m.community_id = :c AND m.member_id = engaged.member_id AND m.is_bot = 1)
       AND NOT EXISTS (SELECT 1 FROM brand_contacts AS k JOIN brands AS b ON b.id = k.brand_id
                        WHERE k.community_id = :c AND k.member_id = engaged.member_id
                          AND b.status <> 'removed')
"""
_ACTIVATION_COUNTS = """
    SELECT (SELECT count(*) FROM giveaway_entries WHERE activation_id = :a),
           (SELECT count(*) FROM qa_questions WHERE activation_id = :a AND hidden_at IS NULL),
           (SELECT count(DISTINCT author_id) FROM qa_questions
             WHERE activation_id = :a AND hidden_at IS NULL),
           (SELECT count(*) FROM qa_questions
             WHERE activation_id = :a AND hidden_at IS NULL AND answered_at IS NOT NULL),
           (SELECT count(DISTINCT author_id) FROM qa_questions
             WHERE activation_id = :a AND hidden_at IS NULL AND answered_at IS NOT NULL),
           (SELECT count(*) FROM activation_codes WHERE activation_id = :a),
           (SELECT count(*) FROM activation_codes WHERE activation_id = :a AND claimed_by IS NOT NULL),
           (SELECT count(*) FROM code_redemptions AS r JOIN activation_codes AS c ON c.id = r.code_id
             WHERE r.activation_id = :a AND c.claimed_by IS NOT NULL),
           (SELECT count(*) FROM takeover_posts WHERE activation_id = :a)
"""


def _ints(text: str | None) -> np.ndarray:
    import numpy as np

    if not text:
        return np.zeros(0, np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


_EPOCH_DT = datetime(1970, 1, 1, tzinfo=UTC)
#: How long a digest claimed but neither posted nor given back stays claimed (a post takes seconds).
DIGEST_CLAIM_MINUTES = 15


class ReportQueries(StoreBase):
    """What reports read, and the aggregates they read it from. Relies on `Store.db`."""

    # -- aggregates (written with the ingest batch, see REPORT_FEEDS) -------------------------------

    _has_report_tables: bool | None = None

    async def feed_report_aggregates(self, db: Any, after_id: int) -> None:
        """Count the events with `id > after_id` (this batch's new rows) into the report aggregates.
        Called inside the batch's transaction, so the counts commit or roll back with the events.
        (A database opened with older migrations only, as some tests do, has no report tables.)"""
        if self._has_report_tables is None:
            async with db.execute(_HAS_REPORT_TABLES) as cur:
                self._has_report_tables = await cur.fetchone() is not None
        if not self._has_report_tables:
            return
        for feed in REPORT_FEEDS:
            await db.execute(feed, dict(after=after_id))

    async def purge_report_member_days(self, community_id: int, cutoff: datetime) -> int:
        """Forget who was active on days that ended before `cutoff` (the raw-event retention cutoff).
        The day the cutoff falls on is kept until the next purge: raw events of it are still kept."""
        cutoff_day = int(cutoff.timestamp()) // 86400
        cur = await self.write(
            "DELETE FROM report_member_days WHERE community_id = :c AND day < :d",
            dict(c=community_id, d=cutoff_day),
        )
        await self.write(
            "DELETE FROM member_last_active WHERE community_id = :c AND day < :d",
            dict(c=community_id, d=cutoff_day),
        )
        return max(cur.rowcount, 0)

    # -- community reports ------------------------------------------------------------------------

    async def report_member_days(self, community_id: int, lo_day: int, hi_day: int) -> tuple[np.ndarray, ...]:
        """(day, channel, member) columns of the member-days in [lo_day, hi_day): one row, parsed by
        numpy, instead of one Python tuple per member-day."""
        async with self.db.execute(_MEMBER_DAY_COLUMNS, dict(c=community_id, lo=lo_day, hi=hi_day)) as cur:
            count, days, channels, members = await cur.fetchone()  # type: ignore[misc]
        if not count:
            import numpy as np

            empty = np.zeros(0, np.int64)
            return empty, empty, empty
        return _ints(days), _ints(channels), _ints(members)

    async def report_kinds_by_day(
        self, community_id: int, lo_hour: int, hi_hour: int
    ) -> list[tuple[int, str, int]]:
        params = dict(c=community_id, lo=lo_hour, hi=hi_hour)
        async with self.db.execute(_KINDS_BY_DAY, params) as cur:
            return [(int(d), str(k), int(n)) for d, k, n in await cur.fetchall()]

    async def report_channel_counts(
        self, community_id: int, lo_day: int, hi_day: int
    ) -> list[tuple[int, int]]:
        """(channel as recorded, activity events) over days [lo_day, hi_day)."""
        params = dict(c=community_id, lo=lo_day, hi=hi_day)
        async with self.db.execute(_CHANNEL_COUNTS, params) as cur:
            return [(int(c), int(n)) for c, n in await cur.fetchall()]

    async def report_hourly_events(self, community_id: int, lo_hour: int, hi_hour: int) -> dict[int, int]:
        """hour -> activity events in the community, for hours [lo_hour, hi_hour) that had any."""
        params = dict(c=community_id, lo=lo_hour, hi=hi_hour)
        async with self.db.execute(_HOURLY_EVENTS, params) as cur:
            return {int(h): int(n) for h, n in await cur.fetchall()}

    async def report_topics(self, community_id: int) -> list[tuple[int, int, str]]:
        """(channel, topic channel, topic name) for every known channel."""
        async with self.db.execute(_TOPICS, dict(c=community_id)) as cur:
            return [(int(c), int(t), str(name or "")) for c, t, name in await cur.fetchall()]

    async def report_first_seen(self, community_id: int, since: datetime) -> dict[int, int]:
        """member -> day first seen, for members (not bots) first seen at or after `since`."""
        async with self.db.execute(_FIRST_SEEN, dict(c=community_id, since=iso(since))) as cur:
            return {int(m): int(d) for m, d in await cur.fetchall()}

    async def report_trusted_voices(
        self, community_id: int, *, at_most_day: int | None = None
    ) -> dict[str, int]:
        """Listed members per scope: now, or in the newest daily snapshot on or before a day."""
        if at_most_day is None:
            sql, params = _VOICES, dict(c=community_id)
        else:
            sql, params = _VOICES_SNAPSHOT, dict(c=community_id, d=at_most_day)
        async with self.db.execute(sql, params) as cur:
            return {str(s): int(n) for s, n in await cur.fetchall()}

    async def report_snapshot_day(self, community_id: int, *, at_most_day: int) -> int | None:
        """The newest day with a snapshot of the rankings, on or before a day."""
        day = await self.scalar(
            "SELECT max(day) FROM trust_snapshots WHERE community_id = :c AND day <= :d",
            dict(c=community_id, d=at_most_day),
        )
        return None if day is None else int(day)

    # -- activation reports -----------------------------------------------------------------------

    async def activation_participants(self, activation_id: int) -> frozenset[int]:
        """Members who took part through the activation's own records: entered, asked or voted, or
        claimed a code (a takeover's participants: `takeover_participants`)."""
        async with self.db.execute(_PARTICIPANTS, dict(a=activation_id)) as cur:
            return frozenset(int(r[0]) for r in await cur.fetchall() if r[0] is not None)

    async def takeover_participants(
        self, community_id: int, channel_id: int, *, since: datetime, until: datetime, taker_id: int | None
    ) -> frozenset[int]:
        """Members active (posted, replied, reacted, opened a thread) in a takeover's channel or its
        threads in [since, until), but the taker, bots and brands' contacts."""
        first_day = -(-int(since.timestamp()) // 86400)  # the first whole day inside the window
        after_day = int(until.timestamp()) // 86400  # the day the window ends on (not whole)
        lo_until = min(until, _EPOCH_DT + timedelta(days=first_day))
        hi_from = max(since, _EPOCH_DT + timedelta(days=after_day))
        params = dict(
            c=community_id,
            ch=channel_id,
            first_day=first_day,
            after_day=after_day,
            lo=iso(since),
            lo_until=iso(lo_until),
            hi_from=iso(hi_from),
            hi=iso(until),
            taker=taker_id if taker_id is not None else -1,
        )
        async with self.db.execute(_TAKEOVER_PARTICIPANTS, params) as cur:
            return frozenset(int(r[0]) for r in await cur.fetchall())

    async def activation_counts(self, activation_id: int) -> dict[str, int]:
        async with self.db.execute(_ACTIVATION_COUNTS, dict(a=activation_id)) as cur:
            row: Any = await cur.fetchone()
        names = (
            "entries",
            "questions",
            "question_authors",
            "answered",
            "answered_authors",
            "codes",
            "codes_claimed",
            "codes_redeemed",
            "takeover_posts",
        )
        return {name: int(v or 0) for name, v in zip(names, row, strict=True)}

    # -- weekly digest ----------------------------------------------------------------------------

    async def report_channels(self) -> list[tuple[int, int, str]]:
        """(community, report channel, locale) for every community that set a report channel."""
        async with self.db.execute(
            "SELECT community_id, report_channel_id, locale FROM guild_settings"
            " WHERE report_channel_id IS NOT NULL ORDER BY community_id"
        ) as cur:
            return [(int(c), int(ch), str(loc)) for c, ch, loc in await cur.fetchall()]

    async def claim_digest(self, community_id: int, week: int, *, now: datetime) -> bool:
        """Claim a week's digest; False if it was claimed before (posted, or being posted). A claim
        never posted nor given back within `DIGEST_CLAIM_MINUTES` (the process stopped while posting)
        is taken over."""
        stale = iso(now - timedelta(minutes=DIGEST_CLAIM_MINUTES))
        await self.write(
            "DELETE FROM report_digests WHERE community_id = :c AND week = :w AND posted_at IS NULL"
            " AND claimed_at < :stale",
            dict(c=community_id, w=week, stale=stale),
        )
        cur = await self.write(
            "INSERT OR IGNORE INTO report_digests (community_id, week, claimed_at) VALUES (:c, :w, :now)",
            dict(c=community_id, w=week, now=iso(now)),
        )
        return cur.rowcount == 1

    async def claim_activation_report(self, community_id: int, activation_id: int, *, now: datetime) -> bool:
        """Claim an ended activation's report; False if it was posted, or is being posted (a claim
        left for `DIGEST_CLAIM_MINUTES` is taken over)."""
        stale = iso(now - timedelta(minutes=DIGEST_CLAIM_MINUTES))
        await self.write(
            "DELETE FROM activation_reports WHERE activation_id = :a AND posted_at IS NULL"
            " AND claimed_at < :stale",
            dict(a=activation_id, stale=stale),
        )
        cur = await self.write(
            "INSERT OR IGNORE INTO activation_reports (activation_id, community_id, claimed_at)"
            " VALUES (:a, :c, :now)",
            dict(a=activation_id, c=community_id, now=iso(now)),
        )
        return cur.rowcount == 1

    async def activation_report_done(self, activation_id: int, *, now: datetime) -> None:
        await self.write(
            "UPDATE activation_reports SET posted_at = :now WHERE activation_id = :a",
            dict(a=activation_id, now=iso(now)),
        )

    async def release_activation_report(self, activation_id: int) -> None:
        """Give a claim back after a failed post, so the next run tries again."""
        await self.write(
            "DELETE FROM activation_reports WHERE activation_id = :a AND posted_at IS NULL",
            dict(a=activation_id),
        )

    async def unreported_activations(self, since: datetime) -> list[int]:
        """Activations that ended (updated) since `since` after opening to members, whose report was
        never posted."""
        async with self.db.execute(
            "SELECT a.id FROM activations AS a WHERE a.state = 'ended' AND a.opened_at IS NOT NULL"
            " AND a.updated_at >= :since"
            " AND NOT EXISTS (SELECT 1 FROM activation_reports AS r"
            " WHERE r.activation_id = a.id AND r.posted_at IS NOT NULL) ORDER BY a.id",
            dict(since=iso(since)),
        ) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def digest_posted(self, community_id: int, week: int, *, now: datetime) -> None:
        await self.write(
            "UPDATE report_digests SET posted_at = :now WHERE community_id = :c AND week = :w",
            dict(c=community_id, w=week, now=iso(now)),
        )

    async def release_digest(self, community_id: int, week: int) -> None:
        """Give a claim back after a failed post, so the next run tries again."""
        await self.write(
            "DELETE FROM report_digests WHERE community_id = :c AND week = :w AND posted_at IS NULL",
            dict(c=community_id, w=week),
        )

    async def last_digest_week(self, community_id: int) -> int | None:
        async with self.db.execute(
            "SELECT max(week) FROM report_digests WHERE community_id = :c AND posted_at IS NOT NULL",
            dict(c=community_id),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None or row[0] is None else int(row[0])
