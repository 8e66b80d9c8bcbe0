"""discord.py messages and channels as the platform-free records the ledger works from, and the
channel history the gap fill reads. Metadata only: no message text is copied."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import discord

from bot.engagement import SeenMessage, SeenReaction
from bot.gapfill import HistoryUnavailable
from bot.ledger import ChannelInfo

PLATFORM = "discord"
# Ordinary member messages; everything else (joins, pins, boosts, command echoes) is a system message.
RECORDED_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})
RECORDED_CHANNELS = (discord.Thread, discord.TextChannel, discord.VoiceChannel, discord.StageChannel)
# The same types as raw `type` values of a MESSAGE_CREATE payload (DEFAULT and REPLY).
_RECORDED_TYPE_VALUES = frozenset(t.value for t in RECORDED_TYPES)
# System notices a member can reply to (a join, a pin, a boost): every type but ordinary messages and
# THREAD_STARTER_MESSAGE, which stands for the message its thread was opened from.
_NOT_NOTICES = frozenset({*RECORDED_TYPES, discord.MessageType.thread_starter_message})
_NOT_NOTICE_VALUES = frozenset(t.value for t in _NOT_NOTICES)
# A message_reference whose `type` is DEFAULT (0, also when absent) is a reply; FORWARD (1) is not.
_REPLY_REFERENCE = discord.MessageReferenceType.reply.value
# The system notice that a message was pinned (CHANNEL_PINNED_MESSAGE): its author pinned it, and its
# reference names the pinned message.
_PINNED_VALUE = discord.MessageType.pins_add.value


def channel_info(channel: discord.abc.GuildChannel | discord.Thread) -> ChannelInfo:
    if isinstance(channel, discord.Thread):
        # A thread's title is written by a member (a forum post's title): content, not kept.
        parent, owner, name = channel.parent_id, channel.owner_id, ""
    else:
        parent, owner, name = channel.category_id, None, channel.name
    key = (channel.guild.id, channel.id, parent, channel.type.value, name, owner)
    info = _CHANNEL_INFOS.get(key)
    if info is None:
        if len(_CHANNEL_INFOS) >= _CACHE_SIZE:
            _CHANNEL_INFOS.clear()
        info = _CHANNEL_INFOS[key] = ChannelInfo(PLATFORM, *key)
    return info


# Every message names its channel, and channels rarely change: one (immutable) record per channel
# state is kept and shared instead of being built per message. Account creation times come from
# the author's id, and members' join times repeat: both are decoded once per value.
_CACHE_SIZE = 65_536
_CHANNEL_INFOS: dict[tuple[int, int, int | None, int, str, int | None], ChannelInfo] = {}


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _account_created(user_id: int) -> datetime:
    return discord.utils.snowflake_time(user_id)


#: How far a message's `timestamp` may stand from the time its id carries before it is taken instead.
_ID_DRIFT = timedelta(minutes=1)


def _sent_at(message_id: int, timestamp: object) -> datetime:
    """When a message was sent: the time its snowflake id carries, which Discord's `timestamp` field
    repeats. Where the two disagree (ids not minted from the time, as a replay or another
    implementation may send them), the documented `timestamp` is taken."""
    at = discord.utils.snowflake_time(message_id)
    if isinstance(timestamp, str) and timestamp:
        try:
            sent = discord.utils.parse_time(timestamp)
        except ValueError:
            return at
        if sent.tzinfo is None:
            sent = sent.replace(tzinfo=UTC)
        if abs(sent - at) > _ID_DRIFT:
            return sent
    return at


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _joined(text: str | None) -> datetime | None:
    return discord.utils.parse_time(text)


def seen_message(message: discord.Message, client: discord.Client) -> SeenMessage | None:
    """The message's metadata, or None outside a server."""
    if message.guild is None:
        return None
    author = message.author
    channel = message.channel
    reply_to: int | None = None
    reply_author: int | None = None
    reply_bot = reply_notice = reply_broadcast = False
    pinned: int | None = None
    ref = message.reference
    if ref is not None and ref.message_id is not None and message.type is discord.MessageType.pins_add:
        pinned = ref.message_id
    elif ref is not None and ref.message_id is not None and ref.type is discord.MessageReferenceType.reply:
        reply_to = ref.message_id
        resolved = ref.resolved
        if not isinstance(resolved, discord.Message):
            resolved = ref.cached_message or client._connection._get_message(ref.message_id)
        if isinstance(resolved, discord.Message):
            # A webhook's message: its author (the webhook) need not carry the `bot` flag.
            reply_author = resolved.author.id
            reply_bot = resolved.author.bot or resolved.webhook_id is not None
            reply_notice = resolved.type not in _NOT_NOTICES
            reply_broadcast = resolved.mention_everyone
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
        webhook_author=message.webhook_id is not None and author.id == message.webhook_id,
        in_thread=thread is not None or message.id == channel.id,
        # Only a forum post's opening message has its channel's id, known or not yet (its
        # MESSAGE_CREATE may come before THREAD_CREATE).
        thread_starter=message.id == channel.id,
        thread_owner_id=thread.owner_id if thread is not None else None,
        reply_to=reply_to,
        reply_author_id=reply_author,
        reply_author_is_bot=reply_bot,
        reply_to_notice=reply_notice,
        pings_everyone=message.mention_everyone,
        reply_to_broadcast=reply_broadcast,
        pinned=pinned,
        joined_at=author.joined_at if isinstance(author, discord.Member) else None,
        account_created_at=author.created_at,
        channel=channel_info(channel) if isinstance(channel, RECORDED_CHANNELS) else None,
    )


def seen_payload(data: Mapping[str, Any], guild: discord.Guild, channel: Any = None) -> SeenMessage:
    """The same record as `seen_message`, read from a MESSAGE_CREATE payload of `guild` (Discord's
    documented message object: `author`, partial `member`, `message_reference`, `referenced_message`,
    `webhook_id`, `type`) without building a `discord.Message`. Known channels and members come from
    discord.py's caches exactly as `discord.Message` would take them."""
    message_id = int(data["id"])
    channel_id = int(data["channel_id"])
    author = data["author"]
    author_id = int(author["id"])
    if channel is None:  # the caller may have looked it up already
        channel = guild.get_channel_or_thread(channel_id)
    reply_to: int | None = None
    reply_author: int | None = None
    reply_bot = reply_notice = reply_broadcast = False
    pinned: int | None = None
    kind = data.get("type", 0)
    ref = data.get("message_reference")
    if ref and ref.get("message_id") is not None and kind == _PINNED_VALUE:
        pinned = int(ref["message_id"])
    elif ref and ref.get("message_id") is not None and ref.get("type", 0) == _REPLY_REFERENCE:
        reply_to = int(ref["message_id"])
        resolved = data.get("referenced_message")
        if resolved and resolved.get("author"):
            reply_author = int(resolved["author"]["id"])
            # A webhook's message: its author (the webhook) need not carry the `bot` flag.
            reply_bot = bool(resolved["author"].get("bot", False)) or resolved.get("webhook_id") is not None
            reply_notice = resolved.get("type", 0) not in _NOT_NOTICE_VALUES
            reply_broadcast = bool(resolved.get("mention_everyone", False))
    joined: Any = None
    member = data.get("member")
    if member is not None:
        joined = _joined(member.get("joined_at"))
    else:
        cached = guild.get_member(author_id)
        joined = cached.joined_at if cached is not None else None
    thread = channel if isinstance(channel, discord.Thread) else None
    return SeenMessage(
        community_id=guild.id,
        channel_id=channel_id,
        message_id=message_id,
        author_id=author_id,
        created_at=_sent_at(message_id, data.get("timestamp")),
        author_is_bot=bool(author.get("bot", False)),
        author_is_system=bool(author.get("system", False)),
        ordinary=kind in _RECORDED_TYPE_VALUES,
        from_webhook=data.get("webhook_id") is not None,
        webhook_author=data.get("webhook_id") is not None and str(data["webhook_id"]) == str(author_id),
        in_thread=thread is not None or message_id == channel_id,
        thread_starter=message_id == channel_id,
        thread_owner_id=thread.owner_id if thread is not None else None,
        reply_to=reply_to,
        reply_author_id=reply_author,
        reply_author_is_bot=reply_bot,
        reply_to_notice=reply_notice,
        pings_everyone=bool(data.get("mention_everyone", False)),
        reply_to_broadcast=reply_broadcast,
        pinned=pinned,
        joined_at=joined,
        account_created_at=_account_created(author_id),
        channel=channel_info(channel) if isinstance(channel, RECORDED_CHANNELS) else None,
    )


#: How a super reaction's key differs from a normal reaction's with the same emoji.
BURST = ":burst"


def emoji_key(emoji: Mapping[str, Any] | None) -> str:
    """A reaction's emoji as the ledger keys it: a custom emoji's id, or the unicode emoji itself."""
    emoji = emoji or {}
    return str(emoji["id"]) if emoji.get("id") else (emoji.get("name") or "?")


def seen_reaction(
    data: Mapping[str, Any], guild_id: int, *, added: bool, guild: discord.Guild | None = None
) -> SeenReaction:
    """A MESSAGE_REACTION_ADD / _REMOVE payload as the ledger needs it (Discord's documented fields:
    `user_id`, `channel_id`, `message_id`, `emoji`, and on add the reacting `member` and the
    `message_author_id`), without building discord.py's raw event, emoji and `Member`. An add
    without `member` takes the member from `guild`'s cache when it is there, as `seen_payload` does."""
    user_id = int(data["user_id"])
    key = emoji_key(data.get("emoji"))
    if data.get("burst"):  # a super reaction: one of its own, beside a normal one with the same emoji
        key += BURST
    author = data.get("message_author_id")
    member = data.get("member") if added else None
    known, is_bot, joined = bool(member), False, None
    if member:
        is_bot = bool(member.get("user", {}).get("bot", False))
        joined = _joined(member.get("joined_at"))
    elif added and guild is not None:
        cached = guild.get_member(user_id)
        if cached is not None:
            known, is_bot, joined = True, cached.bot, cached.joined_at
    return SeenReaction(
        community_id=guild_id,
        channel_id=int(data["channel_id"]),
        message_id=int(data["message_id"]),
        user_id=user_id,
        emoji=key,
        added=added,
        member_known=known,
        user_is_bot=is_bot,
        joined_at=joined,
        account_created_at=_account_created(user_id),
        message_author_id=int(author) if author is not None else None,
    )


class DiscordHistory:
    """`bot.gapfill.History` over discord.py: GET /channels/{id}/messages?after=… (discord.py waits
    out 429s itself)."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    def forget(self) -> None:
        forget_idle_ratelimits(self.client.http)

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


def forget_idle_ratelimits(http: discord.http.HTTPClient) -> int:
    """Drop discord.py's rate-limit records that hold nothing back now (none of their requests in
    flight or waiting, and a request left in their window or the window over); how many.

    discord.py keeps a record per route and channel, and drops one only when a later request finds
    it unused for five minutes: after a gap fill that read thousands of channels once, an idle bot
    kept them all (8,430 records, about 10 MB, for a server with 16,669 recorded channels). A dropped
    record is made again by the next request on its route, which then waits for Discord's headers
    before sending more, as for a route never used. Reads discord.py's internals: where they differ
    (another version), nothing is dropped.
    """
    buckets = getattr(http, "_buckets", None)
    if not isinstance(buckets, dict):
        return 0
    idle = []
    for key, limit in buckets.items():
        try:
            busy = limit.outgoing > 0 or limit._pending_requests or limit._sleeping.locked()
            limited = limit.remaining <= 0 and not limit.is_expired()
        except AttributeError:
            return 0
        if not busy and not limited:
            idle.append(key)
    for key in idle:
        del buckets[key]
    return len(idle)
