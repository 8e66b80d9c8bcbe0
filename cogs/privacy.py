"""`/privacy`: members see and erase what is stored about them; raw events expire after retention.

`/privacy export` sends an ephemeral JSON file of every row about the caller in this server.
`/privacy forget` (after a confirmation button) erases them; moderators can do the same for a member
who left (`/privacy forget-member`). A daily job deletes raw events older than the server's retention
window; the daily aggregates that reports need are kept.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.app import App, MicrovoiceBot
from bot.errors import InvalidInput
from bot.privacy import build_export, export_bytes, new_pseudonym, retention_cutoff
from cogs.checks import RoleRequired, require_moderator, require_role
from cogs.partners import SafeCallback

log = logging.getLogger(__name__)

RETENTION_JOB = "retention-purge"
RETENTION_EVERY_MINUTES = 24 * 60
EXPORT_GZIP_OVER = 8_000_000  # bytes


async def erase(app: App, guild_id: int, member_id: int) -> dict[str, int]:
    """Erase one member from one community, then let the rankings drop them."""
    await app.ingest.flush()  # buffered events of theirs are erased too
    counts = await app.store.forget_member(guild_id, member_id, pseudonym=new_pseudonym(), now=app.clock())
    await app.voices.invalidate(guild_id)
    log.info("erased member %s from community %s: %s", member_id, guild_id, counts)
    return counts


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
        assert interaction.guild_id is not None
        if self.action == "cancel":
            text = await app.say(interaction, "privacy.cancelled")
            await interaction.response.edit_message(content=text, view=None)
            return
        if self.action == "forget" and interaction.user.id != self.member_id:
            raise RoleRequired("error.forbidden")
        if self.action == "forget-member":
            await require_moderator(interaction)  # checked again at the click, not only at the command
        await interaction.response.defer()
        counts = await erase(app, interaction.guild_id, self.member_id)
        key = "privacy.forgotten" if self.action == "forget" else "privacy.forgotten_member"
        text = await app.say(interaction, key, events=counts["events_deleted"], member=f"<@{self.member_id}>")
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

    async def cog_load(self) -> None:
        self.app.scheduler.every_minutes(RETENTION_JOB, RETENTION_EVERY_MINUTES, self.purge_expired)

    async def purge_expired(self) -> dict[int, int]:
        """The daily retention job: raw events past each community's window go; aggregates stay."""
        purged: dict[int, int] = {}
        now = self.app.clock()
        for community_id, days in await self.app.store.retention_targets(self.app.settings.retention_days):
            try:
                n = await self.app.store.purge_events_before(community_id, retention_cutoff(now, days))
            except Exception:
                log.exception("retention purge failed for community %s", community_id)
                continue
            if n:
                purged[community_id] = n
                await self.app.voices.invalidate(community_id)
                log.info("retention: deleted %d raw events older than %d days in %s", n, days, community_id)
        return purged

    @privacy.command(name="export", description="Get a file of everything stored about you here")
    @require_role("privacy export")
    async def export(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.app.ingest.flush()
        guild_id, user_id = interaction.guild_id, interaction.user.id
        tables = await self.app.store.member_data(guild_id, user_id)
        document = build_export(guild_id, user_id, tables, self.app.clock())
        data, name = export_bytes(document), f"microvoice-{guild_id}-{user_id}.json"
        if len(data) > EXPORT_GZIP_OVER:  # stay under Discord's attachment limit for long histories
            data, name = gzip.compress(data), name + ".gz"
        file = discord.File(io.BytesIO(data), filename=name)
        rows = sum(len(v) for v in document["tables"].values())
        await interaction.followup.send(
            await self.app.say(interaction, "privacy.exported", rows=rows), file=file, ephemeral=True
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
        raw = member_id.strip().removeprefix("<@").removeprefix("!").removesuffix(">")
        if not raw.isdigit() or not 15 <= len(raw) <= 21:
            raise InvalidInput("privacy.bad_member_id")
        lang = await self.app.lang(interaction.guild_id)
        await interaction.response.send_message(
            i18n.t(lang, "privacy.confirm_forget_member", member=f"<@{int(raw)}>", id=int(raw)),
            view=confirm_view(lang, "forget-member", int(raw)),
            ephemeral=True,
        )


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    bot.add_dynamic_items(ForgetButton)
    await bot.add_cog(Privacy(bot.app))
