"""REST routes for channel messages: reading, sending, editing, deleting, typing, pins and reactions."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sandbox.discord_server.common import ApiError, form_error, iso, json_copy, snowflake_time, utcnow
from sandbox.discord_server.core import SandboxCore
from sandbox.discord_server.protocol import (
    ALL_PERMISSIONS,
    CH_DM,
    FLAG_SUPPRESS_EMBEDS,
    MESSAGEABLE_TYPES,
    SETTABLE_MESSAGE_FLAGS,
    THREAD_TYPES,
    Intents,
    Permissions,
)
from sandbox.discord_server.rest import ApiRequest, api_route


class MessageRoutes(SandboxCore):
    """Channel message, pin and reaction routes."""

    # --------------------------------------------------------------------------------------------------------
    # REST handlers: messages and pins
    # --------------------------------------------------------------------------------------------------------

    @api_route("GET", "/channels/{channel_id}/messages")
    async def _get_messages(self, req: ApiRequest) -> Any:
        """Channel history as Discord documents it: VIEW_CHANNEL required (else 403 50001); without
        READ_MESSAGE_HISTORY an empty list; `limit` 1-100 (default 50); at most one of `around`,
        `before`, `after` (snowflakes); the page is returned newest first whatever the direction
        (`after` gives the oldest `limit` messages after the id); content redacted for an app
        without the Message Content intent, as on the gateway."""
        channel = self.stored_channel(req.id("channel_id"))
        perms = self.require_permissions(channel)
        try:
            limit = int(req.query.get("limit", 50))
        except ValueError:
            raise form_error(["limit"], "NUMBER_TYPE_COERCE", "Value is not int.") from None
        if not 1 <= limit <= 100:
            raise form_error(["limit"], "NUMBER_TYPE_MAX", "int value should be <= 100 and >= 1.")
        anchors = [name for name in ("around", "before", "after") if name in req.query]
        for name in anchors:
            if not req.query[name].isdigit():
                raise form_error([name], "NUMBER_TYPE_COERCE", f'Value "{req.query[name]}" is not snowflake.')
        if not perms & Permissions.READ_MESSAGE_HISTORY:
            return []
        ids = sorted(self.state.channel_messages.get(int(channel["id"]), []))
        if "around" in req.query:
            around = int(req.query["around"])
            older = [i for i in ids if i < around][-(limit // 2) :] if limit > 1 else []
            newer = [i for i in ids if i >= around][: limit - len(older)]
            ids = older + newer
        elif "before" in req.query:
            before = int(req.query["before"])
            ids = [i for i in ids if i < before][-limit:]
        elif "after" in req.query:
            after = int(req.query["after"])
            ids = [i for i in ids if i > after][:limit]
        else:
            ids = ids[-limit:]
        messages = [self._fetched(self.state.messages[i]) for i in reversed(ids)]
        if not self.privileged_intents & Intents.MESSAGE_CONTENT:
            guild_id = channel.get("guild_id")
            redacted = []
            for message in messages:
                shown = self.redact({**message, "guild_id": guild_id} if guild_id else message)
                if guild_id and "guild_id" not in message:
                    shown.pop("guild_id", None)
                redacted.append(shown)
            messages = redacted
        return messages

    def _fetched(self, stored: dict[str, Any]) -> dict[str, Any]:
        """A message as a fetch returns it: Discord gives the nonce only to the request that created the
        message and in its gateway event, never when the message is read back."""
        message = self.render_message(stored)
        message.pop("nonce", None)
        return message

    @api_route("GET", "/channels/{channel_id}/messages/{message_id}")
    async def _get_message(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        self.require_permissions(channel, Permissions.READ_MESSAGE_HISTORY)
        stored = self.stored_message(int(channel["id"]), req.id("message_id"))
        message = self._fetched(stored)
        if not self.privileged_intents & Intents.MESSAGE_CONTENT:
            message = self.redact(
                {**message, "guild_id": channel.get("guild_id")} if channel.get("guild_id") else message
            )
            message.pop("guild_id", None)
        return message

    def _check_can_send(self, channel: dict[str, Any], payload: dict[str, Any], files: Sequence[Any]) -> int:
        if channel["type"] == CH_DM:
            recipient = int(channel["_recipient_id"])
            shares_guild = any(recipient in g.members for g in self.state.guilds.values())
            closed = recipient in self.state.dms_closed
            if self.state.users[recipient].get("bot") or closed or not shares_guild:
                raise ApiError(403, 50007, "Cannot send messages to this user")
            return ALL_PERMISSIONS
        if channel["type"] not in MESSAGEABLE_TYPES:
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        send = (
            Permissions.SEND_MESSAGES_IN_THREADS
            if channel["type"] in THREAD_TYPES
            else Permissions.SEND_MESSAGES
        )
        perms = self.require_permissions(channel, send)
        if files:
            self.require_permissions(channel, Permissions.ATTACH_FILES)
        if payload.get("message_reference") is not None:
            self.require_permissions(channel, Permissions.READ_MESSAGE_HISTORY)
        if channel["type"] in THREAD_TYPES:
            metadata = channel["thread_metadata"]
            if metadata["locked"] and not perms & Permissions.MANAGE_THREADS:
                raise ApiError(400, 50083, "Thread is locked")
            if metadata["archived"]:
                metadata["archived"] = False
                metadata["archive_timestamp"] = iso(utcnow())
                self.emit("THREAD_UPDATE", self.render_channel(channel))
        return perms

    @api_route("POST", "/channels/{channel_id}/messages")
    async def _post_message(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        payload = json_copy(req.obj())
        perms = self._check_can_send(channel, payload, req.files)
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            for message_id in reversed(self.state.channel_messages.get(int(channel["id"]), [])[-50:]):
                earlier = self.state.messages[message_id]
                recent = snowflake_time(message_id) > utcnow() - timedelta(minutes=2)
                if (
                    earlier.get("nonce") == nonce
                    and earlier["author"]["id"] == str(self.bot_user_id)
                    and recent
                ):
                    return self.render_message(earlier)
        self.check_reference(channel, payload)
        snapshot = payload.pop("_snapshot", None)
        if snapshot is None:
            self.validate_message(payload, req.files)
        flags = int(payload.get("flags") or 0) & SETTABLE_MESSAGE_FLAGS
        extra = {"message_snapshots": snapshot} if snapshot else None
        stored = self.create_stored_message(
            channel,
            self.state.users[self.bot_user_id],
            payload,
            req.files,
            flags=flags,
            author_perms=perms,
            extra=extra,
        )
        self.emit("MESSAGE_CREATE", self.render_message(stored, gateway=True))
        return self.render_message(stored)

    @api_route("PATCH", "/channels/{channel_id}/messages/{message_id}")
    async def _patch_message(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        stored = self.stored_message(int(channel["id"]), req.id("message_id"))
        body = req.obj()
        perms = self.bot_permissions(channel)
        if stored["author"]["id"] != str(self.bot_user_id):
            if set(body) - {"flags"}:
                raise ApiError(403, 50005, "Cannot edit a message authored by another user")
            self.require_permissions(channel, Permissions.MANAGE_MESSAGES)
            self.edit_stored_message(stored, body, [], author_perms=perms, flag_mask=FLAG_SUPPRESS_EMBEDS)
        else:
            self.edit_stored_message(stored, body, req.files, author_perms=perms)
        return self.render_message(stored)

    @api_route("DELETE", "/channels/{channel_id}/messages/{message_id}")
    async def _delete_message_route(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        stored = self.stored_message(int(channel["id"]), req.id("message_id"))
        if stored["author"]["id"] != str(self.bot_user_id):
            self.require_permissions(channel, Permissions.MANAGE_MESSAGES)
        self.delete_stored_message(stored)
        return None

    @api_route("POST", "/channels/{channel_id}/messages/bulk-delete")
    async def _bulk_delete(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        self.require_permissions(channel, Permissions.MANAGE_MESSAGES)
        ids = [int(i) for i in req.obj().get("messages") or []]
        if not 2 <= len(ids) <= 100:
            raise form_error(["messages"], "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length.")
        cutoff = utcnow() - timedelta(days=14)
        if any(snowflake_time(i) < cutoff for i in ids):
            raise ApiError(400, 50034, "You can only bulk delete messages that are under 14 days old.")
        deleted = []
        for message_id in ids:
            stored = self.state.messages.get(message_id)
            if stored is not None and stored["channel_id"] == channel["id"]:
                self.state.messages.pop(message_id)
                with contextlib.suppress(ValueError):
                    self.state.channel_messages[int(channel["id"])].remove(message_id)
                deleted.append(str(message_id))
        payload: dict[str, Any] = {"ids": deleted, "channel_id": channel["id"]}
        if channel.get("guild_id"):
            payload["guild_id"] = channel["guild_id"]
        self.emit("MESSAGE_DELETE_BULK", payload)
        return None

    @api_route("POST", "/channels/{channel_id}/typing")
    async def _typing(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        self.require_permissions(channel, Permissions.SEND_MESSAGES | Permissions.SEND_MESSAGES_IN_THREADS)
        return None

    def _pin(self, req: ApiRequest, pinned: bool) -> None:
        channel = self.stored_channel(req.id("channel_id"))
        self.require_permissions(channel, Permissions.MANAGE_MESSAGES | Permissions.PIN_MESSAGES)
        stored = self.stored_message(int(channel["id"]), req.id("message_id"))
        notice = self.pin_stored_message(channel, stored, pinned, self.state.users[self.bot_user_id])
        if notice is not None:
            self.emit("MESSAGE_CREATE", notice)

    @api_route("PUT", "/channels/{channel_id}/messages/pins/{message_id}")
    async def _pin_message(self, req: ApiRequest) -> Any:
        self._pin(req, True)

    @api_route("DELETE", "/channels/{channel_id}/messages/pins/{message_id}")
    async def _unpin_message(self, req: ApiRequest) -> Any:
        self._pin(req, False)

    @api_route("PUT", "/channels/{channel_id}/pins/{message_id}")
    async def _pin_message_legacy(self, req: ApiRequest) -> Any:
        self._pin(req, True)

    @api_route("DELETE", "/channels/{channel_id}/pins/{message_id}")
    async def _unpin_message_legacy(self, req: ApiRequest) -> Any:
        self._pin(req, False)

    def _pinned(self, channel: dict[str, Any]) -> list[dict[str, Any]]:
        pinned = [self.state.messages[i] for i in self.state.channel_messages.get(int(channel["id"]), [])]
        return sorted((m for m in pinned if m["pinned"]), key=lambda m: m["_pinned_at"], reverse=True)

    @api_route("GET", "/channels/{channel_id}/messages/pins")
    async def _get_pins(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        self.require_permissions(channel, Permissions.READ_MESSAGE_HISTORY)
        items = [
            {"pinned_at": m["_pinned_at"], "message": self.render_message(m)} for m in self._pinned(channel)
        ]
        limit = int(req.query.get("limit", 50))
        return {"items": items[:limit], "has_more": len(items) > limit}

    @api_route("GET", "/channels/{channel_id}/pins")
    async def _get_pins_legacy(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        self.require_permissions(channel, Permissions.READ_MESSAGE_HISTORY)
        return [self.render_message(m) for m in self._pinned(channel)]

    # --------------------------------------------------------------------------------------------------------
    # REST handlers: reactions
    # --------------------------------------------------------------------------------------------------------

    @staticmethod
    def parse_emoji(raw: str) -> tuple[str, dict[str, Any]]:
        """'👍' or 'name:id' (as discord.py sends them) -> (key, partial emoji object); 10014 if invalid."""
        if ":" in raw:
            parts = raw.split(":")
            name, emoji_id = parts[-2], parts[-1]
            if not emoji_id.isdigit():
                raise ApiError(400, 10014, "Unknown Emoji")
            emoji: dict[str, Any] = {"id": emoji_id, "name": name}
            if raw.startswith("a:"):
                emoji["animated"] = True
            return emoji_id, emoji
        if not raw or raw.isascii():
            raise ApiError(400, 10014, "Unknown Emoji")
        return raw, {"id": None, "name": raw}

    def reaction_payload(
        self, stored: dict[str, Any], user_id: int, emoji: dict[str, Any], *, burst: bool, add: bool
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "user_id": str(user_id),
            "type": 1 if burst else 0,
            "message_id": stored["id"],
            "channel_id": stored["channel_id"],
            "emoji": json_copy(emoji),
            "burst": burst,
        }
        guild_id = stored.get("_guild_id")
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
        if add:
            payload["message_author_id"] = stored["author"]["id"]
            if guild_id is not None and user_id in self.state.guilds[guild_id].members:
                payload["member"] = self.member_payload(guild_id, user_id)
            if burst:
                payload["burst_colors"] = ["#f5c400"]
        return payload

    def react(
        self,
        stored: dict[str, Any],
        user_id: int,
        raw_emoji: str,
        *,
        burst: bool,
        add: bool,
        without: Sequence[str] = (),
    ) -> dict[str, Any] | None:
        """Add/remove one reaction in state; returns the event payload, or None if nothing changed.
        ``without``: optional fields left out of the event (``member``, ``message_author_id``)."""
        key, emoji = self.parse_emoji(raw_emoji)
        reactions = stored.setdefault("_reactions", {})
        entry = reactions.setdefault(key, {"emoji": emoji, "users": [], "burst_users": []})
        bucket = entry["burst_users"] if burst else entry["users"]
        if add == (user_id in bucket):
            return None
        if add:
            bucket.append(user_id)
        else:
            bucket.remove(user_id)
            if not entry["users"] and not entry["burst_users"]:
                del reactions[key]
        payload = self.reaction_payload(stored, user_id, entry["emoji"], burst=burst, add=add)
        for field in without:
            payload.pop(field, None)
        self.emit("MESSAGE_REACTION_ADD" if add else "MESSAGE_REACTION_REMOVE", payload)
        return payload

    @api_route("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
    async def _put_reaction(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        stored = self.stored_message(int(channel["id"]), req.id("message_id"))
        key, _ = self.parse_emoji(req.params["emoji"])
        needed = [Permissions.READ_MESSAGE_HISTORY]
        if key not in stored.get("_reactions", {}):
            needed.append(Permissions.ADD_REACTIONS)
        self.require_permissions(channel, *needed)
        burst = req.query.get("type") == "1"
        self.react(stored, self.bot_user_id, req.params["emoji"], burst=burst, add=True)
        return None

    @api_route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
    async def _delete_own_reaction(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        stored = self.stored_message(int(channel["id"]), req.id("message_id"))
        self.react(stored, self.bot_user_id, req.params["emoji"], burst=False, add=False)
        return None

    @api_route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user_id}")
    async def _delete_user_reaction(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        stored = self.stored_message(int(channel["id"]), req.id("message_id"))
        user_id = req.id("user_id")
        if user_id != self.bot_user_id:
            self.require_permissions(channel, Permissions.MANAGE_MESSAGES)
        for burst in (False, True):
            self.react(stored, user_id, req.params["emoji"], burst=burst, add=False)
        return None

    @api_route("GET", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}")
    async def _get_reaction_users(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        self.require_permissions(channel, Permissions.READ_MESSAGE_HISTORY)
        stored = self.stored_message(int(channel["id"]), req.id("message_id"))
        key, _ = self.parse_emoji(req.params["emoji"])
        entry = stored.get("_reactions", {}).get(key)
        if entry is None:
            return []
        users = sorted(entry["burst_users"] if req.query.get("type") == "1" else entry["users"])
        after = int(req.query.get("after", 0))
        limit = int(req.query.get("limit", 25))
        return [json_copy(self.state.users[u]) for u in users if u > after][:limit]

    @api_route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}")
    async def _clear_emoji(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        self.require_permissions(channel, Permissions.MANAGE_MESSAGES)
        stored = self.stored_message(int(channel["id"]), req.id("message_id"))
        key, emoji = self.parse_emoji(req.params["emoji"])
        if stored.get("_reactions", {}).pop(key, None) is not None:
            payload: dict[str, Any] = {
                "channel_id": channel["id"],
                "message_id": stored["id"],
                "emoji": emoji,
            }
            if channel.get("guild_id"):
                payload["guild_id"] = channel["guild_id"]
            self.emit("MESSAGE_REACTION_REMOVE_EMOJI", payload)
        return None

    @api_route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions")
    async def _clear_reactions(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        self.require_permissions(channel, Permissions.MANAGE_MESSAGES)
        stored = self.stored_message(int(channel["id"]), req.id("message_id"))
        stored["_reactions"] = {}
        payload: dict[str, Any] = {"channel_id": channel["id"], "message_id": stored["id"]}
        if channel.get("guild_id"):
            payload["guild_id"] = channel["guild_id"]
        self.emit("MESSAGE_REACTION_REMOVE_ALL", payload)
        return None
