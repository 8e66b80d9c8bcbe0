"""Engagement listeners: gateway events in, ledger records out. Metadata only, never message text.

Works without privileged intents. Without Message Content, `content` arrives empty but the author,
the reply reference and the partial `member` (with `joined_at`) still arrive, which is all the
ledger needs. Without Server Members, a member becomes known from their first event.
"""

from __future__ import annotations

import logging
from datetime import datetime

import discord
from discord.ext import commands

from bot.app import App, MicrovoiceBot
from bot.ledger import ChannelInfo, EngagementEvent, MemberSighting

log = logging.getLogger(__name__)

PLATFORM = "discord"
# Ordinary member messages; everything else (joins, pins, boosts, command echoes) is a system message.
RECORDED_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})
THREAD_TYPES = frozenset(
    {discord.ChannelType.public_thread, discord.ChannelType.private_thread, discord.ChannelType.news_thread}
)


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


def _channel_info(channel: discord.abc.GuildChannel | discord.Thread) -> ChannelInfo:
    if isinstance(channel, discord.Thread):
        # A thread's title is written by a member (a forum post's title): content, not kept.
        parent, owner, name = channel.parent_id, channel.owner_id, ""
    else:
        parent, owner, name = channel.category_id, None, channel.name
    return ChannelInfo(
        platform=PLATFORM,
        community_id=channel.guild.id,
        channel_id=channel.id,
        parent_id=parent,
        type=channel.type.value,
        name=name,
        owner_id=owner,
    )


def _emoji_key(emoji: discord.PartialEmoji) -> str:
    return str(emoji.id) if emoji.id else (emoji.name or "?")


class Engagement(commands.Cog):
    def __init__(self, bot: MicrovoiceBot, app: App) -> None:
        self.bot = bot
        self.app = app
        self._bots: set[int] = set()

    @property
    def _me(self) -> int | None:
        return self.bot.user.id if self.bot.user else None

    # -- channels ---------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        channels = tuple(_channel_info(c) for c in [*guild.channels, *guild.threads])
        self.app.ingest.add(channels=channels)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.on_guild_available(guild)

    @commands.Cog.listener()
    async def on_guild_channel_create(self, channel: discord.abc.GuildChannel) -> None:
        self.app.ingest.add(channels=(_channel_info(channel),))

    @commands.Cog.listener()
    async def on_guild_channel_update(
        self, _: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        self.app.ingest.add(channels=(_channel_info(after),))

    # -- messages ---------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None or message.webhook_id is not None or message.type not in RECORDED_TYPES:
            return
        author = message.author
        guild_id = message.guild.id
        if author.bot or author.system:
            self._bots.add(author.id)
            # Only the fact that this id is a bot is kept, so engagement with it never ranks it.
            if author.bot and author.id != self._me:
                self.app.ingest.add(members=(_sighting(guild_id, author, message.created_at),))
            return
        channel = message.channel
        if isinstance(channel, discord.Thread) and message.id == channel.id:
            # A forum post's starter message: the thread event already records it; keep its author
            # so replies and reactions to the post resolve.
            self.app.ingest.remember_author(PLATFORM, message.id, author.id)
            return
        kind: str = "message"
        target: int | None = None
        ref = message.reference
        if ref is not None and ref.message_id is not None and ref.type is discord.MessageReferenceType.reply:
            kind = "reply"
            target = await self._author_of_reference(ref)
            if target is not None and (target in self._bots or target == self._me):
                target = None  # replying to a bot is not engaging with a peer
        elif isinstance(channel, discord.Thread):
            # A plain message in a thread engages with whoever opened it.
            target = channel.owner_id or await self.app.ingest.thread_owner(PLATFORM, guild_id, channel.id)
        channels: tuple[ChannelInfo, ...] = ()
        if isinstance(
            channel, discord.Thread | discord.TextChannel | discord.VoiceChannel | discord.StageChannel
        ):
            channels = (_channel_info(channel),)
        self.app.ingest.add(
            EngagementEvent(
                platform=PLATFORM,
                community_id=guild_id,
                channel_id=channel.id,
                actor_id=author.id,
                kind=kind,  # type: ignore[arg-type]
                source_id=str(message.id),
                created_at=message.created_at,
                target_id=target,
            ),
            members=(_sighting(guild_id, author, message.created_at),),
            channels=channels,
        )

    async def _author_of_reference(self, ref: discord.MessageReference) -> int | None:
        resolved = ref.resolved
        if isinstance(resolved, discord.Message):
            if resolved.author.bot:
                self._bots.add(resolved.author.id)
            return resolved.author.id
        cached = ref.cached_message or self.bot._connection._get_message(ref.message_id)
        if cached is not None:
            return cached.author.id
        assert ref.message_id is not None
        return await self.app.ingest.author_of(PLATFORM, ref.message_id)

    # -- reactions --------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, "reaction")

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, "unreaction")

    async def _reaction(self, payload: discord.RawReactionActionEvent, kind: str) -> None:
        if payload.guild_id is None or payload.user_id in self._bots or payload.user_id == self._me:
            return
        member = payload.member
        if member is not None and member.bot:
            self._bots.add(member.id)
            return
        now = self.app.clock()
        target = payload.message_author_id or await self.app.ingest.author_of(PLATFORM, payload.message_id)
        sightings: tuple[MemberSighting, ...] = ()
        if member is not None:
            sightings = (_sighting(payload.guild_id, member, now),)
        self.app.ingest.add(
            EngagementEvent(
                platform=PLATFORM,
                community_id=payload.guild_id,
                channel_id=payload.channel_id,
                actor_id=payload.user_id,
                kind=kind,  # type: ignore[arg-type]
                source_id=f"{payload.message_id}:{_emoji_key(payload.emoji)}",
                created_at=now,
                target_id=target,
            ),
            members=sightings,
        )

    # -- threads and members ----------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_thread_create(self, thread: discord.Thread) -> None:
        owner = thread.owner_id
        if owner is None or owner in self._bots or owner == self._me:
            self.app.ingest.add(channels=(_channel_info(thread),))
            return
        created = thread.created_at or discord.utils.snowflake_time(thread.id)
        # A thread started from a message has that message's id: it engages with its author.
        starter_author = await self.app.ingest.author_of(PLATFORM, thread.id)
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
            ),
            channels=(_channel_info(thread),),
        )

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        if member.bot:
            self._bots.add(member.id)
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
