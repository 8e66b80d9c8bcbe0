"""SQL for subreddits as communities: which subreddit is bound to which community, where each stream
resumes, and members' links between their Discord and Reddit identities (with pending link codes)."""

from __future__ import annotations

import json
from collections.abc import Sequence
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
    #: The earliest time an item read back when the subreddit was first followed was posted (None:
    #: nothing read back was older than the binding): where its records begin.
    records_from: str | None = None

    @property
    def records_begin(self) -> str:
        """When the records of the subreddit's accounts begin: the binding, or the earliest item
        read back before it."""
        return min(self.added_at, self.records_from) if self.records_from else self.added_at


@dataclass(frozen=True)
class Unbinding:
    """What `unbind_subreddit` did: `kept_by` names the activations that kept the subreddit bound
    (empty when it was unbound)."""

    subreddit: BoundSubreddit
    kept_by: tuple[int, ...]


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
    "subreddit_id, community_id, name, added_by, added_at, bot_moderates, told_mods_at, sponsored_flair_id,"
    " records_from"
)
_BIND = """
    INSERT INTO reddit_subreddits (subreddit_id, community_id, name, added_by, added_at, bot_moderates,
                                   sponsored_flair_id)
    VALUES (:s, :c, :name, :by, :now, :mods, :flair)
    ON CONFLICT (subreddit_id) DO NOTHING
"""
# The activations that keep a subreddit bound: a giveaway there reads its moderators through the
# binding, and a post cannot be made without it.
_OPEN_THERE = """
    SELECT id FROM activations WHERE community_id = :c AND channel_id = :s AND state IN ('scheduled', 'live')
"""
_LINK = """
    INSERT INTO reddit_links (community_id, member_id, reddit_id, reddit_name, linked_at)
    VALUES (:c, :m, :r, :name, :now)
    ON CONFLICT DO NOTHING
"""


def _subreddit(row: tuple[Any, ...]) -> BoundSubreddit:
    s, c, name, by, at, mods, told, flair, records = row
    return BoundSubreddit(int(s), int(c), str(name), int(by), str(at), bool(mods), told, flair, records)


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

    async def unbind_subreddit(self, community_id: int, name: str) -> Unbinding | None:
        """Unbind by name, unless one of its activations is scheduled or live (None if this community
        had no such subreddit).

        The refusal is the DELETE's own condition, so an activation approved while the command runs is
        either seen (and the subreddit stays bound) or approved after the binding is gone. Its stream
        cursors go with it (a later bind starts from new items); its events stay in the ledger under the
        community until the retention window passes.
        """
        async with self.transaction() as db:
            if self.postgresql:
                # Under READ COMMITTED the DELETE's snapshot would miss an approval committing meanwhile:
                # writers of activations finish first, and new ones wait for this short transaction.
                await db.execute("LOCK TABLE activations IN SHARE MODE")
            rows = await self.fetch_all(
                f"SELECT {_SUBREDDIT_COLUMNS} FROM reddit_subreddits"
                " WHERE community_id = :c AND lower(name) = lower(:name)",
                dict(c=community_id, name=name),
            )
            if not rows:
                return None
            bound = _subreddit(rows[0])
            params = dict(c=community_id, s=bound.subreddit_id)
            cur = await db.execute(
                f"DELETE FROM reddit_subreddits WHERE subreddit_id = :s AND community_id = :c"
                f" AND NOT EXISTS ({_OPEN_THERE})",
                params,
            )
            if cur.rowcount != 1:
                open_ids = await self.fetch_all(f"{_OPEN_THERE} ORDER BY id", params)
                return Unbinding(bound, tuple(int(i) for (i,) in open_ids))
            await db.execute("DELETE FROM reddit_cursors WHERE subreddit_id = :s", params)
        return Unbinding(bound, ())

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

    async def records_reach_back(self, earliest: dict[int, str]) -> None:
        """Subreddit id -> the earliest time an item of it just recorded was posted: where one is
        older than the binding and than any recorded before, the subreddit's records begin there."""
        await self.write_many(
            "UPDATE reddit_subreddits SET records_from = :at WHERE subreddit_id = :s AND added_at > :at"
            " AND (records_from IS NULL OR records_from > :at)",
            [dict(s=subreddit_id, at=at) for subreddit_id, at in earliest.items()],
        )

    async def set_read_back_pending(self, subreddit_id: int, fullnames: Sequence[str]) -> None:
        """The older posts of a subreddit still to be read back with their comment trees (none: done)."""
        await self.write(
            "UPDATE reddit_subreddits SET read_back_pending = :p WHERE subreddit_id = :s",
            dict(s=subreddit_id, p=json.dumps(list(fullnames)) if fullnames else None),
        )

    async def read_back_pending(self) -> dict[int, list[str]]:
        """Subreddit id -> the older posts still to be read back (`set_read_back_pending`)."""
        rows = await self.fetch_all(
            "SELECT subreddit_id, read_back_pending FROM reddit_subreddits"
            " WHERE read_back_pending IS NOT NULL"
        )
        return {int(s): [str(name) for name in json.loads(p)] for s, p in rows}

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

    async def unmark_mods_told(self, subreddit_id: int) -> None:
        """The subreddit's moderators could not be told after all (`mark_mods_told`)."""
        await self.write(
            "UPDATE reddit_subreddits SET told_mods_at = NULL WHERE subreddit_id = :s", dict(s=subreddit_id)
        )

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

    async def unconfirmed_links(self) -> list[RedditLink]:
        """Links whose confirmations have not been attempted yet (every community), oldest first."""
        rows = await self.fetch_all(
            "SELECT community_id, member_id, reddit_id, reddit_name, linked_at FROM reddit_links"
            " WHERE confirmed_at IS NULL ORDER BY linked_at, community_id, member_id",
            {},
        )
        return [RedditLink(*r) for r in rows]

    async def mark_link_confirmed(
        self, community_id: int, member_id: int, reddit_id: int, now: datetime
    ) -> None:
        """This link's confirmations were attempted (a link made again since stays unconfirmed)."""
        await self.write(
            "UPDATE reddit_links SET confirmed_at = :now"
            " WHERE community_id = :c AND member_id = :m AND reddit_id = :r AND confirmed_at IS NULL",
            dict(c=community_id, m=member_id, r=reddit_id, now=iso(now)),
        )

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

    # -- sponsored posts in subreddits ------------------------------------------------------------

    async def subreddit_by_id(self, subreddit_id: int) -> BoundSubreddit | None:
        rows = await self.fetch_all(
            f"SELECT {_SUBREDDIT_COLUMNS} FROM reddit_subreddits WHERE subreddit_id = :s",
            dict(s=subreddit_id),
        )
        return _subreddit(rows[0]) if rows else None

    async def set_sponsored_flair(self, community_id: int, subreddit_id: int, flair_id: str | None) -> bool:
        """The link flair template sponsored posts get in this subreddit (None: no flair)."""
        cur = await self.write(
            "UPDATE reddit_subreddits SET sponsored_flair_id = :flair"
            " WHERE subreddit_id = :s AND community_id = :c",
            dict(flair=flair_id, s=subreddit_id, c=community_id),
        )
        return cur.rowcount == 1

    # -- who is who on Reddit -----------------------------------------------------------------------

    async def reddit_first_seen(self, community_id: int, reddit_id: int) -> str | None:
        """When the ledger first saw this Reddit account in the community's subreddits."""
        value = await self.scalar(
            "SELECT first_seen FROM members"
            " WHERE platform = 'reddit' AND community_id = :c AND member_id = :m",
            dict(c=community_id, m=reddit_id),
        )
        return None if value is None else str(value)

    async def linked_member(self, community_id: int, reddit_id: int) -> int | None:
        """The member who linked this Reddit account here, if anyone did."""
        value = await self.scalar(
            "SELECT member_id FROM reddit_links WHERE community_id = :c AND reddit_id = :r",
            dict(c=community_id, r=reddit_id),
        )
        return None if value is None else int(value)

    async def brand_reddit_accounts(self, community_id: int, brand_id: int) -> dict[int, int]:
        """Reddit account -> member, for the contacts of a brand who linked their Reddit account."""
        rows = await self.fetch_all(
            "SELECT l.reddit_id, l.member_id FROM reddit_links AS l"
            " JOIN brand_contacts AS k ON k.community_id = l.community_id AND k.member_id = l.member_id"
            " WHERE l.community_id = :c AND k.brand_id = :b",
            dict(c=community_id, b=brand_id),
        )
        return {int(r): int(m) for r, m in rows}

    # -- activations run in a subreddit --------------------------------------------------------------

    async def add_reddit_entries(
        self, community_id: int, activation_id: int, entries: list[tuple[int, datetime]]
    ) -> int:
        """Entries read from a giveaway post's top-level comments: each account once, only comments made
        before the giveaway's end, and only until its draw (the draw's entrant list is final)."""
        rows = [dict(a=activation_id, c=community_id, m=m, at=iso(at)) for m, at in entries]
        if not rows:
            return 0
        before = await self.giveaway_entry_count_of(activation_id)
        await self.write_many(
            "INSERT OR IGNORE INTO giveaway_entries (activation_id, community_id, member_id, entered_at)"
            " SELECT a.id, a.community_id, :m, :at FROM activations AS a"
            " WHERE a.id = :a AND a.community_id = :c AND a.kind = 'giveaway'"
            " AND a.state IN ('live', 'ended') AND :at < a.ends_at"
            " AND NOT EXISTS (SELECT 1 FROM giveaway_draws AS d WHERE d.activation_id = a.id)",
            rows,
        )
        return await self.giveaway_entry_count_of(activation_id) - before

    async def giveaway_entry_count_of(self, activation_id: int) -> int:
        return int(
            await self.scalar(
                "SELECT count(*) FROM giveaway_entries WHERE activation_id = :a", dict(a=activation_id)
            )
            or 0
        )

    async def add_reddit_questions(
        self, community_id: int, activation_id: int, questions: list[tuple[int, int, str, datetime]]
    ) -> int:
        """Questions read from an AMA post's top-level comments (comment id, author, text, time), each
        once, if made before the AMA's end; returns how many were new."""
        rows = [
            dict(a=activation_id, c=community_id, mid=mid, m=author, body=body, at=iso(at))
            for mid, author, body, at in questions
        ]
        if not rows:
            return 0
        count = "SELECT count(*) FROM qa_questions WHERE activation_id = :a"
        before = int(await self.scalar(count, dict(a=activation_id)))
        await self.write_many(
            "INSERT INTO qa_questions (activation_id, community_id, author_id, body, created_at, message_id)"
            " SELECT a.id, a.community_id, :m, :body, :at, :mid FROM activations AS a"
            " WHERE a.id = :a AND a.community_id = :c AND a.kind = 'qa'"
            " AND a.state IN ('live', 'ended') AND :at < a.ends_at"
            " AND NOT EXISTS (SELECT 1 FROM qa_questions AS q"
            "                  WHERE q.activation_id = a.id AND q.message_id = :mid)",
            rows,
        )
        return int(await self.scalar(count, dict(a=activation_id))) - before

    async def record_reddit_answer(
        self,
        community_id: int,
        activation_id: int,
        question_message_id: int,
        *,
        by: int,
        answer_id: int,
        now: datetime,
    ) -> bool:
        """A brand contact answered a question from their own linked Reddit account."""
        cur = await self.write(
            "UPDATE qa_questions SET answered_at = :now, answered_by = :by, answer_message_id = :ans"
            " WHERE activation_id = :a AND community_id = :c AND message_id = :mid"
            " AND answered_at IS NULL AND hidden_at IS NULL",
            dict(
                a=activation_id, c=community_id, mid=question_message_id, by=by, ans=answer_id, now=iso(now)
            ),
        )
        return cur.rowcount == 1
