"""`/help`: the commands the caller may run here, grouped by role, in the community's language.

The list comes from the permission matrix (`bot.roles.MATRIX`), the same table every command is checked
against, so it never offers a command the caller would be refused, nor one this bot did not register (a
Discord-only bot has no Reddit command).
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.app import App, MicrovoiceBot
from bot.discord_adapter.checks import member_standing
from bot.roles import help_sections

FIELD_MAX = 1024


def fields(lines: list[str]) -> list[str]:
    """Lines joined into as few embed field values as fit (a field holds at most 1024 characters)."""
    chunks: list[str] = []
    for line in lines:
        if chunks and len(chunks[-1]) + 1 + len(line) <= FIELD_MAX:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line[:FIELD_MAX])
    return chunks


class Help(commands.Cog):
    def __init__(self, app: App) -> None:
        self.app = app

    @app_commands.command(name="help", description="What you can do with Microvoice here")
    @app_commands.guild_only()
    async def help(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        standing = await member_standing(interaction)
        lang = await self.app.lang(interaction.guild_id)
        embed = discord.Embed(title=i18n.t(lang, "help.title"), description=i18n.t(lang, "help.intro"))
        registered = {
            c.qualified_name
            for c in interaction.client.tree.walk_commands()  # type: ignore[attr-defined]
            if isinstance(c, app_commands.Command)
        }
        for role, names in help_sections(standing.roles, registered):
            title = i18n.t(lang, f"help.role.{role.value}")
            lines = [
                i18n.t(lang, "help.line", command=name, what=i18n.t(lang, f"help.cmd.{name}"))
                for name in names
            ]
            for chunk in fields(lines):
                embed.add_field(name=title, value=chunk, inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    await bot.add_cog(Help(bot.app))
