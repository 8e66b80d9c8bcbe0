"""Interactions injected as a user would trigger them: slash commands, autocomplete, context menus, button
clicks, select menus and modal submits, plus the handle tests await on."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.discord_server.common import b64, json_copy, public_copy
from sandbox.discord_server.core import SandboxCore
from sandbox.discord_server.protocol import ALL_PERMISSIONS, SELECT_TYPES, Permissions
from sandbox.discord_server.recording import RecordedCall

if TYPE_CHECKING:
    from sandbox.discord_server.server import DiscordSandbox



# ------------------------------------------------------------------------------------------------------------
# Interactions
# ------------------------------------------------------------------------------------------------------------


@dataclass
class InteractionState:
    id: int
    token: str
    type: int
    payload: dict[str, Any]
    guild_id: int | None
    channel_id: int
    user_id: int
    command_name: str | None = None
    command_type: int | None = None
    source_message_id: int | None = None
    response_type: int | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    created: float = field(default_factory=time.monotonic)  # when it was dispatched


class Interaction:
    """Handle for an interaction the sandbox injected (slash command, click, modal submit, ...)."""

    def __init__(self, sandbox: DiscordSandbox, state: InteractionState) -> None:
        self._sandbox = sandbox
        self._state = state
        self.id: int = state.id
        self.token: str = state.token
        self.payload: dict[str, Any] = state.payload

    def __repr__(self) -> str:
        return f"<Interaction id={self.id} type={self._state.type} responded={self._state.response_type}>"

    def _is_callback(self, call: RecordedCall) -> bool:
        # The cheap path test first: it rules out nearly every call of a long session.
        return (
            call.path.startswith(f"/interactions/{self.id}/")
            and call.status != 0
            and call.matches("POST", "/interactions/{}/{}/callback")
        )

    async def response(self, timeout: float = 5) -> RecordedCall:  # noqa: ASYNC109
        """Wait for the bot's POST /interactions/{id}/{token}/callback (the first one)."""
        return await self._sandbox.wait_until(
            lambda: next((c for c in self._sandbox.rest.calls if self._is_callback(c)), None),
            timeout,
            f"interaction {self.id} callback",
        )

    def followups(self) -> list[RecordedCall]:
        """Followup messages the bot sent through POST /webhooks/{application_id}/{token}."""
        path = f"/webhooks/{self._sandbox.application_id}/{self.token}"
        return [c for c in self._sandbox.rest.calls if c.method == "POST" and c.path == path]

    async def wait_followup(self, count: int = 1, timeout: float = 5) -> RecordedCall:  # noqa: ASYNC109
        """Wait until ``count`` followups were answered; returns the ``count``-th."""

        def check() -> RecordedCall | None:
            done = [c for c in self.followups() if c.status]
            return done[count - 1] if len(done) >= count else None

        return await self._sandbox.wait_until(
            check, timeout, f"{count} followup(s) to interaction {self.id}"
        )

    async def edited(self, timeout: float = 5) -> RecordedCall:  # noqa: ASYNC109
        """Wait for the bot's first edit of the original response (PATCH .../messages/@original), as
        after a deferred update (callback type 6)."""
        path = f"/webhooks/{self._sandbox.application_id}/{self.token}/messages/@original"
        return await self._sandbox.wait_until(
            lambda: next(
                (c for c in self._sandbox.rest.calls if c.method == "PATCH" and c.path == path and c.status),
                None,
            ),
            timeout,
            f"an edit of interaction {self.id}'s response",
        )

    @property
    def responded_with(self) -> int | None:
        """The interaction callback type the bot used (4, 5, 6, 7, 8, 9) or None if not yet acknowledged."""
        return self._state.response_type

    @property
    def message(self) -> dict[str, Any] | None:
        """The message the response created or updated (REST shape), e.g. to click its buttons next."""
        if self._state.original_message_id is None:
            return None
        return self._sandbox.message(self._state.original_message_id)

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot opened in response (callback type 9), if any."""
        return json_copy(self._state.modal)


class Interactions(SandboxCore):
    """Builds interaction payloads, applies the official client's rules when strict, dispatches."""

    # --------------------------------------------------------------------------------------------------------
    # injected interactions
    # --------------------------------------------------------------------------------------------------------

    def _resolved_channel(self, channel_id: int, user_perms: int) -> dict[str, Any]:
        channel = self.state.channels[channel_id]
        keys = (
            "id",
            "name",
            "type",
            "guild_id",
            "parent_id",
            "flags",
            "last_message_id",
            "nsfw",
            "position",
            "rate_limit_per_user",
            "topic",
            "thread_metadata",
            "owner_id",
            "member_count",
            "message_count",
            "total_message_sent",
            "permission_overwrites",
        )
        resolved = {k: json_copy(channel[k]) for k in keys if k in channel}
        resolved["permissions"] = str(user_perms)
        return resolved

    def _new_interaction(
        self,
        kind: int,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        data: dict[str, Any],
        *,
        locale: str,
        permissions: int | None = None,
        message: dict[str, Any] | None = None,
        command: dict[str, Any] | None = None,
        source_message_id: int | None = None,
    ) -> InteractionState:
        channel = self.state.channels[channel_id]
        self.require_member(guild_id, user_id)
        interaction_id = self.state.ids.next()
        token = b64(f"interaction:{interaction_id}:{secrets.token_urlsafe(48)}".encode())
        payload: dict[str, Any] = {
            "app_permissions": str(self.bot_permissions(channel)),
            "application_id": str(self.application_id),
            "attachment_size_limit": 10_485_760,
            "channel": {**self.render_channel(channel)},
            "channel_id": str(channel_id),
            "data": data,
            "entitlement_sku_ids": [],
            "entitlements": [],
            "id": str(interaction_id),
            "locale": locale,
            "token": token,
            "type": kind,
            "version": 1,
        }
        if guild_id is not None:
            guild = self.stored_guild(guild_id)
            perms = (
                permissions
                if permissions is not None
                else self.compute_permissions(guild_id, user_id, channel_id)
            )
            payload["channel"]["permissions"] = str(perms)
            payload["authorizing_integration_owners"] = {"0": str(guild_id)}
            payload["context"] = 0
            payload["guild"] = {
                "features": list(guild.data["features"]),
                "id": str(guild_id),
                "locale": guild.data["preferred_locale"],
            }
            payload["guild_id"] = str(guild_id)
            payload["guild_locale"] = guild.data["preferred_locale"]
            payload["member"] = self.member_payload(guild_id, user_id, permissions=perms)
        else:
            payload["channel"].pop("_recipient_id", None)
            payload["authorizing_integration_owners"] = {"1": str(user_id)}
            payload["context"] = 1
            payload["user"] = json_copy(self.state.users[user_id])
        if message is not None:
            payload["message"] = message
        state = InteractionState(
            id=interaction_id,
            token=token,
            type=kind,
            payload=payload,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            command_name=command["name"] if command else None,
            command_type=command["type"] if command else None,
            source_message_id=source_message_id,
        )
        self.state.interactions[interaction_id] = state
        return state

    async def _dispatch_interaction(self, state: InteractionState) -> Interaction:
        await self.dispatch("INTERACTION_CREATE", state.payload)
        return Interaction(self, state)

    def _find_command(self, guild_id: int | None, name: str, kind: int) -> dict[str, Any]:
        stores = [self.state.guild_commands.get(guild_id, {})] if guild_id is not None else []
        stores.append(self.state.global_commands)
        for store in stores:
            for command in store.values():
                if command["name"] == name and command["type"] == kind:
                    return command
        known = sorted(c["name"] for s in stores for c in s.values())
        raise LookupError(f"no synced command {name!r} (type {kind}) for guild {guild_id}; synced: {known}")

    def _client_rule(self, ok: bool, message: str) -> None:
        """A check the official client performs; only enforced with ``strict_client``."""
        if self.strict_client and not ok:
            raise ValueError(message)

    def _check_command_permissions(self, command: dict[str, Any], perms: int) -> None:
        required = command.get("default_member_permissions")
        hidden = required is not None and not perms & Permissions.ADMINISTRATOR and int(required) & ~perms
        if self.strict_client and hidden:
            raise PermissionError(
                f"Discord hides /{command['name']} from this member (default_member_permissions={required})"
            )

    def _option_value(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        definition: dict[str, Any],
        value: Any,
        resolved: dict[str, dict[str, Any]],
    ) -> Any:
        """Convert a test-supplied option value to what Discord sends, filling ``resolved`` for entities."""
        kind = definition["type"]
        name = definition["name"]
        if kind == 3:
            value = str(value)
            length_ok = definition.get("min_length", 0) <= len(value) <= definition.get("max_length", 6000)
            self._client_rule(length_ok, f"option {name}: length outside [min_length, max_length]")
        elif kind == 4:
            value = int(value)
        elif kind == 10:
            value = float(value) if not isinstance(value, int) else value
        elif kind == 5:
            value = bool(value)
        if kind in (4, 10):
            low, high = definition.get("min_value"), definition.get("max_value")
            in_range = not ((low is not None and value < low) or (high is not None and value > high))
            self._client_rule(in_range, f"option {name}: {value} outside [{low}, {high}]")
        choices = definition.get("choices")
        if choices:
            allowed = [c["value"] for c in choices]
            self._client_rule(
                value in allowed, f"option {name}: {value!r} is not one of the choices {allowed}"
            )
        if kind == 11:
            filename, data = value if isinstance(value, tuple) else ("file.bin", bytes(value))
            attachment = self.store_attachment(channel_id, filename, data, ephemeral=True)
            resolved.setdefault("attachments", {})[attachment["id"]] = attachment
            return attachment["id"]
        if kind not in (6, 7, 8, 9):
            return value
        entity_id = int(getattr(value, "id", value))
        guild = self.state.guilds.get(guild_id) if guild_id is not None else None
        if kind in (6, 9) and entity_id in self.state.users:
            resolved.setdefault("users", {})[str(entity_id)] = json_copy(self.state.users[entity_id])
            if guild is not None and entity_id in guild.members:
                perms = self.compute_permissions(int(guild.data["id"]), entity_id, channel_id)
                member = self.member_payload(
                    int(guild.data["id"]), entity_id, with_user=False, permissions=perms
                )
                resolved.setdefault("members", {})[str(entity_id)] = member
            return str(entity_id)
        if kind in (8, 9) and guild is not None and entity_id in guild.roles:
            resolved.setdefault("roles", {})[str(entity_id)] = public_copy(guild.roles[entity_id])
            return str(entity_id)
        if kind == 7 and entity_id in self.state.channels:
            allowed_types = definition.get("channel_types")
            channel_type = self.state.channels[entity_id]["type"]
            self._client_rule(
                not allowed_types or channel_type in allowed_types,
                f"option {name}: channel type {channel_type} not in {allowed_types}",
            )
            perms = self.compute_permissions(guild_id, user_id, entity_id) if guild_id else 0
            resolved.setdefault("channels", {})[str(entity_id)] = self._resolved_channel(entity_id, perms)
            return str(entity_id)
        what = {6: "user", 7: "channel", 8: "role", 9: "user or role"}[kind]
        raise ValueError(f"option {name}: {entity_id} is not a known {what}")

    def _build_options(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        definitions: list[dict[str, Any]],
        options: dict[str, Any],
        resolved: dict[str, dict[str, Any]],
        *,
        focused: str | None = None,
    ) -> list[dict[str, Any]]:
        by_name = {d["name"]: d for d in definitions}
        unknown = set(options) - set(by_name)
        if unknown:
            raise ValueError(f"unknown option(s) {sorted(unknown)}; command defines {sorted(by_name)}")
        built = []
        for definition in definitions:
            name = definition["name"]
            if name not in options:
                self._client_rule(
                    not definition.get("required") or name == focused, f"required option {name!r} missing"
                )
                continue
            if name == focused:
                built.append(
                    {"name": name, "type": definition["type"], "value": str(options[name]), "focused": True}
                )
                continue
            value = self._option_value(guild_id, channel_id, user_id, definition, options[name], resolved)
            built.append({"name": name, "type": definition["type"], "value": value})
        return built

    def _command_data(
        self,
        command: dict[str, Any],
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        options: dict[str, Any],
        subcommand: str | Sequence[str] | None,
        *,
        focused: str | None = None,
    ) -> dict[str, Any]:
        path = [subcommand] if isinstance(subcommand, str) else list(subcommand or [])
        definitions = command.get("options") or []
        chain: list[dict[str, Any]] = []
        for part in path:
            match = next((d for d in definitions if d["name"] == part and d["type"] in (1, 2)), None)
            if match is None:
                raise LookupError(f"/{command['name']} has no subcommand (group) {part!r}")
            chain.append(match)
            definitions = match.get("options") or []
        if any(d["type"] in (1, 2) for d in definitions):
            raise ValueError(f"/{command['name']} needs a subcommand: {[d['name'] for d in definitions]}")
        resolved: dict[str, dict[str, Any]] = {}
        built = self._build_options(
            guild_id, channel_id, user_id, definitions, options, resolved, focused=focused
        )
        for link in reversed(chain):
            built = [{"name": link["name"], "type": link["type"], "options": built}]
        data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": command["type"]}
        if built:
            data["options"] = built
        if resolved:
            data["resolved"] = resolved
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        return data

    async def slash(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        subcommand: str | Sequence[str] | None = None,
        permissions: int | None = None,
        locale: str = "en-US",
    ) -> Interaction:
        """A member runs ``/name`` (type 2, CHAT_INPUT) — only possible for a synced command, as on Discord.

        Option types come from the synced definition: users/roles/channels/mentionables (ids or objects
        with ``.id``) are sent as ids with ``resolved`` data, attachments as ``(filename, bytes)``.
        ``subcommand`` is ``'sub'`` or ``['group', 'sub']``. ``permissions`` overrides the member's computed
        channel permissions. With ``strict_client`` a command hidden by ``default_member_permissions``
        raises PermissionError and invalid option values raise ValueError.
        """
        command = self._find_command(guild_id, name, 1)
        perms = permissions
        if perms is None and guild_id is not None:
            perms = self.compute_permissions(guild_id, user_id, channel_id)
        self._check_command_permissions(command, perms if perms is not None else ALL_PERMISSIONS)
        data = self._command_data(command, guild_id, channel_id, user_id, options or {}, subcommand)
        state = self._new_interaction(
            2, guild_id, channel_id, user_id, data, locale=locale, permissions=perms, command=command
        )
        return await self._dispatch_interaction(state)

    async def autocomplete(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str,
        focused: str,
        options: dict[str, Any],
        *,
        subcommand: str | Sequence[str] | None = None,
        locale: str = "en-US",
    ) -> Interaction:
        """Autocomplete (type 4) for option ``focused`` while the user types ``options[focused]``."""
        command = self._find_command(guild_id, name, 1)
        data = self._command_data(
            command, guild_id, channel_id, user_id, options, subcommand, focused=focused
        )
        data.pop("resolved", None)
        state = self._new_interaction(4, guild_id, channel_id, user_id, data, locale=locale, command=command)
        return await self._dispatch_interaction(state)

    async def context_menu(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        target_id: int,
        *,
        kind: int = 2,
        locale: str = "en-US",
    ) -> Interaction:
        """A user/message context-menu command (kind 2 = user, 3 = message) on ``target_id``."""
        command = self._find_command(guild_id, name, kind)
        resolved: dict[str, Any] = {}
        if kind == 2:
            self._option_value(
                guild_id, channel_id, user_id, {"type": 6, "name": "target"}, target_id, resolved
            )
        else:
            stored = self.state.messages[target_id]
            resolved["messages"] = {str(target_id): self.render_message(stored)}
        data = {
            "id": command["id"],
            "name": name,
            "type": kind,
            "target_id": str(target_id),
            "resolved": resolved,
        }
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        state = self._new_interaction(2, guild_id, channel_id, user_id, data, locale=locale, command=command)
        return await self._dispatch_interaction(state)

    async def click(
        self,
        message: dict[str, Any] | int,
        custom_id: str,
        user_id: int,
        *,
        guild_id: int | None = None,
        channel_id: int | None = None,
        values: Sequence[Any] | None = None,
        locale: str = "en-US",
        permissions: int | None = None,
    ) -> Interaction:
        """A user clicks a button / uses a select (type 3) on a message the bot posted.

        ``message`` is a message dict or id (e.g. ``interaction.message`` or an entry of ``messages()``).
        Raises LookupError if that message has no component with ``custom_id`` and (with ``strict_client``)
        ValueError if it is disabled — the Discord client would not let the user do either. ``values`` are
        for selects.
        """
        message_id = message if isinstance(message, int) else int(message["id"])
        stored = self.state.messages.get(message_id)
        if stored is None:
            raise LookupError(f"unknown message {message_id}")
        component = next(
            (c for c in self.walk_components(stored["components"]) if c.get("custom_id") == custom_id), None
        )
        if component is None:
            ids = [
                c.get("custom_id") for c in self.walk_components(stored["components"]) if c.get("custom_id")
            ]
            raise LookupError(f"message {message_id} has no component {custom_id!r}; it has {ids}")
        self._client_rule(not component.get("disabled"), f"component {custom_id!r} is disabled")
        channel_id = channel_id if channel_id is not None else int(stored["channel_id"])
        if guild_id is None:
            guild_id = stored.get("_guild_id")
        data: dict[str, Any] = {
            "custom_id": custom_id,
            "component_type": component["type"],
            "id": component["id"],
        }
        if component["type"] in SELECT_TYPES:
            picked = list(values or [])
            low, high = component.get("min_values", 1), component.get("max_values", 1)
            self._client_rule(
                low <= len(picked) <= high,
                f"select {custom_id!r} needs between {low} and {high} values, got {len(picked)}",
            )
            if component["type"] == 3:
                valid = [o["value"] for o in component.get("options", [])]
                self._client_rule(
                    all(str(v) in valid for v in picked),
                    f"select {custom_id!r}: values must be among {valid}",
                )
                data["values"] = [str(v) for v in picked]
            else:
                resolved: dict[str, dict[str, Any]] = {}
                kind = {5: 6, 6: 8, 7: 9, 8: 7}[component["type"]]
                definition = {"type": kind, "name": custom_id}
                data["values"] = [
                    self._option_value(guild_id, channel_id, user_id, definition, v, resolved) for v in picked
                ]
                data["resolved"] = resolved
        elif values:
            raise ValueError("values are only valid for select menus")
        rendered = self.render_message(stored)
        state = self._new_interaction(
            3,
            guild_id,
            channel_id,
            user_id,
            data,
            locale=locale,
            permissions=permissions,
            message=rendered,
            source_message_id=message_id,
        )
        return await self._dispatch_interaction(state)

    def _modal_components(
        self, definition: list[dict[str, Any]], values: dict[str, Any]
    ) -> list[dict[str, Any]]:
        used: set[str] = set()

        def render(component: dict[str, Any]) -> dict[str, Any]:
            kind = component.get("type")
            if kind == 1:
                return {
                    "type": 1,
                    "id": component.get("id"),
                    "components": [render(c) for c in component["components"]],
                }
            if kind == 18:
                return {"type": 18, "id": component.get("id"), "component": render(component["component"])}
            custom_id = component.get("custom_id")
            if kind == 4:
                value = str(values.get(custom_id, component.get("value") or ""))
                used.add(custom_id)
                self._client_rule(
                    bool(value) or not component.get("required", True),
                    f"text input {custom_id!r} is required",
                )
                self._client_rule(
                    component.get("min_length", 0) <= len(value) <= component.get("max_length", 4000),
                    f"text input {custom_id!r}: length outside [min_length, max_length]",
                )
                return {"type": 4, "id": component.get("id"), "custom_id": custom_id, "value": value}
            if kind in SELECT_TYPES or kind in (19, 21, 22, 23):
                used.add(custom_id)
                picked = values.get(custom_id, [])
                picked = [picked] if isinstance(picked, str) else list(picked)
                return {
                    "type": kind,
                    "id": component.get("id"),
                    "custom_id": custom_id,
                    "values": [str(v) for v in picked],
                }
            return {"type": kind, "id": component.get("id")}

        rendered = [render(c) for c in definition]
        unknown = set(values) - used
        if unknown:
            raise KeyError(f"modal has no inputs {sorted(unknown)}")
        return rendered

    async def submit_modal(
        self,
        custom_id: str,
        values: dict[str, Any],
        user_id: int,
        *,
        guild_id: int | None,
        channel_id: int,
        locale: str = "en-US",
    ) -> Interaction:
        """A user submits a modal (type 5). ``values`` maps input custom_id -> text (or list for selects).

        If the bot opened this modal (callback type 9) the submission mirrors its layout (action rows or
        labels, component ids) and carries the originating message for component-opened modals; otherwise
        it falls back to one action row per text input.
        """
        opener = self.state.modals.get(custom_id)
        message = None
        source = None
        if opener is not None and opener.modal is not None:
            components = self._modal_components(opener.modal["components"], values)
            if opener.source_message_id is not None and opener.source_message_id in self.state.messages:
                source = opener.source_message_id
                message = self.render_message(self.state.messages[source])
        else:
            components = [
                {
                    "type": 1,
                    "id": 2 * i + 1,
                    "components": [{"type": 4, "id": 2 * i + 2, "custom_id": key, "value": str(value)}],
                }
                for i, (key, value) in enumerate(values.items())
            ]
        data = {"custom_id": custom_id, "components": components}
        state = self._new_interaction(
            5, guild_id, channel_id, user_id, data, locale=locale, message=message, source_message_id=source
        )
        return await self._dispatch_interaction(state)
