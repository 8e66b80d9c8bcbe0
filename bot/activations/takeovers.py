"""Takeover activations: a partner or a brand contact gets posting rights in one channel for a window.

At the start the service reads the taker's overwrite in the channel (or that there was none) and the
channel's topic and stores them, *then* grants posting and puts the disclosure at the front of the
topic. What to put back is data: a `RestorePlan` read from that record. At the end (or on a cancel)
the plan is applied exactly — the old overwrite or none at all, and the old topic — and read back:
the restore is retried (bot/activations/intents.py) until the channel is exactly as before, or a
moderator is told why it cannot be (a permanent refusal such as a missing permission).

The taker's own posts are disclosed too (docs/activations.md): when the platform lets the bot read
them (`relay=True`), each plain-text message is republished in the taker's name with the tag as its
first line and the original removed; otherwise each gets a disclosed reply, and the taker can post
through the bot (`post`) with the tag already in place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from bot import i18n
from bot.activations.intents import NotYet, Steps, backoff
from bot.activations.model import TEXT_MAX, Activation, ActivationError, State, validate_text
from bot.activations.service import ActivationService, Actor, Proposal
from bot.errors import InvalidInput
from bot.platform import Author, ChannelGone, ChannelState, Member, Overwrite, Posted

log = logging.getLogger(__name__)
#: How many times a taker's message is tried to be disclosed (2 s, 4 s, … apart) before it waits for
#: a replay or the catch-up after the next reconnect.
DISCLOSE_RETRIES = 6


def taker_of(activation: Activation) -> int:
    return int(activation.config["taker_id"])


class _Snapshot(Protocol):
    """The stored record of a channel before its takeover (`Store.takeover_snapshot`)."""

    activation_id: int
    channel_id: int
    taker_id: int
    had_overwrite: bool
    overwrite_type: int | None
    allow: str | None
    deny: str | None
    topic: str | None
    restored: bool
    handed_to: int | None


@dataclass(frozen=True)
class RestorePlan:
    """What a takeover puts back when it ends: the taker's overwrite from before (None: there was none,
    so the one the takeover added is removed) and the topic from before."""

    activation_id: int
    channel_id: int
    member_id: int
    overwrite: Overwrite | None
    topic: str | None
    restored: bool = False
    handed_to: int | None = None  # a later takeover of the same taker and channel puts it back instead

    def matches(self, state: ChannelState) -> bool:
        """Whether the channel is exactly as this plan puts it (an empty topic and none are the same)."""
        return state.overwrite == self.overwrite and (state.topic or None) == (self.topic or None)

    @classmethod
    def of(cls, snapshot: _Snapshot) -> RestorePlan:
        overwrite = None
        if snapshot.had_overwrite:  # its kind, allow and deny were stored together
            kind = int(snapshot.overwrite_type or 0)
            overwrite = Overwrite(allow=snapshot.allow or "0", deny=snapshot.deny or "0", kind=kind)
        return cls(
            activation_id=snapshot.activation_id,
            channel_id=snapshot.channel_id,
            member_id=snapshot.taker_id,
            overwrite=overwrite,
            topic=snapshot.topic,
            restored=snapshot.restored,
            handed_to=snapshot.handed_to,
        )


@dataclass(frozen=True)
class TakerMessage:
    """A member's message in a channel, as the adapter saw it. `text` is None when the bot cannot read
    message text; `plain` says it has nothing but text (attachments would be lost in a republish).
    `parent_id` is the channel of the thread the message is in, if it is in one."""

    community_id: int
    channel_id: int
    message_id: int
    author_id: int
    author: Author
    text: str | None
    plain: bool
    parent_id: int | None = None


class TakeoverService:
    """The takeover kind: registered with the engine; what `/takeover post` and the message listener call."""

    def __init__(self, engine: ActivationService, *, relay: bool) -> None:
        self.engine = engine
        self.store = engine.store
        self.publisher = engine.publisher
        self.platform = engine.platform
        self.clock = engine.clock
        self.relay = relay

    async def create(
        self, actor: Actor, proposal: Proposal, taker_id: int, taker: Member | None = None
    ) -> Activation:
        """A pending takeover; the taker must be an opted-in partner or a contact of this brand, not a bot
        (checked after the shared checks, so their refusals come first)."""

        async def check_taker() -> None:
            member = taker or await self.platform.member(actor.community_id, taker_id)
            eligible = (
                member is not None
                and not member.is_bot
                and (
                    await self.store.is_partner(actor.community_id, taker_id)
                    or proposal.brand_id in await self.store.managed_brand_ids(actor.community_id, taker_id)
                )
            )
            if not eligible:
                raise InvalidInput("takeover.error.not_partner", taker=self.platform.mention(taker_id))

        return await self.engine.create(
            actor, "takeover", proposal, config={"taker_id": taker_id}, before_insert=check_taker
        )

    async def may_start(self, activation: Activation) -> bool:
        """At the start, the taker must still be what they had to be when it was proposed: a member of the
        server, no bot, an opted-in partner or a contact of the brand (not someone who left the partner
        program, the server, or had their data erased since). If the platform cannot say right now, the
        takeover goes ahead as approved."""
        taker = taker_of(activation)
        if taker <= 0:  # a pseudonym: the taker's data was erased
            return False
        try:
            member = await self.platform.member(activation.community_id, taker)
        except Exception:
            log.warning("takeover %s: could not look the taker up; it starts as approved", activation.id)
            return True
        return (
            member is not None
            and not member.is_bot
            and (
                await self.store.is_partner(activation.community_id, taker)
                or activation.brand_id in await self.store.managed_brand_ids(activation.community_id, taker)
            )
        )

    async def live_for(self, actor: Actor, channel_id: int) -> Activation:
        """The live takeover of this channel whose taker is the actor."""
        activation = await self.store.live_activation_in_channel(actor.community_id, channel_id, "takeover")
        if activation is None or taker_of(activation) != actor.member_id:
            raise ActivationError("takeover.error.no_live")
        return activation

    async def post(self, actor: Actor, activation_id: int, text: str) -> Posted:
        """The taker posts through the bot, with the disclosure."""
        body = validate_text(text, limit=TEXT_MAX, what="post", multiline=True)
        activation = await self.store.get_activation(actor.community_id, activation_id)
        if activation is None or activation.state != State.LIVE or taker_of(activation) != actor.member_id:
            raise ActivationError("takeover.error.no_live")
        content = i18n.t(
            activation.locale, "takeover.post", taker=self.platform.mention(actor.member_id), body=body
        )
        posted = await self.publisher.post(activation, activation.channel_id, content=content)
        await self.store.record_takeover_post(
            actor.community_id,
            activation.id,
            source_message_id=posted.id,
            author_id=actor.member_id,
            mode="command",
            disclosed_message_id=posted.id,
            now=self.clock(),
        )
        return posted

    async def on_message(self, message: TakerMessage, *, attempt: int = 1, late: bool = False) -> None:
        """Disclose a message the taker posted in the channel they are taking over, or in a thread of it,
        once per message: from the start until the channel is put back (an ended takeover whose restore
        is still being retried leaves the taker's posting rights in place, so its posts are still
        sponsored). A disclosure that fails is tried again (`DISCLOSE_RETRIES`), and a replayed
        delivery or the catch-up after a reconnect tries it too: the message counts as disclosed only
        once its disclosure is made."""
        channel = message.parent_id or message.channel_id
        activation = next(
            (
                a
                for a in await self.store.takeovers_in_channel(message.community_id, channel)
                if a.channel_id == channel and taker_of(a) == message.author_id
            ),
            None,
        )
        if activation is None:
            return
        # A relay posts in the channel itself; in a thread, when the tag would not fit beside the whole
        # text, on a retry (an earlier relay may have got as far as its copy) or for a message read back
        # later (`late`: a copy would land far below it), a reply discloses it.
        relay = (
            self.relay
            and attempt == 1
            and not late
            and message.parent_id is None
            and bool(message.text)
            and message.plain
            and self.publisher.republishable(activation, message.text or "")
        )
        first = await self.store.record_takeover_post(
            message.community_id,
            activation.id,
            source_message_id=message.message_id,
            author_id=message.author_id,
            mode="relay" if relay else "reply",
            disclosed_message_id=None,
            now=self.clock(),
        )
        if not first:  # a replayed delivery: already disclosed
            return
        try:
            await self._disclose(activation, message, relay=relay)
        except Exception as error:
            # Not disclosed: forget it, so that the retry, a replay or the catch-up does it.
            await self.store.forget_takeover_post(activation.id, message.message_id)
            if attempt >= DISCLOSE_RETRIES:
                log.error(
                    "takeover %s: could not disclose message %s after %s attempts",
                    activation.id, message.message_id, attempt, exc_info=True,
                )  # fmt: skip
                return
            delay = backoff(attempt)
            log.warning(
                "takeover %s: could not disclose message %s (%s); trying again in %.0f s",
                activation.id, message.message_id, error, delay,
            )  # fmt: skip
            self.engine.scheduler.after(
                f"takeover-post:{message.message_id}",
                delay,
                partial(self.on_message, message, attempt=attempt + 1),
            )

    async def _disclose(self, activation: Activation, message: TakerMessage, *, relay: bool) -> None:
        if relay and message.text:
            try:
                await self.publisher.republish(
                    activation, message.channel_id, message.message_id, message.text, message.author
                )
                return
            except Exception as error:  # the message stays: it is disclosed by a reply instead
                log.warning(
                    "takeover %s: could not republish message %s (%s); disclosing it by a reply",
                    activation.id,
                    message.message_id,
                    error,
                )
        notice = i18n.t(
            activation.locale, "takeover.reply_notice", taker=self.platform.mention(message.author_id)
        )
        await self.publisher.post(activation, message.channel_id, content=notice, reply_to=message.message_id)

    async def catch_up(self, messages: list[TakerMessage]) -> None:
        """Messages read back after a gap in the platform's events (a reconnect, a restart): those of a
        taker not disclosed yet are disclosed now."""
        for message in messages:
            await self.on_message(message, late=True)

    async def posting(self) -> list[tuple[int, int, int | None]]:
        """(channel, taker, opening post) of every takeover here whose taker may post now."""
        return [
            (a.channel_id, taker_of(a), a.message_id)
            for a in await self.store.takeovers_posting()
            if self.engine.owns(a.community_id)
        ]

    # -- the kind's hooks ------------------------------------------------------------------------------

    async def restore_plan(self, activation: Activation) -> RestorePlan | None:
        snapshot = await self.store.takeover_snapshot(activation.community_id, activation.id)
        return RestorePlan.of(snapshot) if snapshot is not None else None

    async def on_live(self, activation: Activation, steps: Steps) -> None:
        taker, channel_id = taker_of(activation), activation.channel_id
        snapshot = await self.store.takeover_snapshot(activation.community_id, activation.id)
        if snapshot is None:
            snapshot = await self._snapshot(activation, channel_id, taker)
        plan = RestorePlan.of(snapshot)
        # Built from the plan, not from the channel now: a retried start changes nothing twice.
        reason = f"Microvoice takeover #{activation.id}"
        await steps.do(
            "grant",
            lambda: self.platform.grant_posting(channel_id, taker, base=plan.overwrite, reason=reason),
        )
        await steps.do(
            "topic", lambda: self.publisher.disclose_topic(activation, channel_id, plan.topic, reason=reason)
        )
        await steps.do(
            "audit-start",
            lambda: self.engine.note(activation, "takeover_started", member=taker, channel=channel_id),
        )
        lang = activation.locale
        how = "takeover.how_relay" if self.relay else "takeover.how_reply"
        content = i18n.t(
            lang,
            "takeover.started",
            taker=self.platform.mention(taker),
            title=i18n.isolate(activation.title),
            end=self.platform.timestamp(activation.ends_at),
            how=i18n.t(lang, how),
        )
        posted = await steps.post("post", activation, channel_id, content=content)
        await self.store.set_activation_post(activation.community_id, activation.id, message_id=posted.id)
        await steps.do("dm", lambda: self._tell_taker(activation, taker))  # once: never a second DM

    async def _snapshot(self, activation: Activation, channel_id: int, taker: int) -> _Snapshot:
        """Store the channel as it was before this takeover. After an earlier takeover of the same taker
        and channel that never put it back (its restore refused for good, or still being retried), the
        channel now holds that one's grant and disclosed topic: its stored copy is the original, so it
        is carried over, and putting the channel back is this takeover's from now on."""
        earlier = await self.store.unrestored_takeover(
            activation.community_id, channel_id, taker, before=activation.id
        )
        if earlier is not None:
            had = earlier.had_overwrite
            overwrite = (int(earlier.overwrite_type or 0), earlier.allow or "0", earlier.deny or "0")
            stored, topic = overwrite if had else None, earlier.topic
        else:
            before = await self.platform.channel_state(channel_id, taker)
            now = before.overwrite
            stored, topic = (now.kind, now.allow, now.deny) if now else None, before.topic
        # The first record wins: a retried start never stores the already-changed channel as "before".
        snapshot = await self.store.save_takeover_snapshot(
            activation.community_id,
            activation.id,
            channel_id=channel_id,
            taker_id=taker,
            overwrite=stored,
            topic=topic,
            now=self.clock(),
            carried_from=earlier.activation_id if earlier is not None else None,
        )
        if earlier is not None:
            log.warning(
                "takeover %s: channel %s was never put back after takeover %s; carried its copy over",
                activation.id, channel_id, earlier.activation_id,
            )  # fmt: skip
            await self.engine.note(
                activation,
                "takeover_carried_over",
                channel=channel_id,
                member=taker,
                earlier=earlier.activation_id,
            )
        return snapshot

    async def _tell_taker(self, activation: Activation, taker: int) -> None:
        """A private note to the taker (the channel post does not notify anyone): they may post now."""
        note = i18n.t(
            activation.locale,
            "takeover.started_private",
            channel=self.platform.channel_link(activation.channel_id),
            title=i18n.isolate(activation.title),
            end=self.platform.timestamp(activation.ends_at),
        )
        try:
            if await self.publisher.send_private(activation, taker, note) is None:
                log.info("takeover %s: the taker accepts no private messages", activation.id)
        except Exception:  # the takeover runs all the same; the channel post says it started
            log.warning("takeover %s: could not message the taker", activation.id, exc_info=True)

    async def on_end(self, activation: Activation, steps: Steps) -> None:
        """Put the channel back exactly (checked by reading it back), then say so, once each."""
        plan = await self.restore_plan(activation)
        if plan is None:
            return  # the start never got as far as changing the channel
        if plan.handed_to is not None and not plan.restored:
            # A later takeover of the same taker and channel carried this one's copy over: it puts the
            # channel back, and this one must not undo its grant meanwhile.
            log.info("takeover %s: takeover %s puts its channel back", activation.id, plan.handed_to)
            return
        if not plan.restored:
            gone = False
            try:
                await steps.do("restore", lambda: self.restore(activation, plan))
            except ChannelGone:  # deleted meanwhile: nothing to put back, nowhere to say it ended
                log.info("takeover %s: its channel was deleted; nothing to restore", activation.id)
                gone = True
            await self.store.mark_takeover_restored(activation.community_id, activation.id, now=self.clock())
            if gone:
                return
        channel = plan.channel_id
        await steps.do(
            "audit-restore", lambda: self.engine.note(activation, "takeover_restored", channel=channel)
        )
        if activation.message_id is None:
            return  # members never saw it start (no opening post): no closing post
        key = "takeover.cancelled" if activation.state == State.CANCELLED else "takeover.ended"
        content = i18n.t(activation.locale, key, taker=self.platform.mention(plan.member_id))
        await steps.post(
            "post", activation, activation.channel_id, content=content, reply_to=activation.message_id
        )

    async def restore(self, activation: Activation, plan: RestorePlan) -> None:
        """Apply the plan, then read the channel back; `NotYet` (retried) unless it is exactly as before."""
        reason = f"Microvoice takeover #{activation.id} ended"
        await self.platform.restore_overwrite(plan.channel_id, plan.member_id, plan.overwrite, reason=reason)
        await self.platform.set_topic(plan.channel_id, plan.topic, reason=reason)
        now = await self.platform.channel_state(plan.channel_id, plan.member_id)
        if not plan.matches(now):
            raise NotYet(f"channel {plan.channel_id} does not read back as before the takeover yet")

    def describe(self, activation: Activation, lang: str) -> list[str]:
        taker = taker_of(activation)  # negative: a pseudonym, the taker was erased (/privacy forget)
        shown = self.platform.mention(taker) if taker > 0 else "\N{EM DASH}"
        return [i18n.t(lang, "takeover.describe", taker=shown)]
