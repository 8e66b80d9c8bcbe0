"""REST routes for guilds: guild settings, channels, members, bans and roles, and the empty lists (emojis,
stickers, invites, events, audit log) the bot may ask for."""

from __future__ import annotations

from typing import Any

from sandbox.discord_server import limits
from sandbox.discord_server.common import (
    ApiError,
    Reply,
    form_error,
    json_copy,
    missing_permissions,
    not_found_error,
    public_copy,
)
from sandbox.discord_server.core import SandboxCore
from sandbox.discord_server.protocol import (
    CH_CATEGORY,
    CH_TEXT,
    GUILD_CHANNEL_TYPES,
    THREAD_TYPES,
    Intents,
    Permissions,
)
from sandbox.discord_server.rest import ApiRequest, api_route


class GuildRoutes(SandboxCore):
    """Guild, member, ban and role routes."""

    # --------------------------------------------------------------------------------------------------------
    # REST handlers: guilds, members, roles
    # --------------------------------------------------------------------------------------------------------

    @api_route("GET", "/guilds/{guild_id}")
    async def _get_guild(self, req: ApiRequest) -> Any:
        return self.guild_object(
            req.id("guild_id"), with_counts=req.query.get("with_counts") in ("true", "1")
        )

    @api_route("PATCH", "/guilds/{guild_id}")
    async def _patch_guild(self, req: ApiRequest) -> Any:
        guild_id = req.id("guild_id")
        self.require_guild_permissions(guild_id, Permissions.MANAGE_GUILD)
        guild = self.stored_guild(guild_id)
        for key, value in req.obj().items():
            if key in (
                "name",
                "description",
                "system_channel_id",
                "rules_channel_id",
                "preferred_locale",
                "afk_timeout",
                "verification_level",
                "default_message_notifications",
                "features",
            ):
                guild.data[key] = value
        self.emit("GUILD_UPDATE", self.guild_object(guild_id))
        return self.guild_object(guild_id)

    @api_route("GET", "/guilds/{guild_id}/channels")
    async def _get_guild_channels(self, req: ApiRequest) -> Any:
        guild_id = req.id("guild_id")
        self.stored_guild(guild_id)
        return [
            self.render_channel(c)
            for c in self.state.channels.values()
            if c.get("guild_id") == str(guild_id) and c["type"] not in THREAD_TYPES
        ]

    @api_route("POST", "/guilds/{guild_id}/channels")
    async def _post_guild_channel(self, req: ApiRequest) -> Any:
        guild_id = req.id("guild_id")
        self.require_guild_permissions(guild_id, Permissions.MANAGE_CHANNELS)
        body = req.obj()
        name = str(body.get("name") or "")
        if not 1 <= len(name) <= 100:
            raise form_error(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        kind = int(body.get("type") or CH_TEXT)
        if kind not in GUILD_CHANNEL_TYPES:
            raise form_error(["type"], "BASE_TYPE_CHOICES", "Value must be one of the guild channel types.")
        if body.get("permission_overwrites"):
            self.require_guild_permissions(guild_id, Permissions.MANAGE_ROLES)
        parent = body.get("parent_id")
        if parent is not None and self.state.channels.get(int(parent), {}).get("type") != CH_CATEGORY:
            raise form_error(["parent_id"], "CHANNEL_PARENT_INVALID_TYPE", "Not a category")
        channel_id = self.add_channel(
            guild_id,
            self.channel_name(name, kind),
            type=kind,
            parent_id=int(parent) if parent else None,
            topic=body.get("topic"),
            overwrites=body.get("permission_overwrites") or (),
            nsfw=bool(body.get("nsfw")),
        )
        channel = self.state.channels[channel_id]
        for key in (
            "rate_limit_per_user",
            "position",
            "bitrate",
            "user_limit",
            "default_auto_archive_duration",
        ):
            if body.get(key) is not None:
                channel[key] = body[key]
        return Reply(201, self.render_channel(channel))

    @api_route("PATCH", "/guilds/{guild_id}/channels")
    async def _patch_channel_positions(self, req: ApiRequest) -> Any:
        guild_id = req.id("guild_id")
        self.require_guild_permissions(guild_id, Permissions.MANAGE_CHANNELS)
        for entry in req.body or []:
            channel = self.stored_channel(int(entry["id"]))
            if entry.get("position") is not None:
                channel["position"] = int(entry["position"])
            if "parent_id" in entry:
                channel["parent_id"] = str(entry["parent_id"]) if entry["parent_id"] else None
            self.emit("CHANNEL_UPDATE", self.render_channel(channel))
        return None

    @api_route("GET", "/guilds/{guild_id}/members/{user_id}")
    async def _get_member(self, req: ApiRequest) -> Any:
        return self.member_payload(req.id("guild_id"), req.id("user_id"))

    @api_route("GET", "/guilds/{guild_id}/members")
    async def _list_members(self, req: ApiRequest) -> Any:
        guild = self.stored_guild(req.id("guild_id"))
        if not self.privileged_intents & Intents.GUILD_MEMBERS:
            raise ApiError(403, 50001, "Missing Access")
        limit = int(req.query.get("limit", 1))
        if not 1 <= limit <= 1000:
            raise form_error(["limit"], "NUMBER_TYPE_MAX", "int value should be <= 1000 and >= 1.")
        after = int(req.query.get("after", 0))
        ids = sorted(u for u in guild.members if u > after)[:limit]
        return [self.member_payload(req.id("guild_id"), u) for u in ids]

    @api_route("GET", "/guilds/{guild_id}/members/search")
    async def _search_members(self, req: ApiRequest) -> Any:
        guild_id = req.id("guild_id")
        guild = self.stored_guild(guild_id)
        query = req.query.get("query", "").lower()
        limit = int(req.query.get("limit", 1))
        found = [
            uid
            for uid in guild.members
            if self.state.users[uid]["username"].lower().startswith(query)
            or (guild.members[uid]["nick"] or "").lower().startswith(query)
            or (self.state.users[uid]["global_name"] or "").lower().startswith(query)
        ]
        return [self.member_payload(guild_id, u) for u in found[:limit]]

    def _member_updated(self, guild_id: int, user_id: int) -> dict[str, Any]:
        payload = {**self.member_payload(guild_id, user_id), "guild_id": str(guild_id)}
        self.emit("GUILD_MEMBER_UPDATE", payload)
        return self.member_payload(guild_id, user_id)

    @api_route("PATCH", "/guilds/{guild_id}/members/{user_id}")
    async def _patch_member(self, req: ApiRequest) -> Any:
        guild_id, user_id = req.id("guild_id"), req.id("user_id")
        guild = self.stored_guild(guild_id)
        member = guild.members.get(user_id)
        if member is None:
            raise not_found_error(10007, "Member")
        body = req.obj()
        if "nick" in body:
            needed = (
                Permissions.CHANGE_NICKNAME if user_id == self.bot_user_id else Permissions.MANAGE_NICKNAMES
            )
            self.require_guild_permissions(guild_id, needed)
            if user_id != self.bot_user_id:
                self.check_hierarchy(guild_id, user_id=user_id)
            nick = body["nick"] or None
            if nick is not None and len(nick) > 32:
                raise form_error(["nick"], "BASE_TYPE_MAX_LENGTH", "Must be 32 or fewer in length.")
            member["nick"] = nick
        if "roles" in body:
            self.require_guild_permissions(guild_id, Permissions.MANAGE_ROLES)
            new_roles = [int(r) for r in body["roles"] or []]
            old_roles = {int(r) for r in member["roles"]}
            for role_id in set(new_roles) ^ old_roles:
                if role_id not in guild.roles:
                    raise not_found_error(10011, "Role")
                if guild.roles[role_id]["managed"]:
                    raise missing_permissions()
                self.check_hierarchy(guild_id, role_id=role_id)
            member["roles"] = [str(r) for r in dict.fromkeys(new_roles)]
        if "communication_disabled_until" in body:
            self.require_guild_permissions(guild_id, Permissions.MODERATE_MEMBERS)
            if self.compute_permissions(guild_id, user_id) & Permissions.ADMINISTRATOR:
                raise missing_permissions()
            self.check_hierarchy(guild_id, user_id=user_id)
            member["communication_disabled_until"] = body["communication_disabled_until"]
        for key in ("mute", "deaf", "flags"):
            if key in body:
                member[key] = body[key]
        return self._member_updated(guild_id, user_id)

    @api_route("PATCH", "/guilds/{guild_id}/members/@me")
    async def _patch_me_member(self, req: ApiRequest) -> Any:
        guild_id = req.id("guild_id")
        self.require_guild_permissions(guild_id, Permissions.CHANGE_NICKNAME)
        member = self.stored_guild(guild_id).members[self.bot_user_id]
        if "nick" in req.obj():
            member["nick"] = req.obj()["nick"] or None
        return self._member_updated(guild_id, self.bot_user_id)

    def _member_role(self, req: ApiRequest, *, add: bool) -> None:
        guild_id, user_id, role_id = req.id("guild_id"), req.id("user_id"), req.id("role_id")
        guild = self.stored_guild(guild_id)
        self.require_guild_permissions(guild_id, Permissions.MANAGE_ROLES)
        member = guild.members.get(user_id)
        if member is None:
            raise not_found_error(10007, "Member")
        role = guild.roles.get(role_id)
        if role is None or role_id == guild_id:
            raise not_found_error(10011, "Role")
        if role["managed"]:
            raise missing_permissions()
        self.check_hierarchy(guild_id, role_id=role_id)
        has = str(role_id) in member["roles"]
        if add and not has:
            member["roles"].append(str(role_id))
        elif not add and has:
            member["roles"].remove(str(role_id))
        else:
            return
        self._member_updated(guild_id, user_id)

    @api_route("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    async def _add_member_role(self, req: ApiRequest) -> Any:
        self._member_role(req, add=True)

    @api_route("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    async def _remove_member_role(self, req: ApiRequest) -> Any:
        self._member_role(req, add=False)

    @api_route("DELETE", "/guilds/{guild_id}/members/{user_id}")
    async def _kick_member(self, req: ApiRequest) -> Any:
        guild_id, user_id = req.id("guild_id"), req.id("user_id")
        self.require_guild_permissions(guild_id, Permissions.KICK_MEMBERS)
        if user_id not in self.stored_guild(guild_id).members:
            raise not_found_error(10007, "Member")
        self.check_hierarchy(guild_id, user_id=user_id)
        self.remove_member(guild_id, user_id)
        return None

    @api_route("GET", "/guilds/{guild_id}/bans")
    async def _get_bans(self, req: ApiRequest) -> Any:
        guild_id = req.id("guild_id")
        self.require_guild_permissions(guild_id, Permissions.BAN_MEMBERS)
        return list(json_copy(self.stored_guild(guild_id).bans).values())

    @api_route("GET", "/guilds/{guild_id}/bans/{user_id}")
    async def _get_ban(self, req: ApiRequest) -> Any:
        guild_id = req.id("guild_id")
        self.require_guild_permissions(guild_id, Permissions.BAN_MEMBERS)
        ban = self.stored_guild(guild_id).bans.get(req.id("user_id"))
        if ban is None:
            raise not_found_error(10026, "Ban")
        return json_copy(ban)

    @api_route("PUT", "/guilds/{guild_id}/bans/{user_id}")
    async def _ban(self, req: ApiRequest) -> Any:
        guild_id, user_id = req.id("guild_id"), req.id("user_id")
        self.require_guild_permissions(guild_id, Permissions.BAN_MEMBERS)
        if user_id not in self.state.users:
            raise not_found_error(10013, "User")
        guild = self.stored_guild(guild_id)
        if user_id in guild.members:
            self.check_hierarchy(guild_id, user_id=user_id)
        reason = req.request.headers.get("X-Audit-Log-Reason")
        guild.bans[user_id] = {"reason": reason, "user": json_copy(self.state.users[user_id])}
        user = json_copy(self.state.users[user_id])
        self.emit("GUILD_BAN_ADD", {"guild_id": str(guild_id), "user": user})
        if user_id in guild.members:
            self.remove_member(guild_id, user_id)
        return None

    @api_route("DELETE", "/guilds/{guild_id}/bans/{user_id}")
    async def _unban(self, req: ApiRequest) -> Any:
        guild_id, user_id = req.id("guild_id"), req.id("user_id")
        self.require_guild_permissions(guild_id, Permissions.BAN_MEMBERS)
        if self.stored_guild(guild_id).bans.pop(user_id, None) is None:
            raise not_found_error(10026, "Ban")
        self.emit(
            "GUILD_BAN_REMOVE", {"guild_id": str(guild_id), "user": json_copy(self.state.users[user_id])}
        )
        return None

    @api_route("GET", "/guilds/{guild_id}/roles")
    async def _get_roles(self, req: ApiRequest) -> Any:
        return self.roles(req.id("guild_id"))

    @api_route("GET", "/guilds/{guild_id}/roles/{role_id}")
    async def _get_role(self, req: ApiRequest) -> Any:
        role = self.stored_guild(req.id("guild_id")).roles.get(req.id("role_id"))
        if role is None:
            raise not_found_error(10011, "Role")
        return public_copy(role)

    @api_route("POST", "/guilds/{guild_id}/roles")
    async def _post_role(self, req: ApiRequest) -> Any:
        guild_id = req.id("guild_id")
        perms = self.require_guild_permissions(guild_id, Permissions.MANAGE_ROLES)
        body = req.obj()
        requested = int(body.get("permissions") or 0)
        if requested & ~perms and not perms & Permissions.ADMINISTRATOR:
            raise missing_permissions()
        name = str(body.get("name") or "new role")
        limits.check_length(name, ["name"], limits.ROLE_NAME_MAX)
        role_id = self.add_role(
            guild_id,
            name,
            permissions=requested,
            color=int(body.get("color") or 0),
            hoist=bool(body.get("hoist")),
            mentionable=bool(body.get("mentionable")),
            position=1,
        )
        return public_copy(self.stored_guild(guild_id).roles[role_id])

    @api_route("PATCH", "/guilds/{guild_id}/roles/{role_id}")
    async def _patch_role(self, req: ApiRequest) -> Any:
        guild_id, role_id = req.id("guild_id"), req.id("role_id")
        self.require_guild_permissions(guild_id, Permissions.MANAGE_ROLES)
        guild = self.stored_guild(guild_id)
        role = guild.roles.get(role_id)
        if role is None:
            raise not_found_error(10011, "Role")
        self.check_hierarchy(guild_id, role_id=role_id)
        body = req.obj()
        if "name" in body:
            limits.check_length(body["name"] or "", ["name"], limits.ROLE_NAME_MAX, 1)
        for key in ("name", "hoist", "mentionable", "icon", "unicode_emoji"):
            if key in body:
                role[key] = body[key]
        if "permissions" in body:
            role["permissions"] = str(int(body["permissions"] or 0))
        if "color" in body:
            role["color"] = int(body["color"] or 0)
            role["colors"]["primary_color"] = role["color"]
        self.emit("GUILD_ROLE_UPDATE", {"guild_id": str(guild_id), "role": public_copy(role)})
        return public_copy(role)

    @api_route("PATCH", "/guilds/{guild_id}/roles")
    async def _patch_role_positions(self, req: ApiRequest) -> Any:
        guild_id = req.id("guild_id")
        self.require_guild_permissions(guild_id, Permissions.MANAGE_ROLES)
        guild = self.stored_guild(guild_id)
        for entry in req.body or []:
            role = guild.roles.get(int(entry["id"]))
            if role is None:
                raise not_found_error(10011, "Role")
            self.check_hierarchy(guild_id, role_id=int(entry["id"]))
            role["position"] = int(entry["position"])
            self.emit("GUILD_ROLE_UPDATE", {"guild_id": str(guild_id), "role": public_copy(role)})
        return self.roles(guild_id)

    @api_route("DELETE", "/guilds/{guild_id}/roles/{role_id}")
    async def _delete_role(self, req: ApiRequest) -> Any:
        guild_id, role_id = req.id("guild_id"), req.id("role_id")
        self.require_guild_permissions(guild_id, Permissions.MANAGE_ROLES)
        guild = self.stored_guild(guild_id)
        role = guild.roles.get(role_id)
        if role is None or role_id == guild_id:
            raise not_found_error(10011, "Role")
        if role["managed"]:
            raise ApiError(400, 50028, "Invalid Role")
        self.check_hierarchy(guild_id, role_id=role_id)
        del guild.roles[role_id]
        for member in guild.members.values():
            if str(role_id) in member["roles"]:
                member["roles"].remove(str(role_id))
        self.emit("GUILD_ROLE_DELETE", {"guild_id": str(guild_id), "role_id": str(role_id)})
        return None

    @api_route("GET", "/guilds/{guild_id}/emojis")
    async def _get_emojis(self, req: ApiRequest) -> Any:
        return json_copy(self.stored_guild(req.id("guild_id")).data["emojis"])

    @api_route("GET", "/guilds/{guild_id}/stickers")
    async def _get_stickers(self, req: ApiRequest) -> Any:
        return json_copy(self.stored_guild(req.id("guild_id")).data["stickers"])

    @api_route("GET", "/guilds/{guild_id}/invites")
    async def _get_invites(self, req: ApiRequest) -> Any:
        self.require_guild_permissions(req.id("guild_id"), Permissions.MANAGE_GUILD)
        return []

    @api_route("GET", "/guilds/{guild_id}/scheduled-events")
    async def _get_events(self, req: ApiRequest) -> Any:
        self.stored_guild(req.id("guild_id"))
        return []

    @api_route("GET", "/guilds/{guild_id}/audit-logs")
    async def _get_audit_log(self, req: ApiRequest) -> Any:
        self.require_guild_permissions(req.id("guild_id"), Permissions.VIEW_AUDIT_LOG)
        return {
            "audit_log_entries": [],
            "users": [],
            "integrations": [],
            "webhooks": [],
            "guild_scheduled_events": [],
            "threads": [],
            "application_commands": [],
            "auto_moderation_rules": [],
        }
