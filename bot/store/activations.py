"""SQL for brand activations (Q&A, giveaways, takeovers, codes). Mixed into `bot.store.Store`.

Every state change is one guarded UPDATE (``WHERE id = ? AND community_id = ? AND state = ?``) in the
same transaction as its row in the append-only `activation_transitions` log; the methods return
whether the change happened, so a duplicate job, a restart or two racing clicks act exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.activations import SPONSORED, Activation, State
from bot.ledger import iso
from bot.store.base import StoreBase
from bot.store.intents import write_intent
from bot.subreddits.ids import REDDIT_BIT

# Called inside the insert's transaction with the store's connection (aiosqlite's, or PgConnection).
AfterInsert = Callable[[Any, int], Awaitable[None]]
WindowCheck = Callable[[list[tuple[datetime, datetime]]], None]

_COLUMNS = """
    a.id, a.community_id, a.brand_id, a.kind, a.state, a.connection, a.title, a.channel_id,
    a.starts_at, a.ends_at, a.locale, a.config, a.created_by, a.created_at, a.approved_by, a.reason,
    a.message_id, a.thread_id, coalesce(b.name, ''), a.opened_at
"""
_SELECT = f"SELECT {_COLUMNS} FROM activations AS a LEFT JOIN brands AS b ON b.id = a.brand_id"
# A takeover whose taker may post in its channel: live, or over (ended, cancelled) while its channel is
# not put back yet (a restore still being retried leaves the taker's posting rights in place), unless a
# later takeover of the same taker and channel took that over.
_TAKER_POSTING = """a.kind = 'takeover' AND (a.state = 'live' OR (a.state IN ('ended', 'cancelled')
    AND EXISTS (SELECT 1 FROM takeover_snapshots AS s
                 WHERE s.activation_id = a.id AND s.restored_at IS NULL AND s.handed_to IS NULL)))"""
_SNAPSHOT = """SELECT s.activation_id, s.channel_id, s.taker_id, s.had_overwrite, s.overwrite_type,
                      s.overwrite_allow, s.overwrite_deny, s.topic, s.restored_at IS NOT NULL, s.handed_to
                 FROM takeover_snapshots AS s"""

_INSERT = """
    INSERT INTO activations
        (community_id, brand_id, kind, state, connection, title, channel_id, starts_at, ends_at, locale,
         config, created_by, created_at, updated_at)
    VALUES (:community_id, :brand_id, :kind, 'pending', :connection, :title, :channel_id, :starts_at,
            :ends_at, :locale, :config, :created_by, :now, :now)
    RETURNING id
"""
_LOG = """
    INSERT INTO activation_transitions
        (activation_id, community_id, from_state, to_state, actor_id, reason, at)
    VALUES (:id, :community_id, :from_state, :to_state, :actor, :reason, :now)
"""
_WINDOWS = """
    SELECT starts_at, ends_at FROM activations
     WHERE community_id = :community_id AND id <> :exclude AND brand_id IS NOT NULL
       AND state IN ({states})
""".format(states=", ".join(f"'{s.value}'" for s in SPONSORED))


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _snapshot(row: Any) -> TakeoverSnapshot:
    return TakeoverSnapshot(
        activation_id=int(row[0]),
        channel_id=int(row[1]),
        taker_id=int(row[2]),
        had_overwrite=bool(row[3]),
        overwrite_type=int(row[4]) if row[4] is not None else None,
        allow=row[5],
        deny=row[6],
        topic=row[7],
        restored=bool(row[8]),
        handed_to=int(row[9]) if row[9] is not None else None,
    )


def _activation(row: Sequence[Any]) -> Activation:
    return Activation(
        id=int(row[0]),
        community_id=int(row[1]),
        brand_id=int(row[2]) if row[2] is not None else None,
        kind=str(row[3]),
        state=str(row[4]),
        connection=str(row[5]),
        title=str(row[6]),
        channel_id=int(row[7]),
        starts_at=_dt(row[8]),
        ends_at=_dt(row[9]),
        locale=str(row[10]),
        config=json.loads(row[11] or "{}"),
        created_by=int(row[12]),
        created_at=_dt(row[13]) if row[13] else None,
        approved_by=int(row[14]) if row[14] is not None else None,
        reason=row[15],
        message_id=int(row[16]) if row[16] is not None else None,
        thread_id=int(row[17]) if row[17] is not None else None,
        brand_name=str(row[18]),
        opened_at=_dt(row[19]) if row[19] else None,
    )


@dataclass(frozen=True)
class Question:
    id: int
    activation_id: int
    community_id: int
    author_id: int
    body: str
    message_id: int | None
    hidden: bool
    answered: bool
    votes: int


@dataclass(frozen=True)
class QaSummary:
    questions: int
    answered: int
    hidden: int
    participants: int
    top: list[Question]


@dataclass(frozen=True)
class TakeoverSnapshot:
    activation_id: int
    channel_id: int
    taker_id: int
    had_overwrite: bool
    overwrite_type: int | None
    allow: str | None
    deny: str | None
    topic: str | None
    restored: bool
    handed_to: int | None = None  # the later takeover that puts the channel back instead


_QUESTION = """
    SELECT q.id, q.activation_id, q.community_id, q.author_id, q.body, q.message_id,
           q.hidden_at IS NOT NULL, q.answered_at IS NOT NULL,
           (SELECT count(*) FROM qa_votes AS v WHERE v.question_id = q.id)
      FROM qa_questions AS q
"""


def _question(row: Sequence[Any]) -> Question:
    return Question(
        id=int(row[0]),
        activation_id=int(row[1]),
        community_id=int(row[2]),
        author_id=int(row[3]),
        body=str(row[4]),
        message_id=int(row[5]) if row[5] is not None else None,
        hidden=bool(row[6]),
        answered=bool(row[7]),
        votes=int(row[8]),
    )


class ActivationQueries(StoreBase):
    """Activations and everything hanging off them. Mixed into `bot.store.Store`."""

    _activation_watchers: list[Callable[[int], None]] | None = None

    def watch_activations(self, changed: Callable[[int], None]) -> None:
        """Call `changed(community_id)` after an activation of that community changed state or got
        its post (what in-memory views of live activations, such as `LiveTakeovers`, depend on)."""
        if self._activation_watchers is None:
            self._activation_watchers = []
        self._activation_watchers.append(changed)

    def _activation_changed(self, community_id: int) -> None:
        for changed in self._activation_watchers or ():
            changed(community_id)

    async def live_takeover_channels(self) -> list[tuple[int, int]]:
        """(community, channel) of every takeover whose taker may post (`_TAKER_POSTING`): its channel,
        and its thread if it has one."""
        rows = await self.fetch_all(
            f"SELECT a.community_id, a.channel_id FROM activations AS a WHERE {_TAKER_POSTING}"
            f" UNION SELECT a.community_id, a.thread_id FROM activations AS a"
            f" WHERE {_TAKER_POSTING} AND a.thread_id IS NOT NULL"
        )
        return [(int(c), int(ch)) for c, ch in rows]

    async def live_takeover_channels_of(self, community_id: int) -> set[int]:
        return {ch for c, ch in await self.live_takeover_channels() if c == community_id}

    # -- activations --------------------------------------------------------------------------------

    async def _windows(self, community_id: int, exclude: int) -> list[tuple[datetime, datetime]]:
        async with self.db.execute(_WINDOWS, dict(community_id=community_id, exclude=exclude)) as cur:
            return [(_dt(s), _dt(e)) for s, e in await cur.fetchall()]

    async def insert_activation(
        self,
        *,
        community_id: int,
        brand_id: int | None,
        kind: str,
        connection: str,
        title: str,
        channel_id: int,
        starts_at: datetime,
        ends_at: datetime,
        locale: str,
        config: dict[str, Any],
        created_by: int,
        now: datetime,
        check_windows: WindowCheck | None = None,
        after_insert: AfterInsert | None = None,
    ) -> int:
        """Insert a pending activation, its first log row and whatever `after_insert` writes, atomically.

        `check_windows` sees the approved windows of the community inside the transaction and may raise
        (the saturation guard); anything raised rolls everything back.
        """
        params = dict(
            community_id=community_id,
            brand_id=brand_id,
            kind=kind,
            connection=connection,
            title=title,
            channel_id=channel_id,
            starts_at=iso(starts_at),
            ends_at=iso(ends_at),
            locale=locale,
            config=json.dumps(config, sort_keys=True),
            created_by=created_by,
            now=iso(now),
        )
        async with self.transaction():
            if check_windows is not None:
                check_windows(await self._windows(community_id, exclude=0))
            async with self.db.execute(_INSERT, params) as cur:
                activation_id = int((await cur.fetchone())[0])
            await self.db.execute(
                _LOG,
                dict(
                    id=activation_id,
                    community_id=community_id,
                    from_state=None,
                    to_state=State.PENDING.value,
                    actor=created_by,
                    reason=None,
                    now=iso(now),
                ),
            )
            if after_insert is not None:
                await after_insert(self.db, activation_id)
        return activation_id

    async def get_activation(self, community_id: int, activation_id: int) -> Activation | None:
        sql = f"{_SELECT} WHERE a.id = :id AND a.community_id = :community_id"
        async with self.db.execute(sql, dict(id=activation_id, community_id=community_id)) as cur:
            row = await cur.fetchone()
        return _activation(row) if row else None

    async def activation_by_id(self, activation_id: int) -> Activation | None:
        """For the scheduler, which is not acting for one community."""
        async with self.db.execute(f"{_SELECT} WHERE a.id = :id", dict(id=activation_id)) as cur:
            row = await cur.fetchone()
        return _activation(row) if row else None

    async def activation_by_message(self, community_id: int, message_id: int) -> Activation | None:
        sql = f"{_SELECT} WHERE a.community_id = :community_id AND a.message_id = :message_id"
        async with self.db.execute(sql, dict(community_id=community_id, message_id=message_id)) as cur:
            row = await cur.fetchone()
        return _activation(row) if row else None

    async def list_activations(
        self,
        community_id: int,
        *,
        brand_ids: Sequence[int] | None = None,
        kind: str | None = None,
        states: Sequence[str] | None = None,
        limit: int = 25,
    ) -> list[Activation]:
        """Newest first; `brand_ids` limits the list to those brands (a brand manager's view), `kind` and
        `states` to those kinds and states."""
        params: dict[str, Any] = dict(community_id=community_id, limit=limit)
        where = "a.community_id = :community_id"
        if kind is not None:
            where += " AND a.kind = :kind"
            params["kind"] = kind
        if states is not None:
            marks = ", ".join(f":s{i}" for i in range(len(states))) or "NULL"
            where += f" AND a.state IN ({marks})"
            params.update({f"s{i}": s for i, s in enumerate(states)})
        if brand_ids is not None:
            marks = ", ".join(f":b{i}" for i in range(len(brand_ids))) or "NULL"
            where += f" AND a.brand_id IN ({marks})"
            params.update({f"b{i}": b for i, b in enumerate(brand_ids)})
        sql = f"{_SELECT} WHERE {where} ORDER BY a.starts_at DESC, a.id DESC LIMIT :limit"
        async with self.db.execute(sql, params) as cur:
            return [_activation(r) for r in await cur.fetchall()]

    async def open_activations(self) -> list[Activation]:
        """Scheduled and live activations of every community: what the scheduler must track."""
        sql = f"{_SELECT} WHERE a.state IN ('scheduled', 'live') ORDER BY a.id"
        async with self.db.execute(sql) as cur:
            return [_activation(r) for r in await cur.fetchall()]

    async def takeovers_in_channel(self, community_id: int, channel_id: int) -> list[Activation]:
        """The takeovers of this channel whose taker may post in it (`_TAKER_POSTING`), live ones first."""
        sql = f"""{_SELECT} WHERE a.community_id = :c AND (a.channel_id = :ch OR a.thread_id = :ch)
                   AND {_TAKER_POSTING} ORDER BY a.state = 'live' DESC, a.id"""
        async with self.db.execute(sql, dict(c=community_id, ch=channel_id)) as cur:
            return [_activation(row) for row in await cur.fetchall()]

    async def brand_activations(self, community_id: int, brand_id: int, states: tuple[str, ...]) -> list[int]:
        """The ids of a brand's activations in one of `states`, oldest first."""
        marks = ", ".join(f":s{i}" for i in range(len(states)))
        params: dict[str, object] = {f"s{i}": state for i, state in enumerate(states)}
        rows = await self.fetch_all(
            f"""SELECT id FROM activations WHERE community_id = :c AND brand_id = :b AND state IN ({marks})
                 ORDER BY id""",
            dict(params, c=community_id, b=brand_id),
        )
        return [int(r[0]) for r in rows]

    async def takeovers_posting(self) -> list[Activation]:
        """Every takeover whose taker may post in its channel (`_TAKER_POSTING`), of every community."""
        async with self.db.execute(f"{_SELECT} WHERE {_TAKER_POSTING} ORDER BY a.id") as cur:
            return [_activation(row) for row in await cur.fetchall()]

    async def live_activation_in_channel(
        self, community_id: int, channel_id: int, kind: str
    ) -> Activation | None:
        sql = f"""{_SELECT} WHERE a.community_id = :c AND a.state = 'live' AND a.kind = :kind
                   AND (a.channel_id = :ch OR a.thread_id = :ch) ORDER BY a.id LIMIT 1"""
        async with self.db.execute(sql, dict(c=community_id, ch=channel_id, kind=kind)) as cur:
            row = await cur.fetchone()
        return _activation(row) if row else None

    async def transition_activation(
        self,
        community_id: int,
        activation_id: int,
        from_state: str,
        to_state: str,
        *,
        actor: int | None,
        now: datetime,
        reason: str | None = None,
        intent: str | None = None,
    ) -> bool:
        """One guarded UPDATE plus its log row; False (nothing written) if the state was not `from_state`.

        `intent` ('open' or 'close', bot/store/intents.py) is written in the same transaction: the
        platform work the new state calls for is never lost to a stop right after the transition."""
        params = dict(
            id=activation_id,
            community_id=community_id,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            reason=reason,
            now=iso(now),
        )
        approving = to_state == State.SCHEDULED.value
        sets = "state = :to_state, updated_at = :now"
        if approving:
            sets += ", approved_by = :actor, approved_at = :now"
        if reason is not None:
            sets += ", reason = :reason"
        if to_state == State.ENDED.value:
            # Ended early (a moderator's `/giveaway end`): it ended now, not at its planned end. What is
            # finished later (a draw after a restart) reads its entries up to this moment, no further.
            sets += ", ends_at = CASE WHEN ends_at > :now AND starts_at < :now THEN :now ELSE ends_at END"
        sql = f"""UPDATE activations SET {sets}
                   WHERE id = :id AND community_id = :community_id AND state = :from_state"""
        async with self.transaction():
            cur = await self.db.execute(sql, params)
            done = cur.rowcount == 1
            if done:
                await self.db.execute(_LOG, params)
                if intent is not None:
                    await write_intent(self.db, activation_id, community_id, intent, now)
        if done:
            self._activation_changed(community_id)
        return done

    async def approve_activation(
        self,
        community_id: int,
        activation_id: int,
        *,
        by: int,
        now: datetime,
        check_windows: WindowCheck,
    ) -> bool:
        """pending -> scheduled, with the saturation guard read and applied in the same transaction.

        An activation in a subreddit is approved only while the subreddit is still bound to the community:
        the condition is the UPDATE's own, so an unbinding committing first is seen (it waits for, or
        is waited for by, this statement: `unbind_subreddit`), and False is returned."""
        params = dict(
            id=activation_id,
            community_id=community_id,
            from_state=State.PENDING.value,
            to_state=State.SCHEDULED.value,
            actor=by,
            reason=None,
            now=iso(now),
            reddit_bit=REDDIT_BIT,
        )
        async with self.transaction():
            check_windows(await self._windows(community_id, exclude=activation_id))
            cur = await self.db.execute(
                """UPDATE activations SET state = :to_state, approved_by = :actor, approved_at = :now,
                          updated_at = :now
                    WHERE id = :id AND community_id = :community_id AND state = :from_state
                      AND (channel_id < :reddit_bit OR EXISTS (
                           SELECT 1 FROM reddit_subreddits s
                            WHERE s.subreddit_id = activations.channel_id
                              AND s.community_id = activations.community_id))""",
                params,
            )
            done = cur.rowcount == 1
            if done:
                await self.db.execute(_LOG, params)
        return done

    async def set_activation_post(
        self, community_id: int, activation_id: int, *, message_id: int, thread_id: int | None = None
    ) -> None:
        await self.write(
            """UPDATE activations SET message_id = :message_id, thread_id = coalesce(:thread_id, thread_id)
                WHERE id = :id AND community_id = :community_id""",
            dict(id=activation_id, community_id=community_id, message_id=message_id, thread_id=thread_id),
        )
        self._activation_changed(community_id)

    async def activation_log(self, activation_id: int) -> list[tuple[str | None, str, int | None, str]]:
        """(from, to, actor, at) in order."""
        sql = """SELECT from_state, to_state, actor_id, at FROM activation_transitions
                  WHERE activation_id = :id ORDER BY id"""
        async with self.db.execute(sql, dict(id=activation_id)) as cur:
            return [(r[0], str(r[1]), r[2], str(r[3])) for r in await cur.fetchall()]

    async def brand_status(self, community_id: int, brand_id: int) -> tuple[str, str] | None:
        """(name, status) of a brand of this community."""
        sql = "SELECT name, status FROM brands WHERE id = :b AND community_id = :c"
        async with self.db.execute(sql, dict(b=brand_id, c=community_id)) as cur:
            row = await cur.fetchone()
        return (str(row[0]), str(row[1])) if row else None

    async def approved_brands(self, community_id: int) -> list[tuple[int, str]]:
        sql = "SELECT id, name FROM brands WHERE community_id = :c AND status = 'approved' ORDER BY name"
        async with self.db.execute(sql, dict(c=community_id)) as cur:
            return [(int(r[0]), str(r[1])) for r in await cur.fetchall()]

    # -- Q&A ----------------------------------------------------------------------------------------

    async def add_question(
        self, community_id: int, activation_id: int, author_id: int, body: str, *, now: datetime
    ) -> int:
        rows = await self.write_returning(
            """INSERT INTO qa_questions (activation_id, community_id, author_id, body, created_at)
               SELECT id, community_id, CAST(:m AS BIGINT), :body, :now FROM activations
                WHERE id = :a AND community_id = :c AND state = 'live' AND ends_at > :now
               RETURNING id""",
            dict(a=activation_id, c=community_id, m=author_id, body=body, now=iso(now)),
        )
        return int(rows[0][0]) if rows else 0

    async def set_question_message(self, community_id: int, question_id: int, message_id: int) -> None:
        await self.write(
            "UPDATE qa_questions SET message_id = :mid WHERE id = :q AND community_id = :c",
            dict(mid=message_id, q=question_id, c=community_id),
        )

    async def get_question(self, community_id: int, question_id: int) -> Question | None:
        sql = f"{_QUESTION} WHERE q.id = :q AND q.community_id = :c"
        async with self.db.execute(sql, dict(q=question_id, c=community_id)) as cur:
            row = await cur.fetchone()
        return _question(row) if row else None

    async def question_by_message(self, community_id: int, message_id: int) -> Question | None:
        sql = f"{_QUESTION} WHERE q.message_id = :mid AND q.community_id = :c"
        async with self.db.execute(sql, dict(mid=message_id, c=community_id)) as cur:
            row = await cur.fetchone()
        return _question(row) if row else None

    async def toggle_vote(
        self, community_id: int, question_id: int, member_id: int, *, now: datetime
    ) -> bool:
        """Add the member's vote, or take it back if they had one; True if they now vote for it."""
        params = dict(q=question_id, c=community_id, m=member_id, now=iso(now))
        async with self.transaction():
            cur = await self.db.execute(
                "DELETE FROM qa_votes WHERE question_id = :q AND community_id = :c AND member_id = :m", params
            )
            voted = cur.rowcount == 0
            if voted:
                await self.db.execute(
                    """INSERT INTO qa_votes (question_id, community_id, member_id, created_at)
                       VALUES (:q, :c, :m, :now)""",
                    params,
                )
        return voted

    async def hide_question(self, community_id: int, question_id: int, *, by: int, now: datetime) -> bool:
        cur = await self.write(
            """UPDATE qa_questions SET hidden_at = :now, hidden_by = :by
                WHERE id = :q AND community_id = :c AND hidden_at IS NULL""",
            dict(q=question_id, c=community_id, by=by, now=iso(now)),
        )
        return cur.rowcount == 1

    async def answer_question(self, community_id: int, question_id: int, *, by: int, now: datetime) -> bool:
        """Claim the question for an answer (once); the answer's message id is stored afterwards."""
        cur = await self.write(
            """UPDATE qa_questions SET answered_at = :now, answered_by = :by
                WHERE id = :q AND community_id = :c AND answered_at IS NULL AND hidden_at IS NULL""",
            dict(q=question_id, c=community_id, by=by, now=iso(now)),
        )
        return cur.rowcount == 1

    async def unclaim_answer(self, community_id: int, question_id: int) -> None:
        """Posting the answer failed: let it be answered again."""
        await self.write(
            """UPDATE qa_questions SET answered_at = NULL, answered_by = NULL
                WHERE id = :q AND community_id = :c AND answer_message_id IS NULL""",
            dict(q=question_id, c=community_id),
        )

    async def set_answer_message(self, community_id: int, question_id: int, message_id: int) -> None:
        await self.write(
            "UPDATE qa_questions SET answer_message_id = :mid WHERE id = :q AND community_id = :c",
            dict(mid=message_id, q=question_id, c=community_id),
        )

    async def qa_summary(self, community_id: int, activation_id: int, *, top: int = 5) -> QaSummary:
        params = dict(a=activation_id, c=community_id, top=top)
        async with self.db.execute(
            """SELECT count(*), count(answered_at), count(hidden_at) FROM qa_questions
                WHERE activation_id = :a AND community_id = :c""",
            params,
        ) as cur:
            row = await cur.fetchone()
        questions, answered, hidden = (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)
        async with self.db.execute(
            """SELECT count(*) FROM (
                   SELECT author_id FROM qa_questions WHERE activation_id = :a AND community_id = :c
                   UNION
                   SELECT v.member_id FROM qa_votes AS v JOIN qa_questions AS q ON q.id = v.question_id
                    WHERE q.activation_id = :a AND q.community_id = :c) AS participants""",
            params,
        ) as cur:
            row = await cur.fetchone()
        participants = int(row[0]) if row else 0
        sql = f"""{_QUESTION} WHERE q.activation_id = :a AND q.community_id = :c AND q.hidden_at IS NULL
                   ORDER BY 9 DESC, q.id LIMIT :top"""
        async with self.db.execute(sql, params) as cur:
            best = [_question(r) for r in await cur.fetchall()]
        return QaSummary(questions, answered, hidden, participants, best)

    # -- takeovers ----------------------------------------------------------------------------------

    async def save_takeover_snapshot(
        self,
        community_id: int,
        activation_id: int,
        *,
        channel_id: int,
        taker_id: int,
        overwrite: tuple[int, str, str] | None,
        topic: str | None,
        now: datetime,
        carried_from: int | None = None,
    ) -> TakeoverSnapshot:
        """Keep the channel's state from before the takeover. The first snapshot wins: a retried start
        must never record the already-changed channel as 'before'. `carried_from`: the earlier takeover
        whose unrestored copy this one is; putting the channel back is handed over from it in the same
        transaction."""
        async with self.transaction() as db:
            cur = await db.execute(
                """INSERT OR IGNORE INTO takeover_snapshots
                       (activation_id, community_id, channel_id, taker_id, had_overwrite, overwrite_type,
                        overwrite_allow, overwrite_deny, topic, taken_at)
                   VALUES (:a, :c, :ch, :taker, :had, :type, :allow, :deny, :topic, :now)""",
                dict(
                    a=activation_id,
                    c=community_id,
                    ch=channel_id,
                    taker=taker_id,
                    had=int(overwrite is not None),
                    type=overwrite[0] if overwrite else None,
                    allow=overwrite[1] if overwrite else None,
                    deny=overwrite[2] if overwrite else None,
                    topic=topic,
                    now=iso(now),
                ),
            )
            if cur.rowcount == 1 and carried_from is not None:
                await db.execute(
                    """UPDATE takeover_snapshots SET handed_to = :a
                        WHERE activation_id = :earlier AND community_id = :c
                          AND restored_at IS NULL AND handed_to IS NULL""",
                    dict(a=activation_id, earlier=carried_from, c=community_id),
                )
        if carried_from is not None:
            self._activation_changed(community_id)  # the earlier takeover's taker no longer posts for it
        snapshot = await self.takeover_snapshot(community_id, activation_id)
        assert snapshot is not None
        return snapshot

    async def takeover_snapshot(self, community_id: int, activation_id: int) -> TakeoverSnapshot | None:
        sql = f"{_SNAPSHOT} WHERE s.activation_id = :a AND s.community_id = :c"
        async with self.db.execute(sql, dict(a=activation_id, c=community_id)) as cur:
            row = await cur.fetchone()
        return _snapshot(row) if row is not None else None

    async def unrestored_takeover(
        self, community_id: int, channel_id: int, taker_id: int, *, before: int
    ) -> TakeoverSnapshot | None:
        """The stored copy of the channel from an earlier takeover of the same taker and channel that is
        over but never put it back (its restore refused, or still being retried), and whose putting back
        no other takeover took over; the oldest, whose copy is the channel's original."""
        sql = f"""{_SNAPSHOT} JOIN activations AS a ON a.id = s.activation_id
                   WHERE s.community_id = :c AND s.channel_id = :ch AND s.taker_id = :taker
                     AND s.activation_id < :before AND s.restored_at IS NULL AND s.handed_to IS NULL
                     AND a.state IN ('ended', 'cancelled')
                   ORDER BY s.activation_id LIMIT 1"""
        params = dict(c=community_id, ch=channel_id, taker=taker_id, before=before)
        async with self.db.execute(sql, params) as cur:
            row = await cur.fetchone()
        return _snapshot(row) if row is not None else None

    async def mark_takeover_restored(self, community_id: int, activation_id: int, *, now: datetime) -> bool:
        """The channel is put back: for this takeover, and for any earlier one that handed it over."""
        cur = await self.write(
            """UPDATE takeover_snapshots SET restored_at = :now
                WHERE (activation_id = :a OR handed_to = :a) AND community_id = :c AND restored_at IS NULL""",
            dict(a=activation_id, c=community_id, now=iso(now)),
        )
        self._activation_changed(community_id)  # its taker no longer posts there
        return cur.rowcount >= 1

    async def forget_takeover_post(self, activation_id: int, source_message_id: int) -> None:
        """A taker's message whose disclosure could not be made: not counted as disclosed."""
        await self.write(
            "DELETE FROM takeover_posts WHERE activation_id = :a AND source_message_id = :src",
            dict(a=activation_id, src=source_message_id),
        )

    async def record_takeover_post(
        self,
        community_id: int,
        activation_id: int,
        *,
        source_message_id: int,
        author_id: int,
        mode: str,
        disclosed_message_id: int | None,
        now: datetime,
    ) -> bool:
        cur = await self.write(
            """INSERT OR IGNORE INTO takeover_posts
                   (activation_id, community_id, source_message_id, author_id, mode, disclosed_message_id,
                    created_at)
               VALUES (:a, :c, :src, :author, :mode, :disclosed, :now)""",
            dict(
                a=activation_id,
                c=community_id,
                src=source_message_id,
                author=author_id,
                mode=mode,
                disclosed=disclosed_message_id,
                now=iso(now),
            ),
        )
        return cur.rowcount == 1
