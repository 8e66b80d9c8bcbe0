"""Building the world tests run in (users, guilds, roles, channels, members, webhooks, DMs) and acting in it
as its users (messages, edits, reactions, threads)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sandbox.discord_server.common import iso, json_copy, not_found_error, public_copy, snowflake_time, utcnow
from sandbox.discord_server.core import SandboxCore
from sandbox.discord_server.protocol import (
    ALL_PERMISSIONS,
    CH_CATEGORY,
    CH_DM,
    CH_FORUM,
    CH_MEDIA,
    CH_NEWS,
    CH_PRIVATE_THREAD,
    CH_PUBLIC_THREAD,
    CH_STAGE,
    CH_TEXT,
    CH_VOICE,
    DEFAULT_EVERYONE_PERMISSIONS,
    GUILD_CHANNEL_TYPES,
    THREAD_TYPES,
    Permissions,
)
from sandbox.discord_server.state import StoredGuild


class WorldBuilding(SandboxCore):
    """World building and injected user activity; gateway events are emitted as Discord would."""

    # --------------------------------------------------------------------------------------------------------
    # world building
    # --------------------------------------------------------------------------------------------------------

    def make_user(
        self,
        user_id: int,
        username: str,
        *,
        bot: bool = False,
        discriminator: str = "0",
        global_name: str | None = None,
    ) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": str(user_id),
            "username": username,
            "avatar": None,
            "discriminator": discriminator,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "global_name": global_name,
            "avatar_decoration_data": None,
            "collectibles": None,
            "display_name_styles": None,
            "banner_color": None,
            "clan": None,
            "primary_guild": None,
        }
        if bot:
            user["bot"] = True
        return user

    def add_user(
        self,
        username: str,
        *,
        bot: bool = False,
        user_id: int | None = None,
        created_at: datetime | None = None,
        global_name: str | None = None,
    ) -> int:
        """Create a user (account age follows ``created_at`` because it is encoded in the snowflake)."""
        if user_id is None:
            user_id = self.state.ids.next(created_at)
        else:
            self.state.ids.reserve(user_id)
        discriminator = f"{secrets.randbelow(9000) + 1000}" if bot else "0"
        self.state.users[user_id] = self.make_user(
            user_id, username, bot=bot, discriminator=discriminator, global_name=global_name
        )
        return user_id

    def add_guild(
        self,
        name: str,
        *,
        guild_id: int | None = None,
        owner_id: int | None = None,
        bot_permissions: int = Permissions.ADMINISTRATOR,
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        features: Sequence[str] = (),
        locale: str = "en-US",
    ) -> int:
        """Create a guild the bot is in: @everyone (id == guild id), the bot's managed role, owner and bot.

        The bot's managed role gets ``bot_permissions`` (Administrator by default) and sits at the top of the
        hierarchy. Added after READY, the bot receives GUILD_CREATE as if it had just been invited.
        """
        gid = self.state.ids.reserve(guild_id) if guild_id is not None else self.state.ids.next()
        owner = owner_id if owner_id is not None else self.owner_user_id
        if owner not in self.state.users:
            raise KeyError(f"owner {owner} is not a known user (add_user first)")
        data: dict[str, Any] = {
            "id": str(gid),
            "name": name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(owner),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "features": list(features),
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": locale,
            "public_updates_channel_id": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "nsfw": False,
            "premium_progress_bar_enabled": False,
            "safety_alerts_channel_id": None,
            "incidents_data": None,
            "hub_type": None,
            "latest_onboarding_question_id": None,
            "home_header": None,
            "emojis": [],
            "stickers": [],
        }
        guild = StoredGuild(data=data, roles={}, members={})
        guild.roles[gid] = self._make_role(gid, "@everyone", everyone_permissions, position=0)
        bot_role_id = self.state.ids.next()
        bot_name = self.state.users[self.bot_user_id]["username"]
        bot_role = self._make_role(bot_role_id, bot_name, bot_permissions, 1)
        bot_role["managed"] = True
        bot_role["tags"] = {"bot_id": str(self.bot_user_id)}
        guild.roles[bot_role_id] = bot_role
        guild.bot_role_id = bot_role_id
        self.state.guilds[gid] = guild
        created = snowflake_time(gid)
        guild.members[owner] = self._make_member(created, [])
        guild.members[self.bot_user_id] = self._make_member(utcnow(), [bot_role_id])
        for session in self.live_sessions():
            if session.owns_guild(gid):
                session.guild_ids.add(gid)
        self.emit("GUILD_CREATE", lambda session: self.guild_create_payload(gid, session, initial=False))
        return gid

    async def guild_outage(self, gid: int) -> None:
        """An outage of the guild on Discord's side: GUILD_DELETE with `unavailable: true`, then none of
        its events (they happen, but the client is not sent them) until `guild_back`."""
        self.state.outages.add(gid)
        self.emit("GUILD_DELETE", {"id": str(gid), "unavailable": True})
        await self.flush()

    async def guild_back(self, gid: int) -> None:
        """The outage ends: GUILD_CREATE with the guild as it is now."""
        self.state.outages.discard(gid)
        self.emit("GUILD_CREATE", lambda session: self.guild_create_payload(gid, session, initial=False))
        await self.flush()

    def _make_role(self, role_id: int, name: str, permissions: int, position: int) -> dict[str, Any]:
        return {
            "id": str(role_id),
            "name": name,
            "description": None,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": position,
            "permissions": str(permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def _make_member(
        self, joined_at: datetime, roles: Iterable[int], nick: str | None = None
    ) -> dict[str, Any]:
        return {
            "avatar": None,
            "banner": None,
            "communication_disabled_until": None,
            "deaf": False,
            "flags": 0,
            "joined_at": iso(joined_at),
            "mute": False,
            "nick": nick,
            "pending": False,
            "premium_since": None,
            "roles": [str(r) for r in roles],
            "avatar_decoration_data": None,
            "collectibles": None,
        }

    def stored_guild(self, guild_id: int) -> StoredGuild:
        try:
            return self.state.guilds[guild_id]
        except KeyError:
            raise not_found_error(10004, "Guild") from None

    def add_role(
        self,
        guild_id: int,
        name: str,
        *,
        permissions: int = 0,
        role_id: int | None = None,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
        position: int | None = None,
    ) -> int:
        """Create a role; by default just below the bot's role so the bot can manage it (pass ``position``
        to put it above the bot and exercise hierarchy errors). Dispatches GUILD_ROLE_CREATE after READY."""
        guild = self.stored_guild(guild_id)
        rid = self.state.ids.reserve(role_id) if role_id is not None else self.state.ids.next()
        if position is None:
            position = int(guild.roles[guild.bot_role_id]["position"])
        self._shift_roles(guild, position)
        role = self._make_role(rid, name, permissions, position)
        role["color"] = color
        role["colors"]["primary_color"] = color
        role["hoist"] = hoist
        role["mentionable"] = mentionable
        guild.roles[rid] = role
        self.emit("GUILD_ROLE_CREATE", {"guild_id": str(guild_id), "role": public_copy(role)})
        return rid

    def _shift_roles(self, guild: StoredGuild, position: int) -> None:
        for role in guild.roles.values():
            if role["id"] != guild.data["id"] and role["position"] >= position:
                role["position"] += 1

    def add_channel(
        self,
        guild_id: int,
        name: str,
        *,
        type: int = CH_TEXT,  # mirrors Discord's field name
        parent_id: int | None = None,
        channel_id: int | None = None,
        topic: str | None = None,
        overwrites: Sequence[dict[str, Any]] = (),
        nsfw: bool = False,
    ) -> int:
        """Create a guild channel (0 text, 2 voice, 4 category, 5 news, 13 stage, 15 forum, 16 media).

        Threads are created with :meth:`create_thread`. Dispatches CHANNEL_CREATE after READY.
        """
        guild = self.stored_guild(guild_id)
        if type not in GUILD_CHANNEL_TYPES:
            raise ValueError(
                f"channel type {type} cannot be created with add_channel (threads: create_thread)"
            )
        if parent_id is not None and self.state.channels.get(parent_id, {}).get("type") != CH_CATEGORY:
            raise ValueError(f"parent {parent_id} is not a category channel")
        cid = self.state.ids.reserve(channel_id) if channel_id is not None else self.state.ids.next()
        channel = self._build_guild_channel(cid, guild_id, name, type, parent_id, topic, nsfw, overwrites)
        self.state.channels[cid] = channel
        self.state.channel_messages[cid] = []
        if guild.data["system_channel_id"] is None and type == CH_TEXT:
            guild.data["system_channel_id"] = str(cid)
        self.emit("CHANNEL_CREATE", public_copy(channel))
        return cid

    def _build_guild_channel(
        self,
        cid: int,
        guild_id: int,
        name: str,
        type_: int,
        parent_id: int | None,
        topic: str | None,
        nsfw: bool,
        overwrites: Sequence[dict[str, Any]],
    ) -> dict[str, Any]:
        position = sum(
            1
            for c in self.state.channels.values()
            if c.get("guild_id") == str(guild_id) and c["type"] == type_
        )
        channel: dict[str, Any] = {
            "id": str(cid),
            "type": type_,
            "guild_id": str(guild_id),
            "name": name,
            "position": position,
            "permission_overwrites": [self.normalise_overwrite(o) for o in overwrites],
            "parent_id": str(parent_id) if parent_id is not None else None,
            "flags": 0,
        }
        if type_ != CH_CATEGORY:
            channel.update(nsfw=nsfw, rate_limit_per_user=0, last_message_id=None)
        if type_ in (CH_TEXT, CH_NEWS, CH_FORUM, CH_MEDIA):
            channel.update(
                topic=topic, default_auto_archive_duration=4320, default_thread_rate_limit_per_user=0
            )
            channel["last_pin_timestamp"] = None
        if type_ in (CH_VOICE, CH_STAGE):
            channel.update(bitrate=64000, user_limit=0, rtc_region=None, video_quality_mode=1)
        if type_ in (CH_FORUM, CH_MEDIA):
            channel.update(
                available_tags=[],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
                template="",
            )
        return channel

    @staticmethod
    def normalise_overwrite(overwrite: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(overwrite["id"]),
            "type": int(overwrite.get("type", 0)),
            "allow": str(overwrite.get("allow", "0")),
            "deny": str(overwrite.get("deny", "0")),
        }

    def add_member(
        self,
        guild_id: int,
        user_id: int,
        *,
        roles: Sequence[int] = (),
        joined_at: datetime | None = None,
        dispatch: bool = True,
        nick: str | None = None,
        pending: bool = False,
    ) -> None:
        """Add a user to a guild. After READY this sends GUILD_MEMBER_ADD (GUILD_MEMBERS intent only)."""
        guild = self.stored_guild(guild_id)
        if user_id not in self.state.users:
            raise KeyError(f"user {user_id} does not exist (add_user first)")
        for role_id in roles:
            if role_id not in guild.roles or role_id == guild_id:
                raise KeyError(f"role {role_id} is not a role of guild {guild_id}")
        member = self._make_member(joined_at or utcnow(), roles, nick)
        member["pending"] = pending
        guild.members[user_id] = member
        if dispatch:
            self.emit(
                "GUILD_MEMBER_ADD", {**self.member_payload(guild_id, user_id), "guild_id": str(guild_id)}
            )

    def remove_member(self, guild_id: int, user_id: int) -> None:
        """A member leaves: GUILD_MEMBER_REMOVE (GUILD_MEMBERS intent)."""
        guild = self.stored_guild(guild_id)
        guild.members.pop(user_id, None)
        self.emit(
            "GUILD_MEMBER_REMOVE",
            {"guild_id": str(guild_id), "user": json_copy(self.state.users[user_id])},
        )

    def add_webhook(
        self,
        channel_id: int,
        name: str = "Captain Hook",
        *,
        user_id: int | None = None,
        author_bot: bool = True,
    ) -> int:
        """Create an incoming webhook owned by someone else (e.g. another integration) in a channel.
        Without ``author_bot`` its messages' author (the webhook) carries no ``bot`` flag: Discord
        documents that author only as the webhook's id, name and avatar."""
        channel = self.stored_channel(channel_id)
        creator = user_id if user_id is not None else self.owner_user_id
        webhook = self.create_webhook(channel, name, creator, application_id=None)
        webhook["_author_bot"] = author_bot
        return int(webhook["id"])

    def open_dm(self, user_id: int) -> int:
        """Get or create the DM channel between the bot and ``user_id``."""
        if user_id not in self.state.users:
            raise KeyError(f"user {user_id} does not exist")
        if user_id in self.state.dm_channels:
            return self.state.dm_channels[user_id]
        cid = self.state.ids.next()
        self.state.channels[cid] = {
            "id": str(cid),
            "type": CH_DM,
            "last_message_id": None,
            "flags": 0,
            "recipients": [json_copy(self.state.users[user_id])],
            "_recipient_id": user_id,
        }
        self.state.channel_messages[cid] = []
        self.state.dm_channels[user_id] = cid
        return cid

    def close_dms(self, user_id: int) -> None:
        """Make the user refuse DMs from the bot (sending then fails with 50007)."""
        self.state.dms_closed.add(user_id)

    # --------------------------------------------------------------------------------------------------------
    # injected user activity
    # --------------------------------------------------------------------------------------------------------

    def require_member(self, guild_id: int | None, user_id: int) -> None:
        if user_id not in self.state.users:
            raise KeyError(f"user {user_id} does not exist (add_user first)")
        if guild_id is not None and user_id not in self.stored_guild(guild_id).members:
            raise ValueError(f"user {user_id} is not a member of guild {guild_id} (add_member first)")

    async def send_message(
        self,
        channel_id: int,
        author_id: int,
        content: str = "",
        *,
        reply_to: int | None = None,
        message_id: int | None = None,
        timestamp: datetime | None = None,
        webhook_id: int | None = None,
        type: int | None = None,  # Discord's field name
        embeds: Sequence[dict[str, Any]] = (),
        attachments: Sequence[tuple[str, bytes]] = (),
        components: Sequence[dict[str, Any]] = (),
        mention_replied: bool = True,
        flags: int = 0,
        nonce: str | None = None,
        forward_of: int | None = None,
        member: bool = True,
    ) -> dict[str, Any]:
        """A user (or webhook ``webhook_id``) posts a message: it is stored and MESSAGE_CREATE goes out.

        Returns the full gateway payload (the bot itself gets a redacted copy if it lacks MESSAGE_CONTENT).
        Replies get type 19, ``message_reference`` and — if ``mention_replied`` — the replied-to author in
        ``mentions`` (the Discord client's default reply ping). ``forward_of`` forwards that message (of
        any channel): type 0, no content, ``message_reference`` of type 1 (FORWARD) and
        ``message_snapshots``. Without ``member`` the event omits the author's partial member (Discord
        documents it as optional).
        """
        channel = self.state.channels[channel_id]
        guild_id = self.guild_id_of(channel)
        extra: dict[str, Any] = {}
        if webhook_id is not None:
            author = self.webhook_author(webhook_id)
            extra["webhook_id"] = str(webhook_id)
            perms = ALL_PERMISSIONS
        else:
            self.require_member(guild_id, author_id)
            if channel["type"] == CH_DM and author_id not in (channel["_recipient_id"], self.bot_user_id):
                raise ValueError(f"user {author_id} is not a participant of DM channel {channel_id}")
            author = self.state.users[author_id]
            perms = self.compute_permissions(guild_id, author_id, channel_id) if guild_id else ALL_PERMISSIONS
        payload: dict[str, Any] = {"content": content, "embeds": list(embeds), "components": list(components)}
        if nonce is not None:
            payload["nonce"] = nonce
        if reply_to is not None:
            self.stored_message(channel_id, reply_to)
            payload["message_reference"] = {"type": 0, "message_id": reply_to, "channel_id": channel_id}
            payload["allowed_mentions"] = {
                "parse": ["users", "roles", "everyone"],
                "replied_user": mention_replied,
            }
        if forward_of is not None:
            source = self.state.messages[forward_of]
            payload["content"] = ""
            payload["message_reference"] = {
                "type": 1,
                "message_id": forward_of,
                "channel_id": int(source["channel_id"]),
            }
            if source.get("_guild_id") is not None:
                payload["message_reference"]["guild_id"] = source["_guild_id"]
            self.check_reference(channel, payload)
            extra["message_snapshots"] = payload.pop("_snapshot")
        files = [(f"files[{i}]", name, data) for i, (name, data) in enumerate(attachments)]
        if channel["type"] in THREAD_TYPES and webhook_id is None:
            channel["_members"].setdefault(author_id, iso(utcnow()))
            channel["member_count"] = len(channel["_members"])
        stored = self.create_stored_message(
            channel,
            author,
            payload,
            files,
            msg_type=type,
            flags=flags,
            author_perms=perms,
            message_id=message_id,
            timestamp=timestamp,
            extra=extra,
        )
        rendered = self.render_message(stored, gateway=True)
        if not member:
            rendered.pop("member", None)
        await self.dispatch("MESSAGE_CREATE", rendered)
        return rendered

    async def edit_message(self, channel_id: int, message_id: int, content: str) -> dict[str, Any]:
        """A user edits their message: MESSAGE_UPDATE with the full message."""
        stored = self.stored_message(channel_id, message_id)
        self.edit_stored_message(stored, {"content": content}, [])
        await self.flush()
        return self.render_message(stored, gateway=True)

    async def pin_message(self, channel_id: int, message_id: int, user_id: int) -> dict[str, Any]:
        """A member with Pin Messages (or Manage Messages) pins a message from their client: as
        Discord does, MESSAGE_UPDATE (pinned), CHANNEL_PINS_UPDATE, and the system notice
        CHANNEL_PINNED_MESSAGE (type 6) in the pinner's name, referencing the pinned message.
        Returns the notice's gateway payload."""
        channel = self.state.channels[channel_id]
        guild_id = self.guild_id_of(channel)
        self.require_member(guild_id, user_id)
        perms = self.compute_permissions(guild_id, user_id, channel_id)
        wanted = Permissions.PIN_MESSAGES | Permissions.MANAGE_MESSAGES
        if not perms & (Permissions.ADMINISTRATOR | wanted):
            raise PermissionError(f"user {user_id} may not pin messages in channel {channel_id}")
        stored = self.stored_message(channel_id, message_id)
        notice = self.pin_stored_message(channel, stored, True, self.state.users[user_id])
        if notice is None:
            raise ValueError(f"message {message_id} is pinned already")
        await self.dispatch("MESSAGE_CREATE", notice)
        return notice

    async def delete_message(self, channel_id: int, message_id: int) -> None:
        """A user (or moderator) deletes a message: MESSAGE_DELETE."""
        self.delete_stored_message(self.stored_message(channel_id, message_id))
        await self.flush()

    async def bulk_delete_messages(self, channel_id: int, message_ids: list[int]) -> None:
        """A moderator (or a moderation bot) purges messages of one channel: one MESSAGE_DELETE_BULK."""
        channel = self.stored_channel(channel_id)
        for message_id in message_ids:
            self.stored_message(channel_id, message_id)  # each must exist there
            self.state.messages.pop(message_id)
            with contextlib.suppress(ValueError):
                self.state.channel_messages[channel_id].remove(message_id)
        payload: dict[str, Any] = {"ids": [str(i) for i in message_ids], "channel_id": str(channel_id)}
        if channel.get("guild_id"):
            payload["guild_id"] = channel["guild_id"]
        self.emit("MESSAGE_DELETE_BULK", payload)
        await self.flush()

    async def add_reaction(
        self,
        channel_id: int,
        message_id: int,
        user_id: int,
        emoji: str = "👍",
        *,
        burst: bool = False,
        without: Sequence[str] = (),
    ) -> dict[str, Any]:
        """A user reacts: MESSAGE_REACTION_ADD with member, message_author_id, burst and type.

        ``emoji`` is a unicode emoji or ``'name:id'`` for a custom one. Reacting twice is a no-op (nothing is
        dispatched) like on Discord; the payload is returned either way. ``without`` leaves optional
        fields out of the event (``"member"``, ``"message_author_id"``), as Discord may.
        """
        stored = self.stored_message(channel_id, message_id)
        self.require_member(stored.get("_guild_id"), user_id)
        payload = self.react(stored, user_id, emoji, burst=burst, add=True, without=without)
        await self.flush()
        if payload is None:
            _, parsed = self.parse_emoji(emoji)
            payload = self.reaction_payload(stored, user_id, parsed, burst=burst, add=True)
        return payload

    async def remove_reaction(
        self, channel_id: int, message_id: int, user_id: int, emoji: str = "👍", *, burst: bool = False
    ) -> dict[str, Any]:
        """A user removes a reaction: MESSAGE_REACTION_REMOVE (no member/message_author_id, like Discord)."""
        stored = self.stored_message(channel_id, message_id)
        payload = self.react(stored, user_id, emoji, burst=burst, add=False)
        await self.flush()
        if payload is None:
            _, parsed = self.parse_emoji(emoji)
            payload = self.reaction_payload(stored, user_id, parsed, burst=burst, add=False)
        return payload

    async def clear_reactions(self, channel_id: int, message_id: int, emoji: str | None = None) -> None:
        """A moderator removes every reaction of a message, or every one with `emoji`:
        MESSAGE_REACTION_REMOVE_ALL / _REMOVE_EMOJI, with no event per member (as on Discord)."""
        stored = self.stored_message(channel_id, message_id)
        channel = self.stored_channel(channel_id)
        payload: dict[str, Any] = {"channel_id": str(channel_id), "message_id": stored["id"]}
        if channel.get("guild_id"):
            payload["guild_id"] = channel["guild_id"]
        if emoji is None:
            stored["_reactions"] = {}
            self.emit("MESSAGE_REACTION_REMOVE_ALL", payload)
        else:
            key, parsed = self.parse_emoji(emoji)
            stored.get("_reactions", {}).pop(key, None)
            self.emit("MESSAGE_REACTION_REMOVE_EMOJI", {**payload, "emoji": parsed})
        await self.flush()

    async def create_thread(
        self,
        channel_id: int,
        owner_id: int,
        name: str,
        *,
        message_id: int | None = None,
        thread_id: int | None = None,
        private: bool = False,
        content: str | None = None,
        applied_tags: Sequence[int] = (),
        starter_first: bool = False,
        seen_by_bot: bool = True,
    ) -> dict[str, Any]:
        """A user opens a thread (THREAD_CREATE with ``newly_created``) and returns that payload.

        Under a forum/media channel this is a forum post: a type-11 thread plus its starter message (same id,
        ``content`` defaulting to ``name``) dispatched as MESSAGE_CREATE after THREAD_CREATE (before it with
        ``starter_first``: the gateway does not promise their order). With
        ``message_id`` the thread hangs off that message (thread id == message id). Otherwise public threads
        also get Discord's THREAD_CREATED (type 18) notice in the parent. A private thread with
        ``seen_by_bot=False`` sends nothing: the bot (not a member, no Manage Threads) learns of it
        when it is added (:meth:`add_thread_member`).
        """
        parent = self.state.channels[channel_id]
        self.require_member(self.guild_id_of(parent), owner_id)
        if parent["type"] in (CH_FORUM, CH_MEDIA):
            body = {"name": name, "message": {"content": content or name}, "applied_tags": list(applied_tags)}
            post = self.create_forum_post(
                parent, body, [], owner_id, thread_id=thread_id, starter_first=starter_first
            )
            thread = self.state.channels[int(post["id"])]
        elif message_id is not None:
            stored = self.stored_message(channel_id, message_id)
            if stored.get("_thread_id") is not None:
                raise ValueError(f"message {message_id} already has a thread")
            thread = self.build_thread(parent, owner_id, name, thread_id=message_id)
            stored["_thread_id"] = int(thread["id"])
            self.emit("THREAD_CREATE", self.thread_create_payload(thread))
            self.emit("MESSAGE_UPDATE", self.render_message(stored, gateway=True))
        else:
            kind = CH_PRIVATE_THREAD if private else CH_PUBLIC_THREAD
            thread = self.build_thread(parent, owner_id, name, thread_id=thread_id, thread_type=kind)
            if seen_by_bot or not private:
                self.emit("THREAD_CREATE", self.thread_create_payload(thread))
            if not private:
                self.thread_created_notice(parent, thread, owner_id)
        await self.flush()
        return self.thread_create_payload(thread)

    async def add_thread_member(self, thread_id: int, user_id: int) -> None:
        """A member adds ``user_id`` to a thread: THREAD_MEMBERS_UPDATE, and for the bot itself
        THREAD_CREATE without ``newly_created`` (the thread existed before) carrying its thread member."""
        thread = self.stored_channel(thread_id)
        thread["_members"].setdefault(user_id, iso(utcnow()))
        thread["member_count"] = len(thread["_members"])
        if user_id == self.bot_user_id:
            payload = self.thread_create_payload(thread)
            del payload["newly_created"]
            self.emit("THREAD_CREATE", payload)
        joined = thread["_members"][user_id]
        self.emit(
            "THREAD_MEMBERS_UPDATE",
            {
                "id": thread["id"],
                "guild_id": thread["guild_id"],
                "member_count": thread["member_count"],
                "added_members": [
                    {"id": thread["id"], "user_id": str(user_id), "join_timestamp": joined, "flags": 0}
                ],
            },
        )
        await self.flush()

    async def sync_threads(self, guild_id: int, channel_ids: Sequence[int] | None = None) -> dict[str, Any]:
        """THREAD_LIST_SYNC (sent when the bot gains access to channels): the active threads of the
        guild, or of ``channel_ids`` (their parents), with the bot's own thread memberships."""
        stored = [
            t
            for t in self.state.channels.values()
            if t["type"] in THREAD_TYPES
            and t["guild_id"] == str(guild_id)
            and not t["thread_metadata"]["archived"]
            and (channel_ids is None or int(t["parent_id"]) in channel_ids)
        ]
        me = self.bot_user_id
        payload: dict[str, Any] = {
            "guild_id": str(guild_id),
            "threads": [public_copy(t) for t in stored],
            "members": [
                {"id": t["id"], "user_id": str(me), "join_timestamp": t["_members"][me], "flags": 1}
                for t in stored
                if me in t["_members"]
            ],
        }
        if channel_ids is not None:
            payload["channel_ids"] = [str(c) for c in channel_ids]
        self.emit("THREAD_LIST_SYNC", payload)
        await self.flush()
        return payload
