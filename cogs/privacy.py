"""`/privacy`: members see and erase what is stored about them; raw events expire after retention.

`/privacy export` sends an ephemeral JSON file of every row about the caller in this server.
`/privacy forget` (after a confirmation button) erases them; moderators can do the same for a member
who left (`/privacy forget-member`). The work is done by `bot.privacy.PrivacyService`, which also runs
the daily purge of raw events past the server's retention window (scheduled in bot/app.py).
"""

from __future__ import annotations

import io
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.app import App, MicrovoiceBot
from bot.discord_adapter.checks import RoleRequired, require_moderator, require_role
from bot.discord_adapter.components import SafeCallback
from bot.errors import InvalidInput
from bot.privacy import parse_member_id


class ForgetButton(
    SafeCallback,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"microvoice:privacy:(?P<action>forget|forget-member|cancel):(?P<member>\d+)",
):
    """Confirms (or cancels) an erasure; the member to erase lives in the custom_id."""

    def __init__(self, action: str, member_id: int, *, label: str = "") -> None:
        style = discord.ButtonStyle.secondary if action == "cancel" else discord.ButtonStyle.danger
        super().__init__(
            discord.ui.Button(
                style=style, label=label or action, custom_id=f"microvoice:privacy:{action}:{member_id}"
            )
        )
        self.action, self.member_id = action, member_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ForgetButton:
        return cls(match["action"], int(match["member"]))

    async def run(self, interaction: discord.Interaction) -> None:
        app: App = interaction.client.app  # type: ignore[attr-defined]
        if interaction.guild_id is None:
            raise InvalidInput("error.button_guild_only")
        if self.action == "cancel":
            text = await app.say(interaction, "privacy.cancelled")
            await interaction.response.edit_message(content=text, view=None)
            return
        if self.action == "forget" and interaction.user.id != self.member_id:
            raise RoleRequired("error.forbidden")
        if self.action == "forget-member":
            await require_moderator(interaction)  # checked again at the click, not only at the command
        await interaction.response.defer()
        by = interaction.user.id if self.action == "forget-member" else None
        counts = await app.privacy.erase(interaction.guild_id, self.member_id, by=by)
        key = "privacy.forgotten" if self.action == "forget" else "privacy.forgotten_member"
        text = await app.say(interaction, key, events=counts["events_deleted"], member=f"<@{self.member_id}>")
        if counts.get("roles_kept"):  # Discord refused to take a trusted-voice or brand role back
            text += "\n" + await app.say(interaction, "privacy.roles_kept")
        await interaction.edit_original_response(content=text, view=None)


def confirm_view(lang: str, action: str, member_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ForgetButton(action, member_id, label=i18n.t(lang, "privacy.confirm_button")))
    view.add_item(ForgetButton("cancel", member_id, label=i18n.t(lang, "privacy.cancel_button")))
    return view


class Privacy(commands.Cog):
    privacy = app_commands.Group(
        name="privacy", description="See and erase what Microvoice stores about you", guild_only=True
    )

    def __init__(self, app: App) -> None:
        self.app = app

    @privacy.command(name="export", description="Get a file of everything stored about you here")
    @require_role("privacy export")
    async def export(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        export = await self.app.privacy.export(interaction.guild_id, interaction.user.id)
        file = discord.File(io.BytesIO(export.data), filename=export.filename)
        await interaction.followup.send(
            await self.app.say(interaction, "privacy.exported", rows=export.rows), file=file, ephemeral=True
        )

    @privacy.command(name="forget", description="Erase what is stored about you here (asks to confirm)")
    @require_role("privacy forget")
    async def forget(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        lang = await self.app.lang(interaction.guild_id)
        await interaction.response.send_message(
            i18n.t(lang, "privacy.confirm_forget"),
            view=confirm_view(lang, "forget", interaction.user.id),
            ephemeral=True,
        )

    @privacy.command(name="forget-member", description="Erase a member who left, by id (moderators)")
    @app_commands.describe(member_id="The member's Discord id (Developer Mode: right click → Copy User ID)")
    @require_role("privacy forget-member")
    async def forget_member(self, interaction: discord.Interaction, member_id: str) -> None:
        assert interaction.guild_id is not None
        member = parse_member_id(member_id)
        lang = await self.app.lang(interaction.guild_id)
        await interaction.response.send_message(
            i18n.t(lang, "privacy.confirm_forget_member", member=f"<@{member}>", id=member),
            view=confirm_view(lang, "forget-member", member),
            ephemeral=True,
        )


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    bot.add_dynamic_items(ForgetButton)
    await bot.add_cog(Privacy(bot.app))
