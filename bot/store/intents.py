"""SQL for activation intents: the platform actions an activation depends on, written down before they
are tried. Mixed into `bot.store.Store`.

An intent is created in the same transaction as the transition that calls for it
(`ActivationQueries.transition_activation`), so a stop right after a transition can never lose it. Its
steps are recorded one by one as they succeed; marking an opening intent done also marks the activation
opened, in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.ledger import iso
from bot.store.base import StoreBase

OPEN = "open"
CLOSE = "close"

_COLUMNS = """id, activation_id, community_id, action, state, attempts, steps, last_error,
              next_attempt_at, created_at"""

_INSERT = """
    INSERT OR IGNORE INTO activation_intents
        (activation_id, community_id, action, state, created_at, updated_at)
    VALUES (:id, :community_id, :intent, 'pending', :now, :now)
"""
# A closing intent supersedes an opening one that never finished: nothing is opened after the end.
_DROP_OPENING = """
    UPDATE activation_intents SET state = 'dropped', updated_at = :now
     WHERE activation_id = :id AND action = 'open' AND state = 'pending'
"""


@dataclass(frozen=True)
class IntentRow:
    id: int
    activation_id: int
    community_id: int
    action: str
    state: str
    attempts: int
    steps: dict[str, Any] = field(default_factory=dict)
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime | None = None


def _intent(row: Sequence[Any]) -> IntentRow:
    return IntentRow(
        id=int(row[0]),
        activation_id=int(row[1]),
        community_id=int(row[2]),
        action=str(row[3]),
        state=str(row[4]),
        attempts=int(row[5]),
        steps=json.loads(row[6] or "{}"),
        last_error=row[7],
        next_attempt_at=datetime.fromisoformat(row[8]) if row[8] else None,
        created_at=datetime.fromisoformat(row[9]) if row[9] else None,
    )


async def write_intent(db: Any, activation_id: int, community_id: int, intent: str, now: datetime) -> None:
    """Inside a caller's transaction: the intent (once), and a closing one drops an unfinished opening."""
    params = dict(id=activation_id, community_id=community_id, intent=intent, now=iso(now))
    if intent == CLOSE:
        await db.execute(_DROP_OPENING, params)
    await db.execute(_INSERT, params)


class IntentQueries(StoreBase):
    """Activation intents. Mixed into `bot.store.Store`."""

    async def ensure_intent(
        self, community_id: int, activation_id: int, intent: str, *, now: datetime
    ) -> IntentRow:
        """The intent, created if it does not exist yet (an activation from before intents existed)."""
        async with self.transaction() as db:
            await write_intent(db, activation_id, community_id, intent, now)
        found = await self.intent_for(activation_id, intent)
        assert found is not None
        return found

    async def intent_for(self, activation_id: int, intent: str) -> IntentRow | None:
        sql = f"SELECT {_COLUMNS} FROM activation_intents WHERE activation_id = :a AND action = :i"
        async with self.db.execute(sql, dict(a=activation_id, i=intent)) as cur:
            row = await cur.fetchone()
        return _intent(row) if row else None

    async def intent_by_id(self, intent_id: int) -> IntentRow | None:
        sql = f"SELECT {_COLUMNS} FROM activation_intents WHERE id = :id"
        async with self.db.execute(sql, dict(id=intent_id)) as cur:
            row = await cur.fetchone()
        return _intent(row) if row else None

    async def pending_intents(self) -> list[IntentRow]:
        """Every intent not done yet, of every community, oldest first (what start-up catches up)."""
        sql = f"SELECT {_COLUMNS} FROM activation_intents WHERE state = 'pending' ORDER BY id"
        async with self.db.execute(sql) as cur:
            return [_intent(r) for r in await cur.fetchall()]

    async def unfinished_intents(self, community_id: int, activation_id: int) -> list[IntentRow]:
        """Intents of one activation that are pending or failed, oldest first."""
        sql = f"""SELECT {_COLUMNS} FROM activation_intents
                   WHERE activation_id = :a AND community_id = :c AND state IN ('pending', 'failed')
                   ORDER BY id"""
        async with self.db.execute(sql, dict(a=activation_id, c=community_id)) as cur:
            return [_intent(r) for r in await cur.fetchall()]

    async def start_intent_attempt(self, intent_id: int, *, now: datetime) -> int:
        """Count an attempt before any of it reaches the platform; returns the attempt's number."""
        rows = await self.write_returning(
            """UPDATE activation_intents SET attempts = attempts + 1, updated_at = :now
                WHERE id = :id AND state = 'pending' RETURNING attempts""",
            dict(id=intent_id, now=iso(now)),
        )
        return int(rows[0][0]) if rows else 0

    async def record_intent_step(self, intent_id: int, steps: dict[str, Any], *, now: datetime) -> None:
        """The steps done so far (each step's result), written as soon as a step succeeds."""
        await self.write(
            "UPDATE activation_intents SET steps = :steps, updated_at = :now WHERE id = :id",
            dict(id=intent_id, steps=json.dumps(steps, sort_keys=True), now=iso(now)),
        )

    async def postpone_intent(
        self, intent_id: int, *, error: str, next_attempt_at: datetime, now: datetime
    ) -> None:
        await self.write(
            """UPDATE activation_intents SET last_error = :error, next_attempt_at = :next, updated_at = :now
                WHERE id = :id AND state = 'pending'""",
            dict(id=intent_id, error=error[:500], next=iso(next_attempt_at), now=iso(now)),
        )

    async def fail_intent(self, intent_id: int, *, error: str, now: datetime) -> bool:
        """A permanent refusal: stop retrying. False if it was not pending any more."""
        cur = await self.write(
            """UPDATE activation_intents SET state = 'failed', last_error = :error, next_attempt_at = NULL,
                      updated_at = :now
                WHERE id = :id AND state = 'pending'""",
            dict(id=intent_id, error=error[:500], now=iso(now)),
        )
        return cur.rowcount == 1

    async def rearm_intent(self, intent_id: int, *, now: datetime) -> bool:
        """A failed intent pending again (a moderator's retry). Its attempts and finished steps are kept:
        the next attempt still looks for a post an earlier one may have made. Its retries count from now
        (`created_at`: `GIVE_UP` is measured from it). False if it was not failed."""
        cur = await self.write(
            """UPDATE activation_intents SET state = 'pending', next_attempt_at = NULL, updated_at = :now,
                      created_at = :now
                WHERE id = :id AND state = 'failed'""",
            dict(id=intent_id, now=iso(now)),
        )
        return cur.rowcount == 1

    async def drop_intent(self, intent_id: int, *, now: datetime) -> None:
        await self.write(
            """UPDATE activation_intents SET state = 'dropped', next_attempt_at = NULL, updated_at = :now
                WHERE id = :id AND state = 'pending'""",
            dict(id=intent_id, now=iso(now)),
        )

    async def complete_intent(self, intent: IntentRow, *, now: datetime) -> bool:
        """Done, once; an opening intent also marks its (still live) activation opened, in one
        guarded UPDATE of the same transaction."""
        params = dict(id=intent.id, a=intent.activation_id, now=iso(now))
        async with self.transaction() as db:
            cur = await db.execute(
                """UPDATE activation_intents SET state = 'done', done_at = :now, next_attempt_at = NULL,
                          updated_at = :now
                    WHERE id = :id AND state = 'pending'""",
                params,
            )
            done = cur.rowcount == 1
            if done and intent.action == OPEN:
                await db.execute(
                    """UPDATE activations SET opened_at = :now, updated_at = :now
                        WHERE id = :a AND state = 'live' AND opened_at IS NULL""",
                    params,
                )
        return done
