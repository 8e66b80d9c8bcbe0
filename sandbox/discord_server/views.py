"""Read-only views of the stored state: what tests observe, permission computation, and the Discord-shaped
objects (members, guilds, messages) rendered from stored data."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from sandbox.discord_server.common import json_copy, not_found_error, public_copy, utcnow
from sandbox.discord_server.core import SandboxCore
from sandbox.discord_server.gateway import GatewaySession
from sandbox.discord_server.protocol import ALL_PERMISSIONS, THREAD_TYPES, Intents, Permissions


class StateViews(SandboxCore):
    """Observation helpers and renderers of stored objects."""

    # --------------------------------------------------------------------------------------------------------
    # observation
    # --------------------------------------------------------------------------------------------------------

    def user(self, user_id: int) -> dict[str, Any]:
        return json_copy(self.state.users[user_id])

    def guild(self, guild_id: int) -> dict[str, Any]:
        return self.guild_object(guild_id)

    def channel(self, channel_id: int) -> dict[str, Any]:
        return public_copy(self.state.channels[channel_id])

    def member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        return self.member_payload(guild_id, user_id)

    def channel_overwrites(self, channel_id: int) -> list[dict[str, Any]]:
        """Current permission overwrites of a channel."""
        return json_copy(self.state.channels[channel_id]["permission_overwrites"])

    def messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Messages in a channel, oldest first, REST-shaped (ephemeral interaction replies are not listed)."""
        return [
            self.render_message(self.state.messages[mid])
            for mid in self.state.channel_messages.get(channel_id, [])
        ]

    def message(self, message_id: int) -> dict[str, Any] | None:
        """Any stored message by id (including ephemeral ones), REST-shaped."""
        stored = self.state.messages.get(message_id)
        return self.render_message(stored) if stored is not None else None

    def webhooks(self, channel_id: int | None = None) -> list[dict[str, Any]]:
        return [
            public_copy(w)
            for w in self.state.webhooks.values()
            if channel_id is None or w["channel_id"] == str(channel_id)
        ]

    def roles(self, guild_id: int) -> list[dict[str, Any]]:
        """Roles of a guild sorted by position (@everyone first)."""
        guild = self.stored_guild(guild_id)
        ordered = sorted(guild.roles.values(), key=lambda r: (r["position"], int(r["id"])))
        return [public_copy(r) for r in ordered]

    def threads(self, guild_id: int | None = None, *, parent_id: int | None = None) -> list[dict[str, Any]]:
        return [
            public_copy(c)
            for c in self.state.channels.values()
            if c["type"] in THREAD_TYPES
            and (guild_id is None or c["guild_id"] == str(guild_id))
            and (parent_id is None or c["parent_id"] == str(parent_id))
        ]

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Synced application commands (global, or for one guild)."""
        state = self.state
        store = state.global_commands if guild_id is None else state.guild_commands.get(guild_id, {})
        return [json_copy(c) for c in store.values()]

    def compute_permissions(self, guild_id: int, user_id: int, channel_id: int | None = None) -> int:
        """Discord's permission algorithm: role permissions, Administrator/owner, then channel overwrites."""
        guild = self.stored_guild(guild_id)
        if str(user_id) == guild.data["owner_id"]:
            return ALL_PERMISSIONS
        member = guild.members.get(user_id)
        if member is None:
            return 0
        perms = int(guild.roles[guild_id]["permissions"])
        for role_id in member["roles"]:
            role = guild.roles.get(int(role_id))
            if role is not None:
                perms |= int(role["permissions"])
        if perms & Permissions.ADMINISTRATOR:
            return ALL_PERMISSIONS
        if channel_id is not None:
            channel = self.state.channels[channel_id]
            if channel["type"] in THREAD_TYPES:
                channel = self.state.channels[int(channel["parent_id"])]
            overwrites = {int(o["id"]): o for o in channel.get("permission_overwrites", [])}
            everyone = overwrites.get(guild_id)
            if everyone is not None:
                perms = (perms & ~int(everyone["deny"])) | int(everyone["allow"])
            allow = deny = 0
            for role_id in member["roles"]:
                overwrite = overwrites.get(int(role_id))
                if overwrite is not None and overwrite["type"] == 0:
                    allow |= int(overwrite["allow"])
                    deny |= int(overwrite["deny"])
            perms = (perms & ~deny) | allow
            own = overwrites.get(user_id)
            if own is not None and own["type"] == 1:
                perms = (perms & ~int(own["deny"])) | int(own["allow"])
            if not perms & Permissions.VIEW_CHANNEL:
                return 0
            if not perms & Permissions.SEND_MESSAGES:
                perms &= ~(
                    Permissions.SEND_TTS_MESSAGES
                    | Permissions.MENTION_EVERYONE
                    | Permissions.EMBED_LINKS
                    | Permissions.ATTACH_FILES
                )
        until = member.get("communication_disabled_until")
        if until and datetime.fromisoformat(until) > utcnow():
            perms &= Permissions.VIEW_CHANNEL | Permissions.READ_MESSAGE_HISTORY
        return perms

    # --------------------------------------------------------------------------------------------------------
    # renderers (Discord-shaped objects from stored state)
    # --------------------------------------------------------------------------------------------------------

    def member_payload(
        self, guild_id: int, user_id: int, *, with_user: bool = True, permissions: int | None = None
    ) -> dict[str, Any]:
        guild = self.stored_guild(guild_id)
        try:
            member = json_copy(guild.members[user_id])
        except KeyError:
            raise not_found_error(10007, "Member") from None
        if with_user:
            member["user"] = json_copy(self.state.users[user_id])
        if permissions is not None:
            member["permissions"] = str(permissions)
        return member

    def guild_object(self, guild_id: int, *, with_counts: bool = False) -> dict[str, Any]:
        guild = self.stored_guild(guild_id)
        data = json_copy(guild.data)
        data["roles"] = self.roles(guild_id)
        data["region"] = "deprecated"
        if with_counts:
            data["approximate_member_count"] = len(guild.members)
            data["approximate_presence_count"] = 0
        return data

    def guild_create_payload(
        self, guild_id: int, session: GatewaySession, *, initial: bool
    ) -> dict[str, Any]:
        """GUILD_CREATE for a session: members are only self unless GUILD_PRESENCES and the guild is small."""
        guild = self.stored_guild(guild_id)
        data = self.guild_object(guild_id)
        data.pop("region", None)
        member_count = len(guild.members)
        large = member_count > session.large_threshold
        if session.intents & Intents.GUILD_PRESENCES and not large:
            member_ids = list(guild.members)
        else:
            member_ids = [self.bot_user_id]
        channels = []
        threads = []
        for channel in self.state.channels.values():
            if channel.get("guild_id") != str(guild_id):
                continue
            if channel["type"] in THREAD_TYPES:
                if not channel["thread_metadata"]["archived"]:
                    threads.append(public_copy(channel))
            else:
                rendered = public_copy(channel)
                rendered.pop("guild_id", None)
                channels.append(rendered)
        data.update(
            joined_at=guild.members[self.bot_user_id]["joined_at"],
            large=large,
            member_count=member_count,
            members=[self.member_payload(guild_id, uid) for uid in member_ids],
            channels=channels,
            threads=threads,
            presences=[],
            voice_states=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
            embedded_activities=[],
            activity_instances=[],
            lazy=True,
            application_command_counts={
                "1": len(self.state.guild_commands.get(guild_id, {})),
                "2": 0,
                "3": 0,
            },
            version=int(time.time() * 1000),
        )
        if initial:
            data["unavailable"] = False
        return data

    def webhook_author(self, webhook_id: int, username: str | None = None) -> dict[str, Any]:
        webhook = self.state.webhooks.get(webhook_id)
        author = {
            "id": str(webhook_id),
            "username": username or (webhook["name"] if webhook else "Captain Hook"),
            "avatar": None,
            "discriminator": "0000",
            "public_flags": 0,
            "flags": 0,
            "bot": True,
            "global_name": None,
            "clan": None,
            "primary_guild": None,
        }
        if webhook is not None and webhook.get("_author_bot") is False:
            del author["bot"]
        return author

    def _render_reactions(self, stored: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        for reaction in stored.get("_reactions", {}).values():
            normal, burst = reaction["users"], reaction["burst_users"]
            if not normal and not burst:
                continue
            out.append(
                {
                    "count": len(normal) + len(burst),
                    "count_details": {"burst": len(burst), "normal": len(normal)},
                    "me": self.bot_user_id in normal,
                    "me_burst": self.bot_user_id in burst,
                    "burst_me": self.bot_user_id in burst,
                    "burst_colors": ["#f5c400"] if burst else [],
                    "burst_count": len(burst),
                    "emoji": json_copy(reaction["emoji"]),
                }
            )
        return out

    def render_message(
        self, stored: dict[str, Any], *, gateway: bool = False, nested: bool = False
    ) -> dict[str, Any]:
        """REST or gateway shape of a stored message (gateway adds guild_id, member and mention members)."""
        out = public_copy(stored)
        guild_id = stored.get("_guild_id")
        reactions = self._render_reactions(stored)
        if reactions:
            out["reactions"] = reactions
        thread_id = stored.get("_thread_id")
        if thread_id is not None and thread_id in self.state.channels:
            out["thread"] = public_copy(self.state.channels[thread_id])
        reference = stored.get("message_reference")
        if reference is not None and reference.get("type", 0) == 0 and not nested:
            target = (
                self.state.messages.get(int(reference["message_id"])) if "message_id" in reference else None
            )
            out["referenced_message"] = (
                self.render_message(target, gateway=gateway, nested=True) if target is not None else None
            )
        if gateway and guild_id is not None:
            out["guild_id"] = str(guild_id)
            guild = self.state.guilds.get(guild_id)
            author_id = int(stored["author"]["id"])
            if not nested and guild is not None and "webhook_id" not in stored and author_id in guild.members:
                out["member"] = self.member_payload(guild_id, author_id, with_user=False)
            if guild is not None:
                for mention in out["mentions"]:
                    if int(mention["id"]) in guild.members:
                        mention["member"] = self.member_payload(guild_id, int(mention["id"]), with_user=False)
        return out

    def _content_exempt(self, message: dict[str, Any]) -> bool:
        """MESSAGE_CONTENT exemptions: the app's own messages, DMs, and messages that mention the app."""
        if message.get("guild_id") is None:
            return True
        if (message.get("author") or {}).get("id") == str(self.bot_user_id):
            return True
        return any(m.get("id") == str(self.bot_user_id) for m in message.get("mentions") or [])

    def redact(self, message: dict[str, Any]) -> dict[str, Any]:
        """The message as a client without the Message Content intent sees it: a new dict (the
        given one is left as it is; nested objects that are not redacted are shared with it)."""
        shown = dict(message)
        if not self._content_exempt(message):
            shown.update(content="", embeds=[], attachments=[], components=[])
            shown.pop("poll", None)
            if "message_snapshots" in shown:
                shown["message_snapshots"] = []
        referenced = shown.get("referenced_message")
        if isinstance(referenced, dict):
            if "guild_id" in shown and "guild_id" not in referenced:
                referenced = {**referenced, "guild_id": shown["guild_id"]}
            shown["referenced_message"] = self.redact(referenced)
        return shown
