"""`/report community [days]` and `/report activation id`: thin. The figures, k-anonymity, chart and
CSV come from `bot.reports.service.ReportService`; this cog defers (rendering takes longer than the
3-second interaction deadline allows), calls it, and answers with the report as one message: an embed
showing the chart, the PNG and the CSV attached. The weekly digest and an ended activation's report
are not commands: bot/app.py wires them to the scheduler and the activation engine.
"""

from __future__ import annotations

import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import App, MicrovoiceBot
from bot.discord_adapter.checks import RoleRequired, require_moderator, require_role
from bot.discord_adapter.platform import embed_of
from bot.reports.service import DAYS_DEFAULT, DAYS_MAX, DAYS_MIN, RenderedReport, report_post


def message_of(report: RenderedReport) -> tuple[discord.Embed, list[discord.File]]:
    post = report_post(report)
    assert post.card is not None
    files = [discord.File(io.BytesIO(a.data), filename=a.filename) for a in post.attachments]
    return embed_of(post.card), files


class Reports(commands.Cog):
    report = app_commands.Group(name="report", description="Aggregate reports", guild_only=True)

    def __init__(self, app: App) -> None:
        self.app = app

    @report.command(name="community", description="Community health over the last days (moderators)")
    @app_commands.describe(
        days=f"How many days, today included ({DAYS_MIN}-{DAYS_MAX}, default {DAYS_DEFAULT})"
    )
    @require_role("report community")
    async def community(
        self,
        interaction: discord.Interaction,
        days: app_commands.Range[int, DAYS_MIN, DAYS_MAX] = DAYS_DEFAULT,
    ) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.app.ingest.flush()
        report = await self.app.reports.community_report(interaction.guild_id, days)
        embed, files = message_of(report)
        await interaction.followup.send(embed=embed, files=files, ephemeral=True)

    @report.command(
        name="activation", description="An activation's results (moderators or its brand's managers)"
    )
    @app_commands.describe(activation_id="The activation's number (see /activation list)")
    @app_commands.rename(activation_id="id")
    @require_role("report activation")
    async def activation(self, interaction: discord.Interaction, activation_id: int) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            moderator = await require_moderator(interaction)
        except RoleRequired:
            moderator = False
        await self.app.ingest.flush()
        report = await self.app.reports.activation_report(
            interaction.guild_id, activation_id, member_id=interaction.user.id, moderator=moderator
        )
        embed, files = message_of(report)
        await interaction.followup.send(embed=embed, files=files, ephemeral=True)


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    await bot.add_cog(Reports(bot.app))
