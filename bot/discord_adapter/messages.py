"""discord.py messages and channels as the platform-free records the ledger works from, and the
channel history the gap fill reads. Metadata only: no message text is copied."""

from __future__ import annotations

import discord

from bot.engagement import SeenMessage
from bot.gapfill import HistoryUnavailable
from bot.ledger import ChannelInfo

PLATFORM = "discord"
# Ordinary member messages; everything else (joins, pins, boosts, command echoes) is a system message.
RECORDED_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})
RECORDED_CHANNELS = (discord.Thread, discord.TextChannel, discord.VoiceChannel, discord.StageChannel)


def channel_info(channel: discord.abc.GuildChannel | discord.Thread) -> ChannelInfo:
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


def seen_message(message: discord.Message, client: discord.Client) -> SeenMessage | None:
    """The message's metadata, or None outside a server."""
    if message.guild is None:
        return None
    author = message.author
    channel = message.channel
    reply_to: int | None = None
    reply_author: int | None = None
    reply_bot = False
    ref = message.reference
    if ref is not None and ref.message_id is not None and ref.type is discord.MessageReferenceType.reply:
        reply_to = ref.message_id
        resolved = ref.resolved
        if not isinstance(resolved, discord.Message):
            resolved = ref.cached_message or client._connection._get_message(ref.message_id)
        if isinstance(resolved, discord.Message):
            reply_author, reply_bot = resolved.author.id, resolved.author.bot
    thread = channel if isinstance(channel, discord.Thread) else None
    return SeenMessage(
        community_id=message.guild.id,
        channel_id=channel.id,
        message_id=message.id,
        author_id=author.id,
        created_at=message.created_at,
        author_is_bot=author.bot,
        author_is_system=author.system,
        ordinary=message.type in RECORDED_TYPES,
        from_webhook=message.webhook_id is not None,
        in_thread=thread is not None,
        thread_starter=thread is not None and message.id == thread.id,
        thread_owner_id=thread.owner_id if thread is not None else None,
        reply_to=reply_to,
        reply_author_id=reply_author,
        reply_author_is_bot=reply_bot,
        joined_at=author.joined_at if isinstance(author, discord.Member) else None,
        account_created_at=author.created_at,
        channel=channel_info(channel) if isinstance(channel, RECORDED_CHANNELS) else None,
    )


class DiscordHistory:
    """`bot.gapfill.History` over discord.py: GET /channels/{id}/messages?after=… (discord.py waits
    out 429s itself)."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def messages_after(self, channel_id: int, after_id: int, limit: int) -> list[SeenMessage]:
        channel = self.client.get_channel(channel_id)
        try:
            if channel is None:
                channel = await self.client.fetch_channel(channel_id)
            if not isinstance(channel, discord.abc.Messageable):
                raise HistoryUnavailable(channel_id)
            seen: list[SeenMessage] = []
            async for message in channel.history(
                limit=limit, after=discord.Object(after_id), oldest_first=True
            ):
                record = seen_message(message, self.client)
                if record is not None:
                    seen.append(record)
            return seen
        except (discord.Forbidden, discord.NotFound) as error:
            raise HistoryUnavailable(channel_id) from error
