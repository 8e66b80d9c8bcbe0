"""Server-side role checks shared by every cog. Discord's default permissions are only a hint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.permissions import is_moderator
from bot.roles import Standing, allowed, refusal_key

T = TypeVar("T")


class RoleRequired(app_commands.CheckFailure):
    """A server-side role check failed; `key` names the message the caller sees (ephemeral)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
        self.params: dict[str, object] = {}


async def require_moderator(interaction: discord.Interaction) -> bool:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    app = interaction.client.app  # type: ignore[attr-defined]
    community = await app.community(interaction.guild_id)
    perms = interaction.permissions
    user = interaction.user
    role_ids = {r.id for r in user.roles} if isinstance(user, discord.Member) else set()
    role_ids.discard(interaction.guild_id)  # @everyone (its id is the server's) makes nobody a moderator
    if not is_moderator(
        manage_guild=perms.manage_guild,
        administrator=perms.administrator,
        role_ids=role_ids,
        mod_role_id=community.mod_role_id,
    ):
        raise RoleRequired("error.moderator_only")
    return True


def moderator_only() -> Callable[[T], T]:
    """Decorator: Manage Server, Administrator, or the community's configured moderator role."""
    return app_commands.check(require_moderator)


async def member_standing(interaction: discord.Interaction) -> Standing:
    """The caller's Microvoice roles in this server: moderator, brand manager, partner (and member)."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    app = interaction.client.app  # type: ignore[attr-defined]
    try:
        moderator = await require_moderator(interaction)
    except RoleRequired:
        moderator = False
    standing: Standing = await app.partners.standing(
        interaction.guild_id, interaction.user.id, moderator=moderator
    )
    return standing


def require_role(command: str) -> Callable[[T], T]:
    """Decorator: the caller holds one of the roles `bot.roles.MATRIX` allows for `command`."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if not allowed(command, (await member_standing(interaction)).roles):
            raise RoleRequired(refusal_key(command))
        return True

    predicate.matrix_row = command  # type: ignore[attr-defined]  # tests check it names its own command
    return app_commands.check(predicate)


async def in_a_server(interaction: discord.Interaction) -> bool:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return True


def guard_server_only(tree: app_commands.CommandTree) -> int:
    """Every server-only command (its own `guild_only`, or its group's) refuses an invocation from
    outside a server first, with "works inside a server only". Discord hides such commands in DMs
    but the interaction can still come (an older or another client, a server that ignores the
    command's contexts), and the command bodies assume a server. Returns how many were guarded."""
    guarded = 0
    for command in tree.walk_commands():
        if not isinstance(command, app_commands.Command) or in_a_server in command.checks:
            continue
        node: app_commands.Command[Any, ..., Any] | app_commands.Group | None = command
        while node is not None and not node.guild_only:
            node = node.parent
        if node is not None:
            command.checks.insert(0, in_a_server)  # before checks that read the member or server
            guarded += 1
    return guarded


def can_give(interaction: discord.Interaction, role: discord.Role) -> bool:
    """Whether the caller could give this role themselves: the server owner, or Manage Roles (or
    Administrator) and a highest role above it. A moderator never has the bot hand out a role on their
    behalf that they could not give."""
    user, guild = interaction.user, interaction.guild
    if not isinstance(user, discord.Member) or guild is None:
        return False
    if guild.owner_id == user.id:
        return True
    # Server-wide: in a channel, the same bit is Manage Permissions, which a channel overwrite can give
    # someone who may not manage the server's roles.
    perms = user.guild_permissions
    return (perms.manage_roles or perms.administrator) and user.top_role > role
