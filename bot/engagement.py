"""What a member message means for the ledger, decided in memory, for live and for recovered messages.

The gateway listener (cogs/engagement.py) and the gap fill after a downtime (bot/gapfill.py) describe
each message as a `SeenMessage` (metadata only: there is no text field) and hand it to the same
`EngagementRecorder`, so a message recorded live and the same message fetched from history give the
same event (and the natural key makes it one row).

Nothing here waits on the database: known bots and thread owners are loaded once at start and kept
up to date from what the gateway shows; a reply to a message that is not in the recent-author cache
names the message, and the writer resolves its author inside its transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.ingest import Ingest
from bot.ledger import EPOCH, ChannelInfo, EngagementEvent, MemberSighting, Platform
from bot.store import Store


@dataclass(slots=True)
class SeenMessage:
    """One message as the platform showed it: who, where, when, in reply to what. Never its text.

    Built once per gateway message and handed straight to the recorder (not frozen: a frozen
    dataclass's construction costs twice as much, and this one is never kept)."""

    community_id: int
    channel_id: int
    message_id: int
    author_id: int
    created_at: datetime
    author_is_bot: bool = False
    #: Discord's own system account (announcements), not a member.
    author_is_system: bool = False
    #: An ordinary member message (not a join, pin, boost or command notice).
    ordinary: bool = True
    from_webhook: bool = False
    #: Posted by a webhook under its own id (not an application's answer under its bot's id).
    webhook_author: bool = False
    in_thread: bool = False
    #: The opening message of a forum post (same id as its thread).
    thread_starter: bool = False
    thread_owner_id: int | None = None
    reply_to: int | None = None
    #: The replied-to message's author when the payload carried it.
    reply_author_id: int | None = None
    reply_author_is_bot: bool = False
    #: The replied-to message is a system notice (a join, a pin, a boost), when the payload showed it.
    reply_to_notice: bool = False
    #: The message pinged everyone (@everyone or @here, which takes that permission): what it draws
    #: is the notification's reach, not a choice among peers.
    pings_everyone: bool = False
    #: The replied-to message pinged everyone, when the payload showed it.
    reply_to_broadcast: bool = False
    #: A system notice that this message (`message_id` of the notice's reference) was pinned, by the
    #: notice's author.
    pinned: int | None = None
    joined_at: datetime | None = None
    account_created_at: datetime | None = None
    channel: ChannelInfo | None = None


@dataclass(frozen=True, slots=True)
class SeenReaction:
    """One reaction added or removed, as the platform showed it. Never the message's text."""

    community_id: int
    channel_id: int
    message_id: int
    user_id: int
    emoji: str  # a custom emoji's id, or the unicode emoji itself
    added: bool
    #: The reacting member, when the platform sent it (Discord does on add only).
    member_known: bool = False
    user_is_bot: bool = False
    joined_at: datetime | None = None
    account_created_at: datetime | None = None
    #: The reacted-to message's author when the payload carried it.
    message_author_id: int | None = None


log = logging.getLogger(__name__)

#: How long the messages whose engagement credits nobody are remembered (`broadcast_messages`): as
#: long as the ranking looks back (`TrustParams.window_days`).
BROADCAST_MEMORY = timedelta(days=180)

#: How far this process's clock may run behind the platform's when a reaction's date is compared
#: with its message's.
CLOCK_SLACK = timedelta(days=1)


#: A message that reaches the bot this much later than it was sent is history delivered late (a
#: replay of a server's past, a long backlog), not the live stream.
LIVE_LAG = timedelta(minutes=10)


class StreamClock:
    """When a reaction happened, as far as the event stream can tell, per community.

    A platform dates messages (Discord by their ids) but not reactions: the bot dates a reaction when
    it sees it. Live, messages arrive as they are sent, and a reaction is dated now. When a
    community's history is delivered at once (its past replayed through the gateway), its messages
    arrive long after they were sent, and dating its reactions now would put weeks of reactions on
    one day. Then a reaction is dated at the stream's position instead: the latest time a message
    of the community was sent, advanced by the time since it arrived, never later than now. The
    position only moves forward, so a live message ends a replay's dating for good; and no reaction
    is dated earlier than one of its community dated before it (a removal stays after its reaction)."""

    def __init__(self) -> None:
        #: community -> (the latest time a message was sent, when that message arrived)
        self._position: dict[int, tuple[datetime, datetime]] = {}
        #: community -> the time its last reaction was dated at
        self._dated: dict[int, datetime] = {}

    def message(self, community_id: int, sent: datetime, arrived: datetime) -> None:
        position = self._position.get(community_id)
        if position is None or sent >= position[0]:
            self._position[community_id] = (sent, arrived)

    def time(self, community_id: int, now: datetime) -> datetime:
        at = now
        position = self._position.get(community_id)
        if position is not None:
            sent, arrived = position
            if arrived - sent > LIVE_LAG:
                at = min(now, sent + max(now - arrived, timedelta(0)))
        before = self._dated.get(community_id)
        if before is not None and before > at:
            at = before
        self._dated[community_id] = at
        return at


class EngagementRecorder:
    """Turns what the platform shows into ledger events, with the rules that keep the ledger honest:
    bots, webhooks and system messages are not engagement; replying to a bot engages with no peer; a
    plain message in a thread engages with whoever opened it; engaging with a message that reached
    everyone by privilege (it pinged @everyone or @here, or its author pinned it) credits nobody."""

    def __init__(self, ingest: Ingest, *, platform: Platform = "discord") -> None:
        self.ingest = ingest
        self.platform: Platform = platform
        self.me: int | None = None
        self.bots: set[int] = set()
        self.thread_owners: dict[int, int] = {}
        #: Messages whose engagement credits nobody (`broadcast`), kept in the store across restarts.
        self.broadcasts: set[int] = set()
        self._saving: set[asyncio.Task[None]] = set()  # saving or looking up broadcasts
        #: When reactions happened, from the live stream's messages (`message(..., arrived=...)`).
        self.stream = StreamClock()

    async def load(self, store: Store) -> None:
        """What the listeners keep in memory, read once at start."""
        self.bots |= await store.known_bots(self.platform)
        self.thread_owners.update(await store.thread_owners(self.platform))
        self.broadcasts |= await store.broadcasts(self.platform, datetime.now(UTC) - BROADCAST_MEMORY)

    def broadcast(self, community_id: int, message_id: int, sent: datetime) -> None:
        """A message reached members by privilege, not by their choice: it pinged everyone (a
        moderator's announcement), or its own author pinned it. What it draws is that reach, so the
        reactions and replies it gets from now on are recorded as engagement with nobody, as a reply
        to a system notice is; the message itself stays its author's. On Reddit, a moderator's
        distinguished posts are read the same way (`bot.subreddits.items`)."""
        if message_id in self.broadcasts:
            return
        self.broadcasts.add(message_id)
        # Kept in memory at once; only a restart before it is saved would forget it.
        self._background(self.ingest.store.add_broadcast(self.platform, community_id, message_id, sent))

    def _pinned(self, community_id: int, message_id: int, pinner: int, sent: datetime) -> None:
        """Discord's notice that `pinner` pinned a message: if it is the pinner's own (from the
        recent-author cache, or else the ledger), it is a broadcast from now on."""
        author = self.ingest.cached_author(self.platform, message_id)
        if author is not None:
            if author == pinner:
                self.broadcast(community_id, message_id, sent)
            return

        async def look_up() -> None:
            if await self.ingest.store.message_author(self.platform, message_id) == pinner:
                self.broadcast(community_id, message_id, sent)

        self._background(look_up())

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a synchronous caller): nothing to run it on
            work.close()
            return
        task = loop.create_task(work, name="microvoice-broadcast")
        self._saving.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._saving.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("a broadcast message was not saved", exc_info=task.exception())

    def is_bot(self, user_id: int) -> bool:
        return user_id == self.me or user_id in self.bots

    def saw_bot(self, user_id: int) -> None:
        self.bots.add(user_id)

    def saw_channels(self, channels: tuple[ChannelInfo, ...]) -> None:
        for c in channels:
            if c.owner_id is not None:
                self.thread_owners[c.channel_id] = c.owner_id
        self.ingest.add(channels=channels)

    def sightings(
        self,
        community_id: int,
        member_id: int,
        seen_at: datetime,
        joined_at: datetime | None,
        account_created_at: datetime | None,
        *,
        is_bot: bool = False,
    ) -> tuple[MemberSighting, ...]:
        """What an event shows of its member, for `Ingest.add`: nothing when the buffer already holds
        a sighting that says as much (a busy member's events then build none)."""
        key = (self.platform, community_id, member_id)
        if not is_bot and self.ingest.has_sighting(key, seen_at, joined_at):
            return ()
        sighting = MemberSighting(
            platform=self.platform,
            community_id=community_id,
            member_id=member_id,
            seen_at=seen_at,
            joined_at=joined_at,
            account_created_at=account_created_at,
            is_bot=is_bot,
        )
        return (sighting,)

    def reaction(self, r: SeenReaction, now: datetime) -> None:
        """A reaction engages with the message's author: from the payload, the recent-author cache,
        or (named by message) the ledger, resolved by the writer. Dated by the stream (`StreamClock`)."""
        if self.is_bot(r.user_id):
            return
        now = self.stream.time(r.community_id, now)
        if r.member_known and r.user_is_bot:
            self.bots.add(r.user_id)
            return
        target = r.message_author_id
        if target is None:
            target = self.ingest.cached_author(self.platform, r.message_id)
        message_id: int | None = r.message_id if target is None else None  # resolved by the writer
        if r.message_id in self.broadcasts:
            # A message that pinged everyone, or that its author pinned: its reach is the
            # privilege's, and a reaction to it credits nobody.
            target = message_id = None
        elif target is not None and self.is_bot(target):
            # A reaction to a bot's message (a giveaway bot's 🎉, a poll) engages nobody: a bot is
            # never ranked, nor made a member by engagement.
            target = None
        sightings: tuple[MemberSighting, ...] = ()
        if r.member_known:
            sightings = self.sightings(r.community_id, r.user_id, now, r.joined_at, r.account_created_at)
        self.ingest.add(
            EngagementEvent(
                platform=self.platform,
                community_id=r.community_id,
                channel_id=r.channel_id,
                actor_id=r.user_id,
                kind="reaction" if r.added else "unreaction",
                source_id=f"{r.message_id}:{r.emoji}",
                created_at=now,
                target_id=target,
                target_message_id=message_id,
            ),
            members=sightings,
        )

    async def reactions_cleared(
        self,
        community_id: int,
        message_id: int,
        sent: datetime,
        now: datetime,
        emojis: Sequence[str] = (),
    ) -> int:
        """A moderator (or the platform) removed every reaction of a message sent at `sent`, or every
        reaction with one emoji (`emojis`: its keys, as `SeenReaction.emoji` gives them): each one
        still counted is retracted, as its own removal would be. Returns how many were."""
        await self.ingest.flush()  # reactions still in the buffer reach the ledger first
        return await self._retract(
            community_id, message_id, sent, self.stream.time(community_id, now), emojis
        )

    async def messages_deleted(
        self, community_id: int, messages: Sequence[tuple[int, datetime]], now: datetime
    ) -> int:
        """Messages (id, time sent) were deleted, by their authors or by a moderator: the reactions
        still counted on them are retracted, as a moderator clearing them would, since nobody sees
        them any more (a deleted spam post's reactions stop lifting its author). The messages
        themselves stay counted. Returns how many reactions were retracted."""
        await self.ingest.caught_up()  # their reactions still buffered are written first
        now = self.stream.time(community_id, now)
        retracted = 0
        for message_id, sent in messages:
            retracted += await self._retract(community_id, message_id, sent, now, ())
        return retracted

    async def _retract(
        self, community_id: int, message_id: int, sent: datetime, now: datetime, emojis: Sequence[str]
    ) -> int:
        store = self.ingest.store
        sent -= CLOCK_SLACK  # reactions are dated by this process's clock, the message by the platform's
        if sent > now:  # an id that does not carry the time it was sent: any reaction may be on it
            sent = EPOCH
        if emojis:
            keys = [f"{message_id}:{e}" for e in emojis]
            found = await store.standing_reactions(self.platform, community_id, sent, sources=keys)
        else:
            found = await store.standing_reactions(self.platform, community_id, sent, prefix=f"{message_id}:")
        for actor, source, target, channel in found:
            self.ingest.add(
                EngagementEvent(
                    platform=self.platform,
                    community_id=community_id,
                    channel_id=channel,
                    actor_id=actor,
                    kind="unreaction",
                    source_id=source,
                    created_at=now,
                    target_id=target,
                )
            )
        return len(found)

    def message(self, m: SeenMessage, *, arrived: datetime | None = None) -> None:
        """`arrived`: when a message of the live stream reached the bot (None: read from the history,
        as the gap fill does), which moves the community's `stream` unless the bot sent it."""
        if arrived is not None and m.author_id != self.me:
            self.stream.message(m.community_id, m.created_at, arrived)
        if m.author_is_bot or m.author_is_system or m.webhook_author:
            # A bot is learned from any of its messages (an application's command answers are not
            # ordinary messages, and come by webhook), and so is a webhook (Discord does not promise
            # `bot` on its messages): engagement with either never ranks it. Only the fact that the
            # id is no member is kept, so that it outlives a restart: a reaction to its message
            # names it as the author then, and engages nobody.
            self.bots.add(m.author_id)
            if m.author_id != self.me:
                self.ingest.add(members=self._author(m, is_bot=True))
            return
        if m.from_webhook or not m.ordinary:
            if m.pinned is not None and not m.from_webhook:
                # Discord's notice that a message was pinned, posted in the pinner's name: a member
                # who pins their own message gives it the channel's top spot (a moderator's privilege).
                self._pinned(m.community_id, m.pinned, m.author_id, m.created_at)
            return
        if m.pings_everyone:
            self.broadcast(m.community_id, m.message_id, m.created_at)
        if m.thread_starter:
            # A forum post's opening message: the thread event records it; keep its author so
            # replies and reactions to the post resolve.
            self.ingest.remember_author(self.platform, m.message_id, m.author_id)
            return
        kind = "message"
        target: int | None = None
        target_message: int | None = None
        if m.reply_to is not None and m.reply_to_notice:
            kind = "reply"  # to Discord's notice of a join or a pin ("Wave to say hi!"): nobody's words
        elif m.reply_to is not None and (m.reply_to_broadcast or m.reply_to in self.broadcasts):
            kind = "reply"  # to a message that pinged everyone, or its author pinned: credits nobody
        elif m.reply_to is not None:
            kind = "reply"
            if m.reply_author_is_bot and m.reply_author_id is not None:
                self.bots.add(m.reply_author_id)
            target = m.reply_author_id
            if target is None:
                target = self.ingest.cached_author(self.platform, m.reply_to)
            if target is None:
                target_message = m.reply_to  # the writer looks it up (bots are never in the ledger)
            elif self.is_bot(target):
                target = None  # replying to a bot is not engaging with a peer
        elif m.in_thread or m.channel_id in self.thread_owners:
            target = m.thread_owner_id or self.thread_owners.get(m.channel_id)
            if target is not None and self.is_bot(target):
                target = None  # a bot's thread (a Q&A's, a ticket): talking there engages no peer
        if m.channel is not None and m.channel.owner_id is not None:
            self.thread_owners[m.channel.channel_id] = m.channel.owner_id
        self.ingest.add(
            EngagementEvent(
                platform=self.platform,
                community_id=m.community_id,
                channel_id=m.channel_id,
                actor_id=m.author_id,
                kind=kind,  # type: ignore[arg-type]
                source_id=str(m.message_id),
                created_at=m.created_at,
                target_id=target,
                target_message_id=target_message,
            ),
            members=self._author(m),
            channels=(m.channel,) if m.channel is not None else (),
        )

    def _author(self, m: SeenMessage, *, is_bot: bool = False) -> tuple[MemberSighting, ...]:
        return self.sightings(
            m.community_id, m.author_id, m.created_at, m.joined_at, m.account_created_at, is_bot=is_bot
        )
