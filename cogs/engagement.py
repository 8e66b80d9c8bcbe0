"""Engagement listeners: gateway events in, ledger records out. Metadata only, never message text.

Works without privileged intents. Without Message Content, `content` arrives empty but the author,
the reply reference and the partial `member` (with `joined_at`) still arrive, which is all the
ledger needs. Without Server Members, a member becomes known from their first event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

import discord
from discord.ext import commands

from bot.app import App, MicrovoiceBot
from bot.discord_adapter.gateway import GatewayRecorder, GatewaySockets
from bot.discord_adapter.messages import PLATFORM, RECORDED_CHANNELS, channel_info
from bot.gapfill import Present
from bot.ledger import EngagementEvent, MemberSighting

log = logging.getLogger(__name__)
#: The channels' cursors (community, channel, newest recorded message id), being read.
Cursors = asyncio.Task[list[tuple[int, int, int]]]


def _sighting(guild_id: int, user: discord.abc.User, seen_at: datetime) -> MemberSighting:
    joined = user.joined_at if isinstance(user, discord.Member) else None
    return MemberSighting(
        platform=PLATFORM,
        community_id=guild_id,
        member_id=user.id,
        seen_at=seen_at,
        joined_at=joined,
        account_created_at=user.created_at,
        is_bot=user.bot,
    )


class Engagement(commands.Cog):
    """Gateway events in, ledger records out, without waiting on anything: every handler below runs
    to completion in one step (the recorder and the ingest buffer are in memory)."""

    def __init__(self, bot: MicrovoiceBot, app: App) -> None:
        self.bot = bot
        self.app = app
        self.recorder = app.recorder
        self._gap_fill: asyncio.Task[None] | None = None
        # The channels' cursors as a new session found them (read at its READY, before the session's
        # own messages are written), for that session's gap fill; and a gap fill asked for while one
        # runs (another session began meanwhile), run when it ends.
        self._cursors: Cursors | None = None
        self._again: tuple[set[int], list[Present], Cursors | None] | None = None
        self._ready = False  # the first `on_ready` came (shard sessions after it fill their own gap)
        self._outage: set[int] = set()  # servers Discord reported unavailable, until they are back
        # Messages and reactions are recorded from their gateway payloads; discord.py builds a
        # `Message` (and runs `on_message` listeners) only in channels with a live takeover.
        self.sockets = GatewaySockets(bot)
        self.gateway = GatewayRecorder(
            bot, self.recorder, app.clock, app.live_takeovers.may_have, self.sockets
        )

    async def cog_load(self) -> None:
        self.gateway.on_session = self._session_began
        self.gateway.install()
        # A full ingest buffer stops reading the gateway socket rather than holding the event loop.
        self.app.ingest.pause_source = self.sockets

    # -- sessions ---------------------------------------------------------------------------------

    def _session_began(self) -> None:
        """A session's READY, before any of its events: where each channel's recorded messages end
        now is where its gap begins. discord.py fires `on_ready` only once every guild arrived (and
        its members were chunked), seconds to minutes later, and the session's first messages are
        written meanwhile. The ingest writer holds its timed writes until the cursors are read. An
        earlier session's cursors not yet used (another shard's READY first) are kept: they are
        older."""
        if self._cursors is not None:
            return
        self.app.ingest.hold()
        self._cursors = asyncio.get_running_loop().create_task(self._read_cursors(), name="mv-cursors")

    async def _read_cursors(self) -> list[tuple[int, int, int]]:
        try:
            return await self.app.store.channel_cursors(self.recorder.platform)
        finally:
            self.app.ingest.release()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """A new gateway session (start-up, or one that could not resume): fill the gap."""
        self.recorder.me = self.bot.user.id if self.bot.user else None
        self._ready = True
        self._session_ready(self.bot.guilds)

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        """One shard of several got a new session while the others kept theirs: discord.py fires no
        `on_ready` for it, so its servers' gap is filled here (at start-up `on_ready` fills all)."""
        if self._ready:
            self._session_ready([g for g in self.bot.guilds if g.shard_id == shard_id])

    def _session_ready(self, servers: Sequence[discord.Guild], cursors: Cursors | None = None) -> None:
        # A server still unavailable (in an outage since before READY) shows no channels yet and sends
        # none of its events until its GUILD_CREATE: its gap is filled then, as after an outage begun
        # within the session.
        self._outage.update(g.id for g in servers if g.unavailable)
        servers = [g for g in servers if not g.unavailable]
        guilds = {g.id for g in servers}
        # Channels and threads as the session's guilds show them (threads: the active ones).
        present = [
            Present(g.id, c.id, c.last_message_id)
            for g in servers
            for c in [*g.channels, *g.threads]
            if isinstance(c, RECORDED_CHANNELS)
        ]
        if cursors is None:
            cursors, self._cursors = self._cursors, None
        if self._gap_fill is not None and not self._gap_fill.done():
            # A fill is running: this session's servers are filled when it ends, with any others
            # waiting, from the oldest cursors still unused.
            if self._again is not None:
                waiting, seen, kept = self._again
                guilds |= waiting
                present = [*seen, *present]
                cursors = kept if kept is not None else cursors
            self._again = (guilds, present, cursors)
            return
        self._gap_fill = asyncio.create_task(self._fill(guilds, present, cursors), name="microvoice-gap-fill")

    async def _fill(
        self,
        guilds: set[int],
        present: list[Present],
        cursors: Cursors | None,
    ) -> None:
        while True:
            try:
                taken = None
                if cursors is not None:
                    try:
                        taken = await cursors
                    except Exception:  # read them now instead
                        log.warning("the session's channel cursors could not be read at its start")
                await self.app.gapfill.run(guilds, present, taken)
            except Exception:  # the live stream goes on; the next session tries again
                log.exception("gap fill failed")
            if self._again is None:
                return
            (guilds, present, cursors), self._again = self._again, None

    def cog_unload(self) -> None:
        self.gateway.on_session = None
        self.gateway.uninstall()
        self.app.ingest.pause_source = None
        if self._gap_fill is not None:
            self._gap_fill.cancel()

    # -- channels ---------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_guild_unavailable(self, guild: discord.Guild) -> None:
        """An outage of the server on Discord's side: none of its events come until it is back."""
        self._outage.add(guild.id)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        self.recorder.saw_channels(tuple(channel_info(c) for c in [*guild.channels, *guild.threads]))
        if guild.id in self._outage:
            # Back from an outage within a session: its gap is filled as a new session's would be,
            # from where its channels' recorded messages end now (read before its live ones move them).
            self._outage.discard(guild.id)
            if self._ready:
                self.app.ingest.hold()
                cursors = asyncio.get_running_loop().create_task(self._read_cursors(), name="mv-cursors")
                self._session_ready([guild], cursors)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.on_guild_available(guild)

    @commands.Cog.listener()
    async def on_guild_channel_create(self, channel: discord.abc.GuildChannel) -> None:
        self.recorder.saw_channels((channel_info(channel),))

    @commands.Cog.listener()
    async def on_guild_channel_update(
        self, _: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        self.recorder.saw_channels((channel_info(after),))

    # -- threads and members ----------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_thread_create(self, thread: discord.Thread) -> None:
        self._thread_seen(thread)

    @commands.Cog.listener()
    async def on_thread_join(self, thread: discord.Thread) -> None:
        """A thread the bot is shown only now: added to a private thread (THREAD_CREATE without
        `newly_created`), given access to its channel (THREAD_LIST_SYNC), or one unarchived. Its
        opening counts as one seen created would (the natural key keeps it one event)."""
        self._thread_seen(thread)

    def _thread_seen(self, thread: discord.Thread) -> None:
        owner = thread.owner_id
        if owner is None or self.recorder.is_bot(owner):
            self.recorder.saw_channels((channel_info(thread),))
            return
        created = thread.created_at or discord.utils.snowflake_time(thread.id)
        # A thread started from a message has that message's id: it engages with its author. A forum
        # post's opening message is its owner's own, whichever of the two events came first.
        starter_author = self.app.ingest.cached_author(PLATFORM, thread.id)
        if starter_author is None and isinstance(thread.parent, discord.ForumChannel):
            starter_author = owner
        self.recorder.thread_owners[thread.id] = owner
        self.app.ingest.add(
            EngagementEvent(
                platform=PLATFORM,
                community_id=thread.guild.id,
                channel_id=thread.parent_id or thread.id,
                actor_id=owner,
                kind="thread",
                source_id=str(thread.id),
                created_at=created,
                target_id=starter_author,
                target_message_id=None if starter_author is not None else thread.id,
            ),
            channels=(channel_info(thread),),
        )

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        if member.bot:
            self.recorder.saw_bot(member.id)
            return
        joined = member.joined_at or self.app.clock()
        self.app.ingest.add(
            EngagementEvent(
                platform=PLATFORM,
                community_id=member.guild.id,
                channel_id=0,
                actor_id=member.id,
                kind="join",
                source_id=f"{member.id}:{int(joined.timestamp())}",
                created_at=joined,
            ),
            members=(_sighting(member.guild.id, member, joined),),
        )


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    await bot.add_cog(Engagement(bot, bot.app))
