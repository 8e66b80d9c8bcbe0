"""Discord side of the moderation tools: trusted-voice roles (`bot.trust.voice_role_service.RolePlatform`
and `MemberDirectory`) and audit-log lines (`bot.audit.AuditPoster`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import discord

from bot.trust.voice_role_service import Outcome, RoleInfo

ADMINISTRATOR = 1 << 3
MANAGE_ROLES = 1 << 28
ROLE_OVERWRITE = 0  # a channel permission overwrite for a role (1: for a member)


def height(role: Mapping[str, Any]) -> tuple[int, int]:
    """Where a role stands in the server's hierarchy: by position, and at equal positions the older
    role (smaller id) above, as Discord orders them."""
    return int(role.get("position", 0)), -int(role["id"])


class DiscordModeration:
    """Roles read fresh from the server (a role's permissions, its place in the hierarchy and the
    channels' overwrites may have changed since it was chosen); role changes carry a reason for
    Discord's own audit log; audit lines never ping anyone."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def role_info(self, community_id: int, role_id: int) -> RoleInfo | None:
        try:
            roles = {int(r["id"]): r for r in await self.client.http.get_roles(community_id)}
        except discord.NotFound:
            return None
        role = roles.get(role_id)
        if role is None:
            return None
        return RoleInfo(
            id=role_id,
            is_default=role_id == community_id,
            managed=bool(role.get("managed", False)),
            permissions=int(role.get("permissions", 0)),
            manageable=await self._manageable(community_id, role, roles),
            channel_permissions=await self._channel_permissions(community_id, role_id),
        )

    async def _manageable(
        self, community_id: int, role: Mapping[str, Any], roles: Mapping[int, Mapping[str, Any]]
    ) -> bool:
        """Whether the bot may give and take back the role: Manage Roles (or Administrator) and its own
        highest role above it."""
        assert self.client.user is not None
        me = await self.client.http.get_member(community_id, self.client.user.id)
        mine = [roles[int(r)] for r in me.get("roles", []) if int(r) in roles]
        everyone = roles.get(community_id)
        permissions = int(everyone.get("permissions", 0)) if everyone else 0
        for own in mine:
            permissions |= int(own.get("permissions", 0))
        if not permissions & (MANAGE_ROLES | ADMINISTRATOR):
            return False
        return max((height(r) for r in mine), default=(0, 0)) > height(role)

    async def _channel_permissions(self, community_id: int, role_id: int) -> int:
        """The permissions the channels' overwrites allow the role, combined."""
        allowed = 0
        for channel in await self.client.http.get_all_guild_channels(community_id):
            for overwrite in channel.get("permission_overwrites", []):
                if int(overwrite["id"]) == role_id and int(overwrite.get("type", 0)) == ROLE_OVERWRITE:
                    allowed |= int(overwrite.get("allow", 0))
        return allowed

    async def member_roles(self, community_id: int, member_ids: Sequence[int]) -> dict[int, frozenset[int]]:
        """With the Server Members intent and the member list loaded (joins, leaves and role changes
        keep it up to date), read from it; otherwise Discord is asked about each member."""
        guild = self.client.get_guild(community_id)
        tracked = self.client.intents.members and guild is not None and guild.chunked
        found: dict[int, frozenset[int]] = {}
        for member_id in member_ids:
            if tracked:
                assert guild is not None
                member = guild.get_member(member_id)
                if member is not None:
                    found[member_id] = frozenset(r.id for r in member.roles if not r.is_default())
                continue
            try:
                data = await self.client.http.get_member(community_id, member_id)
            except discord.NotFound:
                continue
            found[member_id] = frozenset(int(r) for r in data.get("roles", []))
        return found

    async def add_role(self, community_id: int, member_id: int, role_id: int, *, reason: str) -> Outcome:
        return await self._change(self.client.http.add_role, community_id, member_id, role_id, reason)

    async def remove_role(self, community_id: int, member_id: int, role_id: int, *, reason: str) -> Outcome:
        return await self._change(self.client.http.remove_role, community_id, member_id, role_id, reason)

    @staticmethod
    async def _change(call: object, community_id: int, member_id: int, role_id: int, reason: str) -> Outcome:
        try:
            await call(community_id, member_id, role_id, reason=reason)  # type: ignore[operator]
        except discord.NotFound:
            return "gone"
        except discord.Forbidden:
            return "refused"
        return "done"

    async def post_audit(self, community_id: int, channel_id: int, text: str) -> None:
        channel = self.client.get_partial_messageable(channel_id, guild_id=community_id)
        await channel.send(text, allowed_mentions=discord.AllowedMentions.none())

    def mention(self, member_id: int) -> str:
        return f"<@{member_id}>"

    def channel_link(self, channel_id: int) -> str:
        return f"<#{channel_id}>"

    def role_mention(self, role_id: int) -> str:
        return f"<@&{role_id}>"
