"""Messages shared by every sender (bot REST, webhooks, interaction responses, injected users): validation as
Discord does it, attachments, mentions, creation, edits and deletion."""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import re
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sandbox.discord_server import limits
from sandbox.discord_server.common import ApiError, form_error, iso, json_copy, snowflake_time, utcnow
from sandbox.discord_server.core import SandboxCore
from sandbox.discord_server.protocol import (
    ALL_PERMISSIONS,
    FLAG_COMPONENTS_V2,
    FLAG_LOADING,
    ROLE_MENTION_RE,
    SETTABLE_MESSAGE_FLAGS,
    THREAD_TYPES,
    USER_MENTION_RE,
    Permissions,
)


class MessageBuilding(SandboxCore):
    """Validates, builds, edits and deletes stored messages and emits their gateway events."""

    # --------------------------------------------------------------------------------------------------------
    # messages: validation and construction (shared by bot REST, webhooks, interactions and injected messages)
    # --------------------------------------------------------------------------------------------------------

    @staticmethod
    def walk_components(components: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        for component in components:
            yield component
            yield from MessageBuilding.walk_components(component.get("components") or [])
            for key in ("component", "accessory"):
                child = component.get(key)
                if isinstance(child, dict):
                    yield from MessageBuilding.walk_components([child])

    @staticmethod
    def assign_component_ids(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Discord fills in missing numeric component ``id``s with an increasing sequence."""
        components = json_copy(components)
        walked = list(MessageBuilding.walk_components(components))
        used = {c["id"] for c in walked if isinstance(c.get("id"), int)}
        counter = 0
        for component in walked:
            if not isinstance(component.get("id"), int):
                counter += 1
                while counter in used:
                    counter += 1
                component["id"] = counter
                used.add(counter)
        return components

    def validate_message(
        self, payload: dict[str, Any], files: Sequence[Any], *, existing_attachments: int = 0
    ) -> None:
        """Cheap versions of Discord's message validation (limits, empty messages, component rules)."""
        content = payload.get("content")
        if content is not None and len(str(content)) > 2000:
            raise form_error(["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        embeds = payload.get("embeds") or []
        limits.check_embeds(embeds)
        components = payload.get("components") or []
        flags = int(payload.get("flags") or 0)
        if flags & FLAG_COMPONENTS_V2:
            if content or embeds or payload.get("poll"):
                raise form_error(
                    ["content"],
                    "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                    "The 'content' and 'embeds' fields cannot be used when using "
                    "MessageFlags.IS_COMPONENTS_V2",
                )
        else:
            limits.check_rows(components)
        seen: set[str] = set()
        for component in self.walk_components(components):
            custom_id = component.get("custom_id")
            if component.get("type") == 2:
                if component.get("style") == 5:
                    if not component.get("url") or custom_id:
                        raise form_error(
                            ["components"], "BUTTON_COMPONENT_INVALID_URL", "Link buttons need a url"
                        )
                elif component.get("style") != 6 and not custom_id:
                    raise form_error(
                        ["components"], "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "A custom id is required"
                    )
            if flags & FLAG_COMPONENTS_V2:  # the legacy layout's components were checked with their rows
                limits.check_component(component, ["components"])
            if custom_id is not None:
                if custom_id in seen:
                    raise form_error(
                        ["components"],
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    )
                seen.add(custom_id)
        has_body = (
            bool(content)
            or bool(embeds)
            or bool(files)
            or existing_attachments > 0
            or bool(components)
            or bool(payload.get("sticker_ids"))
            or bool(payload.get("poll"))
        )
        if not has_body:
            raise ApiError(400, 50006, "Cannot send an empty message")

    def _make_attachments(
        self,
        channel_id: int,
        payload: dict[str, Any],
        files: Sequence[tuple[str, str, bytes]],
        existing: dict[str, dict[str, Any]] | None = None,
        *,
        ephemeral: bool = False,
    ) -> list[dict[str, Any]]:
        """Turn multipart ``files[n]`` + the ``attachments`` array into attachments served by the CDN."""
        by_index: dict[int, tuple[str, bytes]] = {}
        for position, (field_name, filename, data) in enumerate(files):
            found = re.fullmatch(r"files\[(\d+)\]", field_name)
            by_index[int(found.group(1)) if found else position] = (filename, data)
        specs = payload.get("attachments")
        if specs is None:
            specs = [{"id": index} for index in sorted(by_index)]
        result = []
        for index, spec in enumerate(specs):
            raw_id = spec.get("id")
            if existing is not None and str(raw_id) in existing:
                result.append(json_copy(existing[str(raw_id)]))
                continue
            try:
                filename, data = by_index[int(raw_id)]
            except (KeyError, TypeError, ValueError):
                raise form_error(
                    ["attachments", index], "ATTACHMENT_NOT_FOUND", "Attachment not found"
                ) from None
            filename = spec.get("filename") or filename
            result.append(
                self.store_attachment(channel_id, filename, data, spec.get("description"), ephemeral)
            )
        return result

    def store_attachment(
        self,
        channel_id: int,
        filename: str,
        data: bytes,
        description: str | None = None,
        ephemeral: bool = False,
    ) -> dict[str, Any]:
        attachment_id = self.state.ids.next()
        safe_name = re.sub(r"[^\w.\-]", "_", filename) or "unknown"
        path = f"attachments/{channel_id}/{attachment_id}/{safe_name}"
        content_type = mimetypes.guess_type(safe_name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type == "application/json":
            content_type += "; charset=utf-8"
        self.state.cdn[path] = (data, content_type)
        issued = int(time.time())
        signature = hashlib.sha256(f"{path}{issued}".encode()).hexdigest()
        url = f"{self.cdn_base}/{path}?ex={issued + 86400:x}&is={issued:x}&hm={signature}&"
        attachment: dict[str, Any] = {
            "id": str(attachment_id),
            "filename": safe_name,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }
        if description:
            attachment["description"] = description
        if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
            attachment["width"] = int.from_bytes(data[16:20], "big")
            attachment["height"] = int.from_bytes(data[20:24], "big")
        if ephemeral:
            attachment["ephemeral"] = True
        return attachment

    def _resolve_mentions(
        self,
        guild_id: int | None,
        content: str,
        allowed: dict[str, Any] | None,
        *,
        author_perms: int,
        reply_author: int | None,
    ) -> tuple[list[dict[str, Any]], list[str], bool]:
        """Which users/roles/@everyone a message really mentions, honouring ``allowed_mentions``."""
        user_ids: list[int] = []
        for raw in USER_MENTION_RE.findall(content):
            uid = int(raw)
            if uid in self.state.users and uid not in user_ids:
                user_ids.append(uid)
        guild = self.state.guilds.get(guild_id) if guild_id is not None else None
        role_ids: list[int] = []
        if guild is not None:
            for raw in ROLE_MENTION_RE.findall(content):
                rid = int(raw)
                role = guild.roles.get(rid)
                if (
                    role is not None
                    and rid not in role_ids
                    and (role["mentionable"] or author_perms & Permissions.MENTION_EVERYONE)
                ):
                    role_ids.append(rid)
        everyone = ("@everyone" in content or "@here" in content) and bool(
            author_perms & Permissions.MENTION_EVERYONE
        )
        replied = True
        if allowed is not None:
            parse = allowed.get("parse") or []
            if "users" not in parse:
                explicit = {int(u) for u in allowed.get("users") or []}
                user_ids = [u for u in user_ids if u in explicit]
            if "roles" not in parse:
                explicit_roles = {int(r) for r in allowed.get("roles") or []}
                role_ids = [r for r in role_ids if r in explicit_roles]
            everyone = everyone and "everyone" in parse
            replied = bool(allowed.get("replied_user", False))
        if reply_author is not None and replied and reply_author not in user_ids:
            user_ids.append(reply_author)
        return [json_copy(self.state.users[u]) for u in user_ids], [str(r) for r in role_ids], everyone

    def create_stored_message(
        self,
        channel: dict[str, Any],
        author: dict[str, Any],
        payload: dict[str, Any],
        files: Sequence[tuple[str, str, bytes]] = (),
        *,
        msg_type: int | None = None,
        flags: int = 0,
        author_perms: int = ALL_PERMISSIONS,
        message_id: int | None = None,
        timestamp: datetime | None = None,
        extra: dict[str, Any] | None = None,
        ephemeral: bool = False,
        attachments: list[dict[str, Any]] | None = None,
        store: bool = True,
    ) -> dict[str, Any]:
        """Build and store a message; callers validate first and emit MESSAGE_CREATE themselves."""
        channel_id = int(channel["id"])
        guild_id = self.guild_id_of(channel)
        if message_id is None:
            message_id = self.state.ids.next(timestamp)
            when = timestamp or snowflake_time(message_id)
        else:
            self.state.ids.reserve(message_id)
            when = timestamp or snowflake_time(message_id)  # as Discord mints it: at the time it carries
        content = "" if payload.get("content") is None else str(payload["content"])
        reference = payload.get("message_reference")
        reply_author = None
        if reference is not None and reference.get("type", 0) == 0:
            target = self.state.messages.get(int(reference["message_id"]))
            if target is not None and "webhook_id" not in target:
                reply_author = int(target["author"]["id"])
        mentions, mention_roles, everyone = self._resolve_mentions(
            guild_id,
            content,
            payload.get("allowed_mentions"),
            author_perms=author_perms,
            reply_author=reply_author,
        )
        embeds = []
        for embed in payload.get("embeds") or []:
            clean = {k: v for k, v in embed.items() if v is not None}
            clean.setdefault("type", "rich")
            clean["content_scan_version"] = 0
            embeds.append(clean)
        message: dict[str, Any] = {
            "type": msg_type
            if msg_type is not None
            else (
                19
                if reply_author is not None or (reference is not None and reference.get("type", 0) == 0)
                else 0
            ),
            "content": content,
            "mentions": mentions,
            "mention_roles": mention_roles,
            "attachments": attachments
            if attachments is not None
            else self._make_attachments(channel_id, payload, files, ephemeral=ephemeral),
            "embeds": embeds,
            "timestamp": iso(when),
            "edited_timestamp": None,
            "flags": flags,
            "components": self.assign_component_ids(payload.get("components") or []),
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": json_copy(author),
            "pinned": False,
            "mention_everyone": everyone,
            "tts": bool(payload.get("tts", False)),
        }
        if payload.get("nonce") is not None:
            message["nonce"] = payload["nonce"]
        if reference is not None:
            message["message_reference"] = {
                "type": reference.get("type", 0),
                "channel_id": str(reference.get("channel_id") or channel_id),
                "message_id": str(reference["message_id"]),
            }
            if guild_id is not None:
                message["message_reference"]["guild_id"] = str(reference.get("guild_id") or guild_id)
        if payload.get("sticker_ids"):
            message["sticker_items"] = [
                {"id": str(s), "name": "sticker", "format_type": 1} for s in payload["sticker_ids"]
            ]
        if payload.get("poll"):
            message["poll"] = self._make_poll(payload["poll"], when)
        if extra:
            message.update(extra)
        if guild_id is not None:
            message["_guild_id"] = guild_id
        message["_reactions"] = {}
        if ephemeral:
            message["_ephemeral"] = True
        if channel["type"] in THREAD_TYPES and not ephemeral and store:
            message["position"] = channel.get("total_message_sent", 0)
        if store:
            self.state.messages[message_id] = message
            if not ephemeral:
                self.state.channel_messages.setdefault(channel_id, []).append(message_id)
                channel["last_message_id"] = str(message_id)
                if channel["type"] in THREAD_TYPES:
                    channel["message_count"] = channel.get("message_count", 0) + 1
                    channel["total_message_sent"] = channel.get("total_message_sent", 0) + 1
        return message

    def _make_poll(self, poll: dict[str, Any], when: datetime) -> dict[str, Any]:
        answers = [
            {"answer_id": index + 1, "poll_media": answer.get("poll_media", {})}
            for index, answer in enumerate(poll.get("answers") or [])
        ]
        return {
            "question": poll.get("question", {}),
            "answers": answers,
            "expiry": iso(when + timedelta(hours=int(poll.get("duration") or 24))),
            "allow_multiselect": bool(poll.get("allow_multiselect", False)),
            "layout_type": int(poll.get("layout_type") or 1),
            "results": {"is_finalized": False, "answer_counts": []},
        }

    def edit_stored_message(
        self,
        stored: dict[str, Any],
        payload: dict[str, Any],
        files: Sequence[tuple[str, str, bytes]],
        *,
        author_perms: int = ALL_PERMISSIONS,
        flag_mask: int = SETTABLE_MESSAGE_FLAGS,
    ) -> dict[str, Any]:
        """Apply a PATCH-style edit (content/embeds/components/attachments/flags), then MESSAGE_UPDATE."""
        candidate = {
            "content": payload.get("content", stored["content"]),
            "embeds": payload.get("embeds", stored["embeds"]),
            "components": payload.get("components", stored["components"]),
            "flags": payload.get("flags", stored["flags"]),
            "sticker_ids": [s["id"] for s in stored.get("sticker_items", [])],
            "poll": stored.get("poll"),
        }
        existing = {a["id"]: a for a in stored["attachments"]}
        if "attachments" in payload or files:
            attachments = self._make_attachments(
                int(stored["channel_id"]), payload, files, existing, ephemeral=bool(stored.get("_ephemeral"))
            )
        else:
            attachments = stored["attachments"]
        self.validate_message(candidate, [], existing_attachments=len(attachments))
        if "content" in payload:
            content = "" if payload["content"] is None else str(payload["content"])
            stored["content"] = content
            guild_id = stored.get("_guild_id")
            mentions, roles, everyone = self._resolve_mentions(
                guild_id,
                content,
                payload.get("allowed_mentions"),
                author_perms=author_perms,
                reply_author=None,
            )
            stored.update(mentions=mentions, mention_roles=roles, mention_everyone=everyone)
        if "embeds" in payload:
            stored["embeds"] = [
                {**{k: v for k, v in e.items() if v is not None}, "type": e.get("type") or "rich"}
                for e in payload["embeds"] or []
            ]
        if "components" in payload:
            stored["components"] = self.assign_component_ids(payload["components"] or [])
        if "flags" in payload and payload["flags"] is not None:
            keep = stored["flags"] & ~flag_mask
            stored["flags"] = keep | (int(payload["flags"]) & flag_mask)
        stored["attachments"] = attachments
        stored["flags"] &= ~FLAG_LOADING
        stored["edited_timestamp"] = iso(utcnow())
        if not stored.get("_ephemeral"):
            self.emit("MESSAGE_UPDATE", self.render_message(stored, gateway=True))
        return stored

    def pin_stored_message(
        self, channel: dict[str, Any], stored: dict[str, Any], pinned: bool, pinner: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Pin or unpin a stored message as Discord does: MESSAGE_UPDATE, CHANNEL_PINS_UPDATE and, on a
        pin, the system notice CHANNEL_PINNED_MESSAGE (type 6) in the `pinner`'s name, referencing
        the message. Returns the notice (not yet dispatched), or None when nothing changed or on an
        unpin."""
        if stored["pinned"] == pinned:
            return None
        stored["pinned"] = pinned
        stored["_pinned_at"] = iso(utcnow()) if pinned else None
        self.emit("MESSAGE_UPDATE", self.render_message(stored, gateway=True))
        pins: dict[str, Any] = {"channel_id": channel["id"], "last_pin_timestamp": stored["_pinned_at"]}
        if channel.get("guild_id"):
            pins["guild_id"] = channel["guild_id"]
        self.emit("CHANNEL_PINS_UPDATE", pins)
        if not pinned:
            return None
        reference = {"type": 0, "message_id": stored["id"], "channel_id": channel["id"]}
        notice = self.create_stored_message(
            channel, pinner, {"content": "", "message_reference": reference}, msg_type=6
        )
        return self.render_message(notice, gateway=True)

    def delete_stored_message(self, stored: dict[str, Any]) -> None:
        message_id = int(stored["id"])
        channel_id = int(stored["channel_id"])
        self.state.messages.pop(message_id, None)
        with contextlib.suppress(ValueError):
            self.state.channel_messages.get(channel_id, []).remove(message_id)
        channel = self.state.channels.get(channel_id)
        if channel is not None and channel["type"] in THREAD_TYPES:
            channel["message_count"] = max(0, channel.get("message_count", 0) - 1)
        if stored.get("_ephemeral"):
            return
        payload: dict[str, Any] = {"id": str(message_id), "channel_id": str(channel_id)}
        if stored.get("_guild_id") is not None:
            payload["guild_id"] = str(stored["_guild_id"])
        self.emit("MESSAGE_DELETE", payload)

    def check_reference(self, channel: dict[str, Any], payload: dict[str, Any]) -> None:
        """Replies must point at an existing message in the same channel (unless fail_if_not_exists=false)."""
        reference = payload.get("message_reference")
        if reference is None:
            return
        try:
            message_id = int(reference["message_id"])
        except (KeyError, TypeError, ValueError):
            raise form_error(
                ["message_reference", "message_id"], "BASE_TYPE_REQUIRED", "This field is required"
            ) from None
        ref_type = int(reference.get("type", 0))
        target_channel = int(reference.get("channel_id") or channel["id"])
        target = self.state.messages.get(message_id)
        exists = (
            target is not None
            and target["channel_id"] == str(target_channel)
            and not target.get("_ephemeral")
        )
        if ref_type == 0 and target_channel != int(channel["id"]):
            raise form_error(
                ["message_reference"],
                "REPLIES_CANNOT_REFERENCE_OTHER_CHANNEL",
                "Cannot reply to a message in a different channel",
            )
        if not exists:
            if reference.get("fail_if_not_exists", True):
                raise form_error(
                    ["message_reference"], "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                )
            del payload["message_reference"]
            return
        if ref_type == 1 and target is not None:
            if payload.get("content") or payload.get("embeds"):
                raise form_error(["content"], "MESSAGE_FORWARD_INVALID", "Forwards cannot have content")
            snapshot = {
                key: json_copy(target[key])
                for key in (
                    "type",
                    "content",
                    "embeds",
                    "attachments",
                    "timestamp",
                    "edited_timestamp",
                    "flags",
                    "mentions",
                    "mention_roles",
                    "components",
                )
            }
            payload["_snapshot"] = [{"message": snapshot}]
