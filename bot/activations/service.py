"""The activation engine: proposing, approving, rejecting and cancelling activations, running them on
time, and the registry of kinds (Q&A, giveaway, takeover) that do the kind-specific work.

How a kind plugs in: a plain service object registered with `ActivationService.register(kind, obj)`
(per platform: ``register(kind, obj, platform="reddit")`` for the same kind run in a subreddit; the
engine picks the handler and the platform from the activation's channel, so the saturation guard, the
states and the jobs are one for both platforms).
``obj.on_live(activation, steps)`` does what going live takes (the opening post, ...) after the guarded
scheduled→live transition, ``obj.on_end(activation, steps)`` what ending takes after live→ended *or*
live→cancelled (``activation.state`` says which). Both run as durable intents (bot/activations/
intents.py): written in the transition's transaction, retried until done and caught up at start-up,
each step through ``steps`` done once. ``obj.describe(activation, lang)`` adds lines to ``/activation
show`` (an optional async ``obj.describe_more(activation, lang)`` adds lines it reads from the store);
an optional ``obj.recover()`` runs once at start-up after the catch-up. A kind creates its
activations with `ActivationService.create`, which makes every shared check, and publishes only through
`Publisher` (bot/activations/disclosure.py), which adds the disclosure.

An activation is *live* from its start, but members see it open only once its opening intent is done
(``opened_at``; shown as "opening" until then), and a moderator hears when it is not (`problem`).

Timing: jobs ``activation:{id}:start`` / ``activation:{id}:end`` on the app's scheduler are rebuilt from
the database by `start()`; whatever came due while the bot was down is caught up once the platform is
ready. Every transition is a guarded UPDATE, so a duplicate job can never run a hook twice; a brand
that stopped being approved before its activation starts gets the activation cancelled instead.

Whatever else must happen when an activation ends on time, whatever its kind (its report to the
moderators), registers with `ActivationService.on_ended(listener)`: each listener is called once per
live→ended transition, after the closing intent was tried, outside the activation's lock; a listener's
failure is logged and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from bot import i18n
from bot.activations.disclosure import Publisher, community_label, sanitize_brand, tag_for
from bot.activations.intents import CLOSE, OPEN, IntentRunner, Problem, Steps
from bot.activations.model import (
    MIN_DURATION,
    REASON_MAX,
    TITLE_MAX,
    TRANSITIONS,
    Activation,
    ActivationError,
    State,
    check_saturation,
    format_time,
    parse_when,
    validate_kind,
    validate_schedule,
    validate_text,
)
from bot.audit import AuditLog
from bot.errors import Forbidden, InvalidInput
from bot.platform import Platform, PlatformRouter, PlatformUnavailable
from bot.scheduler import Scheduler
from bot.store import CommunitySettings, Store
from bot.subreddits.ids import fullname_of, is_reddit_id, thing_kind

log = logging.getLogger(__name__)

#: Why the engine cancelled an activation whose brand lost its approval before the start.
BRAND_NOT_APPROVED = "brand no longer approved"
#: The reason recorded when a moderator ends a live activation before its end time.
ENDED_EARLY = "ended early"
#: The reason recorded when the bot was down through an activation's whole window: nothing is posted
#: after its end (an opening then would announce what is already over).
MISSED = "missed while not running"
#: The reason recorded when a kind refused to start (`Kind.may_start`): a takeover's taker who is no
#: longer an opted-in partner, a contact of the brand or a member of the server.
TAKER_NOT_ELIGIBLE = "taker no longer eligible"
OWN_REASONS = {
    BRAND_NOT_APPROVED: "activation.brand_lapsed",
    ENDED_EARLY: "activation.ended_early",
    MISSED: "activation.missed",
    TAKER_NOT_ELIGIBLE: "activation.taker_lapsed",
}
#: The audit event of each reason the engine cancels an activation at its start for.
_CANCELLED_AT_START = {
    BRAND_NOT_APPROVED: "activation_lapsed",
    MISSED: "activation_missed",
    TAKER_NOT_ELIGIBLE: "activation_taker_lapsed",
}
#: How often overdue activations and intents are looked for (a job that failed or never ran).
SWEEP_JOB = "activations-sweep"
SWEEP_MINUTES = 5
#: Due activations a catch-up advances at once: side by side, so a hanging call holds back no other,
#: and bounded, so a start-up after long downtime does not open every one at the same moment.
DUE_AT_ONCE = 8


class Kind(Protocol):
    async def on_live(self, activation: Activation, steps: Steps) -> None: ...

    async def on_end(self, activation: Activation, steps: Steps) -> None: ...

    def describe(self, activation: Activation, lang: str) -> list[str]: ...

    # Optional: ``async def may_start(self, activation) -> bool``, False when the member the activation
    # names is no longer eligible: it is then cancelled at its start (`TAKER_NOT_ELIGIBLE`).


@dataclass(frozen=True)
class Actor:
    """Who asks, in which community. `is_moderator` comes from the platform's permissions (the adapter
    checks it); brand management is read from the store here."""

    community_id: int
    member_id: int
    is_moderator: bool = False


@dataclass(frozen=True)
class Proposal:
    """What every `/activation create <kind>` asks for. Times are datetimes or what a member typed."""

    brand_id: int | None  # None: a community giveaway (moderators only; no brand, not sponsored)
    channel_id: int
    starts: datetime | str
    ends: datetime | str
    title: str
    connection: str


@dataclass(frozen=True)
class Approval:
    activation: Activation
    starts_now: bool  # approved after its start time: `advance` it once the approval is answered


#: Writes the pending activation (the keyword arguments of `Store.insert_activation`); returns its id.
Insert = Callable[..., Awaitable[int]]
#: Called with an activation that has just ended on time (`ActivationService.on_ended`).
EndedListener = Callable[[Activation], Awaitable[None]]


class ActivationService:
    def __init__(
        self,
        store: Store,
        platform: Platform,
        scheduler: Scheduler,
        *,
        clock: Callable[[], datetime],
        default_locale: str = "en",
        audit: AuditLog | None = None,
        owns: Callable[[int], bool] = lambda _community_id: True,
    ) -> None:
        self.store = store
        self.audit = audit
        # Sharded processes run the scheduled work of the communities on their own shards only
        # (bot/shards.py); another process runs the rest, from the same database.
        self.owns = owns
        # Every call goes to the platform owning the activation's channel (Discord, or a subreddit).
        self.platform = platform if isinstance(platform, PlatformRouter) else PlatformRouter(platform)
        self.publisher = Publisher(self.platform)
        self.scheduler = scheduler
        self.clock = clock
        self.default_locale = default_locale
        self.booted = asyncio.Event()
        self._kinds: dict[tuple[str, str], Kind] = {}
        self._ended: list[EndedListener] = []
        self._locks: dict[int, asyncio.Lock] = {}
        self._boot_task: asyncio.Task[None] | None = None
        self.intents = IntentRunner(
            store,
            platform,
            self.publisher,
            scheduler,
            clock=clock,
            perform=self._perform,
            lock=self._lock,
            default_locale=default_locale,
            owns=owns,
        )

    # -- kinds and lifecycle ------------------------------------------------------------------------

    def register(self, kind: str, handler: Kind, *, platform: str = "discord") -> None:
        """Attach the hooks of one activation kind on one platform (replaces an earlier registration)."""
        self._kinds[(kind, platform)] = handler

    def kind(self, kind: str, platform: str = "discord") -> Kind | None:
        return self._kinds.get((kind, platform))

    def where(self, channel_id: int) -> str:
        """A channel as the platform owning it names it (a subreddit: r/name, where a Discord mention of
        it would show "#unknown"); its Reddit fullname while Reddit is not running here."""
        try:
            return self.platform.channel_link(channel_id)
        except PlatformUnavailable:
            return fullname_of(channel_id) if thing_kind(channel_id) else "Reddit"

    def platform_name(self, activation: Activation) -> str:
        """Which platform the activation runs on ("discord", "reddit"), from its channel."""
        return self.platform.name_of(activation.channel_id)

    def platform_for(self, activation: Activation) -> Platform:
        """The platform the activation runs on: what its kind renders mentions and times for."""
        return self.platform.for_channel(activation.channel_id)

    def handler_for(self, activation: Activation) -> Kind | None:
        return self.kind(activation.kind, self.platform_name(activation))

    def on_ended(self, listener: EndedListener) -> None:
        """Call `listener(activation)` after each activation that ends, on time or ended early by a
        moderator (not when cancelled)."""
        self._ended.append(listener)

    async def _tell_ended(self, activation: Activation) -> None:
        for listener in self._ended:
            try:
                await listener(activation)
            except Exception:
                log.exception("activation %s: a listener of its end failed", activation.id)

    async def start(self) -> None:
        """Arm the jobs of every open activation, and catch up in the background once the platform is up."""
        now = self.clock()
        for activation in await self.store.open_activations():
            if self.owns(activation.community_id) and activation.due(now) is None:
                self.schedule(activation)
        self._boot_task = asyncio.create_task(self._catch_up())

    async def close(self) -> None:
        """Stop the start-up catch-up and whatever transition or intent is under way (see `InFlight`)."""
        if self._boot_task is not None and not self._boot_task.done():
            self._boot_task.cancel()
        await self.intents.in_flight.close()

    async def _catch_up(self) -> None:
        """Whatever came due while the bot was down, then each kind's own recovery."""
        try:
            await self.platform.wait_until_ready()
            caught = await self.run_due()
            if caught:
                log.info("caught up %s activation transition(s) at start-up", caught)
            finished = await self.intents.resume()
            if finished:
                log.info("caught up %s unfinished activation intent(s) at start-up", finished)
            for (kind, _platform), handler in self._kinds.items():
                recover = getattr(handler, "recover", None)
                if recover is None:
                    continue
                try:
                    await recover()
                except Exception:
                    log.exception("%s: recovery at start-up failed", kind)
        finally:
            self.booted.set()

    async def note(
        self, activation: Activation, event: str, *, by: int | None = None, **params: object
    ) -> None:
        """One audit-log line about this activation (after the change it reports is stored)."""
        if self.audit is not None:
            channel = params.get("channel")
            if isinstance(channel, int):  # the audit log is on Discord: a subreddit is named, not mentioned
                params["channel"] = self.where(channel)
            await self.audit.record(
                activation.community_id,
                event,
                by=by,
                id=activation.id,
                kind=activation.kind,
                name=activation.title,
                **params,
            )

    async def community(self, community_id: int) -> CommunitySettings:
        return await self.store.get_settings(community_id, default_locale=self.default_locale)

    # -- who may act --------------------------------------------------------------------------------

    async def require_manager(self, actor: Actor, brand_id: int | None) -> None:
        """Moderators, or contacts of this (approved) brand; anyone else is refused. A community giveaway
        (no brand) is managed by moderators only."""
        if actor.is_moderator:
            return
        managed = await self.store.managed_brand_ids(actor.community_id, actor.member_id)
        if brand_id is None or brand_id not in managed:
            raise Forbidden("activation.error.not_manager")

    async def require_brand_manager(self, actor: Actor, brand_id: int | None) -> None:
        """Contacts of this (approved) brand only: for what is said in the brand's name (Q&A answers)."""
        managed = await self.store.managed_brand_ids(actor.community_id, actor.member_id)
        if brand_id is None or brand_id not in managed:
            raise Forbidden("activation.error.not_brand_manager")

    async def load(self, community_id: int, activation_id: int, *, missing: str = "") -> Activation:
        """The activation of this community, or InvalidInput (`missing`, or "no activation #id")."""
        activation = await self.store.get_activation(community_id, activation_id)
        if activation is None:
            if missing:
                raise InvalidInput(missing)
            raise InvalidInput("activation.error.not_found", id=activation_id)
        return activation

    async def managed(self, actor: Actor, activation_id: int, *, missing: str = "") -> Activation:
        """An activation the actor may manage (moderator, or a manager of its brand)."""
        activation = await self.load(actor.community_id, activation_id, missing=missing)
        await self.require_manager(actor, activation.brand_id)
        return activation

    async def brand_choices(self, actor: Actor, needle: str) -> list[tuple[int, str]]:
        """Approved brands the actor may act for (all of them for moderators) matching `needle`."""
        brands = await self.store.approved_brands(actor.community_id)
        if not actor.is_moderator:
            managed = set(await self.store.managed_brand_ids(actor.community_id, actor.member_id))
            brands = [(b, n) for b, n in brands if b in managed]
        text = needle.strip().lower()
        return [(b, n) for b, n in brands if not text or text in n.lower() or text == str(b)][:25]

    # -- proposing and deciding ---------------------------------------------------------------------

    async def create(
        self,
        actor: Actor,
        kind: str,
        proposal: Proposal,
        *,
        config: dict[str, Any],
        before_insert: Callable[[], Awaitable[None]] | None = None,
        insert: Insert | None = None,
    ) -> Activation:
        """Every check the kinds share, then one transaction inserting the activation as *pending*.

        `before_insert` runs after the shared checks (a kind's own check); `insert` replaces the plain
        insert when a kind writes more in the same transaction (`Store.insert_giveaway`). The saturation
        guard is read and applied inside that transaction."""
        community_id, now = actor.community_id, self.clock()
        validate_kind(kind, proposal.connection)
        title = validate_text(proposal.title, limit=TITLE_MAX, what="title")
        if proposal.brand_id is None:  # a community giveaway: not sponsored, so no saturation guard
            if kind != "giveaway":
                raise InvalidInput("giveaway.error.community_kind")
            if not actor.is_moderator:
                raise Forbidden("error.moderator_only")
        else:
            await self._require_approved_brand(community_id, proposal.brand_id)
            await self.require_manager(actor, proposal.brand_id)
        start, end = self._when(proposal.starts, now), self._when(proposal.ends, now)
        validate_schedule(start, end, now=now)
        community = await self.community(community_id)
        if before_insert is not None:
            await before_insert()
        activation_id = await (insert or self.store.insert_activation)(
            community_id=community_id,
            brand_id=proposal.brand_id,
            kind=kind,
            connection=proposal.connection,
            title=title,
            channel_id=proposal.channel_id,
            starts_at=start,
            ends_at=end,
            locale=community.locale,
            config=config,
            created_by=actor.member_id,
            now=now,
            check_windows=partial(self._guard, community, start, end) if proposal.brand_id else None,
        )
        log.info("activation %s (%s) proposed in %s", activation_id, kind, community_id)
        return await self.load(community_id, activation_id)

    @staticmethod
    def _when(value: datetime | str, now: datetime) -> datetime:
        return value if isinstance(value, datetime) else parse_when(value, now=now)

    def _guard(
        self,
        community: CommunitySettings,
        start: datetime,
        end: datetime,
        windows: list[tuple[datetime, datetime]],
    ) -> None:
        check_saturation(
            start,
            end,
            windows,
            max_per_week=community.max_sponsored_per_week,
            min_gap_hours=community.min_gap_hours,
            local_time=self.platform.timestamp,
        )

    async def _require_approved_brand(self, community_id: int, brand_id: int) -> None:
        brand = await self.store.brand_status(community_id, brand_id)
        if brand is None:
            raise InvalidInput("activation.error.unknown_brand", brand=brand_id)
        if brand[1] != "approved":
            raise InvalidInput("activation.error.brand_not_approved", brand=i18n.isolate(brand[0]))

    async def _bad_state(self, activation: Activation) -> ActivationError:
        lang = (await self.community(activation.community_id)).locale
        return ActivationError("activation.error.bad_state", state=state_label(lang, activation.state))

    async def approve(self, actor: Actor, activation_id: int) -> Approval:
        """pending → scheduled under the saturation guard; arms the start job (or says it starts now)."""
        activation = await self.load(actor.community_id, activation_id)
        if activation.state != State.PENDING:
            raise await self._bad_state(activation)
        if not await self._brand_still_approved(activation):
            raise InvalidInput(
                "activation.error.brand_not_approved", brand=i18n.isolate(activation.brand_name)
            )
        now = self.clock()
        if now >= activation.ends_at:
            raise InvalidInput("activation.error.window_passed")
        if activation.ends_at - max(now, activation.starts_at) < MIN_DURATION:  # it would open and close
            raise InvalidInput(
                "activation.error.window_nearly_over", minutes=int(MIN_DURATION.total_seconds() // 60)
            )
        community = await self.community(actor.community_id)
        guard: Callable[[list[tuple[datetime, datetime]]], None] = (
            partial(self._guard, community, activation.starts_at, activation.ends_at)
            if not activation.community
            else _unguarded
        )
        if not await self.store.approve_activation(
            actor.community_id, activation.id, by=actor.member_id, now=now, check_windows=guard
        ):
            # The store refuses a subreddit unbound meanwhile (its post could never be made there).
            if is_reddit_id(activation.channel_id):
                bound = await self.store.subreddit_by_id(activation.channel_id)
                if bound is None or bound.community_id != actor.community_id:
                    raise InvalidInput(
                        "activation.error.subreddit_unbound", where=self.where(activation.channel_id)
                    )
            raise ActivationError("activation.error.changed")
        approved = await self.load(actor.community_id, activation.id)
        await self.note(approved, "activation_approved", by=actor.member_id)
        starts_now = approved.due(now) is not None
        if not starts_now:
            self.schedule(approved)
        return Approval(approved, starts_now)

    async def reject(self, actor: Actor, activation_id: int, reason: str) -> Activation:
        why = validate_text(reason, limit=REASON_MAX, what="reason")
        activation = await self.load(actor.community_id, activation_id)
        if activation.state != State.PENDING:
            raise await self._bad_state(activation)
        if not await self.store.transition_activation(
            actor.community_id,
            activation.id,
            State.PENDING,
            State.REJECTED,
            actor=actor.member_id,
            now=self.clock(),
            reason=why,
        ):
            raise ActivationError("activation.error.changed")
        await self.note(activation, "activation_rejected", by=actor.member_id)
        return await self.load(actor.community_id, activation.id)

    async def cancel(self, actor: Actor, activation_id: int, reason: str | None) -> bool:
        """Cancel once (moderators, or the brand's managers); a live activation's closing intent runs at
        once (a takeover's channel is restored, or retried until it is: see `problem`). False if it
        changed in the meantime."""
        activation = await self.managed(actor, activation_id)
        why = validate_text(reason, limit=REASON_MAX, what="reason") if reason else None
        if State.CANCELLED not in TRANSITIONS[State(activation.state)]:
            raise await self._bad_state(activation)
        async with self._lock(activation.id):
            moved = await self.store.transition_activation(
                activation.community_id,
                activation.id,
                activation.state,
                State.CANCELLED,
                actor=actor.member_id,
                now=self.clock(),
                reason=why,
                intent=CLOSE if activation.state == State.LIVE else None,
            )
            if moved:
                await self.note(activation, "activation_cancelled", by=actor.member_id)
            if moved and activation.state == State.LIVE:
                current = await self.store.activation_by_id(activation.id)
                if current is not None:  # stopped at shutdown: pending, caught up at the next start
                    await self.intents.in_flight.run_or_stop(self.intents.run_for(current))
        return moved

    async def end_now(self, actor: Actor, activation_id: int) -> Activation:
        """End a live activation before its end time, as if the time had come: its closing intent runs once
        (a giveaway draws its winners, a takeover gives its channel back). The end job finds nothing to do."""
        activation = await self.managed(actor, activation_id)
        if activation.state != State.LIVE:
            raise await self._bad_state(activation)
        async with self._lock(activation.id):
            if not await self.store.transition_activation(
                activation.community_id,
                activation.id,
                State.LIVE,
                State.ENDED,
                actor=actor.member_id,
                now=self.clock(),
                reason=ENDED_EARLY,
                intent=CLOSE,
            ):
                raise ActivationError("activation.error.changed")
            ended = await self.load(actor.community_id, activation.id)
            await self.note(ended, "activation_ended_early", by=actor.member_id)
            await self.intents.in_flight.run_or_stop(self.intents.run_for(ended))
        await self._tell_ended(ended)  # its report, as for one that ends on time
        return ended

    async def retry(self, actor: Actor, activation_id: int) -> bool | None:
        """Moderators: try the activation's unfinished platform work again now, including work the bot
        stopped retrying (refused, or failing for days), once its cause is fixed. None when nothing was
        unfinished; True when everything is done (otherwise `problem` says what is left)."""
        if not actor.is_moderator:
            raise Forbidden("error.moderator_only")
        activation = await self.load(actor.community_id, activation_id)
        # Stopped with the rest at shutdown (never recorded as a failure): the next start finishes it.
        outcome = await self.intents.in_flight.run_or_stop(self.intents.retry_now(activation))
        if outcome is not None:
            await self.note(activation, "activation_retried", by=actor.member_id)
        return outcome

    async def of_brand(self, community_id: int, brand_id: int) -> tuple[list[int], list[int]]:
        """A brand's live activations, and those still to start (pending or scheduled): what a moderator
        suspending or removing the brand should know about."""
        live = await self.store.brand_activations(community_id, brand_id, (State.LIVE.value,))
        upcoming = await self.store.brand_activations(
            community_id, brand_id, (State.PENDING.value, State.SCHEDULED.value)
        )
        return live, upcoming

    async def problem(self, community_id: int, activation_id: int) -> Problem | None:
        """Platform work of this activation that failed and is not done (retried, or refused for good)."""
        return await self.intents.problem(community_id, activation_id)

    async def problem_text(self, community_id: int, activation_id: int, lang: str) -> str | None:
        """`problem` as a line for the moderator who acted, in their language; None if all is done."""
        problem = await self.problem(community_id, activation_id)
        activation = await self.store.get_activation(community_id, activation_id)
        if problem is None or activation is None:
            return None
        return self.intents.describe(lang, activation, problem)

    # -- reading --------------------------------------------------------------------------------------

    async def listing(self, actor: Actor, lang: str) -> list[str]:
        """One line per recent activation: all of them for moderators, a brand manager's own otherwise."""
        brand_ids: list[int] | None = None
        if not actor.is_moderator:
            brand_ids = await self.store.managed_brand_ids(actor.community_id, actor.member_id)
            if not brand_ids:
                raise Forbidden("activation.error.not_manager")
        return [
            i18n.t(
                lang,
                "activation.list_line",
                id=a.id,
                kind=i18n.t(lang, f"activation.kind.{a.kind}"),
                state=shown_state(lang, a),
                title=i18n.isolate(a.title),
                brand=brand_label(a, lang),
                start=self.platform.timestamp(a.starts_at),
            )
            for a in await self.store.list_activations(actor.community_id, brand_ids=brand_ids)
        ]

    async def details(self, actor: Actor, activation_id: int, lang: str) -> tuple[str, list[str]]:
        """The title and lines of `/activation show`: state, window, disclosure, the kind's own, history."""
        activation = await self.managed(actor, activation_id)
        window = i18n.t(
            lang,
            "activation.window_utc",
            start=format_time(activation.starts_at),
            end=format_time(activation.ends_at),
        )
        lines = [
            i18n.t(lang, "activation.show_brand", brand=brand_label(activation, lang)),
            i18n.t(lang, "activation.show_state", state=shown_state(lang, activation)),
            i18n.t(
                lang, "activation.show_channel", channel=self.platform.channel_link(activation.channel_id)
            ),
            i18n.t(
                lang,
                "activation.show_window",
                start=self.platform.timestamp(activation.starts_at),
                end=self.platform.timestamp(activation.ends_at),
                utc=window,
            ),
            i18n.t(lang, "activation.show_disclosure", tag=tag_for(activation)),
        ]
        if activation.reason in OWN_REASONS:  # the engine's own reasons, in the reader's language
            lines.append(
                i18n.t(lang, "activation.show_reason", reason=i18n.t(lang, OWN_REASONS[activation.reason]))
            )
        elif activation.reason:
            lines.append(i18n.t(lang, "activation.show_reason", reason=i18n.isolate(activation.reason)))
        handler = self.handler_for(activation)
        if handler is not None:
            lines.extend(handler.describe(activation, lang))
            more = getattr(handler, "describe_more", None)  # optional: lines read from the store
            if more is not None:
                lines.extend(await more(activation, lang))
        problem = await self.problem(activation.community_id, activation.id)
        if problem is not None:
            lines.append(self.intents.describe(lang, activation, problem))
        history = " → ".join(
            state_label(lang, to) for _, to, _, _ in await self.store.activation_log(activation.id)
        )
        lines.append(i18n.t(lang, "activation.show_history", history=history))
        title = i18n.t(
            lang,
            "activation.show_title",
            id=activation.id,
            kind=i18n.t(lang, f"activation.kind.{activation.kind}"),
            title=i18n.isolate(activation.title),
        )
        return title, lines

    # -- running on time --------------------------------------------------------------------------------

    def schedule(self, activation: Activation) -> None:
        if activation.state == State.SCHEDULED:
            job, when = f"activation:{activation.id}:start", activation.starts_at
        elif activation.state == State.LIVE:
            job, when = f"activation:{activation.id}:end", activation.ends_at
        else:
            return
        self.scheduler.at(job, when, partial(self.advance, activation.id))

    async def run_due(self) -> int:
        """Advance every activation that is due at the clock; returns how many transitions happened.
        They advance side by side (each under its own lock): one whose platform call hangs, or fails,
        does not hold back the others. One that fails is logged and left for the next sweep."""
        now = self.clock()
        due = [
            activation.id
            for activation in await self.store.open_activations()
            if self.owns(activation.community_id) and activation.due(now) is not None
        ]
        slots = asyncio.Semaphore(DUE_AT_ONCE)
        advancing = (self._advance_or_log(activation_id, slots) for activation_id in due)
        return sum(await asyncio.gather(*advancing))

    async def _advance_or_log(self, activation_id: int, slots: asyncio.Semaphore) -> int:
        async with slots:
            try:
                return await self.advance(activation_id)
            except Exception:
                log.exception("activation %s: could not advance; tried again later", activation_id)
                return 0

    async def sweep(self) -> None:
        """What a job that failed, or never ran, left behind: activations past their start or end,
        and intents past their retry time (every `SWEEP_MINUTES`; jobs live in memory only)."""
        if not self.booted.is_set():
            return  # the start-up catch-up does the same
        caught = await self.run_due()
        finished = await self.intents.resume(overdue_at=self.clock())
        if caught or finished:
            log.info("sweep: %s transition(s) and %s intent(s) caught up", caught, finished)

    def _lock(self, activation_id: int) -> asyncio.Lock:
        return self._locks.setdefault(activation_id, asyncio.Lock())

    async def idle(self, activation_id: int) -> None:
        """Wait until no transition of this activation (with its hook) is running."""
        async with self._lock(activation_id):
            pass

    async def advance(self, activation_id: int) -> int:
        """Make every transition this activation owes now, each once; then arm its next job."""
        return await self.intents.in_flight.run(self._advance(activation_id), 0)

    async def _advance(self, activation_id: int) -> int:
        await self.platform.wait_until_ready()
        done = 0
        ended: Activation | None = None
        async with self._lock(activation_id):
            activation = await self.store.activation_by_id(activation_id)
            now = self.clock()
            while activation is not None and (target := activation.due(now)) is not None:
                refusal = await self._start_refusal(activation, now) if target == State.LIVE else None
                if refusal is not None:
                    await self.store.transition_activation(
                        activation.community_id,
                        activation.id,
                        activation.state,
                        State.CANCELLED,
                        actor=None,
                        now=now,
                        reason=refusal,
                    )
                    await self.note(activation, _CANCELLED_AT_START[refusal])
                    return done
                moved = await self.store.transition_activation(
                    activation.community_id,
                    activation.id,
                    activation.state,
                    target,
                    actor=None,
                    now=now,
                    intent=OPEN if target == State.LIVE else CLOSE,
                )
                activation = await self.store.activation_by_id(activation_id)
                if not moved or activation is None:
                    break
                done += 1
                if activation.state == State.LIVE:
                    await self.note(activation, "activation_live", channel=activation.channel_id)
                else:
                    await self.note(activation, "activation_ended")
                await self.intents.run_for(activation)
                if activation.state == State.ENDED:
                    ended = activation
                activation = await self.store.activation_by_id(activation_id)
            # Only after a transition: a job that found nothing due (the activation was cancelled, or
            # an injected test clock lags the real one) must not re-arm itself in a loop.
            if activation is not None and done:
                self.schedule(activation)
        if ended is not None:
            await self._tell_ended(ended)
        return done

    async def _start_refusal(self, activation: Activation, now: datetime) -> str | None:
        """Why an activation due to go live must be cancelled instead, if it must: its brand lost its
        approval, its whole window passed, or its kind refuses (`Kind.may_start`)."""
        if not await self._brand_still_approved(activation):
            return BRAND_NOT_APPROVED
        if activation.ends_at <= now:
            return MISSED
        check = getattr(self.handler_for(activation), "may_start", None)
        if check is not None and not await check(activation):
            return TAKER_NOT_ELIGIBLE
        return None

    async def _brand_still_approved(self, activation: Activation) -> bool:
        if activation.brand_id is None:  # a community giveaway has no brand to lose
            return True
        brand = await self.store.brand_status(activation.community_id, activation.brand_id)
        return brand is not None and brand[1] == "approved"

    async def _perform(self, activation: Activation, action: str, steps: Steps) -> None:
        """An intent's work, by the activation's kind (the transition stands whatever happens here)."""
        handler = self.handler_for(activation)
        if handler is None:
            # Its platform is not running here (Reddit switched off, or its credentials removed): the
            # intent stays pending, retried, rather than marked done with nothing done.
            raise PlatformUnavailable(self.platform_name(activation))
        if action == OPEN:
            await handler.on_live(activation, steps)
        else:
            await handler.on_end(activation, steps)


def _unguarded(windows: list[tuple[datetime, datetime]]) -> None:
    """A community giveaway is not sponsored content: the saturation guard does not apply to it."""


def brand_label(activation: Activation, lang: str) -> str:
    """The brand's name (as the tag shows it: no markdown, no mentions), or "Community giveaway" when no
    brand is behind it."""
    if activation.brand_id is None:
        return community_label(lang)
    return i18n.isolate(sanitize_brand(activation.brand_name))


def state_label(lang: str, state: str) -> str:
    return i18n.t(lang, f"activation.state.{state}")


def shown_state(lang: str, activation: Activation) -> str:
    """The state as moderators see it: a live activation whose opening post is not up yet is "opening"."""
    if activation.opening:
        return i18n.t(lang, "activation.state.opening")
    return state_label(lang, activation.state)
