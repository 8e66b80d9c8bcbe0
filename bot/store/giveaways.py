"""SQL for giveaways (entries, provably fair draws) and unique discount codes; mixed into `bot.store.Store`.

Everything that must happen once is guarded by the schema and done in ONE statement: an entry is a
primary key, a draw round is one row under a primary key, a code claim is one UPDATE of an unclaimed row
under a partial unique index, written through `StoreBase.write` so it never lands inside another
task's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.activations.codes import PoolCode
from bot.ledger import iso
from bot.store.base import Dialects, IntegrityError, StoreBase

EntryOutcome = Literal["entered", "already", "left", "not_entered", "closed"]
ClaimOutcome = Literal["claimed", "already", "not_winner"]


@dataclass(frozen=True)
class Draw:
    round: int
    winners: tuple[int, ...]
    replaced: tuple[int, ...]
    entrants: tuple[int, ...]
    entrants_sha256: str
    message_id: int | None


@dataclass(frozen=True)
class Standing:
    """The current winners of a giveaway (every round's winners minus those a reroll replaced)."""

    winners: tuple[int, ...]
    claimed: frozenset[int]
    drawn: frozenset[int]  # everyone drawn in any round, replaced or not
    rounds: int

    @property
    def unclaimed(self) -> tuple[int, ...]:
        return tuple(w for w in self.winners if w not in self.claimed)


# -- writes inside create_activation's transaction (after_insert) ----------------------------------

_INSERT_SECRET = """
    INSERT INTO giveaway_secrets (activation_id, community_id, seed, commitment)
    VALUES (:a, :c, :seed, :commitment)
"""
_INSERT_CODES = Dialects(
    """
    INSERT INTO activation_codes (activation_id, community_id, code, added_at)
    SELECT :a, :c, value, :now FROM json_each(:codes) ORDER BY key
""",
    postgresql="""
    INSERT INTO activation_codes (activation_id, community_id, code, added_at)
    SELECT CAST(:a AS BIGINT), CAST(:c AS BIGINT), j.value, CAST(:now AS TEXT)
      FROM jsonb_array_elements_text(CAST(:codes AS jsonb)) WITH ORDINALITY AS j(value, key) ORDER BY j.key
""",
)


async def write_giveaway_secret(
    db: Any, activation_id: int, community_id: int, seed: str, commitment: str
) -> None:
    """Store the seed with the activation (same transaction): it exists before the post, never after."""
    await db.execute(_INSERT_SECRET, dict(a=activation_id, c=community_id, seed=seed, commitment=commitment))


async def write_codes(
    db: Any, activation_id: int, community_id: int, codes: Sequence[str], now: datetime
) -> None:
    """Add a pool in one statement: all the codes or (on a duplicate) none."""
    await db.execute(
        _INSERT_CODES, dict(a=activation_id, c=community_id, codes=json.dumps(list(codes)), now=iso(now))
    )


# -- queries ---------------------------------------------------------------------------------------

_ENTER = """
    INSERT OR IGNORE INTO giveaway_entries (activation_id, community_id, member_id, entered_at)
    SELECT id, community_id, :m, :now FROM activations
     WHERE id = :a AND community_id = :c AND kind = 'giveaway' AND state = 'live' AND ends_at > :now
"""
_LEAVE = """
    DELETE FROM giveaway_entries
     WHERE activation_id = :a AND community_id = :c AND member_id = :m
       AND EXISTS (SELECT 1 FROM activations
                    WHERE id = :a AND state = 'live' AND ends_at > :now)
"""
_OPEN = """
    SELECT 1 FROM activations
     WHERE id = :a AND community_id = :c AND kind = 'giveaway' AND state = 'live' AND ends_at > :now
"""
_INSERT_DRAW = Dialects(
    """
    INSERT INTO giveaway_draws
        (activation_id, community_id, round, winners, replaced, entrants, entrants_sha256, drawn_by, drawn_at)
    SELECT :a, :c, :round, :winners, :replaced, :entrants, :digest, :by, :now
     WHERE EXISTS (SELECT 1 FROM activations WHERE id = :a AND community_id = :c AND state = 'ended')
       AND NOT EXISTS (SELECT 1 FROM giveaway_claims
                        WHERE activation_id = :a AND member_id IN (SELECT value FROM json_each(:replaced)))
       AND NOT EXISTS (SELECT 1 FROM giveaway_draws AS d, json_each(d.replaced) AS r
                        WHERE d.activation_id = :a AND r.value IN (SELECT value FROM json_each(:replaced)))
""",
    postgresql="""
    INSERT INTO giveaway_draws
        (activation_id, community_id, round, winners, replaced, entrants, entrants_sha256, drawn_by, drawn_at)
    SELECT CAST(:a AS BIGINT), CAST(:c AS BIGINT), CAST(:round AS BIGINT), CAST(:winners AS TEXT),
           CAST(:replaced AS TEXT), CAST(:entrants AS TEXT), CAST(:digest AS TEXT), CAST(:by AS BIGINT),
           CAST(:now AS TEXT)
     WHERE EXISTS (SELECT 1 FROM activations WHERE id = :a AND community_id = :c AND state = 'ended')
       AND NOT EXISTS (SELECT 1 FROM giveaway_claims
                        WHERE activation_id = :a AND member_id IN (
                              SELECT jsonb_array_elements_text(CAST(:replaced AS jsonb))::bigint))
       AND NOT EXISTS (SELECT 1 FROM giveaway_draws AS d,
                              jsonb_array_elements_text(CAST(d.replaced AS jsonb)) AS r
                        WHERE d.activation_id = :a AND r::bigint IN (
                              SELECT jsonb_array_elements_text(CAST(:replaced AS jsonb))::bigint))
""",
)
_CLAIM_PRIZE = Dialects(
    """
    INSERT OR IGNORE INTO giveaway_claims (activation_id, community_id, member_id, claimed_at)
    SELECT :a, :c, :m, :now
     WHERE EXISTS (SELECT 1 FROM giveaway_draws AS d, json_each(d.winners) AS w
                    WHERE d.activation_id = :a AND d.community_id = :c AND w.value = :m)
       AND NOT EXISTS (SELECT 1 FROM giveaway_draws AS d, json_each(d.replaced) AS r
                        WHERE d.activation_id = :a AND r.value = :m)
""",
    postgresql="""
    INSERT INTO giveaway_claims (activation_id, community_id, member_id, claimed_at)
    SELECT CAST(:a AS BIGINT), CAST(:c AS BIGINT), CAST(:m AS BIGINT), CAST(:now AS TEXT)
     WHERE EXISTS (SELECT 1 FROM giveaway_draws AS d, jsonb_array_elements_text(CAST(d.winners AS jsonb)) AS w
                    WHERE d.activation_id = :a AND d.community_id = :c AND w::bigint = :m)
       AND NOT EXISTS (SELECT 1 FROM giveaway_draws AS d,
                              jsonb_array_elements_text(CAST(d.replaced AS jsonb)) AS r
                        WHERE d.activation_id = :a AND r::bigint = :m)
    ON CONFLICT DO NOTHING
""",
)
_CLAIM_CODE = """
    UPDATE activation_codes SET claimed_by = :m, claimed_at = :now
     WHERE id = (SELECT id FROM activation_codes
                  WHERE activation_id = :a AND community_id = :c AND claimed_by IS NULL
                  ORDER BY id LIMIT 1{lock})
       AND claimed_by IS NULL
       AND NOT EXISTS (SELECT 1 FROM activation_codes WHERE activation_id = :a AND claimed_by = :m)
       AND EXISTS (SELECT 1 FROM activations WHERE id = :a AND state = 'live' AND ends_at > :now)
    RETURNING code
"""
# PostgreSQL runs concurrent claims side by side (SQLite runs them one at a time): each takes the lowest
# unclaimed code nobody else is taking, instead of all picking the same one and all but one failing.
_CLAIM_CODE = Dialects(_CLAIM_CODE.format(lock=""), _CLAIM_CODE.format(lock=" FOR UPDATE SKIP LOCKED"))
_POOL = """
    SELECT k.id, k.code, k.claimed_by IS NOT NULL, r.code_id IS NOT NULL
      FROM activation_codes AS k LEFT JOIN code_redemptions AS r ON r.code_id = k.id
     WHERE k.activation_id = :a AND k.community_id = :c ORDER BY k.id
"""
_REDEEM = Dialects(
    """
    INSERT OR IGNORE INTO code_redemptions
        (code_id, activation_id, community_id, redeemed_at, reported_by, reported_at)
    SELECT k.id, k.activation_id, k.community_id, json_extract(r.value, '$[1]'), :by, :now
      FROM json_each(:rows) AS r JOIN activation_codes AS k ON k.id = json_extract(r.value, '$[0]')
     WHERE k.activation_id = :a AND k.community_id = :c
""",
    postgresql="""
    INSERT INTO code_redemptions
        (code_id, activation_id, community_id, redeemed_at, reported_by, reported_at)
    SELECT k.id, k.activation_id, k.community_id, r.value ->> 1, CAST(:by AS BIGINT), CAST(:now AS TEXT)
      FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS r(value)
      JOIN activation_codes AS k ON k.id = (r.value ->> 0)::bigint
     WHERE k.activation_id = :a AND k.community_id = :c
    ON CONFLICT DO NOTHING
""",
)
_EVENTS_BY = """
    SELECT count(*) FROM events
     WHERE community_id = :c AND actor_id = :m AND kind NOT IN ('unreaction', 'join') AND is_self = 0
"""


class GiveawayQueries(StoreBase):
    """Giveaway entries and draws, code pools, claims and redemptions. Mixed into `bot.store.Store`."""

    # -- giveaway: commitment and entries --------------------------------------------------------

    async def community_statement(self, activation_id: int) -> tuple[int, str] | None:
        """(moderator, when) of the statement that no brand provided a community giveaway's prize."""
        rows = await self.fetch_all(
            "SELECT stated_by, stated_at FROM community_giveaways WHERE activation_id = :a",
            dict(a=activation_id),
        )
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    async def giveaway_commitment(self, activation_id: int) -> str | None:
        value = await self.scalar(
            "SELECT commitment FROM giveaway_secrets WHERE activation_id = :a", dict(a=activation_id)
        )
        return None if value is None else str(value)

    async def reveal_giveaway_seed(self, activation_id: int, now: datetime) -> str | None:
        """The seed, for the winners post only: call it after the draw; it stamps revealed_at."""
        await self.write(
            "UPDATE giveaway_secrets SET revealed_at = coalesce(revealed_at, :now) WHERE activation_id = :a",
            dict(a=activation_id, now=iso(now)),
        )
        value = await self.scalar(
            "SELECT seed FROM giveaway_secrets WHERE activation_id = :a AND revealed_at IS NOT NULL",
            dict(a=activation_id),
        )
        return None if value is None else str(value)

    async def giveaway_seed_for_draw(self, activation_id: int) -> str | None:
        """The secret, read only by the draw after the giveaway ended."""
        value = await self.scalar(
            "SELECT s.seed FROM giveaway_secrets AS s JOIN activations AS a ON a.id = s.activation_id"
            " WHERE s.activation_id = :a AND a.state = 'ended'",
            dict(a=activation_id),
        )
        return None if value is None else str(value)

    async def enter_giveaway(
        self, community_id: int, activation_id: int, member_id: int, now: datetime
    ) -> EntryOutcome:
        """One entry per member, only while the giveaway is live and before its end time."""
        params = dict(a=activation_id, c=community_id, m=member_id, now=iso(now))
        cur = await self.write(_ENTER, params)
        if cur.rowcount == 1:
            return "entered"
        return "already" if await self.scalar(_OPEN, params) else "closed"

    async def leave_giveaway(
        self, community_id: int, activation_id: int, member_id: int, now: datetime
    ) -> EntryOutcome:
        params = dict(a=activation_id, c=community_id, m=member_id, now=iso(now))
        cur = await self.write(_LEAVE, params)
        if cur.rowcount == 1:
            return "left"
        return "not_entered" if await self.scalar(_OPEN, params) else "closed"

    async def unannounced_giveaways(self) -> list[int]:
        """Ended giveaways whose results were never posted (the bot stopped between end and post)."""
        rows = await self.fetch_all(
            "SELECT a.id FROM activations AS a WHERE a.kind = 'giveaway' AND a.state = 'ended'"
            " AND NOT EXISTS (SELECT 1 FROM giveaway_draws AS d"
            "                  WHERE d.activation_id = a.id AND d.round = 0 AND d.message_id IS NOT NULL)"
            " ORDER BY a.id",
            {},
        )
        return [int(r[0]) for r in rows]

    async def unannounced_rerolls(self) -> list[int]:
        """Giveaways with a reroll round whose announcement was never posted."""
        rows = await self.fetch_all(
            "SELECT DISTINCT activation_id FROM giveaway_draws WHERE round > 0 AND message_id IS NULL"
            " ORDER BY activation_id",
            {},
        )
        return [int(r[0]) for r in rows]

    async def giveaway_entry_count(self, activation_id: int) -> int:
        return int(
            await self.scalar(
                "SELECT count(*) FROM giveaway_entries WHERE activation_id = :a", dict(a=activation_id)
            )
        )

    async def giveaway_entrants(self, activation_id: int) -> list[int]:
        rows = await self.fetch_all(
            "SELECT member_id FROM giveaway_entries WHERE activation_id = :a ORDER BY member_id",
            dict(a=activation_id),
        )
        return [int(r[0]) for r in rows]

    # -- giveaway: draws -------------------------------------------------------------------------

    async def record_giveaway_draw(
        self,
        community_id: int,
        activation_id: int,
        round_no: int,
        *,
        entrants: Sequence[int],
        entrants_sha256: str,
        winners: Sequence[int],
        replaced: Sequence[int] = (),
        by: int | None,
        now: datetime,
    ) -> bool:
        """Write one draw round, once; only after the giveaway ended.

        False (nothing written) if that round exists already (another job, a restart catch-up or a
        racing reroll drew it), or a winner to replace claimed or was replaced meanwhile."""
        params = dict(
            a=activation_id,
            c=community_id,
            round=round_no,
            winners=json.dumps(list(winners)),
            replaced=json.dumps(list(replaced)),
            entrants=json.dumps(list(entrants)),
            digest=entrants_sha256,
            by=by,
            now=iso(now),
        )
        try:
            cur = await self.write(_INSERT_DRAW, params)
        except IntegrityError:
            return False
        return cur.rowcount == 1

    async def giveaway_draws(self, activation_id: int) -> list[Draw]:
        rows = await self.fetch_all(
            "SELECT round, winners, replaced, entrants, entrants_sha256, message_id FROM giveaway_draws"
            " WHERE activation_id = :a ORDER BY round",
            dict(a=activation_id),
        )
        return [
            Draw(
                round=int(r),
                winners=tuple(int(m) for m in json.loads(winners)),
                replaced=tuple(int(m) for m in json.loads(replaced)),
                entrants=tuple(int(e) for e in json.loads(entrants)),
                entrants_sha256=str(digest),
                message_id=None if message is None else int(message),
            )
            for r, winners, replaced, entrants, digest, message in rows
        ]

    async def giveaway_standing(self, activation_id: int) -> Standing:
        draws = await self.giveaway_draws(activation_id)
        claimed = await self.fetch_all(
            "SELECT member_id FROM giveaway_claims WHERE activation_id = :a", dict(a=activation_id)
        )
        out = {m for d in draws for m in d.replaced}
        winners = tuple(m for d in draws for m in d.winners if m not in out)
        return Standing(
            winners=winners,
            claimed=frozenset(int(r[0]) for r in claimed),
            drawn=frozenset(m for d in draws for m in d.winners),
            rounds=len(draws),
        )

    async def set_draw_message(self, activation_id: int, round_no: int, message_id: int) -> None:
        await self.write(
            "UPDATE giveaway_draws SET message_id = :msg WHERE activation_id = :a AND round = :round",
            dict(a=activation_id, round=round_no, msg=message_id),
        )

    async def claim_giveaway_prize(
        self, community_id: int, activation_id: int, member_id: int, now: datetime
    ) -> ClaimOutcome:
        params = dict(a=activation_id, c=community_id, m=member_id, now=iso(now))
        cur = await self.write(_CLAIM_PRIZE, params)
        if cur.rowcount == 1:
            return "claimed"
        claimed = await self.scalar(
            "SELECT 1 FROM giveaway_claims WHERE activation_id = :a AND member_id = :m", params
        )
        return "already" if claimed else "not_winner"

    # -- eligibility facts -----------------------------------------------------------------------

    async def member_joined_at(self, community_id: int, member_id: int) -> str | None:
        value = await self.scalar(
            "SELECT joined_at FROM members WHERE community_id = :c AND member_id = :m",
            dict(c=community_id, m=member_id),
        )
        return None if value is None else str(value)

    async def member_engagement_events(self, community_id: int, member_id: int) -> int:
        """Engagement events the member made here (self-engagement, joins and retractions not counted)."""
        return int(await self.scalar(_EVENTS_BY, dict(c=community_id, m=member_id)) or 0)

    async def is_contact_of_any_brand(self, community_id: int, member_id: int) -> bool:
        """A contact of any brand in this community that has not been removed."""
        value = await self.scalar(
            "SELECT 1 FROM brand_contacts AS k JOIN brands AS b ON b.id = k.brand_id"
            " WHERE k.community_id = :c AND k.member_id = :m AND b.status <> 'removed' LIMIT 1",
            dict(c=community_id, m=member_id),
        )
        return value is not None

    # -- unique codes ----------------------------------------------------------------------------

    async def attach_codes(
        self, community_id: int, activation_id: int, codes: Sequence[str], now: datetime
    ) -> bool:
        """Add a pool to an activation; False (nothing added) if a code is already in its pool, in any
        case: a shop that ignores case would see one code used twice, and redemptions match codes
        whatever their case."""
        try:
            async with self.transaction() as db:
                async with db.execute(
                    "SELECT code FROM activation_codes WHERE activation_id = :a", dict(a=activation_id)
                ) as cur:
                    held = {str(code).upper() for (code,) in await cur.fetchall()}
                if any(code.upper() in held for code in codes):
                    return False
                await write_codes(db, activation_id, community_id, codes, now)
        except IntegrityError:
            return False
        return True

    async def code_counts(self, activation_id: int) -> tuple[int, int]:
        """(codes in the pool, codes claimed)."""
        rows = await self.fetch_all(
            "SELECT count(*), count(claimed_by) FROM activation_codes WHERE activation_id = :a",
            dict(a=activation_id),
        )
        return int(rows[0][0]), int(rows[0][1])

    async def claimed_code(self, activation_id: int, member_id: int) -> str | None:
        value = await self.scalar(
            "SELECT code FROM activation_codes WHERE activation_id = :a AND claimed_by = :m",
            dict(a=activation_id, m=member_id),
        )
        return None if value is None else str(value)

    async def claim_code(
        self, community_id: int, activation_id: int, member_id: int, now: datetime
    ) -> tuple[str | None, bool]:
        """(code, newly claimed). A member who already has a code gets the same one again; (None, False)
        when the pool is exhausted or the activation is no longer live (cancelled or past its end
        meanwhile). One UPDATE takes the lowest unclaimed row only if it is still unclaimed, the member
        has none and the activation is live, and the partial unique index refuses a second row anyway."""
        params = dict(a=activation_id, c=community_id, m=member_id, now=iso(now))
        try:
            rows = await self.write_returning(_CLAIM_CODE, params)
        except IntegrityError:
            rows = []
        row = rows[0] if rows else None
        if row is not None:
            return str(row[0]), True
        return await self.claimed_code(activation_id, member_id), False

    async def code_pool(self, community_id: int, activation_id: int) -> list[PoolCode]:
        rows = await self.fetch_all(_POOL, dict(a=activation_id, c=community_id))
        return [
            PoolCode(int(i), str(code), bool(claimed), bool(redeemed)) for i, code, claimed, redeemed in rows
        ]

    async def record_redemptions(
        self,
        community_id: int,
        activation_id: int,
        redeemed: Sequence[tuple[int, datetime | None]],
        *,
        by: int,
        now: datetime,
    ) -> int:
        """Store reported redemptions (code id, when) in one statement; a code reported before keeps its
        first report. Returns how many were new."""
        rows = json.dumps([[code_id, iso(when) if when else None] for code_id, when in redeemed])
        cur = await self.write(_REDEEM, dict(rows=rows, a=activation_id, c=community_id, by=by, now=iso(now)))
        return max(cur.rowcount, 0)

    async def insert_giveaway(
        self,
        *,
        seed: str,
        commitment: str,
        codes: Sequence[str],
        stated_by: int | None = None,
        **activation: Any,
    ) -> int:
        """A pending giveaway (`insert_activation`'s arguments), its secret seed with the public commitment
        and its code pool, if any, in one transaction: the seed exists before the post, never after.
        `stated_by` records, for a community giveaway (no brand), the moderator who stated that no brand
        provided the prize."""
        community_id, now = int(activation["community_id"]), activation["now"]

        async def secret_and_codes(db: Any, activation_id: int) -> None:
            await write_giveaway_secret(db, activation_id, community_id, seed, commitment)
            if codes:
                await write_codes(db, activation_id, community_id, codes, now)
            if stated_by is not None:
                await db.execute(
                    "INSERT INTO community_giveaways (activation_id, community_id, stated_by, stated_at)"
                    " VALUES (:a, :c, :by, :now)",
                    dict(a=activation_id, c=community_id, by=stated_by, now=iso(now)),
                )

        insert = self.insert_activation  # type: ignore[attr-defined]  # ActivationQueries, mixed into Store
        return int(await insert(after_insert=secret_and_codes, **activation))
