"""Side effects as durable intents: what an activation asks of the platform is finished or retried, never
silently lost.

Each transition that calls for platform work writes an *intent* in the same transaction (bot/store/
intents.py): ``open`` when an activation goes live (its opening post; a takeover's overwrite, topic and
announcement), ``close`` when a live one ends or is cancelled (a takeover's restore, the results or
closing post). `IntentRunner` then carries it out through the kind's ``on_live``/``on_end`` with a `Steps`
object, which records each step's result as soon as it succeeds, so another attempt only does what is
left:

- ``steps.do(name, action)`` runs an idempotent action (set an overwrite, a topic) once;
- ``steps.post(name, activation, channel, ...)`` publishes (through `Publisher`, so disclosed) with a
  nonce derived from the intent, and on a later attempt first looks for the message an interrupted
  request may already have made, so a retry or a restart never posts twice.

A failure the platform calls permanent (a missing permission, a deleted channel) stops the retries; a
transient one (5xx, 429, a broken connection, a restore that reads back wrong) is retried after
2 s, 4 s, 8 s … up to 10 min, by a scheduler job ``intent:{id}`` (replace_existing), and every pending
intent is caught up at start-up. One still failing `GIVE_UP` after its transition stops as well: what
fails for days is no passing fault. A moderator's ``/activation retry`` (`IntentRunner.retry_now`) makes
a stopped intent pending again and tries it at once. An activation counts as opened for members
(``opened_at``) only once its ``open`` intent is done. The community's report channel, when one is set,
hears about the first failure, the stop, and the recovery; the moderator who approved or cancelled hears
it in their reply (`ActivationService.problem`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar, cast

from bot import i18n
from bot.activations.disclosure import Publisher
from bot.activations.model import Activation, State
from bot.errors import ShuttingDown
from bot.platform import Platform, Posted
from bot.scheduler import Scheduler
from bot.store import IntentRow, Store
from bot.store.intents import CLOSE, OPEN

log = logging.getLogger(__name__)
#: How long past its retry time an intent counts as overdue (its own retry job was lost).
OVERDUE = timedelta(minutes=2)
#: How long after its transition (or a moderator's retry) an intent is retried at most, and in at least
#: how many attempts; then it is stopped as if refused.
GIVE_UP = timedelta(days=3)
GIVE_UP_ATTEMPTS = 10

__all__ = ["CLOSE", "GIVE_UP", "OPEN", "InFlight", "IntentRunner", "NotYet", "Problem", "Steps", "backoff"]

BASE_DELAY = 2.0  # seconds before the first retry
MAX_DELAY = 600.0  # never wait longer than this between tries
MAX_ASKED_WAIT = 3600.0  # ... unless the platform asked for longer, up to this
T = TypeVar("T")

#: Does an intent's work for one activation: the engine dispatches to the kind's `on_live` / `on_end`.
Perform = Callable[[Activation, str, "Steps"], Awaitable[None]]


def backoff(attempt: int, *, base: float = BASE_DELAY, cap: float = MAX_DELAY) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, …): doubling from `base` up to `cap`."""
    return float(min(cap, base * 2 ** min(max(0, attempt - 1), 60)))  # a bounded exponent: no overflow


def reason_text(lang: str, reason: str) -> str:
    """A failure's reason as moderators read it: a platform names a refusal it can explain by the
    catalog key of its explanation (told in their language), anything else in its own words."""
    return i18n.t(lang, reason) if reason in i18n.catalog("en") else i18n.isolate(reason)


class NotYet(Exception):
    """The platform is not (yet) in the state a step must reach, e.g. a restored channel read back
    differently: retried like a transient platform error."""


class InFlight:
    """Transitions and intent attempts under way, stopped together when the bot shuts down.

    Stopped before the platform connection and the database close: otherwise the work fails on them and
    is logged as an error, and records a failure the platform never had. A stopped attempt loses
    nothing: its transition is stored and its intent stays pending, caught up at the next start-up."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed = False

    async def run(self, work: Coroutine[Any, Any, T], default: T) -> T:
        """`work`'s result; `default` (without running it) once closed, or when it is stopped by
        `close` (a caller cancelled itself still gets CancelledError)."""
        if self.closed:
            work.close()
            return default
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self.closed and (current is None or not current.cancelling()):
                return default
            raise

    async def run_or_stop(self, work: Coroutine[Any, Any, T]) -> T:
        """`work`'s result for a caller that answers someone (a moderator's command): stopped like the
        rest, it raises `ShuttingDown` instead of returning a default the caller would report."""
        stopped = object()
        result = await self.run(work, stopped)
        if result is stopped:
            raise ShuttingDown("the bot is shutting down")
        return cast(T, result)

    async def close(self) -> None:
        self.closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass(frozen=True)
class Problem:
    """An activation's unfinished platform work, as moderators are told about it."""

    action: str  # OPEN or CLOSE
    reason: str
    permanent: bool
    attempts: int


class Steps:
    """One attempt at an intent. A step that succeeded in any earlier attempt is not done again."""

    def __init__(self, runner: IntentRunner, intent: IntentRow, attempt: int) -> None:
        self._runner = runner
        self.intent = intent
        self.attempt = attempt
        self._done: dict[str, Any] = dict(intent.steps)

    @property
    def retrying(self) -> bool:
        """An earlier attempt started: a request of it may have reached the platform unanswered."""
        return self.attempt > 1

    def done(self, name: str) -> bool:
        return name in self._done

    def nonce(self, name: str) -> str:
        return f"mv{self.intent.id}.{name}"[:25]

    async def _record(self, name: str, value: Any) -> None:
        self._done[name] = value
        await self._runner.store.record_intent_step(self.intent.id, self._done, now=self._runner.clock())

    async def do(self, name: str, action: Callable[[], Awaitable[T]]) -> T:
        """Run `action` unless this step is done; its (JSON-able) result is stored."""
        if name in self._done:
            return self._done[name]  # type: ignore[no-any-return]
        value = await action()
        await self._record(name, value)
        return value

    async def post(self, name: str, activation: Activation, channel_id: int, **parts: Any) -> Posted:
        """Publish once (disclosed, see `Publisher.post` for `parts`): on a retry, a message that an
        interrupted attempt already made is found and kept instead of posting again."""
        if name in self._done:
            kept = self._done[name]
            return Posted(int(kept["id"]), int(kept["channel_id"]), str(kept["link"]))
        posted = await self._runner.publisher.post_once(
            activation, channel_id, nonce=self.nonce(name), look=self.retrying, **parts
        )
        await self._record(name, asdict(posted))
        return posted


class IntentRunner:
    """Runs intents: once right after their transition, then on retry jobs and at start-up."""

    def __init__(
        self,
        store: Store,
        platform: Platform,
        publisher: Publisher,
        scheduler: Scheduler,
        *,
        clock: Callable[[], Any],
        perform: Perform,
        lock: Callable[[int], Any],
        default_locale: str = "en",
        owns: Callable[[int], bool] = lambda _community_id: True,
    ) -> None:
        self.store = store
        self.platform = platform
        self.publisher = publisher
        self.scheduler = scheduler
        self.clock = clock
        self.perform = perform
        self.lock = lock
        self.default_locale = default_locale
        # Sharded processes resume the intents of the communities on their own shards only.
        self.owns = owns
        self.base_delay = BASE_DELAY
        self.max_delay = MAX_DELAY
        self.max_asked_wait = MAX_ASKED_WAIT
        self.in_flight = InFlight()

    @staticmethod
    def job_id(intent_id: int) -> str:
        return f"intent:{intent_id}"

    async def run_for(self, activation: Activation) -> bool:
        """After a transition, with the activation's lock held: its pending intent for the new state.
        True when nothing is left to do."""
        action = OPEN if activation.state == State.LIVE else CLOSE
        intent = await self.store.intent_for(activation.id, action)
        if intent is None or intent.state != "pending":
            return True
        return await self.run(intent)

    async def ensure(self, activation: Activation, action: str) -> bool:
        """The intent for `action`, created if missing (activations from before intents existed), and
        run if pending. Takes the activation's lock. True when nothing is left to do."""
        async with self.lock(activation.id):
            intent = await self.store.ensure_intent(
                activation.community_id, activation.id, action, now=self.clock()
            )
            if intent.state != "pending":
                return True
            return await self.run(intent)

    async def retry(self, intent_id: int) -> bool:
        """What a retry job runs: the intent again if it is still pending."""
        intent = await self.store.intent_by_id(intent_id)
        if intent is None or intent.state != "pending":
            return True
        await self.platform.wait_until_ready()
        async with self.lock(intent.activation_id):
            intent = await self.store.intent_by_id(intent_id)
            if intent is None or intent.state != "pending":
                return True
            return await self.run(intent)

    async def resume(self, overdue_at: datetime | None = None) -> int:
        """Every pending intent once (failures schedule their own retries), at start-up; with
        `overdue_at`, only those whose retry was due well before then (their own job was lost).
        Returns how many finished."""
        finished = 0
        for intent in await self.store.pending_intents():
            if not self.owns(intent.community_id):
                continue
            due = intent.next_attempt_at
            if overdue_at is not None and due is not None and due > overdue_at - OVERDUE:
                continue
            try:
                finished += await self.retry(intent.id)
            except Exception:
                log.exception("intent %s: could not run; tried again later", intent.id)
        return finished

    async def retry_now(self, activation: Activation) -> bool | None:
        """A moderator's retry: the activation's unfinished intents, stopped ones pending again, each
        tried once now (a failure is retried or stopped as usual). None when nothing was unfinished;
        True when everything is done."""
        unfinished = await self.store.unfinished_intents(activation.community_id, activation.id)
        if not unfinished:
            return None
        done = True
        async with self.lock(activation.id):
            for intent in unfinished:
                if intent.state == "failed":
                    await self.store.rearm_intent(intent.id, now=self.clock())
                current = await self.store.intent_by_id(intent.id)
                if current is not None and current.state == "pending":
                    done = await self.run(current) and done
        return done

    async def run(self, intent: IntentRow) -> bool:
        """One attempt, the activation's lock held by the caller. Errors never escape: they are recorded,
        retried later or reported."""
        activation = await self.store.activation_by_id(intent.activation_id)
        if activation is None:
            return True
        if intent.action == OPEN and activation.state != State.LIVE:
            await self.store.drop_intent(intent.id, now=self.clock())  # over before it could open
            return True
        attempt = await self.store.start_intent_attempt(intent.id, now=self.clock())
        if attempt == 0:
            return True
        try:
            await self.perform(activation, intent.action, Steps(self, intent, attempt))
        except Exception as error:
            await self._failed(activation, intent, attempt, error)
            return False
        await self.store.complete_intent(intent, now=self.clock())
        if attempt > 1:
            log.info("activation %s: %s done after %s attempts", activation.id, intent.action, attempt)
            await self._tell(activation, intent.action, "done", attempts=attempt)
        return True

    async def _failed(
        self, activation: Activation, intent: IntentRow, attempt: int, error: Exception
    ) -> None:
        failure = self.platform.failure(error)
        if failure.permanent:
            log.warning(
                "activation %s: %s refused by the platform (%s); not retried",
                activation.id,
                intent.action,
                failure.logged,
            )
            if await self.store.fail_intent(intent.id, error=failure.reason, now=self.clock()):
                await self._tell(activation, intent.action, "failed", reason=failure.reason)
            return
        given_up = (
            intent.created_at is not None
            and self.clock() - intent.created_at >= GIVE_UP
            and attempt >= GIVE_UP_ATTEMPTS  # not on a first failure after days down, or after a retry
        )
        if given_up:
            log.warning(
                "activation %s: %s still failing after %s attempts (%s); not retried any more",
                activation.id, intent.action, attempt, failure.logged,
            )  # fmt: skip
            if await self.store.fail_intent(intent.id, error=failure.reason, now=self.clock()):
                reason = failure.reason
                await self._tell(activation, intent.action, "gave_up", reason=reason, attempts=attempt)
            return
        delay = backoff(attempt, base=self.base_delay, cap=self.max_delay)
        if failure.retry_after is not None:
            # The platform said how long to wait (Reddit's "try again in 9 minutes"): not sooner.
            delay = max(delay, min(failure.retry_after, self.max_asked_wait))
        await self.store.postpone_intent(
            intent.id,
            error=failure.reason,
            next_attempt_at=self.clock() + timedelta(seconds=delay),
            now=self.clock(),
        )
        self.scheduler.after(self.job_id(intent.id), delay, partial(self._retry_job, intent.id))
        log.warning(
            "activation %s: %s failed (attempt %s: %s); retrying in %.1f s",
            activation.id, intent.action, attempt, failure.logged, delay,
            exc_info=attempt == 1 and not failure.expected,  # a platform's 5xx needs no traceback
        )  # fmt: skip
        if attempt == 1:
            await self._tell(activation, intent.action, "retrying", reason=failure.reason)

    async def _retry_job(self, intent_id: int) -> None:
        await self.in_flight.run(self.retry(intent_id), True)

    async def problem(self, community_id: int, activation_id: int) -> Problem | None:
        """The activation's first unfinished intent that has failed at least once, if any."""
        for intent in await self.store.unfinished_intents(community_id, activation_id):
            if intent.state == "failed" or intent.last_error:
                return Problem(
                    intent.action, intent.last_error or "", intent.state == "failed", intent.attempts
                )
        return None

    def describe(self, lang: str, activation: Activation, problem: Problem) -> str:
        """A moderator's line about unfinished work, in their language."""
        effect = i18n.t(lang, f"activation.effect.{problem.action}")
        outcome = "failed" if problem.permanent else "retrying"
        return i18n.t(
            lang,
            f"activation.effect_{outcome}",
            id=activation.id,
            effect=effect,
            reason=reason_text(lang, problem.reason),
            attempts=problem.attempts,
            channel=self.platform.channel_link(activation.channel_id),
        )

    async def _tell(
        self, activation: Activation, action: str, outcome: str, *, reason: str = "", attempts: int = 0
    ) -> None:
        """A line in the community's report channel, if it has one (never fatal)."""
        settings = await self.store.get_settings(activation.community_id, default_locale=self.default_locale)
        if settings.report_channel_id is None:
            return
        lang = settings.locale
        text = i18n.t(
            lang,
            f"activation.effect_{outcome}",
            id=activation.id,
            effect=i18n.t(lang, f"activation.effect.{action}"),
            reason=reason_text(lang, reason),
            attempts=attempts,
            channel=self.platform.channel_link(activation.channel_id),
        )
        try:
            await self.publisher.post(activation, settings.report_channel_id, content=text)
        except Exception:
            log.warning("activation %s: could not post to the report channel", activation.id, exc_info=True)
