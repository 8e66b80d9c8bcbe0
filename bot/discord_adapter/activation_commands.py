"""What the activation cogs share on the Discord side: the `/activation` and `/activation create` groups
, the caller as an `Actor`, the brand autocomplete, the connection choices, uploads,
and the reply every `/activation create <kind>` ends with.

A kind's cog defines its commands with ``@app_commands.command`` and adds them to ``create_group`` or
``activation_group`` with `add_commands` when it is loaded; cogs/activations.py puts the group on the
tree (cogs load in name order, and commands are synced after every cog has loaded).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot import i18n
from bot.activations.codes import MAX_FILE_BYTES
from bot.activations.model import CONNECTIONS, Activation
from bot.activations.service import Actor
from bot.app import App
from bot.discord_adapter.checks import RoleRequired, require_moderator, require_role
from bot.discord_adapter.render import fitted_choice
from bot.errors import InvalidInput

#: Help for the schedule options every `/activation create <kind>` command takes.
STARTS_HELP = "Start: 'now', '+2h', 'in 3d' or 'YYYY-MM-DD HH:MM' (UTC)"
ENDS_HELP = "End: '+26h' (from now) or 'YYYY-MM-DD HH:MM' (UTC)"
#: The material connections the disclosure can name; Discord shows choice names in English.
CONNECTION_CHOICES = [
    app_commands.Choice(name=i18n.t("en", f"activation.connection.{c}"), value=c) for c in CONNECTIONS
]


F = TypeVar("F", bound=Callable[..., Any])


def create_command(
    name: str, description: str, *, connection_default: str, **described: str
) -> Callable[[F], app_commands.Command[Any, ..., Any]]:
    """`@app_commands.command` for an `/activation create <name>` command with what every one of them
    shares: the brand autocomplete, the connection choices, the help of `starts`, `ends` and
    `connection`, and the role check of the permission matrix's row `activation create <name>`.
    `described` is the help of the kind's own options."""

    def decorate(func: F) -> app_commands.Command[Any, ..., Any]:
        checked = require_role(f"activation create {name}")(func)
        checked = app_commands.autocomplete(brand=brand_autocomplete)(checked)
        checked = app_commands.choices(connection=CONNECTION_CHOICES)(checked)
        default = i18n.t("en", f"activation.connection.{connection_default}").lower()
        checked = app_commands.describe(
            **described,
            starts=STARTS_HELP,
            ends=ENDS_HELP,
            connection=f"The material connection the disclosure names (default: {default})",
        )(checked)
        return app_commands.command(name=name, description=description)(checked)

    return decorate


activation_group = app_commands.Group(
    name="activation", description="Brand activations: Q&A, giveaways, takeovers", guild_only=True
)
create_group = app_commands.Group(
    name="create",
    description="Propose a brand activation (brand managers and moderators)",
    parent=activation_group,
)


def add_commands(group: app_commands.Group, *commands: app_commands.Command[Any, ..., Any]) -> None:
    """Put a cog's commands in a shared group, replacing any of the same name (put there by an earlier
    bot in this process)."""
    for command in commands:
        group.add_command(command, override=True)


def app_of(interaction: discord.Interaction) -> App:
    app = interaction.client.app  # type: ignore[attr-defined]
    assert app is not None
    return app


async def is_moderator(interaction: discord.Interaction) -> bool:
    try:
        return await require_moderator(interaction)
    except RoleRequired:
        return False


async def actor_of(interaction: discord.Interaction) -> Actor:
    """The caller: who, in which server, and whether Discord's permissions make them a moderator."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return Actor(interaction.guild_id, interaction.user.id, await is_moderator(interaction))


async def brand_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[int]]:
    """Approved brands the caller may act for (all approved brands for moderators)."""
    if interaction.guild_id is None:
        return []
    app = app_of(interaction)
    lang = await app.lang(interaction.guild_id)
    return [
        app_commands.Choice(
            name=fitted_choice(
                lambda shown, bid=bid: i18n.t(lang, "activation.brand_choice", name=shown, id=bid), name
            ),
            value=bid,
        )
        for bid, name in await app.activations.brand_choices(await actor_of(interaction), current)
    ]


def ping_role_id(actor: Actor, role: discord.Role | None, channel: discord.abc.GuildChannel) -> int | None:
    """The role a giveaway's opening post pings, refused when Discord would notify nobody: `<@&server
    id>` (the @everyone role) pings no one, and a role that is not mentionable is only pinged by a bot
    with Mention Everyone (which the invite does not ask for). A non-moderator's choice is left to the
    service, which refuses it with its own message."""
    if role is None:
        return None
    if actor.is_moderator:
        if role.is_default():
            raise InvalidInput("giveaway.error.ping_everyone")
        if not role.mentionable and not channel.permissions_for(channel.guild.me).mention_everyone:
            raise InvalidInput("giveaway.error.ping_unmentionable", role=role.mention)
    return role.id


def reader(attachment: discord.Attachment) -> Callable[[], Awaitable[bytes]]:
    """Downloads an uploaded file when a service asks for it (after its checks), refusing big ones."""

    async def read() -> bytes:
        if attachment.size > MAX_FILE_BYTES:
            raise InvalidInput("codes.error.file_too_big", high=MAX_FILE_BYTES // 1000)
        return await attachment.read()

    return read


async def created_reply(interaction: discord.Interaction, activation: Activation, *more: str) -> None:
    """The ephemeral confirmation every `/activation create <kind>` ends with, in one message with
    what the kind adds (`more`: a giveaway's fairness commitment)."""
    app = app_of(interaction)
    text = await app.say(
        interaction,
        "activation.created",
        id=activation.id,
        kind=await app.say(interaction, f"activation.kind.{activation.kind}"),
        title=i18n.isolate(activation.title),
        start=discord.utils.format_dt(activation.starts_at, "f"),
        end=discord.utils.format_dt(activation.ends_at, "f"),
    )
    text = "\n".join([text, *more])
    if interaction.response.is_done():  # deferred: the command had slow work to do first
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)
