"""SQL for the trust rankings: moderators' overrides, the stored ranking of each scope (replaced
atomically), its run stamps and the daily snapshots that trends compare against. What the ranking is
computed from is read by `bot.store.graph`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.ledger import iso
from bot.store.base import StoreBase

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


class TrustQueries(StoreBase):
    """Overrides, stored rankings and snapshots. Mixed into `bot.store.Store`."""

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
        min_peers: Mapping[str, int] | None = None,
        patterns: Mapping[int, tuple[float, str]] | None = None,
    ) -> None:
        """Swap in a new ranking atomically: readers see the old one or the new one, never a mix.
        `min_peers`: per scope, the fewest distinct engagers the listing asked of a member (its
        confidence bar), kept with the run. `patterns`: the members the whole community's listing
        leaves out whose engagement shows a named pattern, member id -> (share, pattern name)."""
        stamp = iso(now)
        scores = [
            (community_id, scope, m, rank, score, peers, trusted, stamp, why)
            for scope, rows in results.items()
            for m, rank, score, peers, trusted, why in rows
        ]
        bars = min_peers or {}
        runs = [(community_id, scope, stamp, len(rows), bars.get(scope)) for scope, rows in results.items()]
        async with self.transaction() as db:
            await db.execute("DELETE FROM trust_scores WHERE community_id = :c", dict(c=community_id))
            await db.execute("DELETE FROM trust_runs WHERE community_id = :c", dict(c=community_id))
            await db.executemany(_INSERT_SCORE, scores)
            await db.executemany(
                "INSERT INTO trust_runs (community_id, scope, computed_at, ranked, min_peers)"
                " VALUES (?, ?, ?, ?, ?)",
                runs,
            )
            await db.execute("DELETE FROM trust_patterns WHERE community_id = :c", dict(c=community_id))
            await db.executemany(
                "INSERT INTO trust_patterns (community_id, member_id, share, reason) VALUES (?, ?, ?, ?)",
                [(community_id, m, share, reason) for m, (share, reason) in (patterns or {}).items()],
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

    async def trust_pattern(self, community_id: int, member_id: int) -> tuple[float, str] | None:
        """The pattern stored for a member the whole community's listing leaves out (share, name),
        None where none is."""
        rows = await self.fetch_all(
            "SELECT share, reason FROM trust_patterns WHERE community_id = :c AND member_id = :m",
            dict(c=community_id, m=member_id),
        )
        return (float(rows[0][0]), str(rows[0][1])) if rows else None

    async def trust_bar(self, community_id: int, scope: str) -> int | None:
        """The fewest distinct engagers the stored listing of `scope` asked of a member (None: no
        listing stored, or one stored before the bar was kept)."""
        value = await self.scalar(
            "SELECT min_peers FROM trust_runs WHERE community_id = :c AND scope = :scope",
            dict(c=community_id, scope=scope),
        )
        return None if value is None else int(value)

    async def trust_standing(
        self, community_id: int, member_id: int
    ) -> list[tuple[str, int, float, int, int, str]]:
        """Every scope in which a member is ranked: (scope, rank, score, peers, trusted, why)."""
        return await self.fetch_all(_TRUST_STANDING, dict(c=community_id, m=member_id))
