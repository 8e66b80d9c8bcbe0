"""`DiscordPlatform`: the `bot.platform.Platform` protocol on discord.py.

Posts become messages (a card is an embed, actions are buttons with the action ids as custom_ids,
attachments are files, a reply keeps posting if the message it answers was deleted); notifications
are allowed mentions of exactly the listed users, never @everyone, @here or roles. Clicks are not
handled here: the buttons are sent in a view that is never stored, so discord.py dispatches every
click to the persistent views and dynamic items the cogs register for those custom_ids — also for
messages posted before a restart.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from io import BytesIO
from typing import Any

import discord

from bot.discord_adapter.overwrites import ANY, grantable
from bot.platform import (
    Action,
    Author,
    Card,
    ChannelGone,
    ChannelState,
    Failure,
    Member,
    Overwrite,
    Post,
    Posted,
    other_failure,
)

MEMBER_OVERWRITE = 1
#: Discord's error codes for "a thread already exists on this message" and "no such overwrite".
THREAD_ALREADY_CREATED = 160004
UNKNOWN_OVERWRITE = 10009
UNKNOWN_CHANNEL = 10003
UNKNOWN_WEBHOOK = 10015
#: How far back `find_post` looks for a post made by a request whose answer never arrived.
FIND_LIMIT = 50
#: 4xx statuses that are worth retrying (timeout, conflict, too early, rate limited).
RETRYABLE_4XX = frozenset({408, 409, 425, 429})
#: What a takeover's taker is granted in the channel (added to their own overwrite from before).
GRANT = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
).value
WEBHOOK_NAME = "Microvoice takeover"


def webhook_name_ok(name: str) -> bool:
    """Whether Discord takes `name` as a webhook post's username (1-80 characters, without "discord"
    or "clyde", and not "everyone" or "here")."""
    lowered = name.lower()
    return (
        1 <= len(name) <= 80
        and "discord" not in lowered
        and "clyde" not in lowered
        and lowered not in ("everyone", "here")
    )


_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


class ActionView(discord.ui.View):
    """Buttons to send with a message. Never stored by discord.py (not dispatchable): a click goes to
    the persistent view or dynamic item registered for its custom_id."""

    def __init__(self, actions: Iterable[Action]) -> None:
        super().__init__(timeout=None)
        for action in actions:
            self.add_item(
                discord.ui.Button(
                    style=_STYLES[action.style],
                    label=action.label or None,
                    custom_id=action.id,
                    disabled=action.disabled,
                )
            )

    def is_dispatchable(self) -> bool:
        return False


def view_of(actions: Sequence[Action]) -> ActionView | None:
    return ActionView(actions) if actions else None


def embed_of(card: Card) -> discord.Embed:
    embed = discord.Embed(title=card.title or None, description=card.description or None)
    if card.author:
        embed.set_author(name=card.author)
    if card.image:
        embed.set_image(url=f"attachment://{card.image}")
    return embed


def notify_only(member_ids: Sequence[int], role_ids: Sequence[int] = ()) -> discord.AllowedMentions:
    """Allowed mentions that notify exactly these members and roles (none if both are empty); never
    everyone or here."""
    users = [discord.Object(id=m) for m in dict.fromkeys(member_ids) if m > 0]
    roles = [discord.Object(id=r) for r in dict.fromkeys(role_ids) if r > 0]
    if not users and not roles:
        return discord.AllowedMentions.none()
    return discord.AllowedMentions(
        everyone=False, roles=roles or False, users=users or False, replied_user=False
    )


def member_of(user: discord.abc.User) -> Member:
    """The platform-free facts of a user from an interaction or an event payload."""
    if isinstance(user, discord.Member):
        return Member(
            id=user.id,
            role_ids=frozenset(r.id for r in user.roles),
            joined_at=user.joined_at,
            created_at=user.created_at,
            is_bot=user.bot,
        )
    return Member(id=user.id, created_at=user.created_at, is_bot=user.bot)


class DiscordPlatform:
    """Implements `bot.platform.Platform` for one discord.py client."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self._webhooks: dict[int, discord.Webhook] = {}

    async def wait_until_ready(self) -> None:
        await self.client.wait_until_ready()

    def _messageable(self, community_id: int | None, channel_id: int) -> discord.abc.Messageable:
        channel = self.client.get_channel(channel_id)
        if isinstance(channel, discord.abc.Messageable):
            return channel
        return self.client.get_partial_messageable(channel_id, guild_id=community_id)

    def _send_kwargs(self, post: Post, channel_id: int) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(
            content=post.content, allowed_mentions=notify_only(post.notify, post.notify_roles)
        )
        if post.card is not None:
            kwargs["embed"] = embed_of(post.card)
        view = view_of(post.actions)
        if view is not None:
            kwargs["view"] = view
        if post.attachments:
            kwargs["files"] = [discord.File(BytesIO(a.data), filename=a.filename) for a in post.attachments]
        if post.reply_to is not None:
            kwargs["reference"] = discord.MessageReference(
                message_id=post.reply_to, channel_id=channel_id, fail_if_not_exists=False
            )
        if post.nonce is not None:  # discord.py sends it with enforce_nonce: a repeat returns the first
            kwargs["nonce"] = post.nonce
        return kwargs

    async def post(self, community_id: int, channel_id: int, post: Post) -> Posted:
        message = await self._messageable(community_id, channel_id).send(
            **self._send_kwargs(post, channel_id)
        )
        return Posted(message.id, channel_id, message.jump_url)

    def keeps_nonces(self, channel_id: int) -> bool:
        """Discord returns the first message for a repeated nonce (`enforce_nonce`)."""
        return True

    async def find_post(self, community_id: int, channel_id: int, post: Post) -> Posted | None:
        """The bot's own message among the channel's latest that is `post`. Discord returns a message's
        nonce only to the request that created it (and in the gateway event), not in the history, so a
        message also counts when its text, card title and reply target are the post's."""
        me = self.client.user
        if me is None:
            return None
        title = post.card.title if post.card is not None else None
        async for message in self._messageable(community_id, channel_id).history(limit=FIND_LIMIT):
            if message.author.id != me.id:
                continue
            if post.nonce is not None and message.nonce is not None and str(message.nonce) == post.nonce:
                return Posted(message.id, channel_id, message.jump_url)
            reply_to = message.reference.message_id if message.reference is not None else None
            shown = message.embeds[0].title if message.embeds else None
            if (
                (message.content or "").strip() == (post.content or "").strip()
                and (shown or None) == (title or None)
                and reply_to == post.reply_to
            ):
                return Posted(message.id, channel_id, message.jump_url)
        return None

    def failure(self, error: Exception) -> Failure:
        """Discord's refusals (403 Missing Permissions, 404 Unknown Channel, 400 invalid) are permanent;
        5xx, 429 (after discord.py's own retries), broken connections and timeouts are worth retrying."""
        if isinstance(error, discord.HTTPException):
            permanent = 400 <= error.status < 500 and error.status not in RETRYABLE_4XX
            return Failure(permanent, str(error)[:300])
        if isinstance(error, discord.RateLimited):
            return Failure(False, f"rate limited for {error.retry_after:.0f} s")
        if isinstance(error, discord.DiscordException):  # a dropped gateway, say: Discord's own words
            return Failure(False, f"{type(error).__name__}: {error}"[:300])
        return other_failure(error)

    async def edit(self, community_id: int, channel_id: int, message_id: int, post: Post) -> None:
        message = self.client.get_partial_messageable(channel_id, guild_id=community_id).get_partial_message(
            message_id
        )
        await message.edit(
            content=post.content,
            embed=embed_of(post.card) if post.card is not None else None,
            view=view_of(post.actions),
            allowed_mentions=notify_only(post.notify),
        )

    async def open_thread(self, community_id: int, channel_id: int, message_id: int, name: str) -> int:
        message = self.client.get_partial_messageable(channel_id, guild_id=community_id).get_partial_message(
            message_id
        )
        try:
            thread = await message.create_thread(name=name, auto_archive_duration=1440)
        except discord.HTTPException as error:
            if error.code != THREAD_ALREADY_CREATED:
                raise
            return message_id  # a thread started on a message has the message's id
        return thread.id

    async def republish(
        self, community_id: int, channel_id: int, message_id: int, post: Post, author: Author
    ) -> Posted:
        """Through a channel webhook (same name and avatar as the member), then the original is deleted.
        A name Discord refuses for a webhook (containing "discord" or "clyde", or "everyone" or "here")
        raises before anything is sent."""
        if not webhook_name_ok(author.name[:80]):
            raise ValueError("Discord takes no webhook post under this member's name")
        channel = self.client.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            raise TypeError(f"channel {channel_id} takes no webhooks")
        for attempt in range(2):
            webhook = self._webhooks.get(channel_id)
            if webhook is None:
                hooks = [h for h in await channel.webhooks() if h.name == WEBHOOK_NAME and h.token]
                webhook = hooks[0] if hooks else await channel.create_webhook(name=WEBHOOK_NAME)
                self._webhooks[channel_id] = webhook
            try:
                sent = await webhook.send(
                    content=post.content or "",
                    username=author.name[:80],
                    avatar_url=author.avatar_url or discord.utils.MISSING,
                    allowed_mentions=notify_only(post.notify),
                    wait=True,
                )
            except discord.NotFound as error:
                # The webhook was deleted (a moderator tidying the integrations): another, once.
                self._webhooks.pop(channel_id, None)
                if attempt or error.code != UNKNOWN_WEBHOOK:
                    raise
                continue
            try:
                await channel.get_partial_message(message_id).delete()
            except discord.NotFound:
                pass  # the member deleted it already: the copy is the one left
            except discord.HTTPException:
                # The original stays (Manage Messages taken away, Discord failing): the copy goes, so
                # the message is not shown twice, and the caller discloses the original by a reply.
                with contextlib.suppress(discord.HTTPException):
                    await sent.delete()
                raise
            return Posted(sent.id, channel_id, sent.jump_url)
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def channel_state(self, channel_id: int, member_id: int) -> ChannelState:
        raw: Any = await self.client.http.get_channel(channel_id)
        current = next(
            (
                o
                for o in raw.get("permission_overwrites", [])
                if int(o["id"]) == member_id and int(o["type"]) == MEMBER_OVERWRITE
            ),
            None,
        )
        overwrite = (
            Overwrite(allow=str(current["allow"]), deny=str(current["deny"]), kind=int(current["type"]))
            if current
            else None
        )
        return ChannelState(overwrite=overwrite, topic=raw.get("topic"))

    async def grant_posting(
        self, channel_id: int, member_id: int, *, base: Overwrite | None, reason: str
    ) -> None:
        # Discord refuses an overwrite that allows or denies what the bot may not set there
        # (`grantable`): grant only that (the taker can post in any case, since the bot's own posts
        # need the same).
        grant = GRANT & self._grantable(channel_id)
        allow = int(base.allow if base else 0) | grant
        deny = int(base.deny if base else 0) & ~grant
        await self.client.http.edit_channel_permissions(
            channel_id, member_id, str(allow), str(deny), MEMBER_OVERWRITE, reason=reason
        )

    def _grantable(self, channel_id: int) -> int:
        """The permission bits the bot may allow or deny in an overwrite of the channel (all of them
        when the channel or the bot's member is not known here)."""
        channel = self.client.get_channel(channel_id)
        if not isinstance(channel, discord.abc.GuildChannel):
            return ANY
        me = channel.guild.me
        if me is None:
            return ANY
        category = channel.category
        own = [channel.overwrites_for(me), *(channel.overwrites_for(role) for role in me.roles)]
        return grantable(
            guild=me.guild_permissions.value,
            parent=category.permissions_for(me).value if category is not None else None,
            channel=channel.permissions_for(me).value,
            manage_roles_overwrite=any(o.manage_roles is True for o in own),
        )

    async def restore_overwrite(
        self, channel_id: int, member_id: int, overwrite: Overwrite | None, *, reason: str
    ) -> None:
        try:
            if overwrite is None:
                try:
                    await self.client.http.delete_channel_permissions(channel_id, member_id, reason=reason)
                except discord.NotFound as error:
                    if error.code != UNKNOWN_OVERWRITE:  # already gone is what was asked for
                        raise
                return
            await self.client.http.edit_channel_permissions(
                channel_id, member_id, overwrite.allow, overwrite.deny, overwrite.kind, reason=reason
            )
        except discord.NotFound as error:
            if error.code == UNKNOWN_CHANNEL:
                raise ChannelGone(channel_id) from error
            raise

    async def set_topic(self, channel_id: int, topic: str | None, *, reason: str) -> None:
        await self.client.http.edit_channel(channel_id, reason=reason, topic=topic)

    async def send_private(self, member_id: int, post: Post) -> Posted | None:
        user = self.client.get_user(member_id) or await self.client.fetch_user(member_id)
        try:
            channel = await user.create_dm()
            message = await channel.send(**self._send_kwargs(post, channel.id))
        except discord.Forbidden:  # the member does not accept private messages from this server
            return None
        return Posted(message.id, channel.id, message.jump_url)

    async def member(self, community_id: int, member_id: int) -> Member | None:
        guild = self.client.get_guild(community_id)
        found = guild.get_member(member_id) if guild is not None else None
        if found is None:
            try:
                data = await self.client.http.get_member(community_id, member_id)
            except discord.NotFound:
                return None
            user = data["user"]
            joined = data.get("joined_at")
            return Member(
                id=member_id,
                role_ids=frozenset(int(r) for r in data.get("roles", [])),
                joined_at=datetime.fromisoformat(joined) if joined else None,
                created_at=discord.utils.snowflake_time(member_id),
                is_bot=bool(user.get("bot", False)),
            )
        return member_of(found)

    def mention(self, member_id: int) -> str:
        return f"<@{member_id}>"

    def channel_link(self, channel_id: int) -> str:
        return f"<#{channel_id}>"

    def role_mention(self, role_id: int) -> str:
        return f"<@&{role_id}>"

    def timestamp(self, when: datetime) -> str:
        return discord.utils.format_dt(when, "f")
