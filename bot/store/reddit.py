"""SQL for subreddits as communities: which subreddit is bound to which community, where each stream
resumes, and members' links between their Discord and Reddit identities (with pending link codes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.ledger import iso, parse_iso
from bot.store.base import StoreBase

BindOutcome = Literal["added", "already", "taken"]


@dataclass(frozen=True)
class BoundSubreddit:
    subreddit_id: int
    community_id: int
    name: str
    added_by: int
    added_at: str
    bot_moderates: bool
    told_mods_at: str | None
    sponsored_flair_id: str | None


@dataclass(frozen=True)
class RedditLink:
    community_id: int
    member_id: int
    reddit_id: int
    reddit_name: str
    linked_at: str


@dataclass(frozen=True)
class PendingLink:
    community_id: int
    member_id: int
    reddit_name: str
    code_sha256: str
    expires_at: datetime


_SUBREDDIT_COLUMNS = (
    "subreddit_id, community_id, name, added_by, added_at, bot_moderates, told_mods_at, sponsored_flair_id"
)
_BIND = """
    INSERT INTO reddit_subreddits (subreddit_id, community_id, name, added_by, added_at, bot_moderates,
                                   sponsored_flair_id)
    VALUES (:s, :c, :name, :by, :now, :mods, :flair)
    ON CONFLICT (subreddit_id) DO NOTHING
"""
_LINK = """
    INSERT INTO reddit_links (community_id, member_id, reddit_id, reddit_name, linked_at)
    VALUES (:c, :m, :r, :name, :now)
    ON CONFLICT DO NOTHING
"""


def _subreddit(row: tuple[Any, ...]) -> BoundSubreddit:
    s, c, name, by, at, mods, told, flair = row
    return BoundSubreddit(int(s), int(c), str(name), int(by), str(at), bool(mods), told, flair)


class RedditQueries(StoreBase):
    """Subreddit bindings, stream cursors and account links. Mixed into `bot.store.Store`."""

    # -- bindings ---------------------------------------------------------------------------------

    async def bind_subreddit(
        self,
        community_id: int,
        subreddit_id: int,
        name: str,
        *,
        by: int,
        now: datetime,
        bot_moderates: bool,
        sponsored_flair_id: str | None = None,
    ) -> BindOutcome:
        """Bind a subreddit to a community; a subreddit belongs to one community at a time."""
        params = dict(
            s=subreddit_id,
            c=community_id,
            name=name,
            by=by,
            now=iso(now),
            mods=int(bot_moderates),
            flair=sponsored_flair_id,
        )
        async with self.transaction() as db:
            cur = await db.execute(_BIND, params)
            if cur.rowcount == 1:
                return "added"
            owner = await self.scalar(
                "SELECT community_id FROM reddit_subreddits WHERE subreddit_id = :s", params
            )
            if int(owner) != community_id:
                return "taken"
            await db.execute(
                "UPDATE reddit_subreddits SET name = :name, bot_moderates = :mods,"
                " sponsored_flair_id = coalesce(:flair, sponsored_flair_id)"
                " WHERE subreddit_id = :s AND community_id = :c",
                params,
            )
        return "already"

    async def unbind_subreddit(self, community_id: int, name: str) -> BoundSubreddit | None:
        """Unbind by name; the binding removed (None if this community had no such subreddit).

        Its stream cursors go with it (a later bind starts from new items); its events stay in the
        ledger under the community until the retention window passes.
        """
        async with self.transaction() as db:
            rows = await self.fetch_all(
                f"SELECT {_SUBREDDIT_COLUMNS} FROM reddit_subreddits"
                " WHERE community_id = :c AND lower(name) = lower(:name)",
                dict(c=community_id, name=name),
            )
            if not rows:
                return None
            bound = _subreddit(rows[0])
            await db.execute(
                "DELETE FROM reddit_subreddits WHERE subreddit_id = :s", dict(s=bound.subreddit_id)
            )
            await db.execute("DELETE FROM reddit_cursors WHERE subreddit_id = :s", dict(s=bound.subreddit_id))
        return bound

    async def bound_subreddits(self, community_id: int | None = None) -> list[BoundSubreddit]:
        """The subreddits of one community (or of all communities), by name."""
        where, params = (
            ("WHERE community_id = :c", dict(c=community_id)) if community_id is not None else ("", {})
        )
        rows = await self.fetch_all(
            f"SELECT {_SUBREDDIT_COLUMNS} FROM reddit_subreddits {where} ORDER BY lower(name)", params
        )
        return [_subreddit(r) for r in rows]

    async def bound_subreddit(self, name: str) -> BoundSubreddit | None:
        rows = await self.fetch_all(
            f"SELECT {_SUBREDDIT_COLUMNS} FROM reddit_subreddits WHERE lower(name) = lower(:name)",
            dict(name=name),
        )
        return _subreddit(rows[0]) if rows else None

    async def set_subreddit_moderation(self, subreddit_id: int, bot_moderates: bool) -> None:
        await self.write(
            "UPDATE reddit_subreddits SET bot_moderates = :m WHERE subreddit_id = :s",
            dict(m=int(bot_moderates), s=subreddit_id),
        )

    async def mark_mods_told(self, subreddit_id: int, now: datetime) -> bool:
        """Record that the subreddit's moderators were told the bot cannot sticky; False if they were
        already told (they are told once)."""
        cur = await self.write(
            "UPDATE reddit_subreddits SET told_mods_at = :now"
            " WHERE subreddit_id = :s AND told_mods_at IS NULL",
            dict(now=iso(now), s=subreddit_id),
        )
        return cur.rowcount == 1

    # -- stream cursors ---------------------------------------------------------------------------

    async def reddit_cursors(self) -> dict[tuple[int, str], str]:
        rows = await self.fetch_all("SELECT subreddit_id, stream, fullname FROM reddit_cursors")
        return {(int(s), str(stream)): str(name) for s, stream, name in rows}

    async def set_reddit_cursors(self, cursors: dict[tuple[int, str], str], now: datetime) -> None:
        """Store where streams resume (only for subreddits still bound)."""
        rows = [dict(s=s, stream=stream, name=name, now=iso(now)) for (s, stream), name in cursors.items()]
        if rows:
            await self.write_many(
                "INSERT INTO reddit_cursors (subreddit_id, stream, fullname, updated_at)"
                " SELECT :s, :stream, :name, :now WHERE EXISTS"
                " (SELECT 1 FROM reddit_subreddits WHERE subreddit_id = :s)"
                " ON CONFLICT (subreddit_id, stream) DO UPDATE SET"
                " fullname = excluded.fullname, updated_at = excluded.updated_at",
                rows,
            )

    # -- account links ----------------------------------------------------------------------------

    async def put_link_code(
        self,
        community_id: int,
        member_id: int,
        reddit_name: str,
        code_sha256: str,
        *,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        """A new pending link for the member (replacing an earlier one)."""
        await self.write(
            "INSERT INTO reddit_link_codes (community_id, member_id, reddit_name, code_sha256, created_at,"
            " expires_at) VALUES (:c, :m, :name, :code, :now, :exp)"
            " ON CONFLICT (community_id, member_id) DO UPDATE SET reddit_name = excluded.reddit_name,"
            " code_sha256 = excluded.code_sha256, created_at = excluded.created_at,"
            " expires_at = excluded.expires_at",
            dict(
                c=community_id,
                m=member_id,
                name=reddit_name,
                code=code_sha256,
                now=iso(now),
                exp=iso(expires_at),
            ),
        )

    async def pending_links(self, now: datetime) -> list[PendingLink]:
        """Pending links not yet expired (expired ones are deleted)."""
        await self.write("DELETE FROM reddit_link_codes WHERE expires_at <= :now", dict(now=iso(now)))
        rows = await self.fetch_all(
            "SELECT community_id, member_id, reddit_name, code_sha256, expires_at FROM reddit_link_codes"
        )
        return [PendingLink(int(c), int(m), str(n), str(h), parse_iso(e)) for c, m, n, h, e in rows]

    async def complete_link(
        self, pending: PendingLink, reddit_id: int, reddit_name: str, *, now: datetime
    ) -> bool:
        """Turn a pending link into a link, in one transaction; False if the code was used meanwhile or
        the Reddit account is already linked to someone else here."""
        p = dict(
            c=pending.community_id,
            m=pending.member_id,
            code=pending.code_sha256,
            r=reddit_id,
            name=reddit_name,
            now=iso(now),
        )
        async with self.transaction() as db:
            cur = await db.execute(
                "DELETE FROM reddit_link_codes"
                " WHERE community_id = :c AND member_id = :m AND code_sha256 = :code",
                p,
            )
            if cur.rowcount != 1:
                return False
            taken = await self.scalar(
                "SELECT member_id FROM reddit_links WHERE community_id = :c AND reddit_id = :r", p
            )
            if taken is not None and int(taken) != pending.member_id:
                return False
            await db.execute("DELETE FROM reddit_links WHERE community_id = :c AND member_id = :m", p)
            await db.execute(_LINK, p)
        return True

    async def reddit_link(self, community_id: int, member_id: int) -> RedditLink | None:
        rows = await self.fetch_all(
            "SELECT community_id, member_id, reddit_id, reddit_name, linked_at FROM reddit_links"
            " WHERE community_id = :c AND member_id = :m",
            dict(c=community_id, m=member_id),
        )
        return RedditLink(*(rows[0])) if rows else None

    async def reddit_links(self, community_id: int) -> list[RedditLink]:
        rows = await self.fetch_all(
            "SELECT community_id, member_id, reddit_id, reddit_name, linked_at FROM reddit_links"
            " WHERE community_id = :c ORDER BY member_id",
            dict(c=community_id),
        )
        return [RedditLink(*r) for r in rows]

    async def remove_reddit_link(self, community_id: int, member_id: int) -> bool:
        """Unlink now (and drop a pending code); True if there was anything to remove."""
        async with self.transaction() as db:
            a = await db.execute(
                "DELETE FROM reddit_links WHERE community_id = :c AND member_id = :m",
                dict(c=community_id, m=member_id),
            )
            b = await db.execute(
                "DELETE FROM reddit_link_codes WHERE community_id = :c AND member_id = :m",
                dict(c=community_id, m=member_id),
            )
        return a.rowcount > 0 or b.rowcount > 0

    async def linked_identities(self, community_id: int, member_id: int) -> list[int]:
        """The other identities (Reddit accounts' ledger ids) a member linked to in this community."""
        rows = await self.fetch_all(
            "SELECT reddit_id FROM reddit_links WHERE community_id = :c AND member_id = :m",
            dict(c=community_id, m=member_id),
        )
        return [int(r[0]) for r in rows]

    # -- combined standing (reads of the stored ranking) -------------------------------------------

    async def standing_rows(
        self, community_id: int, member_ids: list[int]
    ) -> list[tuple[str, float, int, int]]:
        """(scope, score, distinct peers, trusted peers) of each of these identities, every scope."""
        marks = ", ".join(f":m{i}" for i in range(len(member_ids)))
        params: dict[str, Any] = {f"m{i}": m for i, m in enumerate(member_ids)}
        params["c"] = community_id
        rows = await self.fetch_all(
            "SELECT scope, score, distinct_peers, trusted_peers FROM trust_scores"
            f" WHERE community_id = :c AND member_id IN ({marks}) ORDER BY scope, member_id",
            params,
        )
        return [(str(s), float(score), int(p), int(t)) for s, score, p, t in rows]

    async def count_ranked_above(
        self, community_id: int, scope: str, score: float, except_ids: list[int]
    ) -> int:
        """How many other members of the stored listing of a scope score above `score`."""
        marks = ", ".join(f":m{i}" for i in range(len(except_ids)))
        params: dict[str, Any] = {f"m{i}": m for i, m in enumerate(except_ids)}
        params.update(c=community_id, scope=scope, score=score)
        return int(
            await self.scalar(
                "SELECT count(*) FROM trust_scores WHERE community_id = :c AND scope = :scope"
                f" AND score > :score AND member_id NOT IN ({marks})",
                params,
            )
            or 0
        )
