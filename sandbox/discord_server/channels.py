"""REST routes for channels: reading and editing them, permission overwrites, and threads."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sandbox.discord_server.common import (
    ApiError,
    form_error,
    iso,
    json_copy,
    missing_permissions,
    not_found_error,
    public_copy,
    utcnow,
)
from sandbox.discord_server.core import SandboxCore
from sandbox.discord_server.protocol import (
    ALL_PERMISSIONS,
    CH_CATEGORY,
    CH_DM,
    CH_FORUM,
    CH_MEDIA,
    CH_NEWS,
    CH_NEWS_THREAD,
    CH_PRIVATE_THREAD,
    CH_PUBLIC_THREAD,
    CH_TEXT,
    SETTABLE_MESSAGE_FLAGS,
    THREAD_TYPES,
    Permissions,
)
from sandbox.discord_server.rest import ApiRequest, api_route


class ChannelRoutes(SandboxCore):
    """Channel, permission overwrite and thread routes."""

    # --------------------------------------------------------------------------------------------------------
    # REST handlers: channels and permission overwrites
    # --------------------------------------------------------------------------------------------------------

    def render_channel(self, channel: dict[str, Any]) -> dict[str, Any]:
        return public_copy(channel)

    @api_route("GET", "/channels/{channel_id}")
    async def _get_channel(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        self.require_permissions(channel)
        return self.render_channel(channel)

    @api_route("PATCH", "/channels/{channel_id}")
    async def _patch_channel(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        body = req.obj()
        is_thread = channel["type"] in THREAD_TYPES
        if channel["type"] == CH_DM:
            raise ApiError(403, 50003, "Cannot execute action on a DM channel")
        if is_thread:
            perms = self.require_permissions(channel)
            owner = channel.get("owner_id") == str(self.bot_user_id)
            if not perms & Permissions.MANAGE_THREADS and not (
                owner and set(body) <= {"name", "archived", "auto_archive_duration"}
            ):
                raise missing_permissions()
        else:
            self.require_permissions(channel, Permissions.MANAGE_CHANNELS)
            if "permission_overwrites" in body:
                self.require_permissions(channel, Permissions.MANAGE_ROLES)
        if "name" in body:
            name = str(body["name"] or "")
            if not 1 <= len(name) <= 100:
                raise form_error(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            channel["name"] = self.channel_name(name, channel["type"])
        if "topic" in body:
            limit = 4096 if channel["type"] in (CH_FORUM, CH_MEDIA) else 1024
            if body["topic"] is not None and len(body["topic"]) > limit:
                raise form_error(["topic"], "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
            channel["topic"] = body["topic"]
        if "rate_limit_per_user" in body:
            value = int(body["rate_limit_per_user"] or 0)
            if not 0 <= value <= 21600:
                raise form_error(["rate_limit_per_user"], "NUMBER_TYPE_MAX", "int value should be <= 21600.")
            channel["rate_limit_per_user"] = value
        for key in (
            "nsfw",
            "position",
            "default_auto_archive_duration",
            "bitrate",
            "user_limit",
            "flags",
            "available_tags",
            "default_reaction_emoji",
            "applied_tags",
            "type",
        ):
            if key in body:
                channel[key] = body[key]
        if "parent_id" in body and not is_thread:
            parent = body["parent_id"]
            if parent is not None and self.state.channels.get(int(parent), {}).get("type") != CH_CATEGORY:
                raise form_error(["parent_id"], "CHANNEL_PARENT_INVALID_TYPE", "Not a category")
            channel["parent_id"] = str(parent) if parent is not None else None
        if "permission_overwrites" in body and not is_thread:
            channel["permission_overwrites"] = [
                self.normalise_overwrite(o) for o in body["permission_overwrites"] or []
            ]
        if is_thread:
            metadata = channel["thread_metadata"]
            for key in ("archived", "locked", "invitable", "auto_archive_duration"):
                if key in body:
                    metadata[key] = body[key]
            if "archived" in body:
                metadata["archive_timestamp"] = iso(utcnow())
            self.emit("THREAD_UPDATE", self.render_channel(channel))
        else:
            self.emit("CHANNEL_UPDATE", self.render_channel(channel))
        return self.render_channel(channel)

    @api_route("DELETE", "/channels/{channel_id}")
    async def _delete_channel(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        if channel["type"] == CH_DM:
            return self.render_channel(channel)
        is_thread = channel["type"] in THREAD_TYPES
        needed = Permissions.MANAGE_THREADS if is_thread else Permissions.MANAGE_CHANNELS
        self.require_permissions(channel, needed)
        rendered = self.render_channel(channel)
        del self.state.channels[int(channel["id"])]
        for message_id in self.state.channel_messages.pop(int(channel["id"]), []):
            self.state.messages.pop(message_id, None)
        if is_thread:
            self.emit(
                "THREAD_DELETE",
                {
                    "id": channel["id"],
                    "guild_id": channel["guild_id"],
                    "parent_id": channel["parent_id"],
                    "type": channel["type"],
                },
            )
        else:
            self.emit("CHANNEL_DELETE", rendered)
        return rendered

    @api_route("PUT", "/channels/{channel_id}/permissions/{target}")
    async def _put_overwrite(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        if channel["type"] in THREAD_TYPES or channel["type"] == CH_DM:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        self.require_permissions(channel, Permissions.MANAGE_ROLES)
        body = req.obj()
        target = req.id("target")
        kind = body.get("type")
        if kind not in (0, 1, "0", "1"):
            raise form_error(["type"], "BASE_TYPE_CHOICES", "Value must be one of {0, 1}.")
        kind = int(kind)
        guild = self.stored_guild(int(channel["guild_id"]))
        if kind == 0 and target not in guild.roles:
            raise not_found_error(10011, "Role")
        if kind == 1 and target not in self.state.users:
            raise not_found_error(10013, "User")
        overwrite = self.normalise_overwrite(
            {"id": target, "type": kind, "allow": body.get("allow") or "0", "deny": body.get("deny") or "0"}
        )
        asked = int(overwrite["allow"]) | int(overwrite["deny"])
        if asked & ~self.settable_permissions(channel):
            raise missing_permissions()
        overwrites = [o for o in channel["permission_overwrites"] if o["id"] != str(target)]
        overwrites.append(overwrite)
        channel["permission_overwrites"] = overwrites
        self.emit("CHANNEL_UPDATE", self.render_channel(channel))
        return None

    def settable_permissions(self, channel: dict[str, Any]) -> int:
        """What the bot may allow or deny in an overwrite of `channel` (Edit Channel Permissions): only
        permissions it has in the guild, or in the parent category when the channel has one; its
        permissions in the channel itself count only when an overwrite there (for the bot, one of its
        roles or @everyone) allows it Manage Roles. An administrator may set anything."""
        guild_id = int(channel["guild_id"])
        guild_level = self.compute_permissions(guild_id, self.bot_user_id)
        if guild_level & Permissions.ADMINISTRATOR:
            return ALL_PERMISSIONS
        in_channel = self.bot_permissions(channel)
        member = self.stored_guild(guild_id).members.get(self.bot_user_id) or {"roles": []}
        mine = {(str(self.bot_user_id), 1), (str(guild_id), 0)} | {(str(r), 0) for r in member["roles"]}
        through_overwrite = any(
            (str(o["id"]), int(o["type"])) in mine and int(o["allow"]) & Permissions.MANAGE_ROLES
            for o in channel["permission_overwrites"]
        )
        if through_overwrite and in_channel & Permissions.MANAGE_ROLES:
            return in_channel
        parent = channel.get("parent_id")
        if parent is not None and int(parent) in self.state.channels:
            return self.compute_permissions(guild_id, self.bot_user_id, int(parent))
        return guild_level

    @api_route("DELETE", "/channels/{channel_id}/permissions/{target}")
    async def _delete_overwrite(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        self.require_permissions(channel, Permissions.MANAGE_ROLES)
        target = str(req.id("target"))
        channel["permission_overwrites"] = [o for o in channel["permission_overwrites"] if o["id"] != target]
        self.emit("CHANNEL_UPDATE", self.render_channel(channel))
        return None

    # --------------------------------------------------------------------------------------------------------
    # threads
    # --------------------------------------------------------------------------------------------------------

    @staticmethod
    def channel_name(name: str, channel_type: int) -> str:
        """Discord lower-cases text-like channel names and turns spaces into dashes."""
        if channel_type in (CH_TEXT, CH_NEWS, CH_FORUM, CH_MEDIA):
            return re.sub(r"\s+", "-", name.strip()).lower()
        return name

    def build_thread(
        self,
        parent: dict[str, Any],
        owner_id: int,
        name: str,
        *,
        thread_id: int | None = None,
        thread_type: int = CH_PUBLIC_THREAD,
        auto_archive_duration: int = 4320,
        rate_limit_per_user: int = 0,
        applied_tags: Sequence[int] = (),
        invitable: bool = True,
    ) -> dict[str, Any]:
        if not 1 <= len(name) <= 100:
            raise form_error(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        tid = self.state.ids.reserve(thread_id) if thread_id is not None else self.state.ids.next()
        now = iso(utcnow())
        metadata: dict[str, Any] = {
            "archived": False,
            "archive_timestamp": now,
            "auto_archive_duration": auto_archive_duration,
            "locked": False,
            "create_timestamp": now,
        }
        if thread_type == CH_PRIVATE_THREAD:
            metadata["invitable"] = invitable
        thread: dict[str, Any] = {
            "id": str(tid),
            "type": thread_type,
            "guild_id": parent["guild_id"],
            "parent_id": parent["id"],
            "owner_id": str(owner_id),
            "name": name,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": rate_limit_per_user,
            "flags": 0,
            "total_message_sent": 0,
            "thread_metadata": metadata,
            "_members": {owner_id: now},
        }
        if parent["type"] in (CH_FORUM, CH_MEDIA):
            thread["applied_tags"] = [str(t) for t in applied_tags]
        self.state.channels[tid] = thread
        self.state.channel_messages[tid] = []
        return thread

    def thread_create_payload(self, thread: dict[str, Any]) -> dict[str, Any]:
        payload = {**self.render_channel(thread), "newly_created": True}
        if self.bot_user_id in thread["_members"]:
            payload["member"] = {
                "id": thread["id"],
                "user_id": str(self.bot_user_id),
                "join_timestamp": thread["_members"][self.bot_user_id],
                "flags": 1,
            }
        return payload

    @api_route("POST", "/channels/{channel_id}/messages/{message_id}/threads")
    async def _thread_from_message(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        if channel["type"] not in (CH_TEXT, CH_NEWS):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        self.require_permissions(channel, Permissions.CREATE_PUBLIC_THREADS, Permissions.READ_MESSAGE_HISTORY)
        stored = self.stored_message(int(channel["id"]), req.id("message_id"))
        if stored.get("_thread_id") is not None:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        body = req.obj()
        thread = self.build_thread(
            channel,
            self.bot_user_id,
            str(body.get("name") or ""),
            thread_id=int(stored["id"]),
            thread_type=CH_NEWS_THREAD if channel["type"] == CH_NEWS else CH_PUBLIC_THREAD,
            auto_archive_duration=int(
                body.get("auto_archive_duration") or channel.get("default_auto_archive_duration", 4320)
            ),
            rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
        )
        stored["_thread_id"] = int(thread["id"])
        self.emit("THREAD_CREATE", self.thread_create_payload(thread))
        self.emit("MESSAGE_UPDATE", self.render_message(stored, gateway=True))
        return self.render_channel(thread)

    @api_route("POST", "/channels/{channel_id}/threads")
    async def _thread_without_message(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        body = json_copy(req.obj())
        if channel["type"] in (CH_FORUM, CH_MEDIA):
            return self.create_forum_post(channel, body, req.files, self.bot_user_id)
        if channel["type"] not in (CH_TEXT, CH_NEWS):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        thread_type = int(body.get("type") or CH_PRIVATE_THREAD)
        self.require_permissions(
            channel,
            Permissions.CREATE_PRIVATE_THREADS
            if thread_type == CH_PRIVATE_THREAD
            else Permissions.CREATE_PUBLIC_THREADS,
        )
        thread = self.build_thread(
            channel,
            self.bot_user_id,
            str(body.get("name") or ""),
            thread_type=thread_type,
            auto_archive_duration=int(body.get("auto_archive_duration") or 4320),
            rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
            invitable=bool(body.get("invitable", True)),
        )
        self.emit("THREAD_CREATE", self.thread_create_payload(thread))
        if thread_type == CH_PUBLIC_THREAD:
            self.thread_created_notice(channel, thread, self.bot_user_id)
        return self.render_channel(thread)

    def thread_created_notice(self, parent: dict[str, Any], thread: dict[str, Any], author_id: int) -> None:
        """Discord posts a THREAD_CREATED (type 18) system message in the parent for message-less threads."""
        notice = self.create_stored_message(
            parent,
            self.state.users[author_id],
            {
                "content": thread["name"],
                "message_reference": {"type": 0, "channel_id": thread["id"], "message_id": thread["id"]},
            },
            msg_type=18,
        )
        notice["mentions"] = []
        self.emit("MESSAGE_CREATE", self.render_message(notice, gateway=True))

    def create_forum_post(
        self,
        forum: dict[str, Any],
        body: dict[str, Any],
        files: Sequence[tuple[str, str, bytes]],
        author_id: int,
        thread_id: int | None = None,
        starter_first: bool = False,
    ) -> dict[str, Any]:
        """A forum/media post. `starter_first` sends its starter's MESSAGE_CREATE before THREAD_CREATE:
        the gateway does not promise the two events' order."""
        if author_id == self.bot_user_id:
            self.require_permissions(forum, Permissions.SEND_MESSAGES)
        message_payload = body.get("message")
        if not isinstance(message_payload, dict):
            raise form_error(["message"], "BASE_TYPE_REQUIRED", "This field is required")
        self.validate_message(message_payload, files)
        thread = self.build_thread(
            forum,
            author_id,
            str(body.get("name") or ""),
            thread_id=thread_id,
            auto_archive_duration=int(body.get("auto_archive_duration") or 4320),
            rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
            applied_tags=[int(t) for t in body.get("applied_tags") or []],
        )
        starter = self.create_stored_message(
            thread,
            self.state.users[author_id],
            message_payload,
            files,
            message_id=int(thread["id"]),
            flags=int(message_payload.get("flags") or 0) & SETTABLE_MESSAGE_FLAGS,
        )
        events = [
            ("THREAD_CREATE", self.thread_create_payload(thread)),
            ("MESSAGE_CREATE", self.render_message(starter, gateway=True)),
        ]
        for event, payload in reversed(events) if starter_first else events:
            self.emit(event, payload)
        return {**self.render_channel(thread), "message": self.render_message(starter)}

    @api_route("PUT", "/channels/{channel_id}/thread-members/@me")
    async def _join_thread(self, req: ApiRequest) -> Any:
        return self._thread_membership(req, self.bot_user_id, add=True)

    @api_route("DELETE", "/channels/{channel_id}/thread-members/@me")
    async def _leave_thread(self, req: ApiRequest) -> Any:
        return self._thread_membership(req, self.bot_user_id, add=False)

    @api_route("PUT", "/channels/{channel_id}/thread-members/{user_id}")
    async def _add_thread_member(self, req: ApiRequest) -> Any:
        return self._thread_membership(req, req.id("user_id"), add=True)

    @api_route("DELETE", "/channels/{channel_id}/thread-members/{user_id}")
    async def _remove_thread_member(self, req: ApiRequest) -> Any:
        return self._thread_membership(req, req.id("user_id"), add=False)

    def _thread_membership(self, req: ApiRequest, user_id: int, *, add: bool) -> None:
        thread = self.stored_channel(req.id("channel_id"))
        if thread["type"] not in THREAD_TYPES:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        self.require_permissions(thread)
        if user_id not in self.state.users:
            raise not_found_error(10013, "User")
        members = thread["_members"]
        if add and user_id not in members:
            members[user_id] = iso(utcnow())
        elif not add and user_id in members:
            del members[user_id]
        else:
            return
        thread["member_count"] = len(members)
        payload: dict[str, Any] = {
            "id": thread["id"],
            "guild_id": thread["guild_id"],
            "member_count": len(members),
        }
        if add:
            payload["added_members"] = [
                {"id": thread["id"], "user_id": str(user_id), "join_timestamp": members[user_id], "flags": 0}
            ]
        else:
            payload["removed_member_ids"] = [str(user_id)]
        self.emit("THREAD_MEMBERS_UPDATE", payload)

    @api_route("GET", "/channels/{channel_id}/thread-members")
    async def _get_thread_members(self, req: ApiRequest) -> Any:
        thread = self.stored_channel(req.id("channel_id"))
        self.require_permissions(thread)
        return [
            {"id": thread["id"], "user_id": str(u), "join_timestamp": ts, "flags": 0}
            for u, ts in thread.get("_members", {}).items()
        ]

    @api_route("GET", "/guilds/{guild_id}/threads/active")
    async def _active_threads(self, req: ApiRequest) -> Any:
        guild_id = req.id("guild_id")
        self.stored_guild(guild_id)
        threads = [t for t in self.threads(guild_id) if not t["thread_metadata"]["archived"]]
        return {"threads": threads, "members": []}

    @api_route("GET", "/channels/{channel_id}/threads/archived/public")
    async def _archived_threads(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        self.require_permissions(channel, Permissions.READ_MESSAGE_HISTORY)
        threads = [t for t in self.threads(parent_id=int(channel["id"])) if t["thread_metadata"]["archived"]]
        return {"threads": threads, "members": [], "has_more": False}
