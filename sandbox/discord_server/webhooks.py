"""Webhooks and interaction responses: webhook CRUD and execution, and the interaction callback and followup
routes (which Discord serves as webhook messages)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any

from sandbox.discord_server import limits
from sandbox.discord_server.common import ApiError, form_error, json_copy, not_found_error, public_copy
from sandbox.discord_server.core import SandboxCore
from sandbox.discord_server.interactions import InteractionState
from sandbox.discord_server.protocol import (
    CH_FORUM,
    CH_MEDIA,
    CH_NEWS,
    CH_STAGE,
    CH_TEXT,
    CH_VOICE,
    FLAG_COMPONENTS_V2,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    INTERACTION_SETTABLE_FLAGS,
    SETTABLE_MESSAGE_FLAGS,
    Permissions,
)
from sandbox.discord_server.rest import ApiRequest, api_route


class WebhookRoutes(SandboxCore):
    """Webhook routes, interaction callbacks and followups."""

    # --------------------------------------------------------------------------------------------------------
    # webhooks
    # --------------------------------------------------------------------------------------------------------

    def create_webhook(
        self, channel: dict[str, Any], name: str, creator: int, *, application_id: int | None
    ) -> dict[str, Any]:
        if channel["type"] not in (CH_TEXT, CH_NEWS, CH_VOICE, CH_STAGE, CH_FORUM, CH_MEDIA):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        if not 1 <= len(name) <= 80:
            raise form_error(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.")
        if "clyde" in name.lower() or "discord" in name.lower():
            raise form_error(["name"], "WEBHOOK_INVALID_USERNAME", f'Username cannot be "{name}"')
        webhook_id = self.state.ids.next()
        webhook = {
            "application_id": str(application_id) if application_id is not None else None,
            "avatar": None,
            "channel_id": channel["id"],
            "guild_id": channel["guild_id"],
            "id": str(webhook_id),
            "name": name,
            "type": 1,
            "user": json_copy(self.state.users[creator]),
            "token": secrets.token_urlsafe(51),
        }
        self.state.webhooks[webhook_id] = webhook
        self.emit("WEBHOOKS_UPDATE", {"guild_id": channel["guild_id"], "channel_id": channel["id"]})
        return webhook

    @api_route("POST", "/channels/{channel_id}/webhooks")
    async def _post_webhook(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        self.require_permissions(channel, Permissions.MANAGE_WEBHOOKS)
        body = req.obj()
        if sum(1 for w in self.state.webhooks.values() if w["channel_id"] == channel["id"]) >= 15:
            raise ApiError(400, 30007, "Maximum number of webhooks reached (15)")
        webhook = self.create_webhook(
            channel, str(body.get("name") or ""), self.bot_user_id, application_id=self.application_id
        )
        if body.get("avatar"):
            webhook["avatar"] = secrets.token_hex(16)
        return public_copy(webhook)

    @api_route("GET", "/channels/{channel_id}/webhooks")
    async def _get_channel_webhooks(self, req: ApiRequest) -> Any:
        channel = self.stored_channel(req.id("channel_id"))
        self.require_permissions(channel, Permissions.MANAGE_WEBHOOKS)
        return self.webhooks(int(channel["id"]))

    @api_route("GET", "/guilds/{guild_id}/webhooks")
    async def _get_guild_webhooks(self, req: ApiRequest) -> Any:
        guild_id = req.id("guild_id")
        self.require_guild_permissions(guild_id, Permissions.MANAGE_WEBHOOKS)
        return [public_copy(w) for w in self.state.webhooks.values() if w["guild_id"] == str(guild_id)]

    def _webhook(self, req: ApiRequest, *, check_token: bool) -> dict[str, Any]:
        webhook = self.state.webhooks.get(req.id("webhook_id"))
        if webhook is None or (check_token and webhook["token"] != req.params.get("webhook_token")):
            raise not_found_error(10015, "Webhook")
        return webhook

    @api_route("GET", "/webhooks/{webhook_id}")
    async def _get_webhook(self, req: ApiRequest) -> Any:
        webhook = self._webhook(req, check_token=False)
        self.require_permissions(self.stored_channel(int(webhook["channel_id"])), Permissions.MANAGE_WEBHOOKS)
        return public_copy(webhook)

    @api_route("GET", "/webhooks/{webhook_id}/{webhook_token}", auth=False)
    async def _get_webhook_with_token(self, req: ApiRequest) -> Any:
        webhook = public_copy(self._webhook(req, check_token=True))
        webhook.pop("user", None)
        return webhook

    def _patch_webhook_fields(
        self, webhook: dict[str, Any], body: dict[str, Any], *, allow_channel: bool
    ) -> None:
        if "name" in body:
            name = str(body["name"] or "")
            if not 1 <= len(name) <= 80:
                raise form_error(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.")
            webhook["name"] = name
        if "avatar" in body:
            webhook["avatar"] = secrets.token_hex(16) if body["avatar"] else None
        if allow_channel and body.get("channel_id"):
            channel = self.stored_channel(int(body["channel_id"]))
            webhook["channel_id"] = channel["id"]
        self.emit("WEBHOOKS_UPDATE", {"guild_id": webhook["guild_id"], "channel_id": webhook["channel_id"]})

    @api_route("PATCH", "/webhooks/{webhook_id}")
    async def _patch_webhook(self, req: ApiRequest) -> Any:
        webhook = self._webhook(req, check_token=False)
        self.require_permissions(self.stored_channel(int(webhook["channel_id"])), Permissions.MANAGE_WEBHOOKS)
        self._patch_webhook_fields(webhook, req.obj(), allow_channel=True)
        return public_copy(webhook)

    @api_route("PATCH", "/webhooks/{webhook_id}/{webhook_token}", auth=False)
    async def _patch_webhook_with_token(self, req: ApiRequest) -> Any:
        webhook = self._webhook(req, check_token=True)
        self._patch_webhook_fields(webhook, req.obj(), allow_channel=False)
        rendered = public_copy(webhook)
        rendered.pop("user", None)
        return rendered

    @api_route("DELETE", "/webhooks/{webhook_id}")
    async def _delete_webhook(self, req: ApiRequest) -> Any:
        webhook = self._webhook(req, check_token=False)
        self.require_permissions(self.stored_channel(int(webhook["channel_id"])), Permissions.MANAGE_WEBHOOKS)
        del self.state.webhooks[int(webhook["id"])]
        self.emit("WEBHOOKS_UPDATE", {"guild_id": webhook["guild_id"], "channel_id": webhook["channel_id"]})
        return None

    @api_route("DELETE", "/webhooks/{webhook_id}/{webhook_token}", auth=False)
    async def _delete_webhook_with_token(self, req: ApiRequest) -> Any:
        webhook = self._webhook(req, check_token=True)
        del self.state.webhooks[int(webhook["id"])]
        self.emit("WEBHOOKS_UPDATE", {"guild_id": webhook["guild_id"], "channel_id": webhook["channel_id"]})
        return None

    def _interaction_for_token(self, req: ApiRequest) -> InteractionState | None:
        if req.id("webhook_id") != self.application_id:
            return None
        token = req.params["webhook_token"]
        state = next((s for s in self.state.interactions.values() if s.token == token), None)
        if state is None:
            raise not_found_error(10015, "Webhook")
        return state

    @api_route("POST", "/webhooks/{webhook_id}/{webhook_token}", auth=False)
    async def _execute_webhook(self, req: ApiRequest) -> Any:
        interaction = self._interaction_for_token(req)
        payload = json_copy(req.obj())
        if interaction is not None:
            return self._followup(interaction, payload, req.files)
        webhook = self._webhook(req, check_token=True)
        name = payload.get("username")
        if name is not None and (
            not 1 <= len(name) <= 80
            or any(word in name.lower() for word in ("discord", "clyde"))
            or name.lower() in ("everyone", "here")
        ):
            raise form_error(["username"], "USERNAME_INVALID_CONTAINS", "Username cannot contain that word")
        channel = self.stored_channel(int(webhook["channel_id"]))
        if req.query.get("thread_id"):
            channel = self.stored_channel(int(req.query["thread_id"]))
            if channel.get("parent_id") != webhook["channel_id"]:
                raise ApiError(400, 10003, "Unknown Channel")
        if channel["type"] in (CH_FORUM, CH_MEDIA):
            if not payload.get("thread_name"):
                raise ApiError(
                    400, 220001, "Webhooks posted to forum channels must have a thread_name or thread_id"
                )
            body = {
                "name": payload.pop("thread_name"),
                "applied_tags": payload.pop("applied_tags", []),
                "message": payload,
            }
            post = self.create_forum_post(channel, body, req.files, self.owner_user_id)
            starter = self.state.messages[int(post["id"])]
            starter["author"] = self.webhook_author(int(webhook["id"]), payload.get("username"))
            starter["webhook_id"] = webhook["id"]
            return self.render_message(starter) if req.query.get("wait") in ("true", "1", "True") else None
        self.validate_message(payload, req.files)
        extra: dict[str, Any] = {"webhook_id": webhook["id"]}
        if webhook.get("application_id"):
            extra["application_id"] = webhook["application_id"]
        stored = self.create_stored_message(
            channel,
            self.webhook_author(int(webhook["id"]), payload.get("username")),
            payload,
            req.files,
            msg_type=0,
            flags=int(payload.get("flags") or 0) & SETTABLE_MESSAGE_FLAGS,
            extra=extra,
        )
        self.emit("MESSAGE_CREATE", self.render_message(stored, gateway=True))
        if req.query.get("wait") in ("true", "1", "True"):
            return self.render_message(stored)
        return None

    def _webhook_message(self, req: ApiRequest) -> tuple[dict[str, Any], InteractionState | None]:
        """Resolve /webhooks/{id}/{token}/messages/{message_id|@original} for webhooks and interactions."""
        interaction = self._interaction_for_token(req)
        raw = req.params.get("message_id", "@original")
        if interaction is not None:
            if raw == "@original":
                if interaction.original_message_id is None:
                    raise not_found_error(10008, "Message")
                message_id = interaction.original_message_id
            else:
                message_id = int(raw)
                if (
                    message_id not in interaction.followup_ids
                    and message_id != interaction.original_message_id
                ):
                    raise not_found_error(10008, "Message")
        else:
            webhook = self._webhook(req, check_token=True)
            if raw == "@original":
                raise not_found_error(10008, "Message")
            message_id = int(raw)
            stored = self.state.messages.get(message_id)
            if stored is None or stored.get("webhook_id") != webhook["id"]:
                raise not_found_error(10008, "Message")
        stored = self.state.messages.get(message_id)
        if stored is None:
            raise not_found_error(10008, "Message")
        return stored, interaction

    @api_route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False)
    async def _get_original(self, req: ApiRequest) -> Any:
        return self.render_message(self._webhook_message(req)[0])

    @api_route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
    async def _get_webhook_message(self, req: ApiRequest) -> Any:
        return self.render_message(self._webhook_message(req)[0])

    @api_route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False)
    async def _patch_original(self, req: ApiRequest) -> Any:
        stored, interaction = self._webhook_message(req)
        mask = SETTABLE_MESSAGE_FLAGS if interaction is None else SETTABLE_MESSAGE_FLAGS & ~FLAG_COMPONENTS_V2
        self.edit_stored_message(stored, req.obj(), req.files, flag_mask=mask)
        return self.render_message(stored)

    @api_route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
    async def _patch_webhook_message(self, req: ApiRequest) -> Any:
        return await self._patch_original(req)

    @api_route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False)
    async def _delete_original(self, req: ApiRequest) -> Any:
        stored, _ = self._webhook_message(req)
        self.delete_stored_message(stored)
        return None

    @api_route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
    async def _delete_webhook_message(self, req: ApiRequest) -> Any:
        return await self._delete_original(req)

    # --------------------------------------------------------------------------------------------------------
    # interaction callbacks and followups
    # --------------------------------------------------------------------------------------------------------

    def _interaction_extra(self, state: InteractionState, *, followup: bool = False) -> dict[str, Any]:
        """application_id, webhook_id, interaction_metadata (+ legacy ``interaction``) of replies."""
        user = json_copy(self.state.users[state.user_id])
        metadata: dict[str, Any] = {
            "id": str(state.id),
            "type": state.type,
            "user": user,
            "authorizing_integration_owners": (
                {"0": str(state.guild_id)} if state.guild_id is not None else {"1": str(state.user_id)}
            ),
        }
        if state.type == 2:
            metadata["name"] = state.command_name
            metadata["command_type"] = state.command_type
        if state.source_message_id is not None:
            metadata["interacted_message_id"] = str(state.source_message_id)
        if followup and state.original_message_id is not None:
            metadata["original_response_message_id"] = str(state.original_message_id)
        extra: dict[str, Any] = {
            "application_id": str(self.application_id),
            "webhook_id": str(self.application_id),
            "interaction_metadata": metadata,
        }
        if state.type == 2:
            legacy: dict[str, Any] = {
                "id": str(state.id),
                "type": 2,
                "name": state.command_name,
                "user": user,
            }
            if state.guild_id is not None:
                legacy["member"] = self.member_payload(state.guild_id, state.user_id, with_user=False)
            extra["interaction"] = legacy
        return extra

    def _interaction_message_type(self, state: InteractionState) -> int:
        if state.type == 2:
            return {1: 20, 2: 23, 3: 23}.get(state.command_type or 1, 20)
        return 0

    def _interaction_message(
        self,
        state: InteractionState,
        payload: dict[str, Any],
        files: Sequence[tuple[str, str, bytes]],
        *,
        loading: bool = False,
        followup: bool = False,
    ) -> dict[str, Any]:
        channel = self.stored_channel(state.channel_id)
        flags = int(payload.get("flags") or 0) & INTERACTION_SETTABLE_FLAGS
        if loading:
            flags |= FLAG_LOADING
        else:
            self.validate_message(payload, files)
        ephemeral = bool(flags & FLAG_EPHEMERAL)
        stored = self.create_stored_message(
            channel,
            self.state.users[self.bot_user_id],
            {} if loading else payload,
            () if loading else files,
            msg_type=self._interaction_message_type(state),
            flags=flags,
            extra=self._interaction_extra(state, followup=followup),
            ephemeral=ephemeral,
        )
        if not ephemeral:
            self.emit("MESSAGE_CREATE", self.render_message(stored, gateway=True))
        return stored

    @api_route("POST", "/interactions/{interaction_id}/{interaction_token}/callback", auth=False)
    async def _interaction_callback(self, req: ApiRequest) -> Any:
        state = self.state.interactions.get(req.id("interaction_id"))
        if state is None or state.token != req.params["interaction_token"]:
            raise not_found_error(10062, "interaction")
        deadline = self.interaction_deadline
        lapsed = deadline is not None and time.monotonic() - state.created > deadline
        if lapsed and state.response_type is None:
            raise not_found_error(10062, "interaction")  # the token lapsed unanswered
        if state.response_type is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = req.obj()
        kind = body.get("type")
        data = body.get("data") or {}
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}.get(state.type, set())
        if state.type == 5 and state.source_message_id is None:
            allowed = {4, 5}
        if kind not in allowed:
            raise form_error(
                ["type"],
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Interaction response type {kind} is not valid for this interaction",
            )
        resource: dict[str, Any] | None = None
        info: dict[str, Any] = {"id": str(state.id), "type": state.type}
        if kind in (4, 5):
            with limits.under("data"):
                stored = self._interaction_message(state, data, req.files, loading=kind == 5)
            state.original_message_id = int(stored["id"])
            resource = {"type": kind, "message": self.render_message(stored)}
            info.update(
                response_message_id=stored["id"],
                response_message_loading=kind == 5,
                response_message_ephemeral=bool(stored["flags"] & FLAG_EPHEMERAL),
            )
        elif kind in (6, 7):
            assert state.source_message_id is not None  # guaranteed by ``allowed`` above
            stored = self.state.messages.get(state.source_message_id)
            if stored is None:
                raise not_found_error(10008, "Message")
            state.original_message_id = state.source_message_id
            if kind == 7:
                with limits.under("data"):
                    self.edit_stored_message(
                        stored, data, req.files, flag_mask=SETTABLE_MESSAGE_FLAGS & ~FLAG_COMPONENTS_V2
                    )
                resource = {"type": 7, "message": self.render_message(stored)}
            info.update(
                response_message_id=stored["id"],
                response_message_loading=False,
                response_message_ephemeral=bool(stored["flags"] & FLAG_EPHEMERAL),
            )
        elif kind == 9:
            for key in ("custom_id", "title", "components"):
                if not data.get(key):
                    raise form_error(["data", key], "BASE_TYPE_REQUIRED", "This field is required")
            limits.check_modal(data)
            state.modal = self.assign_component_ids(data["components"])
            state.modal = {"custom_id": data["custom_id"], "title": data["title"], "components": state.modal}
            self.state.modals[str(data["custom_id"])] = state
        elif kind == 8:
            limits.check_choices(data.get("choices") or [], ["data", "choices"])
        state.response_type = kind
        if req.query.get("with_response") not in ("1", "true", "True"):
            return None
        response: dict[str, Any] = {"interaction": info}
        if resource is not None:
            response["resource"] = resource
        return response

    def _followup(
        self, state: InteractionState, payload: dict[str, Any], files: Sequence[tuple[str, str, bytes]]
    ) -> Any:
        if state.response_type is None:
            raise not_found_error(10015, "Webhook")
        stored = self._interaction_message(state, payload, files, followup=True)
        state.followup_ids.append(int(stored["id"]))
        return self.render_message(stored)
