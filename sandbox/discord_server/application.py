"""REST routes for the bot user, the gateway URL, the application and its application commands."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sandbox.discord_server import limits
from sandbox.discord_server.common import ApiError, Reply, form_error, json_copy, not_found_error
from sandbox.discord_server.core import SandboxCore
from sandbox.discord_server.protocol import COMMAND_NAME_RE
from sandbox.discord_server.rest import ApiRequest, api_route


class ApplicationRoutes(SandboxCore):
    """Users, gateway discovery, application info and command registration routes."""

    # --------------------------------------------------------------------------------------------------------
    # REST handlers: users, gateway, application
    # --------------------------------------------------------------------------------------------------------

    def _bot_me(self) -> dict[str, Any]:
        me = json_copy(self.state.users[self.bot_user_id])
        me.update(bot=True, verified=True, mfa_enabled=False, locale="en-US", email=None, bio="")
        return me

    @api_route("GET", "/users/@me")
    async def _get_me(self, req: ApiRequest) -> Any:
        return self._bot_me()

    @api_route("PATCH", "/users/@me")
    async def _patch_me(self, req: ApiRequest) -> Any:
        body = req.obj()
        user = self.state.users[self.bot_user_id]
        if "username" in body:
            name = str(body["username"])
            if not 2 <= len(name) <= 32:
                raise form_error(["username"], "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 32 in length.")
            user["username"] = name
        if "avatar" in body:
            user["avatar"] = secrets.token_hex(16) if body["avatar"] else None
        self.emit("USER_UPDATE", self._bot_me())
        return self._bot_me()

    @api_route("GET", "/users/{user_id}")
    async def _get_user(self, req: ApiRequest) -> Any:
        try:
            return json_copy(self.state.users[req.id("user_id")])
        except KeyError:
            raise not_found_error(10013, "User") from None

    @api_route("GET", "/users/@me/guilds")
    async def _get_my_guilds(self, req: ApiRequest) -> Any:
        return [
            {
                "id": g.data["id"],
                "name": g.data["name"],
                "icon": None,
                "banner": None,
                "owner": g.data["owner_id"] == str(self.bot_user_id),
                "permissions": str(self.compute_permissions(int(g.data["id"]), self.bot_user_id)),
                "features": list(g.data["features"]),
            }
            for g in self.state.guilds.values()
        ]

    @api_route("POST", "/users/@me/channels")
    async def _create_dm(self, req: ApiRequest) -> Any:
        body = req.obj()
        try:
            recipient = int(body["recipient_id"])
        except (KeyError, TypeError, ValueError):
            raise form_error(["recipient_id"], "BASE_TYPE_REQUIRED", "This field is required") from None
        if recipient not in self.state.users:
            raise not_found_error(10013, "User")
        return self.channel(self.open_dm(recipient))

    @api_route("GET", "/gateway", auth=False)
    async def _get_gateway(self, req: ApiRequest) -> Any:
        return {"url": self.gateway_url}

    @api_route("GET", "/gateway/bot")
    async def _get_gateway_bot(self, req: ApiRequest) -> Any:
        return {
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": max(0, 1000 - len(self.identify_payloads)),
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": self.state.users[self.bot_user_id]["username"],
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": hashlib.sha256(self.token.encode()).hexdigest(),
            "flags": self.application_flags(),
            "owner": json_copy(self.state.users[self.owner_user_id]),
            "team": None,
            "bot": json_copy(self.state.users[self.bot_user_id]),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
            "approximate_guild_count": len(self.state.guilds),
            "approximate_user_install_count": 0,
            "integration_types_config": {"0": {}},
            "install_params": {"scopes": ["bot", "applications.commands"], "permissions": "8"},
            "rpc_origins": [],
        }

    @api_route("GET", "/applications/@me")
    async def _get_application(self, req: ApiRequest) -> Any:
        return self._application()

    @api_route("GET", "/oauth2/applications/@me")
    async def _get_oauth_application(self, req: ApiRequest) -> Any:
        return self._application()

    @api_route("GET", "/applications/{application_id}/emojis")
    async def _get_app_emojis(self, req: ApiRequest) -> Any:
        self._check_app(req)
        return {"items": []}

    @api_route("GET", "/applications/{application_id}/entitlements")
    async def _get_entitlements(self, req: ApiRequest) -> Any:
        self._check_app(req)
        return []

    # --------------------------------------------------------------------------------------------------------
    # REST handlers: application commands
    # --------------------------------------------------------------------------------------------------------

    def _check_app(self, req: ApiRequest) -> None:
        if req.id("application_id") != self.application_id:
            raise ApiError(403, 50001, "Missing Access")

    def _command_store(self, req: ApiRequest) -> tuple[dict[int, dict[str, Any]], int | None]:
        self._check_app(req)
        if "guild_id" in req.params:
            guild_id = req.id("guild_id")
            self.stored_guild(guild_id)
            return self.state.guild_commands.setdefault(guild_id, {}), guild_id
        return self.state.global_commands, None

    def _validate_options(self, options: list[dict[str, Any]], path: list[str | int]) -> None:
        if len(options) > 25:
            raise form_error([*path, "options"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        names: set[str] = set()
        seen_optional = False
        for index, option in enumerate(options):
            where = [*path, "options", index]
            name = option.get("name")
            if not isinstance(name, str) or not COMMAND_NAME_RE.match(name) or name != name.lower():
                raise form_error(
                    [*where, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                )
            if name in names:
                raise form_error(
                    [*where, "name"],
                    "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                    "Option name already exists",
                )
            names.add(name)
            description = option.get("description") or ""
            if not 1 <= len(description) <= 100:
                raise form_error(
                    [*where, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                )
            if option.get("type") in (1, 2):
                self._validate_options(option.get("options") or [], where)
                continue
            if option.get("required"):
                if seen_optional:
                    raise form_error(
                        [*path, "options"],
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                seen_optional = True
            limits.check_choices(option.get("choices") or [], [*where, "choices"])

    def _validate_command(self, command: Any, path: list[str | int]) -> None:
        if not isinstance(command, dict):
            raise form_error(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        kind = int(command.get("type", 1))
        name = command.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 32:
            raise form_error([*path, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
        if kind == 1:
            if not COMMAND_NAME_RE.match(name) or name != name.lower():
                raise form_error(
                    [*path, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                )
            if not 1 <= len(command.get("description") or "") <= 100:
                raise form_error(
                    [*path, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                )
            self._validate_options(command.get("options") or [], path)
        elif command.get("description"):
            raise form_error(
                [*path, "description"],
                "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                "Context menu commands cannot have description",
            )

    def add_command(self, command: dict[str, Any], *, guild_id: int | None = None) -> dict[str, Any]:
        """Register an application command as if the bot had synced it (global, or for one guild)."""
        if guild_id is None:
            store = self.state.global_commands
        else:
            store = self.state.guild_commands.setdefault(guild_id, {})
        stored, _ = self._store_command(store, guild_id, command)
        return stored

    def _store_command(
        self, store: dict[int, dict[str, Any]], guild_id: int | None, body: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        kind = int(body.get("type", 1))
        existing = next((c for c in store.values() if c["name"] == body["name"] and c["type"] == kind), None)
        command_id = int(existing["id"]) if existing else self.state.ids.next()
        command: dict[str, Any] = {
            "id": str(command_id),
            "application_id": str(self.application_id),
            "version": str(self.state.ids.next()),
            "default_member_permissions": body.get("default_member_permissions"),
            "type": kind,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description") or "",
            "description_localizations": body.get("description_localizations"),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
            "nsfw": bool(body.get("nsfw", False)),
        }
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        else:
            command["dm_permission"] = body.get("dm_permission", True)
        if body.get("options"):
            command["options"] = json_copy(body["options"])
        store[command_id] = command
        return json_copy(command), existing is None

    @api_route("GET", "/applications/{application_id}/commands")
    async def _get_global_commands(self, req: ApiRequest) -> Any:
        store, _ = self._command_store(req)
        return [json_copy(c) for c in store.values()]

    @api_route("GET", "/applications/{application_id}/guilds/{guild_id}/commands")
    async def _get_guild_commands(self, req: ApiRequest) -> Any:
        return await self._get_global_commands(req)

    @api_route("PUT", "/applications/{application_id}/commands")
    async def _put_global_commands(self, req: ApiRequest) -> Any:
        store, guild_id = self._command_store(req)
        body = req.body if req.body is not None else []
        if not isinstance(body, list):
            raise form_error([], "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        if len(body) > 100:
            raise form_error([], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        keys = set()
        for index, command in enumerate(body):
            self._validate_command(command, [index])
            key = (command["name"], int(command.get("type", 1)))
            if key in keys:
                raise form_error(
                    [index, "name"],
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                )
            keys.add(key)
        previous = dict(store)
        store.clear()
        result = []
        for command in body:
            match = next(
                (
                    c
                    for c in previous.values()
                    if c["name"] == command["name"] and c["type"] == int(command.get("type", 1))
                ),
                None,
            )
            if match is not None:
                store[int(match["id"])] = match  # keep the id Discord already assigned
            stored, _ = self._store_command(store, guild_id, command)
            result.append(stored)
        return result

    @api_route("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
    async def _put_guild_commands(self, req: ApiRequest) -> Any:
        return await self._put_global_commands(req)

    @api_route("POST", "/applications/{application_id}/commands")
    async def _post_global_command(self, req: ApiRequest) -> Any:
        store, guild_id = self._command_store(req)
        body = req.obj()
        self._validate_command(body, [])
        stored, created = self._store_command(store, guild_id, body)
        return Reply(201 if created else 200, stored)

    @api_route("POST", "/applications/{application_id}/guilds/{guild_id}/commands")
    async def _post_guild_command(self, req: ApiRequest) -> Any:
        return await self._post_global_command(req)

    def _command(self, req: ApiRequest) -> tuple[dict[int, dict[str, Any]], dict[str, Any]]:
        store, _ = self._command_store(req)
        try:
            return store, store[req.id("command_id")]
        except KeyError:
            raise not_found_error(10063, "application command") from None

    @api_route("GET", "/applications/{application_id}/commands/{command_id}")
    async def _get_command(self, req: ApiRequest) -> Any:
        return json_copy(self._command(req)[1])

    @api_route("GET", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
    async def _get_guild_command(self, req: ApiRequest) -> Any:
        return await self._get_command(req)

    @api_route("PATCH", "/applications/{application_id}/commands/{command_id}")
    async def _patch_command(self, req: ApiRequest) -> Any:
        _, command = self._command(req)
        body = req.obj()
        merged = {**command, **{k: v for k, v in body.items() if k != "id"}}
        self._validate_command(merged, [])
        command.update({k: v for k, v in body.items() if k != "id"})
        command["version"] = str(self.state.ids.next())
        return json_copy(command)

    @api_route("PATCH", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
    async def _patch_guild_command(self, req: ApiRequest) -> Any:
        return await self._patch_command(req)

    @api_route("DELETE", "/applications/{application_id}/commands/{command_id}")
    async def _delete_command(self, req: ApiRequest) -> Any:
        store, command = self._command(req)
        del store[int(command["id"])]
        return None

    @api_route("DELETE", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
    async def _delete_guild_command(self, req: ApiRequest) -> Any:
        return await self._delete_command(req)

    @api_route("GET", "/applications/{application_id}/guilds/{guild_id}/commands/permissions")
    async def _get_command_permissions(self, req: ApiRequest) -> Any:
        self._command_store(req)
        return []
