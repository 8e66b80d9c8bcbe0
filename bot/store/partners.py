"""SQL for partner programs, brands, consent and privacy. Mixed into `bot.store.Store`."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.errors import InvalidInput
from bot.ledger import iso, parse_iso
from bot.partners import Partner, Terms, name_key
from bot.privacy import (
    FINISHED_ACTIVATION_STATES,
    MEMBER_COLUMNS,
    MEMBER_ID_ARRAYS,
    MEMBER_JSON_KEYS,
    MEMBER_LINKS,
    NOT_EXPORTED,
    ErasureStep,
    erasure_plan,
    pseudonymise_ids,
)
from bot.store.base import Dialects, IntegrityError, StoreBase

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Brand:
    id: int
    community_id: int
    name: str
    status: str
    topics: tuple[int, ...]
    contacts: tuple[int, ...]
    created_by: int | None = None
    created_at: str | None = None
    approved_by: int | None = None
    updated_at: str | None = None
    role_id: int | None = None
    #: Former contacts who left the server, with when (ISO UTC), earliest first: no longer contacts.
    left: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class PartnerListing:
    """One partner as a brand sees them: their best standing among the brand's topic scopes."""

    member_id: int
    scope: str
    rank: int
    score: float
    distinct_peers: int
    trusted_peers: int
    why: str


@dataclass(frozen=True)
class ConsentEntry:
    action: str
    terms_version: int | None
    at: str
    terms_text: str | None = None  # the text accepted, as shown (acceptances only)


_BRAND_COLUMNS = (
    "id, community_id, name, status, topics, created_by, created_at, approved_by, updated_at, role_id"
)
_FINISHED = ", ".join(f"'{s}'" for s in FINISHED_ACTIVATION_STATES)

# The brand's topic scopes arrive as one JSON array parameter.
_SCOPES = (
    "SELECT value FROM json_each(:scopes)",
    "SELECT jsonb_array_elements_text(CAST(:scopes AS jsonb))",
)
# A partner's standing combines their linked Reddit account's (bot/links): the identities' scores in
# one scope add (they are shares of one ranking); unlinked identities are never merged.
_PARTNER_IDENTITIES = """
    WITH ids AS (
        SELECT p.member_id AS member_id, p.member_id AS identity FROM partners AS p
         WHERE p.community_id = :c AND p.opted_out_at IS NULL
        UNION ALL
        SELECT p.member_id, l.reddit_id FROM partners AS p
          JOIN reddit_links AS l ON l.community_id = p.community_id AND l.member_id = p.member_id
         WHERE p.community_id = :c AND p.opted_out_at IS NULL
    ),
    combined AS (
        SELECT ids.member_id, ts.scope, min(ts.rank) AS rank, sum(ts.score) AS score,
               sum(ts.distinct_peers) AS distinct_peers, sum(ts.trusted_peers) AS trusted_peers,
               coalesce(max(CASE WHEN ts.member_id = ids.member_id THEN ts.why END), max(ts.why)) AS why
          FROM ids JOIN trust_scores AS ts ON ts.community_id = :c AND ts.member_id = ids.identity
         WHERE ts.scope IN ({scopes})
         GROUP BY ids.member_id, ts.scope
    )
"""
_PARTNER_RANKING = (
    _PARTNER_IDENTITIES
    + """
    , best AS (
        SELECT member_id, scope, rank, score, distinct_peers, trusted_peers, why,
               row_number() OVER (PARTITION BY member_id ORDER BY score DESC, scope) AS pick
          FROM combined
    )
    SELECT member_id, scope, rank, score, distinct_peers, trusted_peers, why FROM best
     WHERE pick = 1 ORDER BY score DESC, member_id LIMIT :limit OFFSET :offset
"""
)
_PARTNER_RANKING_TOTAL = _PARTNER_IDENTITIES + "SELECT count(DISTINCT member_id) FROM combined"
_PARTNER_RANKING = Dialects(
    _PARTNER_RANKING.format(scopes=_SCOPES[0]), _PARTNER_RANKING.format(scopes=_SCOPES[1])
)
_PARTNER_RANKING_TOTAL = Dialects(
    _PARTNER_RANKING_TOTAL.format(scopes=_SCOPES[0]), _PARTNER_RANKING_TOTAL.format(scopes=_SCOPES[1])
)
_ACCEPT = """
    INSERT INTO partners (community_id, member_id, terms_version, opted_in_at, opted_out_at)
    VALUES (:c, :m, :v, :now, NULL)
    ON CONFLICT (community_id, member_id) DO UPDATE SET
        terms_version = excluded.terms_version,
        opted_in_at = CASE WHEN partners.opted_out_at IS NULL THEN partners.opted_in_at
                           ELSE excluded.opted_in_at END,
        opted_out_at = NULL
"""
_LOG = """
    INSERT INTO consent_log (community_id, member_id, action, terms_version, at, terms_text)
    VALUES (:c, :m, :action, :v, :now, :text)
"""
_ADD_CONTACT = """
    INSERT INTO brand_contacts (brand_id, community_id, member_id)
    SELECT b.id, b.community_id, CAST(:m AS INTEGER) FROM brands AS b
     WHERE b.id = :b AND b.community_id = :c AND b.status <> 'removed'
       AND (SELECT count(*) FROM brand_contacts AS k WHERE k.brand_id = :b) < :limit
    ON CONFLICT (brand_id, member_id) DO NOTHING
"""
_REMOVE_CONTACT = """
    DELETE FROM brand_contacts
     WHERE community_id = :c AND brand_id = :b AND member_id = :m
       AND ((SELECT status FROM brands WHERE id = :b AND community_id = :c) <> 'approved'
            OR (SELECT count(*) FROM brand_contacts AS k WHERE k.brand_id = :b) > 1)
"""
# Every community with raw events, or with the per-member report rows purged with them (those outlive
# a community's last events by the day the cutoff falls on).
_RETENTION_TARGETS = """
    SELECT e.community_id, coalesce(s.retention_days, :default_days)
      FROM (SELECT DISTINCT community_id FROM events
            UNION SELECT DISTINCT community_id FROM report_member_days
            UNION SELECT DISTINCT community_id FROM member_last_active) AS e
      LEFT JOIN guild_settings AS s ON s.community_id = e.community_id
     ORDER BY e.community_id
"""
_PURGE_CHUNK = """
    DELETE FROM events WHERE id IN (
        SELECT id FROM events WHERE community_id = :c AND created_at < :cutoff LIMIT :chunk)
"""


def _json_has_id(column: str, dialect: str) -> str:
    """SQL true when the JSON array of ids in `column` holds :m."""
    if dialect == "postgresql":
        return (
            f"EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST({column} AS jsonb)) AS v"
            " WHERE v::bigint = :m)"
        )
    return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = :m)"


def _json_key(column: str, key: str, dialect: str) -> str:
    """SQL for the integer under `key` of the JSON object in `column`."""
    if dialect == "postgresql":
        return f"(CAST({column} AS jsonb) ->> '{key}')::bigint"
    return f"json_extract({column}, '$.{key}')"


class PartnerQueries(StoreBase):
    """Partners, consent log, brands, export and erasure. Mixed into `bot.store.Store`."""

    # -- partners ---------------------------------------------------------------------------------

    async def is_partner(self, community_id: int, member_id: int) -> bool:
        """True while the member is opted in to the community's partner program."""
        sql = """SELECT 1 FROM partners WHERE community_id = ? AND member_id = ? AND opted_out_at IS NULL"""
        async with self.db.execute(sql, (community_id, member_id)) as cur:
            return await cur.fetchone() is not None

    async def get_partner(self, community_id: int, member_id: int) -> Partner | None:
        rows = await self.fetch_all(
            "SELECT community_id, member_id, terms_version, opted_in_at, opted_out_at FROM partners"
            " WHERE community_id = ? AND member_id = ?",
            (community_id, member_id),
        )
        return Partner(*rows[0]) if rows else None

    async def active_partner_ids(self, community_id: int) -> list[int]:
        rows = await self.fetch_all(
            "SELECT member_id FROM partners WHERE community_id = ? AND opted_out_at IS NULL"
            " ORDER BY member_id",
            (community_id,),
        )
        return [int(r[0]) for r in rows]

    async def current_terms(self, community_id: int) -> Terms | None:
        """The newest terms moderators wrote, or None while the built-in default (version 0) applies."""
        rows = await self.fetch_all(
            "SELECT version, body, created_at FROM partner_terms WHERE community_id = ?"
            " ORDER BY version DESC LIMIT 1",
            (community_id,),
        )
        return Terms(int(rows[0][0]), str(rows[0][1]), str(rows[0][2])) if rows else None

    async def add_terms(self, community_id: int, body: str, *, by: int, now: datetime) -> int:
        """Store a new version of the terms; returns its number (1, 2, ...)."""
        async with self.transaction():
            version = 1 + int(
                await self.scalar(
                    "SELECT coalesce(max(version), 0) FROM partner_terms WHERE community_id = ?",
                    (community_id,),
                )
            )
            await self.db.execute(
                "INSERT INTO partner_terms (community_id, version, body, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (community_id, version, body, by, iso(now)),
            )
        return version

    async def accept_terms(
        self, community_id: int, member_id: int, version: int, *, now: datetime, default_text: str
    ) -> bool:
        """Opt in under `version`, logging the consent with the text accepted: the stored body of a
        version moderators wrote, or `default_text` (the built-in default as shown) for version 0.
        False (nothing written) if the terms changed."""
        async with self.transaction():
            current = int(
                await self.scalar(
                    "SELECT coalesce(max(version), 0) FROM partner_terms WHERE community_id = ?",
                    (community_id,),
                )
            )
            if current != version:
                return False
            already = await self.scalar(
                "SELECT 1 FROM partners WHERE community_id = ? AND member_id = ? AND terms_version = ?"
                " AND opted_out_at IS NULL",
                (community_id, member_id, version),
            )
            if already:  # a second click on the same Accept: consent is already on record
                return True
            text = default_text
            if version > 0:
                text = await self.scalar(
                    "SELECT body FROM partner_terms WHERE community_id = ? AND version = ?",
                    (community_id, version),
                )
            params = dict(c=community_id, m=member_id, v=version, now=iso(now))
            await self.db.execute(_ACCEPT, params)
            await self.db.execute(_LOG, dict(params, action="accepted", text=text))
        return True

    async def log_consent(
        self, community_id: int, member_id: int, action: str, version: int | None, *, now: datetime
    ) -> None:
        async with self.transaction():
            await self.db.execute(
                _LOG, dict(c=community_id, m=member_id, action=action, v=version, now=iso(now), text=None)
            )

    async def end_partnership(self, community_id: int, member_id: int, action: str, *, now: datetime) -> bool:
        """Opt a partner out at once (`action`: left, left_server, banned). False if they were not one."""
        async with self.transaction():
            cur = await self.db.execute(
                "UPDATE partners SET opted_out_at = :now"
                " WHERE community_id = :c AND member_id = :m AND opted_out_at IS NULL",
                dict(c=community_id, m=member_id, now=iso(now)),
            )
            if cur.rowcount != 1:
                return False
            version = await self.scalar(
                "SELECT terms_version FROM partners WHERE community_id = ? AND member_id = ?",
                (community_id, member_id),
            )
            await self.db.execute(
                _LOG, dict(c=community_id, m=member_id, action=action, v=version, now=iso(now), text=None)
            )
        return True

    async def consent_history(self, community_id: int, member_id: int) -> list[ConsentEntry]:
        rows = await self.fetch_all(
            "SELECT action, terms_version, at, terms_text FROM consent_log"
            " WHERE community_id = ? AND member_id = ? ORDER BY id",
            (community_id, member_id),
        )
        return [ConsentEntry(str(a), None if v is None else int(v), str(at), text) for a, v, at, text in rows]

    async def partner_ranking(
        self, community_id: int, scopes: Sequence[str], *, offset: int, limit: int
    ) -> tuple[list[PartnerListing], int]:
        """Active partners only, each at their best score among `scopes`, best first; and the total."""
        params = dict(c=community_id, scopes=json.dumps(list(scopes)), offset=offset, limit=limit)
        rows = await self.fetch_all(_PARTNER_RANKING, params)
        total = int(await self.scalar(_PARTNER_RANKING_TOTAL, params) or 0)
        listings = [
            PartnerListing(int(m), str(s), int(r), float(sc), int(p), int(t), str(w))
            for m, s, r, sc, p, t, w in rows
        ]
        return listings, total

    # -- brands -----------------------------------------------------------------------------------

    async def _brand_from_row(self, row: tuple[Any, ...]) -> Brand:
        contacts = await self.fetch_all(
            "SELECT member_id FROM brand_contacts WHERE brand_id = ? ORDER BY member_id", (row[0],)
        )
        left = await self.fetch_all(
            "SELECT member_id, left_at FROM brand_contacts_left WHERE brand_id = ?"
            " ORDER BY left_at, member_id",
            (row[0],),
        )
        bid, cid, name, status, topics, created_by, created_at, approved_by, updated_at, role_id = row
        return Brand(
            int(bid),
            int(cid),
            str(name),
            str(status),
            tuple(int(t) for t in json.loads(topics)),
            tuple(int(c[0]) for c in contacts),
            created_by,
            created_at,
            approved_by,
            updated_at,
            role_id,
            tuple((int(m), str(at)) for m, at in left),
        )

    async def get_brand(self, community_id: int, brand_id: int) -> Brand | None:
        """The brand with this id in this community (any status), or None."""
        rows = await self.fetch_all(
            f"SELECT {_BRAND_COLUMNS} FROM brands WHERE community_id = ? AND id = ?", (community_id, brand_id)
        )
        return await self._brand_from_row(rows[0]) if rows else None

    async def find_brand(self, community_id: int, key: int | str) -> Brand | None:
        """By id, or by name key (`bot.partners.name_key`): the live brand with that name, else the
        latest removed one."""
        if isinstance(key, int):
            return await self.get_brand(community_id, key)
        await self.fill_brand_name_keys()
        rows = await self.fetch_all(
            f"SELECT {_BRAND_COLUMNS} FROM brands WHERE community_id = ? AND name_key = ?"
            " ORDER BY status = 'removed', id DESC LIMIT 1",
            (community_id, key),
        )
        return await self._brand_from_row(rows[0]) if rows else None

    async def fill_brand_name_keys(self) -> int:
        """Give brands stored without a name key (before keys existed) theirs; returns how many.

        A live brand whose key another live brand of its community already has (two names that were
        told apart before, such as "Émile" and "émile") gets a key no typed name can match: it stays
        reachable by its id, and the older brand keeps the name.
        """
        rows = await self.fetch_all(
            "SELECT id, community_id, name, status FROM brands WHERE name_key IS NULL ORDER BY id"
        )
        if not rows:
            return 0
        async with self.transaction():
            taken = {
                (int(c), str(k))
                for c, k in await self.fetch_all(
                    "SELECT community_id, name_key FROM brands"
                    " WHERE name_key IS NOT NULL AND status <> 'removed'"
                )
            }
            for brand_id, community_id, name, status in rows:
                key = name_key(str(name))
                if status != "removed":
                    if (int(community_id), key) in taken:
                        log.warning("brand %s of %s: name taken, kept by id only", brand_id, community_id)
                        key = f"{key}\x1f{brand_id}"  # a control character: never part of a typed name
                    taken.add((int(community_id), key))
                await self.db.execute(
                    "UPDATE brands SET name_key = ? WHERE id = ? AND name_key IS NULL", (key, brand_id)
                )
        return len(rows)

    async def list_brands(self, community_id: int, *, include_removed: bool = False) -> list[Brand]:
        rows = await self.fetch_all(
            f"SELECT {_BRAND_COLUMNS} FROM brands WHERE community_id = ?"
            + ("" if include_removed else " AND status <> 'removed'")
            + " ORDER BY lower(name), id",
            (community_id,),
        )
        return [await self._brand_from_row(r) for r in rows]

    async def create_brand(
        self,
        community_id: int,
        name: str,
        contacts: Sequence[int],
        topics: Sequence[int],
        *,
        by: int,
        now: datetime,
    ) -> Brand:
        """A pending brand with its contacts, in one transaction: all of it or nothing."""
        stamp = iso(now)
        await self.fill_brand_name_keys()  # so that a brand stored before keys existed keeps its name
        try:
            async with self.transaction():
                async with self.db.execute(
                    "INSERT INTO brands"
                    " (community_id, name, name_key, status, topics, created_by, created_at, updated_at)"
                    " VALUES (?, ?, ?, 'pending', ?, ?, ?, ?) RETURNING id",
                    (community_id, name, name_key(name), json.dumps(list(topics)), by, stamp, stamp),
                ) as cur:
                    brand_id = int((await cur.fetchone())[0])
                await self.db.executemany(
                    "INSERT INTO brand_contacts (brand_id, community_id, member_id) VALUES (?, ?, ?)",
                    [(brand_id, community_id, m) for m in contacts],
                )
        except IntegrityError as exc:
            if "brands_live_name_key" in str(exc) or "brands.name_key" in str(exc):  # PostgreSQL, SQLite
                raise InvalidInput("brand.name_taken", name=name) from exc
            raise
        brand = await self.get_brand(community_id, brand_id)
        assert brand is not None
        return brand

    async def set_brand_status(
        self, community_id: int, brand_id: int, *, expected: str, status: str, by: int, now: datetime
    ) -> bool:
        """Guarded transition: only from the state the caller saw, so a double click never repeats it."""
        approve = status == "approved"
        cur = await self.write(
            "UPDATE brands SET status = :status, updated_at = :now,"
            " approved_by = CASE WHEN :approve THEN :by ELSE approved_by END"
            " WHERE community_id = :c AND id = :id AND status = :expected",
            dict(
                status=status,
                now=iso(now),
                approve=approve,
                by=by,
                c=community_id,
                id=brand_id,
                expected=expected,
            ),
        )
        return cur.rowcount == 1

    async def set_brand_role(
        self, community_id: int, brand_id: int, role_id: int | None, *, now: datetime
    ) -> bool:
        """Choose (or clear, with None) the Discord role the brand's contacts get while it is approved."""
        cur = await self.write(
            "UPDATE brands SET role_id = :role, updated_at = :now"
            " WHERE community_id = :c AND id = :id AND status <> 'removed'",
            dict(role=role_id, now=iso(now), c=community_id, id=brand_id),
        )
        return cur.rowcount == 1

    async def contact_left(self, community_id: int, member_id: int, *, now: datetime) -> list[int]:
        """The member left the server: they stop being a contact of every brand of the community, for
        good (a rejoin restores nothing), and when they left is kept for moderators to see. The ids of
        the brands they were a contact of."""
        async with self.transaction():
            async with self.db.execute(
                "DELETE FROM brand_contacts WHERE community_id = ? AND member_id = ? RETURNING brand_id",
                (community_id, member_id),
            ) as cur:
                brand_ids = sorted(int(r[0]) for r in await cur.fetchall())
            await self.db.executemany(
                "INSERT INTO brand_contacts_left (brand_id, community_id, member_id, left_at)"
                " VALUES (?, ?, ?, ?)"
                " ON CONFLICT (brand_id, member_id) DO UPDATE SET left_at = excluded.left_at",
                [(b, community_id, member_id, iso(now)) for b in brand_ids],
            )
        return brand_ids

    async def add_brand_contact(
        self, community_id: int, brand_id: int, member_id: int, *, limit: int
    ) -> bool:
        """Make the member a contact of a brand that is not removed, unless they are one already or the
        brand has `limit` contacts (checked in the one INSERT, the brand's row held: `_lock_brand`, so two
        moderators adding at once cannot overfill it). A contact who had left and is added again is no
        longer listed as gone. False if nothing was added."""
        params = dict(c=community_id, b=brand_id, m=member_id, limit=limit)
        async with self.transaction():
            await self._lock_brand(params)
            cur = await self.db.execute(_ADD_CONTACT, params)
            if cur.rowcount != 1:
                return False
            await self.db.execute(
                "DELETE FROM brand_contacts_left"
                " WHERE community_id = :c AND brand_id = :b AND member_id = :m",
                params,
            )
        return True

    async def remove_brand_contact(self, community_id: int, brand_id: int, member_id: int) -> bool:
        """Take the member off a brand's contacts, unless they are the last contact of an approved brand
        (checked in the one DELETE, against the brand as it is then, its row held: `_lock_brand`). False
        if nothing was removed."""
        params = dict(c=community_id, b=brand_id, m=member_id)
        async with self.transaction():
            await self._lock_brand(params)
            cur = await self.db.execute(_REMOVE_CONTACT, params)
        return cur.rowcount == 1

    async def _lock_brand(self, params: dict[str, object]) -> None:
        """PostgreSQL: hold the brand's row until the transaction ends, so the count of its contacts in
        the next statement includes every change committed before (READ COMMITTED takes a new snapshot
        per statement; without the lock two processes changing different contacts both pass their count,
        emptying or overfilling the brand). SQLite's one writer needs nothing."""
        if self.postgresql:
            await self.db.execute(
                "SELECT id FROM brands WHERE id = :b AND community_id = :c FOR UPDATE", params
            )

    async def managed_brand_ids(self, community_id: int, member_id: int) -> list[int]:
        """Approved brands this member is a contact of (a brand manager for each)."""
        sql = """
            SELECT b.id FROM brand_contacts AS c JOIN brands AS b ON b.id = c.brand_id
             WHERE c.community_id = ? AND c.member_id = ? AND b.status = 'approved'
             ORDER BY b.id
        """
        async with self.db.execute(sql, (community_id, member_id)) as cur:
            return [int(row[0]) for row in await cur.fetchall()]

    async def contact_brand_roles(self, community_id: int, member_id: int) -> list[int]:
        """The Discord roles of every brand this member is a contact of (any status): the roles Microvoice
        may have given them as a brand contact."""
        rows = await self.fetch_all(
            "SELECT DISTINCT b.role_id FROM brand_contacts AS c JOIN brands AS b ON b.id = c.brand_id"
            " WHERE c.community_id = ? AND c.member_id = ? AND b.role_id IS NOT NULL ORDER BY b.role_id",
            (community_id, member_id),
        )
        return [int(r[0]) for r in rows]

    async def roles_held_through_other_brands(self, community_id: int, brand_id: int) -> set[tuple[int, int]]:
        """(member, role) pairs that approved brands other than `brand_id` give their contacts."""
        rows = await self.fetch_all(
            "SELECT c.member_id, b.role_id FROM brand_contacts AS c JOIN brands AS b ON b.id = c.brand_id"
            " WHERE c.community_id = :c AND b.id <> :b AND b.status = 'approved' AND b.role_id IS NOT NULL",
            dict(c=community_id, b=brand_id),
        )
        return {(int(m), int(r)) for m, r in rows}

    async def ranking_exclusions(self, community_id: int) -> set[int]:
        """Never ranked: contacts of brands that are not removed, and erased members' pseudonyms."""
        rows = await self.fetch_all(
            """
            SELECT c.member_id FROM brand_contacts AS c JOIN brands AS b ON b.id = c.brand_id
             WHERE c.community_id = :c AND b.status <> 'removed'
            UNION SELECT actor_id FROM engagement_daily WHERE community_id = :c AND actor_id < 0
            UNION SELECT target_id FROM engagement_daily WHERE community_id = :c AND target_id < 0
            """,
            dict(c=community_id),
        )
        return {int(r[0]) for r in rows}

    # -- privacy ----------------------------------------------------------------------------------

    async def _tables(self) -> dict[str, list[str]]:
        if self.postgresql:
            tables: dict[str, list[str]] = {}
            for table, column in await self.fetch_all(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name <> 'microvoice_schema'"
                " ORDER BY table_name, ordinal_position"
            ):
                tables.setdefault(str(table), []).append(str(column))
            return tables
        names = await self.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        tables: dict[str, list[str]] = {}
        for (name,) in names:
            columns = await self.fetch_all(f'PRAGMA table_info("{name}")')
            tables[str(name)] = [str(c[1]) for c in columns]
        return tables

    async def member_data(self, community_id: int, member_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table that belongs to this community and mentions this member."""
        tables = await self._tables()
        out: dict[str, list[dict[str, Any]]] = {}
        for name, columns in tables.items():
            refs = [f'"{c}" = :m' for c in columns if c in MEMBER_COLUMNS]
            refs += [_json_has_id(f'"{c}"', self.dialect) for c in columns if c in MEMBER_ID_ARRAYS]
            refs += [
                _json_key(f'"{c}"', MEMBER_JSON_KEYS[c], self.dialect) + " = :m"
                for c in columns
                if c in MEMBER_JSON_KEYS
            ]
            refs += [
                f'"{c}" IN (SELECT id FROM "{parent}" WHERE "{ref}" = :m)'
                for c in columns
                if (link := MEMBER_LINKS.get((name, c))) is not None and link[0] in tables
                for parent, ref in [link]
            ]
            if name in NOT_EXPORTED or not refs:
                continue
            if "community_id" in columns:
                scope = '"community_id" = :c'
            elif "activation_id" in columns and "activations" in tables:
                scope = '"activation_id" IN (SELECT id FROM activations WHERE community_id = :c)'
            else:
                continue
            match = " OR ".join(refs)
            sql = f'SELECT * FROM "{name}" WHERE {scope} AND ({match}) ORDER BY 1, 2'
            async with self.db.execute(sql, dict(c=community_id, m=member_id)) as cur:
                names = [d[0] for d in cur.description]
                rows = [dict(zip(names, r, strict=True)) for r in await cur.fetchall()]
            if rows:
                out[name] = rows
        return out

    async def erased_members(self) -> list[tuple[int, int, datetime]]:
        """(community, member, when) of every erasure, from the consent log's notes."""
        rows = await self.fetch_all(
            "SELECT community_id, member_id, max(at) FROM consent_log WHERE action = 'erased' GROUP BY 1, 2"
        )
        return [(int(c), int(m), parse_iso(str(at))) for c, m, at in rows]

    async def forget_member(
        self, community_id: int, member_id: int, *, pseudonym: int, now: datetime
    ) -> dict[str, int]:
        """Erase a member from one community in one transaction; returns rows touched per step.

        Runs `erasure_plan` for the schema as it is: deletes their events as actor, unlinks them from
        events where they are only the target, deletes their scores, overrides, member facts, brand
        contacts, partner record and consent history (leaving one 'erased' tombstone) and their
        entries in activations that are over; the daily aggregates keep every count under
        `pseudonym`, and so does every record of an action they took (brands, activations and their
        transitions, answered questions, settings). There is no DELETE trigger on events, so deleting
        raw events does not touch the aggregates.
        """
        p = dict(c=community_id, m=member_id, pseudonym=pseudonym, now=iso(now))
        tables = await self._tables()
        finished = f"SELECT id FROM activations WHERE community_id = :c AND state IN ({_FINISHED})"
        taker_set = (
            "jsonb_set(CAST(config AS jsonb), '{taker_id}', to_jsonb(CAST(:pseudonym AS BIGINT)))::text"
            if self.postgresql
            else "json_set(config, '$.taker_id', :pseudonym)"
        )
        steps: list[tuple[str, str]] = []
        for step in erasure_plan(tables):
            where = self._erasure_scope(step, tables, finished)
            if where is None:
                continue
            table, column = f'"{step.table}"', f'"{step.column}"'
            if step.how == "delete":
                sql = f"DELETE FROM {table} WHERE {column} = :m AND {where}"
            else:
                value = "NULL" if step.how == "unlink" else ":pseudonym"
                sql = f"UPDATE {table} SET {column} = {value} WHERE {column} = :m AND {where}"
            steps.append((step.name, sql))
        if "activations" in tables:
            steps.append(
                (
                    "takers_pseudonymised",
                    f"UPDATE activations SET config = {taker_set}"
                    f" WHERE community_id = :c AND state IN ({_FINISHED})"
                    f" AND {_json_key('config', 'taker_id', self.dialect)} = :m",
                )
            )
        counts: dict[str, int] = {}
        async with self.transaction():
            for name, sql in steps:
                cur = await self.db.execute(sql, p)
                counts[name] = max(cur.rowcount, 0)
            if "giveaway_draws" in tables and "activations" in tables:
                counts["draws_pseudonymised"] = await self._pseudonymise_draws(finished, p)
            await self.db.execute(
                _LOG, dict(c=community_id, m=member_id, action="erased", v=None, now=iso(now), text=None)
            )
        return counts

    @staticmethod
    def _erasure_scope(step: ErasureStep, tables: dict[str, list[str]], finished: str) -> str | None:
        """The WHERE clause that keeps an erasure step inside the community (None: cannot be scoped)."""
        columns = tables[step.table]
        if step.finished_only:
            if "activation_id" in columns:
                where = f"activation_id IN ({finished})"
            elif step.table == "qa_votes" and "qa_questions" in tables:
                where = f"question_id IN (SELECT id FROM qa_questions WHERE activation_id IN ({finished}))"
            else:
                return None
            if step.table == "takeover_snapshots":
                where += " AND restored_at IS NOT NULL"  # still needed to give the channel back
            return where
        if "community_id" in columns:
            return "community_id = :c"
        if "activation_id" in columns and "activations" in tables:
            return "activation_id IN (SELECT id FROM activations WHERE community_id = :c)"
        return None

    async def _pseudonymise_draws(self, finished: str, p: dict[str, Any]) -> int:
        """Replace the member's id in finished giveaways' draw records (winners, replaced, entrants) by
        the pseudonym, in place: inside forget_member's transaction."""
        arrays = sorted(MEMBER_ID_ARRAYS)
        touches = " OR ".join(_json_has_id(c, self.dialect) for c in arrays)
        rows = await self.fetch_all(
            f"SELECT activation_id, round, {', '.join(arrays)} FROM giveaway_draws"
            f" WHERE activation_id IN ({finished}) AND ({touches})",
            p,
        )
        for activation_id, round_no, *values in rows:
            changes = {
                c: pseudonymise_ids(v, p["m"], p["pseudonym"]) for c, v in zip(arrays, values, strict=True)
            }
            assignments = ", ".join(f"{c} = :{c}" for c in arrays)
            await self.db.execute(
                f"UPDATE giveaway_draws SET {assignments} WHERE activation_id = :a AND round = :r",
                dict(changes, a=activation_id, r=round_no),
            )
        return len(rows)

    async def retention_targets(self, default_days: int) -> list[tuple[int, int]]:
        """(community, retention days) for every community that has raw events or member-days."""
        rows = await self.fetch_all(_RETENTION_TARGETS, dict(default_days=default_days))
        return [(int(c), int(d)) for c, d in rows]

    async def purge_events_before(self, community_id: int, cutoff: datetime, *, chunk: int = 5000) -> int:
        """Delete raw events older than `cutoff`, a chunk per transaction (other writers get turns).

        The daily aggregates are untouched: they are written by INSERT triggers only. The report
        aggregate that names members (report_member_days) is purged with them (docs/reports.md).
        """
        total = 0
        await self.purge_report_member_days(community_id, cutoff)  # type: ignore[attr-defined]  # ReportQueries
        while True:
            async with self.transaction():
                cur = await self.db.execute(
                    _PURGE_CHUNK, dict(c=community_id, cutoff=iso(cutoff), chunk=chunk)
                )
            total += max(cur.rowcount, 0)
            if cur.rowcount < chunk:
                return total
