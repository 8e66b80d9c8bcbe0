"""Discord side of the moderation tools: trusted-voice roles (`bot.trust.voice_role_service.RolePlatform`)
and audit-log lines (`bot.audit.AuditPoster`)."""

from __future__ import annotations

import discord

from bot.trust.voice_role_service import Outcome, RoleInfo


class DiscordModeration:
    """Roles read fresh from the server (a role's permissions may have changed since it was chosen);
    role changes carry a reason for Discord's own audit log; audit lines never ping anyone."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def role_info(self, community_id: int, role_id: int) -> RoleInfo | None:
        try:
            roles = await self.client.http.get_roles(community_id)
        except discord.NotFound:
            return None
        for role in roles:
            if int(role["id"]) == role_id:
                return RoleInfo(
                    id=role_id,
                    is_default=role_id == community_id,
                    managed=bool(role.get("managed", False)),
                    permissions=int(role.get("permissions", 0)),
                )
        return None

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
